//! Goals: targets for the whole company, a staff member or a team, how far along they are, and
//! which notification is due.
//!
//! The server counts what was achieved (income, converted leads, …) in SQL; everything decided
//! from those numbers lives here so the dashboard widget, the goal page and the job runner that
//! sends the notifications agree on "achieved" and "missed".

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use time::Date;

use crate::money::{self, Currency};
use crate::validation::{parse_name, FieldError, Validator};

pub const SUBJECT_MAX_CHARS: usize = 200;

/// What a goal counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GoalType {
    /// Payments received.
    Income,
    ConvertedLeads,
    NewClients,
    AcceptedProposals,
    /// The value of contracts signed.
    ContractValue,
    /// The total of invoices issued.
    TotalInvoices,
}

impl GoalType {
    /// An amount in a currency; the others count records, so their targets are whole numbers.
    pub fn is_money(self) -> bool {
        matches!(self, GoalType::Income | GoalType::ContractValue | GoalType::TotalInvoices)
    }
}

/// Whose results count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GoalTargetType {
    /// The whole company.
    All,
    /// One staff member (`staff_id`).
    Staff,
    /// One team (`team_id`).
    Team,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GoalStatus {
    InProgress,
    Achieved,
    Missed,
}

/// A goal as created or replaced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GoalInput {
    pub subject: String,
    pub goal_type: GoalType,
    /// An amount for money goals, a whole number for the others.
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "50000.00"))]
    pub target: Decimal,
    /// ISO 4217; required for money goals, ignored for the others.
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(with = "crate::dates::iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub start_date: Date,
    /// The last day that counts.
    #[serde(with = "crate::dates::iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub end_date: Date,
    pub target_type: GoalTargetType,
    #[serde(default)]
    pub staff_id: Option<i32>,
    #[serde(default)]
    pub team_id: Option<i32>,
    #[serde(default)]
    pub notify_when_achieved: bool,
    #[serde(default)]
    pub notify_when_missed: bool,
}

impl GoalInput {
    /// Every problem at once, each named by its JSON field.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut v = Validator::new();
        v.check("subject", parse_name(&self.subject, SUBJECT_MAX_CHARS));
        if self.target <= Decimal::ZERO {
            v.push("target", "not_positive", "the target must be greater than 0");
        } else if self.goal_type.is_money() {
            match self.currency.as_deref() {
                None => v.push("currency", "required", "a money goal needs a currency"),
                Some(raw) => {
                    if let Some(currency) = v.check("currency", Currency::parse(raw)) {
                        v.check("target", money::to_minor(self.target, currency));
                    }
                }
            }
        } else if !self.target.fract().is_zero() {
            v.push("target", "not_integer", "this goal counts records: a whole number");
        } else if i64::try_from(self.target).is_err() {
            v.push("target", "out_of_range", "the target is too large");
        }
        if self.start_date > self.end_date {
            v.push("end_date", "before_start", "must not be before start_date");
        }
        match self.target_type {
            GoalTargetType::Staff if self.staff_id.is_none() => v.push("staff_id", "required", "a staff goal needs a staff member"),
            GoalTargetType::Team if self.team_id.is_none() => v.push("team_id", "required", "a team goal needs a team"),
            _ => {}
        }
        if self.staff_id.is_some() && self.target_type != GoalTargetType::Staff {
            v.push("staff_id", "not_allowed", "only a staff goal has a staff member");
        }
        if self.team_id.is_some() && self.target_type != GoalTargetType::Team {
            v.push("team_id", "not_allowed", "only a team goal has a team");
        }
        v.finish()
    }
}

/// Percent of the target achieved, 2 decimals (half away from zero); may pass 100. 0 for a target
/// that is not positive (validation refuses those) and for negative results (refunds beyond income).
pub fn progress(achieved: Decimal, target: Decimal) -> Decimal {
    if target <= Decimal::ZERO || achieved <= Decimal::ZERO {
        return Decimal::new(0, 2);
    }
    // Only a huge result over a tiny target overflows: show the most there is rather than panic.
    let percent = achieved.checked_mul(Decimal::ONE_HUNDRED).and_then(|x| x.checked_div(target)).unwrap_or(Decimal::MAX);
    let mut rounded = percent.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(2);
    rounded
}

/// Achieved as soon as the target is reached (even before the end); missed once the end date has
/// passed without that; in progress until then, the end date included.
pub fn status(achieved: Decimal, target: Decimal, end_date: Date, today: Date) -> GoalStatus {
    if achieved >= target {
        GoalStatus::Achieved
    } else if today > end_date {
        GoalStatus::Missed
    } else {
        GoalStatus::InProgress
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GoalNotification {
    Achieved,
    Missed,
}

/// A goal's notification settings and what was already sent: each notification goes out once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NotificationState {
    pub notify_when_achieved: bool,
    pub notify_when_missed: bool,
    pub achieved_sent: bool,
    pub missed_sent: bool,
}

/// The notification to send now, if any.
pub fn notification_due(status: GoalStatus, state: NotificationState) -> Option<GoalNotification> {
    match status {
        GoalStatus::Achieved if state.notify_when_achieved && !state.achieved_sent => Some(GoalNotification::Achieved),
        GoalStatus::Missed if state.notify_when_missed && !state.missed_sent => Some(GoalNotification::Missed),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use time::macros::date;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }
    fn goal() -> GoalInput {
        GoalInput {
            subject: "Q1 income".into(),
            goal_type: GoalType::Income,
            target: d("50000.00"),
            currency: Some("RON".into()),
            start_date: date!(2026 - 01 - 01),
            end_date: date!(2026 - 03 - 31),
            target_type: GoalTargetType::All,
            staff_id: None,
            team_id: None,
            notify_when_achieved: true,
            notify_when_missed: false,
        }
    }
    fn problems(g: GoalInput) -> Vec<(String, String)> {
        g.validate().unwrap_err().into_iter().map(|e| (e.field, e.code)).collect()
    }
    fn one(field: &str, code: &str) -> Vec<(String, String)> {
        vec![(field.into(), code.into())]
    }

    #[test]
    fn money_goals_are_income_contracts_and_invoices() {
        let money: Vec<bool> =
            [GoalType::Income, GoalType::ConvertedLeads, GoalType::NewClients, GoalType::AcceptedProposals, GoalType::ContractValue, GoalType::TotalInvoices]
                .map(GoalType::is_money)
                .into();
        assert_eq!(money, [true, false, false, false, true, true]);
        assert_eq!(serde_json::to_string(&GoalType::ConvertedLeads).unwrap(), r#""converted_leads""#);
        assert_eq!(serde_json::to_string(&GoalStatus::InProgress).unwrap(), r#""in_progress""#);
    }

    #[test]
    fn progress_is_a_percentage_with_two_decimals() {
        for (achieved, target, expected) in
            [("50", "200", "25.00"), ("1", "3", "33.33"), ("2", "3", "66.67"), ("0.01", "8", "0.13"), ("300", "200", "150.00"), ("0", "5", "0.00")]
        {
            assert_eq!(progress(d(achieved), d(target)).to_string(), expected, "{achieved}/{target}");
        }
        assert_eq!(progress(d("10"), d("0")), d("0"));
        assert_eq!(progress(d("10"), d("-5")), d("0"));
        assert_eq!(progress(d("-10"), d("5")), d("0"));
        assert_eq!(progress(Decimal::MAX, d("0.0001")), Decimal::MAX, "no panic on overflow");
    }

    #[test]
    fn the_end_date_is_still_in_progress_and_the_day_after_is_missed() {
        let end = date!(2026 - 03 - 31);
        assert_eq!(status(d("10"), d("100"), end, date!(2026 - 03 - 30)), GoalStatus::InProgress);
        assert_eq!(status(d("10"), d("100"), end, end), GoalStatus::InProgress);
        assert_eq!(status(d("10"), d("100"), end, date!(2026 - 04 - 01)), GoalStatus::Missed);
        assert_eq!(status(d("100"), d("100"), end, date!(2026 - 01 - 15)), GoalStatus::Achieved, "before the end");
        assert_eq!(status(d("120"), d("100"), end, date!(2026 - 05 - 01)), GoalStatus::Achieved, "after the end");
    }

    #[test]
    fn goals_are_validated_field_by_field() {
        assert!(goal().validate().is_ok());
        assert_eq!(problems(GoalInput { subject: "  ".into(), ..goal() }), one("subject", "required"));
        assert_eq!(problems(GoalInput { target: d("0"), ..goal() }), one("target", "not_positive"));
        assert_eq!(problems(GoalInput { currency: None, ..goal() }), one("currency", "required"));
        assert_eq!(problems(GoalInput { currency: Some("XYZ".into()), ..goal() }), one("currency", "invalid_currency"));
        assert_eq!(problems(GoalInput { target: d("10.005"), ..goal() }), one("target", "too_precise"));
        assert_eq!(problems(GoalInput { currency: Some("JPY".into()), target: d("10.5"), ..goal() }), one("target", "too_precise"));
        let leads = GoalInput { goal_type: GoalType::ConvertedLeads, currency: None, target: d("25"), ..goal() };
        assert!(leads.validate().is_ok(), "count goals need no currency");
        assert_eq!(problems(GoalInput { target: d("2.5"), ..leads.clone() }), one("target", "not_integer"));
        assert!(GoalInput { target: d("25.00"), ..leads }.validate().is_ok());
        assert_eq!(problems(GoalInput { end_date: date!(2025 - 12 - 31), ..goal() }), one("end_date", "before_start"));
        assert!(GoalInput { end_date: date!(2026 - 01 - 01), ..goal() }.validate().is_ok(), "a one-day goal");
    }

    #[test]
    fn staff_and_team_goals_name_exactly_their_subject() {
        assert_eq!(problems(GoalInput { target_type: GoalTargetType::Staff, ..goal() }), one("staff_id", "required"));
        assert!(GoalInput { target_type: GoalTargetType::Staff, staff_id: Some(3), ..goal() }.validate().is_ok());
        assert_eq!(problems(GoalInput { target_type: GoalTargetType::Team, ..goal() }), one("team_id", "required"));
        assert!(GoalInput { target_type: GoalTargetType::Team, team_id: Some(2), ..goal() }.validate().is_ok());
        assert_eq!(problems(GoalInput { staff_id: Some(3), ..goal() }), one("staff_id", "not_allowed"));
        assert_eq!(problems(GoalInput { target_type: GoalTargetType::Staff, staff_id: Some(3), team_id: Some(2), ..goal() }), one("team_id", "not_allowed"));
    }

    #[test]
    fn goals_travel_as_json() {
        let json = r#"{"subject":"Q1","goal_type":"income","target":"50000.00","currency":"RON","start_date":"2026-01-01","end_date":"2026-03-31","target_type":"all"}"#;
        let parsed: GoalInput = serde_json::from_str(json).unwrap();
        assert_eq!(parsed, GoalInput { subject: "Q1".into(), notify_when_achieved: false, ..goal() });
        assert!(serde_json::to_string(&parsed).unwrap().contains(r#""target":"50000.00","currency":"RON","start_date":"2026-01-01""#));
    }

    #[test]
    fn each_notification_is_sent_once_when_asked_for() {
        let both = NotificationState { notify_when_achieved: true, notify_when_missed: true, ..Default::default() };
        assert_eq!(notification_due(GoalStatus::Achieved, both), Some(GoalNotification::Achieved));
        assert_eq!(notification_due(GoalStatus::Missed, both), Some(GoalNotification::Missed));
        assert_eq!(notification_due(GoalStatus::InProgress, both), None);
        assert_eq!(notification_due(GoalStatus::Achieved, NotificationState { achieved_sent: true, ..both }), None);
        assert_eq!(notification_due(GoalStatus::Missed, NotificationState { missed_sent: true, ..both }), None);
        assert_eq!(notification_due(GoalStatus::Achieved, NotificationState::default()), None, "not asked for");
        assert_eq!(notification_due(GoalStatus::Missed, NotificationState { notify_when_achieved: true, ..Default::default() }), None);
    }
}
