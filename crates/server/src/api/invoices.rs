//! Invoices and sales orders as proposals create them: `GET /api/v1/invoices/{id}` and
//! `GET /api/v1/sales-orders/{id}`. Issuing, payments and the rest of their lifecycle belong
//! to the invoicing module, which extends these records.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{Invoice, Problem, SalesOrder};
use crmconnect_domain::permissions::{Module, ViewScope};
use sea_orm::{ConnectionTrait, EntityTrait};

use super::proposals::currency_of;
use crate::auth::AuthUser;
use crate::documents::{self, dec};
use crate::entities::{client, invoice, sales_order};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Invoice status names by the guide's codes (Draft 6 · Unpaid 1 · Paid 2 · Partially paid 3 · Overdue 4 · Cancelled 5).
pub fn invoice_status_name(code: i32) -> &'static str {
    match code {
        1 => "unpaid",
        2 => "paid",
        3 => "partially_paid",
        4 => "overdue",
        5 => "cancelled",
        _ => "draft",
    }
}

pub async fn load(db: &impl ConnectionTrait, id: i32) -> ApiResult<Invoice> {
    let i = invoice::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ApiError::not_found("invoice"))?;
    let rows = documents::lines_of(db, documents::INVOICE, &[i.id]).await?.remove(&i.id).unwrap_or_default();
    let discount = documents::discount_of(i.discount_type.as_deref(), &i.discount_value, &i.discount_applies);
    let (lines, amounts) = documents::present(currency_of(&i.currency), &rows, discount);
    Ok(Invoice {
        id: i.id,
        number: i.number.clone(),
        client_id: i.client_id,
        currency: i.currency.clone(),
        date: i.date,
        due_date: i.due_date,
        discount_type: documents::parse_discount_type(i.discount_type.as_deref()),
        discount_value: dec(&i.discount_value),
        discount_applies: documents::parse_discount_applies(&i.discount_applies),
        terms: i.terms.clone(),
        lines,
        amounts,
        status: invoice_status_name(i.status_code).to_string(),
        status_code: i.status_code,
        proposal_id: i.proposal_id,
        sales_order_id: i.sales_order_id,
        created_at: i.created_at,
    })
}

pub async fn load_sales_order(db: &impl ConnectionTrait, id: i32) -> ApiResult<SalesOrder> {
    let o = sales_order::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ApiError::not_found("sales order"))?;
    let rows = documents::lines_of(db, documents::SALES_ORDER, &[o.id]).await?.remove(&o.id).unwrap_or_default();
    let discount = documents::discount_of(o.discount_type.as_deref(), &o.discount_value, &o.discount_applies);
    let (lines, amounts) = documents::present(currency_of(&o.currency), &rows, discount);
    Ok(SalesOrder {
        id: o.id,
        number: o.number.clone(),
        client_id: o.client_id,
        currency: o.currency.clone(),
        date: o.date,
        discount_type: documents::parse_discount_type(o.discount_type.as_deref()),
        discount_value: dec(&o.discount_value),
        discount_applies: documents::parse_discount_applies(&o.discount_applies),
        lines,
        amounts,
        status: o.status.clone(),
        proposal_id: o.proposal_id,
        invoice_id: o.invoice_id,
        created_at: o.created_at,
    })
}

/// "View own" on invoices and sales orders: documents of clients assigned to the caller.
async fn check_visible(db: &impl ConnectionTrait, user: &AuthUser, module: Module, client_id: i32, what: &str) -> ApiResult<()> {
    if let ViewScope::Own(me) = user.view_scope(module)? {
        let c = client::Entity::find_by_id(client_id).one(db).await?;
        if c.and_then(|c| c.assigned_to) != Some(me) {
            return Err(ApiError::not_found(what));
        }
    }
    Ok(())
}

/// An invoice with its lines and amounts.
#[utoipa::path(get, path = "/api/v1/invoices/{id}", tag = "invoices", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Invoice), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.view_scope(Module::Invoices)?;
    let invoice = load(&state.db, *id).await?;
    check_visible(&state.db, &user, Module::Invoices, invoice.client_id, "invoice").await?;
    Ok(HttpResponse::Ok().json(invoice))
}

/// A sales order with its lines and amounts.
#[utoipa::path(get, path = "/api/v1/sales-orders/{id}", tag = "sales orders", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = SalesOrder), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_sales_order(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.view_scope(Module::SalesOrders)?;
    let order = load_sales_order(&state.db, *id).await?;
    check_visible(&state.db, &user, Module::SalesOrders, order.client_id, "sales order").await?;
    Ok(HttpResponse::Ok().json(order))
}
