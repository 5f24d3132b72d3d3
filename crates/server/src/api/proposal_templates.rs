//! `/api/v1/proposal-templates`: reusable content and default lines ("Monthly Services",
//! "One-time Project", …); `POST /api/v1/proposals {template_id}` starts from one.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{Page, Problem, ProposalTemplate, ProposalTemplateInput};
use crmconnect_domain::permissions::{Action, Module};
use crmconnect_domain::validation::{parse_name, Validator};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::db;
use crate::documents::{self, PROPOSAL_TEMPLATE};
use crate::entities::proposal_template;
use crate::extract::Json;
use crate::pagination::SinceParams;
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

async fn load_many(db: &impl ConnectionTrait, rows: &[proposal_template::Model]) -> ApiResult<Vec<ProposalTemplate>> {
    let ids: Vec<i32> = rows.iter().map(|t| t.id).collect();
    let mut lines = documents::lines_of(db, PROPOSAL_TEMPLATE, &ids).await?;
    Ok(rows
        .iter()
        .map(|t| ProposalTemplate {
            id: t.id,
            name: t.name.clone(),
            content: t.content.clone(),
            lines: documents::lines_from_rows(&lines.remove(&t.id).unwrap_or_default()).iter().map(|l| l.to_input()).collect(),
        })
        .collect())
}

async fn load_one(db: &impl ConnectionTrait, id: i32) -> ApiResult<ProposalTemplate> {
    let t = proposal_template::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ApiError::not_found("proposal template"))?;
    Ok(load_many(db, &[t]).await?.remove(0))
}

/// Proposal templates by name.
#[utoipa::path(get, path = "/api/v1/proposal-templates", operation_id = "listProposalTemplates", tag = "proposals", security(("bearer" = [])), params(SinceParams),
    responses((status = 200, body = Page<ProposalTemplate>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, since: web::Query<SinceParams>) -> ApiResult<HttpResponse> {
    user.view_scope(Module::Proposals)?;
    let changed = since.condition(proposal_template::Column::CreatedAt, proposal_template::Column::UpdatedAt)?;
    let rows = proposal_template::Entity::find().filter(changed).order_by_asc(proposal_template::Column::Name).all(&state.db).await?;
    Ok(HttpResponse::Ok().json(Page { items: load_many(&state.db, &rows).await?, next_cursor: None }))
}

/// One template with its default lines.
#[utoipa::path(get, path = "/api/v1/proposal-templates/{id}", operation_id = "getProposalTemplate", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = ProposalTemplate), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.view_scope(Module::Proposals)?;
    Ok(HttpResponse::Ok().json(load_one(&state.db, *id).await?))
}

async fn save(db: &impl ConnectionTrait, current: Option<proposal_template::Model>, b: &ProposalTemplateInput) -> ApiResult<i32> {
    let mut v = Validator::new();
    let name = match &b.name {
        Some(n) => v.check("name", parse_name(n, 200)),
        None if current.is_none() => {
            v.push("name", "required", "a name is required");
            None
        }
        None => None,
    };
    let lines = match &b.lines {
        Some(inputs) => Some(documents::resolve_lines(db, &mut v, inputs).await?),
        None => None,
    };
    v.finish().map_err(ApiError::validation)?;
    if let Some(n) = &name {
        let mut q = proposal_template::Entity::find().filter(Expr::expr(Func::lower(Expr::col(proposal_template::Column::Name))).eq(n.to_lowercase()));
        if let Some(c) = &current {
            q = q.filter(proposal_template::Column::Id.ne(c.id));
        }
        if q.one(db).await?.is_some() {
            return Err(ApiError::new(ErrorCode::NameTaken, format!("A template named `{n}` exists.")));
        }
    }
    let now = OffsetDateTime::now_utc();
    let mut row = match current {
        Some(c) => c.into(),
        None => proposal_template::ActiveModel { content: Set(String::new()), created_at: Set(now), ..Default::default() },
    };
    if let Some(n) = name {
        row.name = Set(n);
    }
    if let Some(c) = &b.content {
        row.content = Set(documents::sanitize_html(c));
    }
    row.updated_at = Set(now);
    let saved = row.save(db).await?;
    let id = *saved.id.try_as_ref().ok_or_else(|| ApiError::internal(anyhow::anyhow!("a saved proposal template has no id")))?;
    if let Some(lines) = lines {
        documents::save_lines(db, PROPOSAL_TEMPLATE, id, &lines).await?;
    }
    Ok(id)
}

/// Add a template (proposals: create).
#[utoipa::path(post, path = "/api/v1/proposal-templates", operation_id = "createProposalTemplate", tag = "proposals", security(("bearer" = [])), request_body = ProposalTemplateInput,
    responses((status = 201, body = ProposalTemplate), (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<ProposalTemplateInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Proposals, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let id = save(&txn, None, &body.0).await?;
    let api = load_one(&txn, id).await?;
    audit::record(&txn, &user.actor(), Change::new("proposal_template.created", "proposal_template", id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Change a template; `lines` replaces its default lines.
#[utoipa::path(patch, path = "/api/v1/proposal-templates/{id}", operation_id = "updateProposalTemplate", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader),
    request_body = ProposalTemplateInput,
    responses((status = 200, body = ProposalTemplate), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i32>,
    if_match: IfMatch,
    body: Json<ProposalTemplateInput>,
) -> ApiResult<HttpResponse> {
    user.require(Module::Proposals, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let current =
        db::Read::ForUpdate.apply(proposal_template::Entity::find_by_id(*id)).one(&txn).await?.ok_or_else(|| ApiError::not_found("proposal template"))?;
    let before = load_one(&txn, *id).await?;
    if_match.check(&before)?;
    save(&txn, Some(current), &body.0).await?;
    let api = load_one(&txn, *id).await?;
    audit::record(&txn, &user.actor(), Change::new("proposal_template.updated", "proposal_template", *id).before(&before).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(api))
}

/// Delete a template (proposals made from it are unaffected).
#[utoipa::path(delete, path = "/api/v1/proposal-templates/{id}", operation_id = "deleteProposalTemplate", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Proposals, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let before = load_one(&txn, *id).await?;
    documents::save_lines(&txn, PROPOSAL_TEMPLATE, *id, &[]).await?;
    proposal_template::Entity::delete_by_id(*id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("proposal_template.deleted", "proposal_template", *id).before(&before)).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
