//! Seeded benchmark: the Kanban board, one column page, a filtered lead list and lead
//! creation, over HTTP against the real server, with N leads (default 100 000).
//!
//! `BENCH_DATABASE_URL` picks the database (default: a temp SQLite file). On PostgreSQL it
//! also prints `EXPLAIN ANALYZE` of the board's two queries. Results go to stdout as
//! Markdown; `benchmarks/RESULTS.md` keeps the recorded runs.

// A benchmark harness: panicking on a broken setup is the right outcome.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crmconnect::audit::Actor;
use crmconnect::config::Settings;
use crmconnect::entities::{lead, pipeline_status, role, staff};
use crmconnect::ops::staff::{insert_staff, NewStaff};
use crmconnect::startup::Application;
use crmconnect_domain::leads::POSITION_GAP;
use crmconnect_domain::validation::EmailAddress;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, Database, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};
use time::OffsetDateTime;

const PASSWORD: &str = "bench-password";

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

async fn time_get(client: &reqwest::Client, url: &str, token: &str, runs: usize) -> (Duration, Duration, Value) {
    let mut samples = Vec::with_capacity(runs);
    let mut last = Value::Null;
    for _ in 0..runs {
        let started = Instant::now();
        let res = client.get(url).bearer_auth(token).send().await.expect("request");
        assert!(res.status().is_success(), "{url}: {}", res.status());
        last = res.json().await.expect("json");
        samples.push(started.elapsed());
    }
    (percentile(&mut samples, 0.5), percentile(&mut samples, 0.95), last)
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_LEADS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let tmp = tempfile::tempdir().unwrap();
    let (url, pg_admin) = match std::env::var("BENCH_DATABASE_URL") {
        Ok(admin) if admin.starts_with("postgres") => {
            let name = format!("crm_bench_{}", std::process::id());
            let db = Database::connect(&admin).await.unwrap();
            db.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.unwrap();
            let (base, _) = admin.rsplit_once('/').unwrap();
            (format!("{base}/{name}"), Some((admin.clone(), name)))
        }
        _ => (format!("sqlite://{}?mode=rwc", tmp.path().join("bench.db").display()), None),
    };
    let backend = if pg_admin.is_some() { "PostgreSQL" } else { "SQLite" };
    let mut settings = Settings::with_defaults(url.clone(), "127.0.0.1:0".into(), "http://bench".into(), tmp.path().to_path_buf(), tmp.path().join("none"));
    settings.jwt_secret = Some("bench-secret-bench-secret-bench-secret".into());
    let app = Application::build(settings).await.expect("app");
    let port = app.port();
    let db = app.state.db.clone();
    tokio::spawn(app.run_until_stopped());

    let admin_role = role::Entity::find().filter(role::Column::IsAdmin.eq(true)).one(&db).await.unwrap().unwrap();
    let new = NewStaff { name: "Bench".into(), email: EmailAddress::parse("bench@x.ro").unwrap(), password: PASSWORD.into(), role_id: admin_role.id };
    insert_staff(&db, &Actor::system(), new).await.unwrap();
    let owner = staff::Entity::find().one(&db).await.unwrap().unwrap().id;
    let statuses = pipeline_status::Entity::find().order_by_asc(pipeline_status::Column::SortOrder).all(&db).await.unwrap();
    let (pipeline_id, first_status) = (statuses[0].pipeline_id, statuses[0].id);

    // Seed N leads straight into the table (the API path is measured separately below).
    let seeded = Instant::now();
    let now = OffsetDateTime::now_utc();
    for chunk_start in (0..n).step_by(500) {
        let rows = (chunk_start..(chunk_start + 500).min(n)).map(|i| {
            let s = &statuses[i % statuses.len()];
            lead::ActiveModel {
                name: Set(format!("Lead {i}")),
                company: Set(Some(format!("Company {}", i % 997))),
                email: Set(Some(format!("lead{i}@bench.ro"))),
                pipeline_id: Set(pipeline_id),
                status_id: Set(s.id),
                position: Set((i / statuses.len()) as i64 * POSITION_GAP),
                assigned_to: Set(if i % 3 == 0 { Some(owner) } else { None }),
                estimated_value_minor: Set(Some((i as i64 % 1000) * 10_000)),
                currency: Set(Some(if i % 4 == 0 { "EUR" } else { "RON" }.into())),
                score: Set((i % 100) as i32),
                is_opportunity: Set(false),
                lost: Set(i % 20 == 0),
                junk: Set(false),
                last_status_change_at: Set(now),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
        });
        lead::Entity::insert_many(rows).exec(&db).await.unwrap();
    }
    if pg_admin.is_some() {
        // VACUUM sets the visibility map, so the board totals can use an index-only scan.
        db.execute_unprepared("VACUUM ANALYZE leads").await.unwrap();
    }
    let seed_time = seeded.elapsed();

    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let login: Value =
        client.post(format!("{base}/auth/login")).json(&json!({"email": "bench@x.ro", "password": PASSWORD})).send().await.unwrap().json().await.unwrap();
    let token = login["access_token"].as_str().unwrap().to_string();

    let (b50, b95, board) = time_get(&client, &format!("{base}/leads/kanban?pipeline_id={pipeline_id}&limit=20"), &token, 30).await;
    let cursor = board[0]["next_cursor"].as_str().unwrap().to_string();
    let (c50, c95, _) = time_get(&client, &format!("{base}/leads/kanban/{first_status}?limit=20&cursor={cursor}"), &token, 30).await;
    let (m50, m95, _) = time_get(&client, &format!("{base}/leads/kanban?pipeline_id={pipeline_id}&assigned=me"), &token, 30).await;
    let (l50, l95, _) = time_get(&client, &format!("{base}/leads?sort=-score&limit=50"), &token, 30).await;

    let creates = 300;
    let started = Instant::now();
    for i in 0..creates {
        let res = client
            .post(format!("{base}/leads"))
            .bearer_auth(&token)
            .json(&json!({"name": format!("New {i}"), "email": format!("new{i}@x.ro"), "estimated_value": "100", "currency": "RON"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
    }
    let create_rate = creates as f64 / started.elapsed().as_secs_f64();

    println!("### {backend}, {n} leads ({} statuses), {}\n", statuses.len(), OffsetDateTime::now_utc().date());
    println!("| measurement | p50 | p95 |\n|---|---|---|");
    println!("| board, 20 cards per column (`GET /leads/kanban`) | {b50:.1?} | {b95:.1?} |");
    println!("| next column page (`GET /leads/kanban/{{status}}?cursor`) | {c50:.1?} | {c95:.1?} |");
    println!("| board filtered `assigned=me` | {m50:.1?} | {m95:.1?} |");
    println!("| lead list `sort=-score`, 50 rows | {l50:.1?} | {l95:.1?} |");
    println!("\nLead create throughput (sequential `POST /leads`, one client): {create_rate:.0} leads/s. Seeding {n} rows took {seed_time:.1?}.\n");
    println!("Board column count per status: {}", board.as_array().unwrap().iter().map(|c| c["count"].to_string()).collect::<Vec<_>>().join(", "));

    if let Some((admin, name)) = pg_admin {
        for (label, sql) in [
            ("column cards", format!("EXPLAIN ANALYZE SELECT * FROM leads WHERE status_id = {first_status} AND lost = false AND junk = false AND is_opportunity = false AND pipeline_id = {pipeline_id} ORDER BY position, id LIMIT 21")),
            ("counts and sums", format!("EXPLAIN ANALYZE SELECT status_id, currency, COUNT(*), CAST(SUM(estimated_value_minor) AS BIGINT) FROM leads WHERE is_opportunity = false AND pipeline_id = {pipeline_id} AND lost = false AND junk = false GROUP BY status_id, currency")),
        ] {
            println!("\n`EXPLAIN ANALYZE` — {label}:\n```");
            for row in db.query_all(sea_orm::Statement::from_string(sea_orm::DatabaseBackend::Postgres, sql)).await.unwrap() {
                let line: String = row.try_get_by_index(0).unwrap();
                println!("{line}");
            }
            println!("```");
        }
        db.close().await.ok();
        let admin_db = Database::connect(&admin).await.unwrap();
        admin_db.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await.ok();
    }
}
