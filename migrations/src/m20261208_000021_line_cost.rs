//! Document lines keep the item's purchase price as it was when the line was written, so
//! margins (commission, reports) do not change when the catalogue does later. Existing lines
//! take today's price of their item, the best there is.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(t("document_lines")).add_column(ColumnDef::new(t("purchase_price")).string_len(40).null()).to_owned()).await?;
        m.get_connection()
            .execute_unprepared(
                "UPDATE document_lines SET purchase_price = (SELECT items.purchase_price FROM items WHERE items.id = document_lines.item_id) WHERE item_id IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(t("document_lines")).drop_column(t("purchase_price")).to_owned()).await
    }
}
