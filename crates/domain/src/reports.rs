//! Reports: the period a day belongs to, and the sales report's rows built from daily sums.
//!
//! The server sums invoices and payments per day and currency in SQL (a few hundred rows for a
//! year, whatever the number of invoices); grouping days into weeks, months, quarters or years,
//! averages and totals happen here, the same on SQLite and PostgreSQL, and never add amounts of
//! different currencies.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month};

use crate::money::{self, Currency};
use crate::validation::FieldProblem;

/// How report rows are grouped in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Day,
    /// ISO weeks, starting on Monday.
    Week,
    Month,
    Quarter,
    Year,
}

impl GroupBy {
    pub fn parse(raw: &str) -> Result<GroupBy, FieldProblem> {
        match raw {
            "day" => Ok(GroupBy::Day),
            "week" => Ok(GroupBy::Week),
            "month" => Ok(GroupBy::Month),
            "quarter" => Ok(GroupBy::Quarter),
            "year" => Ok(GroupBy::Year),
            _ => Err(FieldProblem::new("invalid", "use day, week, month, quarter or year")),
        }
    }

    /// The first day of the period `day` falls in.
    pub fn period_start(self, day: Date) -> Date {
        let first_of = |month: Month| Date::from_calendar_date(day.year(), month, 1).unwrap_or(day);
        match self {
            GroupBy::Day => day,
            GroupBy::Week => day - Duration::days(i64::from(day.weekday().number_days_from_monday())),
            GroupBy::Month => first_of(day.month()),
            GroupBy::Quarter => first_of(Month::try_from(((u8::from(day.month()) - 1) / 3) * 3 + 1).unwrap_or(Month::January)),
            GroupBy::Year => first_of(Month::January),
        }
    }
}

/// One day's sums of one currency, in minor units, as the database gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaySums {
    pub day: Date,
    pub currency: Currency,
    pub invoiced_minor: i64,
    pub invoice_count: i64,
    pub collected_minor: i64,
}

/// One row of the sales report: a period and a currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SalesRow {
    /// The first day of the period.
    #[serde(with = "crate::dates::iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub period: Date,
    pub currency: String,
    /// Totals of the invoices issued in the period.
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "12100.00"))]
    pub invoiced: Decimal,
    /// Payments received in the period.
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "6050.00"))]
    pub collected: Decimal,
    pub invoice_count: i64,
    /// `invoiced / invoice_count`, rounded to the currency; 0 without invoices.
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "4033.33"))]
    pub average_invoice: Decimal,
}

/// Groups daily sums into periods; rows by period, then currency. The totals row of a currency
/// is the same computation over the whole range (`period` = the first day given).
pub fn sales_rows(days: &[DaySums], group_by: GroupBy) -> Vec<SalesRow> {
    let mut sums: BTreeMap<(Date, &'static str), (Currency, i64, i64, i64)> = BTreeMap::new();
    for d in days {
        let slot = sums.entry((group_by.period_start(d.day), d.currency.code())).or_insert((d.currency, 0, 0, 0));
        slot.1 += d.invoiced_minor;
        slot.2 += d.invoice_count;
        slot.3 += d.collected_minor;
    }
    sums.into_iter().map(|((period, _), (currency, invoiced, count, collected))| row(period, currency, invoiced, count, collected)).collect()
}

/// One total row per currency over all of `days`.
pub fn sales_totals(days: &[DaySums], from: Date) -> Vec<SalesRow> {
    let mut sums: BTreeMap<&'static str, (Currency, i64, i64, i64)> = BTreeMap::new();
    for d in days {
        let slot = sums.entry(d.currency.code()).or_insert((d.currency, 0, 0, 0));
        slot.1 += d.invoiced_minor;
        slot.2 += d.invoice_count;
        slot.3 += d.collected_minor;
    }
    sums.into_values().map(|(currency, invoiced, count, collected)| row(from, currency, invoiced, count, collected)).collect()
}

fn row(period: Date, currency: Currency, invoiced: i64, count: i64, collected: i64) -> SalesRow {
    let invoiced_amount = money::from_minor(invoiced, currency);
    SalesRow {
        period,
        currency: currency.code().to_string(),
        invoiced: invoiced_amount,
        collected: money::from_minor(collected, currency),
        invoice_count: count,
        average_invoice: if count == 0 { money::round(Decimal::ZERO, currency) } else { money::round(invoiced_amount / Decimal::from(count), currency) },
    }
}

/// `part / whole` as a percentage with 2 decimals; 0 when `whole` is 0.
pub fn rate(part: i64, whole: i64) -> Decimal {
    if whole <= 0 {
        return Decimal::new(0, 2);
    }
    let mut r =
        (Decimal::from(part) * Decimal::ONE_HUNDRED / Decimal::from(whole)).round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    r
}

/// How the leads report groups its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LeadsBy {
    Source,
    Assignee,
    Pipeline,
}

impl LeadsBy {
    pub fn parse(raw: &str) -> Result<LeadsBy, FieldProblem> {
        match raw {
            "source" => Ok(LeadsBy::Source),
            "assignee" => Ok(LeadsBy::Assignee),
            "pipeline" => Ok(LeadsBy::Pipeline),
            _ => Err(FieldProblem::new("invalid", "use source, assignee or pipeline")),
        }
    }
}

/// Lost leads of one reason (`null`: no reason given).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LostByReason {
    pub reason: Option<String>,
    pub count: i64,
}

/// Money of one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Amount {
    pub currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "12100.00"))]
    pub amount: Decimal,
}

/// One source, assignee or pipeline of the leads report: what its leads became.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeadsRow {
    /// The source, staff member or pipeline; `null` for leads without one.
    pub key_id: Option<i32>,
    pub key: String,
    pub leads: i64,
    pub contacted: i64,
    pub opportunities: i64,
    pub clients: i64,
    pub lost: i64,
    pub lost_by_reason: Vec<LostByReason>,
    /// Percent of `leads`, 2 decimals.
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "62.50"))]
    pub contact_rate: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "25.00"))]
    pub opportunity_rate: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "12.50"))]
    pub client_rate: Decimal,
    /// Payments received from the clients these leads became, per currency (the channel's return).
    pub won: Vec<Amount>,
}

/// Open opportunities of one currency: their values and the values weighted by probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pipeline {
    pub currency: String,
    pub count: u64,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "50000.00"))]
    pub total: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "21000.00"))]
    pub weighted: Decimal,
}

/// An amount of one currency and how many records make it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CountedAmount {
    pub currency: String,
    pub count: i64,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "3630.00"))]
    pub amount: Decimal,
}

/// The sales manager's KPIs over a period (`/api/v1/reports/sales-overview`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SalesOverview {
    #[serde(with = "crate::dates::iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub from: Date,
    #[serde(with = "crate::dates::iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub to: Date,
    /// Leads created in the period.
    pub new_leads: i64,
    /// Open opportunities now (not won, lost or junk), per currency, with the weighted pipeline.
    pub open_opportunities: Vec<Pipeline>,
    /// Proposals dated in the period that left the draft stage, and of them the accepted ones.
    pub proposals_sent: i64,
    pub proposals_accepted: i64,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "40.00"))]
    pub acceptance_rate: Decimal,
    /// Per currency, over the period: invoiced, collected, the average invoice (the deal size).
    pub sales: Vec<SalesRow>,
    /// Balances of issued invoices not yet paid, now.
    pub outstanding: Vec<CountedAmount>,
    /// Of those, the ones past their due date.
    pub overdue: Vec<CountedAmount>,
    /// Days from a lead's creation to the first payment of the client it became, averaged over
    /// the clients whose first payment fell in the period; `null` without any.
    #[serde(with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "23.5"))]
    pub average_sales_cycle_days: Option<Decimal>,
}

/// The average of whole day counts, one decimal (half away from zero); `None` for none.
pub fn average_days(days: &[i64]) -> Option<Decimal> {
    if days.is_empty() {
        return None;
    }
    let sum: i64 = days.iter().sum();
    let mut avg = (Decimal::from(sum) / Decimal::from(days.len() as i64)).round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    avg.rescale(1);
    Some(avg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn days_fall_in_their_periods() {
        let d = date!(2026 - 08 - 13); // a Thursday
        assert_eq!(GroupBy::Day.period_start(d), d);
        assert_eq!(GroupBy::Week.period_start(d), date!(2026 - 08 - 10));
        assert_eq!(GroupBy::Week.period_start(date!(2026 - 08 - 10)), date!(2026 - 08 - 10), "a Monday starts its week");
        assert_eq!(GroupBy::Month.period_start(d), date!(2026 - 08 - 01));
        assert_eq!(GroupBy::Quarter.period_start(d), date!(2026 - 07 - 01));
        assert_eq!(GroupBy::Quarter.period_start(date!(2026 - 03 - 31)), date!(2026 - 01 - 01));
        assert_eq!(GroupBy::Quarter.period_start(date!(2026 - 12 - 31)), date!(2026 - 10 - 01));
        assert_eq!(GroupBy::Year.period_start(d), date!(2026 - 01 - 01));
        assert!(GroupBy::parse("fortnight").is_err());
    }

    #[test]
    fn rows_sum_per_period_and_currency_and_never_across_currencies() {
        let (ron, eur) = (Currency::RON, Currency::parse("EUR").unwrap());
        let day =
            |d: Date, c: Currency, inv: i64, n: i64, col: i64| DaySums { day: d, currency: c, invoiced_minor: inv, invoice_count: n, collected_minor: col };
        let days = [
            day(date!(2026 - 01 - 05), ron, 10_000, 1, 0),
            day(date!(2026 - 01 - 20), ron, 20_001, 2, 5_000),
            day(date!(2026 - 01 - 21), eur, 7_000, 1, 7_000),
            day(date!(2026 - 02 - 02), ron, 0, 0, 25_001),
        ];
        let rows = sales_rows(&days, GroupBy::Month);
        let view: Vec<(Date, &str, String, String, i64, String)> = rows
            .iter()
            .map(|r| (r.period, r.currency.as_str(), r.invoiced.to_string(), r.collected.to_string(), r.invoice_count, r.average_invoice.to_string()))
            .collect();
        assert_eq!(
            view,
            [
                (date!(2026 - 01 - 01), "EUR", "70.00".into(), "70.00".into(), 1, "70.00".into()),
                (date!(2026 - 01 - 01), "RON", "300.01".into(), "50.00".into(), 3, "100.00".into()),
                (date!(2026 - 02 - 01), "RON", "0.00".into(), "250.01".into(), 0, "0.00".into()),
            ]
        );
        let totals = sales_totals(&days, date!(2026 - 01 - 01));
        assert_eq!(
            totals.iter().map(|t| (t.currency.as_str(), t.invoiced.to_string(), t.collected.to_string())).collect::<Vec<_>>(),
            [("EUR", "70.00".to_string(), "70.00".to_string()), ("RON", "300.01".to_string(), "300.01".to_string())]
        );
    }

    #[test]
    fn average_days_have_one_decimal() {
        assert_eq!(average_days(&[]), None);
        assert_eq!(average_days(&[10, 15]).unwrap().to_string(), "12.5");
        assert_eq!(average_days(&[1, 2, 2]).unwrap().to_string(), "1.7");
    }

    #[test]
    fn rates_are_percentages_with_two_decimals() {
        assert_eq!(rate(1, 3).to_string(), "33.33");
        assert_eq!(rate(2, 3).to_string(), "66.67");
        assert_eq!(rate(0, 0).to_string(), "0.00");
        assert_eq!(rate(5, 5).to_string(), "100.00");
    }
}
