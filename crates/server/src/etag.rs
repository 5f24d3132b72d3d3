//! Entity tags: a record's `ETag` is a hash of its JSON representation, and a `PATCH` with
//! `If-Match` goes ahead only when that tag is still the record's. Below the HTTP layer, so an
//! operation that locks its row itself (staff, settings, one's profile) can check the tag there.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorCode, Result};

/// The entity tag of a JSON body: the first 128 bits of its SHA-256, quoted.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether a header holding `*` or a list of entity tags names `etag`. `If-None-Match` compares
/// weakly (a `W/` prefix is ignored), `If-Match` strongly (RFC 9110 §13.1.1–2).
pub(crate) fn matches(header_value: &str, etag: &str, weak: bool) -> bool {
    header_value.split(',').map(str::trim).any(|tag| tag == "*" || tag == etag || (weak && tag.strip_prefix("W/") == Some(etag)))
}

/// The `If-Match` header of a `PATCH`, if sent. [`IfMatch::check`] compares it with the record
/// as the `GET` would answer it now — call it after the row is locked, so two writers holding
/// the same tag cannot both pass. Operations take it as an argument; the edge extracts it.
pub struct IfMatch(Option<String>);

impl IfMatch {
    pub fn absent() -> Self {
        IfMatch(None)
    }

    pub fn expecting(tag: String) -> Self {
        IfMatch(Some(tag))
    }

    /// `412 precondition_failed` when the caller's tag is not the current representation's.
    pub fn check<T: Serialize>(&self, current: &T) -> Result<()> {
        let Some(expected) = &self.0 else { return Ok(()) };
        let body = serde_json::to_vec(current).map_err(Error::internal)?;
        if matches(expected, &etag_of(&body), false) {
            Ok(())
        } else {
            Err(Error::refused(
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
        assert_eq!(IfMatch(Some(a)).check(&serde_json::json!({"id": 2})).unwrap_err().code(), ErrorCode::PreconditionFailed);
        assert!(IfMatch(None).check(&serde_json::json!({"id": 2})).is_ok());
    }
}
