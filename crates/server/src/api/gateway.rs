//! Online card payment through a Stripe-compatible gateway: the webhook here; the portal's
//! "pay" button is `api::portal::pay_invoice`.
//!
//! `POST /api/v1/portal/invoices/{token}/pay` creates a Checkout Session for the balance due
//! (Stripe's `POST /v1/checkout/sessions`, form-encoded, bearer API key) and answers the URL to
//! send the client to. The gateway then calls `POST /api/v1/payments/webhook` with
//! `checkout.session.completed`; the `Stripe-Signature` header (`t=…,v1=…`, HMAC-SHA256 of
//! `"{t}.{body}"` with the webhook secret) is verified, and the payment is recorded exactly
//! once: the session id is the payment's unique `gateway_event_id`, so a webhook delivered
//! twice finds it already there.

use actix_web::{web, HttpRequest, HttpResponse};
use crmconnect_domain::api::Problem;
use crmconnect_domain::money;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use time::OffsetDateTime;

use crate::audit::Actor;
use crate::config::GatewaySettings;
use crate::db;
use crate::documents::{currency_of, today};
use crate::entities::{client_credit, invoice, payment, payment_mode};
use crate::ops::gateway::*;
use crate::ops::payments::{record_in, NewPayment};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

/// The gateway settings, or 503 `payments_unavailable` when online payment is not configured.
pub fn settings_of(state: &AppState) -> ApiResult<&GatewaySettings> {
    state
        .settings
        .gateway
        .as_ref()
        .ok_or_else(|| ApiError::new(ErrorCode::PaymentsUnavailable, "Online payment is not configured; please pay by bank transfer."))
}

/// The gateway's webhook. Signed with the webhook secret; `checkout.session.completed` of a
/// paid session records the payment once (duplicates answer 200 and change nothing). More
/// than the balance (the client also paid by transfer meanwhile) goes to client credit.
#[utoipa::path(post, path = "/api/v1/payments/webhook", operation_id = "receivePaymentWebhook", tag = "payments", request_body(content = String, description = "The gateway's event JSON", content_type = "application/json"),
    responses((status = 200, description = "Processed or ignored"), (status = 400, description = "`invalid_signature`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`payments_unavailable`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: the session names an invoice that does not exist", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status_transition`: the invoice is a draft or cancelled", body = Problem, content_type = "application/problem+json")))]
pub async fn webhook(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> ApiResult<HttpResponse> {
    let gw = settings_of(&state)?;
    let header = req.headers().get("Stripe-Signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !verify_signature(header, &body, &gw.webhook_secret, OffsetDateTime::now_utc().unix_timestamp()) {
        return Err(ApiError::new(ErrorCode::InvalidSignature, "The Stripe-Signature header does not match this body."));
    }
    let event: Event = serde_json::from_slice(&body).map_err(|e| ApiError::new(ErrorCode::BadRequest, format!("Unreadable event: {e}")))?;
    let session = event.data.object;
    if event.kind != "checkout.session.completed" || session.payment_status.as_deref() != Some("paid") {
        return Ok(HttpResponse::Ok().json(serde_json::json!({"received": true, "ignored": event.kind})));
    }
    let invoice_id: i32 = session
        .client_reference_id
        .as_deref()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ApiError::new(ErrorCode::BadRequest, "The session names no invoice."))?;
    let txn = db::begin_write(&state.db).await?;
    // Lock the invoice first: the gateway retries deliveries, and simultaneous copies of one event
    // must queue here so that the duplicate check below sees the first one's payment.
    let inv = db::Read::ForUpdate.apply(invoice::Entity::find_by_id(invoice_id)).one(&txn).await?.ok_or_else(|| ApiError::not_found("invoice"))?;
    // The session id is unique on payments and on credit entries: an event whose whole amount
    // went to credit (the invoice was paid meanwhile) left no payment, but a credit row.
    let paid_before = payment::Entity::find().filter(payment::Column::GatewayEventId.eq(session.id.clone())).one(&txn).await?.is_some();
    let credited_before = client_credit::Entity::find().filter(client_credit::Column::GatewayEventId.eq(session.id.clone())).one(&txn).await?.is_some();
    if paid_before || credited_before {
        return Ok(HttpResponse::Ok().json(serde_json::json!({"received": true, "duplicate": true})));
    }
    if session.currency.as_deref().is_some_and(|c| !c.eq_ignore_ascii_case(&inv.currency)) {
        return Err(ApiError::new(ErrorCode::BadRequest, "The session's currency is not the invoice's."));
    }
    let c = currency_of(&inv.currency);
    let paid_minor = session.amount_total.unwrap_or(0);
    let to_invoice = paid_minor.min(inv.total_minor - inv.paid_minor).max(0);
    let card = payment_mode::Entity::find().filter(payment_mode::Column::Name.eq("Card")).one(&txn).await?.map(|m| m.id);
    let actor = Actor::system();
    let mut payment_id = None;
    if to_invoice > 0 {
        let p = NewPayment {
            amount: money::from_minor(to_invoice, c),
            date: today(),
            payment_mode_id: card,
            transaction_id: session.payment_intent.clone().or(Some(session.id.clone())),
            note: Some(format!("Online payment ({})", event.id)),
            source: "gateway",
            gateway_event_id: Some(session.id.clone()),
        };
        payment_id = Some(record_in(&txn, &actor, &inv, p).await?.id);
    }
    if paid_minor > to_invoice {
        use sea_orm::{ActiveModelTrait, ActiveValue::Set};
        client_credit::ActiveModel {
            client_id: Set(inv.client_id),
            currency: Set(inv.currency.clone()),
            amount_minor: Set(paid_minor - to_invoice),
            date: Set(today()),
            invoice_id: Set(None),
            payment_id: Set(None),
            payment_mode_id: Set(card),
            note: Set(Some(format!("Overpaid online on {} ({})", inv.number.clone().unwrap_or_default(), session.id))),
            gateway_event_id: Set(Some(session.id.clone())),
            created_by: Set(None),
            created_at: Set(OffsetDateTime::now_utc()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"received": true, "payment_id": payment_id})))
}
