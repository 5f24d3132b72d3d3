//! Outbound webhooks: endpoints, the fan-out of events into per-endpoint delivery rows, and the
//! delivery loop run by the job runner.
//!
//! Exactly once into the queue: a delivery row is unique per (endpoint, event), and each
//! endpoint remembers how far into the events it has been fanned out (`position_*`, in the
//! feed's order, so no event is passed over while its transaction is still running). At least
//! once to the endpoint, in order per record: a delivery is tried only when no earlier delivery
//! of the same record to the same endpoint is still pending; a row is claimed with a conditional
//! UPDATE (lease) before its POST, so two servers never send it together; failures are retried
//! with exponential backoff for 24 hours.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use crmconnect_domain::api::{Webhook, WebhookDelivery, WebhookInput};
use crmconnect_domain::permissions::{PermissionSet, ViewScope};
use hmac::{Hmac, Mac};
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};

use crate::entities::{event, role, staff, webhook, webhook_delivery};
use crate::error::{Error, ErrorCode, Result};
use crate::ops::events::{in_feed_order, Position};

/// Deliveries are retried this long after their first attempt, then marked `failed`.
pub const RETRY_FOR: Duration = Duration::hours(24);
/// How long a claimed delivery is reserved for the server sending it.
const CLAIM: Duration = Duration::minutes(2);
const FAN_OUT_BATCH: u64 = 500;
const DELIVERY_BATCH: u64 = 50;
const EXCERPT_CHARS: usize = 500;
/// Bytes of an endpoint's answer read at most.
const EXCERPT_BYTES: usize = 4096;

pub const PENDING: &str = "pending";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";

pub fn to_api(w: &webhook::Model) -> Webhook {
    Webhook {
        id: w.id,
        url: w.url.clone(),
        events: w.events.split(',').map(str::to_string).collect(),
        active: w.active,
        created_at: w.created_at,
        updated_at: w.updated_at,
    }
}

pub fn delivery_to_api(d: &webhook_delivery::Model) -> WebhookDelivery {
    WebhookDelivery {
        id: d.id,
        event_id: d.event_id,
        event_type: d.event_type.clone(),
        record_type: d.record_type.clone(),
        record_id: d.record_id,
        status: d.status.clone(),
        attempts: d.attempts,
        next_attempt_at: (d.status == PENDING).then_some(d.next_attempt_at),
        response_status: d.response_status,
        latency_ms: d.latency_ms,
        response_excerpt: d.response_excerpt.clone(),
        last_error: d.last_error.clone(),
        delivered_at: d.delivered_at,
        created_at: d.created_at,
    }
}

/// A validated endpoint: its URL and event list (`*` or known-looking types).
pub struct Endpoint {
    pub url: Option<String>,
    pub events: Option<String>,
}

/// Checks a create (`creating`) or update body. Targets that resolve to loopback, private,
/// link-local or otherwise internal addresses are refused unless `allow_private` — a webhook
/// must not become a way to make the server call into its own network.
pub async fn validate(input: &WebhookInput, creating: bool, allow_private: bool) -> Result<Endpoint> {
    let events = match &input.events {
        Some(list) => Some(check_events(list)?),
        None if creating => Some("*".to_string()),
        None => None,
    };
    // Last: it may look the name up.
    let url = match input.url.as_deref().map(str::trim) {
        Some(raw) => Some(check_url(raw, allow_private).await?.url.to_string()),
        None if creating => return Err(Error::field("url", "required", "give the endpoint's URL")),
        None => None,
    };
    Ok(Endpoint { url, events })
}

fn check_events(list: &[String]) -> Result<String> {
    let types: Vec<&str> = list.iter().map(|t| t.trim()).filter(|t| !t.is_empty()).collect();
    if types.is_empty() {
        return Err(Error::field("events", "required", "name at least one event type, or `*` for all"));
    }
    for t in &types {
        let known = *t == "*" || t.split_once('.').is_some_and(|(record, what)| crate::outbox::is_record_type(record) && !what.is_empty());
        if !known || t.contains(',') {
            return Err(Error::field("events", "invalid", format!("`{t}` is not an event type such as `lead.created` (or `*`)")));
        }
    }
    Ok(types.join(","))
}

/// A URL that passed the checks, and the addresses its host resolved to (empty when private
/// targets are allowed: then the name is resolved as usual when sending).
struct CheckedUrl {
    url: reqwest::Url,
    addrs: Vec<SocketAddr>,
}

async fn check_url(raw: &str, allow_private: bool) -> Result<CheckedUrl> {
    let invalid = |why: &str| Error::field("url", "invalid", why.to_string());
    let url = reqwest::Url::parse(raw).map_err(|_| invalid("not an absolute URL"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(invalid("use an https:// (or http://) URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("credentials in the URL are not allowed; the signature authenticates the CRM"));
    }
    let host = url.host_str().ok_or_else(|| invalid("the URL has no host"))?.trim_matches(['[', ']']).to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let mut addrs = Vec::new();
    if !allow_private {
        addrs = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| Error::field("url", "unresolvable", format!("`{host}` does not resolve")))?
            .collect();
        if addrs.is_empty() || addrs.iter().any(|a| is_internal(a.ip())) {
            return Err(Error::field("url", "private_address", format!("`{host}` is a loopback, private or internal address")));
        }
    }
    Ok(CheckedUrl { url, addrs })
}

/// Loopback, private (RFC 1918, unique-local), link-local, CGNAT, unspecified, multicast and
/// documentation ranges: nothing a public webhook receiver lives on.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || (a == 192 && b == 0 && c == 0)
        }
        IpAddr::V6(v6) => {
            // IPv4-mapped and IPv4-compatible forms are judged by their IPv4 address.
            if let Some(v4) = v6.to_ipv4() {
                return is_internal(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64: reaches IPv4 through a gateway
                || s[0] == 0x2002 // 6to4
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        }
    }
}

/// The record types an event list covers (`*`: every type of the feed).
fn record_types(events: &str) -> Vec<&'static str> {
    let types: Vec<&str> = events.split(',').collect();
    crate::outbox::RECORD_TYPES
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| types.contains(&"*") || types.iter().any(|e| e.split_once('.').is_some_and(|(r, _)| r == *t)))
        .collect()
}

/// An endpoint receives every event of its types, whoever's record it is: registering or
/// changing one needs full `view` (not `view_own`) on each of those record types' modules —
/// with an API token, within its scopes.
pub fn ensure_may_receive(permissions: &PermissionSet, me: i32, events: &str) -> Result<()> {
    for (record_type, module) in crate::outbox::RECORD_TYPES.iter().filter(|(t, _)| record_types(events).contains(t)) {
        if permissions.view_scope(*module, me) != Some(ViewScope::All) {
            return Err(Error::forbidden(format!(
                "A webhook receives every `{record_type}` event; that needs `view` on `{}` (or choose other event types).",
                module.as_str()
            )));
        }
    }
    Ok(())
}

/// The permissions of the endpoint's creator now: an endpoint of a deactivated account sends
/// nothing, and one whose creator lost `view` on a module stops receiving that module's events.
async fn creator_permissions(db: &impl ConnectionTrait, hook: &webhook::Model) -> Result<Option<PermissionSet>> {
    let Some(staff_id) = hook.created_by else { return Ok(None) };
    let Some(member) = staff::Entity::find_by_id(staff_id).one(db).await?.filter(|s| s.active) else { return Ok(None) };
    let Some(role) = role::Entity::find_by_id(member.role_id).one(db).await? else { return Ok(None) };
    Ok(Some(crate::auth::role_permissions(&role)?))
}

pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<webhook::Model> {
    webhook::Entity::find_by_id(id).one(db).await?.ok_or_else(|| Error::not_found("webhook"))
}

/// Copies new events into delivery rows for every active endpoint that wants them (and whose
/// creator may still see them); the number of rows queued. Endpoints only get events written
/// after they were created; a paused one skips what happens while it is paused.
pub async fn fan_out(db: &impl ConnectionTrait) -> Result<usize> {
    let mut queued = 0;
    for hook in webhook::Entity::find().all(db).await? {
        let after = Some(Position { txid: hook.position_txid, id: hook.position_id });
        let events = in_feed_order(event::Entity::find().filter(event::Column::CreatedAt.gte(hook.created_at)), db.get_database_backend(), after)
            .limit(FAN_OUT_BATCH)
            .all(db)
            .await?;
        let Some(last) = events.last().map(Position::of) else { continue };
        // A paused endpoint moves on without queuing: it does not get the backlog when resumed.
        let creator = if hook.active { creator_permissions(db, &hook).await? } else { None };
        let Some(creator) = creator.or_else(|| (!hook.active).then(PermissionSet::default)) else { continue };
        let me = hook.created_by.unwrap_or_default();
        let may_see =
            |record_type: &str| crate::outbox::RECORD_TYPES.iter().any(|(t, m)| *t == record_type && creator.view_scope(*m, me) == Some(ViewScope::All));
        let wanted: Vec<&str> = hook.events.split(',').collect();
        let rows: Vec<webhook_delivery::ActiveModel> = events
            .iter()
            .filter(|e| hook.active && (wanted.contains(&"*") || wanted.contains(&e.event_type.as_str())))
            .filter(|e| may_see(&e.entity_type))
            .map(|e| webhook_delivery::ActiveModel {
                webhook_id: Set(hook.id),
                event_id: Set(e.id),
                event_type: Set(e.event_type.clone()),
                record_type: Set(e.entity_type.clone()),
                record_id: Set(e.entity_id),
                status: Set(PENDING.into()),
                attempts: Set(0),
                next_attempt_at: Set(e.created_at),
                created_at: Set(OffsetDateTime::now_utc()),
                ..Default::default()
            })
            .collect();
        queued += rows.len();
        if !rows.is_empty() {
            let keep_first = OnConflict::columns([webhook_delivery::Column::WebhookId, webhook_delivery::Column::EventId]).do_nothing().to_owned();
            webhook_delivery::Entity::insert_many(rows).on_conflict(keep_first).do_nothing().exec(db).await?;
        }
        // Only forward: a slower server that read the same batch never moves the position back.
        webhook::Entity::update_many()
            .col_expr(webhook::Column::PositionTxid, Expr::value(last.txid))
            .col_expr(webhook::Column::PositionId, Expr::value(last.id))
            .filter(webhook::Column::Id.eq(hook.id))
            .filter(
                Condition::any()
                    .add(webhook::Column::PositionTxid.lt(last.txid))
                    .add(Condition::all().add(webhook::Column::PositionTxid.eq(last.txid)).add(webhook::Column::PositionId.lt(last.id))),
            )
            .exec(db)
            .await?;
    }
    Ok(queued)
}

/// Who sends and how.
pub struct Sender<'a> {
    /// Identifies this server in `locked_by`.
    pub server_id: &'a str,
    pub allow_private: bool,
}

/// The time inside one pass: the pass's `now` moved on by the real time spent since, so leases,
/// signatures and retry times stay right during a pass of slow endpoints.
struct Clock {
    start: OffsetDateTime,
    started: Instant,
}

impl Clock {
    fn now(&self) -> OffsetDateTime {
        self.start + Duration::try_from(self.started.elapsed()).unwrap_or(Duration::ZERO)
    }
}

/// Sends every delivery due at `now` (to active endpoints, whose earlier deliveries of the same
/// record are done); the number of POSTs made.
pub async fn deliver_due(db: &impl ConnectionTrait, sender: &Sender<'_>, now: OffsetDateTime) -> Result<usize> {
    let clock = Clock { start: now, started: Instant::now() };
    let mut sent = 0;
    loop {
        let due = due_deliveries(db, clock.now()).await?;
        // The batch's endpoints and events in two queries, not two per delivery.
        let hooks: HashMap<i32, webhook::Model> =
            webhook::Entity::find().filter(webhook::Column::Id.is_in(due.iter().map(|d| d.webhook_id))).all(db).await?.into_iter().map(|w| (w.id, w)).collect();
        let events: HashMap<i32, event::Model> =
            event::Entity::find().filter(event::Column::Id.is_in(due.iter().map(|d| d.event_id))).all(db).await?.into_iter().map(|e| (e.id, e)).collect();
        let mut progressed = false;
        for d in due {
            let Some(claimed) = claim(db, &d, sender.server_id, clock.now()).await? else { continue };
            progressed = true;
            let Some(hook) = hooks.get(&d.webhook_id) else { continue };
            let outcome = match events.get(&d.event_id) {
                Some(e) => {
                    sent += 1;
                    post(sender, hook, e, &clock).await
                }
                None => Outcome::gone(),
            };
            finish(db, &claimed, sender.server_id, clock.now(), outcome).await?;
        }
        if !progressed {
            return Ok(sent);
        }
    }
}

/// Pending deliveries due at `now` to active endpoints, not held by a live claim, first in
/// their record's line.
async fn due_deliveries(db: &impl ConnectionTrait, now: OffsetDateTime) -> Result<Vec<webhook_delivery::Model>> {
    let earlier = Alias::new("earlier");
    let col = |c: webhook_delivery::Column| Expr::col((earlier.clone(), c));
    let this = |c: webhook_delivery::Column| Expr::col((webhook_delivery::Entity, c));
    let blocked = Query::select()
        .expr(Expr::val(1))
        .from_as(webhook_delivery::Entity, earlier.clone())
        .and_where(col(webhook_delivery::Column::WebhookId).equals((webhook_delivery::Entity, webhook_delivery::Column::WebhookId)))
        .and_where(col(webhook_delivery::Column::RecordType).equals((webhook_delivery::Entity, webhook_delivery::Column::RecordType)))
        .and_where(col(webhook_delivery::Column::RecordId).equals((webhook_delivery::Entity, webhook_delivery::Column::RecordId)))
        .and_where(col(webhook_delivery::Column::EventId).lt(this(webhook_delivery::Column::EventId)))
        .and_where(col(webhook_delivery::Column::Status).eq(PENDING))
        .to_owned();
    let active = webhook::Entity::find().select_only().column(webhook::Column::Id).filter(webhook::Column::Active.eq(true)).into_query();
    Ok(webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Status.eq(PENDING))
        .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
        .filter(webhook_delivery::Column::WebhookId.in_subquery(active))
        .filter(Condition::any().add(webhook_delivery::Column::LockedUntil.is_null()).add(webhook_delivery::Column::LockedUntil.lt(now)))
        .filter(Condition::all().not().add(Expr::exists(blocked)))
        .order_by_asc(webhook_delivery::Column::EventId)
        .limit(DELIVERY_BATCH)
        .all(db)
        .await?)
}

/// Takes the delivery for this server if nobody holds it (conditional UPDATE: one winner); the
/// row as claimed.
async fn claim(db: &impl ConnectionTrait, d: &webhook_delivery::Model, server_id: &str, now: OffsetDateTime) -> Result<Option<webhook_delivery::Model>> {
    let claimed = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::LockedUntil, Expr::value(now + CLAIM))
        .col_expr(webhook_delivery::Column::LockedBy, Expr::value(server_id.to_string()))
        .filter(webhook_delivery::Column::Id.eq(d.id))
        .filter(webhook_delivery::Column::Status.eq(PENDING))
        .filter(webhook_delivery::Column::Attempts.eq(d.attempts))
        .filter(Condition::any().add(webhook_delivery::Column::LockedUntil.is_null()).add(webhook_delivery::Column::LockedUntil.lt(now)))
        .exec(db)
        .await?;
    Ok((claimed.rows_affected == 1).then(|| webhook_delivery::Model { locked_by: Some(server_id.to_string()), ..d.clone() }))
}

/// What one attempt gave.
struct Outcome {
    delivered: bool,
    /// No point retrying (the event is no longer kept).
    give_up: bool,
    status: Option<i32>,
    latency_ms: Option<i32>,
    excerpt: Option<String>,
    error: Option<String>,
}

impl Outcome {
    fn failed(error: String) -> Self {
        Outcome { delivered: false, give_up: false, status: None, latency_ms: None, excerpt: None, error: Some(error) }
    }

    fn gone() -> Self {
        Outcome { give_up: true, ..Outcome::failed("the event is no longer kept".into()) }
    }
}

/// `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` — Stripe's scheme.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    #[allow(clippy::expect_used)] // HMAC takes keys of any length
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(format!("{t}.{body}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

async fn post(sender: &Sender<'_>, hook: &webhook::Model, e: &event::Model, clock: &Clock) -> Outcome {
    // Checked again at every delivery, and the connection goes to the very addresses checked:
    // a name re-pointed at an internal address (DNS rebinding) is not followed.
    let target = match check_url(&hook.url, sender.allow_private).await {
        Ok(t) => t,
        Err(err) => return Outcome::failed(format!("refused: {err}")),
    };
    let mut client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).redirect(reqwest::redirect::Policy::none());
    if let (Some(host), false) = (target.url.host_str(), target.addrs.is_empty()) {
        client = client.resolve_to_addrs(host, &target.addrs);
    }
    let client = match client.build() {
        Ok(c) => c,
        Err(_) => return Outcome::failed("could not prepare the request".into()),
    };
    let body = serde_json::json!({
        "id": e.id, "type": e.event_type, "record_type": e.entity_type, "record_id": e.entity_id,
        "created_at": e.created_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "data": e.payload,
    })
    .to_string();
    let started = Instant::now();
    let result = client
        .post(target.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-CRMConnect-Signature", signature(&hook.secret, clock.now().unix_timestamp(), &body))
        .header("X-CRMConnect-Event", &e.event_type)
        .header("X-CRMConnect-Delivery", e.id.to_string())
        .body(body)
        .send()
        .await;
    let latency_ms = Some(i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX));
    match result {
        Ok(mut res) => {
            let status = res.status();
            // At most a few KB of the answer are read: a receiver cannot fill the server's memory.
            let mut head = Vec::new();
            while let Ok(Some(chunk)) = res.chunk().await {
                head.extend_from_slice(&chunk);
                if head.len() >= EXCERPT_BYTES {
                    break;
                }
            }
            let excerpt: String = String::from_utf8_lossy(&head).chars().take(EXCERPT_CHARS).collect();
            Outcome {
                delivered: status.is_success(),
                give_up: false,
                status: Some(i32::from(status.as_u16())),
                latency_ms,
                excerpt: Some(excerpt),
                error: (!status.is_success()).then(|| format!("the endpoint answered {status}")),
            }
        }
        Err(err) => Outcome { latency_ms, ..Outcome::failed(format!("could not reach the endpoint: {}", without_url(&err))) },
    }
}

/// reqwest's error text names the URL; the log needs only what went wrong.
fn without_url(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "timed out".into()
    } else if err.is_connect() {
        "connection failed".into()
    } else {
        "request failed".into()
    }
}

/// Records an attempt — delivered, retried later (1, 2, 4 … minutes, at most an hour apart), or
/// given up 24 hours after the first attempt — only while this server still holds the claim
/// (a server whose claim ran out never overwrites another's result).
async fn finish(db: &impl ConnectionTrait, d: &webhook_delivery::Model, server_id: &str, now: OffsetDateTime, o: Outcome) -> Result<()> {
    let attempts = d.attempts + 1;
    let first = d.first_attempt_at.unwrap_or(now);
    let next = now + backoff(attempts);
    let status = if o.delivered {
        SUCCEEDED
    } else if o.give_up || next - first > RETRY_FOR {
        FAILED
    } else {
        PENDING
    };
    let update = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(attempts))
        .col_expr(webhook_delivery::Column::FirstAttemptAt, Expr::value(Some(first)))
        .col_expr(webhook_delivery::Column::LockedUntil, Expr::value(Option::<OffsetDateTime>::None))
        .col_expr(webhook_delivery::Column::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(webhook_delivery::Column::ResponseStatus, Expr::value(o.status))
        .col_expr(webhook_delivery::Column::LatencyMs, Expr::value(o.latency_ms))
        .col_expr(webhook_delivery::Column::ResponseExcerpt, Expr::value(o.excerpt))
        .col_expr(webhook_delivery::Column::LastError, Expr::value(o.error))
        .col_expr(webhook_delivery::Column::Status, Expr::value(status))
        .col_expr(webhook_delivery::Column::DeliveredAt, Expr::value(o.delivered.then_some(now)))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(if status == PENDING { next } else { d.next_attempt_at }))
        .filter(webhook_delivery::Column::Id.eq(d.id))
        .filter(webhook_delivery::Column::LockedBy.eq(server_id))
        .filter(webhook_delivery::Column::Attempts.eq(d.attempts))
        .filter(webhook_delivery::Column::Status.eq(PENDING));
    update.exec(db).await?;
    Ok(())
}

/// The wait after the `attempts`-th failure: one minute, doubling, at most one hour.
pub fn backoff(attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(6);
    Duration::minutes(1_i64 << exp).min(Duration::hours(1))
}

/// Puts a delivery back in the queue, due now (the redeliver button). Refused while a server is
/// sending it: that attempt's result would overwrite the new request.
pub async fn redeliver(db: &impl ConnectionTrait, d: webhook_delivery::Model, now: OffsetDateTime) -> Result<webhook_delivery::Model> {
    if d.locked_until.is_some_and(|until| until > now) {
        return Err(Error::refused(ErrorCode::InUse, "This delivery is being sent right now; try again in a moment."));
    }
    let mut row: webhook_delivery::ActiveModel = d.into();
    row.status = Set(PENDING.into());
    row.attempts = Set(0);
    row.first_attempt_at = Set(None);
    row.next_attempt_at = Set(now);
    row.locked_until = Set(None);
    row.locked_by = Set(None);
    Ok(row.update(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in
            ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1", "::ffff:10.0.0.1"]
        {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "93.184.216.34", "2606:4700::1111"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn retries_back_off_from_a_minute_to_an_hour() {
        assert_eq!([1, 2, 3, 7, 8, 30].map(backoff), [1, 2, 4, 60, 60, 60].map(Duration::minutes));
    }

    #[test]
    fn the_signature_is_stripes_scheme() {
        // HMAC-SHA256(key "key", message "1.{}"), computed with Python's hmac module.
        let sig = signature("key", 1, "{}");
        assert_eq!(sig, "t=1,v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224");
        assert_ne!(sig, signature("key", 2, "{}"));
        assert_ne!(sig, signature("other", 1, "{}"));
    }

    #[test]
    fn event_lists_name_known_record_types() {
        assert_eq!(check_events(&["lead.created".into(), " invoice.paid ".into()]).unwrap(), "lead.created,invoice.paid");
        assert_eq!(check_events(&["*".into()]).unwrap(), "*");
        assert!(check_events(&[]).is_err());
        assert!(check_events(&["staff.created".into()]).is_err());
        assert!(check_events(&["lead".into()]).is_err());
    }
}
