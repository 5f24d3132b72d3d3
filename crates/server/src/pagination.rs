//! Keyset pagination: `limit` (default 50, max 500) and an opaque `cursor`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{Error, ErrorCode, Result};

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 500;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1–500 (default 50).
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A validated page request over rows ordered by ascending id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u64,
    /// Only rows with a greater id.
    pub after_id: Option<i32>,
}

impl PageParams {
    pub fn parse(&self) -> Result<PageRequest> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::field("limit", "out_of_range", format!("limit must be between 1 and {MAX_LIMIT}")));
        }
        let after_id = self.cursor.as_deref().map(decode_cursor).transpose()?;
        Ok(PageRequest { limit, after_id })
    }
}

pub fn encode_cursor(last_id: i32) -> String {
    URL_SAFE_NO_PAD.encode(format!("id:{last_id}"))
}

fn decode_cursor(cursor: &str) -> Result<i32> {
    let invalid = || Error::refused(ErrorCode::InvalidCursor, "Pass back `next_cursor` exactly as received.");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    text.strip_prefix("id:").and_then(|n| n.parse().ok()).ok_or_else(invalid)
}

/// Fetch `limit + 1` rows; this trims the extra one and makes the cursor from the last kept.
pub fn finish_page<T>(mut rows: Vec<T>, page: PageRequest, id_of: impl Fn(&T) -> i32) -> (Vec<T>, Option<String>) {
    let more = rows.len() as u64 > page.limit;
    rows.truncate(page.limit as usize);
    let next = if more { rows.last().map(|r| encode_cursor(id_of(r))) } else { None };
    (rows, next)
}

/// Every value of a query parameter that may repeat or hold a comma-separated list
/// (`?status=4&status=1`, `?status=sent,viewed`). serde's `Query` keeps only one.
pub fn repeated_param(query_string: &str, name: &str) -> Vec<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query_string).unwrap_or_default();
    pairs
        .into_iter()
        .filter(|(k, _)| k == name)
        .flat_map(|(_, v)| v.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect::<Vec<_>>())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let p = PageParams { limit: Some(10), cursor: Some(encode_cursor(77)) }.parse().unwrap();
        assert_eq!(p, PageRequest { limit: 10, after_id: Some(77) });
        assert!(PageParams { limit: None, cursor: Some("!!".into()) }.parse().is_err());
        assert!(PageParams { limit: None, cursor: Some(URL_SAFE_NO_PAD.encode("id:x")) }.parse().is_err());
        assert!(PageParams { limit: Some(0), cursor: None }.parse().is_err());
        assert!(PageParams { limit: Some(501), cursor: None }.parse().is_err());
        assert_eq!(PageParams::default().parse().unwrap().limit, 50);
    }

    #[test]
    fn finish_page_detects_more() {
        let page = PageRequest { limit: 2, after_id: None };
        let (rows, next) = finish_page(vec![1, 2, 3], page, |r| *r);
        assert_eq!((rows, next), (vec![1, 2], Some(encode_cursor(2))));
        let (rows, next) = finish_page(vec![1, 2], page, |r| *r);
        assert_eq!((rows, next), (vec![1, 2], None));
    }
}
