//! Proposals end to end: catalogue, arithmetic through the API, the guide's status codes,
//! sending through a real SMTP server, the client portal, PDF, and conversion.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, json_of, spawn_app, spawn_app_with, TestApp};
use crate::leads::create_lead;
use crate::smtp::SmtpSink;

async fn quoting_app(smtp_url: Option<String>) -> TestApp {
    spawn_app_with(|s| {
        s.smtp_url = smtp_url;
        s.email_poll = Duration::from_millis(100);
        s.email_retry_base = Duration::from_millis(200);
    })
    .await
}

async fn tax_id(app: &TestApp, token: &str, name: &str) -> i64 {
    let (_, taxes) = app.get("/api/v1/taxes", token).await;
    taxes["items"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("tax {name}: {taxes}"))["id"].as_i64().unwrap()
}

/// A lead with an e-mail and a proposal for it with two lines (21 % and 11 % VAT).
async fn lead_and_proposal(app: &TestApp, token: &str) -> (Value, Value) {
    let lead = create_lead(app, token, json!({"name": "Ana Pop", "company": "Pop Logistics SRL", "email": "ana@pop.example", "city": "Cluj-Napoca"})).await;
    let (v21, v11) = (tax_id(app, token, "VAT 21%").await, tax_id(app, token, "VAT 11%").await);
    let (s, p) = app
        .post(
            "/api/v1/proposals",
            Some(token),
            json!({
                "subject": "Fleet tracking",
                "lead_id": lead["id"],
                "lines": [
                    {"description": "Tracker", "qty": "3", "unit": "pcs", "unit_price": "199.99", "tax_ids": [v21], "discount_percent": "10"},
                    {"description": "Installation", "long_description": "On site, Cluj", "qty": "1.5", "unit": "h", "unit_price": "120", "tax_ids": [v11]}
                ],
                "content": "<p>Dear Ana,</p><script>alert(1)</script><p>our offer.</p>",
                "terms": "<p>Payment in 15 days.</p>",
                "internal_notes": "margin is thin",
                "tags": ["fleet"]
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    (lead, p)
}

async fn numbers(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let (s, page) = app.get(&format!("/api/v1/proposals{query}"), token).await;
    assert_eq!(s, StatusCode::OK, "{query}: {page}");
    page["items"].as_array().unwrap().iter().map(|x| x["number"].as_str().unwrap().to_string()).collect()
}

fn token_of(p: &Value) -> String {
    p["portal_url"].as_str().expect("portal_url").rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn proposals_compute_every_amount_and_filter_like_the_guide() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let (lead, p) = lead_and_proposal(&app, &token).await;
    // 3 × 199.99 = 599.97, −10 % (60.00) = 539.97 at 21 % → 113.39; 1.5 × 120 = 180.00 at 11 % → 19.80.
    assert_eq!(p["lines"][0]["amount"], "599.97");
    assert_eq!(p["lines"][0]["discount"], "60.00");
    assert_eq!(p["lines"][0]["net"], "539.97");
    assert_eq!(p["subtotal"], "719.97");
    assert_eq!(
        p["taxes"].as_array().unwrap().iter().map(|t| (t["rate"].as_str().unwrap().to_string(), t["amount"].as_str().unwrap().to_string())).collect::<Vec<_>>(),
        [("11".into(), "19.80".to_string()), ("21".into(), "113.39".into())]
    );
    assert_eq!((p["total_tax"].as_str(), p["total"].as_str()), (Some("133.19"), Some("853.16")));
    assert_eq!((p["status"].as_str(), p["status_code"].as_i64()), (Some("draft"), Some(6)));
    assert_eq!(p["number"], "PRO-000001");
    assert_eq!(p["currency"], "RON");
    assert_eq!(p["recipient"]["name"], "Ana Pop");
    assert_eq!(p["recipient"]["email"], "ana@pop.example");
    assert_eq!(p["assigned_to"], admin.id);
    assert_eq!(p["content"], "<p>Dear Ana,</p><p>our offer.</p>", "scripts are stripped");
    assert_eq!(p["expired"], false);
    let open_till = time::OffsetDateTime::now_utc().date() + time::Duration::days(14);
    assert_eq!(p["open_till"], open_till.to_string(), "default validity from the setting");
    assert!(token_of(&p).len() >= 43, "a 256-bit portal token");

    // A document discount before tax lowers the bases; numbering continues.
    let (s, p2) = app
        .post(
            "/api/v1/proposals",
            Some(&token),
            json!({"subject": "Second", "lead_id": lead["id"], "discount_type": "fixed", "discount_value": "100",
            "lines": [{"description": "Service", "qty": "1", "unit_price": "1000", "tax_ids": [tax_id(&app, &token, "VAT 21%").await]}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p2}");
    assert_eq!(
        (p2["number"].as_str(), p2["discount_total"].as_str(), p2["total_tax"].as_str(), p2["total"].as_str()),
        (Some("PRO-000002"), Some("100"), Some("189.00"), Some("1089.00"))
    );

    assert_eq!(numbers(&app, &token, "").await, ["PRO-000002", "PRO-000001"], "newest first");
    assert_eq!(numbers(&app, &token, "?status=6").await.len(), 2);
    assert!(numbers(&app, &token, "?status=4").await.is_empty());
    let (s, _) = app.post(&format!("/api/v1/proposals/{}/status", p["id"]), Some(&token), json!({"status": 7})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(numbers(&app, &token, "?status=7").await, ["PRO-000001"]);
    assert_eq!(numbers(&app, &token, "?status=sent_manually,draft").await.len(), 2);
    assert_eq!(numbers(&app, &token, "?status=7&status=6").await.len(), 2);
    assert_eq!(numbers(&app, &token, "?q=second").await, ["PRO-000002"]);
    assert_eq!(numbers(&app, &token, "?expired=true").await.len(), 0);
    assert_eq!(numbers(&app, &token, &format!("?lead_id={}", lead["id"])).await.len(), 2);
    let (s, b) = app.get("/api/v1/proposals?status=9", &token).await;
    assert_problem(s, &b, 400, "invalid_query");

    // Internal notes are for staff only.
    assert_eq!(p["internal_notes"], "margin is thin");
    let (_, portal) = app.get(&format!("/api/v1/portal/proposals/{}", token_of(&p)), "").await;
    assert!(portal.get("internal_notes").is_none(), "{portal}");

    // Bad input changes nothing.
    for (body, field) in [
        (json!({"subject": "X"}), "lead_id"),
        (json!({"subject": "X", "lead_id": lead["id"], "client_id": 1}), "client_id"),
        (json!({"subject": "X", "lead_id": lead["id"], "lines": [{"description": "a", "qty": "0", "unit_price": "1"}]}), "lines[0].qty"),
        (json!({"subject": "X", "lead_id": lead["id"], "lines": [{"description": "a", "qty": "1", "unit_price": "1", "tax_ids": [999]}]}), "lines[0].tax_ids"),
        (json!({"subject": "X", "lead_id": lead["id"], "currency": "JPY"}), "currency"),
        (
            json!({"subject": "X", "lead_id": lead["id"], "discount_type": "fixed", "discount_value": "5", "lines": [{"description": "a", "qty": "1", "unit_price": "1"}]}),
            "discount_value",
        ),
        (json!({"subject": "X", "lead_id": lead["id"], "date": "2026-05-10", "open_till": "2026-05-01"}), "open_till"),
    ] {
        let (s, b) = app.post("/api/v1/proposals", Some(&token), body.clone()).await;
        assert_problem(s, &b, 422, "validation_failed");
        assert_eq!(b["errors"][0]["field"], field, "{body}: {b}");
    }
    assert_eq!(app.count("proposals").await, 2);
    let (s, b) = app.post("/api/v1/proposals", Some(&token), json!({"subject": "X", "lead_id": lead["id"], "qty": 1})).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["field"], "qty", "unknown fields are named");

    // Custom fields of proposals are validated, stored and filterable.
    let (s, _) =
        app.post("/api/v1/custom-fields", Some(&token), json!({"entity": "proposal", "key": "tender_id", "label": "Tender", "field_type": "text"})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, tagged) = app.patch(&format!("/api/v1/proposals/{}", p["id"]), &token, json!({"custom_fields": {"tender_id": "T-9"}})).await;
    assert_eq!((s, tagged["custom_fields"]["tender_id"].as_str()), (StatusCode::OK, Some("T-9")), "{tagged}");
    assert_eq!(numbers(&app, &token, "?cf.tender_id=T-9").await, ["PRO-000001"]);

    // PATCH replaces lines and recomputes.
    let (s, patched) = app
        .patch(
            &format!("/api/v1/proposals/{}", p2["id"]),
            &token,
            json!({"lines": [{"description": "Service", "qty": "2", "unit_price": "50"}], "discount_type": null}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{patched}");
    assert_eq!((patched["total"].as_str(), patched["lines"].as_array().unwrap().len()), (Some("100.00"), 1));
}

#[tokio::test]
async fn status_changes_follow_the_transition_table() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (_, p) = lead_and_proposal(&app, &token).await;
    let status = |to: Value| {
        let app = &app;
        let token = token.clone();
        let url = format!("/api/v1/proposals/{}/status", p["id"]);
        async move { app.post(&url, Some(&token), json!({"status": to})).await }
    };
    let (s, b) = status(json!(4)).await;
    assert_problem(s, &b, 409, "invalid_status_transition");
    assert!(b["detail"].as_str().unwrap().contains("status 7"), "{b}");
    let (s, b) = status(json!(3)).await;
    assert_problem(s, &b, 409, "invalid_status_transition");
    let (s, b) = status(json!("sent_manually")).await;
    assert_eq!((s, b["status_code"].as_i64()), (StatusCode::OK, Some(7)));
    let (s, b) = status(json!("accepted")).await;
    assert_eq!((s, b["status_code"].as_i64()), (StatusCode::OK, Some(3)));
    assert_eq!(b["accepted"]["name"], "Test Administrator");
    // Accepted is final and its lines are frozen.
    let (s, b) = status(json!(5)).await;
    assert_problem(s, &b, 409, "invalid_status_transition");
    let (s, b) = app.patch(&format!("/api/v1/proposals/{}", p["id"]), &token, json!({"lines": []})).await;
    assert_problem(s, &b, 409, "proposal_locked");
    let (s, ok) = app.patch(&format!("/api/v1/proposals/{}", p["id"]), &token, json!({"tags": ["won"]})).await;
    assert_eq!((s, ok["tags"].clone()), (StatusCode::OK, json!(["won"])));
    let (s, b) = status(json!(12)).await;
    assert_problem(s, &b, 422, "validation_failed");
}

#[tokio::test]
async fn the_guides_flow_from_lead_to_invoice_works_through_the_api() {
    let smtp = SmtpSink::start();
    let app = quoting_app(Some(smtp.url())).await;
    let (admin, token) = app.admin().await;
    let (_, agent_token) = app.staff_with_token("agent@test.example", "Sales Agent").await;
    let (s, _) = app.patch("/api/v1/settings", &token, json!({"company_name": "CRMConnect Demo SRL", "company_email": "sales@crmconnect.example"})).await;
    assert_eq!(s, StatusCode::OK);
    let (lead, p) = lead_and_proposal(&app, &token).await;
    let id = p["id"].as_i64().unwrap();

    // Send: the e-mail arrives with the portal link; the proposal is Sent (4).
    let (s, sent) = app
        .post(
            &format!("/api/v1/proposals/{id}/send"),
            Some(&token),
            json!({"cc": "boss@pop.example", "message": "As discussed on the phone.", "attach_pdf": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{sent}");
    assert_eq!(sent["proposal"]["status_code"], 4);
    assert_eq!(sent["email"]["status"], "queued");
    let mail = smtp.wait_for(1).await.remove(0);
    assert_eq!(mail.to, ["ana@pop.example", "boss@pop.example"]);
    assert_eq!(mail.subject(), "Proposal PRO-000001 from CRMConnect Demo SRL");
    assert!(mail.header("From").contains("sales@crmconnect.example"), "{}", mail.header("From"));
    let text = mail.text();
    assert!(text.contains("Hello Ana Pop") && text.contains("As discussed on the phone.") && text.contains("853.16 RON"), "{text}");
    let link = text.lines().find(|l| l.starts_with("http://crm.test/proposal/")).expect("a portal link").trim().to_string();
    assert_eq!(link, p["portal_url"]);
    let attachments = mail.attachments();
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0].0, "PRO-000001.pdf");
    let pdf_text = pdf_extract::extract_text_from_mem(&attachments[0].1).unwrap();
    assert!(pdf_text.contains("853.16"), "{pdf_text}");
    // The log shows it went out, once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, emails) = app.get(&format!("/api/v1/proposals/{id}/emails"), &token).await;
    assert_eq!(emails["items"].as_array().unwrap().len(), 1);
    assert_eq!(emails["items"][0]["status"], "sent", "{emails}");
    assert_eq!(smtp.messages().len(), 1);

    // The link works without a login: /proposal/{token} in the SPA, its API under /portal.
    let portal_token = link.rsplit('/').next().unwrap();
    let portal = format!("/api/v1/portal/proposals/{portal_token}");
    // Staff reading the proposal never marks it viewed.
    let (_, staff_view) = app.get(&format!("/api/v1/proposals/{id}"), &token).await;
    assert_eq!(staff_view["status_code"], 4);
    let (s, seen) = json_of(app.request(Method::GET, &portal, None, None).await).await;
    assert_eq!(s, StatusCode::OK, "{seen}");
    assert_eq!((seen["status_code"].as_i64(), seen["total"].as_str(), seen["can_respond"].as_bool()), (Some(1), Some("853.16"), Some(true)));
    assert_eq!(seen["company_name"], "CRMConnect Demo SRL");
    let (_, notes) = app.get("/api/v1/notifications", &token).await;
    assert_eq!(notes["items"][0]["kind"], "proposal_viewed", "{notes}");
    assert_eq!(notes["items"][0]["link"], format!("/admin/proposals/{id}"));
    let (_, again) = json_of(app.request(Method::GET, &portal, None, None).await).await;
    assert_eq!(again["status_code"], 1);
    let (_, notes) = app.get("/api/v1/notifications?unread=true", &token).await;
    assert_eq!(notes["items"].as_array().unwrap().len(), 1, "only the first view notifies");
    let (_, other) = app.get("/api/v1/notifications", &agent_token).await;
    assert!(other["items"].as_array().unwrap().is_empty(), "notifications are private");
    let note_id = notes["items"][0]["id"].as_i64().unwrap();
    let (s, read) = app.post(&format!("/api/v1/notifications/{note_id}/read"), Some(&token), json!({})).await;
    assert_eq!((s, read["read"].as_bool()), (StatusCode::OK, Some(true)));

    // Comments both ways.
    let (s, c) = app.post(&format!("{portal}/comments"), None, json!({"content": "Can you do 2 trackers?"})).await;
    assert_eq!((s, c["from_client"].as_bool()), (StatusCode::CREATED, Some(true)), "{c}");
    let (_, notes) = app.get("/api/v1/notifications?unread=true", &token).await;
    assert_eq!(notes["items"][0]["kind"], "proposal_comment");
    let (s, _) = app.post(&format!("/api/v1/proposals/{id}/comments"), Some(&token), json!({"content": "Three is the minimum, sorry."})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, thread) = json_of(app.request(Method::GET, &format!("{portal}/comments"), None, None).await).await;
    let authors: Vec<_> =
        thread["items"].as_array().unwrap().iter().map(|c| (c["author_name"].as_str().unwrap().to_string(), c["from_client"].as_bool().unwrap())).collect();
    assert_eq!(authors, [("Ana Pop".to_string(), true), ("Test Administrator".to_string(), false)]);

    // Not convertible before acceptance.
    let (s, b) = app.post(&format!("/api/v1/proposals/{id}/convert-to-invoice"), Some(&token), json!({})).await;
    assert_problem(s, &b, 409, "proposal_not_accepted");

    // Accept from the portal: who, when, IP and browser are recorded; staff notified.
    let accept = app
        .client
        .post(app.url(&format!("{portal}/accept")))
        .header("User-Agent", "PortalTest/1.0")
        .json(&json!({"name": "Ana Pop", "email": "ana@pop.example", "signature": "Ana Pop"}))
        .send()
        .await
        .unwrap();
    let (s, accepted) = json_of(accept).await;
    assert_eq!((s, accepted["status_code"].as_i64(), accepted["can_respond"].as_bool()), (StatusCode::OK, Some(3), Some(false)), "{accepted}");
    let (_, staff_view) = app.get(&format!("/api/v1/proposals/{id}"), &token).await;
    assert_eq!(staff_view["accepted"]["name"], "Ana Pop");
    assert_eq!(staff_view["accepted"]["ip"], "127.0.0.1");
    assert_eq!(staff_view["accepted"]["user_agent"], "PortalTest/1.0");
    let (_, notes) = app.get("/api/v1/notifications?unread=true", &token).await;
    assert_eq!(notes["items"][0]["kind"], "proposal_accepted");
    let (s, b) = app.post(&format!("{portal}/accept"), None, json!({"name": "Ana Pop"})).await;
    assert_problem(s, &b, 409, "invalid_status_transition");
    let (s, b) = app.post(&format!("{portal}/decline"), None, json!({})).await;
    assert_problem(s, &b, 409, "invalid_status_transition");

    // Convert: same lines, taxes and totals; the lead becomes a client; twice is refused.
    let (s, invoice) = app.post(&format!("/api/v1/proposals/{id}/convert-to-invoice"), Some(&token), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{invoice}");
    for field in ["subtotal", "discount_total", "taxes", "total_tax", "total"] {
        assert_eq!(invoice[field], staff_view[field], "{field}");
    }
    let strip = |lines: &Value| {
        lines
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                let mut l = l.clone();
                l.as_object_mut().unwrap().remove("id");
                l
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&invoice["lines"]), strip(&staff_view["lines"]));
    assert_eq!((invoice["status_code"].as_i64(), invoice["number"].clone(), invoice["proposal_id"].as_i64()), (Some(6), Value::Null, Some(id)));
    let (_, converted) = app.get(&format!("/api/v1/proposals/{id}"), &token).await;
    assert_eq!(converted["invoice_id"], invoice["id"]);
    let (_, lead_now) = app.get(&format!("/api/v1/leads/{}", lead["id"]), &token).await;
    assert_eq!(lead_now["converted_client_id"], invoice["client_id"], "{lead_now}");
    assert_eq!(converted["client_id"], invoice["client_id"]);
    let (s, got) = app.get(&format!("/api/v1/invoices/{}", invoice["id"]), &token).await;
    assert_eq!((s, got["total"].as_str()), (StatusCode::OK, Some("853.16")));
    let (s, b) = app.post(&format!("/api/v1/proposals/{id}/convert-to-invoice"), Some(&token), json!({})).await;
    assert_problem(s, &b, 409, "already_converted");
    let (s, order) = app.post(&format!("/api/v1/proposals/{id}/convert-to-sales-order"), Some(&token), json!({})).await;
    assert_eq!((s, order["total"].as_str(), order["number"].as_str()), (StatusCode::CREATED, Some("853.16"), Some("SO-000001")), "{order}");
    let (s, b) = app.delete(&format!("/api/v1/proposals/{id}"), &token).await;
    assert_problem(s, &b, 409, "proposal_locked");
    let _ = admin;
}

#[tokio::test]
async fn expired_revoked_draft_and_unknown_links_are_refused() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let lead = create_lead(&app, &token, json!({"name": "Old Deal", "email": "old@example.com"})).await;
    let (_, p) = app
        .post(
            "/api/v1/proposals",
            Some(&token),
            json!({"subject": "Old", "lead_id": lead["id"], "date": "2026-01-05", "open_till": "2026-01-20", "allow_comments": false}),
        )
        .await;
    assert!(p["portal_url"].is_string(), "{p}");
    let portal = format!("/api/v1/portal/proposals/{}", token_of(&p));
    let (s, b) = json_of(app.request(Method::GET, &portal, None, None).await).await;
    assert_problem(s, &b, 404, "not_found");
    assert_eq!(b["detail"], "proposal not found", "drafts look like unknown links");
    app.post(&format!("/api/v1/proposals/{}/status", p["id"]), Some(&token), json!({"status": 7})).await;
    let (s, seen) = json_of(app.request(Method::GET, &portal, None, None).await).await;
    assert_eq!((s, seen["expired"].as_bool(), seen["can_respond"].as_bool()), (StatusCode::OK, Some(true), Some(false)));
    let (s, b) = app.post(&format!("{portal}/accept"), None, json!({"name": "Someone"})).await;
    assert_problem(s, &b, 409, "proposal_expired");
    let (s, b) = app.post(&format!("{portal}/decline"), None, json!({"reason": "late"})).await;
    assert_problem(s, &b, 409, "proposal_expired");
    let (s, b) = app.post(&format!("{portal}/comments"), None, json!({"content": "hello"})).await;
    assert_problem(s, &b, 403, "comments_disabled");
    let (_, listed) = app.get("/api/v1/proposals?expired=true", &token).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    // Staff extend the date: the client can answer again (here: decline with a reason).
    let (_, extended) = app.patch(&format!("/api/v1/proposals/{}", p["id"]), &token, json!({"open_till": null})).await;
    assert_eq!(extended["expired"], false);
    let (s, declined) = app.post(&format!("{portal}/decline"), None, json!({"reason": "Budget cut"})).await;
    assert_eq!((s, declined["status_code"].as_i64()), (StatusCode::OK, Some(2)), "{declined}");
    let (_, staff_view) = app.get(&format!("/api/v1/proposals/{}", p["id"]), &token).await;
    assert_eq!(staff_view["declined_reason"], "Budget cut");

    // Revoked and regenerated links.
    let (_, revoked) = app.delete(&format!("/api/v1/proposals/{}/portal-token", p["id"]), &token).await;
    assert_eq!(revoked["portal_url"], Value::Null);
    let (s, b) = json_of(app.request(Method::GET, &portal, None, None).await).await;
    assert_problem(s, &b, 404, "not_found");
    let (_, fresh) = app.post(&format!("/api/v1/proposals/{}/portal-token", p["id"]), Some(&token), json!({})).await;
    let new_portal = format!("/api/v1/portal/proposals/{}", token_of(&fresh));
    assert_ne!(new_portal, portal);
    let (s, _) = json_of(app.request(Method::GET, &new_portal, None, None).await).await;
    assert_eq!(s, StatusCode::OK);
    for bad in ["nope", &"x".repeat(300)] {
        let (s, b) = json_of(app.request(Method::GET, &format!("/api/v1/portal/proposals/{bad}"), None, None).await).await;
        assert_problem(s, &b, 404, "not_found");
    }
    let pdf = app.request(Method::GET, &format!("{new_portal}/pdf"), None, None).await;
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
}

#[tokio::test]
async fn the_portal_is_rate_limited_per_address() {
    let app = spawn_app_with(|s| s.portal_requests_per_minute = 3).await;
    for _ in 0..3 {
        let (s, _) = json_of(app.request(Method::GET, "/api/v1/portal/proposals/unknown", None, None).await).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    let res = app.request(Method::GET, "/api/v1/portal/proposals/unknown", None, None).await;
    assert!(res.headers().contains_key("retry-after"));
    let (s, b) = json_of(res).await;
    assert_problem(s, &b, 429, "rate_limited");
}

#[tokio::test]
async fn an_email_survives_an_smtp_outage_and_is_sent_once() {
    // A port with nothing listening yet: the first attempts fail.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let app = quoting_app(Some(format!("smtp://127.0.0.1:{port}"))).await;
    let (_, token) = app.admin().await;
    let (_, p) = lead_and_proposal(&app, &token).await;
    let (s, sent) = app.post(&format!("/api/v1/proposals/{}/send", p["id"]), Some(&token), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{sent}");
    let emails = format!("/api/v1/proposals/{}/emails", p["id"]);
    let mut failed_once = Value::Null;
    for _ in 0..50 {
        let (_, list) = app.get(&emails, &token).await;
        if list["items"][0]["attempts"].as_i64().unwrap_or(0) >= 1 {
            failed_once = list["items"][0].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(failed_once["status"], "queued", "kept for a retry: {failed_once}");
    assert!(failed_once["last_error"].is_string());

    let smtp = SmtpSink::start_on(std::net::TcpListener::bind(("127.0.0.1", port)).unwrap());
    let got = smtp.wait_for(1).await;
    assert_eq!(got[0].to, ["ana@pop.example"]);
    for _ in 0..50 {
        let (_, list) = app.get(&emails, &token).await;
        if list["items"][0]["status"] == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, list) = app.get(&emails, &token).await;
    assert_eq!(list["items"][0]["status"], "sent", "{list}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(smtp.messages().len(), 1, "delivered exactly once");
}

#[tokio::test]
async fn the_pdf_is_a_printable_document_with_extractable_totals() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    app.patch("/api/v1/settings", &token, json!({"company_name": "Acme Sales SRL", "company_vat_number": "RO1234567"})).await;
    let (_, p) = lead_and_proposal(&app, &token).await;
    let res = app.request(Method::GET, &format!("/api/v1/proposals/{}/pdf", p["id"]), Some(&token), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let text = pdf_extract::extract_text_from_mem(&bytes).unwrap();
    for expected in [
        "PROPOSAL",
        "PRO-000001",
        "Acme Sales SRL",
        "RO1234567",
        "Ana Pop",
        "Tracker",
        "Installation",
        "539.97",
        "113.39",
        "19.80",
        "719.97",
        "853.16",
        "Payment in 15 days.",
    ] {
        assert!(text.contains(expected), "`{expected}` missing from:\n{text}");
    }
    assert!(!text.contains("margin is thin"), "internal notes never print");
}

#[tokio::test]
async fn templates_start_proposals_and_client_accept_can_create_the_invoice() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let v21 = tax_id(&app, &token, "VAT 21%").await;
    let (s, item) = app
        .post(
            "/api/v1/items",
            Some(&token),
            json!({"description": "Monthly support", "unit": "month", "unit_price": "500", "tax_ids": [v21], "purchase_price": "200"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{item}");
    let (s, template) = app
        .post(
            "/api/v1/proposal-templates",
            Some(&token),
            json!({"name": "Monthly Services", "content": "<p>Our monthly services.</p>", "lines": [{"item_id": item["id"], "qty": "12"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{template}");
    assert_eq!(template["lines"][0]["description"], "Monthly support", "filled from the item");
    let (s, client) = app.post("/api/v1/clients", Some(&token), json!({"company": "Beta SRL", "currency": "EUR"})).await;
    assert_eq!(s, StatusCode::CREATED);
    app.post(&format!("/api/v1/clients/{}/contacts", client["id"]), Some(&token), json!({"name": "Bea", "email": "bea@beta.example"})).await;
    let (s, p) =
        app.post("/api/v1/proposals", Some(&token), json!({"subject": "Support 2027", "client_id": client["id"], "template_id": template["id"]})).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(
        (p["currency"].as_str(), p["recipient"]["email"].as_str(), p["content"].as_str()),
        (Some("EUR"), Some("bea@beta.example"), Some("<p>Our monthly services.</p>"))
    );
    assert_eq!((p["lines"][0]["qty"].as_str(), p["total"].as_str()), (Some("12"), Some("7260.00")));

    let (s, settings) = app.patch("/api/v1/settings", &token, json!({"estimate_auto_convert_to_invoice_on_client_accept": 1})).await;
    assert_eq!((s, settings["estimate_auto_convert_to_invoice_on_client_accept"].as_i64()), (StatusCode::OK, Some(1)));
    let (s, b) = app.patch("/api/v1/settings", &token, json!({"estimate_auto_convert_to_invoice_on_client_accept": 2})).await;
    assert_problem(s, &b, 422, "validation_failed");
    app.post(&format!("/api/v1/proposals/{}/status", p["id"]), Some(&token), json!({"status": 7})).await;
    let (s, _) = app.post(&format!("/api/v1/portal/proposals/{}/accept", token_of(&p)), None, json!({"name": "Bea"})).await;
    assert_eq!(s, StatusCode::OK);
    let (_, after) = app.get(&format!("/api/v1/proposals/{}", p["id"]), &token).await;
    let invoice_id = after["invoice_id"].as_i64().expect("invoice created on accept");
    let (_, invoice) = app.get(&format!("/api/v1/invoices/{invoice_id}"), &token).await;
    assert_eq!((invoice["total"].as_str(), invoice["currency"].as_str(), invoice["client_id"].clone()), (Some("7260.00"), Some("EUR"), client["id"].clone()));
}

#[tokio::test]
async fn catalogue_and_permissions_are_enforced() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (_, agent_token) = app.staff_with_token("agent@test.example", "Sales Agent").await;
    let (_, taxes) = app.get("/api/v1/taxes", &agent_token).await;
    let rates: Vec<_> = taxes["items"].as_array().unwrap().iter().map(|t| t["rate"].as_str().unwrap().to_string()).collect();
    assert_eq!(rates, ["0", "11", "21"], "seeded Romanian VAT rates, readable by everyone");
    let (s, b) = app.post("/api/v1/taxes", Some(&agent_token), json!({"name": "Eco", "rate": "2.5"})).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, eco) = app.post("/api/v1/taxes", Some(&token), json!({"name": "Eco", "rate": "2.5"})).await;
    assert_eq!((s, eco["rate"].as_str()), (StatusCode::CREATED, Some("2.5")));
    let (s, b) = app.post("/api/v1/taxes", Some(&token), json!({"name": "eco", "rate": "3"})).await;
    assert_problem(s, &b, 409, "name_taken");
    let (s, b) = app.post("/api/v1/taxes", Some(&token), json!({"name": "Bad", "rate": "101"})).await;
    assert_problem(s, &b, 422, "validation_failed");
    let (_, currencies) = app.get("/api/v1/currencies", &token).await;
    assert_eq!(currencies["items"][0]["code"], "RON");
    assert_eq!(currencies["items"][0]["is_base"], true);
    let (s, b) = app.post("/api/v1/currencies", Some(&token), json!({"code": "eur"})).await;
    assert_problem(s, &b, 409, "name_taken");
    let (s, kwd) = app.post("/api/v1/currencies", Some(&token), json!({"code": "KWD", "symbol": "KD"})).await;
    assert_eq!((s, kwd["decimal_places"].as_i64()), (StatusCode::CREATED, Some(3)));
    let (s, b) = app.delete(&format!("/api/v1/currencies/{}", currencies["items"][0]["id"]), &token).await;
    assert_problem(s, &b, 409, "in_use");

    // The agent sees proposals (view), creates and sends, but may not edit.
    let lead = create_lead(&app, &token, json!({"name": "Lead", "email": "l@example.com"})).await;
    let (s, p) = app.post("/api/v1/proposals", Some(&agent_token), json!({"subject": "Mine", "lead_id": lead["id"]})).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (s, b) = app.patch(&format!("/api/v1/proposals/{}", p["id"]), &agent_token, json!({"subject": "x"})).await;
    assert_problem(s, &b, 403, "forbidden");
    let (_, sdr_token) = app.staff_with_token("sdr@test.example", "SDR").await;
    let (s, b) = app.get("/api/v1/proposals", &sdr_token).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, b) = app.get(&format!("/api/v1/proposals/{}/pdf", p["id"]), &sdr_token).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, b) = app.get("/api/v1/settings", &agent_token).await;
    assert_problem(s, &b, 403, "forbidden");
}

#[tokio::test]
async fn concurrent_creates_get_distinct_gap_free_numbers() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let lead = create_lead(&app, &token, json!({"name": "Busy", "email": "busy@example.com"})).await;
    let requests = (0..12).map(|i| {
        let (app, token) = (&app, token.clone());
        let lead_id = lead["id"].clone();
        async move { app.post("/api/v1/proposals", Some(&token), json!({"subject": format!("P{i}"), "lead_id": lead_id})).await }
    });
    let mut numbers: Vec<String> = futures_util::future::join_all(requests)
        .await
        .into_iter()
        .map(|(s, p)| {
            assert_eq!(s, StatusCode::CREATED, "{p}");
            p["number"].as_str().unwrap().to_string()
        })
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=12).map(|n| format!("PRO-{n:06}")).collect();
    assert_eq!(numbers, expected);
}

#[tokio::test]
async fn email_templates_are_editable_and_checked() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (_, templates) = app.get("/api/v1/email-templates", &token).await;
    let t = templates["items"].as_array().unwrap().iter().find(|t| t["slug"] == "proposal_send").unwrap().clone();
    assert!(t["merge_fields"].as_array().unwrap().contains(&json!("proposal.link")));
    let url = format!("/api/v1/email-templates/{}", t["id"]);
    let (s, b) = app.patch(&url, &token, json!({"body": "Hello {% if %}"})).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["code"], "invalid_template");
    let (s, _) = app
        .patch(
            &url,
            &token,
            json!({"subject": "Offer {{ proposal.number }} ({{ proposal.total }} {{ proposal.currency }})", "body": "See {{ proposal.link }}"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, p) = lead_and_proposal(&app, &token).await;
    let (s, sent) = app.post(&format!("/api/v1/proposals/{}/send", p["id"]), Some(&token), json!({"to": ["buyer@example.com"]})).await;
    assert_eq!(s, StatusCode::OK, "{sent}");
    assert_eq!(sent["email"]["subject"], "Offer PRO-000001 (853.16 RON)");
    assert_eq!(sent["email"]["to"], json!(["buyer@example.com"]));
    // Without an SMTP server configured the e-mail waits in the outbox, never lost.
    let (_, emails) = app.get(&format!("/api/v1/proposals/{}/emails", p["id"]), &token).await;
    assert_eq!(emails["items"][0]["status"], "queued");
    let (s, b) = app.post(&format!("/api/v1/proposals/{}/send", p["id"]), Some(&token), json!({"to": "not-an-address"})).await;
    assert_problem(s, &b, 422, "validation_failed");
}

/// What the client accepted is frozen and provable: its SHA-256 is kept and shown in the API,
/// the portal and the PDF; the portal never shows the accepter's IP or browser.
#[tokio::test]
async fn an_accepted_proposal_is_frozen_and_its_accepted_content_is_hashed() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (_, p) = lead_and_proposal(&app, &token).await;
    app.post(&format!("/api/v1/proposals/{}/status", p["id"]), Some(&token), json!({"status": 7})).await;
    let portal = format!("/api/v1/portal/proposals/{}", token_of(&p));
    let res =
        app.client.post(app.url(&format!("{portal}/accept"))).header("User-Agent", "AcceptTest/1.0").json(&json!({"name": "Ana Pop"})).send().await.unwrap();
    let (s, accepted) = json_of(res).await;
    assert_eq!(s, StatusCode::OK, "{accepted}");
    let hash = accepted["accepted"]["content_hash"].as_str().expect("hash on the portal").to_string();
    assert_eq!(hash.len(), 64);
    assert_eq!((accepted["accepted"]["ip"].clone(), accepted["accepted"]["user_agent"].clone()), (Value::Null, Value::Null), "{accepted}");
    let (_, seen) = json_of(app.request(Method::GET, &portal, None, None).await).await;
    assert_eq!((seen["accepted"]["content_hash"].as_str(), seen["accepted"]["ip"].clone()), (Some(hash.as_str()), Value::Null));
    let (_, staff) = app.get(&format!("/api/v1/proposals/{}", p["id"]), &token).await;
    assert_eq!(
        (staff["accepted"]["content_hash"].as_str(), staff["accepted"]["ip"].as_str(), staff["accepted"]["user_agent"].as_str()),
        (Some(hash.as_str()), Some("127.0.0.1"), Some("AcceptTest/1.0"))
    );

    // Client-visible fields are frozen; internal ones are not.
    for change in [json!({"content": "<p>Other offer</p>"}), json!({"terms": "<p>Pay at once</p>"}), json!({"subject": "Other"}), json!({"open_till": null})] {
        let (s, b) = app.patch(&format!("/api/v1/proposals/{}", p["id"]), &token, change.clone()).await;
        assert_problem(s, &b, 409, "proposal_locked");
    }
    let (s, b) = app.patch(&format!("/api/v1/proposals/{}", p["id"]), &token, json!({"internal_notes": "won it", "tags": ["won"]})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, after) = app.get(&format!("/api/v1/proposals/{}", p["id"]), &token).await;
    assert_eq!((after["content"].clone(), after["accepted"]["content_hash"].as_str()), (p["content"].clone(), Some(hash.as_str())));

    let pdf = app.request(Method::GET, &format!("/api/v1/proposals/{}/pdf", p["id"]), Some(&token), None).await.bytes().await.unwrap();
    let text = pdf_extract::extract_text_from_mem(&pdf).unwrap();
    assert!(text.contains("Accepted by Ana Pop") && text.contains(&hash), "the PDF carries the proof:\n{text}");

    // Staff accepting on the client's behalf records the hash too.
    let (_, q) = lead_and_proposal(&app, &token).await;
    app.post(&format!("/api/v1/proposals/{}/status", q["id"]), Some(&token), json!({"status": 7})).await;
    let (s, b) = app.post(&format!("/api/v1/proposals/{}/status", q["id"]), Some(&token), json!({"status": 3})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["accepted"]["content_hash"].as_str().map(str::len), Some(64), "{b}");
    assert_ne!(b["accepted"]["content_hash"].as_str(), Some(hash.as_str()), "another proposal, another hash");
}
