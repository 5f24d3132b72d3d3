use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{self, ApiFailure};

#[component]
pub fn LoginPage() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiFailure>);
    let busy = RwSignal::new(false);
    let query = use_query_map();
    let navigate = use_navigate();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        // Only same-site paths: never follow an absolute URL from the query string.
        let next = query.get_untracked().get("next").filter(|n| n.starts_with('/') && !n.starts_with("//")).unwrap_or_else(|| "/admin".to_string());
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match api::login(email.get_untracked(), password.get_untracked()).await {
                Ok(()) => navigate(&next, Default::default()),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };

    let field_error = move |name: &'static str| move || error.get().and_then(|e| e.field(name));

    view! {
        <div class="login-page">
            <form class="login-card" on:submit=submit novalidate>
                <h1>"CRMConnect"</h1>
                <p class="muted">"Sign in to your sales workspace"</p>
                <Show when=move || error.get().is_some_and(|e| e.problem.as_ref().is_none_or(|p| p.errors.is_empty()))>
                    <div class="alert" role="alert" id="login-error">{move || error.get().map(|e| e.summary())}</div>
                </Show>
                <label for="email">"E-mail"</label>
                <input id="email" name="email" type="email" autocomplete="username" required bind:value=email/>
                <span class="field-error">{field_error("email")}</span>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required bind:value=password/>
                <span class="field-error">{field_error("password")}</span>
                <button type="submit" id="login-submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </div>
    }
}
