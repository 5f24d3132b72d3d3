//! Change times on the settings lists and record sub-lists, so every list answers
//! `updated_since` / `created_since`: an `updated_at` where rows change after insertion (named
//! options, statuses, payment modes, currencies, custom fields, reminders, queued e-mails) and a
//! `created_at` on e-mail templates. Existing rows take their other time as the missing one.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tables that had `created_at` only and get `updated_at`.
const GAINING_UPDATED_AT: &[&str] =
    &["lead_sources", "lost_reasons", "opportunity_statuses", "contract_statuses", "payment_modes", "currencies", "custom_fields", "reminders", "email_outbox"];

/// A constant default lets SQLite add a NOT NULL column; every row is then given its real time.
const EPOCH: &str = "1970-01-01 00:00:00+00:00";

async fn add_time(m: &SchemaManager<'_>, table: &str, column: &str, copied_from: &str) -> Result<(), DbErr> {
    m.alter_table(Table::alter().table(t(table)).add_column(ts(column).not_null().default(EPOCH)).to_owned()).await?;
    m.get_connection().execute_unprepared(&format!("UPDATE {table} SET {column} = {copied_from}")).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in GAINING_UPDATED_AT {
            add_time(m, table, "updated_at", "created_at").await?;
        }
        add_time(m, "email_templates", "created_at", "updated_at").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(t("email_templates")).drop_column(t("created_at")).to_owned()).await?;
        for table in GAINING_UPDATED_AT {
            m.alter_table(Table::alter().table(t(table)).drop_column(t("updated_at")).to_owned()).await?;
        }
        Ok(())
    }
}
