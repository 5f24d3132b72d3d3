//! Lead pipelines and their ordered statuses: `/api/v1/pipelines`.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{
    CreatePipeline, CreatePipelineStatus, Page, Pipeline, PipelineStatus, Problem, StatusOrder, UpdatePipeline, UpdatePipelineStatus,
};
use crmconnect_domain::permissions::{Action, Module};
use crmconnect_domain::validation::{parse_name, Validator};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, Order, PaginatorTrait};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::IntoParams;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::db;
use crate::entities::{lead, pipeline, pipeline_status};
use crate::extract::Json;
use crate::ops::pipelines::*;
use crate::pagination::{finish_page, Keys, PageParams, SinceParams};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

/// List pipelines with their statuses.
#[utoipa::path(get, path = "/api/v1/pipelines", operation_id = "listPipelines", tag = "leads", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Page<Pipeline>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, page: web::Query<PageParams>) -> ApiResult<HttpResponse> {
    require_read(&user)?;
    let page = page.parse()?;
    let q = page.select(
        pipeline::Entity::find(),
        Keys { id: pipeline::Column::Id, created_at: pipeline::Column::CreatedAt, updated_at: pipeline::Column::UpdatedAt },
        Order::Asc,
    );
    let (rows, next_cursor) = finish_page(q.all(&state.db).await?, page, |p| (p.id, p.updated_at));
    let mut items = Vec::with_capacity(rows.len());
    for p in &rows {
        items.push(to_api(&state.db, p).await?);
    }
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// Create a pipeline, optionally with its statuses.
#[utoipa::path(post, path = "/api/v1/pipelines", operation_id = "createPipeline", tag = "leads", security(("bearer" = [])), request_body = CreatePipeline,
    responses((status = 201, body = Pipeline), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<CreatePipeline>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Create)?;
    let body = body.0;
    let mut v = Validator::new();
    let name = v.check("name", parse_name(&body.name, 100));
    let mut statuses = Vec::new();
    for (i, s) in body.statuses.iter().enumerate() {
        let n = v.check(&format!("statuses[{i}].name"), parse_name(&s.name, 100));
        let c = v.check(&format!("statuses[{i}].color"), parse_color(s.color.as_deref().unwrap_or(DEFAULT_COLOR)));
        if let (Some(n), Some(c)) = (n, c) {
            if statuses.iter().any(|(other, _): &(String, String)| other == &n) {
                v.push(&format!("statuses[{i}].name"), "duplicate", "status names are unique within a pipeline");
            }
            statuses.push((n, c));
        }
    }
    v.finish().map_err(ApiError::validation)?;
    let name = name.unwrap_or_default();

    let txn = db::begin_write(&state.db).await?;
    ensure_name_free(&txn, &name, None).await?;
    let now = OffsetDateTime::now_utc();
    let is_default = body.is_default || pipeline::Entity::find().count(&txn).await? == 0;
    let row = pipeline::ActiveModel { name: Set(name), is_default: Set(is_default), created_at: Set(now), updated_at: Set(now), ..Default::default() }
        .insert(&txn)
        .await?;
    if is_default {
        make_sole_default(&txn, row.id).await?;
    }
    for (order, (n, c)) in statuses.into_iter().enumerate() {
        pipeline_status::ActiveModel {
            pipeline_id: Set(row.id),
            name: Set(n),
            color: Set(c),
            sort_order: Set(order as i32),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    let api = to_api(&txn, &row).await?;
    audit::record(&txn, &user.actor(), Change::new("pipeline.created", "pipeline", row.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Get a pipeline with its statuses in order.
#[utoipa::path(get, path = "/api/v1/pipelines/{id}", operation_id = "getPipeline", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Pipeline), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    require_read(&user)?;
    let p = find_pipeline(&state.db, *id).await?;
    Ok(HttpResponse::Ok().json(to_api(&state.db, &p).await?))
}

/// Rename a pipeline or make it the default.
#[utoipa::path(patch, path = "/api/v1/pipelines/{id}", operation_id = "updatePipeline", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader),
    request_body = UpdatePipeline,
    responses((status = 200, body = Pipeline), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, if_match: IfMatch, body: Json<UpdatePipeline>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let body = body.0;
    let mut v = Validator::new();
    let name = body.name.as_deref().and_then(|n| v.check("name", parse_name(n, 100)));
    v.finish().map_err(ApiError::validation)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_pipeline(&txn, *id).await?;
    if_match.check(&to_api(&txn, &current).await?)?;
    if body.is_default == Some(false) && current.is_default {
        return Err(ApiError::field("is_default", "required", "make another pipeline the default instead"));
    }
    if let Some(n) = &name {
        ensure_name_free(&txn, n, Some(current.id)).await?;
    }
    let before = to_api(&txn, &current).await?;
    let mut row: pipeline::ActiveModel = current.into();
    if let Some(n) = name {
        row.name = Set(n);
    }
    if body.is_default == Some(true) {
        row.is_default = Set(true);
    }
    row.updated_at = Set(OffsetDateTime::now_utc());
    let saved = row.update(&txn).await?;
    if saved.is_default {
        make_sole_default(&txn, saved.id).await?;
    }
    let after = to_api(&txn, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("pipeline.updated", "pipeline", saved.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Delete a pipeline that has no leads and is not the default.
#[utoipa::path(delete, path = "/api/v1/pipelines/{id}", operation_id = "deletePipeline", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`in_use` or `default_pipeline`", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let current = find_pipeline(&txn, *id).await?;
    if current.is_default {
        return Err(ApiError::new(ErrorCode::DefaultPipeline, "The default pipeline cannot be deleted; make another one the default first."));
    }
    let n = lead_count(&txn, lead::Column::PipelineId, current.id).await?;
    if n > 0 {
        return Err(ApiError::new(ErrorCode::InUse, format!("{n} lead(s) are in this pipeline; move them first.")));
    }
    let before = to_api(&txn, &current).await?;
    pipeline::Entity::delete_by_id(current.id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("pipeline.deleted", "pipeline", current.id).before(&before)).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The statuses of a pipeline, in board order.
#[utoipa::path(get, path = "/api/v1/pipelines/{id}/statuses", operation_id = "listPipelineStatuses", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path), SinceParams),
    responses((status = 200, body = Page<PipelineStatus>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_statuses(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, since: web::Query<SinceParams>) -> ApiResult<HttpResponse> {
    require_read(&user)?;
    let p = find_pipeline(&state.db, *id).await?;
    let changed = since.condition(pipeline_status::Column::CreatedAt, pipeline_status::Column::UpdatedAt)?;
    let items = statuses_where(&state.db, p.id, changed).await?.iter().map(status_to_api).collect();
    Ok(HttpResponse::Ok().json(Page::<PipelineStatus> { items, next_cursor: None }))
}

/// Add a status (at `order`, or at the end).
#[utoipa::path(post, path = "/api/v1/pipelines/{id}/statuses", operation_id = "createPipelineStatus", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = CreatePipelineStatus,
    responses((status = 201, body = PipelineStatus), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_status(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<CreatePipelineStatus>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Create)?;
    let body = body.0;
    let mut v = Validator::new();
    let name = v.check("name", parse_name(&body.name, 100));
    let color = v.check("color", parse_color(body.color.as_deref().unwrap_or(DEFAULT_COLOR)));
    if body.order.is_some_and(|o| o < 0) {
        v.push("order", "out_of_range", "order starts at 0");
    }
    v.finish().map_err(ApiError::validation)?;
    let (name, color) = (name.unwrap_or_default(), color.unwrap_or_default());

    let txn = db::begin_write(&state.db).await?;
    let p = find_pipeline(&txn, *id).await?;
    ensure_status_name_free(&txn, p.id, &name, None).await?;
    let now = OffsetDateTime::now_utc();
    let existing = statuses_of(&txn, p.id).await?;
    let row = pipeline_status::ActiveModel {
        pipeline_id: Set(p.id),
        name: Set(name),
        color: Set(color),
        sort_order: Set(existing.len() as i32),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut ids: Vec<i32> = existing.iter().map(|s| s.id).collect();
    let at = body.order.map(|o| (o as usize).min(ids.len())).unwrap_or(ids.len());
    ids.insert(at, row.id);
    write_order(&txn, &ids).await?;
    let saved = pipeline_status::Entity::find_by_id(row.id).one(&txn).await?.ok_or_else(|| ApiError::not_found("status"))?;
    let api = status_to_api(&saved);
    audit::record(&txn, &user.actor(), Change::new("pipeline_status.created", "pipeline_status", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Rename, recolour or move a status.
#[utoipa::path(patch, path = "/api/v1/pipelines/{id}/statuses/{status_id}", operation_id = "updatePipelineStatus", tag = "leads", security(("bearer" = [])),
    params(("id" = i32, Path), ("status_id" = i32, Path), IfMatchHeader), request_body = UpdatePipelineStatus,
    responses((status = 200, body = PipelineStatus), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_status(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i32, i32)>,
    if_match: IfMatch,
    body: Json<UpdatePipelineStatus>,
) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let (pipeline_id, status_id) = path.into_inner();
    let body = body.0;
    let mut v = Validator::new();
    let name = body.name.as_deref().and_then(|n| v.check("name", parse_name(n, 100)));
    let color = body.color.as_deref().and_then(|c| v.check("color", parse_color(c)));
    if body.order.is_some_and(|o| o < 0) {
        v.push("order", "out_of_range", "order starts at 0");
    }
    v.finish().map_err(ApiError::validation)?;

    let txn = db::begin_write(&state.db).await?;
    lock_pipeline(&txn, pipeline_id).await?;
    let current = find_status(&txn, pipeline_id, status_id).await?;
    if_match.check(&status_to_api(&current))?;
    if let Some(n) = &name {
        ensure_status_name_free(&txn, pipeline_id, n, Some(status_id)).await?;
    }
    let before = status_to_api(&current);
    let mut row: pipeline_status::ActiveModel = current.into();
    if let Some(n) = name {
        row.name = Set(n);
    }
    if let Some(c) = color {
        row.color = Set(c);
    }
    row.updated_at = Set(OffsetDateTime::now_utc());
    row.update(&txn).await?;
    if let Some(order) = body.order {
        let mut ids: Vec<i32> = statuses_of(&txn, pipeline_id).await?.iter().map(|s| s.id).filter(|id| *id != status_id).collect();
        ids.insert((order as usize).min(ids.len()), status_id);
        write_order(&txn, &ids).await?;
    }
    let saved = find_status(&txn, pipeline_id, status_id).await?;
    let after = status_to_api(&saved);
    audit::record(&txn, &user.actor(), Change::new("pipeline_status.updated", "pipeline_status", status_id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteStatusParams {
    /// Move the status's leads to this status of the same pipeline first.
    pub move_to: Option<i32>,
}

/// Delete a status. Refused while leads are in it, unless `move_to` names where they go.
#[utoipa::path(delete, path = "/api/v1/pipelines/{id}/statuses/{status_id}", operation_id = "deletePipelineStatus", tag = "leads", security(("bearer" = [])),
    params(("id" = i32, Path), ("status_id" = i32, Path), DeleteStatusParams),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`in_use`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: leads are in this status and `move_to` is missing or invalid; see `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_status(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i32, i32)>,
    params: web::Query<DeleteStatusParams>,
) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Delete)?;
    let (pipeline_id, status_id) = path.into_inner();
    let txn = db::begin_write(&state.db).await?;
    let current = find_status(&txn, pipeline_id, status_id).await?;
    let n = lead_count(&txn, lead::Column::StatusId, status_id).await?;
    if n > 0 {
        let Some(target) = params.move_to else {
            return Err(ApiError::new(
                ErrorCode::InUse,
                format!("{n} lead(s) are in `{}`; pass `move_to` with another status of this pipeline.", current.name),
            ));
        };
        if target == status_id {
            return Err(ApiError::field("move_to", "invalid", "move_to must be another status"));
        }
        find_status(&txn, pipeline_id, target)
            .await
            .map_err(|_| ApiError::field("move_to", "wrong_pipeline", "move_to must be a status of the same pipeline"))?;
        crate::ops::kanban::move_all(&txn, &user, status_id, target).await?;
    }
    pipeline_status::Entity::delete_by_id(status_id).exec(&txn).await?;
    let ids: Vec<i32> = statuses_of(&txn, pipeline_id).await?.iter().map(|s| s.id).collect();
    write_order(&txn, &ids).await?;
    audit::record(&txn, &user.actor(), Change::new("pipeline_status.deleted", "pipeline_status", status_id).before(&status_to_api(&current))).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Reorder all statuses of a pipeline at once.
#[utoipa::path(put, path = "/api/v1/pipelines/{id}/statuses/order", operation_id = "reorderPipelineStatuses", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = StatusOrder,
    responses((status = 200, body = Pipeline), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn reorder_statuses(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<StatusOrder>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let p = find_pipeline(&txn, *id).await?;
    let before = to_api(&txn, &p).await?;
    let mut current: Vec<i32> = before.statuses.iter().map(|s| s.id).collect();
    let mut wanted = body.0.status_ids.clone();
    current.sort_unstable();
    wanted.sort_unstable();
    if current != wanted {
        return Err(ApiError::field("status_ids", "mismatch", "list every status id of this pipeline exactly once"));
    }
    write_order(&txn, &body.0.status_ids).await?;
    let after = to_api(&txn, &p).await?;
    audit::record(&txn, &user.actor(), Change::new("pipeline.statuses_reordered", "pipeline", p.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}
