//! What proposals, sales orders and invoices share: lines (validated against the catalogue,
//! stored with a snapshot of their taxes), totals through the domain arithmetic, gap-free
//! number sequences, and rich-text sanitising.

use std::collections::HashMap;
use std::str::FromStr;

use crmconnect_domain::api::{Amounts, DocumentLine, LineInput};
use crmconnect_domain::documents::{self, AppliedTax, DiscountApplies, DiscountType, DocumentDiscount, DocumentTotals};
use crmconnect_domain::money::{self, Currency};
use crmconnect_domain::validation::Validator;
use rust_decimal::Decimal;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Statement};

use crate::auth::AuthUser;
use crate::entities::{client, currency, document_line, item, tax};
use crate::error::{Error, Result};
use crate::visibility;

pub const PROPOSAL: &str = "proposal";
pub const INVOICE: &str = "invoice";
pub const SALES_ORDER: &str = "sales_order";
pub const PROPOSAL_TEMPLATE: &str = "proposal_template";

/// A validated line, ready to store and to compute.
#[derive(Debug, Clone)]
pub struct Line {
    pub item_id: Option<i32>,
    pub description: String,
    pub long_description: Option<String>,
    pub qty: Decimal,
    pub unit: Option<String>,
    pub unit_price: Decimal,
    pub discount_percent: Decimal,
    pub taxes: Vec<AppliedTax>,
}

impl Line {
    pub fn calc(&self) -> documents::LineInput {
        documents::LineInput { qty: self.qty, unit_price: self.unit_price, discount_percent: self.discount_percent, taxes: self.taxes.clone() }
    }

    fn from_row(row: &document_line::Model) -> Line {
        Line {
            item_id: row.item_id,
            description: row.description.clone(),
            long_description: row.long_description.clone(),
            qty: dec(&row.qty),
            unit: row.unit.clone(),
            unit_price: dec(&row.unit_price),
            discount_percent: dec(&row.discount_percent),
            taxes: serde_json::from_value(row.taxes.clone()).unwrap_or_default(),
        }
    }

    /// Back to the request shape (templates keep lines this way).
    pub fn to_input(&self) -> LineInput {
        LineInput {
            item_id: self.item_id,
            description: Some(self.description.clone()),
            long_description: self.long_description.clone(),
            qty: self.qty,
            unit: self.unit.clone(),
            unit_price: Some(self.unit_price),
            tax_ids: Some(self.taxes.iter().map(|t| t.tax_id).collect()),
            discount_percent: Some(self.discount_percent),
        }
    }
}

/// Stored decimals were validated on the way in; a corrupt value reads as 0 rather than failing a list.
pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_default()
}

fn opt_text(v: &mut Validator, field: &str, value: &Option<String>, max: usize) -> Option<String> {
    let s = value.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    if s.chars().count() > max {
        v.push(field, "too_long", format!("must have at most {max} characters"));
        return None;
    }
    Some(s.to_string())
}

/// Validates lines against the catalogue; errors name the line (`lines[2].qty`).
pub async fn resolve_lines(db: &impl ConnectionTrait, v: &mut Validator, inputs: &[LineInput]) -> Result<Vec<Line>> {
    if inputs.len() > 500 {
        v.push("lines", "too_many", "at most 500 lines");
        return Ok(Vec::new());
    }
    let taxes: HashMap<i32, tax::Model> = tax::Entity::find().all(db).await?.into_iter().map(|t| (t.id, t)).collect();
    let item_ids: Vec<i32> = inputs.iter().filter_map(|l| l.item_id).collect();
    let items: HashMap<i32, item::Model> = if item_ids.is_empty() {
        HashMap::new()
    } else {
        item::Entity::find().filter(item::Column::Id.is_in(item_ids)).all(db).await?.into_iter().map(|i| (i.id, i)).collect()
    };
    let mut lines = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let f = |name: &str| format!("lines[{i}].{name}");
        let item = match input.item_id {
            Some(id) => match items.get(&id) {
                Some(item) => Some(item),
                None => {
                    v.push(&f("item_id"), "not_found", format!("no item {id}"));
                    continue;
                }
            },
            None => None,
        };
        let description = opt_text(v, &f("description"), &input.description, 500).or_else(|| item.map(|it| it.description.clone()));
        if description.is_none() {
            v.push(&f("description"), "required", "a description (or an item) is required");
        }
        let long_description = opt_text(v, &f("long_description"), &input.long_description, 5000).or_else(|| item.and_then(|it| it.long_description.clone()));
        let unit = opt_text(v, &f("unit"), &input.unit, 30).or_else(|| item.and_then(|it| it.unit.clone()));
        let qty = v.check(&f("qty"), documents::check_qty(input.qty));
        let unit_price = match input.unit_price.or_else(|| item.map(|it| dec(&it.unit_price))) {
            Some(p) => v.check(&f("unit_price"), documents::check_unit_price(p)),
            None => {
                v.push(&f("unit_price"), "required", "a unit price (or an item) is required");
                None
            }
        };
        let discount_percent = v.check(&f("discount_percent"), documents::check_percent(input.discount_percent.unwrap_or_default()));
        let tax_ids: Vec<i32> = match (&input.tax_ids, item) {
            (Some(ids), _) => ids.clone(),
            (None, Some(it)) => serde_json::from_value(it.tax_ids.clone()).unwrap_or_default(),
            (None, None) => Vec::new(),
        };
        let mut applied = Vec::new();
        for id in tax_ids {
            match taxes.get(&id) {
                Some(t) if !applied.iter().any(|a: &AppliedTax| a.tax_id == id) => {
                    applied.push(AppliedTax { tax_id: t.id, name: t.name.clone(), rate: dec(&t.rate) })
                }
                Some(_) => v.push(&f("tax_ids"), "duplicate", format!("tax {id} is listed twice")),
                None => v.push(&f("tax_ids"), "not_found", format!("no tax {id}")),
            }
        }
        if let (Some(description), Some(qty), Some(unit_price), Some(discount_percent)) = (description, qty, unit_price, discount_percent) {
            lines.push(Line { item_id: input.item_id, description, long_description, qty, unit, unit_price, discount_percent, taxes: applied });
        }
    }
    Ok(lines)
}

/// The document discount from stored columns.
pub fn discount_of(kind: Option<&str>, value: &str, applies: &str) -> Option<DocumentDiscount> {
    let kind = match kind? {
        "percent" => DiscountType::Percent,
        "fixed" => DiscountType::Fixed,
        _ => return None,
    };
    let applies = if applies == "after_tax" { DiscountApplies::AfterTax } else { DiscountApplies::BeforeTax };
    Some(DocumentDiscount { kind, value: dec(value), applies })
}

pub fn discount_type_name(kind: DiscountType) -> &'static str {
    match kind {
        DiscountType::Percent => "percent",
        DiscountType::Fixed => "fixed",
    }
}

pub fn discount_applies_name(applies: DiscountApplies) -> &'static str {
    match applies {
        DiscountApplies::BeforeTax => "before_tax",
        DiscountApplies::AfterTax => "after_tax",
    }
}

/// The stored discount columns of a document (`discount_type`, `discount_value`,
/// `discount_applies`), as a PATCH falls back to them.
pub struct StoredDiscount<'a> {
    pub kind: Option<&'a str>,
    pub value: &'a str,
    pub applies: &'a str,
}

/// The discount a document ends up with after a create or PATCH body: each part from the body
/// when sent, else from the stored document, else none. Proposals, invoices and sales orders
/// all resolve it here. A non-zero `discount_value` without a type is a field error (percent or
/// amount?). Returns the discount (if any) and where it applies.
pub fn resolve_discount(
    v: &mut Validator,
    kind: Option<Option<DiscountType>>,
    value: Option<Decimal>,
    applies: Option<DiscountApplies>,
    stored: Option<StoredDiscount<'_>>,
) -> (Option<DocumentDiscount>, DiscountApplies) {
    let sent_value = value.is_some_and(|d| !d.is_zero());
    let kind = kind.unwrap_or_else(|| stored.as_ref().and_then(|s| parse_discount_type(s.kind)));
    if kind.is_none() && sent_value {
        v.push("discount_type", "required", "say whether discount_value is a `percent` or a `fixed` amount");
    }
    let value = value.or_else(|| stored.as_ref().map(|s| dec(s.value))).unwrap_or_default();
    let applies = applies.or_else(|| stored.as_ref().map(|s| parse_discount_applies(s.applies))).unwrap_or_default();
    (kind.map(|kind| DocumentDiscount { kind, value, applies }), applies)
}

/// The lines a stored document has (a PATCH without `lines` keeps them).
pub async fn stored_lines(db: &impl ConnectionTrait, document_type: &str, id: i32) -> Result<Vec<Line>> {
    Ok(lines_from_rows(&lines_of(db, document_type, &[id]).await?.remove(&id).unwrap_or_default()))
}

pub fn parse_discount_type(kind: Option<&str>) -> Option<DiscountType> {
    match kind? {
        "percent" => Some(DiscountType::Percent),
        "fixed" => Some(DiscountType::Fixed),
        _ => None,
    }
}

pub fn parse_discount_applies(applies: &str) -> DiscountApplies {
    if applies == "after_tax" {
        DiscountApplies::AfterTax
    } else {
        DiscountApplies::BeforeTax
    }
}

pub fn compute(currency: Currency, lines: &[Line], discount: Option<DocumentDiscount>) -> Result<DocumentTotals, crmconnect_domain::validation::FieldProblem> {
    documents::compute(currency, &lines.iter().map(Line::calc).collect::<Vec<_>>(), discount)
}

/// The totals without a document discount, which cannot fail.
pub fn compute_undiscounted(currency: Currency, lines: &[Line]) -> DocumentTotals {
    documents::compute_undiscounted(currency, &lines.iter().map(Line::calc).collect::<Vec<_>>())
}

/// Replaces a document's lines.
pub async fn save_lines(db: &impl ConnectionTrait, document_type: &str, document_id: i32, lines: &[Line]) -> Result<()> {
    document_line::Entity::delete_many()
        .filter(document_line::Column::DocumentType.eq(document_type))
        .filter(document_line::Column::DocumentId.eq(document_id))
        .exec(db)
        .await?;
    if lines.is_empty() {
        return Ok(());
    }
    // The cost of what is sold, as the catalogue says now: later price changes leave it alone.
    let item_ids: Vec<i32> = lines.iter().filter_map(|l| l.item_id).collect();
    let costs: HashMap<i32, Option<String>> =
        item::Entity::find().filter(item::Column::Id.is_in(item_ids)).all(db).await?.into_iter().map(|i| (i.id, i.purchase_price)).collect();
    let rows = lines.iter().enumerate().map(|(i, l)| document_line::ActiveModel {
        document_type: Set(document_type.to_string()),
        document_id: Set(document_id),
        position: Set(i as i32 + 1),
        item_id: Set(l.item_id),
        description: Set(l.description.clone()),
        long_description: Set(l.long_description.clone()),
        qty: Set(l.qty.normalize().to_string()),
        unit: Set(l.unit.clone()),
        unit_price: Set(l.unit_price.normalize().to_string()),
        discount_percent: Set(l.discount_percent.normalize().to_string()),
        taxes: Set(serde_json::json!(l.taxes)),
        purchase_price: Set(l.item_id.and_then(|id| costs.get(&id).cloned().flatten())),
        ..Default::default()
    });
    document_line::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

/// Lines of many documents of one type, in order.
pub async fn lines_of(db: &impl ConnectionTrait, document_type: &str, ids: &[i32]) -> Result<HashMap<i32, Vec<document_line::Model>>> {
    let mut out: HashMap<i32, Vec<document_line::Model>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let rows = document_line::Entity::find()
        .filter(document_line::Column::DocumentType.eq(document_type))
        .filter(document_line::Column::DocumentId.is_in(ids.to_vec()))
        .order_by_asc(document_line::Column::DocumentId)
        .order_by_asc(document_line::Column::Position)
        .all(db)
        .await?;
    for r in rows {
        out.entry(r.document_id).or_default().push(r);
    }
    Ok(out)
}

pub fn lines_from_rows(rows: &[document_line::Model]) -> Vec<Line> {
    rows.iter().map(Line::from_row).collect()
}

/// API lines and amounts of a stored document.
pub fn present(currency: Currency, rows: &[document_line::Model], discount: Option<DocumentDiscount>) -> (Vec<DocumentLine>, Amounts) {
    let lines = lines_from_rows(rows);
    // Stored documents were validated when written; if a discount no longer fits (it cannot,
    // lines and discount are written together) show the document without it rather than fail.
    let totals = compute(currency, &lines, discount).unwrap_or_else(|_| compute_undiscounted(currency, &lines));
    let api_lines = rows
        .iter()
        .zip(&lines)
        .zip(&totals.lines)
        .map(|((row, l), t)| DocumentLine {
            id: row.id,
            position: row.position,
            item_id: l.item_id,
            description: l.description.clone(),
            long_description: l.long_description.clone(),
            qty: l.qty,
            unit: l.unit.clone(),
            unit_price: l.unit_price,
            discount_percent: l.discount_percent,
            tax_ids: l.taxes.iter().map(|t| t.tax_id).collect(),
            taxes: l.taxes.clone(),
            amount: t.amount,
            discount: t.discount,
            net: t.net,
        })
        .collect();
    (api_lines, amounts(&totals))
}

pub fn amounts(t: &DocumentTotals) -> Amounts {
    Amounts { subtotal: t.subtotal, discount_total: t.discount_total, taxes: t.taxes.clone(), total_tax: t.total_tax, total: t.total }
}

/// Cached totals in minor units: (subtotal, discount, tax, total).
pub fn minor_totals(t: &DocumentTotals, currency: Currency) -> (i64, i64, i64, i64) {
    let m = |d: Decimal| money::to_minor(d, currency).unwrap_or(i64::MAX);
    (m(t.subtotal), m(t.discount_total), m(t.total_tax), m(t.total))
}

/// Currencies documents may use are those enabled in `/currencies`.
pub async fn enabled_currency(db: &impl ConnectionTrait, v: &mut Validator, field: &str, raw: &str) -> Result<Option<Currency>> {
    let Some(c) = v.check(field, Currency::parse(raw)) else { return Ok(None) };
    if currency::Entity::find().filter(currency::Column::Code.eq(c.code())).one(db).await?.is_none() {
        v.push(field, "not_enabled", format!("{} is not enabled; add it under /api/v1/currencies", c.code()));
        return Ok(None);
    }
    Ok(Some(c))
}

/// The client a document names: required when creating, must exist when given; problems go
/// into `v` (so every field error is reported at once). `None` when not given on an update.
pub async fn requested_client(
    db: &impl ConnectionTrait,
    user: &AuthUser,
    v: &mut Validator,
    client_id: Option<i32>,
    creating: bool,
) -> Result<Option<client::Model>> {
    match client_id {
        Some(id) => {
            let c = visibility::referenced_client(db, user, id).await?;
            if c.is_none() {
                v.push("client_id", "not_found", format!("no client {id} that you can see"));
            }
            Ok(c)
        }
        None if creating => {
            v.push("client_id", "required", "a client is required");
            Ok(None)
        }
        None => Ok(None),
    }
}

/// The currency of a stored document (its code was validated when written; an unknown code —
/// a currency disabled since — still prints with two decimals, like RON).
pub fn currency_of(code: &str) -> Currency {
    Currency::parse(code).unwrap_or(Currency::RON)
}

/// Today in UTC: document dates, due dates and expiry are calendar days in UTC.
pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// A default currency taken from a lead or client: used when enabled, else the base currency.
pub async fn enabled_or_base(db: &impl ConnectionTrait, code: &str) -> Result<Currency> {
    let mut ignored = Validator::new();
    match enabled_currency(db, &mut ignored, "currency", code).await? {
        Some(c) => Ok(c),
        None => base_currency(db).await,
    }
}

pub async fn base_currency(db: &impl ConnectionTrait) -> Result<Currency> {
    let row = currency::Entity::find().filter(currency::Column::IsBase.eq(true)).one(db).await?;
    Ok(row.and_then(|c| Currency::parse(&c.code).ok()).unwrap_or(Currency::RON))
}

/// The next number of a sequence, inside the caller's transaction. The row is updated in
/// place, so on PostgreSQL concurrent transactions queue on its lock (no duplicates) and a
/// rolled-back transaction gives its number back (no gaps).
pub async fn next_number(db: &impl ConnectionTrait, sequence: &str) -> Result<i64> {
    let backend = db.get_database_backend();
    db.execute(Statement::from_sql_and_values(
        backend,
        match backend {
            sea_orm::DatabaseBackend::Postgres => "INSERT INTO number_sequences (name, next_value) VALUES ($1, 1) ON CONFLICT (name) DO NOTHING",
            _ => "INSERT INTO number_sequences (name, next_value) VALUES (?, 1) ON CONFLICT (name) DO NOTHING",
        },
        [sequence.into()],
    ))
    .await?;
    let row = db
        .query_one(Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DatabaseBackend::Postgres => "UPDATE number_sequences SET next_value = next_value + 1 WHERE name = $1 RETURNING next_value - 1 AS n",
                _ => "UPDATE number_sequences SET next_value = next_value + 1 WHERE name = ? RETURNING next_value - 1 AS n",
            },
            [sequence.into()],
        ))
        .await?
        .ok_or_else(|| Error::internal(anyhow::anyhow!("sequence {sequence} vanished")))?;
    Ok(row.try_get::<i64>("", "n")?)
}

/// Moves a sequence so the next number is `next` (callers check it only moves forward).
pub async fn set_sequence(db: &impl ConnectionTrait, sequence: &str, next: i64) -> Result<()> {
    next_number(db, sequence).await?;
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => "UPDATE number_sequences SET next_value = $1 WHERE name = $2",
        _ => "UPDATE number_sequences SET next_value = ? WHERE name = ?",
    };
    db.execute(Statement::from_sql_and_values(backend, sql, [next.into(), sequence.into()])).await?;
    Ok(())
}

/// Rich text from users: only formatting tags survive (no scripts, styles, event handlers).
pub fn sanitize_html(raw: &str) -> String {
    ammonia::clean(raw.trim())
}

/// Plain text of sanitised HTML, for PDFs and e-mails: block ends become line breaks.
pub fn html_to_text(html: &str) -> String {
    let mut s = html.to_string();
    for tag in ["</p>", "<br>", "<br/>", "<br />", "</li>", "</h1>", "</h2>", "</h3>", "</h4>", "</div>", "</tr>"] {
        s = s.replace(tag, &format!("{tag}\n"));
    }
    let stripped = ammonia::Builder::empty().clean(&s).to_string();
    let text = quick_xml::escape::unescape(&stripped).map(|c| c.into_owned()).unwrap_or(stripped);
    text.lines().map(str::trim).collect::<Vec<_>>().join("\n").trim().to_string()
}

/// SHA-256 (hex) of what a client signed or accepted, to prove later what exactly it was.
pub fn content_hash(content: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(content.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_keeps_the_stored_discount_and_overrides_only_what_it_sends() {
        let stored = || Some(StoredDiscount { kind: Some("percent"), value: "10", applies: "after_tax" });
        let mut v = Validator::new();
        let (kept, applies) = resolve_discount(&mut v, None, None, None, stored());
        assert_eq!(kept, Some(DocumentDiscount { kind: DiscountType::Percent, value: Decimal::from(10), applies: DiscountApplies::AfterTax }));
        assert_eq!(applies, DiscountApplies::AfterTax);
        let (changed, _) = resolve_discount(&mut v, Some(Some(DiscountType::Fixed)), Some(Decimal::from(25)), None, stored());
        assert_eq!(changed.map(|d| (d.kind, d.value, d.applies)), Some((DiscountType::Fixed, Decimal::from(25), DiscountApplies::AfterTax)));
        let (removed, _) = resolve_discount(&mut v, Some(None), None, None, stored());
        assert_eq!(removed, None, "`discount_type: null` removes it");
        assert!(v.finish().is_ok());
    }

    #[test]
    fn a_discount_value_without_a_type_is_a_field_error() {
        let mut v = Validator::new();
        let (discount, _) = resolve_discount(&mut v, None, Some(Decimal::from(5)), None, None);
        assert_eq!(discount, None);
        let errors = v.finish().expect_err("refused");
        assert_eq!(errors[0].field, "discount_type");
        let mut v = Validator::new();
        resolve_discount(&mut v, None, Some(Decimal::ZERO), None, None);
        assert!(v.finish().is_ok(), "a zero value needs no type");
    }

    #[test]
    fn rich_text_keeps_formatting_and_drops_scripts() {
        let clean = sanitize_html(r#"<p onclick="x()">Hi <b>there</b><script>alert(1)</script></p>"#);
        assert_eq!(clean, "<p>Hi <b>there</b></p>");
        assert_eq!(html_to_text("<p>One &amp; two</p><ul><li>a</li><li>b</li></ul>"), "One & two\na\nb");
    }
}
