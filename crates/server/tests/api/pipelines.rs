use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, json_of, spawn_app};

fn names(statuses: &Value) -> Vec<String> {
    statuses.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_new_database_has_the_sales_pipeline_lost_reasons_and_sources() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (s, list) = app.get("/api/v1/pipelines", &token).await;
    assert_eq!(s, StatusCode::OK);
    let sales = &list["items"][0];
    assert_eq!((sales["name"].as_str(), sales["is_default"].as_bool()), (Some("Sales"), Some(true)));
    assert_eq!(names(&sales["statuses"]), ["New", "Contacted", "Qualified", "Demo Scheduled", "Proposal Sent"]);
    let (_, reasons) = app.get("/api/v1/lost-reasons", &token).await;
    let reasons: Vec<_> = reasons["items"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    for expected in ["Price too high", "Won by competitor", "Budget unavailable", "No response"] {
        assert!(reasons.contains(&expected), "{expected} missing");
    }
    let (_, sources) = app.get("/api/v1/lead-sources", &token).await;
    assert!(!sources["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn statuses_are_added_renamed_reordered_and_deleted() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (s, p) =
        app.post("/api/v1/pipelines", Some(&token), json!({"name": "Partners", "statuses": [{"name": "Intro"}, {"name": "Signed", "color": "#10B981"}]})).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(p["is_default"], false);
    let id = p["id"].as_i64().unwrap();
    assert_eq!(p["statuses"][1]["color"], "#10b981");

    let (s, mid) = app.post(&format!("/api/v1/pipelines/{id}/statuses"), Some(&token), json!({"name": "Negotiation", "order": 1})).await;
    assert_eq!(s, StatusCode::CREATED, "{mid}");
    let (_, statuses) = app.get(&format!("/api/v1/pipelines/{id}/statuses"), &token).await;
    assert_eq!(names(&statuses["items"]), ["Intro", "Negotiation", "Signed"]);
    let ids: Vec<i64> = statuses["items"].as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect();

    let res =
        app.request(Method::PUT, &format!("/api/v1/pipelines/{id}/statuses/order"), Some(&token), Some(json!({"status_ids": [ids[2], ids[0], ids[1]]}))).await;
    let (s, reordered) = json_of(res).await;
    assert_eq!(s, StatusCode::OK, "{reordered}");
    assert_eq!(names(&reordered["statuses"]), ["Signed", "Intro", "Negotiation"]);
    let res = app.request(Method::PUT, &format!("/api/v1/pipelines/{id}/statuses/order"), Some(&token), Some(json!({"status_ids": [ids[0], ids[1]]}))).await;
    let (s, b) = json_of(res).await;
    assert_problem(s, &b, 422, "validation_failed");

    let (s, renamed) = app.patch(&format!("/api/v1/pipelines/{id}/statuses/{}", ids[1]), &token, json!({"name": "Talks", "order": 0})).await;
    assert_eq!(s, StatusCode::OK, "{renamed}");
    let (_, p) = app.get(&format!("/api/v1/pipelines/{id}"), &token).await;
    assert_eq!(names(&p["statuses"]), ["Talks", "Signed", "Intro"]);
    let (s, b) = app.patch(&format!("/api/v1/pipelines/{id}/statuses/{}", ids[0]), &token, json!({"name": "Talks"})).await;
    assert_problem(s, &b, 409, "name_taken");
    let (s, b) = app.post(&format!("/api/v1/pipelines/{id}/statuses"), Some(&token), json!({"name": "X", "color": "blue"})).await;
    assert_problem(s, &b, 422, "validation_failed");

    let (s, _) = app.delete(&format!("/api/v1/pipelines/{id}/statuses/{}", ids[2]), &token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, p) = app.get(&format!("/api/v1/pipelines/{id}"), &token).await;
    assert_eq!(names(&p["statuses"]), ["Talks", "Intro"]);
    let orders: Vec<i64> = p["statuses"].as_array().unwrap().iter().map(|s| s["order"].as_i64().unwrap()).collect();
    assert_eq!(orders, [0, 1]);
}

#[tokio::test]
async fn a_status_with_leads_is_only_deleted_by_moving_them() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (_, list) = app.get("/api/v1/pipelines", &token).await;
    let sales = &list["items"][0];
    let pid = sales["id"].as_i64().unwrap();
    let new_id = sales["statuses"][0]["id"].as_i64().unwrap();
    let contacted = sales["statuses"][1]["id"].as_i64().unwrap();
    let (_, lead) = app.post("/api/v1/leads", Some(&token), json!({"name": "Ana", "email": "ana@x.ro", "status_id": new_id})).await;

    let (s, b) = app.delete(&format!("/api/v1/pipelines/{pid}/statuses/{new_id}"), &token).await;
    assert_problem(s, &b, 409, "in_use");
    let (s, b) = app.delete(&format!("/api/v1/pipelines/{pid}/statuses/{new_id}?move_to=999999"), &token).await;
    assert_problem(s, &b, 422, "validation_failed");
    let (s, _) = app.delete(&format!("/api/v1/pipelines/{pid}/statuses/{new_id}?move_to={contacted}"), &token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, moved) = app.get(&format!("/api/v1/leads/{}", lead["id"]), &token).await;
    assert_eq!(moved["status"], "Contacted");

    let (s, b) = app.delete(&format!("/api/v1/pipelines/{pid}"), &token).await;
    assert_problem(s, &b, 409, "default_pipeline");
}

#[tokio::test]
async fn only_settings_staff_change_configuration_but_sales_staff_read_it() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (_, agent) = app.staff_with_token("agent@test.example", "Sales Agent").await;
    let (s, _) = app.get("/api/v1/pipelines", &agent).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = app.post("/api/v1/pipelines", Some(&agent), json!({"name": "Mine"})).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, b) = app.post("/api/v1/lost-reasons", Some(&agent), json!({"name": "Mine"})).await;
    assert_problem(s, &b, 403, "forbidden");
    let (_, role) = app.post("/api/v1/roles", Some(&admin), json!({"name": "Nothing", "permissions": {}})).await;
    app.post("/api/v1/staff", Some(&admin), json!({"name": "N", "email": "n@test.example", "password": crate::helpers::PASSWORD, "role_id": role["id"]})).await;
    let nobody = app.login("n@test.example", crate::helpers::PASSWORD).await.access_token;
    let (s, b) = app.get("/api/v1/pipelines", &nobody).await;
    assert_problem(s, &b, 403, "forbidden");
}

#[tokio::test]
async fn lost_reasons_in_use_are_kept_and_sources_can_go() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (s, reason) = app.post("/api/v1/lost-reasons", Some(&token), json!({"name": "Timing"})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, b) = app.post("/api/v1/lost-reasons", Some(&token), json!({"name": "Timing"})).await;
    assert_problem(s, &b, 409, "name_taken");
    let (_, source) = app.post("/api/v1/lead-sources", Some(&token), json!({"name": "Podcast"})).await;
    let (_, lead) = app.post("/api/v1/leads", Some(&token), json!({"name": "Ana", "phone": "+40 721 000 111", "source_id": source["id"]})).await;
    let id = lead["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/leads/{id}/lost"), Some(&token), json!({"lost_reason_id": reason["id"]})).await;
    let (s, b) = app.delete(&format!("/api/v1/lost-reasons/{}", reason["id"]), &token).await;
    assert_problem(s, &b, 409, "in_use");
    let (s, renamed) = app.patch(&format!("/api/v1/lost-reasons/{}", reason["id"]), &token, json!({"name": "Bad timing"})).await;
    assert_eq!((s, renamed["name"].as_str()), (StatusCode::OK, Some("Bad timing")));
    let (s, _) = app.delete(&format!("/api/v1/lead-sources/{}", source["id"]), &token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, lead) = app.get(&format!("/api/v1/leads/{id}"), &token).await;
    assert_eq!(lead["source_id"], Value::Null);
    assert_eq!(lead["lost_reason"], "Bad timing");
}
