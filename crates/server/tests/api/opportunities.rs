use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, TestApp};
use crate::leads::create_lead;

async fn convert(app: &TestApp, token: &str, lead_id: i64, body: Value) -> Value {
    let (s, o) = app.post(&format!("/api/v1/leads/{lead_id}/convert-to-opportunity"), Some(token), body).await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    o
}

#[tokio::test]
async fn a_lead_becomes_an_opportunity_and_both_lists_stay_apart() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let lead = create_lead(&app, &token, json!({"name": "Ana", "company": "Acme", "email": "ana@acme.ro", "assigned_to": admin.id, "tags": ["vip"]})).await;
    let lead_id = lead["id"].as_i64().unwrap();
    let o =
        convert(&app, &token, lead_id, json!({"estimated_value": "40000", "currency": "EUR", "probability": 40, "expected_close_date": "2026-12-15"})).await;
    assert_eq!((o["is_opportunity"].as_bool(), o["origin_lead_id"].as_i64()), (Some(true), Some(lead_id)));
    assert_eq!((o["estimated_value"].as_str(), o["probability"].as_i64(), o["expected_close_date"].as_str()), (Some("40000.00"), Some(40), Some("2026-12-15")));
    assert_eq!(o["opportunity_status"], "Prospecting", "first status by default");
    assert_eq!((o["email"].as_str(), o["company"].as_str()), (Some("ana@acme.ro"), Some("Acme")));
    assert_eq!(o["tags"], json!(["vip"]));
    let oid = o["id"].as_i64().unwrap();

    let (_, leads) = app.get("/api/v1/leads", &token).await;
    let lead_ids: Vec<_> = leads["items"].as_array().unwrap().iter().map(|l| l["id"].as_i64().unwrap()).collect();
    assert_eq!(lead_ids, [lead_id], "the lead stays; the opportunity is not a lead");
    let (_, opps) = app.get("/api/v1/opportunities", &token).await;
    let opp_ids: Vec<_> = opps["items"].as_array().unwrap().iter().map(|l| l["id"].as_i64().unwrap()).collect();
    assert_eq!(opp_ids, [oid]);
    let (s, b) = app.get(&format!("/api/v1/leads/{oid}"), &token).await;
    assert_problem(s, &b, 404, "not_found");
    let (s, b) = app.get(&format!("/api/v1/opportunities/{lead_id}"), &token).await;
    assert_problem(s, &b, 404, "not_found");
    let (_, board) = app.get("/api/v1/leads/kanban", &token).await;
    assert_eq!(board[0]["count"], 1, "opportunities are not on the leads board");

    let (_, statuses) = app.get("/api/v1/opportunity-statuses", &token).await;
    let negotiation = statuses["items"].as_array().unwrap().iter().find(|s| s["name"] == "Negotiation").unwrap()["id"].clone();
    let (s, updated) = app.patch(&format!("/api/v1/opportunities/{oid}"), &token, json!({"probability": 75, "opportunity_status_id": negotiation})).await;
    assert_eq!(s, StatusCode::OK, "{updated}");
    assert_eq!((updated["probability"].as_i64(), updated["opportunity_status"].as_str()), (Some(75), Some("Negotiation")));
    let (_, found) = app.get("/api/v1/opportunities?status=negotiation&min_probability=70&close_from=2026-12-01&close_to=2026-12-31", &token).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let (_, tagged) = app.get("/api/v1/opportunities?tag=VIP", &token).await;
    assert_eq!(tagged["items"].as_array().unwrap().len(), 1);
    let (_, none) = app.get("/api/v1/opportunities?close_to=2026-11-30", &token).await;
    assert!(none["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn bad_opportunity_input_is_refused() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let lead = create_lead(&app, &token, json!({"name": "Ana", "email": "ana@acme.ro"})).await;
    let path = format!("/api/v1/leads/{}/convert-to-opportunity", lead["id"]);
    for (body, field) in [
        (json!({"estimated_value": "100", "currency": "RON", "probability": 101}), "probability"),
        (json!({"estimated_value": "100", "currency": "RON", "probability": -1}), "probability"),
        (json!({"estimated_value": "-100", "currency": "RON", "probability": 50}), "estimated_value"),
        (json!({"estimated_value": "100", "currency": "RUB", "probability": 50}), "currency"),
        (json!({"estimated_value": "100", "currency": "RON", "probability": 50, "opportunity_status_id": 999999}), "opportunity_status_id"),
        (json!({"estimated_value": "100", "currency": "RON", "probability": 50, "expected_close_date": "15.12.2026"}), "expected_close_date"),
        (json!({"currency": "RON", "probability": 50}), "estimated_value"),
    ] {
        let (s, b) = app.post(&path, Some(&token), body.clone()).await;
        assert_problem(s, &b, 422, "validation_failed");
        assert_eq!(b["errors"][0]["field"], field, "{body} → {b}");
    }
    let (_, opps) = app.get("/api/v1/opportunities", &token).await;
    assert!(opps["items"].as_array().unwrap().is_empty());
    let (s, b) = app.get("/api/v1/opportunities?min_probability=150", &token).await;
    assert_problem(s, &b, 422, "validation_failed");
}

#[tokio::test]
async fn the_weighted_forecast_groups_without_mixing_currencies() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let (agent, _) = app.staff_with_token("agent@test.example", "Sales Agent").await;
    let specs = [
        ("10000", "RON", 50, "2026-12-10", admin.id),
        ("5000.50", "RON", 20, "2026-12-20", agent.id),
        ("2000", "EUR", 90, "2026-12-01", agent.id),
        ("300", "RON", 100, "2027-01-05", admin.id),
    ];
    for (i, (value, currency, p, date, owner)) in specs.iter().enumerate() {
        let l = create_lead(&app, &token, json!({"name": format!("L{i}"), "email": format!("l{i}@x.ro"), "assigned_to": owner})).await;
        convert(
            &app,
            &token,
            l["id"].as_i64().unwrap(),
            json!({"estimated_value": value, "currency": currency, "probability": p, "expected_close_date": date}),
        )
        .await;
    }
    let (s, f) = app.get("/api/v1/opportunities/forecast?group_by=month", &token).await;
    assert_eq!(s, StatusCode::OK, "{f}");
    let rows: Vec<_> = f["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap(),
                r["currency"].as_str().unwrap(),
                r["count"].as_i64().unwrap(),
                r["total"].as_str().unwrap(),
                r["weighted"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, [("2026-12", "EUR", 1, "2000.00", "1800.00"), ("2026-12", "RON", 2, "15000.50", "6000.10"), ("2027-01", "RON", 1, "300.00", "300.00"),]);
    let totals: Vec<_> = f["totals"].as_array().unwrap().iter().map(|r| (r["currency"].as_str().unwrap(), r["weighted"].as_str().unwrap())).collect();
    assert_eq!(totals, [("EUR", "1800.00"), ("RON", "6300.10")]);

    let (_, by_staff) = app.get("/api/v1/opportunities/forecast?group_by=staff", &token).await;
    let labels: Vec<_> = by_staff["rows"].as_array().unwrap().iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert!(labels.contains(&"Test Administrator") && labels.contains(&"Test Sales Agent"), "{labels:?}");
    let (_, by_status) = app.get("/api/v1/opportunities/forecast?group_by=status", &token).await;
    assert_eq!(by_status["rows"][0]["label"], "Prospecting");
    let (s, b) = app.get("/api/v1/opportunities/forecast?group_by=week", &token).await;
    assert_problem(s, &b, 422, "validation_failed");

    // An SDR sees opportunities only as `view_own` would… SDRs have no opportunity view at all.
    let (_, sdr) = app.staff_with_token("sdr@test.example", "SDR").await;
    let (s, b) = app.get("/api/v1/opportunities/forecast", &sdr).await;
    assert_problem(s, &b, 403, "forbidden");
    // A view_own role forecasts only its own deals.
    let (_, role) = app.post("/api/v1/roles", Some(&token), json!({"name": "Own deals", "permissions": {"opportunities": ["view_own"]}})).await;
    app.patch(&format!("/api/v1/staff/{}", agent.id), &token, json!({"role_id": role["id"]})).await;
    let agent_token = app.login("agent@test.example", crate::helpers::PASSWORD).await.access_token;
    let (_, own) = app.get("/api/v1/opportunities/forecast?group_by=month", &agent_token).await;
    let totals: Vec<_> = own["totals"].as_array().unwrap().iter().map(|r| (r["currency"].as_str().unwrap(), r["total"].as_str().unwrap())).collect();
    assert_eq!(totals, [("EUR", "2000.00"), ("RON", "5000.50")]);
}

async fn vat21(app: &TestApp, token: &str) -> i64 {
    let (_, taxes) = app.get("/api/v1/taxes", token).await;
    taxes["items"].as_array().unwrap().iter().find(|t| t["name"] == "VAT 21%").expect("seeded VAT 21%")["id"].as_i64().unwrap()
}

/// The guide's flow as the Sales Agent role gives it: lead → opportunity → proposal made *from
/// the opportunity* → client accepts → the opportunity is won → the agent converts to an
/// invoice and issues it (Invoices Create covers issuing one's own invoice), but cannot issue a
/// colleague's draft or record the payment (no Payments permission).
#[tokio::test]
async fn a_sales_agent_takes_an_opportunity_from_proposal_to_issued_invoice() {
    let app = spawn_app().await;
    let (_, admin_token) = app.admin().await;
    let (agent, token) = app.staff_with_token("agent@test.example", "Sales Agent").await;
    let lead = create_lead(&app, &token, json!({"name": "Ana Pop", "company": "Pop Design SRL", "email": "ana@pop.example", "assigned_to": agent.id})).await;
    // A "view own" SDR's lead without an assignee is theirs (else it would vanish from their view).
    let (sdr, sdr_token) = app.staff_with_token("sdr@test.example", "SDR").await;
    let own = create_lead(&app, &sdr_token, json!({"name": "Dan Sdr", "phone": "+40722000999"})).await;
    assert_eq!(own["assigned_to"].as_i64(), Some(i64::from(sdr.id)), "{own}");
    let (s, _) = app.get(&format!("/api/v1/leads/{}", own["id"]), &sdr_token).await;
    assert_eq!(s, StatusCode::OK);
    let o = convert(&app, &token, lead["id"].as_i64().unwrap(), json!({"estimated_value": "1000", "currency": "RON", "probability": 50})).await;
    let oid = o["id"].as_i64().unwrap();
    // A second conversion of the same lead is refused, naming the first.
    let (s, again) = app
        .post(
            &format!("/api/v1/leads/{}/convert-to-opportunity", lead["id"]),
            Some(&token),
            json!({"estimated_value": "1000", "currency": "RON", "probability": 50}),
        )
        .await;
    assert_problem(s, &again, 409, "already_converted");
    assert!(again["detail"].as_str().unwrap().contains(&oid.to_string()), "{again}");

    // Activities and reminders hang off the opportunity through the lead routes.
    let (s, call) = app
        .post(&format!("/api/v1/leads/{oid}/activities"), Some(&token), json!({"type": "call", "summary": "Budget confirmed", "duration_minutes": 12}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{call}");
    let (s, reminder) =
        app.post(&format!("/api/v1/leads/{oid}/reminders"), Some(&token), json!({"remind_at": "2030-01-15T09:00:00Z", "note": "follow up"})).await;
    assert_eq!(s, StatusCode::CREATED, "{reminder}");
    let (_, activities) = app.get(&format!("/api/v1/leads/{oid}/activities"), &token).await;
    assert_eq!(activities["items"][0]["summary"], "Budget confirmed");
    let (_, mine) = app.get("/api/v1/reminders", &token).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(b"brief".to_vec()).file_name("brief.txt"));
    let res = app.client.post(app.url(&format!("/api/v1/leads/{oid}/attachments"))).bearer_auth(&token).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "an opportunity takes attachments");
    let (_, files) = app.get(&format!("/api/v1/leads/{oid}/attachments"), &token).await;
    assert_eq!(files["items"][0]["file_name"], "brief.txt", "{files}");

    // The proposal is made for the opportunity and listed under it.
    let tax = vat21(&app, &token).await;
    let (s, p) = app
        .post(
            "/api/v1/proposals",
            Some(&token),
            json!({"subject": "Website", "opportunity_id": oid, "open_till": "2030-12-31",
                   "lines": [{"description": "Design", "qty": "1", "unit_price": "1000", "tax_ids": [tax]}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!((p["opportunity_id"].as_i64(), p["open_till"].as_str()), (Some(oid), Some("2030-12-31")), "{p}");
    let (_, listed) = app.get(&format!("/api/v1/proposals?opportunity_id={oid}"), &token).await;
    assert_eq!(listed["items"][0]["id"], p["id"]);
    let pid = p["id"].as_i64().unwrap();
    // `send` covers marking it sent by other means; other hand-set statuses need `edit`.
    let (s, refused) = app.post(&format!("/api/v1/proposals/{pid}/status"), Some(&token), json!({"status": "accepted"})).await;
    assert_problem(s, &refused, 403, "forbidden");
    let (s, sent) = app.post(&format!("/api/v1/proposals/{pid}/status"), Some(&token), json!({"status": "sent_manually"})).await;
    assert_eq!(s, StatusCode::OK, "{sent}");
    let portal_token = sent["portal_url"].as_str().expect("portal_url").rsplit('/').next().unwrap().to_string();
    let (s, accepted) = app.post(&format!("/api/v1/portal/proposals/{portal_token}/accept"), None, json!({"name": "Ana Pop"})).await;
    assert_eq!(s, StatusCode::OK, "{accepted}");

    // Accepting the proposal won the opportunity.
    let (_, won) = app.get(&format!("/api/v1/opportunities/{oid}"), &token).await;
    assert_eq!((won["opportunity_status"].as_str(), won["probability"].as_i64()), (Some("Won"), Some(100)), "{won}");

    // Convert (Invoices Create, no `edit` on proposals needed) and issue one's own invoice.
    let (s, inv) = app.post(&format!("/api/v1/proposals/{pid}/convert-to-invoice"), Some(&token), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{inv}");
    assert_eq!(inv["total"], "1210.00");
    let iid = inv["id"].as_i64().unwrap();
    let (s, issued) = app.post(&format!("/api/v1/invoices/{iid}/issue"), Some(&token), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{issued}");
    assert_eq!(issued["status_code"], 1);
    // Payments stay with the Payments permission.
    let (s, refused) = app.post(&format!("/api/v1/invoices/{iid}/payments"), Some(&token), json!({"amount": "1210.00"})).await;
    assert_problem(s, &refused, 403, "forbidden");

    // A colleague's draft for the same client is not the agent's to issue.
    let client_id = inv["client_id"].as_i64().unwrap();
    let (s, other) = app
        .post(
            "/api/v1/invoices",
            Some(&admin_token),
            json!({"client_id": client_id, "lines": [{"description": "Hosting", "qty": "1", "unit_price": "100", "tax_ids": [tax]}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{other}");
    let (s, refused) = app.post(&format!("/api/v1/invoices/{}/issue", other["id"]), Some(&token), json!({})).await;
    assert_eq!(s.as_u16(), 403, "{refused}");
    let (_, still) = app.get(&format!("/api/v1/invoices/{}", other["id"]), &admin_token).await;
    assert_eq!(still["status_code"], 6, "still a draft");
}

/// `POST /opportunities` adds one directly: for an existing client (company and contact from
/// it, billed as that client on conversion) or a new prospect; bad input changes nothing.
#[tokio::test]
async fn opportunities_are_added_directly_for_a_client_or_a_prospect() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let (s, client) = app.post("/api/v1/clients", Some(&token), json!({"company": "Vest Trade SRL", "currency": "RON"})).await;
    assert_eq!(s, StatusCode::CREATED, "{client}");
    let cid = client["id"].as_i64().unwrap();
    let (s, _) = app.post(&format!("/api/v1/clients/{cid}/contacts"), Some(&token), json!({"name": "Ion Vest", "email": "ion@vest.example"})).await;
    assert_eq!(s, StatusCode::CREATED);

    let before = app.count("leads").await;
    for (body, field) in [
        (json!({"client_id": cid, "estimated_value": "100", "currency": "RON", "probability": 140}), "probability"),
        (json!({"client_id": 999_999, "estimated_value": "100", "currency": "RON", "probability": 10}), "client_id"),
        (json!({"name": "Nobody", "estimated_value": "100", "currency": "RON", "probability": 10}), "email"),
        (json!({"client_id": cid, "estimated_value": "-1", "currency": "RON", "probability": 10}), "estimated_value"),
    ] {
        let (s, b) = app.post("/api/v1/opportunities", Some(&token), body.clone()).await;
        assert_problem(s, &b, 422, "validation_failed");
        assert!(b["errors"].as_array().unwrap().iter().any(|e| e["field"] == field), "{body} → {b}");
    }
    assert_eq!(app.count("leads").await, before, "refused input creates nothing");

    let (s, o) = app
        .post(
            "/api/v1/opportunities",
            Some(&token),
            json!({"client_id": cid, "estimated_value": "25000", "currency": "RON", "probability": 60, "expected_close_date": "2030-03-31"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    assert_eq!(
        (o["is_opportunity"].as_bool(), o["company"].as_str(), o["name"].as_str(), o["email"].as_str()),
        (Some(true), Some("Vest Trade SRL"), Some("Ion Vest"), Some("ion@vest.example"))
    );
    assert_eq!((o["estimated_value"].as_str(), o["probability"].as_i64(), o["opportunity_status"].as_str()), (Some("25000.00"), Some(60), Some("Prospecting")));
    assert_eq!(o["assigned_to"].as_i64(), Some(i64::from(admin.id)), "assigned to its creator by default");
    let (_, listed) = app.get("/api/v1/opportunities", &token).await;
    assert_eq!(listed["items"][0]["id"], o["id"]);

    let (s, prospect) = app
        .post(
            "/api/v1/opportunities",
            Some(&token),
            json!({"name": "Maria Ene", "company": "Ene Soft", "phone": "+40722000111", "estimated_value": "5000", "currency": "EUR", "probability": 20}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{prospect}");
    assert_eq!((prospect["company"].as_str(), prospect["currency"].as_str()), (Some("Ene Soft"), Some("EUR")));

    // Converting a proposal of the client's opportunity bills that client (no second client).
    let tax = vat21(&app, &token).await;
    let (_, p) = app
        .post(
            "/api/v1/proposals",
            Some(&token),
            json!({"subject": "Deal", "opportunity_id": o["id"], "lines": [{"description": "x", "qty": "1", "unit_price": "10", "tax_ids": [tax]}]}),
        )
        .await;
    let pid = p["id"].as_i64().unwrap();
    for status in ["sent_manually", "accepted"] {
        let (s, b) = app.post(&format!("/api/v1/proposals/{pid}/status"), Some(&token), json!({"status": status})).await;
        assert_eq!(s, StatusCode::OK, "{status}: {b}");
    }
    let clients_before = app.count("clients").await;
    let (s, inv) = app.post(&format!("/api/v1/proposals/{pid}/convert-to-invoice"), Some(&token), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{inv}");
    assert_eq!(inv["client_id"].as_i64(), Some(cid));
    assert_eq!(app.count("clients").await, clients_before);

    // A client with documents cannot be deleted (409, not a database error).
    let (s, b) = app.delete(&format!("/api/v1/clients/{cid}"), &token).await;
    assert_problem(s, &b, 409, "in_use");
}
