//! Invoices: `/api/v1/invoices` — drafts, issuing (gap-free numbers), cancel/uncancel, the
//! list with the guide's filters and per-currency totals, PDF, sending, and the billing
//! configuration. Status is the domain's pure function of the invoice, its payments and today,
//! computed on every read; list filters apply the same rule in SQL.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use crmconnect_domain::api::{BillingConfig, BillingConfigPatch, CurrencyTotals, Invoice, InvoiceInput, InvoicePage, Page, Problem, SendInput, SentEmail};
use crmconnect_domain::invoices::InvoiceStatus;
use crmconnect_domain::money::{self};
use crmconnect_domain::permissions::{Action, Module, ViewScope};
use crmconnect_domain::validation::{parse_name, EmailAddress, Validator};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use time::{Date, OffsetDateTime};
use utoipa::IntoParams;

use super::pdf_response;
use crate::audit::{self, Change};
use crate::auth::{secrets, AuthUser};
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::documents::{self, INVOICE};
use crate::documents::{currency_of, today};
use crate::entities::{app_setting, client, email_outbox, invoice};
use crate::extract::Json;
use crate::ops::invoices::*;
use crate::pagination::SinceParams;
use crate::pagination::{finish_page, Keys, PageParams};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;
use crate::{custom_fields, db, email};

/// Invoice numbering and defaults (settings: view).
#[utoipa::path(get, path = "/api/v1/billing/config", operation_id = "getBillingConfig", tag = "invoices", security(("bearer" = [])),
    responses((status = 200, body = BillingConfig), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn get_billing(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    user.view_scope(Module::Settings)?;
    Ok(HttpResponse::Ok().json(billing_config(&state.db).await?))
}

/// Change numbering and defaults (settings: edit). `next_number` may only move forward.
#[utoipa::path(patch, path = "/api/v1/billing/config", operation_id = "updateBillingConfig", tag = "invoices", security(("bearer" = [])), params(IfMatchHeader), request_body = BillingConfigPatch,
    responses((status = 200, body = BillingConfig), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_billing(state: web::Data<AppState>, user: AuthUser, if_match: IfMatch, body: Json<BillingConfigPatch>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let b = body.0;
    let txn = db::begin_write(&state.db).await?;
    db::lock_document(&txn, "billing_config").await?;
    let before = billing_config(&txn).await?;
    if_match.check(&before)?;
    let mut v = Validator::new();
    if b.prefix.as_ref().is_some_and(|p| p.chars().count() > 20) {
        v.push("prefix", "too_long", "at most 20 characters");
    }
    if b.padding.is_some_and(|p| p > 12) {
        v.push("padding", "out_of_range", "between 0 and 12 digits");
    }
    if b.default_due_days.is_some_and(|d| d > 365) {
        v.push("default_due_days", "out_of_range", "between 0 and 365 days");
    }
    if b.overdue_reminder_after_days.is_some_and(|d| d > 365) || b.overdue_reminder_every_days.is_some_and(|d| d > 365) {
        v.push("overdue_reminder_after_days", "out_of_range", "between 0 and 365 days");
    }
    if b.payment_instructions.as_ref().is_some_and(|p| p.chars().count() > 2000) {
        v.push("payment_instructions", "too_long", "at most 2000 characters");
    }
    if let Some(series) = &b.series {
        let ok = !series.is_empty() && series.len() <= 20 && series.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            v.push("series", "invalid", "1 to 20 letters, digits, - or _");
        }
    }
    let format = b.format.unwrap_or(before.format);
    let series = b.series.clone().unwrap_or_else(|| before.series.clone());
    let sequence = sequence_name(&series, format, today().year());
    if let Some(n) = b.next_number {
        let current = current_sequence_value(&txn, &sequence).await?;
        if n < current {
            v.push("next_number", "backwards", format!("numbers up to {} may already be given; use {current} or more", current - 1));
        }
    }
    v.finish().map_err(ApiError::validation)?;
    let now = OffsetDateTime::now_utc();
    let serde_json::Value::Object(sent) = serde_json::to_value(&b).map_err(ApiError::internal)? else { unreachable!() };
    for (key, value) in sent.into_iter().filter(|(k, v)| !v.is_null() && k != "next_number") {
        app_setting::Entity::insert(app_setting::ActiveModel { key: Set(format!("{BILLING}{key}")), value: Set(value.to_string()), updated_at: Set(now) })
            .on_conflict(
                sea_orm::sea_query::OnConflict::column(app_setting::Column::Key)
                    .update_columns([app_setting::Column::Value, app_setting::Column::UpdatedAt])
                    .to_owned(),
            )
            .exec(&txn)
            .await?;
    }
    if let Some(n) = b.next_number {
        documents::set_sequence(&txn, &sequence, n).await?;
    }
    let after = billing_config(&txn).await?;
    let mut change = Change::new("billing.updated", "settings", 0).before(&before).after(&after);
    change.entity_id = None;
    audit::record(&txn, &user.actor(), change).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Create a draft invoice (no number until issued).
#[utoipa::path(post, path = "/api/v1/invoices", operation_id = "createInvoice", tag = "invoices", security(("bearer" = [])), request_body = InvoiceInput,
    responses((status = 201, body = Invoice), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<InvoiceInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Invoices, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let fields = resolve(&txn, &user, None, &body.0).await?;
    let now = OffsetDateTime::now_utc();
    let mut row = invoice::ActiveModel {
        number: Set(None),
        status_code: Set(InvoiceStatus::Draft.code()),
        proposal_id: Set(None),
        sales_order_id: Set(None),
        paid_minor: Set(0),
        portal_token: Set(Some(secrets::random_secret())),
        issued_at: Set(None),
        sent_at: Set(None),
        created_by: Set(Some(user.id())),
        created_at: Set(now),
        ..Default::default()
    };
    write(&mut row, &fields);
    let saved = row.insert(&txn).await?;
    documents::save_lines(&txn, INVOICE, saved.id, &fields.lines).await?;
    custom_fields::save(&txn, saved.id, fields.custom).await?;
    let api = load_api(&txn, &state.settings.public_url, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("invoice.created", "invoice", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// An invoice with lines, amounts, payments total, status and lateness.
#[utoipa::path(get, path = "/api/v1/invoices/{id}", operation_id = "getInvoice", tag = "invoices", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Invoice), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let i = find_visible(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(load_api(&state.db, &state.settings.public_url, &i).await?))
}

/// Change an invoice. Lines, client, currency and discount are locked once payments exist
/// (409 `invoice_locked`); a cancelled invoice is locked entirely.
#[utoipa::path(patch, path = "/api/v1/invoices/{id}", operation_id = "updateInvoice", tag = "invoices", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader), request_body = InvoiceInput,
    responses((status = 200, body = Invoice), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invoice_locked`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, if_match: IfMatch, body: Json<InvoiceInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Invoices, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    let before = load_api(&txn, &state.settings.public_url, &current).await?;
    if_match.check(&before)?;
    let fields = resolve(&txn, &user, Some(&current), &body.0).await?;
    let mut row: invoice::ActiveModel = current.into();
    write(&mut row, &fields);
    let saved = row.update(&txn).await?;
    if body.0.lines.is_some() {
        documents::save_lines(&txn, INVOICE, saved.id, &fields.lines).await?;
    }
    custom_fields::save(&txn, saved.id, fields.custom).await?;
    let after = load_api(&txn, &state.settings.public_url, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("invoice.updated", "invoice", saved.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Delete a draft. Issued invoices keep their number forever (cancel them instead).
#[utoipa::path(delete, path = "/api/v1/invoices/{id}", operation_id = "deleteInvoice", tag = "invoices", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invoice_locked`", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Invoices, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    if current.number.is_some() {
        return Err(ApiError::new(ErrorCode::InvoiceLocked, "An issued invoice keeps its number; cancel it instead of deleting it."));
    }
    let before = load_api(&txn, &state.settings.public_url, &current).await?;
    documents::save_lines(&txn, INVOICE, current.id, &[]).await?;
    // A proposal converted into this draft can be converted again.
    crate::entities::proposal::Entity::update_many()
        .col_expr(crate::entities::proposal::Column::InvoiceId, Expr::value(Option::<i32>::None))
        .filter(crate::entities::proposal::Column::InvoiceId.eq(current.id))
        .exec(&txn)
        .await?;
    // Recorded first: the feed's deletion event names who the record was visible to as theirs.
    audit::record(&txn, &user.actor(), Change::new("invoice.deleted", "invoice", current.id).before(&before)).await?;
    invoice::Entity::delete_by_id(current.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Issue a draft: it gets the next number of its series and becomes Unpaid (1).
#[utoipa::path(post, path = "/api/v1/invoices/{id}/issue", operation_id = "issueInvoice", tag = "invoices", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Invoice), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status_transition` (not a draft)", body = Problem, content_type = "application/problem+json")))]
pub async fn issue(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require_any(Module::Invoices, &[Action::Edit, Action::Create])?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    require_own_unless(&user, &current, Action::Edit)?;
    let saved = issue_in(&txn, &user.actor(), &current).await?;
    let api = load_api(&txn, &state.settings.public_url, &saved).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(api))
}

/// Cancel (5). Refused while payments exist (409 `invoice_has_payments`): remove them first.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/cancel", operation_id = "cancelInvoice", tag = "invoices", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Invoice), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invoice_has_payments`, `invalid_status_transition`", body = Problem, content_type = "application/problem+json")))]
pub async fn cancel(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    set_cancelled(state, user, *id, true).await
}

/// Undo a cancellation: the status is computed again.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/uncancel", operation_id = "uncancelInvoice", tag = "invoices", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Invoice), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status_transition`", body = Problem, content_type = "application/problem+json")))]
pub async fn uncancel(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    set_cancelled(state, user, *id, false).await
}

async fn set_cancelled(state: web::Data<AppState>, user: AuthUser, id: i32, cancel: bool) -> ApiResult<HttpResponse> {
    user.require(Module::Invoices, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, id).await?;
    let cancelled = current.status_code == InvoiceStatus::Cancelled.code();
    if cancel && cancelled || !cancel && !cancelled {
        return Err(ApiError::new(
            ErrorCode::InvalidStatusTransition,
            if cancel { "The invoice is already cancelled." } else { "The invoice is not cancelled." },
        ));
    }
    if cancel && current.paid_minor > 0 {
        return Err(ApiError::new(ErrorCode::InvoiceHasPayments, "Payments were recorded on this invoice; delete them before cancelling it."));
    }
    let before = load_api(&txn, &state.settings.public_url, &current).await?;
    let back_to = if current.number.is_some() { ISSUED } else { InvoiceStatus::Draft.code() };
    let mut row: invoice::ActiveModel = current.into();
    row.status_code = Set(if cancel { InvoiceStatus::Cancelled.code() } else { back_to });
    row.updated_at = Set(OffsetDateTime::now_utc());
    let saved = row.update(&txn).await?;
    let after = load_api(&txn, &state.settings.public_url, &saved).await?;
    let action = if cancel { "invoice.cancelled" } else { "invoice.uncancelled" };
    audit::record(&txn, &user.actor(), Change::new(action, "invoice", saved.id).before(&before).after(&after)).await?;
    crate::outbox::emit(&txn, action, "invoice", saved.id, serde_json::json!({"invoice_id": saved.id, "status_code": after.status_code})).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

// ---------- list ----------

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceFilter {
    /// Codes or names, comma-separated or repeated. `4` (overdue) lists every issued invoice
    /// with a balance past its due date, partially paid ones included.
    #[serde(skip_deserializing)]
    pub status: Option<String>,
    pub client_id: Option<i32>,
    /// Sale agent: `me`, `none` or a staff id.
    pub agent: Option<String>,
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub date_from: Option<Date>,
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub date_to: Option<Date>,
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub due_from: Option<Date>,
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub due_to: Option<Date>,
    /// Search in the number and the client's company name.
    pub q: Option<String>,
}

fn statuses_from_query(req: &HttpRequest) -> ApiResult<Vec<InvoiceStatus>> {
    crate::pagination::repeated_param(req.query_string(), "status")
        .iter()
        .map(|raw| InvoiceStatus::parse(raw).map_err(|e| ApiError::field_query("status", e)))
        .collect()
}

/// List invoices, newest first, with the guide's filters (`?status=4` = overdue) and the
/// totals of the whole filtered set per currency.
#[utoipa::path(get, path = "/api/v1/invoices", operation_id = "listInvoices", tag = "invoices", security(("bearer" = [])),
    params(("status" = Option<String>, Query, description = "Status codes or names, repeated or comma-separated: `1` unpaid, `2` paid, `3` partially paid, `4` overdue, `5` cancelled, `6` draft (`?status=4&status=3`, `?status=draft`)."), InvoiceFilter, PageParams),
    responses((status = 200, body = InvoicePage), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    filter: web::Query<InvoiceFilter>,
    page: web::Query<PageParams>,
    custom: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Invoices)?;
    let page = page.parse()?;
    let today = today();
    let mut cond = Condition::all().add(custom_fields::filter(&state.db, custom_fields::INVOICE, invoice::Column::Id, &custom).await?);
    if let ViewScope::Own(me) = scope {
        let mine = client::Entity::find()
            .select_only()
            .column(client::Column::Id)
            .filter(client::Column::AssignedTo.eq(me))
            .into_tuple::<i32>()
            .all(&state.db)
            .await?;
        cond =
            cond.add(Condition::any().add(invoice::Column::SaleAgent.eq(me)).add(invoice::Column::CreatedBy.eq(me)).add(invoice::Column::ClientId.is_in(mine)));
    }
    let statuses = statuses_from_query(&req)?;
    if !statuses.is_empty() {
        cond = cond.add(statuses.iter().fold(Condition::any(), |c, s| c.add(status_condition(*s, today))));
    }
    if let Some(id) = filter.client_id {
        cond = cond.add(invoice::Column::ClientId.eq(id));
    }
    if let Some(c) = crate::ops::leads::assigned_condition(filter.agent.as_deref(), &user, invoice::Column::SaleAgent)? {
        cond = cond.add(c);
    }
    for (col, bound, from) in [
        (invoice::Column::Date, filter.date_from, true),
        (invoice::Column::Date, filter.date_to, false),
        (invoice::Column::DueDate, filter.due_from, true),
        (invoice::Column::DueDate, filter.due_to, false),
    ] {
        if let Some(d) = bound {
            cond = cond.add(if from { col.gte(d) } else { col.lte(d) });
        }
    }
    if let Some(text) = filter.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = format!("%{}%", text.to_lowercase());
        let clients = client::Entity::find()
            .select_only()
            .column(client::Column::Id)
            .filter(Expr::expr(Func::lower(Expr::col(client::Column::Company))).like(pattern.clone()))
            .into_tuple::<i32>()
            .all(&state.db)
            .await?;
        cond = cond
            .add(Condition::any().add(Expr::expr(Func::lower(Expr::col(invoice::Column::Number))).like(pattern)).add(invoice::Column::ClientId.is_in(clients)));
    }
    // Totals of the filtered set, per currency (SUM of bigint is numeric on PostgreSQL).
    let totals: Vec<(String, i64, i64, i64)> = invoice::Entity::find()
        .select_only()
        .column(invoice::Column::Currency)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .column_as(Expr::cust("CAST(COALESCE(SUM(total_minor), 0) AS BIGINT)"), "total")
        .column_as(Expr::cust("CAST(COALESCE(SUM(paid_minor), 0) AS BIGINT)"), "paid")
        .filter(cond.clone())
        .group_by(invoice::Column::Currency)
        .order_by_asc(invoice::Column::Currency)
        .into_tuple()
        .all(&state.db)
        .await?;
    let totals = totals
        .into_iter()
        .map(|(code, n, total, paid)| {
            let c = currency_of(&code);
            CurrencyTotals {
                currency: code,
                count: n,
                total: money::from_minor(total, c),
                paid: money::from_minor(paid, c),
                balance_due: money::from_minor((total - paid).max(0), c),
            }
        })
        .collect();
    let q = page.select(
        invoice::Entity::find().filter(cond),
        Keys { id: invoice::Column::Id, created_at: invoice::Column::CreatedAt, updated_at: invoice::Column::UpdatedAt },
        Order::Desc,
    );
    let (rows, next_cursor) = finish_page(q.all(&state.db).await?, page, |i| (i.id, i.updated_at));
    Ok(HttpResponse::Ok().json(InvoicePage { items: load_many(&state.db, &state.settings.public_url, &rows).await?, next_cursor, totals }))
}

/// The invoice as a printable PDF (seller and buyer identities, VAT per rate, paid and due).
#[utoipa::path(get, path = "/api/v1/invoices/{id}/pdf", operation_id = "getInvoicePdf", tag = "invoices", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, description = "application/pdf", content_type = "application/pdf"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn pdf(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let i = find_visible(&state.db, &user, *id).await?;
    let api = load_api(&state.db, &state.settings.public_url, &i).await?;
    let bytes = pdf_of(&state.db, &api).await?;
    Ok(pdf_response(api.number.as_deref().unwrap_or("draft-invoice"), bytes))
}

/// E-mail the invoice with its PDF and portal link (outbox, retries). A draft is issued first.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/send", operation_id = "sendInvoice", tag = "invoices", security(("bearer" = [])), params(("id" = i32, Path)), request_body = SendInput,
    responses((status = 200, body = Invoice), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status_transition` (cancelled)", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn send(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<SendInput>) -> ApiResult<HttpResponse> {
    user.require_any(Module::Invoices, &[Action::Send, Action::Create])?;
    let body = body.0;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    require_own_unless(&user, &current, Action::Send)?;
    let mut v = Validator::new();
    let list = |v: &mut Validator, field: &str, raw: Vec<String>| -> Vec<String> {
        raw.iter().enumerate().filter_map(|(i, a)| v.check(&format!("{field}[{i}]"), EmailAddress::parse(a)).map(|e| e.into_inner())).collect()
    };
    let to = match body.to {
        Some(a) => list(&mut v, "to", a.into_vec()),
        None => client_email(&txn, current.client_id).await?.into_iter().collect(),
    };
    if to.is_empty() {
        v.push("to", "required", "the client has no contact e-mail; give `to`");
    }
    let cc = list(&mut v, "cc", body.cc.map(|c| c.into_vec()).unwrap_or_default());
    let subject = body.subject.as_deref().and_then(|s| v.check("subject", parse_name(s, 500)));
    v.finish().map_err(ApiError::validation)?;
    let mail = InvoiceMail {
        template: "invoice_send",
        to,
        cc,
        subject,
        message: body.message.unwrap_or_default(),
        staff_name: user.staff.name.clone(),
        staff_email: user.staff.email.clone(),
    };
    let saved = send_in(&txn, &user.actor(), &state.settings.public_url, current, mail).await?;
    let api = load_api(&txn, &state.settings.public_url, &saved).await?;
    txn.commit().await?;
    state.email_wakeup.notify_one();
    Ok(HttpResponse::Ok().json(api))
}

/// The e-mails sent for this invoice, newest first.
#[utoipa::path(get, path = "/api/v1/invoices/{id}/emails", operation_id = "listInvoiceEmails", tag = "invoices", security(("bearer" = [])), params(("id" = i32, Path), SinceParams),
    responses((status = 200, body = Page<SentEmail>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn emails(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, since: web::Query<SinceParams>) -> ApiResult<HttpResponse> {
    let i = find_visible(&state.db, &user, *id).await?;
    let rows = email_outbox::Entity::find()
        .filter(email_outbox::Column::RelatedType.eq(INVOICE))
        .filter(email_outbox::Column::RelatedId.eq(i.id))
        .filter(since.condition(email_outbox::Column::CreatedAt, email_outbox::Column::UpdatedAt)?)
        .order_by_desc(email_outbox::Column::Id)
        .all(&state.db)
        .await?;
    Ok(HttpResponse::Ok().json(Page { items: rows.iter().map(email::to_api).collect::<Vec<_>>(), next_cursor: None }))
}

/// Revoke the invoice's portal link and issue a new one: the old link answers 404 from now on.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/portal-token", operation_id = "rotateInvoicePortalToken", tag = "invoices", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Invoice, description = "The invoice with its new `portal_url`"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(actor = user.id(), invoice_id = *id))]
pub async fn rotate_portal_link(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Invoices, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let saved = rotate_portal_token(&txn, &user, *id).await?;
    let api = load_api(&txn, &state.settings.public_url, &saved).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(api))
}
