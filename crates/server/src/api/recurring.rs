//! `/api/v1/recurring-invoices`: schedules that generate one invoice per cycle (the
//! scheduler does the generating), with their history and next date.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{InvoicePage, Page, Problem, RecurringInvoice, RecurringInvoiceInput};
use crmconnect_domain::permissions::{Action, Module, ViewScope};

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, Order, QueryFilter, QueryOrder};
use time::OffsetDateTime;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::db;
use crate::documents;
use crate::entities::{invoice, recurring_invoice};
use crate::extract::Json;
use crate::ops::recurring::*;
use crate::pagination::SinceParams;
use crate::pagination::{finish_page, Keys, PageParams};
use crate::problem::{ApiError, ApiResult};
use crate::scheduler::RECURRING_LINES;
use crate::state::AppState;

/// Recurring schedules with their next date.
#[utoipa::path(get, path = "/api/v1/recurring-invoices", operation_id = "listRecurringInvoices", tag = "invoices", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Page<RecurringInvoice>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, page: web::Query<PageParams>) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Invoices)?;
    let page = page.parse()?;
    let keys = Keys { id: recurring_invoice::Column::Id, created_at: recurring_invoice::Column::CreatedAt, updated_at: recurring_invoice::Column::UpdatedAt };
    let mut q = page.select(recurring_invoice::Entity::find(), keys, Order::Asc);
    if let ViewScope::Own(me) = scope {
        q = q.filter(sea_orm::Condition::any().add(recurring_invoice::Column::SaleAgent.eq(me)).add(recurring_invoice::Column::CreatedBy.eq(me)));
    }
    let (rows, next_cursor) = finish_page(q.all(&state.db).await?, page, |r| (r.id, r.updated_at));
    Ok(HttpResponse::Ok().json(Page { items: to_api_many(&state.db, &rows).await?, next_cursor }))
}

/// Create a schedule: frequency (monthly, quarterly, annual, or every N days/weeks/months),
/// start date, number of cycles (0 = until stopped), and whether invoices are created as
/// drafts, issued, or issued and e-mailed.
#[utoipa::path(post, path = "/api/v1/recurring-invoices", operation_id = "createRecurringInvoice", tag = "invoices", security(("bearer" = [])), request_body = RecurringInvoiceInput,
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
#[utoipa::path(get, path = "/api/v1/recurring-invoices/{id}", operation_id = "getRecurringInvoice", tag = "invoices", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = RecurringInvoice), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let s = find_visible(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(to_api(&state.db, &s).await?))
}

/// Change a schedule (`active: false` stops it); invoices already generated stay.
#[utoipa::path(patch, path = "/api/v1/recurring-invoices/{id}", operation_id = "updateRecurringInvoice", tag = "invoices", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader),
    request_body = RecurringInvoiceInput,
    responses((status = 200, body = RecurringInvoice), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i32>,
    if_match: IfMatch,
    body: Json<RecurringInvoiceInput>,
) -> ApiResult<HttpResponse> {
    user.require(Module::Invoices, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    let before = to_api(&txn, &current).await?;
    if_match.check(&before)?;
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
#[utoipa::path(delete, path = "/api/v1/recurring-invoices/{id}", operation_id = "deleteRecurringInvoice", tag = "invoices", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 409, description = "`in_use`", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Invoices, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    if invoice::Entity::find().filter(invoice::Column::RecurringId.eq(current.id)).one(&txn).await?.is_some() {
        return Err(ApiError::new(crate::problem::ErrorCode::InUse, "This schedule generated invoices; stop it with `active: false` instead."));
    }
    let before = to_api(&txn, &current).await?;
    documents::save_lines(&txn, RECURRING_LINES, current.id, &[]).await?;
    // Recorded first: the feed's deletion event names who the record was visible to as theirs.
    audit::record(&txn, &user.actor(), Change::new("recurring_invoice.deleted", "recurring_invoice", current.id).before(&before)).await?;
    recurring_invoice::Entity::delete_by_id(current.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The invoices a schedule generated, newest first.
#[utoipa::path(get, path = "/api/v1/recurring-invoices/{id}/invoices", operation_id = "listRecurringInvoiceHistory", tag = "invoices", security(("bearer" = [])), params(("id" = i32, Path), SinceParams),
    responses((status = 200, body = InvoicePage), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn history(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, since: web::Query<SinceParams>) -> ApiResult<HttpResponse> {
    let s = find_visible(&state.db, &user, *id).await?;
    let changed = since.condition(invoice::Column::CreatedAt, invoice::Column::UpdatedAt)?;
    let rows = invoice::Entity::find()
        .filter(invoice::Column::RecurringId.eq(s.id))
        .filter(changed)
        .order_by_desc(invoice::Column::RecurringCycle)
        .all(&state.db)
        .await?;
    let items = crate::ops::invoices::load_many(&state.db, &state.settings.public_url, &rows).await?;
    Ok(HttpResponse::Ok().json(InvoicePage { items, next_cursor: None, totals: Vec::new() }))
}
