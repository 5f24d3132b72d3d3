//! Every malformed request gets problem+json, never actix's plain-text defaults.

use reqwest::{header, Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_problem, json_of, spawn_app};

#[tokio::test]
async fn an_error_has_exactly_the_documented_shape() {
    let app = spawn_app().await;
    let res = app.request(Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/problem+json");
    let (status, body) = json_of(res).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({
            "type": "https://crmconnect.dev/problems/unauthenticated",
            "title": "Authentication required",
            "status": 401,
            "detail": "Send `Authorization: Bearer <token>`.",
            "code": "unauthenticated"
        })
    );
}

#[tokio::test]
async fn malformed_bodies_are_problems() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let send = |content_type: &'static str, body: Vec<u8>| {
        app.client.post(app.url("/api/v1/staff")).bearer_auth(&token).header(header::CONTENT_TYPE, content_type).body(body).send()
    };
    let (s, b) = json_of(send("application/json", b"{\"name\": ".to_vec()).await.unwrap()).await;
    assert_problem(s, &b, 400, "malformed_json");
    let (s, b) = json_of(send("text/plain", b"{}".to_vec()).await.unwrap()).await;
    assert_problem(s, &b, 415, "unsupported_media_type");
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let (s, b) = json_of(send("application/json", huge.into_bytes()).await.unwrap()).await;
    assert_problem(s, &b, 413, "payload_too_large");
    let (s, b) = json_of(send("application/json", b"{\"name\": \"A\"}".to_vec()).await.unwrap()).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["field"], "email");
    assert_eq!(b["errors"][0]["code"], "required");
    let (s, b) = json_of(send("application/json", b"{\"name\": 5, \"email\": \"a@b.ro\", \"password\": \"x\", \"role_id\": 1}".to_vec()).await.unwrap()).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["field"], "name");
    assert_eq!(app.count("staff").await, 1, "nothing was created");
}

#[tokio::test]
async fn unknown_routes_methods_and_bad_parameters_are_problems() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let res = app.request(Method::PUT, "/api/v1/health", None, None).await;
    let (s, b) = json_of(res).await;
    assert_problem(s, &b, 405, "method_not_allowed");
    let (s, b) = json_of(app.request(Method::DELETE, "/api/v1/staff", Some(&token), None).await).await;
    assert_problem(s, &b, 405, "method_not_allowed");
    let (s, b) = app.get("/api/v1/no-such-thing", &token).await;
    assert_problem(s, &b, 404, "route_not_found");
    let (s, b) = app.get("/api/v1/staff/abc", &token).await;
    assert_problem(s, &b, 400, "invalid_path");
    let (s, b) = app.get("/api/v1/staff?limit=abc", &token).await;
    assert_problem(s, &b, 400, "invalid_query");
    let (s, b) = app.get("/api/v1/staff?limit=501", &token).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["field"], "limit");
    let (s, b) = app.get("/api/v1/staff?cursor=garbage!", &token).await;
    assert_problem(s, &b, 400, "invalid_cursor");
    let (s, b) = app.get("/api/v1/staff/999999", &token).await;
    assert_problem(s, &b, 404, "not_found");
}
