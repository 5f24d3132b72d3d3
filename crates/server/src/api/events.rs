//! `/api/v1/events`: the events feed — every change to the records an integrator mirrors, in
//! order, with a cursor (see `ops::events`).

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{Event, Page, Problem};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::AuthUser;
use crate::ops::events::{page, EventQuery};
use crate::pagination::MAX_LIMIT;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// `next_cursor` of the previous call; without it the feed starts at its oldest kept event.
    pub after: Option<String>,
    /// Only these event types, comma-separated (`lead.created,lead.updated`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// Only events of this record type: `lead`, `opportunity`, `client`, `proposal`,
    /// `sales_order`, `invoice`, `contract`, `recurring_invoice`.
    pub record_type: Option<String>,
    /// Only events of this record (with `record_type`).
    pub record_id: Option<i32>,
    /// Page size, 1–500 (default 100).
    pub limit: Option<u64>,
}

/// The events feed: `lead.created`, `lead.updated`, `lead.deleted`, `lead.status_changed`,
/// `proposal.accepted`, `invoice.paid`, … oldest first, kept `CRM_EVENTS_RETENTION_DAYS` (30 by
/// default). Poll with the last `next_cursor` you got (it is always given; an empty page keeps
/// your place): no event is ever skipped or repeated, even while changes are being committed.
/// You get the events of the record types your role (and the API token's scopes) can view; with
/// `view_own`, of the records that are yours now.
#[utoipa::path(get, path = "/api/v1/events", operation_id = "listEvents", tag = "events", security(("bearer" = [])), params(EventParams),
    responses((status = 200, body = Page<Event>), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `record_type`, `record_id` or `limit` is invalid; see `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, params: web::Query<EventParams>) -> ApiResult<HttpResponse> {
    let limit = params.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::field("limit", "out_of_range", format!("limit must be between 1 and {MAX_LIMIT}")));
    }
    if params.record_id.is_some() && params.record_type.is_none() {
        return Err(ApiError::field("record_id", "required", "give `record_type` with `record_id`"));
    }
    let types = params.event_type.as_deref().unwrap_or_default().split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect();
    let query = EventQuery { after: params.after.clone(), types, record_type: params.record_type.clone(), record_id: params.record_id, limit };
    Ok(HttpResponse::Ok().json(page(&state.db, &user, &query).await?))
}
