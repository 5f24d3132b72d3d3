//! Database migrations. Each runs unchanged on SQLite and PostgreSQL; tables and columns are
//! named by string (`Alias`), never through entity types, so old migrations keep compiling.

pub use sea_orm_migration::prelude::*;

mod helpers;
mod m20261123_000001_foundation;
mod m20261123_000002_leads;
mod m20261123_000003_opportunities;
mod m20261123_000004_lead_tools;
mod m20261123_000005_board_totals_index;
mod m20261123_000006_proposals;
mod m20261123_000007_invoicing;
mod m20261123_000008_scheduler;
mod m20261123_000009_contracts;
mod m20261201_000010_gateway_credit;
mod m20261201_000011_accepted_content_hash;
mod m20261201_000012_refresh_successor;
mod m20261207_000013_sync;
mod m20261207_000014_webhooks;
mod m20261207_000015_tasks;
mod m20261208_000016_change_times;
mod m20261208_000017_commissions;
mod m20261208_000018_goals;
mod m20261208_000019_expenses;
mod m20261208_000020_event_owners;
mod m20261208_000021_line_cost;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_foundation::Migration),
            Box::new(m20261123_000002_leads::Migration),
            Box::new(m20261123_000003_opportunities::Migration),
            Box::new(m20261123_000004_lead_tools::Migration),
            Box::new(m20261123_000005_board_totals_index::Migration),
            Box::new(m20261123_000006_proposals::Migration),
            Box::new(m20261123_000007_invoicing::Migration),
            Box::new(m20261123_000008_scheduler::Migration),
            Box::new(m20261123_000009_contracts::Migration),
            Box::new(m20261201_000010_gateway_credit::Migration),
            Box::new(m20261201_000011_accepted_content_hash::Migration),
            Box::new(m20261201_000012_refresh_successor::Migration),
            Box::new(m20261207_000013_sync::Migration),
            Box::new(m20261207_000014_webhooks::Migration),
            Box::new(m20261207_000015_tasks::Migration),
            Box::new(m20261208_000016_change_times::Migration),
            Box::new(m20261208_000017_commissions::Migration),
            Box::new(m20261208_000018_goals::Migration),
            Box::new(m20261208_000019_expenses::Migration),
            Box::new(m20261208_000020_event_owners::Migration),
            Box::new(m20261208_000021_line_cost::Migration),
        ]
    }
}
