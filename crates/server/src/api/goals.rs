//! Teams (`/api/v1/teams`) and goals (`/api/v1/goals`): targets for the company, a staff member
//! or a team, each answered with what it has achieved so far (permission `goals`).

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{Goal, GoalPatch, Page, Problem, Team, TeamInput};
use crmconnect_domain::goals::GoalInput;
use crmconnect_domain::permissions::{Action, Module};
use sea_orm::{ColumnTrait, EntityTrait, Order, QueryFilter, QueryOrder};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::IntoParams;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::db::{self, Read};
use crate::entities::{goal, team};
use crate::extract::Json;
use crate::ops::goals::*;
use crate::pagination::{finish_page, Keys, PageParams, SinceParams, WholeList};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

// ---------------------------------------------------------------------------------------------
// Teams

/// Teams, by name.
#[utoipa::path(get, path = "/api/v1/teams", operation_id = "listTeams", tag = "goals", security(("bearer" = [])), params(WholeList, SinceParams),
    responses((status = 200, body = Page<Team>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_teams(state: web::Data<AppState>, user: AuthUser, since: web::Query<SinceParams>, whole: web::Query<WholeList>) -> ApiResult<HttpResponse> {
    whole.check()?;
    user.view_scope(Module::Goals)?;
    let rows =
        team::Entity::find().filter(since.condition(team::Column::CreatedAt, team::Column::UpdatedAt)?).order_by_asc(team::Column::Name).all(&state.db).await?;
    Ok(HttpResponse::Ok().json(Page { items: teams_to_api(&state.db, &rows).await?, next_cursor: None }))
}

/// Add a team `{name, member_ids}`.
#[utoipa::path(post, path = "/api/v1/teams", operation_id = "createTeam", tag = "goals", security(("bearer" = [])), request_body = TeamInput,
    responses((status = 201, body = Team), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_team(state: web::Data<AppState>, user: AuthUser, body: Json<TeamInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Goals, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let saved = save_team(&txn, None, &body.0).await?;
    let api = teams_to_api(&txn, std::slice::from_ref(&saved)).await?.remove(0);
    audit::record(&txn, &user.actor(), Change::new("team.created", "team", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// One team.
#[utoipa::path(get, path = "/api/v1/teams/{id}", operation_id = "getTeam", tag = "goals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Team), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_team(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Goals)?;
    let t = team::Entity::find_by_id(*id).filter(visible_teams(scope)).one(&state.db).await?.ok_or_else(|| ApiError::not_found("team"))?;
    Ok(HttpResponse::Ok().json(teams_to_api(&state.db, std::slice::from_ref(&t)).await?.remove(0)))
}

/// Rename a team or replace its members.
#[utoipa::path(patch, path = "/api/v1/teams/{id}", operation_id = "updateTeam", tag = "goals", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader),
    request_body = TeamInput,
    responses((status = 200, body = Team), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_team(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, if_match: IfMatch, body: Json<TeamInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Goals, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = find_team(&txn, *id, Read::ForUpdate).await?;
    let before = teams_to_api(&txn, std::slice::from_ref(&current)).await?.remove(0);
    if_match.check(&before)?;
    let saved = save_team(&txn, Some(current), &body.0).await?;
    let after = teams_to_api(&txn, std::slice::from_ref(&saved)).await?.remove(0);
    audit::record(&txn, &user.actor(), Change::new("team.updated", "team", saved.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Delete a team (its goals go with it).
#[utoipa::path(delete, path = "/api/v1/teams/{id}", operation_id = "deleteTeam", tag = "goals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_team(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Goals, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let current = find_team(&txn, *id, Read::ForUpdate).await?;
    let before = teams_to_api(&txn, std::slice::from_ref(&current)).await?.remove(0);
    team::Entity::delete_by_id(current.id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("team.deleted", "team", current.id).before(&before)).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------------------------------------
// Goals

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GoalFilter {
    /// `me`: the goals that concern you — the company's, yours, your teams' (the dashboard widget).
    pub concerning: Option<String>,
    pub staff_id: Option<i32>,
    pub team_id: Option<i32>,
}

/// Goals, newest first, each with `achieved`, `progress_percent` and `status`.
#[utoipa::path(get, path = "/api/v1/goals", operation_id = "listGoals", tag = "goals", security(("bearer" = [])), params(GoalFilter, PageParams),
    responses((status = 200, body = Page<Goal>), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: a filter value is invalid; see `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, filter: web::Query<GoalFilter>, page: web::Query<PageParams>) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Goals)?;
    let page = page.parse()?;
    let keys = Keys { id: goal::Column::Id, created_at: goal::Column::CreatedAt, updated_at: goal::Column::UpdatedAt };
    let mut q = page.select(goal::Entity::find().filter(visible_goals(scope)), keys, Order::Desc);
    match filter.concerning.as_deref() {
        None => {}
        Some("me") => q = q.filter(concerning(user.id())),
        Some(_) => return Err(ApiError::field("concerning", "invalid", "use `me`")),
    }
    if let Some(id) = filter.staff_id {
        q = q.filter(goal::Column::StaffId.eq(id));
    }
    if let Some(id) = filter.team_id {
        q = q.filter(goal::Column::TeamId.eq(id));
    }
    let (rows, next_cursor) = finish_page(q.all(&state.db).await?, page, |g| (g.id, g.updated_at));
    let today = OffsetDateTime::now_utc().date();
    let mut items = Vec::with_capacity(rows.len());
    for g in &rows {
        items.push(to_api(&state.db, g, today).await?);
    }
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// Add a goal: `goal_type` `income` (payments received), `converted_leads`, `new_clients`
/// (not from a lead), `accepted_proposals` (accepted and invoiced), `contract_value` (contracts
/// signed) or `total_invoices` (issued); `target_type` `all`, `staff` (`staff_id`) or `team` (`team_id`).
#[utoipa::path(post, path = "/api/v1/goals", operation_id = "createGoal", tag = "goals", security(("bearer" = [])), request_body = GoalInput,
    responses((status = 201, body = Goal), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<GoalInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Goals, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let saved = save_goal(&txn, None, &body.0, user.id()).await?;
    let api = to_api(&txn, &saved, OffsetDateTime::now_utc().date()).await?;
    audit::record(&txn, &user.actor(), Change::new("goal.created", "goal", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// One goal with its progress.
#[utoipa::path(get, path = "/api/v1/goals/{id}", operation_id = "getGoal", tag = "goals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Goal), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Goals)?;
    let g = goal::Entity::find_by_id(*id).filter(visible_goals(scope)).one(&state.db).await?.ok_or_else(|| ApiError::not_found("goal"))?;
    Ok(HttpResponse::Ok().json(to_api(&state.db, &g, OffsetDateTime::now_utc().date()).await?))
}

/// Change a goal: only the fields sent change. A changed goal may notify again.
#[utoipa::path(patch, path = "/api/v1/goals/{id}", operation_id = "updateGoal", tag = "goals", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader),
    request_body = GoalPatch,
    responses((status = 200, body = Goal), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, if_match: IfMatch, body: Json<GoalPatch>) -> ApiResult<HttpResponse> {
    user.require(Module::Goals, Action::Edit)?;
    let today = OffsetDateTime::now_utc().date();
    let txn = db::begin_write(&state.db).await?;
    let current = find_goal(&txn, *id, Read::ForUpdate).await?;
    let before = to_api(&txn, &current, today).await?;
    if_match.check(&before)?;
    let changed = body.0.apply(&before.goal);
    let saved = save_goal(&txn, Some(current), &changed, user.id()).await?;
    let after = to_api(&txn, &saved, today).await?;
    audit::record(&txn, &user.actor(), Change::new("goal.updated", "goal", saved.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Delete a goal.
#[utoipa::path(delete, path = "/api/v1/goals/{id}", operation_id = "deleteGoal", tag = "goals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Goals, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let current = find_goal(&txn, *id, Read::ForUpdate).await?;
    let before = to_api(&txn, &current, OffsetDateTime::now_utc().date()).await?;
    goal::Entity::delete_by_id(current.id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("goal.deleted", "goal", current.id).before(&before)).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
