//! The OpenAPI document is honest and generators accept it (issue #12, items 8 and 9).
//!
//! [`every_answer_is_declared`] drives every operation of the live document, without a token
//! and as an administrator, with: unknown ids and a body valid for the schema; a malformed JSON
//! body; a `text/plain` body; `abc` for each integer path parameter; and wrong values for the
//! query parameters that have a type. Then, as an administrator, every operation on real
//! records (reads, writes, deletes last). Every answer must be declared for its operation —
//! the status, its content type (problem+json for errors) and, for errors, the `code` named
//! in the response's description. The other tests check what generators need: unique
//! operationIds, no repeated parameters, a schema for every content, bytes for files.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::authz_matrix::{operations, setup, spec, Op, ALLOWED_FOR_EVERY_SIGNED_IN_USER, MIN_OPERATIONS};
use crate::helpers::{spawn_app_with, TestApp};

const PROBLEM_JSON: &str = "application/problem+json";

/// What a probe sends as its body.
#[derive(Clone)]
enum Payload {
    Empty,
    Json(Value),
    Raw(&'static str, &'static [u8]),
    Multipart,
}

struct Probe {
    label: &'static str,
    path: String,
    payload: Payload,
}

/// The operation's parameters in the document.
fn parameters<'a>(spec_op: &'a Value, location: &str) -> Vec<&'a Value> {
    spec_op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == location).collect()
}

fn is_plain_string(schema: &Value) -> bool {
    let ty = match &schema["type"] {
        Value::Array(ts) => ts.iter().find(|t| *t != "null").cloned().unwrap_or(Value::Null),
        t => t.clone(),
    };
    ty == "string" && schema.get("format").is_none() && schema.get("enum").is_none()
}

/// The template with its path parameters filled in: string parameters (portal tokens) with a
/// token that does not exist, the others with `other`.
fn fill(template: &str, path_params: &[&Value], other: &str) -> String {
    let mut out = template.to_string();
    for p in path_params {
        let name = p["name"].as_str().unwrap();
        let value = if is_plain_string(&p["schema"]) { format!("contract{}", uuid::Uuid::new_v4().simple()) } else { other.to_string() };
        out = out.replace(&format!("{{{name}}}"), &value);
    }
    out
}

/// The required query parameters with a valid value, and with `invalid` each typed one (an
/// integer, a boolean, a date, an enum…) with a value of the wrong kind.
fn query(query_params: &[&Value], invalid: bool) -> String {
    let mut pairs = Vec::new();
    for p in query_params {
        let name = p["name"].as_str().unwrap();
        if invalid && !is_plain_string(&p["schema"]) {
            pairs.push(format!("{name}=abc"));
        } else if p["required"] == true {
            let value = if is_plain_string(&p["schema"]) { "contract" } else { "1" };
            pairs.push(format!("{name}={value}"));
        }
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    }
}

/// The edge probes of one operation (unknown ids everywhere, so nothing real changes).
fn edge_probes(op: &Op, spec_op: &Value) -> Vec<Probe> {
    let path_params = parameters(spec_op, "path");
    let query_params = parameters(spec_op, "query");
    let valid = if op.multipart { Payload::Multipart } else { op.body.clone().map(Payload::Json).unwrap_or(Payload::Empty) };
    let unknown = fill(&op.template, &path_params, "999999");
    let mut probes = vec![
        Probe { label: "unknown ids", path: format!("{unknown}{}", query(&query_params, false)), payload: valid.clone() },
        Probe {
            label: "malformed JSON body",
            path: format!("{unknown}{}", query(&query_params, false)),
            payload: Payload::Raw("application/json", b"{\"oops\": "),
        },
        Probe { label: "text/plain body", path: format!("{unknown}{}", query(&query_params, false)), payload: Payload::Raw("text/plain", b"hello") },
    ];
    if path_params.iter().any(|p| !is_plain_string(&p["schema"])) {
        let path = format!("{}{}", fill(&op.template, &path_params, "abc"), query(&query_params, false));
        probes.push(Probe { label: "invalid path parameter", path, payload: valid.clone() });
    }
    if query_params.iter().any(|p| !is_plain_string(&p["schema"])) {
        probes.push(Probe { label: "invalid query parameter", path: format!("{unknown}{}", query(&query_params, true)), payload: valid });
    }
    probes
}

struct Answer {
    status: StatusCode,
    content_type: Option<String>,
    body: String,
}

async fn send(app: &TestApp, method: &str, path: &str, token: Option<&str>, payload: &Payload) -> Answer {
    let mut req = app.client.request(Method::from_bytes(method.as_bytes()).unwrap(), app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req = match payload {
        Payload::Empty => req,
        Payload::Json(v) => req.json(v),
        Payload::Raw(content_type, bytes) => req.header(CONTENT_TYPE, *content_type).body(bytes.to_vec()),
        Payload::Multipart => {
            let part = reqwest::multipart::Part::bytes(b"contract".to_vec()).file_name("contract.txt").mime_str("text/plain").unwrap();
            req.multipart(reqwest::multipart::Form::new().part("file", part))
        }
    };
    let res = req.send().await.expect("request sent");
    let status = res.status();
    let content_type = res.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(|v| v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase());
    let body = res.text().await.unwrap_or_default();
    Answer { status, content_type, body }
}

/// `declared` (`application/json`, `text/*`, `*/*`) covers the answer's `actual` media type.
fn media_matches(declared: &str, actual: &str) -> bool {
    match declared.split_once('/') {
        Some(("*", "*")) => true,
        Some((ty, "*")) => actual.split_once('/').is_some_and(|(t, _)| t == ty),
        _ => declared == actual,
    }
}

/// Why `answer` is not what the document declares for the operation, if it is not.
fn undeclared(responses: &Value, answer: &Answer) -> Option<String> {
    let status = answer.status.as_u16();
    let code = serde_json::from_str::<Value>(&answer.body).ok().and_then(|b| b["code"].as_str().map(str::to_string));
    let what = match &code {
        Some(code) => format!("{status} {code}"),
        None => format!("{status} ({})", answer.content_type.as_deref().unwrap_or("no content type")),
    };
    let Some(declared) = responses.get(status.to_string()) else {
        let statuses: Vec<&String> = responses.as_object().map(|r| r.keys().collect()).unwrap_or_default();
        return Some(format!("answered {what}, which is not declared (declared: {})", statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")));
    };
    let content = declared["content"].as_object();
    if status >= 400 {
        if answer.content_type.as_deref() != Some(PROBLEM_JSON) {
            return Some(format!("answered {what} as {:?}, not {PROBLEM_JSON}", answer.content_type));
        }
        if !content.is_some_and(|c| c.contains_key(PROBLEM_JSON)) {
            return Some(format!("answered {what}; the document declares {status} without {PROBLEM_JSON}"));
        }
        if let Some(code) = code {
            if !declared["description"].as_str().unwrap_or_default().contains(&format!("`{code}`")) {
                return Some(format!("answered {what}; the description of {status} does not name `{code}`"));
            }
        }
        return None;
    }
    match (content, answer.body.is_empty()) {
        (None, false) => Some(format!("answered {what} with a body the document does not describe")),
        (Some(c), false) if !answer.content_type.as_ref().is_some_and(|t| c.keys().any(|k| media_matches(k, t))) => {
            Some(format!("answered {what}; the document declares {}", c.keys().cloned().collect::<Vec<_>>().join(", ")))
        }
        _ => None,
    }
}

/// Every answer to every probe of every operation is declared for it (see the module docs).
#[tokio::test]
async fn every_answer_is_declared() {
    // The gateway is configured (to an address where nothing listens) so its routes answer
    // for themselves; the portal's rate limit is out of the way (its 429 is declared below).
    let app = spawn_app_with(|s| {
        s.gateway = Some(crmconnect::config::GatewaySettings {
            base_url: "http://127.0.0.1:9".into(),
            api_key: "sk_test_contract".into(),
            webhook_secret: "whsec_test_contract".into(),
        });
        s.portal_requests_per_minute = 100_000;
    })
    .await;
    let world = setup(&app).await;
    let spec = spec();
    let ops = operations();
    assert!(ops.len() >= MIN_OPERATIONS, "the document has {} operations, fewer than {MIN_OPERATIONS}", ops.len());
    let mut failures = Vec::new();
    let mut requests = 0;
    let mut probed = BTreeSet::new();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();

    for op in &ops {
        let spec_op = &spec["paths"][&op.template][op.method.to_lowercase()];
        let responses = &spec_op["responses"];
        for probe in edge_probes(op, spec_op) {
            for (who, token) in [("no token", None), ("admin", Some(world.admin.as_str()))] {
                let answer = send(&app, &op.method, &probe.path, token, &probe.payload).await;
                requests += 1;
                *kinds.entry(probe.label).or_default() += 1;
                probed.insert(op.name());
                if let Some(why) = undeclared(responses, &answer) {
                    failures.push(format!("{} ({}, {who}, {}): {why}", op.name(), probe.label, probe.path));
                }
            }
        }
    }
    // Real records, as an administrator: reads, then writes, deletes last.
    for op in &ops {
        let spec_op = &spec["paths"][&op.template][op.method.to_lowercase()];
        let path = op.url(&world.ids, &[]);
        let payload = if op.multipart { Payload::Multipart } else { op.body.clone().map(Payload::Json).unwrap_or(Payload::Empty) };
        let answer = send(&app, &op.method, &path, Some(&world.admin), &payload).await;
        requests += 1;
        *kinds.entry("real records").or_default() += 1;
        if let Some(why) = undeclared(&spec_op["responses"], &answer) {
            failures.push(format!("{} (real records, admin, {path}): {why}", op.name()));
        }
    }

    println!("openapi contract: {} operations driven, {requests} requests ({kinds:?}), {} failures", probed.len(), failures.len());
    for f in &failures {
        println!("  FAIL {f}");
    }
    assert_eq!(probed.len(), ops.len(), "every operation is probed");
    assert!(failures.is_empty(), "openapi contract: {} answers the document does not declare:\n{}", failures.len(), failures.join("\n"));
}

/// Generators need a unique operationId per operation (they name functions after it) and no
/// parameter twice (a generated function cannot take the same argument twice).
#[test]
fn operation_ids_are_unique_and_parameters_are_not_repeated() {
    let spec = spec();
    let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut count = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            let name = format!("{} {path}", method.to_uppercase());
            match op["operationId"].as_str() {
                Some(id) if id.chars().next().is_some_and(|c| c.is_ascii_lowercase()) && id.chars().all(|c| c.is_ascii_alphanumeric()) => {
                    ids.entry(id.to_string()).or_default().push(name.clone());
                }
                other => failures.push(format!("{name}: operationId {other:?} is not camelCase (verb + resource)")),
            }
            let mut seen = BTreeSet::new();
            for p in op["parameters"].as_array().into_iter().flatten() {
                let key = (p["name"].as_str().unwrap_or_default().to_string(), p["in"].as_str().unwrap_or_default().to_string());
                if !seen.insert(key.clone()) {
                    failures.push(format!("{name}: parameter `{}` in {} is declared twice", key.0, key.1));
                }
            }
        }
    }
    for (id, ops) in &ids {
        if ops.len() > 1 {
            failures.push(format!("operationId `{id}` is used by {}", ops.join(", ")));
        }
    }
    assert!(count >= MIN_OPERATIONS, "only {count} operations");
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));
}

/// Every content has a schema; files (PDF, CSV, attachments, the upload's `file`) are
/// `type: string, format: binary`; every error is the problem schema as problem+json; every
/// operation that needs a token declares 401 and — unless it checks no permission — 403.
#[test]
fn every_content_has_a_schema_and_every_error_is_a_problem() {
    let spec = spec();
    let binary = |s: &Value| s["type"] == "string" && s["format"] == "binary";
    let mut failures = Vec::new();
    let open: BTreeSet<(String, String)> = ALLOWED_FOR_EVERY_SIGNED_IN_USER.iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let name = format!("{} {path}", method.to_uppercase());
            for (media, content) in op["requestBody"]["content"].as_object().into_iter().flatten() {
                match media.as_str() {
                    "application/json" if content.get("schema").is_some() => {}
                    "multipart/form-data" => {
                        let form = content["schema"]["$ref"].as_str().and_then(|r| r.rsplit('/').next()).map(|n| &spec["components"]["schemas"][n]);
                        if !form.is_some_and(|f| f["properties"].as_object().is_some_and(|ps| !ps.is_empty() && ps.values().any(binary))) {
                            failures.push(format!("{name}: the multipart body has no schema with a binary file property"));
                        }
                    }
                    other => failures.push(format!("{name}: request body {other} without a usable schema")),
                }
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                let content = response["content"].as_object();
                if status.starts_with('4') || status.starts_with('5') {
                    let problem = content.and_then(|c| c.get(PROBLEM_JSON)).is_some_and(|c| c["schema"]["$ref"] == "#/components/schemas/Problem");
                    if !problem || content.is_some_and(|c| c.len() != 1) {
                        failures.push(format!("{name}: {status} is not only {PROBLEM_JSON} with the Problem schema"));
                    }
                    if response["description"].as_str().is_none_or(|d| !d.contains('`')) {
                        failures.push(format!("{name}: {status} names no error code in its description"));
                    }
                    continue;
                }
                for (media, c) in content.into_iter().flatten() {
                    let json = media == "application/json" || media.ends_with("+json");
                    if (json && c.get("schema").is_none()) || (!json && !binary(&c["schema"])) {
                        failures.push(format!("{name}: {status} {media} has no schema (files: type string, format binary)"));
                    }
                }
            }
            if op.get("security").is_some() {
                let declares = |s: &str| op["responses"].get(s).is_some();
                if !declares("401") {
                    failures.push(format!("{name}: needs a token but does not declare 401"));
                }
                let is_open = open.contains(&(method.to_uppercase(), path.clone()));
                if !declares("403") && !is_open {
                    failures.push(format!("{name}: does not declare 403, but is not among the operations open to every signed-in user"));
                }
            }
        }
    }
    // The document's list of permission-free operations is the matrix's (which checks it).
    for id in crmconnect::openapi::OPEN_TO_EVERY_SIGNED_IN_USER {
        let found =
            spec["paths"].as_object().unwrap().iter().flat_map(|(p, item)| {
                item.as_object().unwrap().iter().filter(|(_, op)| op["operationId"] == *id).map(move |(m, _)| (m.to_uppercase(), p.clone()))
            });
        let ops: Vec<_> = found.collect();
        match ops.as_slice() {
            [op] if open.contains(op) => {}
            [(m, p)] => failures.push(format!("{id} ({m} {p}) declares no 403 but is not in the matrix's ALLOWED_FOR_EVERY_SIGNED_IN_USER")),
            _ => failures.push(format!("OPEN_TO_EVERY_SIGNED_IN_USER names {id}, which is no operation")),
        }
    }
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));
}
