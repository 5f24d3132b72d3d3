//! Scoring rules, reminders, bulk actions and global search.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app};
use crate::leads::{create_lead, sales_statuses};

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap()
}

#[tokio::test]
async fn scores_follow_the_rules_and_sort_the_list() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (_, sources) = app.get("/api/v1/lead-sources", &token).await;
    let referral = sources["items"].as_array().unwrap().iter().find(|s| s["name"] == "Referral").unwrap()["id"].clone();
    let hot =
        create_lead(&app, &token, json!({"name": "Hot", "email": "h@x.ro", "source_id": referral, "industry": "Software", "company_size": "51-200"})).await;
    let cold = create_lead(&app, &token, json!({"name": "Cold", "email": "c@x.ro", "industry": "Retail"})).await;
    assert_eq!(hot["score"], 0, "no rules yet");

    let (s, r1) =
        app.post("/api/v1/lead-scoring/rules", Some(&token), json!({"field": "source", "operator": "equals", "value": "Referral", "points": 30})).await;
    assert_eq!(s, StatusCode::CREATED, "{r1}");
    app.post("/api/v1/lead-scoring/rules", Some(&token), json!({"field": "industry", "operator": "in", "value": ["Software", "Fintech"], "points": 20})).await;
    app.post("/api/v1/lead-scoring/rules", Some(&token), json!({"field": "company_size", "operator": "range", "value": {"min": 50}, "points": 10})).await;
    let (_, h) = app.get(&format!("/api/v1/leads/{}", hot["id"]), &token).await;
    assert_eq!(h["score"], 60, "existing leads are rescored when a rule is added");
    let (_, c) = app.get(&format!("/api/v1/leads/{}", cold["id"]), &token).await;
    assert_eq!(c["score"], 0);

    // A new or edited lead is scored on write.
    let (_, edited) = app.patch(&format!("/api/v1/leads/{}", cold["id"]), &token, json!({"industry": "Fintech"})).await;
    assert_eq!(edited["score"], 20);
    let (_, page) = app.get("/api/v1/leads?sort=-score", &token).await;
    let order: Vec<_> = page["items"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(order, ["Hot", "Cold"]);

    // Changing and deleting rules rescore too.
    let (s, _) = app
        .patch(&format!("/api/v1/lead-scoring/rules/{}", r1["id"]), &token, json!({"field": "source", "operator": "equals", "value": "Referral", "points": -5}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, h) = app.get(&format!("/api/v1/leads/{}", hot["id"]), &token).await;
    assert_eq!(h["score"], 25);
    app.delete(&format!("/api/v1/lead-scoring/rules/{}", r1["id"]), &token).await;
    let (_, h) = app.get(&format!("/api/v1/leads/{}", hot["id"]), &token).await;
    assert_eq!(h["score"], 30);

    let (s, b) = app.post("/api/v1/lead-scoring/rules", Some(&token), json!({"field": "shoe_size", "operator": "equals", "value": "44", "points": 1})).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["field"], "field");
    let (s, b) = app.post("/api/v1/lead-scoring/rules", Some(&token), json!({"field": "tag", "operator": "range", "value": {}, "points": 1})).await;
    assert_problem(s, &b, 422, "validation_failed");
    let (_, rules) = app.get("/api/v1/lead-scoring/rules", &token).await;
    assert_eq!(rules["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn reminders_are_due_listed_done_and_leave_no_lead_hanging() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let a = create_lead(&app, &token, json!({"name": "A", "email": "a@x.ro"})).await;
    let b = create_lead(&app, &token, json!({"name": "B", "email": "b@x.ro"})).await;
    let now = time::OffsetDateTime::now_utc();
    let (s, overdue) = app
        .post(&format!("/api/v1/leads/{}/reminders", a["id"]), Some(&token), json!({"remind_at": rfc3339(now - time::Duration::hours(1)), "note": "call back"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{overdue}");
    assert_eq!((overdue["staff_id"].as_i64(), overdue["lead_name"].as_str()), (Some(admin.id as i64), Some("A")));
    let (s, future) =
        app.post(&format!("/api/v1/leads/{}/reminders", b["id"]), Some(&token), json!({"remind_at": rfc3339(now + time::Duration::days(3))})).await;
    assert_eq!(s, StatusCode::CREATED, "{future}");

    let names = |v: &Value| v["items"].as_array().unwrap().iter().map(|r| r["lead_name"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let (_, due) = app.get("/api/v1/reminders?due=overdue", &token).await;
    assert_eq!(names(&due), ["A"]);
    let (_, upcoming) = app.get("/api/v1/reminders?due=upcoming", &token).await;
    assert_eq!(names(&upcoming), ["B"]);
    let (s, bad) = app.get("/api/v1/reminders?due=someday", &token).await;
    assert_problem(s, &bad, 422, "validation_failed");

    // "No lead left hanging": A has no future reminder, B has one.
    let (_, hanging) = app.get("/api/v1/leads?no_followup=true", &token).await;
    let hanging: Vec<_> = hanging["items"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(hanging, ["A"]);

    let (s, done) = app.post(&format!("/api/v1/reminders/{}/done", overdue["id"]), Some(&token), json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert!(done["done_at"].is_string());
    let (s, b2) = app.post(&format!("/api/v1/reminders/{}/done", overdue["id"]), Some(&token), json!({})).await;
    assert_problem(s, &b2, 409, "already_done");
    let (_, due) = app.get("/api/v1/reminders?due=overdue", &token).await;
    assert!(due["items"].as_array().unwrap().is_empty());

    // Someone else's reminder list is theirs; a reminder for another staff member needs a real one.
    let (s, b3) = app.post(&format!("/api/v1/leads/{}/reminders", a["id"]), Some(&token), json!({"remind_at": rfc3339(now), "staff_id": 999999})).await;
    assert_problem(s, &b3, 422, "validation_failed");

    // A lead marked junk (or lost, alone or in bulk) takes its open reminders with it.
    let (s, _) = app.post(&format!("/api/v1/leads/{}/junk", b["id"]), Some(&token), json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let (_, upcoming) = app.get("/api/v1/reminders?due=upcoming", &token).await;
    assert!(upcoming["items"].as_array().unwrap().is_empty(), "{upcoming}");
    let (_, of_b) = app.get(&format!("/api/v1/leads/{}/reminders", b["id"]), &token).await;
    assert!(of_b["items"][0]["done_at"].is_string(), "closed, not deleted: {of_b}");
}

#[tokio::test]
async fn bulk_actions_are_all_or_nothing() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let s = sales_statuses(&app, &token).await;
    let (agent, _) = app.staff_with_token("agent@test.example", "Sales Agent").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(create_lead(&app, &token, json!({"name": format!("L{i}"), "email": format!("l{i}@x.ro")})).await["id"].as_i64().unwrap());
    }
    let (st, r) = app.post("/api/v1/leads/bulk", Some(&token), json!({"ids": ids, "action": "assign", "assigned_to": agent.id})).await;
    assert_eq!((st, r["affected"].as_i64()), (StatusCode::OK, Some(3)), "{r}");
    let (_, mine) = app.get(&format!("/api/v1/leads?assigned={}", agent.id), &token).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 3);

    app.post("/api/v1/leads/bulk", Some(&token), json!({"ids": ids, "action": "change_status", "status_id": s[2]})).await;
    app.post("/api/v1/leads/bulk", Some(&token), json!({"ids": ids, "action": "add_tag", "tag": "fair-2026"})).await;
    let (_, tagged) = app.get("/api/v1/leads?tag=fair-2026&status=Qualified", &token).await;
    assert_eq!(tagged["items"].as_array().unwrap().len(), 3);
    let (_, events) = app.get("/api/v1/audit-log?action=lead.bulk_change_status", &token).await;
    assert_eq!(events["items"].as_array().unwrap().len(), 3, "one audit entry per lead");

    // One unknown id → nothing changes.
    let mut with_ghost = ids.clone();
    with_ghost.push(999999);
    let (st, b) = app.post("/api/v1/leads/bulk", Some(&token), json!({"ids": with_ghost, "action": "mark_junk"})).await;
    assert_problem(st, &b, 422, "validation_failed");
    let (_, junk) = app.get("/api/v1/leads?junk=true", &token).await;
    assert!(junk["items"].as_array().unwrap().is_empty());
    let (st, b) = app.post("/api/v1/leads/bulk", Some(&token), json!({"ids": ids, "action": "explode"})).await;
    assert_problem(st, &b, 422, "validation_failed");
    let (st, b) = app.post("/api/v1/leads/bulk", Some(&token), json!({"ids": [], "action": "mark_junk"})).await;
    assert_problem(st, &b, 422, "validation_failed");

    let (_, reasons) = app.get("/api/v1/lost-reasons", &token).await;
    app.post("/api/v1/leads/bulk", Some(&token), json!({"ids": [ids[0]], "action": "mark_lost", "lost_reason_id": reasons["items"][0]["id"]})).await;
    let (st, r) = app.post("/api/v1/leads/bulk", Some(&token), json!({"ids": [ids[1], ids[2]], "action": "delete"})).await;
    assert_eq!((st, r["affected"].as_i64()), (StatusCode::OK, Some(2)));
    assert_eq!(app.count("leads").await, 1);
}

#[tokio::test]
async fn bulk_respects_view_own_and_permissions() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (sdr, sdr_token) = app.staff_with_token("sdr@test.example", "SDR").await;
    let mine = create_lead(&app, &admin, json!({"name": "Mine", "email": "m@x.ro", "assigned_to": sdr.id})).await["id"].as_i64().unwrap();
    let theirs = create_lead(&app, &admin, json!({"name": "Theirs", "email": "t@x.ro"})).await["id"].as_i64().unwrap();
    let (st, b) = app.post("/api/v1/leads/bulk", Some(&sdr_token), json!({"ids": [mine, theirs], "action": "add_tag", "tag": "x"})).await;
    assert_problem(st, &b, 422, "validation_failed");
    let (st, b) = app.post("/api/v1/leads/bulk", Some(&sdr_token), json!({"ids": [mine], "action": "delete"})).await;
    assert_problem(st, &b, 403, "forbidden");
    let (st, _) = app.post("/api/v1/leads/bulk", Some(&sdr_token), json!({"ids": [mine], "action": "add_tag", "tag": "x"})).await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn global_search_groups_results_and_respects_permissions() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (sdr, sdr_token) = app.staff_with_token("sdr@test.example", "SDR").await;
    create_lead(&app, &admin, json!({"name": "Ana Acme", "company": "Acme SRL", "email": "ana@acme.ro", "assigned_to": sdr.id})).await;
    let other = create_lead(&app, &admin, json!({"name": "Bob", "company": "Acme Logistic", "email": "bob@acme.ro"})).await;
    app.post(
        &format!("/api/v1/leads/{}/convert-to-opportunity", other["id"]),
        Some(&admin),
        json!({"estimated_value": "10", "currency": "RON", "probability": 10}),
    )
    .await;
    app.post("/api/v1/clients", Some(&admin), json!({"company": "ACME Holding", "vat_number": "RO999"})).await;

    let (st, r) = app.get("/api/v1/search?q=acme", &admin).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["leads"].as_array().unwrap().len(), 2);
    assert_eq!(r["opportunities"].as_array().unwrap().len(), 1);
    assert_eq!(r["clients"][0]["company"], "ACME Holding");

    let (_, r) = app.get("/api/v1/search?q=acme", &sdr_token).await;
    let leads: Vec<_> = r["leads"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(leads, ["Ana Acme"], "view own");
    assert!(r["opportunities"].as_array().unwrap().is_empty(), "no opportunity access");
    assert_eq!(r["clients"].as_array().unwrap().len(), 1, "SDRs may view clients");
    let (st, b) = app.get("/api/v1/search?q=a", &admin).await;
    assert_problem(st, &b, 422, "validation_failed");
}

#[tokio::test]
async fn custom_fields_are_validated_stored_shown_and_filterable() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let defs = [
        json!({"entity": "lead", "key": "budget", "label": "Budget", "field_type": "number"}),
        json!({"entity": "lead", "key": "tier", "label": "Tier", "field_type": "select", "options": ["Gold", "Silver"], "required": true}),
        json!({"entity": "lead", "key": "products", "label": "Products", "field_type": "multi_select", "options": ["CRM", "ERP", "BI"]}),
        json!({"entity": "lead", "key": "nda_signed", "label": "NDA", "field_type": "checkbox"}),
        json!({"entity": "lead", "key": "first_meeting", "label": "First meeting", "field_type": "date"}),
        json!({"entity": "client", "key": "segment", "label": "Segment", "field_type": "text", "required": true}),
    ];
    for d in defs {
        let (s, b) = app.post("/api/v1/custom-fields", Some(&token), d).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    let (s, b) = app.post("/api/v1/custom-fields", Some(&token), json!({"entity": "lead", "key": "tier", "label": "Again", "field_type": "text"})).await;
    assert_problem(s, &b, 409, "name_taken");
    let (s, b) = app.post("/api/v1/custom-fields", Some(&token), json!({"entity": "lead", "key": "Bad Key", "label": "x", "field_type": "select"})).await;
    assert_problem(s, &b, 422, "validation_failed");
    let fields: Vec<_> = b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["key", "options"]);

    // Required field missing, unknown key, wrong option: refused, nothing stored.
    let (s, b) =
        app.post("/api/v1/leads", Some(&token), json!({"name": "X", "email": "x@x.ro", "custom_fields": {"colour": "red", "products": ["CRM", "HR"]}})).await;
    assert_problem(s, &b, 422, "validation_failed");
    let fields: Vec<_> = b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["custom_fields.colour", "custom_fields.tier", "custom_fields.products"]);
    assert_eq!(app.count("leads").await, 0);

    let gold = create_lead(
        &app,
        &token,
        json!({"name": "Gold", "email": "g@x.ro", "custom_fields": {
        "budget": "15000.50", "tier": "Gold", "products": ["ERP", "CRM"], "nda_signed": true, "first_meeting": "2026-12-01"}}),
    )
    .await;
    assert_eq!(
        gold["custom_fields"],
        json!({"budget": "15000.5", "tier": "Gold", "products": ["CRM", "ERP"], "nda_signed": true, "first_meeting": "2026-12-01"}),
        "multi-select values in option order"
    );
    let silver = create_lead(&app, &token, json!({"name": "Silver", "email": "s@x.ro", "custom_fields": {"tier": "Silver", "products": ["BI"]}})).await;
    assert_eq!(silver["custom_fields"]["budget"], Value::Null);

    let names = |v: &Value| v["items"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let (_, page) = app.get("/api/v1/leads?cf.tier=Gold", &token).await;
    assert_eq!(names(&page), ["Gold"]);
    let (_, page) = app.get("/api/v1/leads?cf.products=BI", &token).await;
    assert_eq!(names(&page), ["Silver"]);
    let (_, page) = app.get("/api/v1/leads?cf.nda_signed=true", &token).await;
    assert_eq!(names(&page), ["Gold"]);
    let (s, b) = app.get("/api/v1/leads?cf.tier=Bronze", &token).await;
    assert_problem(s, &b, 422, "validation_failed");
    let (s, b) = app.get("/api/v1/leads?cf.nope=1", &token).await;
    assert_problem(s, &b, 422, "validation_failed");

    // PATCH changes only the keys sent; a required field cannot be cleared.
    let (s, updated) = app.patch(&format!("/api/v1/leads/{}", gold["id"]), &token, json!({"custom_fields": {"budget": null}})).await;
    assert_eq!(s, StatusCode::OK, "{updated}");
    assert_eq!((updated["custom_fields"]["budget"].clone(), updated["custom_fields"]["tier"].as_str()), (Value::Null, Some("Gold")));
    let (s, b) = app.patch(&format!("/api/v1/leads/{}", gold["id"]), &token, json!({"custom_fields": {"tier": null}})).await;
    assert_problem(s, &b, 422, "validation_failed");

    // Scoring can use custom fields.
    app.post("/api/v1/lead-scoring/rules", Some(&token), json!({"field": "custom_field.tier", "operator": "equals", "value": "gold", "points": 40})).await;
    let (_, g) = app.get(&format!("/api/v1/leads/{}", gold["id"]), &token).await;
    assert_eq!(g["score"], 40);

    // Clients have their own fields.
    let (s, b) = app.post("/api/v1/clients", Some(&token), json!({"company": "Acme"})).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["field"], "custom_fields.segment");
    let (s, c) = app.post("/api/v1/clients", Some(&token), json!({"company": "Acme", "custom_fields": {"segment": "Enterprise"}})).await;
    assert_eq!((s, c["custom_fields"]["segment"].as_str()), (StatusCode::CREATED, Some("Enterprise")));
    let (_, found) = app.get("/api/v1/clients?cf.segment=Enterprise", &token).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn attachments_are_uploaded_downloaded_and_deleted_with_their_files() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let lead = create_lead(&app, &token, json!({"name": "Ana", "email": "ana@x.ro"})).await;
    let base = format!("/api/v1/leads/{}/attachments", lead["id"]);
    let files = app.state.settings.data_dir.join("attachments");
    let stored = || std::fs::read_dir(&files).map(|d| d.count()).unwrap_or(0);

    let content = b"%PDF-1.7 offer".to_vec();
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(content.clone()).file_name("../Offer 2026.pdf").mime_str("application/pdf").unwrap());
    let res = app.client.post(app.url(&base)).bearer_auth(&token).multipart(form).send().await.unwrap();
    let (s, a) = crate::helpers::json_of(res).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(
        (a["file_name"].as_str(), a["content_type"].as_str(), a["size_bytes"].as_i64()),
        (Some("Offer 2026.pdf"), Some("application/pdf"), Some(content.len() as i64))
    );
    assert_eq!(stored(), 1);

    let res = app.client.get(app.url(&format!("{base}/{}", a["id"]))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("Offer 2026.pdf"));
    assert_eq!(res.bytes().await.unwrap().to_vec(), content);
    let (_, list) = app.get(&base, &token).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // Too large: refused, nothing left behind.
    let big = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(vec![0u8; 10 * 1024 * 1024 + 1]).file_name("big.bin"));
    let res = app.client.post(app.url(&base)).bearer_auth(&token).multipart(big).send().await.unwrap();
    let (s, b) = crate::helpers::json_of(res).await;
    assert_problem(s, &b, 413, "payload_too_large");
    // Not multipart, or no `file` field.
    let (s, b) = app.post(&base, Some(&token), json!({"file": "x"})).await;
    assert_problem(s, &b, 415, "unsupported_media_type");
    let other = reqwest::multipart::Form::new().text("note", "hello");
    let (s, b) = crate::helpers::json_of(app.client.post(app.url(&base)).bearer_auth(&token).multipart(other).send().await.unwrap()).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!((stored(), app.count("attachments").await), (1, 1));

    // Another staff member without access to the lead cannot read it.
    let (_, sdr) = app.staff_with_token("sdr@test.example", "SDR").await;
    let (s, _) = app.get(&format!("{base}/{}", a["id"]), &sdr).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, _) = app.delete(&format!("{base}/{}", a["id"]), &token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!((stored(), app.count("attachments").await), (0, 0));
}

#[tokio::test]
async fn csv_export_follows_the_list_filters_sort_and_view_own() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (sdr, sdr_token) = app.staff_with_token("sdr@test.example", "SDR").await;
    create_lead(
        &app,
        &admin,
        json!({"name": "Zed, \"The\" Buyer", "email": "z@x.ro", "tags": ["vip"], "estimated_value": "1500.50", "currency": "EUR", "assigned_to": sdr.id}),
    )
    .await;
    create_lead(&app, &admin, json!({"name": "=cmd()", "email": "evil@x.ro", "tags": ["vip"]})).await;
    create_lead(&app, &admin, json!({"name": "Untagged", "email": "u@x.ro"})).await;

    let res = app.request(reqwest::Method::GET, "/api/v1/leads/export?tag=vip&sort=name", Some(&admin), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "header + the two tagged leads: {csv}");
    assert!(lines[0].starts_with("id,name,company"));
    assert!(lines[1].contains(",'=cmd(),"), "formula neutralised, sorted by name: {csv}");
    assert!(lines[2].contains("\"Zed, \"\"The\"\" Buyer\""), "quoted: {csv}");
    assert!(lines[2].contains(",1500.50,EUR,"), "exact money: {csv}");

    // The SDR only sees (and exports) their own leads.
    let res = app.request(reqwest::Method::GET, "/api/v1/leads/export", Some(&sdr_token), None).await;
    let csv = res.text().await.unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let (st, b) = app.get("/api/v1/leads/export?sort=bogus", &admin).await;
    assert_problem(st, &b, 422, "validation_failed");
}

/// 100 000 leads export in full on both databases: the export streams in chunks, so no query
/// binds more ids than a chunk (it used to overflow PostgreSQL's 65 535 bind parameters).
#[tokio::test]
async fn a_hundred_thousand_leads_export_in_full() {
    use crmconnect::entities::{lead, lead_tag, pipeline_status};
    use sea_orm::{ActiveValue::Set, EntityTrait, QueryOrder};
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let db = &app.state.db;
    let status = pipeline_status::Entity::find().order_by_asc(pipeline_status::Column::SortOrder).one(db).await.unwrap().unwrap();
    let now = time::OffsetDateTime::now_utc();
    const N: usize = 100_000;
    for start in (0..N).step_by(1_000) {
        let rows = (start..start + 1_000).map(|i| lead::ActiveModel {
            name: Set(format!("Lead {i:06}")),
            pipeline_id: Set(status.pipeline_id),
            status_id: Set(status.id),
            position: Set(i as i64),
            score: Set(0),
            is_opportunity: Set(false),
            lost: Set(false),
            junk: Set(false),
            last_status_change_at: Set(now),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
        lead::Entity::insert_many(rows).exec(db).await.unwrap();
    }
    let tagged = lead::Entity::find().order_by_desc(lead::Column::Id).one(db).await.unwrap().unwrap();
    lead_tag::Entity::insert(lead_tag::ActiveModel { lead_id: Set(tagged.id), tag: Set("vip".into()) }).exec(db).await.unwrap();

    let res = app.request(reqwest::Method::GET, "/api/v1/leads/export?sort=name", Some(&admin), None).await;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let body = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), N, "every lead, once");
    let names: Vec<&str> = rows.iter().map(|r| &r[1]).collect();
    assert!(names.windows(2).all(|w| w[0] < w[1]), "in name order across chunks, no repeats");
    assert_eq!((names[0], names[N - 1]), ("Lead 000000", "Lead 099999"));
    assert_eq!(&rows[N - 1][14], "vip", "tags of the last chunk are there");
}
