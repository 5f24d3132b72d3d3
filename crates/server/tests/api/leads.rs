use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, TestApp};

pub async fn sales_statuses(app: &TestApp, token: &str) -> Vec<i64> {
    let (_, list) = app.get("/api/v1/pipelines", token).await;
    list["items"][0]["statuses"].as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect()
}

pub async fn create_lead(app: &TestApp, token: &str, body: Value) -> Value {
    let (s, lead) = app.post("/api/v1/leads", Some(token), body).await;
    assert_eq!(s, StatusCode::CREATED, "{lead}");
    lead
}

async fn listed(app: &TestApp, token: &str, query: String) -> Vec<i64> {
    let (s, page) = app.get(&format!("/api/v1/leads{query}"), token).await;
    assert_eq!(s, StatusCode::OK, "{query}: {page}");
    ids(&page)
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"].as_array().unwrap().iter().map(|l| l["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn a_lead_is_created_read_updated_and_deleted() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let statuses = sales_statuses(&app, &token).await;
    let lead = create_lead(
        &app,
        &token,
        json!({
            "name": " Ana Pop ", "company": "Acme SRL", "title": "CTO", "email": "Ana@Acme.ro", "phone": "+40 721 234 567",
            "city": "Cluj", "country": "RO", "industry": "Software", "company_size": "11-50",
            "estimated_value": "12500.50", "currency": "eur", "tags": ["VIP", "vip", " q4 "], "assigned_to": admin.id
        }),
    )
    .await;
    assert_eq!(lead["name"], "Ana Pop");
    assert_eq!(lead["email"], "ana@acme.ro");
    assert_eq!(lead["status_id"], statuses[0], "defaults to the first status of the default pipeline");
    assert_eq!(lead["status"], "New");
    assert_eq!((lead["estimated_value"].as_str(), lead["currency"].as_str()), (Some("12500.50"), Some("EUR")));
    assert_eq!(lead["tags"], json!(["VIP", "q4"]));
    assert_eq!(lead["assigned_to_name"], "Test Administrator");
    assert_eq!((lead["lost"].as_bool(), lead["junk"].as_bool(), lead["score"].as_i64()), (Some(false), Some(false), Some(0)));
    let id = lead["id"].as_i64().unwrap();

    let (s, updated) = app.patch(&format!("/api/v1/leads/{id}"), &token, json!({"company": null, "estimated_value": "99.90", "tags": ["hot"]})).await;
    assert_eq!(s, StatusCode::OK, "{updated}");
    assert_eq!(updated["company"], Value::Null);
    assert_eq!(updated["estimated_value"], "99.90");
    assert_eq!(updated["title"], "CTO", "untouched fields stay");
    assert_eq!(updated["tags"], json!(["hot"]));

    // Clearing both contact fields breaks the "e-mail or phone" rule and changes nothing.
    let (s, b) = app.patch(&format!("/api/v1/leads/{id}"), &token, json!({"email": null, "phone": null})).await;
    assert_problem(s, &b, 422, "validation_failed");
    let (_, same) = app.get(&format!("/api/v1/leads/{id}"), &token).await;
    assert_eq!(same["email"], "ana@acme.ro");

    let (_, log) = app.get(&format!("/api/v1/audit-log?entity_type=lead&entity_id={id}"), &token).await;
    let actions: Vec<_> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["lead.updated", "lead.created"]);

    let (s, _) = app.delete(&format!("/api/v1/leads/{id}"), &token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = app.get(&format!("/api/v1/leads/{id}"), &token).await;
    assert_problem(s, &b, 404, "not_found");
}

#[tokio::test]
async fn bad_leads_are_refused_with_every_problem_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (_, other) = app.post("/api/v1/pipelines", Some(&token), json!({"name": "Other", "statuses": [{"name": "Elsewhere"}]})).await;
    let foreign_status = other["statuses"][0]["id"].clone();
    let cases = [
        (json!({"email": "a@b.ro"}), "name"),
        (json!({"name": "", "email": "a@b.ro"}), "name"),
        (json!({"name": "X"}), "email"),
        (json!({"name": "X", "email": "not-an-email"}), "email"),
        (json!({"name": "X", "phone": "call me"}), "phone"),
        (json!({"name": "X", "email": "a@b.ro", "status_id": foreign_status}), "status_id"),
        (json!({"name": "X", "email": "a@b.ro", "status_id": 999999}), "status_id"),
        (json!({"name": "X", "email": "a@b.ro", "estimated_value": "-5", "currency": "RON"}), "estimated_value"),
        (json!({"name": "X", "email": "a@b.ro", "estimated_value": "5.123", "currency": "RON"}), "estimated_value"),
        (json!({"name": "X", "email": "a@b.ro", "estimated_value": "5"}), "currency"),
        (json!({"name": "X", "email": "a@b.ro", "estimated_value": "5", "currency": "XXX"}), "currency"),
        (json!({"name": "X", "email": "a@b.ro", "source_id": 999999}), "source_id"),
        (json!({"name": "X", "email": "a@b.ro", "assigned_to": 999999}), "assigned_to"),
        (json!({"name": "X", "email": "a@b.ro", "estimated_value": 5.5, "currency": "RON"}), "estimated_value"),
    ];
    for (body, field) in cases {
        let (s, b) = app.post("/api/v1/leads", Some(&token), body.clone()).await;
        assert_problem(s, &b, 422, "validation_failed");
        assert!(b["errors"].as_array().unwrap().iter().any(|e| e["field"] == field), "{body} → {b}");
    }
    let (_, b) = app.post("/api/v1/leads", Some(&token), json!({"name": "X", "email": "a@b.ro", "status_id": foreign_status})).await;
    assert_eq!(b["errors"][0]["code"], "wrong_pipeline");
    assert_eq!(app.count("leads").await, 0);
    assert_eq!(app.count("events").await, 0);
}

#[tokio::test]
async fn the_list_filters_like_the_guide() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let statuses = sales_statuses(&app, &token).await;
    let (agent, _) = app.staff_with_token("agent@test.example", "Sales Agent").await;
    let a = create_lead(&app, &token, json!({"name": "Alpha", "email": "alpha@x.ro", "assigned_to": admin.id, "tags": ["vip"]})).await;
    let b =
        create_lead(&app, &token, json!({"name": "Beta", "phone": "0721 555 666", "company": "Beta Corp", "assigned_to": agent.id, "status_id": statuses[2]}))
            .await;
    let c = create_lead(&app, &token, json!({"name": "Gamma", "email": "gamma@x.ro"})).await;
    let (a, b, c) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap(), c["id"].as_i64().unwrap());

    let get = |q: String| listed(&app, &token, q);
    assert_eq!(get("".into()).await, [c, b, a], "newest first");
    assert_eq!(get("?sort=created_at".into()).await, [a, b, c]);
    assert_eq!(get("?assigned=me".into()).await, [a]);
    assert_eq!(get(format!("?assigned={}", agent.id)).await, [b]);
    assert_eq!(get("?assigned=none".into()).await, [c]);
    assert_eq!(get("?status=qualified".into()).await, [b]);
    assert_eq!(get(format!("?status={}", statuses[0])).await, [c, a]);
    assert_eq!(get("?tag=VIP".into()).await, [a]);
    assert_eq!(get("?q=beta%20c".into()).await, [b]);
    assert_eq!(get("?q=555".into()).await, [b]);
    assert_eq!(get("?created=today".into()).await, [c, b, a]);
    assert_eq!(get("?stagnant_days=14".into()).await, Vec::<i64>::new());
    assert_eq!(get("?stagnant_days=0".into()).await, [c, b, a]);
    assert_eq!(get("?uncontacted=true".into()).await, [c, b, a]);
    assert_eq!(get("?sort=name".into()).await, [a, b, c]);
    assert_eq!(get("?sort=-name".into()).await, [c, b, a]);

    // Lost and junk leave the default list but stay findable.
    let (_, reasons) = app.get("/api/v1/lost-reasons", &token).await;
    app.post(&format!("/api/v1/leads/{a}/lost"), Some(&token), json!({"lost_reason_id": reasons["items"][0]["id"], "note": "went with Oracle"})).await;
    app.post(&format!("/api/v1/leads/{b}/junk"), Some(&token), json!({})).await;
    assert_eq!(get("".into()).await, [c]);
    assert_eq!(get("?lost=true".into()).await, [a]);
    assert_eq!(get("?junk=true".into()).await, [b]);

    let (s, bad) = app.get("/api/v1/leads?sort=height", &token).await;
    assert_problem(s, &bad, 422, "validation_failed");
    let (s, bad) = app.get("/api/v1/leads?assigned=someone", &token).await;
    assert_problem(s, &bad, 422, "validation_failed");
}

#[tokio::test]
async fn keyset_pages_cover_every_lead_once_in_any_sort() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    for i in 0..7 {
        create_lead(&app, &token, json!({"name": format!("Lead {}", i % 3), "email": format!("l{i}@x.ro")})).await;
    }
    for sort in ["-created_at", "created_at", "name", "-name", "score", "-score"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/leads?sort={sort}&limit=3&cursor={c}"),
                None => format!("/api/v1/leads?sort={sort}&limit=3"),
            };
            let (s, page) = app.get(&path, &token).await;
            assert_eq!(s, StatusCode::OK, "{page}");
            seen.extend(ids(&page));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (7, 7), "{sort}: {seen:?}");
    }
}

#[tokio::test]
async fn lost_junk_and_restore_keep_the_lead_and_its_status() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let statuses = sales_statuses(&app, &token).await;
    let lead = create_lead(&app, &token, json!({"name": "Ana", "email": "ana@x.ro", "status_id": statuses[3]})).await;
    let id = lead["id"].as_i64().unwrap();
    let (s, b) = app.post(&format!("/api/v1/leads/{id}/lost"), Some(&token), json!({"lost_reason_id": 999999})).await;
    assert_problem(s, &b, 422, "validation_failed");
    let (_, reasons) = app.get("/api/v1/lost-reasons", &token).await;
    let reason = &reasons["items"][0];
    let (s, lost) = app.post(&format!("/api/v1/leads/{id}/lost"), Some(&token), json!({"lost_reason_id": reason["id"], "note": "too expensive"})).await;
    assert_eq!(s, StatusCode::OK, "{lost}");
    assert_eq!((lost["lost"].as_bool(), &lost["lost_reason"]), (Some(true), &reason["name"]));
    let (s, junk) = app.post(&format!("/api/v1/leads/{id}/junk"), Some(&token), json!({})).await;
    assert_eq!((s, junk["junk"].as_bool(), junk["lost"].as_bool()), (StatusCode::OK, Some(true), Some(false)));
    let (s, restored) = app.post(&format!("/api/v1/leads/{id}/restore"), Some(&token), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{restored}");
    assert_eq!((restored["junk"].as_bool(), restored["lost"].as_bool()), (Some(false), Some(false)));
    assert_eq!(restored["status_id"], statuses[3], "back to its last status");
    let (s, b) = app.post(&format!("/api/v1/leads/{id}/restore"), Some(&token), json!({})).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(app.count("leads").await, 1, "nothing deleted");

    let (_, timeline) = app.get(&format!("/api/v1/leads/{id}/timeline"), &token).await;
    let titles: Vec<_> = timeline["items"].as_array().unwrap().iter().map(|e| e["title"].as_str().unwrap().to_string()).collect();
    for expected in ["created", "marked lost", "marked junk", "restored"] {
        assert!(titles.iter().any(|t| t == expected), "{expected} missing from {titles:?}");
    }
    assert!(timeline.to_string().contains("too expensive"), "the lost note is in the timeline");
}

#[tokio::test]
async fn view_own_staff_see_and_touch_only_their_leads() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (sdr, sdr_token) = app.staff_with_token("sdr@test.example", "SDR").await;
    let mine = create_lead(&app, &admin, json!({"name": "Mine", "email": "m@x.ro", "assigned_to": sdr.id})).await;
    let theirs = create_lead(&app, &admin, json!({"name": "Theirs", "email": "t@x.ro"})).await;
    let (_, page) = app.get("/api/v1/leads", &sdr_token).await;
    assert_eq!(ids(&page), [mine["id"].as_i64().unwrap()]);
    let (s, b) = app.get(&format!("/api/v1/leads/{}", theirs["id"]), &sdr_token).await;
    assert_problem(s, &b, 404, "not_found");
    let (s, b) = app.patch(&format!("/api/v1/leads/{}", theirs["id"]), &sdr_token, json!({"name": "Hijacked"})).await;
    assert_problem(s, &b, 404, "not_found");
    let (s, b) = app.delete(&format!("/api/v1/leads/{}", mine["id"]), &sdr_token).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, _) = app.patch(&format!("/api/v1/leads/{}", mine["id"]), &sdr_token, json!({"name": "Mine, edited"})).await;
    assert_eq!(s, StatusCode::OK);
    // No leads permission at all: 403 everywhere.
    let (_, role) = app.post("/api/v1/roles", Some(&admin), json!({"name": "Clients only", "permissions": {"clients": ["view"]}})).await;
    app.post("/api/v1/staff", Some(&admin), json!({"name": "C", "email": "c@test.example", "password": crate::helpers::PASSWORD, "role_id": role["id"]})).await;
    let c = app.login("c@test.example", crate::helpers::PASSWORD).await.access_token;
    for path in ["/api/v1/leads", "/api/v1/leads/kanban"] {
        let (s, b) = app.get(path, &c).await;
        assert_problem(s, &b, 403, "forbidden");
    }
}

#[tokio::test]
async fn activities_update_last_contact_and_fill_the_timeline() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let lead = create_lead(&app, &token, json!({"name": "Ana", "email": "ana@x.ro"})).await;
    let id = lead["id"].as_i64().unwrap();
    let path = format!("/api/v1/leads/{id}/activities");

    let (s, note) = app.post(&path, Some(&token), json!({"type": "note", "summary": "Prefers mornings"})).await;
    assert_eq!(s, StatusCode::CREATED, "{note}");
    let (_, l) = app.get(&format!("/api/v1/leads/{id}"), &token).await;
    assert_eq!(l["last_contacted_at"], Value::Null, "a note is not contact");

    let (s, b) = app.post(&path, Some(&token), json!({"type": "call", "summary": "Intro"})).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["field"], "duration_minutes");
    let (s, b) = app.post(&path, Some(&token), json!({"type": "email", "summary": "Offer"})).await;
    assert_problem(s, &b, 422, "validation_failed");
    let (s, b) = app.post(&path, Some(&token), json!({"type": "fax", "summary": "x"})).await;
    assert_problem(s, &b, 422, "validation_failed");

    let (s, call) = app.post(&path, Some(&token), json!({"type": "call", "summary": "Intro call", "duration_minutes": 12})).await;
    assert_eq!(s, StatusCode::CREATED, "{call}");
    let (_, l) = app.get(&format!("/api/v1/leads/{id}"), &token).await;
    assert_eq!(l["last_contacted_at"], call["occurred_at"]);
    let (_, uncontacted) = app.get("/api/v1/leads?uncontacted=true", &token).await;
    assert!(uncontacted["items"].as_array().unwrap().is_empty());

    let future = (time::OffsetDateTime::now_utc() + time::Duration::days(2)).format(&time::format_description::well_known::Rfc3339).unwrap();
    let (s, meeting) = app.post(&path, Some(&token), json!({"type": "meeting", "summary": "Demo", "occurred_at": future, "attendees": "Ana, Mihai"})).await;
    assert_eq!(s, StatusCode::CREATED, "{meeting}");
    let (_, l2) = app.get(&format!("/api/v1/leads/{id}"), &token).await;
    assert_eq!(l2["last_contacted_at"], l["last_contacted_at"], "a planned meeting is not contact yet");

    let (_, list) = app.get(&path, &token).await;
    let types: Vec<_> = list["items"].as_array().unwrap().iter().map(|a| a["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["meeting", "call", "note"], "newest first");
    let (_, timeline) = app.get(&format!("/api/v1/leads/{id}/timeline"), &token).await;
    let kinds: Vec<_> = timeline["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"activity") && kinds.contains(&"status_change") && kinds.contains(&"event"), "{kinds:?}");
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    let ats: Vec<_> = timeline["items"].as_array().unwrap().iter().map(|e| time::OffsetDateTime::parse(e["at"].as_str().unwrap(), rfc3339).unwrap()).collect();
    let mut sorted = ats.clone();
    sorted.sort();
    assert_eq!(ats, sorted, "oldest first");
}

#[tokio::test]
async fn every_lead_endpoint_hides_other_peoples_leads_from_view_own_staff() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (_, sdr) = app.staff_with_token("sdr@test.example", "SDR").await;
    let s = sales_statuses(&app, &admin).await;
    let theirs = create_lead(&app, &admin, json!({"name": "Theirs", "email": "t@x.ro"})).await["id"].as_i64().unwrap();
    let (_, reasons) = app.get("/api/v1/lost-reasons", &admin).await;
    let reason = reasons["items"][0]["id"].clone();
    let now = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap();
    let gets = ["", "/activities", "/timeline", "/reminders", "/attachments"];
    for suffix in gets {
        let (st, b) = app.get(&format!("/api/v1/leads/{theirs}{suffix}"), &sdr).await;
        assert_problem(st, &b, 404, "not_found");
    }
    let posts = [
        ("/move", json!({"status_id": s[1]})),
        ("/lost", json!({"lost_reason_id": reason})),
        ("/junk", json!({})),
        ("/activities", json!({"type": "note", "summary": "x"})),
        ("/reminders", json!({"remind_at": now})),
        ("/convert-to-client", json!({})),
    ];
    for (suffix, body) in posts {
        let (st, b) = app.post(&format!("/api/v1/leads/{theirs}{suffix}"), Some(&sdr), body).await;
        assert!(matches!(st.as_u16(), 403 | 404), "{suffix}: {st} {b}");
        assert!(b["code"] == "not_found" || b["code"] == "forbidden", "{suffix}: {b}");
    }
    // Nothing changed for the owner.
    let (_, lead) = app.get(&format!("/api/v1/leads/{theirs}"), &admin).await;
    assert_eq!((lead["status_id"].as_i64(), lead["lost"].as_bool(), lead["junk"].as_bool()), (Some(s[0]), Some(false), Some(false)));
    assert_eq!(app.count("lead_activities").await + app.count("reminders").await + app.count("clients").await, 0);
}
