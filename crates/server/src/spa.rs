//! Serving the built browser app, with history fallback: any non-API path that is not a file
//! gets `index.html`, so the guide's URLs (`/admin/leads`, `/admin/proposals?status=4`) load.

use std::path::{Path, PathBuf};

use actix_files::Files;
use actix_web::dev::{fn_service, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::{web, HttpResponse, ResponseError};

use crate::problem::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig, spa_dir: &Path) {
    let index = spa_dir.join("index.html");
    let fallback = {
        let index = index.clone();
        fn_service(move |req: ServiceRequest| {
            let index = index.clone();
            async move {
                let res = fallback_response(req.path(), &index);
                Ok::<_, actix_web::Error>(ServiceResponse::new(req.into_parts().0, res))
            }
        })
    };
    if spa_dir.is_dir() {
        cfg.service(Files::new("/", spa_dir).index_file("index.html").default_handler(fallback));
    } else {
        cfg.default_service(fallback);
    }
}

fn fallback_response(path: &str, index: &PathBuf) -> HttpResponse {
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::from_status(actix_web::http::StatusCode::NOT_FOUND).error_response();
    }
    match std::fs::read(index) {
        Ok(html) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
            // The shell is tiny and must pick up new bundles after an upgrade.
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(html),
        Err(_) => HttpResponse::Ok().insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8")).body(NOT_BUILT),
    }
}

const NOT_BUILT: &str = "<!doctype html><html><head><title>CRMConnect</title></head><body>\
<h1>CRMConnect</h1><p>The browser app is not built. Run <code>cargo xtask run</code> (or \
<code>cargo xtask build-spa</code>) from the source tree, or set <code>CRM_SPA_DIR</code>.</p>\
<p>The API is up: <a href=\"/api/docs/\">API documentation</a>.</p></body></html>";
