//! Pipelines, statuses, sources, lost reasons, leads, the Kanban board and activities.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::double_option;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pipeline {
    pub id: i32,
    pub name: String,
    /// New leads without a pipeline go here.
    pub is_default: bool,
    /// Statuses in board order.
    pub statuses: Vec<PipelineStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatePipeline {
    pub name: String,
    #[serde(default)]
    pub is_default: bool,
    /// Optional initial statuses, in order.
    #[serde(default)]
    pub statuses: Vec<CreatePipelineStatus>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdatePipeline {
    pub name: Option<String>,
    pub is_default: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PipelineStatus {
    pub id: i32,
    pub pipeline_id: i32,
    pub name: String,
    /// CSS colour, e.g. `#1f5eff`.
    pub color: String,
    /// 0-based position on the board.
    pub order: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatePipelineStatus {
    pub name: String,
    #[serde(default)]
    pub color: Option<String>,
    /// Where to insert (0-based); at the end when omitted.
    #[serde(default)]
    pub order: Option<i32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdatePipelineStatus {
    pub name: Option<String>,
    pub color: Option<String>,
    pub order: Option<i32>,
}

/// `PUT /pipelines/{id}/statuses/order`: every status id of the pipeline, in the new order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusOrder {
    pub status_ids: Vec<i32>,
}

/// A simple named option: lead sources, lost reasons.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NamedOption {
    pub id: i32,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NamedOptionInput {
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lead {
    pub id: i32,
    pub name: String,
    pub company: Option<String>,
    /// Job title / function.
    pub title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub industry: Option<String>,
    pub area: Option<String>,
    pub company_size: Option<String>,
    pub source_id: Option<i32>,
    pub source: Option<String>,
    pub pipeline_id: i32,
    pub status_id: i32,
    /// The status name.
    pub status: String,
    pub assigned_to: Option<i32>,
    pub assigned_to_name: Option<String>,
    #[serde(with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "12500.00"))]
    pub estimated_value: Option<Decimal>,
    pub currency: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub score: i32,
    pub is_opportunity: bool,
    pub lost: bool,
    pub lost_reason_id: Option<i32>,
    pub lost_reason: Option<String>,
    pub junk: bool,
    pub converted_client_id: Option<i32>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub converted_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_contacted_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub last_status_change_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
    /// Opportunities only: chance of winning, 0–100.
    pub probability: Option<i32>,
    /// Opportunities only (`YYYY-MM-DD`).
    #[serde(with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub expected_close_date: Option<Date>,
    /// Opportunities only.
    pub opportunity_status_id: Option<i32>,
    pub opportunity_status: Option<String>,
    /// Opportunities only: the lead it was converted from.
    pub origin_lead_id: Option<i32>,
    /// Values of the lead custom fields, by key.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub custom_fields: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateLead {
    pub name: String,
    pub company: Option<String>,
    pub title: Option<String>,
    /// At least one of `email` and `phone` is required.
    pub email: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub industry: Option<String>,
    pub area: Option<String>,
    pub company_size: Option<String>,
    pub source_id: Option<i32>,
    /// Defaults to the default pipeline.
    pub pipeline_id: Option<i32>,
    /// Defaults to the pipeline's first status.
    pub status_id: Option<i32>,
    pub assigned_to: Option<i32>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "12500.00"))]
    pub estimated_value: Option<Decimal>,
    /// ISO 4217; required with `estimated_value`.
    pub currency: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Custom field values by key (see `/custom-fields`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub custom_fields: serde_json::Map<String, serde_json::Value>,
}

/// Only fields present change; `null` clears an optional field.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateLead {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub company: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub address: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub industry: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub area: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub company_size: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>))]
    pub source_id: Option<Option<i32>>,
    /// Changing the status here is the same as `POST /leads/{id}/move` to the column's end.
    pub status_id: Option<i32>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>))]
    pub assigned_to: Option<Option<i32>>,
    #[serde(default, deserialize_with = "double_option_decimal", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub estimated_value: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub currency: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub description: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    /// Only the keys sent change; `null` clears one.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub custom_fields: serde_json::Map<String, serde_json::Value>,
}

/// Decimal amounts travel as strings (`"1234.50"`), never as JSON numbers.
pub(crate) fn double_option_decimal<'de, D>(de: D) -> Result<Option<Option<Decimal>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    rust_decimal::serde::str_option::deserialize(de).map(Some)
}

/// `POST /leads/{id}/move`: drop a card into a column, after `after_id` (top when omitted).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MoveLead {
    pub status_id: i32,
    #[serde(default)]
    pub after_id: Option<i32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarkLost {
    pub lost_reason_id: i32,
    #[serde(default)]
    pub note: Option<String>,
}

/// What a Kanban card shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeadCard {
    pub id: i32,
    pub name: String,
    pub company: Option<String>,
    #[serde(with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "12500.00"))]
    pub estimated_value: Option<Decimal>,
    pub currency: Option<String>,
    pub assigned_to: Option<i32>,
    pub assigned_to_name: Option<String>,
    pub score: i32,
    pub days_in_stage: i64,
    pub tags: Vec<String>,
}

/// A sum per currency: amounts in different currencies are never added together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrencyAmount {
    pub currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "37500.00"))]
    pub amount: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KanbanColumn {
    pub status: PipelineStatus,
    /// Cards in this column (all of them, not just this page).
    pub count: u64,
    pub value_totals: Vec<CurrencyAmount>,
    pub items: Vec<LeadCard>,
    /// For `GET /leads/kanban/{status_id}?cursor=…`; `null` when the column is complete.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActivityType {
    Call,
    Email,
    Meeting,
    Note,
}

impl ActivityType {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityType::Call => "call",
            ActivityType::Email => "email",
            ActivityType::Meeting => "meeting",
            ActivityType::Note => "note",
        }
    }

    pub fn parse(s: &str) -> Option<ActivityType> {
        [ActivityType::Call, ActivityType::Email, ActivityType::Meeting, ActivityType::Note].into_iter().find(|t| t.as_str() == s)
    }

    /// A note is not contact with the lead; the others are.
    pub fn counts_as_contact(self) -> bool {
        !matches!(self, ActivityType::Note)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Activity {
    pub id: i32,
    pub lead_id: i32,
    #[serde(rename = "type")]
    pub activity_type: ActivityType,
    pub summary: String,
    /// The e-mail's copy, the meeting's agenda, the note's text.
    pub body: Option<String>,
    pub duration_minutes: Option<i32>,
    pub attendees: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub occurred_at: OffsetDateTime,
    pub staff_id: Option<i32>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateActivity {
    #[serde(rename = "type")]
    pub activity_type: ActivityType,
    pub summary: String,
    #[serde(default)]
    pub body: Option<String>,
    /// Calls: required, 0–1440.
    #[serde(default)]
    pub duration_minutes: Option<i32>,
    /// Meetings: who attended.
    #[serde(default)]
    pub attendees: Option<String>,
    /// When it happened (meetings: when it is); defaults to now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub occurred_at: Option<OffsetDateTime>,
}

/// One line of a lead's history, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
    /// `activity`, `status_change` or `event` (created, lost, junk, restored, converted…).
    pub kind: String,
    pub title: String,
    pub detail: Option<String>,
    pub staff_id: Option<i32>,
    /// The activity's id for `kind = activity`.
    pub activity_id: Option<i32>,
}

/// `POST /leads/{id}/convert-to-opportunity`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConvertToOpportunity {
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "25000.00"))]
    pub estimated_value: Decimal,
    pub currency: String,
    /// 0–100.
    pub probability: i32,
    #[serde(default, with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub expected_close_date: Option<Date>,
    /// Defaults to the first opportunity status.
    #[serde(default)]
    pub opportunity_status_id: Option<i32>,
}

/// `POST /opportunities`: an opportunity added directly (the guide's "or Add Opportunity"),
/// for an existing client (`client_id`: company and contact come from it) or with the company
/// and contact fields of a new prospect (then `email` or `phone` is required, as for a lead).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateOpportunity {
    /// The contact person's name (defaults to the client's primary contact).
    pub name: Option<String>,
    pub client_id: Option<i32>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub source_id: Option<i32>,
    /// Defaults to the caller.
    pub assigned_to: Option<i32>,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "25000.00"))]
    pub estimated_value: Decimal,
    pub currency: String,
    /// 0–100.
    pub probability: i32,
    #[serde(default, with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub expected_close_date: Option<Date>,
    /// Defaults to the first opportunity status.
    #[serde(default)]
    pub opportunity_status_id: Option<i32>,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// `PATCH /opportunities/{id}`: only the fields sent change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateOpportunity {
    pub name: Option<String>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub estimated_value: Option<Decimal>,
    pub currency: Option<String>,
    pub probability: Option<i32>,
    #[serde(default, with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub expected_close_date: Option<Date>,
    pub opportunity_status_id: Option<i32>,
    pub assigned_to: Option<i32>,
}

/// One group of the weighted pipeline, per currency.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForecastRow {
    /// `2026-12` for months, the status or staff id otherwise (`null`: none set).
    pub key: Option<String>,
    pub label: String,
    pub currency: String,
    pub count: u64,
    /// Σ estimated value.
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "100000.00"))]
    pub total: Decimal,
    /// Σ value × probability.
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "42500.00"))]
    pub weighted: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Forecast {
    /// `month`, `status` or `staff`.
    pub group_by: String,
    pub rows: Vec<ForecastRow>,
    /// Grand totals per currency.
    pub totals: Vec<ForecastRow>,
}
