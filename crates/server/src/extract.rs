//! Request extractors that report problems as problem+json with per-field errors.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::auth::{authenticate, AuthUser};
use crate::problem::{ApiError, ErrorCode};
use crate::state::AppState;

/// Largest JSON body accepted (attachments use multipart endpoints with their own limit).
pub const JSON_LIMIT_BYTES: usize = 1024 * 1024;

/// Like `web::Json`, but a bad body becomes a precise problem: 415 for a wrong content type,
/// 413 when too large, 400 for broken JSON, 422 naming the field for a wrong shape.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        let declared_len = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::new(ErrorCode::UnsupportedMediaType, "Send the body as JSON with `Content-Type: application/json`."));
            }
            if declared_len.is_some_and(|n| n > JSON_LIMIT_BYTES) {
                return Err(too_large());
            }
            let body = bytes.await.map_err(|_| too_large())?;
            parse_json(&body).map(Json)
        })
    }
}

fn too_large() -> ApiError {
    ApiError::new(ErrorCode::PayloadTooLarge, format!("JSON bodies are limited to {JSON_LIMIT_BYTES} bytes."))
}

/// Deserialises with the failing field's path, so a 422 can say which field is wrong.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let message = strip_position(&inner.to_string());
                let (field, code) = match missing_field(&message) {
                    Some(name) if path == "." => (name.to_string(), "required"),
                    Some(name) => (format!("{path}.{name}"), "required"),
                    None if path == "." => (String::new(), "invalid"),
                    None => (path, "invalid_type"),
                };
                ApiError::field(&field, code, message)
            }
            _ => ApiError::new(ErrorCode::MalformedJson, format!("The body is not valid JSON: {}", strip_position(&inner.to_string()))),
        }
    })
}

fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

/// serde_json appends "at line 1 column 5"; useful for syntax errors only.
fn strip_position(message: &str) -> String {
    message.split(" at line ").next().unwrap_or(message).to_string()
}

/// Query-string extractor configuration: a bad query is a 400 problem, not actix's text.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| ApiError::new(ErrorCode::InvalidQuery, format!("Invalid query string: {err}")).into())
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| ApiError::new(ErrorCode::InvalidPath, format!("Invalid path parameter: {err}")).into())
}

pub fn payload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(JSON_LIMIT_BYTES)
}

/// [`AuthUser`] is the one guard every protected endpoint takes: a Bearer session JWT or API token.
impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let bearer = req.headers().get(actix_web::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_string());
        let ip = peer_ip(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))?;
            let header = bearer.ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "Send `Authorization: Bearer <token>`."))?;
            let token = header
                .strip_prefix("Bearer ")
                .or_else(|| header.strip_prefix("bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "Use the `Bearer` scheme."))?;
            Ok(authenticate(&state, token, ip).await?)
        })
    }
}

/// [`client_ip`] as text, for audit entries and signatures.
pub fn peer_ip(req: &HttpRequest) -> Option<String> {
    client_ip(req).map(|ip| ip.to_string())
}

/// The client's address: the socket peer, or what a trusted proxy (`CRM_TRUSTED_PROXIES`) says
/// in `X-Forwarded-For`. The header is client-controlled, so it is believed from them only.
pub fn client_ip(req: &HttpRequest) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr()?.ip();
    let Some(state) = req.app_data::<web::Data<AppState>>() else { return Some(peer) };
    // Every X-Forwarded-For line, in order: a proxy may add its own line rather than append.
    let forwarded: Vec<&str> = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect();
    Some(state.settings.client_ip(peer, (!forwarded.is_empty()).then(|| forwarded.join(",")).as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        inner: Inner,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    #[test]
    fn names_the_failing_field() {
        let err = parse_json::<Body>(br#"{"inner": {"count": 1}}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::ValidationFailed);
        assert_eq!((err.errors[0].field.as_str(), err.errors[0].code.as_str()), ("name", "required"));

        let err = parse_json::<Body>(br#"{"name": "x", "inner": {"count": "many"}}"#).unwrap_err();
        assert_eq!(err.errors[0].field, "inner.count");
        assert_eq!(err.errors[0].code, "invalid_type");
    }

    #[test]
    fn broken_json_is_a_400() {
        let err = parse_json::<Body>(b"{\"name\": ").unwrap_err();
        assert_eq!(err.code, ErrorCode::MalformedJson);
    }
}
