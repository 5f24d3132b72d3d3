use leptos::prelude::*;

use crate::app::Session;

/// `/admin`: the morning dashboard. Its widgets (new leads, tasks due, expired proposals,
/// overdue invoices) arrive with their modules.
#[component]
pub fn Dashboard() -> impl IntoView {
    let session = expect_context::<Session>();
    view! {
        <h1>"Dashboard"</h1>
        <p id="welcome">{move || session.me.get().map(|m| format!("Good to see you, {}.", m.name)).unwrap_or_default()}</p>
        <section class="cards">
            <div class="card"><h2>"New leads"</h2><p class="muted">"Uncontacted leads from the last day appear here."</p></div>
            <div class="card"><h2>"Tasks today"</h2><p class="muted">"Reminders and tasks due today."</p></div>
            <div class="card"><h2>"Expired proposals"</h2><p class="muted">"Proposals past their open-till date."</p></div>
            <div class="card"><h2>"Overdue invoices"</h2><p class="muted">"Invoices of your clients past their due date."</p></div>
        </section>
    }
}
