//! Background jobs coordinated through the database (leases), recurring invoice schedules
//! (one invoice per schedule and cycle, enforced by a unique index), and reminder markers.

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
                .table(t("jobs"))
                .col(string_len(t("name"), 100).primary_key())
                .col(string_len_null(t("locked_by"), 100))
                .col(ts_null("locked_until"))
                .col(ts_null("last_run_at"))
                .col(text_null(t("last_error")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(t("recurring_invoices"))
                .col(pk_auto(t("id")))
                .col(integer(t("client_id")))
                .col(string_len(t("currency"), 3))
                .col(string_len(t("frequency"), 20))
                .col(integer(t("interval")).default(1))
                .col(date(t("start_date")))
                .col(integer(t("cycles")).default(0))
                .col(string_len(t("mode"), 20))
                .col(boolean(t("active")).default(true))
                .col(integer_null(t("sale_agent")))
                .col(text(t("terms")).default(""))
                .col(text_null(t("client_note")))
                .col(integer_null(t("created_by")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("recurring_invoices", "client_id", "clients", ForeignKeyAction::Restrict))
                .to_owned(),
        )
        .await?;
        for column in [integer_null(t("recurring_id")), integer_null(t("recurring_cycle"))] {
            m.alter_table(Table::alter().table(t("invoices")).add_column(column).to_owned()).await?;
        }
        // Exactly one invoice per (schedule, cycle), whatever the servers and their clocks do.
        m.create_index(
            Index::create().name("ux_invoices_recurring_cycle").table(t("invoices")).col(t("recurring_id")).col(t("recurring_cycle")).unique().to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(t("reminders_sent"))
                .col(pk_auto(t("id")))
                // overdue_invoice | proposal_expiry
                .col(string_len(t("kind"), 40))
                .col(integer(t("entity_id")))
                .col(date(t("sent_on")))
                .col(ts("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ux_reminders_sent").table(t("reminders_sent")).col(t("kind")).col(t("entity_id")).col(t("sent_on")).unique().to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(t("reminders_sent")).to_owned()).await?;
        m.drop_index(Index::drop().name("ux_invoices_recurring_cycle").table(t("invoices")).to_owned()).await?;
        for column in ["recurring_cycle", "recurring_id"] {
            m.alter_table(Table::alter().table(t("invoices")).drop_column(t(column)).to_owned()).await?;
        }
        m.drop_table(Table::drop().table(t("recurring_invoices")).to_owned()).await?;
        m.drop_table(Table::drop().table(t("jobs")).to_owned()).await
    }
}
