//! Commissions: what a sales agent earns on an invoice, and which part of it each payment earns.
//!
//! The amounts end up on commission receipts and reports and must add up to the cent, and the
//! browser previews them while a policy is edited, so the rules live here, pure. The rules:
//! 1. The base is the invoice's net value: after line and document discounts, without tax. Lines
//!    carry their nets *before* the document discount (as [`crate::documents`] prints them); the
//!    difference to `net_total` is spread over the lines in proportion to their nets, in whole minor
//!    units (largest remainder, ties to the earlier line) like the document's tax bases, so a line's
//!    commission base is the net its tax was charged on.
//! 2. Ladders are marginal, like tax brackets: a tier's rate applies only to the part of the value
//!    inside the tier. A closed last tier is a cap: value above it earns nothing.
//! 3. The invoice's commission is the sum of its unrounded parts, rounded once ([`money::round`]);
//!    it is never negative.
//! 4. Commission is earned as the invoice is paid, each payment its share (see [`payment_commission`]).
//! 5. Deleting a payment deletes its pending commission; if that commission was already paid out on
//!    a receipt, the agent's next receipt gets an offset line of minus that amount instead.

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::documents::{check_percent, check_precision};
use crate::money::{self, Currency};
use crate::validation::{FieldError, FieldProblem, Validator};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CommissionType {
    /// `rate` % of the invoice's net value.
    Percentage,
    /// `tiers`, marginal, on the invoice's net value.
    Ladder,
    /// A rate per item or item group on each line's net; `rate` for the other lines (none: nothing).
    Product,
    /// `product_tiers`, marginal, on each line of the item; `rate` for the other lines (none: nothing).
    ProductLadder,
    /// `rate` % of each line's margin: net − purchase price × quantity, never below zero.
    Margin,
}

/// A ladder step: `rate` % of the value between `from` and `to` (`None`: and above).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tier {
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "10000.00"))]
    pub from: Decimal,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "30000.00"))]
    pub to: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "7"))]
    pub rate: Decimal,
}

/// The rate of one item or of one item group (the items' `group_name`; exactly one of the two);
/// an item's rate wins over its group's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductRate {
    #[serde(default)]
    pub item_id: Option<i32>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "5"))]
    pub rate: Decimal,
}

/// The ladder of one item, applied to each of its lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductTiers {
    pub item_id: i32,
    pub tiers: Vec<Tier>,
}

/// A commission policy's rules. Only the fields its type uses are checked and used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyRules {
    /// `type` in JSON, as the guide names it.
    #[serde(rename = "type")]
    pub commission_type: CommissionType,
    /// Percent (`7.5` = 7.5 %); required for `percentage` and `margin`, the fallback for product types.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "7.5"))]
    pub rate: Option<Decimal>,
    #[serde(default)]
    pub tiers: Vec<Tier>,
    #[serde(default)]
    pub product_rates: Vec<ProductRate>,
    #[serde(default)]
    pub product_tiers: Vec<ProductTiers>,
}

/// One invoice line as commission sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommissionLine {
    #[serde(default)]
    pub item_id: Option<i32>,
    /// The item's group (`group_name`), if any.
    #[serde(default)]
    pub group: Option<String>,
    /// The line's net after its own discount, before the document discount, without tax.
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "1500.00"))]
    pub net: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2"))]
    pub quantity: Decimal,
    /// Unit cost; a line without one (a service, a free-text line) counts its whole net as margin.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "600.00"))]
    pub purchase_price: Option<Decimal>,
}

/// An invoice as commission sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CommissionInvoice {
    pub currency: Currency,
    /// The invoice's net value after every discount, without tax: the commission base. Types that
    /// work per line take the gap to Σ line nets off the lines; a larger `net_total` adds nothing to them.
    pub net_total: Decimal,
    pub lines: Vec<CommissionLine>,
}

/// Codes as stored: a commission is pending until a receipt pays it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CommissionStatus {
    Pending,
    Paid,
}

impl CommissionStatus {
    pub const ALL: [CommissionStatus; 2] = [CommissionStatus::Pending, CommissionStatus::Paid];

    pub fn code(self) -> i32 {
        match self {
            CommissionStatus::Pending => 0,
            CommissionStatus::Paid => 1,
        }
    }

    pub fn from_code(code: i32) -> Option<CommissionStatus> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The API name (`status` field).
    pub fn name(self) -> &'static str {
        match self {
            CommissionStatus::Pending => "pending",
            CommissionStatus::Paid => "paid",
        }
    }

    /// A code (`0`) or a name (`pending`).
    pub fn parse(raw: &str) -> Result<CommissionStatus, FieldProblem> {
        let s = raw.trim().to_ascii_lowercase();
        if let Ok(code) = s.parse::<i32>() {
            return Self::from_code(code).ok_or_else(|| FieldProblem::new("invalid_status", format!("no commission status has code {code} (0–1)")));
        }
        Self::ALL
            .into_iter()
            .find(|st| st.name() == s)
            .ok_or_else(|| FieldProblem::new("invalid_status", format!("`{}` is not a commission status", raw.trim())))
    }
}

impl PolicyRules {
    /// Every problem at once, named by its JSON path (`tiers.1.from`, `product_rates.0.item_id`).
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut v = Validator::new();
        match self.rate {
            Some(rate) => {
                v.check("rate", check_percent(rate));
            }
            None if matches!(self.commission_type, CommissionType::Percentage | CommissionType::Margin) => {
                v.push("rate", "required", "a percentage or margin policy needs a rate")
            }
            None => {}
        }
        match self.commission_type {
            CommissionType::Ladder => check_tiers(&mut v, "tiers", &self.tiers),
            CommissionType::Product => check_product_rates(&mut v, &self.product_rates),
            CommissionType::ProductLadder => check_product_tiers(&mut v, &self.product_tiers),
            CommissionType::Percentage | CommissionType::Margin => {}
        }
        v.finish()
    }
}

/// Tiers start at 0, each where the previous one ends, ascending; only the last may be open-ended.
fn check_tiers(v: &mut Validator, field: &str, tiers: &[Tier]) {
    if tiers.is_empty() {
        v.push(field, "required", "a ladder needs at least one tier");
    }
    // `None` after an open-ended tier, already reported: contiguity is not checked again.
    let mut expected_from = Some(Decimal::ZERO);
    for (i, tier) in tiers.iter().enumerate() {
        v.check(&format!("{field}.{i}.rate"), check_percent(tier.rate));
        match expected_from {
            Some(start) if tier.from != start && i == 0 => v.push(&format!("{field}.0.from"), "invalid", "the first tier starts at 0"),
            Some(start) if tier.from != start => {
                v.push(&format!("{field}.{i}.from"), "not_contiguous", format!("must be {start}, where the previous tier ends"))
            }
            _ => {}
        }
        match tier.to {
            Some(to) if to <= tier.from => v.push(&format!("{field}.{i}.to"), "not_ascending", "must be greater than `from`"),
            Some(to) => {
                v.check(&format!("{field}.{i}.to"), check_precision(to));
            }
            None if i + 1 < tiers.len() => v.push(&format!("{field}.{i}.to"), "required", "only the last tier may be open-ended"),
            None => {}
        }
        expected_from = tier.to;
    }
}

fn check_product_rates(v: &mut Validator, rates: &[ProductRate]) {
    if rates.is_empty() {
        v.push("product_rates", "required", "a product policy needs at least one item or group rate");
    }
    let (mut items, mut groups) = (BTreeSet::new(), BTreeSet::new());
    for (i, r) in rates.iter().enumerate() {
        match (r.item_id, r.group.as_deref()) {
            (None, None) => v.push(&format!("product_rates.{i}.item_id"), "required", "an item or an item group"),
            (Some(_), Some(_)) => v.push(&format!("product_rates.{i}.group"), "invalid", "either an item or an item group, not both"),
            (Some(item), None) if !items.insert(item) => v.push(&format!("product_rates.{i}.item_id"), "duplicate", "this item already has a rate"),
            (None, Some(group)) if !groups.insert(group) => v.push(&format!("product_rates.{i}.group"), "duplicate", "this group already has a rate"),
            _ => {}
        }
        v.check(&format!("product_rates.{i}.rate"), check_percent(r.rate));
    }
}

fn check_product_tiers(v: &mut Validator, ladders: &[ProductTiers]) {
    if ladders.is_empty() {
        v.push("product_tiers", "required", "a product ladder policy needs the tiers of at least one item");
    }
    let mut items = BTreeSet::new();
    for (i, ladder) in ladders.iter().enumerate() {
        if !items.insert(ladder.item_id) {
            v.push(&format!("product_tiers.{i}.item_id"), "duplicate", "this item already has tiers");
        }
        check_tiers(v, &format!("product_tiers.{i}.tiers"), &ladder.tiers);
    }
}

/// The whole invoice's commission, rounded to the currency's minor unit. Expects a valid policy.
pub fn invoice_commission(policy: &PolicyRules, invoice: &CommissionInvoice) -> Decimal {
    let net_total = invoice.net_total.max(Decimal::ZERO);
    let rate = policy.rate.unwrap_or(Decimal::ZERO);
    let unrounded = match policy.commission_type {
        CommissionType::Percentage => percent_of(net_total, rate),
        CommissionType::Ladder => ladder(net_total, &policy.tiers),
        CommissionType::Product | CommissionType::ProductLadder | CommissionType::Margin => {
            invoice.lines.iter().zip(line_bases(invoice)).map(|(line, base)| line_commission(policy, line, base)).sum()
        }
    };
    money::round(unrounded.max(Decimal::ZERO), invoice.currency)
}

fn line_commission(policy: &PolicyRules, line: &CommissionLine, base: Decimal) -> Decimal {
    let item_rate = |item| policy.product_rates.iter().find(|r| r.item_id.is_some() && r.item_id == item).map(|r| r.rate);
    let group_rate =
        |group: Option<&str>| policy.product_rates.iter().find(|r| r.item_id.is_none() && r.group.is_some() && r.group.as_deref() == group).map(|r| r.rate);
    match policy.commission_type {
        CommissionType::Product => {
            let rate = item_rate(line.item_id).or_else(|| group_rate(line.group.as_deref())).or(policy.rate);
            percent_of(base, rate.unwrap_or(Decimal::ZERO))
        }
        CommissionType::ProductLadder => match policy.product_tiers.iter().find(|t| Some(t.item_id) == line.item_id) {
            Some(item) => ladder(base, &item.tiers),
            None => percent_of(base, policy.rate.unwrap_or(Decimal::ZERO)),
        },
        CommissionType::Margin => {
            let cost = line.purchase_price.unwrap_or(Decimal::ZERO) * line.quantity;
            percent_of((base - cost).max(Decimal::ZERO), policy.rate.unwrap_or(Decimal::ZERO))
        }
        // Whole-invoice types never get here; a line earns the same rate as the invoice.
        CommissionType::Percentage | CommissionType::Ladder => percent_of(base, policy.rate.unwrap_or(Decimal::ZERO)),
    }
}

fn percent_of(amount: Decimal, rate: Decimal) -> Decimal {
    amount * rate / Decimal::ONE_HUNDRED
}

/// Marginal: each tier's rate on the part of `value` inside the tier.
fn ladder(value: Decimal, tiers: &[Tier]) -> Decimal {
    tiers.iter().map(|t| percent_of((t.to.map_or(value, |to| value.min(to)) - t.from).max(Decimal::ZERO), t.rate)).sum()
}

/// Each line's net after its share of the document discount (the gap between Σ nets and `net_total`).
fn line_bases(invoice: &CommissionInvoice) -> Vec<Decimal> {
    let nets: Vec<Decimal> = invoice.lines.iter().map(|l| l.net.max(Decimal::ZERO)).collect();
    let subtotal: Decimal = nets.iter().sum();
    let discount = (subtotal - invoice.net_total.max(Decimal::ZERO)).max(Decimal::ZERO);
    let shares = allocate(discount, &nets, invoice.currency);
    nets.iter().zip(shares).map(|(net, share)| net - share).collect()
}

/// The same largest-remainder split as the document's tax bases (ties go to the earlier line).
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

/// The commission one payment earns out of the invoice's `whole` commission.
///
/// Rounded cumulatively: once `paid` of the invoice is in, `round(whole × paid / total)` is earned,
/// and a payment earns that minus what earlier payments earned (`already_earned`, the sum of their
/// parts, net of deleted payments). So parts never drift from their proportional share by more than
/// one minor unit, a wrong `already_earned` corrects itself, and the payment that completes (or
/// overpays) the invoice earns exactly what is left: the parts always add up to the whole.
/// Invoices without a positive total, and payments that are not positive, earn nothing.
pub fn payment_commission(
    whole: Decimal,
    already_earned: Decimal,
    invoice_total: Decimal,
    paid_before: Decimal,
    payment: Decimal,
    currency: Currency,
) -> Decimal {
    if invoice_total <= Decimal::ZERO || payment <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    let left = whole - already_earned;
    let part = match paid_before.checked_add(payment) {
        Some(paid) if paid < invoice_total => {
            let paid = paid.max(Decimal::ZERO);
            // Multiplying first keeps a midpoint exact; the ratio (< 1) cannot overflow.
            let earned_by_now = whole.checked_mul(paid).map_or_else(|| whole * (paid / invoice_total), |x| x / invoice_total);
            money::round(earned_by_now, currency) - already_earned
        }
        _ => left,
    };
    part.clamp(left.min(Decimal::ZERO), left.max(Decimal::ZERO))
}

#[cfg(test)]
mod tests {
    use super::CommissionType::*;
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }
    fn ron() -> Currency {
        Currency::RON
    }
    fn tier(from: &str, to: Option<&str>, rate: &str) -> Tier {
        Tier { from: d(from), to: to.map(d), rate: d(rate) }
    }
    fn policy(commission_type: CommissionType, rate: Option<&str>) -> PolicyRules {
        PolicyRules { commission_type, rate: rate.map(d), tiers: vec![], product_rates: vec![], product_tiers: vec![] }
    }
    fn line(item: Option<i32>, group: Option<&str>, net: &str, qty: &str, cost: Option<&str>) -> CommissionLine {
        CommissionLine { item_id: item, group: group.map(str::to_string), net: d(net), quantity: d(qty), purchase_price: cost.map(d) }
    }
    fn invoice(net_total: &str, lines: Vec<CommissionLine>) -> CommissionInvoice {
        CommissionInvoice { currency: ron(), net_total: d(net_total), lines }
    }
    fn spec_ladder() -> Vec<Tier> {
        vec![tier("0", Some("10000"), "5"), tier("10000", Some("30000"), "7"), tier("30000", None, "10")]
    }
    fn fields(policy: &PolicyRules) -> Vec<(String, String)> {
        policy.validate().unwrap_err().into_iter().map(|e| (e.field, e.code)).collect()
    }

    #[test]
    fn ladders_are_marginal_like_tax_brackets() {
        let p = PolicyRules { tiers: spec_ladder(), ..policy(Ladder, None) };
        // 5 % of 10,000 + 7 % of 20,000 + 10 % of 10,000 = 500.00 + 1,400.00 + 1,000.00.
        assert_eq!(invoice_commission(&p, &invoice("40000.00", vec![])).to_string(), "2900.00");
        for (net, expected) in [("0", "0.00"), ("5000", "250.00"), ("10000", "500.00"), ("30000", "1900.00"), ("10000.01", "500.00")] {
            assert_eq!(invoice_commission(&p, &invoice(net, vec![])), d(expected), "{net}");
        }
        let capped = PolicyRules { tiers: vec![tier("0", Some("1000"), "10")], ..policy(Ladder, None) };
        assert_eq!(invoice_commission(&capped, &invoice("5000", vec![])), d("100.00"), "a closed last tier caps");
    }

    #[test]
    fn percentage_is_of_the_net_after_every_discount_rounded_once() {
        let p = policy(Percentage, Some("10"));
        assert_eq!(invoice_commission(&p, &invoice("1000.00", vec![line(None, None, "1200.00", "1", None)])), d("100.00"));
        assert_eq!(invoice_commission(&policy(Percentage, Some("1.5")), &invoice("33.33", vec![])), d("0.50"), "0.49995 rounds up");
        assert_eq!(invoice_commission(&p, &invoice("-5", vec![])), d("0.00"), "never negative");
        let jpy = CommissionInvoice { currency: Currency::parse("JPY").unwrap(), net_total: d("1005"), lines: vec![] };
        assert_eq!(invoice_commission(&p, &jpy).to_string(), "101");
    }

    #[test]
    fn product_rates_prefer_the_item_then_its_group_then_the_policy_rate() {
        let rates =
            vec![ProductRate { item_id: Some(1), group: None, rate: d("10") }, ProductRate { item_id: None, group: Some("Services".into()), rate: d("5") }];
        let lines =
            vec![line(Some(1), Some("Services"), "100", "1", None), line(Some(2), Some("Services"), "100", "1", None), line(Some(3), None, "100", "1", None)];
        let with_default = PolicyRules { product_rates: rates.clone(), ..policy(Product, Some("1")) };
        assert_eq!(invoice_commission(&with_default, &invoice("300", lines.clone())), d("16.00"), "10 + 5 + 1");
        let without = PolicyRules { product_rates: rates, ..policy(Product, None) };
        assert_eq!(invoice_commission(&without, &invoice("300", lines)), d("15.00"), "no rate: nothing");
    }

    #[test]
    fn product_ladders_apply_per_line_of_the_item() {
        let p = PolicyRules {
            product_tiers: vec![ProductTiers { item_id: 1, tiers: vec![tier("0", Some("100"), "10"), tier("100", None, "20")] }],
            ..policy(ProductLadder, Some("2"))
        };
        let lines = vec![line(Some(1), None, "150", "3", None), line(Some(1), None, "50", "1", None), line(Some(2), None, "100", "1", None)];
        // Line 1: 10 + 10; line 2: 5 (its own ladder, not summed with line 1); item 2: the policy's 2 %.
        assert_eq!(invoice_commission(&p, &invoice("300", lines.clone())), d("27.00"));
        assert_eq!(invoice_commission(&PolicyRules { rate: None, ..p }, &invoice("300", lines)), d("25.00"));
    }

    #[test]
    fn margin_never_goes_below_zero_on_a_line() {
        let p = policy(Margin, Some("20"));
        let lines = vec![line(Some(1), None, "1000", "2", Some("300")), line(Some(2), None, "100", "1", Some("150")), line(None, None, "50", "1", None)];
        // (1000 − 600) × 20 % + 0 (sold below cost) + 50 × 20 % (no cost known).
        assert_eq!(invoice_commission(&p, &invoice("1150", lines)), d("90.00"));
    }

    #[test]
    fn a_document_discount_is_spread_like_the_tax_bases() {
        // Bases 0.96, 0.97, 0.97 (documents.rs gives the same split of 0.10 over 1, 1, 1).
        let only_first = PolicyRules { product_rates: vec![ProductRate { item_id: Some(1), group: None, rate: d("100") }], ..policy(Product, None) };
        let lines = vec![line(Some(1), None, "1", "1", None), line(Some(2), None, "1", "1", None), line(Some(3), None, "1", "1", None)];
        assert_eq!(invoice_commission(&only_first, &invoice("2.90", lines.clone())), d("0.96"));
        assert_eq!(allocate(d("0.10"), &[d("1"), d("1"), d("1")], ron()), vec![d("0.04"), d("0.03"), d("0.03")]);
        let margin = policy(Margin, Some("100"));
        assert_eq!(invoice_commission(&margin, &invoice("2.90", lines)), d("2.90"));
    }

    #[test]
    fn policies_are_validated_field_by_field() {
        assert!(PolicyRules { tiers: spec_ladder(), ..policy(Ladder, None) }.validate().is_ok());
        assert!(policy(Percentage, Some("7.5")).validate().is_ok());
        assert_eq!(fields(&policy(Percentage, None)), [("rate".into(), "required".into())]);
        assert_eq!(fields(&policy(Margin, Some("100.5"))), [("rate".into(), "out_of_range".into())]);
        assert_eq!(fields(&policy(Percentage, Some("1.23456"))), [("rate".into(), "too_precise".into())]);
        assert_eq!(fields(&policy(Ladder, None)), [("tiers".into(), "required".into())]);
        let bad_ladder = vec![tier("1", Some("10"), "5"), tier("11", None, "7"), tier("20", Some("20"), "101")];
        let got = fields(&PolicyRules { tiers: bad_ladder, ..policy(Ladder, None) });
        let want = [
            ("tiers.0.from", "invalid"),
            ("tiers.1.from", "not_contiguous"),
            ("tiers.1.to", "required"),
            ("tiers.2.rate", "out_of_range"),
            ("tiers.2.to", "not_ascending"),
        ];
        assert_eq!(got, want.map(|(f, c)| (f.to_string(), c.to_string())));
        let rates = vec![
            ProductRate { item_id: Some(1), group: None, rate: d("5") },
            ProductRate { item_id: Some(1), group: None, rate: d("5") },
            ProductRate { item_id: None, group: None, rate: d("5") },
            ProductRate { item_id: Some(2), group: Some("Hardware".into()), rate: d("5") },
        ];
        let got = fields(&PolicyRules { product_rates: rates, ..policy(Product, None) });
        let want = [("product_rates.1.item_id", "duplicate"), ("product_rates.2.item_id", "required"), ("product_rates.3.group", "invalid")];
        assert_eq!(got, want.map(|(f, c)| (f.to_string(), c.to_string())));
        assert_eq!(fields(&policy(Product, Some("5"))), [("product_rates".into(), "required".into())]);
        let twice = ProductTiers { item_id: 4, tiers: vec![tier("0", None, "5")] };
        let got = fields(&PolicyRules { product_tiers: vec![twice.clone(), twice, ProductTiers { item_id: 5, tiers: vec![] }], ..policy(ProductLadder, None) });
        let want = [("product_tiers.1.item_id", "duplicate"), ("product_tiers.2.tiers", "required")];
        assert_eq!(got, want.map(|(f, c)| (f.to_string(), c.to_string())));
    }

    #[test]
    fn policies_travel_as_json_with_decimal_strings() {
        let p = PolicyRules { tiers: vec![tier("0", None, "5")], ..policy(Ladder, None) };
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"type":"ladder","rate":null,"tiers":[{"from":"0","to":null,"rate":"5"}],"product_rates":[],"product_tiers":[]}"#);
        assert_eq!(serde_json::from_str::<PolicyRules>(r#"{"type":"ladder","tiers":[{"from":"0","rate":"5"}]}"#).unwrap(), p);
        assert_eq!(serde_json::to_string(&ProductLadder).unwrap(), r#""product_ladder""#);
    }

    #[test]
    fn statuses_keep_their_stored_codes() {
        for (status, code, name) in [(CommissionStatus::Pending, 0, "pending"), (CommissionStatus::Paid, 1, "paid")] {
            assert_eq!((status.code(), status.name()), (code, name));
            assert_eq!(CommissionStatus::from_code(code), Some(status));
            assert_eq!(CommissionStatus::parse(&code.to_string()).unwrap(), status);
            assert_eq!(CommissionStatus::parse(&name.to_uppercase()).unwrap(), status);
        }
        assert_eq!(CommissionStatus::from_code(2), None);
        assert_eq!(CommissionStatus::parse("settled").unwrap_err().code, "invalid_status");
    }

    #[test]
    fn payments_earn_their_share_and_the_last_one_the_remainder() {
        let pay = |earned: &str, paid_before: &str, payment: &str| payment_commission(d("10.00"), d(earned), d("300"), d(paid_before), d(payment), ron());
        assert_eq!([pay("0", "0", "100"), pay("3.33", "100", "100"), pay("6.67", "200", "100")], [d("3.33"), d("3.34"), d("3.33")]);
        assert_eq!(pay("3.33", "100", "500"), d("6.67"), "an overpayment earns what is left");
        assert_eq!(pay("10.00", "300", "50"), d("0"), "nothing is left after the invoice is paid");
        assert_eq!(pay("0", "0", "0"), d("0"));
        assert_eq!(payment_commission(d("5"), d("0"), d("0"), d("0"), d("10"), ron()), d("0"), "zero-total invoices earn nothing");
        // The first payment was deleted (its 3.33 offset): the next one catches up from 0 earned.
        assert_eq!(pay("0", "0", "200"), d("6.67"));
    }

    mod property {
        use super::*;
        use proptest::prelude::*;

        /// A total in cents split into 1..6 positive payments, and a whole commission of at most the total.
        fn split() -> impl Strategy<Value = (i64, i64, Vec<i64>)> {
            (1i64..10_000_000).prop_flat_map(|total| {
                let cuts = prop::collection::btree_set(1..total.max(2), 0..5).prop_map(move |cuts| {
                    let mut points: Vec<i64> = cuts.into_iter().filter(|c| *c < total).collect();
                    points.push(total);
                    points.iter().scan(0, |prev, p| Some(p - std::mem::replace(prev, *p))).collect::<Vec<i64>>()
                });
                (Just(total), 0..=total, cuts)
            })
        }

        proptest! {
            #[test]
            fn payment_parts_add_up_to_the_whole((total, whole, payments) in split(), extra in 0i64..1_000) {
                let (total, whole) = (Decimal::new(total, 2), Decimal::new(whole, 2));
                let unit = Decimal::new(1, 2);
                let (mut earned, mut paid) = (Decimal::ZERO, Decimal::ZERO);
                for (i, cents) in payments.iter().enumerate() {
                    let payment = Decimal::new(*cents, 2);
                    let part = payment_commission(whole, earned, total, paid, payment, ron());
                    prop_assert!(part >= Decimal::ZERO && money::round(part, ron()) == part);
                    if i + 1 < payments.len() {
                        prop_assert!((part - whole * payment / total).abs() <= unit, "part {} of {}", part, whole);
                    }
                    earned += part;
                    paid += payment;
                }
                prop_assert_eq!(earned, whole);
                // Paying more than the total earns nothing more and never panics.
                prop_assert_eq!(payment_commission(whole, earned, total, paid, Decimal::new(extra + 1, 2), ron()), Decimal::ZERO);
                prop_assert_eq!(payment_commission(whole, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, total, ron()), Decimal::ZERO);
            }

            #[test]
            fn ladders_grow_with_the_invoice_and_one_open_tier_is_a_percentage(a in 0i64..10_000_000, b in 0i64..10_000_000, rate in 0i64..=1_000_000) {
                let ladder_policy = PolicyRules { tiers: spec_ladder(), ..policy(Ladder, None) };
                let (low, high) = (Decimal::new(a.min(b), 2), Decimal::new(a.max(b), 2));
                let of = |p: &PolicyRules, net: Decimal| invoice_commission(p, &CommissionInvoice { currency: ron(), net_total: net, lines: vec![] });
                prop_assert!(of(&ladder_policy, low) <= of(&ladder_policy, high));
                let rate = Decimal::new(rate, 4);
                let one_tier = PolicyRules { tiers: vec![Tier { from: Decimal::ZERO, to: None, rate }], ..policy(Ladder, None) };
                prop_assert_eq!(of(&one_tier, high), of(&PolicyRules { rate: Some(rate), ..policy(Percentage, None) }, high));
            }

            /// At 100 % every line type earns exactly the discounted net: the discount is spread whole.
            #[test]
            fn line_bases_add_up_to_the_net_total(nets in prop::collection::vec(0i64..10_000_000, 1..8), discount_per_mille in 0i64..=1000) {
                let lines: Vec<CommissionLine> = nets.iter().map(|n| CommissionLine { net: Decimal::new(*n, 2), ..line(None, None, "0", "1", None) }).collect();
                let subtotal: i64 = nets.iter().sum();
                let net_total = Decimal::new(subtotal - subtotal * discount_per_mille / 1000, 2);
                let inv = CommissionInvoice { currency: ron(), net_total, lines };
                prop_assert_eq!(invoice_commission(&policy(Product, Some("100")), &inv), money::round(net_total, ron()));
                prop_assert_eq!(invoice_commission(&policy(Margin, Some("100")), &inv), money::round(net_total, ron()));
            }
        }
    }
}
