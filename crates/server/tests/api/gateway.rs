//! Online payment against a local stand-in that follows Stripe's Checkout contract.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use crmconnect::config::GatewaySettings;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::Sha256;

use crate::helpers::{assert_problem, json_of, spawn_app, spawn_app_with, TestApp};

const API_KEY: &str = "sk_test_crmconnect";
const WEBHOOK_SECRET: &str = "whsec_test_crmconnect";

type Seen = Arc<Mutex<Vec<HashMap<String, String>>>>;

/// `POST /v1/checkout/sessions` as Stripe answers it: form-encoded, bearer key, JSON session.
async fn start_stand_in() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let data = web::Data::new(seen.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).route(
            "/v1/checkout/sessions",
            web::post().to(|req: HttpRequest, form: web::Form<HashMap<String, String>>, seen: web::Data<Seen>| async move {
                if req.headers().get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {API_KEY}")) {
                    return HttpResponse::Unauthorized().json(json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}));
                }
                let mut seen = seen.lock().unwrap();
                seen.push(form.into_inner());
                let id = format!("cs_test_{}", seen.len());
                HttpResponse::Ok()
                    .json(json!({"id": id, "object": "checkout.session", "url": format!("https://checkout.test/c/pay/{id}"), "payment_status": "unpaid"}))
            }),
        )
    })
    .listen(listener)
    .unwrap()
    .workers(1)
    .run();
    tokio::spawn(server);
    (url, seen)
}

fn signed(body: &str, t: i64, secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let sig: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={sig}")
}

async fn issued_invoice(app: &TestApp, token: &str) -> serde_json::Value {
    let (_, c) = app.post("/api/v1/clients", Some(token), json!({"company": "Card Payer SRL"})).await;
    let (_, inv) =
        app.post("/api/v1/invoices", Some(token), json!({"client_id": c["id"], "lines": [{"description": "Plan", "qty": "1", "unit_price": "121"}]})).await;
    let (_, inv) = app.post(&format!("/api/v1/invoices/{}/issue", inv["id"]), Some(token), json!({})).await;
    inv
}

async fn deliver(app: &TestApp, body: &str, signature: &str) -> (StatusCode, serde_json::Value) {
    json_of(
        app.client
            .post(app.url("/api/v1/payments/webhook"))
            .header("Stripe-Signature", signature)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn card_payments_start_a_checkout_and_the_signed_webhook_records_them_once() {
    let (gateway_url, seen) = start_stand_in().await;
    let app =
        spawn_app_with(|s| s.gateway = Some(GatewaySettings { base_url: gateway_url.clone(), api_key: API_KEY.into(), webhook_secret: WEBHOOK_SECRET.into() }))
            .await;
    let (_, token) = app.admin().await;
    let inv = issued_invoice(&app, &token).await;
    let portal_token = inv["portal_url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let (s, started) = json_of(app.request(Method::POST, &format!("/api/v1/portal/invoices/{portal_token}/pay"), None, None).await).await;
    assert_eq!(s, StatusCode::OK, "{started}");
    assert_eq!(started["checkout_url"], "https://checkout.test/c/pay/cs_test_1");
    let form = seen.lock().unwrap()[0].clone();
    assert_eq!(form["mode"], "payment");
    assert_eq!(form["line_items[0][price_data][unit_amount]"], "12100", "the balance in minor units");
    assert_eq!(form["line_items[0][price_data][currency]"], "ron");
    assert_eq!(form["client_reference_id"], inv["id"].to_string());

    let event = json!({"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {
        "id": "cs_test_1", "object": "checkout.session", "amount_total": 12100, "currency": "ron", "payment_status": "paid",
        "client_reference_id": inv["id"].to_string(), "payment_intent": "pi_123"}}})
    .to_string();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (s, b) = deliver(&app, &event, &signed(&event, now, "whsec_wrong")).await;
    assert_problem(s, &b, 400, "invalid_signature");
    let (s, b) = deliver(&app, &event, &signed(&event, now - 3600, WEBHOOK_SECRET)).await;
    assert_problem(s, &b, 400, "invalid_signature");
    assert_eq!(app.count("payments").await, 0);
    // Delivered twice (gateways retry): one payment.
    for _ in 0..2 {
        let (s, b) = deliver(&app, &event, &signed(&event, now, WEBHOOK_SECRET)).await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    assert_eq!(app.count("payments").await, 1);
    let (_, paid) = app.get(&format!("/api/v1/invoices/{}", inv["id"]), &token).await;
    assert_eq!((paid["status_code"].as_i64(), paid["total_paid"].as_str()), (Some(2), Some("121.00")));
    let (_, payments) = app.get(&format!("/api/v1/invoices/{}/payments", inv["id"]), &token).await;
    assert_eq!(
        (payments["items"][0]["source"].as_str(), payments["items"][0]["payment_mode"].as_str(), payments["items"][0]["transaction_id"].as_str()),
        (Some("gateway"), Some("Card"), Some("pi_123"))
    );
    // Nothing left to pay.
    let (s, b) = json_of(app.request(Method::POST, &format!("/api/v1/portal/invoices/{portal_token}/pay"), None, None).await).await;
    assert_problem(s, &b, 409, "invalid_status_transition");

    // A second session paid after the invoice was settled goes wholly to client credit — once,
    // however often the gateway delivers it.
    let late = json!({"id": "evt_2", "type": "checkout.session.completed", "data": {"object": {
        "id": "cs_test_late", "object": "checkout.session", "amount_total": 5000, "currency": "ron", "payment_status": "paid",
        "client_reference_id": inv["id"].to_string()}}})
    .to_string();
    for _ in 0..2 {
        let (s, b) = deliver(&app, &late, &signed(&late, now, WEBHOOK_SECRET)).await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    assert_eq!((app.count("payments").await, app.count("client_credits").await), (1, 1), "one payment, one credit entry");
}

#[tokio::test]
async fn without_a_gateway_online_payment_is_unavailable() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let inv = issued_invoice(&app, &token).await;
    let portal_token = inv["portal_url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let (s, b) = json_of(app.request(Method::POST, &format!("/api/v1/portal/invoices/{portal_token}/pay"), None, None).await).await;
    assert_problem(s, &b, 503, "payments_unavailable");
    let (s, b) = deliver(&app, "{}", "t=1,v1=00").await;
    assert_problem(s, &b, 503, "payments_unavailable");
}

/// The client paid, then the invoice was cancelled before the gateway's event arrived: the
/// money is not lost and not refused — it becomes one client credit, however often delivered.
#[tokio::test]
async fn a_payment_for_a_cancelled_invoice_becomes_one_client_credit() {
    let app = spawn_app_with(|s| {
        s.gateway = Some(GatewaySettings { base_url: "http://127.0.0.1:9".into(), api_key: API_KEY.into(), webhook_secret: WEBHOOK_SECRET.into() })
    })
    .await;
    let (_, token) = app.admin().await;
    let inv = issued_invoice(&app, &token).await;
    let (s, b) = app.post(&format!("/api/v1/invoices/{}/cancel", inv["id"]), Some(&token), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let event = json!({"id": "evt_c", "type": "checkout.session.completed", "data": {"object": {
        "id": "cs_test_cancelled", "object": "checkout.session", "amount_total": 12100, "currency": "ron", "payment_status": "paid",
        "client_reference_id": inv["id"].to_string()}}})
    .to_string();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (s, first) = deliver(&app, &event, &signed(&event, now, WEBHOOK_SECRET)).await;
    assert_eq!(s, StatusCode::OK, "{first}");
    assert!(first["credit_id"].is_i64() && first["payment_id"].is_null(), "{first}");
    for _ in 0..3 {
        let (s, b) = deliver(&app, &event, &signed(&event, now, WEBHOOK_SECRET)).await;
        assert_eq!((s, b["duplicate"].as_bool()), (StatusCode::OK, Some(true)), "{b}");
    }
    assert_eq!((app.count("payments").await, app.count("client_credits").await), (0, 1));
    let (s, credits) = app.get(&format!("/api/v1/clients/{}/credits", inv["client_id"]), &token).await;
    assert_eq!(s, StatusCode::OK, "{credits}");
    assert!(credits.to_string().contains("121.00"), "the client holds 121.00 of credit: {credits}");
}
