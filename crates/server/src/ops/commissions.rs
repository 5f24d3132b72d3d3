//! Commissions below the HTTP handlers: policies and who earns under them, the commission a
//! payment earns the invoice's sale agent (in the payment's transaction, under the invoice's
//! lock), its removal or offset when the payment is deleted, receipts that pay pending
//! commissions out, and the job that tells an agent once a commission has become visible.
//!
//! The arithmetic is `crmconnect_domain::commission`; this module feeds it the invoice as
//! stored and keeps the rows.

use std::collections::{BTreeMap, HashMap};

use crmconnect_domain::api::{
    ApplicableStaff, Commission, CommissionPolicy, CommissionPolicyInput, CommissionReceipt, CommissionReceiptInput, CommissionTotals,
};
use crmconnect_domain::commission::{self as rules, CommissionInvoice, CommissionLine, CommissionStatus, PolicyRules};
use crmconnect_domain::money;
use crmconnect_domain::permissions::ViewScope;
use crmconnect_domain::validation::{parse_name, Validator};
use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use time::{Date, Duration, OffsetDateTime, Time};

use crate::db::Read;
use crate::documents::{self, currency_of, dec};
use crate::entities::{
    commission, commission_applicable_staff as applicable, commission_policy as policy, commission_receipt as receipt, expense, invoice, item, payment, staff,
};
use crate::error::{Error, ErrorCode, Result};
use crate::notifications::{self, Notice};
use crate::ops::invoices::discount_of;
use crate::settings;

// ---------------------------------------------------------------------------------------------
// Policies

pub fn rules_of(p: &policy::Model) -> PolicyRules {
    PolicyRules {
        commission_type: serde_json::from_value(serde_json::Value::String(p.commission_type.clone())).unwrap_or(rules::CommissionType::Percentage),
        rate: p.rate.as_deref().map(dec),
        tiers: serde_json::from_value(p.tiers.clone()).unwrap_or_default(),
        product_rates: serde_json::from_value(p.product_rates.clone()).unwrap_or_default(),
        product_tiers: serde_json::from_value(p.product_tiers.clone()).unwrap_or_default(),
    }
}

pub async fn policies_to_api(db: &impl ConnectionTrait, rows: &[policy::Model]) -> Result<Vec<CommissionPolicy>> {
    let ids: Vec<i32> = rows.iter().map(|p| p.id).collect();
    let mut staff_of: HashMap<i32, Vec<i32>> = HashMap::new();
    for a in applicable::Entity::find().filter(applicable::Column::PolicyId.is_in(ids)).order_by_asc(applicable::Column::StaffId).all(db).await? {
        staff_of.entry(a.policy_id).or_default().push(a.staff_id);
    }
    Ok(rows
        .iter()
        .map(|p| CommissionPolicy {
            id: p.id,
            name: p.name.clone(),
            rules: rules_of(p),
            staff_ids: staff_of.remove(&p.id).unwrap_or_default(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        })
        .collect())
}

pub async fn policy_to_api(db: &impl ConnectionTrait, p: &policy::Model) -> Result<CommissionPolicy> {
    Ok(policies_to_api(db, std::slice::from_ref(p)).await?.remove(0))
}

pub async fn find_policy(db: &impl ConnectionTrait, id: i32, read: Read) -> Result<policy::Model> {
    read.apply(policy::Entity::find_by_id(id)).one(db).await?.ok_or_else(|| Error::not_found("commission policy"))
}

/// Creates a policy (`current` is `None`) or changes one: the fields sent replace the current
/// ones, and the rules that result must be valid as a whole.
pub async fn save_policy(db: &impl ConnectionTrait, current: Option<policy::Model>, input: &CommissionPolicyInput) -> Result<policy::Model> {
    let mut v = Validator::new();
    let name = match (&input.name, &current) {
        (Some(n), _) => v.check("name", parse_name(n, 100)),
        (None, Some(p)) => Some(p.name.clone()),
        (None, None) => {
            v.push("name", "required", "a name is required");
            None
        }
    };
    let base = current.as_ref().map(rules_of);
    let commission_type = input.commission_type.or(base.as_ref().map(|r| r.commission_type));
    if commission_type.is_none() {
        v.push("type", "required", "one of percentage, ladder, product, product_ladder, margin");
    }
    v.finish().map_err(Error::validation)?;
    let (Some(name), Some(commission_type)) = (name, commission_type) else { unreachable!("checked above") };
    let base = base.unwrap_or(PolicyRules { commission_type, rate: None, tiers: vec![], product_rates: vec![], product_tiers: vec![] });
    let merged = PolicyRules {
        commission_type,
        rate: input.rate.or(base.rate),
        tiers: input.tiers.clone().unwrap_or(base.tiers),
        product_rates: input.product_rates.clone().unwrap_or(base.product_rates),
        product_tiers: input.product_tiers.clone().unwrap_or(base.product_tiers),
    };
    merged.validate().map_err(Error::validation)?;
    check_items_exist(db, &merged).await?;
    let taken = policy::Entity::find()
        .filter(Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(policy::Column::Name))).eq(name.to_lowercase()))
        .filter(policy::Column::Id.ne(current.as_ref().map_or(0, |p| p.id)))
        .one(db)
        .await?;
    if taken.is_some() {
        return Err(Error::refused(ErrorCode::NameTaken, format!("A commission policy named `{name}` already exists.")));
    }
    let now = OffsetDateTime::now_utc();
    let json = |v: serde_json::Result<serde_json::Value>| v.map_err(Error::internal);
    let existing = current.is_some();
    let mut row = match current {
        Some(p) => p.into(),
        None => policy::ActiveModel { created_at: Set(now), ..Default::default() },
    };
    row.name = Set(name);
    row.commission_type = Set(json(serde_json::to_value(merged.commission_type))?.as_str().unwrap_or_default().to_string());
    row.rate = Set(merged.rate.map(|r| r.normalize().to_string()));
    row.tiers = Set(json(serde_json::to_value(&merged.tiers))?);
    row.product_rates = Set(json(serde_json::to_value(&merged.product_rates))?);
    row.product_tiers = Set(json(serde_json::to_value(&merged.product_tiers))?);
    row.updated_at = Set(now);
    let saved = if existing { row.update(db).await } else { row.insert(db).await };
    saved.map_err(
        |e| if is_unique_violation(&e) { Error::refused(ErrorCode::NameTaken, "A commission policy with this name already exists.") } else { e.into() },
    )
}

async fn check_items_exist(db: &impl ConnectionTrait, r: &PolicyRules) -> Result<()> {
    let mut v = Validator::new();
    let wanted = r
        .product_rates
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.item_id.map(|id| (format!("product_rates.{i}.item_id"), id)))
        .chain(r.product_tiers.iter().enumerate().map(|(i, t)| (format!("product_tiers.{i}.item_id"), t.item_id)));
    for (field, id) in wanted {
        if item::Entity::find_by_id(id).one(db).await?.is_none() {
            v.push(&field, "not_found", format!("no item {id}"));
        }
    }
    v.finish().map_err(Error::validation)
}

/// A policy someone earns under is not deleted (their next payments would earn nothing
/// without anyone deciding so); commissions already earned keep their amounts.
pub async fn delete_policy(db: &impl ConnectionTrait, p: &policy::Model) -> Result<()> {
    let used = applicable::Entity::find().filter(applicable::Column::PolicyId.eq(p.id)).count(db).await?;
    if used > 0 {
        return Err(Error::refused(ErrorCode::InUse, format!("{used} staff member(s) earn under this policy; remove them from it first.")));
    }
    policy::Entity::delete_by_id(p.id).exec(db).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Who earns under which policy

pub async fn applicable_to_api(db: &impl ConnectionTrait, rows: &[applicable::Model]) -> Result<Vec<ApplicableStaff>> {
    let names = staff_names(db, rows.iter().map(|a| a.staff_id).collect()).await?;
    let policy_ids: Vec<i32> = rows.iter().map(|a| a.policy_id).collect();
    let policies: HashMap<i32, String> =
        policy::Entity::find().filter(policy::Column::Id.is_in(policy_ids)).all(db).await?.into_iter().map(|p| (p.id, p.name)).collect();
    Ok(rows
        .iter()
        .map(|a| ApplicableStaff {
            id: a.id,
            staff_id: a.staff_id,
            staff_name: names.get(&a.staff_id).cloned().unwrap_or_default(),
            policy_id: a.policy_id,
            policy_name: policies.get(&a.policy_id).cloned().unwrap_or_default(),
            created_at: a.created_at,
        })
        .collect())
}

/// Makes `staff_id` earn under `policy_id`. One policy per staff member: the unique key on
/// `staff_id` decides between simultaneous requests, and the loser is told.
pub async fn add_applicable(db: &impl ConnectionTrait, staff_id: i32, policy_id: i32) -> Result<applicable::Model> {
    let mut v = Validator::new();
    if !staff::Entity::find_by_id(staff_id).one(db).await?.is_some_and(|s| s.active) {
        v.push("staff_id", "not_found", format!("no active staff member {staff_id}"));
    }
    // Locked, so a deletion of the policy at this moment waits (or is seen) instead of failing.
    if Read::ForUpdate.apply(policy::Entity::find_by_id(policy_id)).one(db).await?.is_none() {
        v.push("policy_id", "not_found", format!("no commission policy {policy_id}"));
    }
    v.finish().map_err(Error::validation)?;
    let already = || Error::refused(ErrorCode::AlreadyAssigned, "This staff member already earns under a policy; remove that first.");
    if applicable::Entity::find().filter(applicable::Column::StaffId.eq(staff_id)).one(db).await?.is_some() {
        return Err(already());
    }
    let now = OffsetDateTime::now_utc();
    let row = applicable::ActiveModel { staff_id: Set(staff_id), policy_id: Set(policy_id), created_at: Set(now), updated_at: Set(now), ..Default::default() };
    applicable::Entity::insert(row).exec_with_returning(db).await.map_err(|e| if is_unique_violation(&e) { already() } else { e.into() })
}

pub fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}

// ---------------------------------------------------------------------------------------------
// Earning

/// The invoice as the commission rules see it: line nets before the document discount, the
/// net total after every discount, without VAT, each line's item group, and its cost as
/// snapshotted on the line when it was written (not today's catalogue price).
async fn commission_invoice(db: &impl ConnectionTrait, inv: &invoice::Model) -> Result<(CommissionInvoice, Decimal)> {
    let currency = currency_of(&inv.currency);
    let rows = documents::lines_of(db, "invoice", &[inv.id]).await?.remove(&inv.id).unwrap_or_default();
    let (lines, amounts) = documents::present(currency, &rows, discount_of(inv));
    let item_ids: Vec<i32> = lines.iter().filter_map(|l| l.item_id).collect();
    let items: HashMap<i32, item::Model> =
        item::Entity::find().filter(item::Column::Id.is_in(item_ids)).all(db).await?.into_iter().map(|i| (i.id, i)).collect();
    let lines = lines
        .iter()
        .zip(&rows)
        .map(|(l, row)| CommissionLine {
            item_id: l.item_id,
            group: l.item_id.and_then(|id| items.get(&id)).and_then(|i| i.group_name.clone()),
            net: l.net,
            quantity: l.qty,
            purchase_price: row.purchase_price.as_deref().map(dec),
        })
        .collect();
    Ok((CommissionInvoice { currency, net_total: amounts.total - amounts.total_tax, lines }, amounts.total))
}

/// Records the commission `p` earns the invoice's sale agent, if they earn under a policy.
/// Runs in the payment's transaction with the invoice locked, so payments of one invoice are
/// counted one after another and the parts add up to the invoice's whole commission.
pub async fn earn_on_payment(db: &impl ConnectionTrait, inv: &invoice::Model, p: &payment::Model) -> Result<Option<commission::Model>> {
    let Some(agent) = inv.sale_agent else { return Ok(None) };
    let Some(applies) = applicable::Entity::find().filter(applicable::Column::StaffId.eq(agent)).one(db).await? else { return Ok(None) };
    let pol = find_policy(db, applies.policy_id, Read::Plain).await?;
    let (invoice, total) = commission_invoice(db, inv).await?;
    let currency = invoice.currency;
    let whole = rules::invoice_commission(&rules_of(&pol), &invoice);
    // Over every earner of the invoice: a sale agent changed after a first payment earns only
    // what is left, never the whole again.
    let earned = commission::Entity::find().filter(commission::Column::InvoiceId.eq(inv.id)).all(db).await?.iter().map(|c| c.amount_minor).sum::<i64>();
    let paid_all: i64 = payment::Entity::find().filter(payment::Column::InvoiceId.eq(inv.id)).all(db).await?.iter().map(|x| x.amount_minor).sum();
    let amount = money::from_minor(p.amount_minor, currency);
    let paid_before = money::from_minor(paid_all - p.amount_minor, currency);
    let part = rules::payment_commission(whole, money::from_minor(earned, currency), total, paid_before, amount, currency);
    if part.is_zero() {
        return Ok(None);
    }
    let base = if total.is_zero() { Decimal::ZERO } else { money::round(invoice.net_total * amount / total, currency) };
    let after_days = settings::load(db).await?.commission_calculate_after_days;
    let now = OffsetDateTime::now_utc();
    let row = commission::ActiveModel {
        staff_id: Set(agent),
        invoice_id: Set(inv.id),
        payment_id: Set(Some(p.id)),
        policy_id: Set(Some(pol.id)),
        base_amount_minor: Set(money::to_minor(base, currency).map_err(|e| Error::internal(anyhow::anyhow!(e.message)))?),
        amount_minor: Set(money::to_minor(part, currency).map_err(|e| Error::internal(anyhow::anyhow!(e.message)))?),
        currency: Set(inv.currency.clone()),
        status_code: Set(CommissionStatus::Pending.code()),
        date: Set(p.date),
        available_at: Set(available_at(p.date, after_days)),
        announced_at: Set(None),
        receipt_id: Set(None),
        offsets_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(Some(commission::Entity::insert(row).exec_with_returning(db).await?))
}

/// The start (UTC) of the day `days` after the payment's date.
pub fn available_at(paid_on: Date, days: u32) -> OffsetDateTime {
    (paid_on + Duration::days(i64::from(days))).with_time(Time::MIDNIGHT).assume_utc()
}

/// A deleted payment takes its commission back: a pending one is deleted; one already paid out
/// on a receipt stays as it was and gets an offset line of minus its amount, pending, which the
/// agent's next receipt nets out. Runs in the deletion's transaction.
pub async fn on_payment_deleted(db: &impl ConnectionTrait, payment_id: i32) -> Result<()> {
    // Locked: a receipt paying one of them at this moment is waited for, then seen as paid.
    let earned = Read::ForUpdate.apply(commission::Entity::find().filter(commission::Column::PaymentId.eq(payment_id))).all(db).await?;
    let now = OffsetDateTime::now_utc();
    for c in earned {
        if c.status_code == CommissionStatus::Pending.code() {
            commission::Entity::delete_by_id(c.id).exec(db).await?;
            continue;
        }
        let offset = commission::ActiveModel {
            staff_id: Set(c.staff_id),
            invoice_id: Set(c.invoice_id),
            payment_id: Set(None),
            policy_id: Set(c.policy_id),
            base_amount_minor: Set(-c.base_amount_minor),
            amount_minor: Set(-c.amount_minor),
            currency: Set(c.currency.clone()),
            status_code: Set(CommissionStatus::Pending.code()),
            date: Set(now.date()),
            available_at: Set(now),
            // Nothing to announce: the agent is not told of money taken back as if earned.
            announced_at: Set(Some(now)),
            receipt_id: Set(None),
            offsets_id: Set(Some(c.id)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        commission::Entity::insert(offset).exec(db).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Lists

/// The commissions the caller may see: their own with `view_own`; nobody's before it is
/// available (`commission_calculate_after_days`).
pub fn visible_condition(scope: ViewScope, now: OffsetDateTime) -> Condition {
    let shown = Condition::all().add(commission::Column::AvailableAt.lte(now));
    match scope {
        ViewScope::All => shown,
        ViewScope::Own(me) => shown.add(commission::Column::StaffId.eq(me)),
    }
}

async fn staff_names(db: &impl ConnectionTrait, ids: Vec<i32>) -> Result<HashMap<i32, String>> {
    Ok(staff::Entity::find().filter(staff::Column::Id.is_in(ids)).all(db).await?.into_iter().map(|s| (s.id, s.name)).collect())
}

pub async fn to_api_many(db: &impl ConnectionTrait, rows: &[commission::Model]) -> Result<Vec<Commission>> {
    let names = staff_names(db, rows.iter().map(|c| c.staff_id).collect()).await?;
    let invoice_ids: Vec<i32> = rows.iter().map(|c| c.invoice_id).collect();
    let numbers: HashMap<i32, Option<String>> =
        invoice::Entity::find().filter(invoice::Column::Id.is_in(invoice_ids)).all(db).await?.into_iter().map(|i| (i.id, i.number)).collect();
    Ok(rows
        .iter()
        .map(|c| {
            let currency = currency_of(&c.currency);
            let status = CommissionStatus::from_code(c.status_code).unwrap_or(CommissionStatus::Pending);
            Commission {
                id: c.id,
                staff_id: c.staff_id,
                staff_name: names.get(&c.staff_id).cloned().unwrap_or_default(),
                invoice_id: c.invoice_id,
                invoice_number: numbers.get(&c.invoice_id).cloned().flatten(),
                payment_id: c.payment_id,
                policy_id: c.policy_id,
                base_amount: money::from_minor(c.base_amount_minor, currency),
                amount: money::from_minor(c.amount_minor, currency),
                currency: c.currency.clone(),
                status: status.name().to_string(),
                status_code: c.status_code,
                date: c.date,
                available_at: c.available_at,
                receipt_id: c.receipt_id,
                offsets_id: c.offsets_id,
                created_at: c.created_at,
                updated_at: c.updated_at,
            }
        })
        .collect())
}

/// Pending and paid sums per currency over every row that meets `cond` (never across currencies).
pub async fn totals(db: &impl ConnectionTrait, cond: Condition) -> Result<Vec<CommissionTotals>> {
    #[derive(sea_orm::FromQueryResult)]
    struct Sum {
        currency: String,
        status_code: i32,
        total: i64,
    }
    let sums = commission::Entity::find()
        .select_only()
        .column(commission::Column::Currency)
        .column(commission::Column::StatusCode)
        .column_as(Expr::col(commission::Column::AmountMinor).sum().cast_as(sea_orm::sea_query::Alias::new("BIGINT")), "total")
        .filter(cond)
        .group_by(commission::Column::Currency)
        .group_by(commission::Column::StatusCode)
        .into_model::<Sum>()
        .all(db)
        .await?;
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for s in sums {
        let slot = out.entry(s.currency).or_default();
        if s.status_code == CommissionStatus::Paid.code() {
            slot.1 += s.total;
        } else {
            slot.0 += s.total;
        }
    }
    Ok(out
        .into_iter()
        .map(|(code, (pending, paid))| {
            let c = currency_of(&code);
            CommissionTotals { currency: code, pending: money::from_minor(pending, c), paid: money::from_minor(paid, c) }
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Receipts

pub fn receipt_number(id: i32) -> String {
    format!("CR-{id:06}")
}

pub async fn receipt_to_api(db: &impl ConnectionTrait, r: &receipt::Model) -> Result<CommissionReceipt> {
    Ok(receipts_to_api(db, std::slice::from_ref(r)).await?.remove(0))
}

/// Receipts with their commissions, staff names and expenses: a fixed number of queries for a page.
pub async fn receipts_to_api(db: &impl ConnectionTrait, rows: &[receipt::Model]) -> Result<Vec<CommissionReceipt>> {
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    let lines = commission::Entity::find().filter(commission::Column::ReceiptId.is_in(ids.clone())).order_by_asc(commission::Column::Id).all(db).await?;
    let mut lines_of: HashMap<i32, Vec<Commission>> = HashMap::new();
    for (row, api) in lines.iter().zip(to_api_many(db, &lines).await?) {
        lines_of.entry(row.receipt_id.unwrap_or_default()).or_default().push(api);
    }
    let names = staff_names(db, rows.iter().map(|r| r.staff_id).collect()).await?;
    let expenses: HashMap<i32, i32> = expense::Entity::find()
        .filter(expense::Column::CommissionReceiptId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|e| Some((e.commission_receipt_id?, e.id)))
        .collect();
    Ok(rows
        .iter()
        .map(|r| CommissionReceipt {
            id: r.id,
            number: receipt_number(r.id),
            staff_id: r.staff_id,
            staff_name: names.get(&r.staff_id).cloned().unwrap_or_default(),
            currency: r.currency.clone(),
            total: money::from_minor(r.total_minor, currency_of(&r.currency)),
            date: r.date,
            note: r.note.clone(),
            expense_id: expenses.get(&r.id).copied(),
            commissions: lines_of.remove(&r.id).unwrap_or_default(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect())
}

/// Pays out pending, visible commissions of one staff member in one currency: the receipt and
/// the status change (0 → 1) in one transaction. The UPDATE only takes rows still pending and
/// without a receipt, and must take every one asked for — so two simultaneous receipts over the
/// same commissions cannot both pay them.
pub async fn create_receipt(db: &impl ConnectionTrait, created_by: i32, input: &CommissionReceiptInput, now: OffsetDateTime) -> Result<receipt::Model> {
    let mut ids = input.commission_ids.clone();
    ids.sort_unstable();
    ids.dedup();
    let mut v = Validator::new();
    if ids.is_empty() {
        v.push("commission_ids", "required", "choose at least one pending commission");
    }
    let note = input.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        v.push("note", "too_long", "at most 2000 characters");
    }
    let rows = commission::Entity::find().filter(commission::Column::Id.is_in(ids.clone())).all(db).await?;
    for id in &ids {
        match rows.iter().find(|c| c.id == *id) {
            None => v.push("commission_ids", "not_found", format!("no commission {id}")),
            Some(c) if c.staff_id != input.staff_id => v.push("commission_ids", "other_staff", format!("commission {id} is another staff member's")),
            Some(c) if c.available_at > now => v.push("commission_ids", "not_available", format!("commission {id} shows from {}", c.available_at.date())),
            Some(_) => {}
        }
    }
    let currencies: std::collections::BTreeSet<&str> = rows.iter().map(|c| c.currency.as_str()).collect();
    if currencies.len() > 1 {
        v.push("commission_ids", "mixed_currencies", "one receipt pays commissions of one currency");
    }
    if input.create_expense && rows.iter().map(|c| c.amount_minor).sum::<i64>() <= 0 {
        v.push("create_expense", "not_positive", "only a receipt with a positive total is an expense");
    }
    v.finish().map_err(Error::validation)?;
    let paid_already: Vec<i32> = rows.iter().filter(|c| c.status_code != CommissionStatus::Pending.code()).map(|c| c.id).collect();
    if !paid_already.is_empty() {
        return Err(paid_out(&paid_already));
    }
    let currency = rows[0].currency.clone();
    let total: i64 = rows.iter().map(|c| c.amount_minor).sum();
    let saved = receipt::ActiveModel {
        staff_id: Set(input.staff_id),
        currency: Set(currency),
        total_minor: Set(total),
        date: Set(input.date.unwrap_or(now.date())),
        note: Set(note),
        created_by: Set(Some(created_by)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let taken = commission::Entity::update_many()
        .col_expr(commission::Column::StatusCode, Expr::value(CommissionStatus::Paid.code()))
        .col_expr(commission::Column::ReceiptId, Expr::value(saved.id))
        .col_expr(commission::Column::UpdatedAt, Expr::value(now))
        .filter(commission::Column::Id.is_in(ids.clone()))
        .filter(commission::Column::StatusCode.eq(CommissionStatus::Pending.code()))
        .filter(commission::Column::ReceiptId.is_null())
        .exec(db)
        .await?;
    if taken.rows_affected != ids.len() as u64 {
        // Another receipt paid some of them meanwhile; the caller's transaction rolls back.
        return Err(paid_out(&ids));
    }
    if input.create_expense {
        crate::ops::expenses::record_commission_payout(db, &saved, &receipt_number(saved.id), created_by).await?;
    }
    Ok(saved)
}

fn paid_out(ids: &[i32]) -> Error {
    let list = ids.iter().map(i32::to_string).collect::<Vec<_>>().join(", ");
    Error::refused(ErrorCode::AlreadyDone, format!("Commission(s) {list} are already paid; nothing was changed."))
}

// ---------------------------------------------------------------------------------------------
// The job runner

/// Tells each agent once that a commission has become visible (`commission_calculate_after_days`
/// after its payment): a conditional UPDATE of `announced_at` decides which server tells them.
pub async fn announce_available(db: &sea_orm::DatabaseConnection, now: OffsetDateTime) -> Result<usize> {
    let due = commission::Entity::find().filter(commission::Column::AnnouncedAt.is_null()).filter(commission::Column::AvailableAt.lte(now)).all(db).await?;
    let mut told = 0;
    for c in due {
        let txn = crate::db::begin_write(db).await?;
        let marked = commission::Entity::update_many()
            .col_expr(commission::Column::AnnouncedAt, Expr::value(now))
            .filter(commission::Column::Id.eq(c.id))
            .filter(commission::Column::AnnouncedAt.is_null())
            .exec(&txn)
            .await?;
        if marked.rows_affected != 1 {
            continue;
        }
        let amount = money::from_minor(c.amount_minor, currency_of(&c.currency));
        let number = invoice::Entity::find_by_id(c.invoice_id).one(&txn).await?.and_then(|i| i.number).unwrap_or_default();
        let notice = Notice {
            kind: "commission_available",
            title: format!("Commission {amount} {} on {number}", c.currency),
            body: format!("A payment of invoice {number} earned you {amount} {}.", c.currency),
            link: Some("/admin/commission".into()),
            entity: Some(("invoice", c.invoice_id)),
        };
        notifications::notify(&txn, c.staff_id, notice).await?;
        txn.commit().await?;
        told += 1;
    }
    Ok(told)
}
