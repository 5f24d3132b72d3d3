//! Opportunities are leads with `is_opportunity`; they add a probability, an expected close
//! date, their own configurable status, and a link to the lead they came from.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(t("opportunity_statuses"))
                .col(pk_auto(t("id")))
                .col(string_len_uniq(t("name"), 100))
                .col(timestamp_with_time_zone(t("created_at")))
                .to_owned(),
        )
        .await?;
        // SQLite adds one column per ALTER TABLE.
        for column in
            [integer_null(t("probability")), date_null(t("expected_close_date")), integer_null(t("opportunity_status_id")), integer_null(t("origin_lead_id"))]
        {
            m.alter_table(Table::alter().table(t("leads")).add_column(column).to_owned()).await?;
        }
        m.create_index(Index::create().name("ix_leads_opportunities").table(t("leads")).col(t("is_opportunity")).col(t("opportunity_status_id")).to_owned())
            .await?;
        m.create_index(Index::create().name("ix_leads_origin").table(t("leads")).col(t("origin_lead_id")).to_owned()).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_leads_origin").table(t("leads")).to_owned()).await?;
        m.drop_index(Index::drop().name("ix_leads_opportunities").table(t("leads")).to_owned()).await?;
        for column in ["origin_lead_id", "opportunity_status_id", "expected_close_date", "probability"] {
            m.alter_table(Table::alter().table(t("leads")).drop_column(t(column)).to_owned()).await?;
        }
        m.drop_table(Table::drop().table(t("opportunity_statuses")).to_owned()).await
    }
}
