//! The browser app in headless Chromium, driven over WebDriver (fantoccini + chromedriver).
//!
//! Needs Chromium, chromedriver and the built SPA, so it is `#[ignore]`d in a plain
//! `cargo test`; `cargo xtask test` builds the SPA and runs it with `--ignored`
//! (CRM_CHROMEDRIVER, CRM_CHROMIUM and CRM_SPA_DIR tell it where things are).

// Test harness code: a failed unwrap/expect is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use sea_orm::ConnectionTrait;
use serde_json::json;

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start_browser() -> (Driver, Client) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let driver_bin = std::env::var("CRM_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    // chromedriver wants an absolute browser path.
    let chromium = std::env::var("CRM_CHROMIUM").ok().or_else(|| {
        let paths = std::env::var_os("PATH")?;
        std::env::split_paths(&paths).map(|p| p.join("chromium")).find(|p| p.is_file()).map(|p| p.display().to_string())
    });
    let chromium = chromium.expect("set CRM_CHROMIUM or put chromium on PATH");
    let port = free_port();
    let child = Command::new(driver_bin).arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("chromedriver starts");
    let driver = Driver(child);
    let profile = tempfile::tempdir().unwrap().keep();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=1280,900", format!("--user-data-dir={}", profile.display())]
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let mut last_error = String::new();
    for _ in 0..50 {
        match ClientBuilder::rustls().expect("tls").capabilities(caps.clone()).connect(&url).await {
            Ok(client) => return (driver, client),
            Err(e) => {
                last_error = e.to_string();
                tokio::time::sleep(Duration::from_millis(200)).await
            }
        }
    }
    panic!("chromedriver did not accept a session at {url}: {last_error}");
}

/// The server with the built browser app (CRM_SPA_DIR, else `target/spa`).
async fn spawn_with_spa() -> helpers::TestApp {
    let spa_dir = PathBuf::from(std::env::var("CRM_SPA_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/spa").into()));
    assert!(spa_dir.join("index.html").is_file(), "SPA not built at {}: run `cargo xtask build-spa`", spa_dir.display());
    helpers::spawn_app_with(|s| s.spa_dir = spa_dir).await
}

async fn text_of(client: &Client, css: &str) -> String {
    let el = client.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css} never appeared: {e}"));
    el.text().await.unwrap()
}

async fn text_of_xpath(client: &Client, xpath: &str) -> String {
    let el = client.wait().at_most(Duration::from_secs(20)).for_element(Locator::XPath(xpath)).await.unwrap_or_else(|e| panic!("{xpath} never appeared: {e}"));
    el.text().await.unwrap()
}

async fn wait_for_path(client: &Client, expected: &str) {
    for _ in 0..100 {
        let url = client.current_url().await.unwrap();
        if url.path() == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never reached {expected}; at {}", client.current_url().await.unwrap());
}

async fn screenshot(client: &Client, name: &str) {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/screenshots"));
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built SPA: run `cargo xtask test`"]
async fn sign_in_see_the_layout_navigate_and_sign_out() {
    let app = spawn_with_spa().await;
    app.create_staff(helpers::ADMIN_EMAIL, "Administrator").await;
    let (_driver, client) = start_browser().await;

    // A deep link while signed out goes to the login page, remembering where to return.
    client.goto(&app.url("/admin/leads")).await.unwrap();
    wait_for_path(&client, "/login").await;
    let url = client.current_url().await.unwrap();
    assert_eq!(url.query(), Some("next=/admin/leads"), "{url}");
    screenshot(&client, "login").await;

    // A wrong password shows the server's problem readably.
    client.find(Locator::Css("#email")).await.unwrap().send_keys(helpers::ADMIN_EMAIL).await.unwrap();
    client.find(Locator::Css("#password")).await.unwrap().send_keys("wrong-password").await.unwrap();
    client.find(Locator::Css("#login-submit")).await.unwrap().click().await.unwrap();
    let error = text_of(&client, "#login-error").await;
    assert!(error.contains("Invalid e-mail or password"), "{error}");

    let password = client.find(Locator::Css("#password")).await.unwrap();
    password.clear().await.unwrap();
    password.send_keys(helpers::PASSWORD).await.unwrap();
    client.find(Locator::Css("#login-submit")).await.unwrap().click().await.unwrap();
    wait_for_path(&client, "/admin/leads").await;
    assert_eq!(text_of(&client, "#current-user").await, "Test Administrator");
    let nav = text_of(&client, "nav.sidebar").await;
    for module in ["Dashboard", "Leads", "Proposals", "Invoices", "Staff", "Roles"] {
        assert!(nav.contains(module), "{module} missing from {nav}");
    }
    assert_eq!(text_of(&client, "main h1").await, "Leads");

    // The Kanban board: quick-add a lead, see it in New, move it to Contacted, reload.
    let columns = text_of(&client, "#kanban").await;
    for status in ["New", "Contacted", "Qualified", "Demo Scheduled", "Proposal Sent"] {
        assert!(columns.contains(status), "{status} column missing: {columns}");
    }
    client.find(Locator::Css("#quick-name")).await.unwrap().send_keys("Browser Lead").await.unwrap();
    client.find(Locator::Css("#quick-contact")).await.unwrap().send_keys("browser@lead.ro").await.unwrap();
    client.find(Locator::Css("#quick-add")).await.unwrap().click().await.unwrap();
    let in_column = |status: &str| format!("//section[@data-status='{status}']//strong[text()='Browser Lead']");
    text_of_xpath(&client, &in_column("New")).await;
    screenshot(&client, "kanban").await;
    let select = client.find(Locator::XPath("//article[.//strong[text()='Browser Lead']]//select")).await.unwrap();
    select.select_by_label("Contacted").await.unwrap();
    text_of_xpath(&client, &in_column("Contacted")).await;
    client.refresh().await.unwrap();
    text_of_xpath(&client, &in_column("Contacted")).await;
    screenshot(&client, "layout-leads").await;

    // Client-side navigation to a screen backed by the API.
    client.find(Locator::LinkText("Staff")).await.unwrap().click().await.unwrap();
    wait_for_path(&client, "/admin/staff").await;
    assert!(text_of(&client, "#settings-table").await.contains(helpers::ADMIN_EMAIL));
    screenshot(&client, "staff").await;

    // The dashboard lists today's new, uncontacted leads.
    client.find(Locator::LinkText("Dashboard")).await.unwrap().click().await.unwrap();
    wait_for_path(&client, "/admin").await;
    text_of_xpath(&client, "//div[@id='new-leads']//a[text()='Browser Lead']").await;
    screenshot(&client, "dashboard").await;

    // Open the lead and log a call; it shows in the timeline.
    // (Contacted now: it leaves the dashboard's uncontacted list.)
    client.find(Locator::XPath("//div[@id='new-leads']//a[text()='Browser Lead']")).await.unwrap().click().await.unwrap();
    wait_for_text(&client, "#lead-name", "Browser Lead").await;
    fill(&client, "#activity-summary", "Discussed the offer").await;
    fill(&client, "#activity-duration", "15").await;
    client.find(Locator::Css("#activity-submit")).await.unwrap().click().await.unwrap();
    wait_for_text(&client, "#timeline", "Discussed the offer").await;
    screenshot(&client, "lead-record").await;

    // The header's search finds it, grouped by type.
    fill(&client, "#global-search", "Browser").await;
    wait_for_text(&client, "#search-results", "Browser Lead").await;

    // No token is where page script could read it: the access token is in memory, the refresh
    // token an HttpOnly cookie. A full page load gets a new access token from the cookie.
    let visible = client.execute("return JSON.stringify(localStorage) + document.cookie", vec![]).await.unwrap();
    assert!(!visible.as_str().unwrap().contains("token") && !visible.as_str().unwrap().contains("crm_refresh"), "{visible}");
    client.goto(&app.url("/admin/roles")).await.unwrap();
    let roles = text_of(&client, "#roles-table").await;
    assert!(roles.contains("Sales Agent") && roles.contains("SDR"), "{roles}");
    // An access token that expires mid-session (the server answers 401) is renewed from the
    // cookie and the call retried: the next API request carries an expired token.
    client
        .execute(
            "const send = window.fetch.bind(window); window.__expire = 1;
             window.fetch = function (input, init) {
               if (window.__expire > 0 && input instanceof Request && input.headers.has('Authorization')) {
                 window.__expire -= 1;
                 const headers = new Headers(input.headers);
                 headers.set('Authorization', 'Bearer expired.access.token');
                 input = new Request(input, { headers });
               }
               return send(input, init);
             };",
            vec![],
        )
        .await
        .unwrap();
    client.find(Locator::Css("nav.sidebar a[href='/admin/proposals']")).await.unwrap().click().await.unwrap();
    // The list's data arrived: the retried call succeeded with a renewed token.
    wait_for_xpath(&client, "//*[@id='proposals-table' or @id='no-proposals']").await;
    assert_eq!(client.execute("return window.__expire", vec![]).await.unwrap(), json!(0), "the expired token was sent");
    assert_eq!(current_path(&client).await, "/admin/proposals", "still signed in, not sent to the login page");
    client.goto(&app.url("/admin/proposals?status=4")).await.unwrap();
    assert_eq!(text_of(&client, "main h1").await, "Proposals");

    // Sign out: back to the login page, refresh token revoked on the server.
    client.find(Locator::Css("#user-menu")).await.unwrap().click().await.unwrap();
    client.find(Locator::Css("#logout")).await.unwrap().click().await.unwrap();
    wait_for_path(&client, "/login").await;
    let backend = app.state.db.get_database_backend();
    let row = app
        .state
        .db
        .query_one(sea_orm::Statement::from_string(backend, "SELECT COUNT(*) AS n FROM refresh_tokens WHERE revoked_at IS NULL"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 0, "every session of this test was ended or rotated");
    client.close().await.unwrap();
}

async fn fill(client: &Client, css: &str, text: &str) {
    let el = client.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

async fn wait_for_text(client: &Client, css: &str, expected: &str) {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(el) = client.find(Locator::Css(css)).await {
            last = el.text().await.unwrap_or_default();
            if last.contains(expected) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{css} never showed `{expected}`; last: `{last}`");
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built SPA: run `cargo xtask test`"]
async fn a_proposal_goes_from_the_editor_to_the_clients_acceptance_and_an_invoice() {
    let app = spawn_with_spa().await;
    let (_, token) = app.admin().await;
    let (_, lead) = app.post("/api/v1/leads", Some(&token), json!({"name": "Ana Pop", "email": "ana@pop.example"})).await;
    let (_, taxes) = app.get("/api/v1/taxes", &token).await;
    let tax = |name: &str| taxes["items"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap()["id"].as_i64().unwrap();
    let (v21, v11) = (tax("VAT 21%"), tax("VAT 11%"));

    let (_driver, client) = start_browser().await;
    sign_in(&app, &client).await;

    // The editor: two lines, live totals from the domain arithmetic.
    client.goto(&app.url(&format!("/admin/proposals/new?lead_id={}", lead["id"]))).await.unwrap();
    fill(&client, "#p-subject", "Fleet tracking").await;
    let line = |i: usize, field: &str| format!("tr.line[data-index='{i}'] .{field}");
    fill(&client, &line(0, "l-description"), "Tracker").await;
    fill(&client, &line(0, "l-qty"), "3").await;
    fill(&client, &line(0, "l-price"), "199.99").await;
    fill(&client, &line(0, "l-discount"), "10").await;
    client.find(Locator::Css(&line(0, &format!("l-tax-{v21}")))).await.unwrap().click().await.unwrap();
    client.find(Locator::Css("#add-line")).await.unwrap().click().await.unwrap();
    fill(&client, &line(1, "l-description"), "Installation").await;
    fill(&client, &line(1, "l-qty"), "1.5").await;
    fill(&client, &line(1, "l-price"), "120").await;
    client.find(Locator::Css(&line(1, &format!("l-tax-{v11}")))).await.unwrap().click().await.unwrap();
    wait_for_text(&client, "#t-total", "853.16 RON").await;
    assert_eq!(text_of(&client, "#t-subtotal").await, "719.97 RON");
    screenshot(&client, "proposal-editor").await;
    // Leaving with unsaved changes asks first; staying keeps the work.
    client.find(Locator::LinkText("Dashboard")).await.unwrap().click().await.unwrap();
    assert!(client.get_alert_text().await.unwrap().contains("not saved"));
    client.dismiss_alert().await.unwrap();
    assert_eq!(client.current_url().await.unwrap().path(), "/admin/proposals/new");
    client.find(Locator::Css("#open-preview")).await.unwrap().click().await.unwrap();
    let preview = client.find(Locator::Css("#preview")).await.unwrap().attr("srcdoc").await.unwrap().unwrap_or_default();
    assert!(preview.contains("Fleet tracking") && preview.contains("Total 853.16 RON"), "{preview}");
    client.find(Locator::Css("#save-proposal")).await.unwrap().click().await.unwrap();
    wait_for_text(&client, "#proposal-total", "853.16 RON").await;
    assert_eq!(text_of(&client, "#proposal-status").await, "Draft");
    let proposal_path = client.current_url().await.unwrap().path().to_string();

    // Edit it: a new "open till" date is saved as a date (the browser once sent `[2026,356]`)
    // and is still there after a reload, in the view and in the editor.
    let open_till = (time::OffsetDateTime::now_utc().date() + time::Duration::days(21)).to_string();
    click(&client, "#edit-proposal").await;
    wait_for_path(&client, &format!("{proposal_path}/edit")).await;
    wait_for_value(&client, "#p-subject", "Fleet tracking").await;
    set_value(&client, "#p-open-till", &open_till).await;
    click(&client, "#save-proposal").await;
    wait_for_path(&client, &proposal_path).await;
    wait_for_text(&client, "main", &format!("open till {open_till}")).await;
    client.refresh().await.unwrap();
    wait_for_text(&client, "main", &format!("open till {open_till}")).await;
    client.goto(&app.url(&format!("{proposal_path}/edit"))).await.unwrap();
    wait_for_value(&client, "#p-subject", "Fleet tracking").await;
    wait_for_value(&client, "#p-open-till", &open_till).await;
    screenshot(&client, "proposal-editor-open-till").await;
    client.goto(&app.url(&proposal_path)).await.unwrap();
    wait_for_text(&client, "#proposal-total", "853.16 RON").await;

    // Send it (no SMTP server here: the e-mail waits in the outbox; the status is Sent).
    client.find(Locator::Css("#open-send")).await.unwrap().click().await.unwrap();
    client.find(Locator::Css("#send-submit")).await.unwrap().click().await.unwrap();
    wait_for_text(&client, "#proposal-status", "Sent").await;
    wait_for_text(&client, "#emails", "ana@pop.example").await;
    screenshot(&client, "proposal-view").await;
    let link = client.find(Locator::Css("#portal-link")).await.unwrap().attr("href").await.unwrap().expect("a portal link");
    let portal_path = link.strip_prefix("http://crm.test").expect("the configured public URL").to_string();

    // The client opens the link in a fresh browser (no session) and accepts.
    let (_driver2, portal) = start_browser().await;
    portal.goto(&app.url(&portal_path)).await.unwrap();
    wait_for_text(&portal, "#portal-total", "853.16 RON").await;
    wait_for_text(&portal, "#portal-status", "Viewed").await;
    fill(&portal, "#accept-name", "Ana Pop").await;
    portal.find(Locator::Css("#accept-submit")).await.unwrap().click().await.unwrap();
    wait_for_text(&portal, "#portal-accepted", "Accepted by Ana Pop").await;
    screenshot(&portal, "portal-proposal").await;
    portal.close().await.unwrap();

    // Staff see it accepted and convert it to an invoice with the same total.
    client.goto(&app.url(&proposal_path)).await.unwrap();
    wait_for_text(&client, "#proposal-status", "Accepted").await;
    // The bell tells the owner; opening the notification marks it read.
    click(&client, "#bell").await;
    wait_for_text(&client, "#bell-menu", "PRO-000001 was accepted").await;
    wait_for_text(&client, "#bell-menu", "PRO-000001 was opened by the client").await;
    click(&client, "#bell").await;
    client.find(Locator::Css("#convert-invoice")).await.unwrap().click().await.unwrap();
    wait_for_text(&client, "#notice", "853.16 RON").await;
    wait_for_text(&client, "#invoice-link", "Invoice #").await;

    // The invoice: issue it, record a partial then a full payment, watch the status.
    client.find(Locator::Css("#invoice-link")).await.unwrap().click().await.unwrap();
    wait_for_text(&client, "#invoice-total", "853.16 RON").await;
    wait_for_text(&client, "#invoice-status", "Draft").await;
    assert!(text_of(&client, "main").await.contains("Draft dated"), "a draft does not say Issued");
    client.find(Locator::Css("#issue-invoice")).await.unwrap().click().await.unwrap();
    // Issuing cannot be undone: the app asks first.
    assert!(client.get_alert_text().await.unwrap().contains("next number"));
    client.accept_alert().await.unwrap();
    wait_for_text(&client, "#invoice-number", "INV-000001").await;
    wait_for_text(&client, "#invoice-status", "Unpaid").await;
    for (amount, due, status, balance) in [("500", "853.16", "Partially paid", "353.16 RON"), ("353.16", "353.16", "Paid", "0.00 RON")] {
        client.find(Locator::Css("#record-payment")).await.unwrap().click().await.unwrap();
        // The form starts with the balance due, dated today.
        let prefilled = client.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("#pay-amount")).await.unwrap().prop("value").await.unwrap();
        assert_eq!(prefilled.as_deref(), Some(due));
        let dated = client.find(Locator::Css("#pay-date")).await.unwrap().prop("value").await.unwrap().unwrap_or_default();
        assert_eq!(dated.len(), 10, "today as YYYY-MM-DD: {dated}");
        fill(&client, "#pay-amount", amount).await;
        client.find(Locator::Css("#pay-mode")).await.unwrap().select_by_label("Bank transfer").await.unwrap();
        fill(&client, "#pay-reference", "OP-42").await;
        client.find(Locator::Css("#pay-submit")).await.unwrap().click().await.unwrap();
        wait_for_text(&client, "#invoice-status", status).await;
        wait_for_text(&client, "#invoice-balance", balance).await;
    }
    wait_for_text(&client, "#payments", "Bank transfer").await;
    screenshot(&client, "invoice-view").await;
    client.goto(&app.url("/admin/invoices/list_invoices?status=2")).await.unwrap();
    wait_for_text(&client, "#invoices-table", "INV-000001").await;
    client.goto(&app.url("/admin/invoices/list_invoices?status=4")).await.unwrap();
    text_of(&client, "#no-invoices").await;
    screenshot(&client, "invoices-list").await;

    // The lead became a client on conversion; its record lists the documents.
    client.goto(&app.url("/admin/clients")).await.unwrap();
    client.wait().at_most(Duration::from_secs(20)).for_element(Locator::LinkText("Ana Pop")).await.unwrap().click().await.unwrap();
    wait_for_text(&client, "#client-invoices", "INV-000001").await;
    wait_for_text(&client, "#client-proposals", "PRO-000001").await;
    screenshot(&client, "client-record").await;

    // The list honours the guide's ?status= URLs.
    client.goto(&app.url("/admin/proposals?status=3")).await.unwrap();
    wait_for_text(&client, "#proposals-table", "PRO-000001").await;
    client.goto(&app.url("/admin/proposals?status=4")).await.unwrap();
    text_of(&client, "#no-proposals").await;
    screenshot(&client, "proposals-list").await;
    client.close().await.unwrap();
}

/// Signs the browser in with tokens from the API (the login form has its own test).
async fn sign_in(app: &helpers::TestApp, client: &Client) {
    sign_in_as(app, client, helpers::ADMIN_EMAIL).await;
}

/// Signs the browser in as another staff member (password `helpers::PASSWORD`) the way the
/// app's login does, from the page: the answer sets the HttpOnly `crm_refresh` cookie, and the
/// app gets its access token from it on its first call, as after a reload.
async fn sign_in_as(app: &helpers::TestApp, client: &Client, email: &str) {
    client.goto(&app.url("/login")).await.unwrap();
    let status = client
        .execute_async(
            "const [email, password, done] = arguments;
             fetch('/api/v1/auth/login', {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({email, password})})
               .then(r => { localStorage.setItem('crm.signed_in', '1'); done(r.status); }, e => done(String(e)));",
            vec![json!(email), json!(helpers::PASSWORD)],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(200), "sign-in of {email}");
}

/// Clicks an element after scrolling it to the middle of the window (clear of the sticky header).
async fn click(client: &Client, css: &str) {
    let el = client.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
    client.execute("document.querySelector(arguments[0]).scrollIntoView({block: 'center'})", vec![json!(css)]).await.unwrap();
    el.click().await.unwrap();
}

/// A real HTML5 drag: dragstart on the source, dragover and drop on the target, with one
/// DataTransfer, as the browser fires them when a mouse drags a card.
async fn drag(client: &Client, source_css: &str, target_css: &str) {
    client.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(source_css)).await.unwrap();
    client
        .execute(
            "const [s, t] = [document.querySelector(arguments[0]), document.querySelector(arguments[1])];
             const dt = new DataTransfer();
             s.dispatchEvent(new DragEvent('dragstart', {bubbles: true, cancelable: true, dataTransfer: dt}));
             t.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: dt}));
             t.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: dt}));
             s.dispatchEvent(new DragEvent('dragend', {bubbles: true, cancelable: true, dataTransfer: dt}));",
            vec![json!(source_css), json!(target_css)],
        )
        .await
        .unwrap();
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built SPA: run `cargo xtask test`"]
async fn a_manager_works_the_board_the_list_settings_opportunities_and_invoices() {
    let app = spawn_with_spa().await;
    let (_, token) = app.admin().await;
    let (_, a) = app
        .post(
            "/api/v1/leads",
            Some(&token),
            json!({"name": "Dora Drag", "email": "dora@drag.ro", "tags": ["vip"], "estimated_value": "1000.00", "currency": "RON"}),
        )
        .await;
    let (_, b) = app.post("/api/v1/leads", Some(&token), json!({"name": "Bogdan Back", "email": "bogdan@back.ro"})).await;
    let (a_id, b_id) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());
    let (_driver, client) = start_browser().await;
    sign_in(&app, &client).await;

    // Drag Dora from New to Contacted: there at once, still there after a reload; the
    // column figures follow.
    client.goto(&app.url("/admin/leads")).await.unwrap();
    let card = |id: i64| format!("article[data-lead='{id}']");
    let in_column = |status: &str, name: &str| format!("//section[@data-status='{status}']//strong[text()='{name}']");
    text_of_xpath(&client, &in_column("New", "Dora Drag")).await;
    drag(&client, &card(a_id), "section[data-status='Contacted']").await;
    text_of_xpath(&client, &in_column("Contacted", "Dora Drag")).await;
    wait_for_text(&client, "section[data-status='Contacted'] header", "1000.00 RON").await;
    client.refresh().await.unwrap();
    text_of_xpath(&client, &in_column("Contacted", "Dora Drag")).await;
    let (_, stored) = app.get(&format!("/api/v1/leads/{a_id}"), &token).await;
    assert_eq!(stored["status"], "Contacted");

    // A move the server refuses is rolled back: the target status is deleted meanwhile.
    let (_, pipelines) = app.get("/api/v1/pipelines", &token).await;
    let pipeline = &pipelines["items"][0];
    let qualified = pipeline["statuses"].as_array().unwrap().iter().find(|s| s["name"] == "Qualified").unwrap()["id"].as_i64().unwrap();
    let (st, _) = app.delete(&format!("/api/v1/pipelines/{}/statuses/{qualified}", pipeline["id"]), &token).await;
    assert!(st.is_success(), "{st}");
    drag(&client, &card(b_id), "section[data-status='Qualified']").await;
    text_of(&client, "#board-error").await;
    text_of_xpath(&client, &in_column("New", "Bogdan Back")).await;
    screenshot(&client, "kanban-rollback").await;

    // Filters: tag.
    fill(&client, "#filter-tag", "vip").await;
    client.find(Locator::Css("#filter-tag")).await.unwrap().send_keys("\u{E007}").await.unwrap();
    for _ in 0..100 {
        let board = text_of(&client, "main").await;
        if !board.contains("Bogdan Back") && board.contains("Dora Drag") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let board = text_of(&client, "main").await;
    assert!(board.contains("Dora Drag") && !board.contains("Bogdan Back"), "{board}");

    // The list view: select every lead, tag them in bulk.
    client.goto(&app.url("/admin/leads?view=list")).await.unwrap();
    wait_for_text(&client, "#leads-table", "Bogdan Back").await;
    wait_for_text(&client, "#leads-table", "Dora Drag").await;
    click(&client, "#select-all").await;
    wait_for_text(&client, "#bulk-bar", "2 selected").await;
    client.find(Locator::Css("#bulk-action")).await.unwrap().select_by_value("add_tag").await.unwrap();
    fill(&client, "#bulk-param", "hot").await;
    click(&client, "#bulk-apply").await;
    wait_for_text(&client, "#bulk-notice", "2 leads updated").await;
    let (_, tagged) = app.get("/api/v1/leads?tag=hot", &token).await;
    assert_eq!(tagged["items"].as_array().unwrap().len(), 2, "{tagged}");
    screenshot(&client, "leads-list").await;

    // Settings: add a tax; the catalogue has it.
    client.goto(&app.url("/admin/settings")).await.unwrap();
    client.wait().at_most(Duration::from_secs(20)).for_element(Locator::LinkText("Taxes")).await.unwrap().click().await.unwrap();
    wait_for_path(&client, "/admin/taxes").await;
    wait_for_text(&client, "#settings-table", "VAT 21%").await;
    click(&client, "#add-row").await;
    fill(&client, "#field-name", "Reduced 5%").await;
    fill(&client, "#field-rate", "five").await;
    click(&client, "#save-row").await;
    wait_for_text(&client, "#row-form", "must be a number").await;
    fill(&client, "#field-rate", "5").await;
    click(&client, "#save-row").await;
    wait_for_text(&client, "#settings-table", "Reduced 5%").await;
    let (_, taxes) = app.get("/api/v1/taxes", &token).await;
    assert!(taxes["items"].as_array().unwrap().iter().any(|t| t["name"] == "Reduced 5%" && t["rate"] == "5"), "{taxes}");
    screenshot(&client, "settings-taxes").await;

    // Roles: a new role from the permission grid.
    client.goto(&app.url("/admin/roles")).await.unwrap();
    click(&client, "#add-role").await;
    fill(&client, "#role-name", "Lead Scout").await;
    click(&client, "#perm-leads-view_own").await;
    click(&client, "#perm-leads-create").await;
    click(&client, "#save-role").await;
    wait_for_text(&client, "#roles-table", "Lead Scout").await;
    let (_, roles) = app.get("/api/v1/roles", &token).await;
    let scout = roles["items"].as_array().unwrap().iter().find(|r| r["name"] == "Lead Scout").unwrap().clone();
    assert_eq!(scout["permissions"], json!({"leads": ["view_own", "create"]}), "{scout}");

    // A second pipeline: the board's picker shows its own columns.
    let (_, second) = app.post("/api/v1/pipelines", Some(&token), json!({"name": "Partners", "statuses": [{"name": "Intro"}, {"name": "Signed"}]})).await;
    client.goto(&app.url("/admin/leads")).await.unwrap();
    client.wait().at_most(Duration::from_secs(20)).for_element(Locator::XPath("//select[@id='pipeline']/option[text()='Partners']")).await.unwrap();
    client.find(Locator::Css("#pipeline")).await.unwrap().select_by_value(&second["id"].to_string()).await.unwrap();
    text_of(&client, "section[data-status='Intro']").await;
    text_of(&client, "section[data-status='Signed']").await;
    assert!(client.find(Locator::Css("section[data-status='New']")).await.is_err(), "the sales pipeline's columns are gone");

    // Statuses: move "Contacted" up, the board order follows.
    client.goto(&app.url("/admin/leads/statuses")).await.unwrap();
    let up = "//table[@id='statuses']//tr[@data-status='Contacted']//button[@aria-label='Move up']";
    client.wait().at_most(Duration::from_secs(20)).for_element(Locator::XPath(up)).await.unwrap().click().await.unwrap();
    for _ in 0..100 {
        let (_, p) = app.get(&format!("/api/v1/pipelines/{}", pipeline["id"]), &token).await;
        if p["statuses"][0]["name"] == "Contacted" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, p) = app.get(&format!("/api/v1/pipelines/{}", pipeline["id"]), &token).await;
    assert_eq!(p["statuses"][0]["name"], "Contacted", "{p}");
    screenshot(&client, "settings-statuses").await;

    // The lead record: edit, then convert to an opportunity; the board weighs it.
    client.goto(&app.url(&format!("/admin/leads/{a_id}"))).await.unwrap();
    wait_for_text(&client, "#lead-name", "Dora Drag").await;
    click(&client, "#edit-lead").await;
    fill(&client, "#field-company", "Drag Logistics SRL").await;
    click(&client, "#edit-save").await;
    wait_for_text(&client, "main", "Drag Logistics SRL").await;
    // Attachments: upload a real file through the file input, see it listed and stored.
    let file = std::env::temp_dir().join(format!("offer-{a_id}.txt"));
    std::fs::write(&file, "signed offer").unwrap();
    client.find(Locator::Css("#attachment-file")).await.unwrap().send_keys(&file.display().to_string()).await.unwrap();
    wait_for_text(&client, "#attachments", &format!("offer-{a_id}.txt")).await;
    let (_, files) = app.get(&format!("/api/v1/leads/{a_id}/attachments"), &token).await;
    assert_eq!(files["items"][0]["size_bytes"], 12, "{files}");
    client.find(Locator::Css("#lead-status")).await.unwrap().select_by_label("Demo Scheduled").await.unwrap();
    for _ in 0..100 {
        let (_, l) = app.get(&format!("/api/v1/leads/{a_id}"), &token).await;
        if l["status"] == "Demo Scheduled" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, stored) = app.get(&format!("/api/v1/leads/{a_id}"), &token).await;
    assert_eq!(stored["status"], "Demo Scheduled");
    click(&client, "#open-convert-opportunity").await;
    fill(&client, "#opp-value", "20000").await;
    fill(&client, "#opp-probability", "40").await;
    click(&client, "#convert-opportunity-submit").await;
    wait_for_text(&client, "#opportunity-figures", "weighted 8000.00 RON").await;
    client.goto(&app.url("/admin/opportunities")).await.unwrap();
    wait_for_text(&client, "#forecast-totals", "1 open: 20000.00 RON · weighted 8000.00 RON").await;
    wait_for_text(&client, "#opportunity-board", "Dora Drag").await;
    screenshot(&client, "opportunities").await;

    // An invoice made in the editor, for a client.
    let (_, client_row) = app.post("/api/v1/clients", Some(&token), json!({"company": "Editor Client SRL"})).await;
    client.goto(&app.url(&format!("/admin/invoices/new?client_id={}", client_row["id"]))).await.unwrap();
    let line = |field: &str| format!("tr.line[data-index='0'] .{field}");
    fill(&client, &line("l-description"), "Consulting").await;
    fill(&client, &line("l-qty"), "2").await;
    fill(&client, &line("l-price"), "150").await;
    wait_for_text(&client, "#t-total", "300.00 RON").await;
    click(&client, "#save-invoice").await;
    wait_for_text(&client, "#invoice-status", "Draft").await;
    wait_for_text(&client, "#invoice-total", "300.00 RON").await;
    screenshot(&client, "invoice-editor-saved").await;

    // A sales order from the same editor, then converted to an invoice from the list.
    client.goto(&app.url(&format!("/admin/sales_orders/new?client_id={}", client_row["id"]))).await.unwrap();
    fill(&client, &line("l-description"), "Hardware").await;
    fill(&client, &line("l-price"), "80").await;
    wait_for_text(&client, "#t-total", "80.00 RON").await;
    click(&client, "#save-document").await;
    wait_for_path(&client, "/admin/sales_orders").await;
    wait_for_text(&client, "#orders-table", "80.00 RON").await;
    client.find(Locator::Css("#orders-table select")).await.unwrap().select_by_value("confirmed").await.unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath("//table[@id='orders-table']//button[text()='Convert to invoice']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&client, "#orders-table", "#").await;
    let (_, orders) = app.get("/api/v1/sales-orders", &token).await;
    assert!(orders["items"][0]["invoice_id"].is_i64(), "{orders}");

    // A recurring schedule.
    client.goto(&app.url(&format!("/admin/invoices/recurring/new?client_id={}", client_row["id"]))).await.unwrap();
    fill(&client, &line("l-description"), "Hosting").await;
    fill(&client, &line("l-price"), "100").await;
    set_value(&client, "#i-date", "2026-12-01").await;
    click(&client, "#save-document").await;
    wait_for_path(&client, "/admin/invoices/recurring").await;
    wait_for_text(&client, "#recurring-table", "100.00 RON").await;
    wait_for_text(&client, "#recurring-table", "2026-12-01").await;

    // A contract through the generic form.
    client.goto(&app.url("/admin/contracts")).await.unwrap();
    click(&client, "#new-contract").await;
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath("//select[@id='field-client_id']/option[text()='Editor Client SRL']"))
        .await
        .unwrap();
    client.find(Locator::Css("#field-client_id")).await.unwrap().select_by_label("Editor Client SRL").await.unwrap();
    fill(&client, "#field-subject", "Support 2027").await;
    fill(&client, "#field-value", "5000").await;
    set_value(&client, "#field-start_date", "2027-01-01").await;
    click(&client, "#edit-save").await;
    wait_for_text(&client, "#contracts-table", "Support 2027").await;
    wait_for_text(&client, "#contracts-table", "5000.00 RON").await;
    screenshot(&client, "contracts").await;
    client.close().await.unwrap();
}

/// Waits until an input holds `expected` (editors fill their inputs after loading).
async fn wait_for_value(client: &Client, css: &str, expected: &str) {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(el) = client.find(Locator::Css(css)).await {
            last = el.prop("value").await.ok().flatten().unwrap_or_default();
            if last == expected {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{css} never held `{expected}`; last: `{last}`");
}

/// Whether an element is on the page now (for buttons a role must not see).
async fn present(client: &Client, css: &str) -> bool {
    client.find(Locator::Css(css)).await.is_ok()
}

/// Sets an input's value as typing would (date inputs take keys in the locale's order).
async fn set_value(client: &Client, css: &str, value: &str) {
    client.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
    client
        .execute(
            "const el = document.querySelector(arguments[0]); el.value = arguments[1]; el.dispatchEvent(new Event('input', {bubbles: true}));",
            vec![json!(css), json!(value)],
        )
        .await
        .unwrap();
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built SPA: run `cargo xtask test`"]
async fn a_long_column_loads_more_cards_as_it_is_scrolled() {
    let app = spawn_with_spa().await;
    let (_, token) = app.admin().await;
    for i in 0..27 {
        let (st, _) = app.post("/api/v1/leads", Some(&token), json!({"name": format!("Scroll lead {i:02}"), "phone": format!("+40 700 000 {i:03}")})).await;
        assert!(st.is_success());
    }
    let (_driver, client) = start_browser().await;
    sign_in(&app, &client).await;
    client.goto(&app.url("/admin/leads")).await.unwrap();
    let count =
        || async { client.execute("return document.querySelectorAll(\"section[data-status='New'] article\").length", vec![]).await.unwrap().as_u64().unwrap() };
    wait_for_text(&client, "section[data-status='New'] .count", "27").await;
    assert_eq!(count().await, 20, "the first page of the column");
    client.execute("const c = document.querySelector(\"section[data-status='New']\"); c.scrollTop = c.scrollHeight;", vec![]).await.unwrap();
    for _ in 0..100 {
        if count().await == 27 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(count().await, 27, "the rest loaded on scroll");
    assert!(client.find(Locator::Css("section[data-status='New'] .load-more")).await.is_err(), "nothing more to load");

    // Within a column: drop the last card on the first one; it takes the top, also after a reload.
    let names = || async {
        let v =
            client.execute("return [...document.querySelectorAll(\"section[data-status='New'] .lead-name\")].map(e => e.textContent)", vec![]).await.unwrap();
        v.as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let before = names().await;
    let (first, last) = (before[0].clone(), before[26].clone());
    let driver = &client;
    let id_of = |name: String| async move {
        let v = driver
            .execute(
                "return [...document.querySelectorAll('article.lead-card')].find(a => a.querySelector('.lead-name').textContent === arguments[0]).dataset.lead",
                vec![json!(name)],
            )
            .await
            .unwrap();
        v.as_str().unwrap().to_string()
    };
    let (first_id, last_id) = (id_of(first.clone()).await, id_of(last.clone()).await);
    drag(&client, &format!("article[data-lead='{last_id}']"), &format!("article[data-lead='{first_id}']")).await;
    for _ in 0..50 {
        if names().await[0] == last {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(names().await[..2], [last.clone(), first.clone()]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    client.refresh().await.unwrap();
    wait_for_text(&client, "section[data-status='New'] .count", "27").await;
    assert_eq!(names().await[..2], [last, first], "the order was saved");

    // The list view's CSV export downloads the filtered list (the download is caught in the page).
    client.goto(&app.url("/admin/leads?view=list")).await.unwrap();
    wait_for_text(&client, "#leads-table", "Scroll lead 26").await;
    client
        .execute(
            "window.__downloads = []; window.__blobs = {};
             const make = URL.createObjectURL.bind(URL);
             URL.createObjectURL = function (blob) { const url = make(blob); window.__blobs[url] = blob; return url; };
             HTMLAnchorElement.prototype.click = function () { window.__downloads.push([this.download, this.href]); };",
            vec![],
        )
        .await
        .unwrap();
    click(&client, "#export-csv").await;
    let mut csv = String::new();
    for _ in 0..50 {
        let got = client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 const d = window.__downloads[0];
                 if (!d) { done(null); } else { window.__blobs[d[1]].text().then(t => done(d[0] + '\\n' + t)); }",
                vec![],
            )
            .await
            .unwrap();
        if let Some(text) = got.as_str() {
            csv = text.to_string();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("leads.csv"), "{csv}");
    assert!(lines.next().unwrap_or_default().starts_with("id,name,"), "{csv}");
    assert_eq!(lines.count(), 27, "{csv}");
    client.close().await.unwrap();
}

/// A staff member of a default role, created by the admin through the API; their id.
async fn staff_member(app: &helpers::TestApp, admin_token: &str, name: &str, email: &str, role: &str) -> i64 {
    let role_id = app.role_id(role).await;
    let (st, body) =
        app.post("/api/v1/staff", Some(admin_token), json!({"name": name, "email": email, "password": helpers::PASSWORD, "role_id": role_id})).await;
    assert!(st.is_success(), "creating {email}: {st} {body}");
    body["id"].as_i64().unwrap()
}

/// The requests the page made so far (to show a call was never made).
async fn requested_urls(client: &Client) -> Vec<String> {
    let v = client.execute("return performance.getEntriesByType('resource').map(e => e.name)", vec![]).await.unwrap();
    v.as_array().unwrap().iter().map(|u| u.as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built SPA: run `cargo xtask test`"]
async fn each_role_sees_only_what_it_may_do_and_a_sales_agent_closes_the_sale() {
    let app = spawn_with_spa().await;
    let (_, token) = app.admin().await;
    staff_member(&app, &token, "Sorina SDR", "sdr@test.example", "SDR").await;
    staff_member(&app, &token, "Andrei Agent", "agent@test.example", "Sales Agent").await;
    let (_driver, client) = start_browser().await;

    // The SDR: no Opportunities or Proposals menu, no "+ Proposal" / "Convert to client" on
    // its lead, no call for the staff list; converting to an opportunity it cannot see leads
    // back to its leads, not to "permission denied".
    sign_in_as(&app, &client, "sdr@test.example").await;
    client.goto(&app.url("/admin/leads")).await.unwrap();
    wait_for_text(&client, "#current-user", "Sorina SDR").await;
    let nav = text_of(&client, "nav.sidebar").await;
    assert!(nav.contains("Leads") && nav.contains("Clients"), "{nav}");
    for hidden in ["Opportunities", "Proposals", "Invoices", "Staff", "Settings"] {
        assert!(!nav.contains(hidden), "the SDR sees {hidden}: {nav}");
    }
    fill(&client, "#quick-name", "Sara Scout").await;
    fill(&client, "#quick-contact", "sara@scout.example").await;
    click(&client, "#quick-add").await;
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath("//a[@class='lead-link'][strong[text()='Sara Scout']]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&client, "#lead-name", "Sara Scout").await;
    text_of(&client, "#open-convert-opportunity").await;
    for css in ["#add-proposal", "#convert-client"] {
        assert!(!present(&client, css).await, "the SDR sees {css}");
    }
    let staff_calls: Vec<String> = requested_urls(&client).await.into_iter().filter(|u| u.contains("/api/v1/staff")).collect();
    assert!(staff_calls.is_empty(), "the SDR's pages asked for staff: {staff_calls:?}");
    screenshot(&client, "sdr-lead-record").await;
    click(&client, "#open-convert-opportunity").await;
    fill(&client, "#opp-value", "3000").await;
    click(&client, "#convert-opportunity-submit").await;
    wait_for_path(&client, "/admin/leads").await;
    assert!(!text_of(&client, "main").await.contains("denied"));

    // The Sales Agent: lead → opportunity → proposal (from the opportunity) → sent → accepted
    // by the client → invoice → issued.
    sign_in_as(&app, &client, "agent@test.example").await;
    client.goto(&app.url("/admin/leads")).await.unwrap();
    wait_for_text(&client, "#current-user", "Andrei Agent").await;
    let nav = text_of(&client, "nav.sidebar").await;
    assert!(nav.contains("Opportunities") && nav.contains("Proposals") && !nav.contains("Staff"), "{nav}");
    fill(&client, "#quick-name", "Radu Rapid").await;
    fill(&client, "#quick-contact", "radu@rapid.example").await;
    click(&client, "#quick-add").await;
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath("//a[@class='lead-link'][strong[text()='Radu Rapid']]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&client, "#lead-name", "Radu Rapid").await;
    click(&client, "#open-convert-opportunity").await;
    fill(&client, "#opp-value", "12000").await;
    fill(&client, "#opp-probability", "60").await;
    click(&client, "#convert-opportunity-submit").await;
    wait_for_text(&client, "#opportunity-figures", "weighted 7200.00 RON").await;
    let opportunity_path = client.current_url().await.unwrap().path().to_string();
    let opportunity_id = opportunity_path.rsplit('/').next().unwrap().to_string();

    // The opportunity record has the lead record's activity and reminder forms.
    fill(&client, "#activity-summary", "Demo booked").await;
    fill(&client, "#activity-duration", "20").await;
    click(&client, "#activity-submit").await;
    wait_for_text(&client, "#timeline", "Demo booked").await;
    set_value(&client, "#remind-at", "2030-01-15T09:30").await;
    fill(&client, "#remind-note", "Call after the demo").await;
    click(&client, "#reminder-submit").await;
    wait_for_text(&client, "#reminders", "Call after the demo").await;
    text_of(&client, "#opportunity-proposals").await;
    screenshot(&client, "agent-opportunity").await;

    // "+ Proposal" opens the editor related to the opportunity.
    click(&client, "#add-proposal").await;
    wait_for_path(&client, "/admin/proposals/new").await;
    wait_for_value(&client, "#p-relation", &format!("opportunity:{opportunity_id}")).await;
    fill(&client, "#p-subject", "Rapid rollout").await;
    let line = |field: &str| format!("tr.line[data-index='0'] .{field}");
    fill(&client, &line("l-description"), "Rollout").await;
    fill(&client, &line("l-qty"), "2").await;
    fill(&client, &line("l-price"), "500").await;
    let open_till = (time::OffsetDateTime::now_utc().date() + time::Duration::days(30)).to_string();
    set_value(&client, "#p-open-till", &open_till).await;
    wait_for_text(&client, "#t-total", "1000.00 RON").await;
    click(&client, "#save-proposal").await;
    wait_for_text(&client, "#proposal-status", "Draft").await;
    wait_for_text(&client, "main", &format!("open till {open_till}")).await;
    let proposal_path = client.current_url().await.unwrap().path().to_string();
    let number = text_of(&client, "#proposal-number").await;
    assert_eq!(text_of(&client, "#relation-link").await, format!("Opportunity #{opportunity_id}"));
    let link = client.find(Locator::Css("#relation-link")).await.unwrap().attr("href").await.unwrap();
    assert_eq!(link.as_deref(), Some(opportunity_path.as_str()));
    // Proposals → View / Create / Send: no editing, no marking.
    for css in ["#edit-proposal", "#mark-sent"] {
        assert!(!present(&client, css).await, "the agent sees {css}");
    }
    click(&client, "#open-send").await;
    click(&client, "#send-submit").await;
    wait_for_text(&client, "#proposal-status", "Sent").await;
    screenshot(&client, "agent-proposal").await;
    let portal_link = client.find(Locator::Css("#portal-link")).await.unwrap().attr("href").await.unwrap().expect("a portal link");
    let portal_path = portal_link.strip_prefix("http://crm.test").expect("the configured public URL").to_string();

    // The client accepts in a browser of their own.
    let (_driver2, portal) = start_browser().await;
    portal.goto(&app.url(&portal_path)).await.unwrap();
    wait_for_text(&portal, "#portal-total", "1000.00 RON").await;
    fill(&portal, "#accept-name", "Radu Rapid").await;
    portal.find(Locator::Css("#accept-submit")).await.unwrap().click().await.unwrap();
    wait_for_text(&portal, "#portal-accepted", "Accepted by Radu Rapid").await;
    portal.close().await.unwrap();

    // The opportunity lists its proposal and is won.
    client.goto(&app.url(&opportunity_path)).await.unwrap();
    wait_for_text(&client, "#opportunity-proposals", &number).await;
    wait_for_text(&client, "#opportunity-proposals", "Accepted").await;
    wait_for_text(&client, "#opportunity-status", "Won").await;
    screenshot(&client, "agent-opportunity-won").await;

    // The agent converts it to an invoice and issues it; a converted proposal offers no
    // sales order.
    client.goto(&app.url(&proposal_path)).await.unwrap();
    wait_for_text(&client, "#proposal-status", "Accepted").await;
    click(&client, "#convert-invoice").await;
    wait_for_text(&client, "#invoice-link", "Invoice #").await;
    assert!(!present(&client, "#convert-sales-order").await, "a sales order is still offered");
    assert!(!present(&client, ".alert").await, "{}", text_of(&client, ".alert").await);
    click(&client, "#invoice-link").await;
    wait_for_text(&client, "#invoice-status", "Draft").await;
    click(&client, "#issue-invoice").await;
    client.accept_alert().await.unwrap();
    wait_for_text(&client, "#invoice-number", "INV-").await;
    wait_for_text(&client, "#invoice-status", "Unpaid").await;
    // Payments are not the agent's: the button says why instead of failing.
    assert!(text_of(&client, "main").await.contains("Your role cannot record payments."));
    screenshot(&client, "agent-invoice").await;
    client.close().await.unwrap();
}

/// Waits for an element matched by XPath (to wait for a state, e.g. a filtered table).
async fn wait_for_xpath(client: &Client, xpath: &str) -> fantoccini::elements::Element {
    client.wait().at_most(Duration::from_secs(20)).for_element(Locator::XPath(xpath)).await.unwrap_or_else(|e| panic!("{xpath} never appeared: {e}"))
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built SPA: run `cargo xtask test`"]
async fn a_staff_member_edits_their_profile_and_changes_their_password_and_the_admin_sees_it_in_the_activity_log() {
    let app = spawn_with_spa().await;
    let (_, token) = app.admin().await;
    staff_member(&app, &token, "Andrei Agent", "agent@test.example", "Sales Agent").await;
    let (_driver, client) = start_browser().await;
    let new_password = "a-brand-new-secret-42";

    // My profile, from the user menu; the Sales Agent's role has no activity log.
    sign_in_as(&app, &client, "agent@test.example").await;
    client.goto(&app.url("/admin")).await.unwrap();
    wait_for_text(&client, "#current-user", "Andrei Agent").await;
    click(&client, "#user-menu").await;
    let menu = text_of(&client, ".user-menu .bell-menu").await;
    assert!(!menu.contains("Activity log"), "{menu}");
    client.find(Locator::LinkText("My profile")).await.unwrap().click().await.unwrap();
    wait_for_path(&client, "/admin/profile").await;

    // The new name shows in the top bar once saved.
    wait_for_value(&client, "#profile-name", "Andrei Agent").await;
    wait_for_value(&client, "#profile-email", "agent@test.example").await;
    fill(&client, "#profile-name", "Andrei Popescu").await;
    click(&client, "#profile-save").await;
    wait_for_text(&client, "#current-user", "Andrei Popescu").await;
    wait_for_text(&client, "#profile-saved", "Profile saved.").await;

    // The repeat is checked in the browser; a wrong current password shows beside its field.
    assert!(text_of(&client, "#password-form").await.contains("At least 12 characters. Common passwords are refused."));
    fill(&client, "#current-password", "not-my-password").await;
    fill(&client, "#new-password", new_password).await;
    fill(&client, "#repeat-password", "something-else-entirely").await;
    click(&client, "#password-save").await;
    wait_for_text(&client, "#repeat-password-error", "differ").await;
    fill(&client, "#repeat-password", new_password).await;
    click(&client, "#password-save").await;
    wait_for_text(&client, "#current-password-error", "current password is wrong").await;
    assert!(!present(&client, "#password-changed").await);
    screenshot(&client, "profile-wrong-password").await;

    // The right one: the answer is a new session (every earlier one was revoked).
    fill(&client, "#current-password", helpers::PASSWORD).await;
    click(&client, "#password-save").await;
    wait_for_text(&client, "#password-changed", "Password changed. Your other sessions and API tokens were signed out.").await;
    assert!(!present(&client, "#current-password-error").await);
    screenshot(&client, "profile-password-changed").await;

    // Still signed in after a reload: the access token, kept in memory, is renewed from the
    // cookie — the new session's, since the change revoked every earlier refresh token.
    client.refresh().await.unwrap();
    wait_for_text(&client, "#current-user", "Andrei Popescu").await;
    client.refresh().await.unwrap();
    wait_for_text(&client, "#current-user", "Andrei Popescu").await;
    wait_for_path(&client, "/admin/profile").await;

    // Sign out, then in with the new password.
    click(&client, "#user-menu").await;
    click(&client, "#logout").await;
    wait_for_path(&client, "/login").await;
    fill(&client, "#email", "agent@test.example").await;
    fill(&client, "#password", new_password).await;
    click(&client, "#login-submit").await;
    wait_for_text(&client, "#current-user", "Andrei Popescu").await;

    // The administrator opens the activity log from the user menu and filters by that user.
    sign_in_as(&app, &client, helpers::ADMIN_EMAIL).await;
    client.goto(&app.url("/admin")).await.unwrap();
    wait_for_text(&client, "#current-user", "Test Administrator").await;
    click(&client, "#user-menu").await;
    client.find(Locator::LinkText("Activity log")).await.unwrap().click().await.unwrap();
    wait_for_path(&client, "/admin/utilities/activity_log").await;
    wait_for_text(&client, "#activity-table", "staff.created").await;
    wait_for_xpath(&client, "//select[@id='filter-actor']/option[text()='Andrei Popescu']").await;
    client.find(Locator::Css("#filter-actor")).await.unwrap().select_by_label("Andrei Popescu").await.unwrap();
    // Filtered: the admin's own entries (creating the account) are gone, the agent's are there.
    let filtered = "//table[@id='activity-table'][not(.//tr[@data-action='staff.created'])]";
    let changed = wait_for_xpath(&client, &format!("{filtered}//tr[@data-action='staff.password_changed']")).await.text().await.unwrap();
    assert!(changed.contains("Andrei Popescu"), "{changed}");
    let renamed = wait_for_xpath(&client, &format!("{filtered}//tr[@data-action='staff.profile_updated']")).await.text().await.unwrap();
    assert!(renamed.contains("name: Andrei Agent → Andrei Popescu"), "{renamed}");
    let table = text_of(&client, "#activity-table").await;
    assert!(!table.contains("Test Administrator"), "only the agent's actions: {table}");
    screenshot(&client, "activity-log").await;
    client.close().await.unwrap();
}

/// The browser's current path.
async fn current_path(client: &Client) -> String {
    client.execute("return location.pathname", vec![]).await.unwrap().as_str().unwrap_or_default().to_string()
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built SPA: run `cargo xtask test`"]
async fn a_save_over_a_colleagues_change_is_refused_until_the_record_is_reloaded() {
    let app = spawn_with_spa().await;
    let (_, token) = app.admin().await;
    let (st, lead) = app.post("/api/v1/leads", Some(&token), json!({"name": "Dana Dinu", "email": "dana@dinu.example", "company": "Dinu SRL"})).await;
    assert!(st.is_success(), "{lead}");
    let lead_path = format!("/api/v1/leads/{}", lead["id"]);
    let (_driver, client) = start_browser().await;
    sign_in(&app, &client).await;

    // The lead is open for editing when a colleague renames its company through the API.
    let page = format!("/admin/leads/{}", lead["id"]);
    client.goto(&app.url(&page)).await.unwrap();
    wait_for_text(&client, "#lead-name", "Dana Dinu").await;
    click(&client, "#edit-lead").await;
    wait_for_value(&client, "#field-company", "Dinu SRL").await;
    let (st, changed) = app.patch(&lead_path, &token, json!({"company": "Dinu Group"})).await;
    assert!(st.is_success(), "{changed}");

    // Saving the form (read before that change) is refused and changes nothing.
    fill(&client, "#field-company", "Dinu Logistics").await;
    click(&client, "#edit-save").await;
    wait_for_text(&client, "#edit-form", "This record was changed by someone else since you opened it — reload to see the changes.").await;
    let (_, now) = app.get(&lead_path, &token).await;
    assert_eq!(now["company"], "Dinu Group", "the colleague's change stays: {now}");
    screenshot(&client, "edit-conflict").await;

    // Reload: same screen, the form open with the colleague's value; saving now works.
    click(&client, "#reload-record").await;
    wait_for_value(&client, "#field-company", "Dinu Group").await;
    assert_eq!(current_path(&client).await, page);
    assert!(!text_of(&client, "#edit-form").await.contains("changed by someone else"));
    fill(&client, "#field-company", "Dinu Logistics").await;
    click(&client, "#edit-save").await;
    wait_for_text(&client, "main", "Dinu Logistics").await;
    assert!(!present(&client, "#edit-form").await, "the form closes once saved");
    let (_, now) = app.get(&lead_path, &token).await;
    assert_eq!(now["company"], "Dinu Logistics", "{now}");

    // The document editor too: a proposal changed while open; Reload shows the stored one
    // (its lines once, not appended to the typed ones), and the next save goes through.
    let body = json!({"subject": "Deal", "lead_id": lead["id"], "lines": [{"description": "Setup", "qty": "2", "unit_price": "500"}]});
    let (st, p) = app.post("/api/v1/proposals", Some(&token), body).await;
    assert!(st.is_success(), "{p}");
    let proposal_path = format!("/api/v1/proposals/{}", p["id"]);
    let view = format!("/admin/proposals/{}", p["id"]);
    client.goto(&app.url(&format!("{view}/edit"))).await.unwrap();
    wait_for_value(&client, "#p-subject", "Deal").await;
    let (st, changed) = app.patch(&proposal_path, &token, json!({"subject": "Deal (client's wording)"})).await;
    assert!(st.is_success(), "{changed}");
    fill(&client, "#p-subject", "Deal v2").await;
    click(&client, "#save-proposal").await;
    wait_for_text(&client, "main", "This record was changed by someone else since you opened it").await;
    let (_, now) = app.get(&proposal_path, &token).await;
    assert_eq!(now["subject"], "Deal (client's wording)", "{now}");
    screenshot(&client, "proposal-edit-conflict").await;
    click(&client, "#reload-record").await;
    wait_for_value(&client, "#p-subject", "Deal (client's wording)").await;
    assert_eq!(client.find_all(Locator::Css("tr.line")).await.unwrap().len(), 1, "the stored line, once");
    fill(&client, "#p-subject", "Deal v2").await;
    click(&client, "#save-proposal").await;
    wait_for_path(&client, &view).await;
    let (_, now) = app.get(&proposal_path, &token).await;
    assert_eq!(now["subject"], "Deal v2", "{now}");
    client.close().await.unwrap();
}

/// An issued invoice of `net` (no VAT) in `currency` with `agent` as its sale agent, paid in
/// `parts` today, through the API.
async fn paid_invoice(app: &helpers::TestApp, token: &str, agent: i64, currency: &str, net: &str, parts: &[&str]) {
    let (st, c) = app.post("/api/v1/clients", Some(token), json!({"company": format!("Payer {currency} SRL")})).await;
    assert!(st.is_success(), "{c}");
    let lines = json!([{"description": "Licences", "qty": "1", "unit_price": net}]);
    let (st, inv) = app.post("/api/v1/invoices", Some(token), json!({"client_id": c["id"], "sale_agent": agent, "currency": currency, "lines": lines})).await;
    assert!(st.is_success(), "{inv}");
    let (st, inv) = app.post(&format!("/api/v1/invoices/{}/issue", inv["id"]), Some(token), json!({})).await;
    assert!(st.is_success(), "{inv}");
    let today = time::OffsetDateTime::now_utc().date().to_string();
    for amount in parts {
        let (st, paid) = app.post(&format!("/api/v1/invoices/{}/payments", inv["id"]), Some(token), json!({"amount": amount, "date": today})).await;
        assert!(st.is_success(), "{paid}");
    }
}

/// The commission lines on screen (`tr.pending` / `tr.paid` of the commissions table).
async fn commission_rows(client: &Client, class: &str) -> usize {
    client.find_all(Locator::Css(&format!("#commissions-table tr.{class}"))).await.unwrap().len()
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built SPA: run `cargo xtask test`"]
async fn a_manager_sets_up_commissions_an_agent_sees_what_payments_earned_and_the_manager_pays_them_out() {
    let app = spawn_with_spa().await;
    let (_, token) = app.admin().await;
    let manager = staff_member(&app, &token, "Mara Manager", "manager@test.example", "Sales Manager").await;
    let agent = staff_member(&app, &token, "Andrei Agent", "agent@test.example", "Sales Agent").await;
    let (st, router) = app.post("/api/v1/items", Some(&token), json!({"description": "Router", "unit_price": "1000"})).await;
    assert!(st.is_success(), "{router}");
    let (_driver, client) = start_browser().await;

    // The manager adds a 10 % policy from the menu's Commissions screen.
    sign_in_as(&app, &client, "manager@test.example").await;
    client.goto(&app.url("/admin/leads")).await.unwrap();
    wait_for_text(&client, "#current-user", "Mara Manager").await;
    client.find(Locator::LinkText("Commissions")).await.unwrap().click().await.unwrap();
    wait_for_path(&client, "/admin/commission").await;
    text_of(&client, "#no-commissions").await;
    click(&client, "a[href='/admin/commission/policies']").await;
    wait_for_text(&client, "main h1", "Commission policies").await;
    click(&client, "#add-row").await;
    fill(&client, "#field-name", "Ten percent").await;
    fill(&client, "#field-rate", "10").await;
    click(&client, "#save-row").await;
    wait_for_text(&client, "#settings-table", "Ten percent").await;

    // A ladder: its tiers are rows; the server's error names the tier, shown by its cell.
    click(&client, "#add-row").await;
    fill(&client, "#field-name", "Ladder").await;
    client.find(Locator::Css("#field-type")).await.unwrap().select_by_value("ladder").await.unwrap();
    assert!(!client.find(Locator::Css("#field-rate")).await.unwrap().is_displayed().await.unwrap(), "a ladder has no single rate");
    click(&client, "#add-tiers").await;
    click(&client, "#add-tiers").await;
    click(&client, "#add-tiers").await;
    for (cell, value) in [("0.from", "0"), ("0.to", "10000"), ("0.rate", "5"), ("1.from", "20000"), ("1.rate", "7")] {
        fill(&client, &format!("[id='field-tiers.{cell}']"), value).await;
    }
    // The third row is removed again.
    click(&client, "#rows-tiers tbody tr:nth-child(3) button").await;
    assert_eq!(client.find_all(Locator::Css("#rows-tiers tbody tr")).await.unwrap().len(), 2);
    click(&client, "#save-row").await;
    wait_for_text(&client, "#rows-tiers", "must be 10000, where the previous tier ends").await;
    screenshot(&client, "commission-ladder-error").await;
    fill(&client, "[id='field-tiers.1.from']", "10000").await;
    click(&client, "#save-row").await;
    wait_for_text(&client, "#settings-table", "Ladder").await;
    let (_, policies) = app.get("/api/v1/commission/policies", &token).await;
    let ladder = policies["items"].as_array().unwrap().iter().find(|p| p["name"] == "Ladder").unwrap();
    let tiers = ladder["tiers"].as_array().unwrap();
    assert!(tiers.len() == 2 && tiers[0]["to"].as_str().is_some_and(|to| to.starts_with("10000")) && tiers[1]["to"].is_null(), "{ladder}");

    // Edited into a product ladder: an item picked from the catalogue, with tiers of its own.
    click(&client, &format!("#settings-table tr[data-id='{}'] button", ladder["id"])).await;
    wait_for_value(&client, "[id='field-tiers.1.from']", "10000").await;
    client.find(Locator::Css("#field-type")).await.unwrap().select_by_value("product_ladder").await.unwrap();
    click(&client, "#add-product_tiers").await;
    wait_for_xpath(&client, "//select[@id='field-product_tiers.0.item_id']/option[text()='Router']").await;
    client.find(Locator::Css("[id='field-product_tiers.0.item_id']")).await.unwrap().select_by_label("Router").await.unwrap();
    click(&client, "[id='add-product_tiers.0.tiers']").await;
    fill(&client, "[id='field-product_tiers.0.tiers.0.from']", "0").await;
    fill(&client, "[id='field-product_tiers.0.tiers.0.rate']", "3").await;
    click(&client, "#save-row").await;
    // (The edit form is inside the table, its type select listing every type: wait for the cell.)
    wait_for_xpath(&client, &format!("//table[@id='settings-table']//tr[@data-id='{}']/td[text()='product_ladder']", ladder["id"])).await;
    let (_, edited) = app.get(&format!("/api/v1/commission/policies/{}", ladder["id"]), &token).await;
    assert_eq!(edited["product_tiers"][0]["item_id"], router["id"], "{edited}");
    assert_eq!(edited["product_tiers"][0]["tiers"].as_array().map(Vec::len), Some(1), "{edited}");

    // Who earns: the agent under the 10 % policy.
    client.goto(&app.url("/admin/commission/applicable_staff")).await.unwrap();
    click(&client, "#add-row").await;
    wait_for_xpath(&client, "//select[@id='field-policy_id']/option[text()='Ten percent']").await;
    wait_for_xpath(&client, "//select[@id='field-staff_id']/option[text()='Andrei Agent']").await;
    client.find(Locator::Css("#field-staff_id")).await.unwrap().select_by_label("Andrei Agent").await.unwrap();
    client.find(Locator::Css("#field-policy_id")).await.unwrap().select_by_label("Ten percent").await.unwrap();
    click(&client, "#save-row").await;
    wait_for_text(&client, "#settings-table", "Andrei Agent").await;
    assert!(text_of(&client, "#settings-table").await.contains("Ten percent"));

    // An invoice of 1,000.00 with the agent as sale agent, paid in two parts.
    paid_invoice(&app, &token, agent, "RON", "1000", &["400", "600"]).await;

    // The agent sees the two commissions the payments earned, and nothing to pay out.
    sign_in_as(&app, &client, "agent@test.example").await;
    client.goto(&app.url("/admin/commission")).await.unwrap();
    wait_for_text(&client, "#commission-totals", "RON: 100.00 pending · 0.00 paid").await;
    assert_eq!(commission_rows(&client, "pending").await, 2);
    let table = text_of(&client, "#commissions-table").await;
    assert!(table.contains("40.00 RON") && table.contains("60.00 RON") && table.contains("INV-"), "{table}");
    for css in ["#create-receipt", "input.pick", "#commission-staff"] {
        assert!(!present(&client, css).await, "the agent sees {css}");
    }
    screenshot(&client, "agent-commissions").await;

    // A commission in another currency: one receipt cannot pay both, and says so. (The
    // manager earns too: the staff filter leaves the agent's three lines of the four.)
    paid_invoice(&app, &token, agent, "EUR", "200", &["200"]).await;
    let ten = policies["items"].as_array().unwrap().iter().find(|p| p["name"] == "Ten percent").unwrap()["id"].clone();
    let (st, earns) = app.post("/api/v1/commission/applicable-staff", Some(&token), json!({"staff_id": manager, "policy_id": ten})).await;
    assert!(st.is_success(), "{earns}");
    paid_invoice(&app, &token, manager, "RON", "300", &["300"]).await;
    sign_in_as(&app, &client, "manager@test.example").await;
    client.goto(&app.url("/admin/commission?status=pending")).await.unwrap();
    let pending_lines = |n: usize| format!("//table[@id='commissions-table'][count(.//tr[@class='pending'])={n}]");
    wait_for_xpath(&client, &pending_lines(4)).await;
    wait_for_xpath(&client, "//select[@id='commission-staff']/option[text()='Andrei Agent']").await;
    client.find(Locator::Css("#commission-staff")).await.unwrap().select_by_label("Andrei Agent").await.unwrap();
    wait_for_xpath(&client, &pending_lines(3)).await;
    assert!(text_of(&client, "#commissions-table").await.contains("20.00 EUR"));
    for pick in client.find_all(Locator::Css("#commissions-table input.pick")).await.unwrap() {
        pick.click().await.unwrap();
    }
    click(&client, "#create-receipt").await;
    wait_for_text(&client, "#commission-error", "one receipt pays commissions of one currency").await;
    screenshot(&client, "commission-receipt-refused").await;

    // Without the EUR one: a receipt; the RON lines show paid, with its number.
    wait_for_xpath(&client, "//table[@id='commissions-table']//tr[td[contains(., '20.00 EUR')]]//input").await.click().await.unwrap();
    click(&client, "#create-receipt").await;
    wait_for_text(&client, "#notice", "Receipt CR-000001 created: 100.00 RON paid.").await;
    assert!(!present(&client, "#commission-error").await, "the refusal is gone");
    // The status filter is "pending": what is left is the EUR line.
    wait_for_xpath(&client, "//p[@id='commission-totals'][not(contains(., 'RON'))]").await;
    assert_eq!(commission_rows(&client, "pending").await, 1);
    client.goto(&app.url("/admin/commission?status=paid")).await.unwrap();
    wait_for_text(&client, "#commission-totals", "RON: 0.00 pending · 100.00 paid").await;
    assert_eq!(commission_rows(&client, "paid").await, 2);
    assert_eq!(commission_rows(&client, "pending").await, 0);
    assert!(text_of(&client, "#commissions-table").await.contains("CR-000001"));
    let receipts = text_of(&client, "#receipts-table").await;
    assert!(receipts.contains("CR-000001") && receipts.contains("Andrei Agent") && receipts.contains("100.00 RON"), "{receipts}");
    screenshot(&client, "commissions-paid").await;
    client.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built SPA: run `cargo xtask test`"]
async fn a_manager_sets_an_agent_a_goal_the_agent_sees_their_progress_on_the_dashboard_and_records_an_expense() {
    let app = spawn_with_spa().await;
    let (_, token) = app.admin().await;
    staff_member(&app, &token, "Mara Manager", "manager@test.example", "Sales Manager").await;
    let agent = staff_member(&app, &token, "Andrei Agent", "agent@test.example", "Sales Agent").await;
    let (st, travel) = app.post("/api/v1/expense-categories", Some(&token), json!({"name": "Travel"})).await;
    assert!(st.is_success(), "{travel}");
    let (_driver, client) = start_browser().await;

    // The manager sets the agent a money goal from the menu's Goals screen.
    sign_in_as(&app, &client, "manager@test.example").await;
    client.goto(&app.url("/admin/leads")).await.unwrap();
    wait_for_text(&client, "#current-user", "Mara Manager").await;
    for entry in ["Teams", "Expenses"] {
        client.find(Locator::LinkText(entry)).await.unwrap_or_else(|_| panic!("{entry} is in the manager's menu"));
    }
    client.find(Locator::LinkText("Goals")).await.unwrap().click().await.unwrap();
    wait_for_path(&client, "/admin/goals").await;
    wait_for_text(&client, "main h1", "Goals").await;
    click(&client, "#add-row").await;
    fill(&client, "#field-subject", "December income").await;
    client.find(Locator::Css("#field-goal_type")).await.unwrap().select_by_value("income").await.unwrap();
    fill(&client, "#field-target", "2000").await;
    fill(&client, "#field-currency", "RON").await;
    let today = time::OffsetDateTime::now_utc().date();
    set_value(&client, "#field-start_date", &today.to_string()).await;
    set_value(&client, "#field-end_date", &(today + time::Duration::days(30)).to_string()).await;
    assert!(!client.find(Locator::Css("#field-staff_id")).await.unwrap().is_displayed().await.unwrap(), "a company goal has no staff member");
    client.find(Locator::Css("#field-target_type")).await.unwrap().select_by_value("staff").await.unwrap();
    wait_for_xpath(&client, "//select[@id='field-staff_id']/option[text()='Andrei Agent']").await;
    client.find(Locator::Css("#field-staff_id")).await.unwrap().select_by_label("Andrei Agent").await.unwrap();
    click(&client, "#save-row").await;
    wait_for_text(&client, "#settings-table", "December income").await;
    let table = text_of(&client, "#settings-table").await;
    assert!(table.contains("Andrei Agent") && table.contains("0.00 % · 0.00 / 2000.00 RON") && table.contains("in progress"), "{table}");
    let (_, goals) = app.get("/api/v1/goals", &token).await;
    let goal = &goals["items"][0];
    assert!(goal["staff_id"] == json!(agent) && goal["currency"] == "RON" && goal["notify_when_achieved"] == true && goal["team_id"].is_null(), "{goal}");
    screenshot(&client, "goals").await;

    // A team with the agent in it, from the Teams screen.
    client.find(Locator::LinkText("Teams")).await.unwrap().click().await.unwrap();
    wait_for_path(&client, "/admin/teams").await;
    click(&client, "#add-row").await;
    fill(&client, "#field-name", "North").await;
    wait_for_xpath(&client, "//span[@id='field-member_ids']//label[contains(., 'Andrei Agent')]/input").await.click().await.unwrap();
    click(&client, "#save-row").await;
    wait_for_text(&client, "#settings-table", "North").await;
    assert!(text_of(&client, "#settings-table").await.contains("Andrei Agent"));
    let (_, teams) = app.get("/api/v1/teams", &token).await;
    assert_eq!(teams["items"][0]["member_ids"], json!([agent]), "{teams}");

    // An invoice of the agent's is paid: 500.00 of the 2000.00 RON.
    paid_invoice(&app, &token, agent, "RON", "500", &["500"]).await;

    // The agent's dashboard shows the goal at 25 %.
    sign_in_as(&app, &client, "agent@test.example").await;
    client.goto(&app.url("/admin")).await.unwrap();
    wait_for_text(&client, "#my-goals", "December income").await;
    wait_for_text(&client, "#my-goals", "25.00 % · 500.00 / 2000.00 RON").await;
    let bar = client.find(Locator::Css("#my-goals progress")).await.unwrap();
    assert_eq!(bar.attr("value").await.unwrap().as_deref(), Some("25.00"));
    screenshot(&client, "dashboard-goals").await;

    // The agent records an expense with VAT: the list shows its total.
    client.find(Locator::LinkText("Expenses")).await.unwrap().click().await.unwrap();
    wait_for_path(&client, "/admin/expenses").await;
    wait_for_text(&client, "main h1", "Expenses").await;
    click(&client, "#add-row").await;
    wait_for_xpath(&client, "//select[@id='field-category_id']/option[text()='Travel']").await;
    client.find(Locator::Css("#field-category_id")).await.unwrap().select_by_label("Travel").await.unwrap();
    fill(&client, "#field-amount", "100").await;
    fill(&client, "#field-currency", "RON").await;
    wait_for_xpath(&client, "//span[@id='field-tax_ids']//label[contains(., 'VAT 21%')]/input").await.click().await.unwrap();
    fill(&client, "#field-reference", "TAXI-42").await;
    click(&client, "#save-row").await;
    wait_for_text(&client, "#settings-table", "TAXI-42").await;
    let row = text_of_xpath(&client, "//table[@id='settings-table']//tr[td[text()='TAXI-42']]").await;
    assert!(row.contains("Travel") && row.contains("100.00") && row.contains("VAT 21%") && row.contains("121.00"), "{row}");
    let (_, expenses) = app.get("/api/v1/expenses", &token).await;
    assert!(expenses["items"][0]["staff_id"] == json!(agent) && expenses["items"][0]["total"] == "121.00", "{expenses}");
    screenshot(&client, "expenses").await;
    client.close().await.unwrap();
}
