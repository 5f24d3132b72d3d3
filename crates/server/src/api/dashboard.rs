//! `GET /api/v1/dashboard`: the morning widgets in one call (see `ops::dashboard`).

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{Dashboard, Problem};
use time::OffsetDateTime;

use crate::auth::AuthUser;
use crate::problem::ApiResult;
use crate::state::AppState;

/// The morning dashboard: new uncontacted leads of the last 24 hours with their source, your
/// tasks and reminders due today, expired proposals to resend, overdue invoices, your goals —
/// each as your role lets you see them (a module you cannot see gives an empty list).
#[utoipa::path(get, path = "/api/v1/dashboard", operation_id = "getDashboard", tag = "reports", security(("bearer" = [])),
    responses((status = 200, body = Dashboard), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    let board = crate::ops::dashboard::load(&state.db, &user, OffsetDateTime::now_utc()).await?;
    Ok(HttpResponse::Ok().json(board))
}
