//! `/api/v1/recurring-invoices`: schedules that generate one invoice per cycle (the
//! scheduler does the generating), with their history and next date.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{InvoicePage, Page, Problem, RecurringInvoice, RecurringInvoiceInput};
use crmconnect_domain::permissions::{Action, Module, ViewScope};
use crmconnect_domain::recurring::{self, Frequency};
use crmconnect_domain::validation::Validator;
use std::collections::HashMap;

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;

use super::proposals::{currency_of, today};
use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::documents;
use crate::entities::{client, invoice, recurring_invoice};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::scheduler::{next_cycles, RECURRING_LINES};
use crate::state::AppState;
use crate::db;
use crate::db::Read;

const MODES: [&str; 3] = ["draft", "issue", "issue_and_send"];

async fn to_api(db: &impl ConnectionTrait, s: &recurring_invoice::Model) -> ApiResult<RecurringInvoice> {
    let mut one = to_api_many(db, std::slice::from_ref(s)).await?;
    Ok(one.pop().expect("one schedule in, one out"))
}

/// API schedules for many rows in three queries (lines, clients, last generated cycles),
/// whatever their number.
async fn to_api_many(db: &impl ConnectionTrait, schedules: &[recurring_invoice::Model]) -> ApiResult<Vec<RecurringInvoice>> {
    if schedules.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i32> = schedules.iter().map(|s| s.id).collect();
    let mut lines_by_schedule = documents::lines_of(db, RECURRING_LINES, &ids).await?;
    let client_ids: Vec<i32> = schedules.iter().map(|s| s.client_id).collect();
    let clients: HashMap<i32, String> =
        client::Entity::find().filter(client::Column::Id.is_in(client_ids)).all(db).await?.into_iter().map(|c| (c.id, c.company)).collect();
    let next_cycles = next_cycles(db, &ids).await?;
    Ok(schedules
        .iter()
        .map(|s| {
            let rows = lines_by_schedule.remove(&s.id).unwrap_or_default();
            let (lines, amounts) = documents::present(currency_of(&s.currency), &rows, None);
            let frequency = Frequency::parse(&s.frequency).unwrap_or(Frequency::Monthly);
            let next = next_cycles.get(&s.id).copied().unwrap_or(0);
            RecurringInvoice {
                id: s.id,
                client_id: s.client_id,
                client_name: clients.get(&s.client_id).cloned().unwrap_or_default(),
                currency: s.currency.clone(),
                frequency,
                interval: s.interval,
                start_date: s.start_date,
                cycles: s.cycles,
                mode: s.mode.clone(),
                active: s.active,
                sale_agent: s.sale_agent,
                terms: s.terms.clone(),
                client_note: s.client_note.clone(),
                lines,
                amounts,
                generated: next,
                next_date: if s.active { recurring::next_date(s.start_date, frequency, s.interval, s.cycles, next) } else { None },
                created_at: s.created_at,
            }
        })
        .collect())
}

async fn find_visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32) -> ApiResult<recurring_invoice::Model> {
    visible(db, user, id, Read::Plain).await
}

/// [`find_visible`], locking the row until the transaction ends (write paths use this).
async fn lock_visible(txn: &impl ConnectionTrait, user: &AuthUser, id: i32) -> ApiResult<recurring_invoice::Model> {
    visible(txn, user, id, Read::ForUpdate).await
}

async fn visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32, read: Read) -> ApiResult<recurring_invoice::Model> {
    let scope = user.view_scope(Module::Invoices)?;
    let s = read.apply(recurring_invoice::Entity::find_by_id(id)).one(db).await?.ok_or_else(|| ApiError::not_found("recurring invoice"))?;
    if matches!(scope, ViewScope::Own(me) if s.sale_agent != Some(me) && s.created_by != Some(me)) {
        return Err(ApiError::not_found("recurring invoice"));
    }
    Ok(s)
}

async fn apply(db: &impl ConnectionTrait, user: &AuthUser, row: &mut recurring_invoice::ActiveModel, current: Option<&recurring_invoice::Model>, b: &RecurringInvoiceInput) -> ApiResult<Option<Vec<documents::Line>>> {
    let mut v = Validator::new();
    let creating = current.is_none();
    let client = documents::requested_client(db, user, &mut v, b.client_id, creating).await?;
    let currency = match (&b.currency, &client) {
        (Some(c), _) => documents::enabled_currency(db, &mut v, "currency", c).await?,
        (None, Some(c)) if creating => Some(documents::enabled_or_base(db, &c.currency).await?),
        _ => None,
    };
    let frequency = b.frequency.or(current.and_then(|s| Frequency::parse(&s.frequency)));
    if creating && frequency.is_none() {
        v.push("frequency", "required", "monthly, quarterly, annual, days, weeks or months");
    }
    let interval = b.interval.or(current.map(|s| s.interval)).unwrap_or(1);
    if let Some(f) = frequency {
        v.check("interval", recurring::check_interval(f, interval));
    }
    if b.cycles.is_some_and(|c| !(0..=1200).contains(&c)) {
        v.push("cycles", "out_of_range", "0 (until stopped) to 1200");
    }
    if b.mode.as_ref().is_some_and(|m| !MODES.contains(&m.as_str())) {
        v.push("mode", "invalid", "draft, issue or issue_and_send");
    }
    let lines = match &b.lines {
        Some(inputs) => Some(documents::resolve_lines(db, &mut v, inputs).await?),
        None => None,
    };
    if creating && lines.as_ref().is_none_or(|l| l.is_empty()) {
        v.push("lines", "required", "at least one line");
    }
    v.finish().map_err(ApiError::validation)?;
    if let Some(c) = client {
        row.client_id = Set(c.id);
    }
    if let Some(c) = currency {
        row.currency = Set(c.code().to_string());
    }
    if let Some(f) = frequency {
        row.frequency = Set(f.name().to_string());
    }
    row.interval = Set(interval);
    if let Some(d) = b.start_date {
        row.start_date = Set(d);
    } else if creating {
        row.start_date = Set(today());
    }
    if let Some(c) = b.cycles {
        row.cycles = Set(c);
    } else if creating {
        row.cycles = Set(0);
    }
    if let Some(m) = &b.mode {
        row.mode = Set(m.clone());
    } else if creating {
        row.mode = Set("draft".into());
    }
    if let Some(a) = b.active {
        row.active = Set(a);
    } else if creating {
        row.active = Set(true);
    }
    if b.sale_agent.is_some() || creating {
        row.sale_agent = Set(b.sale_agent);
    }
    if let Some(t) = &b.terms {
        row.terms = Set(documents::sanitize_html(t));
    } else if creating {
        row.terms = Set(String::new());
    }
    if b.client_note.is_some() || creating {
        row.client_note = Set(b.client_note.clone().filter(|n| !n.trim().is_empty()));
    }
    Ok(lines)
}

/// Recurring schedules with their next date.
#[utoipa::path(get, path = "/api/v1/recurring-invoices", tag = "invoices", security(("bearer" = [])),
    responses((status = 200, body = Page<RecurringInvoice>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Invoices)?;
    let mut q = recurring_invoice::Entity::find().order_by_asc(recurring_invoice::Column::Id);
    if let ViewScope::Own(me) = scope {
        q = q.filter(sea_orm::Condition::any().add(recurring_invoice::Column::SaleAgent.eq(me)).add(recurring_invoice::Column::CreatedBy.eq(me)));
    }
    let items = to_api_many(&state.db, &q.all(&state.db).await?).await?;
    Ok(HttpResponse::Ok().json(Page { items, next_cursor: None }))
}

/// Create a schedule: frequency (monthly, quarterly, annual, or every N days/weeks/months),
/// start date, number of cycles (0 = until stopped), and whether invoices are created as
/// drafts, issued, or issued and e-mailed.
#[utoipa::path(post, path = "/api/v1/recurring-invoices", tag = "invoices", security(("bearer" = [])), request_body = RecurringInvoiceInput,
    responses((status = 201, body = RecurringInvoice), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<RecurringInvoiceInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Invoices, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let now = OffsetDateTime::now_utc();
    let mut row = recurring_invoice::ActiveModel { created_by: Set(Some(user.id())), created_at: Set(now), updated_at: Set(now), ..Default::default() };
    let lines = apply(&txn, &user, &mut row, None, &body.0).await?;
    let saved = row.insert(&txn).await?;
    documents::save_lines(&txn, RECURRING_LINES, saved.id, &lines.unwrap_or_default()).await?;
    let api = to_api(&txn, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("recurring_invoice.created", "recurring_invoice", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// A schedule with its next date.
#[utoipa::path(get, path = "/api/v1/recurring-invoices/{id}", tag = "invoices", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = RecurringInvoice), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let s = find_visible(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(to_api(&state.db, &s).await?))
}

/// Change a schedule (`active: false` stops it); invoices already generated stay.
#[utoipa::path(patch, path = "/api/v1/recurring-invoices/{id}", tag = "invoices", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = RecurringInvoiceInput,
    responses((status = 200, body = RecurringInvoice), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<RecurringInvoiceInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Invoices, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    let before = to_api(&txn, &current).await?;
    let mut row: recurring_invoice::ActiveModel = current.clone().into();
    let lines = apply(&txn, &user, &mut row, Some(&current), &body.0).await?;
    row.updated_at = Set(OffsetDateTime::now_utc());
    let saved = row.update(&txn).await?;
    if let Some(lines) = lines {
        documents::save_lines(&txn, RECURRING_LINES, saved.id, &lines).await?;
    }
    let after = to_api(&txn, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("recurring_invoice.updated", "recurring_invoice", saved.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Delete a schedule that generated nothing yet (else stop it with `active: false`).
#[utoipa::path(delete, path = "/api/v1/recurring-invoices/{id}", tag = "invoices", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 409, description = "`in_use`", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Invoices, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    if invoice::Entity::find().filter(invoice::Column::RecurringId.eq(current.id)).one(&txn).await?.is_some() {
        return Err(ApiError::new(crate::error::ErrorCode::InUse, "This schedule generated invoices; stop it with `active: false` instead."));
    }
    let before = to_api(&txn, &current).await?;
    documents::save_lines(&txn, RECURRING_LINES, current.id, &[]).await?;
    recurring_invoice::Entity::delete_by_id(current.id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("recurring_invoice.deleted", "recurring_invoice", current.id).before(&before)).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The invoices a schedule generated, newest first.
#[utoipa::path(get, path = "/api/v1/recurring-invoices/{id}/invoices", tag = "invoices", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = InvoicePage), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn history(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let s = find_visible(&state.db, &user, *id).await?;
    let rows = invoice::Entity::find().filter(invoice::Column::RecurringId.eq(s.id)).order_by_desc(invoice::Column::RecurringCycle).all(&state.db).await?;
    let items = super::invoices::load_many(&state.db, &state.settings.public_url, &rows).await?;
    Ok(HttpResponse::Ok().json(InvoicePage { items, next_cursor: None, totals: Vec::new() }))
}
