//! The HTTP edge's error: an RFC 9457 `application/problem+json` response.
//!
//! Handlers return [`ApiError`]; the operations' [`Error`] converts into it with `?`, and the
//! edge's own failures (malformed JSON, bad query, authentication, rate limits) are built here.
//! Causes of 5xx errors are logged with their chain and never sent to the client.

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use crmconnect_domain::api::Problem;
use crmconnect_domain::validation::{FieldError, Validator};

use crate::error::Error;
pub use crate::error::ErrorCode;

pub const PROBLEM_JSON: &str = "application/problem+json";

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
        Ok(Error::validated(v, value)?)
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
            status: self.code.status(),
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
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            match &self.source {
                Some(source) => tracing::error!(code = self.code.as_str(), error = ?source, "request failed"),
                None => tracing::error!(code = self.code.as_str(), detail = %self.detail, "request failed"),
            }
        }
        let mut res = HttpResponse::build(status);
        res.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        if let Some(secs) = self.retry_after_secs {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        res.json(self.problem())
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        match err {
            Error::NotFound(detail) => Self::new(ErrorCode::NotFound, detail),
            Error::Forbidden(detail) => Self::forbidden(detail),
            Error::Invalid(errors) => Self::validation(errors),
            Error::Refused(code, detail) => Self::new(code, detail),
            Error::Internal(source) => Self::internal(source),
        }
    }
}

impl From<sea_orm::TransactionError<Error>> for ApiError {
    fn from(err: sea_orm::TransactionError<Error>) -> Self {
        Error::from(err).into()
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

    #[test]
    fn validation_detail_names_a_single_field() {
        let err = ApiError::field("email", "invalid_email", "bad");
        assert_eq!(err.detail, "`email`: bad");
        assert_eq!(err.problem().errors.len(), 1);
    }

    #[test]
    fn an_operations_failure_keeps_its_code_detail_and_fields() {
        let refused = ApiError::from(Error::refused(ErrorCode::PaymentExceedsBalance, "only 10.00 is due"));
        assert_eq!(
            (refused.code, refused.detail.as_str(), refused.status_code()),
            (ErrorCode::PaymentExceedsBalance, "only 10.00 is due", StatusCode::CONFLICT)
        );
        let invalid = ApiError::from(Error::field("amount", "required", "an amount is required"));
        assert_eq!((invalid.code, invalid.errors.len(), invalid.status_code()), (ErrorCode::ValidationFailed, 1, StatusCode::UNPROCESSABLE_ENTITY));
        let missing = ApiError::from(Error::not_found("Invoice"));
        assert_eq!((missing.status_code(), missing.detail.as_str()), (StatusCode::NOT_FOUND, "Invoice not found"));
        let fault = ApiError::from(Error::internal(anyhow::anyhow!("disk full")));
        assert!(!fault.detail.contains("disk"), "the cause is logged, not shown: {}", fault.detail);
    }

    #[test]
    fn every_code_has_a_valid_http_status() {
        for code in ErrorCode::ALL {
            assert!(StatusCode::from_u16(code.status()).is_ok_and(|s| s.is_client_error() || s.is_server_error()), "{}", code.as_str());
        }
    }
}
