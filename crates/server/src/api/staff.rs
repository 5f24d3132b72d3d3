//! Staff accounts: `/api/v1/staff`.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{CreateStaff, Page, Problem, Staff, UpdateStaff};
use crmconnect_domain::permissions::{Action, Module, ViewScope};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, Order, QueryFilter};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::AuthUser;
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::db;
use crate::entities::staff;
use crate::extract::Json;
use crate::ops::staff::{deactivate as ops_deactivate, update as ops_update, *};
use crate::pagination::{finish_page, Keys, PageParams};
use crate::problem::ApiResult;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StaffFilter {
    /// Only staff with this role.
    pub role_id: Option<i32>,
    /// `true` for active, `false` for deactivated staff.
    pub active: Option<bool>,
    /// Case-insensitive match on name or e-mail.
    pub q: Option<String>,
}

/// List staff (ordered by id).
#[utoipa::path(get, path = "/api/v1/staff", operation_id = "listStaff", tag = "staff", security(("bearer" = [])),
    params(StaffFilter, PageParams),
    responses(
        (status = 200, body = Page<Staff>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, filter: web::Query<StaffFilter>, page: web::Query<PageParams>) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Staff)?;
    let page = page.parse()?;
    let mut query = page.select(
        staff::Entity::find(),
        Keys { id: staff::Column::Id, created_at: staff::Column::CreatedAt, updated_at: staff::Column::UpdatedAt },
        Order::Asc,
    );
    if let ViewScope::Own(me) = scope {
        query = query.filter(staff::Column::Id.eq(me));
    }
    if let Some(role_id) = filter.role_id {
        query = query.filter(staff::Column::RoleId.eq(role_id));
    }
    if let Some(active) = filter.active {
        query = query.filter(staff::Column::Active.eq(active));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = format!("%{}%", q.to_lowercase());
        query = query.filter(
            Condition::any()
                .add(Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(staff::Column::Name))).like(pattern.clone()))
                .add(Expr::col(staff::Column::Email).like(pattern)),
        );
    }
    let rows = query.all(&state.db).await?;
    let names = role_names(&state.db).await?;
    let (rows, next_cursor) = finish_page(rows, page, |s| (s.id, s.updated_at));
    let items = rows.iter().map(|s| to_api(s, names.get(&s.role_id).map(String::as_str).unwrap_or(""))).collect();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// Create a staff member.
#[utoipa::path(post, path = "/api/v1/staff", operation_id = "createStaff", tag = "staff", security(("bearer" = [])), request_body = CreateStaff,
    responses(
        (status = 201, body = Staff),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`email_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all, fields(actor = user.id()))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<CreateStaff>) -> ApiResult<HttpResponse> {
    user.require(Module::Staff, Action::Create)?;
    let new = NewStaff::try_from(body.0)?;
    ensure_may_manage(&user, &find_role(&state.db, new.role_id).await?)?;
    let created = insert_staff(&state.db, &user.actor(), new).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Get one staff member.
#[utoipa::path(get, path = "/api/v1/staff/{id}", operation_id = "getStaff", tag = "staff", security(("bearer" = [])),
    params(("id" = i32, Path)),
    responses(
        (status = 200, body = Staff),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let row = find_visible(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(load_api(&state.db, &row).await?))
}

/// Update a staff member (only the fields sent). A new password signs them out everywhere.
#[utoipa::path(patch, path = "/api/v1/staff/{id}", operation_id = "updateStaff", tag = "staff", security(("bearer" = [])),
    params(("id" = i32, Path), IfMatchHeader), request_body = UpdateStaff,
    responses(
        (status = 200, body = Staff),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`email_taken`, `last_administrator`, `cannot_change_self`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all, fields(actor = user.id(), staff_id = *id))]
pub async fn update(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, if_match: IfMatch, body: Json<UpdateStaff>) -> ApiResult<HttpResponse> {
    user.require(Module::Staff, Action::Edit)?;
    let changes = StaffChanges::parse(body.0).await?;
    let txn = db::begin_write(&state.db).await?;
    let after = ops_update(&txn, &user, *id, &if_match, changes).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Deactivate a staff member. Nothing is deleted: their records keep pointing at them.
#[utoipa::path(delete, path = "/api/v1/staff/{id}", operation_id = "deactivateStaff", tag = "staff", security(("bearer" = [])),
    params(("id" = i32, Path)),
    responses(
        (status = 204, description = "Deactivated"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`last_administrator`, `cannot_change_self`", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all, fields(actor = user.id(), staff_id = *id))]
pub async fn deactivate(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Staff, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    ops_deactivate(&txn, &user, *id).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
