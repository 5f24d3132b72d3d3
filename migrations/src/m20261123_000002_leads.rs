//! Pipelines and statuses, lead sources, lost reasons, leads (with tags, status history and
//! activities), clients and contacts, and the event outbox.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn text_null(name: &str) -> ColumnDef {
    sea_orm_migration::schema::text_null(t(name))
}

fn str_null(name: &str, len: u32) -> ColumnDef {
    string_len_null(t(name), len)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict, SetNull};

        m.create_table(
            Table::create()
                .table(t("pipelines"))
                .col(pk_auto(t("id")))
                .col(string_len_uniq(t("name"), 100))
                .col(boolean(t("is_default")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(t("pipeline_statuses"))
                .col(pk_auto(t("id")))
                .col(integer(t("pipeline_id")))
                .col(string_len(t("name"), 100))
                .col(string_len(t("color"), 20))
                .col(integer(t("sort_order")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("pipeline_statuses", "pipeline_id", "pipelines", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_pipeline_statuses_name", "pipeline_statuses", &["pipeline_id", "name"]).unique().to_owned()).await?;

        for table in ["lead_sources", "lost_reasons"] {
            m.create_table(Table::create().table(t(table)).col(pk_auto(t("id"))).col(string_len_uniq(t("name"), 100)).col(ts("created_at")).to_owned()).await?;
        }

        m.create_table(
            Table::create()
                .table(t("clients"))
                .col(pk_auto(t("id")))
                .col(string_len(t("company"), 200))
                .col(str_null("vat_number", 50))
                .col(str_null("registration_number", 50))
                .col(text_null("address"))
                .col(str_null("city", 100))
                .col(str_null("county", 100))
                .col(str_null("country", 100))
                .col(str_null("zip", 20))
                .col(str_null("phone", 40))
                .col(str_null("website", 300))
                .col(string_len(t("currency"), 3))
                .col(integer(t("payment_terms_days")))
                .col(integer_null(t("assigned_to")))
                .col(integer_null(t("lead_id")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("clients", "assigned_to", "staff", SetNull))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_clients_company", "clients", &["company"])).await?;
        m.create_index(index("ix_clients_assigned_to", "clients", &["assigned_to"])).await?;

        m.create_table(
            Table::create()
                .table(t("client_contacts"))
                .col(pk_auto(t("id")))
                .col(integer(t("client_id")))
                .col(string_len(t("name"), 200))
                .col(str_null("email", 254))
                .col(str_null("phone", 40))
                .col(str_null("title", 100))
                .col(boolean(t("is_primary")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("client_contacts", "client_id", "clients", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_client_contacts_client", "client_contacts", &["client_id"])).await?;

        m.create_table(
            Table::create()
                .table(t("leads"))
                .col(pk_auto(t("id")))
                .col(string_len(t("name"), 200))
                .col(str_null("company", 200))
                .col(str_null("title", 100))
                .col(str_null("email", 254))
                .col(str_null("phone", 40))
                // Digits of `phone`, for duplicate detection.
                .col(str_null("phone_key", 24))
                .col(str_null("website", 300))
                .col(text_null("address"))
                .col(str_null("city", 100))
                .col(str_null("country", 100))
                .col(str_null("industry", 100))
                .col(str_null("area", 100))
                .col(str_null("company_size", 50))
                .col(integer_null(t("source_id")))
                .col(integer(t("pipeline_id")))
                .col(integer(t("status_id")))
                // Card order within its column (see domain::leads::position_between).
                .col(big_integer(t("position")))
                .col(integer_null(t("assigned_to")))
                // Money in minor units of `currency` (exact sums in SQL).
                .col(big_integer_null(t("estimated_value_minor")))
                .col(str_null("currency", 3))
                .col(text_null("description"))
                .col(integer(t("score")))
                .col(boolean(t("is_opportunity")))
                .col(boolean(t("lost")))
                .col(integer_null(t("lost_reason_id")))
                .col(boolean(t("junk")))
                .col(integer_null(t("converted_client_id")))
                .col(ts_null("converted_at"))
                .col(ts_null("last_contacted_at"))
                .col(ts("last_status_change_at"))
                .col(integer_null(t("created_by")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("leads", "source_id", "lead_sources", SetNull))
                .foreign_key(&mut fk("leads", "pipeline_id", "pipelines", Restrict))
                .foreign_key(&mut fk("leads", "status_id", "pipeline_statuses", Restrict))
                .foreign_key(&mut fk("leads", "assigned_to", "staff", SetNull))
                .foreign_key(&mut fk("leads", "lost_reason_id", "lost_reasons", Restrict))
                .foreign_key(&mut fk("leads", "converted_client_id", "clients", SetNull))
                .to_owned(),
        )
        .await?;
        // The board: one column's live cards in order.
        m.create_index(index("ix_leads_board", "leads", &["status_id", "lost", "junk", "is_opportunity", "position"])).await?;
        m.create_index(index("ix_leads_assigned", "leads", &["assigned_to", "status_id"])).await?;
        m.create_index(index("ix_leads_email", "leads", &["email"])).await?;
        m.create_index(index("ix_leads_phone_key", "leads", &["phone_key"])).await?;
        m.create_index(index("ix_leads_created", "leads", &["created_at"])).await?;
        m.create_index(index("ix_leads_score", "leads", &["score", "id"])).await?;
        m.create_index(index("ix_leads_stage_since", "leads", &["last_status_change_at"])).await?;

        m.create_table(
            Table::create()
                .table(t("lead_tags"))
                .col(integer(t("lead_id")))
                .col(string_len(t("tag"), 50))
                .primary_key(Index::create().col(t("lead_id")).col(t("tag")))
                .foreign_key(&mut fk("lead_tags", "lead_id", "leads", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_lead_tags_tag", "lead_tags", &["tag"])).await?;

        m.create_table(
            Table::create()
                .table(t("lead_status_changes"))
                .col(pk_auto(t("id")))
                .col(integer(t("lead_id")))
                .col(integer_null(t("from_status_id")))
                .col(integer(t("to_status_id")))
                .col(integer_null(t("staff_id")))
                .col(ts("at"))
                .foreign_key(&mut fk("lead_status_changes", "lead_id", "leads", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_lead_status_changes_lead", "lead_status_changes", &["lead_id", "at"])).await?;

        m.create_table(
            Table::create()
                .table(t("lead_activities"))
                .col(pk_auto(t("id")))
                .col(integer(t("lead_id")))
                .col(string_len(t("activity_type"), 20))
                .col(string_len(t("summary"), 500))
                .col(text_null("body"))
                .col(integer_null(t("duration_minutes")))
                .col(text_null("attendees"))
                .col(ts("occurred_at"))
                .col(integer_null(t("staff_id")))
                .col(ts("created_at"))
                .foreign_key(&mut fk("lead_activities", "lead_id", "leads", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_lead_activities_lead", "lead_activities", &["lead_id", "occurred_at"])).await?;

        // Transactional outbox: written with the change, consumed by automation and webhooks.
        m.create_table(
            Table::create()
                .table(t("events"))
                .col(pk_auto(t("id")))
                .col(string_len(t("event_type"), 100))
                .col(string_len(t("entity_type"), 60))
                .col(integer(t("entity_id")))
                .col(json_binary(t("payload")))
                .col(ts("created_at"))
                .col(ts_null("processed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_events_pending", "events", &["processed_at", "id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "events",
            "lead_activities",
            "lead_status_changes",
            "lead_tags",
            "leads",
            "client_contacts",
            "clients",
            "lost_reasons",
            "lead_sources",
            "pipeline_statuses",
            "pipelines",
        ] {
            m.drop_table(Table::drop().table(t(table)).to_owned()).await?;
        }
        Ok(())
    }
}
