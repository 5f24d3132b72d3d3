use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn a_token_is_shown_once_stored_hashed_and_limited_by_scopes() {
    let app = spawn_app().await;
    let (_, session) = app.admin().await;
    let (s, created) = app.post("/api/v1/api-tokens", Some(&session), json!({"name": "Zapier", "scopes": ["staff:view", "leads:*"]})).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let secret = created["token"].as_str().unwrap().to_string();
    assert!(secret.starts_with("crm_") && secret.len() >= 4 + 43, "{secret}");

    let (_, list) = app.get("/api/v1/api-tokens", &session).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(list["items"][0].get("token").is_none(), "the secret is never listed");
    let backend = app.state.db.get_database_backend();
    let row = app.state.db.query_one(sea_orm::Statement::from_string(backend, "SELECT token_hash FROM api_tokens")).await.unwrap().unwrap();
    let hash: String = row.try_get("", "token_hash").unwrap();
    assert!(!hash.contains(&secret[4..]));

    let (s, me) = app.get("/api/v1/me", &secret).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(me["auth_method"], "api_token");
    assert_eq!(me["permissions"], json!({"leads": ["view", "view_own", "create", "edit", "delete"], "staff": ["view"]}));
    let (s, _) = app.get("/api/v1/staff", &secret).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = app.get("/api/v1/roles", &secret).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, b) = app.post("/api/v1/staff", Some(&secret), json!({"name": "X", "email": "x@y.ro", "password": "long-enough-pass", "role_id": 1})).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, b) = app.post("/api/v1/api-tokens", Some(&secret), json!({"name": "child", "scopes": ["*"]})).await;
    assert_problem(s, &b, 403, "session_required");

    let id = created["id"].as_i64().unwrap();
    let (s, _) = app.delete(&format!("/api/v1/api-tokens/{id}"), &session).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = app.get("/api/v1/me", &secret).await;
    assert_problem(s, &b, 401, "invalid_token");
    let (s, b) = app.delete(&format!("/api/v1/api-tokens/{id}"), &session).await;
    assert_problem(s, &b, 404, "not_found");
}

#[tokio::test]
async fn a_token_never_exceeds_its_owners_role() {
    let app = spawn_app().await;
    app.admin().await;
    let (_, agent) = app.staff_with_token("agent@test.example", "Sales Agent").await;
    let (s, created) = app.post("/api/v1/api-tokens", Some(&agent), json!({"name": "all", "scopes": ["*"]})).await;
    assert_eq!(s, StatusCode::CREATED);
    let secret = created["token"].as_str().unwrap();
    let (s, b) = app.get("/api/v1/staff", secret).await;
    assert_problem(s, &b, 403, "forbidden");
    let (_, me) = app.get("/api/v1/me", secret).await;
    assert!(me["permissions"].get("roles").is_none());
}

#[tokio::test]
async fn bad_token_requests_are_refused_and_expired_tokens_fail() {
    let app = spawn_app().await;
    let (_, session) = app.admin().await;
    let (s, b) = app.post("/api/v1/api-tokens", Some(&session), json!({"name": "", "scopes": ["leads:fly"], "expires_at": "2001-01-01T00:00:00Z"})).await;
    assert_problem(s, &b, 422, "validation_failed");
    let fields: Vec<_> = b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "scopes", "expires_at"]);
    assert_eq!(app.count("api_tokens").await, 0);

    let soon = (time::OffsetDateTime::now_utc() + time::Duration::seconds(2)).format(&time::format_description::well_known::Rfc3339).unwrap();
    let (s, created) = app.post("/api/v1/api-tokens", Some(&session), json!({"name": "short", "scopes": ["*"], "expires_at": soon})).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let secret = created["token"].as_str().unwrap();
    let (s, _) = app.get("/api/v1/me", secret).await;
    assert_eq!(s, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (s, b) = app.get("/api/v1/me", secret).await;
    assert_problem(s, &b, 401, "invalid_token");
}
