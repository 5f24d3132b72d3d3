//! Invoicing: the invoice's lifecycle columns (agent, notes, paid total, portal token, issue
//! and send times), payment modes, payments, and client credit (advance payments).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [
            integer_null(t("sale_agent")),
            text_null(t("admin_note")),
            text_null(t("client_note")),
            json_binary_null(t("tags")),
            json_binary_null(t("allowed_payment_modes")),
            big_integer(t("paid_minor")).default(0).to_owned(),
            string_len_null(t("portal_token"), 100),
            ts_null("issued_at"),
            ts_null("sent_at"),
        ] {
            m.alter_table(Table::alter().table(t("invoices")).add_column(column).to_owned()).await?;
        }
        m.create_index(Index::create().name("ux_invoices_portal_token").table(t("invoices")).col(t("portal_token")).unique().to_owned()).await?;
        for (name, cols) in
            [("ix_invoices_client", &["client_id"][..]), ("ix_invoices_due", &["status_code", "due_date"][..]), ("ix_invoices_date", &["date"][..])]
        {
            m.create_index(index(name, "invoices", cols)).await?;
        }
        m.create_table(
            Table::create()
                .table(t("payment_modes"))
                .col(pk_auto(t("id")))
                .col(string_len_uniq(t("name"), 100))
                .col(boolean(t("active")).default(true))
                .col(ts("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(t("payments"))
                .col(pk_auto(t("id")))
                .col(integer(t("invoice_id")))
                .col(integer(t("client_id")))
                .col(big_integer(t("amount_minor")))
                .col(string_len(t("currency"), 3))
                .col(date(t("date")))
                .col(integer_null(t("payment_mode_id")))
                .col(string_len_null(t("transaction_id"), 200))
                .col(text_null(t("note")))
                .col(string_len(t("source"), 20))
                // A gateway's event id: the same webhook delivered twice records one payment.
                .col(string_len_null(t("gateway_event_id"), 200).unique_key())
                .col(integer_null(t("created_by")))
                .col(ts("created_at"))
                .foreign_key(&mut fk("payments", "invoice_id", "invoices", ForeignKeyAction::Restrict))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_payments_invoice", "payments", &["invoice_id"])).await?;
        m.create_index(index("ix_payments_client_date", "payments", &["client_id", "date"])).await?;
        m.create_table(
            Table::create()
                .table(t("client_credits"))
                .col(pk_auto(t("id")))
                .col(integer(t("client_id")))
                .col(string_len(t("currency"), 3))
                .col(big_integer(t("amount_minor")))
                .col(date(t("date")))
                .col(integer_null(t("invoice_id")))
                .col(integer_null(t("payment_id")))
                .col(integer_null(t("payment_mode_id")))
                .col(text_null(t("note")))
                .col(integer_null(t("created_by")))
                .col(ts("created_at"))
                .foreign_key(&mut fk("client_credits", "client_id", "clients", ForeignKeyAction::Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_client_credits_client", "client_credits", &["client_id", "currency"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["client_credits", "payments", "payment_modes"] {
            m.drop_table(Table::drop().table(t(table)).to_owned()).await?;
        }
        for name in ["ix_invoices_date", "ix_invoices_due", "ix_invoices_client", "ux_invoices_portal_token"] {
            m.drop_index(Index::drop().name(name).table(t("invoices")).to_owned()).await?;
        }
        for column in ["sent_at", "issued_at", "portal_token", "paid_minor", "allowed_payment_modes", "tags", "client_note", "admin_note", "sale_agent"] {
            m.alter_table(Table::alter().table(t("invoices")).drop_column(t(column)).to_owned()).await?;
        }
        Ok(())
    }
}
