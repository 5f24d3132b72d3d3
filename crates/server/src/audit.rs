//! The audit log: every state change, who made it, when, and the record before and after.
//! Always written with the same transaction as the change itself.

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde::Serialize;
use time::OffsetDateTime;

use crate::entities::audit_log;
use crate::error::{Error, Result};
use crate::outbox;

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

/// Fields that carry a live secret (a portal link holds its token): never kept in the log,
/// which administrators read on the Activity log screen.
const SECRET_FIELDS: &[&str] = &["portal_url", "portal_token", "token", "refresh_token", "access_token", "password"];

/// The value with every secret field removed, at any depth.
fn without_secrets(mut value: serde_json::Value) -> serde_json::Value {
    match &mut value {
        serde_json::Value::Object(map) => {
            map.retain(|k, _| !SECRET_FIELDS.contains(&k.as_str()));
            for v in map.values_mut() {
                *v = without_secrets(v.take());
            }
        }
        serde_json::Value::Array(items) => {
            for v in items.iter_mut() {
                *v = without_secrets(v.take());
            }
        }
        _ => {}
    }
    value
}

pub async fn record(db: &impl ConnectionTrait, actor: &Actor, change: Change<'_>) -> Result<()> {
    let after = change.after.map(without_secrets);
    if let (Some(id), Some(data)) = (change.entity_id, feed_data(change.action, change.entity_type, after.as_ref())) {
        outbox::emit(db, change.action, change.entity_type, id, data).await?;
    }
    audit_log::Entity::insert(audit_log::ActiveModel {
        at: Set(OffsetDateTime::now_utc()),
        actor_staff_id: Set(actor.staff_id),
        actor_api_token_id: Set(actor.api_token_id),
        action: Set(change.action.to_string()),
        entity_type: Set(change.entity_type.to_string()),
        entity_id: Set(change.entity_id),
        before: Set(change.before.map(without_secrets)),
        after: Set(after),
        ip: Set(actor.ip.clone()),
        ..Default::default()
    })
    .exec(db)
    .await
    .map_err(Error::from)?;
    Ok(())
}

/// A record of the events feed created, updated or deleted: the event's data (the record as
/// it now is, or `{}` for a deletion). Other entries have their own, explicit events.
fn feed_data(action: &str, entity_type: &str, after: Option<&serde_json::Value>) -> Option<serde_json::Value> {
    let what = action.strip_prefix(entity_type)?.strip_prefix('.')?;
    if !outbox::is_record_type(entity_type) {
        return None;
    }
    match what {
        "created" | "updated" => Some(after.cloned().unwrap_or_else(|| serde_json::json!({}))),
        "deleted" => Some(serde_json::json!({})),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{feed_data, without_secrets};

    #[test]
    fn record_changes_of_feed_types_become_events() {
        let lead = serde_json::json!({"id": 3, "name": "Ana"});
        assert_eq!(feed_data("lead.updated", "lead", Some(&lead)), Some(lead.clone()));
        assert_eq!(feed_data("lead.deleted", "lead", None), Some(serde_json::json!({})));
        assert_eq!(feed_data("lead.activity_logged", "lead", Some(&lead)), None, "not a record change");
        assert_eq!(feed_data("payment.deleted", "invoice", None), None, "deleting a payment does not delete the invoice");
        assert_eq!(feed_data("role.updated", "role", Some(&lead)), None, "not a record type of the feed");
    }

    #[test]
    fn portal_links_and_tokens_never_reach_the_log() {
        let kept = without_secrets(
            serde_json::json!({"id": 7, "portal_url": "https://crm/p/SECRET", "lead": {"token": "x", "name": "Ana"}, "lines": [{"password": "p", "qty": 1}]}),
        );
        assert_eq!(kept, serde_json::json!({"id": 7, "lead": {"name": "Ana"}, "lines": [{"qty": 1}]}));
    }
}
