//! Who a deleted record was "theirs" to: a `*.deleted` event of the feed keeps the staff members
//! whose "view own" covered the record when it was deleted, so their mirrors learn of it too.

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
                .table(t("event_owners"))
                .col(pk_auto(t("id")))
                .col(integer(t("event_id")))
                .col(integer(t("staff_id")))
                .foreign_key(&mut fk("event_owners", "event_id", "events", ForeignKeyAction::Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_event_owners_staff", "event_owners", &["staff_id", "event_id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(t("event_owners")).to_owned()).await
    }
}
