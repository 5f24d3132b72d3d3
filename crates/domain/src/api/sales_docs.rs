//! Catalogue (taxes, items, currencies), proposals and their templates, the client portal,
//! e-mail, notifications, settings, and the sales-order records proposals convert to.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::double_option;
use crate::documents::{AppliedTax, DiscountApplies, DiscountType, TaxTotal};

/// A tax rate, e.g. "VAT 21%" with `rate` `"21.00"` (percent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tax {
    pub id: i32,
    pub name: String,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "21.00"))]
    pub rate: Decimal,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TaxInput {
    pub name: Option<String>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "21"))]
    pub rate: Option<Decimal>,
}

/// A product or service of the catalogue. Prices are in the base currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Item {
    pub id: i32,
    pub description: String,
    pub long_description: Option<String>,
    pub unit: Option<String>,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "1500.00"))]
    pub unit_price: Decimal,
    /// For margin reports and margin-based commission.
    #[serde(with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "900.00"))]
    pub purchase_price: Option<Decimal>,
    pub tax_ids: Vec<i32>,
    pub group_name: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    pub description: Option<String>,
    pub long_description: Option<String>,
    pub unit: Option<String>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "1500.00"))]
    pub unit_price: Option<Decimal>,
    /// `null` clears.
    #[serde(default, deserialize_with = "super::leads::double_option_decimal", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub purchase_price: Option<Option<Decimal>>,
    pub tax_ids: Option<Vec<i32>>,
    pub group_name: Option<String>,
}

/// A currency documents may use. Decimal places follow ISO 4217.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrencyInfo {
    pub id: i32,
    pub code: String,
    pub symbol: String,
    pub decimal_places: u32,
    /// Exactly one currency is the base (item prices, reports).
    pub is_base: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CurrencyInput {
    pub code: Option<String>,
    pub symbol: Option<String>,
    /// `true` makes this the base currency (the previous base stops being it).
    pub is_base: Option<bool>,
}

/// A line as sent by the client. `item_id` fills empty fields from the catalogue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    pub item_id: Option<i32>,
    /// Required unless `item_id` gives one.
    pub description: Option<String>,
    pub long_description: Option<String>,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "1.5"))]
    pub qty: Decimal,
    pub unit: Option<String>,
    /// Required unless `item_id` gives one.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "1500.00"))]
    pub unit_price: Option<Decimal>,
    /// Defaults to the item's taxes when `item_id` is given, else none.
    pub tax_ids: Option<Vec<i32>>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "10"))]
    pub discount_percent: Option<Decimal>,
}

/// A stored line with its computed amounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocumentLine {
    pub id: i32,
    pub position: i32,
    pub item_id: Option<i32>,
    pub description: String,
    pub long_description: Option<String>,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "1.5"))]
    pub qty: Decimal,
    pub unit: Option<String>,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "1500.00"))]
    pub unit_price: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "0"))]
    pub discount_percent: Decimal,
    /// Snapshot of the taxes at the time the line was written.
    pub taxes: Vec<AppliedTax>,
    pub tax_ids: Vec<i32>,
    /// qty × unit price, rounded.
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2250.00"))]
    pub amount: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "0.00"))]
    pub discount: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2250.00"))]
    pub net: Decimal,
}

/// Every computed amount of a document, as decimal strings in its currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Amounts {
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2250.00"))]
    pub subtotal: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "0.00"))]
    pub discount_total: Decimal,
    pub taxes: Vec<TaxTotal>,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "472.50"))]
    pub total_tax: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2722.50"))]
    pub total: Decimal,
}

/// Who the document is addressed to (copied from the lead/client, editable).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recipient {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub zip: Option<String>,
}

/// Who accepted a proposal, recorded from the portal (or by staff).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Acceptance {
    pub name: String,
    pub email: Option<String>,
    pub signature: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Staff only: `null` on the client portal.
    pub ip: Option<String>,
    /// Staff only: `null` on the client portal.
    pub user_agent: Option<String>,
    /// SHA-256 (hex) of exactly what was accepted: number, date, validity, recipient, currency,
    /// lines, totals, subject, content and terms. `null` for acceptances recorded before it was kept.
    pub content_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Proposal {
    pub id: i32,
    /// `PRO-000123`.
    pub number: String,
    pub subject: String,
    pub lead_id: Option<i32>,
    /// Same as `lead_id` when the lead is an opportunity.
    pub opportunity_id: Option<i32>,
    pub client_id: Option<i32>,
    pub recipient: Recipient,
    pub currency: String,
    #[serde(with = "crate::dates::iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
    #[serde(with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub open_till: Option<Date>,
    pub allow_comments: bool,
    pub assigned_to: Option<i32>,
    pub assigned_to_name: Option<String>,
    pub discount_type: Option<DiscountType>,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "0"))]
    pub discount_value: Decimal,
    pub discount_applies: DiscountApplies,
    /// Sanitised HTML.
    pub content: String,
    pub terms: String,
    /// Never shown to the client.
    pub internal_notes: Option<String>,
    pub tags: Vec<String>,
    pub custom_fields: serde_json::Map<String, serde_json::Value>,
    pub lines: Vec<DocumentLine>,
    #[serde(flatten)]
    pub amounts: Amounts,
    /// `draft`, `sent`, `viewed`, `sent_manually`, `accepted`, `declined`, `revised`.
    pub status: String,
    /// The guide's code: Draft 6 · Sent 4 · Viewed 1 · Sent manually 7 · Accepted 3 · Declined 2 · Revised 5.
    pub status_code: i32,
    /// Past `open_till` and unanswered.
    pub expired: bool,
    /// The client's link (no login); `null` when revoked.
    pub portal_url: Option<String>,
    pub invoice_id: Option<i32>,
    pub sales_order_id: Option<i32>,
    pub accepted: Option<Acceptance>,
    pub declined_reason: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub viewed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Create (all optional except `subject`, one relation and the lines or a template) or patch.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProposalInput {
    /// Create only: start from this template (content and lines), then apply the other fields.
    pub template_id: Option<i32>,
    pub subject: Option<String>,
    /// Exactly one of `lead_id`, `opportunity_id`, `client_id` on create.
    pub lead_id: Option<i32>,
    pub opportunity_id: Option<i32>,
    pub client_id: Option<i32>,
    /// Overrides of the recipient copied from the relation.
    pub recipient: Option<Recipient>,
    /// Defaults to the relation's currency, else the base currency.
    pub currency: Option<String>,
    #[serde(default, with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub date: Option<Date>,
    /// Defaults to date + the `proposal_open_till_days` setting; `null` means no expiry.
    #[serde(default, with = "crate::dates::patch", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub open_till: Option<Option<Date>>,
    pub allow_comments: Option<bool>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>))]
    pub assigned_to: Option<Option<i32>>,
    /// Replaces every line.
    pub lines: Option<Vec<LineInput>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<DiscountType>))]
    pub discount_type: Option<Option<DiscountType>>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "10"))]
    pub discount_value: Option<Decimal>,
    pub discount_applies: Option<DiscountApplies>,
    pub content: Option<String>,
    pub terms: Option<String>,
    pub internal_notes: Option<String>,
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub custom_fields: serde_json::Map<String, serde_json::Value>,
}

/// A status by the guide's code (`7`) or name (`"sent_manually"`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum StatusRef {
    Code(i32),
    Name(String),
}

impl StatusRef {
    pub fn as_text(&self) -> String {
        match self {
            StatusRef::Code(c) => c.to_string(),
            StatusRef::Name(n) => n.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProposalStatusInput {
    pub status: StatusRef,
}

/// One address or several.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Addresses {
    One(String),
    Many(Vec<String>),
}

impl Addresses {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Addresses::One(s) => s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect(),
            Addresses::Many(v) => v,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SendInput {
    /// Defaults to the recipient's e-mail.
    pub to: Option<Addresses>,
    pub cc: Option<Addresses>,
    /// Overrides the template's subject.
    pub subject: Option<String>,
    /// A personal message, available to the template as `{{ message }}`.
    pub message: Option<String>,
    #[serde(default)]
    pub attach_pdf: bool,
}

/// An e-mail in the outbox: queued, retried with backoff, sent once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SentEmail {
    pub id: i32,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    /// `queued`, `sending`, `sent`, `failed` (gave up after the last retry).
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub has_attachment: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendResult {
    pub proposal: Proposal,
    pub email: SentEmail,
}

/// What the client sees on the portal: no internal notes, no staff data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalProposal {
    pub number: String,
    pub subject: String,
    pub company_name: String,
    pub recipient: Recipient,
    pub currency: String,
    #[serde(with = "crate::dates::iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
    #[serde(with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub open_till: Option<Date>,
    pub content: String,
    pub terms: String,
    pub lines: Vec<DocumentLine>,
    #[serde(flatten)]
    pub amounts: Amounts,
    pub status: String,
    pub status_code: i32,
    pub expired: bool,
    pub allow_comments: bool,
    /// Accept / decline buttons are shown.
    pub can_respond: bool,
    pub accepted: Option<Acceptance>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AcceptInput {
    /// The full name of the person accepting.
    pub name: String,
    pub email: Option<String>,
    /// A typed signature or a data-URL image of a drawn one.
    pub signature: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeclineInput {
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CommentInput {
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Comment {
    pub id: i32,
    pub content: String,
    pub author_name: String,
    /// Written by the client on the portal (else by staff).
    pub from_client: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: i32,
    /// `proposal_viewed`, `proposal_accepted`, `proposal_declined`, `proposal_comment`.
    pub kind: String,
    pub title: String,
    pub body: String,
    /// Where the SPA opens it, e.g. `/admin/proposals/12`.
    pub link: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<i32>,
    pub read: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProposalTemplate {
    pub id: i32,
    pub name: String,
    pub content: String,
    /// Default lines, copied into a proposal created from the template.
    pub lines: Vec<LineInput>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProposalTemplateInput {
    pub name: Option<String>,
    pub content: Option<String>,
    pub lines: Option<Vec<LineInput>>,
}

/// An editable e-mail template; `{{ … }}` merge fields are listed in `merge_fields`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailTemplate {
    pub id: i32,
    /// Stable key, e.g. `proposal_send`.
    pub slug: String,
    pub name: String,
    pub subject: String,
    pub body: String,
    pub merge_fields: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EmailTemplateInput {
    pub name: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
}

/// Company-wide settings (administrators).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppSettings {
    pub company_name: String,
    pub company_address: String,
    pub company_vat_number: String,
    pub company_registration_number: String,
    /// The From address of e-mails.
    pub company_email: String,
    pub proposal_number_prefix: String,
    pub proposal_number_padding: u32,
    /// Default validity of a new proposal, in days.
    pub proposal_open_till_days: u32,
    /// 1: a portal accept creates the invoice in the same transaction.
    pub estimate_auto_convert_to_invoice_on_client_accept: u8,
    /// A commission shows (and can be paid out) this many days after its payment (0–365).
    pub commission_calculate_after_days: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AppSettingsPatch {
    pub company_name: Option<String>,
    pub company_address: Option<String>,
    pub company_vat_number: Option<String>,
    pub company_registration_number: Option<String>,
    pub company_email: Option<String>,
    pub proposal_number_prefix: Option<String>,
    pub proposal_number_padding: Option<u32>,
    pub proposal_open_till_days: Option<u32>,
    pub estimate_auto_convert_to_invoice_on_client_accept: Option<u8>,
    pub commission_calculate_after_days: Option<u32>,
}

/// A sales order as created from a proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SalesOrder {
    pub id: i32,
    pub number: String,
    pub client_id: i32,
    pub currency: String,
    #[serde(with = "crate::dates::iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
    pub discount_type: Option<DiscountType>,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "0"))]
    pub discount_value: Decimal,
    pub discount_applies: DiscountApplies,
    pub lines: Vec<DocumentLine>,
    #[serde(flatten)]
    pub amounts: Amounts,
    /// `draft`, `confirmed`, `partially_delivered`, `delivered`, `invoiced`, `cancelled`.
    pub status: String,
    pub proposal_id: Option<i32>,
    pub invoice_id: Option<i32>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SalesOrderInput {
    /// Required on create.
    pub client_id: Option<i32>,
    pub currency: Option<String>,
    #[serde(default, with = "crate::dates::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub date: Option<Date>,
    pub lines: Option<Vec<LineInput>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<DiscountType>))]
    pub discount_type: Option<Option<DiscountType>>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub discount_value: Option<Decimal>,
    pub discount_applies: Option<DiscountApplies>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SalesOrderStatusInput {
    /// `confirmed`, `partially_delivered`, `delivered`, `cancelled`, `draft`.
    pub status: String,
}
