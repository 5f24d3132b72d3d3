//! The background job runner inside every server, coordinated through the database.
//!
//! Each job has a row in `jobs`; a server runs a job only after winning a lease with a
//! conditional UPDATE (`locked_until` in the past), so two servers never run the same job at
//! the same time — on PostgreSQL and on SQLite alike. Jobs are idempotent besides: what they
//! produce carries a unique key (one invoice per schedule and cycle, one reminder per invoice
//! and day), so a job that dies half-way, a lease that expires during a slow run, or servers
//! with skewed clocks never produce duplicates; the next run resumes where it stopped.
//! E-mail delivery is the outbox loop in `email.rs`, claimed per message the same way.

use std::time::Duration;

use crmconnect_domain::invoices::{self as invoice_rules};
use crmconnect_domain::proposals::ProposalStatus;
use crmconnect_domain::recurring::{self, Frequency};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use time::{Date, OffsetDateTime};

use crate::audit::Actor;
use crate::documents::currency_of;
use crate::documents::{self};
use crate::entities::{client, invoice, job, proposal, recurring_invoice, reminder_sent};
use crate::error::{Error, Result};
use crate::notifications::{self, Notice};
use crate::ops::invoices::{self, InvoiceMail};
use crate::ops::webhooks;
use crate::{db, outbox};

pub const RECURRING: &str = "recurring_invoices";
pub const OVERDUE_REMINDERS: &str = "overdue_reminders";
pub const PROPOSAL_EXPIRY: &str = "proposal_expiry";
pub const CONTRACT_EXPIRY: &str = "contract_expiry";
pub const OVERDUE_EVENTS: &str = "overdue_events";
pub const EVENTS_RETENTION: &str = "events_retention";
pub const WEBHOOKS: &str = "webhooks";
pub const TASK_REMINDERS: &str = "task_reminders";
pub const COMMISSIONS_AVAILABLE: &str = "commissions_available";
pub const GOAL_NOTIFICATIONS: &str = "goal_notifications";
// Webhooks last: they deliver the events the other jobs have just written.
const JOBS: [&str; 10] = [
    RECURRING,
    OVERDUE_EVENTS,
    OVERDUE_REMINDERS,
    PROPOSAL_EXPIRY,
    CONTRACT_EXPIRY,
    TASK_REMINDERS,
    COMMISSIONS_AVAILABLE,
    GOAL_NOTIFICATIONS,
    EVENTS_RETENTION,
    WEBHOOKS,
];
/// How long a claimed job is reserved for the server running it.
const LEASE: Duration = Duration::from_secs(10 * 60);

pub const RECURRING_LINES: &str = "recurring_invoice";

pub struct Scheduler {
    pub db: DatabaseConnection,
    /// Identifies this server in `jobs.locked_by`.
    pub id: String,
    pub public_url: String,
    pub wakeup: std::sync::Arc<tokio::sync::Notify>,
    /// How long the events feed keeps an event.
    pub events_retention: time::Duration,
    /// Webhooks may target loopback and private addresses (`CRM_WEBHOOK_ALLOW_PRIVATE`).
    pub webhook_allow_private: bool,
}

/// What one pass did, per job (`None` = another server held the job).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TickReport {
    pub recurring_invoices: Option<usize>,
    pub overdue_reminders: Option<usize>,
    pub proposal_expiry: Option<usize>,
    pub contract_expiry: Option<usize>,
    pub overdue_events: Option<usize>,
    pub events_pruned: Option<usize>,
    /// Webhook POSTs made (first tries and retries).
    pub webhooks_sent: Option<usize>,
    /// Tasks whose reminder went out.
    pub task_reminders: Option<usize>,
    /// Commissions whose earner was told they are now visible.
    pub commissions_announced: Option<usize>,
    /// Goals whose "achieved" or "missed" notification went out.
    pub goal_notifications: Option<usize>,
}

impl Scheduler {
    /// Runs for the life of the server.
    pub async fn run(self, every: Duration) {
        loop {
            if let Err(e) = self.tick(OffsetDateTime::now_utc()).await {
                tracing::warn!(error = %e, "scheduler pass failed");
            }
            tokio::time::sleep(every).await;
        }
    }

    /// One pass: every job this server can lease, as of `now`.
    pub async fn tick(&self, now: OffsetDateTime) -> Result<TickReport> {
        let mut report = TickReport::default();
        for name in JOBS {
            if !self.acquire(name, now).await? {
                continue;
            }
            let today = now.date();
            let result = match name {
                RECURRING => generate_recurring(&self.db, &self.public_url, today).await,
                OVERDUE_REMINDERS => overdue_reminders(&self.db, &self.public_url, today).await,
                PROPOSAL_EXPIRY => proposal_expiry(&self.db, today).await,
                OVERDUE_EVENTS => overdue_events(&self.db, today).await,
                EVENTS_RETENTION => crate::ops::events::prune(&self.db, now - self.events_retention).await.map(|n| n as usize),
                WEBHOOKS => self.webhooks(now).await,
                TASK_REMINDERS => crate::ops::tasks::send_reminders(&self.db, now).await,
                COMMISSIONS_AVAILABLE => crate::ops::commissions::announce_available(&self.db, now).await,
                GOAL_NOTIFICATIONS => crate::ops::goals::notify_due(&self.db, now).await,
                _ => contract_expiry(&self.db, today).await,
            };
            self.release(name, now, result.as_ref().err()).await?;
            let done = result?;
            match name {
                RECURRING => report.recurring_invoices = Some(done),
                OVERDUE_REMINDERS => report.overdue_reminders = Some(done),
                PROPOSAL_EXPIRY => report.proposal_expiry = Some(done),
                OVERDUE_EVENTS => report.overdue_events = Some(done),
                EVENTS_RETENTION => report.events_pruned = Some(done),
                WEBHOOKS => report.webhooks_sent = Some(done),
                TASK_REMINDERS => report.task_reminders = Some(done),
                COMMISSIONS_AVAILABLE => report.commissions_announced = Some(done),
                GOAL_NOTIFICATIONS => report.goal_notifications = Some(done),
                _ => report.contract_expiry = Some(done),
            }
        }
        if report.overdue_reminders.is_some_and(|n| n > 0) || report.recurring_invoices.is_some_and(|n| n > 0) {
            self.wakeup.notify_one();
        }
        Ok(report)
    }

    /// Queues new events for their endpoints, then sends what is due.
    async fn webhooks(&self, now: OffsetDateTime) -> Result<usize> {
        webhooks::fan_out(&self.db).await?;
        let sender = webhooks::Sender { server_id: &self.id, allow_private: self.webhook_allow_private };
        webhooks::deliver_due(&self.db, &sender, now).await
    }

    async fn acquire(&self, name: &str, now: OffsetDateTime) -> Result<bool> {
        job::Entity::insert(job::ActiveModel {
            name: Set(name.into()),
            locked_by: Set(None),
            locked_until: Set(None),
            last_run_at: Set(None),
            last_error: Set(None),
        })
        .on_conflict(OnConflict::column(job::Column::Name).do_nothing().to_owned())
        .do_nothing()
        .exec(&self.db)
        .await?;
        let claimed = job::Entity::update_many()
            .col_expr(job::Column::LockedBy, Expr::value(self.id.clone()))
            .col_expr(job::Column::LockedUntil, Expr::value(now + LEASE))
            .filter(job::Column::Name.eq(name))
            .filter(sea_orm::Condition::any().add(job::Column::LockedUntil.is_null()).add(job::Column::LockedUntil.lt(now)))
            .exec(&self.db)
            .await?;
        Ok(claimed.rows_affected == 1)
    }

    async fn release(&self, name: &str, now: OffsetDateTime, error: Option<&Error>) -> Result<()> {
        job::Entity::update_many()
            .col_expr(job::Column::LockedBy, Expr::value(Option::<String>::None))
            .col_expr(job::Column::LockedUntil, Expr::value(Option::<OffsetDateTime>::None))
            .col_expr(job::Column::LastRunAt, Expr::value(now))
            .col_expr(job::Column::LastError, Expr::value(error.map(|e| e.to_string())))
            .filter(job::Column::Name.eq(name))
            .filter(job::Column::LockedBy.eq(self.id.clone()))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

fn system() -> Actor {
    Actor::system()
}

/// Generates every due cycle of every active schedule, one transaction per invoice.
pub async fn generate_recurring(db: &DatabaseConnection, public_url: &str, today: Date) -> Result<usize> {
    let schedules =
        recurring_invoice::Entity::find().filter(recurring_invoice::Column::Active.eq(true)).order_by_asc(recurring_invoice::Column::Id).all(db).await?;
    let mut made = 0;
    for s in schedules {
        let Some(frequency) = Frequency::parse(&s.frequency) else { continue };
        let next = next_cycle(db, s.id).await?;
        for cycle in recurring::due_cycles(s.start_date, frequency, s.interval, s.cycles, next, today) {
            if generate_cycle(db, public_url, &s, frequency, cycle).await? {
                made += 1;
            }
        }
    }
    Ok(made)
}

/// The first cycle of a schedule with no invoice yet.
pub async fn next_cycle(db: &impl ConnectionTrait, schedule_id: i32) -> Result<i32> {
    Ok(next_cycles(db, &[schedule_id]).await?.get(&schedule_id).copied().unwrap_or(0))
}

/// [`next_cycle`] of many schedules in one query; schedules without invoices are absent (0).
pub async fn next_cycles(db: &impl ConnectionTrait, schedule_ids: &[i32]) -> Result<std::collections::HashMap<i32, i32>> {
    let rows: Vec<(Option<i32>, Option<i32>)> = invoice::Entity::find()
        .select_only()
        .column(invoice::Column::RecurringId)
        .column_as(invoice::Column::RecurringCycle.max(), "last")
        .filter(invoice::Column::RecurringId.is_in(schedule_ids.iter().copied()))
        .group_by(invoice::Column::RecurringId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|(id, last)| Some((id?, last? + 1))).collect())
}

/// Creates the invoice of one cycle unless it exists. `false` when another run made it.
async fn generate_cycle(db: &DatabaseConnection, public_url: &str, s: &recurring_invoice::Model, frequency: Frequency, cycle: i32) -> Result<bool> {
    let exists = || async {
        Ok::<bool, Error>(
            invoice::Entity::find().filter(invoice::Column::RecurringId.eq(s.id)).filter(invoice::Column::RecurringCycle.eq(cycle)).one(db).await?.is_some(),
        )
    };
    if exists().await? {
        return Ok(false);
    }
    let txn = db::begin_write(db).await?;
    let result = create_cycle_invoice(&txn, public_url, s, frequency, cycle).await;
    match result {
        Ok(()) => {
            txn.commit().await?;
            Ok(true)
        }
        Err(e) => {
            txn.rollback().await?;
            // The unique (schedule, cycle) index refused it: another server was first.
            if exists().await? {
                Ok(false)
            } else {
                Err(e)
            }
        }
    }
}

async fn create_cycle_invoice(txn: &impl ConnectionTrait, public_url: &str, s: &recurring_invoice::Model, frequency: Frequency, cycle: i32) -> Result<()> {
    let c = client::Entity::find_by_id(s.client_id).one(txn).await?.ok_or_else(|| Error::not_found("client"))?;
    let currency = currency_of(&s.currency);
    let lines = documents::stored_lines(txn, RECURRING_LINES, s.id).await?;
    let draft = invoices::DraftInvoice {
        client: &c,
        currency,
        date: recurring::cycle_date(s.start_date, frequency, s.interval, cycle),
        due_date: None,
        lines: &lines,
        discount: None,
        terms: s.terms.clone(),
        client_note: s.client_note.clone(),
        sale_agent: s.sale_agent,
        proposal_id: None,
        sales_order_id: None,
        recurring: Some((s.id, cycle)),
        created_by: s.created_by,
    };
    let saved = invoices::insert_draft(txn, draft).await?;
    let mut change = crate::audit::Change::new("invoice.generated", "invoice", saved.id);
    change.after = Some(json!({"recurring_id": s.id, "cycle": cycle}));
    crate::audit::record(txn, &system(), change).await?;
    outbox::emit(txn, "invoice.generated", "invoice", saved.id, json!({"invoice_id": saved.id, "recurring_id": s.id, "cycle": cycle})).await?;
    match s.mode.as_str() {
        "issue" => {
            invoices::issue_in(txn, &system(), &saved).await?;
        }
        "issue_and_send" => {
            let issued = invoices::issue_in(txn, &system(), &saved).await?;
            if let Some(to) = invoices::client_email(txn, s.client_id).await? {
                let mail = InvoiceMail {
                    template: "invoice_send",
                    to: vec![to],
                    cc: Vec::new(),
                    subject: None,
                    message: String::new(),
                    staff_name: String::new(),
                    staff_email: String::new(),
                };
                invoices::send_in(txn, &system(), public_url, issued, mail).await?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Emits `invoice_overdue` once per invoice on the first run after its due date passes with a
/// balance (for workflow automation); the status itself is computed on every read.
pub async fn overdue_events(db: &DatabaseConnection, today: Date) -> Result<usize> {
    let late = invoice::Entity::find()
        .filter(invoice::Column::StatusCode.eq(1))
        .filter(invoice::Column::DueDate.lt(today))
        .filter(Expr::col(invoice::Column::PaidMinor).lt(Expr::col(invoice::Column::TotalMinor)))
        .all(db)
        .await?;
    let mut emitted = 0;
    for inv in late {
        let Some(due) = inv.due_date else { continue };
        let txn = db::begin_write(db).await?;
        if mark_once(&txn, "invoice_overdue", inv.id, due).await? {
            let days = (today - due).whole_days();
            outbox::emit(&txn, "invoice.overdue", "invoice", inv.id, json!({"invoice_id": inv.id, "client_id": inv.client_id, "days_overdue": days})).await?;
            emitted += 1;
        }
        txn.commit().await?;
    }
    Ok(emitted)
}

/// E-mails clients of invoices with a balance past their due date: first after
/// `overdue_reminder_after_days`, then every `overdue_reminder_every_days`.
pub async fn overdue_reminders(db: &DatabaseConnection, public_url: &str, today: Date) -> Result<usize> {
    let config = invoices::billing_config(db).await?;
    let first_due = today - time::Duration::days(i64::from(config.overdue_reminder_after_days));
    let candidates = invoice::Entity::find()
        .filter(invoice::Column::StatusCode.eq(1))
        .filter(invoice::Column::DueDate.lte(first_due))
        .filter(Expr::col(invoice::Column::PaidMinor).lt(Expr::col(invoice::Column::TotalMinor)))
        .order_by_asc(invoice::Column::Id)
        .all(db)
        .await?;
    let mut sent = 0;
    for inv in candidates {
        if invoice_rules::days_overdue(invoices::status_inputs(&inv, today)).is_none() {
            continue;
        }
        let last: Option<Date> = reminder_sent::Entity::find()
            .filter(reminder_sent::Column::Kind.eq("overdue_invoice"))
            .filter(reminder_sent::Column::EntityId.eq(inv.id))
            .order_by_desc(reminder_sent::Column::SentOn)
            .one(db)
            .await?
            .map(|r| r.sent_on);
        let due_again = match last {
            None => true,
            Some(_) if config.overdue_reminder_every_days == 0 => false,
            Some(d) => d + time::Duration::days(i64::from(config.overdue_reminder_every_days)) <= today,
        };
        if !due_again {
            continue;
        }
        let Some(to) = invoices::client_email(db, inv.client_id).await? else { continue };
        let txn = db::begin_write(db).await?;
        // The unique (kind, invoice, day) row makes a second server's attempt a no-op.
        if mark_once(&txn, "overdue_invoice", inv.id, today).await? {
            let mail = InvoiceMail {
                template: "invoice_overdue_reminder",
                to: vec![to],
                cc: Vec::new(),
                subject: None,
                message: String::new(),
                staff_name: String::new(),
                staff_email: String::new(),
            };
            invoices::send_in(&txn, &system(), public_url, inv, mail).await?;
            sent += 1;
        }
        txn.commit().await?;
    }
    Ok(sent)
}

/// Inserts the once-only marker of a reminder; `false` when it already existed.
async fn mark_once(db: &impl ConnectionTrait, kind: &str, entity_id: i32, on: Date) -> Result<bool> {
    let marked = reminder_sent::Entity::insert(reminder_sent::ActiveModel {
        kind: Set(kind.into()),
        entity_id: Set(entity_id),
        sent_on: Set(on),
        created_at: Set(OffsetDateTime::now_utc()),
        ..Default::default()
    })
    .on_conflict(OnConflict::columns([reminder_sent::Column::Kind, reminder_sent::Column::EntityId, reminder_sent::Column::SentOn]).do_nothing().to_owned())
    .do_nothing()
    .exec(db)
    .await?;
    Ok(matches!(marked, sea_orm::TryInsertResult::Inserted(_)))
}

/// Contracts ending within 30 days: their owner (the client's account manager, else the
/// author) is told once, and `contract_expiring` is emitted for automation (renewal task).
pub async fn contract_expiry(db: &DatabaseConnection, today: Date) -> Result<usize> {
    let mut told = 0;
    for c in crate::ops::contracts::ending_within(db, today, 30).await? {
        let Some(end) = c.end_date else { continue };
        let owner = client::Entity::find_by_id(c.client_id).one(db).await?.and_then(|x| x.assigned_to).or(c.created_by);
        let txn = db::begin_write(db).await?;
        if mark_once(&txn, "contract_expiry", c.id, end).await? {
            if let Some(staff_id) = owner {
                let notice = Notice {
                    kind: "contract_expiring",
                    title: format!("“{}” ends on {end}", c.subject),
                    body: "Plan the renewal with the client.".into(),
                    link: Some(format!("/admin/contracts/{}", c.id)),
                    entity: Some(("contract", c.id)),
                };
                notifications::notify(&txn, staff_id, notice).await?;
            }
            outbox::emit(&txn, "contract.expiring", "contract", c.id, json!({"contract_id": c.id, "end_date": end.to_string()})).await?;
            told += 1;
        }
        txn.commit().await?;
    }
    Ok(told)
}

/// Tells the assigned staff member, once, that an unanswered proposal expires within 2 days.
pub async fn proposal_expiry(db: &DatabaseConnection, today: Date) -> Result<usize> {
    let waiting = [ProposalStatus::Sent.code(), ProposalStatus::Viewed.code(), ProposalStatus::SentManually.code()];
    let soon = proposal::Entity::find()
        .filter(proposal::Column::StatusCode.is_in(waiting))
        .filter(proposal::Column::OpenTill.gte(today))
        .filter(proposal::Column::OpenTill.lte(today + time::Duration::days(2)))
        .all(db)
        .await?;
    let mut told = 0;
    for p in soon {
        let (Some(staff_id), Some(open_till)) = (p.assigned_to.or(p.created_by), p.open_till) else { continue };
        let txn = db::begin_write(db).await?;
        if mark_once(&txn, "proposal_expiry", p.id, open_till).await? {
            let notice = Notice {
                kind: "proposal_expiring",
                title: format!("{} expires on {open_till}", p.number),
                body: format!("“{}” has not been answered yet; follow up or extend it.", p.subject),
                link: Some(format!("/admin/proposals/{}", p.id)),
                entity: Some(("proposal", p.id)),
            };
            notifications::notify(&txn, staff_id, notice).await?;
            outbox::emit(&txn, "proposal.expiring", "proposal", p.id, json!({"proposal_id": p.id, "open_till": open_till.to_string()})).await?;
            told += 1;
        }
        txn.commit().await?;
    }
    Ok(told)
}
