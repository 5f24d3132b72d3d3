use crmconnect_domain::api::{InvoicePage, Lead, Page, Proposal, Reminder};
use crmconnect_domain::permissions::{Action, Module};
use leptos::prelude::*;
use leptos_router::components::A;
use serde_json::Value;

use crate::api;
use crate::app::Session;

/// `/admin`: the morning dashboard. New uncontacted leads of today and your reminders due
/// today or overdue; my expired proposals; overdue invoices; the goals that concern me.
#[component]
pub fn Dashboard() -> impl IntoView {
    let session = expect_context::<Session>();
    let new_leads = api::load::<Page<Lead>>(move || "/api/v1/leads?created=today&uncontacted=true&limit=20".to_string());
    // A signal filled once rather than a `LocalResource`: the app uses no async-derived
    // signals at all, which keeps their machinery out of the bundle.
    let due = RwSignal::new(None::<Result<Vec<Reminder>, api::ApiFailure>>);
    leptos::task::spawn_local(async move {
        let items = async {
            let today = api::get::<Page<Reminder>>("/api/v1/reminders?due=today").await?;
            let overdue = api::get::<Page<Reminder>>("/api/v1/reminders?due=overdue").await?;
            let mut items = overdue.items;
            items.extend(today.items.into_iter().filter(|r| r.remind_at > time::OffsetDateTime::now_utc()));
            Ok(items)
        };
        due.try_set(Some(items.await));
    });
    // "Of my clients": invoices where I am the sale agent or the client is assigned to me
    // (view-own roles are limited to exactly that by the API).
    let expired = api::load::<Page<Proposal>>(move || "/api/v1/proposals?expired=true&assigned=me&limit=10".to_string());
    let overdue = api::load::<InvoicePage>(move || "/api/v1/invoices?status=4&limit=10".to_string());
    // The company's, mine and my teams' goals, for roles that may see goals (or their own).
    let goals = (session.can(Module::Goals, Action::View) || session.can(Module::Goals, Action::ViewOwn))
        .then(|| api::load::<Value>(move || "/api/v1/goals?concerning=me&limit=20".to_string()));
    view! {
        <h1>"Dashboard"</h1>
        <p id="welcome">{move || session.me.get().map(|m| format!("Good to see you, {}.", m.name)).unwrap_or_default()}</p>
        <section class="cards">
            <div class="card" id="new-leads">
                <h2>"New uncontacted leads"</h2>
                {move || match new_leads.get() {
                    None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="muted">{e.summary()}</p> }.into_any(),
                    Some(Ok(page)) if page.items.is_empty() => view! { <p class="muted">"None today."</p> }.into_any(),
                    Some(Ok(page)) => view! {
                        <ul class="plain">
                            {page.items.into_iter().map(|l| view! {
                                <li><A href=format!("/admin/leads/{}", l.id)>{l.name}</A>
                                    <span class="muted small">{format!(" · {}", l.source.unwrap_or_else(|| "no source".into()))}</span></li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }}
            </div>
            <div class="card" id="reminders-due">
                <h2>"Reminders due"</h2>
                {move || match due.get() {
                    None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="muted">{e.summary()}</p> }.into_any(),
                    Some(Ok(items)) if items.is_empty() => view! { <p class="muted">"Nothing due."</p> }.into_any(),
                    Some(Ok(items)) => view! {
                        <ul class="plain">
                            {items.into_iter().map(|r| view! {
                                <li><A href=format!("/admin/leads/{}", r.lead_id)>{r.lead_name}</A>
                                    <span class="muted small">{format!(" · {}", r.note.unwrap_or_default())}</span></li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }}
            </div>
            <div class="card" id="expired-proposals">
                <h2>"Expired proposals"</h2>
                {move || match expired.get() {
                    None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                    Some(Err(_)) => view! { <p class="muted">"Not available for your role."</p> }.into_any(),
                    Some(Ok(page)) if page.items.is_empty() => view! { <p class="muted">"None."</p> }.into_any(),
                    Some(Ok(page)) => view! {
                        <ul class="plain">
                            {page.items.into_iter().map(|p| view! {
                                <li><A href=format!("/admin/proposals/{}", p.id)>{p.number}</A>
                                    <span class="muted small">{format!(" · {} · till {}", p.subject, p.open_till.map(|d| d.to_string()).unwrap_or_default())}</span></li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }}
            </div>
            <div class="card" id="overdue-invoices">
                <h2>"Overdue invoices"</h2>
                {move || match overdue.get() {
                    None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                    Some(Err(_)) => view! { <p class="muted">"Not available for your role."</p> }.into_any(),
                    Some(Ok(page)) if page.items.is_empty() => view! { <p class="muted">"None."</p> }.into_any(),
                    Some(Ok(page)) => view! {
                        <ul class="plain">
                            {page.items.into_iter().map(|i| view! {
                                <li><A href=format!("/admin/invoices/{}", i.id)>{i.number.unwrap_or_default()}</A>
                                    <span class="muted small">{format!(" · {} · {} {} due · {} d late", i.client_name, i.balance_due, i.currency, i.days_overdue)}</span></li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }}
            </div>
            {goals.map(|goals| view! {
                <div class="card" id="my-goals">
                    <h2>"Goals"</h2>
                    {move || match goals.get().map(|r| r.map(|v| super::settings::rows(&v))) {
                        None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                        Some(Err(e)) => view! { <p class="muted">{e.summary()}</p> }.into_any(),
                        Some(Ok(items)) if items.is_empty() => view! { <p class="muted">"No goals."</p> }.into_any(),
                        Some(Ok(items)) => view! {
                            <ul class="plain">
                                {items.iter().map(|g| view! {
                                    <li data-id=g["id"].to_string()>{super::settings::text_of(g.get("subject"))}<br/>{super::settings::progress(g)}</li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }}
                </div>
            })}
        </section>
    }
}
