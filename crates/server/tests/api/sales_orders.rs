//! Sales orders: statuses, edits, and conversion to an invoice with identical totals.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn orders_are_confirmed_delivered_and_invoiced_once() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (_, c) = app.post("/api/v1/clients", Some(&token), json!({"company": "Order SRL", "payment_terms_days": 20})).await;
    let (_, taxes) = app.get("/api/v1/taxes", &token).await;
    let v21 = taxes["items"].as_array().unwrap().iter().find(|t| t["name"] == "VAT 21%").unwrap()["id"].clone();
    let (s, o) = app
        .post(
            "/api/v1/sales-orders",
            Some(&token),
            json!({"client_id": c["id"], "discount_type": "percent", "discount_value": "10",
            "lines": [{"description": "GPS tracker", "qty": "10", "unit_price": "389.90", "tax_ids": [v21]}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    assert_eq!(
        (o["number"].as_str(), o["status"].as_str(), o["total"].as_str()),
        (Some("SO-000001"), Some("draft"), Some("4246.01")),
        "3899.00 − 389.90 + 21 % of 3509.10 (736.91)"
    );
    let id = o["id"].clone();
    let status = |to: &'static str| {
        let (app, token, id) = (&app, token.clone(), id.clone());
        async move { app.post(&format!("/api/v1/sales-orders/{id}/status"), Some(&token), json!({"status": to})).await }
    };
    let (s, b) = app.post(&format!("/api/v1/sales-orders/{id}/convert-to-invoice"), Some(&token), json!({})).await;
    assert_problem(s, &b, 409, "invalid_status_transition");
    let (s, b) = status("delivered").await;
    assert_problem(s, &b, 409, "invalid_status_transition");
    for to in ["confirmed", "partially_delivered", "delivered"] {
        let (s, b) = status(to).await;
        assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some(to)), "{b}");
    }
    let (s, b) = app.patch(&format!("/api/v1/sales-orders/{id}"), &token, json!({"lines": []})).await;
    assert_problem(s, &b, 409, "invalid_status_transition");
    let (s, inv) = app.post(&format!("/api/v1/sales-orders/{id}/convert-to-invoice"), Some(&token), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{inv}");
    for field in ["subtotal", "discount_total", "taxes", "total_tax", "total"] {
        assert_eq!(inv[field], o[field], "{field}");
    }
    assert_eq!((inv["sales_order_id"].clone(), inv["status_code"].as_i64()), (id.clone(), Some(6)));
    let (_, after) = app.get(&format!("/api/v1/sales-orders/{id}"), &token).await;
    assert_eq!((after["status"].as_str(), after["invoice_id"].clone()), (Some("invoiced"), inv["id"].clone()));
    let (s, b) = app.post(&format!("/api/v1/sales-orders/{id}/convert-to-invoice"), Some(&token), json!({})).await;
    assert_problem(s, &b, 409, "already_converted");
    let (s, b) = status("cancelled").await;
    assert_problem(s, &b, 409, "invalid_status_transition");
    let (_, list) = app.get("/api/v1/sales-orders?status=invoiced", &token).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (s, b) = app.post("/api/v1/sales-orders", Some(&token), json!({"lines": []})).await;
    assert_problem(s, &b, 422, "validation_failed");
}
