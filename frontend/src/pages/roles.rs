//! `/admin/roles`: roles and their permissions — a module × action grid of checkboxes, only
//! with the actions that mean something for each module (`send` only for documents).

use crmconnect_domain::api::{CreateRole, Page, Role, UpdateRole};
use crmconnect_domain::permissions::{Action, Module, PermissionSet};
use leptos::prelude::*;

use crate::api::{self, ApiFailure};
use crate::app::Session;

fn action_label(a: Action) -> &'static str {
    match a {
        Action::View => "View (all)",
        Action::ViewOwn => "View (own)",
        Action::Create => "Create",
        Action::Edit => "Edit",
        Action::Delete => "Delete",
        Action::Send => "Send",
    }
}

#[component]
pub fn RolesPage() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let roles = api::load::<Page<Role>>(move || {
        reload.get();
        "/api/v1/roles?limit=500".to_string()
    });
    // `Some(None)`: a new role; `Some(Some(id))`: editing that role.
    let editing = RwSignal::new(None::<Option<i32>>);
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let grants = RwSignal::new(PermissionSet::default());
    let error = RwSignal::new(None::<ApiFailure>);

    let open = move |role: Option<Role>| {
        error.set(None);
        name.set(role.as_ref().map(|r| r.name.clone()).unwrap_or_default());
        description.set(role.as_ref().map(|r| r.description.clone()).unwrap_or_default());
        grants.set(role.as_ref().map(|r| r.permissions.clone()).unwrap_or_default());
        editing.set(Some(role.map(|r| r.id)));
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(target) = editing.get_untracked() else { return };
        let (n, d, p) = (name.get_untracked(), description.get_untracked(), grants.get_untracked());
        leptos::task::spawn_local(async move {
            let r = match target {
                Some(id) => {
                    api::patch::<_, Role>(&format!("/api/v1/roles/{id}"), &UpdateRole { name: Some(n), description: Some(d), permissions: Some(p) }).await
                }
                None => api::post::<_, Role>("/api/v1/roles", &CreateRole { name: n, description: d, permissions: p }).await,
            };
            match r {
                Ok(_) => {
                    editing.set(None);
                    error.set(None);
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let session = expect_context::<Session>();
    let remove = move |id: i32| {
        leptos::task::spawn_local(async move {
            match api::delete(&format!("/api/v1/roles/{id}")).await {
                Ok(()) => reload.update(|n| *n += 1),
                Err(e) => error.set(Some(e)),
            }
        });
    };

    view! {
        <div class="board-header">
            <h1>"Roles"</h1>
            {session.can(Module::Roles, Action::Create).then(|| view! { <button id="add-role" on:click=move |_| open(None)>"+ Role"</button> })}
        </div>
        {move || (editing.get().is_none()).then(|| error.get().map(|e| view! { <div class="alert" role="alert">{e.summary()}</div> })).flatten()}
        {move || editing.get().map(|_| view! {
            <section class="card">
                <form id="role-form" on:submit=submit>
                    <div class="form-grid">
                        <label for="role-name">"Name"</label>
                        <input id="role-name" required bind:value=name/>
                        <label for="role-description">"Description"</label>
                        <input id="role-description" bind:value=description/>
                    </div>
                    <table class="grid" id="permissions">
                        <thead><tr><th>"Module"</th>{Action::ALL.iter().map(|a| view! { <th>{action_label(*a)}</th> }).collect_view()}</tr></thead>
                        <tbody>
                            {Module::ALL.iter().map(|m| {
                                let m = *m;
                                view! {
                                    <tr>
                                        <td>{m.as_str().replace('_', " ")}</td>
                                        {Action::ALL.iter().map(|a| {
                                            let a = *a;
                                            m.actions().contains(&a).then(|| view! {
                                                <input
                                                    type="checkbox"
                                                    aria-label=format!("{} {}", m.as_str(), a.as_str())
                                                    id=format!("perm-{}-{}", m.as_str(), a.as_str())
                                                    prop:checked=move || grants.with(|g| g.0.get(&m).is_some_and(|s| s.contains(&a)))
                                                    on:change=move |ev| {
                                                        let on = event_target_checked(&ev);
                                                        grants.update(|g| {
                                                            let set = g.0.entry(m).or_default();
                                                            if on { set.insert(a); } else { set.remove(&a); }
                                                            if set.is_empty() { g.0.remove(&m); }
                                                        });
                                                    }
                                                />
                                            }).map(|input| view! { <td>{input}</td> }.into_any()).unwrap_or_else(|| view! { <td></td> }.into_any())
                                        }).collect_view()}
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    {move || error.get().map(|e| view! { <div class="alert" role="alert">{e.summary()}</div> })}
                    <div class="actions">
                        <button type="submit" id="save-role">"Save"</button>
                        <button type="button" class="secondary" on:click=move |_| editing.set(None)>"Cancel"</button>
                    </div>
                </form>
            </section>
        })}
        {move || match roles.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <div class="alert" role="alert">{e.summary()}</div> }.into_any(),
            Some(Ok(page)) => view! {
                <table class="grid" id="roles-table">
                    <thead><tr><th>"Role"</th><th>"Staff"</th><th>"Permissions"</th><th></th></tr></thead>
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
                            let id = r.id;
                            let admin = r.is_admin;
                            let role = r.clone();
                            view! {
                                <tr>
                                    <td>{r.name}</td>
                                    <td>{r.staff_count}</td>
                                    <td class="small">{grants}</td>
                                    <td class="actions">
                                        {(!admin && session.can(Module::Roles, Action::Edit)).then(|| view! { <button class="link" on:click=move |_| open(Some(role.clone()))>"Edit"</button> })}
                                        {(!admin && session.can(Module::Roles, Action::Delete)).then(|| view! { <button class="link" on:click=move |_| remove(id)>"Delete"</button> })}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any(),
        }}
    }
}
