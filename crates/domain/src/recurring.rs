//! Recurring billing: when each cycle of a schedule falls, and which cycles are due.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month};

use crate::validation::FieldProblem;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Monthly,
    Quarterly,
    Annual,
    /// Every `interval` days.
    Days,
    /// Every `interval` weeks.
    Weeks,
    /// Every `interval` months.
    Months,
}

impl Frequency {
    pub fn name(self) -> &'static str {
        match self {
            Frequency::Monthly => "monthly",
            Frequency::Quarterly => "quarterly",
            Frequency::Annual => "annual",
            Frequency::Days => "days",
            Frequency::Weeks => "weeks",
            Frequency::Months => "months",
        }
    }

    pub fn parse(raw: &str) -> Option<Frequency> {
        [Frequency::Monthly, Frequency::Quarterly, Frequency::Annual, Frequency::Days, Frequency::Weeks, Frequency::Months]
            .into_iter()
            .find(|f| f.name() == raw)
    }
}

pub fn check_interval(frequency: Frequency, interval: i32) -> Result<i32, FieldProblem> {
    let max = match frequency {
        Frequency::Days => 366,
        Frequency::Weeks => 52,
        Frequency::Months => 36,
        _ => 1,
    };
    if !(1..=max).contains(&interval) {
        return Err(FieldProblem::new("out_of_range", format!("between 1 and {max} for this frequency")));
    }
    Ok(interval)
}

/// `date` plus `months`, keeping the day of month where it exists (31 Jan + 1 month = 28/29 Feb).
/// Saturates at `Date::MIN`/`Date::MAX` beyond the years `time` supports (±9999).
pub fn add_months(date: Date, months: i32) -> Date {
    let total = date.year() * 12 + (date.month() as i32 - 1) + months;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12));
    // `rem_euclid(12)` is in 0..12, so the cast is lossless and this is the month it names.
    let month = Month::January.nth_next(month0 as u8);
    let day = date.day().min(month.length(year));
    // The day exists in that month, so only a year out of range can fail.
    Date::from_calendar_date(year, month, day).unwrap_or(if months < 0 { Date::MIN } else { Date::MAX })
}

/// The date of cycle `n` (0 = the start date). Month-based cycles are counted from the start
/// date, not from the previous cycle, so a 31st never drifts to the 28th for good.
pub fn cycle_date(start: Date, frequency: Frequency, interval: i32, n: i32) -> Date {
    match frequency {
        Frequency::Monthly => add_months(start, n),
        Frequency::Quarterly => add_months(start, 3 * n),
        Frequency::Annual => add_months(start, 12 * n),
        Frequency::Months => add_months(start, interval * n),
        Frequency::Days => start + Duration::days(i64::from(interval) * i64::from(n)),
        Frequency::Weeks => start + Duration::weeks(i64::from(interval) * i64::from(n)),
    }
}

/// Cycles due by `today` that were not generated yet: from `next_cycle` up to today, at most
/// `cycles` in all (0 = until stopped). A server that was down catches up, one per cycle.
pub fn due_cycles(start: Date, frequency: Frequency, interval: i32, cycles: i32, next_cycle: i32, today: Date) -> Vec<i32> {
    let mut out = Vec::new();
    let mut n = next_cycle.max(0);
    while (cycles == 0 || n < cycles) && cycle_date(start, frequency, interval, n) <= today {
        out.push(n);
        n += 1;
        if out.len() >= 1000 {
            break;
        }
    }
    out
}

/// The next cycle's date, or `None` when the schedule is complete.
pub fn next_date(start: Date, frequency: Frequency, interval: i32, cycles: i32, next_cycle: i32) -> Option<Date> {
    (cycles == 0 || next_cycle < cycles).then(|| cycle_date(start, frequency, interval, next_cycle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_keep_the_day_where_they_can() {
        assert_eq!(add_months(date!(2026 - 01 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2028 - 01 - 31), 1), date!(2028 - 02 - 29));
        assert_eq!(add_months(date!(2026 - 11 - 15), 3), date!(2027 - 02 - 15));
        assert_eq!(cycle_date(date!(2026 - 01 - 31), Frequency::Monthly, 1, 2), date!(2026 - 03 - 31), "no drift after February");
        assert_eq!(cycle_date(date!(2026 - 01 - 10), Frequency::Quarterly, 1, 4), date!(2027 - 01 - 10));
        assert_eq!(cycle_date(date!(2026 - 01 - 10), Frequency::Weeks, 2, 3), date!(2026 - 02 - 21));
        assert_eq!(cycle_date(date!(2026 - 01 - 10), Frequency::Days, 10, 1), date!(2026 - 01 - 20));
    }

    #[test]
    fn due_cycles_catch_up_and_stop_after_the_last() {
        let start = date!(2026 - 01 - 15);
        assert_eq!(due_cycles(start, Frequency::Monthly, 1, 0, 0, date!(2026 - 01 - 14)), Vec::<i32>::new());
        assert_eq!(due_cycles(start, Frequency::Monthly, 1, 0, 0, date!(2026 - 01 - 15)), vec![0]);
        assert_eq!(due_cycles(start, Frequency::Monthly, 1, 0, 1, date!(2026 - 04 - 20)), vec![1, 2, 3], "down for months: one per cycle");
        assert_eq!(due_cycles(start, Frequency::Monthly, 1, 3, 0, date!(2027 - 01 - 01)), vec![0, 1, 2], "3 cycles only");
        assert_eq!(next_date(start, Frequency::Monthly, 1, 3, 3), None);
        assert_eq!(next_date(start, Frequency::Monthly, 1, 0, 2), Some(date!(2026 - 03 - 15)));
        assert!(check_interval(Frequency::Weeks, 53).is_err());
        assert!(check_interval(Frequency::Monthly, 2).is_err());
    }
}
