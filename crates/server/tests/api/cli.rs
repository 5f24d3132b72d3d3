//! The `crmconnect` binary's subcommands (a public contract for scripts).

use std::process::Command;

use crate::helpers::fresh_database;

fn crmconnect(database_url: &str, data_dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_crmconnect"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("CRM_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("crmconnect runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[tokio::test]
async fn migrate_create_admin_and_seed_demo() {
    let tmp = tempfile::tempdir().unwrap();
    let (url, _guard) = fresh_database(tmp.path()).await;
    let dir = tmp.path();

    let (ok, out) = crmconnect(&url, dir, &["migrate"]);
    assert!(ok, "{out}");
    let (ok, out) = crmconnect(&url, dir, &["create-admin", "--email", "boss@test.example", "--password", "long-enough-pass", "--name", "Boss"]);
    assert!(ok, "{out}");
    assert!(out.contains("boss@test.example"), "{out}");
    let (ok, out) = crmconnect(&url, dir, &["create-admin", "--email", "BOSS@test.example", "--password", "long-enough-pass"]);
    assert!(!ok);
    assert!(out.contains("already exists"), "{out}");
    let (ok, out) = crmconnect(&url, dir, &["create-admin", "--email", "x", "--password", "short"]);
    assert!(!ok);
    assert!(out.contains("--email") && out.contains("--password"), "{out}");

    // seed-demo refuses on a database that already has staff…
    let (ok, out) = crmconnect(&url, dir, &["seed-demo"]);
    assert!(!ok);
    assert!(out.contains("not empty"), "{out}");
}

#[tokio::test]
async fn seed_demo_fills_a_new_database_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (url, _guard) = fresh_database(tmp.path()).await;
    let (ok, out) = crmconnect(&url, tmp.path(), &["seed-demo"]);
    assert!(ok, "{out}");
    let db = crmconnect::db::connect(&url).await.unwrap();
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(crmconnect::entities::staff::Entity::find().count(&db).await.unwrap(), 7);
    let roles: std::collections::HashSet<i32> = crmconnect::entities::staff::Entity::find().all(&db).await.unwrap().into_iter().map(|s| s.role_id).collect();
    assert_eq!(roles.len(), 5, "staff in every default role");
    use crmconnect::entities::{client, lead, lead_activity, pipeline_status};
    let leads = lead::Entity::find().all(&db).await.unwrap();
    assert!(leads.len() >= 300, "a few hundred leads: {}", leads.len());
    let statuses: std::collections::HashSet<i32> = leads.iter().map(|l| l.status_id).collect();
    assert_eq!(statuses.len() as u64, pipeline_status::Entity::find().count(&db).await.unwrap(), "every status has leads");
    assert!(leads.iter().any(|l| l.lost) && leads.iter().any(|l| l.junk), "some lost and junk");
    let owners: std::collections::HashSet<Option<i32>> = leads.iter().map(|l| l.assigned_to).collect();
    assert!(owners.len() >= 5, "spread over the sellers: {owners:?}");
    assert!(leads.iter().any(|l| l.converted_client_id.is_some()));
    assert!(client::Entity::find().count(&db).await.unwrap() >= 20);
    assert!(lead_activity::Entity::find().count(&db).await.unwrap() >= 100);
    assert!(leads.iter().filter(|l| l.is_opportunity).count() >= 30, "opportunities");
    assert!(leads.iter().any(|l| l.score > 0), "scored by the demo rules");
    use crmconnect::entities::{invoice, proposal, proposal_template};
    let proposals = proposal::Entity::find().all(&db).await.unwrap();
    let codes: std::collections::BTreeSet<i32> = proposals.iter().map(|p| p.status_code).collect();
    assert_eq!(codes.into_iter().collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6, 7], "proposals in every status");
    let today = time::OffsetDateTime::now_utc().date();
    assert!(proposals.iter().any(|p| p.status_code == 4 && p.open_till.is_some_and(|d| d < today)), "an expired one");
    assert!(proposals.iter().all(|p| p.total_minor > 0));
    let names: Vec<String> = proposal_template::Entity::find().all(&db).await.unwrap().into_iter().map(|t| t.name).collect();
    for name in ["Monthly Services", "One-time Project", "Product + Installation Package"] {
        assert!(names.iter().any(|n| n == name), "template {name}: {names:?}");
    }
    let invoices = invoice::Entity::find().all(&db).await.unwrap();
    assert_eq!(invoices.iter().filter(|i| i.proposal_id.is_some()).count(), 1, "one accepted proposal converted");
    let statuses: std::collections::BTreeSet<i32> =
        invoices.iter().map(|i| crmconnect_domain::invoices::status(crmconnect::ops::invoices::status_inputs(i, today)).code()).collect();
    assert_eq!(statuses.into_iter().collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6], "invoices in every status");
    assert!(crmconnect::entities::payment::Entity::find().count(&db).await.unwrap() >= 4);
    use crmconnect::entities::{commission, commission_applicable_staff, commission_policy, commission_receipt};
    assert_eq!(commission_policy::Entity::find().count(&db).await.unwrap(), 2, "a ladder and a flat policy");
    assert!(commission_applicable_staff::Entity::find().count(&db).await.unwrap() >= 2);
    let commissions = commission::Entity::find().all(&db).await.unwrap();
    let states: std::collections::BTreeSet<i32> = commissions.iter().map(|c| c.status_code).collect();
    assert_eq!(states.into_iter().collect::<Vec<_>>(), [0, 1], "commissions pending and paid: {commissions:?}");
    assert_eq!(commission_receipt::Entity::find().count(&db).await.unwrap(), 1);
    let today = time::OffsetDateTime::now_utc().date();
    let mut statuses = std::collections::BTreeSet::new();
    for g in crmconnect::entities::goal::Entity::find().all(&db).await.unwrap() {
        statuses.insert(format!("{:?}", crmconnect::ops::goals::to_api(&db, &g, today).await.unwrap().status));
    }
    assert_eq!(statuses.into_iter().collect::<Vec<_>>(), ["Achieved", "InProgress", "Missed"], "goals in every status");
    assert_eq!(crmconnect::entities::team::Entity::find().count(&db).await.unwrap(), 1);
    db.close().await.ok();
    let (ok, out) = crmconnect(&url, tmp.path(), &["seed-demo"]);
    assert!(!ok && out.contains("not empty"), "{out}");
}

#[test]
fn openapi_prints_the_document_and_every_command_has_help() {
    let out = Command::new(env!("CARGO_BIN_EXE_crmconnect")).arg("openapi").output().unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["info"]["title"], "CRMConnect API");
    for cmd in ["serve", "migrate", "create-admin", "seed-demo", "openapi"] {
        let out = Command::new(env!("CARGO_BIN_EXE_crmconnect")).args([cmd, "--help"]).output().unwrap();
        assert!(out.status.success(), "{cmd} --help");
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: crmconnect"), "{cmd}");
    }
}

#[tokio::test]
async fn a_placeholder_or_short_jwt_secret_stops_the_server_and_the_stored_one_rotates() {
    let tmp = tempfile::tempdir().unwrap();
    let (url, _guard) = fresh_database(tmp.path()).await;
    let with_secret = |secret: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_crmconnect"))
            .args(["migrate"])
            .env("DATABASE_URL", &url)
            .env("CRM_DATA_DIR", tmp.path())
            .env("CRM_JWT_SECRET", secret)
            .output()
            .expect("crmconnect runs");
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // The one docker-compose.yml used to ship: refused with what to do instead.
    let (ok, err) = with_secret("change-me-to-a-long-random-string");
    assert!(!ok && err.contains("placeholder") && err.contains("openssl rand"), "{err}");
    let (ok, err) = with_secret("too-short-secret");
    assert!(!ok && err.contains("16 bytes") && err.contains("at least 32"), "{err}");
    let (ok, err) = with_secret("5b0e3c1f9a7d46e2b8c0f1a3d5e7092c4b6d8f0a");
    assert!(ok, "a random 40-byte secret is fine: {err}");

    // Without CRM_JWT_SECRET the server keeps a generated one; rotating replaces it.
    let (ok, out) = crmconnect(&url, tmp.path(), &["migrate"]);
    assert!(ok, "{out}");
    let app = crmconnect::startup::Application::build(crmconnect::config::Settings::with_defaults(
        url.clone(),
        "127.0.0.1:0".into(),
        "http://crm.test".into(),
        tmp.path().to_path_buf(),
        tmp.path().join("spa"),
    ))
    .await
    .unwrap();
    let db = app.state.db.clone();
    let before = crmconnect::db::get_setting(&db, crmconnect::db::JWT_SECRET_SETTING).await.unwrap().expect("generated at start");
    assert!(before.len() >= 43, "32 random bytes");
    let (ok, out) = crmconnect(&url, tmp.path(), &["rotate-jwt-secret"]);
    assert!(ok, "{out}");
    let after = crmconnect::db::get_setting(&db, crmconnect::db::JWT_SECRET_SETTING).await.unwrap().expect("still stored");
    assert!(after != before && after.len() >= 43, "replaced by a new random secret");
}
