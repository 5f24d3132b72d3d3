//! Personal API tokens for integrators: `/api/v1/api-tokens`.
//!
//! A token acts as its owner, limited to its scopes. The secret is shown once at creation;
//! only its SHA-256 is stored.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{ApiToken, CreateApiToken, CreatedApiToken, Page, Problem};
use crmconnect_domain::permissions::PermissionSet;
use crmconnect_domain::validation::{parse_name, Validator};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, Order, QueryFilter};
use time::OffsetDateTime;

use crate::audit::{self, Change};
use crate::auth::{secrets, AuthUser};
use crate::db;
use crate::entities::api_token;
use crate::extract::Json;
use crate::pagination::{finish_page, Keys, PageParams};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

fn to_api(t: &api_token::Model) -> ApiToken {
    ApiToken {
        id: t.id,
        name: t.name.clone(),
        scopes: serde_json::from_value(t.scopes.clone()).unwrap_or_default(),
        expires_at: t.expires_at,
        last_used_at: t.last_used_at,
        created_at: t.created_at,
    }
}

/// List your active API tokens (secrets are never shown again).
#[utoipa::path(get, path = "/api/v1/api-tokens", operation_id = "listApiTokens", tag = "auth", security(("bearer" = [])), params(PageParams),
    responses(
        (status = 200, body = Page<ApiToken>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`session_required`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, page: web::Query<PageParams>) -> ApiResult<HttpResponse> {
    user.require_session()?;
    let page = page.parse()?;
    let query = page.select(
        api_token::Entity::find().filter(api_token::Column::StaffId.eq(user.id())).filter(api_token::Column::RevokedAt.is_null()),
        Keys { id: api_token::Column::Id, created_at: api_token::Column::CreatedAt, updated_at: api_token::Column::CreatedAt },
        Order::Asc,
    );
    let (rows, next_cursor) = finish_page(query.all(&state.db).await?, page, |t| (t.id, t.created_at));
    Ok(HttpResponse::Ok().json(Page { items: rows.iter().map(to_api).collect(), next_cursor }))
}

/// Create a personal API token. The `token` in the response is shown only this once.
///
/// Scopes are `*`, `<module>:*` or `<module>:<action>` (e.g. `leads:view`); the token can
/// never do more than your role allows.
#[utoipa::path(post, path = "/api/v1/api-tokens", operation_id = "createApiToken", tag = "auth", security(("bearer" = [])), request_body = CreateApiToken,
    responses(
        (status = 201, body = CreatedApiToken),
        (status = 403, description = "`session_required`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all, fields(actor = user.id()))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<CreateApiToken>) -> ApiResult<HttpResponse> {
    user.require_session()?;
    let body = body.0;
    let now = OffsetDateTime::now_utc();
    let mut v = Validator::new();
    let name = v.check("name", parse_name(&body.name, 200));
    if body.scopes.is_empty() {
        v.push("scopes", "required", "give at least one scope, e.g. `leads:view` or `*`");
    } else if let Err(e) = PermissionSet::from_scopes(&body.scopes) {
        v.push("scopes", "invalid_scope", e.to_string());
    }
    if body.expires_at.is_some_and(|e| e <= now) {
        v.push("expires_at", "in_past", "expires_at must be in the future");
    }
    v.finish().map_err(ApiError::validation)?;

    let secret = format!("{}{}", secrets::API_TOKEN_PREFIX, secrets::random_secret());
    let txn = db::begin_write(&state.db).await?;
    let row = api_token::ActiveModel {
        staff_id: Set(user.id()),
        name: Set(name.unwrap_or_default()),
        token_hash: Set(secrets::hash_secret(&secret)),
        scopes: Set(serde_json::to_value(&body.scopes).map_err(ApiError::internal)?),
        expires_at: Set(body.expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let api = to_api(&row);
    audit::record(&txn, &user.actor(), Change::new("api_token.created", "api_token", row.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(CreatedApiToken { api_token: api, token: secret }))
}

/// Revoke one of your API tokens; it stops working immediately.
#[utoipa::path(delete, path = "/api/v1/api-tokens/{id}", operation_id = "revokeApiToken", tag = "auth", security(("bearer" = [])), params(("id" = i32, Path)),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "`session_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all, fields(actor = user.id(), token_id = *id))]
pub async fn revoke(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require_session()?;
    let txn = db::begin_write(&state.db).await?;
    let row = api_token::Entity::find_by_id(*id)
        .filter(api_token::Column::StaffId.eq(user.id()))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::not_found("API token"))?;
    api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(OffsetDateTime::now_utc()))
        .filter(api_token::Column::Id.eq(row.id))
        .exec(&txn)
        .await?;
    audit::record(&txn, &user.actor(), Change::new("api_token.revoked", "api_token", row.id).before(&to_api(&row))).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
