//! `/admin/leads`: the Kanban board and the list view of leads.
//!
//! The board: a pipeline picker, filters (mine, source, tag, stagnant > 14 days, created
//! today — `?filter=today` as in the guide), columns with count and per-currency totals,
//! cards moved by drag-and-drop (or the keyboard-usable "Move to" menu). A move shows at once
//! and is rolled back if the server refuses it. Each column loads more cards as it is
//! scrolled. The list view (`?view=list`) sorts, multi-selects, runs bulk actions and
//! exports the filtered list as CSV.

use crmconnect_domain::api::{
    BulkLeadAction, BulkResult, CreateLead, CurrencyAmount, KanbanColumn, Lead, LeadCard, MoveLead, NamedOption, Page, Pipeline, PipelineStatus, Staff,
};
use crmconnect_domain::permissions::{Action, Module};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use rust_decimal::Decimal;

use super::proposals::money;
use crate::api::{self, url_encode, ApiFailure};

/// The guide's "stagnant" threshold.
const STAGNANT_DAYS: u32 = 14;

/// The board's and list's filters, as a query string for the API.
#[derive(Clone, Default, PartialEq)]
struct Filters {
    pipeline_id: Option<i32>,
    mine: bool,
    source_id: Option<i32>,
    tag: String,
    stagnant: bool,
    today: bool,
    q: String,
}

impl Filters {
    fn query(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = self.pipeline_id {
            parts.push(format!("pipeline_id={p}"));
        }
        if self.mine {
            parts.push("assigned=me".into());
        }
        if let Some(s) = self.source_id {
            parts.push(format!("source_id={s}"));
        }
        if !self.tag.trim().is_empty() {
            parts.push(format!("tag={}", url_encode(self.tag.trim())));
        }
        if self.stagnant {
            parts.push(format!("stagnant_days={STAGNANT_DAYS}"));
        }
        if self.today {
            parts.push("created=today".into());
        }
        if !self.q.trim().is_empty() {
            parts.push(format!("q={}", url_encode(self.q.trim())));
        }
        parts.join("&")
    }
}

/// Lookups the filters and bulk actions offer.
#[derive(Clone, Default)]
struct Lookups {
    pipelines: Vec<Pipeline>,
    sources: Vec<NamedOption>,
    lost_reasons: Vec<NamedOption>,
    staff: Vec<Staff>,
}

async fn load_lookups(staff_visible: bool) -> Lookups {
    Lookups {
        pipelines: api::get::<Page<Pipeline>>("/api/v1/pipelines?limit=100").await.map(|p| p.items).unwrap_or_default(),
        sources: api::get::<Page<NamedOption>>("/api/v1/lead-sources?limit=500").await.map(|p| p.items).unwrap_or_default(),
        lost_reasons: api::get::<Page<NamedOption>>("/api/v1/lost-reasons?limit=500").await.map(|p| p.items).unwrap_or_default(),
        // Only roles that may see staff list them; the others get no "assign" choices (and
        // the board does not make a call the server refuses).
        staff: if staff_visible { api::get::<Page<Staff>>("/api/v1/staff?limit=500").await.map(|p| p.items).unwrap_or_default() } else { Vec::new() },
    }
}

#[component]
pub fn LeadsBoard() -> impl IntoView {
    let query = use_query_map();
    let initial = query.with_untracked(|q| Filters { today: q.get("filter").as_deref() == Some("today"), ..Default::default() });
    let list_view = RwSignal::new(query.with_untracked(|q| q.get("view").as_deref() == Some("list")));
    let filters = RwSignal::new(initial);
    let reload = RwSignal::new(0u32);
    let lookups = RwSignal::new(Lookups::default());
    let staff_visible = super::settings::staff_visible();
    leptos::task::spawn_local(async move { lookups.set(load_lookups(staff_visible).await) });
    let tag_input = RwSignal::new(String::new());

    view! {
        <div class="board-header">
            <h1>"Leads"</h1>
            <QuickAdd pipeline=Signal::derive(move || filters.with(|f| f.pipeline_id)) on_added=move || reload.update(|n| *n += 1)/>
        </div>
        <form class="filters" on:submit=move |ev| { ev.prevent_default(); filters.update(|f| f.tag = tag_input.get_untracked()); }>
            <label for="pipeline">"Pipeline"</label>
            <select id="pipeline" on:change=move |ev| filters.update(|f| f.pipeline_id = event_target_value(&ev).parse().ok())>
                {move || lookups.with(|l| l.pipelines.iter().map(|p| view! { <option value=p.id selected=p.is_default>{p.name.clone()}</option> }).collect_view())}
            </select>
            <label><input type="checkbox" id="filter-mine" on:change=move |ev| filters.update(|f| f.mine = event_target_checked(&ev))/>"Mine"</label>
            <label for="filter-source">"Source"</label>
            <select id="filter-source" on:change=move |ev| filters.update(|f| f.source_id = event_target_value(&ev).parse().ok())>
                <option value="">"Any"</option>
                {move || lookups.with(|l| l.sources.iter().map(|s| view! { <option value=s.id>{s.name.clone()}</option> }).collect_view())}
            </select>
            <label for="filter-q">"Search"</label>
            <input id="filter-q" size="12" placeholder="name, e-mail, company" on:change=move |ev| filters.update(|f| f.q = event_target_value(&ev))/>
            <label for="filter-tag">"Tag"</label>
            <input id="filter-tag" size="10" bind:value=tag_input on:change=move |ev| filters.update(|f| f.tag = event_target_value(&ev))/>
            <label><input type="checkbox" id="filter-stagnant" on:change=move |ev| filters.update(|f| f.stagnant = event_target_checked(&ev))/>{format!("Stagnant > {STAGNANT_DAYS} days")}</label>
            <label><input type="checkbox" id="filter-today" prop:checked=move || filters.with(|f| f.today) on:change=move |ev| filters.update(|f| f.today = event_target_checked(&ev))/>"Created today"</label>
            <span class="spacer"></span>
            <button type="button" class="secondary" id="toggle-view" on:click=move |_| list_view.update(|v| *v = !*v)>
                {move || if list_view.get() { "Board view" } else { "List view" }}
            </button>
        </form>
        {move || {
            let current = filters.get();
            reload.get();
            if list_view.get() {
                view! { <LeadsTable filters=current lookups=lookups/> }.into_any()
            } else {
                view! { <Board filters=current/> }.into_any()
            }
        }}
    }
}

/// One column's cards and figures, kept in the browser so moves show at once.
#[derive(Clone)]
struct ColumnState {
    status: PipelineStatus,
    count: u64,
    totals: Vec<CurrencyAmount>,
    items: Vec<LeadCard>,
    next_cursor: Option<String>,
}

impl ColumnState {
    fn add_value(&mut self, card: &LeadCard, sign: Decimal) {
        let (Some(value), Some(currency)) = (card.estimated_value, card.currency.clone()) else { return };
        match self.totals.iter_mut().find(|t| t.currency == currency) {
            Some(t) => t.amount += value * sign,
            None => self.totals.push(CurrencyAmount { currency, amount: value * sign }),
        }
        self.totals.retain(|t| !t.amount.is_zero());
    }
}

#[component]
fn Board(filters: Filters) -> impl IntoView {
    let query = filters.query();
    let board_query = query.clone();
    let board = api::load::<Vec<KanbanColumn>>(move || {
        let q = board_query.clone();
        format!("/api/v1/leads/kanban?limit=20&{q}")
    });
    let columns = RwSignal::new(Vec::<RwSignal<ColumnState>>::new());
    Effect::new(move |_| {
        if let Some(Ok(cols)) = board.get() {
            let states = cols
                .into_iter()
                .map(|c| RwSignal::new(ColumnState { status: c.status, count: c.count, totals: c.value_totals, items: c.items, next_cursor: c.next_cursor }))
                .collect();
            columns.set(states);
        }
    });
    let error = RwSignal::new(None::<ApiFailure>);
    let dragging = RwSignal::new(None::<i32>);

    // Moves a card in the browser first, then asks the server; puts everything back if the
    // server refuses (permissions, a deleted status…).
    let move_card = move |lead_id: i32, to_status: i32, before: Option<i32>| {
        let cols = columns.get_untracked();
        let Some(from) = cols.iter().copied().find(|c| c.with_untracked(|c| c.items.iter().any(|i| i.id == lead_id))) else { return };
        let Some(to) = cols.iter().copied().find(|c| c.with_untracked(|c| c.status.id == to_status)) else { return };
        if before == Some(lead_id) {
            return;
        }
        let snapshot = (from.get_untracked(), to.get_untracked());
        let Some(mut card) = from
            .try_update(|c| {
                let at = c.items.iter().position(|i| i.id == lead_id)?;
                Some(c.items.remove(at))
            })
            .flatten()
        else {
            return;
        };
        let changes_column = from != to;
        if changes_column {
            card.days_in_stage = 0;
            from.update(|c| {
                c.count = c.count.saturating_sub(1);
                c.add_value(&card, Decimal::NEGATIVE_ONE);
            });
        }
        let after_id = to
            .try_update(|c| {
                let at = before.and_then(|b| c.items.iter().position(|i| i.id == b)).unwrap_or(c.items.len());
                if changes_column {
                    c.count += 1;
                    c.add_value(&card, Decimal::ONE);
                }
                c.items.insert(at, card);
                at.checked_sub(1).map(|p| c.items[p].id)
            })
            .flatten();
        leptos::task::spawn_local(async move {
            match api::post::<_, Lead>(&format!("/api/v1/leads/{lead_id}/move"), &MoveLead { status_id: to_status, after_id }).await {
                Ok(_) => error.set(None),
                Err(e) => {
                    from.set(snapshot.0);
                    if changes_column {
                        to.set(snapshot.1);
                    }
                    error.set(Some(e));
                }
            }
        });
    };

    view! {
        {move || error.get().map(|e| view! { <div class="alert" role="alert" id="board-error">{format!("The card was put back: {}", e.summary())}</div> })}
        {move || match board.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <div class="alert" role="alert">{e.summary()}</div> }.into_any(),
            Some(Ok(_)) => {
                let query = query.clone();
                view! {
                    <div class="board" id="kanban">
                        {move || {
                            let cols = columns.get();
                            let statuses: Vec<PipelineStatus> = cols.iter().map(|c| c.with_untracked(|c| c.status.clone())).collect();
                            cols.into_iter().map(|col| view! {
                                <Column col=col statuses=statuses.clone() dragging=dragging query=query.clone() on_move=move_card error=error/>
                            }).collect_view()
                        }}
                    </div>
                }.into_any()
            }
        }}
    }
}

#[component]
fn Column<F>(
    col: RwSignal<ColumnState>,
    statuses: Vec<PipelineStatus>,
    dragging: RwSignal<Option<i32>>,
    query: String,
    on_move: F,
    error: RwSignal<Option<ApiFailure>>,
) -> impl IntoView
where
    F: Fn(i32, i32, Option<i32>) + Copy + Send + Sync + 'static,
{
    let status = col.with_untracked(|c| c.status.clone());
    let status_id = status.id;
    let loading = RwSignal::new(false);
    let load_more = move || {
        let Some(cursor) = col.with_untracked(|c| c.next_cursor.clone()) else { return };
        if loading.get_untracked() {
            return;
        }
        loading.set(true);
        let q = query.clone();
        leptos::task::spawn_local(async move {
            let path = format!("/api/v1/leads/kanban/{status_id}?limit=20&cursor={}&{q}", url_encode(&cursor));
            match api::get::<KanbanColumn>(&path).await {
                Ok(page) => col.update(|c| {
                    let known: Vec<i32> = c.items.iter().map(|i| i.id).collect();
                    c.items.extend(page.items.into_iter().filter(|i| !known.contains(&i.id)));
                    c.next_cursor = page.next_cursor;
                }),
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        });
    };
    let more = load_more.clone();
    view! {
        <section
            class="column"
            data-status=status.name.clone()
            on:dragover=|ev| ev.prevent_default()
            on:drop=move |ev| {
                ev.prevent_default();
                if let Some(id) = dragging.get_untracked() {
                    dragging.set(None);
                    on_move(id, status_id, None);
                }
            }
            on:scroll=move |ev| {
                use wasm_bindgen::JsCast;
                if let Some(el) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
                    if el.scroll_top() + el.client_height() >= el.scroll_height() - 80 {
                        more();
                    }
                }
            }
        >
            <header style=format!("border-top: 3px solid {}", status.color)>
                <h2>{status.name.clone()}</h2>
                <span class="count">{move || col.with(|c| c.count)}</span>
                <div class="totals small muted">{move || col.with(|c| c.totals.iter().map(|t| money(t.amount, &t.currency)).collect::<Vec<_>>().join(" · "))}</div>
            </header>
            {move || col.with(|c| c.items.clone()).into_iter().map(|card| view! {
                <Card card=card current=status_id statuses=statuses.clone() dragging=dragging on_move=on_move/>
            }).collect_view()}
            {move || col.with(|c| c.next_cursor.is_some()).then(|| {
                let more = load_more.clone();
                view! { <button class="link load-more" on:click=move |_| more()>{move || if loading.get() { "Loading…" } else { "Load more" }}</button> }
            })}
        </section>
    }
}

#[component]
fn Card<F>(card: LeadCard, current: i32, statuses: Vec<PipelineStatus>, dragging: RwSignal<Option<i32>>, on_move: F) -> impl IntoView
where
    F: Fn(i32, i32, Option<i32>) + Copy + Send + Sync + 'static,
{
    let id = card.id;
    let value = card.estimated_value.map(|v| money(v, &card.currency.clone().unwrap_or_default()));
    view! {
        <article
            class="card lead-card"
            draggable="true"
            data-lead=id
            on:dragstart=move |ev| {
                if let Some(dt) = ev.data_transfer() {
                    let _ = dt.set_data("text/plain", &id.to_string());
                }
                dragging.set(Some(id));
            }
            on:dragover=|ev| ev.prevent_default()
            on:drop=move |ev| {
                ev.prevent_default();
                ev.stop_propagation();
                if let Some(dragged) = dragging.get_untracked() {
                    dragging.set(None);
                    on_move(dragged, current, Some(id));
                }
            }
        >
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
                            on_move(id, target, None);
                        }
                    }
                }
            >
                {statuses.iter().map(|s| view! { <option value=s.id selected=s.id == current>{s.name.clone()}</option> }).collect_view()}
            </select>
        </article>
    }
}

/// The list view: sortable, paged with "Load more", multi-select with bulk actions, CSV export.
#[component]
fn LeadsTable(filters: Filters, lookups: RwSignal<Lookups>) -> impl IntoView {
    let sort = RwSignal::new("-created_at".to_string());
    let rows = RwSignal::new(Vec::<Lead>::new());
    let cursor = RwSignal::new(None::<String>);
    let loading = RwSignal::new(true);
    let selected = RwSignal::new(Vec::<i32>::new());
    let error = RwSignal::new(None::<ApiFailure>);
    let notice = RwSignal::new(None::<String>);
    let session = expect_context::<crate::app::Session>();
    let query = filters.query();
    let statuses = move || {
        lookups.with(|l| {
            let p = l.pipelines.iter().find(|p| Some(p.id) == filters.pipeline_id).or_else(|| l.pipelines.iter().find(|p| p.is_default));
            p.map(|p| p.statuses.clone()).unwrap_or_default()
        })
    };

    let q = query.clone();
    let fetch = move |append: bool| {
        let after = if append { cursor.get_untracked() } else { None };
        let path =
            format!("/api/v1/leads?limit=50&sort={}&{}{}", sort.get_untracked(), q, after.map(|c| format!("&cursor={}", url_encode(&c))).unwrap_or_default());
        loading.set(true);
        leptos::task::spawn_local(async move {
            match api::get::<Page<Lead>>(&path).await {
                Ok(page) => {
                    rows.update(|r| {
                        if !append {
                            r.clear();
                        }
                        r.extend(page.items);
                    });
                    cursor.set(page.next_cursor);
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        });
    };
    let refetch = fetch.clone();
    Effect::new(move |_| {
        sort.track();
        refetch(false);
    });

    let sort_by = move |key: &'static str| {
        sort.update(|s| *s = if s == key { format!("-{key}") } else { key.to_string() });
    };
    let header = move |key: &'static str, label: &'static str| {
        view! {
            <th aria-sort=move || match sort.get().as_str() { s if s == key => "ascending", s if s.strip_prefix('-') == Some(key) => "descending", _ => "none" }>
                <button class="link" on:click=move |_| sort_by(key)>{label}</button>
            </th>
        }
    };

    let action = RwSignal::new("assign".to_string());
    let param = RwSignal::new(String::new());
    let after_bulk = fetch.clone();
    let run_bulk = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let ids = selected.get_untracked();
        let act = action.get_untracked();
        let p = param.get_untracked();
        let number = p.parse::<i32>().ok();
        if act == "delete" && !web_sys::window().and_then(|w| w.confirm_with_message(&format!("Delete {} leads?", ids.len())).ok()).unwrap_or(false) {
            return;
        }
        let body = BulkLeadAction {
            ids,
            assigned_to: if act == "assign" { number } else { None },
            status_id: if act == "change_status" { number } else { None },
            tag: (act == "add_tag").then_some(p),
            lost_reason_id: if act == "mark_lost" { number } else { None },
            action: act,
        };
        let refresh = after_bulk.clone();
        leptos::task::spawn_local(async move {
            match api::post::<_, BulkResult>("/api/v1/leads/bulk", &body).await {
                Ok(r) => {
                    notice.set(Some(format!("{} leads updated.", r.affected)));
                    selected.set(vec![]);
                    error.set(None);
                    refresh(false);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let export_query = query.clone();
    let export = move |_| {
        let path = format!("/api/v1/leads/export?sort={}&{}", sort.get_untracked(), export_query);
        leptos::task::spawn_local(async move {
            if let Err(e) = api::download(&path, "leads.csv").await {
                error.set(Some(e));
            }
        });
    };
    let more = fetch.clone();

    view! {
        <div class="actions">
            <button class="secondary" id="export-csv" on:click=export>"Export CSV"</button>
            {move || notice.get().map(|n| view! { <span class="muted" role="status" id="bulk-notice">{n}</span> })}
        </div>
        {move || error.get().map(|e| view! { <div class="alert" role="alert">{e.summary()}</div> })}
        {move || (!selected.with(Vec::is_empty)).then(|| view! {
            <form class="bulk-bar" id="bulk-bar" on:submit=run_bulk.clone()>
                <strong>{move || format!("{} selected", selected.with(Vec::len))}</strong>
                <label class="visually-hidden" for="bulk-action">"Bulk action"</label>
                <select id="bulk-action" on:change=move |ev| { action.set(event_target_value(&ev)); param.set(String::new()); }>
                    <option value="assign">"Assign to"</option>
                    <option value="change_status">"Change status"</option>
                    <option value="add_tag">"Add tag"</option>
                    <option value="mark_lost">"Mark lost"</option>
                    <option value="mark_junk">"Mark junk"</option>
                    {session.can(Module::Leads, Action::Delete).then(|| view! { <option value="delete">"Delete"</option> })}
                </select>
                <label class="visually-hidden" for="bulk-param">"Value"</label>
                {move || match action.get().as_str() {
                    "assign" => view! { <select id="bulk-param" on:change=move |ev| param.set(event_target_value(&ev))>
                        <option value="">"Nobody"</option>
                        {lookups.with(|l| l.staff.iter().map(|s| view! { <option value=s.id>{s.name.clone()}</option> }).collect_view())}
                    </select> }.into_any(),
                    "change_status" => view! { <select id="bulk-param" on:change=move |ev| param.set(event_target_value(&ev))>
                        <option value="">"Status…"</option>
                        {statuses().into_iter().map(|s| view! { <option value=s.id>{s.name}</option> }).collect_view()}
                    </select> }.into_any(),
                    "mark_lost" => view! { <select id="bulk-param" on:change=move |ev| param.set(event_target_value(&ev))>
                        <option value="">"Reason…"</option>
                        {lookups.with(|l| l.lost_reasons.iter().map(|r| view! { <option value=r.id>{r.name.clone()}</option> }).collect_view())}
                    </select> }.into_any(),
                    "add_tag" => view! { <input id="bulk-param" placeholder="Tag" bind:value=param/> }.into_any(),
                    _ => ().into_any(),
                }}
                <button type="submit" id="bulk-apply">"Apply"</button>
            </form>
        })}
        <table class="grid" id="leads-table">
            <thead><tr>
                <th><input type="checkbox" aria-label="Select all" id="select-all"
                    prop:checked=move || { let n = rows.with(Vec::len); n > 0 && selected.with(Vec::len) == n }
                    on:change=move |ev| selected.set(if event_target_checked(&ev) { rows.with(|r| r.iter().map(|l| l.id).collect()) } else { vec![] })/></th>
                {header("name", "Name")}
                <th>"Company"</th>
                <th>"Status"</th>
                <th>"Source"</th>
                <th>"Assigned to"</th>
                <th class="num">"Value"</th>
                {header("score", "Score")}
                {header("created_at", "Created")}
            </tr></thead>
            <tbody>
                {move || rows.get().into_iter().map(|l| {
                    let id = l.id;
                    view! {
                        <tr data-lead=id>
                            <td><input type="checkbox" aria-label=format!("Select {}", l.name)
                                prop:checked=move || selected.with(|s| s.contains(&id))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    selected.update(|s| { s.retain(|x| *x != id); if on { s.push(id); } });
                                }/></td>
                            <td><a href=format!("/admin/leads/{id}")>{l.name.clone()}</a></td>
                            <td>{l.company.clone()}</td>
                            <td>{l.status.clone()}</td>
                            <td>{l.source.clone()}</td>
                            <td>{l.assigned_to_name.clone()}</td>
                            <td class="num">{l.estimated_value.map(|v| money(v, &l.currency.clone().unwrap_or_default()))}</td>
                            <td class="num">{l.score}</td>
                            <td>{l.created_at.date().to_string()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        {move || (!loading.get() && rows.with(Vec::is_empty)).then(|| view! { <p class="muted">"No leads match these filters."</p> })}
        {move || loading.get().then(|| view! { <p class="muted">"Loading…"</p> })}
        {move || cursor.with(Option::is_some).then(|| {
            let more = more.clone();
            view! { <button class="secondary" id="list-more" on:click=move |_| more(true)>"Load more"</button> }
        })}
    }
}

#[component]
fn QuickAdd<F>(pipeline: Signal<Option<i32>>, on_added: F) -> impl IntoView
where
    F: Fn() + Copy + Send + Sync + 'static,
{
    let name = RwSignal::new(String::new());
    let contact = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiFailure>);
    let session = expect_context::<crate::app::Session>();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let c = contact.get_untracked();
        let (email, phone) = if c.contains('@') { (Some(c), None) } else { (None, Some(c).filter(|p| !p.is_empty())) };
        // Into the pipeline on screen (the default one when none is picked). A role that only
        // sees its own leads (SDR) gets the lead assigned to itself, or it would vanish.
        let assigned_to = (!session.can(Module::Leads, Action::View)).then(|| session.me.with_untracked(|m| m.as_ref().map(|m| m.id))).flatten();
        let body = CreateLead { name: name.get_untracked(), email, phone, pipeline_id: pipeline.get_untracked(), assigned_to, ..Default::default() };
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
