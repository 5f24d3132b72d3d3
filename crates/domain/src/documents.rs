//! Document arithmetic shared by proposals, sales orders and invoices (server and browser).
//!
//! The rules (SPEC, "API conventions"), in order:
//! 1. line amount = qty × unit price, rounded; line discount = line amount × discount %, rounded;
//!    line net = line amount − line discount.
//! 2. subtotal = Σ line nets.
//! 3. A document discount *before tax* (percent of the subtotal, or a fixed amount) is spread
//!    over the lines in proportion to their nets, in whole minor units (largest remainder), so
//!    every tax base is exact and the shares add up to the discount.
//! 4. tax per rate = (Σ nets at that rate, after the document discount) × rate, rounded once
//!    per rate (EN 16931 BR-CO-17 style, so eFactura totals match). A line may carry several
//!    taxes; each applies to the line's net (no tax on tax).
//! 5. A document discount *after tax* is taken off subtotal + taxes and changes no tax base.
//! 6. total = subtotal − discount + Σ taxes: a sum of the rounded parts that are printed.
//!
//! All rounding goes through [`crate::money::round`].

use std::collections::BTreeMap;
use std::convert::Infallible;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::{self, Currency};
use crate::validation::FieldProblem;

/// Quantities, unit prices and percentages accept at most this many decimals.
pub const MAX_INPUT_DECIMALS: u32 = 4;

/// A tax as applied to a line: a snapshot of its name and rate (percent, e.g. `19` = 19 %).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppliedTax {
    pub tax_id: i32,
    pub name: String,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "19.00"))]
    pub rate: Decimal,
}

/// One line's inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct LineInput {
    pub qty: Decimal,
    pub unit_price: Decimal,
    pub discount_percent: Decimal,
    pub taxes: Vec<AppliedTax>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DiscountType {
    /// `discount_value` is a percentage.
    Percent,
    /// `discount_value` is an amount in the document's currency.
    Fixed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DiscountApplies {
    /// Lowers the tax bases (the usual, and the only kind eFactura knows).
    #[default]
    BeforeTax,
    /// Taken off the taxed total; taxes stay computed on the full nets.
    AfterTax,
}

/// A whole-document discount.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DocumentDiscount {
    pub kind: DiscountType,
    pub value: Decimal,
    pub applies: DiscountApplies,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineTotals {
    /// qty × unit price, rounded.
    pub amount: Decimal,
    pub discount: Decimal,
    /// amount − discount.
    pub net: Decimal,
}

/// The total of one tax rate over the document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaxTotal {
    pub tax_id: i32,
    pub name: String,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "19.00"))]
    pub rate: Decimal,
    /// The taxable base: nets at this rate after a before-tax document discount.
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "1000.00"))]
    pub base: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "190.00"))]
    pub amount: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DocumentTotals {
    pub lines: Vec<LineTotals>,
    pub subtotal: Decimal,
    pub discount_total: Decimal,
    pub taxes: Vec<TaxTotal>,
    pub total_tax: Decimal,
    pub total: Decimal,
}

/// A decimal input with at most [`MAX_INPUT_DECIMALS`] decimals.
pub fn check_precision(value: Decimal) -> Result<Decimal, FieldProblem> {
    if value.normalize().scale() > MAX_INPUT_DECIMALS {
        return Err(FieldProblem::new("too_precise", format!("at most {MAX_INPUT_DECIMALS} decimals")));
    }
    Ok(value)
}

pub fn check_qty(qty: Decimal) -> Result<Decimal, FieldProblem> {
    check_precision(qty)?;
    if qty <= Decimal::ZERO {
        return Err(FieldProblem::new("not_positive", "the quantity must be greater than 0"));
    }
    if qty > Decimal::from(1_000_000_000) {
        return Err(FieldProblem::new("out_of_range", "the quantity is too large"));
    }
    Ok(qty)
}

pub fn check_unit_price(price: Decimal) -> Result<Decimal, FieldProblem> {
    check_precision(price)?;
    if price.is_sign_negative() && !price.is_zero() {
        return Err(FieldProblem::new("negative", "must not be negative"));
    }
    if price > Decimal::from(1_000_000_000_000i64) {
        return Err(FieldProblem::new("out_of_range", "the price is too large"));
    }
    Ok(price)
}

pub fn check_percent(pct: Decimal) -> Result<Decimal, FieldProblem> {
    check_precision(pct)?;
    if pct < Decimal::ZERO || pct > Decimal::ONE_HUNDRED {
        return Err(FieldProblem::new("out_of_range", "a percentage between 0 and 100"));
    }
    Ok(pct)
}

/// Tax rates: 0–100 %, at most 4 decimals.
pub fn check_tax_rate(rate: Decimal) -> Result<Decimal, FieldProblem> {
    check_percent(rate)
}

fn percent_of(amount: Decimal, pct: Decimal, currency: Currency) -> Decimal {
    money::round(amount * pct / Decimal::ONE_HUNDRED, currency)
}

/// Computes every amount of a document. Fails only when a fixed discount exceeds what it
/// is taken from (the caller reports it on `discount_value`).
pub fn compute(currency: Currency, lines: &[LineInput], discount: Option<DocumentDiscount>) -> Result<DocumentTotals, FieldProblem> {
    let (before_tax, after_tax) = match discount {
        Some(d) if !d.value.is_zero() && d.applies == DiscountApplies::BeforeTax => (Some(d), None),
        Some(d) if !d.value.is_zero() => (None, Some(d)),
        _ => (None, None),
    };
    let amount_of = |d: Option<DocumentDiscount>, of: Decimal| match d {
        Some(d) => discount_amount(d, of, currency),
        None => Ok(Decimal::ZERO),
    };
    totals(currency, lines, |subtotal| amount_of(before_tax, subtotal), |with_tax| amount_of(after_tax, with_tax))
}

/// Every amount of a document without a document discount: the same as `compute(.., None)`,
/// which cannot fail.
pub fn compute_undiscounted(currency: Currency, lines: &[LineInput]) -> DocumentTotals {
    let Ok(totals) = totals::<Infallible>(currency, lines, |_| Ok(Decimal::ZERO), |_| Ok(Decimal::ZERO));
    totals
}

/// The document arithmetic; `before_tax` and `after_tax` give the document discount taken
/// from the subtotal and from subtotal plus tax.
fn totals<E>(
    currency: Currency,
    lines: &[LineInput],
    before_tax: impl FnOnce(Decimal) -> Result<Decimal, E>,
    after_tax: impl FnOnce(Decimal) -> Result<Decimal, E>,
) -> Result<DocumentTotals, E> {
    let line_totals: Vec<LineTotals> = lines
        .iter()
        .map(|l| {
            let amount = money::round(l.qty * l.unit_price, currency);
            let discount = percent_of(amount, l.discount_percent, currency);
            LineTotals { amount, discount, net: amount - discount }
        })
        .collect();
    let subtotal: Decimal = line_totals.iter().map(|l| l.net).sum();

    let before_amount = before_tax(subtotal)?;
    let shares = allocate(before_amount, &line_totals.iter().map(|l| l.net).collect::<Vec<_>>(), currency);

    // Tax bases per (tax id, rate): ordered by rate then id so output is stable.
    let mut bases: BTreeMap<(Decimal, i32), (String, Decimal)> = BTreeMap::new();
    for ((line, totals), share) in lines.iter().zip(&line_totals).zip(&shares) {
        for tax in &line.taxes {
            let entry = bases.entry((tax.rate, tax.tax_id)).or_insert_with(|| (tax.name.clone(), Decimal::ZERO));
            entry.1 += totals.net - share;
        }
    }
    let taxes: Vec<TaxTotal> =
        bases.into_iter().map(|((rate, tax_id), (name, base))| TaxTotal { tax_id, name, rate, base, amount: percent_of(base, rate, currency) }).collect();
    let total_tax: Decimal = taxes.iter().map(|t| t.amount).sum();

    let after_amount = after_tax(subtotal + total_tax)?;
    let discount_total = before_amount + after_amount;
    Ok(DocumentTotals { lines: line_totals, subtotal, discount_total, taxes, total_tax, total: subtotal - discount_total + total_tax })
}

fn discount_amount(d: DocumentDiscount, of: Decimal, currency: Currency) -> Result<Decimal, FieldProblem> {
    match d.kind {
        DiscountType::Percent => {
            check_percent(d.value)?;
            Ok(percent_of(of, d.value, currency))
        }
        DiscountType::Fixed => {
            if d.value.is_sign_negative() {
                return Err(FieldProblem::new("negative", "must not be negative"));
            }
            if money::round(d.value, currency) != d.value {
                return Err(FieldProblem::new("too_precise", format!("{} amounts have at most {} decimals", currency.code(), currency.minor_units())));
            }
            if d.value > of {
                return Err(FieldProblem::new("exceeds_total", format!("the discount is larger than the amount it is taken from ({of})")));
            }
            Ok(d.value)
        }
    }
}

/// Splits `amount` over `weights` in proportion, in whole minor units; the shares add up to
/// `amount` exactly (largest remainder; ties go to the earlier line).
fn allocate(amount: Decimal, weights: &[Decimal], currency: Currency) -> Vec<Decimal> {
    let total: Decimal = weights.iter().sum();
    if amount.is_zero() || total.is_zero() {
        return vec![Decimal::ZERO; weights.len()];
    }
    let unit = Decimal::new(1, currency.minor_units());
    let exact: Vec<Decimal> = weights.iter().map(|w| amount * w / total).collect();
    let mut shares: Vec<Decimal> = exact.iter().map(|e| (e / unit).floor() * unit).collect();
    let mut left = amount - shares.iter().sum::<Decimal>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - shares[b]).cmp(&(exact[a] - shares[a])).then(a.cmp(&b)));
    for i in order {
        if left < unit {
            break;
        }
        shares[i] += unit;
        left -= unit;
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }
    fn ron() -> Currency {
        Currency::parse("RON").unwrap()
    }
    fn tax(id: i32, rate: &str) -> AppliedTax {
        AppliedTax { tax_id: id, name: format!("VAT {rate}%"), rate: d(rate) }
    }
    fn line(qty: &str, price: &str, disc: &str, taxes: &[&AppliedTax]) -> LineInput {
        LineInput { qty: d(qty), unit_price: d(price), discount_percent: d(disc), taxes: taxes.iter().map(|t| (*t).clone()).collect() }
    }

    /// (case, lines, document discount, expected subtotal, discount, [(rate, tax)], total)
    #[allow(clippy::type_complexity)]
    fn cases() -> Vec<(&'static str, Vec<LineInput>, Option<DocumentDiscount>, &'static str, &'static str, Vec<(&'static str, &'static str)>, &'static str)> {
        let v19 = tax(1, "19");
        let v9 = tax(2, "9");
        let v5 = tax(3, "5");
        let v0 = tax(4, "0");
        vec![
            ("one line", vec![line("2", "100", "0", &[&v19])], None, "200.00", "0", vec![("19", "38.00")], "238.00"),
            // 0.005 rounds half away from zero on the line amount and on the tax.
            ("half cent line", vec![line("1", "0.005", "0", &[&v19])], None, "0.01", "0", vec![("19", "0.00")], "0.01"),
            ("half cent tax", vec![line("1", "0.50", "0", &[&v19])], None, "0.50", "0", vec![("19", "0.10")], "0.60"),
            // 3-decimal quantity: 1.125 kg × 10.99 = 12.36375 → 12.36.
            ("3 decimals qty", vec![line("1.125", "10.99", "0", &[&v9])], None, "12.36", "0", vec![("9", "1.11")], "13.47"),
            // Mixed rates: each rate is rounded once over its lines (not per line).
            (
                "mixed 0/5/9/19",
                vec![
                    line("3", "33.33", "0", &[&v19]),
                    line("1", "0.07", "0", &[&v19]),
                    line("7", "1.11", "0", &[&v9]),
                    line("1", "50", "0", &[&v5]),
                    line("1", "20", "0", &[&v0]),
                ],
                None,
                "177.83",
                "0",
                vec![("0", "0.00"), ("5", "2.50"), ("9", "0.70"), ("19", "19.01")],
                "200.04",
            ),
            ("100% line discount", vec![line("4", "250", "100", &[&v19])], None, "0.00", "0", vec![("19", "0.00")], "0.00"),
            ("line discount", vec![line("3", "19.99", "10", &[&v19])], None, "53.97", "0", vec![("19", "10.25")], "64.22"),
            (
                "percent before tax spread over rates",
                vec![line("1", "100", "0", &[&v19]), line("1", "50", "0", &[&v9])],
                Some(DocumentDiscount { kind: DiscountType::Percent, value: d("10"), applies: DiscountApplies::BeforeTax }),
                "150.00",
                "15.00",
                vec![("9", "4.05"), ("19", "17.10")],
                "156.15",
            ),
            (
                "fixed before tax, uneven split",
                vec![line("1", "1", "0", &[&v19]), line("1", "1", "0", &[&v19]), line("1", "1", "0", &[&v9])],
                Some(DocumentDiscount { kind: DiscountType::Fixed, value: d("0.10"), applies: DiscountApplies::BeforeTax }),
                "3.00",
                "0.10",
                // shares 0.04 + 0.03 (19 %) and 0.03 (9 %): bases 1.93 and 0.97.
                vec![("9", "0.09"), ("19", "0.37")],
                "3.36",
            ),
            (
                "percent after tax",
                vec![line("1", "100", "0", &[&v19])],
                Some(DocumentDiscount { kind: DiscountType::Percent, value: d("5"), applies: DiscountApplies::AfterTax }),
                "100.00",
                "5.95",
                vec![("19", "19.00")],
                "113.05",
            ),
            (
                "two taxes on one line",
                vec![line("1", "100", "0", &[&v19, &tax(5, "2.5")])],
                None,
                "100.00",
                "0",
                vec![("2.5", "2.50"), ("19", "19.00")],
                "121.50",
            ),
            ("no tax", vec![line("2", "10", "0", &[])], None, "20.00", "0", vec![], "20.00"),
            (
                "large amounts",
                vec![line("1000000", "99999.9999", "0", &[&v19])],
                None,
                "99999999900.00",
                "0",
                vec![("19", "18999999981.00")],
                "118999999881.00",
            ),
            ("empty document", vec![], None, "0", "0", vec![], "0"),
        ]
    }

    #[test]
    fn documents_total_as_the_spec_says() {
        for (name, lines, discount, subtotal, disc, taxes, total) in cases() {
            let t = compute(ron(), &lines, discount).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(t.subtotal, d(subtotal), "{name}: subtotal");
            assert_eq!(t.discount_total, d(disc), "{name}: discount");
            let got: Vec<(Decimal, Decimal)> = t.taxes.iter().map(|x| (x.rate, x.amount)).collect();
            let want: Vec<(Decimal, Decimal)> = taxes.iter().map(|(r, a)| (d(r), d(a))).collect();
            assert_eq!(got, want, "{name}: taxes");
            assert_eq!(t.total, d(total), "{name}: total");
            assert_eq!(compute_undiscounted(ron(), &lines), compute(ron(), &lines, None).unwrap(), "{name}: undiscounted");
        }
    }

    #[test]
    fn currencies_without_or_with_three_minor_units_round_to_them() {
        let jpy = Currency::parse("JPY").unwrap();
        let t = compute(jpy, &[line("3", "333.5", "0", &[&tax(1, "10")])], None).unwrap();
        assert_eq!((t.subtotal, t.total_tax, t.total), (d("1001"), d("100"), d("1101")));
        let kwd = Currency::parse("KWD").unwrap();
        let t = compute(kwd, &[line("1", "1.2345", "0", &[&tax(1, "5")])], None).unwrap();
        assert_eq!((t.subtotal, t.total_tax, t.total), (d("1.235"), d("0.062"), d("1.297")));
    }

    #[test]
    fn fixed_discounts_cannot_exceed_or_be_more_precise_than_the_currency() {
        let lines = [line("1", "10", "0", &[])];
        let fixed = |v: &str| Some(DocumentDiscount { kind: DiscountType::Fixed, value: d(v), applies: DiscountApplies::BeforeTax });
        assert_eq!(compute(ron(), &lines, fixed("10.01")).unwrap_err().code, "exceeds_total");
        assert_eq!(compute(ron(), &lines, fixed("1.001")).unwrap_err().code, "too_precise");
        assert_eq!(compute(ron(), &lines, fixed("10")).unwrap().total, d("0.00"));
        let pct = Some(DocumentDiscount { kind: DiscountType::Percent, value: d("101"), applies: DiscountApplies::AfterTax });
        assert_eq!(compute(ron(), &lines, pct).unwrap_err().code, "out_of_range");
    }

    #[test]
    fn inputs_are_checked() {
        assert_eq!(check_qty(d("0")).unwrap_err().code, "not_positive");
        assert_eq!(check_qty(d("1.00001")).unwrap_err().code, "too_precise");
        assert!(check_qty(d("1.1250")).is_ok());
        assert_eq!(check_unit_price(d("-1")).unwrap_err().code, "negative");
        assert_eq!(check_percent(d("100.5")).unwrap_err().code, "out_of_range");
        assert!(check_tax_rate(d("21")).is_ok());
    }

    #[test]
    fn allocation_adds_up_and_follows_the_weights() {
        let shares = allocate(d("0.10"), &[d("1"), d("1"), d("1")], ron());
        assert_eq!(shares, vec![d("0.04"), d("0.03"), d("0.03")]);
        assert_eq!(allocate(d("5"), &[d("0"), d("0")], ron()), vec![d("0"), d("0")]);
    }

    mod property {
        use super::*;
        use proptest::prelude::*;

        fn money_in(max_cents: i64) -> impl Strategy<Value = Decimal> {
            (0..max_cents).prop_map(|c| Decimal::new(c, 2))
        }

        fn any_line() -> impl Strategy<Value = LineInput> {
            let rates = prop::sample::subsequence(vec![(1, "0"), (2, "5"), (3, "9"), (4, "19"), (5, "21")], 0..=2);
            (1i64..100_000, money_in(10_000_000), 0i64..=100, rates).prop_map(|(qty_milli, price, disc, rates)| LineInput {
                qty: Decimal::new(qty_milli, 3),
                unit_price: price,
                discount_percent: Decimal::from(disc),
                taxes: rates.into_iter().map(|(id, r)| AppliedTax { tax_id: id, name: r.into(), rate: Decimal::from_str(r).unwrap() }).collect(),
            })
        }

        fn any_discount() -> impl Strategy<Value = Option<DocumentDiscount>> {
            prop_oneof![
                Just(None),
                (0i64..=100, any::<bool>()).prop_map(|(p, before)| Some(DocumentDiscount {
                    kind: DiscountType::Percent,
                    value: Decimal::from(p),
                    applies: if before { DiscountApplies::BeforeTax } else { DiscountApplies::AfterTax },
                })),
            ]
        }

        proptest! {
            /// The total is always the sum of the parts printed on the document, every part is
            /// rounded to the currency, and a before-tax discount is fully spread over the bases.
            #[test]
            fn total_is_the_sum_of_its_printed_parts(lines in prop::collection::vec(any_line(), 0..12), discount in any_discount()) {
                let t = compute(ron(), &lines, discount).unwrap();
                let rounded = |x: Decimal| money::round(x, ron()) == x;
                prop_assert_eq!(t.subtotal, t.lines.iter().map(|l| l.net).sum::<Decimal>());
                for l in &t.lines {
                    prop_assert!(rounded(l.amount) && rounded(l.discount) && l.net >= Decimal::ZERO);
                }
                prop_assert!(t.taxes.iter().all(|x| rounded(x.amount)));
                prop_assert_eq!(t.total_tax, t.taxes.iter().map(|x| x.amount).sum::<Decimal>());
                prop_assert_eq!(t.total, t.subtotal - t.discount_total + t.total_tax);
                prop_assert!(t.total >= Decimal::ZERO);
                if matches!(discount, Some(d) if d.applies == DiscountApplies::BeforeTax) {
                    // Each rate's base is its nets minus exactly its lines' shares of the discount.
                    for x in &t.taxes {
                        let nets: Decimal = lines.iter().zip(&t.lines).filter(|(l, _)| l.taxes.iter().any(|a| a.tax_id == x.tax_id)).map(|(_, lt)| lt.net).sum();
                        prop_assert!(x.base <= nets && x.base >= Decimal::ZERO);
                    }
                }
            }
        }
    }
}
