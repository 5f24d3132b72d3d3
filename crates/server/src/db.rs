//! Connecting, migrating and first-start defaults.

use std::time::Duration;

use anyhow::Context;
use crmconnect_domain::permissions::default_roles;
use crmconnect_migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ConnectOptions, Database, DatabaseConnection, EntityTrait, TransactionTrait,
};
use time::OffsetDateTime;

use crate::entities::{app_setting, role};

pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    if let Some(path) = sqlite_file(url) {
        if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating the database directory {}", parent.display()))?;
        }
    }
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(if url.starts_with("sqlite") { 8 } else { 20 })
        .connect_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    Database::connect(options).await.with_context(|| format!("connecting to {}", redact(url)))
}

/// Applies pending migrations, then the first-start defaults.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await.context("applying migrations")?;
    ensure_defaults(db).await
}

/// Data every new database starts with (default roles). Runs once per database: a marker in
/// `app_settings` records it, so roles an administrator deleted do not come back.
async fn ensure_defaults(db: &DatabaseConnection) -> anyhow::Result<()> {
    if get_setting(db, "defaults_seeded").await?.is_some() {
        return Ok(());
    }
    let txn = db.begin().await?;
    let now = OffsetDateTime::now_utc();
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
        .exec(&txn)
        .await?;
    }
    app_setting::Entity::insert(setting("defaults_seeded", "1")).exec(&txn).await?;
    txn.commit().await.context("seeding default roles")?;
    Ok(())
}

fn setting(key: &str, value: &str) -> app_setting::ActiveModel {
    app_setting::ActiveModel {
        key: Set(key.to_string()),
        value: Set(value.to_string()),
        updated_at: Set(OffsetDateTime::now_utc()),
    }
}

pub async fn get_setting(db: &DatabaseConnection, key: &str) -> anyhow::Result<Option<String>> {
    Ok(app_setting::Entity::find_by_id(key.to_string()).one(db).await?.map(|s| s.value))
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
