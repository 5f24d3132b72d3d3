//! Expenses: categories, taxes, files, who sees what, and the expense a commission receipt records.

use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::helpers::{assert_problem, json_of, spawn_app, TestApp};

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (s, b) = app.post(path, Some(token), body).await;
    assert_eq!(s, StatusCode::CREATED, "POST {path}: {b}");
    b
}

async fn vat21(app: &TestApp, token: &str) -> Value {
    let (_, taxes) = app.get("/api/v1/taxes", token).await;
    taxes["items"].as_array().unwrap().iter().find(|t| t["rate"] == "21").unwrap()["id"].clone()
}

#[tokio::test]
async fn expenses_carry_taxes_and_files_and_agents_see_their_own() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (agent, agent_token) = app.staff_with_token("ana@crm.test", "Sales Agent").await;
    let travel = created(&app, &admin, "/api/v1/expense-categories", json!({"name": "Travel"})).await;
    let (s, b) = app.post("/api/v1/expense-categories", Some(&admin), json!({"name": "Travel"})).await;
    assert_problem(s, &b, 409, "name_taken");
    let (s, b) = app.post("/api/v1/expense-categories", Some(&agent_token), json!({"name": "Mine"})).await;
    assert_problem(s, &b, 403, "forbidden");
    let vat = vat21(&app, &admin).await;

    let mine = created(
        &app,
        &agent_token,
        "/api/v1/expenses",
        json!({"category_id": travel["id"], "amount": "100", "currency": "RON", "tax_ids": [vat], "reference": "TRAIN-42"}),
    )
    .await;
    assert_eq!((mine["amount"].as_str(), mine["total"].as_str(), mine["staff_id"].as_i64()), (Some("100.00"), Some("121.00"), Some(agent.id as i64)), "{mine}");
    assert_eq!((mine["taxes"][0]["amount"].as_str(), mine["taxes"][0]["name"].as_str()), (Some("21.00"), Some("VAT 21%")));
    let theirs = created(&app, &admin, "/api/v1/expenses", json!({"category_id": travel["id"], "amount": "50.5", "currency": "EUR"})).await;
    assert_eq!(theirs["total"], "50.50");

    let (_, own) = app.get("/api/v1/expenses", &agent_token).await;
    assert_eq!(own["items"].as_array().unwrap().iter().map(|e| e["id"].clone()).collect::<Vec<_>>(), [mine["id"].clone()]);
    let (s, b) = app.get(&format!("/api/v1/expenses/{}", theirs["id"]), &agent_token).await;
    assert_problem(s, &b, 404, "not_found");
    let (_, all) = app.get(&format!("/api/v1/expenses?category_id={}", travel["id"]), &admin).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);

    // The scanned receipt: upload, list, download, and it goes with the expense.
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(b"%PDF-ticket".to_vec()).file_name("ticket.pdf").mime_str("application/pdf").unwrap());
    let res = app.client.post(app.url(&format!("/api/v1/expenses/{}/attachments", mine["id"]))).bearer_auth(&agent_token).multipart(form).send().await.unwrap();
    let (s, file) = json_of(res).await;
    assert_eq!((s, file["file_name"].as_str(), file["size_bytes"].as_i64()), (StatusCode::CREATED, Some("ticket.pdf"), Some(11)), "{file}");
    let res = app.client.get(app.url(&format!("/api/v1/expenses/{}/attachments/{}", mine["id"], file["id"]))).bearer_auth(&agent_token).send().await.unwrap();
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"%PDF-ticket");
    let (_, one) = app.get(&format!("/api/v1/expenses/{}", mine["id"]), &agent_token).await;
    assert_eq!(one["attachment_count"], 1);

    // A change keeps the rest; taxes follow the new amount.
    let (s, changed) = app.patch(&format!("/api/v1/expenses/{}", mine["id"]), &agent_token, json!({"amount": "200", "note": "Return ticket"})).await;
    assert_eq!((s, changed["total"].as_str(), changed["reference"].as_str()), (StatusCode::OK, Some("242.00"), Some("TRAIN-42")), "{changed}");
    let (s, changed) = app.patch(&format!("/api/v1/expenses/{}", mine["id"]), &agent_token, json!({"tax_ids": [], "reference": null})).await;
    assert_eq!((s, changed["total"].as_str(), changed["reference"].clone()), (StatusCode::OK, Some("200.00"), Value::Null));

    let (s, b) = app.delete(&format!("/api/v1/expense-categories/{}", travel["id"]), &admin).await;
    assert_problem(s, &b, 409, "in_use");
    let (s, b) = app.delete(&format!("/api/v1/expenses/{}", mine["id"]), &agent_token).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, _) = app.delete(&format!("/api/v1/expenses/{}", mine["id"]), &admin).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(app.count("expense_attachments").await, 0);
}

#[tokio::test]
async fn bad_expenses_are_refused_field_by_field_and_change_nothing() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (_, agent_token) = app.staff_with_token("ana@crm.test", "Sales Agent").await;
    let cat = created(&app, &admin, "/api/v1/expense-categories", json!({"name": "Office"})).await;
    let hidden = created(&app, &admin, "/api/v1/clients", json!({"company": "Not Yours SRL"})).await;
    for (body, field) in [
        (json!({"amount": "10", "currency": "RON"}), "category_id"),
        (json!({"category_id": 999, "amount": "10", "currency": "RON"}), "category_id"),
        (json!({"category_id": cat["id"], "amount": "-1", "currency": "RON"}), "amount"),
        (json!({"category_id": cat["id"], "amount": "1.234", "currency": "RON"}), "amount"),
        (json!({"category_id": cat["id"], "amount": "10", "currency": "XXX"}), "currency"),
        (json!({"category_id": cat["id"], "amount": "10", "currency": "RON", "tax_ids": [999]}), "tax_ids"),
        (json!({"category_id": cat["id"], "amount": "10", "currency": "RON", "staff_id": 999}), "staff_id"),
    ] {
        let (s, b) = app.post("/api/v1/expenses", Some(&admin), body.clone()).await;
        assert_problem(s, &b, 422, "validation_failed");
        assert_eq!(b["errors"][0]["field"], field, "{body}: {b}");
    }
    let (s, b) = app.post("/api/v1/expenses", Some(&admin), json!({"category_id": cat["id"], "amount": "10", "currency": "RON", "nonsense": 1})).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["field"], "nonsense", "unknown fields are named: {b}");

    // Someone who may record expenses but not see clients cannot book one on a client.
    let (s, _) = app.post("/api/v1/roles", Some(&admin), json!({"name": "Bookkeeper", "permissions": {"expenses": ["view_own", "create"]}})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, keeper) = app.staff_with_token("books@crm.test", "Bookkeeper").await;
    let (s, b) =
        app.post("/api/v1/expenses", Some(&keeper), json!({"category_id": cat["id"], "amount": "10", "currency": "RON", "client_id": hidden["id"]})).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["field"], "client_id");
    let (s, b) = app.post("/api/v1/expenses", Some(&agent_token), json!({"category_id": cat["id"], "amount": "10", "currency": "RON", "client_id": 999})).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(app.count("expenses").await, 0, "bad input changes nothing");
}

#[tokio::test]
async fn a_commission_receipt_can_record_its_payout_as_an_expense() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (agent, _) = app.staff_with_token("ana@crm.test", "Sales Agent").await;
    let policy = created(&app, &admin, "/api/v1/commission/policies", json!({"name": "Ten", "type": "percentage", "rate": "10"})).await;
    created(&app, &admin, "/api/v1/commission/applicable-staff", json!({"staff_id": agent.id, "policy_id": policy["id"]})).await;
    let client = created(&app, &admin, "/api/v1/clients", json!({"company": "Payer SRL"})).await;
    let inv = created(
        &app,
        &admin,
        "/api/v1/invoices",
        json!({"client_id": client["id"], "sale_agent": agent.id, "lines": [{"description": "Work", "qty": "1", "unit_price": "1000"}]}),
    )
    .await;
    app.post(&format!("/api/v1/invoices/{}/issue", inv["id"]), Some(&admin), json!({})).await;
    created(&app, &admin, &format!("/api/v1/invoices/{}/payments", inv["id"]), json!({"amount": "1000", "date": OffsetDateTime::now_utc().date().to_string()}))
        .await;
    let (_, commissions) = app.get("/api/v1/commissions", &admin).await;
    let ids: Vec<Value> = commissions["items"].as_array().unwrap().iter().map(|c| c["id"].clone()).collect();

    let receipt = created(&app, &admin, "/api/v1/commission-receipts", json!({"staff_id": agent.id, "commission_ids": ids, "create_expense": true})).await;
    let expense_id = receipt["expense_id"].clone();
    let (_, expense) = app.get(&format!("/api/v1/expenses/{expense_id}"), &admin).await;
    assert_eq!(
        (expense["category"].as_str(), expense["total"].as_str(), expense["staff_id"].as_i64(), expense["commission_receipt_id"].clone()),
        (Some("Commissions"), Some("100.00"), Some(agent.id as i64), receipt["id"].clone()),
        "{expense}"
    );
    // Its money follows the receipt: not even its owner changes the amount.
    let (s, b) = app.patch(&format!("/api/v1/expenses/{expense_id}"), &admin, json!({"amount": "1000"})).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["code"], "locked");
    let (s, _) = app.patch(&format!("/api/v1/expenses/{expense_id}"), &admin, json!({"note": "December payout"})).await;
    assert_eq!(s, StatusCode::OK);
}
