//! Argon2id password hashing (OWASP-recommended defaults of the `argon2` crate).

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crmconnect_domain::validation::{check_password, FieldProblem};

use crate::error::{Error, Result};

/// The password policy for a new password: the domain's length rule (at least 12 characters,
/// no composition rules) and not one of the commonly used passwords attackers try first.
pub fn policy(password: &str) -> std::result::Result<(), FieldProblem> {
    check_password(password)?;
    if passwords::analyzer::is_common_password(password) || passwords::analyzer::is_common_password(password.to_lowercase()) {
        return Err(FieldProblem::new("too_common", "this password is on the list of commonly used passwords; choose another"));
    }
    Ok(())
}

/// Hashes off the async executor: argon2 is deliberately CPU- and memory-heavy.
pub async fn hash(password: String) -> Result<String> {
    off_executor(move || hash_blocking(&password)).await
}

pub fn hash_blocking(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| Error::internal(anyhow::anyhow!("hashing password: {e}")))
}

/// Verifies against `stored`; with `None` it burns the same time on a dummy hash, so response
/// time does not reveal whether an e-mail address has an account.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool> {
    off_executor(move || {
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
        let parsed = PasswordHash::new(&stored).map_err(|e| Error::internal(anyhow::anyhow!("stored password hash unreadable: {e}")))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && stored != DUMMY_HASH)
    })
    .await
}

async fn off_executor<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| Error::internal(anyhow::anyhow!("blocking task failed: {e}")))?
}

/// Hash of a random string nobody knows, with the default parameters.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$hLXxVf9HlWx6Hu2Kc3fXb5ZBtvZ1eq9Z4l3bX6Jf4cQ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_wants_twelve_characters_and_no_common_password() {
        assert_eq!(policy("short-pass1").unwrap_err().code, "too_short");
        assert_eq!(policy("123456789012").unwrap_err().code, "too_common");
        assert_eq!(policy("Password1234").unwrap_err().code, "too_common", "case does not hide a common one");
        assert!(policy("amber-kettle-orbit-42").is_ok());
    }

    #[tokio::test]
    async fn hashes_verify_and_differ_per_salt() {
        let a = hash("correct horse".into()).await.unwrap();
        let b = hash("correct horse".into()).await.unwrap();
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify("correct horse".into(), Some(a.clone())).await.unwrap());
        assert!(!verify("wrong horse".into(), Some(a)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
    }
}
