//! `/api/v1/webhooks`: endpoints that receive the events feed as signed `POST`s, their
//! deliveries and redelivery (see `ops::webhooks`). Governed by the Automation permissions: an
//! endpoint receives every event of its types, whoever's record it is.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{Page, Problem, Webhook, WebhookCreated, WebhookDelivery, WebhookInput};
use crmconnect_domain::permissions::{Action, Module};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, Order, QueryFilter};
use time::OffsetDateTime;

use crate::audit::{self, Change};
use crate::auth::{secrets, AuthUser};
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::db;
use crate::entities::{webhook, webhook_delivery};
use crate::extract::Json;
use crate::ops::webhooks::{delivery_to_api, ensure_may_receive, find, redeliver as requeue, to_api, validate};
use crate::pagination::{finish_page, Keys, PageParams};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// Webhook endpoints.
#[utoipa::path(get, path = "/api/v1/webhooks", operation_id = "listWebhooks", tag = "webhooks", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Page<Webhook>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, page: web::Query<PageParams>) -> ApiResult<HttpResponse> {
    user.require(Module::Automation, Action::View)?;
    let page = page.parse()?;
    let keys = Keys { id: webhook::Column::Id, created_at: webhook::Column::CreatedAt, updated_at: webhook::Column::UpdatedAt };
    let rows = page.select(webhook::Entity::find(), keys, Order::Asc).all(&state.db).await?;
    let (rows, next_cursor) = finish_page(rows, page, |w| (w.id, w.updated_at));
    Ok(HttpResponse::Ok().json(Page { items: rows.iter().map(to_api).collect(), next_cursor }))
}

/// Register an endpoint. Every event of the chosen types (default: all) is `POST`ed to it as
/// `{id, type, record_type, record_id, created_at, data}` with
/// `X-CRMConnect-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`.
/// The secret is in this answer only. Loopback and private addresses are refused.
#[utoipa::path(post, path = "/api/v1/webhooks", operation_id = "createWebhook", tag = "webhooks", security(("bearer" = [])), request_body = WebhookInput,
    responses((status = 201, body = WebhookCreated),
        (status = 403, description = "`forbidden`: no Automation `create`, or no full `view` on a subscribed record type", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `url` missing, invalid, unresolvable or private (`private_address`), or an unknown event type", body = Problem, content_type = "application/problem+json")))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<WebhookInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Automation, Action::Create)?;
    let endpoint = validate(&body.0, true, state.settings.webhook_allow_private).await?;
    ensure_may_receive(&user.permissions, user.id(), endpoint.events.as_deref().unwrap_or("*"))?;
    let now = OffsetDateTime::now_utc();
    let secret = format!("whsec_{}", secrets::random_secret());
    let txn = db::begin_write(&state.db).await?;
    let saved = webhook::ActiveModel {
        url: Set(endpoint.url.unwrap_or_default()),
        events: Set(endpoint.events.unwrap_or_else(|| "*".into())),
        active: Set(body.0.active.unwrap_or(true)),
        secret: Set(secret.clone()),
        position_txid: Set(0),
        position_id: Set(0),
        created_by: Set(Some(user.id())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let api = to_api(&saved);
    audit::record(&txn, &user.actor(), Change::new("webhook.created", "webhook", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(WebhookCreated { webhook: api, secret }))
}

/// One endpoint.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", operation_id = "getWebhook", tag = "webhooks", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Webhook), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Automation, Action::View)?;
    Ok(HttpResponse::Ok().json(to_api(&find(&state.db, *id).await?)))
}

/// Change an endpoint's URL, event types or `active` (a paused endpoint queues nothing).
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", operation_id = "updateWebhook", tag = "webhooks", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader),
    request_body = WebhookInput,
    responses((status = 200, body = Webhook), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, if_match: IfMatch, body: Json<WebhookInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Automation, Action::Edit)?;
    let endpoint = validate(&body.0, false, state.settings.webhook_allow_private).await?;
    let txn = db::begin_write(&state.db).await?;
    let current = db::Read::ForUpdate.apply(webhook::Entity::find_by_id(*id)).one(&txn).await?.ok_or_else(|| ApiError::not_found("webhook"))?;
    ensure_may_receive(&user.permissions, user.id(), endpoint.events.as_deref().unwrap_or(&current.events))?;
    let before = to_api(&current);
    if_match.check(&before)?;
    let mut row: webhook::ActiveModel = current.into();
    if let Some(url) = endpoint.url {
        row.url = Set(url);
    }
    if let Some(events) = endpoint.events {
        row.events = Set(events);
    }
    if let Some(active) = body.0.active {
        row.active = Set(active);
    }
    row.updated_at = Set(OffsetDateTime::now_utc());
    let saved = row.update(&txn).await?;
    let after = to_api(&saved);
    audit::record(&txn, &user.actor(), Change::new("webhook.updated", "webhook", saved.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Remove an endpoint and its delivery log.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", operation_id = "deleteWebhook", tag = "webhooks", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Automation, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let current = webhook::Entity::find_by_id(*id).one(&txn).await?.ok_or_else(|| ApiError::not_found("webhook"))?;
    webhook_delivery::Entity::delete_many().filter(webhook_delivery::Column::WebhookId.eq(current.id)).exec(&txn).await?;
    webhook::Entity::delete_by_id(current.id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("webhook.deleted", "webhook", current.id).before(&to_api(&current))).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An endpoint's deliveries, newest first: status, attempts, the endpoint's answer and latency.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", operation_id = "listWebhookDeliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i32, Path), PageParams),
    responses((status = 200, body = Page<WebhookDelivery>), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn deliveries(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, page: web::Query<PageParams>) -> ApiResult<HttpResponse> {
    user.require(Module::Automation, Action::View)?;
    let hook = find(&state.db, *id).await?;
    let page = page.parse()?;
    let keys = Keys { id: webhook_delivery::Column::Id, created_at: webhook_delivery::Column::CreatedAt, updated_at: webhook_delivery::Column::CreatedAt };
    let query = webhook_delivery::Entity::find().filter(webhook_delivery::Column::WebhookId.eq(hook.id));
    let rows = page.select(query, keys, Order::Desc).all(&state.db).await?;
    let (rows, next_cursor) = finish_page(rows, page, |d| (d.id, d.created_at));
    Ok(HttpResponse::Ok().json(Page { items: rows.iter().map(delivery_to_api).collect(), next_cursor }))
}

/// Send a delivery again (e.g. after fixing the receiver): it goes back in the queue, due now,
/// and the job runner sends it on its next pass.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", operation_id = "redeliverWebhookDelivery", tag = "webhooks",
    security(("bearer" = [])), params(("id" = i32, Path), ("delivery_id" = i32, Path)),
    responses((status = 200, body = WebhookDelivery), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`in_use`: the delivery is being sent right now", body = Problem, content_type = "application/problem+json")))]
pub async fn redeliver(state: web::Data<AppState>, user: AuthUser, path: web::Path<(i32, i32)>) -> ApiResult<HttpResponse> {
    user.require(Module::Automation, Action::Edit)?;
    let (hook_id, delivery_id) = path.into_inner();
    let txn = db::begin_write(&state.db).await?;
    let d = db::Read::ForUpdate
        .apply(webhook_delivery::Entity::find_by_id(delivery_id))
        .one(&txn)
        .await?
        .filter(|d| d.webhook_id == hook_id)
        .ok_or_else(|| ApiError::not_found("delivery"))?;
    let saved = requeue(&txn, d, OffsetDateTime::now_utc()).await?;
    audit::record(&txn, &user.actor(), Change::new("webhook.redelivery_requested", "webhook", hook_id).after(&delivery_to_api(&saved))).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(delivery_to_api(&saved)))
}
