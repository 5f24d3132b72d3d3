//! Invoice status (the seeds' codes) as one pure function of the invoice, its payments and
//! today; lateness; payment checks; and invoice numbering formats.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::validation::FieldProblem;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Unpaid,
    Paid,
    PartiallyPaid,
    Overdue,
    Cancelled,
    Draft,
}

impl InvoiceStatus {
    pub const ALL: [InvoiceStatus; 6] =
        [InvoiceStatus::Draft, InvoiceStatus::Unpaid, InvoiceStatus::PartiallyPaid, InvoiceStatus::Paid, InvoiceStatus::Overdue, InvoiceStatus::Cancelled];

    /// Draft 6 · Unpaid/Sent 1 · Partially paid 3 · Paid 2 · Overdue 4 · Cancelled 5.
    pub fn code(self) -> i32 {
        match self {
            InvoiceStatus::Unpaid => 1,
            InvoiceStatus::Paid => 2,
            InvoiceStatus::PartiallyPaid => 3,
            InvoiceStatus::Overdue => 4,
            InvoiceStatus::Cancelled => 5,
            InvoiceStatus::Draft => 6,
        }
    }

    pub fn from_code(code: i32) -> Option<InvoiceStatus> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn name(self) -> &'static str {
        match self {
            InvoiceStatus::Unpaid => "unpaid",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::PartiallyPaid => "partially_paid",
            InvoiceStatus::Overdue => "overdue",
            InvoiceStatus::Cancelled => "cancelled",
            InvoiceStatus::Draft => "draft",
        }
    }

    /// A code (`4`) or a name (`overdue`; also `sent` for unpaid, `partial`).
    pub fn parse(raw: &str) -> Result<InvoiceStatus, FieldProblem> {
        let s = raw.trim().to_ascii_lowercase();
        if let Ok(code) = s.parse::<i32>() {
            return Self::from_code(code).ok_or_else(|| FieldProblem::new("invalid_status", format!("no invoice status has code {code} (1–6)")));
        }
        let alias = match s.as_str() {
            "sent" | "unsent" => "unpaid",
            "partial" | "partially paid" => "partially_paid",
            "canceled" => "cancelled",
            other => other,
        };
        Self::ALL
            .into_iter()
            .find(|st| st.name() == alias)
            .ok_or_else(|| FieldProblem::new("invalid_status", format!("`{}` is not an invoice status", raw.trim())))
    }
}

/// What the status depends on; `paid` includes applied credits.
#[derive(Debug, Clone, Copy)]
pub struct StatusInputs {
    pub draft: bool,
    pub cancelled: bool,
    pub total: Decimal,
    pub paid: Decimal,
    pub due_date: Option<Date>,
    pub today: Date,
}

/// SPEC: Draft and Cancelled stay; paid ≥ total → Paid; 0 < paid < total → Partially paid;
/// nothing paid and the due date passed → Overdue; else Unpaid.
pub fn status(i: StatusInputs) -> InvoiceStatus {
    if i.draft {
        InvoiceStatus::Draft
    } else if i.cancelled {
        InvoiceStatus::Cancelled
    } else if i.paid >= i.total {
        InvoiceStatus::Paid
    } else if i.paid > Decimal::ZERO {
        InvoiceStatus::PartiallyPaid
    } else if i.due_date.is_some_and(|d| d < i.today) {
        InvoiceStatus::Overdue
    } else {
        InvoiceStatus::Unpaid
    }
}

/// Late on its own: an issued, uncancelled invoice with a balance past its due date (so a
/// partially paid invoice is late too). Days late, or `None`.
pub fn days_overdue(i: StatusInputs) -> Option<i64> {
    if i.draft || i.cancelled || i.paid >= i.total {
        return None;
    }
    let due = i.due_date?;
    (due < i.today).then(|| (i.today - due).whole_days())
}

/// A payment must be positive and not exceed the balance.
pub fn check_payment(amount: Decimal, balance: Decimal) -> Result<(), FieldProblem> {
    if amount <= Decimal::ZERO {
        return Err(FieldProblem::new("not_positive", "the amount must be greater than 0"));
    }
    if amount > balance {
        return Err(FieldProblem::new("exceeds_balance", format!("the balance due is {balance}")));
    }
    Ok(())
}

/// How invoice numbers look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NumberFormat {
    /// `INV-000123`
    #[default]
    Number,
    /// `INV-2026/000123`
    YearNumber,
}

pub fn format_invoice_number(prefix: &str, format: NumberFormat, year: i32, number: i64, padding: usize) -> String {
    match format {
        NumberFormat::Number => format!("{prefix}{number:0padding$}"),
        NumberFormat::YearNumber => format!("{prefix}{year}/{number:0padding$}"),
    }
}

#[cfg(test)]
mod tests {
    use super::InvoiceStatus::*;
    use super::*;
    use std::str::FromStr;
    use time::macros::date;

    fn inputs(total: &str, paid: &str, due: Option<Date>) -> StatusInputs {
        StatusInputs {
            draft: false,
            cancelled: false,
            total: Decimal::from_str(total).unwrap(),
            paid: Decimal::from_str(paid).unwrap(),
            due_date: due,
            today: date!(2026 - 11 - 23),
        }
    }

    #[test]
    fn status_follows_the_spec() {
        let past = Some(date!(2026 - 11 - 01));
        let future = Some(date!(2026 - 12 - 01));
        assert_eq!(status(inputs("100", "0", future)), Unpaid);
        assert_eq!(status(inputs("100", "0", Some(date!(2026 - 11 - 23)))), Unpaid, "due today is not late");
        assert_eq!(status(inputs("100", "0", past)), Overdue);
        assert_eq!(status(inputs("100", "40", past)), PartiallyPaid);
        assert_eq!(status(inputs("100", "100", past)), Paid);
        assert_eq!(status(inputs("0", "0", past)), Paid, "a zero invoice is settled");
        assert_eq!(status(StatusInputs { draft: true, ..inputs("100", "0", past) }), Draft);
        assert_eq!(status(StatusInputs { cancelled: true, ..inputs("100", "0", past) }), Cancelled);
    }

    #[test]
    fn lateness_is_exposed_even_when_partially_paid() {
        assert_eq!(days_overdue(inputs("100", "40", Some(date!(2026 - 11 - 13)))), Some(10));
        assert_eq!(days_overdue(inputs("100", "100", Some(date!(2026 - 11 - 13)))), None);
        assert_eq!(days_overdue(inputs("100", "0", None)), None);
        assert_eq!(days_overdue(StatusInputs { cancelled: true, ..inputs("100", "0", Some(date!(2026 - 01 - 01))) }), None);
    }

    #[test]
    fn payments_cannot_exceed_the_balance() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert!(check_payment(d("60"), d("60")).is_ok());
        assert_eq!(check_payment(d("60.01"), d("60")).unwrap_err().code, "exceeds_balance");
        assert_eq!(check_payment(d("0"), d("60")).unwrap_err().code, "not_positive");
    }

    #[test]
    fn codes_names_and_numbers() {
        for s in InvoiceStatus::ALL {
            assert_eq!(InvoiceStatus::parse(&s.code().to_string()).unwrap(), s);
            assert_eq!(InvoiceStatus::parse(s.name()).unwrap(), s);
        }
        assert_eq!(InvoiceStatus::parse("4").unwrap(), Overdue);
        assert!(InvoiceStatus::parse("7").is_err());
        assert_eq!(format_invoice_number("INV-", NumberFormat::Number, 2026, 42, 6), "INV-000042");
        assert_eq!(format_invoice_number("FCT-", NumberFormat::YearNumber, 2026, 7, 4), "FCT-2026/0007");
    }
}
