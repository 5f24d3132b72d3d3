//! Sales orders as proposals create them: `GET /api/v1/sales-orders/{id}`. The rest of their
//! lifecycle (statuses, delivery, conversion to an invoice) belongs to the invoicing issue.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{Problem, SalesOrder};
use crmconnect_domain::permissions::Module;
use sea_orm::{ConnectionTrait, EntityTrait};

use super::invoices::check_client_visible;
use super::proposals::currency_of;
use crate::auth::AuthUser;
use crate::documents::{self, dec};
use crate::entities::sales_order;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

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

/// A sales order with its lines and amounts.
#[utoipa::path(get, path = "/api/v1/sales-orders/{id}", tag = "sales orders", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = SalesOrder), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_sales_order(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.view_scope(Module::SalesOrders)?;
    let order = load_sales_order(&state.db, *id).await?;
    check_client_visible(&state.db, &user, Module::SalesOrders, order.client_id, "sales order").await?;
    Ok(HttpResponse::Ok().json(order))
}
