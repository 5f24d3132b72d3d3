//! `/admin/leads/pipelines` and `/admin/leads/statuses`: pipelines and their statuses (the
//! Kanban columns) — add, rename, recolour, delete, and reorder by dragging a row (or with the
//! ↑/↓ buttons, for the keyboard).

use crmconnect_domain::api::{CreatePipeline, CreatePipelineStatus, Page, Pipeline, PipelineStatus, StatusOrder, UpdatePipeline, UpdatePipelineStatus};
use crmconnect_domain::permissions::{Action, Module};
use leptos::prelude::*;
use serde_json::Value;

use crate::api::{self, ApiFailure};
use crate::app::Session;

#[component]
pub fn PipelinesPage() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let pipelines = api::load::<Page<Pipeline>>(move || {
        reload.get();
        "/api/v1/pipelines?limit=100".to_string()
    });
    let selected = RwSignal::new(None::<i32>);
    let error = RwSignal::new(None::<ApiFailure>);
    let new_pipeline = RwSignal::new(String::new());
    let new_status = RwSignal::new(String::new());
    let new_color = RwSignal::new("#1f5eff".to_string());
    let dragged = RwSignal::new(None::<i32>);
    let session = expect_context::<Session>();
    let (can_add, can_edit, can_delete) =
        (session.can(Module::Settings, Action::Create), session.can(Module::Settings, Action::Edit), session.can(Module::Settings, Action::Delete));

    let finish = move |r: Result<(), ApiFailure>| match r {
        Ok(()) => {
            error.set(None);
            reload.update(|n| *n += 1);
        }
        Err(e) => error.set(Some(e)),
    };
    let current = move || {
        let list = pipelines.get().and_then(Result::ok)?.items;
        let id = selected.get();
        list.iter().find(|p| Some(p.id) == id).or_else(|| list.iter().find(|p| p.is_default)).or(list.first()).cloned()
    };
    let reorder = move |pipeline_id: i32, status_ids: Vec<i32>| {
        leptos::task::spawn_local(async move {
            finish(api::put::<_, Value>(&format!("/api/v1/pipelines/{pipeline_id}/statuses/order"), &StatusOrder { status_ids }).await.map(|_| ()));
        });
    };
    let add_pipeline = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = CreatePipeline { name: new_pipeline.get_untracked(), is_default: false, statuses: vec![] };
        leptos::task::spawn_local(async move {
            match api::post::<_, Pipeline>("/api/v1/pipelines", &body).await {
                Ok(p) => {
                    new_pipeline.set(String::new());
                    selected.set(Some(p.id));
                    finish(Ok(()));
                }
                Err(e) => finish(Err(e)),
            }
        });
    };
    let add_status = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(p) = current() else { return };
        let body = CreatePipelineStatus { name: new_status.get_untracked(), color: Some(new_color.get_untracked()), order: None };
        leptos::task::spawn_local(async move {
            let r = api::post::<_, PipelineStatus>(&format!("/api/v1/pipelines/{}/statuses", p.id), &body).await.map(|_| ());
            if r.is_ok() {
                new_status.set(String::new());
            }
            finish(r);
        });
    };

    view! {
        <h1>"Pipelines and lead statuses"</h1>
        <p class="muted">{if can_edit { "Statuses are the Kanban columns, left to right. Drag a row (or use ↑ ↓) to reorder." } else { "Statuses are the Kanban columns, left to right. Your role cannot change them." }}</p>
        {move || error.get().map(|e| view! { <div class="alert" role="alert">{e.summary()}</div> })}
        <div class="two-col">
            <section class="card">
                <h2>"Pipelines"</h2>
                {move || pipelines.get().and_then(Result::ok).map(|page| {
                    let shown = current().map(|p| p.id);
                    view! {
                        <ul class="plain" id="pipelines">
                            {page.items.into_iter().map(|p| {
                                let id = p.id;
                                let make_default = move |_| leptos::task::spawn_local(async move {
                                    finish(api::patch::<_, Pipeline>(&format!("/api/v1/pipelines/{id}"), &UpdatePipeline { is_default: Some(true), name: None }).await.map(|_| ()));
                                });
                                let remove = move |_| leptos::task::spawn_local(async move {
                                    finish(api::delete(&format!("/api/v1/pipelines/{id}")).await);
                                });
                                view! {
                                    <li>
                                        <button class="link" aria-current=(shown == Some(id)).then_some("true") on:click=move |_| selected.set(Some(id))>{p.name.clone()}</button>
                                        {if p.is_default {
                                            view! { <span class="badge">"default"</span> }.into_any()
                                        } else {
                                            view! {
                                                {can_edit.then(|| view! { <button class="link small" on:click=make_default>"make default"</button> })}
                                                {can_delete.then(|| view! { <button class="link small" on:click=remove>"delete"</button> })}
                                            }.into_any()
                                        }}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }
                })}
                <form class="quick-add" hidden=!can_add on:submit=add_pipeline>
                    <label class="visually-hidden" for="new-pipeline">"New pipeline name"</label>
                    <input id="new-pipeline" placeholder="New pipeline" required bind:value=new_pipeline/>
                    <button type="submit">"Add pipeline"</button>
                </form>
            </section>
            <section class="card">
                {move || current().map(|p| {
                    let pipeline_id = p.id;
                    let ids: Vec<i32> = p.statuses.iter().map(|s| s.id).collect();
                    let count = ids.len();
                    view! {
                        <h2>{format!("Statuses of {}", p.name)}</h2>
                        <table class="grid" id="statuses">
                            <thead><tr><th>"Colour"</th><th>"Name"</th><th></th></tr></thead>
                            <tbody>
                                {p.statuses.into_iter().enumerate().map(|(i, s)| {
                                    let status_id = s.id;
                                    let drop_here = ids.clone();
                                    let ids = ids.clone();
                                    let name = RwSignal::new(s.name.clone());
                                    let color = RwSignal::new(s.color.clone());
                                    let moved = move |to: usize| {
                                        let mut order = ids.clone();
                                        let from = order.iter().position(|x| *x == status_id).unwrap_or(i);
                                        let id = order.remove(from);
                                        order.insert(to.min(order.len()), id);
                                        order
                                    };
                                    let (up, down) = (moved.clone(), moved);
                                    let save = move |_| {
                                        let body = UpdatePipelineStatus { name: Some(name.get_untracked()), color: Some(color.get_untracked()), order: None };
                                        leptos::task::spawn_local(async move {
                                            finish(api::patch::<_, PipelineStatus>(&format!("/api/v1/pipelines/{pipeline_id}/statuses/{status_id}"), &body).await.map(|_| ()));
                                        });
                                    };
                                    let remove = move |_| leptos::task::spawn_local(async move {
                                        finish(api::delete(&format!("/api/v1/pipelines/{pipeline_id}/statuses/{status_id}")).await);
                                    });
                                    view! {
                                        <tr
                                            draggable=if can_edit { "true" } else { "false" }
                                            data-status=s.name.clone()
                                            on:dragstart=move |_| dragged.set(Some(status_id))
                                            on:dragover=|ev| ev.prevent_default()
                                            on:drop=move |ev| {
                                                ev.prevent_default();
                                                if let Some(from) = dragged.get_untracked().filter(|d| *d != status_id) {
                                                    dragged.set(None);
                                                    let mut order: Vec<i32> = drop_here.iter().copied().filter(|x| *x != from).collect();
                                                    let at = order.iter().position(|x| *x == status_id).unwrap_or(order.len());
                                                    order.insert(at, from);
                                                    reorder(pipeline_id, order);
                                                }
                                            }
                                        >
                                            <td><input type="color" aria-label="Colour" disabled=!can_edit bind:value=color/></td>
                                            <td><input aria-label="Status name" class="status-name" disabled=!can_edit bind:value=name/></td>
                                            <td class="actions">
                                                {can_edit.then(|| view! {
                                                    <button class="link" aria-label="Move up" disabled=i == 0 on:click=move |_| reorder(pipeline_id, up(i.saturating_sub(1)))>"↑"</button>
                                                    <button class="link" aria-label="Move down" disabled=i + 1 == count on:click=move |_| reorder(pipeline_id, down(i + 1))>"↓"</button>
                                                    <button class="link" on:click=save>"Save"</button>
                                                })}
                                                {can_delete.then(|| view! { <button class="link" on:click=remove>"Delete"</button> })}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }
                })}
                <form class="quick-add" id="add-status" hidden=!can_add on:submit=add_status>
                    <label class="visually-hidden" for="new-status">"New status name"</label>
                    <input id="new-status" placeholder="New status" required bind:value=new_status/>
                    <label class="visually-hidden" for="new-status-color">"Colour"</label>
                    <input id="new-status-color" type="color" bind:value=new_color/>
                    <button type="submit">"Add status"</button>
                </form>
            </section>
        </div>
    }
}
