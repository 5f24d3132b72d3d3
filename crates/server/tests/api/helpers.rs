//! `spawn_app()`: the real server on port 0 against a fresh database, and typed helpers.
//!
//! The database lane comes from `CRM_TEST_DATABASE`: unset or `sqlite` → a temp SQLite file;
//! a `postgres://…` URL → a fresh database created on that server and dropped afterwards.

use crmconnect::audit::Actor;
use crmconnect::config::Settings;
use crmconnect::entities::role;
use crmconnect::ops::staff::{insert_staff, NewStaff};
use crmconnect::scheduler::Scheduler;
use crmconnect::startup::Application;
use crmconnect::state::AppState;
use crmconnect_domain::api::{Staff, TokenResponse};
use crmconnect_domain::validation::EmailAddress;
use reqwest::{Method, Response, StatusCode};
use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, QueryFilter};
use serde_json::Value;

pub const ADMIN_EMAIL: &str = "admin@test.example";
pub const PASSWORD: &str = "s3cret-passw0rd";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub database_url: String,
    _tmp: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

/// A PostgreSQL database that exists for one test.
pub struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside async; a short-lived runtime on its own thread does the DROP.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if let Ok(db) = Database::connect(&admin_url).await {
                    let _ = db.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                    let _ = db.close().await;
                }
            });
        })
        .join();
    }
}

pub fn lane() -> Option<String> {
    std::env::var("CRM_TEST_DATABASE").ok().filter(|v| v.starts_with("postgres"))
}

/// Creates a fresh database for a test: (url, guard that drops it).
pub async fn fresh_database(tmp: &std::path::Path) -> (String, Option<PgDatabase>) {
    match lane() {
        None => (format!("sqlite://{}?mode=rwc", tmp.join("test.db").display()), None),
        Some(admin_url) => {
            let name = format!("crm_test_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(&admin_url).await.expect("PostgreSQL lane: cannot connect");
            admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("CREATE DATABASE");
            admin.close().await.ok();
            let (base, _) = admin_url.rsplit_once('/').expect("postgres URL with a database name");
            (format!("{base}/{name}"), Some(PgDatabase { admin_url, name }))
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let tmp = tempfile::tempdir().unwrap();
    let (database_url, pg) = fresh_database(tmp.path()).await;
    let data_dir = tmp.path().join("data");
    let mut settings =
        Settings::with_defaults(database_url.clone(), "127.0.0.1:0".into(), "http://crm.test".into(), data_dir.clone(), tmp.path().join("spa-not-built"));
    configure(&mut settings);
    let app = Application::build(settings).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state.clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        state,
        database_url,

        _tmp: tmp,
        _pg: pg,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request sent")
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        json_of(self.request(Method::GET, path, Some(token), None).await).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        json_of(self.request(Method::POST, path, token, Some(body)).await).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        json_of(self.request(Method::PATCH, path, Some(token), Some(body)).await).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        json_of(self.request(Method::DELETE, path, Some(token), None).await).await
    }

    pub async fn role_id(&self, name: &str) -> i32 {
        role::Entity::find().filter(role::Column::Name.eq(name)).one(&self.state.db).await.unwrap().expect("role").id
    }

    /// Creates a staff member directly (as the CLI does) and returns it.
    pub async fn create_staff(&self, email: &str, role_name: &str) -> Staff {
        let role_id = self.role_id(role_name).await;
        let new = NewStaff { name: format!("Test {role_name}"), email: EmailAddress::parse(email).unwrap(), password: PASSWORD.into(), role_id };
        insert_staff(&self.state.db, &Actor::system(), new).await.expect("staff created")
    }

    pub async fn login(&self, email: &str, password: &str) -> TokenResponse {
        let (status, body) = self.post("/api/v1/auth/login", None, serde_json::json!({"email": email, "password": password})).await;
        assert_eq!(status, StatusCode::OK, "login failed: {body}");
        serde_json::from_value(body).unwrap()
    }

    /// An administrator and their access token.
    pub async fn admin(&self) -> (Staff, String) {
        let staff = self.create_staff(ADMIN_EMAIL, "Administrator").await;
        let token = self.login(ADMIN_EMAIL, PASSWORD).await.access_token;
        (staff, token)
    }

    /// A staff member of `role_name` and their access token.
    pub async fn staff_with_token(&self, email: &str, role_name: &str) -> (Staff, String) {
        let staff = self.create_staff(email, role_name).await;
        let token = self.login(email, PASSWORD).await.access_token;
        (staff, token)
    }

    /// A job runner on this app's database, driven by hand with chosen times (`tick(now)`).
    /// Webhooks may target the tests' local receivers.
    pub fn job_runner(&self, id: &str) -> Scheduler {
        Scheduler {
            db: self.state.db.clone(),
            id: id.into(),
            public_url: "http://crm.test".into(),
            wakeup: std::sync::Arc::new(tokio::sync::Notify::new()),
            events_retention: time::Duration::days(30),
            webhook_allow_private: true,
        }
    }

    /// The events feed (`/api/v1/events{query}`) once it shows at least `n` events. On PostgreSQL
    /// the feed holds events back while older transactions of the cluster (other tests' too) are
    /// running, so a reader polls; the loop is bounded.
    pub async fn feed_shows(&self, token: &str, query: &str, n: usize) -> Value {
        for _ in 0..2_000 {
            let (s, page) = self.get(&format!("/api/v1/events{query}"), token).await;
            assert_eq!(s, StatusCode::OK, "{query}: {page}");
            if page["items"].as_array().unwrap().len() >= n {
                return page;
            }
            tokio::task::yield_now().await;
        }
        panic!("the feed never showed {n} events for {query}");
    }

    pub async fn count(&self, table: &str) -> i64 {
        let backend = self.state.db.get_database_backend();
        let row = self.state.db.query_one(sea_orm::Statement::from_string(backend, format!("SELECT COUNT(*) AS n FROM {table}"))).await.unwrap().unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }
}

pub async fn json_of(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    let text = res.text().await.unwrap();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, body)
}

/// Asserts a problem+json response with this status and code.
#[track_caller]
pub fn assert_problem(status: StatusCode, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status.as_u16(), expected_status, "body: {body}");
    assert_eq!(body["code"], code, "body: {body}");
    assert_eq!(body["status"], expected_status, "body: {body}");
    assert!(body["title"].is_string() && body["detail"].is_string(), "body: {body}");
}

/// A second server on an existing database (no fresh database, no cleanup of its own).
pub struct SecondServer {
    pub address: String,
    client: reqwest::Client,
}

pub async fn spawn_app_on(database_url: &str) -> SecondServer {
    let tmp = std::env::temp_dir();
    let settings = Settings::with_defaults(
        database_url.to_string(),
        "127.0.0.1:0".into(),
        "http://crm.test".into(),
        tmp.join("crm-second"),
        tmp.join("crm-second-no-spa"),
    );
    let app = Application::build(settings).await.expect("second app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    SecondServer { address, client: reqwest::Client::new() }
}

impl SecondServer {
    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        json_of(self.client.get(format!("{}{path}", self.address)).bearer_auth(token).send().await.unwrap()).await
    }
}

/// The id of the contract status in which a contract can be signed on the portal.
pub async fn awaiting_signature(app: &TestApp, token: &str) -> i64 {
    let (_, statuses) = app.get("/api/v1/contract-statuses", token).await;
    statuses["items"].as_array().into_iter().flatten().find(|s| s["name"] == "Awaiting signature").and_then(|s| s["id"].as_i64()).expect("seeded status")
}
