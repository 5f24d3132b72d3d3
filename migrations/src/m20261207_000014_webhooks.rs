//! Outbound webhooks: endpoints integrators register, and one delivery row per (endpoint, event)
//! — unique, so an event reaches an endpoint's queue exactly once whatever the servers do.

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
                .table(t("webhooks"))
                .col(pk_auto(t("id")))
                .col(string_len(t("url"), 2000))
                // Comma-separated event types, `*` for all.
                .col(text(t("events")))
                .col(boolean(t("active")).default(true))
                // The HMAC signing key: it must be kept to sign, so it is stored as is (random, 256 bits).
                .col(string_len(t("secret"), 100))
                // The last event fanned out to this endpoint, in the feed's order.
                .col(big_integer(t("position_txid")).default(0))
                .col(integer(t("position_id")).default(0))
                .col(integer_null(t("created_by")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(t("webhook_deliveries"))
                .col(pk_auto(t("id")))
                .col(integer(t("webhook_id")))
                .col(integer(t("event_id")))
                .col(string_len(t("event_type"), 100))
                .col(string_len(t("record_type"), 40))
                .col(integer(t("record_id")))
                // pending | succeeded | failed
                .col(string_len(t("status"), 20))
                .col(integer(t("attempts")).default(0))
                .col(ts("next_attempt_at"))
                .col(ts_null("first_attempt_at"))
                .col(ts_null("locked_until"))
                .col(string_len_null(t("locked_by"), 100))
                .col(integer_null(t("response_status")))
                .col(integer_null(t("latency_ms")))
                .col(text_null(t("response_excerpt")))
                .col(text_null(t("last_error")))
                .col(ts_null("delivered_at"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("webhook_deliveries", "webhook_id", "webhooks", ForeignKeyAction::Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ux_webhook_deliveries_event").table(t("webhook_deliveries")).col(t("webhook_id")).col(t("event_id")).unique().to_owned(),
        )
        .await?;
        m.create_index(index("idx_webhook_deliveries_due", "webhook_deliveries", &["status", "next_attempt_at"])).await?;
        m.create_index(index("idx_webhook_deliveries_record", "webhook_deliveries", &["webhook_id", "record_type", "record_id", "id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(t("webhook_deliveries")).to_owned()).await?;
        m.drop_table(Table::drop().table(t("webhooks")).to_owned()).await
    }
}
