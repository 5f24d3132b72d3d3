//! A covering index for the Kanban board's per-column counts and per-currency sums, so the
//! aggregate reads the index instead of the table (PostgreSQL index-only scan).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "ix_leads_board_totals";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut idx = Index::create();
        idx.name(NAME).table(Alias::new("leads"));
        for col in ["pipeline_id", "is_opportunity", "lost", "junk", "status_id", "currency", "estimated_value_minor", "assigned_to"] {
            idx.col(Alias::new(col));
        }
        m.create_index(idx.to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(NAME).table(Alias::new("leads")).to_owned()).await
    }
}
