//! Teams and goals: what each goal type counts, for whom, in which period; progress and status;
//! notifications once; validation and permissions.

use reqwest::StatusCode;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use crate::helpers::{assert_problem, awaiting_signature, json_of, spawn_app, TestApp};

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (s, b) = app.post(path, Some(token), body).await;
    assert_eq!(s, StatusCode::CREATED, "POST {path}: {b}");
    b
}

async fn ok(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (s, b) = app.post(path, Some(token), body).await;
    assert!(s.is_success(), "POST {path}: {s} {b}");
    b
}

/// An issued invoice of `net` RON (no tax) with `agent` as sale agent, paid `paid`.
async fn sale(app: &TestApp, token: &str, agent: i32, net: &str, paid: &str) {
    let client = created(app, token, "/api/v1/clients", json!({"company": format!("Buyer {agent} {net} SRL"), "assigned_to": agent})).await;
    let inv = created(
        app,
        token,
        "/api/v1/invoices",
        json!({"client_id": client["id"], "sale_agent": agent, "lines": [{"description": "Work", "qty": "1", "unit_price": net}]}),
    )
    .await;
    ok(app, token, &format!("/api/v1/invoices/{}/issue", inv["id"]), json!({})).await;
    if paid != "0" {
        created(app, token, &format!("/api/v1/invoices/{}/payments", inv["id"]), json!({"amount": paid})).await;
    }
}

fn month() -> (String, String) {
    let today = OffsetDateTime::now_utc().date();
    ((today - Duration::days(10)).to_string(), (today + Duration::days(20)).to_string())
}

async fn goal(app: &TestApp, token: &str, body: Value) -> Value {
    let (start, end) = month();
    let mut full = json!({"subject": "Goal", "start_date": start, "end_date": end, "target_type": "all"});
    full.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
    created(app, token, "/api/v1/goals", full).await
}

#[tokio::test]
async fn each_goal_type_counts_its_records_in_the_period_for_whom_it_targets() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (ana, _) = app.staff_with_token("ana@crm.test", "Sales Agent").await;
    let (ion, _) = app.staff_with_token("ion@crm.test", "Sales Agent").await;
    let team = created(&app, &admin, "/api/v1/teams", json!({"name": "North", "member_ids": [ana.id]})).await;
    assert_eq!(team["member_ids"], json!([ana.id]));

    sale(&app, &admin, ana.id, "1000", "600").await;
    sale(&app, &admin, ion.id, "500", "500").await;
    sale(&app, &admin, ana.id, "200", "0").await;

    let income_ana = goal(&app, &admin, json!({"goal_type": "income", "target": "1200", "currency": "RON", "target_type": "staff", "staff_id": ana.id})).await;
    assert_eq!(
        (income_ana["achieved"].as_str(), income_ana["progress_percent"].as_str(), income_ana["status"].as_str()),
        (Some("600.00"), Some("50.00"), Some("in_progress"))
    );
    let income_all = goal(&app, &admin, json!({"goal_type": "income", "target": "1000", "currency": "RON"})).await;
    assert_eq!((income_all["achieved"].as_str(), income_all["status"].as_str()), (Some("1100.00"), Some("achieved")), "the company's: both agents");
    let income_eur = goal(&app, &admin, json!({"goal_type": "income", "target": "1000", "currency": "EUR"})).await;
    assert_eq!(income_eur["achieved"], "0.00", "never adds another currency");
    let invoiced_team =
        goal(&app, &admin, json!({"goal_type": "total_invoices", "target": "2400", "currency": "RON", "target_type": "team", "team_id": team["id"]})).await;
    assert_eq!((invoiced_team["achieved"].as_str(), invoiced_team["progress_percent"].as_str()), (Some("1200.00"), Some("50.00")));

    // Clients: one created directly (a new client), one from a lead (a converted lead).
    let lead = created(&app, &admin, "/api/v1/leads", json!({"name": "Lead One", "email": "one@lead.example", "assigned_to": ion.id})).await;
    ok(&app, &admin, &format!("/api/v1/leads/{}/convert-to-client", lead["id"]), json!({})).await;
    let new_clients_ion = goal(&app, &admin, json!({"goal_type": "new_clients", "target": "2", "target_type": "staff", "staff_id": ion.id})).await;
    assert_eq!(new_clients_ion["achieved"], "1", "ion's direct client counts, the converted lead's does not: {new_clients_ion}");
    let converted = goal(&app, &admin, json!({"goal_type": "converted_leads", "target": "1", "target_type": "staff", "staff_id": ion.id})).await;
    assert_eq!((converted["achieved"].as_str(), converted["status"].as_str()), (Some("1"), Some("achieved")));

    // A proposal accepted and invoiced; a contract signed.
    let client = created(&app, &admin, "/api/v1/clients", json!({"company": "Deal SRL", "assigned_to": ana.id})).await;
    let p = created(
        &app,
        &admin,
        "/api/v1/proposals",
        json!({"subject": "Deal", "client_id": client["id"], "assigned_to": ana.id, "lines": [{"description": "Setup", "qty": "1", "unit_price": "100"}]}),
    )
    .await;
    ok(&app, &admin, &format!("/api/v1/proposals/{}/status", p["id"]), json!({"status": 7})).await;
    ok(&app, &admin, &format!("/api/v1/proposals/{}/status", p["id"]), json!({"status": 3})).await;
    let accepted = goal(&app, &admin, json!({"goal_type": "accepted_proposals", "target": "1"})).await;
    assert_eq!(accepted["achieved"], "0", "accepted but not invoiced yet");
    created(&app, &admin, &format!("/api/v1/proposals/{}/convert-to-invoice", p["id"]), json!({})).await;
    let (_, accepted) = app.get(&format!("/api/v1/goals/{}", accepted["id"]), &admin).await;
    assert_eq!(accepted["achieved"], "1");

    let k = created(
        &app,
        &admin,
        "/api/v1/contracts",
        json!({"client_id": client["id"], "subject": "SLA", "value": "12000", "currency": "RON", "status_id": awaiting_signature(&app, &admin).await}),
    )
    .await;
    let portal = format!("/api/v1/portal/contracts/{}", k["portal_url"].as_str().unwrap().rsplit('/').next().unwrap());
    let (s, b) = app.post(&format!("{portal}/sign"), None, json!({"name": "Client Signer", "signature": "Client Signer"})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let contracts =
        goal(&app, &admin, json!({"goal_type": "contract_value", "target": "10000", "currency": "RON", "target_type": "team", "team_id": team["id"]})).await;
    assert_eq!((contracts["achieved"].as_str(), contracts["status"].as_str()), (Some("12000.00"), Some("achieved")));

    // Outside the period nothing counts.
    let today = OffsetDateTime::now_utc().date();
    let last_year = json!({"goal_type": "income", "target": "1", "currency": "RON", "start_date": (today - Duration::days(400)).to_string(), "end_date": (today - Duration::days(300)).to_string()});
    let old = goal(&app, &admin, last_year).await;
    assert_eq!((old["achieved"].as_str(), old["status"].as_str()), (Some("0.00"), Some("missed")));

    // The dashboard's question: the goals that concern me.
    let (_, mine) = app.get("/api/v1/goals?concerning=me&limit=100", &app.login("ion@crm.test", crate::helpers::PASSWORD).await.access_token).await;
    let subjects: Vec<i64> = mine["items"].as_array().unwrap().iter().map(|g| g["id"].as_i64().unwrap()).collect();
    assert!(subjects.contains(&new_clients_ion["id"].as_i64().unwrap()) && subjects.contains(&income_all["id"].as_i64().unwrap()));
    assert!(!subjects.contains(&income_ana["id"].as_i64().unwrap()) && !subjects.contains(&invoiced_team["id"].as_i64().unwrap()), "not ana's nor her team's");
}

async fn goal_notices(app: &TestApp, token: &str) -> Vec<String> {
    let (_, notes) = app.get("/api/v1/notifications?limit=100", token).await;
    let mut kinds: Vec<String> =
        notes["items"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap().to_string()).filter(|k| k.starts_with("goal_")).collect();
    kinds.sort();
    kinds
}

#[tokio::test]
async fn goals_notify_the_people_they_target_once_when_achieved_or_missed() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (ana, ana_token) = app.staff_with_token("ana@crm.test", "Sales Agent").await;
    let (ion, ion_token) = app.staff_with_token("ion@crm.test", "Sales Agent").await;
    let team = created(&app, &admin, "/api/v1/teams", json!({"name": "Both", "member_ids": [ana.id, ion.id]})).await;
    let today = OffsetDateTime::now_utc().date();
    let reached = goal(&app, &admin, json!({"subject": "Q income", "goal_type": "income", "target": "100", "currency": "RON", "target_type": "team", "team_id": team["id"], "notify_when_achieved": true, "notify_when_missed": true})).await;
    let missed = goal(
        &app,
        &admin,
        json!({"subject": "Last month", "goal_type": "income", "target": "1000", "currency": "RON", "target_type": "staff", "staff_id": ana.id,
            "start_date": (today - Duration::days(40)).to_string(), "end_date": (today - Duration::days(1)).to_string(), "notify_when_missed": true}),
    )
    .await;
    assert_eq!(missed["status"], "missed");
    let now = OffsetDateTime::now_utc();
    assert_eq!(app.job_runner("a").tick(now).await.unwrap().goal_notifications, Some(1), "only the missed one: {reached}");
    sale(&app, &admin, ana.id, "150", "150").await;
    assert_eq!(app.job_runner("b").tick(now + Duration::minutes(20)).await.unwrap().goal_notifications, Some(1), "now the achieved one");
    assert_eq!(app.job_runner("a").tick(now + Duration::minutes(40)).await.unwrap().goal_notifications, Some(0), "each once");
    assert_eq!(app.job_runner("b").tick(now + Duration::days(30)).await.unwrap().goal_notifications, Some(0), "an achieved goal is never missed");

    assert_eq!(goal_notices(&app, &ana_token).await, ["goal_achieved", "goal_missed"]);
    assert_eq!(goal_notices(&app, &ion_token).await, ["goal_achieved"], "the team goal reaches every member; ana's goal only her");
    let (_, notes) = app.get("/api/v1/notifications?limit=100", &ana_token).await;
    let missed_note = notes["items"].as_array().unwrap().iter().find(|n| n["kind"] == "goal_missed").unwrap();
    assert!(missed_note["title"].as_str().unwrap().contains("0.00%"), "{missed_note}");
}

#[tokio::test]
async fn goals_and_teams_are_validated_and_only_managers_change_them() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (ana, ana_token) = app.staff_with_token("ana@crm.test", "Sales Agent").await;
    let (start, end) = month();
    for (body, field) in [
        (
            json!({"subject": "x", "goal_type": "income", "target": "0", "currency": "RON", "start_date": start, "end_date": end, "target_type": "all"}),
            "target",
        ),
        (json!({"subject": "x", "goal_type": "income", "target": "10", "start_date": start, "end_date": end, "target_type": "all"}), "currency"),
        (json!({"subject": "x", "goal_type": "new_clients", "target": "1.5", "start_date": start, "end_date": end, "target_type": "all"}), "target"),
        (json!({"subject": "x", "goal_type": "new_clients", "target": "2", "start_date": end, "end_date": start, "target_type": "all"}), "end_date"),
        (json!({"subject": "x", "goal_type": "new_clients", "target": "2", "start_date": start, "end_date": end, "target_type": "team"}), "team_id"),
        (
            json!({"subject": "x", "goal_type": "new_clients", "target": "2", "start_date": start, "end_date": end, "target_type": "team", "team_id": 999}),
            "team_id",
        ),
    ] {
        let (s, b) = app.post("/api/v1/goals", Some(&admin), body.clone()).await;
        assert_problem(s, &b, 422, "validation_failed");
        assert_eq!(b["errors"][0]["field"], field, "{body}: {b}");
    }
    assert_eq!(app.count("goals").await, 0, "bad input changes nothing");
    let (s, b) = app.post("/api/v1/teams", Some(&admin), json!({"name": "Ghosts", "member_ids": [999]})).await;
    assert_problem(s, &b, 422, "validation_failed");

    let g = goal(&app, &admin, json!({"goal_type": "new_clients", "target": "3"})).await;
    let (s, b) = app
        .post(
            "/api/v1/goals",
            Some(&ana_token),
            json!({"subject": "Mine", "goal_type": "new_clients", "target": "1", "start_date": start, "end_date": end, "target_type": "all"}),
        )
        .await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, b) = app.patch(&format!("/api/v1/goals/{}", g["id"]), &ana_token, json!({"target": "1"})).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, seen) = app.get(&format!("/api/v1/goals/{}", g["id"]), &ana_token).await;
    assert_eq!(s, StatusCode::OK, "agents see goals: {seen}");

    // A change keeps what was not sent; a stale If-Match changes nothing.
    let (s, changed) = app.patch(&format!("/api/v1/goals/{}", g["id"]), &admin, json!({"target": "5", "target_type": "staff", "staff_id": ana.id})).await;
    assert_eq!(
        (s, changed["target"].as_str(), changed["goal_type"].as_str(), changed["staff_id"].as_i64()),
        (StatusCode::OK, Some("5"), Some("new_clients"), Some(ana.id as i64)),
        "{changed}"
    );
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/goals/{}", g["id"])))
        .bearer_auth(&admin)
        .header("If-Match", "\"stale\"")
        .json(&json!({"target": "9"}))
        .send()
        .await
        .unwrap();
    let (s, b) = json_of(res).await;
    assert_problem(s, &b, 412, "precondition_failed");
    let (s, _) = app.delete(&format!("/api/v1/goals/{}", g["id"]), &admin).await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // "View own" on goals: the company's and one's own, not a colleague's.
    let (s, _) = app.post("/api/v1/roles", Some(&admin), json!({"name": "Own goals", "permissions": {"goals": ["view_own"]}})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (ion, ion_token) = app.staff_with_token("ion@crm.test", "Own goals").await;
    let company = goal(&app, &admin, json!({"goal_type": "new_clients", "target": "3"})).await;
    let his = goal(&app, &admin, json!({"goal_type": "new_clients", "target": "3", "target_type": "staff", "staff_id": ion.id})).await;
    let hers = goal(&app, &admin, json!({"goal_type": "new_clients", "target": "3", "target_type": "staff", "staff_id": ana.id})).await;
    let (_, seen) = app.get("/api/v1/goals?limit=50", &ion_token).await;
    let mut ids: Vec<i64> = seen["items"].as_array().unwrap().iter().map(|g| g["id"].as_i64().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, [company["id"].as_i64().unwrap(), his["id"].as_i64().unwrap()]);
    let (s, b) = app.get(&format!("/api/v1/goals/{}", hers["id"]), &ion_token).await;
    assert_problem(s, &b, 404, "not_found");
}
