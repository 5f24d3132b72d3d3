//! Building and running the server: used by `crmconnect serve` and by the tests' `spawn_app`.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::body::BoxBody;
use actix_web::dev::{Server, Service, ServiceResponse};
use actix_web::middleware::{ErrorHandlers, Logger};
use actix_web::{web, App, HttpServer};
use futures_util::future::LocalBoxFuture;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::jwt::JwtKeys;
use crate::auth::secrets;
use crate::config::Settings;
use crate::problem::{problemize, ApiError};
use crate::query_rules::QueryRules;
use crate::state::{self, AppState};
use crate::{api, conditional, db, email, extract, openapi, scheduler, spa};
use tokio::sync::Notify;

pub struct Application {
    port: u16,
    server: Server,
    pub state: AppState,
}

impl Application {
    /// Connects, migrates, binds (`CRM_BIND`; port 0 picks a free one) and prepares the server.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        settings.check().map_err(anyhow::Error::msg)?;
        let db = db::connect(&settings.database_url).await?;
        db::migrate(&db).await?;
        // Persisted in the database so a restart, or a second server, accepts existing tokens.
        let secret = match &settings.jwt_secret {
            Some(s) => s.clone(),
            None => db::setting_or_insert(&db, db::JWT_SECRET_SETTING, &secrets::random_secret()).await?,
        };
        let state = AppState {
            db,
            jwt: Arc::new(JwtKeys::new(secret.as_bytes())),
            email_wakeup: Arc::new(Notify::new()),
            portal_limiter: state::portal_limiter(settings.portal_requests_per_minute),
            password_checks: Arc::new(tokio::sync::Semaphore::new(settings.max_password_checks)),
            settings: Arc::new(settings),
        };
        // The per-IP portal limiter keeps one entry per address; forget idle ones.
        let limiter = state.portal_limiter.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(300)).await;
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        });
        tokio::spawn(
            email::Delivery {
                db: state.db.clone(),
                smtp_url: state.settings.smtp_url.clone(),
                poll: state.settings.email_poll,
                retry_base: state.settings.email_retry_base,
                wakeup: state.email_wakeup.clone(),
            }
            .run(),
        );
        if !state.settings.spa_dir.join("index.html").is_file() {
            tracing::warn!(dir = %state.settings.spa_dir.display(), "browser app not built; run `cargo xtask build-spa`");
        }
        let listener = TcpListener::bind(&state.settings.bind)?;
        let port = listener.local_addr()?.port();
        if let Some(every) = state.settings.scheduler_every {
            let scheduler = scheduler::Scheduler {
                db: state.db.clone(),
                id: format!("{}:{port}:{}", std::process::id(), &secrets::random_secret()[..8]),
                public_url: state.settings.public_url.clone(),
                wakeup: state.email_wakeup.clone(),
                events_retention: time::Duration::days(i64::from(state.settings.events_retention_days)),
                webhook_allow_private: state.settings.webhook_allow_private,
            };
            tokio::spawn(scheduler.run(every));
        }
        let server = run(listener, state.clone())?;
        Ok(Application { port, server, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The request path for the access log, with client-portal tokens masked: the token is the
/// key to a proposal, invoice or contract and must not end up in log files.
pub fn loggable_path(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    let token_at = match parts.as_slice() {
        ["", "api", "v1", "portal", _, _, ..] => Some(5),
        ["", "proposal" | "invoice" | "contract", _, ..] => Some(2),
        _ => None,
    };
    match token_at {
        Some(i) => parts.iter().enumerate().map(|(n, p)| if n == i { "***" } else { p }).collect::<Vec<_>>().join("/"),
        None => path.to_string(),
    }
}

/// The browser app's Content-Security-Policy: its own scripts and WASM only, no plugins, no
/// `<base>` tricks, never framed (the portal's accept and sign buttons cannot be clickjacked).
/// Inline style attributes are allowed: the app sets element styles, which carry no script.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Headers every response carries (and, over https, HSTS). The Content-Security-Policy goes on
/// HTML pages, where it means something; a PDF must not get `object-src 'none'` (Chrome's
/// viewer is a plugin). The offline API docs page keeps its own inline bootstrap script, so it
/// gets the frame rule only.
fn add_security_headers<B>(res: &mut ServiceResponse<B>, https: bool) {
    use actix_web::http::header::{self, HeaderValue};
    let docs = res.request().path().starts_with("/api/docs");
    let html = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
    let headers = res.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if docs {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("frame-ancestors 'none'; base-uri 'none'"));
    } else if html {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    }
    if https {
        // Not `includeSubDomains`: the CRM may live on a domain whose other hosts are not https.
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
}

fn run(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let spa_dir = state.settings.spa_dir.clone();
    let https = state.settings.public_url.starts_with("https://");
    let data = web::Data::new(state);
    let query_rules = Arc::new(QueryRules::from_spec(&openapi::spec()));
    let server = HttpServer::new(move || {
        let query_rules = query_rules.clone();
        App::new()
            .wrap(ErrorHandlers::new().default_handler(problemize))
            .wrap_fn(move |req, srv| {
                let call = srv.call(req);
                async move {
                    let mut res = call.await?;
                    add_security_headers(&mut res, https);
                    Ok(res)
                }
            })
            .wrap(
                Logger::new("%a \"%{request}xi\" %s %b %Dms")
                    .custom_request_replace("request", |req| format!("{} {}", req.method(), loggable_path(req.path())))
                    .exclude("/api/v1/health"),
            )
            .app_data(data.clone())
            .app_data(extract::query_config())
            .app_data(extract::path_config())
            .app_data(extract::payload_config())
            // Before the /api/v1 scope: it serves /api/v1/openapi.json itself.
            .service(
                web::resource("/api/docs")
                    .route(web::get().to(|| async {
                        actix_web::HttpResponse::MovedPermanently().insert_header((actix_web::http::header::LOCATION, "/api/docs/")).finish()
                    })),
            )
            .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/v1/openapi.json", openapi::spec()))
            .service(
                web::scope("/api/v1")
                    .wrap_fn(move |req, srv| -> LocalBoxFuture<'static, Result<ServiceResponse<BoxBody>, actix_web::Error>> {
                        match query_rules.check(&req) {
                            Err(refused) => {
                                let res = req.into_response(actix_web::ResponseError::error_response(&refused));
                                Box::pin(async move { Ok(res) })
                            }
                            Ok(()) => {
                                let call = srv.call(req);
                                Box::pin(async move { conditional::tag_response(call.await?).await })
                            }
                        }
                    })
                    .configure(api::configure)
                    .default_service(web::to(|| async { Err::<actix_web::HttpResponse, _>(ApiError::from_status(actix_web::http::StatusCode::NOT_FOUND)) })),
            )
            .configure(|cfg| spa::configure(cfg, &spa_dir))
    })
    .listen(listener)?
    .run();
    Ok(server)
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn portal_tokens_never_reach_the_access_log() {
        assert_eq!(loggable_path("/api/v1/portal/proposals/abcDEF123/accept"), "/api/v1/portal/proposals/***/accept");
        assert_eq!(loggable_path("/api/v1/portal/invoices/tok"), "/api/v1/portal/invoices/***");
        assert_eq!(loggable_path("/proposal/tok"), "/proposal/***");
        assert_eq!(loggable_path("/api/v1/proposals/12/send"), "/api/v1/proposals/12/send");
        assert_eq!(loggable_path("/admin/leads"), "/admin/leads");
    }
}
