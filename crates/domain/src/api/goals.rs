//! Teams and goals (the guide's "Goals — targets and performance").

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::double_option;
use crate::goals::{GoalInput, GoalStatus, GoalTargetType, GoalType};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Team {
    pub id: i32,
    pub name: String,
    pub member_ids: Vec<i32>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
}

/// Create (`name` required) or change a team; `member_ids` replaces the members.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TeamInput {
    pub name: Option<String>,
    pub member_ids: Option<Vec<i32>>,
}

/// A goal with how far along it is (computed on every read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Goal {
    pub id: i32,
    #[serde(flatten)]
    pub goal: GoalInput,
    /// What counts so far: an amount in `currency` for money goals, a number of records otherwise.
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "12500.00"))]
    pub achieved: Decimal,
    /// Percent of the target, 2 decimals; may pass 100.
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "25.00"))]
    pub progress_percent: Decimal,
    pub status: GoalStatus,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
}

/// Change a goal: only the fields sent change; `null` clears `currency`, `staff_id`, `team_id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GoalPatch {
    pub subject: Option<String>,
    pub goal_type: Option<GoalType>,
    #[serde(default, with = "rust_decimal::serde::str_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub target: Option<Decimal>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub currency: Option<Option<String>>,
    #[serde(default, with = "crate::dates::option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub start_date: Option<Date>,
    #[serde(default, with = "crate::dates::option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub end_date: Option<Date>,
    pub target_type: Option<GoalTargetType>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>))]
    pub staff_id: Option<Option<i32>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>))]
    pub team_id: Option<Option<i32>>,
    pub notify_when_achieved: Option<bool>,
    pub notify_when_missed: Option<bool>,
}

impl GoalPatch {
    /// The goal with this patch applied.
    pub fn apply(&self, current: &GoalInput) -> GoalInput {
        GoalInput {
            subject: self.subject.clone().unwrap_or_else(|| current.subject.clone()),
            goal_type: self.goal_type.unwrap_or(current.goal_type),
            target: self.target.unwrap_or(current.target),
            currency: self.currency.clone().unwrap_or_else(|| current.currency.clone()),
            start_date: self.start_date.unwrap_or(current.start_date),
            end_date: self.end_date.unwrap_or(current.end_date),
            target_type: self.target_type.unwrap_or(current.target_type),
            staff_id: self.staff_id.unwrap_or(current.staff_id),
            team_id: self.team_id.unwrap_or(current.team_id),
            notify_when_achieved: self.notify_when_achieved.unwrap_or(current.notify_when_achieved),
            notify_when_missed: self.notify_when_missed.unwrap_or(current.notify_when_missed),
        }
    }
}
