use reqwest::{Method, StatusCode};

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn health_checks_the_database() {
    let app = spawn_app().await;
    let res = app.request(Method::GET, "/api/v1/health", None, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    let expected = if crate::helpers::lane().is_some() { "postgres" } else { "sqlite" };
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], expected);
}

#[tokio::test]
async fn openapi_is_served_and_matches_the_committed_file() {
    let app = spawn_app().await;
    let res = app.request(Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let served: serde_json::Value = res.json().await.unwrap();
    let generated: serde_json::Value = serde_json::from_str(&crmconnect::openapi::spec_json().unwrap()).unwrap();
    assert_eq!(served, generated);

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed != crmconnect::openapi::spec_json().unwrap() {
        if std::env::var_os("CRM_UPDATE_OPENAPI").is_some() {
            std::fs::write(path, crmconnect::openapi::spec_json().unwrap()).unwrap();
        } else {
            panic!("openapi/openapi.json is stale: run `cargo xtask openapi` and commit it");
        }
    }
    for p in ["/api/v1/auth/login", "/api/v1/staff/{id}", "/api/v1/roles", "/api/v1/api-tokens", "/api/v1/audit-log"] {
        assert!(served["paths"][p].is_object(), "{p} missing from the spec");
    }
}

#[tokio::test]
async fn api_docs_ui_is_served_without_a_cdn() {
    let app = spawn_app().await;
    let res = app.request(Method::GET, "/api/docs", None, None).await;
    assert_eq!(res.status(), StatusCode::MOVED_PERMANENTLY);
    let res = app.request(Method::GET, "/api/docs/", None, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("https://"), "docs must load no remote assets: {html}");
    let init = app.request(Method::GET, "/api/docs/swagger-initializer.js", None, None).await;
    assert_eq!(init.status(), StatusCode::OK);
    assert!(init.text().await.unwrap().contains("/api/v1/openapi.json"));
}

#[tokio::test]
async fn the_spa_gets_history_fallback_but_api_paths_do_not() {
    let app = crate::helpers::spawn_app_with(|s| {
        let dir = s.data_dir.join("spa");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), "<html>the app shell</html>").unwrap();
        std::fs::write(dir.join("app.js"), "console.log(1)").unwrap();
        s.spa_dir = dir;
    })
    .await;
    for path in ["/", "/admin", "/admin/leads", "/admin/proposals?status=4", "/login"] {
        let res = app.request(Method::GET, path, None, None).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert!(res.text().await.unwrap().contains("the app shell"), "{path}");
    }
    let js = app.request(Method::GET, "/app.js", None, None).await;
    assert_eq!(js.text().await.unwrap(), "console.log(1)");
    for path in ["/api/v1/nothing", "/api/v2/leads", "/api"] {
        let (status, body) = crate::helpers::json_of(app.request(Method::GET, path, None, None).await).await;
        assert_problem(status, &body, 404, "route_not_found");
    }
}

/// Every response carries the browser-hardening headers; the app gets the strict CSP, and
/// HSTS is sent only when the public URL is https.
#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = crate::helpers::spawn_app_with(|s| {
        let dir = s.data_dir.join("spa");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), "<html>the app shell</html>").unwrap();
        s.spa_dir = dir;
        s.public_url = "https://crm.example.ro".into();
    })
    .await;
    for path in ["/admin/leads", "/proposal/sometoken", "/api/v1/health", "/api/v1/leads", "/api/v1/nothing"] {
        let res = app.request(Method::GET, path, None, None).await;
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["strict-transport-security"], "max-age=31536000", "{path}");
        // The policy goes on the app's pages; JSON (and PDFs, which Chrome shows with a plugin
        // that `object-src 'none'` would block) carry none.
        let html = h["content-type"].to_str().unwrap().starts_with("text/html");
        assert_eq!(h.get("content-security-policy").is_some(), html, "{path}");
        if html {
            let csp = h["content-security-policy"].to_str().unwrap();
            for directive in ["default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"] {
                assert!(csp.contains(directive), "{path}: {csp}");
            }
            assert!(!csp.contains("unsafe-eval'") || csp.contains("wasm-unsafe-eval"), "{csp}");
        }
    }
    let docs = app.request(Method::GET, "/api/docs/", None, None).await;
    assert!(docs.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));

    let plain = crate::helpers::spawn_app().await;
    let res = plain.request(Method::GET, "/api/v1/health", None, None).await;
    assert!(res.headers().get("strict-transport-security").is_none(), "no HSTS over plain http");
}
