//! Every `/admin/...` page: which screen a path shows.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::pages::invoices::{ContractsList, InvoiceView, InvoicesList, PaymentsList, RecurringList, SalesOrdersList};
use crate::pages::opportunities::{OpportunitiesPage, OpportunityRecord};
use crate::pages::pipelines::PipelinesPage;
use crate::pages::proposals::{InvoiceEditor, ProposalEditor, ProposalView, ProposalsList, RecurringEditor, SalesOrderEditor};
use crate::pages::roles::RolesPage;
use crate::pages::settings::{resource_for, BillingConfigPage, ResourcePage, SettingsIndex};

#[component]
pub fn ModulePage() -> impl IntoView {
    let location = use_location();
    move || {
        let path = location.pathname.get();
        match path.trim_end_matches('/') {
            "/admin/leads" => view! { <crate::pages::leads::LeadsBoard/> }.into_any(),
            "/admin/proposals" | "/admin/proposals/list_proposals" => view! { <ProposalsList/> }.into_any(),
            "/admin/clients" => view! { <crate::pages::clients::ClientsList/> }.into_any(),
            other if id_after(other, "/admin/clients/").is_some() => {
                view! { <crate::pages::clients::ClientRecord id=id_after(other, "/admin/clients/").unwrap_or_default()/> }.into_any()
            }
            other if id_after(other, "/admin/leads/").is_some() => {
                view! { <crate::pages::lead::LeadRecord id=id_after(other, "/admin/leads/").unwrap_or_default()/> }.into_any()
            }
            "/admin/proposals/new" => view! { <ProposalEditor/> }.into_any(),
            "/admin/invoices" | "/admin/invoices/list_invoices" => view! { <InvoicesList/> }.into_any(),
            "/admin/invoices/recurring" => view! { <RecurringList/> }.into_any(),
            "/admin/payments" => view! { <PaymentsList/> }.into_any(),
            "/admin/contracts" => view! { <ContractsList/> }.into_any(),
            "/admin/sales_orders" => view! { <SalesOrdersList/> }.into_any(),
            "/admin/invoices/new" => view! { <InvoiceEditor/> }.into_any(),
            "/admin/invoices/recurring/new" => view! { <RecurringEditor/> }.into_any(),
            "/admin/sales_orders/new" => view! { <SalesOrderEditor/> }.into_any(),
            other if edit_id(other, "/admin/invoices/recurring/").is_some() => {
                view! { <RecurringEditor id=edit_id(other, "/admin/invoices/recurring/").unwrap_or_default()/> }.into_any()
            }
            other if edit_id(other, "/admin/sales_orders/").is_some() => {
                view! { <SalesOrderEditor id=edit_id(other, "/admin/sales_orders/").unwrap_or_default()/> }.into_any()
            }
            other if other.starts_with("/admin/invoices/") => match other["/admin/invoices/".len()..].split_once('/') {
                Some((id, "edit")) => match id.parse::<i32>() {
                    Ok(id) => view! { <InvoiceEditor id=id/> }.into_any(),
                    Err(_) => not_found(),
                },
                _ => match other["/admin/invoices/".len()..].parse::<i32>() {
                    Ok(id) => view! { <InvoiceView id=id/> }.into_any(),
                    Err(_) => not_found(),
                },
            },
            other if other.starts_with("/admin/proposals/") => {
                let rest = &other["/admin/proposals/".len()..];
                match rest.split_once('/') {
                    Some((id, "edit")) => match id.parse::<i32>() {
                        Ok(id) => view! { <ProposalEditor id=id/> }.into_any(),
                        Err(_) => not_found(),
                    },
                    None => match rest.parse::<i32>() {
                        Ok(id) => view! { <ProposalView id=id/> }.into_any(),
                        Err(_) => not_found(),
                    },
                    _ => not_found(),
                }
            }
            "/admin/opportunities" => view! { <OpportunitiesPage/> }.into_any(),
            other if id_after(other, "/admin/opportunities/").is_some() => {
                view! { <OpportunityRecord id=id_after(other, "/admin/opportunities/").unwrap_or_default()/> }.into_any()
            }
            "/admin/commission" => view! { <crate::pages::commissions::CommissionsPage/> }.into_any(),
            "/admin/roles" => view! { <RolesPage/> }.into_any(),
            "/admin/profile" => view! { <crate::pages::account::ProfilePage/> }.into_any(),
            "/admin/utilities/activity_log" => view! { <crate::pages::activity::ActivityLogPage/> }.into_any(),
            "/admin/settings" => view! { <SettingsIndex/> }.into_any(),
            "/admin/billing/config" => view! { <BillingConfigPage/> }.into_any(),
            "/admin/leads/pipelines" | "/admin/leads/statuses" => view! { <PipelinesPage/> }.into_any(),
            other => match resource_for(other) {
                Some(resource) => view! { <ResourcePage resource=resource/> }.into_any(),
                None => view! {
                    <h1>"Not found"</h1>
                    <p class="muted">"There is no page at this address; choose one from the menu."</p>
                }
                .into_any(),
            },
        }
    }
}

/// The record id of `/admin/leads/42`-style paths (`None` for `/admin/leads/statuses`).
fn id_after(path: &str, prefix: &str) -> Option<i32> {
    path.strip_prefix(prefix)?.parse().ok()
}

/// The record id of `/admin/sales_orders/42/edit`-style paths.
fn edit_id(path: &str, prefix: &str) -> Option<i32> {
    path.strip_prefix(prefix)?.strip_suffix("/edit")?.parse().ok()
}

fn not_found() -> AnyView {
    view! { <h1>"Not found"</h1> }.into_any()
}
