//! `/api/v1/sales-orders`: orders with lines (as proposals), statuses (draft, confirmed,
//! partially delivered, delivered, invoiced, cancelled), and conversion to an invoice.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{Invoice, Page, Problem, SalesOrder, SalesOrderInput, SalesOrderStatusInput};
use crmconnect_domain::permissions::{Action, Module, ViewScope};
use crmconnect_domain::sales_orders as rules;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, Order, QueryFilter, QuerySelect};
use serde_json::json;
use time::OffsetDateTime;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::documents::{self, SALES_ORDER};
use crate::documents::{currency_of, today};
use crate::entities::{client, sales_order};
use crate::extract::Json;
use crate::ops::sales_orders::*;
use crate::pagination::{finish_page, Keys, PageParams};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;
use crate::{db, outbox};

/// A sales order with its lines and amounts.
#[utoipa::path(get, path = "/api/v1/sales-orders/{id}", operation_id = "getSalesOrder", tag = "sales orders", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = SalesOrder), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_sales_order(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let o = find_visible(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(load_many(&state.db, &[o]).await?.remove(0)))
}

/// Sales orders, newest first; `status`, `client_id` filters.
#[utoipa::path(get, path = "/api/v1/sales-orders", operation_id = "listSalesOrders", tag = "sales orders", security(("bearer" = [])),
    params(("status" = Option<String>, Query), ("client_id" = Option<i32>, Query), PageParams),
    responses((status = 200, body = Page<SalesOrder>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<std::collections::HashMap<String, String>>,
    page: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::SalesOrders)?;
    let page = page.parse()?;
    let mut q = page.select(
        sales_order::Entity::find(),
        Keys { id: sales_order::Column::Id, created_at: sales_order::Column::CreatedAt, updated_at: sales_order::Column::UpdatedAt },
        Order::Desc,
    );
    if let ViewScope::Own(me) = scope {
        let mine = client::Entity::find()
            .select_only()
            .column(client::Column::Id)
            .filter(client::Column::AssignedTo.eq(me))
            .into_tuple::<i32>()
            .all(&state.db)
            .await?;
        q = q.filter(sea_orm::Condition::any().add(sales_order::Column::ClientId.is_in(mine)).add(sales_order::Column::CreatedBy.eq(me)));
    }
    if let Some(s) = filter.get("status") {
        let s = rules::parse_status(s).map_err(|e| ApiError::new(ErrorCode::InvalidQuery, format!("`status`: {}", e.message)))?;
        q = q.filter(sales_order::Column::Status.eq(s));
    }
    if let Some(id) = filter.get("client_id").and_then(|c| c.parse::<i32>().ok()) {
        q = q.filter(sales_order::Column::ClientId.eq(id));
    }
    let (rows, next_cursor) = finish_page(q.all(&state.db).await?, page, |o| (o.id, o.updated_at));
    Ok(HttpResponse::Ok().json(Page { items: load_many(&state.db, &rows).await?, next_cursor }))
}

/// Create a draft sales order (number `SO-000001`).
#[utoipa::path(post, path = "/api/v1/sales-orders", operation_id = "createSalesOrder", tag = "sales orders", security(("bearer" = [])), request_body = SalesOrderInput,
    responses((status = 201, body = SalesOrder), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<SalesOrderInput>) -> ApiResult<HttpResponse> {
    user.require(Module::SalesOrders, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let now = OffsetDateTime::now_utc();
    let mut row = sales_order::ActiveModel {
        status: Set("draft".into()),
        proposal_id: Set(None),
        invoice_id: Set(None),
        created_by: Set(Some(user.id())),
        created_at: Set(now),
        ..Default::default()
    };
    let lines = apply(&txn, &user, &mut row, None, &body.0).await?;
    let saved = insert(&txn, row, &lines.unwrap_or_default()).await?;
    let api = load_sales_order(&txn, saved.id).await?;
    audit::record(&txn, &user.actor(), Change::new("sales_order.created", "sales_order", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Change a draft or confirmed order.
#[utoipa::path(patch, path = "/api/v1/sales-orders/{id}", operation_id = "updateSalesOrder", tag = "sales orders", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader), request_body = SalesOrderInput,
    responses((status = 200, body = SalesOrder), (status = 409, description = "`invalid_status_transition`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, if_match: IfMatch, body: Json<SalesOrderInput>) -> ApiResult<HttpResponse> {
    user.require(Module::SalesOrders, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    let before = load_sales_order(&txn, current.id).await?;
    if_match.check(&before)?;
    let mut row: sales_order::ActiveModel = current.clone().into();
    let lines = apply(&txn, &user, &mut row, Some(&current), &body.0).await?;
    row.update(&txn).await?;
    if let Some(lines) = lines {
        documents::save_lines(&txn, SALES_ORDER, current.id, &lines).await?;
    }
    let after = load_sales_order(&txn, current.id).await?;
    audit::record(&txn, &user.actor(), Change::new("sales_order.updated", "sales_order", current.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Delete a draft order.
#[utoipa::path(delete, path = "/api/v1/sales-orders/{id}", operation_id = "deleteSalesOrder", tag = "sales orders", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 409, description = "`invalid_status_transition`", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::SalesOrders, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    if current.status != "draft" {
        return Err(ApiError::new(ErrorCode::InvalidStatusTransition, "Only draft orders are deleted; cancel the others."));
    }
    let before = load_sales_order(&txn, current.id).await?;
    documents::save_lines(&txn, SALES_ORDER, current.id, &[]).await?;
    crate::entities::proposal::Entity::update_many()
        .col_expr(crate::entities::proposal::Column::SalesOrderId, sea_orm::sea_query::Expr::value(Option::<i32>::None))
        .filter(crate::entities::proposal::Column::SalesOrderId.eq(current.id))
        .exec(&txn)
        .await?;
    // Recorded first: the feed's deletion event names who the record was visible to as theirs.
    audit::record(&txn, &user.actor(), Change::new("sales_order.deleted", "sales_order", current.id).before(&before)).await?;
    sales_order::Entity::delete_by_id(current.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Move an order through its statuses (confirm, deliver in part or in full, cancel, reopen).
#[utoipa::path(post, path = "/api/v1/sales-orders/{id}/status", operation_id = "setSalesOrderStatus", tag = "sales orders", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = SalesOrderStatusInput,
    responses((status = 200, body = SalesOrder), (status = 409, description = "`invalid_status_transition`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn set_status(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<SalesOrderStatusInput>) -> ApiResult<HttpResponse> {
    user.require(Module::SalesOrders, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    let to = rules::parse_status(&body.0.status).map_err(|e| ApiError::field("status", e.code, e.message))?;
    if !rules::can_set(&current.status, to) {
        return Err(ApiError::new(ErrorCode::InvalidStatusTransition, format!("A {} order cannot become {to}.", current.status)));
    }
    let before = load_sales_order(&txn, current.id).await?;
    let mut row: sales_order::ActiveModel = current.clone().into();
    row.status = Set(to.to_string());
    row.updated_at = Set(OffsetDateTime::now_utc());
    row.update(&txn).await?;
    let after = load_sales_order(&txn, current.id).await?;
    audit::record(&txn, &user.actor(), Change::new("sales_order.status_changed", "sales_order", current.id).before(&before).after(&after)).await?;
    outbox::emit(&txn, "sales_order.status_changed", "sales_order", current.id, json!({"from": before.status, "to": to})).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Copy a confirmed order into a draft invoice (every line, discount, currency), link both
/// ways and mark the order invoiced.
#[utoipa::path(post, path = "/api/v1/sales-orders/{id}/convert-to-invoice", operation_id = "convertSalesOrderToInvoice", tag = "sales orders", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 201, body = Invoice), (status = 409, description = "`invalid_status_transition`, `already_converted`", body = Problem, content_type = "application/problem+json")))]
pub async fn convert_to_invoice(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Invoices, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let o = lock_visible(&txn, &user, *id).await?;
    if let Some(inv) = o.invoice_id {
        return Err(ApiError::new(ErrorCode::AlreadyConverted, format!("{} was already invoiced (invoice {inv}).", o.number)));
    }
    if !rules::can_invoice(&o.status) {
        return Err(ApiError::new(ErrorCode::InvalidStatusTransition, format!("Confirm the order first; it is {}.", o.status)));
    }
    let c = client::Entity::find_by_id(o.client_id).one(&txn).await?.ok_or_else(|| ApiError::not_found("client"))?;
    let lines = documents::stored_lines(&txn, SALES_ORDER, o.id).await?;
    let now = OffsetDateTime::now_utc();
    let draft = crate::ops::invoices::DraftInvoice {
        client: &c,
        currency: currency_of(&o.currency),
        date: today(),
        due_date: None,
        lines: &lines,
        discount: discount_of(&o),
        terms: String::new(),
        client_note: None,
        sale_agent: None,
        proposal_id: o.proposal_id,
        sales_order_id: Some(o.id),
        recurring: None,
        created_by: Some(user.id()),
    };
    let inv = crate::ops::invoices::insert_draft(&txn, draft).await?;
    let mut row: sales_order::ActiveModel = o.clone().into();
    row.invoice_id = Set(Some(inv.id));
    row.status = Set("invoiced".into());
    row.updated_at = Set(now);
    row.update(&txn).await?;
    let mut change = Change::new("sales_order.converted_to_invoice", "sales_order", o.id);
    change.after = Some(json!({"invoice_id": inv.id}));
    audit::record(&txn, &user.actor(), change).await?;
    outbox::emit(&txn, "sales_order.invoiced", "sales_order", o.id, json!({"invoice_id": inv.id})).await?;
    let api = crate::ops::invoices::load(&txn, &state.settings.public_url, inv.id).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}
