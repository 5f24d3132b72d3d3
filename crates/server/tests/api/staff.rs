use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, spawn_app, PASSWORD};

#[tokio::test]
async fn admin_creates_reads_updates_and_deactivates_staff() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let agent_role = app.role_id("Sales Agent").await;
    let (s, created) = app
        .post("/api/v1/staff", Some(&token), json!({"name": " Ana Pop ", "email": "Ana@Example.ro", "password": "long-enough-pass", "role_id": agent_role}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    assert_eq!(created["name"], "Ana Pop");
    assert_eq!(created["email"], "ana@example.ro");
    assert_eq!(created["role_name"], "Sales Agent");
    assert_eq!(created["active"], true);
    assert!(created.get("password").is_none() && created.get("password_hash").is_none());
    let id = created["id"].as_i64().unwrap();

    let (s, got) = app.get(&format!("/api/v1/staff/{id}"), &token).await;
    assert_eq!((s, &got["email"]), (StatusCode::OK, &json!("ana@example.ro")));

    let manager_role = app.role_id("Sales Manager").await;
    let (s, updated) = app.patch(&format!("/api/v1/staff/{id}"), &token, json!({"name": "Ana Popa", "role_id": manager_role})).await;
    assert_eq!(s, StatusCode::OK, "{updated}");
    assert_eq!((updated["name"].as_str(), updated["role_name"].as_str()), (Some("Ana Popa"), Some("Sales Manager")));

    let ana = app.login("ana@example.ro", "long-enough-pass").await;
    let (s, _) = app.delete(&format!("/api/v1/staff/{id}"), &token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // Deactivated: existing tokens stop working and sign-in is refused.
    let (s, b) = app.get("/api/v1/me", &ana.access_token).await;
    assert_problem(s, &b, 401, "invalid_token");
    let (s, b) = app.post("/api/v1/auth/login", None, json!({"email": "ana@example.ro", "password": "long-enough-pass"})).await;
    assert_problem(s, &b, 401, "invalid_credentials");
    let (s, b) = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": ana.refresh_token})).await;
    assert_problem(s, &b, 401, "invalid_refresh_token");
}

#[tokio::test]
async fn bad_input_reports_every_field_and_changes_nothing() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let before = app.count("staff").await;
    let audit_before = app.count("audit_log").await;
    let (s, b) = app.post("/api/v1/staff", Some(&token), json!({"name": "", "email": "nope", "password": "short", "role_id": 1})).await;
    assert_problem(s, &b, 422, "validation_failed");
    let fields: Vec<_> = b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "email", "password"]);
    let (s, b) = app.post("/api/v1/staff", Some(&token), json!({"name": "X", "email": "x@y.ro", "password": "long-enough-pass", "role_id": 9999})).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["field"], "role_id");
    let (s, b) =
        app.post("/api/v1/staff", Some(&token), json!({"name": "X", "email": "ADMIN@test.example", "password": "long-enough-pass", "role_id": 1})).await;
    assert_problem(s, &b, 409, "email_taken");
    assert_eq!(app.count("staff").await, before);
    assert_eq!(app.count("audit_log").await, audit_before, "no audit entry for a refused change");
}

#[tokio::test]
async fn the_last_administrator_and_yourself_are_protected() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let agent_role = app.role_id("Sales Agent").await;
    let (s, b) = app.delete(&format!("/api/v1/staff/{}", admin.id), &token).await;
    assert_problem(s, &b, 409, "cannot_change_self");
    let (s, b) = app.patch(&format!("/api/v1/staff/{}", admin.id), &token, json!({"role_id": agent_role})).await;
    assert_problem(s, &b, 409, "cannot_change_self");
    // A second admin may not demote the only other one once they are alone.
    let (other, other_token) = app.staff_with_token("second@test.example", "Administrator").await;
    let (s, _) = app.delete(&format!("/api/v1/staff/{}", admin.id), &other_token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = app.patch(&format!("/api/v1/staff/{}", other.id), &other_token, json!({"active": false})).await;
    assert_problem(s, &b, 409, "cannot_change_self");
}

#[tokio::test]
async fn a_password_change_signs_the_user_out_everywhere() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let agent = app.create_staff("agent@test.example", "Sales Agent").await;
    let session = app.login("agent@test.example", PASSWORD).await;
    let (s, b) = app.patch(&format!("/api/v1/staff/{}", agent.id), &token, json!({"password": "brand-new-passphrase"})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": session.refresh_token})).await;
    assert_problem(s, &b, 401, "invalid_refresh_token");
    app.login("agent@test.example", "brand-new-passphrase").await;
}

#[tokio::test]
async fn permissions_apply_to_lists_and_single_reads() {
    let app = spawn_app().await;
    let (admin, admin_token) = app.admin().await;
    let (_, agent_token) = app.staff_with_token("agent@test.example", "Sales Agent").await;
    let (s, b) = app.get("/api/v1/staff", &agent_token).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, b) = app.post("/api/v1/staff", Some(&agent_token), json!({"name": "X", "email": "x@y.ro", "password": "long-enough-pass", "role_id": 1})).await;
    assert_problem(s, &b, 403, "forbidden");

    // A role with `view_own` on staff sees only itself.
    let (s, role) = app.post("/api/v1/roles", Some(&admin_token), json!({"name": "Self only", "permissions": {"staff": ["view_own"]}})).await;
    assert_eq!(s, StatusCode::CREATED, "{role}");
    let (s, own) =
        app.post("/api/v1/staff", Some(&admin_token), json!({"name": "Own", "email": "own@test.example", "password": PASSWORD, "role_id": role["id"]})).await;
    assert_eq!(s, StatusCode::CREATED);
    let own_token = app.login("own@test.example", PASSWORD).await.access_token;
    let (s, list) = app.get("/api/v1/staff", &own_token).await;
    assert_eq!(s, StatusCode::OK);
    let ids: Vec<_> = list["items"].as_array().unwrap().iter().map(|s| s["id"].clone()).collect();
    assert_eq!(ids, [own["id"].clone()]);
    let (s, b) = app.get(&format!("/api/v1/staff/{}", admin.id), &own_token).await;
    assert_problem(s, &b, 404, "not_found");
    let (s, _) = app.get(&format!("/api/v1/staff/{}", own["id"]), &own_token).await;
    assert_eq!(s, StatusCode::OK);

    // Changing the role applies immediately, to the same token.
    let (s, _) = app.patch(&format!("/api/v1/roles/{}", role["id"]), &admin_token, json!({"permissions": {"staff": ["view"]}})).await;
    assert_eq!(s, StatusCode::OK);
    let (_, list) = app.get("/api/v1/staff", &own_token).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn lists_page_with_cursors_and_filter() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    for i in 0..6 {
        app.create_staff(&format!("agent{i}@test.example"), if i % 2 == 0 { "Sales Agent" } else { "SDR" }).await;
    }
    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/staff?limit=2&cursor={c}"),
            None => "/api/v1/staff?limit=2".to_string(),
        };
        let (s, page) = app.get(&path, &token).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        pages += 1;
        for item in page["items"].as_array().unwrap() {
            assert!(seen.insert(item["id"].as_i64().unwrap()), "duplicate across pages");
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (7, 4));
    let sdr = app.role_id("SDR").await;
    let (_, filtered) = app.get(&format!("/api/v1/staff?role_id={sdr}"), &token).await;
    assert_eq!(filtered["items"].as_array().unwrap().len(), 3);
    let (_, searched) = app.get("/api/v1/staff?q=AGENT4", &token).await;
    assert_eq!(searched["items"][0]["email"], "agent4@test.example");
    assert_eq!(searched["items"].as_array().unwrap().len(), 1);
}

/// A role with Staff and Roles permissions is not a way to become, or take over, an
/// administrator, nor to grant itself more.
#[tokio::test]
async fn staff_managers_cannot_appoint_edit_or_become_administrators() {
    let app = spawn_app().await;
    let (admin, admin_token) = app.admin().await;
    let admin_role = app.role_id("Administrator").await;
    let perms = json!({"staff": ["view", "create", "edit", "delete"], "roles": ["view", "create", "edit", "delete"]});
    let (s, role) = app.post("/api/v1/roles", Some(&admin_token), json!({"name": "Office manager", "permissions": perms})).await;
    assert_eq!(s, StatusCode::CREATED, "{role}");
    let (_, manager) = app.staff_with_token("office@test.example", "Office manager").await;
    // A role within the manager's own permissions, which they may hand out.
    let (_, clerk) = app.post("/api/v1/roles", Some(&admin_token), json!({"name": "Clerk", "permissions": {"staff": ["view"]}})).await;
    let agent_role = clerk["id"].clone();

    // Appointing an administrator, directly or by a role change: 403, nothing created.
    let before = app.count("staff").await;
    let (s, b) =
        app.post("/api/v1/staff", Some(&manager), json!({"name": "Mallory", "email": "m@test.example", "password": PASSWORD, "role_id": admin_role})).await;
    assert_problem(s, &b, 403, "forbidden");
    assert_eq!(app.count("staff").await, before);
    let (s, agent) =
        app.post("/api/v1/staff", Some(&manager), json!({"name": "Ana", "email": "ana@test.example", "password": PASSWORD, "role_id": agent_role})).await;
    assert_eq!(s, StatusCode::CREATED, "{agent}");
    let (s, b) = app.patch(&format!("/api/v1/staff/{}", agent["id"]), &manager, json!({"role_id": admin_role})).await;
    assert_problem(s, &b, 403, "forbidden");

    // An administrator's account: no reset, no edit, no deactivation by a non-administrator.
    let (s, b) = app.patch(&format!("/api/v1/staff/{}", admin.id), &manager, json!({"password": "taken-over-account"})).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, b) = app.patch(&format!("/api/v1/staff/{}", admin.id), &manager, json!({"email": "mallory@evil.example"})).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, b) = app.delete(&format!("/api/v1/staff/{}", admin.id), &manager).await;
    assert_problem(s, &b, 403, "forbidden");
    app.login(crate::helpers::ADMIN_EMAIL, PASSWORD).await;

    // Nobody edits the role they hold; only administrators touch the administrator role.
    let (s, b) = app.patch(&format!("/api/v1/roles/{}", role["id"]), &manager, json!({"permissions": {"staff": ["view"], "settings": ["edit"]}})).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, b) = app.patch(&format!("/api/v1/roles/{admin_role}"), &manager, json!({"name": "Owners"})).await;
    assert_problem(s, &b, 403, "forbidden");
    let (_, mine) = app.get(&format!("/api/v1/roles/{}", role["id"]), &admin_token).await;
    assert_eq!(mine["permissions"], role["permissions"], "unchanged");
    // Nor a role, or an account, mightier than their own: a role granting settings they lack.
    let (s, b) =
        app.post("/api/v1/roles", Some(&manager), json!({"name": "Everything", "permissions": {"staff": ["view"], "settings": ["view", "edit"]}})).await;
    assert_problem(s, &b, 403, "forbidden");
    let (_, mighty) = app
        .post("/api/v1/roles", Some(&admin_token), json!({"name": "Finance", "permissions": {"settings": ["view", "edit"], "invoices": ["view", "create"]}}))
        .await;
    let (s, b) =
        app.post("/api/v1/staff", Some(&manager), json!({"name": "Eve", "email": "eve@test.example", "password": PASSWORD, "role_id": mighty["id"]})).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, b) = app.patch(&format!("/api/v1/staff/{}", agent["id"]), &manager, json!({"role_id": mighty["id"]})).await;
    assert_problem(s, &b, 403, "forbidden");
    // Within their own, they may; a Sales Agent's role (leads, proposals…) is not.
    let (s, b) = app.post("/api/v1/roles", Some(&manager), json!({"name": "Staff viewer", "permissions": {"staff": ["view"]}})).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let sales_agent = app.role_id("Sales Agent").await;
    let (s, b) =
        app.post("/api/v1/staff", Some(&manager), json!({"name": "Sam", "email": "sam@test.example", "password": PASSWORD, "role_id": sales_agent})).await;
    assert_problem(s, &b, 403, "forbidden");

    // The same edits are the administrator's to make.
    let (s, b) = app.patch(&format!("/api/v1/roles/{}", role["id"]), &admin_token, json!({"description": "Runs the office"})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = app.patch(&format!("/api/v1/staff/{}", agent["id"]), &admin_token, json!({"role_id": admin_role})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

/// `POST /me/password` and `PATCH /me`: a staff member manages their own account; a password
/// change or reset signs the account out everywhere, API tokens included.
#[tokio::test]
async fn staff_change_their_own_password_and_profile_and_old_credentials_stop_working() {
    let app = spawn_app().await;
    let (_, admin_token) = app.admin().await;
    let (agent, _) = app.staff_with_token("agent@test.example", "Sales Agent").await;
    let session = app.login("agent@test.example", PASSWORD).await;
    let other_session = app.login("agent@test.example", PASSWORD).await;
    let (s, created) = app.post("/api/v1/api-tokens", Some(&session.access_token), json!({"name": "Zapier", "scopes": ["leads:*"]})).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let api_token = created["token"].as_str().unwrap().to_string();

    // An API token changes neither the password nor the e-mail; it may change the name.
    let (s, b) = app.post("/api/v1/me/password", Some(&api_token), json!({"current_password": PASSWORD, "new_password": "amber-kettle-orbit-42"})).await;
    assert_problem(s, &b, 403, "session_required");
    let (s, b) = app.patch("/api/v1/me", &api_token, json!({"email": "thief@evil.example"})).await;
    assert_problem(s, &b, 403, "session_required");
    // Not even with a token whose scopes would allow editing staff.
    let (_, staff_token) = app.post("/api/v1/api-tokens", Some(&admin_token), json!({"name": "HR sync", "scopes": ["staff:*"]})).await;
    let staff_token = staff_token["token"].as_str().unwrap().to_string();
    let (s, b) = app.patch(&format!("/api/v1/staff/{}", agent.id), &staff_token, json!({"password": "amber-kettle-orbit-42"})).await;
    assert_problem(s, &b, 403, "session_required");
    let (s, b) = app.patch(&format!("/api/v1/staff/{}", agent.id), &staff_token, json!({"name": "Renamed by the HR sync"})).await;
    assert_eq!(s, StatusCode::OK, "other fields are fine: {b}");

    // Policy and the current password, field by field.
    let change = |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let (s, b) = app.post("/api/v1/me/password", Some(&session.access_token), change("wrong-password!", "amber-kettle-orbit-42")).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["field"], "current_password");
    let (s, b) = app.post("/api/v1/me/password", Some(&session.access_token), change(PASSWORD, "Password1234")).await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!((b["errors"][0]["field"].as_str(), b["errors"][0]["code"].as_str()), (Some("new_password"), Some("too_common")));
    let (s, b) = app.post("/api/v1/me/password", Some(&session.access_token), change(PASSWORD, "short")).await;
    assert_eq!((s.as_u16(), b["errors"][0]["code"].as_str()), (422, Some("too_short")));

    let (s, fresh) = app.post("/api/v1/me/password", Some(&session.access_token), change(PASSWORD, "amber-kettle-orbit-42")).await;
    assert_eq!(s, StatusCode::OK, "{fresh}");
    // The caller continues on the new session; every other credential is dead.
    let (s, _) = app.get("/api/v1/me", fresh["access_token"].as_str().unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    for old in [&session.refresh_token, &other_session.refresh_token] {
        let (s, b) = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": old})).await;
        assert_problem(s, &b, 401, "invalid_refresh_token");
    }
    let (s, b) = app.get("/api/v1/me", &api_token).await;
    assert_problem(s, &b, 401, "invalid_token");
    let (s, _) = app.post("/api/v1/auth/login", None, json!({"email": "agent@test.example", "password": PASSWORD})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let renewed = app.login("agent@test.example", "amber-kettle-orbit-42").await;

    // The profile: name and e-mail, unique e-mail.
    let (s, b) = app.patch("/api/v1/me", &renewed.access_token, json!({"email": crate::helpers::ADMIN_EMAIL})).await;
    assert_problem(s, &b, 409, "email_taken");
    let (s, me) = app.patch("/api/v1/me", &renewed.access_token, json!({"name": "Ana Agent", "email": "ana.agent@test.example"})).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!((me["name"].as_str(), me["email"].as_str()), (Some("Ana Agent"), Some("ana.agent@test.example")));

    // An administrator's reset also revokes the account's API tokens.
    let (_, created) = app.post("/api/v1/api-tokens", Some(&renewed.access_token), json!({"name": "again", "scopes": ["leads:*"]})).await;
    let api_token = created["token"].as_str().unwrap().to_string();
    let (s, _) = app.get("/api/v1/me", &api_token).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = app.patch(&format!("/api/v1/staff/{}", agent.id), &admin_token, json!({"password": "reset-by-the-admin"})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = app.get("/api/v1/me", &api_token).await;
    assert_problem(s, &b, 401, "invalid_token");
}
