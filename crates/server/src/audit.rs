//! The audit log: every state change, who made it, when, and the record before and after.
//! Always written with the same transaction as the change itself.

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde::Serialize;
use time::OffsetDateTime;

use crate::entities::audit_log;
use crate::error::{Error, Result};

/// Who made a change. `staff_id == None` means the system or the command line.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub staff_id: Option<i32>,
    pub api_token_id: Option<i32>,
    pub ip: Option<String>,
}

impl Actor {
    pub fn system() -> Self {
        Self::default()
    }
}

/// One change to record. `before`/`after` are API representations (never secrets).
pub struct Change<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Option<i32>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl<'a> Change<'a> {
    pub fn new(action: &'a str, entity_type: &'a str, entity_id: i32) -> Self {
        Self { action, entity_type, entity_id: Some(entity_id), before: None, after: None }
    }

    pub fn before(mut self, value: &impl Serialize) -> Self {
        self.before = serde_json::to_value(value).ok();
        self
    }

    pub fn after(mut self, value: &impl Serialize) -> Self {
        self.after = serde_json::to_value(value).ok();
        self
    }
}

pub async fn record(db: &impl ConnectionTrait, actor: &Actor, change: Change<'_>) -> Result<()> {
    audit_log::Entity::insert(audit_log::ActiveModel {
        at: Set(OffsetDateTime::now_utc()),
        actor_staff_id: Set(actor.staff_id),
        actor_api_token_id: Set(actor.api_token_id),
        action: Set(change.action.to_string()),
        entity_type: Set(change.entity_type.to_string()),
        entity_id: Set(change.entity_id),
        before: Set(change.before),
        after: Set(change.after),
        ip: Set(actor.ip.clone()),
        ..Default::default()
    })
    .exec(db)
    .await
    .map_err(Error::from)?;
    Ok(())
}
