//! Configuration from the environment (documented in README.md, with these defaults).

use std::path::PathBuf;
use std::time::Duration;

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
    /// How often the e-mail outbox is checked besides the wake-ups of new messages.
    pub email_poll: Duration,
    /// First retry delay after a failed delivery; doubled each time, at most one hour.
    pub email_retry_base: Duration,
    /// Client-portal requests allowed per IP address and minute.
    pub portal_requests_per_minute: u32,
    /// Sign-in password checks (argon2, ~19 MiB each) allowed at once; more answer 429.
    pub max_password_checks: usize,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`CRM_TRUSTED_PROXIES`, comma-separated
    /// addresses or CIDR ranges). Without them the socket peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How often the job runner looks for work; `None` turns it off (tests drive it by hand).
    pub scheduler_every: Option<Duration>,
    /// The card payment gateway (Stripe or a compatible service), when configured.
    pub gateway: Option<GatewaySettings>,
    /// Days the events feed keeps an event (`CRM_EVENTS_RETENTION_DAYS`, at least 30).
    pub events_retention_days: u32,
    /// Webhooks may target loopback and private addresses (`CRM_WEBHOOK_ALLOW_PRIVATE=1`: tests,
    /// or receivers inside your own network).
    pub webhook_allow_private: bool,
}

/// A Stripe-compatible payment gateway: Checkout Sessions and signed webhooks.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// `https://api.stripe.com` (tests: a local stand-in).
    pub base_url: String,
    /// The secret API key (`sk_…`).
    pub api_key: String,
    /// The webhook signing secret (`whsec_…`).
    pub webhook_secret: String,
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

fn parse_proxy(text: &str) -> Option<ipnet::IpNet> {
    text.parse::<ipnet::IpNet>().ok().or_else(|| text.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))
}

fn parse_proxies(list: &str) -> Vec<ipnet::IpNet> {
    list.split(',').map(str::trim).filter_map(parse_proxy).collect()
}

/// Shortest `CRM_JWT_SECRET` accepted: 32 bytes, the HS256 key size.
pub const JWT_SECRET_MIN_BYTES: usize = 32;

/// Secrets copied from examples: whoever reads the example can sign tokens with them.
const PLACEHOLDER_SECRETS: &[&str] = &["change-me-to-a-long-random-string", "change-me", "changeme", "secret", "your-secret-here", "jwt-secret"];

/// Why an explicitly configured JWT secret must not be used, if it must not.
pub fn jwt_secret_problem(secret: &str) -> Option<String> {
    let lowered = secret.trim().to_ascii_lowercase();
    if PLACEHOLDER_SECRETS.contains(&lowered.as_str()) || lowered.contains("change-me") || lowered.contains("changeme") {
        return Some("CRM_JWT_SECRET is a placeholder copied from an example; anyone who has read it can sign tokens. Remove it to let the server generate and keep one, or set a random value (`openssl rand -hex 32`).".into());
    }
    if secret.len() < JWT_SECRET_MIN_BYTES {
        return Some(format!(
            "CRM_JWT_SECRET is {} bytes; at least {JWT_SECRET_MIN_BYTES} are required. Remove it to let the server generate and keep one, or set a random value (`openssl rand -hex 32`).",
            secret.len()
        ));
    }
    None
}

/// The events feed keeps at least a month of events.
pub const DEFAULT_EVENTS_RETENTION_DAYS: u32 = 30;

impl Settings {
    pub fn from_env() -> Settings {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let number = |name: &str, default: u64| var(name).and_then(|v| v.trim().parse().ok()).filter(|n| *n > 0).unwrap_or(default);
        let data_dir = PathBuf::from(var("CRM_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = var("DATABASE_URL").unwrap_or_else(|| format!("sqlite://{}?mode=rwc", data_dir.join("crmconnect.db").display()));
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
            email_poll: Duration::from_millis(number("CRM_EMAIL_POLL_MS", 5_000)),
            email_retry_base: Duration::from_millis(number("CRM_EMAIL_RETRY_BASE_MS", 30_000)),
            portal_requests_per_minute: number("CRM_PORTAL_RATE_PER_MINUTE", 120) as u32,
            max_password_checks: number("CRM_MAX_PASSWORD_CHECKS", 8) as usize,
            trusted_proxies: var("CRM_TRUSTED_PROXIES").map(|v| parse_proxies(&v)).unwrap_or_default(),
            gateway: match (var("CRM_GATEWAY_API_KEY"), var("CRM_GATEWAY_WEBHOOK_SECRET")) {
                (Some(api_key), Some(webhook_secret)) => Some(GatewaySettings {
                    base_url: var("CRM_GATEWAY_URL").unwrap_or_else(|| "https://api.stripe.com".into()).trim_end_matches('/').to_string(),
                    api_key,
                    webhook_secret,
                }),
                _ => None,
            },
            scheduler_every: match var("CRM_SCHEDULER_SECS").as_deref() {
                Some("0") => None,
                _ => Some(Duration::from_secs(number("CRM_SCHEDULER_SECS", 60))),
            },
            events_retention_days: var("CRM_EVENTS_RETENTION_DAYS").map_or(DEFAULT_EVENTS_RETENTION_DAYS, |v| v.trim().parse().unwrap_or(0)),
            webhook_allow_private: var("CRM_WEBHOOK_ALLOW_PRIVATE").is_some_and(|v| v.trim() == "1"),
        }
    }

    /// The client's address: the socket peer, unless that is a trusted proxy — then the
    /// right-most `X-Forwarded-For` entry that is not itself a trusted proxy.
    pub fn client_ip(&self, peer: std::net::IpAddr, forwarded_for: Option<&str>) -> std::net::IpAddr {
        let trusted = |ip: &std::net::IpAddr| self.trusted_proxies.iter().any(|net| net.contains(ip));
        if !trusted(&peer) {
            return peer;
        }
        let hops = forwarded_for.unwrap_or_default().split(',').rev().filter_map(|hop| hop.trim().parse::<std::net::IpAddr>().ok());
        let mut client = peer;
        for hop in hops {
            client = hop;
            if !trusted(&hop) {
                break;
            }
        }
        client
    }

    /// Refuses settings the server must not start with (an explicit JWT secret that is short
    /// or a known placeholder), with a message that says what to do.
    pub fn check(&self) -> Result<(), String> {
        if let Some(problem) = self.jwt_secret.as_deref().and_then(jwt_secret_problem) {
            return Err(problem);
        }
        if self.events_retention_days < DEFAULT_EVENTS_RETENTION_DAYS {
            return Err(format!(
                "CRM_EVENTS_RETENTION_DAYS must be a number of days of at least {DEFAULT_EVENTS_RETENTION_DAYS}: integrators count on the events feed keeping a month"
            ));
        }
        if let Some(v) = std::env::var("CRM_TRUSTED_PROXIES").ok().filter(|v| !v.trim().is_empty()) {
            if let Some(bad) = v.split(',').map(str::trim).find(|p| !p.is_empty() && parse_proxy(p).is_none()) {
                return Err(format!("CRM_TRUSTED_PROXIES: `{bad}` is not an IP address or CIDR range (e.g. 10.0.0.1 or 10.0.0.0/8)"));
            }
        }
        Ok(())
    }

    /// Defaults for the tunables, for code that builds `Settings` by hand (tests, tools).
    pub fn with_defaults(database_url: String, bind: String, public_url: String, data_dir: PathBuf, spa_dir: PathBuf) -> Settings {
        Settings {
            database_url,
            bind,
            public_url,
            jwt_secret: None,
            data_dir,
            smtp_url: None,
            spa_dir,
            email_poll: Duration::from_secs(5),
            email_retry_base: Duration::from_secs(30),
            portal_requests_per_minute: 120,
            max_password_checks: 8,
            trusted_proxies: Vec::new(),
            scheduler_every: None,
            gateway: None,
            events_retention_days: DEFAULT_EVENTS_RETENTION_DAYS,
            webhook_allow_private: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let mut s = Settings::with_defaults(String::new(), String::new(), String::new(), PathBuf::new(), PathBuf::new());
        let ip = |t: &str| t.parse::<std::net::IpAddr>().unwrap();
        assert_eq!(s.client_ip(ip("203.0.113.9"), Some("198.51.100.1")), ip("203.0.113.9"), "no proxies configured");
        s.trusted_proxies = parse_proxies("10.0.0.0/8, 192.168.1.1");
        assert_eq!(s.client_ip(ip("10.1.2.3"), Some("198.51.100.1")), ip("198.51.100.1"));
        assert_eq!(s.client_ip(ip("10.1.2.3"), Some("6.6.6.6, 198.51.100.1, 192.168.1.1")), ip("198.51.100.1"), "a spoofed left-most entry is ignored");
        assert_eq!(s.client_ip(ip("203.0.113.9"), Some("198.51.100.1")), ip("203.0.113.9"), "an untrusted peer cannot claim another address");
        assert_eq!(s.client_ip(ip("10.1.2.3"), None), ip("10.1.2.3"));
    }

    #[test]
    fn short_and_placeholder_jwt_secrets_are_refused() {
        assert!(jwt_secret_problem("change-me-to-a-long-random-string").is_some_and(|m| m.contains("placeholder")));
        assert!(jwt_secret_problem("CHANGE-ME-please-this-is-long-enough-really").is_some_and(|m| m.contains("placeholder")));
        assert!(jwt_secret_problem("0123456789abcdef0123456789abcde").is_some_and(|m| m.contains("31 bytes")));
        assert_eq!(jwt_secret_problem("9f2c1e7a0b4d4c8e9a1f3b5d7c9e1a2b"), None);
    }
}
