//! A rotated refresh token remembers the token that replaced it, so that two requests racing
//! with the same token (two tabs reloading together) are told apart from a stolen token replayed
//! later.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(t("refresh_tokens")).add_column(integer_null(t("replaced_by_id"))).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(t("refresh_tokens")).drop_column(t("replaced_by_id")).to_owned()).await
    }
}
