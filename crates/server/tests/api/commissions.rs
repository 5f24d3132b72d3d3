//! Commissions: policies, who earns, what each payment earns (parts add up to the whole), the
//! delay before a commission shows, deleted payments, receipts that pay out once.

use reqwest::StatusCode;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use crate::helpers::{assert_problem, spawn_app, TestApp};

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (s, b) = app.post(path, Some(token), body).await;
    assert_eq!(s, StatusCode::CREATED, "POST {path}: {b}");
    b
}

async fn vat21(app: &TestApp, token: &str) -> Value {
    let (_, taxes) = app.get("/api/v1/taxes", token).await;
    taxes["items"].as_array().unwrap().iter().find(|t| t["rate"] == "21").unwrap()["id"].clone()
}

/// An issued invoice with `sale_agent`, one line of `net` (+21 % VAT).
async fn issued_invoice(app: &TestApp, token: &str, agent: i32, net: &str) -> Value {
    let client = created(app, token, "/api/v1/clients", json!({"company": "Payer SRL"})).await;
    let tax = vat21(app, token).await;
    let inv = created(
        app,
        token,
        "/api/v1/invoices",
        json!({"client_id": client["id"], "sale_agent": agent, "lines": [{"description": "Licences", "qty": "1", "unit_price": net, "tax_ids": [tax]}]}),
    )
    .await;
    let (s, inv) = app.post(&format!("/api/v1/invoices/{}/issue", inv["id"]), Some(token), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{inv}");
    inv
}

/// Records a payment; returns it (the answer of the POST is the invoice).
async fn pay(app: &TestApp, token: &str, invoice: &Value, amount: &str, date: time::Date) -> Value {
    let path = format!("/api/v1/invoices/{}/payments", invoice["id"]);
    created(app, token, &path, json!({"amount": amount, "date": date.to_string()})).await;
    let (_, payments) = app.get(&path, token).await;
    payments["items"].as_array().unwrap().last().unwrap().clone()
}

/// A sales agent earning under a new policy with these rules.
async fn agent_under(app: &TestApp, admin: &str, email: &str, rules: Value) -> (i32, String, Value) {
    let (agent, token) = app.staff_with_token(email, "Sales Agent").await;
    let mut body = json!({"name": format!("Policy of {email}")});
    body.as_object_mut().unwrap().extend(rules.as_object().unwrap().clone());
    let policy = created(app, admin, "/api/v1/commission/policies", body).await;
    created(app, admin, "/api/v1/commission/applicable-staff", json!({"staff_id": agent.id, "policy_id": policy["id"]})).await;
    (agent.id, token, policy)
}

fn amounts(page: &Value) -> Vec<String> {
    let mut v: Vec<String> = page["items"].as_array().unwrap().iter().map(|c| c["amount"].as_str().unwrap().to_string()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_ladder_earns_marginally_on_payments_and_the_parts_add_up_to_the_whole() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let ladder = json!({"type": "ladder", "tiers": [
        {"from": "0", "to": "10000", "rate": "5"}, {"from": "10000", "to": "30000", "rate": "7"}, {"from": "30000", "to": null, "rate": "10"}]});
    let (agent, agent_token, _) = agent_under(&app, &admin, "ana@crm.test", ladder).await;
    // 40,000.00 net + 21 % VAT = 48,400.00: the commission is on the net, 500 + 1,400 + 1,000.
    let inv = issued_invoice(&app, &admin, agent, "40000").await;
    assert_eq!(inv["total"], "48400.00");
    let today = OffsetDateTime::now_utc().date();
    pay(&app, &admin, &inv, "16133.33", today).await;
    let (_, page) = app.get("/api/v1/commissions", &agent_token).await;
    assert_eq!(amounts(&page), ["966.67"], "a third of the invoice earns a third of 2,900.00: {page}");
    assert_eq!(page["items"][0]["base_amount"], "13333.33");
    pay(&app, &admin, &inv, "32266.67", today).await;

    let (_, page) = app.get("/api/v1/commissions", &agent_token).await;
    assert_eq!(amounts(&page), ["1933.33", "966.67"], "{page}");
    assert_eq!(page["totals"], json!([{"currency": "RON", "pending": "2900.00", "paid": "0.00"}]));
    let first = &page["items"][1];
    assert_eq!((first["status"].as_str(), first["status_code"].as_i64(), first["invoice_number"].clone()), (Some("pending"), Some(0), inv["number"].clone()));

    // A percentage policy with three uneven payments: still exactly 10 % of the net.
    let (agent2, token2, _) = agent_under(&app, &admin, "ion@crm.test", json!({"type": "percentage", "rate": "10"})).await;
    let inv = issued_invoice(&app, &admin, agent2, "1000").await;
    for part in ["400.01", "400.01", "409.98"] {
        pay(&app, &admin, &inv, part, today).await;
    }
    let (_, page) = app.get("/api/v1/commissions", &token2).await;
    assert_eq!(page["totals"][0]["pending"], "100.00", "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 3);

    // A sale agent changed after a first payment: the new one earns only what is left.
    let (agent3, token3, _) = agent_under(&app, &admin, "next@crm.test", json!({"type": "percentage", "rate": "10"})).await;
    let inv = issued_invoice(&app, &admin, agent2, "1000").await;
    pay(&app, &admin, &inv, "605.00", today).await;
    let (s, b) = app.patch(&format!("/api/v1/invoices/{}", inv["id"]), &admin, json!({"sale_agent": agent3})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    pay(&app, &admin, &inv, "605.00", today).await;
    let (_, all) = app.get(&format!("/api/v1/commissions?invoice_id={}", inv["id"]), &admin).await;
    assert_eq!(all["totals"][0]["pending"], "100.00", "never more than the invoice's commission: {all}");
    let (_, next) = app.get("/api/v1/commissions", &token3).await;
    assert_eq!(amounts(&next), ["50.00"]);

    // Without a policy, or without a sale agent, a payment earns nothing.
    let (nobody, _) = app.staff_with_token("free@crm.test", "Sales Agent").await;
    let inv = issued_invoice(&app, &admin, nobody.id, "500").await;
    pay(&app, &admin, &inv, "605.00", today).await;
    let (_, all) = app.get(&format!("/api/v1/commissions?staff_id={}", nobody.id), &admin).await;
    assert_eq!(all["items"], json!([]));
}

#[tokio::test]
async fn product_and_margin_policies_use_the_items_groups_and_costs() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let hw =
        created(&app, &admin, "/api/v1/items", json!({"description": "Router", "unit_price": "1000", "purchase_price": "600", "group_name": "Hardware"})).await;
    let sw = created(&app, &admin, "/api/v1/items", json!({"description": "Licence", "unit_price": "500", "group_name": "Software"})).await;
    let rules = json!({"type": "product", "rate": "2", "product_rates": [{"item_id": sw["id"], "rate": "20"}, {"group": "Hardware", "rate": "5"}]});
    let (agent, token, policy) = agent_under(&app, &admin, "prod@crm.test", rules).await;
    let client = created(&app, &admin, "/api/v1/clients", json!({"company": "Shop SRL"})).await;
    let lines = json!([
        {"item_id": hw["id"], "description": "Router", "qty": "2", "unit_price": "1000"},
        {"item_id": sw["id"], "description": "Licence", "qty": "1", "unit_price": "500"},
        {"description": "Installation", "qty": "1", "unit_price": "300"}]);
    let inv = created(&app, &admin, "/api/v1/invoices", json!({"client_id": client["id"], "sale_agent": agent, "lines": lines})).await;
    let (_, inv) = app.post(&format!("/api/v1/invoices/{}/issue", inv["id"]), Some(&admin), json!({})).await;
    pay(&app, &admin, &inv, inv["total"].as_str().unwrap(), OffsetDateTime::now_utc().date()).await;
    // 5 % of 2,000 + 20 % of 500 + 2 % of 300 = 100 + 100 + 6.
    let (_, page) = app.get("/api/v1/commissions", &token).await;
    assert_eq!(amounts(&page), ["206.00"], "{page}");

    // The same agent under a margin policy from now on: 10 % of (net − cost) per line.
    let (s, b) = app.patch(&format!("/api/v1/commission/policies/{}", policy["id"]), &admin, json!({"type": "margin", "rate": "10"})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let inv = created(&app, &admin, "/api/v1/invoices", json!({"client_id": client["id"], "sale_agent": agent, "lines": lines})).await;
    let (_, inv) = app.post(&format!("/api/v1/invoices/{}/issue", inv["id"]), Some(&admin), json!({})).await;
    // The router costs more from now on: the invoice keeps the cost it was written with.
    let (s, b) = app.patch(&format!("/api/v1/items/{}", hw["id"]), &admin, json!({"purchase_price": "900"})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    pay(&app, &admin, &inv, inv["total"].as_str().unwrap(), OffsetDateTime::now_utc().date()).await;
    // (2,000 − 1,200) + 500 + 300 = 1,600 of margin → 160.00; the first commission keeps its amount.
    let (_, page) = app.get("/api/v1/commissions", &token).await;
    assert_eq!(amounts(&page), ["160.00", "206.00"], "{page}");
}

#[tokio::test]
async fn commissions_show_after_the_configured_days_and_the_earner_is_told_once() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (s, b) = app.patch("/api/v1/settings", &admin, json!({"commission_calculate_after_days": 7})).await;
    assert_eq!((s, &b["commission_calculate_after_days"]), (StatusCode::OK, &json!(7)), "{b}");
    let (s, b) = app.patch("/api/v1/settings", &admin, json!({"commission_calculate_after_days": 400})).await;
    assert_problem(s, &b, 422, "validation_failed");
    let (agent, token, _) = agent_under(&app, &admin, "late@crm.test", json!({"type": "percentage", "rate": "10"})).await;
    let inv = issued_invoice(&app, &admin, agent, "1000").await;
    let today = OffsetDateTime::now_utc().date();
    pay(&app, &admin, &inv, "605.00", today - Duration::days(10)).await;
    pay(&app, &admin, &inv, "605.00", today).await;

    // The payment of ten days ago shows; today's shows in a week.
    let (_, page) = app.get("/api/v1/commissions", &token).await;
    assert_eq!(amounts(&page), ["50.00"], "{page}");
    let (_, all) = app.get("/api/v1/commissions", &admin).await;
    assert_eq!(amounts(&all), ["50.00"], "nobody sees it early");
    assert_eq!(app.count("commissions").await, 2);

    // The job runner tells the agent once, whichever server runs it, as each one shows.
    let now = OffsetDateTime::now_utc();
    assert_eq!(app.job_runner("a").tick(now).await.unwrap().commissions_announced, Some(1));
    assert_eq!(app.job_runner("b").tick(now + Duration::minutes(20)).await.unwrap().commissions_announced, Some(0));
    assert_eq!(app.job_runner("b").tick(now + Duration::days(8)).await.unwrap().commissions_announced, Some(1));
    assert_eq!(app.job_runner("a").tick(now + Duration::days(9)).await.unwrap().commissions_announced, Some(0));
    let (_, notes) = app.get("/api/v1/notifications", &token).await;
    let told = notes["items"].as_array().unwrap().iter().filter(|n| n["kind"] == "commission_available").count();
    assert_eq!(told, 2, "{notes}");
}

#[tokio::test]
async fn receipts_pay_pending_commissions_once_and_deleted_payments_take_theirs_back() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (agent, token, _) = agent_under(&app, &admin, "paid@crm.test", json!({"type": "percentage", "rate": "10"})).await;
    let inv = issued_invoice(&app, &admin, agent, "1000").await;
    let today = OffsetDateTime::now_utc().date();
    let p1 = pay(&app, &admin, &inv, "484.00", today).await;
    let p2 = pay(&app, &admin, &inv, "363.00", today).await;
    let (_, page) = app.get("/api/v1/commissions", &token).await;
    let by_payment = |p: &Value| page["items"].as_array().unwrap().iter().find(|c| c["payment_id"] == p["id"]).unwrap().clone();
    let (c1, c2) = (by_payment(&p1), by_payment(&p2));
    assert_eq!((c1["amount"].as_str(), c2["amount"].as_str()), (Some("40.00"), Some("30.00")));

    // Input is checked before anything changes.
    let (s, b) = app.post("/api/v1/commission-receipts", Some(&admin), json!({"staff_id": agent, "commission_ids": []})).await;
    assert_problem(s, &b, 422, "validation_failed");
    let (other, _) = app.staff_with_token("other@crm.test", "Sales Agent").await;
    let (s, b) = app.post("/api/v1/commission-receipts", Some(&admin), json!({"staff_id": other.id, "commission_ids": [c1["id"]]})).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["code"], "other_staff");
    let (s, b) = app.post("/api/v1/commission-receipts", Some(&token), json!({"staff_id": agent, "commission_ids": [c1["id"]]})).await;
    assert_problem(s, &b, 403, "forbidden");

    // Two managers pay the same commission at the same moment: one receipt, the other told.
    let body = json!({"staff_id": agent, "commission_ids": [c1["id"]], "note": "December"});
    let (a, b) = tokio::join!(app.post("/api/v1/commission-receipts", Some(&admin), body.clone()), app.post("/api/v1/commission-receipts", Some(&admin), body));
    let mut codes = [a.0.as_u16(), b.0.as_u16()];
    codes.sort();
    assert_eq!(codes, [201, 409], "{} / {}", a.1, b.1);
    let receipt = if a.0 == StatusCode::CREATED { a.1 } else { b.1 };
    assert_eq!((receipt["total"].as_str(), receipt["commissions"].as_array().unwrap().len()), (Some("40.00"), 1), "{receipt}");
    assert_eq!(app.count("commission_receipts").await, 1);
    let (_, paid) = app.get("/api/v1/commissions?status=paid", &token).await;
    assert_eq!(paid["items"].as_array().unwrap().iter().map(|c| c["receipt_id"].clone()).collect::<Vec<_>>(), [receipt["id"].clone()]);
    assert_eq!(paid["totals"], json!([{"currency": "RON", "pending": "0.00", "paid": "40.00"}]));
    let (_, receipts) = app.get("/api/v1/commission-receipts", &token).await;
    assert_eq!(receipts["items"].as_array().unwrap().len(), 1, "{receipts}");
    assert_eq!((receipts["items"][0]["number"].as_str(), receipts["items"][0]["commissions"][0]["id"].clone()), (Some("CR-000001"), c1["id"].clone()));
    let res = app.client.get(app.url(&format!("/api/v1/commission-receipts/{}/pdf", receipt["id"]))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(res.bytes().await.unwrap().starts_with(b"%PDF"));

    // Deleting the unpaid payment deletes its commission; deleting the paid one leaves it paid
    // and adds a pending −40.00 that the next receipt nets out.
    let (s, _) = app.delete(&format!("/api/v1/payments/{}", p2["id"]), &admin).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app.delete(&format!("/api/v1/payments/{}", p1["id"]), &admin).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, page) = app.get("/api/v1/commissions", &token).await;
    assert_eq!(amounts(&page), ["-40.00", "40.00"], "{page}");
    let offset = page["items"].as_array().unwrap().iter().find(|c| c["amount"] == "-40.00").unwrap();
    assert_eq!((offset["offsets_id"].clone(), offset["status_code"].as_i64(), offset["payment_id"].clone()), (c1["id"].clone(), Some(0), Value::Null));
    assert_eq!(page["totals"], json!([{"currency": "RON", "pending": "-40.00", "paid": "40.00"}]));
}

#[tokio::test]
async fn policies_are_validated_and_each_role_sees_what_it_may() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let bad = json!({"name": "Gappy", "type": "ladder", "tiers": [{"from": "0", "to": "100", "rate": "5"}, {"from": "200", "to": null, "rate": "7"}]});
    let (s, b) = app.post("/api/v1/commission/policies", Some(&admin), bad).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["field"], "tiers.1.from", "{b}");
    let (s, b) = app.post("/api/v1/commission/policies", Some(&admin), json!({"name": "No rate", "type": "percentage"})).await;
    assert_problem(s, &b, 422, "validation_failed");
    let (s, b) = app
        .post("/api/v1/commission/policies", Some(&admin), json!({"name": "Ghost", "type": "product", "product_rates": [{"item_id": 999, "rate": "5"}]}))
        .await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["field"], "product_rates.0.item_id");
    assert_eq!(app.count("commission_policies").await, 0, "bad input changes nothing");

    let (agent, agent_token, policy) = agent_under(&app, &admin, "own@crm.test", json!({"type": "percentage", "rate": "10"})).await;
    let (colleague, colleague_token, _) = agent_under(&app, &admin, "col@crm.test", json!({"type": "percentage", "rate": "5"})).await;
    let (s, b) = app.post("/api/v1/commission/applicable-staff", Some(&admin), json!({"staff_id": agent, "policy_id": policy["id"]})).await;
    assert_problem(s, &b, 409, "already_assigned");
    let (s, b) = app.post("/api/v1/commission/policies", Some(&admin), json!({"name": policy["name"], "type": "percentage", "rate": "3"})).await;
    assert_problem(s, &b, 409, "name_taken");
    let (s, b) = app.delete(&format!("/api/v1/commission/policies/{}", policy["id"]), &admin).await;
    assert_problem(s, &b, 409, "in_use");

    let today = OffsetDateTime::now_utc().date();
    for (who, net) in [(agent, "1000"), (colleague, "2000")] {
        let inv = issued_invoice(&app, &admin, who, net).await;
        pay(&app, &admin, &inv, inv["total"].as_str().unwrap(), today).await;
    }
    // View own: one's own commissions, policy and applicable entry; nothing to manage.
    let (_, mine) = app.get("/api/v1/commissions", &agent_token).await;
    assert_eq!(amounts(&mine), ["100.00"]);
    let (_, theirs) = app.get(&format!("/api/v1/commissions?staff_id={colleague}"), &agent_token).await;
    assert_eq!(theirs["items"], json!([]), "a filter never widens view own");
    let (_, policies) = app.get("/api/v1/commission/policies", &agent_token).await;
    assert_eq!(policies["items"].as_array().unwrap().iter().map(|p| p["id"].clone()).collect::<Vec<_>>(), [policy["id"].clone()]);
    let (_, applicable) = app.get("/api/v1/commission/applicable-staff", &colleague_token).await;
    assert_eq!(applicable["items"].as_array().unwrap().len(), 1);
    let (s, b) = app.post("/api/v1/commission/policies", Some(&agent_token), json!({"name": "Mine", "type": "percentage", "rate": "50"})).await;
    assert_problem(s, &b, 403, "forbidden");
    let other_commission = app.get(&format!("/api/v1/commissions?staff_id={colleague}"), &admin).await.1["items"][0]["id"].clone();
    let (s, b) = app.get(&format!("/api/v1/commissions/{other_commission}"), &agent_token).await;
    assert_problem(s, &b, 404, "not_found");
    // The manager sees everyone's, with totals per currency.
    let (_, all) = app.get("/api/v1/commissions", &admin).await;
    assert_eq!(amounts(&all), ["100.00", "100.00"]);
    assert_eq!(all["totals"][0]["pending"], "200.00");
}
