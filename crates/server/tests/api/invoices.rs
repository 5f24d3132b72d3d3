//! Invoices and payments: the guide's Lead → Cash flow, numbering (also under concurrency),
//! overdue detection, cancellation, client credit, PDF and the portal.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, json_of, spawn_app, spawn_app_with, TestApp};
use crate::leads::create_lead;
use crate::smtp::SmtpSink;

async fn tax_id(app: &TestApp, token: &str, name: &str) -> i64 {
    let (_, taxes) = app.get("/api/v1/taxes", token).await;
    taxes["items"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap()["id"].as_i64().unwrap()
}

async fn client_with_contact(app: &TestApp, token: &str, company: &str) -> Value {
    let (s, c) =
        app.post("/api/v1/clients", Some(token), json!({"company": company, "vat_number": "RO998877", "city": "Cluj-Napoca", "payment_terms_days": 15})).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    app.post(&format!("/api/v1/clients/{}/contacts", c["id"]), Some(token), json!({"name": "Ana", "email": "billing@client.example"})).await;
    c
}

/// A draft invoice of 1000 + 21 % = 1210.00 RON.
async fn draft(app: &TestApp, token: &str, client_id: &Value, extra: Value) -> Value {
    let mut body = json!({"client_id": client_id, "lines": [{"description": "Consulting", "qty": "10", "unit_price": "100", "tax_ids": [tax_id(app, token, "VAT 21%").await]}]});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let (s, inv) = app.post("/api/v1/invoices", Some(token), body).await;
    assert_eq!(s, StatusCode::CREATED, "{inv}");
    inv
}

async fn pay(app: &TestApp, token: &str, id: &Value, amount: &str) -> (StatusCode, Value) {
    let (_, modes) = app.get("/api/v1/payment-modes", token).await;
    let mode = modes["items"][0]["id"].clone();
    app.post(&format!("/api/v1/invoices/{id}/payments"), Some(token), json!({"amount": amount, "payment_mode_id": mode, "transaction_id": "OP-123"})).await
}

#[tokio::test]
async fn lead_to_cash_accepted_proposal_to_paid_invoice() {
    let smtp = SmtpSink::start();
    let app = spawn_app_with(|s| {
        s.smtp_url = Some(smtp.url());
        s.email_poll = Duration::from_millis(100);
    })
    .await;
    let (_, token) = app.admin().await;
    app.patch("/api/v1/settings", &token, json!({"company_name": "Seller SRL", "company_vat_number": "RO111", "company_registration_number": "J12/1/2020"}))
        .await;
    app.patch("/api/v1/billing/config", &token, json!({"payment_instructions": "IBAN RO49 AAAA 1B31 0075 9384 0000"})).await;
    let lead = create_lead(&app, &token, json!({"name": "Dan Deal", "company": "Deal SRL", "email": "dan@deal.example"})).await;
    let (_, p) = app
        .post("/api/v1/proposals", Some(&token), json!({"subject": "Deal", "lead_id": lead["id"], "lines": [{"description": "Setup", "qty": "2", "unit_price": "500", "tax_ids": [tax_id(&app, &token, "VAT 21%").await]}]}))
        .await;
    app.post(&format!("/api/v1/proposals/{}/status", p["id"]), Some(&token), json!({"status": 7})).await;
    let portal_token = p["portal_url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let (s, _) = app.post(&format!("/api/v1/portal/proposals/{portal_token}/accept"), None, json!({"name": "Dan Deal"})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, inv) = app.post(&format!("/api/v1/proposals/{}/convert-to-invoice", p["id"]), Some(&token), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{inv}");
    assert_eq!((inv["total"].as_str(), inv["status_code"].as_i64(), inv["number"].clone()), (Some("1210.00"), Some(6), Value::Null));
    let id = inv["id"].clone();

    // Paying a draft is refused; issuing gives the first number.
    let (s, b) = pay(&app, &token, &id, "10").await;
    assert_problem(s, &b, 409, "invalid_status_transition");
    let (s, issued) = app.post(&format!("/api/v1/invoices/{id}/issue"), Some(&token), json!({})).await;
    assert_eq!((s, issued["number"].as_str(), issued["status_code"].as_i64()), (StatusCode::OK, Some("INV-000001"), Some(1)), "{issued}");
    let (s, b) = app.post(&format!("/api/v1/invoices/{id}/issue"), Some(&token), json!({})).await;
    assert_problem(s, &b, 409, "invalid_status_transition");

    // Send: e-mail with the PDF and the portal link, to the client's contact.
    let (s, sent) = app.post(&format!("/api/v1/invoices/{id}/send"), Some(&token), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{sent}");
    let mail = smtp.wait_for(1).await.remove(0);
    assert_eq!(mail.to, ["dan@deal.example"]);
    assert_eq!(mail.subject(), "Invoice INV-000001 from Seller SRL");
    let link = mail.text().lines().find(|l| l.starts_with("http://crm.test/invoice/")).expect("portal link").trim().to_string();
    assert_eq!(link, sent["portal_url"]);
    let (name, pdf) = mail.attachments().remove(0);
    assert_eq!(name, "INV-000001.pdf");
    let text = pdf_extract::extract_text_from_mem(&pdf).unwrap();
    for expected in ["INVOICE", "INV-000001", "Seller SRL", "RO111", "J12/1/2020", "Deal SRL", "1210.00", "210.00", "IBAN RO49"] {
        assert!(text.contains(expected), "`{expected}` missing from the PDF:\n{text}");
    }

    // Partial payment → Partially paid (3); overpayment refused, nothing recorded; rest → Paid (2).
    let (s, after) = pay(&app, &token, &id, "500.00").await;
    assert_eq!((s, after["status_code"].as_i64(), after["balance_due"].as_str()), (StatusCode::CREATED, Some(3), Some("710.00")), "{after}");
    let (s, b) = pay(&app, &token, &id, "710.01").await;
    assert_problem(s, &b, 409, "payment_exceeds_balance");
    assert_eq!(app.count("payments").await, 1);
    let (s, b) = pay(&app, &token, &id, "-5").await;
    assert_problem(s, &b, 422, "validation_failed");
    let (s, paid) = pay(&app, &token, &id, "710").await;
    assert_eq!(
        (s, paid["status_code"].as_i64(), paid["status"].as_str(), paid["total_paid"].as_str()),
        (StatusCode::CREATED, Some(2), Some("paid"), Some("1210.00"))
    );
    let (_, payments) = app.get(&format!("/api/v1/invoices/{id}/payments"), &token).await;
    assert_eq!(payments["items"].as_array().unwrap().len(), 2);
    assert_eq!(payments["items"][0]["payment_mode"], "Bank transfer");
    let (_, all) = app.get(&format!("/api/v1/payments?client_id={}", inv["client_id"]), &token).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);

    // Cancelling with payments is refused; deleting one recomputes the status.
    let (s, b) = app.post(&format!("/api/v1/invoices/{id}/cancel"), Some(&token), json!({})).await;
    assert_problem(s, &b, 409, "invoice_has_payments");
    let receipt = app.request(Method::GET, &format!("/api/v1/payments/{}/receipt", payments["items"][1]["id"]), Some(&token), None).await;
    assert_eq!(receipt.headers()["content-type"], "application/pdf");
    let receipt_text = pdf_extract::extract_text_from_mem(&receipt.bytes().await.unwrap()).unwrap();
    assert!(receipt_text.contains("PAYMENT RECEIPT") && receipt_text.contains("710.00") && receipt_text.contains("INV-000001"), "{receipt_text}");
    let (s, _) = app.delete(&format!("/api/v1/payments/{}", payments["items"][1]["id"]), &token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, back) = app.get(&format!("/api/v1/invoices/{id}"), &token).await;
    assert_eq!((back["status_code"].as_i64(), back["balance_due"].as_str()), (Some(3), Some("710.00")));

    // The client's portal view: payments history and balance, no login.
    let invoice_token = link.rsplit('/').next().unwrap();
    let (s, portal) = json_of(app.request(Method::GET, &format!("/api/v1/portal/invoices/{invoice_token}"), None, None).await).await;
    assert_eq!(s, StatusCode::OK, "{portal}");
    assert_eq!((portal["balance_due"].as_str(), portal["payments"].as_array().unwrap().len()), (Some("710.00"), 1));
    assert_eq!(portal["payment_instructions"], "IBAN RO49 AAAA 1B31 0075 9384 0000");
    let pdf = app.request(Method::GET, &format!("/api/v1/portal/invoices/{invoice_token}/pdf"), None, None).await;
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
}

#[tokio::test]
async fn overdue_shows_without_payment_after_the_due_date_and_lists_filter_like_the_guide() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let c = client_with_contact(&app, &token, "Late Payer SRL").await;
    let late = draft(&app, &token, &c["id"], json!({"date": "2026-01-05", "due_date": "2026-01-20"})).await;
    let (_, late) = app.post(&format!("/api/v1/invoices/{}/issue", late["id"]), Some(&token), json!({})).await;
    assert_eq!((late["status_code"].as_i64(), late["status"].as_str(), late["is_overdue"].as_bool()), (Some(4), Some("overdue"), Some(true)));
    assert!(late["days_overdue"].as_i64().unwrap() > 300);
    let fresh = draft(&app, &token, &c["id"], json!({})).await;
    let today = time::OffsetDateTime::now_utc().date();
    assert_eq!(fresh["due_date"], (today + time::Duration::days(15)).to_string(), "due from the client's payment terms");
    let (_, fresh) = app.post(&format!("/api/v1/invoices/{}/issue", fresh["id"]), Some(&token), json!({})).await;
    assert_eq!(fresh["status_code"], 1);
    let _draft = draft(&app, &token, &c["id"], json!({"currency": "EUR"})).await;

    // A partially paid late invoice is Partially paid (3) yet still in the overdue list.
    let (_, partly) = pay(&app, &token, &late["id"], "100").await;
    assert_eq!((partly["status_code"].as_i64(), partly["is_overdue"].as_bool()), (Some(3), Some(true)));

    let numbers = |page: &Value| page["items"].as_array().unwrap().iter().map(|i| i["number"].clone()).collect::<Vec<_>>();
    let (_, overdue) = app.get("/api/v1/invoices?status=4", &token).await;
    assert_eq!(numbers(&overdue), [late["number"].clone()]);
    assert_eq!(overdue["totals"], json!([{"currency": "RON", "count": 1, "total": "1210.00", "paid": "100.00", "balance_due": "1110.00"}]));
    let (_, unpaid) = app.get("/api/v1/invoices?status=unpaid", &token).await;
    assert_eq!(numbers(&unpaid), [fresh["number"].clone()]);
    let (_, drafts) = app.get("/api/v1/invoices?status=6", &token).await;
    assert_eq!(drafts["totals"][0]["currency"], "EUR");
    let (_, all) = app.get("/api/v1/invoices", &token).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    assert_eq!(all["totals"].as_array().unwrap().len(), 2, "per currency, never mixed: {}", all["totals"]);
    let (_, found) = app.get("/api/v1/invoices?q=late%20payer", &token).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 3);
    let (_, by_number) = app.get(&format!("/api/v1/invoices?q={}", fresh["number"].as_str().unwrap()), &token).await;
    assert_eq!(numbers(&by_number), [fresh["number"].clone()]);
    let (s, b) = app.get("/api/v1/invoices?status=9", &token).await;
    assert_problem(s, &b, 400, "invalid_query");
}

#[tokio::test]
async fn numbers_follow_the_billing_config_without_gaps_even_when_issued_concurrently() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let c = client_with_contact(&app, &token, "Busy SRL").await;
    let (s, config) = app.patch("/api/v1/billing/config", &token, json!({"prefix": "FCT-", "format": "year_number", "padding": 4})).await;
    assert_eq!((s, config["next_number"].as_i64()), (StatusCode::OK, Some(1)), "{config}");
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(draft(&app, &token, &c["id"], json!({"date": "2026-03-02"})).await["id"].clone());
    }
    let issues = ids.iter().map(|id| {
        let (app, token) = (&app, token.clone());
        async move { app.post(&format!("/api/v1/invoices/{id}/issue"), Some(&token), json!({})).await }
    });
    let mut numbers: Vec<String> = futures_util::future::join_all(issues)
        .await
        .into_iter()
        .map(|(s, inv)| {
            assert_eq!(s, StatusCode::OK, "{inv}");
            inv["number"].as_str().unwrap().to_string()
        })
        .collect();
    numbers.sort();
    assert_eq!(numbers, (1..=10).map(|n| format!("FCT-2026/{n:04}")).collect::<Vec<_>>());
    let (_, config) = app.get("/api/v1/billing/config", &token).await;
    assert_eq!(config["next_number"], 11);
    let (s, b) = app.patch("/api/v1/billing/config", &token, json!({"next_number": 5})).await;
    assert_problem(s, &b, 422, "validation_failed");
    let (s, config) = app.patch("/api/v1/billing/config", &token, json!({"next_number": 100})).await;
    assert_eq!((s, config["next_number"].as_i64()), (StatusCode::OK, Some(100)));
    let next = draft(&app, &token, &c["id"], json!({})).await;
    let (_, next) = app.post(&format!("/api/v1/invoices/{}/issue", next["id"]), Some(&token), json!({})).await;
    assert_eq!(next["number"], format!("FCT-{}/0100", time::OffsetDateTime::now_utc().year()));
    // A new series counts on its own.
    let (s, config) = app.patch("/api/v1/billing/config", &token, json!({"series": "B", "prefix": "B-", "format": "number"})).await;
    assert_eq!((s, config["series"].as_str(), config["next_number"].as_i64()), (StatusCode::OK, Some("B"), Some(1)), "{config}");
    let other = draft(&app, &token, &c["id"], json!({})).await;
    let (_, other) = app.post(&format!("/api/v1/invoices/{}/issue", other["id"]), Some(&token), json!({})).await;
    assert_eq!(other["number"], "B-0001");
    let (s, b) = app.patch("/api/v1/billing/config", &token, json!({"series": "no spaces"})).await;
    assert_problem(s, &b, 422, "validation_failed");
}

#[tokio::test]
async fn cancellation_deletion_and_edits_respect_the_lifecycle() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let c = client_with_contact(&app, &token, "Cancel SRL").await;
    let d = draft(&app, &token, &c["id"], json!({})).await;
    let draft_token = d["portal_url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let (s, b) = json_of(app.request(Method::GET, &format!("/api/v1/portal/invoices/{draft_token}"), None, None).await).await;
    assert_problem(s, &b, 404, "not_found");
    let (s, _) = app.delete(&format!("/api/v1/invoices/{}", d["id"]), &token).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "drafts can be deleted");
    // Sending a draft issues it first; the e-mail goes to the client's contact.
    let to_send = draft(&app, &token, &c["id"], json!({})).await;
    let (s, sent) = app.post(&format!("/api/v1/invoices/{}/send", to_send["id"]), Some(&token), json!({})).await;
    assert_eq!((s, sent["number"].as_str(), sent["status_code"].as_i64()), (StatusCode::OK, Some("INV-000001"), Some(1)), "{sent}");
    let (_, emails) = app.get(&format!("/api/v1/invoices/{}/emails", to_send["id"]), &token).await;
    assert_eq!(emails["items"][0]["to"], json!(["billing@client.example"]));
    assert_eq!(emails["items"][0]["has_attachment"], true);
    let inv = draft(&app, &token, &c["id"], json!({})).await;
    let id = inv["id"].clone();
    app.post(&format!("/api/v1/invoices/{id}/issue"), Some(&token), json!({})).await;
    let (s, b) = app.delete(&format!("/api/v1/invoices/{id}"), &token).await;
    assert_problem(s, &b, 409, "invoice_locked");
    let (s, cancelled) = app.post(&format!("/api/v1/invoices/{id}/cancel"), Some(&token), json!({})).await;
    assert_eq!((s, cancelled["status_code"].as_i64()), (StatusCode::OK, Some(5)));
    let (s, b) = pay(&app, &token, &id, "1").await;
    assert_problem(s, &b, 409, "invalid_status_transition");
    let (s, b) = app.patch(&format!("/api/v1/invoices/{id}"), &token, json!({"client_note": "x"})).await;
    assert_problem(s, &b, 409, "invoice_locked");
    let (s, back) = app.post(&format!("/api/v1/invoices/{id}/uncancel"), Some(&token), json!({})).await;
    assert_eq!((s, back["status_code"].as_i64()), (StatusCode::OK, Some(1)));
    pay(&app, &token, &id, "10").await;
    let (s, b) = app.patch(&format!("/api/v1/invoices/{id}"), &token, json!({"lines": []})).await;
    assert_problem(s, &b, 409, "invoice_locked");
    let (s, _) =
        app.post("/api/v1/custom-fields", Some(&token), json!({"entity": "invoice", "key": "po_number", "label": "PO number", "field_type": "text"})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, ok) =
        app.patch(&format!("/api/v1/invoices/{id}"), &token, json!({"client_note": "Thank you", "tags": ["q4"], "custom_fields": {"po_number": "PO-7"}})).await;
    assert_eq!((s, ok["client_note"].as_str(), ok["custom_fields"]["po_number"].as_str()), (StatusCode::OK, Some("Thank you"), Some("PO-7")), "{ok}");
    let (_, by_po) = app.get("/api/v1/invoices?cf.po_number=PO-7", &token).await;
    assert_eq!(by_po["items"].as_array().unwrap().len(), 1);
    for (body, field) in [
        (json!({}), "client_id"),
        (json!({"client_id": 999}), "client_id"),
        (json!({"client_id": c["id"], "date": "2026-05-10", "due_date": "2026-05-01"}), "due_date"),
    ] {
        let (s, b) = app.post("/api/v1/invoices", Some(&token), body).await;
        assert_problem(s, &b, 422, "validation_failed");
        assert_eq!(b["errors"][0]["field"], field, "{b}");
    }
}

#[tokio::test]
async fn advance_payments_become_credit_applied_to_invoices_later() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let c = client_with_contact(&app, &token, "Prepaid SRL").await;
    let credits = format!("/api/v1/clients/{}/credits", c["id"]);
    let (s, credit) = app.post(&credits, Some(&token), json!({"amount": "300", "currency": "RON", "note": "advance"})).await;
    assert_eq!((s, credit["balances"][0]["amount"].as_str()), (StatusCode::CREATED, Some("300.00")), "{credit}");
    let inv = draft(&app, &token, &c["id"], json!({})).await;
    app.post(&format!("/api/v1/invoices/{}/issue", inv["id"]), Some(&token), json!({})).await;
    let apply = format!("/api/v1/invoices/{}/apply-credit", inv["id"]);
    let (s, b) = app.post(&apply, Some(&token), json!({"amount": "300.01"})).await;
    assert_problem(s, &b, 409, "insufficient_credit");
    let (s, after) = app.post(&apply, Some(&token), json!({"amount": "200"})).await;
    assert_eq!((s, after["status_code"].as_i64(), after["total_paid"].as_str()), (StatusCode::OK, Some(3), Some("200.00")), "{after}");
    let (_, credit) = app.get(&credits, &token).await;
    assert_eq!(credit["balances"][0]["amount"], "100.00");
    assert_eq!(credit["entries"].as_array().unwrap().len(), 2);
    let (_, payments) = app.get(&format!("/api/v1/invoices/{}/payments", inv["id"]), &token).await;
    assert_eq!(payments["items"][0]["source"], "credit");
    // Deleting the payment gives the credit back.
    app.delete(&format!("/api/v1/payments/{}", payments["items"][0]["id"]), &token).await;
    let (_, credit) = app.get(&credits, &token).await;
    assert_eq!(credit["balances"][0]["amount"], "300.00");
}

/// An invoice's portal link can be revoked and re-issued; the old one answers 404.
#[tokio::test]
async fn an_invoice_portal_link_is_rotated_and_the_old_one_stops_working() {
    let app = crate::helpers::spawn_app().await;
    let (_, token) = app.admin().await;
    let (_, c) = app.post("/api/v1/clients", Some(&token), serde_json::json!({"company": "Link SRL"})).await;
    let (_, inv) = app
        .post("/api/v1/invoices", Some(&token), serde_json::json!({"client_id": c["id"], "lines": [{"description": "Plan", "qty": "1", "unit_price": "100"}]}))
        .await;
    let (_, inv) = app.post(&format!("/api/v1/invoices/{}/issue", inv["id"]), Some(&token), serde_json::json!({})).await;
    let old = format!("/api/v1/portal/invoices/{}", inv["portal_url"].as_str().expect("issued invoices have a link").rsplit('/').next().unwrap());
    let (s, _) = crate::helpers::json_of(app.request(reqwest::Method::GET, &old, None, None).await).await;
    assert_eq!(s, reqwest::StatusCode::OK);
    let (s, rotated) = app.post(&format!("/api/v1/invoices/{}/portal-token", inv["id"]), Some(&token), serde_json::json!({})).await;
    assert_eq!(s, reqwest::StatusCode::OK, "{rotated}");
    let (s, b) = crate::helpers::json_of(app.request(reqwest::Method::GET, &old, None, None).await).await;
    crate::helpers::assert_problem(s, &b, 404, "not_found");
    let new = format!("/api/v1/portal/invoices/{}", rotated["portal_url"].as_str().unwrap().rsplit('/').next().unwrap());
    let (s, _) = crate::helpers::json_of(app.request(reqwest::Method::GET, &new, None, None).await).await;
    assert_eq!(s, reqwest::StatusCode::OK);
    let (_, agent) = app.staff_with_token("viewer@test.example", "Sales Agent").await;
    let (s, _) = app.post(&format!("/api/v1/invoices/{}/portal-token", inv["id"]), Some(&agent), serde_json::json!({})).await;
    assert!(s == reqwest::StatusCode::FORBIDDEN || s == reqwest::StatusCode::NOT_FOUND, "{s}");
}
