//! Tasks: follow-ups with assignees, followers, a due time and a reminder, about a record.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::double_option;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    pub id: i32,
    pub title: String,
    pub description: Option<String>,
    /// `not_started`, `in_progress`, `testing`, `awaiting_feedback`, `complete`.
    pub status: String,
    /// The guide's codes: 1 not started, 4 in progress, 3 testing, 2 awaiting feedback, 5 complete.
    pub status_code: i32,
    /// `low`, `medium`, `high`, `urgent`.
    pub priority: String,
    #[serde(with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub start_date: Option<Date>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
    /// Staff ids.
    pub assignees: Vec<i32>,
    /// Staff ids kept informed.
    pub followers: Vec<i32>,
    /// `lead`, `opportunity`, `client`, `proposal`, `invoice`, `sales_order`, `contract`.
    pub related_type: Option<String>,
    pub related_id: Option<i32>,
    /// When the assignees get a reminder (once).
    #[serde(with = "time::serde::rfc3339::option")]
    pub reminder_at: Option<OffsetDateTime>,
    pub is_overdue: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
    pub created_by: Option<i32>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Create (`title` required) or change a task: only the fields sent change; `null` clears.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskInput {
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub description: Option<Option<String>>,
    /// A status name or code (`in_progress`, `4`); default `not_started`.
    pub status: Option<String>,
    /// The same as `status`, as its code.
    pub status_code: Option<i32>,
    /// `low`, `medium` (default), `high`, `urgent`.
    pub priority: Option<String>,
    #[serde(default, with = "crate::dates::patch", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub start_date: Option<Option<Date>>,
    #[serde(default, with = "crate::dates::patch_instant", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub due_at: Option<Option<OffsetDateTime>>,
    /// Replaces the assignees (default: the creator).
    pub assignees: Option<Vec<i32>>,
    pub followers: Option<Vec<i32>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub related_type: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>))]
    pub related_id: Option<Option<i32>>,
    #[serde(default, with = "crate::dates::patch_instant", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub reminder_at: Option<Option<OffsetDateTime>>,
}
