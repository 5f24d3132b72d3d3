use reqwest::{header, Method, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{assert_problem, json_of, spawn_app, ADMIN_EMAIL, PASSWORD};

#[tokio::test]
async fn login_me_and_token_shape() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let tokens = app.login("  Admin@Test.Example ", PASSWORD).await;
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.expires_in, 900);
    assert!(tokens.refresh_token.len() >= 43, "≥ 256 bits");
    let (s, me) = app.get("/api/v1/me", &tokens.access_token).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["id"], admin.id);
    assert_eq!(me["email"], ADMIN_EMAIL);
    assert_eq!(me["role"]["name"], "Administrator");
    assert_eq!(me["auth_method"], "session");
    assert!(me["permissions"]["roles"].as_array().unwrap().contains(&json!("delete")));
    // The refresh token is stored hashed, never in clear.
    let backend = app.state.db.get_database_backend();
    use sea_orm::ConnectionTrait;
    let rows = app.state.db.query_all(sea_orm::Statement::from_string(backend, "SELECT token_hash FROM refresh_tokens")).await.unwrap();
    for row in rows {
        let hash: String = row.try_get("", "token_hash").unwrap();
        assert_ne!(hash, tokens.refresh_token);
        assert_eq!(hash.len(), 64);
    }
}

#[tokio::test]
async fn wrong_credentials_are_401_and_do_not_say_which_part_was_wrong() {
    let app = spawn_app().await;
    app.admin().await;
    let (s, wrong_pw) = app.post("/api/v1/auth/login", None, json!({"email": ADMIN_EMAIL, "password": "nope-nope"})).await;
    assert_problem(s, &wrong_pw, 401, "invalid_credentials");
    let (s, no_user) = app.post("/api/v1/auth/login", None, json!({"email": "ghost@test.example", "password": "nope-nope"})).await;
    assert_problem(s, &no_user, 401, "invalid_credentials");
    assert_eq!(wrong_pw, no_user);
    let (s, b) = app.post("/api/v1/auth/login", None, json!({"email": "not-an-email", "password": "x"})).await;
    assert_problem(s, &b, 422, "validation_failed");
}

/// A login from `client` (an address a trusted proxy forwarded) with `password`.
async fn login_from(app: &crate::helpers::TestApp, client: &str, email: &str, password: &str) -> reqwest::Response {
    app.client.post(app.url("/api/v1/auth/login")).header("X-Forwarded-For", client).json(&json!({"email": email, "password": password})).send().await.unwrap()
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account_and_address_with_growing_waits() {
    let app = crate::helpers::spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    app.admin().await;
    for _ in 0..5 {
        let res = login_from(&app, "198.51.100.7", ADMIN_EMAIL, "wrong-password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // The guesser waits — even with the right password — and the wait says how long.
    let res = login_from(&app, "198.51.100.7", ADMIN_EMAIL, PASSWORD).await;
    let wait: i64 = res.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "the first wait is at most 30 s: {wait}");
    let (s, b) = json_of(res).await;
    assert_problem(s, &b, 429, "too_many_login_attempts");
    // The account's owner, elsewhere, is not locked out by the stranger.
    let res = login_from(&app, "203.0.113.20", ADMIN_EMAIL, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    // Refused attempts do not count, so waiting it out works: move the failures into the past.
    let backend = app.state.db.get_database_backend();
    let past = (time::OffsetDateTime::now_utc() - time::Duration::seconds(31)).format(&time::format_description::well_known::Rfc3339).unwrap();
    app.state
        .db
        .execute(sea_orm::Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DatabaseBackend::Postgres => "UPDATE login_failures SET at = $1::timestamptz",
                _ => "UPDATE login_failures SET at = ?",
            },
            [past.into()],
        ))
        .await
        .unwrap();
    let res = login_from(&app, "198.51.100.7", ADMIN_EMAIL, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK, "after the wait, the right password works");
}

/// Twenty guesses sent at once are all counted before any password is checked: at most the
/// five free ones are evaluated.
#[tokio::test]
async fn a_burst_of_parallel_guesses_is_counted_before_the_password_check() {
    let app = crate::helpers::spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    app.admin().await;
    let burst = (0..20).map(|_| login_from(&app, "198.51.100.9", ADMIN_EMAIL, "wrong-password"));
    let statuses: Vec<u16> = futures_util::future::join_all(burst).await.iter().map(|r| r.status().as_u16()).collect();
    let evaluated = statuses.iter().filter(|s| **s == 401).count();
    assert!(evaluated <= 5, "{evaluated} guesses were checked: {statuses:?}");
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
    assert!(evaluated >= 1, "the free attempts were checked: {statuses:?}");
}

/// Password checks beyond the configured number at once are refused, not queued.
#[tokio::test]
async fn concurrent_password_checks_are_bounded() {
    let app = crate::helpers::spawn_app_with(|s| s.max_password_checks = 1).await;
    app.admin().await;
    let held = app.state.password_checks.clone().acquire_owned().await.unwrap();
    let res = app.request(Method::POST, "/api/v1/auth/login", None, Some(json!({"email": ADMIN_EMAIL, "password": PASSWORD}))).await;
    assert_eq!(res.headers()[header::RETRY_AFTER], "1");
    let (s, b) = json_of(res).await;
    assert_problem(s, &b, 429, "rate_limited");
    drop(held);
    app.login(ADMIN_EMAIL, PASSWORD).await;
}

#[tokio::test]
async fn failed_logins_are_throttled_per_ip() {
    let app = spawn_app().await;
    for i in 0..30 {
        let email = format!("user{i}@test.example");
        let (s, _) = app.post("/api/v1/auth/login", None, json!({"email": email, "password": "wrong-password"})).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, b) = app.post("/api/v1/auth/login", None, json!({"email": "fresh@test.example", "password": "whatever1"})).await;
    assert_problem(s, &b, 429, "too_many_login_attempts");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_every_session() {
    let app = spawn_app().await;
    app.admin().await;
    let first = app.login(ADMIN_EMAIL, PASSWORD).await;
    let (s, second) = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": first.refresh_token})).await;
    assert_eq!(s, StatusCode::OK, "{second}");
    let second_refresh = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second_refresh, first.refresh_token);
    let (s, _) = app.get("/api/v1/me", second["access_token"].as_str().unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    // Replaying the used token later (past the race grace) fails and burns every session.
    age_refresh_rotations(&app, 31).await;
    let (s, b) = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": first.refresh_token})).await;
    assert_problem(s, &b, 401, "invalid_refresh_token");
    let (s, b) = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": second_refresh})).await;
    assert_problem(s, &b, 401, "invalid_refresh_token");
}

/// Moves every refresh-token rotation `secs` seconds into the past.
async fn age_refresh_rotations(app: &crate::helpers::TestApp, secs: i64) {
    let backend = app.state.db.get_database_backend();
    let past = (time::OffsetDateTime::now_utc() - time::Duration::seconds(secs)).format(&time::format_description::well_known::Rfc3339).unwrap();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => "UPDATE refresh_tokens SET revoked_at = $1::timestamptz WHERE revoked_at IS NOT NULL",
        _ => "UPDATE refresh_tokens SET revoked_at = ? WHERE revoked_at IS NOT NULL",
    };
    app.state.db.execute(sea_orm::Statement::from_sql_and_values(backend, sql, [past.into()])).await.unwrap();
}

/// Two tabs loading together present the same refresh token at once: both get a session
/// instead of the second being taken for a thief. After a sign-out the grace is gone.
#[tokio::test]
async fn refreshes_racing_with_one_token_both_succeed_but_a_signed_out_token_does_not() {
    let app = spawn_app().await;
    app.admin().await;
    let first = app.login(ADMIN_EMAIL, PASSWORD).await;
    let body = json!({"refresh_token": first.refresh_token});
    let tabs = (0..4).map(|_| app.post("/api/v1/auth/refresh", None, body.clone()));
    let answers = futures_util::future::join_all(tabs).await;
    assert!(answers.iter().all(|(s, _)| *s == StatusCode::OK), "{answers:?}");
    for (_, tokens) in &answers {
        let (s, _) = app.get("/api/v1/me", tokens["access_token"].as_str().unwrap()).await;
        assert_eq!(s, StatusCode::OK, "no session was revoked");
    }
    // A token whose successor was signed out is not a race any more.
    let successor = answers.iter().map(|(_, t)| t["refresh_token"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    for token in &successor {
        app.request(Method::POST, "/api/v1/auth/logout", None, Some(json!({"refresh_token": token}))).await;
    }
    let (s, b) = app.post("/api/v1/auth/refresh", None, body).await;
    assert_problem(s, &b, 401, "invalid_refresh_token");
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    app.admin().await;
    let t = app.login(ADMIN_EMAIL, PASSWORD).await;
    let res = app.request(Method::POST, "/api/v1/auth/logout", None, Some(json!({"refresh_token": t.refresh_token}))).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (s, b) = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": t.refresh_token})).await;
    assert_problem(s, &b, 401, "invalid_refresh_token");
}

#[tokio::test]
async fn missing_bad_and_stale_tokens_are_told_apart() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let (s, b) = json_of(app.request(Method::GET, "/api/v1/me", None, None).await).await;
    assert_problem(s, &b, 401, "unauthenticated");
    let (s, b) = app.get("/api/v1/me", "garbage").await;
    assert_problem(s, &b, 401, "invalid_token");
    // A token signed with another secret is refused.
    let other = crmconnect::auth::jwt::JwtKeys::new(b"some other secret entirely......").issue(admin.id).unwrap().0;
    let (s, b) = app.get("/api/v1/me", &other).await;
    assert_problem(s, &b, 401, "invalid_token");
    // 401 (who are you?) vs 403 (you may not).
    let (_, agent_token) = app.staff_with_token("agent@test.example", "Sales Agent").await;
    let (s, b) = app.get("/api/v1/roles", &agent_token).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, _) = app.get("/api/v1/me", &token).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn the_jwt_secret_survives_a_restart() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    // A second server on the same database (a restart, or a second node) accepts the token.
    let url = app.database_url.clone();
    let second = crate::helpers::spawn_app_on(&url).await;
    let (s, me) = second.get("/api/v1/me", &token).await;
    assert_eq!(s, StatusCode::OK, "{me}");
}

/// The browser's refresh token is an HttpOnly, SameSite=Strict cookie scoped to the auth
/// endpoints; refresh and logout read it when the body names no token.
#[tokio::test]
async fn the_refresh_token_also_travels_in_an_http_only_cookie() {
    let app = crate::helpers::spawn_app_with(|s| s.public_url = "https://crm.example.ro".into()).await;
    app.admin().await;
    let res = app.request(Method::POST, "/api/v1/auth/login", None, Some(json!({"email": ADMIN_EMAIL, "password": PASSWORD}))).await;
    let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap().to_string();
    for attribute in ["crm_refresh=", "HttpOnly", "SameSite=Strict", "Path=/api/v1/auth", "Secure", "Max-Age=2592000"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    let (_, body) = json_of(res).await;
    let value = cookie.split(';').next().unwrap().trim_start_matches("crm_refresh=").to_string();
    assert_eq!(body["refresh_token"].as_str(), Some(value.as_str()), "the same token as in the body");

    // Refresh with the cookie only: a new pair, a new cookie, the old token spent.
    let with_cookie = |path: &str, cookie: &str| {
        app.client.post(app.url(path)).header(header::COOKIE, format!("crm_refresh={cookie}")).header("content-type", "application/json").body("{}")
    };
    let res = with_cookie("/api/v1/auth/refresh", &value).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let renewed = res.headers()[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().trim_start_matches("crm_refresh=").to_string();
    assert_ne!(renewed, value);
    let (_, body) = json_of(res).await;
    assert_eq!(body["refresh_token"], "", "made with the cookie: the new token is in the cookie only, never in a body page script can read");
    assert!(body["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    // Spent (past the race grace): refused.
    app.state
        .db
        .execute(sea_orm::Statement::from_string(app.state.db.get_database_backend(), "UPDATE refresh_tokens SET replaced_by_id = NULL"))
        .await
        .unwrap();
    let (s, b) = json_of(with_cookie("/api/v1/auth/refresh", &value).send().await.unwrap()).await;
    assert_problem(s, &b, 401, "invalid_refresh_token");
    let renewed = {
        let res = app.request(Method::POST, "/api/v1/auth/login", None, Some(json!({"email": ADMIN_EMAIL, "password": PASSWORD}))).await;
        res.headers()[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().trim_start_matches("crm_refresh=").to_string()
    };
    // Neither body nor cookie: 401, not 422.
    let (s, b) = app.post("/api/v1/auth/refresh", None, json!({})).await;
    assert_problem(s, &b, 401, "invalid_refresh_token");

    // Logout with the cookie revokes the session and expires the cookie.
    let res = with_cookie("/api/v1/auth/logout", &renewed).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(res.headers()[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    let (s, b) = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": renewed})).await;
    assert_problem(s, &b, 401, "invalid_refresh_token");
}

/// Guessing the current password through `/me/password` with a stolen access token is counted
/// and slowed down like sign-ins; a new password that breaks the policy is not a guess.
#[tokio::test]
async fn the_current_password_cannot_be_guessed_through_a_password_change() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let change = |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    for _ in 0..3 {
        let (s, b) = app.post("/api/v1/me/password", Some(&token), change(PASSWORD, "short")).await;
        assert_eq!((s.as_u16(), b["errors"][0]["code"].as_str()), (422, Some("too_short")), "{b}");
    }
    for _ in 0..5 {
        let (s, b) = app.post("/api/v1/me/password", Some(&token), change("guess-number-x", "amber-kettle-orbit-42")).await;
        assert_eq!((s.as_u16(), b["errors"][0]["code"].as_str()), (422, Some("wrong")), "{b}");
    }
    let res = app.request(Method::POST, "/api/v1/me/password", Some(&token), Some(change(PASSWORD, "amber-kettle-orbit-42"))).await;
    assert!(res.headers().contains_key(header::RETRY_AFTER));
    let (s, b) = json_of(res).await;
    assert_problem(s, &b, 429, "too_many_login_attempts");
    // The same counter as sign-ins from this address: guessing cannot move over there either.
    let (s, b) = app.post("/api/v1/auth/login", None, json!({"email": ADMIN_EMAIL, "password": PASSWORD})).await;
    assert_problem(s, &b, 429, "too_many_login_attempts");
}
