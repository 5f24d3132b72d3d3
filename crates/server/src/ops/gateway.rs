//! Gateway: the queries and business operations below the HTTP handlers.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Signatures older than this are refused (replays).
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckoutStarted {
    /// Send the client's browser here.
    pub checkout_url: String,
    pub session_id: String,
}

#[derive(Deserialize)]
pub struct Session {
    pub id: String,
    pub url: Option<String>,
}

/// Checks `t=…,v1=…` against HMAC-SHA256(secret, "{t}.{body}") within the tolerance.
pub fn verify_signature(header: &str, body: &[u8], secret: &str, now: i64) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", s)) => signatures.push(s.to_string()),
            _ => {}
        }
    }
    let Some(t) = timestamp else { return false };
    if (now - t).abs() > TOLERANCE_SECS {
        return false;
    }
    signatures.iter().any(|sig| {
        let Some(expected) = hex_decode(sig) else { return false };
        // HMAC accepts a key of any length, so this never takes the `else`.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return false };
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    })
}

/// The bytes of a hex string; `None` for an odd length or a non-hex digit.
pub fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok())).collect()
}

#[derive(Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub data: EventData,
}

#[derive(Deserialize)]
pub struct EventData {
    pub object: CheckoutSession,
}

#[derive(Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    pub amount_total: Option<i64>,
    pub currency: Option<String>,
    pub payment_status: Option<String>,
    pub client_reference_id: Option<String>,
    pub payment_intent: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, t: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn signatures_are_checked_with_the_secret_body_and_time() {
        let body = br#"{"id":"evt_1"}"#;
        let header = format!("t=1000,v1={}", sign("whsec_x", 1000, body));
        assert!(verify_signature(&header, body, "whsec_x", 1100));
        assert!(!verify_signature(&header, body, "whsec_other", 1100), "wrong secret");
        assert!(!verify_signature(&header, br#"{"id":"evt_2"}"#, "whsec_x", 1100), "changed body");
        assert!(!verify_signature(&header, body, "whsec_x", 2000), "too old");
        assert!(!verify_signature("v1=abc", body, "whsec_x", 1000), "no timestamp");
    }
}
