use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, spawn_app, PASSWORD};

#[tokio::test]
async fn admin_creates_reads_updates_and_deactivates_staff() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let agent_role = app.role_id("Sales Agent").await;
    let (s, created) =
        app.post("/api/v1/staff", Some(&token), json!({"name": " Ana Pop ", "email": "Ana@Example.ro", "password": "longenough", "role_id": agent_role})).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    assert_eq!(created["name"], "Ana Pop");
    assert_eq!(created["email"], "ana@example.ro");
    assert_eq!(created["role_name"], "Sales Agent");
    assert_eq!(created["active"], true);
    assert!(created.get("password").is_none() && created.get("password_hash").is_none());
    let id = created["id"].as_i64().unwrap();

    let (s, got) = app.get(&format!("/api/v1/staff/{id}"), &token).await;
    assert_eq!((s, &got["email"]), (StatusCode::OK, &json!("ana@example.ro")));

    let manager_role = app.role_id("Sales Manager").await;
    let (s, updated) = app.patch(&format!("/api/v1/staff/{id}"), &token, json!({"name": "Ana Popa", "role_id": manager_role})).await;
    assert_eq!(s, StatusCode::OK, "{updated}");
    assert_eq!((updated["name"].as_str(), updated["role_name"].as_str()), (Some("Ana Popa"), Some("Sales Manager")));

    let ana = app.login("ana@example.ro", "longenough").await;
    let (s, _) = app.delete(&format!("/api/v1/staff/{id}"), &token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // Deactivated: existing tokens stop working and sign-in is refused.
    let (s, b) = app.get("/api/v1/me", &ana.access_token).await;
    assert_problem(s, &b, 401, "invalid_token");
    let (s, b) = app.post("/api/v1/auth/login", None, json!({"email": "ana@example.ro", "password": "longenough"})).await;
    assert_problem(s, &b, 401, "invalid_credentials");
    let (s, b) = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": ana.refresh_token})).await;
    assert_problem(s, &b, 401, "invalid_refresh_token");
}

#[tokio::test]
async fn bad_input_reports_every_field_and_changes_nothing() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let before = app.count("staff").await;
    let audit_before = app.count("audit_log").await;
    let (s, b) = app.post("/api/v1/staff", Some(&token), json!({"name": "", "email": "nope", "password": "short", "role_id": 1})).await;
    assert_problem(s, &b, 422, "validation_failed");
    let fields: Vec<_> = b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "email", "password"]);
    let (s, b) = app.post("/api/v1/staff", Some(&token), json!({"name": "X", "email": "x@y.ro", "password": "longenough", "role_id": 9999})).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["field"], "role_id");
    let (s, b) = app.post("/api/v1/staff", Some(&token), json!({"name": "X", "email": "ADMIN@test.example", "password": "longenough", "role_id": 1})).await;
    assert_problem(s, &b, 409, "email_taken");
    assert_eq!(app.count("staff").await, before);
    assert_eq!(app.count("audit_log").await, audit_before, "no audit entry for a refused change");
}

#[tokio::test]
async fn the_last_administrator_and_yourself_are_protected() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let agent_role = app.role_id("Sales Agent").await;
    let (s, b) = app.delete(&format!("/api/v1/staff/{}", admin.id), &token).await;
    assert_problem(s, &b, 409, "cannot_change_self");
    let (s, b) = app.patch(&format!("/api/v1/staff/{}", admin.id), &token, json!({"role_id": agent_role})).await;
    assert_problem(s, &b, 409, "cannot_change_self");
    // A second admin may not demote the only other one once they are alone.
    let (other, other_token) = app.staff_with_token("second@test.example", "Administrator").await;
    let (s, _) = app.delete(&format!("/api/v1/staff/{}", admin.id), &other_token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = app.patch(&format!("/api/v1/staff/{}", other.id), &other_token, json!({"active": false})).await;
    assert_problem(s, &b, 409, "cannot_change_self");
}

#[tokio::test]
async fn a_password_change_signs_the_user_out_everywhere() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let agent = app.create_staff("agent@test.example", "Sales Agent").await;
    let session = app.login("agent@test.example", PASSWORD).await;
    let (s, b) = app.patch(&format!("/api/v1/staff/{}", agent.id), &token, json!({"password": "brand-new-pass"})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": session.refresh_token})).await;
    assert_problem(s, &b, 401, "invalid_refresh_token");
    app.login("agent@test.example", "brand-new-pass").await;
}

#[tokio::test]
async fn permissions_apply_to_lists_and_single_reads() {
    let app = spawn_app().await;
    let (admin, admin_token) = app.admin().await;
    let (_, agent_token) = app.staff_with_token("agent@test.example", "Sales Agent").await;
    let (s, b) = app.get("/api/v1/staff", &agent_token).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, b) = app.post("/api/v1/staff", Some(&agent_token), json!({"name": "X", "email": "x@y.ro", "password": "longenough", "role_id": 1})).await;
    assert_problem(s, &b, 403, "forbidden");

    // A role with `view_own` on staff sees only itself.
    let (s, role) = app.post("/api/v1/roles", Some(&admin_token), json!({"name": "Self only", "permissions": {"staff": ["view_own"]}})).await;
    assert_eq!(s, StatusCode::CREATED, "{role}");
    let (s, own) =
        app.post("/api/v1/staff", Some(&admin_token), json!({"name": "Own", "email": "own@test.example", "password": PASSWORD, "role_id": role["id"]})).await;
    assert_eq!(s, StatusCode::CREATED);
    let own_token = app.login("own@test.example", PASSWORD).await.access_token;
    let (s, list) = app.get("/api/v1/staff", &own_token).await;
    assert_eq!(s, StatusCode::OK);
    let ids: Vec<_> = list["items"].as_array().unwrap().iter().map(|s| s["id"].clone()).collect();
    assert_eq!(ids, [own["id"].clone()]);
    let (s, b) = app.get(&format!("/api/v1/staff/{}", admin.id), &own_token).await;
    assert_problem(s, &b, 404, "not_found");
    let (s, _) = app.get(&format!("/api/v1/staff/{}", own["id"]), &own_token).await;
    assert_eq!(s, StatusCode::OK);

    // Changing the role applies immediately, to the same token.
    let (s, _) = app.patch(&format!("/api/v1/roles/{}", role["id"]), &admin_token, json!({"permissions": {"staff": ["view"]}})).await;
    assert_eq!(s, StatusCode::OK);
    let (_, list) = app.get("/api/v1/staff", &own_token).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn lists_page_with_cursors_and_filter() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    for i in 0..6 {
        app.create_staff(&format!("agent{i}@test.example"), if i % 2 == 0 { "Sales Agent" } else { "SDR" }).await;
    }
    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/staff?limit=2&cursor={c}"),
            None => "/api/v1/staff?limit=2".to_string(),
        };
        let (s, page) = app.get(&path, &token).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        pages += 1;
        for item in page["items"].as_array().unwrap() {
            assert!(seen.insert(item["id"].as_i64().unwrap()), "duplicate across pages");
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (7, 4));
    let sdr = app.role_id("SDR").await;
    let (_, filtered) = app.get(&format!("/api/v1/staff?role_id={sdr}"), &token).await;
    assert_eq!(filtered["items"].as_array().unwrap().len(), 3);
    let (_, searched) = app.get("/api/v1/staff?q=AGENT4", &token).await;
    assert_eq!(searched["items"][0]["email"], "agent4@test.example");
    assert_eq!(searched["items"].as_array().unwrap().len(), 1);
}
