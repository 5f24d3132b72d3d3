//! Outbound webhooks against a real HTTP receiver: signature, retry after a 500, exactly one
//! successful delivery with two job runners, order per record, giving up after 24 hours,
//! redelivery, and targets on private addresses refused.

use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use crmconnect::ops::webhooks;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, TestApp};

/// What the receiver saw: the signature header and the body of each POST.
type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A webhook receiver answering with `statuses` in turn (the last one from then on).
async fn receiver(statuses: Vec<u16>) -> (String, Received) {
    let received: Received = Arc::default();
    let data = web::Data::new((received.clone(), statuses));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/crm", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).route(
            "/hooks/crm",
            web::post().to(|req: HttpRequest, body: String, data: web::Data<(Received, Vec<u16>)>| async move {
                let (received, statuses) = &**data;
                let mut seen = received.lock().unwrap();
                let signature = req.headers().get("x-crmconnect-signature").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                seen.push((signature, body));
                let status = statuses.get(seen.len() - 1).or(statuses.last()).copied().unwrap_or(200);
                HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).body(format!("answer {}", seen.len()))
            }),
        )
    })
    .listen(listener)
    .unwrap()
    .workers(1)
    .run();
    tokio::spawn(server);
    (url, received)
}

async fn sent(app: &TestApp, id: &str, at: OffsetDateTime) -> usize {
    app.job_runner(id).tick(at).await.unwrap().webhooks_sent.unwrap_or(0)
}

/// Checks `t=<unix>,v1=<hex>` as a receiver would, with the secret it was given.
fn verifies(signature: &str, body: &str, secret: &str) -> bool {
    let Some((t, v1)) = signature.strip_prefix("t=").and_then(|s| s.split_once(",v1=")) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    expected == v1
}

async fn deliveries(app: &TestApp, token: &str, hook: &Value) -> Vec<Value> {
    let (s, page) = app.get(&format!("/api/v1/webhooks/{}/deliveries", hook["id"]), token).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_event_is_signed_retried_after_a_500_and_delivered_exactly_once() {
    let app = spawn_app_with(|s| s.webhook_allow_private = true).await;
    let (_, token) = app.admin().await;
    let (url, received) = receiver(vec![500, 200]).await;
    let (s, hook) = app.post("/api/v1/webhooks", Some(&token), json!({"url": url, "events": ["lead.created", "lead.updated"]})).await;
    assert_eq!(s, StatusCode::CREATED, "{hook}");
    let secret = hook["secret"].as_str().unwrap().to_string();
    let (_, listed) = app.get(&format!("/api/v1/webhooks/{}", hook["id"]), &token).await;
    assert!(listed.get("secret").is_none(), "the secret is shown once");

    let (_, lead) = app.post("/api/v1/leads", Some(&token), json!({"name": "Hooked", "email": "hooked@lead.example"})).await;
    app.post("/api/v1/clients", Some(&token), json!({"company": "Not subscribed SRL"})).await;
    app.feed_shows(&token, "", 2).await;
    let now = OffsetDateTime::now_utc();

    assert_eq!(sent(&app, "a", now).await, 1, "the first try");
    let d = &deliveries(&app, &token, &hook).await[0];
    assert_eq!((d["status"].as_str(), d["attempts"].as_i64(), d["response_status"].as_i64()), (Some("pending"), Some(1), Some(500)));
    assert_eq!(d["response_excerpt"], "answer 1");
    assert_eq!(sent(&app, "a", now + Duration::seconds(30)).await, 0, "not before the backoff");

    // Two job runners at once, after the backoff: one retry between them.
    let later = now + Duration::seconds(61);
    let (x, y) = tokio::join!(sent(&app, "a", later), sent(&app, "b", later));
    assert_eq!(x + y, 1);
    let d = &deliveries(&app, &token, &hook).await[0];
    assert_eq!((d["status"].as_str(), d["attempts"].as_i64(), d["response_status"].as_i64()), (Some("succeeded"), Some(2), Some(200)));
    assert_eq!(sent(&app, "a", now + Duration::hours(2)).await, 0, "a delivered event is not sent again");

    let seen = received.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    let body: Value = serde_json::from_str(&seen[1].1).unwrap();
    assert_eq!((body["type"].as_str(), body["record_type"].as_str(), &body["record_id"]), (Some("lead.created"), Some("lead"), &lead["id"]));
    assert_eq!(body["data"]["name"], "Hooked");
    assert_eq!(seen[0].1, seen[1].1, "a retry sends the same event");
    assert!(seen.iter().all(|(sig, body)| verifies(sig, body, &secret)), "signed with the endpoint's secret");
    assert!(!verifies(&seen[0].0, &seen[0].1, "whsec_wrong"));

    // The next change goes out; redelivery sends an old one again.
    app.patch(&format!("/api/v1/leads/{}", lead["id"]), &token, json!({"name": "Hooked twice"})).await;
    app.feed_shows(&token, "", 3).await;
    assert_eq!(sent(&app, "a", now + Duration::hours(3)).await, 1);
    let all = deliveries(&app, &token, &hook).await;
    assert_eq!(all.iter().map(|d| d["event_type"].clone()).collect::<Vec<_>>(), [json!("lead.updated"), json!("lead.created")], "newest first");
    let first = all[1]["id"].clone();
    let (s, again) = app.post(&format!("/api/v1/webhooks/{}/deliveries/{first}/redeliver", hook["id"]), Some(&token), json!({})).await;
    assert_eq!((s, again["status"].as_str()), (StatusCode::OK, Some("pending")));
    assert_eq!(sent(&app, "a", OffsetDateTime::now_utc()).await, 1);
    assert_eq!(received.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn deliveries_keep_each_records_order_and_give_up_after_a_day() {
    let app = spawn_app_with(|s| s.webhook_allow_private = true).await;
    let (_, token) = app.admin().await;
    let (url, received) = receiver(vec![503]).await;
    let (_, hook) = app.post("/api/v1/webhooks", Some(&token), json!({"url": url})).await;
    let (_, lead) = app.post("/api/v1/leads", Some(&token), json!({"name": "First", "email": "first@lead.example"})).await;
    app.patch(&format!("/api/v1/leads/{}", lead["id"]), &token, json!({"name": "Second"})).await;
    app.feed_shows(&token, "", 2).await;
    let now = OffsetDateTime::now_utc();

    assert_eq!(sent(&app, "a", now).await, 1, "the update waits behind the creation of the same lead");
    assert_eq!(sent(&app, "a", now + Duration::minutes(2)).await, 1);
    let types = |seen: &[(String, String)]| seen.iter().map(|(_, b)| serde_json::from_str::<Value>(b).unwrap()["type"].clone()).collect::<Vec<_>>();
    assert_eq!(types(&received.lock().unwrap()), [json!("lead.created"), json!("lead.created")]);

    // A day later the creation is given up, and the update goes next (and fails in turn).
    assert_eq!(sent(&app, "a", now + Duration::hours(25)).await, 2);
    let all = deliveries(&app, &token, &hook).await;
    let by_type = |t: &str| all.iter().find(|d| d["event_type"] == t).unwrap().clone();
    assert_eq!(by_type("lead.created")["status"], "failed");
    assert_eq!(by_type("lead.created")["next_attempt_at"], Value::Null);
    assert_eq!((by_type("lead.updated")["status"].as_str(), by_type("lead.updated")["attempts"].as_i64()), (Some("pending"), Some(1)));
    assert_eq!(types(&received.lock().unwrap()).last(), Some(&json!("lead.updated")));
}

#[tokio::test]
async fn endpoints_on_private_addresses_and_unknown_events_are_refused() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    for (body, code) in [
        (json!({"url": "http://127.0.0.1:9/hook"}), "private_address"),
        (json!({"url": "http://localhost/hook"}), "private_address"),
        (json!({"url": "http://169.254.169.254/latest/meta-data"}), "private_address"),
        (json!({"url": "http://[::1]/hook"}), "private_address"),
        (json!({"url": "ftp://example.com/hook"}), "invalid"),
        (json!({"url": "https://user:pw@example.com/hook"}), "invalid"),
        (json!({}), "required"),
        (json!({"url": "https://example.com/hook", "events": ["staff.created"]}), "invalid"),
    ] {
        let (s, b) = app.post("/api/v1/webhooks", Some(&token), body.clone()).await;
        assert_problem(s, &b, 422, "validation_failed");
        assert_eq!(b["errors"][0]["code"], code, "{body}");
    }
    assert_eq!(app.count("webhooks").await, 0);

    // Only the Automation permissions manage endpoints.
    let (_, agent) = app.staff_with_token("agent@crm.test", "Sales Agent").await;
    let (s, b) = app.get("/api/v1/webhooks", &agent).await;
    assert_problem(s, &b, 403, "forbidden");
}

/// An endpoint receives every event of its types, so registering one needs full `view` on them;
/// a paused endpoint queues nothing, and one whose creator is deactivated sends nothing.
#[tokio::test]
async fn endpoints_get_only_what_their_creator_may_see_and_nothing_while_paused() {
    let app = spawn_app_with(|s| s.webhook_allow_private = true).await;
    let (_, admin) = app.admin().await;
    let (url, received) = receiver(vec![200]).await;
    let role = json!({"name": "Integrator", "permissions": {"automation": ["view", "create", "edit"], "leads": ["view_own"], "clients": ["view"]}});
    assert_eq!(app.post("/api/v1/roles", Some(&admin), role).await.0, StatusCode::CREATED);
    let (integrator, token) = app.staff_with_token("integrator@crm.test", "Integrator").await;
    for events in [json!(["lead.created"]), json!(["*"])] {
        let (s, b) = app.post("/api/v1/webhooks", Some(&token), json!({"url": url, "events": events})).await;
        assert_problem(s, &b, 403, "forbidden");
    }
    let (s, hook) = app.post("/api/v1/webhooks", Some(&token), json!({"url": url, "events": ["client.created"]})).await;
    assert_eq!(s, StatusCode::CREATED, "{hook}");
    let path = format!("/api/v1/webhooks/{}", hook["id"]);
    let (s, b) = app.patch(&path, &token, json!({"events": ["lead.updated"]})).await;
    assert_problem(s, &b, 403, "forbidden");

    // Paused: what happens meanwhile is skipped, not queued for later.
    assert_eq!(app.patch(&path, &token, json!({"active": false})).await.0, StatusCode::OK);
    app.post("/api/v1/clients", Some(&admin), json!({"company": "While paused SRL"})).await;
    app.feed_shows(&admin, "", 1).await;
    assert_eq!(sent(&app, "a", OffsetDateTime::now_utc()).await, 0);
    assert_eq!(app.patch(&path, &token, json!({"active": true})).await.0, StatusCode::OK);
    assert_eq!(sent(&app, "a", OffsetDateTime::now_utc()).await, 0, "the paused period's events stay skipped");
    app.post("/api/v1/clients", Some(&admin), json!({"company": "After SRL"})).await;
    app.feed_shows(&admin, "", 2).await;
    assert_eq!(sent(&app, "a", OffsetDateTime::now_utc()).await, 1);
    let body: Value = serde_json::from_str(&received.lock().unwrap()[0].1).unwrap();
    assert_eq!(body["data"]["company"], "After SRL");

    // The creator leaves: their endpoint stops.
    assert_eq!(app.delete(&format!("/api/v1/staff/{}", integrator.id), &admin).await.0, StatusCode::NO_CONTENT);
    app.post("/api/v1/clients", Some(&admin), json!({"company": "After leaving SRL"})).await;
    app.feed_shows(&admin, "", 3).await;
    assert_eq!(sent(&app, "a", OffsetDateTime::now_utc()).await, 0);
    assert_eq!(received.lock().unwrap().len(), 1);
}

/// Two servers sending at once (no job lease between them): each delivery is claimed by one.
#[tokio::test]
async fn two_senders_at_once_post_each_delivery_once() {
    let app = spawn_app_with(|s| s.webhook_allow_private = true).await;
    let (_, token) = app.admin().await;
    let (url, received) = receiver(vec![200]).await;
    app.post("/api/v1/webhooks", Some(&token), json!({"url": url, "events": ["client.created"]})).await;
    for i in 0..6 {
        app.post("/api/v1/clients", Some(&token), json!({"company": format!("Client {i} SRL")})).await;
    }
    app.feed_shows(&token, "", 6).await;
    let db = &app.state.db;
    assert_eq!(webhooks::fan_out(db).await.unwrap(), 6);
    let (a, b) = (webhooks::Sender { server_id: "a", allow_private: true }, webhooks::Sender { server_id: "b", allow_private: true });
    let now = OffsetDateTime::now_utc();
    let (x, y) = tokio::join!(webhooks::deliver_due(db, &a, now), webhooks::deliver_due(db, &b, now));
    assert_eq!(x.unwrap() + y.unwrap(), 6);
    let mut ids: Vec<i64> = received.lock().unwrap().iter().map(|(_, body)| serde_json::from_str::<Value>(body).unwrap()["id"].as_i64().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 6, "six events, each posted once");
    assert_eq!(received.lock().unwrap().len(), 6);
}
