//! The authorisation matrix (issue #11, item 4), generated from the OpenAPI document of the
//! running code. Every operation (path × method) is called
//! (a) without a token → 401, except the public ones listed below;
//! (b) by a staff member whose role grants nothing → 403 (404 allowed for by-id reads), except
//!     what [`ALLOWED_FOR_EVERY_SIGNED_IN_USER`] lists, with its reason;
//! (c) by a "view own" colleague on records assigned to someone else → 404, and that
//!     colleague's lists, board, export, forecast and search do not show them.
//! A route added without a rule fails (a) or (b); a route mounted in `api/mod.rs` without an
//! OpenAPI entry fails [`the_matrix_covers_every_mounted_route`], since the matrix would not
//! see it. Every test collects all offending operations and reports them at once.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{json_of, spawn_app_with, TestApp};

/// Operations in the spec when the matrix was written (188 committed + `POST /opportunities`).
/// The matrix must never silently shrink.
pub(crate) const MIN_OPERATIONS: usize = 193;

/// Operations that take no token (none of them has `security` in the spec).
const PUBLIC_OPERATIONS: &[(&str, &str, &str)] = &[
    ("GET", "/api/v1/health", "load-balancer health check"),
    ("POST", "/api/v1/auth/login", "signing in: the e-mail and password are the credential"),
    ("POST", "/api/v1/auth/refresh", "the refresh token in the body or the crm_refresh cookie is the credential"),
    ("POST", "/api/v1/auth/logout", "revokes the refresh token given in the body or the crm_refresh cookie"),
    ("POST", "/api/v1/payments/webhook", "the payment gateway's callback, authenticated by its Stripe-Signature"),
];

/// Path prefixes whose every operation is public.
const PUBLIC_PREFIXES: &[(&str, &str)] = &[("/api/v1/portal/", "the client portal: keyed by an unguessable token, rate-limited per IP, no AuthUser")];

/// The spec itself: public, served beside the API (not one of its operations).
const SPEC_PATH: &str = "/api/v1/openapi.json";

/// What any signed-in staff member may do whatever their role, and why (read in the handlers).
pub(crate) const ALLOWED_FOR_EVERY_SIGNED_IN_USER: &[(&str, &str, &str)] = &[
    ("GET", "/api/v1/me", "the caller's own profile and effective permissions"),
    ("GET", "/api/v1/dashboard", "each widget shows only what the caller's role lets them see; none without permissions"),
    ("PATCH", "/api/v1/me", "the caller's own name and e-mail address"),
    ("POST", "/api/v1/me/password", "the caller's own password"),
    ("GET", "/api/v1/api-tokens", "lists the caller's own API tokens only"),
    ("POST", "/api/v1/api-tokens", "a token for oneself; its scopes are intersected with the role, so it never exceeds it"),
    ("DELETE", "/api/v1/api-tokens/{id}", "revokes one of the caller's own tokens (anyone else's is 404)"),
    ("GET", "/api/v1/notifications", "the caller's own notifications only"),
    ("POST", "/api/v1/notifications/read-all", "marks the caller's own notifications read"),
    ("POST", "/api/v1/notifications/{id}/read", "one of the caller's own notifications (anyone else's is 404)"),
    ("GET", "/api/v1/reminders", "the caller's own reminders, on leads/opportunities they may still see"),
    ("POST", "/api/v1/reminders/{id}/done", "the caller's own reminder; another's is 404 unless they may see its lead"),
    ("GET", "/api/v1/search", "each module's results are filtered by its view scope: nothing without permissions (checked below)"),
    ("GET", "/api/v1/taxes", "reference data every document editor needs"),
    ("GET", "/api/v1/currencies", "reference data: the enabled currencies"),
    ("GET", "/api/v1/items", "the catalogue for document lines; purchase prices hidden without settings edit (checked below)"),
    ("GET", "/api/v1/payment-modes", "reference data for payment forms"),
    ("GET", "/api/v1/contract-statuses", "reference data: contract status names"),
    ("GET", "/api/v1/custom-fields", "field definitions (labels, types, options) that forms render"),
];

/// Text carried by every record assigned to staff member A (names, subjects, companies).
const MARKER: &str = "Zebracorn";

/// Path segments (the literal before a `{param}`) of the records owned by A in (c).
const OWNED: &[&str] = &[
    "leads",
    "opportunities",
    "clients",
    "contacts",
    "attachments",
    "proposals",
    "invoices",
    "sales-orders",
    "contracts",
    "recurring-invoices",
    "payments",
    "reminders",
    "expenses",
];

// ---------------------------------------------------------------- the operations of the spec

pub(crate) struct Op {
    pub(crate) method: String,
    pub(crate) template: String,
    /// The spec documents it without `security`.
    public_in_spec: bool,
    /// A minimal body that satisfies the request schema (required properties only).
    pub(crate) body: Option<Value>,
    pub(crate) multipart: bool,
    /// Required query parameters, filled with examples (`q=Zebracorn`).
    query: String,
}

impl Op {
    pub(crate) fn name(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    fn has_body(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PATCH" | "PUT")
    }

    fn by_id_read(&self) -> bool {
        self.method == "GET" && self.template.contains('{')
    }

    fn public_reason(&self) -> Option<&'static str> {
        PUBLIC_OPERATIONS
            .iter()
            .find(|(m, p, _)| *m == self.method && *p == self.template)
            .map(|(_, _, r)| *r)
            .or_else(|| PUBLIC_PREFIXES.iter().find(|(p, _)| self.template.starts_with(p)).map(|(_, r)| *r))
    }

    fn allowed_reason(&self) -> Option<&'static str> {
        ALLOWED_FOR_EVERY_SIGNED_IN_USER.iter().find(|(m, p, _)| *m == self.method && *p == self.template).map(|(_, _, r)| *r)
    }

    /// The path with ids of real records (by the segment before each parameter), random
    /// tokens, and the required query.
    pub(crate) fn url(&self, ids: &BTreeMap<&'static str, i64>, overrides: &[(&str, i64)]) -> String {
        let mut out = String::new();
        let mut prev = "";
        for seg in self.template.split('/').skip(1) {
            out.push('/');
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                if name == "token" {
                    out.push_str(&format!("matrix{}", uuid::Uuid::new_v4().simple()));
                } else {
                    let id = overrides.iter().find(|(k, _)| *k == prev).map(|(_, v)| *v).or_else(|| ids.get(prev).copied()).unwrap_or(999_999);
                    out.push_str(&id.to_string());
                }
            } else {
                out.push_str(seg);
            }
            prev = seg;
        }
        if !self.query.is_empty() {
            out.push('?');
            out.push_str(&self.query);
        }
        out
    }

    /// The segments before each parameter (`/clients/{id}/contacts/{contact_id}` → clients, contacts).
    fn param_segments(&self) -> Vec<&str> {
        let segs: Vec<&str> = self.template.split('/').collect();
        segs.windows(2).filter(|w| w[1].starts_with('{')).map(|w| w[0]).collect()
    }
}

pub(crate) fn spec() -> Value {
    serde_json::from_str(&crmconnect::openapi::spec_json().unwrap()).expect("the live spec is JSON")
}

/// Every operation of the live spec: reads first, then writes, deletes last (so a leaking
/// DELETE cannot hide what the other operations would have answered).
pub(crate) fn operations() -> Vec<Op> {
    let spec = spec();
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let content = &op["requestBody"]["content"];
            let query = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "query" && p["required"] == true)
                        .map(|p| format!("{}={}", p["name"].as_str().unwrap(), example_scalar(&p["schema"])))
                        .collect::<Vec<_>>()
                        .join("&")
                })
                .unwrap_or_default();
            ops.push(Op {
                method: method.to_uppercase(),
                template: path.clone(),
                public_in_spec: op.get("security").is_none(),
                body: content.get("application/json").map(|c| example(&spec, &c["schema"], 0)),
                multipart: content.get("multipart/form-data").is_some(),
                query,
            });
        }
    }
    let phase = |m: &str| match m {
        "GET" => 0,
        "DELETE" => 2,
        _ => 1,
    };
    ops.sort_by(|a, b| (phase(&a.method), &a.template, &a.method).cmp(&(phase(&b.method), &b.template, &b.method)));
    ops
}

fn example_scalar(schema: &Value) -> String {
    match schema["type"].as_str() {
        Some("integer") | Some("number") => "1".into(),
        _ => MARKER.into(),
    }
}

/// A value of `schema` with only its required properties: enough for the body extractor to
/// accept it, so the handler (and its permission check) runs.
fn example(spec: &Value, schema: &Value, depth: usize) -> Value {
    if depth > 12 {
        return Value::Null;
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap();
        return example(spec, &spec["components"]["schemas"][name], depth + 1);
    }
    if let Some(e) = schema.get("example") {
        return e.clone();
    }
    if let Some(first) = schema.get("enum").and_then(Value::as_array).and_then(|a| a.first()) {
        return first.clone();
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(alts) = schema.get(key).and_then(Value::as_array) {
            if let Some(alt) = alts.iter().find(|a| a.get("type") != Some(&json!("null"))) {
                return example(spec, alt, depth + 1);
            }
        }
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "object",
    };
    match ty {
        "object" => {
            let mut out = serde_json::Map::new();
            for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                out.insert(name.to_string(), example(spec, &schema["properties"][name], depth + 1));
            }
            Value::Object(out)
        }
        "array" => json!([]),
        "string" => match schema["format"].as_str() {
            Some("date") => json!("2030-01-15"),
            Some("date-time") => json!("2030-01-15T09:00:00Z"),
            _ => json!("Matrix"),
        },
        "integer" | "number" => json!(1),
        "boolean" => json!(false),
        _ => Value::Null,
    }
}

// ---------------------------------------------------------------- requests and reporting

async fn call(app: &TestApp, method: &str, path: &str, token: Option<&str>, body: Option<Value>, multipart: bool) -> (StatusCode, Value) {
    let mut req = app.client.request(Method::from_bytes(method.as_bytes()).unwrap(), app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if multipart {
        let part = reqwest::multipart::Part::bytes(b"matrix".to_vec()).file_name("matrix.txt").mime_str("text/plain").unwrap();
        req = req.multipart(reqwest::multipart::Form::new().part("file", part));
    } else if let Some(b) = body {
        req = req.json(&b);
    }
    json_of(req.send().await.expect("request sent")).await
}

fn describe(status: StatusCode, body: &Value) -> String {
    match body["code"].as_str() {
        Some(code) => {
            let fields: Vec<&str> = body["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str()).collect();
            if fields.is_empty() {
                format!("{} {code}", status.as_u16())
            } else {
                format!("{} {code} ({})", status.as_u16(), fields.join(", "))
            }
        }
        None => {
            let text = body.to_string();
            format!("{} {}", status.as_u16(), text.chars().take(120).collect::<String>())
        }
    }
}

/// Bodies the handler accepts, for operations whose schema-minimal example it rejects (a call
/// needs its duration, a contact its name, …).
fn valid_body(op: &Op) -> Option<Value> {
    match (op.method.as_str(), op.template.as_str()) {
        ("POST", "/api/v1/leads/{id}/activities") => Some(json!({"type": "note", "summary": "Matrix note"})),
        ("POST", "/api/v1/clients/{id}/contacts") => Some(json!({"name": "Matrix contact", "email": "matrix@contact.example"})),
        ("POST", "/api/v1/sales-orders/{id}/status") => Some(json!({"status": "confirmed"})),
        _ => None,
    }
}

/// An operation refused for its body (400/422) never reached its permission or visibility
/// check: say so, and what the same request with a valid body answers.
async fn masked_by_validation(app: &TestApp, op: &Op, path: &str, token: &str, status: StatusCode) -> String {
    if !matches!(status.as_u16(), 400 | 422) {
        return String::new();
    }
    match valid_body(op) {
        Some(body) => {
            let (s, b) = call(app, &op.method, path, Some(token), Some(body), false).await;
            format!(" [the body was validated before the permission/visibility check; with a valid body: {}]", describe(s, &b))
        }
        None => " [the body was validated before the permission/visibility check; no valid body on file to retry]".into(),
    }
}

/// Every app of the matrix has online payment configured (to an address where nothing
/// listens), so the gateway's routes answer for themselves instead of 503.
async fn matrix_app() -> TestApp {
    spawn_app_with(|s| {
        s.gateway = Some(crmconnect::config::GatewaySettings {
            base_url: "http://127.0.0.1:9".into(),
            api_key: "sk_test_matrix".into(),
            webhook_secret: "whsec_test_matrix".into(),
        })
    })
    .await
}

#[track_caller]
fn report(what: &str, requests: usize, failures: &[String]) {
    println!("authz matrix, {what}: {requests} checks, {} failures", failures.len());
    for f in failures {
        println!("  FAIL {f}");
    }
    assert!(failures.is_empty(), "authz matrix, {what}: {} failures:\n{}", failures.len(), failures.join("\n"));
}

// ---------------------------------------------------------------- the world the matrix runs in

pub(crate) struct World {
    pub(crate) admin: String,
    /// A staff member whose role grants nothing.
    nobody: String,
    /// The "view own" staff member who owns every record of (c), and a colleague with the same role.
    a: String,
    b: String,
    /// Real record ids by the path segment before the parameter (`/clients/{id}` → "clients").
    pub(crate) ids: BTreeMap<&'static str, i64>,
    opportunity: i64,
    /// A's expense's file (`/expenses/{id}/attachments/{attachment_id}`; "attachments" alone
    /// names the lead's).
    expense_attachment: i64,
}

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (s, b) = app.post(path, Some(token), body.clone()).await;
    assert!(s.is_success(), "setup: POST {path} {body} → {s} {b}");
    b
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("setup: no id in {v}"))
}

async fn listed_id(app: &TestApp, token: &str, path: &str, pick: impl Fn(&Value) -> bool) -> i64 {
    let (s, list) = app.get(path, token).await;
    assert_eq!(s, StatusCode::OK, "setup: GET {path}: {list}");
    id(list["items"].as_array().unwrap().iter().find(|x| pick(x)).unwrap_or_else(|| panic!("setup: nothing suitable in {path}: {list}")))
}

/// As an administrator: roles, staff, and one record of every kind, the sales records assigned
/// to staff member A.
pub(crate) async fn setup(app: &TestApp) -> World {
    let (_, admin) = app.admin().await;
    let own = |send: bool| {
        let mut a = vec!["view_own", "create", "edit", "delete"];
        if send {
            a.push("send");
        }
        json!(a)
    };
    created(app, &admin, "/api/v1/roles", json!({"name": "No Permissions", "permissions": {}})).await;
    created(
        app,
        &admin,
        "/api/v1/roles",
        json!({"name": "View Own", "permissions": {
            "leads": own(false), "opportunities": own(false), "clients": own(false), "payments": own(false),
            "proposals": own(true), "sales_orders": own(true), "contracts": own(true), "invoices": own(true), "expenses": own(false)}}),
    )
    .await;
    let spare_role = id(&created(app, &admin, "/api/v1/roles", json!({"name": "Spare", "permissions": {}})).await);
    let (_, nobody) = app.staff_with_token("nobody@test.example", "No Permissions").await;
    let (a_staff, a) = app.staff_with_token("owner.a@test.example", "View Own").await;
    let (_, b) = app.staff_with_token("colleague.b@test.example", "View Own").await;
    let spare_staff = app.create_staff("spare@test.example", "Sales Agent").await;
    let a_id = i64::from(a_staff.id);

    let mut ids: BTreeMap<&'static str, i64> = BTreeMap::new();
    ids.insert("roles", spare_role);
    ids.insert("staff", i64::from(spare_staff.id));
    ids.insert("api-tokens", id(&created(app, &admin, "/api/v1/api-tokens", json!({"name": "matrix", "scopes": ["*"]})).await));

    // Configuration.
    ids.insert("taxes", id(&created(app, &admin, "/api/v1/taxes", json!({"name": "Matrix tax", "rate": "5"})).await));
    ids.insert("items", id(&created(app, &admin, "/api/v1/items", json!({"description": "Matrix item", "unit_price": "10", "purchase_price": "7"})).await));
    ids.insert("currencies", listed_id(app, &admin, "/api/v1/currencies", |c| c["code"] == "USD").await);
    ids.insert(
        "custom-fields",
        id(&created(app, &admin, "/api/v1/custom-fields", json!({"entity": "lead", "key": "matrix_field", "label": "Matrix field", "field_type": "text"}))
            .await),
    );
    ids.insert("email-templates", listed_id(app, &admin, "/api/v1/email-templates", |_| true).await);
    ids.insert(
        "rules",
        id(&created(app, &admin, "/api/v1/lead-scoring/rules", json!({"field": "source", "operator": "equals", "value": "Referral", "points": 5})).await),
    );
    ids.insert("lead-sources", id(&created(app, &admin, "/api/v1/lead-sources", json!({"name": "Matrix source"})).await));
    ids.insert("lost-reasons", id(&created(app, &admin, "/api/v1/lost-reasons", json!({"name": "Matrix reason"})).await));
    ids.insert("opportunity-statuses", id(&created(app, &admin, "/api/v1/opportunity-statuses", json!({"name": "Matrix status"})).await));
    let mode = id(&created(app, &admin, "/api/v1/payment-modes", json!({"name": "Matrix mode"})).await);
    ids.insert("payment-modes", mode);
    let pipeline =
        created(app, &admin, "/api/v1/pipelines", json!({"name": "Matrix pipeline", "statuses": [{"name": "Matrix stage"}, {"name": "Matrix stage 2"}]})).await;
    ids.insert("pipelines", id(&pipeline));
    ids.insert("statuses", listed_id(app, &admin, &format!("/api/v1/pipelines/{}/statuses", id(&pipeline)), |_| true).await);
    ids.insert("proposal-templates", id(&created(app, &admin, "/api/v1/proposal-templates", json!({"name": "Matrix template"})).await));

    // A's records.
    let client =
        id(&created(app, &admin, "/api/v1/clients", json!({"company": format!("{MARKER} Client SRL"), "vat_number": "RO4455", "assigned_to": a_id})).await);
    ids.insert("clients", client);
    ids.insert(
        "contacts",
        id(&created(
            app,
            &admin,
            &format!("/api/v1/clients/{client}/contacts"),
            json!({"name": format!("{MARKER} Contact"), "email": "contact@zebracorn.example"}),
        )
        .await),
    );
    let lead = created(
        app,
        &admin,
        "/api/v1/leads",
        json!({"name": format!("{MARKER} Lead"), "company": format!("{MARKER} Lead SRL"), "email": "lead@zebracorn.example", "assigned_to": a_id}),
    )
    .await;
    ids.insert("leads", id(&lead));
    ids.insert("kanban", lead["status_id"].as_i64().expect("lead status"));
    let for_opp =
        created(app, &admin, "/api/v1/leads", json!({"name": format!("{MARKER} Opportunity"), "email": "opportunity@zebracorn.example", "assigned_to": a_id}))
            .await;
    let opp = created(
        app,
        &admin,
        &format!("/api/v1/leads/{}/convert-to-opportunity", id(&for_opp)),
        json!({"estimated_value": "1000", "currency": "EUR", "probability": 50, "expected_close_date": "2030-06-30"}),
    )
    .await;
    let opportunity = id(&opp);
    if opp["assigned_to"].as_i64() != Some(a_id) {
        let (s, b) = app.patch(&format!("/api/v1/opportunities/{opportunity}"), &admin, json!({"assigned_to": a_id})).await;
        assert_eq!(s, StatusCode::OK, "setup: assign the opportunity: {b}");
    }
    ids.insert("opportunities", opportunity);
    ids.insert(
        "reminders",
        id(&created(
            app,
            &admin,
            &format!("/api/v1/leads/{}/reminders", id(&lead)),
            json!({"remind_at": "2030-01-15T09:00:00Z", "staff_id": a_id, "note": format!("{MARKER} follow-up")}),
        )
        .await),
    );
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(b"offer".to_vec()).file_name("zebracorn.txt").mime_str("text/plain").unwrap());
    let res = app.client.post(app.url(&format!("/api/v1/leads/{}/attachments", id(&lead)))).bearer_auth(&admin).multipart(form).send().await.unwrap();
    let (s, attachment) = json_of(res).await;
    assert!(s.is_success(), "setup: attachment: {s} {attachment}");
    ids.insert("attachments", id(&attachment));

    let lines = json!([{"description": format!("{MARKER} work"), "qty": "1", "unit_price": "100"}]);
    ids.insert(
        "proposals",
        id(&created(
            app,
            &admin,
            "/api/v1/proposals",
            json!({"subject": format!("{MARKER} proposal"), "client_id": client, "assigned_to": a_id, "lines": lines}),
        )
        .await),
    );
    let invoice = id(&created(app, &admin, "/api/v1/invoices", json!({"client_id": client, "sale_agent": a_id, "lines": lines})).await);
    ids.insert("invoices", invoice);
    created(app, &admin, &format!("/api/v1/invoices/{invoice}/issue"), json!({})).await;
    created(app, &admin, &format!("/api/v1/invoices/{invoice}/payments"), json!({"amount": "10", "payment_mode_id": mode, "transaction_id": "MATRIX-1"})).await;
    ids.insert("payments", listed_id(app, &admin, &format!("/api/v1/invoices/{invoice}/payments"), |_| true).await);
    ids.insert("sales-orders", id(&created(app, &admin, "/api/v1/sales-orders", json!({"client_id": client, "lines": lines})).await));
    ids.insert("contracts", id(&created(app, &admin, "/api/v1/contracts", json!({"client_id": client, "subject": format!("{MARKER} contract")})).await));
    ids.insert(
        "recurring-invoices",
        id(&created(
            app,
            &admin,
            "/api/v1/recurring-invoices",
            json!({"client_id": client, "sale_agent": a_id, "frequency": "monthly", "start_date": "2030-01-15", "lines": lines}),
        )
        .await),
    );
    let category = id(&created(app, &admin, "/api/v1/expense-categories", json!({"name": "Matrix"})).await);
    let expense = id(&created(
        app,
        &admin,
        "/api/v1/expenses",
        json!({"category_id": category, "amount": "10", "currency": "RON", "staff_id": a_id, "note": format!("{MARKER} taxi")}),
    )
    .await);
    ids.insert("expenses", expense);
    ids.insert("expense-categories", category);
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(b"receipt".to_vec()).file_name("receipt.txt").mime_str("text/plain").unwrap());
    let res = app.client.post(app.url(&format!("/api/v1/expenses/{expense}/attachments"))).bearer_auth(&admin).multipart(form).send().await.unwrap();
    let (s, file) = json_of(res).await;
    assert!(s.is_success(), "setup: expense attachment: {s} {file}");
    World { admin, nobody, a, b, ids, opportunity, expense_attachment: id(&file) }
}

// ---------------------------------------------------------------- the tests

/// The matrix sees every route: the spec has at least [`MIN_OPERATIONS`] operations, every
/// route mounted in `api/mod.rs` is documented (and the other way round), the spec's `security`
/// agrees with the public list, and every allow-list entry is a real operation.
#[test]
fn the_matrix_covers_every_mounted_route() {
    let ops = operations();
    assert!(ops.len() >= MIN_OPERATIONS, "the spec has {} operations, fewer than the {MIN_OPERATIONS} the matrix was written for", ops.len());
    let mut failures = Vec::new();
    for op in &ops {
        match (op.public_in_spec, op.public_reason().is_some()) {
            (true, false) => failures.push(format!("{}: documented without `security` but not in PUBLIC_OPERATIONS/PUBLIC_PREFIXES", op.name())),
            (false, true) => failures.push(format!("{}: listed as public but documented with bearer security", op.name())),
            _ => {}
        }
    }
    for (m, p, _) in PUBLIC_OPERATIONS.iter().chain(ALLOWED_FOR_EVERY_SIGNED_IN_USER) {
        if !ops.iter().any(|o| o.method == *m && o.template == *p) {
            failures.push(format!("{m} {p}: in an allow-list but not in the spec (stale entry)"));
        }
    }
    let shape = |p: &str| -> String { p.split('/').map(|s| if s.starts_with('{') { "{}" } else { s }).collect::<Vec<_>>().join("/") };
    let documented: BTreeSet<(String, String)> = ops.iter().map(|o| (o.method.clone(), shape(&o.template))).collect();
    let mounted: BTreeSet<(String, String)> = mounted_routes().into_iter().map(|(m, p)| (m, shape(&p))).collect();
    assert!(mounted.len() >= MIN_OPERATIONS, "read only {} routes from api/mod.rs: has the way routes are mounted changed?", mounted.len());
    for (m, p) in mounted.difference(&documented) {
        failures.push(format!("{m} {p}: mounted in api/mod.rs but not in the OpenAPI document, so the matrix cannot check it"));
    }
    for (m, p) in documented.difference(&mounted) {
        failures.push(format!("{m} {p}: in the OpenAPI document but not mounted in api/mod.rs"));
    }
    report("coverage", ops.len(), &failures);
}

/// `(METHOD, /api/v1/path)` of every `web::resource("…").route(web::<method>()…)` in api/mod.rs.
fn mounted_routes() -> Vec<(String, String)> {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/api/mod.rs")).expect("api/mod.rs");
    let mut out = Vec::new();
    let mut resource: Option<String> = None;
    let mut rest = src.as_str();
    while let Some(pos) = rest.find("web::") {
        rest = &rest[pos + "web::".len()..];
        if let Some(t) = rest.strip_prefix("resource(\"") {
            resource = Some(t[..t.find('"').unwrap()].to_string());
        } else if let Some(m) = ["get", "post", "put", "patch", "delete"].into_iter().find(|m| rest.starts_with(&format!("{m}()"))) {
            let r = resource.clone().expect("a route before any resource in api/mod.rs");
            out.push((m.to_uppercase(), format!("/api/v1{r}")));
        }
    }
    out
}

/// (a) Without a token (and with a garbage one) every operation answers 401, except the public
/// ones; a public-listed operation that answers 401 is a stale entry.
#[tokio::test]
async fn every_operation_without_a_token_answers_401_unless_public() {
    let app = matrix_app().await;
    let w = setup(&app).await;
    let mut failures = Vec::new();
    let mut requests = 0;
    let (s, body) = call(&app, "GET", SPEC_PATH, None, None, false).await;
    requests += 1;
    if s != StatusCode::OK {
        failures.push(format!("GET {SPEC_PATH}: the spec is public, got {}", describe(s, &body)));
    }
    for op in operations() {
        let path = op.url(&w.ids, &[]);
        let body = op.has_body().then(|| json!({}));
        if let Some(reason) = op.public_reason() {
            let (s, b) = call(&app, &op.method, &path, None, body, false).await;
            requests += 1;
            // A public operation may refuse the credential it takes in its body (a refresh
            // token: 401 `invalid_refresh_token`), never ask for the bearer token.
            let wants_bearer = s == StatusCode::UNAUTHORIZED && matches!(b["code"].as_str(), Some("unauthenticated" | "invalid_token"));
            if wants_bearer || s.is_server_error() {
                failures.push(format!("{} ({path}): public ({reason}), got {}", op.name(), describe(s, &b)));
            }
            continue;
        }
        for (label, token) in [("no token", None), ("garbage token", Some("not-a-real-token"))] {
            let (s, b) = call(&app, &op.method, &path, token, body.clone(), false).await;
            requests += 1;
            if s != StatusCode::UNAUTHORIZED {
                failures.push(format!("{} ({path}, {label}): expected 401, got {}", op.name(), describe(s, &b)));
            }
        }
    }
    report("(a) without a token", requests, &failures);
}

/// (b) A staff member whose role has no permissions gets 403 everywhere (404 also accepted for
/// by-id reads), except [`ALLOWED_FOR_EVERY_SIGNED_IN_USER`]; an allow-listed operation that
/// answers 403 is a stale entry. Requests carry a body valid for the schema, so the handler's
/// own permission check is what answers.
#[tokio::test]
async fn a_role_without_permissions_is_refused_everywhere() {
    let app = matrix_app().await;
    let w = setup(&app).await;
    let mut failures = Vec::new();
    let mut requests = 0;
    for op in operations().iter().filter(|o| o.public_reason().is_none()) {
        let path = op.url(&w.ids, &[]);
        let (s, b) = call(&app, &op.method, &path, Some(&w.nobody), op.body.clone(), op.multipart).await;
        requests += 1;
        match op.allowed_reason() {
            Some(reason) => {
                if matches!(s.as_u16(), 401 | 403) || s.is_server_error() {
                    failures.push(format!("{} ({path}): allowed for every signed-in user ({reason}), got {}", op.name(), describe(s, &b)));
                }
            }
            None => {
                let ok = s == StatusCode::FORBIDDEN || (op.by_id_read() && s == StatusCode::NOT_FOUND);
                if !ok {
                    let expected = if op.by_id_read() { "403 or 404" } else { "403" };
                    let note = masked_by_validation(&app, op, &path, &w.nobody, s).await;
                    failures.push(format!("{} ({path}): expected {expected}, got {}{note}", op.name(), describe(s, &b)));
                }
            }
        }
    }
    // What the allow-list relies on.
    let (s, found) = app.get(&format!("/api/v1/search?q={MARKER}"), &w.nobody).await;
    requests += 1;
    for kind in ["leads", "opportunities", "clients"] {
        if s != StatusCode::OK || found[kind].as_array().is_none_or(|a| !a.is_empty()) {
            failures.push(format!("GET /api/v1/search?q={MARKER}: a role without permissions must find no {kind}, got {} {found}", s.as_u16()));
        }
    }
    let (_, items) = app.get("/api/v1/items", &w.nobody).await;
    requests += 1;
    if items["items"].as_array().into_iter().flatten().any(|i| !i["purchase_price"].is_null()) {
        failures.push(format!("GET /api/v1/items: purchase prices shown without settings edit: {items}"));
    }
    report("(b) role without permissions", requests, &failures);
}

/// (c) Staff member B, "view own" (with create/edit/delete/send) on every sales module, gets 404
/// for every operation on records assigned to A (which A can read), and B's lists, board, export,
/// forecast and search do not show them (A's do).
#[tokio::test]
async fn view_own_staff_do_not_reach_a_colleagues_records() {
    let app = matrix_app().await;
    let w = setup(&app).await;
    let mut failures = Vec::new();
    let mut requests = 0;
    let ops: Vec<Op> = operations().into_iter().filter(|o| o.public_reason().is_none() && o.param_segments().iter().any(|s| OWNED.contains(s))).collect();
    // The funnel's sub-resources (activities, reminders, attachments, timeline…) also take an
    // opportunity's id.
    let variants = |op: &Op| -> Vec<(&'static str, Vec<(&'static str, i64)>)> {
        let own_file = if op.template.starts_with("/api/v1/expenses/") { vec![("attachments", w.expense_attachment)] } else { vec![] };
        let mut v = vec![("", own_file)];
        if op.template.starts_with("/api/v1/leads/{id}/") && op.param_segments().len() == 1 {
            v.push((" [opportunity id]", vec![("leads", w.opportunity)]));
        }
        v
    };

    // A, the owner, reads every one of them: the records really are A's.
    for op in ops.iter().filter(|o| o.method == "GET") {
        for (label, overrides) in variants(op) {
            let path = op.url(&w.ids, &overrides);
            let (s, b) = call(&app, "GET", &path, Some(&w.a), None, false).await;
            requests += 1;
            if !s.is_success() {
                failures.push(format!("{}{label} ({path}) as the owner A: expected 2xx, got {}", op.name(), describe(s, &b)));
            }
        }
    }
    // B, the colleague: 404 for everything (reads first, deletes last).
    for op in &ops {
        for (label, overrides) in variants(op) {
            let path = op.url(&w.ids, &overrides);
            let (s, b) = call(&app, &op.method, &path, Some(&w.b), op.body.clone(), op.multipart).await;
            requests += 1;
            if s != StatusCode::NOT_FOUND {
                let note = masked_by_validation(&app, op, &path, &w.b, s).await;
                failures.push(format!("{}{label} ({path}) as colleague B: expected 404, got {}{note}", op.name(), describe(s, &b)));
            }
        }
    }

    // Lists: A sees the records, B sees nothing of them.
    enum Seen {
        Items,
        Marker,
        Search,
        Forecast,
    }
    let (client, invoice, status) = (w.ids["clients"], w.ids["invoices"], w.ids["kanban"]);
    let lists = [
        ("/api/v1/leads".to_string(), Seen::Items),
        (format!("/api/v1/leads?q={MARKER}"), Seen::Items),
        ("/api/v1/leads/kanban".into(), Seen::Marker),
        (format!("/api/v1/leads/kanban/{status}"), Seen::Marker),
        ("/api/v1/leads/export".into(), Seen::Marker),
        ("/api/v1/opportunities".into(), Seen::Items),
        ("/api/v1/opportunities/forecast".into(), Seen::Forecast),
        ("/api/v1/opportunities/forecast?group_by=staff".into(), Seen::Forecast),
        ("/api/v1/clients".into(), Seen::Items),
        ("/api/v1/proposals".into(), Seen::Items),
        ("/api/v1/invoices".into(), Seen::Items),
        (format!("/api/v1/invoices?client_id={client}"), Seen::Items),
        ("/api/v1/sales-orders".into(), Seen::Items),
        (format!("/api/v1/sales-orders?client_id={client}"), Seen::Items),
        ("/api/v1/contracts".into(), Seen::Items),
        (format!("/api/v1/contracts?client_id={client}"), Seen::Items),
        ("/api/v1/recurring-invoices".into(), Seen::Items),
        ("/api/v1/payments".into(), Seen::Items),
        (format!("/api/v1/payments?invoice_id={invoice}"), Seen::Items),
        (format!("/api/v1/payments?client_id={client}"), Seen::Items),
        ("/api/v1/reminders".into(), Seen::Items),
        ("/api/v1/expenses".into(), Seen::Items),
        (format!("/api/v1/search?q={MARKER}"), Seen::Search),
    ];
    let shows = |seen: &Seen, body: &Value| -> bool {
        let nonempty = |v: &Value| v.as_array().is_some_and(|a| !a.is_empty());
        match seen {
            // B owns nothing, so any item at all is someone else's.
            Seen::Items => nonempty(&body["items"]) || body.to_string().contains(MARKER),
            Seen::Marker => body.to_string().contains(MARKER),
            Seen::Search => ["leads", "opportunities", "clients"].iter().any(|k| nonempty(&body[*k])),
            Seen::Forecast => nonempty(&body["rows"]) || nonempty(&body["totals"]),
        }
    };
    for (path, seen) in &lists {
        let (sa, ba) = app.get(path, &w.a).await;
        let (sb, bb) = app.get(path, &w.b).await;
        requests += 2;
        if !sa.is_success() || !shows(seen, &ba) {
            failures.push(format!(
                "GET {path} as the owner A: expected 200 showing A's records, got {} {}",
                sa.as_u16(),
                ba.to_string().chars().take(160).collect::<String>()
            ));
        }
        if !sb.is_success() || shows(seen, &bb) {
            failures.push(format!(
                "GET {path} as colleague B: expected 200 without A's records, got {} {}",
                sb.as_u16(),
                bb.to_string().chars().take(160).collect::<String>()
            ));
        }
    }

    // B naming A's records in a request body: refused, exactly as an id that does not exist
    // (same status, code and fields), so existence does not leak; A may use the same body.
    let lines = json!([{"description": "Matrix", "qty": "1", "unit_price": "10"}]);
    let (client, lead, opp) = (w.ids["clients"], w.ids["leads"], w.opportunity);
    let references = [
        ("/api/v1/opportunities", "client_id", json!({"estimated_value": "1", "currency": "EUR", "probability": 10}), json!(client)),
        ("/api/v1/proposals", "client_id", json!({"subject": "Matrix", "lines": lines}), json!(client)),
        ("/api/v1/proposals", "lead_id", json!({"subject": "Matrix", "lines": lines}), json!(lead)),
        ("/api/v1/proposals", "opportunity_id", json!({"subject": "Matrix", "lines": lines}), json!(opp)),
        ("/api/v1/invoices", "client_id", json!({"lines": lines}), json!(client)),
        ("/api/v1/sales-orders", "client_id", json!({"lines": lines}), json!(client)),
        ("/api/v1/contracts", "client_id", json!({"subject": "Matrix"}), json!(client)),
        ("/api/v1/recurring-invoices", "client_id", json!({"frequency": "monthly", "start_date": "2030-01-15", "lines": lines}), json!(client)),
        ("/api/v1/leads/bulk", "ids", json!({"action": "add_tag", "tag": "matrix"}), json!([lead])),
        ("/api/v1/leads/bulk", "ids", json!({"action": "delete"}), json!([lead])),
    ];
    let missing_like = |v: &Value| {
        if v.is_array() {
            json!([999_999])
        } else {
            json!(999_999)
        }
    };
    let refusal = |s: StatusCode, b: &Value| (s, b["code"].clone(), b["errors"].as_array().map(|e| e.iter().map(|x| x["field"].clone()).collect::<Vec<_>>()));
    for (path, field, base, theirs) in &references {
        let with = |v: Value| {
            let mut b = base.clone();
            b[*field] = v;
            b
        };
        let (s1, b1) = app.post(path, Some(&w.b), with(theirs.clone())).await;
        let (s2, b2) = app.post(path, Some(&w.b), with(missing_like(theirs))).await;
        requests += 2;
        let names_field = s1 == StatusCode::NOT_FOUND || b1["errors"].as_array().is_some_and(|e| e.iter().any(|x| x["field"] == *field));
        if s1.is_success() {
            failures.push(format!("POST {path} with A's {field} as colleague B: accepted ({}), expected a refusal", s1.as_u16()));
        } else if !names_field {
            failures.push(format!(
                "POST {path} with A's {field} as colleague B: refused for another reason ({}), the matrix's body needs fixing",
                describe(s1, &b1)
            ));
        } else if refusal(s1, &b1) != refusal(s2, &b2) {
            failures.push(format!(
                "POST {path} with A's {field} as colleague B: answered {} but {} for an id that does not exist (existence leaks)",
                describe(s1, &b1),
                describe(s2, &b2)
            ));
        }
    }
    // The same bodies are fine for A, so B's refusal was about the reference (deletes excluded).
    for (path, field, base, theirs) in references.iter().filter(|r| r.2["action"] != "delete") {
        let mut body = base.clone();
        body[*field] = theirs.clone();
        let (s, b) = app.post(path, Some(&w.a), body).await;
        requests += 1;
        if !s.is_success() {
            failures.push(format!("POST {path} with A's {field} as the owner A: expected 2xx, got {}", describe(s, &b)));
        }
    }

    // Nothing B tried changed A's records.
    for (kind, path) in [("leads", "leads"), ("clients", "clients"), ("proposals", "proposals"), ("invoices", "invoices"), ("contracts", "contracts")] {
        let (s, b) = app.get(&format!("/api/v1/{path}/{}", w.ids[kind]), &w.admin).await;
        requests += 1;
        if s != StatusCode::OK {
            failures.push(format!("GET /api/v1/{path}/{{id}} as admin after B's attempts: {}", describe(s, &b)));
        }
    }
    report("(c) view own", requests, &failures);
}
