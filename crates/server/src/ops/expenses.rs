//! Expenses below the HTTP handlers: validation of a create or change (category, amount in an
//! enabled currency, taxes as applied then, the staff member and a client the caller may see),
//! loading into the API type, and the expense a commission receipt records.

use std::collections::HashMap;

use crmconnect_domain::api::{Expense, ExpenseAttachment, ExpenseInput, ExpenseTax};
use crmconnect_domain::documents::AppliedTax;
use crmconnect_domain::money;
use crmconnect_domain::permissions::{Module, ViewScope};
use crmconnect_domain::validation::{parse_name, Validator};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect};
use time::OffsetDateTime;

use crate::auth::AuthUser;
use crate::documents::{currency_of, dec, today};
use crate::entities::{commission_receipt, expense, expense_attachment, expense_category as category, staff, tax};
use crate::error::{Error, Result};
use crate::visibility;

/// The category commission payouts are booked under (created when first needed).
pub const COMMISSIONS_CATEGORY: &str = "Commissions";

/// Expenses the caller may see: with "view own", the ones they spent or recorded.
pub fn visible_condition(scope: ViewScope) -> Condition {
    match scope {
        ViewScope::All => Condition::all(),
        ViewScope::Own(me) => Condition::any().add(expense::Column::StaffId.eq(me)).add(expense::Column::CreatedBy.eq(me)),
    }
}

pub async fn find_visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32, read: crate::db::Read) -> Result<expense::Model> {
    let scope = user.view_scope(Module::Expenses)?;
    read.apply(expense::Entity::find_by_id(id).filter(visible_condition(scope))).one(db).await?.ok_or_else(|| Error::not_found("expense"))
}

pub fn attachment_to_api(a: &expense_attachment::Model) -> ExpenseAttachment {
    ExpenseAttachment {
        id: a.id,
        expense_id: a.expense_id,
        file_name: a.file_name.clone(),
        content_type: a.content_type.clone(),
        size_bytes: a.size_bytes,
        uploaded_by: a.uploaded_by,
        created_at: a.created_at,
    }
}

pub async fn to_api_many(db: &impl ConnectionTrait, rows: &[expense::Model]) -> Result<Vec<Expense>> {
    let category_ids: Vec<i32> = rows.iter().map(|e| e.category_id).collect();
    let names: HashMap<i32, String> =
        category::Entity::find().filter(category::Column::Id.is_in(category_ids)).all(db).await?.into_iter().map(|c| (c.id, c.name)).collect();
    #[derive(FromQueryResult)]
    struct Files {
        expense_id: i32,
        n: i64,
    }
    let files: HashMap<i32, i64> = expense_attachment::Entity::find()
        .select_only()
        .column(expense_attachment::Column::ExpenseId)
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .filter(expense_attachment::Column::ExpenseId.is_in(rows.iter().map(|e| e.id).collect::<Vec<_>>()))
        .group_by(expense_attachment::Column::ExpenseId)
        .into_model::<Files>()
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.expense_id, f.n))
        .collect();
    Ok(rows
        .iter()
        .map(|e| {
            let currency = currency_of(&e.currency);
            let taxes: Vec<AppliedTax> = serde_json::from_value(e.taxes.clone()).unwrap_or_default();
            let amount = money::from_minor(e.amount_minor, currency);
            Expense {
                id: e.id,
                category_id: e.category_id,
                category: names.get(&e.category_id).cloned().unwrap_or_default(),
                amount,
                currency: e.currency.clone(),
                tax_ids: taxes.iter().map(|t| t.tax_id).collect(),
                taxes: taxes.into_iter().map(|t| ExpenseTax { amount: tax_amount(amount, t.rate, currency), tax: t }).collect(),
                total: money::from_minor(e.total_minor, currency),
                date: e.date,
                staff_id: e.staff_id,
                client_id: e.client_id,
                note: e.note.clone(),
                reference: e.reference.clone(),
                commission_receipt_id: e.commission_receipt_id,
                attachment_count: files.get(&e.id).copied().unwrap_or(0),
                created_by: e.created_by,
                created_at: e.created_at,
                updated_at: e.updated_at,
            }
        })
        .collect())
}

fn tax_amount(amount: Decimal, rate: Decimal, currency: money::Currency) -> Decimal {
    money::round(amount * rate / Decimal::ONE_HUNDRED, currency)
}

fn text(v: &mut Validator, field: &str, value: &Option<String>, max: usize) -> Option<String> {
    let s = value.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    if s.chars().count() > max {
        v.push(field, "too_long", format!("at most {max} characters"));
    }
    Some(s.to_string())
}

/// Applies `input` to `row` (a new expense when `creating`), checking every field; the amount,
/// currency and taxes together give the total.
pub async fn apply(
    db: &impl ConnectionTrait,
    user: &AuthUser,
    row: &mut expense::ActiveModel,
    current: Option<&expense::Model>,
    input: &ExpenseInput,
) -> Result<()> {
    let creating = current.is_none();
    let mut v = Validator::new();
    if current.is_some_and(|e| e.commission_receipt_id.is_some()) {
        // It records a commission receipt's payout: the money stays what the receipt paid.
        for (field, sent) in [("amount", input.amount.is_some()), ("currency", input.currency.is_some()), ("tax_ids", input.tax_ids.is_some())] {
            if sent {
                v.push(field, "locked", "this expense records a commission receipt; its amount, currency and taxes follow the receipt");
            }
        }
    }
    let category_id = input.category_id.or(current.map(|e| e.category_id));
    match category_id {
        None => v.push("category_id", "required", "choose a category"),
        Some(id) if category::Entity::find_by_id(id).one(db).await?.is_none() => v.push("category_id", "not_found", format!("no expense category {id}")),
        Some(_) => {}
    }
    let code = input.currency.clone().or(current.map(|e| e.currency.clone()));
    let currency = match code.as_deref() {
        Some(c) => crate::documents::enabled_currency(db, &mut v, "currency", c).await?,
        None => {
            v.push("currency", "required", "an ISO 4217 currency code");
            None
        }
    };
    let amount = match (input.amount, current) {
        (Some(a), _) => Some(a),
        (None, Some(e)) => Some(money::from_minor(e.amount_minor, currency_of(&e.currency))),
        (None, None) => {
            v.push("amount", "required", "the amount before tax");
            None
        }
    };
    if amount.is_some_and(|a| a <= Decimal::ZERO) {
        v.push("amount", "not_positive", "must be greater than 0");
    }
    let amount_minor = match (amount, currency) {
        (Some(a), Some(c)) => v.check("amount", money::to_minor(a, c)),
        _ => None,
    };
    let tax_ids = input.tax_ids.clone().unwrap_or_else(|| {
        current.map(|e| serde_json::from_value::<Vec<AppliedTax>>(e.taxes.clone()).unwrap_or_default().iter().map(|t| t.tax_id).collect()).unwrap_or_default()
    });
    let mut applied = Vec::new();
    if input.tax_ids.is_some() {
        for id in &tax_ids {
            match tax::Entity::find_by_id(*id).one(db).await? {
                Some(t) => applied.push(AppliedTax { tax_id: t.id, name: t.name, rate: dec(&t.rate) }),
                None => v.push("tax_ids", "not_found", format!("no tax {id}")),
            }
        }
    } else if let Some(e) = current {
        applied = serde_json::from_value(e.taxes.clone()).unwrap_or_default();
    }
    let staff_id = match input.staff_id {
        Some(id) => id,
        None if creating => Some(user.id()),
        None => current.and_then(|e| e.staff_id),
    };
    if let Some(id) = staff_id.filter(|id| input.staff_id.is_some() && *id != user.id()) {
        if !staff::Entity::find_by_id(id).one(db).await?.is_some_and(|s| s.active) {
            v.push("staff_id", "not_found", format!("no active staff member {id}"));
        }
    }
    if let Some(Some(id)) = input.client_id {
        let visible = match user.view_scope(Module::Clients) {
            Ok(scope) => visibility::record_visible(db, "client", id, scope).await?,
            Err(_) => false,
        };
        if !visible {
            v.push("client_id", "not_found", format!("no visible client {id}"));
        }
    }
    let note = input.note.as_ref().map(|n| text(&mut v, "note", n, 2000));
    let reference = input.reference.as_ref().map(|r| text(&mut v, "reference", r, 100));
    v.finish().map_err(Error::validation)?;
    let (Some(category_id), Some(currency), Some(amount), Some(amount_minor)) = (category_id, currency, amount, amount_minor) else {
        unreachable!("checked above")
    };
    let taxes_minor: i64 = applied.iter().map(|t| money::to_minor(tax_amount(amount, t.rate, currency), currency).unwrap_or(0)).sum();
    row.category_id = Set(category_id);
    row.currency = Set(currency.code().to_string());
    row.amount_minor = Set(amount_minor);
    row.tax_ids = Set(serde_json::json!(applied.iter().map(|t| t.tax_id).collect::<Vec<_>>()));
    row.taxes = Set(serde_json::to_value(&applied).map_err(Error::internal)?);
    row.total_minor = Set(amount_minor + taxes_minor);
    if let Some(date) = input.date {
        row.date = Set(date);
    } else if creating {
        row.date = Set(today());
    }
    row.staff_id = Set(staff_id);
    if let Some(client) = input.client_id {
        row.client_id = Set(client);
    }
    if let Some(note) = note {
        row.note = Set(note);
    }
    if let Some(reference) = reference {
        row.reference = Set(reference);
    }
    row.updated_at = Set(OffsetDateTime::now_utc());
    Ok(())
}

/// The category `name`, created if missing (a unique name: simultaneous creations meet in one row).
pub async fn category_named(db: &impl ConnectionTrait, name: &str) -> Result<category::Model> {
    let now = OffsetDateTime::now_utc();
    category::Entity::insert(category::ActiveModel { name: Set(name.into()), created_at: Set(now), updated_at: Set(now), ..Default::default() })
        .on_conflict(OnConflict::column(category::Column::Name).do_nothing().to_owned())
        .do_nothing()
        .exec(db)
        .await?;
    category::Entity::find().filter(category::Column::Name.eq(name)).one(db).await?.ok_or_else(|| Error::internal(anyhow::anyhow!("category {name} vanished")))
}

pub fn check_category_name(raw: &str) -> Result<String> {
    parse_name(raw, 100).map_err(|p| Error::field("name", p.code, p.message))
}

/// The expense a commission receipt records: its total, for the staff member paid, booked
/// under "Commissions".
pub async fn record_commission_payout(db: &impl ConnectionTrait, receipt: &commission_receipt::Model, number: &str, created_by: i32) -> Result<expense::Model> {
    let category = category_named(db, COMMISSIONS_CATEGORY).await?;
    let now = OffsetDateTime::now_utc();
    let row = expense::ActiveModel {
        category_id: Set(category.id),
        amount_minor: Set(receipt.total_minor),
        currency: Set(receipt.currency.clone()),
        tax_ids: Set(serde_json::json!([])),
        taxes: Set(serde_json::json!([])),
        total_minor: Set(receipt.total_minor),
        date: Set(receipt.date),
        staff_id: Set(Some(receipt.staff_id)),
        client_id: Set(None),
        note: Set(Some(format!("Commission receipt {number}"))),
        reference: Set(Some(number.to_string())),
        commission_receipt_id: Set(Some(receipt.id)),
        created_by: Set(Some(created_by)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(row.insert(db).await?)
}
