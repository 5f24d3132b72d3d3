//! Every `/admin/...` page: the staff and roles screens, and each module's page.

use crmconnect_domain::api::{Page, Role, Staff};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::api::{self, ApiFailure};
use crate::nav::item_for;
use crate::pages::invoices::{ContractsList, InvoiceView, InvoicesList, PaymentsList, RecurringList, SalesOrdersList};
use crate::pages::proposals::{ProposalEditor, ProposalView, ProposalsList};

#[component]
pub fn ModulePage() -> impl IntoView {
    let location = use_location();
    move || {
        let path = location.pathname.get();
        match path.trim_end_matches('/') {
            "/admin/leads" => view! { <crate::pages::leads::LeadsBoard/> }.into_any(),
            "/admin/proposals" | "/admin/proposals/list_proposals" => view! { <ProposalsList/> }.into_any(),
            "/admin/clients" => view! { <crate::pages::clients::ClientsList/> }.into_any(),
            other if other.starts_with("/admin/clients/") => match other["/admin/clients/".len()..].parse::<i32>() {
                Ok(id) => view! { <crate::pages::clients::ClientRecord id=id/> }.into_any(),
                Err(_) => not_found(),
            },
            other if other.starts_with("/admin/leads/") => match other["/admin/leads/".len()..].parse::<i32>() {
                Ok(id) => view! { <crate::pages::lead::LeadRecord id=id/> }.into_any(),
                Err(_) => not_found(),
            },
            "/admin/proposals/new" => view! { <ProposalEditor/> }.into_any(),
            "/admin/invoices" | "/admin/invoices/list_invoices" => view! { <InvoicesList/> }.into_any(),
            "/admin/invoices/recurring" => view! { <RecurringList/> }.into_any(),
            "/admin/payments" => view! { <PaymentsList/> }.into_any(),
            "/admin/contracts" => view! { <ContractsList/> }.into_any(),
            "/admin/sales_orders" => view! { <SalesOrdersList/> }.into_any(),
            other if other.starts_with("/admin/invoices/") => match other["/admin/invoices/".len()..].parse::<i32>() {
                Ok(id) => view! { <InvoiceView id=id/> }.into_any(),
                Err(_) => not_found(),
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
            "/admin/staff" => view! { <StaffPage/> }.into_any(),
            "/admin/roles" => view! { <RolesPage/> }.into_any(),
            other => {
                let title = item_for(other).map(|i| i.label).unwrap_or("Not found");
                view! {
                    <h1>{title}</h1>
                    <p class="muted">"This module is not part of this build yet."</p>
                }
                .into_any()
            }
        }
    }
}

fn not_found() -> AnyView {
    view! { <h1>"Not found"</h1> }.into_any()
}

fn failure_view(e: ApiFailure) -> AnyView {
    view! { <div class="alert" role="alert">{e.summary()}</div> }.into_any()
}

#[component]
fn StaffPage() -> impl IntoView {
    let staff = LocalResource::new(|| api::get::<Page<Staff>>("/api/v1/staff?limit=500"));
    view! {
        <h1>"Staff"</h1>
        {move || match staff.get() {
            None => view! { <p>"Loading…"</p> }.into_any(),
            Some(Err(e)) => failure_view(e),
            Some(Ok(page)) => view! {
                <table class="grid" id="staff-table">
                    <thead><tr><th>"Name"</th><th>"E-mail"</th><th>"Role"</th><th>"Status"</th></tr></thead>
                    <tbody>
                        {page.items.into_iter().map(|s| view! {
                            <tr>
                                <td>{s.name}</td>
                                <td>{s.email}</td>
                                <td>{s.role_name}</td>
                                <td>{if s.active { "Active" } else { "Inactive" }}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any(),
        }}
    }
}

#[component]
fn RolesPage() -> impl IntoView {
    let roles = LocalResource::new(|| api::get::<Page<Role>>("/api/v1/roles?limit=500"));
    view! {
        <h1>"Roles"</h1>
        {move || match roles.get() {
            None => view! { <p>"Loading…"</p> }.into_any(),
            Some(Err(e)) => failure_view(e),
            Some(Ok(page)) => view! {
                <table class="grid" id="roles-table">
                    <thead><tr><th>"Role"</th><th>"Staff"</th><th>"Permissions"</th></tr></thead>
                    <tbody>
                        {page.items.into_iter().map(|r| {
                            let grants = if r.is_admin {
                                "Everything".to_string()
                            } else {
                                r.permissions.0.iter()
                                    .map(|(m, a)| format!("{}: {}", m.as_str(), a.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", ")))
                                    .collect::<Vec<_>>()
                                    .join(" · ")
                            };
                            view! { <tr><td>{r.name}</td><td>{r.staff_count}</td><td class="small">{grants}</td></tr> }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any(),
        }}
    }
}
