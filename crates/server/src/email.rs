//! Outgoing e-mail: editable templates with merge fields, a transactional outbox, and one
//! delivery loop per server that sends through SMTP (lettre) with retries and backoff.
//!
//! A send request only *queues*: the complete message is built and stored in `email_outbox`
//! in the same transaction as the change that caused it, so it is never lost. The delivery
//! loop claims a due row with a conditional UPDATE (a lease in `locked_until`); only the
//! server whose UPDATE matched sends it, so two servers never send the same message twice.
//! The one window left is a crash between the SMTP server accepting the message and the row
//! being marked sent; then the message is sent again after the lease, with the same
//! Message-ID, which receiving servers use to de-duplicate.

use std::sync::Arc;
use std::time::Duration;

use crmconnect_domain::api::SentEmail;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::entities::{email_outbox, email_template};
use crate::error::{Error, Result};

pub const QUEUED: &str = "queued";
pub const SENDING: &str = "sending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";
/// After this many failed attempts the message is marked `failed` (visible in the log).
pub const MAX_ATTEMPTS: i32 = 10;
/// How long a claimed message stays reserved for the server that claimed it.
const LEASE: Duration = Duration::from_secs(120);

/// The templates every database starts with: (slug, name, subject, body).
pub const DEFAULT_TEMPLATES: &[(&str, &str, &str, &str)] = &[PROPOSAL_SEND, INVOICE_SEND, INVOICE_OVERDUE_REMINDER];

const PROPOSAL_SEND: (&str, &str, &str, &str) = (
    "proposal_send",
    "Proposal sent to a client",
    "Proposal {{ proposal.number }} from {{ company.name }}",
    "Hello {{ recipient.name }},\n\n{% if message %}{{ message }}\n\n{% endif %}Please find our proposal {{ proposal.number }} ({{ proposal.subject }}) for {{ proposal.total }} {{ proposal.currency }}.\n\nYou can read it, leave comments and accept it online:\n{{ proposal.link }}\n{% if proposal.open_till %}\nThe offer is valid until {{ proposal.open_till }}.\n{% endif %}\nKind regards,\n{{ staff.name }}\n{{ company.name }}\n",
);

const INVOICE_OVERDUE_REMINDER: (&str, &str, &str, &str) = (
    "invoice_overdue_reminder",
    "Overdue invoice reminder",
    "Reminder: invoice {{ invoice.number }} is overdue",
    "Hello,\n\nOur records show that invoice {{ invoice.number }} of {{ invoice.total }} {{ invoice.currency }} was due on {{ invoice.due_date }} ({{ invoice.days_overdue }} days ago). The balance due is {{ invoice.balance_due }} {{ invoice.currency }}.\n\nYou can view and pay it here:\n{{ invoice.link }}\n\nIf you have already paid, please ignore this message.\n\nKind regards,\n{{ company.name }}\n",
);

const INVOICE_SEND: (&str, &str, &str, &str) = (
    "invoice_send",
    "Invoice sent to a client",
    "Invoice {{ invoice.number }} from {{ company.name }}",
    "Hello,\n\n{% if message %}{{ message }}\n\n{% endif %}Please find attached invoice {{ invoice.number }} for {{ invoice.total }} {{ invoice.currency }}{% if invoice.due_date %}, due on {{ invoice.due_date }}{% endif %}.\nBalance due: {{ invoice.balance_due }} {{ invoice.currency }}.\n\nView, download or pay it online:\n{{ invoice.link }}\n\nKind regards,\n{{ staff.name }}\n{{ company.name }}\n",
);

/// Merge fields available to a template, shown in the API.
pub fn merge_fields(slug: &str) -> Vec<String> {
    match slug {
        "proposal_send" => [
            "proposal.number",
            "proposal.subject",
            "proposal.total",
            "proposal.currency",
            "proposal.open_till",
            "proposal.link",
            "recipient.name",
            "recipient.email",
            "staff.name",
            "staff.email",
            "company.name",
            "message",
        ]
        .map(String::from)
        .to_vec(),
        "invoice_send" | "invoice_overdue_reminder" => [
            "invoice.number",
            "invoice.total",
            "invoice.balance_due",
            "invoice.currency",
            "invoice.due_date",
            "invoice.days_overdue",
            "invoice.link",
            "client.name",
            "staff.name",
            "staff.email",
            "company.name",
            "message",
        ]
        .map(String::from)
        .to_vec(),
        _ => Vec::new(),
    }
}

/// Checks a template's syntax (subject and body) before it is saved.
pub fn check_template(source: &str) -> Result<(), String> {
    let env = minijinja::Environment::new();
    env.template_from_str(source).map(|_| ()).map_err(|e| e.to_string())
}

pub fn render(source: &str, context: &serde_json::Value) -> Result<String> {
    let env = minijinja::Environment::new();
    env.render_str(source, minijinja::value::Serde(context))
        .map_err(|e| Error::field("template", "render_failed", format!("the e-mail template failed to render: {e}")))
}

pub async fn template(db: &impl ConnectionTrait, slug: &str) -> Result<email_template::Model> {
    email_template::Entity::find()
        .filter(email_template::Column::Slug.eq(slug))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found(&format!("e-mail template `{slug}`")))
}

/// An e-mail to queue.
pub struct Outgoing {
    pub related: Option<(&'static str, i32)>,
    pub from: String,
    pub from_name: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    pub text: String,
    pub attachment: Option<(String, Vec<u8>)>,
    pub created_by: Option<i32>,
}

fn mailbox(field: &str, name: Option<&str>, address: &str) -> Result<Mailbox> {
    let addr = address.parse().map_err(|_| Error::field(field, "invalid_email", format!("`{address}` is not a valid e-mail address")))?;
    Ok(Mailbox::new(name.map(str::to_string), addr))
}

/// Builds the message once and stores it as `queued`, in the caller's transaction.
pub async fn queue(db: &impl ConnectionTrait, out: Outgoing) -> Result<email_outbox::Model> {
    let mut builder = Message::builder().from(mailbox("from", Some(&out.from_name), &out.from)?).subject(out.subject.clone()).message_id(None).date_now();
    for to in &out.to {
        builder = builder.to(mailbox("to", None, to)?);
    }
    for cc in &out.cc {
        builder = builder.cc(mailbox("cc", None, cc)?);
    }
    let message = match &out.attachment {
        None => builder.header(ContentType::TEXT_PLAIN).body(out.text.clone()),
        Some((name, bytes)) => builder.multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(out.text.clone()))
                .singlepart(Attachment::new(name.clone()).body(bytes.clone(), ContentType::parse("application/pdf").map_err(Error::internal)?)),
        ),
    }
    .map_err(Error::internal)?;
    let now = OffsetDateTime::now_utc();
    let row = email_outbox::ActiveModel {
        related_type: Set(out.related.map(|(t, _)| t.to_string())),
        related_id: Set(out.related.map(|(_, id)| id)),
        from_address: Set(out.from),
        to_addresses: Set(serde_json::json!(out.to)),
        cc_addresses: Set(serde_json::json!(out.cc)),
        subject: Set(out.subject),
        message: Set(message.formatted()),
        has_attachment: Set(out.attachment.is_some()),
        status: Set(QUEUED.into()),
        attempts: Set(0),
        next_attempt_at: Set(Some(now)),
        locked_until: Set(None),
        last_error: Set(None),
        sent_at: Set(None),
        created_by: Set(out.created_by),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(email_outbox::Entity::insert(row).exec_with_returning(db).await?)
}

pub fn to_api(row: &email_outbox::Model) -> SentEmail {
    let list = |v: &serde_json::Value| serde_json::from_value::<Vec<String>>(v.clone()).unwrap_or_default();
    SentEmail {
        id: row.id,
        to: list(&row.to_addresses),
        cc: list(&row.cc_addresses),
        subject: row.subject.clone(),
        status: row.status.clone(),
        attempts: row.attempts,
        last_error: row.last_error.clone(),
        has_attachment: row.has_attachment,
        created_at: row.created_at,
        next_attempt_at: if row.status == QUEUED { row.next_attempt_at } else { None },
        sent_at: row.sent_at,
    }
}

/// Delivery settings, from `Settings`.
#[derive(Clone)]
pub struct Delivery {
    pub db: DatabaseConnection,
    pub smtp_url: Option<String>,
    pub poll: Duration,
    pub retry_base: Duration,
    pub wakeup: Arc<Notify>,
}

impl Delivery {
    /// Runs for the life of the server: wakes on `wakeup` (a request queued something) or
    /// every `poll`, and sends what is due.
    pub async fn run(self) {
        let transport = match self.smtp_url.as_deref().map(AsyncSmtpTransport::<Tokio1Executor>::from_url) {
            Some(Ok(builder)) => Some(builder.timeout(Some(Duration::from_secs(20))).build()),
            Some(Err(e)) => {
                tracing::error!(error = %e, "CRM_SMTP_URL is invalid; e-mails stay queued");
                None
            }
            None => {
                tracing::warn!("CRM_SMTP_URL is not set; e-mails stay queued until it is");
                None
            }
        };
        let Some(transport) = transport else { return };
        loop {
            if let Err(e) = self.deliver_due(&transport).await {
                tracing::warn!(error = %e, "e-mail delivery pass failed");
            }
            tokio::select! {
                _ = self.wakeup.notified() => {}
                _ = tokio::time::sleep(self.poll) => {}
            }
        }
    }

    /// Sends every due message this server manages to claim.
    pub async fn deliver_due(&self, transport: &AsyncSmtpTransport<Tokio1Executor>) -> anyhow::Result<()> {
        let now = OffsetDateTime::now_utc();
        let due = email_outbox::Entity::find()
            .select_only()
            .column(email_outbox::Column::Id)
            .filter(
                Condition::any()
                    .add(Condition::all().add(email_outbox::Column::Status.eq(QUEUED)).add(email_outbox::Column::NextAttemptAt.lte(now)))
                    // A server that died while sending: its lease ran out.
                    .add(Condition::all().add(email_outbox::Column::Status.eq(SENDING)).add(email_outbox::Column::LockedUntil.lt(now))),
            )
            .order_by_asc(email_outbox::Column::Id)
            .limit(50)
            .into_tuple::<i32>()
            .all(&self.db)
            .await?;
        for id in due {
            if let Some(row) = self.claim(id, now).await? {
                self.send_one(transport, row).await?;
            }
        }
        Ok(())
    }

    /// The conditional UPDATE that makes exactly one server the sender of a message.
    async fn claim(&self, id: i32, now: OffsetDateTime) -> anyhow::Result<Option<email_outbox::Model>> {
        let lease_end = now + LEASE;
        let claimed = email_outbox::Entity::update_many()
            .col_expr(email_outbox::Column::Status, Expr::value(SENDING))
            .col_expr(email_outbox::Column::LockedUntil, Expr::value(lease_end))
            .col_expr(email_outbox::Column::UpdatedAt, Expr::value(now))
            .filter(email_outbox::Column::Id.eq(id))
            .filter(
                Condition::any()
                    .add(Condition::all().add(email_outbox::Column::Status.eq(QUEUED)).add(email_outbox::Column::NextAttemptAt.lte(now)))
                    .add(Condition::all().add(email_outbox::Column::Status.eq(SENDING)).add(email_outbox::Column::LockedUntil.lt(now))),
            )
            .exec(&self.db)
            .await?;
        if claimed.rows_affected != 1 {
            return Ok(None);
        }
        Ok(email_outbox::Entity::find_by_id(id).one(&self.db).await?)
    }

    async fn send_one(&self, transport: &AsyncSmtpTransport<Tokio1Executor>, row: email_outbox::Model) -> anyhow::Result<()> {
        let list = |v: &serde_json::Value| serde_json::from_value::<Vec<String>>(v.clone()).unwrap_or_default();
        let recipients: Vec<lettre::Address> = list(&row.to_addresses).into_iter().chain(list(&row.cc_addresses)).filter_map(|a| a.parse().ok()).collect();
        let envelope = lettre::address::Envelope::new(row.from_address.parse().ok(), recipients)?;
        let attempts = row.attempts + 1;
        let result = transport.send_raw(&envelope, &row.message).await;
        let now = OffsetDateTime::now_utc();
        let mut update = email_outbox::Entity::update_many()
            .col_expr(email_outbox::Column::Attempts, Expr::value(attempts))
            .col_expr(email_outbox::Column::LockedUntil, Expr::value(Option::<OffsetDateTime>::None))
            .col_expr(email_outbox::Column::UpdatedAt, Expr::value(now))
            .filter(email_outbox::Column::Id.eq(row.id));
        match result {
            Ok(_) => {
                tracing::info!(email_id = row.id, "e-mail sent");
                update = update
                    .col_expr(email_outbox::Column::Status, Expr::value(SENT))
                    .col_expr(email_outbox::Column::SentAt, Expr::value(now))
                    .col_expr(email_outbox::Column::LastError, Expr::value(Option::<String>::None));
            }
            Err(e) => {
                let error = e.to_string();
                tracing::warn!(email_id = row.id, attempts, error = %error, "e-mail delivery failed; will retry");
                let status = if attempts >= MAX_ATTEMPTS { FAILED } else { QUEUED };
                update = update
                    .col_expr(email_outbox::Column::Status, Expr::value(status))
                    .col_expr(email_outbox::Column::NextAttemptAt, Expr::value(now + backoff(self.retry_base, attempts)))
                    .col_expr(email_outbox::Column::LastError, Expr::value(error.chars().take(1000).collect::<String>()));
            }
        }
        update.exec(&self.db).await?;
        Ok(())
    }
}

/// base × 2^(attempts−1), at most one hour.
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let factor = 2u32.saturating_pow((attempts.max(1) - 1) as u32);
    base.saturating_mul(factor).min(Duration::from_secs(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(base, 1), Duration::from_secs(30));
        assert_eq!(backoff(base, 3), Duration::from_secs(120));
        assert_eq!(backoff(base, 30), Duration::from_secs(3600));
    }

    #[test]
    fn default_templates_parse_and_render_their_merge_fields() {
        for (slug, _, subject, body) in DEFAULT_TEMPLATES {
            check_template(subject).unwrap();
            check_template(body).unwrap();
            assert!(!merge_fields(slug).is_empty());
        }
        let ctx = serde_json::json!({"proposal": {"number": "PRO-000001", "subject": "S", "total": "10.00", "currency": "RON", "link": "http://x/p/t", "open_till": null},
            "recipient": {"name": "Ana"}, "staff": {"name": "Bob"}, "company": {"name": "ACME"}, "message": ""});
        let text = render(DEFAULT_TEMPLATES[0].3, &ctx).unwrap();
        assert!(text.contains("Hello Ana") && text.contains("http://x/p/t") && !text.contains("valid until"), "{text}");
        assert!(check_template("{% if %}").is_err());
    }
}
