//! Simple named options configured by administrators: lead sources (`/api/v1/lead-sources`)
//! and lost reasons (`/api/v1/lost-reasons`). Same shape, one implementation.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{NamedOption, NamedOptionInput, Page, Problem};
use crmconnect_domain::permissions::{Action, Module};
use crmconnect_domain::validation::parse_name;
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{ConnectionTrait, FromQueryResult};
use time::OffsetDateTime;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::db;
use crate::extract::Json;
use crate::ops::lookups::*;
use crate::ops::pipelines::require_read;
use crate::pagination::{SinceParams, WholeList};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

impl Lookup {
    async fn list(&self, state: &AppState, user: &AuthUser, since: &SinceParams) -> ApiResult<HttpResponse> {
        require_read(user)?;
        let changed = since.condition_on("created_at", "updated_at")?;
        Ok(HttpResponse::Ok().json(Page { items: self.all_where(&state.db, changed).await?, next_cursor: None }))
    }

    async fn create(&self, state: &AppState, user: &AuthUser, body: NamedOptionInput) -> ApiResult<HttpResponse> {
        user.require(Module::Settings, Action::Create)?;
        let name = parse_name(&body.name, 100).map_err(|p| ApiError::field("name", p.code, p.message))?;
        let now = OffsetDateTime::now_utc();
        let txn = db::begin_write(&state.db).await?;
        self.ensure_name_free(&txn, &name, None).await?;
        let insert = Query::insert()
            .into_table(Alias::new(self.table))
            .columns([Alias::new("name"), Alias::new("created_at"), Alias::new("updated_at")])
            .values_panic([name.clone().into(), now.into(), now.into()])
            .to_owned();
        txn.execute(txn.get_database_backend().build(&insert)).await?;
        let created = self
            .all(&txn)
            .await?
            .into_iter()
            .find(|o| o.name == name)
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("inserted {} vanished", self.label)))?;
        audit::record(&txn, &user.actor(), Change::new(&format!("{}.created", self.entity_type), self.entity_type, created.id).after(&created)).await?;
        txn.commit().await?;
        Ok(HttpResponse::Created().json(created))
    }

    async fn rename(&self, state: &AppState, user: &AuthUser, id: i32, if_match: IfMatch, body: NamedOptionInput) -> ApiResult<HttpResponse> {
        user.require(Module::Settings, Action::Edit)?;
        let name = parse_name(&body.name, 100).map_err(|p| ApiError::field("name", p.code, p.message))?;
        let txn = db::begin_write(&state.db).await?;
        let before = self.lock(&txn, id).await?.ok_or_else(|| ApiError::not_found(self.label))?;
        if_match.check(&before)?;
        self.ensure_name_free(&txn, &name, Some(id)).await?;
        let update = Query::update()
            .table(Alias::new(self.table))
            .values([(Alias::new("name"), name.clone().into()), (Alias::new("updated_at"), OffsetDateTime::now_utc().into())])
            .and_where(Expr::col(Alias::new("id")).eq(id))
            .to_owned();
        txn.execute(txn.get_database_backend().build(&update)).await?;
        let after = NamedOption { id, name };
        audit::record(&txn, &user.actor(), Change::new(&format!("{}.updated", self.entity_type), self.entity_type, id).before(&before).after(&after)).await?;
        txn.commit().await?;
        Ok(HttpResponse::Ok().json(after))
    }

    async fn delete(&self, state: &AppState, user: &AuthUser, id: i32) -> ApiResult<HttpResponse> {
        user.require(Module::Settings, Action::Delete)?;
        let txn = db::begin_write(&state.db).await?;
        let before = self.find(&txn, id).await?.ok_or_else(|| ApiError::not_found(self.label))?;
        if let Some(column) = self.refuse_when_used_by {
            let q = Query::select()
                .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
                .from(Alias::new("leads"))
                .and_where(Expr::col(Alias::new(column)).eq(id))
                .to_owned();
            let n = Count::find_by_statement(txn.get_database_backend().build(&q)).one(&txn).await?.map_or(0, |c| c.n);
            if n > 0 {
                return Err(ApiError::new(ErrorCode::InUse, format!("{n} lead(s) use this {}; it cannot be deleted.", self.label)));
            }
        }
        let delete = Query::delete().from_table(Alias::new(self.table)).and_where(Expr::col(Alias::new("id")).eq(id)).to_owned();
        txn.execute(txn.get_database_backend().build(&delete)).await?;
        audit::record(&txn, &user.actor(), Change::new(&format!("{}.deleted", self.entity_type), self.entity_type, id).before(&before)).await?;
        txn.commit().await?;
        Ok(HttpResponse::NoContent().finish())
    }
}

/// List lead sources.
#[utoipa::path(get, path = "/api/v1/lead-sources", operation_id = "listLeadSources", tag = "leads", security(("bearer" = [])), params(WholeList, SinceParams),
    responses((status = 200, body = Page<NamedOption>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_sources(state: web::Data<AppState>, user: AuthUser, since: web::Query<SinceParams>, whole: web::Query<WholeList>) -> ApiResult<HttpResponse> {
    whole.check()?;
    SOURCES.list(&state, &user, &since).await
}

/// Add a lead source.
#[utoipa::path(post, path = "/api/v1/lead-sources", operation_id = "createLeadSource", tag = "leads", security(("bearer" = [])), request_body = NamedOptionInput,
    responses((status = 201, body = NamedOption), (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_source(state: web::Data<AppState>, user: AuthUser, body: Json<NamedOptionInput>) -> ApiResult<HttpResponse> {
    SOURCES.create(&state, &user, body.0).await
}

/// Rename a lead source.
#[utoipa::path(patch, path = "/api/v1/lead-sources/{id}", operation_id = "updateLeadSource", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader),
    request_body = NamedOptionInput,
    responses((status = 200, body = NamedOption), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json")))]
pub async fn update_source(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i32>,
    if_match: IfMatch,
    body: Json<NamedOptionInput>,
) -> ApiResult<HttpResponse> {
    SOURCES.rename(&state, &user, *id, if_match, body.0).await
}

/// Delete a lead source (leads keep everything but the source).
#[utoipa::path(delete, path = "/api/v1/lead-sources/{id}", operation_id = "deleteLeadSource", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_source(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    SOURCES.delete(&state, &user, *id).await
}

/// List lost reasons.
#[utoipa::path(get, path = "/api/v1/lost-reasons", operation_id = "listLostReasons", tag = "leads", security(("bearer" = [])), params(WholeList, SinceParams),
    responses((status = 200, body = Page<NamedOption>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_lost_reasons(
    state: web::Data<AppState>,
    user: AuthUser,
    since: web::Query<SinceParams>,
    whole: web::Query<WholeList>,
) -> ApiResult<HttpResponse> {
    whole.check()?;
    LOST_REASONS.list(&state, &user, &since).await
}

/// Add a lost reason.
#[utoipa::path(post, path = "/api/v1/lost-reasons", operation_id = "createLostReason", tag = "leads", security(("bearer" = [])), request_body = NamedOptionInput,
    responses((status = 201, body = NamedOption), (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_lost_reason(state: web::Data<AppState>, user: AuthUser, body: Json<NamedOptionInput>) -> ApiResult<HttpResponse> {
    LOST_REASONS.create(&state, &user, body.0).await
}

/// Rename a lost reason.
#[utoipa::path(patch, path = "/api/v1/lost-reasons/{id}", operation_id = "updateLostReason", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader),
    request_body = NamedOptionInput,
    responses((status = 200, body = NamedOption), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json")))]
pub async fn update_lost_reason(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i32>,
    if_match: IfMatch,
    body: Json<NamedOptionInput>,
) -> ApiResult<HttpResponse> {
    LOST_REASONS.rename(&state, &user, *id, if_match, body.0).await
}

/// Delete a lost reason no lead uses.
#[utoipa::path(delete, path = "/api/v1/lost-reasons/{id}", operation_id = "deleteLostReason", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`in_use`", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_lost_reason(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    LOST_REASONS.delete(&state, &user, *id).await
}

/// List opportunity statuses (in creation order).
#[utoipa::path(get, path = "/api/v1/opportunity-statuses", operation_id = "listOpportunityStatuses", tag = "opportunities", security(("bearer" = [])), params(WholeList, SinceParams),
    responses((status = 200, body = Page<NamedOption>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_opportunity_statuses(
    state: web::Data<AppState>,
    user: AuthUser,
    since: web::Query<SinceParams>,
    whole: web::Query<WholeList>,
) -> ApiResult<HttpResponse> {
    whole.check()?;
    OPPORTUNITY_STATUSES.list(&state, &user, &since).await
}

/// Add an opportunity status.
#[utoipa::path(post, path = "/api/v1/opportunity-statuses", operation_id = "createOpportunityStatus", tag = "opportunities", security(("bearer" = [])), request_body = NamedOptionInput,
    responses((status = 201, body = NamedOption), (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_opportunity_status(state: web::Data<AppState>, user: AuthUser, body: Json<NamedOptionInput>) -> ApiResult<HttpResponse> {
    OPPORTUNITY_STATUSES.create(&state, &user, body.0).await
}

/// Rename an opportunity status.
#[utoipa::path(patch, path = "/api/v1/opportunity-statuses/{id}", operation_id = "updateOpportunityStatus", tag = "opportunities", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader),
    request_body = NamedOptionInput,
    responses((status = 200, body = NamedOption), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json")))]
pub async fn update_opportunity_status(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i32>,
    if_match: IfMatch,
    body: Json<NamedOptionInput>,
) -> ApiResult<HttpResponse> {
    OPPORTUNITY_STATUSES.rename(&state, &user, *id, if_match, body.0).await
}

/// Delete an opportunity status no opportunity uses.
#[utoipa::path(delete, path = "/api/v1/opportunity-statuses/{id}", operation_id = "deleteOpportunityStatus", tag = "opportunities", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`in_use`", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_opportunity_status(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    OPPORTUNITY_STATUSES.delete(&state, &user, *id).await
}
