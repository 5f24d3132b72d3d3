//! Input rules shared by server and client: parse, don't validate.

use serde::{Deserialize, Serialize};

/// One problem with one field of a request, as listed in a problem+json `errors` array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The JSON field name (dotted for nested fields, e.g. `permissions.leads`).
    pub field: String,
    /// Stable machine code, e.g. `required`, `invalid_email`, `too_short`.
    pub code: String,
    pub message: String,
}

/// Collects field errors so a request reports every problem at once.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.errors.push(FieldError { field: field.to_string(), code: code.to_string(), message: message.into() });
    }

    /// Runs a parser and records its error under `field`; `None` when it failed.
    pub fn check<T>(&mut self, field: &str, result: Result<T, FieldProblem>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(p) => {
                self.push(field, p.code, p.message);
                None
            }
        }
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

/// Why a single value was rejected (the field name is added by [`Validator::check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub code: &'static str,
    pub message: String,
}

impl FieldProblem {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

/// A syntactically plausible, normalised (trimmed, lower-cased) e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, FieldProblem> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(FieldProblem::new("required", "email is required"));
        }
        let invalid = || FieldProblem::new("invalid_email", format!("`{}` is not a valid e-mail address", raw.trim()));
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .split('.')
                .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-') && label.chars().all(|c| c.is_alphanumeric() || c == '-'));
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(invalid());
        }
        Ok(EmailAddress(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 256;

/// A password long enough for a staff account (length only, no composition rules: NIST SP
/// 800-63B). The server also refuses common passwords (`auth::password::policy`).
pub fn check_password(password: &str) -> Result<(), FieldProblem> {
    let n = password.chars().count();
    if n < PASSWORD_MIN_CHARS {
        Err(FieldProblem::new("too_short", format!("password must have at least {PASSWORD_MIN_CHARS} characters")))
    } else if n > PASSWORD_MAX_CHARS {
        Err(FieldProblem::new("too_long", format!("password must have at most {PASSWORD_MAX_CHARS} characters")))
    } else {
        Ok(())
    }
}

/// A required, trimmed, single-line display name of at most `max` characters.
pub fn parse_name(raw: &str, max: usize) -> Result<String, FieldProblem> {
    let name = raw.trim();
    if name.is_empty() {
        Err(FieldProblem::new("required", "must not be empty"))
    } else if name.chars().count() > max {
        Err(FieldProblem::new("too_long", format!("must have at most {max} characters")))
    } else if name.chars().any(|c| c.is_control()) {
        Err(FieldProblem::new("invalid", "must be a single line without control characters"))
    } else {
        Ok(name.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(EmailAddress::parse("  Ana.Pop@Example.RO ").unwrap().as_str(), "ana.pop@example.ro");
        for bad in ["", "ana", "ana@", "@example.ro", "ana@example", "ana pop@example.ro", "ana@ex..ro", "a@-x.ro", "a@b@c.ro"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(EmailAddress::parse("").unwrap_err().code, "required");
        assert_eq!(EmailAddress::parse("x@y").unwrap_err().code, "invalid_email");
    }

    #[test]
    fn password_length_counts_characters_not_bytes() {
        assert!(check_password("12345678901").is_err());
        assert!(check_password("123456789012").is_ok());
        assert!(check_password("ăîșțâăîșțâăî").is_ok(), "12 non-ASCII chars");
        assert!(check_password("ăîșțâăîș").is_err(), "8 non-ASCII chars are 16 bytes but too few characters");
        assert_eq!(check_password(&"x".repeat(257)).unwrap_err().code, "too_long");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("  Ana  ", 10).unwrap(), "Ana");
        assert_eq!(parse_name("   ", 10).unwrap_err().code, "required");
        assert_eq!(parse_name("abcdefghijk", 10).unwrap_err().code, "too_long");
        assert_eq!(parse_name("a\nb", 10).unwrap_err().code, "invalid");
    }

    #[test]
    fn validator_collects_every_error() {
        let mut v = Validator::new();
        assert!(v.check("email", EmailAddress::parse("nope")).is_none());
        assert!(v.check("password", check_password("x")).is_none());
        assert_eq!(v.check("name", parse_name("Ana", 5)), Some("Ana".to_string()));
        let errors = v.finish().unwrap_err();
        assert_eq!(errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["email", "password"]);
    }
}
