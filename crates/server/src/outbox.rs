//! The transactional outbox: domain events (e.g. `lead_status_changed`) written in the same
//! transaction as the change, for workflow automation and webhooks to consume later.

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::Value;
use time::OffsetDateTime;

use crate::entities::event;
use crate::error::Result;

pub async fn emit(db: &impl ConnectionTrait, event_type: &str, entity_type: &str, entity_id: i32, payload: Value) -> Result<()> {
    event::Entity::insert(event::ActiveModel {
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
    Ok(())
}
