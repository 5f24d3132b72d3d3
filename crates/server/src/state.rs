use std::net::IpAddr;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::auth::jwt::JwtKeys;
use crate::config::Settings;

/// Shared by every request handler (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub jwt: Arc<JwtKeys>,
    /// Wakes the e-mail delivery loop when a request queues a message.
    pub email_wakeup: Arc<Notify>,
    /// Per-IP limit of the public client-portal endpoints.
    pub portal_limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// Password verifications allowed to run at once (`CRM_MAX_PASSWORD_CHECKS`).
    pub password_checks: Arc<tokio::sync::Semaphore>,
}

pub fn portal_limiter(per_minute: u32) -> Arc<DefaultKeyedRateLimiter<IpAddr>> {
    let per_minute = std::num::NonZeroU32::new(per_minute).unwrap_or(std::num::NonZeroU32::MIN);
    Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute)))
}
