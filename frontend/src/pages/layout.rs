use crmconnect_domain::api::Me;
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
        return view! { <Redirect path=format!("/login?next={}", urlencode(&next))/> }.into_any();
    }
    if session.me.get_untracked().is_none() {
        leptos::task::spawn_local(async move {
            match api::get::<Me>("/api/v1/me").await {
                Ok(me) => session.me.set(Some(me)),
                Err(e) => error.set(Some(e)),
            }
        });
    }

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
                <div class="user">
                    <span id="current-user">{move || session.me.get().map(|m| m.name).unwrap_or_default()}</span>
                    <span class="role">{move || session.me.get().map(|m| m.role.name).unwrap_or_default()}</span>
                    <button id="logout" on:click=sign_out>"Sign out"</button>
                </div>
            </header>
            <div class="frame">
                <nav class="sidebar" aria-label="Modules">
                    {move || {
                        let me = session.me.get();
                        NAV.iter()
                            .filter(|item| match (item.module, &me) {
                                (None, _) => true,
                                (Some(m), Some(me)) => me.permissions.0.get(&m).is_some_and(|a| !a.is_empty()),
                                (Some(_), None) => false,
                            })
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

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
