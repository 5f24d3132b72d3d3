//! Failed sign-in throttling, per account and per client IP. Kept in the database so every
//! server behind a load balancer counts the same failures.

use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use time::{Duration, OffsetDateTime};

use crate::entities::login_failure;
use crate::error::{Error, ErrorCode, Result};

pub const WINDOW: Duration = Duration::minutes(15);
/// Failures for one e-mail address within [`WINDOW`] before it is locked.
pub const MAX_PER_ACCOUNT: u64 = 5;
/// Failures from one IP within [`WINDOW`] (several users behind one office NAT).
pub const MAX_PER_IP: u64 = 30;

pub fn account_key(email: &str) -> String {
    format!("email:{email}")
}

pub fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

async fn recent(db: &impl ConnectionTrait, key: &str, now: OffsetDateTime) -> Result<u64> {
    Ok(login_failure::Entity::find().filter(login_failure::Column::Key.eq(key)).filter(login_failure::Column::At.gt(now - WINDOW)).count(db).await?)
}

/// Refuses with `too_many_login_attempts` while either counter is over its limit; the edge
/// tells the client to retry after [`WINDOW`].
pub async fn check(db: &impl ConnectionTrait, email: &str, ip: Option<&str>, now: OffsetDateTime) -> Result<()> {
    let too_many = || Error::refused(ErrorCode::TooManyLoginAttempts, format!("Too many failed sign-ins; try again in {} minutes.", WINDOW.whole_minutes()));
    if recent(db, &account_key(email), now).await? >= MAX_PER_ACCOUNT {
        return Err(too_many());
    }
    if let Some(ip) = ip {
        if recent(db, &ip_key(ip), now).await? >= MAX_PER_IP {
            return Err(too_many());
        }
    }
    Ok(())
}

pub async fn record_failure(db: &impl ConnectionTrait, email: &str, ip: Option<&str>, now: OffsetDateTime) -> Result<()> {
    let mut keys = vec![account_key(email)];
    keys.extend(ip.map(ip_key));
    let rows = keys.into_iter().map(|key| login_failure::ActiveModel { key: Set(key), at: Set(now), ..Default::default() });
    login_failure::Entity::insert_many(rows).exec(db).await?;
    // Housekeeping: failures older than the window no longer count.
    login_failure::Entity::delete_many().filter(login_failure::Column::At.lt(now - WINDOW)).exec(db).await?;
    Ok(())
}

/// A successful sign-in clears the account's counter (not the IP's).
pub async fn clear_account(db: &impl ConnectionTrait, email: &str) -> Result<()> {
    login_failure::Entity::delete_many().filter(login_failure::Column::Key.eq(account_key(email))).exec(db).await?;
    Ok(())
}
