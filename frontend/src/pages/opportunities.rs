//! `/admin/opportunities`: the weighted pipeline — a board by opportunity status (drag a card
//! to change its status, rolled back if refused) or a list, with totals and weighted totals
//! (value × probability) per currency; and the opportunity record (its proposals, activity,
//! reminders and files, with the lead record's panels).

use crmconnect_domain::api::{Forecast, Lead, NamedOption, Page, UpdateOpportunity};
use crmconnect_domain::permissions::{Action, Module};
use leptos::prelude::*;
use leptos_router::components::A;
use rust_decimal::Decimal;

use super::lead::{Attachments, RecordActivity, RecordProposals};
use super::proposals::money;
use super::settings::{field, EditForm, Field, Kind};
use crate::api::{self, ApiFailure};
use crate::app::Session;

const OPPORTUNITY_FIELDS: &[Field] = &[
    field("name", "Name", Kind::Text),
    field("opportunity_status_id", "Status", Kind::Ref("/api/v1/opportunity-statuses")),
    field("estimated_value", "Estimated value", Kind::Decimal),
    field("currency", "Currency (ISO code)", Kind::Text),
    field("probability", "Probability (%)", Kind::Int),
    field("expected_close_date", "Expected close date", Kind::Date),
    field("assigned_to", "Assigned to", Kind::Ref("/api/v1/staff")),
];

/// Value × probability, as the server's forecast computes it.
fn weighted(o: &Lead) -> Option<Decimal> {
    Some(o.estimated_value? * Decimal::from(o.probability.unwrap_or(0)) / Decimal::ONE_HUNDRED)
}

/// Per-currency sums of (value, weighted value), for column headers.
fn sums(items: &[Lead]) -> String {
    let mut by_currency: Vec<(String, Decimal, Decimal)> = Vec::new();
    for o in items {
        let (Some(v), Some(c)) = (o.estimated_value, o.currency.clone()) else { continue };
        let w = weighted(o).unwrap_or_default();
        match by_currency.iter_mut().find(|(cur, _, _)| *cur == c) {
            Some(row) => {
                row.1 += v;
                row.2 += w;
            }
            None => by_currency.push((c, v, w)),
        }
    }
    by_currency.iter().map(|(c, v, w)| format!("{} (weighted {})", money(*v, c), money(w.round_dp(2), c))).collect::<Vec<_>>().join(" · ")
}

#[component]
pub fn OpportunitiesPage() -> impl IntoView {
    let mine = RwSignal::new(false);
    let board_view = RwSignal::new(true);
    let items = RwSignal::new(Vec::<Lead>::new());
    let loaded = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiFailure>);
    let statuses = api::load::<Page<NamedOption>>(|| "/api/v1/opportunity-statuses?limit=100".to_string());
    let forecast_tick = RwSignal::new(0u32);
    let forecast = api::load::<Forecast>(move || {
        forecast_tick.get();
        let q = if mine.get() { "&assigned=me" } else { "" };
        format!("/api/v1/opportunities/forecast?group_by=status{q}")
    });
    Effect::new(move |_| {
        let q = if mine.get() { "&assigned=me" } else { "" };
        leptos::task::spawn_local(async move {
            // Every open opportunity, page by page: the board needs them all for its totals.
            let mut all = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let after = cursor.as_ref().map(|c| format!("&cursor={}", api::url_encode(c))).unwrap_or_default();
                match api::get::<Page<Lead>>(&format!("/api/v1/opportunities?limit=500{q}{after}")).await {
                    Ok(page) => {
                        all.extend(page.items);
                        cursor = page.next_cursor;
                        if cursor.is_none() {
                            break;
                        }
                    }
                    Err(e) => {
                        error.set(Some(e));
                        break;
                    }
                }
            }
            items.set(all);
            loaded.set(true);
        });
    });
    let dragging = RwSignal::new(None::<i32>);
    let set_status = move |id: i32, status_id: i32| {
        let before = items.get_untracked();
        let Some(name) = statuses.get_untracked().and_then(Result::ok).and_then(|s| s.items.into_iter().find(|s| s.id == status_id)).map(|s| s.name) else {
            return;
        };
        items.update(|all| {
            if let Some(o) = all.iter_mut().find(|o| o.id == id) {
                o.opportunity_status_id = Some(status_id);
                o.opportunity_status = Some(name);
            }
        });
        leptos::task::spawn_local(async move {
            let body = UpdateOpportunity { opportunity_status_id: Some(status_id), ..Default::default() };
            match api::patch::<_, Lead>(&format!("/api/v1/opportunities/{id}"), &body).await {
                Ok(_) => {
                    error.set(None);
                    forecast_tick.update(|n| *n += 1);
                }
                Err(e) => {
                    items.set(before);
                    error.set(Some(e));
                }
            }
        });
    };

    view! {
        <div class="board-header">
            <h1>"Opportunities"</h1>
            <label><input type="checkbox" id="opp-mine" on:change=move |ev| mine.set(event_target_checked(&ev))/>"Mine"</label>
            <button class="secondary" id="opp-toggle" on:click=move |_| board_view.update(|b| *b = !*b)>{move || if board_view.get() { "List view" } else { "Board view" }}</button>
        </div>
        <p id="forecast-totals">
            {move || forecast.get().and_then(Result::ok).map(|f| {
                let parts: Vec<String> = f.totals.iter().map(|t| format!("{} open: {} · weighted {}", t.count, money(t.total, &t.currency), money(t.weighted, &t.currency))).collect();
                if parts.is_empty() { "No open opportunities.".to_string() } else { parts.join(" | ") }
            })}
        </p>
        {move || error.get().map(|e| view! { <div class="alert" role="alert">{e.summary()}</div> })}
        {move || if !loaded.get() {
            view! { <p class="muted">"Loading…"</p> }.into_any()
        } else if board_view.get() {
            let columns = statuses.get().and_then(Result::ok).map(|p| p.items).unwrap_or_default();
            view! {
                <div class="board" id="opportunity-board">
                    {columns.into_iter().map(|s| {
                        let status_id = s.id;
                        let in_column = move || items.with(|all| all.iter().filter(|o| o.opportunity_status_id == Some(status_id)).cloned().collect::<Vec<_>>());
                        view! {
                            <section class="column" data-status=s.name.clone()
                                on:dragover=|ev| ev.prevent_default()
                                on:drop=move |ev| {
                                    ev.prevent_default();
                                    if let Some(id) = dragging.get_untracked() {
                                        dragging.set(None);
                                        set_status(id, status_id);
                                    }
                                }>
                                <header>
                                    <h2>{s.name.clone()}</h2>
                                    <span class="count">{move || in_column().len()}</span>
                                    <div class="totals small muted">{move || sums(&in_column())}</div>
                                </header>
                                {move || in_column().into_iter().map(|o| {
                                    let id = o.id;
                                    view! {
                                        <article class="card lead-card" draggable="true" data-opportunity=id on:dragstart=move |_| dragging.set(Some(id))>
                                            <A href=format!("/admin/opportunities/{id}")><strong>{o.name.clone()}</strong></A>
                                            {o.company.clone().map(|c| view! { <div class="muted small">{c}</div> })}
                                            <div class="value">{o.estimated_value.map(|v| money(v, &o.currency.clone().unwrap_or_default()))}</div>
                                            <div class="small muted">{format!("{} % · close {}", o.probability.unwrap_or(0), o.expected_close_date.map(|d| d.to_string()).unwrap_or_else(|| "—".into()))}</div>
                                        </article>
                                    }
                                }).collect_view()}
                            </section>
                        }
                    }).collect_view()}
                </div>
            }.into_any()
        } else {
            view! {
                <table class="grid" id="opportunities-table">
                    <thead><tr><th>"Name"</th><th>"Company"</th><th>"Status"</th><th class="num">"Value"</th><th class="num">"Probability"</th><th class="num">"Weighted"</th><th>"Close"</th><th>"Assigned to"</th></tr></thead>
                    <tbody>
                        {items.get().into_iter().map(|o| {
                            let currency = o.currency.clone().unwrap_or_default();
                            let (name, weighted_value) = (o.name.clone(), weighted(&o));
                            view! {
                                <tr>
                                    <td><A href=format!("/admin/opportunities/{}", o.id)>{name}</A></td>
                                    <td>{o.company.clone()}</td>
                                    <td>{o.opportunity_status.clone()}</td>
                                    <td class="num">{o.estimated_value.map(|v| money(v, &currency))}</td>
                                    <td class="num">{format!("{} %", o.probability.unwrap_or(0))}</td>
                                    <td class="num">{weighted_value.map(|w| money(w.round_dp(2), &currency))}</td>
                                    <td>{o.expected_close_date.map(|d| d.to_string())}</td>
                                    <td>{o.assigned_to_name.clone()}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}

#[component]
pub fn OpportunityRecord(id: i32) -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let version = RwSignal::new(None);
    let opportunity = api::load_versioned::<Lead>(
        move || {
            reload.get();
            format!("/api/v1/opportunities/{id}")
        },
        version,
    );
    let editing = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiFailure>);
    let session = expect_context::<Session>();
    let editable = session.can(Module::Opportunities, Action::Edit);
    view! {
        {move || error.get().map(|e| view! { <div class="alert" role="alert">{e.summary()}</div> })}
        {move || match opportunity.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <div class="alert" role="alert">{e.summary()}</div> }.into_any(),
            Some(Ok(o)) => {
                let currency = o.currency.clone().unwrap_or_default();
                let initial = serde_json::to_value(&o).unwrap_or_default();
                view! {
                    <div class="board-header">
                        <h1 id="opportunity-name">{o.name.clone()}</h1>
                        <span class="badge" id="opportunity-status">{o.opportunity_status.clone().unwrap_or_default()}</span>
                    </div>
                    <p class="muted">{[o.company.clone(), o.email.clone(), o.phone.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ")}</p>
                    <p id="opportunity-figures">
                        {format!(
                            "Value {} · probability {} % · weighted {} · close {} · assigned to {}",
                            o.estimated_value.map(|v| money(v, &currency)).unwrap_or_else(|| "—".into()),
                            o.probability.unwrap_or(0),
                            weighted(&o).map(|w| money(w.round_dp(2), &currency)).unwrap_or_else(|| "—".into()),
                            o.expected_close_date.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
                            o.assigned_to_name.clone().unwrap_or_else(|| "nobody".into()),
                        )}
                    </p>
                    <div class="actions">
                        {session.can(Module::Proposals, Action::Create).then(|| view! {
                            <A href=format!("/admin/proposals/new?opportunity_id={id}") attr:class="button" attr:id="add-proposal">"+ Proposal"</A>
                        })}
                        {editable.then(|| view! { <button class="secondary" id="edit-opportunity" on:click=move |_| editing.update(|e| *e = !*e)>"Edit"</button> })}
                        {o.origin_lead_id.map(|l| view! { <A href=format!("/admin/leads/{l}") attr:class="button secondary">"Original lead"</A> })}
                    </div>
                    {move || editing.get().then(|| view! {
                        <section class="card">
                            <EditForm
                                api=format!("/api/v1/opportunities/{id}")
                                fields=OPPORTUNITY_FIELDS
                                initial=initial.clone()
                                on_saved=Callback::new(move |_| { editing.set(false); reload.update(|n| *n += 1); })
                                on_cancel=Callback::new(move |_| editing.set(false))
                                version=version
                                on_reload=Callback::new(move |_| reload.update(|n| *n += 1))
                            />
                        </section>
                    })}
                }.into_any()
            }
        }}
        <RecordProposals of="opportunity" id=id/>
        <RecordActivity id=id reload=reload error=error editable=editable/>
        <Attachments lead_id=id editable=editable/>
    }
}
