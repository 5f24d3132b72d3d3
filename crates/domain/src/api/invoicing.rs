//! Invoices, payments, payment modes, client credit, billing configuration, and the portal
//! view of an invoice.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::{Amounts, DocumentLine, LineInput};
use crate::documents::{DiscountApplies, DiscountType};
use crate::invoices::NumberFormat;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invoice {
    pub id: i32,
    /// `null` while a draft: the number is given when the invoice is issued.
    pub number: Option<String>,
    pub client_id: i32,
    pub client_name: String,
    pub currency: String,
    #[serde(with = "crate::dates::iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
    #[serde(with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub due_date: Option<Date>,
    pub sale_agent: Option<i32>,
    pub discount_type: Option<DiscountType>,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "0"))]
    pub discount_value: Decimal,
    pub discount_applies: DiscountApplies,
    pub terms: String,
    /// For staff only.
    pub admin_note: Option<String>,
    /// Printed on the invoice and shown on the portal.
    pub client_note: Option<String>,
    pub tags: Vec<String>,
    pub custom_fields: serde_json::Map<String, serde_json::Value>,
    /// Payment mode ids the client may use; empty = all active modes.
    pub allowed_payment_modes: Vec<i32>,
    pub lines: Vec<DocumentLine>,
    #[serde(flatten)]
    pub amounts: Amounts,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "500.00"))]
    pub total_paid: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "353.16"))]
    pub balance_due: Decimal,
    /// `draft`, `unpaid`, `partially_paid`, `paid`, `overdue`, `cancelled`.
    pub status: String,
    /// Draft 6 · Unpaid 1 · Partially paid 3 · Paid 2 · Overdue 4 · Cancelled 5.
    pub status_code: i32,
    /// Late with a balance, whatever the status (a partially paid invoice can be late).
    pub is_overdue: bool,
    pub days_overdue: i64,
    pub portal_url: Option<String>,
    pub proposal_id: Option<i32>,
    pub sales_order_id: Option<i32>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub issued_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InvoiceInput {
    /// Required on create.
    pub client_id: Option<i32>,
    /// Defaults to the client's currency.
    pub currency: Option<String>,
    #[serde(default, with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub date: Option<Date>,
    /// Defaults to date + the client's payment terms (else the billing setting); `null` = none.
    #[serde(default, with = "crate::dates::patch", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub due_date: Option<Option<Date>>,
    #[serde(default, deserialize_with = "super::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>))]
    pub sale_agent: Option<Option<i32>>,
    pub lines: Option<Vec<LineInput>>,
    #[serde(default, deserialize_with = "super::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<DiscountType>))]
    pub discount_type: Option<Option<DiscountType>>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub discount_value: Option<Decimal>,
    pub discount_applies: Option<DiscountApplies>,
    pub terms: Option<String>,
    pub admin_note: Option<String>,
    pub client_note: Option<String>,
    pub tags: Option<Vec<String>>,
    pub allowed_payment_modes: Option<Vec<i32>>,
    #[serde(default)]
    pub custom_fields: serde_json::Map<String, serde_json::Value>,
}

/// Totals of a filtered invoice list, per currency (never mixed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrencyTotals {
    pub currency: String,
    pub count: i64,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub total: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub paid: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub balance_due: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvoicePage {
    pub items: Vec<Invoice>,
    pub next_cursor: Option<String>,
    /// Over the whole filtered set, not just this page.
    pub totals: Vec<CurrencyTotals>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Payment {
    pub id: i32,
    pub invoice_id: i32,
    pub invoice_number: Option<String>,
    pub client_id: i32,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "500.00"))]
    pub amount: Decimal,
    pub currency: String,
    #[serde(with = "crate::dates::iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
    pub payment_mode_id: Option<i32>,
    pub payment_mode: Option<String>,
    pub transaction_id: Option<String>,
    pub note: Option<String>,
    /// `manual`, `credit` (applied client credit) or `gateway`.
    pub source: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "500.00"))]
    pub amount: Decimal,
    /// Defaults to today.
    #[serde(default, with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub date: Option<Date>,
    pub payment_mode_id: Option<i32>,
    pub transaction_id: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentMode {
    pub id: i32,
    pub name: String,
    pub active: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PaymentModeInput {
    pub name: Option<String>,
    pub active: Option<bool>,
}

/// Invoice numbering and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BillingConfig {
    /// `INV-`
    pub prefix: String,
    /// The numbering series (`INV`): each series counts on its own, so switching to a new
    /// series starts again at 1 while the old numbers stay unique.
    pub series: String,
    /// `number` → `INV-000123`; `year_number` → `INV-2026/000123` (numbering restarts each year).
    pub format: NumberFormat,
    pub padding: u32,
    /// The number the next issued invoice gets (of the current year for `year_number`).
    pub next_number: i64,
    /// Due date = invoice date + this, when the client has no payment terms.
    pub default_due_days: u32,
    /// Printed on invoices (bank account, IBAN…).
    pub payment_instructions: String,
    /// First overdue reminder this many days after the due date…
    pub overdue_reminder_after_days: u32,
    /// …then again every this many days while a balance is due (0 = only once).
    pub overdue_reminder_every_days: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BillingConfigPatch {
    pub prefix: Option<String>,
    pub series: Option<String>,
    pub format: Option<NumberFormat>,
    pub padding: Option<u32>,
    /// May only move forward (numbers already given are never reused).
    pub next_number: Option<i64>,
    pub default_due_days: Option<u32>,
    pub payment_instructions: Option<String>,
    pub overdue_reminder_after_days: Option<u32>,
    pub overdue_reminder_every_days: Option<u32>,
}

/// Money received before an invoice exists (an advance), kept as client credit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreditInput {
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "1000.00"))]
    pub amount: Decimal,
    pub currency: String,
    #[serde(default, with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub date: Option<Date>,
    pub payment_mode_id: Option<i32>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditEntry {
    pub id: i32,
    /// Positive: received; negative: applied to `invoice_id`.
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub amount: Decimal,
    pub currency: String,
    #[serde(with = "crate::dates::iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
    pub invoice_id: Option<i32>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditBalance {
    pub currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub amount: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientCredit {
    pub balances: Vec<CreditBalance>,
    pub entries: Vec<CreditEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApplyCreditInput {
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "250.00"))]
    pub amount: Decimal,
}

/// An invoice as the client sees it on the portal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalInvoice {
    pub number: String,
    pub company_name: String,
    pub client_name: String,
    pub currency: String,
    #[serde(with = "crate::dates::iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
    #[serde(with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub due_date: Option<Date>,
    pub lines: Vec<DocumentLine>,
    #[serde(flatten)]
    pub amounts: Amounts,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub total_paid: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub balance_due: Decimal,
    pub status: String,
    pub status_code: i32,
    pub client_note: Option<String>,
    pub terms: String,
    pub payment_instructions: String,
    pub payments: Vec<PortalPayment>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalPayment {
    #[serde(with = "crate::dates::iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub amount: Decimal,
    pub payment_mode: Option<String>,
}

/// A recurring invoice schedule: an invoice template generated once per cycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecurringInvoice {
    pub id: i32,
    pub client_id: i32,
    pub client_name: String,
    pub currency: String,
    pub frequency: crate::recurring::Frequency,
    /// N of "every N days/weeks/months" (1 for monthly, quarterly, annual).
    pub interval: i32,
    #[serde(with = "crate::dates::iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub start_date: Date,
    /// Number of cycles; 0 = until stopped.
    pub cycles: i32,
    /// `draft` (create drafts), `issue` (issue them), `issue_and_send` (issue and e-mail).
    pub mode: String,
    pub active: bool,
    pub sale_agent: Option<i32>,
    pub terms: String,
    pub client_note: Option<String>,
    pub lines: Vec<DocumentLine>,
    #[serde(flatten)]
    pub amounts: Amounts,
    /// Invoices generated so far.
    pub generated: i32,
    /// When the next invoice is due; `null` when the schedule is complete.
    #[serde(with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub next_date: Option<Date>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecurringInvoiceInput {
    pub client_id: Option<i32>,
    pub currency: Option<String>,
    pub frequency: Option<crate::recurring::Frequency>,
    pub interval: Option<i32>,
    #[serde(default, with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub start_date: Option<Date>,
    pub cycles: Option<i32>,
    pub mode: Option<String>,
    pub active: Option<bool>,
    pub sale_agent: Option<i32>,
    pub terms: Option<String>,
    pub client_note: Option<String>,
    pub lines: Option<Vec<LineInput>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Signature {
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// SHA-256 of the content that was signed.
    pub content_hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contract {
    pub id: i32,
    pub client_id: i32,
    pub client_name: String,
    pub subject: String,
    pub contract_type: Option<String>,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "12000.00"))]
    pub value: Decimal,
    pub currency: String,
    #[serde(with = "crate::dates::iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub start_date: Date,
    #[serde(with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub end_date: Option<Date>,
    /// Sanitised HTML.
    pub content: String,
    pub status_id: Option<i32>,
    pub status: Option<String>,
    pub proposal_id: Option<i32>,
    /// The contract this one renews.
    pub renewed_from_id: Option<i32>,
    pub portal_url: Option<String>,
    pub signature: Option<Signature>,
    /// Signed, then the content changed: the signature covers an earlier text.
    pub changed_after_signing: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ContractInput {
    pub client_id: Option<i32>,
    pub subject: Option<String>,
    pub contract_type: Option<String>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub value: Option<Decimal>,
    pub currency: Option<String>,
    #[serde(default, with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub start_date: Option<Date>,
    #[serde(default, with = "crate::dates::patch", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub end_date: Option<Option<Date>>,
    pub content: Option<String>,
    pub status_id: Option<i32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RenewInput {
    /// Defaults to the day after the renewed contract ends.
    #[serde(default, with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub start_date: Option<Date>,
    /// Defaults to the same length as the renewed contract.
    #[serde(default, with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub end_date: Option<Date>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub value: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalContract {
    pub subject: String,
    pub company_name: String,
    pub client_name: String,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub value: Decimal,
    pub currency: String,
    #[serde(with = "crate::dates::iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub start_date: Date,
    #[serde(with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub end_date: Option<Date>,
    pub content: String,
    /// The signer's IP address and browser are kept for staff and never shown here.
    pub signature: Option<Signature>,
    pub changed_after_signing: bool,
    /// Whether the contract can be signed now: unsigned, awaiting signature (not Draft,
    /// Expired or Terminated) and not past its end date.
    pub can_sign: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignInput {
    pub name: String,
    /// A typed signature or a data-URL image of a drawn one.
    pub signature: String,
}
