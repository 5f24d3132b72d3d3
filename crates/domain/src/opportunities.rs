//! Opportunity rules: probabilities and the weighted pipeline.

use rust_decimal::Decimal;

use crate::money::{round, Currency};
use crate::validation::FieldProblem;

pub fn check_probability(p: i32) -> Result<u8, FieldProblem> {
    u8::try_from(p).ok().filter(|p| *p <= 100).ok_or_else(|| FieldProblem::new("out_of_range", "probability is a percentage, 0 to 100"))
}

/// value × probability%, rounded once to the currency's minor unit.
pub fn weighted(value: Decimal, probability: u8, currency: Currency) -> Decimal {
    round(value * Decimal::from(probability) / Decimal::from(100), currency)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn probability_is_a_percentage() {
        assert_eq!(check_probability(0).unwrap(), 0);
        assert_eq!(check_probability(100).unwrap(), 100);
        assert!(check_probability(101).is_err());
        assert!(check_probability(-1).is_err());
    }

    #[test]
    fn weighted_value_rounds_half_away_from_zero() {
        let ron = Currency::parse("RON").unwrap();
        let d = |s| Decimal::from_str(s).unwrap();
        assert_eq!(weighted(d("1000.00"), 35, ron), d("350.00"));
        assert_eq!(weighted(d("0.05"), 50, ron), d("0.03"), "0.025 → 0.03");
        assert_eq!(weighted(d("999.99"), 0, ron), d("0.00"));
        assert_eq!(weighted(d("1001"), 50, Currency::parse("JPY").unwrap()), d("501"));
    }
}

/// One bucket of the weighted pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastBucket {
    pub key: Option<String>,
    pub currency: Currency,
    pub count: u64,
    pub total: Decimal,
    pub weighted: Decimal,
}

/// Groups (key, currency, value in minor units, probability) into buckets per key and
/// currency — never adding different currencies. Weighted sums are exact until one final
/// rounding per bucket. Sorted by key (missing keys last), then currency.
pub fn forecast(items: impl IntoIterator<Item = (Option<String>, Currency, i64, u8)>) -> Vec<ForecastBucket> {
    use std::collections::BTreeMap;
    // (missing key sorts last, key, currency) → (count, Σ minor, Σ minor × probability).
    type Bucket = (bool, Option<String>, Currency);
    let mut acc: BTreeMap<Bucket, (u64, i128, i128)> = BTreeMap::new();
    for (key, currency, minor, probability) in items {
        let e = acc.entry((key.is_none(), key, currency)).or_default();
        e.0 += 1;
        e.1 += i128::from(minor);
        e.2 += i128::from(minor) * i128::from(probability);
    }
    acc.into_iter()
        .map(|((_, key, currency), (count, total_minor, weighted_scaled))| {
            let scale = currency.minor_units();
            let total = Decimal::from_i128_with_scale(total_minor, scale);
            let weighted = round(Decimal::from_i128_with_scale(weighted_scaled, scale + 2), currency);
            ForecastBucket { key, currency, count, total, weighted }
        })
        .collect()
}

#[cfg(test)]
mod forecast_tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn buckets_per_key_and_currency_with_one_rounding() {
        let ron = Currency::parse("RON").unwrap();
        let eur = Currency::parse("EUR").unwrap();
        let rows = forecast([
            (Some("2026-12".to_string()), ron, 100_000, 50),
            (Some("2026-12".to_string()), ron, 1, 50),
            (Some("2026-12".to_string()), ron, 1, 50),
            (Some("2026-12".to_string()), eur, 20_000, 10),
            (None, ron, 5_000, 100),
            (Some("2026-11".to_string()), ron, 333, 33),
        ]);
        let d = |s| Decimal::from_str(s).unwrap();
        let summary: Vec<_> = rows.iter().map(|b| (b.key.clone(), b.currency.code(), b.count, b.total, b.weighted)).collect();
        assert_eq!(
            summary,
            [
                (Some("2026-11".into()), "RON", 1, d("3.33"), d("1.10")),
                (Some("2026-12".into()), "EUR", 1, d("200.00"), d("20.00")),
                // 0.5 + 0.005 + 0.005 = 500.01 exactly; rounding each row would give 500.02.
                (Some("2026-12".into()), "RON", 3, d("1000.02"), d("500.01")),
                (None, "RON", 1, d("50.00"), d("50.00")),
            ]
        );
    }
}
