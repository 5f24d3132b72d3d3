//! Request and response bodies of the public API, shared by the server and the browser client.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::permissions::PermissionSet;
use crate::validation::FieldError;

mod clients;
mod commissions;
mod dashboard;
mod expenses;
mod goals;
mod invoicing;
mod lead_tools;
mod leads;
mod sales_docs;
mod tasks;
#[cfg(test)]
mod wasm_serde_tests;

pub use clients::*;
pub use commissions::*;
pub use dashboard::*;
pub use expenses::*;
pub use goals::*;
pub use invoicing::*;
pub use lead_tools::*;
pub use leads::*;
pub use sales_docs::*;
pub use tasks::*;

/// For PATCH bodies: absent → `None` (unchanged), `null` → `Some(None)` (cleared).
pub fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// An RFC 9457 problem document: every error response of the API has this shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "type": "https://crmconnect.dev/problems/validation_failed",
    "title": "Validation failed",
    "status": 422,
    "detail": "2 fields are invalid",
    "code": "validation_failed",
    "errors": [{"field": "email", "code": "invalid_email", "message": "`x` is not a valid e-mail address"}]
})))]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_url: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `validation_failed`, `forbidden`.
    pub code: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// A page of a list endpoint. Pass `next_cursor` back as `cursor` for the next page.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Opaque; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// One change of a record, as the events feed (`GET /events`) and webhooks deliver it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    pub id: i32,
    /// `<record_type>.<what happened>`: `lead.created`, `lead.updated`, `lead.deleted`,
    /// `lead.status_changed`, `proposal.accepted`, `invoice.paid`, `invoice.overdue`, …
    #[serde(rename = "type")]
    pub event_type: String,
    /// `lead`, `opportunity`, `client`, `proposal`, `sales_order`, `invoice`, `contract`,
    /// `recurring_invoice`.
    pub record_type: String,
    pub record_id: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    /// What the event says: for `*.created` and `*.updated` the record as it then was; for
    /// others the facts of the change (e.g. `from`/`to` of a status change); `{}` for `*.deleted`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `ok` when the server and its database answer.
    pub status: String,
    pub database: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Long-lived, single-use token for `POST /api/v1/auth/refresh`; also set as the HttpOnly
    /// `crm_refresh` cookie. Empty when the refresh itself was made with the cookie: then it is
    /// in the cookie only, out of reach of page script.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime of `access_token` in seconds.
    pub expires_in: i64,
}

/// `POST /auth/refresh` and `/auth/logout`. The browser app sends `{}`: its refresh token is
/// the HttpOnly `crm_refresh` cookie, which these endpoints read when the body names none.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleSummary {
    pub id: i32,
    pub name: String,
    pub is_admin: bool,
}

/// `POST /api/v1/me/password`: the caller's own password change (from a session only).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// At least 12 characters, not a commonly used password.
    pub new_password: String,
}

/// `PATCH /api/v1/me`: the caller's own profile (only the fields sent; the e-mail only from a
/// session, never with an API token).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateProfile {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// The signed-in staff member and what they may do.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub role: RoleSummary,
    /// Effective permissions (for an API token: its scopes intersected with the role).
    pub permissions: PermissionSet,
    /// `session` for a login, `api_token` for a personal API token.
    pub auth_method: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Staff {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub role_id: i32,
    pub role_name: String,
    /// Deactivated staff cannot sign in; their records keep pointing at them.
    pub active: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_login_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateStaff {
    pub name: String,
    pub email: String,
    pub password: String,
    pub role_id: i32,
}

/// Only the fields present are changed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateStaff {
    pub name: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub role_id: Option<i32>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Role {
    pub id: i32,
    pub name: String,
    pub description: String,
    /// Administrators may do everything; `permissions` is ignored for them.
    pub is_admin: bool,
    pub permissions: PermissionSet,
    /// Active and inactive staff holding this role.
    pub staff_count: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateRole {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub permissions: PermissionSet,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateRole {
    pub name: Option<String>,
    pub description: Option<String>,
    pub permissions: Option<PermissionSet>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiToken {
    pub id: i32,
    pub name: String,
    /// `*`, `<module>:*` or `<module>:<action>`, e.g. `leads:view`.
    pub scopes: Vec<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateApiToken {
    pub name: String,
    pub scopes: Vec<String>,
    /// RFC 3339; omitted means the token never expires.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub expires_at: Option<OffsetDateTime>,
}

/// Returned once, at creation: `token` is never shown again (only its hash is stored).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApiToken {
    #[serde(flatten)]
    pub api_token: ApiToken,
    pub token: String,
}

/// One recorded state change.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i32,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
    /// `null` for changes made by the system or the command line.
    pub actor_staff_id: Option<i32>,
    /// e.g. `staff.created`, `role.updated`, `auth.login`.
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<i32>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub ip: Option<String>,
}

/// An endpoint that receives events (`POST`, signed). The signing secret is shown once, at creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Webhook {
    pub id: i32,
    pub url: String,
    /// Event types delivered (`lead.created`, `invoice.paid`, …), or `["*"]` for all.
    pub events: Vec<String>,
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A new endpoint with its signing secret — the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookCreated {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// Verifies `X-CRMConnect-Signature` (HMAC-SHA256); keep it secret.
    pub secret: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookInput {
    /// `https://…` (or `http://`); addresses on private or loopback networks are refused.
    pub url: Option<String>,
    /// Event types, or `["*"]` (the default) for every event.
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
}

/// One event's delivery to one endpoint: tried until it answers 2xx, for up to 24 hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookDelivery {
    pub id: i32,
    pub event_id: i32,
    pub event_type: String,
    pub record_type: String,
    pub record_id: i32,
    /// `pending`, `succeeded` or `failed` (gave up after 24 hours).
    pub status: String,
    pub attempts: i32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// The endpoint's last HTTP status, if it answered.
    pub response_status: Option<i32>,
    pub latency_ms: Option<i32>,
    /// The first 500 characters of the last answer's body.
    pub response_excerpt: Option<String>,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub delivered_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}
