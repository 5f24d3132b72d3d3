//! Tasks: CRUD with the guide's statuses, the morning filters (due today / overdue / upcoming,
//! mine), "view own" = assigned or following, references checked, reminders exactly once.

use reqwest::StatusCode;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, Time};

use crate::helpers::{assert_problem, spawn_app, TestApp};

fn at(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

async fn task(app: &TestApp, token: &str, body: Value) -> Value {
    let (s, t) = app.post("/api/v1/tasks", Some(token), body).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    t
}

async fn listed(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let (s, page) = app.get(&format!("/api/v1/tasks{query}"), token).await;
    assert_eq!(s, StatusCode::OK, "{query}: {page}");
    page["items"].as_array().unwrap().iter().map(|t| t["title"].clone()).collect()
}

#[tokio::test]
async fn tasks_follow_the_guides_statuses_and_morning_filters() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let (_, lead) = app.post("/api/v1/leads", Some(&token), json!({"name": "Ana", "email": "ana@lead.example"})).await;
    let now = OffsetDateTime::now_utc();
    let end_of_today = now.replace_time(Time::from_hms(23, 59, 59).unwrap());

    let late = task(&app, &token, json!({"title": "Late", "due_at": at(now - Duration::days(2))})).await;
    assert_eq!((late["status"].as_str(), late["status_code"].as_i64(), late["priority"].as_str()), (Some("not_started"), Some(1), Some("medium")));
    assert_eq!(late["assignees"], json!([admin.id]), "assigned to the creator by default");
    assert_eq!(late["is_overdue"], true);
    let today =
        task(&app, &token, json!({"title": "Call Ana", "due_at": at(end_of_today), "related_type": "lead", "related_id": lead["id"], "priority": "high"}))
            .await;
    task(&app, &token, json!({"title": "Later", "due_at": at(now + Duration::days(3)), "status": "in_progress"})).await;

    assert_eq!(listed(&app, &token, "?due=overdue").await, [json!("Late")]);
    assert_eq!(listed(&app, &token, "?due=today&assigned=me").await, [json!("Call Ana")]);
    assert_eq!(listed(&app, &token, "?due=upcoming").await, [json!("Later")]);
    assert_eq!(listed(&app, &token, "?status=4").await, [json!("Later")]);
    assert_eq!(listed(&app, &token, &format!("?related_type=lead&related_id={}", lead["id"])).await, [json!("Call Ana")]);

    let (s, done) = app.post(&format!("/api/v1/tasks/{}/complete", today["id"]), Some(&token), json!({})).await;
    assert_eq!((s, done["status_code"].as_i64(), done["completed_at"].is_string()), (StatusCode::OK, Some(5), true));
    assert_eq!(listed(&app, &token, "?due=today").await, Vec::<Value>::new(), "a complete task is not due");
    let (_, reopened) = app.patch(&format!("/api/v1/tasks/{}", today["id"]), &token, json!({"status": "awaiting_feedback"})).await;
    assert_eq!((reopened["status_code"].as_i64(), &reopened["completed_at"]), (Some(2), &Value::Null));

    // Bad input says which field, and changes nothing.
    for (body, field) in [
        (json!({"description": "no title"}), "title"),
        (json!({"title": "x", "status": "done"}), "status"),
        (json!({"title": "x", "priority": "asap"}), "priority"),
        (json!({"title": "x", "related_type": "lead"}), "related_id"),
        (json!({"title": "x", "related_type": "staff", "related_id": 1}), "related_type"),
        (json!({"title": "x", "related_type": "lead", "related_id": 99_999}), "related_id"),
        (json!({"title": "x", "assignees": [99_999]}), "assignees"),
    ] {
        let (s, b) = app.post("/api/v1/tasks", Some(&token), body.clone()).await;
        assert_problem(s, &b, 422, "validation_failed");
        assert!(b["errors"].as_array().unwrap().iter().any(|e| e["field"] == field), "{body} → {b}");
    }
    assert_eq!(app.count("tasks").await, 3);
    let (s, b) = app.get("/api/v1/tasks?due=tomorrow", &token).await;
    assert_problem(s, &b, 400, "invalid_query");

    let (s, _) = app.delete(&format!("/api/v1/tasks/{}", late["id"]), &token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(app.count("task_assignees").await, 2);
}

#[tokio::test]
async fn view_own_means_assigned_or_following() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (agent, agent_token) = app.staff_with_token("agent@crm.test", "Sales Agent").await;
    let (other, _) = app.staff_with_token("other@crm.test", "Sales Agent").await;
    task(&app, &admin, json!({"title": "Assigned", "assignees": [agent.id]})).await;
    task(&app, &admin, json!({"title": "Following", "assignees": [other.id], "followers": [agent.id]})).await;
    let hidden = task(&app, &admin, json!({"title": "Not mine", "assignees": [other.id]})).await;

    let mut mine = listed(&app, &agent_token, "").await;
    mine.sort_by_key(|t| t.to_string());
    assert_eq!(mine, [json!("Assigned"), json!("Following")]);
    let (s, b) = app.get(&format!("/api/v1/tasks/{}", hidden["id"]), &agent_token).await;
    assert_problem(s, &b, 404, "not_found");
    let (s, b) = app.patch(&format!("/api/v1/tasks/{}", hidden["id"]), &agent_token, json!({"title": "Taken"})).await;
    assert_problem(s, &b, 404, "not_found");
    let (s, b) = app.delete(&format!("/api/v1/tasks/{}", hidden["id"]), &agent_token).await;
    assert_problem(s, &b, 403, "forbidden");

    // A task about a record the agent cannot see is refused like a missing one.
    let (_, invoice_client) = app.post("/api/v1/clients", Some(&admin), json!({"company": "Secret SRL"})).await;
    let (_, invoice) = app
        .post("/api/v1/invoices", Some(&admin), json!({"client_id": invoice_client["id"], "lines": [{"description": "Work", "qty": "1", "unit_price": "10"}]}))
        .await;
    let (s, b) = app.post("/api/v1/tasks", Some(&agent_token), json!({"title": "Peek", "related_type": "contract", "related_id": invoice["id"]})).await;
    assert_problem(s, &b, 422, "validation_failed");
    let (s, _) = app.post("/api/v1/tasks", Some(&agent_token), json!({"title": "Chase", "related_type": "invoice", "related_id": invoice["id"]})).await;
    assert_eq!(s, StatusCode::CREATED, "Sales Agents view every invoice");
}

#[tokio::test]
async fn a_due_reminder_reaches_the_assignees_exactly_once() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (agent, agent_token) = app.staff_with_token("agent@crm.test", "Sales Agent").await;
    let now = OffsetDateTime::now_utc();
    let t = task(&app, &admin, json!({"title": "Send the offer", "assignees": [agent.id], "reminder_at": at(now + Duration::hours(1))})).await;
    assert_eq!(app.job_runner("a").tick(now).await.unwrap().task_reminders, Some(0), "not before its time");
    let later = now + Duration::hours(2);
    let (first, second) = (app.job_runner("a"), app.job_runner("b"));
    let (a, b) = tokio::join!(first.tick(later), second.tick(later));
    assert_eq!(a.unwrap().task_reminders.unwrap_or(0) + b.unwrap().task_reminders.unwrap_or(0), 1);
    assert_eq!(app.job_runner("a").tick(later + Duration::hours(1)).await.unwrap().task_reminders, Some(0));
    let (_, notes) = app.get("/api/v1/notifications", &agent_token).await;
    let reminders: Vec<&Value> = notes["items"].as_array().unwrap().iter().filter(|n| n["kind"] == "task_reminder").collect();
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0]["link"], format!("/admin/tasks/{}", t["id"]));

    // A new reminder time is a new reminder.
    app.patch(&format!("/api/v1/tasks/{}", t["id"]), &admin, json!({"reminder_at": at(later + Duration::hours(2))})).await;
    assert_eq!(app.job_runner("a").tick(later + Duration::hours(3)).await.unwrap().task_reminders, Some(1));
}
