//! Sales orders: the queries and business operations below the HTTP handlers.

use crmconnect_domain::api::{SalesOrder, SalesOrderInput};
use crmconnect_domain::documents::DocumentDiscount;
use crmconnect_domain::permissions::Module;
use crmconnect_domain::proposals::format_number;
use crmconnect_domain::validation::Validator;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait};
use time::OffsetDateTime;

use crate::auth::AuthUser;
use crate::db::Read;
use crate::documents::{self, dec, SALES_ORDER};
use crate::documents::{currency_of, today};
use crate::entities::sales_order;
use crate::error::{Error, ErrorCode, Result};
use crate::ops::invoices::check_client_visible;

pub fn discount_of(o: &sales_order::Model) -> Option<DocumentDiscount> {
    documents::discount_of(o.discount_type.as_deref(), &o.discount_value, &o.discount_applies)
}

pub async fn load_many(db: &impl ConnectionTrait, rows: &[sales_order::Model]) -> Result<Vec<SalesOrder>> {
    let ids: Vec<i32> = rows.iter().map(|o| o.id).collect();
    let mut lines = documents::lines_of(db, SALES_ORDER, &ids).await?;
    Ok(rows
        .iter()
        .map(|o| {
            let (lines, amounts) = documents::present(currency_of(&o.currency), &lines.remove(&o.id).unwrap_or_default(), discount_of(o));
            SalesOrder {
                id: o.id,
                number: o.number.clone(),
                client_id: o.client_id,
                currency: o.currency.clone(),
                date: o.date,
                discount_type: documents::parse_discount_type(o.discount_type.as_deref()),
                discount_value: dec(&o.discount_value),
                discount_applies: documents::parse_discount_applies(&o.discount_applies),
                lines,
                amounts,
                status: o.status.clone(),
                proposal_id: o.proposal_id,
                invoice_id: o.invoice_id,
                created_at: o.created_at,
            }
        })
        .collect())
}

pub async fn load_sales_order(db: &impl ConnectionTrait, id: i32) -> Result<SalesOrder> {
    let o = sales_order::Entity::find_by_id(id).one(db).await?.ok_or_else(|| Error::not_found("sales order"))?;
    Ok(load_many(db, &[o]).await?.remove(0))
}

pub async fn find_visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<sales_order::Model> {
    visible(db, user, id, Read::Plain).await
}

/// [`find_visible`], locking the row until the transaction ends (write paths use this).
pub async fn lock_visible(txn: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<sales_order::Model> {
    visible(txn, user, id, Read::ForUpdate).await
}

pub async fn visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32, read: Read) -> Result<sales_order::Model> {
    user.view_scope(Module::SalesOrders)?;
    let o = read.apply(sales_order::Entity::find_by_id(id)).one(db).await?.ok_or_else(|| Error::not_found("sales order"))?;
    if o.created_by != Some(user.id()) {
        check_client_visible(db, user, Module::SalesOrders, o.client_id, "sales order").await?;
    }
    Ok(o)
}

pub async fn apply(
    db: &impl ConnectionTrait,
    user: &AuthUser,
    row: &mut sales_order::ActiveModel,
    current: Option<&sales_order::Model>,
    b: &SalesOrderInput,
) -> Result<Option<Vec<documents::Line>>> {
    let mut v = Validator::new();
    if let Some(o) = current {
        if !matches!(o.status.as_str(), "draft" | "confirmed") {
            return Err(Error::refused(
                ErrorCode::InvalidStatusTransition,
                format!("A {} order cannot change; only draft and confirmed orders can.", o.status),
            ));
        }
    }
    let client = documents::requested_client(db, user, &mut v, b.client_id, current.is_none()).await?;
    let currency = match (&b.currency, current, &client) {
        (Some(c), _, _) => documents::enabled_currency(db, &mut v, "currency", c).await?,
        (None, Some(o), _) => Some(currency_of(&o.currency)),
        (None, None, Some(_)) => Some(documents::base_currency(db).await?),
        _ => None,
    };
    let lines = match (&b.lines, current) {
        (Some(inputs), _) => documents::resolve_lines(db, &mut v, inputs).await?,
        (None, Some(o)) => documents::stored_lines(db, SALES_ORDER, o.id).await?,
        (None, None) => Vec::new(),
    };
    let stored = current.map(|o| documents::StoredDiscount { kind: o.discount_type.as_deref(), value: &o.discount_value, applies: &o.discount_applies });
    let (discount, applies) = documents::resolve_discount(&mut v, b.discount_type, b.discount_value, b.discount_applies, stored);
    let priced = currency.and_then(|c| v.check("discount_value", documents::compute(c, &lines, discount)).map(|t| (c, t)));
    let (currency, totals) = Error::validated(v, priced)?;
    let (subtotal, disc, tax, total) = documents::minor_totals(&totals, currency);
    if let Some(c) = client {
        row.client_id = Set(c.id);
    }
    row.currency = Set(currency.code().to_string());
    row.date = Set(b.date.or(current.map(|o| o.date)).unwrap_or_else(today));
    row.discount_type = Set(discount.map(|d| documents::discount_type_name(d.kind).to_string()));
    row.discount_value = Set(discount.map(|d| d.value.normalize().to_string()).unwrap_or_else(|| "0".into()));
    row.discount_applies = Set(documents::discount_applies_name(applies).to_string());
    row.subtotal_minor = Set(subtotal);
    row.discount_minor = Set(disc);
    row.total_tax_minor = Set(tax);
    row.total_minor = Set(total);
    row.updated_at = Set(OffsetDateTime::now_utc());
    Ok(b.lines.is_some().then_some(lines))
}

/// Numbers (`SO-000123`, gap-free), inserts a sales order and stores its lines, in the caller's
/// transaction — the one place sales orders are created (from the API and from proposals).
pub async fn insert(txn: &impl ConnectionTrait, mut row: sales_order::ActiveModel, lines: &[documents::Line]) -> Result<sales_order::Model> {
    row.number = Set(format_number("SO-", documents::next_number(txn, "sales_order").await?, 6));
    let saved = row.insert(txn).await?;
    documents::save_lines(txn, SALES_ORDER, saved.id, lines).await?;
    Ok(saved)
}
