//! The `/api/v1` endpoints, one module per resource. Every route is mounted here, in one
//! visible place; each module owns its handlers, their queries and their OpenAPI annotations.

pub mod api_tokens;
pub mod audit_log;
pub mod auth;
pub mod health;
pub mod roles;
pub mod staff;

use actix_web::web;

/// Routes are `web::resource`s so a wrong method gets 405 (not the scope's 404).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health").route(web::get().to(health::health)))
        .service(web::resource("/auth/login").route(web::post().to(auth::login)))
        .service(web::resource("/auth/refresh").route(web::post().to(auth::refresh)))
        .service(web::resource("/auth/logout").route(web::post().to(auth::logout)))
        .service(web::resource("/me").route(web::get().to(auth::me)))
        .service(
            web::resource("/api-tokens")
                .route(web::get().to(api_tokens::list))
                .route(web::post().to(api_tokens::create)),
        )
        .service(web::resource("/api-tokens/{id}").route(web::delete().to(api_tokens::revoke)))
        .service(
            web::resource("/staff")
                .route(web::get().to(staff::list))
                .route(web::post().to(staff::create)),
        )
        .service(
            web::resource("/staff/{id}")
                .route(web::get().to(staff::get))
                .route(web::patch().to(staff::update))
                .route(web::delete().to(staff::deactivate)),
        )
        .service(
            web::resource("/roles")
                .route(web::get().to(roles::list))
                .route(web::post().to(roles::create)),
        )
        .service(
            web::resource("/roles/{id}")
                .route(web::get().to(roles::get))
                .route(web::patch().to(roles::update))
                .route(web::delete().to(roles::delete)),
        )
        .service(web::resource("/audit-log").route(web::get().to(audit_log::list)));
}
