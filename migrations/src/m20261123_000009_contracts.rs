//! Contracts with configurable statuses, portal e-signature (who, when, where, and a hash of
//! what was signed), renewals linked to the contract they renew.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create().table(t("contract_statuses")).col(pk_auto(t("id"))).col(string_len_uniq(t("name"), 100)).col(ts("created_at")).to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(t("contracts"))
                .col(pk_auto(t("id")))
                .col(integer(t("client_id")))
                .col(string_len(t("subject"), 300))
                .col(string_len_null(t("contract_type"), 100))
                .col(big_integer(t("value_minor")).default(0))
                .col(string_len(t("currency"), 3))
                .col(date(t("start_date")))
                .col(date_null(t("end_date")))
                .col(text(t("content")).default(""))
                .col(integer_null(t("status_id")))
                .col(integer_null(t("proposal_id")))
                .col(integer_null(t("renewed_from_id")))
                .col(string_len_null(t("portal_token"), 100).unique_key())
                .col(string_len_null(t("signed_name"), 200))
                .col(text_null(t("signature")))
                .col(ts_null("signed_at"))
                .col(string_len_null(t("signed_ip"), 64))
                .col(string_len_null(t("signed_user_agent"), 500))
                .col(string_len_null(t("signed_content_hash"), 64))
                .col(integer_null(t("created_by")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("contracts", "client_id", "clients", ForeignKeyAction::Restrict))
                .foreign_key(&mut fk("contracts", "status_id", "contract_statuses", ForeignKeyAction::SetNull))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_contracts_end", "contracts", &["end_date"])).await?;
        m.create_index(index("ix_contracts_client", "contracts", &["client_id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(t("contracts")).to_owned()).await?;
        m.drop_table(Table::drop().table(t("contract_statuses")).to_owned()).await
    }
}
