//! The Kanban board: `/api/v1/leads/kanban`, one column's next page, and drag-drop moves.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{KanbanColumn, Lead, MoveLead, Problem};
use crmconnect_domain::permissions::{Action, Module};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::IntoParams;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::db;
use crate::db::Read;
use crate::entities::{lead, pipeline_status};
use crate::extract::Json;
use crate::ops::kanban::*;
use crate::ops::leads::LeadFilter;
use crate::ops::leads::{load_api, lock_visible, record_status_change, LeadNames};
use crate::ops::pipelines::{find_pipeline, statuses_of};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardParams {
    /// Cards per column, 1–200 (default 20).
    pub limit: Option<u64>,
    /// Column pages only: `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The Kanban board of a pipeline: a list of its statuses in order, each with the card count,
/// value totals per currency (never mixing currencies), the first cards in board order and
/// the cursor for the column's next cards.
/// Accepts the lead list's filters (`assigned=me`, `source_id`, `tag`, `stagnant_days`, `q`).
#[utoipa::path(get, path = "/api/v1/leads/kanban", operation_id = "getKanbanBoard", tag = "leads", security(("bearer" = [])), params(BoardParams, LeadFilter),
    responses((status = 200, body = Vec<KanbanColumn>), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no pipeline `pipeline_id`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: a filter value or `limit` is invalid; see `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn board(state: web::Data<AppState>, user: AuthUser, params: web::Query<BoardParams>, filter: web::Query<LeadFilter>) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Leads)?;
    let limit = card_limit(params.limit)?;
    let pipeline = match filter.pipeline_id {
        Some(id) => find_pipeline(&state.db, id).await?,
        None => crate::ops::pipelines::default_pipeline(&state.db).await?,
    };
    let base = board_condition(&user, scope, &filter, pipeline.id)?;
    let sums = totals(&state.db, base.clone()).await?;
    let names = LeadNames::load(&state.db).await?;
    let mut columns = Vec::new();
    for status in statuses_of(&state.db, pipeline.id).await? {
        columns.push(column(&state.db, &status, &base, &sums, limit, None, &names).await?);
    }
    Ok(HttpResponse::Ok().json(columns))
}

/// More cards of one column (infinite scroll), same filters as the board.
#[utoipa::path(get, path = "/api/v1/leads/kanban/{status_id}", operation_id = "getKanbanColumn", tag = "leads", security(("bearer" = [])),
    params(("status_id" = i32, Path), BoardParams, LeadFilter),
    responses((status = 200, body = KanbanColumn), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn column_page(
    state: web::Data<AppState>,
    user: AuthUser,
    status_id: web::Path<i32>,
    params: web::Query<BoardParams>,
    filter: web::Query<LeadFilter>,
) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Leads)?;
    let limit = card_limit(params.limit)?;
    let after = params.cursor.as_deref().map(decode_cursor).transpose()?;
    let status = pipeline_status::Entity::find_by_id(*status_id).one(&state.db).await?.ok_or_else(|| ApiError::not_found("status"))?;
    let base = board_condition(&user, scope, &filter, status.pipeline_id)?;
    let sums = totals(&state.db, base.clone().add(lead::Column::StatusId.eq(status.id))).await?;
    let names = LeadNames::load(&state.db).await?;
    Ok(HttpResponse::Ok().json(column(&state.db, &status, &base, &sums, limit, after, &names).await?))
}

/// Drag-drop: move a card to a status (and place it after `after_id`, or at the top), in one
/// transaction that records the status change in the lead's history and the audit log and
/// emits `lead_status_changed`.
#[utoipa::path(post, path = "/api/v1/leads/{id}/move", operation_id = "moveLead", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = MoveLead,
    responses((status = 200, body = Lead), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (status of another pipeline, anchor not in the column)", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(actor = user.id(), lead_id = *id))]
pub async fn move_lead(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<MoveLead>) -> ApiResult<HttpResponse> {
    user.require(Module::Leads, Action::Edit)?;
    let MoveLead { status_id, after_id } = body.0;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    if current.lost || current.junk {
        return Err(ApiError::field("id", "not_on_board", "lost and junk leads are not on the board; restore it first"));
    }
    // The target column's row is the lock for positions in it: simultaneous drops into one
    // column queue here, so each computes its position from the others' results.
    let target = Read::ForUpdate
        .apply(pipeline_status::Entity::find_by_id(status_id))
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::field("status_id", "not_found", format!("status {status_id} does not exist")))?;
    if target.pipeline_id != current.pipeline_id {
        return Err(ApiError::field("status_id", "wrong_pipeline", "the status belongs to another pipeline"));
    }
    if after_id == Some(current.id) {
        return Err(ApiError::field("after_id", "invalid", "a card cannot be placed after itself"));
    }
    let before = load_api(&txn, &current).await?;
    let position = drop_position(&txn, status_id, current.id, after_id).await?;
    let now = OffsetDateTime::now_utc();
    let status_changed = status_id != current.status_id;
    let mut row: lead::ActiveModel = current.clone().into();
    row.status_id = Set(status_id);
    row.position = Set(position);
    row.updated_at = Set(now);
    if status_changed {
        row.last_status_change_at = Set(now);
    }
    let saved = row.update(&txn).await?;
    if status_changed {
        record_status_change(&txn, &saved, Some(current.status_id), Some(user.id()), now).await?;
    }
    let after: Lead = load_api(&txn, &saved).await?;
    let action = if status_changed { "lead.status_changed" } else { "lead.reordered" };
    audit::record(&txn, &user.actor(), Change::new(action, "lead", saved.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}
