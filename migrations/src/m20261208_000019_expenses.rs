//! Expenses: categories, the expenses (optionally on a client's account, or created by a
//! commission receipt) and the files attached to them.

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
                .table(t("expense_categories"))
                .col(pk_auto(t("id")))
                .col(string_len(t("name"), 100).unique_key())
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(t("expenses"))
                .col(pk_auto(t("id")))
                .col(integer(t("category_id")))
                .col(big_integer(t("amount_minor")))
                .col(string_len(t("currency"), 3))
                .col(json(t("tax_ids")))
                // The taxes as applied (name and rate then), like document lines.
                .col(json(t("taxes")))
                .col(big_integer(t("total_minor")))
                .col(date(t("date")))
                .col(integer_null(t("staff_id")))
                .col(integer_null(t("client_id")))
                .col(text_null(t("note")))
                .col(string_len_null(t("reference"), 100))
                // One expense per commission receipt at most.
                .col(integer_null(t("commission_receipt_id")).unique_key())
                .col(integer_null(t("created_by")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("expenses", "category_id", "expense_categories", ForeignKeyAction::Restrict))
                .foreign_key(&mut fk("expenses", "staff_id", "staff", ForeignKeyAction::SetNull))
                .foreign_key(&mut fk("expenses", "client_id", "clients", ForeignKeyAction::SetNull))
                .foreign_key(&mut fk("expenses", "commission_receipt_id", "commission_receipts", ForeignKeyAction::SetNull))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_expenses_updated_at", "expenses", &["updated_at", "id"])).await?;
        m.create_index(index("idx_expenses_staff", "expenses", &["staff_id"])).await?;
        m.create_table(
            Table::create()
                .table(t("expense_attachments"))
                .col(pk_auto(t("id")))
                .col(integer(t("expense_id")))
                .col(string_len(t("file_name"), 255))
                .col(string_len(t("content_type"), 200))
                .col(big_integer(t("size_bytes")))
                .col(string_len(t("storage_key"), 100))
                .col(integer_null(t("uploaded_by")))
                .col(ts("created_at"))
                .foreign_key(&mut fk("expense_attachments", "expense_id", "expenses", ForeignKeyAction::Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_expense_attachments_expense", "expense_attachments", &["expense_id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["expense_attachments", "expenses", "expense_categories"] {
            m.drop_table(Table::drop().table(t(table)).to_owned()).await?;
        }
        Ok(())
    }
}
