//! What a business operation can fail with, and the stable error codes integrators match on.
//!
//! Nothing here knows HTTP: [`Error`] is what `ops` and the modules below it return, and the
//! HTTP edge (`problem`) turns it into an RFC 9457 problem+json response. Every stable error
//! `code` is declared once in [`error_codes!`] with its HTTP status number and title, so the
//! edge and the OpenAPI document agree on them.

use crmconnect_domain::validation::{FieldError, Validator};

macro_rules! error_codes {
    ($( $variant:ident => ($status:literal, $code:literal, $title:literal) ),* $(,)?) => {
        /// Stable machine-readable error codes: integrators match on these, never rename one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $($variant),* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The HTTP status the edge answers with.
            pub fn status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status),* }
            }

            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code),* }
            }

            pub fn title(self) -> &'static str {
                match self { $(ErrorCode::$variant => $title),* }
            }

            /// The variant's name as written in source (used by the "every code is used" test).
            pub fn variant_name(self) -> &'static str {
                match self { $(ErrorCode::$variant => stringify!($variant)),* }
            }
        }
    };
}

error_codes! {
    MalformedJson => (400, "malformed_json", "Malformed JSON"),
    InvalidQuery => (400, "invalid_query", "Invalid query parameters"),
    InvalidPath => (400, "invalid_path", "Invalid path parameter"),
    InvalidCursor => (400, "invalid_cursor", "Invalid cursor"),
    BadRequest => (400, "bad_request", "Bad request"),
    Unauthenticated => (401, "unauthenticated", "Authentication required"),
    InvalidToken => (401, "invalid_token", "Invalid or expired token"),
    InvalidCredentials => (401, "invalid_credentials", "Invalid e-mail or password"),
    InvalidRefreshToken => (401, "invalid_refresh_token", "Invalid refresh token"),
    Forbidden => (403, "forbidden", "Permission denied"),
    SessionRequired => (403, "session_required", "A signed-in session is required"),
    NotFound => (404, "not_found", "Not found"),
    RouteNotFound => (404, "route_not_found", "No such endpoint"),
    MethodNotAllowed => (405, "method_not_allowed", "Method not allowed"),
    NotAcceptable => (406, "not_acceptable", "Not acceptable"),
    EmailTaken => (409, "email_taken", "E-mail address already in use"),
    NameTaken => (409, "name_taken", "Name already in use"),
    RoleInUse => (409, "role_in_use", "Role still assigned to staff"),
    LastAdministrator => (409, "last_administrator", "At least one active administrator is required"),
    CannotChangeSelf => (409, "cannot_change_self", "You cannot do this to your own account"),
    InUse => (409, "in_use", "Still in use"),
    AlreadyAssigned => (409, "already_assigned", "Already assigned"),
    DefaultPipeline => (409, "default_pipeline", "The default pipeline cannot be removed"),
    AlreadyConverted => (409, "already_converted", "Already converted"),
    AlreadyDone => (409, "already_done", "Already done"),
    InvalidStatusTransition => (409, "invalid_status_transition", "Status change not allowed"),
    ProposalExpired => (409, "proposal_expired", "Proposal expired"),
    ProposalLocked => (409, "proposal_locked", "Proposal can no longer be edited"),
    ProposalNotAccepted => (409, "proposal_not_accepted", "Proposal not accepted"),
    InvoiceLocked => (409, "invoice_locked", "Invoice can no longer be changed"),
    InvoiceHasPayments => (409, "invoice_has_payments", "Invoice has payments"),
    PaymentExceedsBalance => (409, "payment_exceeds_balance", "Payment exceeds the balance due"),
    InsufficientCredit => (409, "insufficient_credit", "Not enough client credit"),
    InvalidSignature => (400, "invalid_signature", "Invalid webhook signature"),
    PaymentsUnavailable => (503, "payments_unavailable", "Online payment is not available"),
    GatewayError => (502, "gateway_error", "The payment gateway failed"),
    CommentsDisabled => (403, "comments_disabled", "Comments are turned off for this proposal"),
    RateLimited => (429, "rate_limited", "Too many requests"),
    PayloadTooLarge => (413, "payload_too_large", "Request body too large"),
    UnsupportedMediaType => (415, "unsupported_media_type", "Unsupported media type"),
    ValidationFailed => (422, "validation_failed", "Validation failed"),
    UnknownParameter => (422, "unknown_parameter", "Unknown query parameter"),
    PreconditionFailed => (412, "precondition_failed", "The record changed since you read it"),
    TooManyLoginAttempts => (429, "too_many_login_attempts", "Too many failed sign-in attempts"),
    InternalError => (500, "internal_error", "Internal server error"),
    DatabaseUnavailable => (503, "database_unavailable", "Database unavailable"),
}

/// Why a business operation did not happen. Each variant says what kind of failure it is; the
/// HTTP edge picks the status from that (and from the code, for [`Error::Refused`]).
#[derive(Debug)]
pub enum Error {
    /// The record does not exist, or the caller may not see it: the two answer the same, so an
    /// id reveals nothing.
    NotFound(String),
    /// The caller is known but their role does not grant this.
    Forbidden(String),
    /// The request's values are wrong, field by field.
    Invalid(Vec<FieldError>),
    /// A business rule refuses the operation now (already converted, invoice locked, payment
    /// beyond the balance, …); the code names the rule.
    Refused(ErrorCode, String),
    /// A fault of the server or its database; logged, never shown.
    Internal(anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::Forbidden(detail.into())
    }

    pub fn refused(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::Refused(code, detail.into())
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self::Invalid(errors)
    }

    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError { field: field.into(), code: code.into(), message: message.into() }])
    }

    /// Ends a request's validation with the value its parsers built (`None` when one failed):
    /// every recorded field error, else the value. Every failing parser records why, so a
    /// `None` with nothing recorded is a bug in the validation code: internal, not a panic.
    pub fn validated<T>(v: Validator, value: Option<T>) -> Result<T> {
        v.finish().map_err(Self::Invalid)?;
        value.ok_or_else(|| Self::internal(anyhow::anyhow!("validation passed but left a required value unset")))
    }

    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Self::Internal(source.into())
    }

    /// The stable code this failure is reported under.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::Invalid(_) => ErrorCode::ValidationFailed,
            Self::Refused(code, _) => *code,
            Self::Internal(_) => ErrorCode::InternalError,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotFound(detail) | Self::Forbidden(detail) | Self::Refused(_, detail) => write!(f, "{}: {detail}", self.code().as_str()),
            Self::Invalid(errors) => {
                let fields: Vec<String> = errors.iter().map(|e| format!("`{}`: {}", e.field, e.message)).collect();
                write!(f, "{}: {}", self.code().as_str(), fields.join("; "))
            }
            Self::Internal(source) => write!(f, "{}: {source:#}", self.code().as_str()),
        }
    }
}

impl std::error::Error for Error {}

impl From<sea_orm::DbErr> for Error {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::internal(err)
    }
}

impl From<sea_orm::TransactionError<Error>> for Error {
    fn from(err: sea_orm::TransactionError<Error>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => Self::internal(db),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lemmy's `test_errors_used`: a code no code path returns is dead API surface.
    #[test]
    fn every_error_code_is_used_somewhere() {
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut sources = String::new();
        let mut stack = vec![std::path::PathBuf::from(src)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    sources.push_str(&std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        for code in ErrorCode::ALL {
            let needle = format!("ErrorCode::{}", code.variant_name());
            assert!(sources.contains(&needle), "{} is never used", needle);
        }
    }

    #[test]
    fn codes_are_unique_snake_case_and_statuses_are_errors() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {}", code.as_str());
            assert!(code.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            assert!((400..600).contains(&code.status()), "{} answers {}", code.as_str(), code.status());
        }
    }

    #[test]
    fn validated_reports_field_errors_then_yields_the_value() {
        let mut v = Validator::new();
        v.push("name", "required", "a name is required");
        assert_eq!(Error::validated(v, None::<i32>).map_err(|e| e.code()).unwrap_err(), ErrorCode::ValidationFailed);
        assert_eq!(Error::validated(Validator::new(), Some(7)).map_err(|e| e.code()).unwrap(), 7);
        // A parser that failed without saying why is a server bug, not the client's.
        assert_eq!(Error::validated(Validator::new(), None::<i32>).map_err(|e| e.code()).unwrap_err(), ErrorCode::InternalError);
    }

    #[test]
    fn each_kind_of_failure_has_its_code() {
        assert_eq!(Error::not_found("Invoice").code(), ErrorCode::NotFound);
        assert_eq!(Error::forbidden("no").code(), ErrorCode::Forbidden);
        assert_eq!(Error::field("email", "invalid_email", "bad").code(), ErrorCode::ValidationFailed);
        assert_eq!(Error::refused(ErrorCode::InvoiceLocked, "issued").code(), ErrorCode::InvoiceLocked);
        assert_eq!(Error::internal(anyhow::anyhow!("disk")).code(), ErrorCode::InternalError);
        assert_eq!(Error::not_found("Invoice").to_string(), "not_found: Invoice not found");
    }
}
