//! Conditional requests at the edge: every JSON answer of a `GET` (and of a `PATCH`: the record
//! as it now is) carries a strong `ETag` — a hash of its body —, `If-None-Match` turns an
//! unchanged answer into `304 Not Modified`, and the `If-Match` header becomes an [`IfMatch`]
//! that the operation checks once it holds the row (see [`crate::etag`]).

use std::future::{ready, Ready};

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::{FromRequest, HttpRequest, HttpResponse};

pub use crate::etag::IfMatch;
use crate::etag::{etag_of, matches};
use crate::problem::{ApiError, ErrorCode};

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

/// The `If-Match` header as the document shows it on every `PATCH` that checks it
/// (`params(IfMatchHeader)`); the edge refuses the header on operations without it.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatchHeader {
    /// The `ETag` of the record as you read it: if it changed since, the answer is 412 and nothing changes.
    #[serde(rename = "If-Match")]
    pub if_match: Option<String>,
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let value = req.headers().get(header::IF_MATCH).map(|v| v.to_str().map(str::to_string));
        ready(match value {
            None => Ok(IfMatch::absent()),
            Some(Ok(v)) => Ok(IfMatch::expecting(v)),
            Some(Err(_)) => Err(ApiError::new(ErrorCode::BadRequest, "`If-Match` must be an entity tag as received in `ETag`.")),
        })
    }
}
