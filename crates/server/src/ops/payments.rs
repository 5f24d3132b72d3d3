//! Payments: the queries and business operations below the HTTP handlers.

use std::collections::HashMap;

use crmconnect_domain::api::{ClientCredit, CreditBalance, CreditEntry, Payment, PaymentMode};
use crmconnect_domain::invoices::{self as rules, InvoiceStatus};
use crmconnect_domain::money::{self};
use crmconnect_domain::permissions::{Module, ViewScope};
use crmconnect_domain::validation::Validator;
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use time::{Date, OffsetDateTime};

use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::documents::{currency_of, today};
use crate::entities::{client, client_credit, invoice, payment, payment_mode};
use crate::error::{Error, ErrorCode, Result};
use crate::ops::invoices::{refresh_paid, status_inputs};
use crate::outbox;

pub async fn mode_names(db: &impl ConnectionTrait) -> Result<HashMap<i32, String>> {
    Ok(payment_mode::Entity::find().all(db).await?.into_iter().map(|m| (m.id, m.name)).collect())
}

pub async fn to_api_many(db: &impl ConnectionTrait, rows: &[payment::Model]) -> Result<Vec<Payment>> {
    let modes = mode_names(db).await?;
    let ids: Vec<i32> = rows.iter().map(|p| p.invoice_id).collect();
    let numbers: HashMap<i32, Option<String>> = if ids.is_empty() {
        HashMap::new()
    } else {
        invoice::Entity::find().filter(invoice::Column::Id.is_in(ids)).all(db).await?.into_iter().map(|i| (i.id, i.number)).collect()
    };
    Ok(rows
        .iter()
        .map(|p| Payment {
            id: p.id,
            invoice_id: p.invoice_id,
            invoice_number: numbers.get(&p.invoice_id).cloned().flatten(),
            client_id: p.client_id,
            amount: money::from_minor(p.amount_minor, currency_of(&p.currency)),
            currency: p.currency.clone(),
            date: p.date,
            payment_mode_id: p.payment_mode_id,
            payment_mode: p.payment_mode_id.and_then(|id| modes.get(&id).cloned()),
            transaction_id: p.transaction_id.clone(),
            note: p.note.clone(),
            source: p.source.clone(),
            created_at: p.created_at,
        })
        .collect())
}

/// What a new payment carries besides its amount.
pub struct NewPayment {
    pub amount: Decimal,
    pub date: Date,
    pub payment_mode_id: Option<i32>,
    pub transaction_id: Option<String>,
    pub note: Option<String>,
    pub source: &'static str,
    pub gateway_event_id: Option<String>,
}

/// Records a payment on an issued invoice inside the caller's transaction: refuses more than
/// the balance (409 `payment_exceeds_balance`, nothing recorded), updates the paid total.
pub async fn record_in(db: &impl ConnectionTrait, actor: &Actor, inv: &invoice::Model, p: NewPayment) -> Result<payment::Model> {
    if inv.number.is_none() || inv.status_code == InvoiceStatus::Draft.code() {
        return Err(Error::refused(ErrorCode::InvalidStatusTransition, "Issue the invoice before recording payments."));
    }
    if inv.status_code == InvoiceStatus::Cancelled.code() {
        return Err(Error::refused(ErrorCode::InvalidStatusTransition, "A cancelled invoice takes no payments."));
    }
    let c = currency_of(&inv.currency);
    let amount_minor = money::to_minor(p.amount, c).map_err(|e| Error::field("amount", e.code, e.message))?;
    let balance = money::from_minor(inv.total_minor - inv.paid_minor, c);
    if let Err(e) = rules::check_payment(p.amount, balance) {
        return Err(match e.code {
            "exceeds_balance" => {
                Error::refused(ErrorCode::PaymentExceedsBalance, format!("The balance due is {balance} {}; nothing was recorded.", inv.currency))
            }
            _ => Error::field("amount", e.code, e.message),
        });
    }
    let saved = payment::ActiveModel {
        invoice_id: Set(inv.id),
        client_id: Set(inv.client_id),
        amount_minor: Set(amount_minor),
        currency: Set(inv.currency.clone()),
        date: Set(p.date),
        payment_mode_id: Set(p.payment_mode_id),
        transaction_id: Set(p.transaction_id),
        note: Set(p.note),
        source: Set(p.source.to_string()),
        gateway_event_id: Set(p.gateway_event_id),
        created_by: Set(actor.staff_id),
        created_at: Set(OffsetDateTime::now_utc()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let after = refresh_paid(db, inv.id).await?;
    crate::ops::commissions::earn_on_payment(db, &after, &saved).await?;
    let status = rules::status(status_inputs(&after, today()));
    let mut change = Change::new("payment.recorded", "invoice", inv.id);
    change.after = Some(json!({"payment_id": saved.id, "amount": p.amount.to_string(), "status_code": status.code()}));
    audit::record(db, actor, change).await?;
    outbox::emit(db, "invoice.payment_recorded", "invoice", inv.id, json!({"invoice_id": inv.id, "payment_id": saved.id, "status_code": status.code()}))
        .await?;
    if status == InvoiceStatus::Paid {
        outbox::emit(db, "invoice.paid", "invoice", inv.id, json!({"invoice_id": inv.id})).await?;
    }
    Ok(saved)
}

pub fn check_text(v: &mut Validator, field: &str, value: &Option<String>, max: usize) -> Option<String> {
    let s = value.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    if s.chars().count() > max {
        v.push(field, "too_long", format!("at most {max} characters"));
    }
    Some(s.to_string())
}

pub async fn check_mode(db: &impl ConnectionTrait, v: &mut Validator, id: Option<i32>) -> Result<()> {
    if let Some(id) = id {
        if !payment_mode::Entity::find_by_id(id).one(db).await?.is_some_and(|m| m.active) {
            v.push("payment_mode_id", "not_found", format!("no active payment mode {id}"));
        }
    }
    Ok(())
}

pub fn mode_to_api(m: &payment_mode::Model) -> PaymentMode {
    PaymentMode { id: m.id, name: m.name.clone(), active: m.active }
}

pub async fn name_free(db: &impl ConnectionTrait, name: &str, except: Option<i32>) -> Result<()> {
    let mut q = payment_mode::Entity::find().filter(Expr::expr(Func::lower(Expr::col(payment_mode::Column::Name))).eq(name.to_lowercase()));
    if let Some(id) = except {
        q = q.filter(payment_mode::Column::Id.ne(id));
    }
    if q.one(db).await?.is_some() {
        return Err(Error::refused(ErrorCode::NameTaken, format!("`{name}` already exists.")));
    }
    Ok(())
}

pub async fn credit_of(db: &impl ConnectionTrait, client_id: i32) -> Result<ClientCredit> {
    credit_with_entries(db, client_id, Condition::all()).await
}

/// A client's balances (always over every entry) with the entries that meet `changed`.
pub async fn credit_with_entries(db: &impl ConnectionTrait, client_id: i32, changed: Condition) -> Result<ClientCredit> {
    let all = client_credit::Entity::find().filter(client_credit::Column::ClientId.eq(client_id)).order_by_asc(client_credit::Column::Id);
    let rows = all.clone().all(db).await?;
    let mut sums: std::collections::BTreeMap<String, i64> = Default::default();
    for r in &rows {
        *sums.entry(r.currency.clone()).or_default() += r.amount_minor;
    }
    let listed = if changed.is_empty() { rows } else { all.filter(changed).all(db).await? };
    Ok(ClientCredit {
        balances: sums.into_iter().map(|(code, minor)| CreditBalance { amount: money::from_minor(minor, currency_of(&code)), currency: code }).collect(),
        entries: listed
            .iter()
            .map(|r| CreditEntry {
                id: r.id,
                amount: money::from_minor(r.amount_minor, currency_of(&r.currency)),
                currency: r.currency.clone(),
                date: r.date,
                invoice_id: r.invoice_id,
                note: r.note.clone(),
            })
            .collect(),
    })
}

pub async fn visible_client(db: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<client::Model> {
    let scope = user.view_scope(Module::Clients)?;
    let c = client::Entity::find_by_id(id).one(db).await?.ok_or_else(|| Error::not_found("client"))?;
    if matches!(scope, ViewScope::Own(me) if c.assigned_to != Some(me)) {
        return Err(Error::not_found("client"));
    }
    Ok(c)
}
