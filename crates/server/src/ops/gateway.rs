//! Gateway: the queries and business operations below the HTTP handlers.

use crmconnect_domain::invoices::InvoiceStatus;
use crmconnect_domain::money;
use hmac::{Hmac, Mac};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::audit::{self, Actor, Change};
use crate::db::Read;
use crate::documents::{currency_of, today};
use crate::entities::{client_credit, invoice, payment, payment_mode};
use crate::error::{Error, ErrorCode, Result};
use crate::ops::payments::{record_in, NewPayment};

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

/// What a completed checkout session did.
pub enum Settlement {
    /// This session was settled before (a redelivery): nothing changed.
    Duplicate,
    /// The payment recorded on the invoice and/or the client credit booked.
    Applied { payment_id: Option<i32>, credit_id: Option<i32> },
}

/// Settles a paid checkout session for invoice `invoice_id` in `txn`, once per session id:
/// what the invoice can still take is recorded as its payment; the rest — all of it when the
/// invoice was cancelled or paid meanwhile — becomes one client credit entry: the money was
/// taken, so an invoice's state never refuses it. (A session naming an unknown invoice or
/// another currency is refused: it is not this CRM's to book.)
pub async fn settle_completed_session(txn: &impl ConnectionTrait, invoice_id: i32, event_id: &str, session: &CheckoutSession) -> Result<Settlement> {
    // Lock the invoice first: the gateway retries deliveries, and simultaneous copies of one
    // event queue here, so the duplicate check below sees the first one's rows.
    let inv = Read::ForUpdate.apply(invoice::Entity::find_by_id(invoice_id)).one(txn).await?.ok_or_else(|| Error::not_found("invoice"))?;
    // The session id is unique on payments and on credit entries.
    let paid_before = payment::Entity::find().filter(payment::Column::GatewayEventId.eq(session.id.clone())).one(txn).await?.is_some();
    let credited_before = client_credit::Entity::find().filter(client_credit::Column::GatewayEventId.eq(session.id.clone())).one(txn).await?.is_some();
    if paid_before || credited_before {
        return Ok(Settlement::Duplicate);
    }
    if session.currency.as_deref().is_some_and(|c| !c.eq_ignore_ascii_case(&inv.currency)) {
        return Err(Error::refused(ErrorCode::BadRequest, "The session's currency is not the invoice's."));
    }
    let c = currency_of(&inv.currency);
    let paid_minor = session.amount_total.unwrap_or(0).max(0);
    let takes_payments = inv.status_code != InvoiceStatus::Cancelled.code() && inv.status_code != InvoiceStatus::Draft.code() && inv.number.is_some();
    let to_invoice = if takes_payments { paid_minor.min(inv.total_minor - inv.paid_minor).max(0) } else { 0 };
    let card = payment_mode::Entity::find().filter(payment_mode::Column::Name.eq("Card")).one(txn).await?.map(|m| m.id);
    let actor = Actor::system();
    let mut payment_id = None;
    if to_invoice > 0 {
        let p = NewPayment {
            amount: money::from_minor(to_invoice, c),
            date: today(),
            payment_mode_id: card,
            transaction_id: session.payment_intent.clone().or(Some(session.id.clone())),
            note: Some(format!("Online payment ({event_id})")),
            source: "gateway",
            gateway_event_id: Some(session.id.clone()),
        };
        payment_id = Some(record_in(txn, &actor, &inv, p).await?.id);
    }
    let mut credit_id = None;
    if paid_minor > to_invoice {
        let why = if takes_payments { "Overpaid online on" } else { "Paid online on an invoice that takes no payments (cancelled or not issued)" };
        let credit = client_credit::ActiveModel {
            client_id: Set(inv.client_id),
            currency: Set(inv.currency.clone()),
            amount_minor: Set(paid_minor - to_invoice),
            date: Set(today()),
            invoice_id: Set(None),
            payment_id: Set(None),
            payment_mode_id: Set(card),
            note: Set(Some(format!("{why} {} ({})", inv.number.clone().unwrap_or_default(), session.id))),
            gateway_event_id: Set(Some(session.id.clone())),
            created_by: Set(None),
            created_at: Set(OffsetDateTime::now_utc()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let mut change = Change::new("client_credit.added", "client", inv.client_id);
        change.after =
            Some(serde_json::json!({"credit_id": credit.id, "amount_minor": credit.amount_minor, "currency": credit.currency, "gateway_session": session.id}));
        audit::record(txn, &actor, change).await?;
        credit_id = Some(credit.id);
    }
    Ok(Settlement::Applied { payment_id, credit_id })
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
