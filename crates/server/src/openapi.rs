//! The OpenAPI document, generated from the handlers' annotations. `openapi/openapi.json` is
//! this, committed; a test fails when they differ (`cargo xtask openapi` refreshes it).

use utoipa::openapi::content::Content;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Ref, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::RefOr;
use utoipa::{Modify, OpenApi};

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CRMConnect API",
        description = "The CRMConnect REST API. JSON, snake_case, integer ids; money as decimal strings; \
errors as application/problem+json with a stable `code`. Lists take `limit` (1-500, default 50) and an \
opaque `cursor`, and answer `{\"items\": [...], \"next_cursor\": ...}`. Authenticate with \
`Authorization: Bearer <token>`: a JWT from `POST /api/v1/auth/login` or a personal API token. \
Every operation lists the statuses it answers; any operation may also fail with 500 `internal_error` or \
503 `database_unavailable`."
    ),
    paths(
        api::health::health,
        api::auth::login,
        api::auth::refresh,
        api::auth::logout,
        api::auth::me,
        api::auth::update_me,
        api::auth::change_password,
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
        api::leads::export,
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
        api::opportunities::create,
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
        api::events::list,
        api::tasks::list,
        api::commissions::list_policies,
        api::commissions::create_policy,
        api::commissions::get_policy,
        api::commissions::update_policy,
        api::commissions::delete_policy,
        api::commissions::list_applicable,
        api::commissions::add_applicable_staff,
        api::commissions::remove_applicable_staff,
        api::commissions::list,
        api::commissions::get,
        api::commissions::create_receipt,
        api::commissions::list_receipts,
        api::commissions::get_receipt,
        api::commissions::receipt_pdf,
        api::expenses::list_categories,
        api::expenses::create_category,
        api::expenses::update_category,
        api::expenses::delete_category,
        api::expenses::list,
        api::expenses::create,
        api::expenses::get,
        api::expenses::update,
        api::expenses::delete,
        api::expenses::upload,
        api::expenses::list_attachments,
        api::expenses::download,
        api::expenses::delete_attachment,
        api::reports::sales,
        api::reports::leads,
        api::reports::sales_overview,
        api::dashboard::get,
        api::goals::list_teams,
        api::goals::create_team,
        api::goals::get_team,
        api::goals::update_team,
        api::goals::delete_team,
        api::goals::list,
        api::goals::create,
        api::goals::get,
        api::goals::update,
        api::goals::delete,
        api::tasks::create,
        api::tasks::get,
        api::tasks::update,
        api::tasks::complete,
        api::tasks::delete,
        api::webhooks::list,
        api::webhooks::create,
        api::webhooks::get,
        api::webhooks::update,
        api::webhooks::delete,
        api::webhooks::deliveries,
        api::webhooks::redeliver,
        api::notifications::mark_read,
        api::notifications::mark_all_read,
        api::invoices::get_billing,
        api::invoices::update_billing,
        api::invoices::list,
        api::invoices::create,
        api::invoices::get,
        api::invoices::update,
        api::invoices::delete,
        api::invoices::issue,
        api::invoices::cancel,
        api::invoices::uncancel,
        api::invoices::send,
        api::invoices::emails,
        api::invoices::pdf,
        api::payments::create,
        api::payments::list_for_invoice,
        api::payments::list,
        api::payments::delete,
        api::payments::receipt,
        api::payments::list_modes,
        api::payments::create_mode,
        api::payments::update_mode,
        api::payments::delete_mode,
        api::payments::list_credits,
        api::payments::create_credit,
        api::payments::apply_credit,
        api::portal::view_invoice,
        api::portal::invoice_pdf,
        api::portal::pay_invoice,
        api::contracts::list,
        api::contracts::create,
        api::contracts::get,
        api::contracts::update,
        api::contracts::delete,
        api::contracts::renew,
        api::contracts::rotate_portal_link,
        api::invoices::rotate_portal_link,
        api::contracts::from_proposal,
        api::portal::view_contract,
        api::portal::sign_contract,
        api::contracts::list_statuses,
        api::contracts::create_status,
        api::gateway::webhook,
        api::sales_orders::get_sales_order,
        api::sales_orders::list,
        api::sales_orders::create,
        api::sales_orders::update,
        api::sales_orders::delete,
        api::sales_orders::set_status,
        api::sales_orders::convert_to_invoice,
        api::recurring::list,
        api::recurring::create,
        api::recurring::get,
        api::recurring::update,
        api::recurring::delete,
        api::recurring::history,
    ),
    components(schemas(
        crmconnect_domain::api::Problem,
        crmconnect_domain::validation::FieldError,
        crmconnect_domain::permissions::Module,
        crmconnect_domain::permissions::Action,
    )),
    modifiers(&BearerAuth, &ErrorResponses, &BinaryContent, &Conditional, &CustomFieldFilters),
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
        (name = "commissions", description = "Commissions: policies (percentage, marginal ladder, per product, per product ladder, margin), who earns under them, the commission each payment earns the invoice's sale agent (status 0 pending, 1 paid) and the receipts that pay them out"),
        (name = "expenses", description = "Expenses by category, with taxes, on a staff member's or a client's account, with the scanned receipt attached; commission receipts can record one"),
        (name = "goals", description = "Teams and goals: targets for the company, a staff member or a team over a period (income, converted leads, new clients, accepted proposals, contract value, invoices issued), each with what it has achieved, its progress and its status"),
        (name = "reports", description = "Read-only reports (permission `reports`; view own = the caller's records), as JSON or CSV"),
        (name = "tasks", description = "Tasks: follow-ups with assignees, followers, a due time and a reminder, about a record; the guide's statuses (1 not started, 4 in progress, 3 testing, 2 awaiting feedback, 5 complete)"),
        (name = "webhooks", description = "Outbound webhooks: the events feed pushed to your endpoints, signed, retried for 24 hours, in order per record"),
        (name = "events", description = "The events feed: every change to leads, opportunities, clients, proposals, sales orders, invoices, contracts and recurring invoices, in order, for keeping another system in sync"),
        (name = "settings", description = "Company settings and e-mail templates"),
        (name = "contracts", description = "Contracts, their statuses, renewals and portal signing"),
        (name = "invoices", description = "Invoices, numbering and the billing configuration"),
        (name = "payments", description = "Payments, payment modes and client credit"),
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

/// Operations that check no permission (any signed-in staff member may call them), so they never
/// answer 403 `forbidden`. `tests/api/authz_matrix.rs` checks that they do not, and
/// `tests/api/openapi_contract.rs` that the document declares 403 for every other operation.
pub const OPEN_TO_EVERY_SIGNED_IN_USER: &[&str] = &[
    "getMe",
    // Only the caller's own tokens; API tokens themselves get 403 `session_required` (declared).
    "listApiTokens",
    "createApiToken",
    "revokeApiToken",
    "listNotifications",
    "markAllNotificationsRead",
    "markNotificationRead",
    "listMyReminders",
    "searchRecords",
    "listTaxes",
    "listCurrencies",
    "listItems",
    "listPaymentModes",
    "listContractStatuses",
    "listCustomFields",
];

/// Operations that read their JSON body as raw bytes instead of through `extract::Json` (the
/// gateway's webhook verifies the signature of the exact bytes): no 415 or 422, their own 400s.
const RAW_BODIES: &[&str] = &["receivePaymentWebhook"];

/// Adds to every operation the error responses its shape implies — the failures of the HTTP
/// edge that every handler shares (see `extract.rs`, `problem.rs`) — so each operation lists
/// every status it can answer, as problem+json. Responses written on the handler stay; their
/// description gains the generic codes it does not mention yet. Business refusals (409, 503…)
/// are specific to a handler and written there.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for op in [&mut item.get, &mut item.put, &mut item.post, &mut item.patch, &mut item.delete].into_iter().flatten() {
                for (status, code, when) in edge_errors(op) {
                    let response = op.responses.responses.entry(status.to_string()).or_insert_with(|| RefOr::T(Response::new("")));
                    if let RefOr::T(response) = response {
                        add_code(response, code, when);
                    }
                }
                for (status, response) in op.responses.responses.iter_mut() {
                    if let RefOr::T(response) = response {
                        if status.starts_with('4') || status.starts_with('5') {
                            problem_content(response);
                        }
                        if status == "429" {
                            response.headers.entry("Retry-After".into()).or_insert_with(|| {
                                let mut h = Header::new(ObjectBuilder::new().schema_type(Type::Integer));
                                h.description = Some("Seconds to wait before trying again.".into());
                                h
                            });
                        }
                    }
                }
            }
        }
    }
}

/// `(status, code, when)` for each failure of the HTTP edge this operation can meet.
fn edge_errors(op: &Operation) -> Vec<(u16, &'static str, &'static str)> {
    let id = op.operation_id.as_deref().unwrap_or_default();
    let params = op.parameters.as_deref().unwrap_or_default();
    let path_params: Vec<_> = params.iter().filter(|p| p.parameter_in == ParameterIn::Path).collect();
    let query_params: Vec<_> = params.iter().filter(|p| p.parameter_in == ParameterIn::Query).collect();
    let body_types: Vec<&str> = op.request_body.iter().flat_map(|b| b.content.keys()).map(String::as_str).collect();
    let raw_body = RAW_BODIES.contains(&id) && !body_types.is_empty();
    let json_body = !raw_body && body_types.contains(&"application/json");
    let multipart = body_types.contains(&"multipart/form-data");
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let portal = op.tags.iter().flatten().any(|t| t == "portal");

    let mut out = Vec::new();
    if path_params.iter().any(|p| !is_string(p.schema.as_ref())) {
        out.push((400, "invalid_path", "a path parameter is not a valid value (e.g. `abc` for an id)"));
    }
    if !query_params.is_empty() {
        out.push((400, "invalid_query", "a query parameter has the wrong type or value"));
        out.push((422, "validation_failed", "a query parameter's value is out of range or not an RFC 3339 instant; see `errors`"));
    }
    if query_params.iter().any(|p| p.name == "cursor") {
        out.push((400, "invalid_cursor", "`cursor` is not a `next_cursor` this list gave out"));
    }
    if json_body {
        out.push((400, "malformed_json", "the body is not valid JSON"));
    }
    if secured {
        out.push((401, "unauthenticated", "no `Authorization: Bearer` header"));
        out.push((401, "invalid_token", "expired, revoked or unknown token, or a deactivated account"));
        if !OPEN_TO_EVERY_SIGNED_IN_USER.contains(&id) {
            out.push((403, "forbidden", "your role (or the API token's scopes) does not allow it"));
        }
    }
    if !path_params.is_empty() {
        out.push((404, "not_found", "no such record, or one you may not see"));
    }
    if json_body {
        out.push((413, "payload_too_large", "the body is over 1 MiB"));
        out.push((415, "unsupported_media_type", "send `Content-Type: application/json`"));
        out.push((422, "validation_failed", "a field is missing or invalid; see `errors`"));
    }
    if multipart {
        out.push((413, "payload_too_large", "the file is over 10 MiB"));
        out.push((415, "unsupported_media_type", "send `multipart/form-data`"));
        out.push((422, "validation_failed", "no `file` field; see `errors`"));
    }
    if raw_body {
        out.push((413, "payload_too_large", "the body is over 1 MiB"));
    }
    if portal {
        out.push((429, "rate_limited", "too many requests from this address; see `Retry-After`"));
    }
    if params.iter().any(|p| p.parameter_in == ParameterIn::Header && p.name == "If-Match") {
        out.push((412, "precondition_failed", "the record changed since the `ETag` in `If-Match` was read; nothing was changed"));
    } else {
        out.push((400, "bad_request", "an `If-Match` header, which this operation cannot check"));
    }
    out.push((422, "unknown_parameter", "a query parameter this operation does not accept; `errors` names each"));
    out
}

fn is_string(schema: Option<&RefOr<Schema>>) -> bool {
    matches!(schema, Some(RefOr::T(Schema::Object(o))) if o.schema_type == SchemaType::Type(Type::String))
}

/// Names `code` in the response's description unless it is there already.
fn add_code(response: &mut Response, code: &str, when: &str) {
    let named = format!("`{code}`");
    if response.description.contains(&named) {
        return;
    }
    let line = format!("{named}: {when}");
    response.description = if response.description.trim().is_empty() { line } else { format!("{}; {line}", response.description.trim_end()) };
}

/// An error response without content gets the problem schema.
fn problem_content(response: &mut Response) {
    if response.content.is_empty() {
        response.content.insert(crate::problem::PROBLEM_JSON.into(), Content::new(Some(Ref::from_schema_name("Problem"))));
    }
}

/// Every response or request content that is not JSON (PDFs, CSV exports, attachments, the
/// upload form's file) is a file: `type: string, format: binary`, so generators hand it over
/// as bytes instead of guessing.
struct BinaryContent;

impl Modify for BinaryContent {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let binary = || -> RefOr<Schema> { ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))).into() };
        for item in openapi.paths.paths.values_mut() {
            for op in [&mut item.get, &mut item.put, &mut item.post, &mut item.patch, &mut item.delete].into_iter().flatten() {
                for response in op.responses.responses.values_mut() {
                    if let RefOr::T(response) = response {
                        for (media, content) in response.content.iter_mut() {
                            if !is_json(media) && (content.schema.is_none() || is_string(content.schema.as_ref())) {
                                content.schema = Some(binary());
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Conditional requests (`conditional.rs`): a JSON `200` of a `GET` or `PATCH` carries an
/// `ETag`, and a `GET` answers `304` when `If-None-Match` names it.
struct Conditional;

impl Modify for Conditional {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for (op, get) in [(&mut item.get, true), (&mut item.patch, false)] {
                let Some(op) = op else { continue };
                let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") else { continue };
                if !ok.content.contains_key("application/json") {
                    continue;
                }
                ok.headers.entry("ETag".into()).or_insert_with(|| {
                    let mut h = Header::new(ObjectBuilder::new().schema_type(Type::String));
                    h.description = Some("The representation's entity tag: send it back as `If-None-Match` (GET) or `If-Match` (PATCH).".into());
                    h
                });
                if get {
                    op.responses
                        .responses
                        .entry("304".into())
                        .or_insert_with(|| RefOr::T(Response::new("Not Modified: `If-None-Match` names the current `ETag`.")));
                }
            }
        }
    }
}

/// Lists that also filter by custom fields (`cf.<key>=<value>`) say so with an extension, which
/// the unknown-parameter check (`query_rules.rs`) reads.
const CUSTOM_FIELD_LISTS: &[&str] = &["listLeads", "exportLeads", "listClients", "listInvoices", "listProposals"];

struct CustomFieldFilters;

impl Modify for CustomFieldFilters {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let Some(op) = &mut item.get else { continue };
            if CUSTOM_FIELD_LISTS.contains(&op.operation_id.as_deref().unwrap_or_default()) {
                let ext = utoipa::openapi::extensions::ExtensionsBuilder::new()
                    .add(crate::query_rules::CUSTOM_FIELD_FILTERS, "Filter by a custom field with `cf.<key>=<value>` (the field's key).")
                    .build();
                op.extensions.get_or_insert_with(Default::default).merge(ext);
            }
        }
    }
}

fn is_json(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json")
}

pub fn spec() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document exactly as committed in `openapi/openapi.json`.
pub fn spec_json() -> serde_json::Result<String> {
    let mut json = spec().to_pretty_json()?;
    json.push('\n');
    Ok(json)
}
