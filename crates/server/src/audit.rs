//! The audit log: every state change, who made it, when, and the record before and after.
//! Always written with the same transaction as the change itself.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde::Serialize;
use time::OffsetDateTime;

use crate::entities::{audit_log, event_owner};
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
    /// The change removes the record (for the events feed) though its action does not end in
    /// `.deleted` (e.g. `lead.bulk_delete`).
    pub removes_record: bool,
}

impl<'a> Change<'a> {
    pub fn new(action: &'a str, entity_type: &'a str, entity_id: i32) -> Self {
        Self { action, entity_type, entity_id: Some(entity_id), before: None, after: None, removes_record: false }
    }

    pub fn removing_record(mut self) -> Self {
        self.removes_record = true;
        self
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

pub async fn record(db: &impl ConnectionTrait, actor: &Actor, mut change: Change<'_>) -> Result<()> {
    let after = change.after.take().map(without_secrets);
    if let Some(id) = change.entity_id.filter(|_| outbox::is_record_type(change.entity_type)) {
        let (event_type, data) = feed_event(&change, id, after.as_ref());
        let deleted = event_type.ends_with(".deleted");
        // Who the record is "theirs" to is read before it goes (callers record a deletion first).
        let owners = if deleted { crate::ownership::owners_of(db, change.entity_type, id).await? } else { Vec::new() };
        let event_id = outbox::emit(db, &event_type, change.entity_type, id, data).await?;
        for staff_id in owners {
            event_owner::ActiveModel { event_id: Set(event_id), staff_id: Set(staff_id), ..Default::default() }.insert(db).await?;
        }
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

/// The events feed's record event for an audited change of a feed record type — every audited
/// change is one, so none goes unreported: `<type>.created` / `<type>.deleted` by the action,
/// anything else (an edit, a status change, a payment on an invoice…) `<type>.updated`. Its data
/// is the record as it now is when the entry carries it (also wrapped as `{"<type>": record,
/// …}`), `{}` otherwise (and for a deletion): then the reader fetches the record.
fn feed_event(change: &Change<'_>, id: i32, after: Option<&serde_json::Value>) -> (String, serde_json::Value) {
    let what = change.action.strip_prefix(change.entity_type).and_then(|a| a.strip_prefix('.'));
    let kind = match what {
        _ if change.removes_record => "deleted",
        Some("created") => "created",
        Some("deleted") => "deleted",
        _ => "updated",
    };
    let is_record = |v: &&serde_json::Value| v.get("id").and_then(serde_json::Value::as_i64) == Some(i64::from(id));
    let record = after.filter(is_record).or_else(|| after.and_then(|a| a.get(change.entity_type)).filter(is_record));
    let data = match (kind, record) {
        ("deleted", _) | (_, None) => serde_json::json!({}),
        (_, Some(r)) => r.clone(),
    };
    (format!("{}.{kind}", change.entity_type), data)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{feed_event, without_secrets, Change};

    #[test]
    fn every_change_of_a_feed_record_is_a_record_event() {
        let lead = serde_json::json!({"id": 3, "name": "Ana"});
        let event = |change: Change<'_>| {
            let after = change.after.clone();
            feed_event(&change, 3, after.as_ref())
        };
        assert_eq!(event(Change::new("lead.created", "lead", 3).after(&lead)), ("lead.created".into(), lead.clone()));
        assert_eq!(event(Change::new("lead.deleted", "lead", 3).before(&lead)), ("lead.deleted".into(), json!({})));
        assert_eq!(event(Change::new("lead.bulk_delete", "lead", 3).removing_record()), ("lead.deleted".into(), json!({})));
        assert_eq!(event(Change::new("lead.status_changed", "lead", 3).after(&lead)), ("lead.updated".into(), lead.clone()));
        let wrapped = json!({"lead": lead, "details": {"bulk": true}});
        assert_eq!(event(Change::new("lead.bulk_assign", "lead", 3).after(&wrapped)), ("lead.updated".into(), lead.clone()));
        // Deleting a payment changes the invoice; it does not delete it.
        assert_eq!(event(Change::new("payment.deleted", "invoice", 3).after(&json!({"amount": "5"}))), ("invoice.updated".into(), json!({})));
    }

    #[test]
    fn portal_links_and_tokens_never_reach_the_log() {
        let kept = without_secrets(
            serde_json::json!({"id": 7, "portal_url": "https://crm/p/SECRET", "lead": {"token": "x", "name": "Ana"}, "lines": [{"password": "p", "qty": 1}]}),
        );
        assert_eq!(kept, serde_json::json!({"id": 7, "lead": {"name": "Ana"}, "lines": [{"qty": 1}]}));
    }
}
