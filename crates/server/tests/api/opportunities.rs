use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, TestApp};
use crate::leads::create_lead;

async fn convert(app: &TestApp, token: &str, lead_id: i64, body: Value) -> Value {
    let (s, o) = app.post(&format!("/api/v1/leads/{lead_id}/convert-to-opportunity"), Some(token), body).await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    o
}

#[tokio::test]
async fn a_lead_becomes_an_opportunity_and_both_lists_stay_apart() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let lead = create_lead(&app, &token, json!({"name": "Ana", "company": "Acme", "email": "ana@acme.ro", "assigned_to": admin.id, "tags": ["vip"]})).await;
    let lead_id = lead["id"].as_i64().unwrap();
    let o = convert(&app, &token, lead_id, json!({"estimated_value": "40000", "currency": "EUR", "probability": 40, "expected_close_date": "2026-12-15"})).await;
    assert_eq!((o["is_opportunity"].as_bool(), o["origin_lead_id"].as_i64()), (Some(true), Some(lead_id)));
    assert_eq!((o["estimated_value"].as_str(), o["probability"].as_i64(), o["expected_close_date"].as_str()), (Some("40000.00"), Some(40), Some("2026-12-15")));
    assert_eq!(o["opportunity_status"], "Prospecting", "first status by default");
    assert_eq!((o["email"].as_str(), o["company"].as_str()), (Some("ana@acme.ro"), Some("Acme")));
    assert_eq!(o["tags"], json!(["vip"]));
    let oid = o["id"].as_i64().unwrap();

    let (_, leads) = app.get("/api/v1/leads", &token).await;
    let lead_ids: Vec<_> = leads["items"].as_array().unwrap().iter().map(|l| l["id"].as_i64().unwrap()).collect();
    assert_eq!(lead_ids, [lead_id], "the lead stays; the opportunity is not a lead");
    let (_, opps) = app.get("/api/v1/opportunities", &token).await;
    let opp_ids: Vec<_> = opps["items"].as_array().unwrap().iter().map(|l| l["id"].as_i64().unwrap()).collect();
    assert_eq!(opp_ids, [oid]);
    let (s, b) = app.get(&format!("/api/v1/leads/{oid}"), &token).await;
    assert_problem(s, &b, 404, "not_found");
    let (s, b) = app.get(&format!("/api/v1/opportunities/{lead_id}"), &token).await;
    assert_problem(s, &b, 404, "not_found");
    let (_, board) = app.get("/api/v1/leads/kanban", &token).await;
    assert_eq!(board[0]["count"], 1, "opportunities are not on the leads board");

    let (_, statuses) = app.get("/api/v1/opportunity-statuses", &token).await;
    let negotiation = statuses["items"].as_array().unwrap().iter().find(|s| s["name"] == "Negotiation").unwrap()["id"].clone();
    let (s, updated) = app.patch(&format!("/api/v1/opportunities/{oid}"), &token, json!({"probability": 75, "opportunity_status_id": negotiation})).await;
    assert_eq!(s, StatusCode::OK, "{updated}");
    assert_eq!((updated["probability"].as_i64(), updated["opportunity_status"].as_str()), (Some(75), Some("Negotiation")));
    let (_, found) = app.get("/api/v1/opportunities?status=negotiation&min_probability=70&close_from=2026-12-01&close_to=2026-12-31", &token).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let (_, tagged) = app.get("/api/v1/opportunities?tag=VIP", &token).await;
    assert_eq!(tagged["items"].as_array().unwrap().len(), 1);
    let (_, none) = app.get("/api/v1/opportunities?close_to=2026-11-30", &token).await;
    assert!(none["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn bad_opportunity_input_is_refused() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let lead = create_lead(&app, &token, json!({"name": "Ana", "email": "ana@acme.ro"})).await;
    let path = format!("/api/v1/leads/{}/convert-to-opportunity", lead["id"]);
    for (body, field) in [
        (json!({"estimated_value": "100", "currency": "RON", "probability": 101}), "probability"),
        (json!({"estimated_value": "100", "currency": "RON", "probability": -1}), "probability"),
        (json!({"estimated_value": "-100", "currency": "RON", "probability": 50}), "estimated_value"),
        (json!({"estimated_value": "100", "currency": "RUB", "probability": 50}), "currency"),
        (json!({"estimated_value": "100", "currency": "RON", "probability": 50, "opportunity_status_id": 999999}), "opportunity_status_id"),
        (json!({"estimated_value": "100", "currency": "RON", "probability": 50, "expected_close_date": "15.12.2026"}), "expected_close_date"),
        (json!({"currency": "RON", "probability": 50}), "estimated_value"),
    ] {
        let (s, b) = app.post(&path, Some(&token), body.clone()).await;
        assert_problem(s, &b, 422, "validation_failed");
        assert_eq!(b["errors"][0]["field"], field, "{body} → {b}");
    }
    let (_, opps) = app.get("/api/v1/opportunities", &token).await;
    assert!(opps["items"].as_array().unwrap().is_empty());
    let (s, b) = app.get("/api/v1/opportunities?min_probability=150", &token).await;
    assert_problem(s, &b, 422, "validation_failed");
}

#[tokio::test]
async fn the_weighted_forecast_groups_without_mixing_currencies() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let (agent, _) = app.staff_with_token("agent@test.example", "Sales Agent").await;
    let specs = [
        ("10000", "RON", 50, "2026-12-10", admin.id),
        ("5000.50", "RON", 20, "2026-12-20", agent.id),
        ("2000", "EUR", 90, "2026-12-01", agent.id),
        ("300", "RON", 100, "2027-01-05", admin.id),
    ];
    for (i, (value, currency, p, date, owner)) in specs.iter().enumerate() {
        let l = create_lead(&app, &token, json!({"name": format!("L{i}"), "email": format!("l{i}@x.ro"), "assigned_to": owner})).await;
        convert(&app, &token, l["id"].as_i64().unwrap(), json!({"estimated_value": value, "currency": currency, "probability": p, "expected_close_date": date})).await;
    }
    let (s, f) = app.get("/api/v1/opportunities/forecast?group_by=month", &token).await;
    assert_eq!(s, StatusCode::OK, "{f}");
    let rows: Vec<_> = f["rows"].as_array().unwrap().iter().map(|r| (r["key"].as_str().unwrap(), r["currency"].as_str().unwrap(), r["count"].as_i64().unwrap(), r["total"].as_str().unwrap(), r["weighted"].as_str().unwrap())).collect();
    assert_eq!(rows, [
        ("2026-12", "EUR", 1, "2000.00", "1800.00"),
        ("2026-12", "RON", 2, "15000.50", "6000.10"),
        ("2027-01", "RON", 1, "300.00", "300.00"),
    ]);
    let totals: Vec<_> = f["totals"].as_array().unwrap().iter().map(|r| (r["currency"].as_str().unwrap(), r["weighted"].as_str().unwrap())).collect();
    assert_eq!(totals, [("EUR", "1800.00"), ("RON", "6300.10")]);

    let (_, by_staff) = app.get("/api/v1/opportunities/forecast?group_by=staff", &token).await;
    let labels: Vec<_> = by_staff["rows"].as_array().unwrap().iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert!(labels.contains(&"Test Administrator") && labels.contains(&"Test Sales Agent"), "{labels:?}");
    let (_, by_status) = app.get("/api/v1/opportunities/forecast?group_by=status", &token).await;
    assert_eq!(by_status["rows"][0]["label"], "Prospecting");
    let (s, b) = app.get("/api/v1/opportunities/forecast?group_by=week", &token).await;
    assert_problem(s, &b, 422, "validation_failed");

    // An SDR sees opportunities only as `view_own` would… SDRs have no opportunity view at all.
    let (_, sdr) = app.staff_with_token("sdr@test.example", "SDR").await;
    let (s, b) = app.get("/api/v1/opportunities/forecast", &sdr).await;
    assert_problem(s, &b, 403, "forbidden");
    // A view_own role forecasts only its own deals.
    let (_, role) = app.post("/api/v1/roles", Some(&token), json!({"name": "Own deals", "permissions": {"opportunities": ["view_own"]}})).await;
    app.patch(&format!("/api/v1/staff/{}", agent.id), &token, json!({"role_id": role["id"]})).await;
    let agent_token = app.login("agent@test.example", crate::helpers::PASSWORD).await.access_token;
    let (_, own) = app.get("/api/v1/opportunities/forecast?group_by=month", &agent_token).await;
    let totals: Vec<_> = own["totals"].as_array().unwrap().iter().map(|r| (r["currency"].as_str().unwrap(), r["total"].as_str().unwrap())).collect();
    assert_eq!(totals, [("EUR", "2000.00"), ("RON", "5000.50")]);
}
