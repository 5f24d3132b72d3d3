use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn a_new_database_has_the_guides_roles() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (s, list) = app.get("/api/v1/roles", &token).await;
    assert_eq!(s, StatusCode::OK);
    let names: Vec<_> = list["items"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Administrator", "Sales Manager", "Account Manager", "Sales Agent", "SDR"]);
    let agent = &list["items"][3];
    assert_eq!(agent["permissions"]["proposals"], json!(["view", "create", "send"]));
    assert_eq!(agent["permissions"]["commissions"], json!(["view_own"]));
    assert_eq!(list["items"][0]["staff_count"], 1);
}

#[tokio::test]
async fn roles_are_created_validated_updated_and_deleted() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (s, role) = app
        .post("/api/v1/roles", Some(&token), json!({"name": "Intern", "description": "Read-only", "permissions": {"leads": ["view_own"], "clients": ["view"]}}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{role}");
    assert_eq!(role["is_admin"], false);
    let id = role["id"].as_i64().unwrap();

    let (s, b) = app.post("/api/v1/roles", Some(&token), json!({"name": "Bad", "permissions": {"leads": ["send"]}})).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["field"], "permissions");
    let (s, b) = app.post("/api/v1/roles", Some(&token), json!({"name": "Bad", "permissions": {"spaceships": ["view"]}})).await;
    assert_problem(s, &b, 422, "validation_failed");
    let (s, b) = app.post("/api/v1/roles", Some(&token), json!({"name": "intern", "permissions": {}})).await;
    assert_eq!(s, StatusCode::CREATED, "names are case-sensitive: {b}");
    let (s, b) = app.post("/api/v1/roles", Some(&token), json!({"name": "Intern", "permissions": {}})).await;
    assert_problem(s, &b, 409, "name_taken");

    let (s, updated) = app.patch(&format!("/api/v1/roles/{id}"), &token, json!({"permissions": {"leads": ["view", "edit"]}})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(updated["permissions"], json!({"leads": ["view", "edit"]}));
    assert_eq!(updated["description"], "Read-only");

    let admin_role = app.role_id("Administrator").await;
    // Nobody edits the role they hold, the administrator role included.
    let (s, b) = app.patch(&format!("/api/v1/roles/{admin_role}"), &token, json!({"permissions": {}})).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, b) = app.delete(&format!("/api/v1/roles/{admin_role}"), &token).await;
    assert_problem(s, &b, 409, "last_administrator");

    app.create_staff("intern@test.example", "Intern").await;
    let (s, b) = app.delete(&format!("/api/v1/roles/{id}"), &token).await;
    assert_problem(s, &b, 409, "role_in_use");
    let unused = app.role_id("intern").await;
    let (s, _) = app.delete(&format!("/api/v1/roles/{unused}"), &token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app.get(&format!("/api/v1/roles/{unused}"), &token).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_roles_with_the_permission_manage_roles() {
    let app = spawn_app().await;
    app.admin().await;
    let (_, manager) = app.staff_with_token("manager@test.example", "Sales Manager").await;
    let (s, b) = app.get("/api/v1/roles", &manager).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, b) = app.post("/api/v1/roles", Some(&manager), json!({"name": "Mine", "permissions": {}})).await;
    assert_problem(s, &b, 403, "forbidden");
    assert_eq!(app.count("roles").await, 5);
}
