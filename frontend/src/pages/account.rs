//! `/admin/profile`: the signed-in user's own account — name and e-mail (`PATCH /me`) and a
//! password change (`POST /me/password`, which answers with a new session).

use crmconnect_domain::api::Me;
use leptos::prelude::*;

use crate::api::{self, ApiFailure};
use crate::app::Session;

/// The error of the API field `field`, shown beside the input `input` (as `{input}-error`).
fn field_error(error: RwSignal<Option<ApiFailure>>, field: &'static str, input: &'static str) -> impl IntoView {
    move || error.get().and_then(|e| e.field(field)).map(|m| view! { <div class="field-error" role="alert" id=format!("{input}-error")>{m}</div> })
}

/// An error that names no field: shown above the form.
fn form_error(error: RwSignal<Option<ApiFailure>>) -> impl IntoView {
    move || {
        error.get().filter(|e| e.problem.as_ref().is_none_or(|p| p.errors.is_empty())).map(|e| view! { <div class="alert" role="alert">{e.summary()}</div> })
    }
}

#[component]
pub fn ProfilePage() -> impl IntoView {
    let session = expect_context::<Session>();
    let me = session.me.get_untracked();
    let name = RwSignal::new(me.as_ref().map(|m| m.name.clone()).unwrap_or_default());
    let email = RwSignal::new(me.as_ref().map(|m| m.email.clone()).unwrap_or_default());
    let profile_error = RwSignal::new(None::<ApiFailure>);
    let profile_saved = RwSignal::new(false);

    let save_profile = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        profile_saved.set(false);
        // `UpdateProfile`, built as JSON: the app already sends JSON values (bundle size).
        let body = serde_json::json!({"name": name.get_untracked(), "email": email.get_untracked()});
        leptos::task::spawn_local(async move {
            match api::patch::<_, serde_json::Value>("/api/v1/me", &body).await {
                Ok(_) => {
                    profile_error.set(None);
                    // The top bar shows the session's `me`: read it again as the server has it now.
                    if let Ok(me) = api::get::<Me>("/api/v1/me").await {
                        name.set(me.name.clone());
                        email.set(me.email.clone());
                        session.me.set(Some(me));
                    }
                    profile_saved.set(true);
                }
                Err(e) if e.problem.as_ref().is_some_and(|p| p.code == "email_taken") => {
                    profile_error.set(Some(ApiFailure::invalid("email", "Another account already uses this e-mail address.".into())))
                }
                Err(e) => profile_error.set(Some(e)),
            }
        });
    };

    let current = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let password_error = RwSignal::new(None::<ApiFailure>);
    let password_changed = RwSignal::new(false);
    let busy = RwSignal::new(false);

    let change_password = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        password_changed.set(false);
        if busy.get_untracked() {
            return;
        }
        let (old, new) = (current.get_untracked(), new_password.get_untracked());
        if new != repeat.get_untracked() {
            return password_error.set(Some(ApiFailure::invalid("repeat_password", "The two new passwords differ.".into())));
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::change_password(old, new).await {
                Ok(()) => {
                    password_error.set(None);
                    current.set(String::new());
                    new_password.set(String::new());
                    repeat.set(String::new());
                    password_changed.set(true);
                }
                Err(e) => password_error.set(Some(e)),
            }
            busy.set(false);
        });
    };

    view! {
        <h1>"My account"</h1>
        <div class="two-col">
            <section class="card">
                <h2>"Profile"</h2>
                <form class="settings-form" id="profile-form" on:submit=save_profile novalidate>
                    {form_error(profile_error)}
                    <div class="form-grid">
                        <label for="profile-name">"Name"</label>
                        <div>
                            <input id="profile-name" autocomplete="name" required bind:value=name/>
                            {field_error(profile_error, "name", "profile-name")}
                        </div>
                        <label for="profile-email">"E-mail"</label>
                        <div>
                            <input id="profile-email" type="email" autocomplete="email" required bind:value=email/>
                            {field_error(profile_error, "email", "profile-email")}
                        </div>
                    </div>
                    <div class="actions">
                        <button type="submit" id="profile-save">"Save"</button>
                        {move || profile_saved.get().then(|| view! { <span class="notice" role="status" id="profile-saved">"Profile saved."</span> })}
                    </div>
                </form>
            </section>
            <section class="card">
                <h2>"Change password"</h2>
                <form class="settings-form" id="password-form" on:submit=change_password novalidate>
                    {form_error(password_error)}
                    <div class="form-grid">
                        <label for="current-password">"Current password"</label>
                        <div>
                            <input id="current-password" type="password" autocomplete="current-password" required bind:value=current/>
                            {field_error(password_error, "current_password", "current-password")}
                        </div>
                        <label for="new-password">"New password"</label>
                        <div>
                            <input id="new-password" type="password" autocomplete="new-password" aria-describedby="new-password-hint" required bind:value=new_password/>
                            <div class="small muted" id="new-password-hint">"At least 12 characters. Common passwords are refused."</div>
                            {field_error(password_error, "new_password", "new-password")}
                        </div>
                        <label for="repeat-password">"Repeat new password"</label>
                        <div>
                            <input id="repeat-password" type="password" autocomplete="new-password" required bind:value=repeat/>
                            {field_error(password_error, "repeat_password", "repeat-password")}
                        </div>
                    </div>
                    <div class="actions">
                        <button type="submit" id="password-save" disabled=move || busy.get()>"Change password"</button>
                    </div>
                    {move || password_changed.get().then(|| view! {
                        <div class="notice" role="status" id="password-changed">"Password changed. Your other sessions and API tokens were signed out."</div>
                    })}
                </form>
            </section>
        </div>
    }
}
