//! The OpenAPI document, generated from the handlers' annotations. `openapi/openapi.json` is
//! this, committed; a test fails when they differ (`cargo xtask openapi` refreshes it).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CRMConnect API",
        description = "The CRMConnect REST API. JSON, snake_case, integer ids; money as decimal strings; \
errors as application/problem+json with a stable `code`. Lists take `limit` (1-500, default 50) and an \
opaque `cursor`, and answer `{\"items\": [...], \"next_cursor\": ...}`. Authenticate with \
`Authorization: Bearer <token>`: a JWT from `POST /api/v1/auth/login` or a personal API token."
    ),
    paths(
        api::health::health,
        api::auth::login,
        api::auth::refresh,
        api::auth::logout,
        api::auth::me,
        api::api_tokens::list,
        api::api_tokens::create,
        api::api_tokens::revoke,
        api::staff::list,
        api::staff::create,
        api::staff::get,
        api::staff::update,
        api::staff::deactivate,
        api::roles::list,
        api::roles::create,
        api::roles::get,
        api::roles::update,
        api::roles::delete,
        api::audit_log::list,
        api::pipelines::list,
        api::pipelines::create,
        api::pipelines::get,
        api::pipelines::update,
        api::pipelines::delete,
        api::pipelines::list_statuses,
        api::pipelines::create_status,
        api::pipelines::update_status,
        api::pipelines::delete_status,
        api::pipelines::reorder_statuses,
        api::lookups::list_sources,
        api::lookups::create_source,
        api::lookups::update_source,
        api::lookups::delete_source,
        api::lookups::list_lost_reasons,
        api::lookups::create_lost_reason,
        api::lookups::update_lost_reason,
        api::lookups::delete_lost_reason,
        api::leads::list,
        api::leads::create,
        api::leads::get,
        api::leads::update,
        api::leads::delete,
        api::leads::mark_lost,
        api::leads::mark_junk,
        api::leads::restore,
        api::kanban::board,
        api::kanban::column_page,
        api::kanban::move_lead,
        api::activities::list,
        api::activities::create,
        api::activities::timeline,
        api::clients::list,
        api::clients::create,
        api::clients::get,
        api::clients::update,
        api::clients::delete,
        api::clients::history,
        api::clients::list_contacts,
        api::clients::create_contact,
        api::clients::update_contact,
        api::clients::delete_contact,
        api::clients::convert_lead,
        api::opportunities::convert,
        api::opportunities::list,
        api::opportunities::get,
        api::opportunities::update,
        api::opportunities::forecast,
        api::lookups::list_opportunity_statuses,
        api::lookups::create_opportunity_status,
        api::lookups::update_opportunity_status,
        api::lookups::delete_opportunity_status,
        api::bulk::bulk,
        api::reminders::create,
        api::reminders::list_for_lead,
        api::reminders::mine,
        api::reminders::done,
        api::scoring::list,
        api::scoring::create,
        api::scoring::update,
        api::scoring::delete,
        api::search::search,
        api::custom_fields::list,
        api::custom_fields::create,
        api::custom_fields::update,
        api::custom_fields::delete,
        api::attachments::upload,
        api::attachments::list,
        api::attachments::download,
        api::attachments::delete,
        api::catalogue::list_taxes,
        api::catalogue::create_tax,
        api::catalogue::update_tax,
        api::catalogue::delete_tax,
        api::catalogue::list_items,
        api::catalogue::create_item,
        api::catalogue::update_item,
        api::catalogue::delete_item,
        api::catalogue::list_currencies,
        api::catalogue::create_currency,
        api::catalogue::update_currency,
        api::catalogue::delete_currency,
        api::settings::get,
        api::settings::update,
        api::settings::list_email_templates,
        api::settings::update_email_template,
        api::proposals::list,
        api::proposals::create,
        api::proposals::get,
        api::proposals::update,
        api::proposals::delete,
        api::proposals::set_status,
        api::proposals::send,
        api::proposals::emails,
        api::proposals::pdf,
        api::proposals::list_comments,
        api::proposals::add_comment,
        api::proposals::regenerate_token,
        api::proposals::revoke_token,
        api::proposals::convert_to_invoice,
        api::proposals::convert_to_sales_order,
        api::proposal_templates::list,
        api::proposal_templates::create,
        api::proposal_templates::get,
        api::proposal_templates::update,
        api::proposal_templates::delete,
        api::portal::view,
        api::portal::accept,
        api::portal::decline,
        api::portal::list_comments,
        api::portal::add_comment,
        api::portal::pdf,
        api::notifications::list,
        api::notifications::mark_read,
        api::notifications::mark_all_read,
        api::invoices::get,
        api::invoices::get_sales_order,
    ),
    components(schemas(
        crmconnect_domain::api::Problem,
        crmconnect_domain::validation::FieldError,
        crmconnect_domain::permissions::Module,
        crmconnect_domain::permissions::Action,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "system", description = "Health and audit log"),
        (name = "auth", description = "Sign-in, tokens, the current user"),
        (name = "staff", description = "Staff accounts"),
        (name = "roles", description = "Roles and per-module permissions"),
        (name = "leads", description = "Pipelines, leads, the Kanban board, activities"),
        (name = "opportunities", description = "Opportunities and the weighted pipeline"),
        (name = "clients", description = "Clients and contacts"),
        (name = "catalogue", description = "Taxes, items and currencies"),
        (name = "proposals", description = "Proposals, their templates, sending, PDF, comments and conversion"),
        (name = "portal", description = "The client portal: no login, the link's token is the key"),
        (name = "notifications", description = "In-app notifications of the signed-in user"),
        (name = "settings", description = "Company settings and e-mail templates"),
        (name = "invoices", description = "Invoices"),
        (name = "sales orders", description = "Sales orders"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A JWT access token from /api/v1/auth/login, or a personal API token (crm_…)."))
                    .build(),
            ),
        );
    }
}

pub fn spec() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document exactly as committed in `openapi/openapi.json`.
pub fn spec_json() -> String {
    let mut json = spec().to_pretty_json().expect("the OpenAPI document serialises");
    json.push('\n');
    json
}
