//! Reading the audit log: `/api/v1/audit-log` (newest first).

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{AuditEntry, Page, Problem};
use crmconnect_domain::permissions::{Module, ViewScope};
use crmconnect_domain::validation::FieldProblem;
use sea_orm::{ColumnTrait, EntityTrait, Order, QueryFilter};
use serde::Deserialize;
use time::{Date, OffsetDateTime};
use utoipa::IntoParams;

use crate::auth::AuthUser;
use crate::entities::audit_log;
use crate::pagination::{finish_page, Keys, PageParams};
use crate::problem::{ApiError, ApiResult};
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
    /// Changes made on or after this day (`YYYY-MM-DD`, UTC).
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub date_from: Option<Date>,
    /// Changes made on or before this day (`YYYY-MM-DD`, UTC; the whole day counts).
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub date_to: Option<Date>,
}

impl AuditFilter {
    /// The `[from, until)` instants of the date filters; `date_from` after `date_to` is refused.
    fn period(&self) -> ApiResult<(Option<OffsetDateTime>, Option<OffsetDateTime>)> {
        if let (Some(from), Some(to)) = (self.date_from, self.date_to) {
            if from > to {
                return Err(ApiError::field_query("date_to", FieldProblem::new("before_date_from", "date_to must not be before date_from")));
            }
        }
        let start = |d: Date| d.midnight().assume_utc();
        Ok((self.date_from.map(start), self.date_to.and_then(Date::next_day).map(start)))
    }
}

/// List audit entries, newest first. With `view_own`, only your own actions.
///
/// `date_from` and `date_to` are whole days in UTC.
#[utoipa::path(get, path = "/api/v1/audit-log", operation_id = "listAuditEntries", tag = "system", security(("bearer" = [])),
    params(AuditFilter, PageParams),
    responses(
        (status = 200, body = Page<AuditEntry>),
        (status = 400, description = "`invalid_query`: a malformed filter, or `date_to` before `date_from`", body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, filter: web::Query<AuditFilter>, page: web::Query<PageParams>) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::AuditLog)?;
    let page = page.parse()?;
    let (from, until) = filter.period()?;
    let mut query = page.select(
        audit_log::Entity::find(),
        Keys { id: audit_log::Column::Id, created_at: audit_log::Column::At, updated_at: audit_log::Column::At },
        Order::Desc,
    );
    if let ViewScope::Own(me) = scope {
        query = query.filter(audit_log::Column::ActorStaffId.eq(me));
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
    if let Some(from) = from {
        query = query.filter(audit_log::Column::At.gte(from));
    }
    if let Some(until) = until {
        query = query.filter(audit_log::Column::At.lt(until));
    }
    let (rows, next_cursor) = finish_page(query.all(&state.db).await?, page, |e| (e.id, e.at));
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
