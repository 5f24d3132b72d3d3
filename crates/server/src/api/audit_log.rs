//! Reading the audit log: `/api/v1/audit-log` (newest first).

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{AuditEntry, Page, Problem};
use crmconnect_domain::permissions::{Module, ViewScope};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::AuthUser;
use crate::entities::audit_log;
use crate::pagination::{finish_page, PageParams};
use crate::problem::ApiResult;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// e.g. `staff`, `role`, `api_token`.
    pub entity_type: Option<String>,
    pub entity_id: Option<i32>,
    pub actor_staff_id: Option<i32>,
    /// e.g. `staff.created`.
    pub action: Option<String>,
}

/// List audit entries, newest first. With `view_own`, only your own actions.
#[utoipa::path(get, path = "/api/v1/audit-log", operation_id = "listAuditEntries", tag = "system", security(("bearer" = [])),
    params(AuditFilter, PageParams),
    responses(
        (status = 200, body = Page<AuditEntry>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, filter: web::Query<AuditFilter>, page: web::Query<PageParams>) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::AuditLog)?;
    let page = page.parse()?;
    let mut query = audit_log::Entity::find().order_by_desc(audit_log::Column::Id).limit(page.limit + 1);
    if let ViewScope::Own(me) = scope {
        query = query.filter(audit_log::Column::ActorStaffId.eq(me));
    }
    if let Some(before) = page.after_id {
        // Newest first: the cursor's id is the smallest seen so far.
        query = query.filter(audit_log::Column::Id.lt(before));
    }
    if let Some(t) = &filter.entity_type {
        query = query.filter(audit_log::Column::EntityType.eq(t.as_str()));
    }
    if let Some(id) = filter.entity_id {
        query = query.filter(audit_log::Column::EntityId.eq(id));
    }
    if let Some(id) = filter.actor_staff_id {
        query = query.filter(audit_log::Column::ActorStaffId.eq(id));
    }
    if let Some(a) = &filter.action {
        query = query.filter(audit_log::Column::Action.eq(a.as_str()));
    }
    let (rows, next_cursor) = finish_page(query.all(&state.db).await?, page, |e| e.id);
    let items = rows
        .into_iter()
        .map(|e| AuditEntry {
            id: e.id,
            at: e.at,
            actor_staff_id: e.actor_staff_id,
            action: e.action,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            before: e.before,
            after: e.after,
            ip: e.ip,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}
