//! Commission policies, who earns under them, the commissions payments earn and the receipts
//! that pay them out (the guide's `/admin/commission`).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::commission::{CommissionType, PolicyRules, ProductRate, ProductTiers, Tier};

/// A commission policy: its name and rules (`type`, `rate`, `tiers`, `product_rates`,
/// `product_tiers`, as [`PolicyRules`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommissionPolicy {
    pub id: i32,
    pub name: String,
    #[serde(flatten)]
    pub rules: PolicyRules,
    /// Staff members who earn under it.
    pub staff_ids: Vec<i32>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
}

/// Create (`name` and `type` required) or change a policy: the fields sent replace the current ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CommissionPolicyInput {
    pub name: Option<String>,
    /// `percentage`, `ladder`, `product`, `product_ladder` or `margin`.
    #[serde(rename = "type")]
    pub commission_type: Option<CommissionType>,
    /// Percent (`7.5`).
    #[serde(default, with = "rust_decimal::serde::str_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "10"))]
    pub rate: Option<Decimal>,
    pub tiers: Option<Vec<Tier>>,
    pub product_rates: Option<Vec<ProductRate>>,
    pub product_tiers: Option<Vec<ProductTiers>>,
}

/// Who earns under which policy (one policy per staff member).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplicableStaff {
    pub id: i32,
    pub staff_id: i32,
    pub staff_name: String,
    pub policy_id: i32,
    pub policy_name: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApplicableStaffInput {
    pub staff_id: i32,
    pub policy_id: i32,
}

/// What one payment earned the invoice's sale agent (or, with a negative amount, the offset of
/// such a commission already paid out when its payment was deleted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Commission {
    pub id: i32,
    pub staff_id: i32,
    pub staff_name: String,
    pub invoice_id: i32,
    pub invoice_number: Option<String>,
    /// `None` on an offset line (its payment was deleted).
    pub payment_id: Option<i32>,
    pub policy_id: Option<i32>,
    /// The part of the invoice's net value (without VAT) this payment covers.
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "1000.00"))]
    pub base_amount: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "100.00"))]
    pub amount: Decimal,
    pub currency: String,
    /// `pending` or `paid`.
    pub status: String,
    /// 0 pending, 1 paid.
    pub status_code: i32,
    /// The payment's date.
    #[serde(with = "crate::dates::iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
    /// From when it shows (the payment's date + `commission_calculate_after_days`).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub available_at: OffsetDateTime,
    pub receipt_id: Option<i32>,
    /// On an offset line: the commission it takes back.
    pub offsets_id: Option<i32>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
}

/// Pending and paid sums of one currency over the whole filtered list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommissionTotals {
    pub currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "250.00"))]
    pub pending: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "1200.00"))]
    pub paid: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommissionPage {
    pub items: Vec<Commission>,
    pub next_cursor: Option<String>,
    /// Over the whole filtered set, not just this page.
    pub totals: Vec<CommissionTotals>,
}

/// Pending commissions of one staff member and currency, paid out together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommissionReceipt {
    pub id: i32,
    /// `CR-000001`.
    pub number: String,
    pub staff_id: i32,
    pub staff_name: String,
    pub currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "350.00"))]
    pub total: Decimal,
    #[serde(with = "crate::dates::iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
    pub note: Option<String>,
    /// The expense recorded with it (`create_expense`).
    pub expense_id: Option<i32>,
    pub commissions: Vec<Commission>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CommissionReceiptInput {
    pub staff_id: i32,
    /// Pending, visible commissions of that staff member, all in one currency.
    pub commission_ids: Vec<i32>,
    /// Defaults to today.
    #[serde(default, with = "crate::dates::option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub date: Option<Date>,
    pub note: Option<String>,
    /// Also record the payout as an expense (category "Commissions"); needs a positive total.
    #[serde(default)]
    pub create_expense: bool,
}
