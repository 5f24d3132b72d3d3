//! Staff accounts: `/api/v1/staff`.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{CreateStaff, Page, Problem, Staff, UpdateStaff};
use crmconnect_domain::permissions::{Action, Module, ViewScope};
use crmconnect_domain::validation::{check_password, parse_name, EmailAddress, Validator};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::IntoParams;

use crate::audit::{self, Change};
use crate::auth::{password, AuthUser};
use crate::db;
use crate::entities::staff;
use crate::extract::Json;
use crate::ops::staff::*;
use crate::pagination::{finish_page, PageParams};
use crate::problem::{ApiError, ApiResult, ErrorCode};
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
    let mut query = staff::Entity::find().order_by_asc(staff::Column::Id).limit(page.limit + 1);
    if let ViewScope::Own(me) = scope {
        query = query.filter(staff::Column::Id.eq(me));
    }
    if let Some(after) = page.after_id {
        query = query.filter(staff::Column::Id.gt(after));
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
    let (rows, next_cursor) = finish_page(rows, page, |s| s.id);
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
    params(("id" = i32, Path)), request_body = UpdateStaff,
    responses(
        (status = 200, body = Staff),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`email_taken`, `last_administrator`, `cannot_change_self`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all, fields(actor = user.id(), staff_id = *id))]
pub async fn update(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<UpdateStaff>) -> ApiResult<HttpResponse> {
    user.require(Module::Staff, Action::Edit)?;
    let id = *id;
    let body = body.0;
    let mut v = Validator::new();
    let name = body.name.as_deref().and_then(|n| v.check("name", parse_name(n, NAME_MAX)));
    let email = body.email.as_deref().and_then(|e| v.check("email", EmailAddress::parse(e)));
    if let Some(p) = body.password.as_deref() {
        v.check("password", check_password(p));
    }
    v.finish().map_err(ApiError::validation)?;
    let new_hash = match body.password {
        Some(p) => Some(password::hash(p).await?),
        None => None,
    };

    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, id).await?;
    let current_role = find_role(&txn, current.role_id).await?;
    let before = to_api(&current, &current_role.name);
    let new_role = match body.role_id {
        Some(role_id) => find_role(&txn, role_id).await?,
        None => current_role.clone(),
    };
    let deactivating = body.active == Some(false) && current.active;
    let losing_admin = current_role.is_admin && (!new_role.is_admin || deactivating);
    if id == user.id() && (deactivating || new_role.id != current_role.id) {
        return Err(ApiError::new(ErrorCode::CannotChangeSelf, "You cannot change your own role or deactivate yourself."));
    }
    if losing_admin && current.active {
        keep_an_admin(&txn, id).await?;
    }
    if let Some(email) = &email {
        ensure_email_free(&txn, email.as_str(), Some(id)).await?;
    }
    let mut row: staff::ActiveModel = current.into();
    if let Some(name) = name {
        row.name = Set(name);
    }
    if let Some(email) = email {
        row.email = Set(email.into_inner());
    }
    if let Some(hash) = &new_hash {
        row.password_hash = Set(hash.clone());
    }
    row.role_id = Set(new_role.id);
    if let Some(active) = body.active {
        row.active = Set(active);
    }
    row.updated_at = Set(OffsetDateTime::now_utc());
    let saved = row.update(&txn).await.map_err(email_conflict)?;
    if new_hash.is_some() || deactivating {
        revoke_sessions(&txn, id).await?;
    }
    let after = to_api(&saved, &new_role.name);
    let mut change = Change::new("staff.updated", "staff", id).before(&before).after(&after);
    if new_hash.is_some() {
        change.action = "staff.password_changed";
    }
    audit::record(&txn, &user.actor(), change).await?;
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
    let id = *id;
    if id == user.id() {
        return Err(ApiError::new(ErrorCode::CannotChangeSelf, "You cannot deactivate yourself."));
    }
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, id).await?;
    let role = find_role(&txn, current.role_id).await?;
    if !current.active {
        return Ok(HttpResponse::NoContent().finish());
    }
    if role.is_admin {
        keep_an_admin(&txn, id).await?;
    }
    let before = to_api(&current, &role.name);
    let mut row: staff::ActiveModel = current.into();
    row.active = Set(false);
    row.updated_at = Set(OffsetDateTime::now_utc());
    let saved = row.update(&txn).await?;
    revoke_sessions(&txn, id).await?;
    audit::record(&txn, &user.actor(), Change::new("staff.deactivated", "staff", id).before(&before).after(&to_api(&saved, &role.name))).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
