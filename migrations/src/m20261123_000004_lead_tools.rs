//! Lead scoring rules, follow-up reminders, custom fields and attachments.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, SetNull};
        m.create_table(
            Table::create()
                .table(t("lead_scoring_rules"))
                .col(pk_auto(t("id")))
                .col(string_len(t("field"), 100))
                .col(string_len(t("operator"), 20))
                .col(json_binary(t("value")))
                .col(integer(t("points")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(t("reminders"))
                .col(pk_auto(t("id")))
                .col(integer(t("lead_id")))
                .col(integer(t("staff_id")))
                .col(ts("remind_at"))
                .col(text_null(t("note")))
                .col(timestamp_with_time_zone_null(t("done_at")))
                .col(integer_null(t("created_by")))
                .col(ts("created_at"))
                .foreign_key(&mut fk("reminders", "lead_id", "leads", Cascade))
                .foreign_key(&mut fk("reminders", "staff_id", "staff", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_reminders_staff_due").table(t("reminders")).col(t("staff_id")).col(t("remind_at")).to_owned()).await?;
        m.create_index(Index::create().name("ix_reminders_lead").table(t("reminders")).col(t("lead_id")).col(t("remind_at")).to_owned()).await?;

        m.create_table(
            Table::create()
                .table(t("custom_fields"))
                .col(pk_auto(t("id")))
                // `lead` or `client` (documents later).
                .col(string_len(t("entity"), 30))
                .col(string_len(t("key"), 60))
                .col(string_len(t("label"), 100))
                .col(string_len(t("field_type"), 20))
                .col(json_binary(t("options")))
                .col(boolean(t("required")))
                .col(ts("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ux_custom_fields_key").table(t("custom_fields")).col(t("entity")).col(t("key")).unique().to_owned()).await?;
        m.create_table(
            Table::create()
                .table(t("custom_field_values"))
                .col(integer(t("field_id")))
                .col(integer(t("entity_id")))
                // The value as canonical text (filterable with plain SQL on both databases).
                .col(text(t("value")))
                .primary_key(Index::create().col(t("field_id")).col(t("entity_id")).col(t("value")))
                .foreign_key(&mut fk("custom_field_values", "field_id", "custom_fields", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_cfv_entity").table(t("custom_field_values")).col(t("entity_id")).to_owned()).await?;

        m.create_table(
            Table::create()
                .table(t("attachments"))
                .col(pk_auto(t("id")))
                .col(integer(t("lead_id")))
                .col(string_len(t("file_name"), 255))
                .col(string_len(t("content_type"), 255))
                .col(big_integer(t("size_bytes")))
                // File name under CRM_DATA_DIR/attachments (random, never user input).
                .col(string_len_uniq(t("storage_key"), 64))
                .col(integer_null(t("uploaded_by")))
                .col(ts("created_at"))
                .foreign_key(&mut fk("attachments", "lead_id", "leads", Cascade))
                .foreign_key(&mut fk("attachments", "uploaded_by", "staff", SetNull))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_attachments_lead").table(t("attachments")).col(t("lead_id")).to_owned()).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["attachments", "custom_field_values", "custom_fields", "reminders", "lead_scoring_rules"] {
            m.drop_table(Table::drop().table(t(table)).to_owned()).await?;
        }
        Ok(())
    }
}
