//! The `/api/v1` endpoints, one module per resource. Every route is mounted here, in one
//! visible place; each module owns its handlers, their queries and their OpenAPI annotations.

pub mod activities;
pub mod api_tokens;
pub mod attachments;
pub mod audit_log;
pub mod auth;
pub mod bulk;
pub mod catalogue;
pub mod clients;
pub mod commissions;
pub mod contracts;
pub mod custom_fields;
pub mod dashboard;
pub mod events;
pub mod expenses;
pub mod gateway;
pub mod goals;
pub mod health;
pub mod invoices;
pub mod kanban;
pub mod leads;
pub mod lookups;
pub mod notifications;
pub mod opportunities;
pub mod payments;
pub mod pipelines;
pub mod portal;
pub mod proposal_templates;
pub mod proposals;
pub mod recurring;
pub mod reminders;
pub mod reports;
pub mod roles;
pub mod sales_orders;
pub mod scoring;
pub mod search;
pub mod settings;
pub mod staff;
pub mod tasks;
pub mod webhooks;

use actix_web::{web, HttpResponse};

/// Routes are `web::resource`s so a wrong method gets 405 (not the scope's 404).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health").route(web::get().to(health::health)))
        .service(web::resource("/auth/login").route(web::post().to(auth::login)))
        .service(web::resource("/auth/refresh").route(web::post().to(auth::refresh)))
        .service(web::resource("/auth/logout").route(web::post().to(auth::logout)))
        .service(web::resource("/me").route(web::get().to(auth::me)).route(web::patch().to(auth::update_me)))
        .service(web::resource("/me/password").route(web::post().to(auth::change_password)))
        .service(web::resource("/api-tokens").route(web::get().to(api_tokens::list)).route(web::post().to(api_tokens::create)))
        .service(web::resource("/api-tokens/{id}").route(web::delete().to(api_tokens::revoke)))
        .service(web::resource("/staff").route(web::get().to(staff::list)).route(web::post().to(staff::create)))
        .service(web::resource("/staff/{id}").route(web::get().to(staff::get)).route(web::patch().to(staff::update)).route(web::delete().to(staff::deactivate)))
        .service(web::resource("/roles").route(web::get().to(roles::list)).route(web::post().to(roles::create)))
        .service(web::resource("/roles/{id}").route(web::get().to(roles::get)).route(web::patch().to(roles::update)).route(web::delete().to(roles::delete)))
        .service(web::resource("/audit-log").route(web::get().to(audit_log::list)))
        .configure(configure_leads)
        .configure(configure_clients)
        .configure(configure_quoting)
        .configure(configure_invoicing);
}

fn configure_quoting(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/taxes").route(web::get().to(catalogue::list_taxes)).route(web::post().to(catalogue::create_tax)))
        .service(web::resource("/taxes/{id}").route(web::patch().to(catalogue::update_tax)).route(web::delete().to(catalogue::delete_tax)))
        .service(web::resource("/items").route(web::get().to(catalogue::list_items)).route(web::post().to(catalogue::create_item)))
        .service(web::resource("/items/{id}").route(web::patch().to(catalogue::update_item)).route(web::delete().to(catalogue::delete_item)))
        .service(web::resource("/currencies").route(web::get().to(catalogue::list_currencies)).route(web::post().to(catalogue::create_currency)))
        .service(web::resource("/currencies/{id}").route(web::patch().to(catalogue::update_currency)).route(web::delete().to(catalogue::delete_currency)))
        .service(web::resource("/settings").route(web::get().to(settings::get)).route(web::patch().to(settings::update)))
        .service(web::resource("/email-templates").route(web::get().to(settings::list_email_templates)))
        .service(web::resource("/email-templates/{id}").route(web::patch().to(settings::update_email_template)))
        .service(web::resource("/proposal-templates").route(web::get().to(proposal_templates::list)).route(web::post().to(proposal_templates::create)))
        .service(
            web::resource("/proposal-templates/{id}")
                .route(web::get().to(proposal_templates::get))
                .route(web::patch().to(proposal_templates::update))
                .route(web::delete().to(proposal_templates::delete)),
        )
        .service(web::resource("/proposals").route(web::get().to(proposals::list)).route(web::post().to(proposals::create)))
        .service(
            web::resource("/proposals/{id}")
                .route(web::get().to(proposals::get))
                .route(web::patch().to(proposals::update))
                .route(web::delete().to(proposals::delete)),
        )
        .service(web::resource("/proposals/{id}/status").route(web::post().to(proposals::set_status)))
        .service(web::resource("/proposals/{id}/send").route(web::post().to(proposals::send)))
        .service(web::resource("/proposals/{id}/emails").route(web::get().to(proposals::emails)))
        .service(web::resource("/proposals/{id}/pdf").route(web::get().to(proposals::pdf)))
        .service(web::resource("/proposals/{id}/comments").route(web::get().to(proposals::list_comments)).route(web::post().to(proposals::add_comment)))
        .service(
            web::resource("/proposals/{id}/portal-token").route(web::post().to(proposals::regenerate_token)).route(web::delete().to(proposals::revoke_token)),
        )
        .service(web::resource("/proposals/{id}/convert-to-invoice").route(web::post().to(proposals::convert_to_invoice)))
        .service(web::resource("/proposals/{id}/convert-to-sales-order").route(web::post().to(proposals::convert_to_sales_order)))
        .service(web::resource("/portal/proposals/{token}").route(web::get().to(portal::view)))
        .service(web::resource("/portal/proposals/{token}/accept").route(web::post().to(portal::accept)))
        .service(web::resource("/portal/proposals/{token}/decline").route(web::post().to(portal::decline)))
        .service(web::resource("/portal/proposals/{token}/comments").route(web::get().to(portal::list_comments)).route(web::post().to(portal::add_comment)))
        .service(web::resource("/portal/proposals/{token}/pdf").route(web::get().to(portal::pdf)))
        // Before `/notifications/{id}/read`-style routes: "read-all" is a literal.
        .service(web::resource("/notifications/read-all").route(web::post().to(notifications::mark_all_read)))
        .service(web::resource("/notifications").route(web::get().to(notifications::list)))
        .service(web::resource("/events").route(web::get().to(events::list)))
        .service(web::resource("/tasks").route(web::get().to(tasks::list)).route(web::post().to(tasks::create)))
        .service(web::resource("/commission/policies").route(web::get().to(commissions::list_policies)).route(web::post().to(commissions::create_policy)))
        .service(
            web::resource("/commission/policies/{id}")
                .route(web::get().to(commissions::get_policy))
                .route(web::patch().to(commissions::update_policy))
                .route(web::delete().to(commissions::delete_policy)),
        )
        .service(
            web::resource("/commission/applicable-staff")
                .route(web::get().to(commissions::list_applicable))
                .route(web::post().to(commissions::add_applicable_staff)),
        )
        .service(web::resource("/commission/applicable-staff/{id}").route(web::delete().to(commissions::remove_applicable_staff)))
        .service(web::resource("/commissions").route(web::get().to(commissions::list)))
        .service(web::resource("/reports/sales").route(web::get().to(reports::sales)))
        .service(web::resource("/reports/leads").route(web::get().to(reports::leads)))
        .service(web::resource("/reports/sales-overview").route(web::get().to(reports::sales_overview)))
        .service(web::resource("/dashboard").route(web::get().to(dashboard::get)))
        .service(web::resource("/teams").route(web::get().to(goals::list_teams)).route(web::post().to(goals::create_team)))
        .service(web::resource("/expense-categories").route(web::get().to(expenses::list_categories)).route(web::post().to(expenses::create_category)))
        .service(web::resource("/expense-categories/{id}").route(web::patch().to(expenses::update_category)).route(web::delete().to(expenses::delete_category)))
        .service(web::resource("/expenses").route(web::get().to(expenses::list)).route(web::post().to(expenses::create)))
        .service(
            web::resource("/expenses/{id}")
                .route(web::get().to(expenses::get))
                .route(web::patch().to(expenses::update))
                .route(web::delete().to(expenses::delete)),
        )
        .service(web::resource("/expenses/{id}/attachments").route(web::get().to(expenses::list_attachments)).route(web::post().to(expenses::upload)))
        .service(
            web::resource("/expenses/{id}/attachments/{attachment_id}")
                .route(web::get().to(expenses::download))
                .route(web::delete().to(expenses::delete_attachment)),
        )
        .service(
            web::resource("/teams/{id}")
                .route(web::get().to(goals::get_team))
                .route(web::patch().to(goals::update_team))
                .route(web::delete().to(goals::delete_team)),
        )
        .service(web::resource("/goals").route(web::get().to(goals::list)).route(web::post().to(goals::create)))
        .service(web::resource("/goals/{id}").route(web::get().to(goals::get)).route(web::patch().to(goals::update)).route(web::delete().to(goals::delete)))
        .service(web::resource("/commissions/{id}").route(web::get().to(commissions::get)))
        .service(web::resource("/commission-receipts").route(web::get().to(commissions::list_receipts)).route(web::post().to(commissions::create_receipt)))
        .service(web::resource("/commission-receipts/{id}").route(web::get().to(commissions::get_receipt)))
        .service(web::resource("/commission-receipts/{id}/pdf").route(web::get().to(commissions::receipt_pdf)))
        .service(web::resource("/tasks/{id}").route(web::get().to(tasks::get)).route(web::patch().to(tasks::update)).route(web::delete().to(tasks::delete)))
        .service(web::resource("/tasks/{id}/complete").route(web::post().to(tasks::complete)))
        .service(web::resource("/webhooks").route(web::get().to(webhooks::list)).route(web::post().to(webhooks::create)))
        .service(
            web::resource("/webhooks/{id}")
                .route(web::get().to(webhooks::get))
                .route(web::patch().to(webhooks::update))
                .route(web::delete().to(webhooks::delete)),
        )
        .service(web::resource("/webhooks/{id}/deliveries").route(web::get().to(webhooks::deliveries)))
        .service(web::resource("/webhooks/{id}/deliveries/{delivery_id}/redeliver").route(web::post().to(webhooks::redeliver)))
        .service(web::resource("/notifications/{id}/read").route(web::post().to(notifications::mark_read)))
        .service(web::resource("/sales-orders").route(web::get().to(sales_orders::list)).route(web::post().to(sales_orders::create)))
        .service(
            web::resource("/sales-orders/{id}")
                .route(web::get().to(sales_orders::get_sales_order))
                .route(web::patch().to(sales_orders::update))
                .route(web::delete().to(sales_orders::delete)),
        )
        .service(web::resource("/sales-orders/{id}/status").route(web::post().to(sales_orders::set_status)))
        .service(web::resource("/sales-orders/{id}/convert-to-invoice").route(web::post().to(sales_orders::convert_to_invoice)));
}

fn configure_invoicing(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/billing/config").route(web::get().to(invoices::get_billing)).route(web::patch().to(invoices::update_billing)))
        .service(web::resource("/invoices").route(web::get().to(invoices::list)).route(web::post().to(invoices::create)))
        .service(
            web::resource("/invoices/{id}")
                .route(web::get().to(invoices::get))
                .route(web::patch().to(invoices::update))
                .route(web::delete().to(invoices::delete)),
        )
        .service(web::resource("/invoices/{id}/issue").route(web::post().to(invoices::issue)))
        .service(web::resource("/invoices/{id}/cancel").route(web::post().to(invoices::cancel)))
        .service(web::resource("/invoices/{id}/uncancel").route(web::post().to(invoices::uncancel)))
        .service(web::resource("/invoices/{id}/send").route(web::post().to(invoices::send)))
        .service(web::resource("/invoices/{id}/emails").route(web::get().to(invoices::emails)))
        .service(web::resource("/invoices/{id}/pdf").route(web::get().to(invoices::pdf)))
        .service(web::resource("/invoices/{id}/payments").route(web::get().to(payments::list_for_invoice)).route(web::post().to(payments::create)))
        .service(web::resource("/invoices/{id}/apply-credit").route(web::post().to(payments::apply_credit)))
        .service(web::resource("/payments").route(web::get().to(payments::list)))
        // Before `/payments/{id}`, which would otherwise capture "webhook".
        .service(web::resource("/payments/webhook").route(web::post().to(gateway::webhook)))
        .service(web::resource("/payments/{id}").route(web::delete().to(payments::delete)))
        .service(web::resource("/payments/{id}/receipt").route(web::get().to(payments::receipt)))
        .service(web::resource("/payment-modes").route(web::get().to(payments::list_modes)).route(web::post().to(payments::create_mode)))
        .service(web::resource("/payment-modes/{id}").route(web::patch().to(payments::update_mode)).route(web::delete().to(payments::delete_mode)))
        .service(web::resource("/clients/{id}/credits").route(web::get().to(payments::list_credits)).route(web::post().to(payments::create_credit)))
        .service(web::resource("/recurring-invoices").route(web::get().to(recurring::list)).route(web::post().to(recurring::create)))
        .service(
            web::resource("/recurring-invoices/{id}")
                .route(web::get().to(recurring::get))
                .route(web::patch().to(recurring::update))
                .route(web::delete().to(recurring::delete)),
        )
        .service(web::resource("/recurring-invoices/{id}/invoices").route(web::get().to(recurring::history)))
        .service(web::resource("/portal/invoices/{token}").route(web::get().to(portal::view_invoice)))
        .service(web::resource("/portal/invoices/{token}/pdf").route(web::get().to(portal::invoice_pdf)))
        .service(web::resource("/portal/invoices/{token}/pay").route(web::post().to(portal::pay_invoice)))
        .service(web::resource("/contract-statuses").route(web::get().to(contracts::list_statuses)).route(web::post().to(contracts::create_status)))
        .service(web::resource("/contracts").route(web::get().to(contracts::list)).route(web::post().to(contracts::create)))
        .service(
            web::resource("/contracts/{id}")
                .route(web::get().to(contracts::get))
                .route(web::patch().to(contracts::update))
                .route(web::delete().to(contracts::delete)),
        )
        .service(web::resource("/contracts/{id}/renew").route(web::post().to(contracts::renew)))
        .service(web::resource("/contracts/{id}/portal-token").route(web::post().to(contracts::rotate_portal_link)))
        .service(web::resource("/invoices/{id}/portal-token").route(web::post().to(invoices::rotate_portal_link)))
        .service(web::resource("/proposals/{id}/create-contract").route(web::post().to(contracts::from_proposal)))
        .service(web::resource("/portal/contracts/{token}").route(web::get().to(portal::view_contract)))
        .service(web::resource("/portal/contracts/{token}/sign").route(web::post().to(portal::sign_contract)));
}

fn configure_leads(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/pipelines").route(web::get().to(pipelines::list)).route(web::post().to(pipelines::create)))
        .service(
            web::resource("/pipelines/{id}")
                .route(web::get().to(pipelines::get))
                .route(web::patch().to(pipelines::update))
                .route(web::delete().to(pipelines::delete)),
        )
        .service(web::resource("/pipelines/{id}/statuses").route(web::get().to(pipelines::list_statuses)).route(web::post().to(pipelines::create_status)))
        // Before `/statuses/{status_id}`, which would otherwise capture "order".
        .service(web::resource("/pipelines/{id}/statuses/order").route(web::put().to(pipelines::reorder_statuses)))
        .service(
            web::resource("/pipelines/{id}/statuses/{status_id}")
                .route(web::patch().to(pipelines::update_status))
                .route(web::delete().to(pipelines::delete_status)),
        )
        .service(web::resource("/lead-sources").route(web::get().to(lookups::list_sources)).route(web::post().to(lookups::create_source)))
        .service(web::resource("/lead-sources/{id}").route(web::patch().to(lookups::update_source)).route(web::delete().to(lookups::delete_source)))
        .service(web::resource("/lost-reasons").route(web::get().to(lookups::list_lost_reasons)).route(web::post().to(lookups::create_lost_reason)))
        .service(web::resource("/lost-reasons/{id}").route(web::patch().to(lookups::update_lost_reason)).route(web::delete().to(lookups::delete_lost_reason)))
        // The board before `/leads/{id}`, which would otherwise capture "kanban".
        .service(web::resource("/leads/kanban").route(web::get().to(kanban::board)))
        .service(web::resource("/leads/kanban/{status_id}").route(web::get().to(kanban::column_page)))
        .service(web::resource("/leads/bulk").route(web::post().to(bulk::bulk)))
        .service(web::resource("/leads").route(web::get().to(leads::list)).route(web::post().to(leads::create)))
        .service(web::resource("/leads/export").route(web::get().to(leads::export)))
        .service(web::resource("/leads/{id}").route(web::get().to(leads::get)).route(web::patch().to(leads::update)).route(web::delete().to(leads::delete)))
        .service(web::resource("/leads/{id}/move").route(web::post().to(kanban::move_lead)))
        .service(web::resource("/leads/{id}/lost").route(web::post().to(leads::mark_lost)))
        .service(web::resource("/leads/{id}/junk").route(web::post().to(leads::mark_junk)))
        .service(web::resource("/leads/{id}/restore").route(web::post().to(leads::restore)))
        .service(web::resource("/leads/{id}/activities").route(web::get().to(activities::list)).route(web::post().to(activities::create)))
        .service(web::resource("/leads/{id}/timeline").route(web::get().to(activities::timeline)))
        .service(web::resource("/leads/{id}/reminders").route(web::get().to(reminders::list_for_lead)).route(web::post().to(reminders::create)))
        .service(web::resource("/leads/{id}/attachments").route(web::get().to(attachments::list)).route(web::post().to(attachments::upload)))
        .service(
            web::resource("/leads/{id}/attachments/{attachment_id}").route(web::get().to(attachments::download)).route(web::delete().to(attachments::delete)),
        )
        .service(web::resource("/reminders").route(web::get().to(reminders::mine)))
        .service(web::resource("/reminders/{id}/done").route(web::post().to(reminders::done)))
        .service(web::resource("/lead-scoring/rules").route(web::get().to(scoring::list)).route(web::post().to(scoring::create)))
        .service(web::resource("/lead-scoring/rules/{id}").route(web::patch().to(scoring::update)).route(web::delete().to(scoring::delete)))
        .service(web::resource("/search").route(web::get().to(search::search)))
        .service(web::resource("/custom-fields").route(web::get().to(custom_fields::list)).route(web::post().to(custom_fields::create)))
        .service(web::resource("/custom-fields/{id}").route(web::patch().to(custom_fields::update)).route(web::delete().to(custom_fields::delete)))
        .service(web::resource("/leads/{id}/convert-to-client").route(web::post().to(clients::convert_lead)))
        .service(web::resource("/leads/{id}/convert-to-opportunity").route(web::post().to(opportunities::convert)))
        .service(
            web::resource("/opportunity-statuses")
                .route(web::get().to(lookups::list_opportunity_statuses))
                .route(web::post().to(lookups::create_opportunity_status)),
        )
        .service(
            web::resource("/opportunity-statuses/{id}")
                .route(web::patch().to(lookups::update_opportunity_status))
                .route(web::delete().to(lookups::delete_opportunity_status)),
        )
        // Before `/opportunities/{id}`, which would otherwise capture "forecast".
        .service(web::resource("/opportunities/forecast").route(web::get().to(opportunities::forecast)))
        .service(web::resource("/opportunities").route(web::get().to(opportunities::list)).route(web::post().to(opportunities::create)))
        .service(web::resource("/opportunities/{id}").route(web::get().to(opportunities::get)).route(web::patch().to(opportunities::update)));
}

fn configure_clients(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/clients").route(web::get().to(clients::list)).route(web::post().to(clients::create)))
        .service(
            web::resource("/clients/{id}").route(web::get().to(clients::get)).route(web::patch().to(clients::update)).route(web::delete().to(clients::delete)),
        )
        .service(web::resource("/clients/{id}/history").route(web::get().to(clients::history)))
        .service(web::resource("/clients/{id}/contacts").route(web::get().to(clients::list_contacts)).route(web::post().to(clients::create_contact)))
        .service(
            web::resource("/clients/{id}/contacts/{contact_id}")
                .route(web::patch().to(clients::update_contact))
                .route(web::delete().to(clients::delete_contact)),
        );
}

/// A PDF shown inline in the browser (documents, receipts).
pub fn pdf_response(number: &str, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/pdf").insert_header(("Content-Disposition", format!("inline; filename=\"{number}.pdf\""))).body(bytes)
}
