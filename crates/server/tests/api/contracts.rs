//! Contracts: statuses, expiring list, portal signing with a content hash, renewal, creation
//! from an accepted proposal, and the expiry notice.

use reqwest::{Method, StatusCode};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::helpers::{assert_problem, awaiting_signature, json_of, spawn_app};

#[tokio::test]
async fn contracts_are_signed_on_the_portal_renewed_and_flagged_when_changed_after_signing() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (_, c) = app.post("/api/v1/clients", Some(&token), json!({"company": "Signer SRL"})).await;
    let today = OffsetDateTime::now_utc().date();
    let end = today + Duration::days(20);
    let (s, k) = app
        .post(
            "/api/v1/contracts",
            Some(&token),
            json!({"client_id": c["id"], "subject": "Support SLA", "contract_type": "SLA", "value": "12000", "currency": "RON",
            "start_date": (today - Duration::days(345)).to_string(), "end_date": end.to_string(), "content": "<p>We support you.</p><script>x()</script>"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{k}");
    assert_eq!((k["status"].as_str(), k["value"].as_str(), k["content"].as_str()), (Some("Draft"), Some("12000.00"), Some("<p>We support you.</p>")));
    let (_, far) = app
        .post("/api/v1/contracts", Some(&token), json!({"client_id": c["id"], "subject": "Later", "end_date": (today + Duration::days(200)).to_string()}))
        .await;
    let (_, expiring) = app.get("/api/v1/contracts?expiring_in_days=30", &token).await;
    let ids: Vec<_> = expiring["items"].as_array().unwrap().iter().map(|x| x["id"].clone()).collect();
    assert_eq!(ids, [k["id"].clone()], "only the one ending within 30 days, not {}", far["id"]);

    let portal = format!("/api/v1/portal/contracts/{}", k["portal_url"].as_str().unwrap().rsplit('/').next().unwrap());
    let (s, view) = json_of(app.request(Method::GET, &portal, None, None).await).await;
    assert_eq!((s, view["signature"].clone(), view["can_sign"].as_bool()), (StatusCode::OK, serde_json::Value::Null, Some(false)), "a draft is not signable");
    let (s, b) = app.post(&format!("{portal}/sign"), None, json!({"name": "Ana Signer", "signature": "Ana Signer"})).await;
    assert_problem(s, &b, 409, "invalid_status_transition");
    let (s, b) = app.patch(&format!("/api/v1/contracts/{}", k["id"]), &token, json!({"status_id": awaiting_signature(&app, &token).await})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, view) = json_of(app.request(Method::GET, &portal, None, None).await).await;
    assert_eq!(view["can_sign"], true);
    let (s, b) = app.post(&format!("{portal}/sign"), None, json!({"name": "Ana Signer", "signature": ""})).await;
    assert_problem(s, &b, 422, "validation_failed");
    let res = app
        .client
        .post(app.url(&format!("{portal}/sign")))
        .header("User-Agent", "SignTest/2.0")
        .json(&json!({"name": "Ana Signer", "signature": "Ana Signer"}))
        .send()
        .await
        .unwrap();
    let (s, signed) = json_of(res).await;
    assert_eq!(s, StatusCode::OK, "{signed}");
    assert_eq!(
        (signed["signature"]["name"].as_str(), signed["signature"]["ip"].as_str(), signed["signature"]["user_agent"].as_str(), signed["can_sign"].as_bool()),
        (Some("Ana Signer"), None, None, Some(false)),
        "the portal never shows the signer's IP or browser"
    );
    assert_eq!(signed["signature"]["content_hash"].as_str().unwrap().len(), 64);
    let (_, staff_view) = app.get(&format!("/api/v1/contracts/{}", k["id"]), &token).await;
    assert_eq!(
        (staff_view["signature"]["ip"].as_str(), staff_view["signature"]["user_agent"].as_str()),
        (Some("127.0.0.1"), Some("SignTest/2.0")),
        "staff see where it was signed from"
    );
    let (s, b) = app.post(&format!("{portal}/sign"), None, json!({"name": "Again", "signature": "x"})).await;
    assert_problem(s, &b, 409, "already_done");
    let (_, staff) = app.get(&format!("/api/v1/contracts/{}", k["id"]), &token).await;
    assert_eq!((staff["status"].as_str(), staff["changed_after_signing"].as_bool()), (Some("Active"), Some(false)));
    let (_, changed) = app.patch(&format!("/api/v1/contracts/{}", k["id"]), &token, json!({"content": "<p>We support you, a bit less.</p>"})).await;
    assert_eq!(changed["changed_after_signing"], true, "the signature covers the earlier text");
    let (s, b) = app.delete(&format!("/api/v1/contracts/{}", k["id"]), &token).await;
    assert_problem(s, &b, 409, "in_use");

    // Renewal: the next period, same length, linked.
    let (s, renewed) = app.post(&format!("/api/v1/contracts/{}/renew", k["id"]), Some(&token), json!({"value": "13000"})).await;
    assert_eq!(s, StatusCode::CREATED, "{renewed}");
    assert_eq!(renewed["renewed_from_id"], k["id"]);
    assert_eq!(renewed["start_date"], (end + Duration::days(1)).to_string());
    assert_eq!(renewed["end_date"], (end + Duration::days(1) + Duration::days(365)).to_string());
    assert_eq!(
        (renewed["value"].as_str(), renewed["status"].as_str(), renewed["signature"].clone()),
        (Some("13000.00"), Some("Draft"), serde_json::Value::Null)
    );

    // The expiry job tells the owner once.
    let scheduler = app.job_runner("contracts");
    let now = OffsetDateTime::now_utc();
    assert_eq!(scheduler.tick(now).await.unwrap().contract_expiry, Some(1));
    assert_eq!(scheduler.tick(now).await.unwrap().contract_expiry, Some(0));
    let (_, notes) = app.get("/api/v1/notifications", &token).await;
    assert!(notes["items"].as_array().unwrap().iter().any(|n| n["kind"] == "contract_expiring"), "{notes}");
    let (_, statuses) = app.get("/api/v1/contract-statuses", &token).await;
    let names: Vec<_> = statuses["items"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["Draft", "Active", "Expired", "Terminated", "Awaiting signature"]);
}

#[tokio::test]
async fn an_accepted_proposal_becomes_a_contract() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (_, lead) = app.post("/api/v1/leads", Some(&token), json!({"name": "Contract Lead", "email": "cl@example.com"})).await;
    let (_, p) = app
        .post(
            "/api/v1/proposals",
            Some(&token),
            json!({"subject": "Yearly support", "lead_id": lead["id"], "content": "<p>Scope</p>",
        "lines": [{"description": "Support", "qty": "12", "unit_price": "100"}]}),
        )
        .await;
    let (s, b) = app.post(&format!("/api/v1/proposals/{}/create-contract", p["id"]), Some(&token), json!({})).await;
    assert_problem(s, &b, 409, "proposal_not_accepted");
    app.post(&format!("/api/v1/proposals/{}/status", p["id"]), Some(&token), json!({"status": 7})).await;
    app.post(&format!("/api/v1/proposals/{}/status", p["id"]), Some(&token), json!({"status": 3})).await;
    let (s, k) = app.post(&format!("/api/v1/proposals/{}/create-contract", p["id"]), Some(&token), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{k}");
    assert_eq!((k["subject"].as_str(), k["value"].as_str(), k["proposal_id"].clone()), (Some("Yearly support"), Some("1200.00"), p["id"].clone()));
    assert!(k["content"].as_str().unwrap().contains("Scope"));
    let (_, lead) = app.get(&format!("/api/v1/leads/{}", lead["id"]), &token).await;
    assert_eq!(lead["converted_client_id"], k["client_id"], "the lead became the contract's client");
}

#[tokio::test]
async fn billed_documents_need_an_existing_client() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    for path in ["/api/v1/contracts", "/api/v1/sales-orders", "/api/v1/recurring-invoices"] {
        let (st, b) = app.post(path, Some(&token), json!({"currency": "RON"})).await;
        assert_problem(st, &b, 422, "validation_failed");
        assert!(b["errors"].as_array().unwrap().iter().any(|e| e["field"] == "client_id" && e["code"] == "required"), "{path}: {b}");
        let (st, b) = app.post(path, Some(&token), json!({"client_id": 999_999})).await;
        assert_problem(st, &b, 422, "validation_failed");
        assert!(b["errors"].as_array().unwrap().iter().any(|e| e["field"] == "client_id" && e["code"] == "not_found"), "{path}: {b}");
    }
}

/// Terminated, expired and ended contracts cannot be signed; a portal link can be revoked.
#[tokio::test]
async fn only_contracts_awaiting_signature_are_signed_and_portal_links_can_be_revoked() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (_, c) = app.post("/api/v1/clients", Some(&token), json!({"company": "Late Signer SRL"})).await;
    let today = OffsetDateTime::now_utc().date();
    let (_, statuses) = app.get("/api/v1/contract-statuses", &token).await;
    let status = |name: &str| statuses["items"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap()["id"].clone();
    let portal_of = |k: &serde_json::Value| format!("/api/v1/portal/contracts/{}", k["portal_url"].as_str().unwrap().rsplit('/').next().unwrap());
    let sign = json!({"name": "Ana Signer", "signature": "Ana Signer"});
    for (name, end) in [("Active", None), ("Terminated", None), ("Expired", None), ("Awaiting signature", Some(today - Duration::days(1)))] {
        let (s, k) = app
            .post(
                "/api/v1/contracts",
                Some(&token),
                json!({"client_id": c["id"], "subject": name, "status_id": status(name), "start_date": (today - Duration::days(30)).to_string(), "end_date": end.map(|d: time::Date| d.to_string())}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{k}");
        let (s, b) = app.post(&format!("{}/sign", portal_of(&k)), None, sign.clone()).await;
        assert_problem(s, &b, 409, "invalid_status_transition");
        let (_, after) = app.get(&format!("/api/v1/contracts/{}", k["id"]), &token).await;
        assert_eq!((after["status"].as_str(), after["signature"].is_null()), (Some(name), true), "unchanged: {after}");
    }

    // Revoking the link: the old one is gone, the new one works.
    let (_, k) =
        app.post("/api/v1/contracts", Some(&token), json!({"client_id": c["id"], "subject": "Forwarded", "status_id": status("Awaiting signature")})).await;
    let old = portal_of(&k);
    let (s, rotated) = app.post(&format!("/api/v1/contracts/{}/portal-token", k["id"]), Some(&token), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{rotated}");
    assert_ne!(rotated["portal_url"], k["portal_url"]);
    let (s, b) = json_of(app.request(Method::GET, &old, None, None).await).await;
    assert_problem(s, &b, 404, "not_found");
    let (s, b) = app.post(&format!("{old}/sign"), None, sign.clone()).await;
    assert_problem(s, &b, 404, "not_found");
    let (s, signed) = app.post(&format!("{}/sign", portal_of(&rotated)), None, sign).await;
    assert_eq!(s, StatusCode::OK, "{signed}");
}
