//! The job runner: recurring invoices exactly once per cycle with two schedulers, catch-up
//! after downtime, job leases, overdue reminders and proposal expiry notices.

use crmconnect::scheduler::{Scheduler, TickReport};
use reqwest::StatusCode;
use serde_json::{json, Value};
use time::macros::datetime;
use time::OffsetDateTime;

use crate::helpers::{spawn_app, TestApp};

async fn scheduler(app: &TestApp, id: &str) -> Scheduler {
    // Its own connection pool, as a second server would have.
    Scheduler { db: crmconnect::db::connect(&app.database_url).await.unwrap(), ..app.job_runner(id) }
}

async fn client(app: &TestApp, token: &str) -> Value {
    let (_, c) = app.post("/api/v1/clients", Some(token), json!({"company": "Subscriber SRL", "payment_terms_days": 10})).await;
    app.post(&format!("/api/v1/clients/{}/contacts", c["id"]), Some(token), json!({"name": "Sub", "email": "billing@subscriber.example"})).await;
    c
}

async fn schedule(app: &TestApp, token: &str, client_id: &Value, extra: Value) -> Value {
    let mut body = json!({"client_id": client_id, "frequency": "monthly", "start_date": "2026-01-15", "mode": "issue",
        "lines": [{"description": "Support plan", "qty": "1", "unit_price": "450"}]});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let (s, r) = app.post("/api/v1/recurring-invoices", Some(token), body).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    r
}

fn at(month: u8, day: u8) -> OffsetDateTime {
    datetime!(2026-01-01 09:00 UTC).replace_month(time::Month::try_from(month).unwrap()).unwrap().replace_day(day).unwrap()
}

#[tokio::test]
async fn a_monthly_schedule_makes_exactly_one_invoice_per_month_with_two_schedulers() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let c = client(&app, &token).await;
    let r = schedule(&app, &token, &c["id"], json!({})).await;
    assert_eq!(r["next_date"], "2026-01-15");
    let (a, b) = (scheduler(&app, "server-a").await, scheduler(&app, "server-b").await);
    for month in 1..=12u8 {
        let now = at(month, 16);
        let (ra, rb) = tokio::join!(a.tick(now), b.tick(now));
        let (ra, rb): (TickReport, TickReport) = (ra.unwrap(), rb.unwrap());
        let made = ra.recurring_invoices.unwrap_or(0) + rb.recurring_invoices.unwrap_or(0);
        assert_eq!(made, 1, "month {month}: {ra:?} {rb:?}");
    }
    let (_, history) = app.get(&format!("/api/v1/recurring-invoices/{}/invoices", r["id"]), &token).await;
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 12);
    let mut dates: Vec<String> = items.iter().map(|i| i["date"].as_str().unwrap().to_string()).collect();
    dates.sort();
    assert_eq!(dates, (1..=12).map(|m| format!("2026-{m:02}-15")).collect::<Vec<_>>());
    let mut numbers: Vec<String> = items.iter().map(|i| i["number"].as_str().expect("issued").to_string()).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 12, "issued with distinct numbers");
    assert!(items.iter().all(|i| i["total"] == "450.00" && i["due_date"].as_str().unwrap().ends_with("-25")));
    let (_, r) = app.get(&format!("/api/v1/recurring-invoices/{}", r["id"]), &token).await;
    assert_eq!((r["generated"].as_i64(), r["next_date"].as_str()), (Some(12), Some("2027-01-15")));
    // Running again the same day changes nothing.
    let again = a.tick(at(12, 16)).await.unwrap();
    assert_eq!(again.recurring_invoices, Some(0));
}

#[tokio::test]
async fn a_server_that_was_down_catches_up_one_invoice_per_missed_cycle() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let c = client(&app, &token).await;
    let r = schedule(&app, &token, &c["id"], json!({"start_date": "2026-01-01", "cycles": 4, "mode": "draft"})).await;
    let s = scheduler(&app, "late-server").await;
    let report = s.tick(at(6, 10)).await.unwrap();
    assert_eq!(report.recurring_invoices, Some(4), "January to April, then the 4 cycles are done");
    assert_eq!(s.tick(at(7, 10)).await.unwrap().recurring_invoices, Some(0));
    let (_, r) = app.get(&format!("/api/v1/recurring-invoices/{}", r["id"]), &token).await;
    assert_eq!((r["generated"].as_i64(), r["next_date"].clone()), (Some(4), Value::Null));
    let (_, drafts) = app.get("/api/v1/invoices?status=draft", &token).await;
    assert_eq!(drafts["items"].as_array().unwrap().len(), 4);
    // A schedule that issues and e-mails: the invoice is numbered and its e-mail queued.
    let sending = schedule(&app, &token, &c["id"], json!({"start_date": "2026-06-01", "cycles": 1, "mode": "issue_and_send"})).await;
    assert_eq!(s.tick(at(7, 11)).await.unwrap().recurring_invoices, Some(1));
    let (_, made) = app.get(&format!("/api/v1/recurring-invoices/{}/invoices", sending["id"]), &token).await;
    let invoice = &made["items"][0];
    assert!(invoice["number"].is_string() && invoice["sent_at"].is_string(), "{invoice}");
    let (_, emails) = app.get(&format!("/api/v1/invoices/{}/emails", invoice["id"]), &token).await;
    assert_eq!(emails["items"][0]["to"], json!(["billing@subscriber.example"]));
    // The list shows each schedule with its own progress (computed for all rows at once).
    let (_, list) = app.get("/api/v1/recurring-invoices", &token).await;
    let progress: Vec<_> = list["items"].as_array().unwrap().iter().map(|s| (s["id"].clone(), s["generated"].clone(), s["client_name"].clone())).collect();
    assert_eq!(progress, [(r["id"].clone(), json!(4), c["company"].clone()), (sending["id"].clone(), json!(1), c["company"].clone())]);
    let (s, b) = app.post("/api/v1/recurring-invoices", Some(&token), json!({"client_id": c["id"], "frequency": "weeks", "interval": 60, "lines": []})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
}

#[tokio::test]
async fn a_job_leased_by_another_server_is_left_alone_until_its_lease_ends() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let c = client(&app, &token).await;
    schedule(&app, &token, &c["id"], json!({})).await;
    let s = scheduler(&app, "me").await;
    s.tick(at(1, 1)).await.unwrap();
    use sea_orm::ConnectionTrait;
    let backend = app.state.db.get_database_backend();
    let future = OffsetDateTime::now_utc() + time::Duration::days(400);
    let set = |until: OffsetDateTime| {
        let sql = match backend {
            sea_orm::DatabaseBackend::Postgres => "UPDATE jobs SET locked_by = 'crashed', locked_until = $1",
            _ => "UPDATE jobs SET locked_by = 'crashed', locked_until = ?",
        };
        sea_orm::Statement::from_sql_and_values(backend, sql, [until.into()])
    };
    app.state.db.execute(set(future)).await.unwrap();
    let report = s.tick(at(2, 1)).await.unwrap();
    assert_eq!(report, TickReport::default(), "every job is leased elsewhere");
    app.state.db.execute(set(datetime!(2020-01-01 0:00 UTC))).await.unwrap();
    let report = s.tick(at(2, 1)).await.unwrap();
    assert_eq!(report.recurring_invoices, Some(1), "the expired lease is taken over and the January invoice made");
}

#[tokio::test]
async fn overdue_reminders_go_out_after_n_days_then_every_m_days_until_paid() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    app.patch("/api/v1/billing/config", &token, json!({"overdue_reminder_after_days": 3, "overdue_reminder_every_days": 7})).await;
    let c = client(&app, &token).await;
    let (_, inv) = app
        .post(
            "/api/v1/invoices",
            Some(&token),
            json!({"client_id": c["id"], "date": "2026-01-05", "due_date": "2026-01-20", "lines": [{"description": "X", "qty": "1", "unit_price": "100"}]}),
        )
        .await;
    app.post(&format!("/api/v1/invoices/{}/issue", inv["id"]), Some(&token), json!({})).await;
    let s = scheduler(&app, "reminders").await;
    let sent = |report: TickReport| report.overdue_reminders.unwrap();
    let first = s.tick(at(1, 22)).await.unwrap();
    assert_eq!((first.overdue_reminders, first.overdue_events), (Some(0), Some(1)), "2 days late: the event once, no e-mail yet");
    assert_eq!(s.tick(at(1, 22)).await.unwrap().overdue_events, Some(0));
    assert_eq!(app.count("events WHERE event_type = 'invoice.overdue'").await, 1);
    assert_eq!(sent(s.tick(at(1, 23)).await.unwrap()), 1, "3 days late: first reminder");
    assert_eq!(sent(s.tick(at(1, 23)).await.unwrap()), 0, "once a day at most");
    assert_eq!(sent(s.tick(at(1, 29)).await.unwrap()), 0);
    assert_eq!(sent(s.tick(at(1, 30)).await.unwrap()), 1, "7 days later: again");
    let (_, emails) = app.get(&format!("/api/v1/invoices/{}/emails", inv["id"]), &token).await;
    let subjects: Vec<_> = emails["items"].as_array().unwrap().iter().map(|e| e["subject"].as_str().unwrap().to_string()).collect();
    assert_eq!(subjects.len(), 2);
    assert!(subjects.iter().all(|s| s.starts_with("Reminder: invoice INV-000001")), "{subjects:?}");
    assert_eq!(emails["items"][0]["to"], json!(["billing@subscriber.example"]));
    app.post(&format!("/api/v1/invoices/{}/payments", inv["id"]), Some(&token), json!({"amount": "100"})).await;
    assert_eq!(sent(s.tick(at(2, 20)).await.unwrap()), 0, "paid: no more reminders");
}

#[tokio::test]
async fn staff_hear_once_that_an_unanswered_proposal_is_about_to_expire() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (_, lead) = app.post("/api/v1/leads", Some(&token), json!({"name": "Soon", "email": "soon@example.com"})).await;
    let tomorrow = (OffsetDateTime::now_utc() + time::Duration::days(1)).date();
    let (_, p) = app.post("/api/v1/proposals", Some(&token), json!({"subject": "Soon", "lead_id": lead["id"], "open_till": tomorrow.to_string()})).await;
    app.post(&format!("/api/v1/proposals/{}/status", p["id"]), Some(&token), json!({"status": 7})).await;
    let s = scheduler(&app, "expiry").await;
    let now = OffsetDateTime::now_utc();
    assert_eq!(s.tick(now).await.unwrap().proposal_expiry, Some(1));
    assert_eq!(s.tick(now).await.unwrap().proposal_expiry, Some(0));
    let (_, notes) = app.get("/api/v1/notifications", &token).await;
    assert_eq!(notes["items"][0]["kind"], "proposal_expiring");
}
