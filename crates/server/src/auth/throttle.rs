//! Sign-in throttling, kept in the database so every server behind a load balancer counts the
//! same attempts.
//!
//! An attempt is recorded *before* the password is checked, so a burst of parallel guesses is
//! counted in full: each request inserts its row, then counts the rows. Limits are per account
//! and client address (a stranger elsewhere cannot lock an account owner out) and per address
//! over all accounts (one machine guessing many accounts). Past a limit, the wait grows with
//! every further failure — 30 s, 1 min, 2 min … at most [`WINDOW`] — instead of a fixed lock.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use time::{Duration, OffsetDateTime};

use crate::entities::login_failure;
use crate::error::Result;

/// Attempts older than this no longer count.
pub const WINDOW: Duration = Duration::minutes(15);
/// Attempts on one account from one address within [`WINDOW`] before waits begin.
pub const FREE_PER_ACCOUNT_AND_ADDRESS: usize = 5;
/// Attempts from one address on any accounts within [`WINDOW`] (an office behind one NAT).
pub const FREE_PER_ADDRESS: usize = 30;
/// The first wait past a limit; each further failure doubles it, up to [`WINDOW`].
pub const FIRST_WAIT: Duration = Duration::seconds(30);

fn account_and_address_key(email: &str, ip: Option<&str>) -> String {
    format!("email:{email}|ip:{}", ip.unwrap_or("-"))
}

fn address_key(ip: &str) -> String {
    format!("ip:{ip}")
}

/// How long to wait after the `n`-th attempt within the window, when `free` are allowed freely.
pub fn wait_after(n: usize, free: usize) -> Duration {
    if n <= free {
        return Duration::ZERO;
    }
    let doublings = u32::try_from(n - free - 1).unwrap_or(u32::MAX).min(16);
    (FIRST_WAIT * 2_i32.pow(doublings)).min(WINDOW)
}

/// A sign-in attempt admitted to the password check; its rows count as a failure unless
/// [`succeeded`] removes them.
pub struct Attempt {
    ids: Vec<i32>,
    account_key: String,
}

/// Whether a sign-in may be tried now.
pub enum Admission {
    Admitted(Attempt),
    /// Too many recent failures: try again after this long (the attempt was not counted).
    Refused {
        retry_after: Duration,
    },
}

/// Records the attempt, then decides on the counts that include it.
pub async fn admit(db: &impl ConnectionTrait, email: &str, ip: Option<&str>, now: OffsetDateTime) -> Result<Admission> {
    login_failure::Entity::delete_many().filter(login_failure::Column::At.lt(now - WINDOW)).exec(db).await?;
    let mut limits = vec![(account_and_address_key(email, ip), FREE_PER_ACCOUNT_AND_ADDRESS)];
    limits.extend(ip.map(|ip| (address_key(ip), FREE_PER_ADDRESS)));
    let mut ids = Vec::new();
    for (key, _) in &limits {
        let row = login_failure::ActiveModel { key: Set(key.clone()), at: Set(now), ..Default::default() }.insert(db).await?;
        ids.push(row.id);
    }
    let mut retry_after = Duration::ZERO;
    for (key, free) in &limits {
        // Newest first; this attempt's own row is among them.
        let recent = login_failure::Entity::find()
            .filter(login_failure::Column::Key.eq(key.as_str()))
            .filter(login_failure::Column::At.gt(now - WINDOW))
            .order_by_desc(login_failure::Column::At)
            .order_by_desc(login_failure::Column::Id)
            .all(db)
            .await?;
        let before = recent.iter().filter(|r| !ids.contains(&r.id)).map(|r| r.at).max();
        let wait = wait_after(recent.len(), *free);
        if let Some(previous) = before {
            let remaining = previous + wait - now;
            if wait > Duration::ZERO && remaining > Duration::ZERO {
                retry_after = retry_after.max(remaining);
            }
        }
    }
    if retry_after > Duration::ZERO {
        // A refused attempt is not a guess: it does not count.
        login_failure::Entity::delete_many().filter(login_failure::Column::Id.is_in(ids)).exec(db).await?;
        return Ok(Admission::Refused { retry_after });
    }
    Ok(Admission::Admitted(Attempt { ids, account_key: account_and_address_key(email, ip) }))
}

/// The attempt was no guess after all (the request failed for another reason): it does not
/// count, and nothing else changes.
pub async fn forget(db: &impl ConnectionTrait, attempt: Attempt) -> Result<()> {
    login_failure::Entity::delete_many().filter(login_failure::Column::Id.is_in(attempt.ids)).exec(db).await?;
    Ok(())
}

/// A correct password: this attempt does not count, and the account's counter for this
/// address starts again (the address's counter over all accounts keeps its failures).
pub async fn succeeded(db: &impl ConnectionTrait, attempt: Attempt) -> Result<()> {
    login_failure::Entity::delete_many().filter(login_failure::Column::Id.is_in(attempt.ids)).exec(db).await?;
    login_failure::Entity::delete_many().filter(login_failure::Column::Key.eq(attempt.account_key)).exec(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_after_the_free_attempts_and_double_up_to_the_window() {
        assert_eq!(wait_after(5, 5), Duration::ZERO);
        assert_eq!(wait_after(6, 5), Duration::seconds(30));
        assert_eq!(wait_after(7, 5), Duration::minutes(1));
        assert_eq!(wait_after(9, 5), Duration::minutes(4));
        assert_eq!(wait_after(11, 5), WINDOW);
        assert_eq!(wait_after(10_000, 5), WINDOW, "no overflow");
    }
}
