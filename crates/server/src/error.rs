//! One error type for the whole API, rendered as RFC 9457 `application/problem+json`.
//!
//! Every stable error `code` is declared once in [`error_codes!`] with its HTTP status and
//! title. Causes of 5xx errors are logged with their chain and never sent to the client.

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use crmconnect_domain::api::Problem;
use crmconnect_domain::validation::{FieldError, Validator};

pub const PROBLEM_JSON: &str = "application/problem+json";

macro_rules! error_codes {
    ($( $variant:ident => ($status:ident, $code:literal, $title:literal) ),* $(,)?) => {
        /// Stable machine-readable error codes: integrators match on these, never rename one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $($variant),* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status),* }
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
    MalformedJson => (BAD_REQUEST, "malformed_json", "Malformed JSON"),
    InvalidQuery => (BAD_REQUEST, "invalid_query", "Invalid query parameters"),
    InvalidPath => (BAD_REQUEST, "invalid_path", "Invalid path parameter"),
    InvalidCursor => (BAD_REQUEST, "invalid_cursor", "Invalid cursor"),
    BadRequest => (BAD_REQUEST, "bad_request", "Bad request"),
    Unauthenticated => (UNAUTHORIZED, "unauthenticated", "Authentication required"),
    InvalidToken => (UNAUTHORIZED, "invalid_token", "Invalid or expired token"),
    InvalidCredentials => (UNAUTHORIZED, "invalid_credentials", "Invalid e-mail or password"),
    InvalidRefreshToken => (UNAUTHORIZED, "invalid_refresh_token", "Invalid refresh token"),
    Forbidden => (FORBIDDEN, "forbidden", "Permission denied"),
    SessionRequired => (FORBIDDEN, "session_required", "A signed-in session is required"),
    NotFound => (NOT_FOUND, "not_found", "Not found"),
    RouteNotFound => (NOT_FOUND, "route_not_found", "No such endpoint"),
    MethodNotAllowed => (METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed"),
    NotAcceptable => (NOT_ACCEPTABLE, "not_acceptable", "Not acceptable"),
    EmailTaken => (CONFLICT, "email_taken", "E-mail address already in use"),
    NameTaken => (CONFLICT, "name_taken", "Name already in use"),
    RoleInUse => (CONFLICT, "role_in_use", "Role still assigned to staff"),
    LastAdministrator => (CONFLICT, "last_administrator", "At least one active administrator is required"),
    CannotChangeSelf => (CONFLICT, "cannot_change_self", "You cannot do this to your own account"),
    InUse => (CONFLICT, "in_use", "Still in use"),
    DefaultPipeline => (CONFLICT, "default_pipeline", "The default pipeline cannot be removed"),
    AlreadyConverted => (CONFLICT, "already_converted", "Already converted"),
    AlreadyDone => (CONFLICT, "already_done", "Already done"),
    InvalidStatusTransition => (CONFLICT, "invalid_status_transition", "Status change not allowed"),
    ProposalExpired => (CONFLICT, "proposal_expired", "Proposal expired"),
    ProposalLocked => (CONFLICT, "proposal_locked", "Proposal can no longer be edited"),
    ProposalNotAccepted => (CONFLICT, "proposal_not_accepted", "Proposal not accepted"),
    InvoiceLocked => (CONFLICT, "invoice_locked", "Invoice can no longer be changed"),
    InvoiceHasPayments => (CONFLICT, "invoice_has_payments", "Invoice has payments"),
    PaymentExceedsBalance => (CONFLICT, "payment_exceeds_balance", "Payment exceeds the balance due"),
    InsufficientCredit => (CONFLICT, "insufficient_credit", "Not enough client credit"),
    InvalidSignature => (BAD_REQUEST, "invalid_signature", "Invalid webhook signature"),
    PaymentsUnavailable => (SERVICE_UNAVAILABLE, "payments_unavailable", "Online payment is not available"),
    GatewayError => (BAD_GATEWAY, "gateway_error", "The payment gateway failed"),
    CommentsDisabled => (FORBIDDEN, "comments_disabled", "Comments are turned off for this proposal"),
    RateLimited => (TOO_MANY_REQUESTS, "rate_limited", "Too many requests"),
    PayloadTooLarge => (PAYLOAD_TOO_LARGE, "payload_too_large", "Request body too large"),
    UnsupportedMediaType => (UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Unsupported media type"),
    ValidationFailed => (UNPROCESSABLE_ENTITY, "validation_failed", "Validation failed"),
    TooManyLoginAttempts => (TOO_MANY_REQUESTS, "too_many_login_attempts", "Too many failed sign-in attempts"),
    InternalError => (INTERNAL_SERVER_ERROR, "internal_error", "Internal server error"),
    DatabaseUnavailable => (SERVICE_UNAVAILABLE, "database_unavailable", "Database unavailable"),
}

/// An error an endpoint returns. Build with [`ApiError::new`] or the shorthands.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub retry_after_secs: Option<u64>,
    /// Logged for 5xx, never shown.
    source: Option<anyhow::Error>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self { code, detail: detail.into(), errors: Vec::new(), retry_after_secs: None, source: None }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("`{}`: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        Self { errors, ..Self::new(ErrorCode::ValidationFailed, detail) }
    }

    /// Ends a request's validation with the value its parsers built (`None` when one failed):
    /// 422 with every recorded field error, else the value. Every failing parser records why,
    /// so a `None` with nothing recorded is a bug in the validation code: a 500, not a panic.
    pub fn validated<T>(v: Validator, value: Option<T>) -> ApiResult<T> {
        v.finish().map_err(Self::validation)?;
        value.ok_or_else(|| Self::internal(anyhow::anyhow!("validation passed but left a required value unset")))
    }

    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError { field: field.into(), code: code.into(), message: message.into() }])
    }

    /// A bad query parameter: 400 `invalid_query` naming the parameter.
    pub fn field_query(param: &str, problem: crmconnect_domain::validation::FieldProblem) -> Self {
        let mut e = Self::new(ErrorCode::InvalidQuery, format!("`{param}`: {}", problem.message));
        e.errors = vec![FieldError { field: param.into(), code: problem.code.into(), message: problem.message }];
        e
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, detail)
    }

    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Self { source: Some(source.into()), ..Self::new(ErrorCode::InternalError, "The server failed to handle the request; it has been logged.") }
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    /// A problem for a bare status produced outside our handlers (actix routing, middleware).
    pub fn from_status(status: StatusCode) -> Self {
        let code = match status {
            StatusCode::NOT_FOUND => ErrorCode::RouteNotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
            StatusCode::FORBIDDEN => ErrorCode::Forbidden,
            StatusCode::NOT_ACCEPTABLE => ErrorCode::NotAcceptable,
            s if s.is_client_error() => ErrorCode::BadRequest,
            _ => ErrorCode::InternalError,
        };
        let detail = match code {
            ErrorCode::RouteNotFound => "No endpoint matches this path; see /api/docs.".to_string(),
            ErrorCode::MethodNotAllowed => "This endpoint does not accept this HTTP method.".to_string(),
            other => other.title().to_string(),
        };
        Self::new(code, detail)
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_url: format!("https://crmconnect.dev/problems/{}", self.code.as_str()),
            title: self.code.title().to_string(),
            status: self.code.status().as_u16(),
            detail: self.detail.clone(),
            code: self.code.as_str().to_string(),
            errors: self.errors.clone(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        if self.code.status().is_server_error() {
            match &self.source {
                Some(source) => tracing::error!(code = self.code.as_str(), error = ?source, "request failed"),
                None => tracing::error!(code = self.code.as_str(), detail = %self.detail, "request failed"),
            }
        }
        let mut res = HttpResponse::build(self.code.status());
        res.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        if let Some(secs) = self.retry_after_secs {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        res.json(self.problem())
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        ApiError::internal(err)
    }
}

impl From<sea_orm::TransactionError<ApiError>> for ApiError {
    fn from(err: sea_orm::TransactionError<ApiError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => ApiError::internal(db),
            sea_orm::TransactionError::Transaction(api) => api,
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        ApiError::internal(anyhow::anyhow!("blocking task failed: {err}"))
    }
}

/// Last line of defence (wraps the whole app): any error response that is not already
/// problem+json — actix's plain-text 404/405/413 and friends — is replaced by one.
pub fn problemize<B: MessageBody + 'static>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let (req, old) = res.into_parts();
    let mut new = ApiError::from_status(old.status()).error_response();
    if let Some(allow) = old.headers().get(header::ALLOW) {
        new.headers_mut().insert(header::ALLOW, allow.clone());
    }
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, new).map_into_right_body()))
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
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
    }

    #[test]
    fn validation_detail_names_a_single_field() {
        let err = ApiError::field("email", "invalid_email", "bad");
        assert_eq!(err.detail, "`email`: bad");
        assert_eq!(err.problem().errors.len(), 1);
    }

    #[test]
    fn validated_reports_field_errors_then_yields_the_value() {
        let mut v = Validator::new();
        v.push("name", "required", "a name is required");
        assert_eq!(ApiError::validated(v, None::<i32>).map_err(|e| e.code).unwrap_err(), ErrorCode::ValidationFailed);
        assert_eq!(ApiError::validated(Validator::new(), Some(7)).map_err(|e| e.code).unwrap(), 7);
        // A parser that failed without saying why is a server bug, not the client's.
        assert_eq!(ApiError::validated(Validator::new(), None::<i32>).map_err(|e| e.code).unwrap_err(), ErrorCode::InternalError);
    }
}
