//! Commissions: policies, who earns under them, the commission each payment earns the
//! invoice's sale agent, and the receipts that pay them out.

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
                .table(t("commission_policies"))
                .col(pk_auto(t("id")))
                .col(string_len(t("name"), 100).unique_key())
                .col(string_len(t("commission_type"), 20))
                // Decimal text, like tax rates; `null` when the type has no single rate.
                .col(string_len_null(t("rate"), 20))
                .col(json(t("tiers")))
                .col(json(t("product_rates")))
                .col(json(t("product_tiers")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(t("commission_applicable_staff"))
                .col(pk_auto(t("id")))
                // One policy per staff member: the unique key is the rule, not a check in code.
                .col(integer(t("staff_id")).unique_key())
                .col(integer(t("policy_id")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("commission_applicable_staff", "staff_id", "staff", ForeignKeyAction::Cascade))
                .foreign_key(&mut fk("commission_applicable_staff", "policy_id", "commission_policies", ForeignKeyAction::Cascade))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(t("commission_receipts"))
                .col(pk_auto(t("id")))
                .col(integer(t("staff_id")))
                .col(string_len(t("currency"), 3))
                .col(big_integer(t("total_minor")))
                .col(date(t("date")))
                .col(text_null(t("note")))
                .col(integer_null(t("created_by")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("commission_receipts", "staff_id", "staff", ForeignKeyAction::Restrict))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(t("commissions"))
                .col(pk_auto(t("id")))
                .col(integer(t("staff_id")))
                .col(integer(t("invoice_id")))
                // No foreign key: a paid commission outlives its deleted payment (then offset).
                .col(integer_null(t("payment_id")))
                .col(integer_null(t("policy_id")))
                .col(big_integer(t("base_amount_minor")))
                .col(big_integer(t("amount_minor")))
                .col(string_len(t("currency"), 3))
                .col(integer(t("status_code")).default(0))
                .col(date(t("date")))
                .col(ts("available_at"))
                // Set once when the job runner tells the earner (a conditional UPDATE: once).
                .col(ts_null("announced_at"))
                .col(integer_null(t("receipt_id")))
                .col(integer_null(t("offsets_id")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("commissions", "staff_id", "staff", ForeignKeyAction::Restrict))
                .foreign_key(&mut fk("commissions", "invoice_id", "invoices", ForeignKeyAction::Restrict))
                .foreign_key(&mut fk("commissions", "policy_id", "commission_policies", ForeignKeyAction::SetNull))
                .foreign_key(&mut fk("commissions", "receipt_id", "commission_receipts", ForeignKeyAction::Restrict))
                .to_owned(),
        )
        .await?;
        // A payment earns each staff member once; a paid commission is offset once.
        m.create_index(Index::create().name("ux_commissions_payment").table(t("commissions")).col(t("payment_id")).col(t("staff_id")).unique().to_owned())
            .await?;
        m.create_index(Index::create().name("ux_commissions_offsets").table(t("commissions")).col(t("offsets_id")).unique().to_owned()).await?;
        m.create_index(index("idx_commissions_staff", "commissions", &["staff_id", "status_code"])).await?;
        m.create_index(index("idx_commissions_invoice", "commissions", &["invoice_id"])).await?;
        m.create_index(index("idx_commissions_updated_at", "commissions", &["updated_at", "id"])).await?;
        m.create_index(index("idx_commissions_announce", "commissions", &["announced_at", "available_at"])).await?;
        m.create_index(index("idx_commission_receipts_updated_at", "commission_receipts", &["updated_at", "id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["commissions", "commission_receipts", "commission_applicable_staff", "commission_policies"] {
            m.drop_table(Table::drop().table(t(table)).to_owned()).await?;
        }
        Ok(())
    }
}
