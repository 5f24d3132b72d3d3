use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{Health, Problem};
use sea_orm::ConnectionTrait;

use crate::problem::{ApiError, ErrorCode};
use crate::state::AppState;

/// Liveness and database check (for load balancers; no authentication).
#[utoipa::path(get, path = "/api/v1/health", operation_id = "getHealth", tag = "system",
    responses(
        (status = 200, description = "Server and database answer", body = Health),
        (status = 503, description = "`database_unavailable`: the database does not answer", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let backend = state.db.get_database_backend();
    state.db.execute(sea_orm::Statement::from_string(backend, "SELECT 1")).await.map_err(|e| {
        tracing::error!(error = %e, "health check: database unreachable");
        ApiError::new(ErrorCode::DatabaseUnavailable, "The database does not answer.")
    })?;
    let database = match backend {
        sea_orm::DatabaseBackend::Postgres => "postgres",
        sea_orm::DatabaseBackend::Sqlite => "sqlite",
        sea_orm::DatabaseBackend::MySql => "mysql",
    };
    Ok(HttpResponse::Ok().json(Health { status: "ok".into(), database: database.into(), version: env!("CARGO_PKG_VERSION").into() }))
}
