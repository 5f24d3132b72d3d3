//! The morning dashboard in one call (`GET /api/v1/dashboard`): what needs doing today.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::Goal;

/// Each list holds what the caller may see ("view own" applies); a module the role cannot see
/// gives an empty list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    /// Leads of the last 24 hours nobody has contacted yet, newest first.
    pub new_leads: Vec<DashboardLead>,
    /// Your open tasks due today.
    pub tasks_due_today: Vec<DashboardItem>,
    /// Your open reminders due today.
    pub reminders_due_today: Vec<DashboardItem>,
    /// Sent proposals past their `open_till`, unanswered: resend or follow up.
    pub expired_proposals: Vec<DashboardDocument>,
    /// Issued invoices past their due date with a balance.
    pub overdue_invoices: Vec<DashboardDocument>,
    /// Your goals: the company's, yours, your teams'.
    pub goals: Vec<Goal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DashboardLead {
    pub id: i32,
    pub name: String,
    pub company: Option<String>,
    pub source: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
}

/// A task (`id` of the task) or a reminder (`id` of the reminder, `lead_id` its lead).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DashboardItem {
    pub id: i32,
    pub title: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub due_at: OffsetDateTime,
    pub lead_id: Option<i32>,
}

/// A proposal or an invoice that needs attention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DashboardDocument {
    pub id: i32,
    pub number: Option<String>,
    /// The proposal's subject, or the invoice's client.
    pub title: String,
    /// `open_till` of a proposal, `due_date` of an invoice.
    #[serde(with = "crate::dates::iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
    /// The proposal's total, the invoice's balance due.
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "1210.00"))]
    pub amount: Decimal,
    pub currency: String,
}
