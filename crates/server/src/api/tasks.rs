//! `/api/v1/tasks`: follow-ups with assignees and followers, about a lead, opportunity, client,
//! proposal, invoice, sales order or contract (see `ops::tasks`). "View own" = assigned to or
//! following.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{Page, Problem, Task, TaskInput};
use crmconnect_domain::permissions::{Action, Module};
use crmconnect_domain::tasks::{Due, TaskStatus, RELATED_TYPES};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, Order, QueryFilter, QuerySelect, QueryTrait};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::IntoParams;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::conditional::IfMatch;
use crate::db;
use crate::entities::{task, task_assignee};
use crate::extract::Json;
use crate::ops::tasks::*;
use crate::pagination::{finish_page, Keys, PageParams};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskFilter {
    /// `today` (due today), `overdue` (due before now), `upcoming` (due after today); complete
    /// tasks are never due.
    pub due: Option<String>,
    /// `me` or a staff id: tasks assigned to them.
    pub assigned: Option<String>,
    /// A status name or code (`in_progress`, `4`).
    pub status: Option<String>,
    /// `lead`, `opportunity`, `client`, `proposal`, `invoice`, `sales_order`, `contract`.
    pub related_type: Option<String>,
    /// The record's id (with `related_type`).
    pub related_id: Option<i32>,
}

/// Tasks, newest first, with the guide's filters ("Tasks due today": `?due=today&assigned=me`).
#[utoipa::path(get, path = "/api/v1/tasks", operation_id = "listTasks", tag = "tasks", security(("bearer" = [])), params(TaskFilter, PageParams),
    responses((status = 200, body = Page<Task>), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: a filter value is invalid; see `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, filter: web::Query<TaskFilter>, page: web::Query<PageParams>) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Tasks)?;
    let page = page.parse()?;
    let now = OffsetDateTime::now_utc();
    let keys = Keys { id: task::Column::Id, created_at: task::Column::CreatedAt, updated_at: task::Column::UpdatedAt };
    let mut q = page.select(task::Entity::find().filter(visible_condition(scope)), keys, Order::Desc);
    if let Some(due) = filter.due.as_deref() {
        q = q.filter(due_condition(Due::parse(due).map_err(|p| ApiError::field_query("due", p))?, now));
    }
    if let Some(who) = filter.assigned.as_deref() {
        let staff_id = match who.trim() {
            "me" => user.id(),
            other => other.parse().map_err(|_| ApiError::field("assigned", "invalid", "use `me` or a staff id"))?,
        };
        let assigned = task_assignee::Entity::find().select_only().column(task_assignee::Column::TaskId).filter(task_assignee::Column::StaffId.eq(staff_id));
        q = q.filter(task::Column::Id.in_subquery(assigned.into_query()));
    }
    if let Some(status) = filter.status.as_deref() {
        q = q.filter(task::Column::StatusCode.eq(TaskStatus::parse(status).map_err(|p| ApiError::field_query("status", p))?.code()));
    }
    if let Some(t) = filter.related_type.as_deref() {
        if !RELATED_TYPES.contains(&t) {
            return Err(ApiError::field("related_type", "invalid", format!("`{t}` is not one of {}", RELATED_TYPES.join(", "))));
        }
        q = q.filter(task::Column::RelatedType.eq(t));
    }
    if let Some(id) = filter.related_id {
        q = q.filter(task::Column::RelatedId.eq(id));
    }
    let (rows, next_cursor) = finish_page(q.all(&state.db).await?, page, |t| (t.id, t.updated_at));
    Ok(HttpResponse::Ok().json(Page { items: load_many(&state.db, &rows, now).await?, next_cursor }))
}

/// Create a task; assigned to you unless `assignees` says otherwise.
#[utoipa::path(post, path = "/api/v1/tasks", operation_id = "createTask", tag = "tasks", security(("bearer" = [])), request_body = TaskInput,
    responses((status = 201, body = Task), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<TaskInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Tasks, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let now = OffsetDateTime::now_utc();
    let mut row = task::ActiveModel {
        status_code: Set(TaskStatus::NotStarted.code()),
        priority: Set("medium".into()),
        created_by: Set(Some(user.id())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let (assignees, followers) = apply(&txn, &user, &mut row, None, &body.0).await?;
    let saved = row.insert(&txn).await?;
    save_people(&txn, saved.id, assignees, followers).await?;
    let api = load(&txn, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("task.created", "task", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// One task.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", operation_id = "getTask", tag = "tasks", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Task), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let t = find_visible(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(load(&state.db, &t).await?))
}

/// Change a task: only the fields sent change; `null` clears. A new `reminder_at` is a new
/// reminder.
#[utoipa::path(patch, path = "/api/v1/tasks/{id}", operation_id = "updateTask", tag = "tasks", security(("bearer" = [])),
    params(("id" = i32, Path), ("If-Match" = Option<String>, Header, description = "The `ETag` of the task as you read it: if it changed since, the answer is 412 and nothing changes.")),
    request_body = TaskInput,
    responses((status = 200, body = Task), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, if_match: IfMatch, body: Json<TaskInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Tasks, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    let before = load(&txn, &current).await?;
    if_match.check(&before)?;
    let mut row: task::ActiveModel = current.clone().into();
    let (assignees, followers) = apply(&txn, &user, &mut row, Some(&current), &body.0).await?;
    row.updated_at = Set(OffsetDateTime::now_utc());
    let saved = row.update(&txn).await?;
    save_people(&txn, saved.id, assignees, followers).await?;
    let after = load(&txn, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("task.updated", "task", saved.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Mark a task complete (status 5).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/complete", operation_id = "completeTask", tag = "tasks", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Task), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn complete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Tasks, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    if current.status_code == TaskStatus::Complete.code() {
        return Ok(HttpResponse::Ok().json(load(&txn, &current).await?));
    }
    let now = OffsetDateTime::now_utc();
    let mut row: task::ActiveModel = current.into();
    row.status_code = Set(TaskStatus::Complete.code());
    row.completed_at = Set(Some(now));
    row.updated_at = Set(now);
    let saved = row.update(&txn).await?;
    let after = load(&txn, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("task.completed", "task", saved.id).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Delete a task.
#[utoipa::path(delete, path = "/api/v1/tasks/{id}", operation_id = "deleteTask", tag = "tasks", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Tasks, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    let before = load(&txn, &current).await?;
    save_people(&txn, current.id, Some(Vec::new()), Some(Vec::new())).await?;
    task::Entity::delete_by_id(current.id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("task.deleted", "task", current.id).before(&before)).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
