//! Issue #11: identical requests sent at once. Every operation that checks the state and then
//! writes must take effect exactly once: one request succeeds, the others get a 409 problem
//! (or, where the contract says so, a harmless 200), and the rows stay consistent.
//!
//! On SQLite writers are serialised by `db::begin_write`, so these tests pin the contract;
//! on PostgreSQL they catch the races that row locks must close.

use crmconnect::config::GatewaySettings;
use futures_util::future::join_all;
use hmac::{Hmac, Mac};
use reqwest::{Method, RequestBuilder, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::leads::{create_lead, sales_statuses};

/// How many identical requests each test fires at once.
const N: usize = 8;

/// One answer of a burst.
struct Outcome {
    status: StatusCode,
    problem_json: bool,
    body: Value,
}

/// Sends `N` requests built by `make` at once and collects every answer.
async fn burst(make: impl Fn() -> RequestBuilder) -> Vec<Outcome> {
    let requests = (0..N).map(|_| make().send());
    let mut outcomes = Vec::with_capacity(N);
    for res in join_all(requests).await {
        let res = res.expect("request sent");
        let status = res.status();
        let problem_json = res.headers().get("content-type").is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
        let text = res.text().await.unwrap();
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        outcomes.push(Outcome { status, problem_json, body });
    }
    outcomes
}

/// `N` identical POSTs with a JSON body (`token` None for the public portal routes).
async fn post_burst(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> Vec<Outcome> {
    burst(|| {
        let req = app.client.request(Method::POST, app.url(path)).json(&body);
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    })
    .await
}

/// "1×201, 7×409 payment_exceeds_balance": what a burst answered, for messages.
fn tally(outcomes: &[Outcome]) -> String {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for o in outcomes {
        let key = match o.body["code"].as_str() {
            Some(code) if !o.status.is_success() => format!("{} {code}", o.status.as_u16()),
            _ => o.status.as_u16().to_string(),
        };
        *counts.entry(key).or_default() += 1;
    }
    counts.into_iter().map(|(k, n)| format!("{n}×{k}")).collect::<Vec<_>>().join(", ")
}

/// Exactly one request succeeded and every other one is a 409 problem+json with a `code`
/// (any conflict code: printed, not prescribed). `facts` (row counts…) go into the message.
/// Returns the successful body.
#[track_caller]
fn assert_one_success(what: &str, outcomes: &[Outcome], facts: &str) -> Value {
    let line = tally(outcomes);
    eprintln!("{what}: {line}; {facts}");
    let ok: Vec<&Outcome> = outcomes.iter().filter(|o| o.status.is_success()).collect();
    assert_eq!(ok.len(), 1, "{what}: {} of {N} succeeded ({line}); {facts}", ok.len());
    for o in outcomes.iter().filter(|o| !o.status.is_success()) {
        assert_eq!(o.status, StatusCode::CONFLICT, "{what}: the refusals must be 409 ({line}); {facts}; body: {}", o.body);
        assert!(o.problem_json, "{what}: a 409 must be application/problem+json: {}", o.body);
        assert!(o.body["code"].is_string() && o.body["status"] == 409 && o.body["detail"].is_string(), "{what}: not a problem: {}", o.body);
    }
    ok[0].body.clone()
}

/// One number from SQL (`… AS n`).
async fn scalar(app: &TestApp, sql: &str) -> i64 {
    let backend = app.state.db.get_database_backend();
    let row = app.state.db.query_one(sea_orm::Statement::from_string(backend, sql.to_string())).await.unwrap().unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn count_where(app: &TestApp, table: &str, condition: &str) -> i64 {
    scalar(app, &format!("SELECT COUNT(*) AS n FROM {table} WHERE {condition}")).await
}

/// Audit entries of one action on one entity.
async fn audited(app: &TestApp, action: &str, entity_id: &Value) -> i64 {
    count_where(app, "audit_log", &format!("action = '{action}' AND entity_id = {entity_id}")).await
}

/// Outbox events of one type on one entity.
async fn events(app: &TestApp, event_type: &str, entity_id: &Value) -> i64 {
    count_where(app, "events", &format!("event_type = '{event_type}' AND entity_id = {entity_id}")).await
}

// ---------- setup through the API ----------

async fn client(app: &TestApp, token: &str, company: &str) -> Value {
    let (s, c) = app.post("/api/v1/clients", Some(token), json!({"company": company})).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    c
}

/// A draft invoice of exactly 1000.00 RON (no tax).
async fn draft_invoice(app: &TestApp, token: &str, client_id: &Value) -> Value {
    let (s, inv) = app
        .post("/api/v1/invoices", Some(token), json!({"client_id": client_id, "lines": [{"description": "Consulting", "qty": "10", "unit_price": "100"}]}))
        .await;
    assert_eq!((s, inv["total"].as_str()), (StatusCode::CREATED, Some("1000.00")), "{inv}");
    inv
}

async fn issue(app: &TestApp, token: &str, id: &Value) -> Value {
    let (s, inv) = app.post(&format!("/api/v1/invoices/{id}/issue"), Some(token), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{inv}");
    inv
}

/// An issued invoice of 1000.00 RON for a new client.
async fn issued_invoice(app: &TestApp, token: &str) -> Value {
    let c = client(app, token, "Payer SRL").await;
    let d = draft_invoice(app, token, &c["id"]).await;
    issue(app, token, &d["id"]).await
}

/// The payment rows of an invoice, their sum and the invoice's cached paid total (minor units).
async fn payment_facts(app: &TestApp, invoice_id: &Value) -> (i64, i64, i64) {
    let rows = count_where(app, "payments", &format!("invoice_id = {invoice_id}")).await;
    let sum = scalar(app, &format!("SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) AS n FROM payments WHERE invoice_id = {invoice_id}")).await;
    let paid = scalar(app, &format!("SELECT CAST(paid_minor AS BIGINT) AS n FROM invoices WHERE id = {invoice_id}")).await;
    (rows, sum, paid)
}

/// A proposal of 1000.00 RON marked sent (status 7) so the client can answer it. `relation` is
/// `{"client_id": …}` or `{"lead_id": …}`.
async fn sent_proposal(app: &TestApp, token: &str, relation: Value) -> Value {
    let mut body = json!({"subject": "Concurrent deal", "lines": [{"description": "Setup", "qty": "2", "unit_price": "500"}]});
    body.as_object_mut().unwrap().extend(relation.as_object().unwrap().clone());
    let (s, p) = app.post("/api/v1/proposals", Some(token), body).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (s, sent) = app.post(&format!("/api/v1/proposals/{}/status", p["id"]), Some(token), json!({"status": 7})).await;
    assert_eq!((s, sent["status_code"].as_i64()), (StatusCode::OK, Some(7)), "{sent}");
    sent
}

/// A sent proposal for a new lead, accepted by staff: conversions must also turn the lead
/// into a client exactly once.
async fn accepted_lead_proposal(app: &TestApp, token: &str, name: &str) -> (Value, Value) {
    let lead = create_lead(app, token, json!({"name": name, "company": format!("{name} SRL"), "email": "buyer@lead.example"})).await;
    let p = sent_proposal(app, token, json!({"lead_id": lead["id"]})).await;
    let (s, accepted) = app.post(&format!("/api/v1/proposals/{}/status", p["id"]), Some(token), json!({"status": 3})).await;
    assert_eq!((s, accepted["status_code"].as_i64()), (StatusCode::OK, Some(3)), "{accepted}");
    (lead, accepted)
}

fn token_of(url: &Value) -> String {
    url.as_str().expect("portal_url").rsplit('/').next().unwrap().to_string()
}

// ---------- payments ----------

/// Eight full payments of a 1000.00 invoice: one is recorded, the others are refused as
/// exceeding the (now zero) balance; one payment row, paid total = sum of rows = total.
#[tokio::test]
async fn a_full_payment_sent_eight_times_is_recorded_once() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let inv = issued_invoice(&app, &token).await;
    let (_, modes) = app.get("/api/v1/payment-modes", &token).await;
    let body = json!({"amount": "1000.00", "payment_mode_id": modes["items"][0]["id"], "transaction_id": "OP-1"});
    let outcomes = post_burst(&app, &format!("/api/v1/invoices/{}/payments", inv["id"]), Some(&token), body).await;

    let (rows, sum, paid) = payment_facts(&app, &inv["id"]).await;
    let facts = format!("{rows} payment rows, rows sum {sum}, invoice paid_minor {paid}");
    let after = assert_one_success("record payment", &outcomes, &facts);
    assert_eq!((rows, sum, paid), (1, 100_000, 100_000), "{facts}");
    assert_eq!(
        (after["status_code"].as_i64(), after["total_paid"].as_str(), after["balance_due"].as_str()),
        (Some(2), Some("1000.00"), Some("0.00")),
        "{after}"
    );
    let (_, now) = app.get(&format!("/api/v1/invoices/{}", inv["id"]), &token).await;
    assert_eq!((now["status"].as_str(), now["total_paid"].as_str()), (Some("paid"), Some("1000.00")), "{now}");
    assert_eq!(audited(&app, "payment.recorded", &inv["id"]).await, 1);
    assert_eq!(events(&app, "invoice.paid", &inv["id"]).await, 1);
}

/// Client credit equal to the balance, applied eight times at once: applied once (one
/// payment, the credit back to zero and never negative), the others refused.
#[tokio::test]
async fn client_credit_applied_eight_times_pays_once() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let c = client(&app, &token, "Advance SRL").await;
    let (s, credit) = app.post(&format!("/api/v1/clients/{}/credits", c["id"]), Some(&token), json!({"amount": "1000.00", "currency": "RON"})).await;
    assert_eq!(s, StatusCode::CREATED, "{credit}");
    let d = draft_invoice(&app, &token, &c["id"]).await;
    let inv = issue(&app, &token, &d["id"]).await;
    let outcomes = post_burst(&app, &format!("/api/v1/invoices/{}/apply-credit", inv["id"]), Some(&token), json!({"amount": "1000.00"})).await;

    let (rows, sum, paid) = payment_facts(&app, &inv["id"]).await;
    let credit_left =
        scalar(&app, &format!("SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) AS n FROM client_credits WHERE client_id = {}", c["id"])).await;
    let credit_rows = count_where(&app, "client_credits", &format!("client_id = {}", c["id"])).await;
    let facts = format!("{rows} payment rows, rows sum {sum}, invoice paid_minor {paid}, credit left {credit_left} in {credit_rows} credit rows");
    let after = assert_one_success("apply credit", &outcomes, &facts);
    assert_eq!((rows, sum, paid), (1, 100_000, 100_000), "{facts}");
    assert_eq!((credit_left, credit_rows), (0, 2), "the advance and one application: {facts}");
    assert_eq!((after["status_code"].as_i64(), after["balance_due"].as_str()), (Some(2), Some("0.00")), "{after}");
    let (_, credits) = app.get(&format!("/api/v1/clients/{}/credits", c["id"]), &token).await;
    assert_eq!(credits["balances"], json!([{"currency": "RON", "amount": "0.00"}]), "{credits}");
}

/// The gateway delivering the same signed `checkout.session.completed` eight times at once:
/// the webhook's contract is that duplicates answer 200 and change nothing, so all eight
/// answer 200 and exactly one payment (and no spurious client credit) exists.
#[tokio::test]
async fn the_same_webhook_event_delivered_eight_times_records_one_payment() {
    const SECRET: &str = "whsec_concurrency";
    let app = spawn_app_with(|s| {
        s.gateway = Some(GatewaySettings { base_url: "http://127.0.0.1:9".into(), api_key: "sk_test_unused".into(), webhook_secret: SECRET.into() })
    })
    .await;
    let (_, token) = app.admin().await;
    let inv = issued_invoice(&app, &token).await;
    let event = json!({"id": "evt_race", "type": "checkout.session.completed", "data": {"object": {
        "id": "cs_test_race", "object": "checkout.session", "amount_total": 100_000, "currency": "ron", "payment_status": "paid",
        "client_reference_id": inv["id"].to_string(), "payment_intent": "pi_race"}}})
    .to_string();
    let t = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{event}").as_bytes());
    let signature = format!("t={t},v1={}", mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect::<String>());
    let outcomes = burst(|| {
        app.client
            .post(app.url("/api/v1/payments/webhook"))
            .header("Stripe-Signature", &signature)
            .header("content-type", "application/json")
            .body(event.clone())
    })
    .await;

    let (rows, sum, paid) = payment_facts(&app, &inv["id"]).await;
    let credits = count_where(&app, "client_credits", &format!("client_id = {}", inv["client_id"])).await;
    let line = tally(&outcomes);
    let facts = format!("{rows} payment rows, rows sum {sum}, invoice paid_minor {paid}, {credits} client credit rows");
    eprintln!("webhook: {line}; {facts}");
    assert!(outcomes.iter().all(|o| o.status == StatusCode::OK), "every delivery answers 200 (duplicates included): {line}; {facts}");
    assert_eq!(outcomes.iter().filter(|o| o.body["payment_id"].is_number()).count(), 1, "one delivery records the payment: {line}; {facts}");
    assert_eq!((rows, sum, paid, credits), (1, 100_000, 100_000, 0), "{facts}");
    let (_, now) = app.get(&format!("/api/v1/invoices/{}", inv["id"]), &token).await;
    assert_eq!((now["status_code"].as_i64(), now["total_paid"].as_str()), (Some(2), Some("1000.00")), "{now}");
}

// ---------- invoice lifecycle ----------

/// Issuing one draft eight times at once: it gets one number, and the next invoice issued
/// afterwards gets the next number (no number burnt by the refused requests).
#[tokio::test]
async fn issuing_a_draft_eight_times_uses_one_number_and_burns_none() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let c = client(&app, &token, "Numbered SRL").await;
    let d = draft_invoice(&app, &token, &c["id"]).await;
    let outcomes = post_burst(&app, &format!("/api/v1/invoices/{}/issue", d["id"]), Some(&token), json!({})).await;

    let (_, config) = app.get("/api/v1/billing/config", &token).await;
    let (_, stored) = app.get(&format!("/api/v1/invoices/{}", d["id"]), &token).await;
    let issued_audits = audited(&app, "invoice.issued", &d["id"]).await;
    let facts = format!("stored number {}, billing next_number {}, {issued_audits} invoice.issued audit entries", stored["number"], config["next_number"]);
    let issued = assert_one_success("issue invoice", &outcomes, &facts);
    assert_eq!(issued["number"], "INV-000001", "{issued}");
    assert_eq!(stored["number"], "INV-000001", "{facts}");
    assert_eq!((config["next_number"].as_i64(), issued_audits), (Some(2), 1), "{facts}");
    let next = draft_invoice(&app, &token, &c["id"]).await;
    assert_eq!(issue(&app, &token, &next["id"]).await["number"], "INV-000002", "no number was burnt");
}

/// Cancelling an issued invoice eight times at once: cancelled once (one audit entry).
#[tokio::test]
async fn cancelling_an_invoice_eight_times_cancels_it_once() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let inv = issued_invoice(&app, &token).await;
    let id = &inv["id"];
    let outcomes = post_burst(&app, &format!("/api/v1/invoices/{id}/cancel"), Some(&token), json!({})).await;

    let cancels = audited(&app, "invoice.cancelled", id).await;
    let cancelled = assert_one_success("cancel invoice", &outcomes, &format!("{cancels} invoice.cancelled audit entries"));
    assert_eq!((cancelled["status_code"].as_i64(), cancels), (Some(5), 1), "{cancelled}");
}

/// Uncancelling a cancelled invoice eight times at once: restored once (one audit entry),
/// back to Unpaid (1) with its number.
#[tokio::test]
async fn uncancelling_an_invoice_eight_times_restores_it_once() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let inv = issued_invoice(&app, &token).await;
    let id = &inv["id"];
    let (s, cancelled) = app.post(&format!("/api/v1/invoices/{id}/cancel"), Some(&token), json!({})).await;
    assert_eq!((s, cancelled["status_code"].as_i64()), (StatusCode::OK, Some(5)), "{cancelled}");
    let outcomes = post_burst(&app, &format!("/api/v1/invoices/{id}/uncancel"), Some(&token), json!({})).await;

    let uncancels = audited(&app, "invoice.uncancelled", id).await;
    let back = assert_one_success("uncancel invoice", &outcomes, &format!("{uncancels} invoice.uncancelled audit entries"));
    assert_eq!((back["status_code"].as_i64(), back["number"].as_str(), uncancels), (Some(1), Some("INV-000001"), 1), "{back}");
    let (_, now) = app.get(&format!("/api/v1/invoices/{id}"), &token).await;
    assert_eq!(now["status_code"], 1, "{now}");
}

// ---------- proposals ----------

/// The client accepting a sent proposal on the portal eight times at once: accepted once
/// (one audit entry, one event, one notification), the others refused.
#[tokio::test]
async fn a_portal_accept_sent_eight_times_accepts_once() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let c = client(&app, &token, "Portal SRL").await;
    let p = sent_proposal(&app, &token, json!({"client_id": c["id"]})).await;
    let path = format!("/api/v1/portal/proposals/{}/accept", token_of(&p["portal_url"]));
    let outcomes = post_burst(&app, &path, None, json!({"name": "Ana Client", "signature": "Ana Client"})).await;

    let (audits, evts) = (audited(&app, "proposal.accepted", &p["id"]).await, events(&app, "proposal.accepted", &p["id"]).await);
    let notices = count_where(&app, "notifications", &format!("kind = 'proposal_accepted' AND entity_id = {}", p["id"])).await;
    let facts = format!("{audits} proposal.accepted audit entries, {evts} proposal.accepted events, {notices} notifications");
    let view = assert_one_success("portal accept", &outcomes, &facts);
    assert_eq!(view["status_code"], 3, "{view}");
    assert_eq!((audits, evts, notices), (1, 1, 1), "{facts}");
}

/// The client declining a sent proposal on the portal eight times at once: declined once.
#[tokio::test]
async fn a_portal_decline_sent_eight_times_declines_once() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let c = client(&app, &token, "Decliner SRL").await;
    let p = sent_proposal(&app, &token, json!({"client_id": c["id"]})).await;
    let path = format!("/api/v1/portal/proposals/{}/decline", token_of(&p["portal_url"]));
    let outcomes = post_burst(&app, &path, None, json!({"reason": "Too expensive"})).await;

    let (audits, evts) = (audited(&app, "proposal.declined", &p["id"]).await, events(&app, "proposal.declined", &p["id"]).await);
    let notices = count_where(&app, "notifications", &format!("kind = 'proposal_declined' AND entity_id = {}", p["id"])).await;
    let facts = format!("{audits} proposal.declined audit entries, {evts} proposal.declined events, {notices} notifications");
    let view = assert_one_success("portal decline", &outcomes, &facts);
    assert_eq!(view["status_code"], 2, "{view}");
    assert_eq!((audits, evts, notices), (1, 1, 1), "{facts}");
}

/// Staff setting a sent proposal to Accepted (3) eight times at once: one status change
/// (Accepted → Accepted is not a transition), one audit entry and one event for it.
#[tokio::test]
async fn a_staff_status_change_to_accepted_sent_eight_times_happens_once() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let c = client(&app, &token, "Staff Accept SRL").await;
    let p = sent_proposal(&app, &token, json!({"client_id": c["id"]})).await;
    let before = (audited(&app, "proposal.status_changed", &p["id"]).await, events(&app, "proposal.status_changed", &p["id"]).await);
    let outcomes = post_burst(&app, &format!("/api/v1/proposals/{}/status", p["id"]), Some(&token), json!({"status": 3})).await;

    let after = (audited(&app, "proposal.status_changed", &p["id"]).await, events(&app, "proposal.status_changed", &p["id"]).await);
    let changes = (after.0 - before.0, after.1 - before.1);
    let facts = format!("{} new proposal.status_changed audit entries, {} new proposal.status_changed events", changes.0, changes.1);
    let accepted = assert_one_success("staff status → accepted", &outcomes, &facts);
    assert_eq!(accepted["status_code"], 3, "{accepted}");
    assert_eq!(changes, (1, 1), "{facts}");
}

/// Converting an accepted lead proposal into an invoice eight times at once: one invoice,
/// and the lead becomes one client (the conversion creates it).
#[tokio::test]
async fn a_proposal_converted_to_an_invoice_eight_times_creates_one_invoice_and_one_client() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (lead, p) = accepted_lead_proposal(&app, &token, "Invoice Lead").await;
    let outcomes = post_burst(&app, &format!("/api/v1/proposals/{}/convert-to-invoice", p["id"]), Some(&token), json!({})).await;

    let invoices = count_where(&app, "invoices", &format!("proposal_id = {}", p["id"])).await;
    let clients = count_where(&app, "clients", &format!("lead_id = {}", lead["id"])).await;
    let facts = format!("{invoices} invoices of the proposal, {clients} clients of the lead");
    let inv = assert_one_success("proposal → invoice", &outcomes, &facts);
    assert_eq!((invoices, clients), (1, 1), "{facts}");
    let (_, now) = app.get(&format!("/api/v1/proposals/{}", p["id"]), &token).await;
    assert_eq!((now["invoice_id"].clone(), now["client_id"].clone()), (inv["id"].clone(), inv["client_id"].clone()), "{now}");
    let (_, lead) = app.get(&format!("/api/v1/leads/{}", lead["id"]), &token).await;
    assert_eq!(lead["converted_client_id"], inv["client_id"], "{lead}");
}

/// Converting an accepted lead proposal into a sales order eight times at once: one order,
/// one client, and the next order gets the next number (none burnt).
#[tokio::test]
async fn a_proposal_converted_to_a_sales_order_eight_times_creates_one_order() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (lead, p) = accepted_lead_proposal(&app, &token, "Order Lead").await;
    let outcomes = post_burst(&app, &format!("/api/v1/proposals/{}/convert-to-sales-order", p["id"]), Some(&token), json!({})).await;

    let orders = count_where(&app, "sales_orders", &format!("proposal_id = {}", p["id"])).await;
    let clients = count_where(&app, "clients", &format!("lead_id = {}", lead["id"])).await;
    let facts = format!("{orders} sales orders of the proposal, {clients} clients of the lead");
    let order = assert_one_success("proposal → sales order", &outcomes, &facts);
    assert_eq!((orders, clients), (1, 1), "{facts}");
    assert_eq!(order["number"], "SO-000001", "{order}");
    let (_, now) = app.get(&format!("/api/v1/proposals/{}", p["id"]), &token).await;
    assert_eq!(now["sales_order_id"], order["id"], "{now}");
    let (s, next) = app
        .post("/api/v1/sales-orders", Some(&token), json!({"client_id": order["client_id"], "lines": [{"description": "More", "qty": "1", "unit_price": "1"}]}))
        .await;
    assert_eq!((s, next["number"].as_str()), (StatusCode::CREATED, Some("SO-000002")), "no number was burnt: {next}");
}

/// Creating a contract from an accepted lead proposal eight times at once: one contract
/// (a proposal has one contract; the others are 409 `already_converted`), and the lead
/// becomes one client, the one the contract bills.
#[tokio::test]
async fn a_contract_created_from_a_proposal_eight_times_creates_one_contract_and_one_client() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (lead, p) = accepted_lead_proposal(&app, &token, "Contract Lead").await;
    let outcomes = post_burst(&app, &format!("/api/v1/proposals/{}/create-contract", p["id"]), Some(&token), json!({})).await;

    let contracts = count_where(&app, "contracts", &format!("proposal_id = {}", p["id"])).await;
    let clients = count_where(&app, "clients", &format!("lead_id = {}", lead["id"])).await;
    let facts = format!("{contracts} contracts of the proposal, {clients} clients of the lead");
    let k = assert_one_success("proposal → contract", &outcomes, &facts);
    assert_eq!((contracts, clients), (1, 1), "{facts}");
    let (_, lead) = app.get(&format!("/api/v1/leads/{}", lead["id"]), &token).await;
    assert_eq!((k["proposal_id"].clone(), k["client_id"].clone()), (p["id"].clone(), lead["converted_client_id"].clone()), "{k}");
}

// ---------- contracts, sales orders ----------

/// The client signing a contract on the portal eight times at once: one signature (the
/// others `already_done`-style 409s), one audit entry, one event, one notification.
#[tokio::test]
async fn a_contract_signed_eight_times_on_the_portal_keeps_one_signature() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let c = client(&app, &token, "Signer SRL").await;
    let (s, k) = app
        .post(
            "/api/v1/contracts",
            Some(&token),
            json!({"client_id": c["id"], "subject": "Support", "value": "1000", "currency": "RON", "content": "<p>Terms</p>",
                "status_id": crate::helpers::awaiting_signature(&app, &token).await}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{k}");
    let path = format!("/api/v1/portal/contracts/{}/sign", token_of(&k["portal_url"]));
    let outcomes = post_burst(&app, &path, None, json!({"name": "Ana Signer", "signature": "Ana Signer"})).await;

    let (audits, evts) = (audited(&app, "contract.signed", &k["id"]).await, events(&app, "contract.signed", &k["id"]).await);
    let notices = count_where(&app, "notifications", &format!("kind = 'contract_signed' AND entity_id = {}", k["id"])).await;
    let facts = format!("{audits} contract.signed audit entries, {evts} contract.signed events, {notices} notifications");
    let signed = assert_one_success("contract sign", &outcomes, &facts);
    assert_eq!(signed["signature"]["name"], "Ana Signer", "{signed}");
    assert_eq!((audits, evts, notices), (1, 1, 1), "{facts}");
    let (_, now) = app.get(&format!("/api/v1/contracts/{}", k["id"]), &token).await;
    assert_eq!((now["status"].as_str(), now["signature"]["name"].as_str()), (Some("Active"), Some("Ana Signer")), "{now}");
}

/// Invoicing a confirmed sales order eight times at once: one invoice, linked both ways.
#[tokio::test]
async fn a_sales_order_invoiced_eight_times_creates_one_invoice() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let c = client(&app, &token, "Order SRL").await;
    let (s, o) = app
        .post("/api/v1/sales-orders", Some(&token), json!({"client_id": c["id"], "lines": [{"description": "Tracker", "qty": "10", "unit_price": "100"}]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let (s, confirmed) = app.post(&format!("/api/v1/sales-orders/{}/status", o["id"]), Some(&token), json!({"status": "confirmed"})).await;
    assert_eq!(s, StatusCode::OK, "{confirmed}");
    let outcomes = post_burst(&app, &format!("/api/v1/sales-orders/{}/convert-to-invoice", o["id"]), Some(&token), json!({})).await;

    let invoices = count_where(&app, "invoices", &format!("sales_order_id = {}", o["id"])).await;
    let audits = audited(&app, "sales_order.converted_to_invoice", &o["id"]).await;
    let facts = format!("{invoices} invoices of the order, {audits} conversion audit entries");
    let inv = assert_one_success("sales order → invoice", &outcomes, &facts);
    assert_eq!((invoices, audits), (1, 1), "{facts}");
    let (_, now) = app.get(&format!("/api/v1/sales-orders/{}", o["id"]), &token).await;
    assert_eq!((now["status"].as_str(), now["invoice_id"].clone()), (Some("invoiced"), inv["id"].clone()), "{now}");
}

// ---------- leads ----------

/// Converting a lead into a client eight times at once: one client with one primary
/// contact, the lead pointing at it.
#[tokio::test]
async fn a_lead_converted_to_a_client_eight_times_creates_one_client() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let lead = create_lead(&app, &token, json!({"name": "Convert Me", "company": "Convert SRL", "email": "convert@lead.example"})).await;
    let outcomes = post_burst(&app, &format!("/api/v1/leads/{}/convert-to-client", lead["id"]), Some(&token), json!({})).await;

    let clients = count_where(&app, "clients", &format!("lead_id = {}", lead["id"])).await;
    let contacts = count_where(&app, "client_contacts", &format!("client_id IN (SELECT id FROM clients WHERE lead_id = {})", lead["id"])).await;
    let facts = format!("{clients} clients of the lead, {contacts} contacts");
    let c = assert_one_success("lead → client", &outcomes, &facts);
    assert_eq!((clients, contacts), (1, 1), "{facts}");
    let (_, now) = app.get(&format!("/api/v1/leads/{}", lead["id"]), &token).await;
    assert_eq!(now["converted_client_id"], c["id"], "{now}");
    assert_eq!(audited(&app, "lead.converted_to_client", &lead["id"]).await, 1);
}

/// Converting a lead into an opportunity eight times at once: one opportunity; the second
/// and later requests are 409s, not more opportunities of the same lead.
#[tokio::test]
async fn a_lead_converted_to_an_opportunity_eight_times_creates_one_opportunity() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let lead = create_lead(&app, &token, json!({"name": "Opportune", "company": "Opp SRL", "email": "opp@lead.example"})).await;
    let body = json!({"estimated_value": "25000", "currency": "EUR", "probability": 40});
    let outcomes = post_burst(&app, &format!("/api/v1/leads/{}/convert-to-opportunity", lead["id"]), Some(&token), body).await;

    let opportunities = count_where(&app, "leads", &format!("is_opportunity = {} AND origin_lead_id = {}", sql_true(&app), lead["id"])).await;
    let facts = format!("{opportunities} opportunities of the lead");
    let o = assert_one_success("lead → opportunity", &outcomes, &facts);
    assert_eq!(opportunities, 1, "{facts}");
    assert_eq!(o["origin_lead_id"], lead["id"], "{o}");
}

fn sql_true(app: &TestApp) -> &'static str {
    match app.state.db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => "TRUE",
        _ => "1",
    }
}

/// Positions and ids of the live cards of a column, top first.
async fn column_positions(app: &TestApp, status_id: i64) -> Vec<(i64, i64)> {
    let backend = app.state.db.get_database_backend();
    let sql = format!(
        "SELECT id, CAST(position AS BIGINT) AS position FROM leads WHERE status_id = {status_id} AND lost = {f} AND junk = {f} AND is_opportunity = {f} ORDER BY position, id",
        f = if backend == sea_orm::DatabaseBackend::Postgres { "FALSE" } else { "0" }
    );
    let rows = app.state.db.query_all(sea_orm::Statement::from_string(backend, sql)).await.unwrap();
    rows.iter().map(|r| (r.try_get::<i32>("", "id").unwrap() as i64, r.try_get::<i64>("", "position").unwrap())).collect()
}

fn assert_distinct_positions(what: &str, cards: &[(i64, i64)]) {
    let mut positions: Vec<i64> = cards.iter().map(|c| c.1).collect();
    positions.dedup();
    assert_eq!(positions.len(), cards.len(), "{what}: duplicate positions in the column (id, position): {cards:?}");
}

/// One card dragged to another column eight times at once (same drop: after the column's
/// top card). Moving to where it already is is a reorder, so every request answers 200; but
/// the status changes once: one history row, one `lead_status_changed` event, one
/// `lead.status_changed` audit entry, and no two cards of the column share a position.
#[tokio::test]
async fn a_kanban_move_sent_eight_times_changes_the_status_once() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let s = sales_statuses(&app, &token).await;
    let mut column = Vec::new();
    for i in 0..3 {
        column.push(create_lead(&app, &token, json!({"name": format!("C{i}"), "email": format!("c{i}@x.ro"), "status_id": s[1]})).await["id"].clone());
    }
    let top = column[2].clone();
    let x = create_lead(&app, &token, json!({"name": "Mover", "email": "mover@x.ro"})).await["id"].clone();
    let history_before = count_where(&app, "lead_status_changes", &format!("lead_id = {x}")).await;
    let outcomes = post_burst(&app, &format!("/api/v1/leads/{x}/move"), Some(&token), json!({"status_id": s[1], "after_id": top})).await;

    let history = count_where(&app, "lead_status_changes", &format!("lead_id = {x}")).await - history_before;
    let evts = events(&app, "lead.status_changed", &x).await;
    let audits = audited(&app, "lead.status_changed", &x).await;
    let cards = column_positions(&app, s[1]).await;
    let line = tally(&outcomes);
    let facts = format!("{history} new status history rows, {evts} lead.status_changed events, {audits} lead.status_changed audit entries, column {cards:?}");
    eprintln!("kanban move: {line}; {facts}");
    assert!(outcomes.iter().all(|o| o.status == StatusCode::OK), "a repeated drop is a reorder, not an error: {line}; {facts}");
    assert_eq!((history, evts, audits), (1, 1, 1), "{facts}");
    assert_distinct_positions("kanban move", &cards);
    let order: Vec<Value> = cards.iter().map(|c| json!(c.0)).collect();
    assert_eq!(order, [top, x, column[1].clone(), column[0].clone()], "the card sits right after the top card: {facts}");
}

/// Eight different cards dropped at the top of the same column at once: each gets its own
/// position (the board breaks ties by id, but a tie means two drops read the same "top").
#[tokio::test]
async fn kanban_drops_of_eight_cards_at_the_top_of_one_column_get_distinct_positions() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let s = sales_statuses(&app, &token).await;
    create_lead(&app, &token, json!({"name": "Resident", "email": "resident@x.ro", "status_id": s[2]})).await;
    let mut movers = Vec::new();
    for i in 0..N {
        movers.push(create_lead(&app, &token, json!({"name": format!("M{i}"), "email": format!("m{i}@x.ro")})).await["id"].as_i64().unwrap());
    }
    let requests = movers.iter().map(|id| {
        let req = app.client.post(app.url(&format!("/api/v1/leads/{id}/move"))).bearer_auth(&token).json(&json!({"status_id": s[2]}));
        async move { req.send().await.expect("sent").status() }
    });
    let statuses = join_all(requests).await;
    let cards = column_positions(&app, s[2]).await;
    eprintln!("kanban drops: {statuses:?}; column {cards:?}");
    assert!(statuses.iter().all(|st| *st == StatusCode::OK), "{statuses:?}");
    assert_eq!(cards.len(), N + 1, "{cards:?}");
    assert_distinct_positions("kanban drops", &cards);
}
