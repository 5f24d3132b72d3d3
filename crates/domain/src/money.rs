//! Money: ISO 4217 currencies, their minor units, and the one rounding rule of the product.
//!
//! Amounts are `rust_decimal::Decimal` (never floats). The database stores them as integer
//! minor units (cents), so sums in SQL are exact on SQLite and PostgreSQL alike.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::validation::FieldProblem;

/// ISO 4217 codes we accept, with their minor-unit exponent.
const CURRENCIES: &[(&str, u32)] = &[
    ("RON", 2),
    ("EUR", 2),
    ("USD", 2),
    ("GBP", 2),
    ("CHF", 2),
    ("HUF", 2),
    ("PLN", 2),
    ("CZK", 2),
    ("BGN", 2),
    ("MDL", 2),
    ("SEK", 2),
    ("NOK", 2),
    ("DKK", 2),
    ("TRY", 2),
    ("UAH", 2),
    ("RSD", 2),
    ("CAD", 2),
    ("AUD", 2),
    ("NZD", 2),
    ("CNY", 2),
    ("INR", 2),
    ("BRL", 2),
    ("MXN", 2),
    ("ZAR", 2),
    ("SGD", 2),
    ("HKD", 2),
    ("ILS", 2),
    ("AED", 2),
    ("SAR", 2),
    ("JPY", 0),
    ("KRW", 0),
    ("ISK", 0),
    ("BHD", 3),
    ("KWD", 3),
    ("OMR", 3),
    ("JOD", 3),
    ("TND", 3),
];

/// A known ISO 4217 currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(&'static str, u32);

impl Currency {
    pub fn parse(raw: &str) -> Result<Currency, FieldProblem> {
        let code = raw.trim().to_ascii_uppercase();
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(c, minor)| Currency(c, *minor))
            .ok_or_else(|| FieldProblem::new("invalid_currency", format!("`{}` is not a supported ISO 4217 currency code", raw.trim())))
    }

    /// The Romanian leu, the product's home currency.
    pub const RON: Currency = Currency("RON", 2);

    pub fn code(self) -> &'static str {
        self.0
    }

    /// Digits after the decimal point (2 for RON, 0 for JPY, 3 for KWD).
    pub fn minor_units(self) -> u32 {
        self.1
    }
}

/// Commercial rounding (half away from zero) to the currency's minor unit. The only place
/// in the product where money is rounded.
/// The result always carries the currency's scale (`19.80`, not `19.8`), so amounts print
/// the same everywhere.
pub fn round(amount: Decimal, currency: Currency) -> Decimal {
    let mut rounded = amount.round_dp_with_strategy(currency.minor_units(), RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(currency.minor_units());
    rounded
}

/// A stored optional amount (minor units + currency code) as a decimal; `None` when either is
/// missing or the code is unknown.
pub fn amount_of(minor: Option<i64>, currency: Option<&str>) -> Option<Decimal> {
    let currency = Currency::parse(currency?).ok()?;
    minor.map(|m| from_minor(m, currency))
}

/// Exact conversion to minor units; refuses more decimals than the currency has.
pub fn to_minor(amount: Decimal, currency: Currency) -> Result<i64, FieldProblem> {
    if round(amount, currency) != amount {
        return Err(FieldProblem::new("too_precise", format!("{} amounts have at most {} decimals", currency.code(), currency.minor_units())));
    }
    let scaled = amount * Decimal::from(10i64.pow(currency.minor_units()));
    i64::try_from(scaled.trunc()).map_err(|_| FieldProblem::new("out_of_range", "amount is too large"))
}

/// Minor units back to a decimal with exactly the currency's scale (`"1234.50"`).
pub fn from_minor(minor: i64, currency: Currency) -> Decimal {
    Decimal::new(minor, currency.minor_units())
}

/// A non-negative amount in minor units, e.g. an estimated deal value.
pub fn non_negative_minor(amount: Decimal, currency: Currency) -> Result<i64, FieldProblem> {
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(FieldProblem::new("negative", "must not be negative"));
    }
    to_minor(amount, currency)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn currencies_parse_case_insensitively_with_their_minor_units() {
        assert_eq!(Currency::parse(" ron ").unwrap().code(), "RON");
        assert_eq!(Currency::parse("JPY").unwrap().minor_units(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().minor_units(), 3);
        for bad in ["", "RO", "RONN", "XYZ", "€"] {
            assert_eq!(Currency::parse(bad).unwrap_err().code, "invalid_currency", "{bad}");
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        let ron = Currency::parse("RON").unwrap();
        for (input, expected) in [("0.005", "0.01"), ("0.004", "0.00"), ("-0.005", "-0.01"), ("2.675", "2.68"), ("1.125", "1.13"), ("0", "0")] {
            assert_eq!(round(d(input), ron), d(expected), "{input}");
        }
        assert_eq!(round(d("12.5"), Currency::parse("JPY").unwrap()), d("13"));
        assert_eq!(round(d("19.8"), ron).to_string(), "19.80", "printed with the currency's scale");
    }

    #[test]
    fn minor_units_round_trip_exactly() {
        let ron = Currency::parse("RON").unwrap();
        assert_eq!(to_minor(d("1234.50"), ron).unwrap(), 123450);
        assert_eq!(from_minor(123450, ron).to_string(), "1234.50");
        assert_eq!(from_minor(7, Currency::parse("KWD").unwrap()).to_string(), "0.007");
        assert_eq!(to_minor(d("1.234"), ron).unwrap_err().code, "too_precise");
        assert_eq!(non_negative_minor(d("-1"), ron).unwrap_err().code, "negative");
        assert_eq!(non_negative_minor(d("0"), ron).unwrap(), 0);
        assert_eq!(to_minor(d("99999999999999999999"), ron).unwrap_err().code, "out_of_range");
    }
}
