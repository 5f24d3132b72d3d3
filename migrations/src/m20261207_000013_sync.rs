//! Incremental sync: indexes for `updated_since` / `created_since` and `sort=updated_at` on the
//! listed records, and the events feed's order. On PostgreSQL every event remembers the
//! transaction that wrote it (`txid`), so the feed can hold back events of transactions still
//! running and never lets a reader's cursor pass an event that commits later.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tables listed with `updated_since` and `sort=updated_at`.
const CHANGING: &[&str] = &["leads", "clients", "proposals", "sales_orders", "invoices", "contracts", "recurring_invoices", "staff", "items"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in CHANGING {
            m.create_index(index(&format!("idx_{table}_updated_at"), table, &["updated_at", "id"])).await?;
            m.create_index(index(&format!("idx_{table}_created_at"), table, &["created_at"])).await?;
        }
        m.create_index(index("idx_payments_created_at", "payments", &["created_at", "id"])).await?;
        m.create_index(index("idx_events_entity", "events", &["entity_type", "entity_id"])).await?;
        m.create_index(index("idx_events_created_at", "events", &["created_at"])).await?;
        if m.get_database_backend() == DatabaseBackend::Postgres {
            // A column default, so every insert gets its transaction's id without the code asking.
            let db = m.get_connection();
            db.execute_unprepared("ALTER TABLE events ADD COLUMN txid BIGINT DEFAULT txid_current()").await?;
            db.execute_unprepared("CREATE INDEX idx_events_txid ON events (txid, id)").await?;
        } else {
            // SQLite has one writer at a time: ids are given in commit order and need no guard.
            m.alter_table(Table::alter().table(t("events")).add_column(ColumnDef::new(t("txid")).big_integer().null()).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DatabaseBackend::Postgres {
            m.get_connection().execute_unprepared("DROP INDEX IF EXISTS idx_events_txid").await?;
        }
        m.alter_table(Table::alter().table(t("events")).drop_column(t("txid")).to_owned()).await?;
        for name in ["idx_events_created_at", "idx_events_entity"] {
            m.drop_index(Index::drop().name(name).table(t("events")).to_owned()).await?;
        }
        m.drop_index(Index::drop().name("idx_payments_created_at").table(t("payments")).to_owned()).await?;
        for table in CHANGING {
            for suffix in ["updated_at", "created_at"] {
                m.drop_index(Index::drop().name(format!("idx_{table}_{suffix}")).table(t(table)).to_owned()).await?;
            }
        }
        Ok(())
    }
}
