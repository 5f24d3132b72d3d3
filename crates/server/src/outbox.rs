//! The transactional outbox: domain events (e.g. `lead.status_changed`) written in the same
//! transaction as the change. The events feed (`GET /events`) reads them; workflow automation
//! and webhooks consume them. Types are `<record_type>.<what happened>`.

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::Value;
use time::OffsetDateTime;

use crmconnect_domain::permissions::Module;

use crate::entities::event;
use crate::error::Result;

/// Writes an event in the caller's transaction; returns its id.
pub async fn emit(db: &impl ConnectionTrait, event_type: &str, entity_type: &str, entity_id: i32, payload: Value) -> Result<i32> {
    let inserted = event::Entity::insert(event::ActiveModel {
        event_type: Set(event_type.to_string()),
        entity_type: Set(entity_type.to_string()),
        entity_id: Set(entity_id),
        payload: Set(payload),
        created_at: Set(OffsetDateTime::now_utc()),
        processed_at: Set(None),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(inserted.last_insert_id)
}

/// The record types of the events feed and the module whose `view` / `view_own` governs each.
/// Their `*.created`, `*.updated` and `*.deleted` events come from the audit log's entries
/// (`audit::record`), so no change of them goes unreported.
pub const RECORD_TYPES: &[(&str, Module)] = &[
    ("lead", Module::Leads),
    ("opportunity", Module::Opportunities),
    ("client", Module::Clients),
    ("proposal", Module::Proposals),
    ("sales_order", Module::SalesOrders),
    ("invoice", Module::Invoices),
    ("contract", Module::Contracts),
    ("recurring_invoice", Module::Invoices),
];

pub fn is_record_type(name: &str) -> bool {
    RECORD_TYPES.iter().any(|(t, _)| *t == name)
}
