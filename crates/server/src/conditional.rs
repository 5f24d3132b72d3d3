//! Conditional requests: every JSON answer of a `GET` (and of a `PATCH`: the record as it now
//! is) carries a strong `ETag` — a hash of its body —, `If-None-Match` turns an unchanged answer
//! into `304 Not Modified`, and [`IfMatch`] lets a `PATCH` refuse with `412` when the record
//! changed since the caller read it (optimistic concurrency).

use std::future::{ready, Ready};

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::problem::{ApiError, ErrorCode};

/// The entity tag of a JSON body: the first 128 bits of its SHA-256, quoted.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether a header holding `*` or a list of entity tags names `etag`. `If-None-Match` compares
/// weakly (a `W/` prefix is ignored), `If-Match` strongly (RFC 9110 §13.1.1–2).
fn matches(header_value: &str, etag: &str, weak: bool) -> bool {
    header_value.split(',').map(str::trim).any(|tag| tag == "*" || tag == etag || (weak && tag.strip_prefix("W/") == Some(etag)))
}

/// Adds the `ETag` to JSON answers of `GET`, `HEAD` and `PATCH`, and answers `304` to a `GET`
/// whose `If-None-Match` names it. Other answers (files, CSV streams, errors) pass untouched.
pub async fn tag_response<B: MessageBody + 'static>(res: ServiceResponse<B>) -> actix_web::Result<ServiceResponse<BoxBody>> {
    let method = res.request().method().clone();
    let json = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("application/json"));
    if res.status() != StatusCode::OK || !json || ![Method::GET, Method::HEAD, Method::PATCH].contains(&method) {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let (mut res, body) = res.into_parts();
    let bytes = body::to_bytes(body).await.map_err(|e| actix_web::error::ErrorInternalServerError(e.into().to_string()))?;
    let etag = etag_of(&bytes);
    let not_modified =
        method != Method::PATCH && req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| matches(v, &etag, true));
    let etag_value = header::HeaderValue::from_str(&etag).map_err(actix_web::error::ErrorInternalServerError)?;
    if not_modified {
        let mut unchanged = HttpResponse::NotModified().finish();
        unchanged.headers_mut().insert(header::ETAG, etag_value);
        return Ok(ServiceResponse::new(req, unchanged));
    }
    res.headers_mut().insert(header::ETAG, etag_value);
    Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(bytes))))
}

/// The `If-Match` header of a `PATCH`, if sent. [`IfMatch::check`] compares it with the record
/// as the `GET` would answer it now — call it after the row is locked, so two writers holding
/// the same tag cannot both pass.
pub struct IfMatch(Option<String>);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let value = req.headers().get(header::IF_MATCH).map(|v| v.to_str().map(str::to_string));
        ready(match value {
            None => Ok(IfMatch(None)),
            Some(Ok(v)) => Ok(IfMatch(Some(v))),
            Some(Err(_)) => Err(ApiError::new(ErrorCode::BadRequest, "`If-Match` must be an entity tag as received in `ETag`.")),
        })
    }
}

impl IfMatch {
    /// `412 precondition_failed` when the caller's tag is not the current representation's.
    pub fn check<T: Serialize>(&self, current: &T) -> Result<(), ApiError> {
        let Some(expected) = &self.0 else { return Ok(()) };
        let body = serde_json::to_vec(current).map_err(ApiError::internal)?;
        if matches(expected, &etag_of(&body), false) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::PreconditionFailed,
                "The record changed since you read it (its `ETag` is no longer the one in `If-Match`); nothing was changed. Read it again and retry.",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_compare_by_content_and_lists_and_star_match() {
        let a = etag_of(br#"{"id":1}"#);
        assert_eq!(a.len(), 34);
        assert_ne!(a, etag_of(br#"{"id":2}"#));
        assert!(matches(&a, &a, false));
        assert!(matches(&format!("\"x\", W/{a}"), &a, true));
        assert!(!matches(&format!("W/{a}"), &a, false), "If-Match compares strongly");
        assert!(matches("*", &a, false));
        assert!(!matches("\"x\"", &a, true));
        assert!(IfMatch(Some(etag_of(br#"{"id":1}"#))).check(&serde_json::json!({"id": 1})).is_ok());
        assert_eq!(IfMatch(Some(a)).check(&serde_json::json!({"id": 2})).unwrap_err().code, ErrorCode::PreconditionFailed);
        assert!(IfMatch(None).check(&serde_json::json!({"id": 2})).is_ok());
    }
}
