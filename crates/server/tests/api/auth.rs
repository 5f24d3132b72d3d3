use reqwest::{header, Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_problem, json_of, spawn_app, ADMIN_EMAIL, PASSWORD};

#[tokio::test]
async fn login_me_and_token_shape() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let tokens = app.login("  Admin@Test.Example ", PASSWORD).await;
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.expires_in, 900);
    assert!(tokens.refresh_token.len() >= 43, "≥ 256 bits");
    let (s, me) = app.get("/api/v1/me", &tokens.access_token).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["id"], admin.id);
    assert_eq!(me["email"], ADMIN_EMAIL);
    assert_eq!(me["role"]["name"], "Administrator");
    assert_eq!(me["auth_method"], "session");
    assert!(me["permissions"]["roles"].as_array().unwrap().contains(&json!("delete")));
    // The refresh token is stored hashed, never in clear.
    let backend = app.state.db.get_database_backend();
    use sea_orm::ConnectionTrait;
    let rows = app.state.db.query_all(sea_orm::Statement::from_string(backend, "SELECT token_hash FROM refresh_tokens")).await.unwrap();
    for row in rows {
        let hash: String = row.try_get("", "token_hash").unwrap();
        assert_ne!(hash, tokens.refresh_token);
        assert_eq!(hash.len(), 64);
    }
}

#[tokio::test]
async fn wrong_credentials_are_401_and_do_not_say_which_part_was_wrong() {
    let app = spawn_app().await;
    app.admin().await;
    let (s, wrong_pw) = app.post("/api/v1/auth/login", None, json!({"email": ADMIN_EMAIL, "password": "nope-nope"})).await;
    assert_problem(s, &wrong_pw, 401, "invalid_credentials");
    let (s, no_user) = app.post("/api/v1/auth/login", None, json!({"email": "ghost@test.example", "password": "nope-nope"})).await;
    assert_problem(s, &no_user, 401, "invalid_credentials");
    assert_eq!(wrong_pw, no_user);
    let (s, b) = app.post("/api/v1/auth/login", None, json!({"email": "not-an-email", "password": "x"})).await;
    assert_problem(s, &b, 422, "validation_failed");
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account() {
    let app = spawn_app().await;
    app.admin().await;
    for _ in 0..5 {
        let (s, _) = app.post("/api/v1/auth/login", None, json!({"email": ADMIN_EMAIL, "password": "wrong-password"})).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let res = app.request(Method::POST, "/api/v1/auth/login", None, Some(json!({"email": ADMIN_EMAIL, "password": PASSWORD}))).await;
    assert_eq!(res.headers()[header::RETRY_AFTER], "900");
    let (s, b) = json_of(res).await;
    assert_problem(s, &b, 429, "too_many_login_attempts");
    // Another account from the same IP is still fine (the IP limit is higher).
    app.create_staff("agent@test.example", "Sales Agent").await;
    app.login("agent@test.example", PASSWORD).await;
}

#[tokio::test]
async fn failed_logins_are_throttled_per_ip() {
    let app = spawn_app().await;
    for i in 0..30 {
        let email = format!("user{i}@test.example");
        let (s, _) = app.post("/api/v1/auth/login", None, json!({"email": email, "password": "wrong-password"})).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, b) = app.post("/api/v1/auth/login", None, json!({"email": "fresh@test.example", "password": "whatever1"})).await;
    assert_problem(s, &b, 429, "too_many_login_attempts");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_every_session() {
    let app = spawn_app().await;
    app.admin().await;
    let first = app.login(ADMIN_EMAIL, PASSWORD).await;
    let (s, second) = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": first.refresh_token})).await;
    assert_eq!(s, StatusCode::OK, "{second}");
    let second_refresh = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second_refresh, first.refresh_token);
    let (s, _) = app.get("/api/v1/me", second["access_token"].as_str().unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    // Replaying the used token fails and burns the whole family.
    let (s, b) = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": first.refresh_token})).await;
    assert_problem(s, &b, 401, "invalid_refresh_token");
    let (s, b) = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": second_refresh})).await;
    assert_problem(s, &b, 401, "invalid_refresh_token");
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    app.admin().await;
    let t = app.login(ADMIN_EMAIL, PASSWORD).await;
    let res = app.request(Method::POST, "/api/v1/auth/logout", None, Some(json!({"refresh_token": t.refresh_token}))).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (s, b) = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": t.refresh_token})).await;
    assert_problem(s, &b, 401, "invalid_refresh_token");
}

#[tokio::test]
async fn missing_bad_and_stale_tokens_are_told_apart() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let (s, b) = json_of(app.request(Method::GET, "/api/v1/me", None, None).await).await;
    assert_problem(s, &b, 401, "unauthenticated");
    let (s, b) = app.get("/api/v1/me", "garbage").await;
    assert_problem(s, &b, 401, "invalid_token");
    // A token signed with another secret is refused.
    let other = crmconnect::auth::jwt::JwtKeys::new(b"some other secret entirely......").issue(admin.id).unwrap().0;
    let (s, b) = app.get("/api/v1/me", &other).await;
    assert_problem(s, &b, 401, "invalid_token");
    // 401 (who are you?) vs 403 (you may not).
    let (_, agent_token) = app.staff_with_token("agent@test.example", "Sales Agent").await;
    let (s, b) = app.get("/api/v1/roles", &agent_token).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, _) = app.get("/api/v1/me", &token).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn the_jwt_secret_survives_a_restart() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    // A second server on the same database (a restart, or a second node) accepts the token.
    let url = app.database_url.clone();
    let second = crate::helpers::spawn_app_on(&url).await;
    let (s, me) = second.get("/api/v1/me", &token).await;
    assert_eq!(s, StatusCode::OK, "{me}");
}
