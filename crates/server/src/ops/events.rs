//! The events feed: every change to a record integrators mirror, in an order a reader can
//! follow with a cursor without ever missing one, filtered by what the caller may see.
//!
//! Order. On SQLite one transaction writes at a time, so event ids are given in commit order.
//! On PostgreSQL they are not: a transaction that took id 10 may commit after one that took 11,
//! and a reader that saw 11 and moved its cursor past it would never see 10. So each event
//! records its transaction (`txid`, a column default) and the feed shows only events of
//! transactions older than every one still running (`txid_snapshot_xmin`), ordered by
//! `(txid, id)`: once shown, nothing can commit before them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use crmconnect_domain::api::{Event, Page};
use crmconnect_domain::permissions::ViewScope;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select};
use time::OffsetDateTime;

use crate::auth::AuthUser;
use crate::entities::{event, event_owner};
use crate::error::{Error, ErrorCode, Result};
use crate::outbox::{is_record_type, RECORD_TYPES};
use crate::ownership::own_record_ids;

/// What the caller asked for.
#[derive(Debug, Default)]
pub struct EventQuery {
    pub after: Option<String>,
    pub types: Vec<String>,
    pub record_type: Option<String>,
    pub record_id: Option<i32>,
    pub limit: u64,
}

/// Where a reader stands: the last event's transaction (0 on SQLite) and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub txid: i64,
    pub id: i32,
}

impl Position {
    pub fn of(e: &event::Model) -> Self {
        Position { txid: e.txid.unwrap_or(0), id: e.id }
    }

    fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("e:{}:{}", self.txid, self.id))
    }

    fn decode(raw: &str) -> Result<Self> {
        let invalid = || Error::refused(ErrorCode::InvalidCursor, "Pass back `next_cursor` exactly as received.");
        let text = URL_SAFE_NO_PAD.decode(raw).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(invalid)?;
        let (txid, id) = text.strip_prefix("e:").and_then(|rest| rest.split_once(':')).ok_or_else(invalid)?;
        Ok(Position { txid: txid.parse().map_err(|_| invalid())?, id: id.parse().map_err(|_| invalid())? })
    }
}

/// One page of the feed. `next_cursor` is always given (an empty page keeps the caller's
/// position), so a reader polls with the last cursor it got and never starts over.
pub async fn page(db: &impl ConnectionTrait, user: &AuthUser, q: &EventQuery) -> Result<Page<Event>> {
    let after = q.after.as_deref().map(Position::decode).transpose()?;
    let mut cond = Condition::all().add(visible(user, q.record_type.as_deref())?);
    if !q.types.is_empty() {
        cond = cond.add(event::Column::EventType.is_in(q.types.clone()));
    }
    if let Some(id) = q.record_id {
        cond = cond.add(event::Column::EntityId.eq(id));
    }
    let rows = in_feed_order(event::Entity::find().filter(cond), db.get_database_backend(), after).limit(q.limit).all(db).await?;
    let last = rows.last().map(Position::of).or(after);
    let next_cursor = Some(last.unwrap_or(Position { txid: 0, id: 0 }).encode());
    let items = rows
        .into_iter()
        .map(|e| Event { id: e.id, event_type: e.event_type, record_type: e.entity_type, record_id: e.entity_id, created_at: e.created_at, data: e.payload })
        .collect();
    Ok(Page { items, next_cursor })
}

/// Events after `after` in the feed's order, holding back (on PostgreSQL) those that a still
/// running transaction could yet precede — see the module's comment. Shared by the feed and the
/// webhook fan-out.
pub fn in_feed_order(select: Select<event::Entity>, backend: DatabaseBackend, after: Option<Position>) -> Select<event::Entity> {
    let mut select = select;
    if backend == DatabaseBackend::Postgres {
        select = select.filter(Expr::cust("txid < txid_snapshot_xmin(txid_current_snapshot())"));
        if let Some(p) = after {
            let beyond =
                Condition::any().add(event::Column::Txid.gt(p.txid)).add(Condition::all().add(event::Column::Txid.eq(p.txid)).add(event::Column::Id.gt(p.id)));
            select = select.filter(beyond);
        }
        select = select.order_by(event::Column::Txid, Order::Asc);
    } else if let Some(p) = after {
        select = select.filter(event::Column::Id.gt(p.id));
    }
    select.order_by(event::Column::Id, Order::Asc)
}

/// Events of the record types the caller may view (one, when `record_type` is given); with
/// `view_own`, those of the records that are theirs now, and the `*.deleted` events of records
/// that were theirs when deleted (`event_owners`).
fn visible(user: &AuthUser, record_type: Option<&str>) -> Result<Condition> {
    if let Some(t) = record_type {
        if !is_record_type(t) {
            let known: Vec<&str> = RECORD_TYPES.iter().map(|(t, _)| *t).collect();
            return Err(Error::field("record_type", "invalid", format!("`{t}` is not a record type of the feed; use one of {}", known.join(", "))));
        }
    }
    let mut any = Condition::any();
    let mut allowed = 0;
    for (name, module) in RECORD_TYPES.iter().filter(|(t, _)| record_type.is_none_or(|wanted| wanted == *t)) {
        let Some(scope) = user.permissions.view_scope(*module, user.staff.id) else { continue };
        allowed += 1;
        let of_type = Condition::all().add(event::Column::EntityType.eq(*name));
        any =
            any.add(match scope {
                ViewScope::All => of_type,
                ViewScope::Own(me) => {
                    let theirs_when_deleted =
                        event_owner::Entity::find().select_only().column(event_owner::Column::EventId).filter(event_owner::Column::StaffId.eq(me)).into_query();
                    of_type.add(Condition::any().add(event::Column::EntityId.in_subquery(own_record_ids(name, me))).add(
                        Condition::all().add(event::Column::EventType.eq(format!("{name}.deleted"))).add(event::Column::Id.in_subquery(theirs_when_deleted)),
                    ))
                }
            });
    }
    if allowed == 0 {
        return Err(Error::forbidden("Your role does not grant `view` or `view_own` on any record type of the feed (or of the one asked for)."));
    }
    Ok(any)
}

/// Deletes events older than the retention period (`CRM_EVENTS_RETENTION_DAYS`); the count.
pub async fn prune(db: &impl ConnectionTrait, older_than: OffsetDateTime) -> Result<u64> {
    // Their owners first (SQLite may not enforce the cascade).
    let old = event::Entity::find().select_only().column(event::Column::Id).filter(event::Column::CreatedAt.lt(older_than)).into_query();
    event_owner::Entity::delete_many().filter(event_owner::Column::EventId.in_subquery(old)).exec(db).await?;
    Ok(event::Entity::delete_many().filter(event::Column::CreatedAt.lt(older_than)).exec(db).await?.rows_affected)
}
