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
use time::OffsetDateTime;

use crate::config::GatewaySettings;
use crate::db;
use crate::ops::gateway::*;
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
/// paid session has its effect once however often it is delivered (duplicates answer 200 and
/// change nothing): the payment on the invoice, and what the invoice cannot take (paid
/// meanwhile, or cancelled) as one client credit entry.
#[utoipa::path(post, path = "/api/v1/payments/webhook", operation_id = "receivePaymentWebhook", tag = "payments", request_body(content = String, description = "The gateway's event JSON", content_type = "application/json"),
    responses((status = 200, description = "Processed or ignored"), (status = 400, description = "`invalid_signature`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`payments_unavailable`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: the session names an invoice that does not exist", body = Problem, content_type = "application/problem+json")))]
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
    let settled = settle_completed_session(&txn, invoice_id, &event.id, &session).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(match settled {
        Settlement::Duplicate => serde_json::json!({"received": true, "duplicate": true}),
        Settlement::Applied { payment_id, credit_id } => serde_json::json!({"received": true, "payment_id": payment_id, "credit_id": credit_id}),
    }))
}
