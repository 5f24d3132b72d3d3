//! Configuration from the environment (documented in README.md, with these defaults).

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Settings {
    /// `sqlite://…?mode=rwc` or `postgres://…`.
    pub database_url: String,
    /// Address to listen on; port 0 picks a free port (tests).
    pub bind: String,
    /// Base URL in links sent to clients (portal links in e-mails).
    pub public_url: String,
    /// HS256 secret for access tokens; when `None` one is generated and kept in the database.
    pub jwt_secret: Option<String>,
    /// Attachments and generated files.
    pub data_dir: PathBuf,
    /// lettre SMTP URL, e.g. `smtp://127.0.0.1:2525`; used by the e-mail features.
    pub smtp_url: Option<String>,
    /// The built browser app (index.html, .js, .wasm).
    pub spa_dir: PathBuf,
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

impl Settings {
    pub fn from_env() -> Settings {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let data_dir = PathBuf::from(var("CRM_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = var("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", data_dir.join("crmconnect.db").display()));
        let bind = var("CRM_BIND").unwrap_or_else(|| DEFAULT_BIND.into());
        let public_url = var("CRM_PUBLIC_URL").unwrap_or_else(|| format!("http://{bind}"));
        Settings {
            database_url,
            public_url: public_url.trim_end_matches('/').to_string(),
            bind,
            jwt_secret: var("CRM_JWT_SECRET"),
            data_dir,
            smtp_url: var("CRM_SMTP_URL"),
            spa_dir: PathBuf::from(var("CRM_SPA_DIR").unwrap_or_else(|| "./target/spa".into())),
        }
    }
}
