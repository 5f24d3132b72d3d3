//! Recurring: the queries and business operations below the HTTP handlers.

use crmconnect_domain::api::{RecurringInvoice, RecurringInvoiceInput};
use crmconnect_domain::permissions::{Module, ViewScope};
use crmconnect_domain::recurring::{self, Frequency};
use crmconnect_domain::validation::Validator;
use std::collections::HashMap;

use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::auth::AuthUser;
use crate::db::Read;
use crate::documents;
use crate::documents::{currency_of, today};
use crate::entities::{client, recurring_invoice};
use crate::error::{Error, Result};
use crate::scheduler::{next_cycles, RECURRING_LINES};

pub const MODES: [&str; 3] = ["draft", "issue", "issue_and_send"];

pub async fn to_api(db: &impl ConnectionTrait, s: &recurring_invoice::Model) -> Result<RecurringInvoice> {
    let mut one = to_api_many(db, std::slice::from_ref(s)).await?;
    one.pop().ok_or_else(|| Error::internal(anyhow::anyhow!("recurring schedule {} produced no API value", s.id)))
}

/// API schedules for many rows in three queries (lines, clients, last generated cycles),
/// whatever their number.
pub async fn to_api_many(db: &impl ConnectionTrait, schedules: &[recurring_invoice::Model]) -> Result<Vec<RecurringInvoice>> {
    if schedules.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i32> = schedules.iter().map(|s| s.id).collect();
    let mut lines_by_schedule = documents::lines_of(db, RECURRING_LINES, &ids).await?;
    let client_ids: Vec<i32> = schedules.iter().map(|s| s.client_id).collect();
    let clients: HashMap<i32, String> =
        client::Entity::find().filter(client::Column::Id.is_in(client_ids)).all(db).await?.into_iter().map(|c| (c.id, c.company)).collect();
    let next_cycles = next_cycles(db, &ids).await?;
    Ok(schedules
        .iter()
        .map(|s| {
            let rows = lines_by_schedule.remove(&s.id).unwrap_or_default();
            let (lines, amounts) = documents::present(currency_of(&s.currency), &rows, None);
            let frequency = Frequency::parse(&s.frequency).unwrap_or(Frequency::Monthly);
            let next = next_cycles.get(&s.id).copied().unwrap_or(0);
            RecurringInvoice {
                id: s.id,
                client_id: s.client_id,
                client_name: clients.get(&s.client_id).cloned().unwrap_or_default(),
                currency: s.currency.clone(),
                frequency,
                interval: s.interval,
                start_date: s.start_date,
                cycles: s.cycles,
                mode: s.mode.clone(),
                active: s.active,
                sale_agent: s.sale_agent,
                terms: s.terms.clone(),
                client_note: s.client_note.clone(),
                lines,
                amounts,
                generated: next,
                next_date: if s.active { recurring::next_date(s.start_date, frequency, s.interval, s.cycles, next) } else { None },
                created_at: s.created_at,
            }
        })
        .collect())
}

pub async fn find_visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<recurring_invoice::Model> {
    visible(db, user, id, Read::Plain).await
}

/// [`find_visible`], locking the row until the transaction ends (write paths use this).
pub async fn lock_visible(txn: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<recurring_invoice::Model> {
    visible(txn, user, id, Read::ForUpdate).await
}

pub async fn visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32, read: Read) -> Result<recurring_invoice::Model> {
    let scope = user.view_scope(Module::Invoices)?;
    let s = read.apply(recurring_invoice::Entity::find_by_id(id)).one(db).await?.ok_or_else(|| Error::not_found("recurring invoice"))?;
    if matches!(scope, ViewScope::Own(me) if s.sale_agent != Some(me) && s.created_by != Some(me)) {
        return Err(Error::not_found("recurring invoice"));
    }
    Ok(s)
}

pub async fn apply(
    db: &impl ConnectionTrait,
    user: &AuthUser,
    row: &mut recurring_invoice::ActiveModel,
    current: Option<&recurring_invoice::Model>,
    b: &RecurringInvoiceInput,
) -> Result<Option<Vec<documents::Line>>> {
    let mut v = Validator::new();
    let creating = current.is_none();
    let client = documents::requested_client(db, user, &mut v, b.client_id, creating).await?;
    let currency = match (&b.currency, &client) {
        (Some(c), _) => documents::enabled_currency(db, &mut v, "currency", c).await?,
        (None, Some(c)) if creating => Some(documents::enabled_or_base(db, &c.currency).await?),
        _ => None,
    };
    let frequency = b.frequency.or(current.and_then(|s| Frequency::parse(&s.frequency)));
    if creating && frequency.is_none() {
        v.push("frequency", "required", "monthly, quarterly, annual, days, weeks or months");
    }
    let interval = b.interval.or(current.map(|s| s.interval)).unwrap_or(1);
    if let Some(f) = frequency {
        v.check("interval", recurring::check_interval(f, interval));
    }
    if b.cycles.is_some_and(|c| !(0..=1200).contains(&c)) {
        v.push("cycles", "out_of_range", "0 (until stopped) to 1200");
    }
    if b.mode.as_ref().is_some_and(|m| !MODES.contains(&m.as_str())) {
        v.push("mode", "invalid", "draft, issue or issue_and_send");
    }
    let lines = match &b.lines {
        Some(inputs) => Some(documents::resolve_lines(db, &mut v, inputs).await?),
        None => None,
    };
    if creating && lines.as_ref().is_none_or(|l| l.is_empty()) {
        v.push("lines", "required", "at least one line");
    }
    v.finish().map_err(Error::validation)?;
    if let Some(c) = client {
        row.client_id = Set(c.id);
    }
    if let Some(c) = currency {
        row.currency = Set(c.code().to_string());
    }
    if let Some(f) = frequency {
        row.frequency = Set(f.name().to_string());
    }
    row.interval = Set(interval);
    if let Some(d) = b.start_date {
        row.start_date = Set(d);
    } else if creating {
        row.start_date = Set(today());
    }
    if let Some(c) = b.cycles {
        row.cycles = Set(c);
    } else if creating {
        row.cycles = Set(0);
    }
    if let Some(m) = &b.mode {
        row.mode = Set(m.clone());
    } else if creating {
        row.mode = Set("draft".into());
    }
    if let Some(a) = b.active {
        row.active = Set(a);
    } else if creating {
        row.active = Set(true);
    }
    if b.sale_agent.is_some() || creating {
        row.sale_agent = Set(b.sale_agent);
    }
    if let Some(t) = &b.terms {
        row.terms = Set(documents::sanitize_html(t));
    } else if creating {
        row.terms = Set(String::new());
    }
    if b.client_note.is_some() || creating {
        row.client_note = Set(b.client_note.clone().filter(|n| !n.trim().is_empty()));
    }
    Ok(lines)
}
