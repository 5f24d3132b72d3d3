//! `/admin/clients` (list with search) and `/admin/clients/{id}` (contacts, proposals,
//! invoices, contracts, history), and the header's global search.

use crmconnect_domain::api::{Client, Contract, InvoicePage, Page, Proposal, SearchResults, TimelineEntry};
use crmconnect_domain::permissions::{Action, Module};
use leptos::prelude::*;
use leptos_router::components::A;

use super::proposals::{money, status_label};
use crate::api;

#[component]
pub fn ClientsList() -> impl IntoView {
    let q = RwSignal::new(String::new());
    let clients = api::load::<Page<Client>>(move || {
        let text = q.get();
        format!("/api/v1/clients?limit=200&q={}", api::url_encode(&text))
    });
    view! {
        <div class="board-header">
            <h1>"Clients"</h1>
            <input id="clients-q" placeholder="Search company or VAT number" aria-label="Search clients" on:change=move |ev| q.set(event_target_value(&ev))/>
        </div>
        {move || match clients.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <div class="alert" role="alert">{e.summary()}</div> }.into_any(),
            Some(Ok(page)) => view! {
                <table class="grid" id="clients-table">
                    <thead><tr><th>"Company"</th><th>"VAT"</th><th>"City"</th><th>"Primary contact"</th><th>"Currency"</th></tr></thead>
                    <tbody>{page.items.into_iter().map(|c| {
                        let contact = c.contacts.first().map(|x| format!("{} {}", x.name, x.email.clone().unwrap_or_default())).unwrap_or_default();
                        view! {
                            <tr><td><A href=format!("/admin/clients/{}", c.id)>{c.company.clone()}</A></td><td>{c.vat_number.clone().unwrap_or_default()}</td>
                                <td>{c.city.clone().unwrap_or_default()}</td><td>{contact}</td><td>{c.currency.clone()}</td></tr>
                        }
                    }).collect_view()}</tbody>
                </table>
            }.into_any(),
        }}
    }
}

#[component]
pub fn ClientRecord(id: i32) -> impl IntoView {
    let client = api::load::<Client>(move || format!("/api/v1/clients/{id}"));
    let proposals = api::load::<Page<Proposal>>(move || format!("/api/v1/proposals?client_id={id}"));
    let invoices = api::load::<InvoicePage>(move || format!("/api/v1/invoices?client_id={id}"));
    let contracts = api::load::<Page<Contract>>(move || format!("/api/v1/contracts?client_id={id}"));
    let history = api::load::<Page<TimelineEntry>>(move || format!("/api/v1/clients/{id}/history"));
    let session = expect_context::<crate::app::Session>();
    view! {
        {move || match client.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <div class="alert" role="alert">{e.summary()}</div> }.into_any(),
            Some(Ok(c)) => view! {
                <div class="board-header">
                    <h1 id="client-name">{c.company.clone()}</h1>
                    {session.can(Module::Proposals, Action::Create).then(|| view! { <A href=format!("/admin/proposals/new?client_id={id}") attr:class="button">"+ Proposal"</A> })}
                    {session.can(Module::Invoices, Action::Create).then(|| view! { <A href=format!("/admin/invoices/new?client_id={id}") attr:class="button secondary">"+ Invoice"</A> })}
                </div>
                <p class="muted">{[c.vat_number.clone(), c.registration_number.clone(), c.address.clone(), c.city.clone(), c.phone.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ")}</p>
                <p class="small">{format!("Currency {} · payment terms {} days", c.currency, c.payment_terms_days)}</p>
                <section class="card"><h2>"Contacts"</h2>
                    <ul class="plain">{c.contacts.iter().map(|x| view! { <li>{format!("{}{} · {} · {}", x.name, if x.is_primary { " (primary)" } else { "" }, x.email.clone().unwrap_or_default(), x.phone.clone().unwrap_or_default())}</li> }).collect_view()}</ul>
                </section>
            }.into_any(),
        }}
        <div class="two-col">
            <section class="card" id="client-proposals"><h2>"Proposals"</h2>
                {move || proposals.get().and_then(|r| r.ok()).map(|p| view! {
                    <ul class="plain">{p.items.into_iter().map(|p| view! { <li><A href=format!("/admin/proposals/{}", p.id)>{p.number.clone()}</A>{format!(" · {} · {}", money(p.amounts.total, &p.currency), status_label(p.status_code))}</li> }).collect_view()}</ul>
                })}
            </section>
            <section class="card" id="client-invoices"><h2>"Invoices"</h2>
                {move || invoices.get().and_then(|r| r.ok()).map(|p| view! {
                    <ul class="plain">{p.items.into_iter().map(|i| view! { <li><A href=format!("/admin/invoices/{}", i.id)>{i.number.clone().unwrap_or_else(|| "draft".into())}</A>{format!(" · {} · {} due · {}", money(i.amounts.total, &i.currency), i.balance_due, i.status.replace('_', " "))}</li> }).collect_view()}</ul>
                })}
            </section>
            <section class="card"><h2>"Contracts"</h2>
                {move || contracts.get().and_then(|r| r.ok()).map(|p| view! {
                    <ul class="plain">{p.items.into_iter().map(|k| view! { <li>{format!("{} · {} → {} · {}", k.subject, k.start_date, k.end_date.map(|d| d.to_string()).unwrap_or_default(), k.status.unwrap_or_default())}</li> }).collect_view()}</ul>
                })}
            </section>
            <section class="card"><h2>"History"</h2>
                {move || history.get().and_then(|r| r.ok()).map(|p| view! {
                    <ul class="plain">{p.items.into_iter().rev().map(|t| view! { <li><span class="small muted">{t.at.date().to_string()}" "</span>{t.title}</li> }).collect_view()}</ul>
                })}
            </section>
        </div>
    }
}

/// The header's search box: leads, opportunities and clients, grouped.
#[component]
pub fn GlobalSearch() -> impl IntoView {
    let q = RwSignal::new(String::new());
    let results = RwSignal::new(None::<SearchResults>);
    Effect::new(move |_| {
        let text = q.get();
        leptos::task::spawn_local(async move {
            let found =
                if text.trim().len() < 2 { None } else { api::get::<SearchResults>(&format!("/api/v1/search?q={}", api::url_encode(&text))).await.ok() };
            // A slower answer to an earlier query never replaces the current one's.
            if q.try_with_untracked(|now| *now == text) == Some(true) {
                results.try_set(found);
            }
        });
    });
    view! {
        <div class="search">
            <input id="global-search" type="search" placeholder="Search…" aria-label="Search leads, opportunities and clients" on:input=move |ev| q.set(event_target_value(&ev))/>
            {move || results.get().map(|r| view! {
                <div class="bell-menu card" id="search-results">
                    {(!r.leads.is_empty()).then(|| view! { <h3>"Leads"</h3>{r.leads.iter().map(|l| view! { <p><a href=format!("/admin/leads/{}", l.id)>{l.name.clone()}</a></p> }).collect_view()} })}
                    {(!r.opportunities.is_empty()).then(|| view! { <h3>"Opportunities"</h3>{r.opportunities.iter().map(|l| view! { <p><a href=format!("/admin/opportunities/{}", l.id)>{l.name.clone()}</a></p> }).collect_view()} })}
                    {(!r.clients.is_empty()).then(|| view! { <h3>"Clients"</h3>{r.clients.iter().map(|c| view! { <p><a href=format!("/admin/clients/{}", c.id)>{c.company.clone()}</a></p> }).collect_view()} })}
                    {(r.leads.is_empty() && r.opportunities.is_empty() && r.clients.is_empty()).then(|| view! { <p class="muted">"No matches."</p> })}
                </div>
            })}
        </div>
    }
}
