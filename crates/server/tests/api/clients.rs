use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app};
use crate::leads::create_lead;

#[tokio::test]
async fn clients_and_contacts_are_managed_with_one_primary_contact() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (s, client) = app
        .post(
            "/api/v1/clients",
            Some(&token),
            json!({"company": "Acme SRL", "vat_number": "RO123456", "county": "Cluj", "currency": "eur", "payment_terms_days": 15}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{client}");
    assert_eq!((client["currency"].as_str(), client["payment_terms_days"].as_i64()), (Some("EUR"), Some(15)));
    let id = client["id"].as_i64().unwrap();
    let contacts = format!("/api/v1/clients/{id}/contacts");
    let (_, first) = app.post(&contacts, Some(&token), json!({"name": "Ana", "email": "ana@acme.ro"})).await;
    assert_eq!(first["is_primary"], true, "the first contact is primary");
    let (_, second) = app.post(&contacts, Some(&token), json!({"name": "Dan", "phone": "+40 721 000 000", "is_primary": true})).await;
    assert_eq!(second["is_primary"], true);
    let (_, list) = app.get(&contacts, &token).await;
    let primaries: Vec<_> = list["items"].as_array().unwrap().iter().filter(|c| c["is_primary"] == true).map(|c| c["name"].clone()).collect();
    assert_eq!(primaries, [json!("Dan")]);
    let (s, _) = app.delete(&format!("{contacts}/{}", second["id"]), &token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, got) = app.get(&format!("/api/v1/clients/{id}"), &token).await;
    assert_eq!(got["contacts"][0]["name"], "Ana");
    assert_eq!(got["contacts"][0]["is_primary"], true, "promoted when the primary left");

    let (s, updated) = app.patch(&format!("/api/v1/clients/{id}"), &token, json!({"vat_number": "", "city": "Cluj-Napoca"})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((updated["vat_number"].clone(), updated["city"].as_str()), (Value::Null, Some("Cluj-Napoca")));
    assert_eq!(updated["company"], "Acme SRL");

    for (body, field) in [
        (json!({}), "company"),
        (json!({"company": "X", "currency": "ZZZ"}), "currency"),
        (json!({"company": "X", "payment_terms_days": 400}), "payment_terms_days"),
        (json!({"company": "X", "phone": "nope"}), "phone"),
    ] {
        let (s, b) = app.post("/api/v1/clients", Some(&token), body).await;
        assert_problem(s, &b, 422, "validation_failed");
        assert_eq!(b["errors"][0]["field"], field);
    }
    let (s, b) = app.post(&contacts, Some(&token), json!({"name": "X", "email": "bad"})).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(app.count("clients").await, 1);

    let (_, found) = app.get("/api/v1/clients?q=acme", &token).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let (s, _) = app.delete(&format!("/api/v1/clients/{id}"), &token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(app.count("client_contacts").await, 0);
}

#[tokio::test]
async fn converting_a_lead_creates_the_client_and_keeps_the_history() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let lead = create_lead(
        &app,
        &token,
        json!({
            "name": "Ana Pop", "company": "Acme SRL", "title": "CTO", "email": "ana@acme.ro", "phone": "+40 721 234 567",
            "city": "Cluj", "estimated_value": "5000", "currency": "EUR", "assigned_to": admin.id
        }),
    )
    .await;
    let id = lead["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/leads/{id}/activities"), Some(&token), json!({"type": "call", "summary": "Qualified", "duration_minutes": 20})).await;

    let (s, client) = app.post(&format!("/api/v1/leads/{id}/convert-to-client"), Some(&token), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{client}");
    assert_eq!((client["company"].as_str(), client["currency"].as_str(), client["lead_id"].as_i64()), (Some("Acme SRL"), Some("EUR"), Some(id)));
    let contact = &client["contacts"][0];
    assert_eq!((contact["name"].as_str(), contact["email"].as_str(), contact["is_primary"].as_bool()), (Some("Ana Pop"), Some("ana@acme.ro"), Some(true)));

    let (_, converted) = app.get(&format!("/api/v1/leads/{id}"), &token).await;
    assert_eq!(converted["converted_client_id"], client["id"]);
    assert!(converted["converted_at"].is_string());
    let (s, b) = app.post(&format!("/api/v1/leads/{id}/convert-to-client"), Some(&token), json!({})).await;
    assert_problem(s, &b, 409, "already_converted");
    assert_eq!(app.count("clients").await, 1);

    let (_, history) = app.get(&format!("/api/v1/clients/{}/history", client["id"]), &token).await;
    let text = history.to_string();
    assert!(text.contains("call: Qualified") && text.contains("converted to client"), "{history}");
}

#[tokio::test]
async fn view_own_clients_and_permissions() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (am, am_token) = app.staff_with_token("am@test.example", "Account Manager").await;
    let (_, sdr) = app.staff_with_token("sdr@test.example", "SDR").await;
    app.post("/api/v1/clients", Some(&admin), json!({"company": "Mine", "assigned_to": am.id})).await;
    let (_, theirs) = app.post("/api/v1/clients", Some(&admin), json!({"company": "Theirs"})).await;
    let (_, list) = app.get("/api/v1/clients", &am_token).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "account managers see every client");
    let (_, role) = app.post("/api/v1/roles", Some(&admin), json!({"name": "Own clients", "permissions": {"clients": ["view_own", "edit"]}})).await;
    app.post("/api/v1/staff", Some(&admin), json!({"name": "O", "email": "o@test.example", "password": crate::helpers::PASSWORD, "role_id": role["id"]})).await;
    let own = app.login("o@test.example", crate::helpers::PASSWORD).await.access_token;
    let (_, list) = app.get("/api/v1/clients", &own).await;
    assert!(list["items"].as_array().unwrap().is_empty());
    let (s, b) = app.get(&format!("/api/v1/clients/{}", theirs["id"]), &own).await;
    assert_problem(s, &b, 404, "not_found");
    let (s, b) = app.post("/api/v1/clients", Some(&sdr), json!({"company": "Nope"})).await;
    assert_problem(s, &b, 403, "forbidden");
}
