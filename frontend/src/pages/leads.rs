//! `/admin/leads`: the Kanban board — columns with counts and per-currency totals, cards,
//! drag-and-drop (and a keyboard-usable "move to" menu) calling the move endpoint, quick add.

use crmconnect_domain::api::{CreateLead, KanbanColumn, Lead, LeadCard, MoveLead, PipelineStatus};
use leptos::prelude::*;

use crate::api::{self, ApiFailure};

#[component]
pub fn LeadsBoard() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let board = LocalResource::new(move || {
        reload.get();
        api::get::<Vec<KanbanColumn>>("/api/v1/leads/kanban?limit=50")
    });
    let error = RwSignal::new(None::<ApiFailure>);
    let dragging = RwSignal::new(None::<i32>);

    let move_card = move |lead_id: i32, status_id: i32| {
        leptos::task::spawn_local(async move {
            match api::post::<_, Lead>(&format!("/api/v1/leads/{lead_id}/move"), &MoveLead { status_id, after_id: None }).await {
                Ok(_) => {
                    error.set(None);
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };

    view! {
        <div class="board-header">
            <h1>"Leads"</h1>
            <QuickAdd on_added=move || reload.update(|n| *n += 1)/>
        </div>
        {move || error.get().map(|e| view! { <div class="alert" role="alert">{e.summary()}</div> })}
        {move || match board.get() {
            None => view! { <p>"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <div class="alert" role="alert">{e.summary()}</div> }.into_any(),
            Some(Ok(columns)) => {
                let statuses: Vec<PipelineStatus> = columns.iter().map(|c| c.status.clone()).collect();
                view! {
                    <div class="board" id="kanban">
                        {columns.into_iter().map(|col| view! {
                            <Column col=col statuses=statuses.clone() dragging=dragging on_move=move_card/>
                        }).collect_view()}
                    </div>
                }
                .into_any()
            }
        }}
    }
}

#[component]
fn Column<F>(col: KanbanColumn, statuses: Vec<PipelineStatus>, dragging: RwSignal<Option<i32>>, on_move: F) -> impl IntoView
where
    F: Fn(i32, i32) + Copy + 'static,
{
    let status_id = col.status.id;
    let totals = col.value_totals.iter().map(|t| format!("{} {}", t.amount, t.currency)).collect::<Vec<_>>().join(" · ");
    view! {
        <section
            class="column"
            data-status=col.status.name.clone()
            on:dragover=|ev| ev.prevent_default()
            on:drop=move |ev| {
                ev.prevent_default();
                if let Some(id) = dragging.get_untracked() {
                    dragging.set(None);
                    on_move(id, status_id);
                }
            }
        >
            <header style=format!("border-top: 3px solid {}", col.status.color)>
                <h2>{col.status.name.clone()}</h2>
                <span class="count">{col.count}</span>
                <div class="totals small muted">{totals}</div>
            </header>
            {col.items.into_iter().map(|card| view! { <Card card=card current=status_id statuses=statuses.clone() dragging=dragging on_move=on_move/> }).collect_view()}
        </section>
    }
}

#[component]
fn Card<F>(card: LeadCard, current: i32, statuses: Vec<PipelineStatus>, dragging: RwSignal<Option<i32>>, on_move: F) -> impl IntoView
where
    F: Fn(i32, i32) + Copy + 'static,
{
    let id = card.id;
    let value = card.estimated_value.map(|v| format!("{} {}", v, card.currency.clone().unwrap_or_default()));
    view! {
        <article class="card lead-card" draggable="true" data-lead=id on:dragstart=move |_| dragging.set(Some(id))>
            <a href=format!("/admin/leads/{id}") class="lead-link"><strong class="lead-name">{card.name.clone()}</strong></a>
            {card.company.clone().map(|c| view! { <div class="muted small">{c}</div> })}
            {value.map(|v| view! { <div class="value">{v}</div> })}
            <div class="meta small muted">
                {card.assigned_to_name.clone().unwrap_or_else(|| "Unassigned".into())}
                {format!(" · score {} · {} d in stage", card.score, card.days_in_stage)}
            </div>
            {(!card.tags.is_empty()).then(|| view! { <div class="tags small">{card.tags.join(", ")}</div> })}
            <label class="visually-hidden" for=format!("move-{id}")>"Move to"</label>
            <select
                class="move"
                id=format!("move-{id}")
                on:change=move |ev| {
                    if let Ok(target) = event_target_value(&ev).parse::<i32>() {
                        if target != current {
                            on_move(id, target);
                        }
                    }
                }
            >
                {statuses.iter().map(|s| view! { <option value=s.id selected=s.id == current>{s.name.clone()}</option> }).collect_view()}
            </select>
        </article>
    }
}

#[component]
fn QuickAdd<F>(on_added: F) -> impl IntoView
where
    F: Fn() + Copy + 'static,
{
    let name = RwSignal::new(String::new());
    let contact = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiFailure>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let c = contact.get_untracked();
        let (email, phone) = if c.contains('@') { (Some(c), None) } else { (None, Some(c).filter(|p| !p.is_empty())) };
        let body = CreateLead { name: name.get_untracked(), email, phone, ..Default::default() };
        leptos::task::spawn_local(async move {
            match api::post::<_, Lead>("/api/v1/leads", &body).await {
                Ok(_) => {
                    name.set(String::new());
                    contact.set(String::new());
                    error.set(None);
                    on_added();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <form class="quick-add" on:submit=submit>
            <label class="visually-hidden" for="quick-name">"Lead name"</label>
            <input id="quick-name" placeholder="Name" bind:value=name/>
            <label class="visually-hidden" for="quick-contact">"E-mail or phone"</label>
            <input id="quick-contact" placeholder="E-mail or phone" bind:value=contact/>
            <button type="submit" id="quick-add">"+ Add lead"</button>
            {move || error.get().map(|e| view! { <span class="field-error" role="alert">{e.summary()}</span> })}
        </form>
    }
}
