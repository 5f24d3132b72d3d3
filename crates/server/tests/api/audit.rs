use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, spawn_app, PASSWORD};

#[tokio::test]
async fn changes_are_recorded_with_actor_and_before_after() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let sdr = app.role_id("SDR").await;
    let (_, created) = app.post("/api/v1/staff", Some(&token), json!({"name": "Dan", "email": "dan@test.example", "password": PASSWORD, "role_id": sdr})).await;
    let id = created["id"].as_i64().unwrap();
    app.patch(&format!("/api/v1/staff/{id}"), &token, json!({"name": "Dan Pop"})).await;

    let (s, log) = app.get(&format!("/api/v1/audit-log?entity_type=staff&entity_id={id}"), &token).await;
    assert_eq!(s, StatusCode::OK);
    let items = log["items"].as_array().unwrap();
    let actions: Vec<_> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["staff.updated", "staff.created"], "newest first");
    assert_eq!(items[0]["actor_staff_id"], admin.id);
    assert_eq!(items[0]["before"]["name"], "Dan");
    assert_eq!(items[0]["after"]["name"], "Dan Pop");
    assert!(items[0]["ip"].as_str().is_some_and(|ip| ip == "127.0.0.1"));
    assert!(!log.to_string().contains("argon2"), "no password hash in the log");

    let (_, logins) = app.get("/api/v1/audit-log?action=auth.login", &token).await;
    assert_eq!(logins["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn view_own_sees_only_own_actions_and_others_are_forbidden() {
    let app = spawn_app().await;
    let (_, admin_token) = app.admin().await;
    let (_, agent) = app.staff_with_token("agent@test.example", "Sales Agent").await;
    let (s, b) = app.get("/api/v1/audit-log", &agent).await;
    assert_problem(s, &b, 403, "forbidden");
    let (_, role) = app.post("/api/v1/roles", Some(&admin_token), json!({"name": "Auditee", "permissions": {"audit_log": ["view_own"]}})).await;
    let (_, own) =
        app.post("/api/v1/staff", Some(&admin_token), json!({"name": "O", "email": "o@test.example", "password": PASSWORD, "role_id": role["id"]})).await;
    let token = app.login("o@test.example", PASSWORD).await.access_token;
    let (s, log) = app.get("/api/v1/audit-log", &token).await;
    assert_eq!(s, StatusCode::OK);
    let items = log["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|e| e["actor_staff_id"] == own["id"]), "{log}");
}

#[tokio::test]
async fn filters_by_actor_and_by_utc_days_and_refuses_bad_dates() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let (agent, agent_token) = app.staff_with_token("agent@test.example", "Sales Agent").await;
    let (s, _) = app.patch("/api/v1/me", &agent_token, json!({"name": "Agent Renamed"})).await;
    assert_eq!(s, StatusCode::OK);

    let (s, log) = app.get(&format!("/api/v1/audit-log?actor_staff_id={}", agent.id), &token).await;
    assert_eq!(s, StatusCode::OK);
    let items = log["items"].as_array().unwrap();
    assert!(items.iter().all(|e| e["actor_staff_id"] == agent.id), "{log}");
    assert!(items.iter().any(|e| e["action"] == "staff.profile_updated"), "{log}");

    let today = time::OffsetDateTime::now_utc().date();
    let day = |d: time::Date| d.to_string();
    let (s, log) = app.get(&format!("/api/v1/audit-log?date_from={}&date_to={}", day(today), day(today)), &token).await;
    assert_eq!(s, StatusCode::OK);
    let actors: Vec<_> = log["items"].as_array().unwrap().iter().map(|e| e["actor_staff_id"].clone()).collect();
    assert!(actors.contains(&json!(admin.id)) && actors.contains(&json!(agent.id)), "today's entries, both actors: {log}");
    let yesterday = today.previous_day().unwrap();
    let (_, log) = app.get(&format!("/api/v1/audit-log?date_to={}", day(yesterday)), &token).await;
    assert_eq!(log["items"], json!([]), "nothing before today");
    let tomorrow = today.next_day().unwrap();
    let (_, log) = app.get(&format!("/api/v1/audit-log?date_from={}", day(tomorrow)), &token).await;
    assert_eq!(log["items"], json!([]), "nothing after today");

    for bad in ["date_from=01.12.2026", "date_to=2026-13-01", "actor_staff_id=abc"] {
        let (s, b) = app.get(&format!("/api/v1/audit-log?{bad}"), &token).await;
        assert_problem(s, &b, 400, "invalid_query");
    }
    let (s, b) = app.get(&format!("/api/v1/audit-log?date_from={}&date_to={}", day(today), day(yesterday)), &token).await;
    assert_problem(s, &b, 400, "invalid_query");
    assert_eq!(b["errors"][0]["field"], "date_to", "{b}");
}
