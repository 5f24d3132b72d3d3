//! Leads: `/api/v1/leads` — create, read, update, delete, list with the guide's filters, and
//! the lost / junk / restore actions. The board lives in `kanban.rs`, activities in
//! `activities.rs`.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use crmconnect_domain::api::{CreateLead, Lead, MarkLost, Page, Problem, UpdateLead};
use crmconnect_domain::permissions::{Action, Module, ViewScope};
use futures_util::StreamExt;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use utoipa::IntoParams;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::db;
use crate::entities::lead;
use crate::extract::Json;
use crate::ops::leads::*;
use crate::ops::lookups::LOST_REASONS;
use crate::outbox;
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

/// Create a lead (it lands at the top of its status column).
#[utoipa::path(post, path = "/api/v1/leads", operation_id = "createLead", tag = "leads", security(("bearer" = [])), request_body = CreateLead,
    responses((status = 201, body = Lead), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(actor = user.id()))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<CreateLead>) -> ApiResult<HttpResponse> {
    user.require(Module::Leads, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let saved = insert_new(&txn, &user, body.0, |_| Ok(())).await?;
    let api = load_api(&txn, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("lead.created", "lead", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Get one lead.
#[utoipa::path(get, path = "/api/v1/leads/{id}", operation_id = "getLead", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Lead), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let l = find_visible(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(load_api(&state.db, &l).await?))
}

/// Update a lead: only the fields sent change; `null` clears an optional field.
#[utoipa::path(patch, path = "/api/v1/leads/{id}", operation_id = "updateLead", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader),
    request_body = UpdateLead,
    responses((status = 200, body = Lead), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(actor = user.id(), lead_id = *id))]
pub async fn update(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, if_match: IfMatch, body: Json<UpdateLead>) -> ApiResult<HttpResponse> {
    user.require(Module::Leads, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    let before = load_api(&txn, &current).await?;
    if_match.check(&before)?;
    let mut patch = body.0;
    let custom = std::mem::take(&mut patch.custom_fields);
    let mut draft = LeadDraft::from_model(&current, before.tags.clone());
    draft.apply(patch);
    let valid = validate(&txn, draft).await?;
    let defs = crate::custom_fields::definitions(&txn, crate::custom_fields::LEAD).await?;
    let custom = crate::custom_fields::validate(&defs, &custom, false).map_err(ApiError::validation)?;
    let now = OffsetDateTime::now_utc();
    let status_changed = valid.status_id != current.status_id;
    let mut row: lead::ActiveModel = current.clone().into();
    valid.write_to(&mut row);
    if status_changed {
        row.position = Set(top_position(&txn, valid.status_id, Some(current.id)).await?);
        row.last_status_change_at = Set(now);
    }
    row.updated_at = Set(now);
    let saved = row.update(&txn).await?;
    replace_tags(&txn, saved.id, &valid.tags).await?;
    crate::custom_fields::save(&txn, saved.id, custom).await?;
    if status_changed {
        record_status_change(&txn, &saved, Some(current.status_id), Some(user.id()), now).await?;
    }
    crate::scoring::rescore(&txn, Some(&[saved.id])).await?;
    let saved = reload(&txn, saved.id).await?;
    let after = load_api(&txn, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("lead.updated", "lead", saved.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Delete a lead for good (with its history). To take a lead off the board without losing
/// it, mark it lost or junk instead.
#[utoipa::path(delete, path = "/api/v1/leads/{id}", operation_id = "deleteLead", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Leads, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    let before = load_api(&txn, &current).await?;
    // Recorded first: the feed's deletion event names who the record was visible to as theirs.
    audit::record(&txn, &user.actor(), Change::new("lead.deleted", "lead", current.id).before(&before)).await?;
    lead::Entity::delete_by_id(current.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `-created_at` (default), `created_at`, `-score`, `score`, `name`, `-name`, `updated_at`
    /// (oldest change first — what a sync loop reads), `-updated_at`.
    pub sort: Option<String>,
    /// Only leads changed at or after this instant (RFC 3339, e.g. `2026-12-01T08:00:00Z`).
    #[param(format = DateTime)]
    pub updated_since: Option<String>,
    /// Only leads created at or after this instant (RFC 3339).
    #[param(format = DateTime)]
    pub created_since: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ListParams {
    /// `updated_since` / `created_since` as a condition on leads.
    fn since(&self) -> crate::error::Result<Condition> {
        let since = crate::pagination::SinceParams { updated_since: self.updated_since.clone(), created_since: self.created_since.clone() };
        since.condition(lead::Column::CreatedAt, lead::Column::UpdatedAt)
    }
}

/// List leads with the guide's filters, sorted, keyset-paginated. Lost and junk leads and
/// opportunities are not listed unless asked for (`lost=true`, `junk=true`). Custom fields
/// filter as `cf.<key>=<value>`.
#[utoipa::path(get, path = "/api/v1/leads", operation_id = "listLeads", tag = "leads", security(("bearer" = [])), params(LeadFilter, ListParams),
    responses((status = 200, body = Page<Lead>), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: a filter or `sort` value is invalid; see `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<LeadFilter>,
    params: web::Query<ListParams>,
    custom: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Leads)?;
    let sort = Sort::parse(params.sort.as_deref())?;
    let page = crate::pagination::PageParams { limit: params.limit, ..Default::default() }.parse()?;
    let mut cond = filter.with_custom_fields(&state.db, &user, scope, &custom).await?.add(params.since()?);
    if let Some(raw) = params.cursor.as_deref() {
        let cur = decode_sort_cursor(raw)?;
        let id = lead::Column::Id;
        let after = |col: lead::Column, v: sea_orm::Value| {
            let (beyond, tie) = if sort.descending() { (col.lt(v.clone()), id.lt(cur.id)) } else { (col.gt(v.clone()), id.gt(cur.id)) };
            Condition::any().add(beyond).add(Condition::all().add(col.eq(v)).add(tie))
        };
        let bad = || ApiError::new(ErrorCode::InvalidCursor, "The cursor does not match this `sort`.");
        cond = cond.add(match sort {
            Sort::Newest => id.lt(cur.id).into_condition(),
            Sort::Oldest => id.gt(cur.id).into_condition(),
            Sort::ScoreDesc | Sort::ScoreAsc => after(lead::Column::Score, cur.k.as_i64().ok_or_else(bad)?.into()),
            Sort::NameAsc | Sort::NameDesc => after(lead::Column::Name, cur.k.as_str().ok_or_else(bad)?.to_string().into()),
            Sort::UpdatedAsc | Sort::UpdatedDesc => {
                let at = cur.k.as_i64().and_then(|n| OffsetDateTime::from_unix_timestamp_nanos(n.into()).ok()).ok_or_else(bad)?;
                after(lead::Column::UpdatedAt, at.into())
            }
        });
    }
    let mut rows = sort.apply(lead::Entity::find().filter(cond).limit(page.limit + 1)).all(&state.db).await?;
    let more = rows.len() as u64 > page.limit;
    rows.truncate(page.limit as usize);
    let next_cursor =
        if more { rows.last().map(|l| URL_SAFE_NO_PAD.encode(serde_json::to_vec(&SortCursor { k: sort.key(l), id: l.id }).unwrap_or_default())) } else { None };
    Ok(HttpResponse::Ok().json(Page { items: load_many(&state.db, &rows).await?, next_cursor }))
}

/// The filtered lead list as CSV (UTF-8, header row, the list's filters and `sort`), for
/// spreadsheets. Text cells starting with `=`, `+`, `-` or `@` get a leading `'` so a
/// spreadsheet never runs them as formulas.
#[utoipa::path(get, path = "/api/v1/leads/export", operation_id = "exportLeads", tag = "leads", security(("bearer" = [])), params(LeadFilter, ListParams),
    responses((status = 200, description = "text/csv; one row per lead", content_type = "text/csv", body = String),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: a filter or `sort` value is invalid; see `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn export(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<LeadFilter>,
    params: web::Query<ListParams>,
    custom: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Leads)?;
    let sort = Sort::parse(params.sort.as_deref())?;
    let cond = filter.with_custom_fields(&state.db, &user, scope, &custom).await?.add(params.since()?);
    let names = LeadNames::load(&state.db).await?;
    let header = crate::csv_export::lead_header().map_err(ApiError::internal)?;
    // Streamed a chunk at a time: memory stays flat and no query binds more than a chunk's ids.
    // A failure after the first bytes can only cut the download short; it is logged.
    let db = state.db.clone();
    let chunks = futures_util::stream::unfold(Some(0_u64), move |offset| {
        let (db, names, cond) = (db.clone(), names.clone(), cond.clone());
        async move {
            let offset = offset?;
            match export_chunk(&db, &names, cond, sort, offset).await {
                Ok(leads) if leads.is_empty() => None,
                Ok(leads) => {
                    let next = (leads.len() as u64 == EXPORT_CHUNK_ROWS).then_some(offset + EXPORT_CHUNK_ROWS);
                    let bytes = crate::csv_export::lead_rows(&leads).map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()));
                    Some((bytes.map(web::Bytes::from), next))
                }
                Err(e) => {
                    tracing::error!(error = %e, "lead export failed mid-stream");
                    Some((Err(actix_web::error::ErrorInternalServerError("export failed")), None))
                }
            }
        }
    });
    let body = futures_util::stream::once(async move { Ok::<_, actix_web::Error>(web::Bytes::from(header)) }).chain(chunks);
    Ok(HttpResponse::Ok().content_type("text/csv; charset=utf-8").insert_header(("Content-Disposition", "attachment; filename=\"leads.csv\"")).streaming(body))
}

async fn set_flags(
    state: &AppState,
    user: &AuthUser,
    id: i32,
    action: &str,
    apply: impl FnOnce(&mut lead::ActiveModel, &lead::Model) -> ApiResult<()>,
    event: Option<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    user.require(Module::Leads, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, user, id).await?;
    let before = load_api(&txn, &current).await?;
    let mut row: lead::ActiveModel = current.clone().into();
    apply(&mut row, &current)?;
    row.updated_at = Set(OffsetDateTime::now_utc());
    let saved = row.update(&txn).await?;
    if saved.lost || saved.junk {
        close_reminders(&txn, saved.id).await?;
    }
    let after = load_api(&txn, &saved).await?;
    let mut change = Change::new(action, "lead", saved.id).before(&before).after(&after);
    if let Some(extra) = &event {
        change.after = Some(json!({"lead": after, "details": extra}));
    }
    audit::record(&txn, &user.actor(), change).await?;
    outbox::emit(&txn, action, "lead", saved.id, json!({"lead_id": saved.id, "details": event})).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Mark a lead lost, with a reason. It leaves the board but is kept (filter `lost=true`).
#[utoipa::path(post, path = "/api/v1/leads/{id}/lost", operation_id = "markLeadLost", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = MarkLost,
    responses((status = 200, body = Lead), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn mark_lost(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<MarkLost>) -> ApiResult<HttpResponse> {
    let MarkLost { lost_reason_id, note } = body.0;
    if LOST_REASONS.find(&state.db, lost_reason_id).await?.is_none() {
        return Err(ApiError::field("lost_reason_id", "not_found", format!("lost reason {lost_reason_id} does not exist")));
    }
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(ApiError::field("note", "too_long", "must have at most 2000 characters"));
    }
    let details = json!({"lost_reason_id": lost_reason_id, "note": note});
    set_flags(
        &state,
        &user,
        *id,
        "lead.marked_lost",
        |row, _| {
            row.lost = Set(true);
            row.junk = Set(false);
            row.lost_reason_id = Set(Some(lost_reason_id));
            Ok(())
        },
        Some(details),
    )
    .await
}

/// Mark a lead junk (spam, invalid): off the board and out of reports, not deleted.
#[utoipa::path(post, path = "/api/v1/leads/{id}/junk", operation_id = "markLeadJunk", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Lead), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn mark_junk(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    set_flags(
        &state,
        &user,
        *id,
        "lead.marked_junk",
        |row, _| {
            row.junk = Set(true);
            row.lost = Set(false);
            row.lost_reason_id = Set(None);
            Ok(())
        },
        None,
    )
    .await
}

/// Bring a lost or junk lead back to the board, in the status it had.
#[utoipa::path(post, path = "/api/v1/leads/{id}/restore", operation_id = "restoreLead", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Lead), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: the lead is neither lost nor junk", body = Problem, content_type = "application/problem+json")))]
pub async fn restore(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Leads, Action::Edit)?;
    // Lost and junk leads are hidden from normal reads; look them up directly.
    let scope = user.view_scope(Module::Leads)?;
    let current = lead::Entity::find_by_id(*id).one(&state.db).await?.ok_or_else(|| ApiError::not_found("lead"))?;
    if matches!(scope, ViewScope::Own(me) if current.assigned_to != Some(me)) {
        return Err(ApiError::not_found("lead"));
    }
    if !current.lost && !current.junk {
        return Err(ApiError::field("lost", "not_lost_or_junk", "the lead is neither lost nor junk"));
    }
    let top = top_position(&state.db, current.status_id, Some(current.id)).await?;
    set_flags(
        &state,
        &user,
        current.id,
        "lead.restored",
        move |row, _| {
            row.lost = Set(false);
            row.junk = Set(false);
            row.lost_reason_id = Set(None);
            row.position = Set(top);
            Ok(())
        },
        None,
    )
    .await
}
