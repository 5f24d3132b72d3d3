//! Incremental sync for integrators: `updated_since` / `created_since` / `sort=updated_at` on
//! lists, the events feed, unknown query parameters refused, ETag / If-None-Match / If-Match.

use std::collections::{BTreeMap, HashSet};

use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::helpers::{assert_problem, json_of, spawn_app, TestApp};

fn instant(t: OffsetDateTime) -> String {
    // `+` would need percent-encoding in a query; UTC's `Z` does not.
    t.format(&Rfc3339).unwrap()
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect()
}

/// Every page of `path` (which already has a query), following `next_cursor`.
async fn all_pages(app: &TestApp, token: &str, path: &str) -> Vec<i64> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_string(),
        };
        let (s, page) = app.get(&url, token).await;
        assert_eq!(s, StatusCode::OK, "{url}: {page}");
        out.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

#[tokio::test]
async fn unknown_query_parameters_are_refused_naming_them_and_change_nothing() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;

    let (s, b) = app.get("/api/v1/leads?updatedsince=2026-12-01T00:00:00Z&limit=5", &token).await;
    assert_problem(s, &b, 422, "unknown_parameter");
    assert_eq!(b["errors"][0]["field"], "updatedsince");
    assert!(b["detail"].as_str().unwrap().contains("`updated_since`"), "the accepted names are listed: {b}");

    // A write with an unknown parameter does not happen.
    let (s, b) = app.post("/api/v1/leads?dry_run=true", Some(&token), json!({"name": "Ana", "email": "ana@lead.example"})).await;
    assert_problem(s, &b, 422, "unknown_parameter");
    assert_eq!(app.count("leads").await, 0);

    // Custom-field filters are parameters of the lists that have them (and only of those).
    let (s, b) = app.get("/api/v1/leads?cf.budget=1", &token).await;
    assert_problem(s, &b, 422, "validation_failed");
    let (s, b) = app.get("/api/v1/staff?cf.budget=1", &token).await;
    assert_problem(s, &b, 422, "unknown_parameter");

    // Every operation of the document: its own parameters are never "unknown", any other is.
    let spec: Value = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let concrete = path.split('/').map(|seg| if seg.starts_with('{') { "1" } else { seg }).collect::<Vec<_>>().join("/");
        let documented: Vec<&str> =
            op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "query").map(|p| p["name"].as_str().unwrap()).collect();
        if !documented.is_empty() {
            let query = documented.iter().map(|n| format!("{n}=1")).collect::<Vec<_>>().join("&");
            let (s, b) = app.get(&format!("{concrete}?{query}"), &token).await;
            assert_ne!(b["code"], "unknown_parameter", "GET {path}: a documented parameter was refused: {s} {b}");
        }
        let (s, b) = app.get(&format!("{concrete}?zz_not_a_parameter=1"), &token).await;
        assert_problem(s, &b, 422, "unknown_parameter");
        checked += 1;
    }
    assert!(checked > 40, "only {checked} GET operations checked");
}

#[tokio::test]
async fn lists_read_what_changed_since_an_instant_in_change_order() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let client = |name: &str| json!({"company": name});
    let (_, a) = app.post("/api/v1/clients", Some(&token), client("Alpha SRL")).await;
    let (_, b) = app.post("/api/v1/clients", Some(&token), client("Beta SRL")).await;
    let mid = OffsetDateTime::now_utc();
    let (_, c) = app.post("/api/v1/clients", Some(&token), client("Gamma SRL")).await;
    let (s, _) = app.patch(&format!("/api/v1/clients/{}", a["id"]), &token, json!({"company": "Alpha Group SRL"})).await;
    assert_eq!(s, StatusCode::OK);
    let [a, b, c] = [&a, &b, &c].map(|x| x["id"].as_i64().unwrap());

    let since = instant(mid);
    let (_, created) = app.get(&format!("/api/v1/clients?created_since={since}"), &token).await;
    assert_eq!(ids(&created), [c]);
    assert_eq!(all_pages(&app, &token, &format!("/api/v1/clients?updated_since={since}&sort=updated_at&limit=1")).await, [c, a]);
    assert_eq!(all_pages(&app, &token, "/api/v1/clients?sort=updated_at&limit=1").await, [b, c, a], "oldest change first, page by page");
    assert_eq!(all_pages(&app, &token, "/api/v1/clients?sort=-updated_at&limit=2").await, [a, c, b]);

    // Leads have their own sorts; updated_at is one of them, with the same filters.
    let mut leads = Vec::new();
    for name in ["L1", "L2", "L3"] {
        let (_, l) = app.post("/api/v1/leads", Some(&token), json!({"name": name, "email": format!("{name}@lead.example")})).await;
        leads.push(l["id"].as_i64().unwrap());
    }
    let mid = instant(OffsetDateTime::now_utc());
    app.patch(&format!("/api/v1/leads/{}", leads[0]), &token, json!({"company": "Changed"})).await;
    assert_eq!(all_pages(&app, &token, "/api/v1/leads?sort=updated_at&limit=1").await, [leads[1], leads[2], leads[0]]);
    assert_eq!(all_pages(&app, &token, &format!("/api/v1/leads?sort=-updated_at&limit=2&updated_since={mid}")).await, [leads[0]]);
    let (_, none) = app.get(&format!("/api/v1/leads?created_since={mid}"), &token).await;
    assert_eq!(ids(&none), Vec::<i64>::new());

    // Unpaged lists (the catalogue, templates, scoring rules) filter the same way.
    let (s, _) = app.post("/api/v1/items", Some(&token), json!({"description": "Old item", "unit_price": "10"})).await;
    assert_eq!(s, StatusCode::CREATED);
    let mid = instant(OffsetDateTime::now_utc());
    let (_, new_item) = app.post("/api/v1/items", Some(&token), json!({"description": "New item", "unit_price": "12"})).await;
    let (_, items) = app.get(&format!("/api/v1/items?created_since={mid}"), &token).await;
    assert_eq!(ids(&items), [new_item["id"].as_i64().unwrap()]);
    let (_, items) = app.get(&format!("/api/v1/items?updated_since={mid}"), &token).await;
    assert_eq!(ids(&items).len(), 1);

    // Bad values say which parameter is wrong; a cursor of another order is refused.
    let (s, b) = app.get("/api/v1/clients?updated_since=yesterday", &token).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["field"], "updated_since");
    let (s, b) = app.get("/api/v1/invoices?sort=name", &token).await;
    assert_problem(s, &b, 422, "validation_failed");
    let (_, first) = app.get("/api/v1/clients?limit=1", &token).await;
    let (s, b) = app.get(&format!("/api/v1/clients?sort=updated_at&cursor={}", first["next_cursor"].as_str().unwrap()), &token).await;
    assert_problem(s, &b, 400, "invalid_cursor");
}

/// The settings lists and the lists under a record answer `updated_since` / `created_since` the
/// same way: only what was added or changed after the instant.
#[tokio::test]
async fn settings_lists_and_record_sub_lists_read_what_changed_since() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (_, lead) = app.post("/api/v1/leads", Some(&token), json!({"name": "Ana", "email": "ana@lead.example"})).await;
    let lead = lead["id"].as_i64().unwrap();
    let (_, old_reminder) =
        app.post(&format!("/api/v1/leads/{lead}/reminders"), Some(&token), json!({"remind_at": "2030-01-15T09:00:00Z", "note": "old"})).await;
    app.post(&format!("/api/v1/leads/{lead}/activities"), Some(&token), json!({"type": "note", "summary": "Before"})).await;
    let (_, client) = app.post("/api/v1/clients", Some(&token), json!({"company": "Acme SRL"})).await;
    let contacts = format!("/api/v1/clients/{}/contacts", client["id"]);
    let (_, old_contact) = app.post(&contacts, Some(&token), json!({"name": "Old contact", "email": "old@acme.example"})).await;
    app.post(&contacts, Some(&token), json!({"name": "Untouched", "email": "same@acme.example"})).await;
    let (_, sources) = app.get("/api/v1/lead-sources", &token).await;
    let source = sources["items"][0]["id"].as_i64().unwrap();
    let (_, modes) = app.get("/api/v1/payment-modes", &token).await;
    let mode = modes["items"][0]["id"].as_i64().unwrap();
    let (_, templates) = app.get("/api/v1/email-templates", &token).await;
    let template = templates["items"][0]["id"].as_i64().unwrap();
    let (_, pipelines) = app.get("/api/v1/pipelines", &token).await;
    let pipeline = &pipelines["items"][0];
    let status = pipeline["statuses"][1]["id"].as_i64().unwrap();

    let mid = instant(OffsetDateTime::now_utc());
    let ok = |s: StatusCode, b: &Value| assert!(s.is_success(), "{s} {b}");
    let (s, b) = app.patch(&format!("/api/v1/lead-sources/{source}"), &token, json!({"name": "Website (renamed)"})).await;
    ok(s, &b);
    let (s, reason) = app.post("/api/v1/lost-reasons", Some(&token), json!({"name": "Timing"})).await;
    ok(s, &reason);
    let (s, b) = app.patch(&format!("/api/v1/payment-modes/{mode}"), &token, json!({"active": false})).await;
    ok(s, &b);
    let (s, field) =
        app.post("/api/v1/custom-fields", Some(&token), json!({"entity": "lead", "key": "budget", "label": "Budget", "field_type": "number"})).await;
    ok(s, &field);
    let (s, b) = app.patch(&format!("/api/v1/email-templates/{template}"), &token, json!({"name": "Renamed template"})).await;
    ok(s, &b);
    let (s, contract_status) = app.post("/api/v1/contract-statuses", Some(&token), json!({"name": "On hold"})).await;
    ok(s, &contract_status);
    let (s, b) = app.patch(&format!("/api/v1/pipelines/{}/statuses/{status}", pipeline["id"]), &token, json!({"color": "#123456"})).await;
    ok(s, &b);
    let (s, currency) = app.post("/api/v1/currencies", Some(&token), json!({"code": "GBP"})).await;
    ok(s, &currency);
    let (s, b) = app.post(&format!("/api/v1/reminders/{}/done", old_reminder["id"]), Some(&token), json!({})).await;
    ok(s, &b);
    let (s, activity) = app.post(&format!("/api/v1/leads/{lead}/activities"), Some(&token), json!({"type": "note", "summary": "After"})).await;
    ok(s, &activity);
    let (s, b) = app.patch(&format!("{contacts}/{}", old_contact["id"]), &token, json!({"title": "CFO"})).await;
    ok(s, &b);

    for (list, expected) in [
        ("/api/v1/lead-sources".to_string(), vec![source]),
        ("/api/v1/lost-reasons".into(), vec![reason["id"].as_i64().unwrap()]),
        ("/api/v1/opportunity-statuses".into(), vec![]),
        ("/api/v1/payment-modes".into(), vec![mode]),
        ("/api/v1/custom-fields".into(), vec![field["id"].as_i64().unwrap()]),
        ("/api/v1/email-templates".into(), vec![template]),
        ("/api/v1/contract-statuses".into(), vec![contract_status["id"].as_i64().unwrap()]),
        (format!("/api/v1/pipelines/{}/statuses", pipeline["id"]), vec![status]),
        ("/api/v1/currencies".into(), vec![currency["id"].as_i64().unwrap()]),
        (format!("/api/v1/leads/{lead}/reminders"), vec![old_reminder["id"].as_i64().unwrap()]),
        (format!("/api/v1/leads/{lead}/activities"), vec![activity["id"].as_i64().unwrap()]),
        (contacts.clone(), vec![old_contact["id"].as_i64().unwrap()]),
        (format!("/api/v1/leads/{lead}/attachments"), vec![]),
    ] {
        let (s, page) = app.get(&format!("{list}?updated_since={mid}"), &token).await;
        assert_eq!(s, StatusCode::OK, "{list}: {page}");
        assert_eq!(ids(&page), expected, "{list}?updated_since");
        let (_, everything) = app.get(&list, &token).await;
        assert!(ids(&everything).len() >= expected.len(), "{list} unfiltered");
    }
    // Created since: a rename or an edit is not a creation.
    let (_, sources) = app.get(&format!("/api/v1/lead-sources?created_since={mid}"), &token).await;
    assert_eq!(ids(&sources), Vec::<i64>::new());
    let (_, reasons) = app.get(&format!("/api/v1/lost-reasons?created_since={mid}"), &token).await;
    assert_eq!(ids(&reasons), [reason["id"].as_i64().unwrap()]);
    let (_, contacts_created) = app.get(&format!("{contacts}?created_since={mid}"), &token).await;
    assert_eq!(ids(&contacts_created), Vec::<i64>::new());
    let (s, b) = app.get("/api/v1/lead-sources?updated_since=soon", &token).await;
    assert_problem(s, &b, 422, "validation_failed");
}

/// A mirror kept by the events feed alone, while four writers create, rename and delete leads:
/// it ends equal to the CRM, with every event seen exactly once.
#[tokio::test]
async fn a_sync_loop_running_while_writes_happen_misses_nothing_and_repeats_nothing() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (client, base, token) = (app.client.clone(), app.address.clone(), token.clone());
            tokio::spawn(async move {
                for i in 0..8 {
                    let created: Value = client
                        .post(format!("{base}/api/v1/leads"))
                        .bearer_auth(&token)
                        .json(&json!({"name": format!("w{w}-{i}"), "email": format!("w{w}-{i}@lead.example")}))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    let url = format!("{base}/api/v1/leads/{}", created["id"]);
                    let renamed = client.patch(&url).bearer_auth(&token).json(&json!({"name": format!("w{w}-{i} renamed")})).send().await.unwrap();
                    assert_eq!(renamed.status(), StatusCode::OK);
                    if i % 3 == 0 {
                        assert_eq!(client.delete(&url).bearer_auth(&token).send().await.unwrap().status(), StatusCode::NO_CONTENT);
                    }
                }
            })
        })
        .collect();

    let mut mirror: BTreeMap<i64, Value> = BTreeMap::new();
    let mut seen = HashSet::new();
    let mut cursor = String::new();
    let read_page = async |cursor: &mut String, mirror: &mut BTreeMap<i64, Value>, seen: &mut HashSet<i64>| {
        let after = if cursor.is_empty() { String::new() } else { format!("&after={cursor}") };
        let (s, page) = app.get(&format!("/api/v1/events?record_type=lead&limit=7{after}"), &token).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        for e in page["items"].as_array().unwrap() {
            assert!(seen.insert(e["id"].as_i64().unwrap()), "event {e} delivered twice");
            let id = e["record_id"].as_i64().unwrap();
            match e["type"].as_str().unwrap() {
                "lead.created" | "lead.updated" => {
                    mirror.insert(id, e["data"].clone());
                }
                "lead.deleted" => {
                    mirror.remove(&id);
                }
                _ => {}
            }
        }
        *cursor = page["next_cursor"].as_str().unwrap().to_string();
    };
    while writers.iter().any(|w| !w.is_finished()) {
        read_page(&mut cursor, &mut mirror, &mut seen).await;
    }
    for w in writers {
        w.await.unwrap();
    }
    // Changes other than edits reach the mirror too: a Kanban move, a bulk status change, a bulk delete.
    let (_, pipelines) = app.get("/api/v1/pipelines", &token).await;
    let statuses: Vec<i64> = pipelines["items"][0]["statuses"].as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect();
    let (_, kept) = app.get("/api/v1/leads?limit=500&sort=created_at", &token).await;
    let kept = ids(&kept);
    let (s, _) = app.post(&format!("/api/v1/leads/{}/move", kept[0]), Some(&token), json!({"status_id": statuses[2]})).await;
    assert_eq!(s, StatusCode::OK);
    let bulk = |action: &str, ids: &[i64]| json!({"action": action, "ids": ids, "status_id": statuses[3]});
    assert_eq!(app.post("/api/v1/leads/bulk", Some(&token), bulk("change_status", &kept[1..3])).await.0, StatusCode::OK);
    assert_eq!(app.post("/api/v1/leads/bulk", Some(&token), bulk("delete", &kept[3..4])).await.0, StatusCode::OK);

    // Read on until every event is in. On PostgreSQL the feed holds events back while older
    // transactions of the cluster (other tests' too) are running; the loop is bounded. Besides
    // a record event each, the three status changes carry a `lead.status_changed` event.
    let expected = 4 * (8 + 8 + 3) + 3 * 2 + 1;
    for _ in 0..2_000 {
        if seen.len() >= expected {
            break;
        }
        read_page(&mut cursor, &mut mirror, &mut seen).await;
        tokio::task::yield_now().await;
    }
    let (_, leads) = app.get("/api/v1/leads?limit=500", &token).await;
    let facts = |l: &Value| (l["name"].as_str().unwrap().to_string(), l["status_id"].as_i64().unwrap());
    let crm: BTreeMap<i64, _> = leads["items"].as_array().unwrap().iter().map(|l| (l["id"].as_i64().unwrap(), facts(l))).collect();
    assert_eq!(crm.len(), 4 * 5 - 1, "each writer keeps 5 of its 8 leads, one is bulk-deleted");
    assert_eq!(mirror.iter().map(|(id, l)| (*id, facts(l))).collect::<BTreeMap<_, _>>(), crm);
    assert_eq!(seen.len(), expected, "one created and one updated event per lead, a deleted event per deleted lead, the moves");
    // Nothing more arrives later: the cursor was exact.
    read_page(&mut cursor, &mut mirror, &mut seen).await;
    assert_eq!(seen.len(), expected);
}

#[tokio::test]
async fn the_events_feed_shows_only_what_the_caller_may_see() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (s, _) = app.post("/api/v1/roles", Some(&admin), json!({"name": "Own leads", "permissions": {"leads": ["view_own", "create", "edit"]}})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (agent, agent_token) = app.staff_with_token("own@crm.test", "Own leads").await;
    let (_, mine) = app.post("/api/v1/leads", Some(&admin), json!({"name": "Mine", "email": "mine@lead.example", "assigned_to": agent.id})).await;
    let (_, theirs) = app.post("/api/v1/leads", Some(&admin), json!({"name": "Theirs", "email": "theirs@lead.example"})).await;
    app.post("/api/v1/clients", Some(&admin), json!({"company": "Client SRL"})).await;

    let record_ids = |page: &Value| page["items"].as_array().unwrap().iter().map(|e| (e["record_type"].clone(), e["record_id"].clone())).collect::<Vec<_>>();
    // Once the admin sees all three events, the agent's view of the same feed is complete too.
    let all = app.feed_shows(&admin, "", 3).await;
    assert_eq!(record_ids(&all).len(), 3);
    let (s, own) = app.get("/api/v1/events", &agent_token).await;
    assert_eq!(s, StatusCode::OK, "{own}");
    assert_eq!(record_ids(&own), [(json!("lead"), mine["id"].clone())], "view_own: only the caller's lead");
    let (s, b) = app.get("/api/v1/events?record_type=client", &agent_token).await;
    assert_problem(s, &b, 403, "forbidden");

    let (_, one) = app.get(&format!("/api/v1/events?record_type=lead&record_id={}", theirs["id"]), &admin).await;
    assert_eq!(record_ids(&one), [(json!("lead"), theirs["id"].clone())]);
    let (_, typed) = app.get("/api/v1/events?type=client.created,lead.deleted", &admin).await;
    assert_eq!(record_ids(&typed).len(), 1);

    // An API token sees no more than its scopes.
    let (_, created) = app.post("/api/v1/api-tokens", Some(&admin), json!({"name": "warehouse", "scopes": ["clients:view"]})).await;
    let (_, scoped) = app.get("/api/v1/events", created["token"].as_str().unwrap()).await;
    assert_eq!(record_ids(&scoped).iter().map(|(t, _)| t.clone()).collect::<Vec<_>>(), [json!("client")]);

    let (s, b) = app.get("/api/v1/events?record_type=staff", &admin).await;
    assert_problem(s, &b, 422, "validation_failed");
    let (s, b) = app.get("/api/v1/events?after=garbage", &admin).await;
    assert_problem(s, &b, 400, "invalid_cursor");

    // A deleted record is nobody's now, but its deletion reaches those it was theirs to —
    // one at a time and in bulk — so a "view own" mirror can drop it; nobody else's.
    let (_, second) = app.post("/api/v1/leads", Some(&admin), json!({"name": "Mine too", "email": "too@lead.example", "assigned_to": agent.id})).await;
    for path in [format!("/api/v1/leads/{}", mine["id"]), format!("/api/v1/leads/{}", theirs["id"])] {
        let (s, _) = app.delete(&path, &admin).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
    }
    let (s, b) = app.post("/api/v1/leads/bulk", Some(&admin), json!({"ids": [second["id"]], "action": "delete"})).await;
    assert!(s.is_success(), "{b}");
    app.feed_shows(&admin, "?type=lead.deleted", 3).await;
    let (_, gone) = app.get("/api/v1/events?type=lead.deleted", &agent_token).await;
    let mut ids: Vec<Value> = record_ids(&gone).into_iter().map(|(_, id)| id).collect();
    ids.sort_by_key(|v| v.as_i64());
    assert_eq!(ids, [mine["id"].clone(), second["id"].clone()], "{gone}");
    let (other, other_token) = app.staff_with_token("other@crm.test", "Own leads").await;
    let (_, none) = app.get("/api/v1/events?type=lead.deleted", &other_token).await;
    assert_eq!(record_ids(&none), Vec::<(Value, Value)>::new(), "staff {} never had them", other.id);

    // The same for a record owned through another rule: an invoice is its sale agent's.
    let (s, _) = app.post("/api/v1/roles", Some(&admin), json!({"name": "Own invoices", "permissions": {"invoices": ["view_own"]}})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (seller, seller_token) = app.staff_with_token("seller@crm.test", "Own invoices").await;
    let (_, client) = app.post("/api/v1/clients", Some(&admin), json!({"company": "Deleted Deal SRL"})).await;
    let (_, draft) = app
        .post(
            "/api/v1/invoices",
            Some(&admin),
            json!({"client_id": client["id"], "sale_agent": seller.id, "lines": [{"description": "X", "qty": "1", "unit_price": "10"}]}),
        )
        .await;
    let (s, _) = app.delete(&format!("/api/v1/invoices/{}", draft["id"]), &admin).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    app.feed_shows(&admin, "?type=invoice.deleted", 1).await;
    let (_, gone) = app.get("/api/v1/events?type=invoice.deleted", &seller_token).await;
    assert_eq!(record_ids(&gone), [(json!("invoice"), draft["id"].clone())], "{gone}");
}

#[tokio::test]
async fn events_are_kept_for_the_retention_period_then_pruned_once() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    app.post("/api/v1/leads", Some(&token), json!({"name": "Old news", "email": "old@lead.example"})).await;
    let now = OffsetDateTime::now_utc();
    assert_eq!(app.job_runner("a").tick(now + time::Duration::days(29)).await.unwrap().events_pruned, Some(0));
    assert_eq!(app.count("events").await, 1);
    assert_eq!(app.job_runner("b").tick(now + time::Duration::days(31)).await.unwrap().events_pruned, Some(1));
    assert_eq!(app.count("events").await, 0);
}

async fn etag_of(app: &TestApp, path: &str, token: &str) -> String {
    let res = app.request(Method::GET, path, Some(token), None).await;
    assert_eq!(res.status(), StatusCode::OK, "GET {path}");
    res.headers()[header::ETAG].to_str().unwrap().to_string()
}

async fn patch_if_match(app: &TestApp, path: &str, token: &str, etag: &str, body: Value) -> (StatusCode, Value, Option<String>) {
    let res = app.client.patch(app.url(path)).bearer_auth(token).header(header::IF_MATCH, etag).json(&body).send().await.unwrap();
    let etag = res.headers().get(header::ETAG).map(|v| v.to_str().unwrap().to_string());
    let (s, b) = json_of(res).await;
    (s, b, etag)
}

#[tokio::test]
async fn etags_make_reads_conditional_and_a_stale_if_match_changes_nothing() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (_, lead) = app.post("/api/v1/leads", Some(&token), json!({"name": "Ana", "email": "ana@lead.example"})).await;
    let path = format!("/api/v1/leads/{}", lead["id"]);

    let etag = etag_of(&app, &path, &token).await;
    let res = app.client.get(app.url(&path)).bearer_auth(&token).header(header::IF_NONE_MATCH, &etag).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(res.headers()[header::ETAG].to_str().unwrap(), etag);
    assert!(res.bytes().await.unwrap().is_empty());

    let (s, saved, new_etag) = patch_if_match(&app, &path, &token, &etag, json!({"name": "Ana Pop"})).await;
    assert_eq!(s, StatusCode::OK, "{saved}");
    assert_eq!(new_etag.as_deref(), Some(etag_of(&app, &path, &token).await.as_str()), "the PATCH answer's tag is the record's new tag");
    assert_ne!(new_etag.as_deref(), Some(etag.as_str()));

    let (s, b, _) = patch_if_match(&app, &path, &token, &etag, json!({"name": "Overwritten"})).await;
    assert_problem(s, &b, 412, "precondition_failed");
    let (_, now) = app.get(&path, &token).await;
    assert_eq!(now["name"], "Ana Pop", "a stale If-Match changes nothing");

    // An operation that cannot check If-Match (a creation) refuses it rather than ignoring it.
    let res = app
        .client
        .post(app.url("/api/v1/taxes"))
        .bearer_auth(&token)
        .header(header::IF_MATCH, &etag)
        .json(&json!({"name": "VAT 9%", "rate": "9"}))
        .send()
        .await
        .unwrap();
    let (s, b) = json_of(res).await;
    assert_problem(s, &b, 400, "bad_request");
    let (_, taxes) = app.get("/api/v1/taxes", &token).await;
    assert!(!taxes["items"].as_array().unwrap().iter().any(|t| t["name"] == "VAT 9%"), "nothing was created");

    // Every PATCH of the document takes If-Match.
    let spec: Value = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        if let Some(op) = item.get("patch") {
            let headers: Vec<&str> =
                op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "header").map(|p| p["name"].as_str().unwrap()).collect();
            assert!(headers.contains(&"If-Match"), "PATCH {path} does not document If-Match");
        }
    }

    // The other records integrators and the app edit.
    let (_, client) = app.post("/api/v1/clients", Some(&token), json!({"company": "Acme SRL"})).await;
    let (_, invoice) = app
        .post("/api/v1/invoices", Some(&token), json!({"client_id": client["id"], "lines": [{"description": "Work", "qty": "1", "unit_price": "10"}]}))
        .await;
    let (_, proposal) = app
        .post(
            "/api/v1/proposals",
            Some(&token),
            json!({"subject": "Offer", "client_id": client["id"], "lines": [{"description": "Work", "qty": "1", "unit_price": "10"}]}),
        )
        .await;
    let (staff, _) = app.staff_with_token("ion@crm.example", "Sales Agent").await;
    let staff = serde_json::to_value(&staff).unwrap();
    let (_, pipelines) = app.get("/api/v1/pipelines", &token).await;
    let (_, sources) = app.get("/api/v1/lead-sources", &token).await;
    for (path, change) in [
        (format!("/api/v1/clients/{}", client["id"]), json!({"company": "Acme Group SRL"})),
        (format!("/api/v1/invoices/{}", invoice["id"]), json!({"admin_note": "checked"})),
        (format!("/api/v1/proposals/{}", proposal["id"]), json!({"subject": "Better offer"})),
        // Settings, people and configuration: the same rule.
        ("/api/v1/settings".to_string(), json!({"company_name": "Renamed SRL"})),
        ("/api/v1/billing/config".to_string(), json!({"prefix": "FAC-"})),
        ("/api/v1/me".to_string(), json!({"name": "The Administrator"})),
        (format!("/api/v1/staff/{}", staff["id"]), json!({"name": "Ion Pop"})),
        (format!("/api/v1/roles/{}", staff["role_id"]), json!({"description": "Sells"})),
        (format!("/api/v1/pipelines/{}", pipelines["items"][0]["id"]), json!({"name": "Renamed pipeline"})),
    ] {
        let etag = etag_of(&app, &path, &token).await;
        let (s, b, _) = patch_if_match(&app, &path, &token, &etag, change.clone()).await;
        assert_eq!(s, StatusCode::OK, "{path}: {b}");
        let (_, saved) = app.get(&path, &token).await;
        let (s, b, _) = patch_if_match(&app, &path, &token, &etag, change).await;
        assert_problem(s, &b, 412, "precondition_failed");
        assert_eq!(app.get(&path, &token).await.1, saved, "{path}: a stale If-Match changes nothing");
    }
    // Options without a single-record GET: the tag of a PATCH answer is the one to send next.
    let source = format!("/api/v1/lead-sources/{}", sources["items"][0]["id"]);
    let (s, _, tag) = patch_if_match(&app, &source, &token, "*", json!({"name": "Site"})).await;
    assert_eq!(s, StatusCode::OK);
    let tag = tag.unwrap();
    let (s, _, _) = patch_if_match(&app, &source, &token, &tag, json!({"name": "Own site"})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b, _) = patch_if_match(&app, &source, &token, &tag, json!({"name": "Lost edit"})).await;
    assert_problem(s, &b, 412, "precondition_failed");
    let (_, sources) = app.get("/api/v1/lead-sources", &token).await;
    assert!(sources["items"].as_array().unwrap().iter().any(|o| o["name"] == "Own site"));
}

/// Two people save the same version at the same moment: one wins, the other is told.
#[tokio::test]
async fn simultaneous_saves_of_one_version_let_exactly_one_through() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (_, lead) = app.post("/api/v1/leads", Some(&token), json!({"name": "Ana", "email": "ana@lead.example"})).await;
    let path = format!("/api/v1/leads/{}", lead["id"]);
    let etag = etag_of(&app, &path, &token).await;
    let saves = (0..6).map(|i| patch_if_match(&app, &path, &token, &etag, json!({"name": format!("Ana {i}")})));
    let results = futures_util::future::join_all(saves).await;
    let statuses: Vec<u16> = results.iter().map(|(s, _, _)| s.as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 412).count(), 5, "{statuses:?}");
    let winner = results.iter().find(|(s, _, _)| *s == StatusCode::OK).unwrap();
    let (_, now) = app.get(&path, &token).await;
    assert_eq!(now["name"], winner.1["name"]);
}

/// Every query parameter the browser app writes into an API URL is one the operation documents
/// (else the unknown-parameter check would refuse the app's own calls).
#[tokio::test]
async fn the_browser_apps_query_parameters_are_all_documented() {
    let app = spawn_app().await;
    let spec: Value = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    let paths = spec["paths"].as_object().unwrap();
    let documented = |path: &str| -> Option<Vec<String>> {
        let segments: Vec<&str> = path.split('/').collect();
        let (_, item) = paths.iter().find(|(template, _)| {
            let t: Vec<&str> = template.split('/').collect();
            t.len() == segments.len() && t.iter().zip(&segments).all(|(a, b)| a == b || (a.starts_with('{') && b.starts_with('{')))
        })?;
        Some(
            item["get"]["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect(),
        )
    };
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../frontend/src");
    let mut files = vec![src.clone()];
    let mut checked = 0;
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for (at, _) in text.match_indices("\"/api/v1/") {
            let literal = &text[at + 1..];
            let literal = &literal[..literal.find('"').unwrap()];
            let Some((path, query)) = literal.split_once('?') else { continue };
            let Some(known) = documented(path) else { continue };
            for name in query.split('&').filter_map(|pair| pair.split('=').next()).filter(|n| !n.is_empty() && !n.contains('{')) {
                assert!(known.iter().any(|k| k == name), "{}: `{name}` is sent to GET {path} but not documented ({known:?})", p.display());
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "only {checked} parameters found in the app's source");
}
