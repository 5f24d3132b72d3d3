//! Tasks: the guide's (Perfex's) status codes, priorities, and which tasks are due when.

use time::{Date, OffsetDateTime};

use crate::validation::FieldProblem;

/// Task statuses with the codes users know from the guide (note the order of the codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    NotStarted,
    AwaitingFeedback,
    Testing,
    InProgress,
    Complete,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 5] = [TaskStatus::NotStarted, TaskStatus::InProgress, TaskStatus::Testing, TaskStatus::AwaitingFeedback, TaskStatus::Complete];

    pub fn code(self) -> i32 {
        match self {
            TaskStatus::NotStarted => 1,
            TaskStatus::AwaitingFeedback => 2,
            TaskStatus::Testing => 3,
            TaskStatus::InProgress => 4,
            TaskStatus::Complete => 5,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::NotStarted => "not_started",
            TaskStatus::AwaitingFeedback => "awaiting_feedback",
            TaskStatus::Testing => "testing",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Complete => "complete",
        }
    }

    pub fn from_code(code: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// A code (`4`) or a name (`in_progress`, `In progress`).
    pub fn parse(raw: &str) -> Result<Self, FieldProblem> {
        let text = raw.trim();
        if let Ok(code) = text.parse::<i32>() {
            return Self::from_code(code).ok_or_else(|| FieldProblem::new("invalid_status", format!("no task status has code {code} (1–5)")));
        }
        let name = text.to_ascii_lowercase().replace(' ', "_");
        Self::ALL.into_iter().find(|s| s.as_str() == name).ok_or_else(|| {
            FieldProblem::new("invalid_status", format!("`{text}` is not a task status (not_started, in_progress, testing, awaiting_feedback, complete)"))
        })
    }
}

pub const PRIORITIES: [&str; 4] = ["low", "medium", "high", "urgent"];

pub fn parse_priority(raw: &str) -> Result<&'static str, FieldProblem> {
    let p = raw.trim().to_ascii_lowercase();
    PRIORITIES
        .into_iter()
        .find(|x| *x == p)
        .ok_or_else(|| FieldProblem::new("invalid_priority", format!("`{}` is not a priority (low, medium, high, urgent)", raw.trim())))
}

/// The record types a task can be about.
pub const RELATED_TYPES: [&str; 7] = ["lead", "opportunity", "client", "proposal", "invoice", "sales_order", "contract"];

/// The guide's "Tasks due today / overdue / upcoming" filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Due during today (UTC), not complete.
    Today,
    /// Due before now, not complete.
    Overdue,
    /// Due after today.
    Upcoming,
}

impl Due {
    pub fn parse(raw: &str) -> Result<Self, FieldProblem> {
        match raw.trim() {
            "today" => Ok(Due::Today),
            "overdue" => Ok(Due::Overdue),
            "upcoming" => Ok(Due::Upcoming),
            other => Err(FieldProblem::new("invalid", format!("`{other}` is not one of today, overdue, upcoming"))),
        }
    }

    /// The `[from, until)` window of due times this filter selects at `now`.
    pub fn window(self, now: OffsetDateTime) -> (Option<OffsetDateTime>, Option<OffsetDateTime>) {
        let midnight = |d: Date| d.midnight().assume_utc();
        let today = now.date();
        let tomorrow = today.next_day().unwrap_or(today);
        match self {
            Due::Today => (Some(midnight(today)), Some(midnight(tomorrow))),
            Due::Overdue => (None, Some(now)),
            Due::Upcoming => (Some(midnight(tomorrow)), None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn statuses_keep_the_guides_codes() {
        assert_eq!(TaskStatus::ALL.map(TaskStatus::code), [1, 4, 3, 2, 5]);
        assert_eq!(TaskStatus::parse("4").unwrap(), TaskStatus::InProgress);
        assert_eq!(TaskStatus::parse("Awaiting feedback").unwrap(), TaskStatus::AwaitingFeedback);
        assert!(TaskStatus::parse("6").is_err() && TaskStatus::parse("done").is_err());
        assert_eq!(parse_priority(" High ").unwrap(), "high");
        assert!(parse_priority("asap").is_err());
    }

    #[test]
    fn due_windows_follow_the_utc_day() {
        let now = datetime!(2026-12-07 15:30 UTC);
        assert_eq!(Due::Today.window(now), (Some(datetime!(2026-12-07 0:00 UTC)), Some(datetime!(2026-12-08 0:00 UTC))));
        assert_eq!(Due::Overdue.window(now), (None, Some(now)));
        assert_eq!(Due::Upcoming.window(now), (Some(datetime!(2026-12-08 0:00 UTC)), None));
        assert!(Due::parse("tomorrow").is_err());
    }
}
