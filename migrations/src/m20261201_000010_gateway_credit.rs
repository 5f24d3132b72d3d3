//! Client credit booked from an online payment carries the gateway's session id, unique like the
//! one on payments, so a webhook delivered again finds it whether the money went to the invoice
//! or (the invoice being paid meanwhile) to credit.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(t("client_credits")).add_column(string_len_null(t("gateway_event_id"), 200)).to_owned()).await?;
        m.create_index(Index::create().name("ux_client_credits_gateway_event").table(t("client_credits")).col(t("gateway_event_id")).unique().to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ux_client_credits_gateway_event").table(t("client_credits")).to_owned()).await?;
        m.alter_table(Table::alter().table(t("client_credits")).drop_column(t("gateway_event_id")).to_owned()).await
    }
}
