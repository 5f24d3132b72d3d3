//! Connecting, migrating and first-start defaults.

use std::time::Duration;

use anyhow::Context;
use crmconnect_domain::permissions::default_roles;
use crmconnect_migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectOptions, Database, DatabaseConnection, EntityTrait, TransactionTrait};
use time::OffsetDateTime;

use crate::entities::{app_setting, currency, email_template, pipeline, pipeline_status, role, tax};

pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    if let Some(path) = sqlite_file(url) {
        if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).with_context(|| format!("creating the database directory {}", parent.display()))?;
        }
    }
    let mut options = ConnectOptions::new(url.to_string());
    options.max_connections(if url.starts_with("sqlite") { 8 } else { 20 }).connect_timeout(Duration::from_secs(10)).sqlx_logging(false);
    Database::connect(options).await.with_context(|| format!("connecting to {}", redact(url)))
}

/// Starts a transaction that will write. On SQLite it takes the write lock at once (a no-op
/// UPDATE), so concurrent writers queue on the busy timeout instead of failing: a deferred
/// transaction that reads first and writes later cannot wait for the lock and gets SQLITE_BUSY.
/// On PostgreSQL an operation that checks a row and then writes must also read that row with
/// [`Read::ForUpdate`]: without it, simultaneous requests all pass the check.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::ConnectionTrait;
    let txn = db.begin().await?;
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        txn.execute_unprepared("UPDATE app_settings SET key = key WHERE 1 = 0").await?;
    }
    Ok(txn)
}

/// Serialises writers of a document kept in many rows (the settings, the billing
/// configuration) until the transaction ends: a transaction-scoped advisory lock on
/// PostgreSQL; SQLite's single writer, taken by [`begin_write`], already does it.
pub async fn lock_document(txn: &impl sea_orm::ConnectionTrait, name: &str) -> Result<(), sea_orm::DbErr> {
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        let lock = sea_orm::Statement::from_sql_and_values(sea_orm::DatabaseBackend::Postgres, "SELECT pg_advisory_xact_lock(hashtext($1))", [name.into()]);
        txn.execute(lock).await?;
    }
    Ok(())
}

/// How a write operation reads the row it is about to check.
///
/// `ForUpdate` is `SELECT … FOR UPDATE` on PostgreSQL: a second transaction reading the same row
/// waits until the first commits, then sees its result — so "issue once", "never beyond the
/// balance" and "convert once" hold under simultaneous requests. SQLite ignores the clause; its
/// single writer, taken first by [`begin_write`], already serialises the operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    Plain,
    ForUpdate,
}

impl Read {
    pub fn apply<Q: sea_orm::QuerySelect>(self, query: Q) -> Q {
        match self {
            Read::Plain => query,
            Read::ForUpdate => query.lock_exclusive(),
        }
    }
}

/// Applies pending migrations, then the first-start defaults.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await.context("applying migrations")?;
    ensure_defaults(db).await
}

/// Data every new database starts with: the guide's roles, the "Sales" pipeline, lost
/// reasons and common lead sources. Each group is inserted once per database, with a marker
/// in `app_settings` in the same transaction, so what an administrator deletes stays deleted.
async fn ensure_defaults(db: &DatabaseConnection) -> anyhow::Result<()> {
    seed_once(db, "seeded.roles", |txn, now| {
        Box::pin(async move {
            for r in default_roles() {
                role::Entity::insert(role::ActiveModel {
                    name: Set(r.name.to_string()),
                    description: Set(r.description.to_string()),
                    is_admin: Set(r.is_admin),
                    permissions: Set(serde_json::to_value(&r.permissions)?),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                })
                .exec(txn)
                .await?;
            }
            Ok(())
        })
    })
    .await?;
    seed_once(db, "seeded.sales_pipeline", |txn, now| {
        Box::pin(async move {
            let pipeline = pipeline::Entity::insert(pipeline::ActiveModel {
                name: Set("Sales".into()),
                is_default: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .exec(txn)
            .await?;
            for (order, (name, color)) in DEFAULT_STATUSES.iter().enumerate() {
                pipeline_status::Entity::insert(pipeline_status::ActiveModel {
                    pipeline_id: Set(pipeline.last_insert_id),
                    name: Set(name.to_string()),
                    color: Set(color.to_string()),
                    sort_order: Set(order as i32),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                })
                .exec(txn)
                .await?;
            }
            Ok(())
        })
    })
    .await?;
    seed_once(db, "seeded.currencies", |txn, now| {
        Box::pin(async move {
            for (code, symbol, is_base) in DEFAULT_CURRENCIES {
                currency::Entity::insert(currency::ActiveModel {
                    code: Set(code.to_string()),
                    symbol: Set(symbol.to_string()),
                    is_base: Set(*is_base),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                })
                .exec(txn)
                .await?;
            }
            Ok(())
        })
    })
    .await?;
    seed_once(db, "seeded.taxes", |txn, now| {
        Box::pin(async move {
            for (name, rate) in DEFAULT_TAXES {
                tax::Entity::insert(tax::ActiveModel {
                    name: Set(name.to_string()),
                    rate: Set(rate.to_string()),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                })
                .exec(txn)
                .await?;
            }
            Ok(())
        })
    })
    .await?;
    // One marker per template, so templates added by later versions reach existing databases.
    for (slug, name, subject, body) in crate::email::DEFAULT_TEMPLATES {
        let marker = if *slug == "proposal_send" { "seeded.email_templates".to_string() } else { format!("seeded.email_template.{slug}") };
        seed_once(db, &marker, move |txn, now| {
            Box::pin(async move {
                email_template::Entity::insert(email_template::ActiveModel {
                    slug: Set(slug.to_string()),
                    name: Set(name.to_string()),
                    subject: Set(subject.to_string()),
                    body: Set(body.to_string()),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                })
                .exec(txn)
                .await?;
                Ok(())
            })
        })
        .await?;
    }
    for (marker, table, names) in [
        ("seeded.lost_reasons", "lost_reasons", DEFAULT_LOST_REASONS),
        ("seeded.opportunity_statuses", "opportunity_statuses", DEFAULT_OPPORTUNITY_STATUSES),
        ("seeded.lead_sources", "lead_sources", DEFAULT_LEAD_SOURCES),
        ("seeded.payment_modes", "payment_modes", DEFAULT_PAYMENT_MODES),
        ("seeded.contract_statuses", "contract_statuses", DEFAULT_CONTRACT_STATUSES),
        // Added later: a separate marker gives existing databases the status too.
        ("seeded.contract_statuses.awaiting_signature", "contract_statuses", &[AWAITING_SIGNATURE]),
    ] {
        seed_once(db, marker, move |txn, now| Box::pin(insert_names(txn, table, names, now))).await?;
    }
    Ok(())
}

pub const DEFAULT_STATUSES: &[(&str, &str)] =
    &[("New", "#64748b"), ("Contacted", "#0ea5e9"), ("Qualified", "#8b5cf6"), ("Demo Scheduled", "#f59e0b"), ("Proposal Sent", "#10b981")];
/// (code, symbol, is base): the Romanian leu as base, and the two currencies most quoted in.
pub const DEFAULT_CURRENCIES: &[(&str, &str, bool)] = &[("RON", "lei", true), ("EUR", "€", false), ("USD", "$", false)];
/// Romanian VAT since 1 August 2025: 21 % standard, 11 % reduced, and 0 % (exempt, reverse charge).
pub const DEFAULT_TAXES: &[(&str, &str)] = &[("VAT 21%", "21"), ("VAT 11%", "11"), ("VAT 0%", "0")];
pub const DEFAULT_LOST_REASONS: &[&str] = &["Price too high", "Won by competitor", "Budget unavailable", "No response"];
pub const DEFAULT_OPPORTUNITY_STATUSES: &[&str] = &["Prospecting", "Proposal", "Negotiation", "Won", "Lost"];
pub const DEFAULT_CONTRACT_STATUSES: &[&str] = &["Draft", "Active", "Expired", "Terminated"];
/// The status in which a contract waits for its client's signature on the portal.
pub const AWAITING_SIGNATURE: &str = "Awaiting signature";
pub const DEFAULT_PAYMENT_MODES: &[&str] = &["Bank transfer", "Cash", "Card"];
pub const DEFAULT_LEAD_SOURCES: &[&str] = &["Website", "Web form", "Referral", "Cold call", "Facebook", "LinkedIn", "Event", "Partner"];

/// Rows of a `(name, created_at, updated_at)` option table (lost reasons, sources, opportunity statuses).
async fn insert_names(txn: &sea_orm::DatabaseTransaction, table: &str, names: &[&str], now: OffsetDateTime) -> anyhow::Result<()> {
    use sea_orm::sea_query::{Alias, Query};
    use sea_orm::ConnectionTrait;
    let mut insert = Query::insert();
    insert.into_table(Alias::new(table)).columns([Alias::new("name"), Alias::new("created_at"), Alias::new("updated_at")]);
    for name in names {
        insert.values([(*name).into(), now.into(), now.into()])?;
    }
    txn.execute(txn.get_database_backend().build(&insert)).await?;
    Ok(())
}

type SeedFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send + 'a>>;

async fn seed_once<F>(db: &DatabaseConnection, marker: &str, seed: F) -> anyhow::Result<()>
where
    F: for<'a> FnOnce(&'a sea_orm::DatabaseTransaction, OffsetDateTime) -> SeedFuture<'a>,
{
    if get_setting(db, marker).await?.is_some() {
        return Ok(());
    }
    let txn = db.begin().await?;
    seed(&txn, OffsetDateTime::now_utc()).await?;
    app_setting::Entity::insert(setting(marker, "1")).exec(&txn).await?;
    txn.commit().await.with_context(|| format!("seeding defaults ({marker})"))?;
    Ok(())
}

fn setting(key: &str, value: &str) -> app_setting::ActiveModel {
    app_setting::ActiveModel { key: Set(key.to_string()), value: Set(value.to_string()), updated_at: Set(OffsetDateTime::now_utc()) }
}

pub async fn get_setting(db: &DatabaseConnection, key: &str) -> anyhow::Result<Option<String>> {
    Ok(app_setting::Entity::find_by_id(key.to_string()).one(db).await?.map(|s| s.value))
}

/// The `app_settings` key of the generated JWT secret (used when `CRM_JWT_SECRET` is unset).
pub const JWT_SECRET_SETTING: &str = "jwt_secret";

/// Replaces the generated JWT secret (`crmconnect rotate-jwt-secret`). Servers read it when they
/// start, so each must be restarted; access tokens signed with the old one stop working and the
/// app renews them with its refresh token, which does not depend on the secret.
pub async fn rotate_jwt_secret(db: &DatabaseConnection, new_secret: &str) -> anyhow::Result<()> {
    app_setting::Entity::insert(setting(JWT_SECRET_SETTING, new_secret))
        .on_conflict(OnConflict::column(app_setting::Column::Key).update_columns([app_setting::Column::Value, app_setting::Column::UpdatedAt]).to_owned())
        .exec(db)
        .await?;
    Ok(())
}

/// Stores `value` unless the key exists, and returns what is stored: the first of several
/// servers starting together wins, and all of them then use its value.
pub async fn setting_or_insert(db: &DatabaseConnection, key: &str, value: &str) -> anyhow::Result<String> {
    app_setting::Entity::insert(setting(key, value))
        .on_conflict(OnConflict::column(app_setting::Column::Key).do_nothing().to_owned())
        .do_nothing()
        .exec(db)
        .await?;
    get_setting(db, key).await?.context("setting vanished after insert")
}

fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sqlite_files_and_redacts_passwords() {
        assert_eq!(sqlite_file("sqlite://./data/crm.db?mode=rwc"), Some("./data/crm.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x"), None);
        assert_eq!(redact("postgres://crm:secret@db:5432/crm"), "postgres://crm:***@db:5432/crm");
        assert_eq!(redact("postgres://crm@db/crm"), "postgres://crm@db/crm");
    }
}
