//! Reports against hand-computed figures on a fixed data set.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, TestApp};

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (s, b) = app.post(path, Some(token), body).await;
    assert_eq!(s, StatusCode::CREATED, "POST {path}: {b}");
    b
}

/// An invoice of the data set: dated `date`, `net` (no tax) in `currency`, issued unless
/// `draft`, with `payments` of (amount, date).
struct Sale<'a> {
    agent: i32,
    date: &'a str,
    net: &'a str,
    currency: &'a str,
    draft: bool,
    payments: &'a [(&'a str, &'a str)],
}

async fn invoice(app: &TestApp, token: &str, client: &Value, sale: Sale<'_>) {
    let body = json!({"client_id": client["id"], "sale_agent": sale.agent, "date": sale.date, "currency": sale.currency,
        "lines": [{"description": "Work", "qty": "1", "unit_price": sale.net}]});
    let inv = created(app, token, "/api/v1/invoices", body).await;
    if !sale.draft {
        let (s, b) = app.post(&format!("/api/v1/invoices/{}/issue", inv["id"]), Some(token), json!({})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    for (amount, day) in sale.payments {
        created(app, token, &format!("/api/v1/invoices/{}/payments", inv["id"]), json!({"amount": amount, "date": day})).await;
    }
}

fn rows(report: &Value, key: &str) -> Vec<(String, String, String, String, i64, String)> {
    report[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |f: &str| r[f].as_str().unwrap().to_string();
            (s("period"), s("currency"), s("invoiced"), s("collected"), r["invoice_count"].as_i64().unwrap(), s("average_invoice"))
        })
        .collect()
}

fn row(period: &str, currency: &str, invoiced: &str, collected: &str, count: i64, average: &str) -> (String, String, String, String, i64, String) {
    (period.into(), currency.into(), invoiced.into(), collected.into(), count, average.into())
}

#[tokio::test]
async fn the_sales_report_sums_per_period_and_currency_for_whom_it_is_asked() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (x, _) = app.staff_with_token("x@crm.test", "Sales Agent").await;
    let (y, _) = app.staff_with_token("y@crm.test", "Sales Agent").await;
    let (manager, manager_token) = app.staff_with_token("am@crm.test", "Account Manager").await;
    let client = created(&app, &admin, "/api/v1/clients", json!({"company": "Report SRL"})).await;
    let sale = |agent, date, net, currency, draft, payments| Sale { agent, date, net, currency, draft, payments };
    invoice(&app, &admin, &client, sale(x.id, "2026-01-10", "1000", "RON", false, &[("400", "2026-01-20"), ("600", "2026-02-05")])).await;
    invoice(&app, &admin, &client, sale(y.id, "2026-01-25", "500", "RON", false, &[])).await;
    invoice(&app, &admin, &client, sale(x.id, "2026-02-14", "300", "EUR", false, &[("300", "2026-02-14")])).await;
    invoice(&app, &admin, &client, sale(x.id, "2026-02-01", "999", "RON", true, &[])).await;
    invoice(&app, &admin, &client, sale(manager.id, "2025-12-31", "7", "RON", false, &[("7", "2026-01-02")])).await;

    let q = "/api/v1/reports/sales?from=2026-01-01&to=2026-02-28";
    let (s, by_month) = app.get(q, &admin).await;
    assert_eq!(s, StatusCode::OK, "{by_month}");
    assert_eq!(
        rows(&by_month, "rows"),
        [
            row("2026-01-01", "RON", "1500.00", "407.00", 2, "750.00"),
            row("2026-02-01", "EUR", "300.00", "300.00", 1, "300.00"),
            row("2026-02-01", "RON", "0.00", "600.00", 0, "0.00"),
        ],
        "drafts never count; a payment counts on its own date: {by_month}"
    );
    assert_eq!(
        rows(&by_month, "totals"),
        [row("2026-01-01", "EUR", "300.00", "300.00", 1, "300.00"), row("2026-01-01", "RON", "1500.00", "1007.00", 2, "750.00")]
    );

    let (_, of_x) = app.get(&format!("{q}&sale_agent={}&group_by=quarter", x.id), &admin).await;
    assert_eq!(rows(&of_x, "rows"), [row("2026-01-01", "EUR", "300.00", "300.00", 1, "300.00"), row("2026-01-01", "RON", "1000.00", "1000.00", 1, "1000.00")]);
    let (_, weekly) = app.get(&format!("{q}&group_by=week&sale_agent={}", y.id), &admin).await;
    assert_eq!(rows(&weekly, "rows"), [row("2026-01-19", "RON", "500.00", "0.00", 1, "500.00")], "25 January 2026 is in the week of Monday the 19th");

    // View own (Account Manager): only their invoices, here the one of 31 December paid in January.
    let (s, own) = app.get(q, &manager_token).await;
    assert_eq!(s, StatusCode::OK, "{own}");
    assert_eq!(rows(&own, "rows"), [row("2026-01-01", "RON", "0.00", "7.00", 0, "0.00")]);
    let (_, agent_token) = app.staff_with_token("z@crm.test", "Sales Agent").await;
    let (s, b) = app.get(q, &agent_token).await;
    assert_problem(s, &b, 403, "forbidden");

    // The same rows as CSV.
    let res = app.client.get(app.url(&format!("{q}&format=csv"))).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let text = res.text().await.unwrap();
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "period,currency,invoiced,collected,invoice_count,average_invoice",
            "2026-01-01,RON,1500.00,407.00,2,750.00",
            "2026-02-01,EUR,300.00,300.00,1,300.00",
            "2026-02-01,RON,0.00,600.00,0,0.00"
        ]
    );
    let res = app.client.get(app.url(q)).bearer_auth(&admin).header("Accept", "text/csv").send().await.unwrap();
    assert!(res.text().await.unwrap().starts_with("period,currency"));

    for bad in ["&group_by=fortnight", "&format=xml"] {
        let (s, b) = app.get(&format!("{q}{bad}"), &admin).await;
        assert_problem(s, &b, 422, "validation_failed");
    }
    let (s, b) = app.get("/api/v1/reports/sales?from=2026-03-01&to=2026-01-01", &admin).await;
    assert_problem(s, &b, 422, "validation_failed");
}

#[tokio::test]
async fn the_dashboard_gathers_the_mornings_work_as_the_caller_may_see_it() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (agent, agent_token) = app.staff_with_token("ana@crm.test", "Sales Agent").await;
    let (_, role) = app.post("/api/v1/roles", Some(&admin), json!({"name": "Own funnel", "permissions": {"leads": ["view_own"]}})).await;
    assert!(role["id"].is_i64(), "{role}");
    let (sdr, sdr_token) = app.staff_with_token("sdr@crm.test", "Own funnel").await;
    let now = time::OffsetDateTime::now_utc();
    let today = now.date();

    let fresh = created(&app, &admin, "/api/v1/leads", json!({"name": "Fresh lead", "email": "fresh@lead.example", "assigned_to": sdr.id})).await;
    let contacted = created(&app, &admin, "/api/v1/leads", json!({"name": "Called lead", "email": "called@lead.example"})).await;
    created(&app, &admin, &format!("/api/v1/leads/{}/activities", contacted["id"]), json!({"type": "call", "summary": "Talked", "duration_minutes": 5})).await;
    created(&app, &admin, &format!("/api/v1/leads/{}/reminders", fresh["id"]), json!({"remind_at": today.with_time(time::Time::from_hms(23, 58, 0).unwrap()).assume_utc().format(&time::format_description::well_known::Rfc3339).unwrap(), "staff_id": sdr.id, "note": "Call back"})).await;
    let due_today = (today.with_time(time::Time::from_hms(23, 59, 0).unwrap()).assume_utc()).format(&time::format_description::well_known::Rfc3339).unwrap();
    created(&app, &admin, "/api/v1/tasks", json!({"title": "Send the offer", "due_at": due_today, "assignees": [agent.id]})).await;

    let client = created(&app, &admin, "/api/v1/clients", json!({"company": "Late Payer SRL"})).await;
    let late = created(
        &app,
        &admin,
        "/api/v1/invoices",
        json!({"client_id": client["id"], "sale_agent": agent.id, "date": (today - time::Duration::days(40)).to_string(),
        "due_date": (today - time::Duration::days(10)).to_string(), "lines": [{"description": "Work", "qty": "1", "unit_price": "100"}]}),
    )
    .await;
    app.post(&format!("/api/v1/invoices/{}/issue", late["id"]), Some(&admin), json!({})).await;
    created(&app, &admin, &format!("/api/v1/invoices/{}/payments", late["id"]), json!({"amount": "30"})).await;
    let stale = created(&app, &admin, "/api/v1/proposals", json!({"subject": "Stale offer", "client_id": client["id"], "assigned_to": agent.id, "date": (today - time::Duration::days(20)).to_string(), "open_till": (today - time::Duration::days(2)).to_string(),
        "lines": [{"description": "Setup", "qty": "1", "unit_price": "250"}]})).await;
    let (s, b) = app.post(&format!("/api/v1/proposals/{}/status", stale["id"]), Some(&admin), json!({"status": 7})).await;
    assert_eq!(s, StatusCode::OK, "{b}");

    let (s, board) = app.get("/api/v1/dashboard", &admin).await;
    assert_eq!(s, StatusCode::OK, "{board}");
    let names = |key: &str, field: &str| board[key].as_array().unwrap().iter().map(|x| x[field].as_str().unwrap_or_default().to_string()).collect::<Vec<_>>();
    assert_eq!(names("new_leads", "name"), ["Fresh lead"], "a contacted lead is not new work");
    assert_eq!(board["new_leads"][0]["source"], Value::Null);
    assert_eq!(names("expired_proposals", "title"), ["Stale offer"]);
    assert_eq!((board["expired_proposals"][0]["amount"].as_str(), board["expired_proposals"][0]["currency"].as_str()), (Some("250.00"), Some("RON")));
    assert_eq!(names("overdue_invoices", "title"), ["Late Payer SRL"]);
    assert_eq!(board["overdue_invoices"][0]["amount"], "70.00", "the balance due");
    assert_eq!(names("tasks_due_today", "title"), Vec::<String>::new(), "the task is the agent's, not the admin's");

    let (_, mine) = app.get("/api/v1/dashboard", &agent_token).await;
    assert_eq!(mine["tasks_due_today"][0]["title"], "Send the offer", "{mine}");
    assert_eq!(mine["expired_proposals"].as_array().unwrap().len(), 1);

    // A role with "view own" leads only: their lead and reminder; nothing of modules it lacks.
    let (_, own) = app.get("/api/v1/dashboard", &sdr_token).await;
    assert_eq!(own["new_leads"].as_array().unwrap().iter().map(|l| l["id"].clone()).collect::<Vec<_>>(), [fresh["id"].clone()]);
    assert_eq!(own["reminders_due_today"][0]["lead_id"], fresh["id"]);
    for key in ["expired_proposals", "overdue_invoices", "tasks_due_today", "goals"] {
        assert_eq!(own[key], json!([]), "{key}: {own}");
    }
}

#[tokio::test]
async fn the_leads_report_follows_each_channel_to_the_money() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (ana, _) = app.staff_with_token("ana@crm.test", "Sales Agent").await;
    let (_, sources) = app.get("/api/v1/lead-sources", &admin).await;
    let source = |name: &str| sources["items"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap()["id"].clone();
    let (web, referral) = (source("Website"), source("Referral"));
    let (_, reasons) = app.get("/api/v1/lost-reasons", &admin).await;
    let price = reasons["items"].as_array().unwrap().iter().find(|r| r["name"] == "Price too high").unwrap()["id"].clone();
    let lead = |name: &str, source: Value| json!({"name": name, "email": format!("{name}@lead.example"), "source_id": source, "assigned_to": ana.id});

    let won = created(&app, &admin, "/api/v1/leads", lead("won", web.clone())).await;
    created(&app, &admin, &format!("/api/v1/leads/{}/activities", won["id"]), json!({"type": "call", "summary": "Talked", "duration_minutes": 5})).await;
    let client = created(&app, &admin, &format!("/api/v1/leads/{}/convert-to-client", won["id"]), json!({})).await;
    let lost = created(&app, &admin, "/api/v1/leads", lead("lost", web.clone())).await;
    let (s, b) = app.post(&format!("/api/v1/leads/{}/lost", lost["id"]), Some(&admin), json!({"lost_reason_id": price})).await;
    assert!(s.is_success(), "{b}");
    created(&app, &admin, "/api/v1/leads", lead("open", web.clone())).await;
    let called = created(&app, &admin, "/api/v1/leads", lead("called", referral.clone())).await;
    created(&app, &admin, &format!("/api/v1/leads/{}/activities", called["id"]), json!({"type": "call", "summary": "Left a message", "duration_minutes": 1}))
        .await;
    created(&app, &admin, "/api/v1/leads", json!({"name": "nowhere", "email": "nowhere@lead.example"})).await;

    // The client the website lead became pays 80 of a 100 invoice.
    let inv =
        created(&app, &admin, "/api/v1/invoices", json!({"client_id": client["id"], "lines": [{"description": "Work", "qty": "1", "unit_price": "100"}]}))
            .await;
    app.post(&format!("/api/v1/invoices/{}/issue", inv["id"]), Some(&admin), json!({})).await;
    created(&app, &admin, &format!("/api/v1/invoices/{}/payments", inv["id"]), json!({"amount": "80"})).await;

    let (s, report) = app.get("/api/v1/reports/leads?by=source", &admin).await;
    assert_eq!(s, StatusCode::OK, "{report}");
    let rows = report["rows"].as_array().unwrap();
    let keys: Vec<&str> = rows.iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["Website", "(none)", "Referral"], "most leads first, then by name");
    let website = &rows[0];
    assert_eq!([&website["leads"], &website["contacted"], &website["clients"], &website["lost"]].map(|v| v.as_i64().unwrap()), [3, 1, 1, 1], "{website}");
    assert_eq!((website["contact_rate"].as_str(), website["client_rate"].as_str()), (Some("33.33"), Some("33.33")));
    assert_eq!(website["lost_by_reason"], json!([{"reason": "Price too high", "count": 1}]));
    assert_eq!(website["won"], json!([{"currency": "RON", "amount": "80.00"}]));
    assert_eq!((rows[2]["contacted"].as_i64(), rows[2]["contact_rate"].as_str(), rows[2]["won"].clone()), (Some(1), Some("100.00"), json!([])));

    let (_, by_agent) = app.get("/api/v1/reports/leads?by=assignee", &admin).await;
    let agent_row = by_agent["rows"].as_array().unwrap().iter().find(|r| r["key_id"] == json!(ana.id)).unwrap();
    assert_eq!((agent_row["leads"].as_i64(), agent_row["key"].as_str()), (Some(4), Some("Test Sales Agent")));

    let res = app.client.get(app.url("/api/v1/reports/leads?format=csv")).bearer_auth(&admin).send().await.unwrap();
    let text = res.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "key,leads,contacted,opportunities,clients,lost,contact_rate,opportunity_rate,client_rate,lost_by_reason,won");
    assert_eq!(lines[1], "Website,3,1,0,1,1,33.33,0.00,33.33,Price too high: 1,80.00 RON");

    let (s, b) = app.get("/api/v1/reports/leads?by=weather", &admin).await;
    assert_problem(s, &b, 422, "validation_failed");
    let today = time::OffsetDateTime::now_utc().date();
    let (_, none) = app.get(&format!("/api/v1/reports/leads?to={}", today - time::Duration::days(1)), &admin).await;
    assert_eq!(none["rows"], json!([]), "only leads created in the period");
}

#[tokio::test]
async fn the_sales_overview_combines_the_kpis_of_a_period() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let today = time::OffsetDateTime::now_utc().date();
    let day = |d: i64| (today - time::Duration::days(d)).to_string();

    // A lead that became a client and paid today: a sales cycle of 0 days.
    let lead = created(&app, &admin, "/api/v1/leads", json!({"name": "Quick buyer", "email": "quick@lead.example"})).await;
    let client = created(&app, &admin, &format!("/api/v1/leads/{}/convert-to-client", lead["id"]), json!({})).await;
    let a = created(&app, &admin, "/api/v1/invoices", json!({"client_id": client["id"], "lines": [{"description": "Work", "qty": "1", "unit_price": "100"}]}))
        .await;
    app.post(&format!("/api/v1/invoices/{}/issue", a["id"]), Some(&admin), json!({})).await;
    created(&app, &admin, &format!("/api/v1/invoices/{}/payments", a["id"]), json!({"amount": "60"})).await;
    // An overdue invoice paid in part.
    let other = created(&app, &admin, "/api/v1/clients", json!({"company": "Slow SRL"})).await;
    let b = created(
        &app,
        &admin,
        "/api/v1/invoices",
        json!({"client_id": other["id"], "date": day(40), "due_date": day(10), "lines": [{"description": "Work", "qty": "2", "unit_price": "100"}]}),
    )
    .await;
    app.post(&format!("/api/v1/invoices/{}/issue", b["id"]), Some(&admin), json!({})).await;
    created(&app, &admin, &format!("/api/v1/invoices/{}/payments", b["id"]), json!({"amount": "50"})).await;
    // One open opportunity of 1,000 at 40 %.
    created(
        &app,
        &admin,
        "/api/v1/opportunities",
        json!({"name": "Big deal", "email": "deal@opportunity.example", "estimated_value": "1000", "currency": "RON", "probability": 40}),
    )
    .await;
    // Two proposals sent, one accepted.
    for accept in [false, true] {
        let p = created(
            &app,
            &admin,
            "/api/v1/proposals",
            json!({"subject": "Offer", "client_id": other["id"], "lines": [{"description": "X", "qty": "1", "unit_price": "10"}]}),
        )
        .await;
        app.post(&format!("/api/v1/proposals/{}/status", p["id"]), Some(&admin), json!({"status": 7})).await;
        if accept {
            app.post(&format!("/api/v1/proposals/{}/status", p["id"]), Some(&admin), json!({"status": 3})).await;
        }
    }
    created(
        &app,
        &admin,
        "/api/v1/proposals",
        json!({"subject": "Draft", "client_id": other["id"], "lines": [{"description": "X", "qty": "1", "unit_price": "10"}]}),
    )
    .await;

    let (s, kpi) = app.get(&format!("/api/v1/reports/sales-overview?from={}&to={}", day(60), day(0)), &admin).await;
    assert_eq!(s, StatusCode::OK, "{kpi}");
    assert_eq!(kpi["new_leads"], 2, "the lead and the opportunity: {kpi}");
    assert_eq!(kpi["open_opportunities"], json!([{"currency": "RON", "count": 1, "total": "1000.00", "weighted": "400.00"}]));
    assert_eq!((kpi["proposals_sent"].as_i64(), kpi["proposals_accepted"].as_i64(), kpi["acceptance_rate"].as_str()), (Some(2), Some(1), Some("50.00")));
    assert_eq!(
        (kpi["sales"][0]["invoiced"].as_str(), kpi["sales"][0]["collected"].as_str(), kpi["sales"][0]["average_invoice"].as_str()),
        (Some("300.00"), Some("110.00"), Some("150.00"))
    );
    assert_eq!(kpi["outstanding"], json!([{"currency": "RON", "count": 2, "amount": "190.00"}]));
    assert_eq!(kpi["overdue"], json!([{"currency": "RON", "count": 1, "amount": "150.00"}]));
    assert_eq!(kpi["average_sales_cycle_days"], "0.0");

    let (_, earlier) = app.get(&format!("/api/v1/reports/sales-overview?from={}&to={}", day(60), day(30)), &admin).await;
    assert_eq!((earlier["new_leads"].as_i64(), earlier["average_sales_cycle_days"].clone()), (Some(0), Value::Null));
    assert_eq!(earlier["sales"][0]["invoiced"], "200.00", "only invoice B is dated in it");
    let (_, agent) = app.staff_with_token("agent@crm.test", "Sales Agent").await;
    let (s, b) = app.get("/api/v1/reports/sales-overview", &agent).await;
    assert_problem(s, &b, 403, "forbidden");
}
