//! A lead's activities (`/api/v1/leads/{id}/activities`) and its merged timeline.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{Activity, ActivityType, CreateActivity, Page, Problem, TimelineEntry};
use crmconnect_domain::validation::{parse_name, Validator};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::db;
use crate::db::Read;
use crate::entities::{lead, lead_activity};
use crate::extract::Json;
use crate::ops::activities::*;
use crate::pagination::SinceParams;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use crate::visibility::{funnel_record, require_funnel_edit};

/// Activities of a lead, newest first.
#[utoipa::path(get, path = "/api/v1/leads/{id}/activities", operation_id = "listLeadActivities", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path), SinceParams),
    responses((status = 200, body = Page<Activity>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, since: web::Query<SinceParams>) -> ApiResult<HttpResponse> {
    let l = funnel_record(&state.db, &user, *id, Read::Plain).await?;
    let rows = lead_activity::Entity::find()
        .filter(lead_activity::Column::LeadId.eq(l.id))
        // Activities are never edited: their creation is their last change.
        .filter(since.condition(lead_activity::Column::CreatedAt, lead_activity::Column::CreatedAt)?)
        .order_by_desc(lead_activity::Column::OccurredAt)
        .order_by_desc(lead_activity::Column::Id)
        .all(&state.db)
        .await?;
    Ok(HttpResponse::Ok().json(Page { items: rows.iter().map(to_api).collect(), next_cursor: None }))
}

/// Log a call (with its duration), an e-mail (with its copy), a meeting (time, attendees) or a
/// note. Calls, e-mails and meetings that already happened update `last_contacted_at`.
#[utoipa::path(post, path = "/api/v1/leads/{id}/activities", operation_id = "createLeadActivity", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = CreateActivity,
    responses((status = 201, body = Activity), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<CreateActivity>) -> ApiResult<HttpResponse> {
    let body = body.0;
    // The record and the right to edit it come first: a refused caller learns nothing from
    // validation messages.
    let txn = db::begin_write(&state.db).await?;
    let l = funnel_record(&txn, &user, *id, Read::ForUpdate).await?;
    require_funnel_edit(&user, &l)?;
    let now = OffsetDateTime::now_utc();
    let mut v = Validator::new();
    let summary = v.check("summary", parse_name(&body.summary, 500));
    let body_text = body.body.as_deref().map(str::trim).filter(|b| !b.is_empty()).map(str::to_string);
    if body_text.as_ref().is_some_and(|b| b.chars().count() > 100_000) {
        v.push("body", "too_long", "must have at most 100000 characters");
    }
    match (body.activity_type, body.duration_minutes) {
        (ActivityType::Call, None) => v.push("duration_minutes", "required", "give the call's duration in minutes"),
        (_, Some(d)) if !(0..=1440).contains(&d) => v.push("duration_minutes", "out_of_range", "between 0 and 1440 minutes"),
        _ => {}
    }
    if body.activity_type == ActivityType::Email && body_text.is_none() {
        v.push("body", "required", "keep a copy of the e-mail in `body`");
    }
    let attendees = body.attendees.as_deref().map(str::trim).filter(|a| !a.is_empty()).map(str::to_string);
    if body.activity_type == ActivityType::Meeting && body.occurred_at.is_none() {
        v.push("occurred_at", "required", "give the meeting's time");
    }
    v.finish().map_err(ApiError::validation)?;
    let occurred_at = body.occurred_at.unwrap_or(now);
    let saved = lead_activity::ActiveModel {
        lead_id: Set(l.id),
        activity_type: Set(body.activity_type.as_str().to_string()),
        summary: Set(summary.unwrap_or_default()),
        body: Set(body_text),
        duration_minutes: Set(body.duration_minutes),
        attendees: Set(attendees),
        occurred_at: Set(occurred_at),
        staff_id: Set(Some(user.id())),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // A planned meeting is not contact yet; a note never is.
    if body.activity_type.counts_as_contact() && occurred_at <= now && l.last_contacted_at.is_none_or(|t| t < occurred_at) {
        lead::Entity::update_many()
            .col_expr(lead::Column::LastContactedAt, Expr::value(occurred_at))
            .col_expr(lead::Column::UpdatedAt, Expr::value(now))
            .filter(lead::Column::Id.eq(l.id))
            .exec(&txn)
            .await?;
    }
    let api = to_api(&saved);
    audit::record(&txn, &user.actor(), Change::new("lead.activity_logged", "lead", l.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Everything that happened to a lead, oldest first: activities, status changes and system
/// events (created, lost, junk, restored, converted, edited).
#[utoipa::path(get, path = "/api/v1/leads/{id}/timeline", operation_id = "getLeadTimeline", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Page<TimelineEntry>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn timeline(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let l = funnel_record(&state.db, &user, *id, Read::Plain).await?;
    let mut items = timeline_of(&state.db, l.id).await?;
    items.sort_by_key(|e| e.at);
    Ok(HttpResponse::Ok().json(Page { items, next_cursor: None }))
}
