//! Lead scoring rules: `/api/v1/lead-scoring/rules`. Every change rescores all leads in the
//! same transaction.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{Page, Problem, ScoringRule, ScoringRuleInput};
use crmconnect_domain::permissions::{Action, Module};
use crmconnect_domain::scoring::Rule;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::db;
use crate::entities::scoring_rule;
use crate::extract::Json;
use crate::ops::pipelines::require_read;
use crate::pagination::SinceParams;
use crate::problem::{ApiError, ApiResult};
use crate::scoring::rescore;
use crate::state::AppState;

fn to_api(r: &scoring_rule::Model) -> ScoringRule {
    ScoringRule { id: r.id, field: r.field.clone(), operator: r.operator.clone(), value: r.value.clone(), points: r.points }
}

fn validate(b: &ScoringRuleInput) -> ApiResult<()> {
    Rule::parse(b.field.trim(), b.operator.trim(), &b.value, b.points).map(|_| ()).map_err(|(field, p)| ApiError::field(field, p.code, p.message))
}

/// List scoring rules.
#[utoipa::path(get, path = "/api/v1/lead-scoring/rules", operation_id = "listScoringRules", tag = "leads", security(("bearer" = [])), params(SinceParams),
    responses((status = 200, body = Page<ScoringRule>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, since: web::Query<SinceParams>) -> ApiResult<HttpResponse> {
    require_read(&user)?;
    let changed = since.condition(scoring_rule::Column::CreatedAt, scoring_rule::Column::UpdatedAt)?;
    let rows = scoring_rule::Entity::find().filter(changed).order_by_asc(scoring_rule::Column::Id).all(&state.db).await?;
    Ok(HttpResponse::Ok().json(Page { items: rows.iter().map(to_api).collect(), next_cursor: None }))
}

/// Add a scoring rule; every lead is rescored.
#[utoipa::path(post, path = "/api/v1/lead-scoring/rules", operation_id = "createScoringRule", tag = "leads", security(("bearer" = [])), request_body = ScoringRuleInput,
    responses((status = 201, body = ScoringRule), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<ScoringRuleInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Create)?;
    let b = body.0;
    validate(&b)?;
    let now = OffsetDateTime::now_utc();
    let txn = db::begin_write(&state.db).await?;
    let saved = scoring_rule::ActiveModel {
        field: Set(b.field.trim().to_string()),
        operator: Set(b.operator.trim().to_string()),
        value: Set(b.value),
        points: Set(b.points),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    rescore(&txn, None).await?;
    let api = to_api(&saved);
    audit::record(&txn, &user.actor(), Change::new("scoring_rule.created", "scoring_rule", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Replace a scoring rule; every lead is rescored.
#[utoipa::path(patch, path = "/api/v1/lead-scoring/rules/{id}", operation_id = "updateScoringRule", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader),
    request_body = ScoringRuleInput,
    responses((status = 200, body = ScoringRule), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i32>,
    if_match: IfMatch,
    body: Json<ScoringRuleInput>,
) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let b = body.0;
    validate(&b)?;
    let txn = db::begin_write(&state.db).await?;
    let current = db::Read::ForUpdate.apply(scoring_rule::Entity::find_by_id(*id)).one(&txn).await?.ok_or_else(|| ApiError::not_found("scoring rule"))?;
    let before = to_api(&current);
    if_match.check(&before)?;
    let mut row: scoring_rule::ActiveModel = current.into();
    row.field = Set(b.field.trim().to_string());
    row.operator = Set(b.operator.trim().to_string());
    row.value = Set(b.value);
    row.points = Set(b.points);
    row.updated_at = Set(OffsetDateTime::now_utc());
    let saved = row.update(&txn).await?;
    rescore(&txn, None).await?;
    let after = to_api(&saved);
    audit::record(&txn, &user.actor(), Change::new("scoring_rule.updated", "scoring_rule", saved.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Delete a scoring rule; every lead is rescored.
#[utoipa::path(delete, path = "/api/v1/lead-scoring/rules/{id}", operation_id = "deleteScoringRule", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let current = scoring_rule::Entity::find_by_id(*id).one(&txn).await?.ok_or_else(|| ApiError::not_found("scoring rule"))?;
    scoring_rule::Entity::delete_by_id(current.id).exec(&txn).await?;
    rescore(&txn, None).await?;
    audit::record(&txn, &user.actor(), Change::new("scoring_rule.deleted", "scoring_rule", current.id).before(&to_api(&current))).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
