//! Follow-up reminders on leads: `/api/v1/leads/{id}/reminders`, `/api/v1/reminders`.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{CreateReminder, Page, Problem, Reminder};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};
use serde::Deserialize;
use time::{Duration, OffsetDateTime, Time};
use utoipa::IntoParams;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::db;
use crate::db::Read;
use crate::entities::{lead, reminder, staff};
use crate::extract::Json;
use crate::pagination::SinceParams;
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;
use crate::visibility::{funnel_condition, funnel_record, require_funnel_edit};

async fn to_api(db: &impl ConnectionTrait, rows: &[reminder::Model]) -> ApiResult<Vec<Reminder>> {
    let ids: Vec<i32> = rows.iter().map(|r| r.lead_id).collect();
    let names: HashMap<i32, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        lead::Entity::find().filter(lead::Column::Id.is_in(ids)).all(db).await?.into_iter().map(|l| (l.id, l.name)).collect()
    };
    Ok(rows
        .iter()
        .map(|r| Reminder {
            id: r.id,
            lead_id: r.lead_id,
            lead_name: names.get(&r.lead_id).cloned().unwrap_or_default(),
            staff_id: r.staff_id,
            remind_at: r.remind_at,
            note: r.note.clone(),
            done_at: r.done_at,
        })
        .collect())
}

/// Set a follow-up reminder on a lead (for you, or for `staff_id`).
#[utoipa::path(post, path = "/api/v1/leads/{id}/reminders", operation_id = "createLeadReminder", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = CreateReminder,
    responses((status = 201, body = Reminder), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<CreateReminder>) -> ApiResult<HttpResponse> {
    let b = body.0;
    let note = b.note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(ApiError::field("note", "too_long", "must have at most 2000 characters"));
    }
    let staff_id = b.staff_id.unwrap_or(user.id());
    let now = OffsetDateTime::now_utc();
    let txn = db::begin_write(&state.db).await?;
    let l = funnel_record(&txn, &user, *id, Read::ForUpdate).await?;
    require_funnel_edit(&user, &l)?;
    if !staff::Entity::find_by_id(staff_id).one(&txn).await?.is_some_and(|s| s.active) {
        return Err(ApiError::field("staff_id", "not_found", format!("no active staff member {staff_id}")));
    }
    let saved = reminder::ActiveModel {
        lead_id: Set(l.id),
        staff_id: Set(staff_id),
        remind_at: Set(b.remind_at),
        note: Set(note),
        done_at: Set(None),
        created_by: Set(Some(user.id())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let api = to_api(&txn, std::slice::from_ref(&saved)).await?.remove(0);
    audit::record(&txn, &user.actor(), Change::new("lead.reminder_set", "lead", l.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Reminders of a lead, soonest first.
#[utoipa::path(get, path = "/api/v1/leads/{id}/reminders", operation_id = "listLeadReminders", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path), SinceParams),
    responses((status = 200, body = Page<Reminder>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_for_lead(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, since: web::Query<SinceParams>) -> ApiResult<HttpResponse> {
    let l = funnel_record(&state.db, &user, *id, Read::Plain).await?;
    let changed = since.condition(reminder::Column::CreatedAt, reminder::Column::UpdatedAt)?;
    let rows =
        reminder::Entity::find().filter(reminder::Column::LeadId.eq(l.id)).filter(changed).order_by_asc(reminder::Column::RemindAt).all(&state.db).await?;
    Ok(HttpResponse::Ok().json(Page { items: to_api(&state.db, &rows).await?, next_cursor: None }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DueParams {
    /// `today` (due today, UTC), `overdue` (past and not done), `upcoming` or `all` open ones (default).
    pub due: Option<String>,
}

/// Your open reminders.
#[utoipa::path(get, path = "/api/v1/reminders", operation_id = "listMyReminders", tag = "leads", security(("bearer" = [])), params(DueParams, SinceParams),
    responses((status = 200, body = Page<Reminder>), (status = 422, description = "`validation_failed`: a filter value is invalid; see `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn mine(state: web::Data<AppState>, user: AuthUser, params: web::Query<DueParams>, since: web::Query<SinceParams>) -> ApiResult<HttpResponse> {
    let now = OffsetDateTime::now_utc();
    let midnight = now.replace_time(Time::MIDNIGHT);
    let mut q = reminder::Entity::find()
        .filter(reminder::Column::StaffId.eq(user.id()))
        .filter(reminder::Column::DoneAt.is_null())
        .filter(since.condition(reminder::Column::CreatedAt, reminder::Column::UpdatedAt)?)
        .order_by_asc(reminder::Column::RemindAt);
    q = match params.due.as_deref().unwrap_or("all") {
        "today" => q.filter(reminder::Column::RemindAt.gte(midnight)).filter(reminder::Column::RemindAt.lt(midnight + Duration::days(1))),
        "overdue" => q.filter(reminder::Column::RemindAt.lt(now)),
        "upcoming" => q.filter(reminder::Column::RemindAt.gte(now)),
        "all" => q,
        _ => return Err(ApiError::field("due", "invalid", "use today, overdue, upcoming or all")),
    };
    // Only reminders on records the caller can still see (a lead reassigned to a colleague
    // takes its reminders out of a "view own" agent's list).
    let visible = lead::Entity::find().select_only().column(lead::Column::Id).filter(funnel_condition(&user)).into_query();
    let rows = q.filter(reminder::Column::LeadId.in_subquery(visible)).all(&state.db).await?;
    Ok(HttpResponse::Ok().json(Page { items: to_api(&state.db, &rows).await?, next_cursor: None }))
}

/// Mark a reminder done (the reminded staff member, or anyone who may edit the lead).
#[utoipa::path(post, path = "/api/v1/reminders/{id}/done", operation_id = "completeReminder", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Reminder), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_done`: the reminder is already done", body = Problem, content_type = "application/problem+json")))]
pub async fn done(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let txn = db::begin_write(&state.db).await?;
    let r = reminder::Entity::find_by_id(*id).one(&txn).await?.ok_or_else(|| ApiError::not_found("reminder"))?;
    if r.staff_id != user.id() {
        let l = funnel_record(&txn, &user, r.lead_id, Read::ForUpdate).await.map_err(|_| ApiError::not_found("reminder"))?;
        require_funnel_edit(&user, &l)?;
    }
    if r.done_at.is_some() {
        return Err(ApiError::new(ErrorCode::AlreadyDone, "This reminder is already done."));
    }
    let now = OffsetDateTime::now_utc();
    reminder::Entity::update_many()
        .col_expr(reminder::Column::DoneAt, Expr::value(now))
        .col_expr(reminder::Column::UpdatedAt, Expr::value(now))
        .filter(reminder::Column::Id.eq(r.id))
        .exec(&txn)
        .await?;
    let saved = reminder::Entity::find_by_id(r.id).one(&txn).await?.ok_or_else(|| ApiError::not_found("reminder"))?;
    let api = to_api(&txn, std::slice::from_ref(&saved)).await?.remove(0);
    audit::record(&txn, &user.actor(), Change::new("lead.reminder_done", "lead", r.lead_id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(api))
}
