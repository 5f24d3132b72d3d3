//! Scoring rules, reminders, custom fields, attachments, bulk actions and global search.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Client, Lead};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoringRule {
    pub id: i32,
    /// `source`, `industry`, `area`, `function`, `company_size`, `country`, `tag`,
    /// `estimated_value` or `custom_field.<key>`.
    pub field: String,
    /// `equals`, `in`, `contains` or `range`.
    pub operator: String,
    /// A string (`equals`, `contains`), a list of strings (`in`) or `{"min", "max"}` (`range`).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub value: serde_json::Value,
    /// Added to the score when the rule matches (may be negative).
    pub points: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoringRuleInput {
    pub field: String,
    pub operator: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub value: serde_json::Value,
    pub points: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reminder {
    pub id: i32,
    pub lead_id: i32,
    pub lead_name: String,
    /// Who is reminded.
    pub staff_id: i32,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub remind_at: OffsetDateTime,
    pub note: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub done_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateReminder {
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub remind_at: OffsetDateTime,
    /// Defaults to you.
    #[serde(default)]
    pub staff_id: Option<i32>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomField {
    pub id: i32,
    /// `lead` or `client`.
    pub entity: String,
    /// The name in `custom_fields` objects and filters (`cf.<key>=…`).
    pub key: String,
    pub label: String,
    /// `text`, `number`, `date`, `select`, `multi_select` or `checkbox`.
    pub field_type: String,
    /// The choices of `select` and `multi_select`.
    pub options: Vec<String>,
    pub required: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomFieldInput {
    pub entity: String,
    pub key: String,
    pub label: String,
    pub field_type: String,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomFieldUpdate {
    pub label: Option<String>,
    pub options: Option<Vec<String>>,
    pub required: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub id: i32,
    pub lead_id: i32,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub uploaded_by: Option<i32>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
}

/// `POST /leads/bulk`: one action on a selection, all or nothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkLeadAction {
    pub ids: Vec<i32>,
    /// `assign`, `change_status`, `add_tag`, `mark_lost`, `mark_junk` or `delete`.
    pub action: String,
    /// For `assign` (`null` unassigns).
    #[serde(default)]
    pub assigned_to: Option<i32>,
    /// For `change_status`.
    #[serde(default)]
    pub status_id: Option<i32>,
    /// For `add_tag`.
    #[serde(default)]
    pub tag: Option<String>,
    /// For `mark_lost`.
    #[serde(default)]
    pub lost_reason_id: Option<i32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkResult {
    pub action: String,
    pub affected: u64,
}

/// Global search results, grouped by type, each already permission-filtered.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResults {
    pub q: String,
    pub leads: Vec<Lead>,
    pub opportunities: Vec<Lead>,
    pub clients: Vec<Client>,
}
