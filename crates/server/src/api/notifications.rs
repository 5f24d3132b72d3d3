//! `/api/v1/notifications`: the caller's own in-app notifications, newest first.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{Notification, Page, Problem};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, Order, QueryFilter};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::IntoParams;

use crate::auth::AuthUser;
use crate::entities::notification;
use crate::pagination::{finish_page, Keys, PageParams};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

fn to_api(n: &notification::Model) -> Notification {
    Notification {
        id: n.id,
        kind: n.kind.clone(),
        title: n.title.clone(),
        body: n.body.clone(),
        link: n.link.clone(),
        entity_type: n.entity_type.clone(),
        entity_id: n.entity_id,
        read: n.read_at.is_some(),
        created_at: n.created_at,
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationFilter {
    /// `true`: only unread ones.
    pub unread: Option<bool>,
}

/// My notifications, newest first. The cursor pages backwards in time.
#[utoipa::path(get, path = "/api/v1/notifications", operation_id = "listNotifications", tag = "notifications", security(("bearer" = [])), params(NotificationFilter, PageParams),
    responses((status = 200, body = Page<Notification>), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, filter: web::Query<NotificationFilter>, page: web::Query<PageParams>) -> ApiResult<HttpResponse> {
    let page = page.parse()?;
    let mut q = page.select(
        notification::Entity::find().filter(notification::Column::StaffId.eq(user.id())),
        Keys { id: notification::Column::Id, created_at: notification::Column::CreatedAt, updated_at: notification::Column::CreatedAt },
        Order::Desc,
    );
    if filter.unread == Some(true) {
        q = q.filter(notification::Column::ReadAt.is_null());
    }
    let (rows, next_cursor) = finish_page(q.all(&state.db).await?, page, |n| (n.id, n.created_at));
    Ok(HttpResponse::Ok().json(Page { items: rows.iter().map(to_api).collect(), next_cursor }))
}

/// Mark one of my notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", operation_id = "markNotificationRead", tag = "notifications", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Notification), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn mark_read(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let n = notification::Entity::find_by_id(*id)
        .filter(notification::Column::StaffId.eq(user.id()))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("notification"))?;
    if n.read_at.is_none() {
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(OffsetDateTime::now_utc()))
            .filter(notification::Column::Id.eq(n.id))
            .exec(&state.db)
            .await?;
    }
    let n = notification::Entity::find_by_id(n.id).one(&state.db).await?.ok_or_else(|| ApiError::not_found("notification"))?;
    Ok(HttpResponse::Ok().json(to_api(&n)))
}

/// Mark all my notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read-all", operation_id = "markAllNotificationsRead", tag = "notifications", security(("bearer" = [])),
    responses((status = 204, description = "Done"), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn mark_all_read(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(OffsetDateTime::now_utc()))
        .filter(notification::Column::StaffId.eq(user.id()))
        .filter(notification::Column::ReadAt.is_null())
        .exec(&state.db)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
