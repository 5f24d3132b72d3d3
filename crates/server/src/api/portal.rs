//! The client portal, all of it: proposals (`/api/v1/portal/proposals/{token}`: view, accept,
//! decline, comments, PDF), invoices (view, PDF, pay online) and contracts (read, sign). No
//! login: the 256-bit random token is the key. Unknown, revoked and draft tokens all answer the
//! same 404; every endpoint is rate-limited per IP address.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use crmconnect_domain::api::{AcceptInput, Comment, CommentInput, DeclineInput, Page, PortalContract, PortalProposal, Problem, SignInput};
use crmconnect_domain::proposals::{self as rules, ProposalEvent, ProposalStatus};
use crmconnect_domain::validation::{parse_name, EmailAddress, Validator};
use governor::clock::{Clock, DefaultClock};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use time::OffsetDateTime;

use crate::audit::{self, Actor, Change};
use crate::db::Read;
use crate::documents::content_hash;
use crate::entities::{contract, proposal, proposal_comment};
use crate::extract::peer_ip;
use crate::extract::Json;
use crate::ops::contracts::{refuse_unless_signable, signature_of, status_named};
use crate::ops::gateway::{CheckoutStarted, Session};
use crate::ops::portal::*;
use crate::ops::proposals::{self, acceptance_of, status_of, Target};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;
use crate::{db, outbox, settings};

/// Refuses the request when this IP went over its per-minute budget (429 with Retry-After).
pub fn throttle(state: &AppState, req: &HttpRequest) -> ApiResult<()> {
    let ip = crate::extract::client_ip(req).unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    state.portal_limiter.check_key(&ip).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        ApiError::new(ErrorCode::RateLimited, "Too many requests from this address; try again shortly.").with_retry_after(wait.as_secs().max(1))
    })
}

fn client_actor(req: &HttpRequest) -> Actor {
    Actor { ip: peer_ip(req), ..Actor::system() }
}

/// The proposal as the client sees it. The first view of a sent proposal marks it Viewed (1)
/// and notifies the assigned staff member.
#[utoipa::path(get, path = "/api/v1/portal/proposals/{token}", operation_id = "getPortalProposal", tag = "portal", params(("token" = String, Path)),
    responses((status = 200, body = PortalProposal), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn view(state: web::Data<AppState>, req: HttpRequest, token: web::Path<String>) -> ApiResult<HttpResponse> {
    throttle(&state, &req)?;
    let txn = db::begin_write(&state.db).await?;
    let mut p = by_token(&txn, &token, Read::ForUpdate).await?;
    let status = status_of(&p);
    let new = rules::transition(status, ProposalEvent::ClientViewed).unwrap_or(status);
    if new != status || p.viewed_at.is_none() {
        let now = OffsetDateTime::now_utc();
        let mut row: proposal::ActiveModel = p.clone().into();
        row.status_code = Set(new.code());
        if p.viewed_at.is_none() {
            row.viewed_at = Set(Some(now));
        }
        p = row.update(&txn).await?;
        if new == ProposalStatus::Viewed && status != new {
            notify_owner(
                &txn,
                &p,
                "proposal_viewed",
                format!("{} was opened by the client", p.number),
                format!("{} opened “{}”.", p.recipient_name.clone().unwrap_or_else(|| "The client".into()), p.subject),
            )
            .await?;
            let mut change = Change::new("proposal.viewed", "proposal", p.id);
            change.after = Some(json!({"status_code": new.code()}));
            audit::record(&txn, &client_actor(&req), change).await?;
            outbox::emit(&txn, "proposal.viewed", "proposal", p.id, json!({"proposal_id": p.id})).await?;
        }
    }
    let view = portal_view(&txn, &state.settings.public_url, &p).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(view))
}

fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|s| s.chars().take(500).collect())
}

/// Accept the proposal: records who, when, from which IP and browser → Accepted (3). With the
/// setting `estimate_auto_convert_to_invoice_on_client_accept` = 1 the invoice is created in
/// the same transaction.
#[utoipa::path(post, path = "/api/v1/portal/proposals/{token}/accept", operation_id = "acceptPortalProposal", tag = "portal", params(("token" = String, Path)), request_body = AcceptInput,
    responses((status = 200, body = PortalProposal), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`proposal_expired`, `invalid_status_transition`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn accept(state: web::Data<AppState>, req: HttpRequest, token: web::Path<String>, body: Json<AcceptInput>) -> ApiResult<HttpResponse> {
    throttle(&state, &req)?;
    let mut v = Validator::new();
    let name = v.check("name", parse_name(&body.0.name, 200));
    let email = body.0.email.as_deref().map(str::trim).filter(|e| !e.is_empty()).and_then(|e| v.check("email", EmailAddress::parse(e)));
    if body.0.signature.as_ref().is_some_and(|s| s.len() > 200_000) {
        v.push("signature", "too_long", "the signature is too large");
    }
    v.finish().map_err(ApiError::validation)?;
    let txn = db::begin_write(&state.db).await?;
    let p = by_token(&txn, &token, Read::ForUpdate).await?;
    refuse_if_expired(&p)?;
    let new = rules::transition(status_of(&p), ProposalEvent::ClientAccepted).map_err(|r| ApiError::new(ErrorCode::InvalidStatusTransition, r))?;
    let now = OffsetDateTime::now_utc();
    let accepted_hash = proposals::accepted_content_hash(&proposals::load_api(&txn, &state.settings.public_url, &p).await?);
    let mut row: proposal::ActiveModel = p.clone().into();
    row.status_code = Set(new.code());
    row.accepted_content_hash = Set(Some(accepted_hash));
    row.accepted_name = Set(name.clone());
    row.accepted_email = Set(email.map(|e| e.into_inner()));
    row.accepted_signature = Set(body.0.signature.clone().filter(|s| !s.trim().is_empty()));
    row.accepted_at = Set(Some(now));
    row.accepted_ip = Set(peer_ip(&req));
    row.accepted_user_agent = Set(user_agent(&req));
    row.updated_at = Set(now);
    let p = row.update(&txn).await?;
    let actor = client_actor(&req);
    let mut change = Change::new("proposal.accepted", "proposal", p.id);
    change.after = Some(json!({"accepted": acceptance_of(&p)}));
    audit::record(&txn, &actor, change).await?;
    outbox::emit(&txn, "proposal.accepted", "proposal", p.id, json!({"proposal_id": p.id})).await?;
    proposals::win_opportunity(&txn, &actor, &p).await?;
    notify_owner(&txn, &p, "proposal_accepted", format!("{} was accepted", p.number), format!("{} accepted “{}”.", name.unwrap_or_default(), p.subject))
        .await?;
    let p = if settings::load(&txn).await?.estimate_auto_convert_to_invoice_on_client_accept == 1 {
        proposals::convert_in(&txn, &actor, &p, Target::Invoice).await?;
        proposal::Entity::find_by_id(p.id).one(&txn).await?.ok_or_else(|| ApiError::not_found("proposal"))?
    } else {
        p
    };
    let view = portal_view(&txn, &state.settings.public_url, &p).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Decline the proposal, optionally saying why → Declined (2); staff are notified.
#[utoipa::path(post, path = "/api/v1/portal/proposals/{token}/decline", operation_id = "declinePortalProposal", tag = "portal", params(("token" = String, Path)), request_body = DeclineInput,
    responses((status = 200, body = PortalProposal), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`proposal_expired`, `invalid_status_transition`", body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn decline(state: web::Data<AppState>, req: HttpRequest, token: web::Path<String>, body: Json<DeclineInput>) -> ApiResult<HttpResponse> {
    throttle(&state, &req)?;
    let reason = body.0.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
    if reason.as_ref().is_some_and(|r| r.chars().count() > 2000) {
        return Err(ApiError::field("reason", "too_long", "at most 2000 characters"));
    }
    let txn = db::begin_write(&state.db).await?;
    let p = by_token(&txn, &token, Read::ForUpdate).await?;
    refuse_if_expired(&p)?;
    let new = rules::transition(status_of(&p), ProposalEvent::ClientDeclined).map_err(|r| ApiError::new(ErrorCode::InvalidStatusTransition, r))?;
    let now = OffsetDateTime::now_utc();
    let mut row: proposal::ActiveModel = p.clone().into();
    row.status_code = Set(new.code());
    row.declined_reason = Set(reason.clone());
    row.declined_at = Set(Some(now));
    row.updated_at = Set(now);
    let p = row.update(&txn).await?;
    let mut change = Change::new("proposal.declined", "proposal", p.id);
    change.after = Some(json!({"reason": reason}));
    audit::record(&txn, &client_actor(&req), change).await?;
    outbox::emit(&txn, "proposal.declined", "proposal", p.id, json!({"proposal_id": p.id})).await?;
    let why = reason.map(|r| format!(" Reason: {r}")).unwrap_or_default();
    notify_owner(&txn, &p, "proposal_declined", format!("{} was declined", p.number), format!("The client declined “{}”.{why}", p.subject)).await?;
    let view = portal_view(&txn, &state.settings.public_url, &p).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The comment thread (the client's comments and staff replies), oldest first.
#[utoipa::path(get, path = "/api/v1/portal/proposals/{token}/comments", operation_id = "listPortalProposalComments", tag = "portal", params(("token" = String, Path)),
    responses((status = 200, body = Page<Comment>), (status = 403, description = "`comments_disabled`", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_comments(state: web::Data<AppState>, req: HttpRequest, token: web::Path<String>) -> ApiResult<HttpResponse> {
    throttle(&state, &req)?;
    let p = by_token(&state.db, &token, Read::Plain).await?;
    require_comments(&p)?;
    Ok(HttpResponse::Ok().json(Page { items: proposals::comments_of(&state.db, p.id).await?, next_cursor: None }))
}

/// Leave a comment; the assigned staff member is notified.
#[utoipa::path(post, path = "/api/v1/portal/proposals/{token}/comments", operation_id = "addPortalProposalComment", tag = "portal", params(("token" = String, Path)), request_body = CommentInput,
    responses((status = 201, body = Comment), (status = 403, description = "`comments_disabled`", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn add_comment(state: web::Data<AppState>, req: HttpRequest, token: web::Path<String>, body: Json<CommentInput>) -> ApiResult<HttpResponse> {
    throttle(&state, &req)?;
    let content = proposals::check_comment(&body.0)?;
    let txn = db::begin_write(&state.db).await?;
    let p = by_token(&txn, &token, Read::ForUpdate).await?;
    require_comments(&p)?;
    let author = p.recipient_name.clone().unwrap_or_else(|| "Client".into());
    let saved = proposal_comment::ActiveModel {
        proposal_id: Set(p.id),
        content: Set(content.clone()),
        staff_id: Set(None),
        author_name: Set(author.clone()),
        created_at: Set(OffsetDateTime::now_utc()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let excerpt: String = content.chars().take(200).collect();
    notify_owner(&txn, &p, "proposal_comment", format!("New comment on {}", p.number), format!("{author}: {excerpt}")).await?;
    outbox::emit(&txn, "proposal.commented", "proposal", p.id, json!({"proposal_id": p.id, "comment_id": saved.id})).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(proposals::comment_to_api(&saved)))
}

/// The proposal PDF, for the client.
#[utoipa::path(get, path = "/api/v1/portal/proposals/{token}/pdf", operation_id = "getPortalProposalPdf", tag = "portal", params(("token" = String, Path)),
    responses((status = 200, description = "application/pdf", content_type = "application/pdf"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn pdf(state: web::Data<AppState>, req: HttpRequest, token: web::Path<String>) -> ApiResult<HttpResponse> {
    throttle(&state, &req)?;
    let p = by_token(&state.db, &token, Read::Plain).await?;
    let api = proposals::load_api(&state.db, &state.settings.public_url, &p).await?;
    let company = settings::load(&state.db).await?;
    Ok(super::pdf_response(&api.number, proposals::pdf_of(&api, &company)))
}

/// The invoice as the client sees it: lines, totals, payments made and the balance due.
#[utoipa::path(get, path = "/api/v1/portal/invoices/{token}", operation_id = "getPortalInvoice", tag = "portal", params(("token" = String, Path)),
    responses((status = 200, body = crmconnect_domain::api::PortalInvoice), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn view_invoice(state: web::Data<AppState>, req: HttpRequest, token: web::Path<String>) -> ApiResult<HttpResponse> {
    use crate::entities::{payment, payment_mode};
    use sea_orm::QueryOrder;
    throttle(&state, &req)?;
    let i = invoice_by_token(&state.db, &token).await?;
    let api = crate::ops::invoices::load_api(&state.db, &state.settings.public_url, &i).await?;
    let company = settings::load(&state.db).await?;
    let billing = crate::ops::invoices::billing_config(&state.db).await?;
    let modes: std::collections::HashMap<i32, String> = payment_mode::Entity::find().all(&state.db).await?.into_iter().map(|m| (m.id, m.name)).collect();
    let payments = payment::Entity::find().filter(payment::Column::InvoiceId.eq(i.id)).order_by_asc(payment::Column::Id).all(&state.db).await?;
    let currency = crate::documents::currency_of(&i.currency);
    Ok(HttpResponse::Ok().json(crmconnect_domain::api::PortalInvoice {
        number: api.number.clone().unwrap_or_default(),
        company_name: company.company_name,
        client_name: api.client_name.clone(),
        currency: api.currency.clone(),
        date: api.date,
        due_date: api.due_date,
        lines: api.lines,
        amounts: api.amounts,
        total_paid: api.total_paid,
        balance_due: api.balance_due,
        status: api.status,
        status_code: api.status_code,
        client_note: api.client_note,
        terms: api.terms,
        payment_instructions: billing.payment_instructions,
        payments: payments
            .iter()
            .map(|p| crmconnect_domain::api::PortalPayment {
                date: p.date,
                amount: crmconnect_domain::money::from_minor(p.amount_minor, currency),
                payment_mode: p.payment_mode_id.and_then(|id| modes.get(&id).cloned()),
            })
            .collect(),
    }))
}

/// The invoice PDF, for the client.
#[utoipa::path(get, path = "/api/v1/portal/invoices/{token}/pdf", operation_id = "getPortalInvoicePdf", tag = "portal", params(("token" = String, Path)),
    responses((status = 200, description = "application/pdf", content_type = "application/pdf"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn invoice_pdf(state: web::Data<AppState>, req: HttpRequest, token: web::Path<String>) -> ApiResult<HttpResponse> {
    throttle(&state, &req)?;
    let i = invoice_by_token(&state.db, &token).await?;
    let api = crate::ops::invoices::load_api(&state.db, &state.settings.public_url, &i).await?;
    let bytes = crate::ops::invoices::pdf_of(&state.db, &api).await?;
    Ok(super::pdf_response(api.number.as_deref().unwrap_or("invoice"), bytes))
}

// ---------- contracts and online payment (the other portal pages) ----------
// Their operation ids stay those they had before moving here: generated clients name methods after them.

/// The contract as the client reads it before signing.
#[utoipa::path(get, path = "/api/v1/portal/contracts/{token}", operation_id = "getPortalContract", tag = "portal", params(("token" = String, Path)),
    responses((status = 200, body = PortalContract), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn view_contract(state: web::Data<AppState>, req: HttpRequest, token: web::Path<String>) -> ApiResult<HttpResponse> {
    super::portal::throttle(&state, &req)?;
    let c = contract_by_token(&state.db, &token, Read::Plain).await?;
    Ok(HttpResponse::Ok().json(contract_view(&state.db, &c).await?))
}

/// Sign: records the name, the signature, the time, IP, user agent and the SHA-256 of the
/// content signed; the contract becomes Active. Only a contract awaiting signature can be
/// signed: signing twice, a draft, an expired or terminated one, or one past its end date is
/// refused with 409.
#[utoipa::path(post, path = "/api/v1/portal/contracts/{token}/sign", operation_id = "signPortalContract", tag = "portal", params(("token" = String, Path)), request_body = SignInput,
    responses((status = 200, body = PortalContract), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_done`, `invalid_status_transition`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn sign_contract(state: web::Data<AppState>, req: HttpRequest, token: web::Path<String>, body: Json<SignInput>) -> ApiResult<HttpResponse> {
    super::portal::throttle(&state, &req)?;
    let mut v = Validator::new();
    let name = v.check("name", parse_name(&body.0.name, 200));
    if body.0.signature.trim().is_empty() {
        v.push("signature", "required", "type your name or draw a signature");
    }
    if body.0.signature.len() > 200_000 {
        v.push("signature", "too_long", "the signature is too large");
    }
    v.finish().map_err(ApiError::validation)?;
    let txn = db::begin_write(&state.db).await?;
    let c = contract_by_token(&txn, &token, Read::ForUpdate).await?;
    refuse_unless_signable(&txn, &c).await?;
    let now = OffsetDateTime::now_utc();
    let mut row: contract::ActiveModel = c.clone().into();
    row.signed_name = Set(name);
    row.signature = Set(Some(body.0.signature.clone()));
    row.signed_at = Set(Some(now));
    row.signed_ip = Set(peer_ip(&req));
    row.signed_user_agent = Set(req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|s| s.chars().take(500).collect()));
    row.signed_content_hash = Set(Some(content_hash(&c.content)));
    if let Some(active) = status_named(&txn, "Active").await? {
        row.status_id = Set(Some(active));
    }
    row.updated_at = Set(now);
    let saved = row.update(&txn).await?;
    let mut change = Change::new("contract.signed", "contract", saved.id);
    change.after = Some(json!({"signature": signature_of(&saved)}));
    audit::record(&txn, &Actor { ip: peer_ip(&req), ..Actor::system() }, change).await?;
    outbox::emit(&txn, "contract.signed", "contract", saved.id, json!({"contract_id": saved.id})).await?;
    if let Some(staff_id) = saved.created_by {
        let notice = crate::notifications::Notice {
            kind: "contract_signed",
            title: format!("“{}” was signed", saved.subject),
            body: format!("Signed by {}.", saved.signed_name.clone().unwrap_or_default()),
            link: Some(format!("/admin/contracts/{}", saved.id)),
            entity: Some(("contract", saved.id)),
        };
        crate::notifications::notify(&txn, staff_id, notice).await?;
    }
    let view = contract_view(&txn, &saved).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Start a card payment of the balance due: answers the gateway's checkout URL.
#[utoipa::path(post, path = "/api/v1/portal/invoices/{token}/pay", operation_id = "payPortalInvoice", tag = "portal", params(("token" = String, Path)),
    responses((status = 200, body = CheckoutStarted), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status_transition` (nothing to pay)", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "`gateway_error`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`payments_unavailable`", body = Problem, content_type = "application/problem+json")))]
pub async fn pay_invoice(state: web::Data<AppState>, req: HttpRequest, token: web::Path<String>) -> ApiResult<HttpResponse> {
    throttle(&state, &req)?;
    let gw = super::gateway::settings_of(&state)?;
    let inv = invoice_by_token(&state.db, &token).await?;
    let balance_minor = inv.total_minor - inv.paid_minor;
    if inv.status_code == 5 || balance_minor <= 0 {
        return Err(ApiError::new(ErrorCode::InvalidStatusTransition, "Nothing is due on this invoice."));
    }
    let number = inv.number.clone().unwrap_or_default();
    let back = format!("{}/invoice/{}", state.settings.public_url, token.as_str());
    let invoice_id = inv.id.to_string();
    let amount = balance_minor.to_string();
    let currency = inv.currency.to_lowercase();
    let name = format!("Invoice {number}");
    let form: Vec<(&str, &str)> = vec![
        ("mode", "payment"),
        ("success_url", &back),
        ("cancel_url", &back),
        ("client_reference_id", &invoice_id),
        ("metadata[invoice_id]", &invoice_id),
        ("line_items[0][quantity]", "1"),
        ("line_items[0][price_data][currency]", &currency),
        ("line_items[0][price_data][unit_amount]", &amount),
        ("line_items[0][price_data][product_data][name]", &name),
    ];
    let response = reqwest::Client::new()
        .post(format!("{}/v1/checkout/sessions", gw.base_url))
        .bearer_auth(&gw.api_key)
        .form(&form)
        .timeout(std::time::Duration::from_secs(20))
        .send()
        .await
        .map_err(|e| ApiError::new(ErrorCode::GatewayError, format!("The payment gateway could not be reached ({e}).")))?;
    if !response.status().is_success() {
        tracing::warn!(status = %response.status(), "checkout session refused by the gateway");
        return Err(ApiError::new(ErrorCode::GatewayError, format!("The payment gateway answered {}.", response.status())));
    }
    let session: Session = response.json().await.map_err(|e| ApiError::new(ErrorCode::GatewayError, format!("Unexpected gateway answer: {e}")))?;
    let url = session.url.ok_or_else(|| ApiError::new(ErrorCode::GatewayError, "The gateway gave no checkout URL."))?;
    Ok(HttpResponse::Ok().json(CheckoutStarted { checkout_url: url, session_id: session.id }))
}
