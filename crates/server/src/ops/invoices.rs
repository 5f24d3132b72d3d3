//! Invoices: the queries and business operations below the HTTP handlers.

use std::collections::HashMap;

use crmconnect_domain::api::{BillingConfig, Invoice, InvoiceInput};
use crmconnect_domain::documents::{DocumentDiscount, DocumentTotals};
use crmconnect_domain::invoices::{self as rules, InvoiceStatus, NumberFormat, StatusInputs};
use crmconnect_domain::leads::normalize_tags;
use crmconnect_domain::money::{self, Currency};
use crmconnect_domain::permissions::{Action, Module, ViewScope};
use crmconnect_domain::validation::Validator;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use time::{Date, Duration, OffsetDateTime};

use crate::audit::{self, Actor, Change};
use crate::auth::{secrets, AuthUser};
use crate::db::Read;
use crate::documents::{self, dec, Line, INVOICE};
use crate::documents::{currency_of, today};
use crate::entities::{app_setting, client, client_contact, invoice, payment};
use crate::error::{Error, ErrorCode, Result};
use crate::{custom_fields, email, outbox, pdf, settings};

/// The lifecycle stored in `status_code`: Draft (6), Cancelled (5) or issued (1); the rest
/// of the status is computed.
pub const ISSUED: i32 = 1;

pub fn status_inputs(i: &invoice::Model, today: Date) -> StatusInputs {
    let c = currency_of(&i.currency);
    StatusInputs {
        draft: i.status_code == InvoiceStatus::Draft.code(),
        cancelled: i.status_code == InvoiceStatus::Cancelled.code(),
        total: money::from_minor(i.total_minor, c),
        paid: money::from_minor(i.paid_minor, c),
        due_date: i.due_date,
        today,
    }
}

pub fn invoice_portal_url(public_url: &str, token: &str) -> String {
    format!("{public_url}/invoice/{token}")
}

pub fn discount_of(i: &invoice::Model) -> Option<DocumentDiscount> {
    documents::discount_of(i.discount_type.as_deref(), &i.discount_value, &i.discount_applies)
}

pub async fn load_many(db: &impl ConnectionTrait, public_url: &str, rows: &[invoice::Model]) -> Result<Vec<Invoice>> {
    let ids: Vec<i32> = rows.iter().map(|i| i.id).collect();
    let mut lines = documents::lines_of(db, INVOICE, &ids).await?;
    let client_ids: Vec<i32> = rows.iter().map(|i| i.client_id).collect();
    let names: HashMap<i32, String> = if client_ids.is_empty() {
        HashMap::new()
    } else {
        client::Entity::find().filter(client::Column::Id.is_in(client_ids)).all(db).await?.into_iter().map(|c| (c.id, c.company)).collect()
    };
    let mut custom = custom_fields::values_of(db, custom_fields::INVOICE, &ids).await?;
    let today = today();
    Ok(rows
        .iter()
        .map(|i| {
            let c = currency_of(&i.currency);
            let inputs = status_inputs(i, today);
            let status = rules::status(inputs);
            let days = rules::days_overdue(inputs);
            let (api_lines, amounts) = documents::present(c, &lines.remove(&i.id).unwrap_or_default(), discount_of(i));
            let paid = money::from_minor(i.paid_minor, c);
            Invoice {
                id: i.id,
                number: i.number.clone(),
                client_id: i.client_id,
                client_name: names.get(&i.client_id).cloned().unwrap_or_default(),
                currency: i.currency.clone(),
                date: i.date,
                due_date: i.due_date,
                sale_agent: i.sale_agent,
                discount_type: documents::parse_discount_type(i.discount_type.as_deref()),
                discount_value: dec(&i.discount_value),
                discount_applies: documents::parse_discount_applies(&i.discount_applies),
                terms: i.terms.clone(),
                admin_note: i.admin_note.clone(),
                client_note: i.client_note.clone(),
                tags: i.tags.clone().and_then(|t| serde_json::from_value(t).ok()).unwrap_or_default(),
                custom_fields: custom.remove(&i.id).unwrap_or_default(),
                allowed_payment_modes: i.allowed_payment_modes.clone().and_then(|t| serde_json::from_value(t).ok()).unwrap_or_default(),
                balance_due: (amounts.total - paid).max(rust_decimal::Decimal::ZERO),
                total_paid: paid,
                amounts,
                lines: api_lines,
                status: status.name().to_string(),
                status_code: status.code(),
                is_overdue: days.is_some(),
                days_overdue: days.unwrap_or(0),
                portal_url: i.portal_token.as_deref().map(|t| invoice_portal_url(public_url, t)),
                proposal_id: i.proposal_id,
                sales_order_id: i.sales_order_id,
                issued_at: i.issued_at,
                sent_at: i.sent_at,
                created_at: i.created_at,
            }
        })
        .collect())
}

pub async fn load_api(db: &impl ConnectionTrait, public_url: &str, i: &invoice::Model) -> Result<Invoice> {
    Ok(load_many(db, public_url, std::slice::from_ref(i)).await?.remove(0))
}

/// Used by proposal conversion: the invoice just created.
pub async fn load(db: &impl ConnectionTrait, public_url: &str, id: i32) -> Result<Invoice> {
    let i = invoice::Entity::find_by_id(id).one(db).await?.ok_or_else(|| Error::not_found("invoice"))?;
    load_api(db, public_url, &i).await
}

/// "View own" on invoices (and sales orders): documents of clients assigned to the caller, or
/// where the caller is the sale agent.
pub async fn check_client_visible(db: &impl ConnectionTrait, user: &AuthUser, module: Module, client_id: i32, what: &str) -> Result<()> {
    if let ViewScope::Own(me) = user.view_scope(module)? {
        let c = client::Entity::find_by_id(client_id).one(db).await?;
        if c.and_then(|c| c.assigned_to) != Some(me) {
            return Err(Error::not_found(what));
        }
    }
    Ok(())
}

pub async fn find_visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<invoice::Model> {
    visible(db, user, id, Read::Plain).await
}

/// [`find_visible`], locking the row until the transaction ends (every write path uses this).
pub async fn lock_visible(txn: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<invoice::Model> {
    visible(txn, user, id, Read::ForUpdate).await
}

pub async fn visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32, read: Read) -> Result<invoice::Model> {
    let scope = user.view_scope(Module::Invoices)?;
    let i = read.apply(invoice::Entity::find_by_id(id)).one(db).await?.ok_or_else(|| Error::not_found("invoice"))?;
    if let ViewScope::Own(me) = scope {
        if i.sale_agent != Some(me) && i.created_by != Some(me) {
            check_client_visible(db, user, Module::Invoices, i.client_id, "invoice").await?;
        }
    }
    Ok(i)
}

// ---------- billing configuration ----------

pub const BILLING: &str = "billing.";

pub fn billing_defaults() -> BillingConfig {
    BillingConfig {
        prefix: "INV-".into(),
        series: "INV".into(),
        format: NumberFormat::Number,
        padding: 6,
        next_number: 1,
        default_due_days: 30,
        payment_instructions: String::new(),
        overdue_reminder_after_days: 3,
        overdue_reminder_every_days: 7,
    }
}

pub fn sequence_name(series: &str, format: NumberFormat, year: i32) -> String {
    match format {
        NumberFormat::Number => format!("invoice:{series}"),
        // Romanian practice: the series restarts every year.
        NumberFormat::YearNumber => format!("invoice:{series}:{year}"),
    }
}

pub async fn current_sequence_value(db: &impl ConnectionTrait, name: &str) -> Result<i64> {
    Ok(crate::entities::number_sequence::Entity::find_by_id(name.to_string()).one(db).await?.map(|s| s.next_value).unwrap_or(1))
}

pub async fn billing_config(db: &impl ConnectionTrait) -> Result<BillingConfig> {
    let rows = app_setting::Entity::find().filter(app_setting::Column::Key.starts_with(BILLING)).all(db).await?;
    let serde_json::Value::Object(mut map) = serde_json::to_value(billing_defaults()).map_err(Error::internal)? else { unreachable!() };
    for row in rows {
        if let (Some(slot), Ok(v)) = (map.get_mut(&row.key[BILLING.len()..]), serde_json::from_str(&row.value)) {
            *slot = v;
        }
    }
    let mut config: BillingConfig = serde_json::from_value(serde_json::Value::Object(map)).map_err(Error::internal)?;
    config.next_number = current_sequence_value(db, &sequence_name(&config.series, config.format, today().year())).await?;
    Ok(config)
}

// ---------- create / edit ----------

pub struct Fields {
    pub client_id: i32,
    pub currency: Currency,
    pub date: Date,
    pub due_date: Option<Date>,
    pub sale_agent: Option<i32>,
    pub discount: Option<DocumentDiscount>,
    pub discount_applies: crmconnect_domain::documents::DiscountApplies,
    pub terms: String,
    pub admin_note: Option<String>,
    pub client_note: Option<String>,
    pub tags: Vec<String>,
    pub allowed_payment_modes: Vec<i32>,
    pub lines: Vec<Line>,
    /// The totals of `lines` under `discount` in `currency`, computed once while validating.
    pub totals: DocumentTotals,
    pub custom: custom_fields::Changes,
}

pub fn text(v: &mut Validator, field: &str, value: &Option<String>, max: usize) -> Option<Option<String>> {
    let s = value.as_deref()?.trim();
    if s.chars().count() > max {
        v.push(field, "too_long", format!("must have at most {max} characters"));
        return None;
    }
    Some((!s.is_empty()).then(|| s.to_string()))
}

pub async fn resolve(db: &impl ConnectionTrait, user: &AuthUser, current: Option<&invoice::Model>, b: &InvoiceInput) -> Result<Fields> {
    let mut v = Validator::new();
    let defs = custom_fields::definitions(db, custom_fields::INVOICE).await?;
    let custom = custom_fields::validate(&defs, &b.custom_fields, current.is_none()).unwrap_or_else(|errors| {
        for e in errors {
            v.push(&e.field, &e.code, e.message);
        }
        Vec::new()
    });
    if let Some(i) = current {
        let has_payments = i.paid_minor > 0;
        let commercial = b.lines.is_some()
            || b.currency.is_some()
            || b.discount_type.is_some()
            || b.discount_value.is_some()
            || b.discount_applies.is_some()
            || b.client_id.is_some();
        if i.status_code == InvoiceStatus::Cancelled.code() {
            return Err(Error::refused(ErrorCode::InvoiceLocked, "A cancelled invoice cannot change; uncancel it first."));
        }
        if commercial && has_payments {
            return Err(Error::refused(
                ErrorCode::InvoiceLocked,
                "This invoice has payments; remove them before changing its lines, client, currency or discount.",
            ));
        }
    }
    let client = match (b.client_id, current) {
        (Some(id), _) => documents::requested_client(db, user, &mut v, Some(id), false).await?,
        (None, Some(i)) => client::Entity::find_by_id(i.client_id).one(db).await?,
        (None, None) => {
            v.push("client_id", "required", "an invoice needs a client");
            None
        }
    };
    let currency = match (&b.currency, current, &client) {
        (Some(c), _, _) => documents::enabled_currency(db, &mut v, "currency", c).await?,
        (None, Some(i), _) => Some(currency_of(&i.currency)),
        (None, None, Some(c)) => Some(documents::enabled_or_base(db, &c.currency).await?),
        (None, None, None) => None,
    };
    let date = b.date.or(current.map(|i| i.date)).unwrap_or_else(today);
    let billing = billing_config(db).await?;
    let due_date = match b.due_date {
        Some(d) => d,
        None => match current {
            Some(i) => i.due_date,
            None => {
                let days = client.as_ref().map(|c| c.payment_terms_days as u32).unwrap_or(billing.default_due_days);
                Some(date + Duration::days(i64::from(days)))
            }
        },
    };
    if due_date.is_some_and(|d| d < date) {
        v.push("due_date", "before_date", "the due date cannot be before the invoice date");
    }
    let sale_agent = match b.sale_agent {
        Some(x) => x,
        None => current.map(|i| i.sale_agent).unwrap_or(Some(user.id())),
    };
    if let Some(Some(id)) = b.sale_agent {
        if !crate::entities::staff::Entity::find_by_id(id).one(db).await?.is_some_and(|s| s.active) {
            v.push("sale_agent", "not_found", format!("no active staff member {id}"));
        }
    }
    let stored = current.map(|i| documents::StoredDiscount { kind: i.discount_type.as_deref(), value: &i.discount_value, applies: &i.discount_applies });
    let (discount, applies) = documents::resolve_discount(&mut v, b.discount_type, b.discount_value, b.discount_applies, stored);
    let lines = match (&b.lines, current) {
        (Some(inputs), _) => documents::resolve_lines(db, &mut v, inputs).await?,
        (None, Some(i)) => documents::stored_lines(db, INVOICE, i.id).await?,
        (None, None) => Vec::new(),
    };
    let terms = b.terms.as_deref().map(documents::sanitize_html).or(current.map(|i| i.terms.clone())).unwrap_or_default();
    let admin_note = text(&mut v, "admin_note", &b.admin_note, 10_000).unwrap_or_else(|| current.and_then(|i| i.admin_note.clone()));
    let client_note = text(&mut v, "client_note", &b.client_note, 10_000).unwrap_or_else(|| current.and_then(|i| i.client_note.clone()));
    let tags = match &b.tags {
        Some(t) => v.check("tags", normalize_tags(t)).unwrap_or_default(),
        None => current.and_then(|i| i.tags.clone()).and_then(|t| serde_json::from_value(t).ok()).unwrap_or_default(),
    };
    let allowed_payment_modes = match &b.allowed_payment_modes {
        Some(ids) => {
            for id in ids {
                if crate::entities::payment_mode::Entity::find_by_id(*id).one(db).await?.is_none() {
                    v.push("allowed_payment_modes", "not_found", format!("no payment mode {id}"));
                }
            }
            ids.clone()
        }
        None => current.and_then(|i| i.allowed_payment_modes.clone()).and_then(|t| serde_json::from_value(t).ok()).unwrap_or_default(),
    };
    let priced = currency.and_then(|c| v.check("discount_value", documents::compute(c, &lines, discount)).map(|t| (c, t)));
    if let (Some((c, t)), Some(i)) = (&priced, current) {
        if money::to_minor(t.total, *c).unwrap_or(i64::MAX) < i.paid_minor {
            v.push("lines", "below_paid", "the new total is below what was already paid");
        }
    }
    let (client, (currency, totals)) = Error::validated(v, client.zip(priced))?;
    Ok(Fields {
        client_id: client.id,
        currency,
        date,
        due_date,
        sale_agent,
        discount,
        discount_applies: applies,
        terms,
        admin_note,
        client_note,
        tags,
        allowed_payment_modes,
        lines,
        totals,
        custom,
    })
}

pub fn write(row: &mut invoice::ActiveModel, f: &Fields) {
    let (subtotal, discount, tax, total) = documents::minor_totals(&f.totals, f.currency);
    row.client_id = Set(f.client_id);
    row.currency = Set(f.currency.code().to_string());
    row.date = Set(f.date);
    row.due_date = Set(f.due_date);
    row.sale_agent = Set(f.sale_agent);
    row.discount_type = Set(f.discount.map(|d| documents::discount_type_name(d.kind).to_string()));
    row.discount_value = Set(f.discount.map(|d| d.value.normalize().to_string()).unwrap_or_else(|| "0".into()));
    row.discount_applies = Set(documents::discount_applies_name(f.discount_applies).to_string());
    row.terms = Set(f.terms.clone());
    row.admin_note = Set(f.admin_note.clone());
    row.client_note = Set(f.client_note.clone());
    row.tags = Set(Some(json!(f.tags)));
    row.allowed_payment_modes = Set(Some(json!(f.allowed_payment_modes)));
    row.subtotal_minor = Set(subtotal);
    row.discount_minor = Set(discount);
    row.total_tax_minor = Set(tax);
    row.total_minor = Set(total);
    row.updated_at = Set(OffsetDateTime::now_utc());
}

/// What a new draft invoice is made of; its cached totals are computed from the lines.
pub struct DraftInvoice<'a> {
    pub client: &'a client::Model,
    pub currency: Currency,
    pub date: Date,
    /// `None`: the invoice date + the client's payment terms.
    pub due_date: Option<Date>,
    pub lines: &'a [Line],
    pub discount: Option<DocumentDiscount>,
    pub terms: String,
    pub client_note: Option<String>,
    pub sale_agent: Option<i32>,
    pub proposal_id: Option<i32>,
    pub sales_order_id: Option<i32>,
    /// (schedule, cycle) for a recurring invoice.
    pub recurring: Option<(i32, i32)>,
    pub created_by: Option<i32>,
}

/// Inserts a draft invoice and its lines (conversion from proposals and sales orders, the
/// recurring job, the demo seed).
pub async fn insert_draft(db: &impl ConnectionTrait, d: DraftInvoice<'_>) -> Result<invoice::Model> {
    let totals = documents::compute(d.currency, d.lines, d.discount).map_err(|e| Error::field("lines", e.code, e.message))?;
    let (subtotal, discount, tax, total) = documents::minor_totals(&totals, d.currency);
    let now = OffsetDateTime::now_utc();
    let saved = invoice::ActiveModel {
        number: Set(None),
        client_id: Set(d.client.id),
        due_date: Set(Some(d.due_date.unwrap_or(d.date + Duration::days(i64::from(d.client.payment_terms_days))))),
        status_code: Set(InvoiceStatus::Draft.code()),
        terms: Set(d.terms),
        proposal_id: Set(d.proposal_id),
        sales_order_id: Set(d.sales_order_id),
        sale_agent: Set(d.sale_agent),
        client_note: Set(d.client_note),
        paid_minor: Set(0),
        portal_token: Set(Some(secrets::random_secret())),
        recurring_id: Set(d.recurring.map(|(id, _)| id)),
        recurring_cycle: Set(d.recurring.map(|(_, cycle)| cycle)),
        currency: Set(d.currency.code().to_string()),
        date: Set(d.date),
        discount_type: Set(d.discount.map(|x| documents::discount_type_name(x.kind).to_string())),
        discount_value: Set(d.discount.map(|x| x.value.normalize().to_string()).unwrap_or_else(|| "0".into())),
        discount_applies: Set(documents::discount_applies_name(d.discount.map(|x| x.applies).unwrap_or_default()).to_string()),
        subtotal_minor: Set(subtotal),
        discount_minor: Set(discount),
        total_tax_minor: Set(tax),
        total_minor: Set(total),
        created_by: Set(d.created_by),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    documents::save_lines(db, INVOICE, saved.id, d.lines).await?;
    Ok(saved)
}

/// Issuing and sending an invoice one created is part of Invoices `create` (the guide's agent
/// converts an accepted proposal, then issues and sends it); other people's invoices need
/// `action` itself (`edit` to issue, `send` to send).
pub fn require_own_unless(user: &AuthUser, inv: &invoice::Model, action: Action) -> Result<()> {
    if user.permissions.allows(Module::Invoices, action) || inv.created_by == Some(user.id()) {
        return Ok(());
    }
    user.require(Module::Invoices, action)
}

/// Gives a draft the next number of its series (gap-free, never duplicated) and makes it
/// Unpaid (1) — or Overdue if its due date already passed. In the caller's transaction.
pub async fn issue_in(db: &impl ConnectionTrait, actor: &Actor, i: &invoice::Model) -> Result<invoice::Model> {
    if i.number.is_some() || i.status_code != InvoiceStatus::Draft.code() {
        return Err(Error::refused(ErrorCode::InvalidStatusTransition, "Only a draft invoice is issued."));
    }
    let config = billing_config(db).await?;
    let year = i.date.year();
    let n = documents::next_number(db, &sequence_name(&config.series, config.format, year)).await?;
    let number = rules::format_invoice_number(&config.prefix, config.format, year, n, config.padding as usize);
    let now = OffsetDateTime::now_utc();
    let mut row: invoice::ActiveModel = i.clone().into();
    row.number = Set(Some(number.clone()));
    row.status_code = Set(ISSUED);
    row.issued_at = Set(Some(now));
    row.updated_at = Set(now);
    let saved = row.update(db).await?;
    let mut change = Change::new("invoice.issued", "invoice", i.id);
    change.after = Some(json!({"number": number}));
    audit::record(db, actor, change).await?;
    outbox::emit(db, "invoice.issued", "invoice", i.id, json!({"invoice_id": i.id, "number": number})).await?;
    Ok(saved)
}

/// The SQL form of the status rule (must agree with `crmconnect_domain::invoices::status`).
pub fn status_condition(s: InvoiceStatus, today: Date) -> Condition {
    let issued = Condition::all().add(invoice::Column::StatusCode.eq(ISSUED));
    let paid_all = Expr::col(invoice::Column::PaidMinor).gte(Expr::col(invoice::Column::TotalMinor));
    let unpaid_balance = Expr::col(invoice::Column::PaidMinor).lt(Expr::col(invoice::Column::TotalMinor));
    match s {
        InvoiceStatus::Draft => Condition::all().add(invoice::Column::StatusCode.eq(InvoiceStatus::Draft.code())),
        InvoiceStatus::Cancelled => Condition::all().add(invoice::Column::StatusCode.eq(InvoiceStatus::Cancelled.code())),
        InvoiceStatus::Paid => issued.add(paid_all),
        InvoiceStatus::PartiallyPaid => issued.add(invoice::Column::PaidMinor.gt(0)).add(unpaid_balance),
        // The guide's overdue list: late with a balance, paid in part or not at all.
        InvoiceStatus::Overdue => issued.add(unpaid_balance).add(invoice::Column::DueDate.lt(today)),
        InvoiceStatus::Unpaid => issued
            .add(invoice::Column::PaidMinor.eq(0))
            .add(invoice::Column::TotalMinor.gt(0))
            .add(Condition::any().add(invoice::Column::DueDate.is_null()).add(invoice::Column::DueDate.gte(today))),
    }
}

// ---------- PDF and sending ----------

pub async fn pdf_of(db: &impl ConnectionTrait, inv: &Invoice) -> Result<Vec<u8>> {
    let company = settings::load(db).await?;
    let billing = billing_config(db).await?;
    let c = client::Entity::find_by_id(inv.client_id).one(db).await?.ok_or_else(|| Error::not_found("client"))?;
    let buyer = pdf::block([
        c.company.clone(),
        c.vat_number.clone().map(|v| format!("VAT: {v}")).unwrap_or_default(),
        c.registration_number.clone().map(|v| format!("Reg. no.: {v}")).unwrap_or_default(),
        c.address.clone().unwrap_or_default(),
        [c.zip.clone(), c.city.clone(), c.county.clone(), c.country.clone()].into_iter().flatten().collect::<Vec<_>>().join(" "),
    ]);
    let seller = pdf::company_block(&company);
    let mut meta = vec![("Date".to_string(), inv.date.to_string())];
    if let Some(d) = inv.due_date {
        meta.push(("Due date".into(), d.to_string()));
    }
    meta.push(("Status".into(), inv.status.replace('_', " ")));
    let mut sections = Vec::new();
    if let Some(n) = &inv.client_note {
        sections.push(("Note".to_string(), n.clone()));
    }
    sections.push(("Payment instructions".to_string(), billing.payment_instructions.clone()));
    sections.push(("Terms".to_string(), documents::html_to_text(&inv.terms)));
    Ok(pdf::render(&pdf::DocumentPdf {
        title: "INVOICE".into(),
        number: inv.number.clone().unwrap_or_else(|| "DRAFT".into()),
        seller,
        buyer,
        meta,
        currency: inv.currency.clone(),
        lines: inv.lines.clone(),
        amounts: inv.amounts.clone(),
        extra_totals: vec![("Amount paid".into(), inv.total_paid), (format!("Balance due {}", inv.currency), inv.balance_due)],
        sections,
    }))
}

/// The client's e-mail for invoices: its primary contact with an address.
pub async fn client_email(db: &impl ConnectionTrait, client_id: i32) -> Result<Option<String>> {
    Ok(client_contact::Entity::find()
        .filter(client_contact::Column::ClientId.eq(client_id))
        .filter(client_contact::Column::Email.is_not_null())
        .order_by_desc(client_contact::Column::IsPrimary)
        .order_by_asc(client_contact::Column::Id)
        .one(db)
        .await?
        .and_then(|c| c.email))
}

/// An invoice e-mail to queue.
pub struct InvoiceMail {
    /// `invoice_send` or `invoice_overdue_reminder`.
    pub template: &'static str,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: Option<String>,
    pub message: String,
    pub staff_name: String,
    pub staff_email: String,
}

/// Queues the invoice e-mail with its PDF and portal link in the caller's transaction,
/// issuing a draft first. Returns the invoice as stored afterwards.
pub async fn send_in(db: &impl ConnectionTrait, actor: &Actor, public_url: &str, current: invoice::Model, mail: InvoiceMail) -> Result<invoice::Model> {
    if current.status_code == InvoiceStatus::Cancelled.code() {
        return Err(Error::refused(ErrorCode::InvalidStatusTransition, "A cancelled invoice is not sent."));
    }
    let current = if current.number.is_none() { issue_in(db, actor, &current).await? } else { current };
    let now = OffsetDateTime::now_utc();
    let mut row: invoice::ActiveModel = current.clone().into();
    let token = match current.portal_token.clone() {
        Some(t) => t,
        None => {
            let t = secrets::random_secret();
            row.portal_token = Set(Some(t.clone()));
            t
        }
    };
    if mail.template == "invoice_send" {
        row.sent_at = Set(Some(now));
    }
    row.updated_at = Set(now);
    let saved = row.update(db).await?;
    let api = load_api(db, public_url, &saved).await?;
    let company = settings::load(db).await?;
    let template = email::template(db, mail.template).await?;
    let today = today();
    let context = json!({
        "invoice": {"number": api.number, "total": api.amounts.total.to_string(), "balance_due": api.balance_due.to_string(), "currency": api.currency,
            "due_date": api.due_date.map(|d| d.to_string()), "days_overdue": api.days_overdue, "link": invoice_portal_url(public_url, &token)},
        "client": {"name": api.client_name},
        "staff": {"name": mail.staff_name, "email": mail.staff_email},
        "company": {"name": company.company_name},
        "message": mail.message,
        "today": today.to_string(),
    });
    let subject = match mail.subject {
        Some(s) => s,
        None => email::render(&template.subject, &context)?.trim().to_string(),
    };
    let text = email::render(&template.body, &context)?;
    let number = api.number.clone().unwrap_or_default();
    let pdf = pdf_of(db, &api).await?;
    email::queue(
        db,
        email::Outgoing {
            related: Some((INVOICE, saved.id)),
            from: company.company_email.clone(),
            from_name: company.company_name.clone(),
            to: mail.to,
            cc: mail.cc,
            subject,
            text,
            attachment: Some((format!("{number}.pdf"), pdf)),
            created_by: actor.staff_id,
        },
    )
    .await?;
    let action = if mail.template == "invoice_send" { "invoice.sent" } else { "invoice.reminder_sent" };
    audit::record(db, actor, Change::new(action, "invoice", saved.id).after(&api)).await?;
    let event = if mail.template == "invoice_send" { "invoice.sent" } else { "invoice.reminder_sent" };
    outbox::emit(db, event, "invoice", saved.id, json!({"invoice_id": saved.id})).await?;
    Ok(saved)
}

/// Recomputes the cached paid total from payments, in the caller's transaction.
pub async fn refresh_paid(db: &impl ConnectionTrait, invoice_id: i32) -> Result<invoice::Model> {
    let paid: Option<i64> = payment::Entity::find()
        .select_only()
        .column_as(Expr::cust("CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT)"), "paid")
        .filter(payment::Column::InvoiceId.eq(invoice_id))
        .into_tuple()
        .one(db)
        .await?;
    invoice::Entity::update_many()
        .col_expr(invoice::Column::PaidMinor, Expr::value(paid.unwrap_or(0)))
        .col_expr(invoice::Column::UpdatedAt, Expr::value(OffsetDateTime::now_utc()))
        .filter(invoice::Column::Id.eq(invoice_id))
        .exec(db)
        .await?;
    invoice::Entity::find_by_id(invoice_id).one(db).await?.ok_or_else(|| Error::not_found("invoice"))
}

/// Revokes the invoice's portal link and issues a new one (`POST /invoices/{id}/portal-token`):
/// the old link answers 404 from now on, e.g. after it was forwarded to the wrong person.
pub async fn rotate_portal_token(txn: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<invoice::Model> {
    let current = lock_visible(txn, user, id).await?;
    let mut row: invoice::ActiveModel = current.into();
    row.portal_token = sea_orm::ActiveValue::Set(Some(crate::auth::secrets::random_secret()));
    row.updated_at = sea_orm::ActiveValue::Set(time::OffsetDateTime::now_utc());
    let saved = sea_orm::ActiveModelTrait::update(row, txn).await?;
    crate::audit::record(txn, &user.actor(), crate::audit::Change::new("invoice.portal_link_rotated", "invoice", id)).await?;
    Ok(saved)
}
