//! The browser app in headless Chromium, driven over WebDriver (fantoccini + chromedriver).
//!
//! Needs Chromium, chromedriver and the built SPA, so it is `#[ignore]`d in a plain
//! `cargo test`; `cargo xtask test` builds the SPA and runs it with `--ignored`
//! (CRM_CHROMEDRIVER, CRM_CHROMIUM and CRM_SPA_DIR tell it where things are).

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
    let child = Command::new(driver_bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
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

async fn text_of(client: &Client, css: &str) -> String {
    let el = client.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(css)).await
        .unwrap_or_else(|e| panic!("{css} never appeared: {e}"));
    el.text().await.unwrap()
}

async fn text_of_xpath(client: &Client, xpath: &str) -> String {
    let el = client.wait().at_most(Duration::from_secs(20)).for_element(Locator::XPath(xpath)).await
        .unwrap_or_else(|e| panic!("{xpath} never appeared: {e}"));
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
    let spa_dir = PathBuf::from(std::env::var("CRM_SPA_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/spa").into()));
    assert!(spa_dir.join("index.html").is_file(), "SPA not built at {}: run `cargo xtask build-spa`", spa_dir.display());
    let app = helpers::spawn_app_with(|s| s.spa_dir = spa_dir.clone()).await;
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
    assert!(text_of(&client, "#staff-table").await.contains(helpers::ADMIN_EMAIL));
    screenshot(&client, "staff").await;

    // The dashboard lists today's new, uncontacted leads.
    client.find(Locator::LinkText("Dashboard")).await.unwrap().click().await.unwrap();
    wait_for_path(&client, "/admin").await;
    text_of_xpath(&client, "//div[@id='new-leads']//a[text()='Browser Lead']").await;
    screenshot(&client, "dashboard").await;

    // A stale access token is refreshed transparently; a guide URL with a query loads.
    client.execute("localStorage.setItem('crm.access_token', 'stale')", vec![]).await.unwrap();
    client.goto(&app.url("/admin/roles")).await.unwrap();
    let roles = text_of(&client, "#roles-table").await;
    assert!(roles.contains("Sales Agent") && roles.contains("SDR"), "{roles}");
    client.goto(&app.url("/admin/proposals?status=4")).await.unwrap();
    assert_eq!(text_of(&client, "main h1").await, "Proposals");

    // Sign out: back to the login page, refresh token revoked on the server.
    client.find(Locator::Css("#logout")).await.unwrap().click().await.unwrap();
    wait_for_path(&client, "/login").await;
    let stored = client.execute("return localStorage.getItem('crm.refresh_token')", vec![]).await.unwrap();
    assert_eq!(stored, serde_json::Value::Null);
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
