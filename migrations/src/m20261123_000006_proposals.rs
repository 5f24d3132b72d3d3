//! Quoting: currencies, taxes, items, proposals with their lines, templates, comments, the
//! client portal token, in-app notifications, e-mail templates and the e-mail outbox, number
//! sequences, and the invoice / sales-order records a proposal converts into.
//!
//! Amounts a document *computes* are cached as integer minor units (exact sums in SQL);
//! amounts a user *types* (qty, unit price, rates, percentages) are stored as canonical
//! decimal strings, since they may carry more decimals than the currency.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: &[&str] = &[
    "email_outbox",
    "email_templates",
    "notifications",
    "proposal_comments",
    "proposal_templates",
    "document_lines",
    "proposals",
    "sales_orders",
    "invoices",
    "number_sequences",
    "items",
    "taxes",
    "currencies",
];

/// Columns every sales document has: currency, discount and the cached totals.
fn document_columns(table: &mut TableCreateStatement) {
    table
        .col(string_len(t("currency"), 3))
        .col(date(t("date")))
        .col(string_len_null(t("discount_type"), 10))
        .col(string_len(t("discount_value"), 40).default("0"))
        .col(string_len(t("discount_applies"), 12).default("before_tax"))
        .col(big_integer(t("subtotal_minor")).default(0))
        .col(big_integer(t("discount_minor")).default(0))
        .col(big_integer(t("total_tax_minor")).default(0))
        .col(big_integer(t("total_minor")).default(0))
        .col(integer_null(t("created_by")))
        .col(ts("created_at"))
        .col(ts("updated_at"));
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(t("currencies"))
                .col(pk_auto(t("id")))
                .col(string_len_uniq(t("code"), 3))
                .col(string_len(t("symbol"), 10))
                .col(boolean(t("is_base")).default(false))
                .col(ts("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(t("taxes"))
                .col(pk_auto(t("id")))
                .col(string_len_uniq(t("name"), 100))
                .col(string_len(t("rate"), 20))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(t("items"))
                .col(pk_auto(t("id")))
                .col(string_len(t("description"), 300))
                .col(text_null(t("long_description")))
                .col(string_len_null(t("unit"), 30))
                .col(string_len(t("unit_price"), 40))
                .col(string_len_null(t("purchase_price"), 40))
                .col(json_binary(t("tax_ids")))
                .col(string_len_null(t("group_name"), 100))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(Table::create().table(t("number_sequences")).col(string_len(t("name"), 50).primary_key()).col(big_integer(t("next_value"))).to_owned())
            .await?;

        let mut invoices = Table::create();
        invoices
            .table(t("invoices"))
            .col(pk_auto(t("id")))
            .col(string_len_null(t("number"), 50).unique_key())
            .col(integer(t("client_id")))
            .col(date_null(t("due_date")))
            .col(integer(t("status_code")))
            .col(text(t("terms")).default(""))
            .col(integer_null(t("proposal_id")))
            .col(integer_null(t("sales_order_id")))
            .foreign_key(&mut fk("invoices", "client_id", "clients", ForeignKeyAction::Restrict));
        document_columns(&mut invoices);
        m.create_table(invoices.to_owned()).await?;

        let mut orders = Table::create();
        orders
            .table(t("sales_orders"))
            .col(pk_auto(t("id")))
            .col(string_len_uniq(t("number"), 50))
            .col(integer(t("client_id")))
            .col(string_len(t("status"), 30))
            .col(integer_null(t("proposal_id")))
            .col(integer_null(t("invoice_id")))
            .foreign_key(&mut fk("sales_orders", "client_id", "clients", ForeignKeyAction::Restrict));
        document_columns(&mut orders);
        m.create_table(orders.to_owned()).await?;

        let mut proposals = Table::create();
        proposals
            .table(t("proposals"))
            .col(pk_auto(t("id")))
            .col(string_len_uniq(t("number"), 50))
            .col(string_len(t("subject"), 300))
            .col(integer_null(t("lead_id")))
            .col(integer_null(t("client_id")))
            .col(string_len_null(t("recipient_name"), 200))
            .col(string_len_null(t("recipient_email"), 254))
            .col(string_len_null(t("recipient_phone"), 40))
            .col(text_null(t("recipient_address")))
            .col(string_len_null(t("recipient_city"), 100))
            .col(string_len_null(t("recipient_country"), 100))
            .col(string_len_null(t("recipient_zip"), 20))
            .col(date_null(t("open_till")))
            .col(integer(t("status_code")))
            .col(boolean(t("allow_comments")).default(true))
            .col(integer_null(t("assigned_to")))
            .col(text(t("content")).default(""))
            .col(text(t("terms")).default(""))
            .col(text_null(t("internal_notes")))
            .col(json_binary(t("tags")))
            .col(string_len_null(t("portal_token"), 100).unique_key())
            .col(integer_null(t("invoice_id")))
            .col(integer_null(t("sales_order_id")))
            .col(string_len_null(t("accepted_name"), 200))
            .col(string_len_null(t("accepted_email"), 254))
            .col(text_null(t("accepted_signature")))
            .col(ts_null("accepted_at"))
            .col(string_len_null(t("accepted_ip"), 64))
            .col(string_len_null(t("accepted_user_agent"), 500))
            .col(text_null(t("declined_reason")))
            .col(ts_null("declined_at"))
            .col(ts_null("sent_at"))
            .col(ts_null("viewed_at"))
            .foreign_key(&mut fk("proposals", "lead_id", "leads", ForeignKeyAction::SetNull))
            .foreign_key(&mut fk("proposals", "client_id", "clients", ForeignKeyAction::SetNull))
            .foreign_key(&mut fk("proposals", "invoice_id", "invoices", ForeignKeyAction::SetNull))
            .foreign_key(&mut fk("proposals", "sales_order_id", "sales_orders", ForeignKeyAction::SetNull));
        document_columns(&mut proposals);
        m.create_table(proposals.to_owned()).await?;
        for (name, cols) in [
            ("ix_proposals_status", &["status_code", "id"][..]),
            ("ix_proposals_lead", &["lead_id"][..]),
            ("ix_proposals_client", &["client_id"][..]),
            ("ix_proposals_assigned", &["assigned_to"][..]),
            ("ix_proposals_open_till", &["open_till"][..]),
        ] {
            m.create_index(index(name, "proposals", cols)).await?;
        }

        m.create_table(
            Table::create()
                .table(t("document_lines"))
                .col(pk_auto(t("id")))
                // proposal | invoice | sales_order | proposal_template
                .col(string_len(t("document_type"), 30))
                .col(integer(t("document_id")))
                .col(integer(t("position")))
                .col(integer_null(t("item_id")))
                .col(string_len(t("description"), 500))
                .col(text_null(t("long_description")))
                .col(string_len(t("qty"), 40))
                .col(string_len_null(t("unit"), 30))
                .col(string_len(t("unit_price"), 40))
                .col(string_len(t("discount_percent"), 20))
                .col(json_binary(t("taxes")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_document_lines_document", "document_lines", &["document_type", "document_id", "position"])).await?;

        m.create_table(
            Table::create()
                .table(t("proposal_templates"))
                .col(pk_auto(t("id")))
                .col(string_len_uniq(t("name"), 200))
                .col(text(t("content")).default(""))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(t("proposal_comments"))
                .col(pk_auto(t("id")))
                .col(integer(t("proposal_id")))
                .col(text(t("content")))
                .col(integer_null(t("staff_id")))
                .col(string_len(t("author_name"), 200))
                .col(ts("created_at"))
                .foreign_key(&mut fk("proposal_comments", "proposal_id", "proposals", ForeignKeyAction::Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_proposal_comments_proposal", "proposal_comments", &["proposal_id", "id"])).await?;
        m.create_table(
            Table::create()
                .table(t("notifications"))
                .col(pk_auto(t("id")))
                .col(integer(t("staff_id")))
                .col(string_len(t("kind"), 50))
                .col(string_len(t("title"), 300))
                .col(text(t("body")))
                .col(string_len_null(t("link"), 300))
                .col(string_len_null(t("entity_type"), 50))
                .col(integer_null(t("entity_id")))
                .col(ts_null("read_at"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("notifications", "staff_id", "staff", ForeignKeyAction::Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_notifications_staff", "notifications", &["staff_id", "id"])).await?;
        m.create_table(
            Table::create()
                .table(t("email_templates"))
                .col(pk_auto(t("id")))
                .col(string_len_uniq(t("slug"), 100))
                .col(string_len(t("name"), 200))
                .col(string_len(t("subject"), 500))
                .col(text(t("body")))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(t("email_outbox"))
                .col(pk_auto(t("id")))
                .col(string_len_null(t("related_type"), 50))
                .col(integer_null(t("related_id")))
                .col(string_len(t("from_address"), 254))
                .col(json_binary(t("to_addresses")))
                .col(json_binary(t("cc_addresses")))
                .col(string_len(t("subject"), 500))
                // The complete RFC 5322 message, built once: every retry sends the same bytes
                // (same Message-ID), so receivers can de-duplicate too.
                .col(blob(t("message")))
                .col(boolean(t("has_attachment")).default(false))
                .col(string_len(t("status"), 20))
                .col(integer(t("attempts")).default(0))
                .col(ts_null("next_attempt_at"))
                .col(ts_null("locked_until"))
                .col(text_null(t("last_error")))
                .col(ts_null("sent_at"))
                .col(integer_null(t("created_by")))
                .col(ts("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_email_outbox_due", "email_outbox", &["status", "next_attempt_at"])).await?;
        m.create_index(index("ix_email_outbox_related", "email_outbox", &["related_type", "related_id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            m.drop_table(Table::drop().table(t(table)).to_owned()).await?;
        }
        Ok(())
    }
}
