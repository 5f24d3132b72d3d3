use crmconnect_domain::api::Me;
use crmconnect_domain::permissions::{Action, Module};
use leptos::prelude::*;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::use_location;

use crate::api::{self, ApiFailure};
use crate::app::Session;
use crate::nav::NAV;

/// The authenticated frame: header with the user's name, module navigation, sign-out.
#[component]
pub fn Layout(children: ChildrenFn) -> impl IntoView {
    let session = expect_context::<Session>();
    let error = RwSignal::new(None::<ApiFailure>);
    let location = use_location();

    if !api::has_session() {
        let next = format!("{}{}", location.pathname.get_untracked(), location.search.get_untracked());
        return view! { <Redirect path=format!("/login?next={}", api::url_encode(&next))/> }.into_any();
    }
    if session.me.get_untracked().is_none() {
        leptos::task::spawn_local(async move {
            match api::get::<Me>("/api/v1/me").await {
                Ok(me) => session.me.set(Some(me)),
                Err(e) => error.set(Some(e)),
            }
        });
    }

    let menu = NodeRef::<leptos::html::Details>::new();
    let sign_out = move |_| {
        leptos::task::spawn_local(async move {
            api::logout().await;
            session.me.set(None);
            api::go_to_login();
        });
    };

    view! {
        <Show
            when=move || session.me.get().is_some()
            fallback=move || view! {
                <div class="loading">
                    {move || match error.get() {
                        Some(e) => view! { <div class="alert" role="alert">{e.summary()}</div> }.into_any(),
                        None => view! { <p>"Loading…"</p> }.into_any(),
                    }}
                </div>
            }
        >
            <header class="topbar">
                <a class="brand" href="/admin">"CRMConnect"</a>
                <crate::pages::clients::GlobalSearch/>
                <div class="user">
                    <Bell/>
                    // The user menu: a native <details>, so it opens with the keyboard too.
                    <details class="user-menu" node_ref=menu>
                        <summary id="user-menu">
                            <span id="current-user">{move || session.me.get().map(|m| m.name).unwrap_or_default()}</span>
                            " "<span class="role">{move || session.me.get().map(|m| m.role.name).unwrap_or_default()}</span>
                        </summary>
                        // A click inside (a link, sign out) closes the menu.
                        <div class="card bell-menu" on:click=move |_| { if let Some(d) = menu.get() { d.set_open(false); } }>
                            <p class="small muted">{move || session.me.get().map(|m| m.email).unwrap_or_default()}</p>
                            <p><A href="/admin/profile">"My profile"</A></p>
                            {move || {
                                let admin = session.can(Module::Settings, Action::View) || session.can(Module::Settings, Action::ViewOwn);
                                admin.then(|| view! { <p><A href="/admin/settings">"Settings"</A></p><p><A href="/admin/api_tokens">"API tokens"</A></p> })
                            }}
                            {move || audit_log_visible(session).then(|| view! { <p><A href="/admin/utilities/activity_log">"Activity log"</A></p> })}
                            <button id="logout" on:click=sign_out>"Sign out"</button>
                        </div>
                    </details>
                </div>
            </header>
            <div class="frame">
                <nav class="sidebar" aria-label="Modules">
                    {move || {
                        // A module's screens list its records: shown to roles that may see some
                        // (an SDR who may only create opportunities gets no Opportunities entry).
                        NAV.iter()
                            .filter(|item| item.module.is_none_or(|m| session.can(m, Action::View) || session.can(m, Action::ViewOwn)))
                            .map(|item| view! { <A href=item.href exact=item.href == "/admin">{item.label}</A> })
                            .collect_view()
                    }}
                </nav>
                <main class="content">{children()}</main>
            </div>
        </Show>
    }
    .into_any()
}

/// Whether the user's role may read the activity log (all of it, or their own actions).
pub fn audit_log_visible(session: Session) -> bool {
    session.can(Module::AuditLog, Action::View) || session.can(Module::AuditLog, Action::ViewOwn)
}

/// The notifications bell: unread count, the latest ones, click to open and mark read.
#[component]
fn Bell() -> impl IntoView {
    use crmconnect_domain::api::{Notification, Page};
    let reload = RwSignal::new(0u32);
    let open = RwSignal::new(false);
    let unread = api::load::<Page<Notification>>(move || {
        reload.get();
        "/api/v1/notifications?unread=true&limit=20".to_string()
    });
    let read = move |id: i32| {
        leptos::task::spawn_local(async move {
            let _ = api::post::<_, Notification>(&format!("/api/v1/notifications/{id}/read"), &serde_json::json!({})).await;
            reload.update(|n| *n += 1);
        });
    };
    view! {
        <div class="bell">
            <button class="secondary" id="bell" aria-label="Notifications" on:click=move |_| { open.update(|o| *o = !*o); reload.update(|n| *n += 1); }>
                "Alerts "{move || unread.get().and_then(|r| r.ok()).map(|p| p.items.len()).unwrap_or(0)}
            </button>
            <Show when=move || open.get()>
                <div class="bell-menu card" id="bell-menu">
                    {move || match unread.get().and_then(|r| r.ok()) {
                        Some(p) if !p.items.is_empty() => p.items.into_iter().map(|n| {
                            let id = n.id;
                            view! {
                                <p><a href=n.link.clone().unwrap_or_else(|| "/admin".into()) on:click=move |_| read(id)>{n.title.clone()}</a><br/><span class="small muted">{n.body.clone()}</span></p>
                            }
                        }).collect_view().into_any(),
                        _ => view! { <p class="muted">"Nothing new."</p> }.into_any(),
                    }}
                </div>
            </Show>
        </div>
    }
}
