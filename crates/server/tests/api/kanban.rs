use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, TestApp};
use crate::leads::{create_lead, sales_statuses};

fn column<'a>(board: &'a Value, name: &str) -> &'a Value {
    board.as_array().unwrap().iter().find(|c| c["status"]["name"] == name).unwrap_or_else(|| panic!("no column {name}"))
}

fn card_ids(col: &Value) -> Vec<i64> {
    col["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect()
}

async fn board(app: &TestApp, token: &str, query: &str) -> Value {
    let (s, b) = app.get(&format!("/api/v1/leads/kanban{query}"), token).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b
}

#[tokio::test]
async fn the_board_counts_and_sums_per_currency_without_mixing_them() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let s = sales_statuses(&app, &token).await;
    create_lead(&app, &token, json!({"name": "A", "email": "a@x.ro", "estimated_value": "100.50", "currency": "RON", "tags": ["vip"]})).await;
    create_lead(&app, &token, json!({"name": "B", "email": "b@x.ro", "estimated_value": "200.25", "currency": "RON"})).await;
    create_lead(&app, &token, json!({"name": "C", "email": "c@x.ro", "estimated_value": "1000", "currency": "EUR"})).await;
    create_lead(&app, &token, json!({"name": "D", "email": "d@x.ro"})).await;
    let lost = create_lead(&app, &token, json!({"name": "E", "email": "e@x.ro", "estimated_value": "5", "currency": "RON"})).await;
    create_lead(&app, &token, json!({"name": "F", "email": "f@x.ro", "status_id": s[2]})).await;
    let (_, reasons) = app.get("/api/v1/lost-reasons", &token).await;
    app.post(&format!("/api/v1/leads/{}/lost", lost["id"]), Some(&token), json!({"lost_reason_id": reasons["items"][0]["id"]})).await;

    let b = board(&app, &token, "").await;
    let names: Vec<_> = b.as_array().unwrap().iter().map(|c| c["status"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["New", "Contacted", "Qualified", "Demo Scheduled", "Proposal Sent"]);
    let new = column(&b, "New");
    assert_eq!(new["count"], 4, "the lost lead is off the board");
    assert_eq!(new["value_totals"], json!([{"currency": "EUR", "amount": "1000.00"}, {"currency": "RON", "amount": "300.75"}]));
    let card = &new["items"][0];
    assert_eq!(card["name"], "D", "newest card on top");
    assert!(card.get("days_in_stage").is_some() && card.get("score").is_some() && card.get("tags").is_some());
    assert_eq!(column(&b, "Qualified")["count"], 1);
    assert_eq!(column(&b, "Contacted")["value_totals"], json!([]));
    assert!(b.as_array().unwrap().iter().all(|c| c["status"]["pipeline_id"] == b[0]["status"]["pipeline_id"]));
}

#[tokio::test]
async fn columns_page_with_cursors() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let s = sales_statuses(&app, &token).await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(create_lead(&app, &token, json!({"name": format!("L{i}"), "email": format!("l{i}@x.ro")})).await["id"].as_i64().unwrap());
    }
    let b = board(&app, &token, "?limit=2").await;
    let new = column(&b, "New");
    assert_eq!((new["count"].as_i64(), card_ids(new).len()), (Some(5), 2));
    let mut seen = card_ids(new);
    let mut cursor = new["next_cursor"].as_str().map(str::to_string);
    while let Some(c) = cursor {
        let (st, page) = app.get(&format!("/api/v1/leads/kanban/{}?limit=2&cursor={c}", s[0]), &token).await;
        assert_eq!(st, StatusCode::OK, "{page}");
        assert_eq!(page["count"], 5);
        seen.extend(card_ids(&page));
        cursor = page["next_cursor"].as_str().map(str::to_string);
    }
    created.reverse();
    assert_eq!(seen, created, "top to bottom, each once");
    let (st, b) = app.get(&format!("/api/v1/leads/kanban/{}?cursor=nope", s[0]), &token).await;
    assert_problem(st, &b, 400, "invalid_cursor");
    let (st, b) = app.get("/api/v1/leads/kanban?limit=0", &token).await;
    assert_problem(st, &b, 422, "validation_failed");
}

#[tokio::test]
async fn moving_a_card_changes_status_and_order_records_history_and_emits_an_event() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let s = sales_statuses(&app, &token).await;
    let x = create_lead(&app, &token, json!({"name": "X", "email": "x@x.ro"})).await["id"].as_i64().unwrap();
    let c1 = create_lead(&app, &token, json!({"name": "C1", "email": "c1@x.ro", "status_id": s[1]})).await["id"].as_i64().unwrap();
    let c2 = create_lead(&app, &token, json!({"name": "C2", "email": "c2@x.ro", "status_id": s[1]})).await["id"].as_i64().unwrap();
    // Contacted column is [c2, c1] (new cards on top). Drop X between them.
    let (st, moved) = app.post(&format!("/api/v1/leads/{x}/move"), Some(&token), json!({"status_id": s[1], "after_id": c2})).await;
    assert_eq!(st, StatusCode::OK, "{moved}");
    assert_eq!(moved["status"], "Contacted");
    let b = board(&app, &token, "").await;
    assert_eq!(card_ids(column(&b, "Contacted")), [c2, x, c1]);
    assert_eq!(column(&b, "New")["count"], 0);

    // Reorder within the column: to the top, then to the bottom; survives a reload.
    app.post(&format!("/api/v1/leads/{c1}/move"), Some(&token), json!({"status_id": s[1]})).await;
    assert_eq!(card_ids(column(&board(&app, &token, "").await, "Contacted")), [c1, c2, x]);
    app.post(&format!("/api/v1/leads/{c2}/move"), Some(&token), json!({"status_id": s[1], "after_id": x})).await;
    assert_eq!(card_ids(column(&board(&app, &token, "").await, "Contacted")), [c1, x, c2]);

    // History, audit and the outbox event.
    let (_, timeline) = app.get(&format!("/api/v1/leads/{x}/timeline"), &token).await;
    assert!(timeline.to_string().contains("New → Contacted"), "{timeline}");
    let (_, audit) = app.get(&format!("/api/v1/audit-log?entity_type=lead&entity_id={x}&action=lead.status_changed"), &token).await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1);
    let backend = app.state.db.get_database_backend();
    let rows = app
        .state
        .db
        .query_all(sea_orm::Statement::from_string(backend, "SELECT entity_id, payload FROM events WHERE event_type = 'lead.status_changed'"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "reorders within a column emit nothing");
    let payload: Value = rows[0].try_get("", "payload").unwrap();
    assert_eq!((payload["from_status_id"].as_i64(), payload["to_status_id"].as_i64()), (Some(s[0]), Some(s[1])));
}

#[tokio::test]
async fn many_moves_into_the_same_gap_stay_ordered() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let s = sales_statuses(&app, &token).await;
    let first = create_lead(&app, &token, json!({"name": "First", "email": "f@x.ro", "status_id": s[1]})).await["id"].as_i64().unwrap();
    let top = create_lead(&app, &token, json!({"name": "Top", "email": "t@x.ro", "status_id": s[1]})).await["id"].as_i64().unwrap();
    // Column: [top, first]. Keep inserting right after `top`: the gap halves each time until
    // the column must be renumbered (1024 → 0 after 11 moves).
    let mut expected_after_top = Vec::new();
    for i in 0..14 {
        let id = create_lead(&app, &token, json!({"name": format!("M{i}"), "email": format!("m{i}@x.ro")})).await["id"].as_i64().unwrap();
        let (st, b) = app.post(&format!("/api/v1/leads/{id}/move"), Some(&token), json!({"status_id": s[1], "after_id": top})).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        expected_after_top.insert(0, id);
    }
    let b = board(&app, &token, "?limit=50").await;
    let mut expected = vec![top];
    expected.extend(expected_after_top);
    expected.push(first);
    assert_eq!(card_ids(column(&b, "Contacted")), expected);
}

#[tokio::test]
async fn bad_moves_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let s = sales_statuses(&app, &token).await;
    let (_, other) = app.post("/api/v1/pipelines", Some(&token), json!({"name": "Other", "statuses": [{"name": "Elsewhere"}]})).await;
    let x = create_lead(&app, &token, json!({"name": "X", "email": "x@x.ro"})).await["id"].as_i64().unwrap();
    let y = create_lead(&app, &token, json!({"name": "Y", "email": "y@x.ro", "status_id": s[2]})).await["id"].as_i64().unwrap();
    let cases = [
        (json!({"status_id": other["statuses"][0]["id"]}), "wrong_pipeline"),
        (json!({"status_id": 999999}), "not_found"),
        (json!({"status_id": s[1], "after_id": y}), "not_in_column"),
        (json!({"status_id": s[0], "after_id": x}), "invalid"),
    ];
    for (body, code) in cases {
        let (st, b) = app.post(&format!("/api/v1/leads/{x}/move"), Some(&token), body.clone()).await;
        assert_problem(st, &b, 422, "validation_failed");
        assert_eq!(b["errors"][0]["code"], code, "{body}");
    }
    let (_, lead) = app.get(&format!("/api/v1/leads/{x}"), &token).await;
    assert_eq!(lead["status_id"], s[0]);
    assert_eq!(app.count("lead_status_changes").await, 2, "only the two creations");
}

#[tokio::test]
async fn view_own_boards_count_and_sum_only_own_cards() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (sdr, sdr_token) = app.staff_with_token("sdr@test.example", "SDR").await;
    create_lead(&app, &admin, json!({"name": "Mine", "email": "m@x.ro", "assigned_to": sdr.id, "estimated_value": "10", "currency": "RON"})).await;
    create_lead(&app, &admin, json!({"name": "Theirs", "email": "t@x.ro", "estimated_value": "90", "currency": "RON"})).await;
    let b = board(&app, &sdr_token, "").await;
    let new = column(&b, "New");
    assert_eq!(new["count"], 1);
    assert_eq!(new["value_totals"], json!([{"currency": "RON", "amount": "10.00"}]));
    assert_eq!(new["items"][0]["name"], "Mine");
    let all = board(&app, &admin, "").await;
    assert_eq!(column(&all, "New")["count"], 2);
    let mine_only = board(&app, &admin, "?assigned=me").await;
    assert_eq!(column(&mine_only, "New")["count"], 0);
}
