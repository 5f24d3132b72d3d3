//! Proposals: `/api/v1/proposals` — create (from a lead, opportunity or client, optionally from
//! a template), edit, list with the guide's filters, status changes, sending by e-mail, PDF,
//! comments, the portal token, and conversion to an invoice or a sales order.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use crmconnect_domain::api::{
    Comment, CommentInput, Invoice, Page, Problem, Proposal, ProposalInput, ProposalStatusInput, SalesOrder, SendInput, SendResult, SentEmail,
};
use crmconnect_domain::permissions::{Action, Module, ViewScope};
use crmconnect_domain::proposals::{self as rules, ProposalEvent, ProposalStatus};
use crmconnect_domain::validation::{parse_name, Validator};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, Order, QueryFilter, QueryOrder};
use serde::Deserialize;
use serde_json::json;
use time::{Date, OffsetDateTime};
use utoipa::IntoParams;

use super::pdf_response;
use crate::audit::{self, Change};
use crate::auth::{secrets, AuthUser};
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::documents::today;
use crate::documents::{self, PROPOSAL};
use crate::entities::{email_outbox, proposal, proposal_comment};
use crate::extract::Json;
use crate::ops::proposals::*;
use crate::pagination::SinceParams;
use crate::pagination::{finish_page, Keys, PageParams};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;
use crate::{custom_fields, db, email, outbox, settings};

/// Create a proposal from a lead, opportunity or client (their contact data is copied),
/// optionally starting from a template. Starts as Draft (6) with the next number.
#[utoipa::path(post, path = "/api/v1/proposals", operation_id = "createProposal", tag = "proposals", security(("bearer" = [])), request_body = ProposalInput,
    responses((status = 201, body = Proposal), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<ProposalInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Proposals, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let (fields, custom) = resolve(&txn, &user, None, &body.0).await?;
    let settings = settings::load(&txn).await?;
    let number =
        rules::format_number(&settings.proposal_number_prefix, documents::next_number(&txn, "proposal").await?, settings.proposal_number_padding as usize);
    let now = OffsetDateTime::now_utc();
    let mut row = proposal::ActiveModel {
        number: Set(number),
        status_code: Set(ProposalStatus::Draft.code()),
        portal_token: Set(Some(secrets::random_secret())),
        invoice_id: Set(None),
        sales_order_id: Set(None),
        accepted_name: Set(None),
        accepted_email: Set(None),
        accepted_signature: Set(None),
        accepted_at: Set(None),
        accepted_ip: Set(None),
        accepted_user_agent: Set(None),
        declined_reason: Set(None),
        declined_at: Set(None),
        sent_at: Set(None),
        viewed_at: Set(None),
        created_by: Set(Some(user.id())),
        created_at: Set(now),
        ..Default::default()
    };
    write(&mut row, &fields);
    let saved = row.insert(&txn).await?;
    documents::save_lines(&txn, PROPOSAL, saved.id, &fields.lines).await?;
    custom_fields::save(&txn, saved.id, custom).await?;
    let api = load_api(&txn, &state.settings.public_url, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("proposal.created", "proposal", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Get a proposal with its lines and every computed amount. Staff reading it never marks it viewed.
#[utoipa::path(get, path = "/api/v1/proposals/{id}", operation_id = "getProposal", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Proposal), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let p = find_visible(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(load_api(&state.db, &state.settings.public_url, &p).await?))
}

/// Change a proposal: the fields sent change; `lines` replaces every line. Accepted or
/// converted proposals keep their lines, currency and discount (409 `proposal_locked`).
#[utoipa::path(patch, path = "/api/v1/proposals/{id}", operation_id = "updateProposal", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader),
    request_body = ProposalInput,
    responses((status = 200, body = Proposal), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`proposal_locked`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, if_match: IfMatch, body: Json<ProposalInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Proposals, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    let before = load_api(&txn, &state.settings.public_url, &current).await?;
    if_match.check(&before)?;
    let (fields, custom) = resolve(&txn, &user, Some(&current), &body.0).await?;
    let mut row: proposal::ActiveModel = current.clone().into();
    write(&mut row, &fields);
    let saved = row.update(&txn).await?;
    if body.0.lines.is_some() {
        documents::save_lines(&txn, PROPOSAL, saved.id, &fields.lines).await?;
    }
    custom_fields::save(&txn, saved.id, custom).await?;
    let after = load_api(&txn, &state.settings.public_url, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("proposal.updated", "proposal", saved.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Delete a proposal that was not converted.
#[utoipa::path(delete, path = "/api/v1/proposals/{id}", operation_id = "deleteProposal", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`proposal_locked` (converted)", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Proposals, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    if current.invoice_id.is_some() || current.sales_order_id.is_some() {
        return Err(ApiError::new(ErrorCode::ProposalLocked, "A converted proposal is part of the invoice's history and cannot be deleted."));
    }
    let before = load_api(&txn, &state.settings.public_url, &current).await?;
    documents::save_lines(&txn, PROPOSAL, current.id, &[]).await?;
    // Recorded first: the feed's deletion event names who the record was visible to as theirs.
    audit::record(&txn, &user.actor(), Change::new("proposal.deleted", "proposal", current.id).before(&before)).await?;
    proposal::Entity::delete_by_id(current.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProposalFilter {
    /// Codes or names, comma-separated or repeated: `?status=4`, `?status=sent,viewed`.
    /// (Read from the raw query string, where a key may repeat.)
    #[serde(skip_deserializing)]
    pub status: Option<String>,
    /// `true`: past `open_till` and unanswered; `false`: not expired.
    pub expired: Option<bool>,
    pub lead_id: Option<i32>,
    pub opportunity_id: Option<i32>,
    pub client_id: Option<i32>,
    /// `me`, `none` or a staff id.
    pub assigned: Option<String>,
    /// Proposal date from (inclusive), `YYYY-MM-DD`.
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub date_from: Option<Date>,
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub date_to: Option<Date>,
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub open_till_from: Option<Date>,
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub open_till_to: Option<Date>,
    /// Search in number, subject and recipient.
    pub q: Option<String>,
}

fn statuses_from_query(req: &HttpRequest) -> ApiResult<Vec<ProposalStatus>> {
    crate::pagination::repeated_param(req.query_string(), "status")
        .iter()
        .map(|raw| ProposalStatus::parse(raw).map_err(|e| ApiError::field_query("status", e)))
        .collect()
}

/// List proposals, newest first, with the guide's filters (`?status=4` = sent, awaiting answer).
#[utoipa::path(get, path = "/api/v1/proposals", operation_id = "listProposals", tag = "proposals", security(("bearer" = [])),
    params(("status" = Option<String>, Query, description = "The guide's status codes or names, repeated or comma-separated (`?status=4`, `?status=sent,open`)."), ProposalFilter, PageParams),
    responses((status = 200, body = Page<Proposal>), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    filter: web::Query<ProposalFilter>,
    page: web::Query<PageParams>,
    custom: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Proposals)?;
    let page = page.parse()?;
    let statuses = statuses_from_query(&req)?;
    let mut q = page.select(
        proposal::Entity::find().filter(custom_fields::filter(&state.db, custom_fields::PROPOSAL, proposal::Column::Id, &custom).await?),
        Keys { id: proposal::Column::Id, created_at: proposal::Column::CreatedAt, updated_at: proposal::Column::UpdatedAt },
        Order::Desc,
    );
    if let ViewScope::Own(me) = scope {
        q = q.filter(Condition::any().add(proposal::Column::AssignedTo.eq(me)).add(proposal::Column::CreatedBy.eq(me)));
    }
    if !statuses.is_empty() {
        q = q.filter(proposal::Column::StatusCode.is_in(statuses.iter().map(|s| s.code())));
    }
    let today = today();
    let answered = [ProposalStatus::Accepted.code(), ProposalStatus::Declined.code()];
    match filter.expired {
        Some(true) => q = q.filter(proposal::Column::OpenTill.lt(today)).filter(proposal::Column::StatusCode.is_not_in(answered)),
        Some(false) => {
            q = q.filter(
                Condition::any()
                    .add(proposal::Column::OpenTill.is_null())
                    .add(proposal::Column::OpenTill.gte(today))
                    .add(proposal::Column::StatusCode.is_in(answered)),
            )
        }
        None => {}
    }
    if let Some(id) = filter.lead_id.or(filter.opportunity_id) {
        q = q.filter(proposal::Column::LeadId.eq(id));
    }
    if let Some(id) = filter.client_id {
        q = q.filter(proposal::Column::ClientId.eq(id));
    }
    if let Some(cond) = crate::ops::leads::assigned_condition(filter.assigned.as_deref(), &user, proposal::Column::AssignedTo)? {
        q = q.filter(cond);
    }
    for (col, bound, from) in [
        (proposal::Column::Date, filter.date_from, true),
        (proposal::Column::Date, filter.date_to, false),
        (proposal::Column::OpenTill, filter.open_till_from, true),
        (proposal::Column::OpenTill, filter.open_till_to, false),
    ] {
        if let Some(d) = bound {
            q = q.filter(if from { col.gte(d) } else { col.lte(d) });
        }
    }
    if let Some(text) = filter.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = format!("%{}%", text.to_lowercase());
        let like = |c: proposal::Column| Expr::expr(Func::lower(Expr::col(c))).like(pattern.clone());
        q = q.filter(Condition::any().add(like(proposal::Column::Number)).add(like(proposal::Column::Subject)).add(like(proposal::Column::RecipientName)));
    }
    let (rows, next_cursor) = finish_page(q.all(&state.db).await?, page, |p| (p.id, p.updated_at));
    Ok(HttpResponse::Ok().json(Page { items: load_many(&state.db, &state.settings.public_url, &rows).await?, next_cursor }))
}

/// Set the status by hand: 7 marks it sent without e-mail; 3/2 record the client's answer
/// given by phone; 5 revised; 6 back to draft. Sent (4) and Viewed (1) are facts set by
/// sending and by the client, so they are refused here (409 `invalid_status_transition`).
#[utoipa::path(post, path = "/api/v1/proposals/{id}/status", operation_id = "setProposalStatus", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = ProposalStatusInput,
    responses((status = 200, body = Proposal), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status_transition`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn set_status(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<ProposalStatusInput>) -> ApiResult<HttpResponse> {
    let to = ProposalStatus::parse(&body.0.status.as_text()).map_err(|e| ApiError::field("status", e.code, e.message))?;
    // "Sent manually" is sending by other means: the `send` permission covers it (the guide's
    // agent sends proposals but does not edit them); every other hand-set status needs `edit`.
    if to == ProposalStatus::SentManually {
        user.require_any(Module::Proposals, &[Action::Edit, Action::Send])?;
    } else {
        user.require(Module::Proposals, Action::Edit)?;
    }
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    let before = load_api(&txn, &state.settings.public_url, &current).await?;
    let new = rules::transition(status_of(&current), ProposalEvent::Manual(to)).map_err(transition_error)?;
    let now = OffsetDateTime::now_utc();
    let mut row: proposal::ActiveModel = current.into();
    row.status_code = Set(new.code());
    match new {
        ProposalStatus::Accepted => {
            row.accepted_content_hash = Set(Some(accepted_content_hash(&before)));
            row.accepted_name = Set(Some(user.staff.name.clone()));
            row.accepted_email = Set(Some(user.staff.email.clone()));
            row.accepted_at = Set(Some(now));
            row.accepted_ip = Set(user.ip.clone());
        }
        ProposalStatus::Declined => row.declined_at = Set(Some(now)),
        ProposalStatus::SentManually => row.sent_at = Set(Some(now)),
        _ => {}
    }
    row.updated_at = Set(now);
    let saved = row.update(&txn).await?;
    let after = load_api(&txn, &state.settings.public_url, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("proposal.status_changed", "proposal", saved.id).before(&before).after(&after)).await?;
    if new == ProposalStatus::Accepted {
        win_opportunity(&txn, &user.actor(), &saved).await?;
    }
    outbox::emit(&txn, "proposal.status_changed", "proposal", saved.id, json!({"proposal_id": saved.id, "from": before.status_code, "to": new.code()})).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// E-mail the proposal with its portal link (and PDF if asked), through the outbox; Draft,
/// Revised and Sent manually become Sent (4). Answers once the e-mail is safely queued.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/send", operation_id = "sendProposal", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = SendInput,
    responses((status = 200, body = SendResult), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status_transition`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn send(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<SendInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Proposals, Action::Send)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    let new = rules::transition(status_of(&current), ProposalEvent::SentByEmail).map_err(transition_error)?;
    let before = load_api(&txn, &state.settings.public_url, &current).await?;
    let body = body.0;
    let mut v = Validator::new();
    let to = match body.to {
        Some(list) => addresses(&mut v, "to", list.into_vec()),
        None => current.recipient_email.clone().into_iter().collect(),
    };
    if to.is_empty() {
        v.push("to", "required", "the proposal has no recipient e-mail; give `to`");
    }
    let cc = addresses(&mut v, "cc", body.cc.map(|c| c.into_vec()).unwrap_or_default());
    let subject_override = body.subject.as_deref().and_then(|s| v.check("subject", parse_name(s, 500)));
    if body.message.as_ref().is_some_and(|m| m.chars().count() > 10_000) {
        v.push("message", "too_long", "at most 10000 characters");
    }
    v.finish().map_err(ApiError::validation)?;

    let now = OffsetDateTime::now_utc();
    let mut row: proposal::ActiveModel = current.clone().into();
    // Sending needs a link: a revoked token is replaced.
    let token = match current.portal_token.clone() {
        Some(t) => t,
        None => {
            let t = secrets::random_secret();
            row.portal_token = Set(Some(t.clone()));
            t
        }
    };
    row.status_code = Set(new.code());
    row.sent_at = Set(Some(now));
    row.updated_at = Set(now);
    let saved = row.update(&txn).await?;
    let api = load_api(&txn, &state.settings.public_url, &saved).await?;

    let company = settings::load(&txn).await?;
    let template = email::template(&txn, "proposal_send").await?;
    let context = json!({
        "proposal": {
            "number": api.number, "subject": api.subject, "total": api.amounts.total.to_string(), "currency": api.currency,
            "open_till": api.open_till.map(|d| d.to_string()), "link": portal_url(&state.settings.public_url, &token),
        },
        "recipient": {"name": api.recipient.name.clone().unwrap_or_default(), "email": api.recipient.email},
        "staff": {"name": user.staff.name, "email": user.staff.email},
        "company": {"name": company.company_name},
        "message": body.message.unwrap_or_default(),
    });
    let subject = match subject_override {
        Some(s) => s,
        None => email::render(&template.subject, &context)?.trim().to_string(),
    };
    let text = email::render(&template.body, &context)?;
    let attachment = body.attach_pdf.then(|| (format!("{}.pdf", api.number), pdf_of(&api, &company)));
    let queued = email::queue(
        &txn,
        email::Outgoing {
            related: Some((PROPOSAL, saved.id)),
            from: company.company_email.clone(),
            from_name: company.company_name.clone(),
            to,
            cc,
            subject,
            text,
            attachment,
            created_by: Some(user.id()),
        },
    )
    .await?;
    audit::record(&txn, &user.actor(), Change::new("proposal.sent", "proposal", saved.id).before(&before).after(&api)).await?;
    outbox::emit(&txn, "proposal.sent", "proposal", saved.id, json!({"proposal_id": saved.id, "email_id": queued.id})).await?;
    txn.commit().await?;
    state.email_wakeup.notify_one();
    Ok(HttpResponse::Ok().json(SendResult { proposal: api, email: email::to_api(&queued) }))
}

/// The e-mails sent (or queued) for this proposal, newest first, with delivery status.
#[utoipa::path(get, path = "/api/v1/proposals/{id}/emails", operation_id = "listProposalEmails", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path), SinceParams),
    responses((status = 200, body = Page<SentEmail>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn emails(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, since: web::Query<SinceParams>) -> ApiResult<HttpResponse> {
    let p = find_visible(&state.db, &user, *id).await?;
    let rows = email_outbox::Entity::find()
        .filter(email_outbox::Column::RelatedType.eq(PROPOSAL))
        .filter(email_outbox::Column::RelatedId.eq(p.id))
        .filter(since.condition(email_outbox::Column::CreatedAt, email_outbox::Column::UpdatedAt)?)
        .order_by_desc(email_outbox::Column::Id)
        .all(&state.db)
        .await?;
    Ok(HttpResponse::Ok().json(Page { items: rows.iter().map(email::to_api).collect::<Vec<_>>(), next_cursor: None }))
}

/// The proposal as a printable PDF (text is selectable and searchable).
#[utoipa::path(get, path = "/api/v1/proposals/{id}/pdf", operation_id = "getProposalPdf", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, description = "application/pdf", content_type = "application/pdf"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn pdf(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let p = find_visible(&state.db, &user, *id).await?;
    let api = load_api(&state.db, &state.settings.public_url, &p).await?;
    let company = settings::load(&state.db).await?;
    Ok(pdf_response(&api.number, pdf_of(&api, &company)))
}

/// The comment thread with the client, oldest first.
#[utoipa::path(get, path = "/api/v1/proposals/{id}/comments", operation_id = "listProposalComments", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path), SinceParams),
    responses((status = 200, body = Page<Comment>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_comments(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, since: web::Query<SinceParams>) -> ApiResult<HttpResponse> {
    let p = find_visible(&state.db, &user, *id).await?;
    // Comments are never edited: their creation is their last change.
    let changed = since.condition(proposal_comment::Column::CreatedAt, proposal_comment::Column::CreatedAt)?;
    Ok(HttpResponse::Ok().json(Page { items: comments_where(&state.db, p.id, changed).await?, next_cursor: None }))
}

/// Reply to the client; the reply shows on the portal.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/comments", operation_id = "addProposalComment", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = CommentInput,
    responses((status = 201, body = Comment), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn add_comment(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<CommentInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Proposals, Action::Edit)?;
    let content = check_comment(&body.0)?;
    let txn = db::begin_write(&state.db).await?;
    let p = lock_visible(&txn, &user, *id).await?;
    let saved = proposal_comment::ActiveModel {
        proposal_id: Set(p.id),
        content: Set(content),
        staff_id: Set(Some(user.id())),
        author_name: Set(user.staff.name.clone()),
        created_at: Set(OffsetDateTime::now_utc()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let api = comment_to_api(&saved);
    audit::record(&txn, &user.actor(), Change::new("proposal.comment_added", "proposal", p.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Issue a new portal link; the old one stops working at once.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/portal-token", operation_id = "regenerateProposalPortalToken", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Proposal), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn regenerate_token(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    set_token(state, user, *id, Some(secrets::random_secret())).await
}

/// Revoke the portal link (the client sees "not found"); sending issues a new one.
#[utoipa::path(delete, path = "/api/v1/proposals/{id}/portal-token", operation_id = "revokeProposalPortalToken", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Proposal), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_token(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    set_token(state, user, *id, None).await
}

async fn set_token(state: web::Data<AppState>, user: AuthUser, id: i32, token: Option<String>) -> ApiResult<HttpResponse> {
    user.require(Module::Proposals, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, id).await?;
    let action = if token.is_some() { "proposal.portal_token_regenerated" } else { "proposal.portal_token_revoked" };
    let mut row: proposal::ActiveModel = current.into();
    row.portal_token = Set(token);
    row.updated_at = Set(OffsetDateTime::now_utc());
    let saved = row.update(&txn).await?;
    // The audit entry names the action only: tokens never go into the log.
    audit::record(&txn, &user.actor(), Change::new(action, "proposal", saved.id)).await?;
    let api = load_api(&txn, &state.settings.public_url, &saved).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(api))
}

/// Convert an accepted proposal into a draft invoice with identical lines and totals.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/convert-to-invoice", operation_id = "convertProposalToInvoice", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 201, body = Invoice), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`proposal_not_accepted`, `already_converted`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: the proposal has no client or lead to bill (`client_id`)", body = Problem, content_type = "application/problem+json")))]
pub async fn convert_to_invoice(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    // Converting needs `create` on what it creates and sight of the proposal — not `edit` on
    // proposals: the guide's sales agent converts the proposals they won.
    user.require(Module::Invoices, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let p = lock_visible(&txn, &user, *id).await?;
    let invoice_id = convert_in(&txn, &user.actor(), &p, Target::Invoice).await?;
    let invoice = crate::ops::invoices::load(&txn, &state.settings.public_url, invoice_id).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(invoice))
}

/// Convert an accepted proposal into a draft sales order with identical lines and totals.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/convert-to-sales-order", operation_id = "convertProposalToSalesOrder", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 201, body = SalesOrder), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`proposal_not_accepted`, `already_converted`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: the proposal has no client or lead to bill (`client_id`)", body = Problem, content_type = "application/problem+json")))]
pub async fn convert_to_sales_order(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::SalesOrders, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let p = lock_visible(&txn, &user, *id).await?;
    let order_id = convert_in(&txn, &user.actor(), &p, Target::SalesOrder).await?;
    let order = crate::ops::sales_orders::load_sales_order(&txn, order_id).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(order))
}
