//! A proposal records the SHA-256 of exactly what its client accepted (number, parties, lines,
//! totals, content and terms), like a contract records what was signed.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(t("proposals")).add_column(string_len_null(t("accepted_content_hash"), 64)).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(t("proposals")).drop_column(t("accepted_content_hash")).to_owned()).await
    }
}
