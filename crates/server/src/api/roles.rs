//! Roles and their per-module permissions: `/api/v1/roles`.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{CreateRole, Page, Problem, Role, UpdateRole};
use crmconnect_domain::permissions::{Action, Module, PermissionSet};
use crmconnect_domain::validation::{parse_name, Validator};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter};
use time::OffsetDateTime;

use crate::audit::{self, Change};
use crate::auth::{role_permissions, AuthUser};
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::db;
use crate::entities::{role, staff};
use crate::extract::Json;
use crate::ops::staff::ensure_may_manage;
use crate::pagination::{finish_page, Keys, PageParams};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

async fn to_api(db: &impl ConnectionTrait, r: &role::Model) -> ApiResult<Role> {
    let staff_count = staff::Entity::find().filter(staff::Column::RoleId.eq(r.id)).count(db).await? as i64;
    with_count(r, staff_count)
}

fn with_count(r: &role::Model, staff_count: i64) -> ApiResult<Role> {
    Ok(Role {
        id: r.id,
        name: r.name.clone(),
        description: r.description.clone(),
        is_admin: r.is_admin,
        permissions: role_permissions(r)?,
        staff_count,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn check_permissions(v: &mut Validator, permissions: &PermissionSet) {
    if let Err(e) = permissions.validate() {
        v.push("permissions", "invalid_permission", e.to_string());
    }
}

async fn ensure_name_free(db: &impl ConnectionTrait, name: &str, except_id: Option<i32>) -> ApiResult<()> {
    let mut query = role::Entity::find().filter(role::Column::Name.eq(name));
    if let Some(id) = except_id {
        query = query.filter(role::Column::Id.ne(id));
    }
    if query.count(db).await? > 0 {
        return Err(ApiError::new(ErrorCode::NameTaken, format!("A role named `{name}` already exists.")));
    }
    Ok(())
}

/// List roles with their permissions.
#[utoipa::path(get, path = "/api/v1/roles", operation_id = "listRoles", tag = "roles", security(("bearer" = [])), params(PageParams),
    responses(
        (status = 200, body = Page<Role>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, page: web::Query<PageParams>) -> ApiResult<HttpResponse> {
    // Roles are not owned by anyone: `view_own` grants nothing here.
    user.require(Module::Roles, Action::View)?;
    let page = page.parse()?;
    let query =
        page.select(role::Entity::find(), Keys { id: role::Column::Id, created_at: role::Column::CreatedAt, updated_at: role::Column::UpdatedAt }, Order::Asc);
    let (rows, next_cursor) = finish_page(query.all(&state.db).await?, page, |r| (r.id, r.updated_at));
    // One query for every role's staff count (the staff table is small).
    let mut counts = std::collections::HashMap::<i32, i64>::new();
    for s in staff::Entity::find().all(&state.db).await? {
        *counts.entry(s.role_id).or_default() += 1;
    }
    let items = rows.iter().map(|r| with_count(r, counts.get(&r.id).copied().unwrap_or(0))).collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// Create a role.
#[utoipa::path(post, path = "/api/v1/roles", operation_id = "createRole", tag = "roles", security(("bearer" = [])), request_body = CreateRole,
    responses(
        (status = 201, body = Role),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all, fields(actor = user.id()))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<CreateRole>) -> ApiResult<HttpResponse> {
    user.require(Module::Roles, Action::Create)?;
    let body = body.0;
    let mut v = Validator::new();
    let name = v.check("name", parse_name(&body.name, 100));
    check_permissions(&mut v, &body.permissions);
    v.finish().map_err(ApiError::validation)?;
    ensure_within_own(&user, &body.permissions)?;
    let name = name.unwrap_or_default();

    let txn = db::begin_write(&state.db).await?;
    ensure_name_free(&txn, &name, None).await?;
    let now = OffsetDateTime::now_utc();
    let row = role::ActiveModel {
        name: Set(name),
        description: Set(body.description.trim().to_string()),
        is_admin: Set(false),
        permissions: Set(serde_json::to_value(&body.permissions).map_err(ApiError::internal)?),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let api = to_api(&txn, &row).await?;
    audit::record(&txn, &user.actor(), Change::new("role.created", "role", row.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Nobody changes the role they hold (a role with Roles edit could otherwise grant itself
/// everything), only administrators touch the administrator role, and others only roles
/// within their own permissions.
fn ensure_may_edit_role(user: &AuthUser, role: &role::Model) -> ApiResult<()> {
    if role.id == user.role.id {
        return Err(ApiError::forbidden("You cannot change the role you hold."));
    }
    Ok(ensure_may_manage(user, role)?)
}

/// A non-administrator grants no more than they hold themselves.
fn ensure_within_own(user: &AuthUser, permissions: &PermissionSet) -> ApiResult<()> {
    if !user.role.is_admin && !permissions.is_within(&user.permissions) {
        return Err(ApiError::forbidden("A role cannot grant more than your own permissions."));
    }
    Ok(())
}

async fn find(db: &impl ConnectionTrait, id: i32) -> ApiResult<role::Model> {
    role::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ApiError::not_found("role"))
}

/// Get one role.
#[utoipa::path(get, path = "/api/v1/roles/{id}", operation_id = "getRole", tag = "roles", security(("bearer" = [])), params(("id" = i32, Path)),
    responses(
        (status = 200, body = Role),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Roles, Action::View)?;
    let row = find(&state.db, *id).await?;
    Ok(HttpResponse::Ok().json(to_api(&state.db, &row).await?))
}

/// Update a role's name, description or permissions (applies to its staff immediately).
#[utoipa::path(patch, path = "/api/v1/roles/{id}", operation_id = "updateRole", tag = "roles", security(("bearer" = [])),
    params(("id" = i32, Path), IfMatchHeader), request_body = UpdateRole,
    responses(
        (status = 200, body = Role),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all, fields(actor = user.id(), role_id = *id))]
pub async fn update(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, if_match: IfMatch, body: Json<UpdateRole>) -> ApiResult<HttpResponse> {
    user.require(Module::Roles, Action::Edit)?;
    let body = body.0;
    let mut v = Validator::new();
    let name = body.name.as_deref().and_then(|n| v.check("name", parse_name(n, 100)));
    if let Some(p) = &body.permissions {
        check_permissions(&mut v, p);
    }
    v.finish().map_err(ApiError::validation)?;
    if let Some(p) = &body.permissions {
        ensure_within_own(&user, p)?;
    }

    let txn = db::begin_write(&state.db).await?;
    let current = db::Read::ForUpdate.apply(role::Entity::find_by_id(*id)).one(&txn).await?.ok_or_else(|| ApiError::not_found("role"))?;
    ensure_may_edit_role(&user, &current)?;
    if_match.check(&to_api(&txn, &current).await?)?;
    if current.is_admin && body.permissions.is_some() {
        return Err(ApiError::field("permissions", "not_editable", "The administrator role always has every permission."));
    }
    if let Some(name) = &name {
        ensure_name_free(&txn, name, Some(current.id)).await?;
    }
    let before = to_api(&txn, &current).await?;
    let mut row: role::ActiveModel = current.into();
    if let Some(name) = name {
        row.name = Set(name);
    }
    if let Some(description) = body.description {
        row.description = Set(description.trim().to_string());
    }
    if let Some(p) = &body.permissions {
        row.permissions = Set(serde_json::to_value(p).map_err(ApiError::internal)?);
    }
    row.updated_at = Set(OffsetDateTime::now_utc());
    let saved = row.update(&txn).await?;
    let after = to_api(&txn, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("role.updated", "role", saved.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Delete a role no staff member holds.
#[utoipa::path(delete, path = "/api/v1/roles/{id}", operation_id = "deleteRole", tag = "roles", security(("bearer" = [])), params(("id" = i32, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`role_in_use`, `last_administrator` (the Administrator role)", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all, fields(actor = user.id(), role_id = *id))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Roles, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let current = find(&txn, *id).await?;
    if current.is_admin {
        return Err(ApiError::new(ErrorCode::LastAdministrator, "The administrator role cannot be deleted."));
    }
    ensure_may_edit_role(&user, &current)?;
    let before = to_api(&txn, &current).await?;
    if before.staff_count > 0 {
        return Err(ApiError::new(ErrorCode::RoleInUse, format!("{} staff member(s) hold this role; move them to another role first.", before.staff_count)));
    }
    role::Entity::delete_by_id(current.id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("role.deleted", "role", current.id).before(&before)).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
