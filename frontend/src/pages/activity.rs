//! `/admin/utilities/activity_log`: the audit log (`GET /api/v1/audit-log`), newest first, with
//! filters (user, record type, UTC days) and "Load more".

use crmconnect_domain::permissions::{Action, Module};
use leptos::prelude::*;
use serde_json::Value;

use crate::api::{self, url_encode, ApiFailure};
use crate::app::Session;
use crate::pages::settings::rows;

/// The record types offered by the filter: (API `entity_type`, label).
const RECORD_TYPES: &[(&str, &str)] = &[
    ("lead", "Lead"),
    ("opportunity", "Opportunity"),
    ("client", "Client"),
    ("proposal", "Proposal"),
    ("invoice", "Invoice"),
    ("recurring_invoice", "Recurring invoice"),
    ("sales_order", "Sales order"),
    ("contract", "Contract"),
    ("staff", "Staff member"),
    ("role", "Role"),
    ("api_token", "API token"),
    ("settings", "Settings"),
];

/// `2026-12-01T09:30:12.5Z` → `2026-12-01 09:30` (the server sends UTC).
fn when(raw: &str) -> String {
    match (raw.get(..10), raw.get(11..16)) {
        (Some(day), Some(time)) if raw.ends_with('Z') => format!("{day} {time}"),
        _ => raw.replace('T', " "),
    }
}

/// The screen of a record, where the app has one.
fn record_href(entity_type: &str, id: Option<i64>) -> Option<String> {
    let per_id = |base: &str| id.map(|id| format!("{base}/{id}"));
    match entity_type {
        "lead" => per_id("/admin/leads"),
        "opportunity" => per_id("/admin/opportunities"),
        "client" => per_id("/admin/clients"),
        "proposal" => per_id("/admin/proposals"),
        "invoice" => per_id("/admin/invoices"),
        "recurring_invoice" => id.map(|id| format!("/admin/invoices/recurring/{id}/edit")),
        "sales_order" => Some("/admin/sales_orders".into()),
        "contract" => Some("/admin/contracts".into()),
        "staff" => Some("/admin/staff".into()),
        "role" => Some("/admin/roles".into()),
        "api_token" => Some("/admin/api_tokens".into()),
        _ => None,
    }
}

/// A value in a few words.
fn short(v: Option<&Value>) -> String {
    let text = match v {
        None | Some(Value::Null) => "—".to_string(),
        Some(Value::String(s)) if s.is_empty() => "—".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

/// What changed: `field: before → after` for the fields that differ (a few), or the record's
/// name when it was created or removed.
fn summary(before: Option<&Value>, after: Option<&Value>) -> String {
    const SKIP: &[&str] = &["updated_at", "created_at", "last_login_at"];
    let label = |v: &Value| ["name", "subject", "number", "title", "company"].iter().find_map(|k| v.get(*k).filter(|x| !x.is_null())).map(|x| short(Some(x)));
    match (before, after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let changed: Vec<String> = a
                .iter()
                .filter(|(k, v)| !SKIP.contains(&k.as_str()) && b.get(k.as_str()) != Some(v))
                .map(|(k, v)| format!("{}: {} → {}", k.replace('_', " "), short(b.get(k.as_str())), short(Some(v))))
                .collect();
            match changed.len() {
                0 => "No visible change".into(),
                n if n > 3 => format!("{}; and {} more", changed[..3].join("; "), n - 3),
                _ => changed.join("; "),
            }
        }
        (None, Some(a)) => label(a).map(|l| format!("Created: {l}")).unwrap_or_else(|| "Created".into()),
        (Some(b), None) => label(b).map(|l| format!("Removed: {l}")).unwrap_or_else(|| "Removed".into()),
        _ => "—".into(),
    }
}

#[component]
pub fn ActivityLogPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let me = session.me.get_untracked().map(|m| (m.id, m.name)).unwrap_or_default();
    // Staff names for "who" and the user filter: only for roles that may list staff.
    let staff_visible = session.can(Module::Staff, Action::View);
    let staff = RwSignal::new(Vec::<(i64, String)>::new());
    if staff_visible {
        leptos::task::spawn_local(async move {
            if let Ok(list) = api::get::<Value>("/api/v1/staff?limit=500").await {
                let names = rows(&list).iter().filter_map(|r| Some((r.get("id")?.as_i64()?, r.get("name")?.as_str()?.to_string()))).collect();
                staff.set(names);
            }
        });
    }

    let actor = RwSignal::new(String::new());
    let entity_type = RwSignal::new(String::new());
    let date_from = RwSignal::new(String::new());
    let date_to = RwSignal::new(String::new());
    // Entries as JSON (`AuditEntry`): the app's one `Value` parser serves them (bundle size).
    let entries = RwSignal::new(Vec::<Value>::new());
    let cursor = RwSignal::new(None::<String>);
    let loading = RwSignal::new(true);
    let error = RwSignal::new(None::<ApiFailure>);
    // Only the answer to the latest request is shown (filters may change while one is out).
    let latest = StoredValue::new(0u32);

    let fetch = move |append: bool| {
        let mut path = String::from("/api/v1/audit-log?limit=50");
        for (param, value) in [("actor_staff_id", actor), ("entity_type", entity_type), ("date_from", date_from), ("date_to", date_to)] {
            let v = value.get_untracked();
            if !v.is_empty() {
                path.push_str(&format!("&{param}={}", url_encode(&v)));
            }
        }
        if append {
            let Some(c) = cursor.get_untracked() else { return };
            path.push_str(&format!("&cursor={}", url_encode(&c)));
        }
        let ticket = latest.get_value().wrapping_add(1);
        latest.set_value(ticket);
        loading.set(true);
        leptos::task::spawn_local(async move {
            let answer = api::get::<Value>(&path).await;
            if latest.get_value() != ticket {
                return;
            }
            match answer {
                Ok(page) => {
                    entries.update(|e| {
                        if !append {
                            e.clear();
                        }
                        e.extend(rows(&page));
                    });
                    cursor.set(page.get("next_cursor").and_then(Value::as_str).map(str::to_string));
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        });
    };
    Effect::new(move |_| {
        actor.track();
        entity_type.track();
        date_from.track();
        date_to.track();
        fetch(false);
    });

    let who = move |id: Option<i64>| -> String {
        match id {
            None => "System".into(),
            Some(id) if id == i64::from(me.0) => me.1.clone(),
            Some(id) => staff.with(|s| s.iter().find(|(i, _)| *i == id).map(|(_, n)| n.clone())).unwrap_or_else(|| format!("Staff #{id}")),
        }
    };

    view! {
        <h1>"Activity log"</h1>
        <p class="muted">"Every change, newest first. Times are UTC."</p>
        <div class="filters" id="activity-filters">
            {staff_visible.then(|| view! {
                <label>"User "
                    <select id="filter-actor" on:change=move |ev| actor.set(event_target_value(&ev)) prop:value=move || actor.get()>
                        <option value="">"Everyone"</option>
                        {move || staff.get().into_iter().map(|(id, name)| view! { <option value=id.to_string()>{name}</option> }).collect_view()}
                    </select>
                </label>
            })}
            <label>"Record "
                <select id="filter-type" on:change=move |ev| entity_type.set(event_target_value(&ev))>
                    <option value="">"All"</option>
                    {RECORD_TYPES.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
                </select>
            </label>
            <label>"From "<input type="date" id="filter-from" on:input=move |ev| date_from.set(event_target_value(&ev))/></label>
            <label>"To "<input type="date" id="filter-to" on:input=move |ev| date_to.set(event_target_value(&ev))/></label>
        </div>
        {move || error.get().map(|e| view! { <div class="alert" role="alert">{e.summary()}</div> })}
        {move || {
            let list = entries.get();
            if list.is_empty() {
                let text = if loading.get() { "Loading…" } else { "Nothing recorded for these filters." };
                return view! { <p class="muted">{text}</p> }.into_any();
            }
            view! {
                <table class="grid" id="activity-table">
                    <thead><tr><th>"When (UTC)"</th><th>"Who"</th><th>"Action"</th><th>"Record"</th><th>"Change"</th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|e| {
                            let text = |key: &str| e.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
                            let (action, entity_type) = (text("action"), text("entity_type"));
                            let code = action.clone();
                            let entity_id = e.get("entity_id").and_then(Value::as_i64);
                            let record = match entity_id {
                                Some(id) => format!("{} #{id}", entity_type.replace('_', " ")),
                                None => entity_type.replace('_', " "),
                            };
                            let record = match record_href(&entity_type, entity_id) {
                                Some(href) => view! { <a href=href>{record}</a> }.into_any(),
                                None => view! { <span>{record}</span> }.into_any(),
                            };
                            view! {
                                <tr data-action=action>
                                    <td class="small">{when(&text("at"))}</td>
                                    <td>{who(e.get("actor_staff_id").and_then(Value::as_i64))}</td>
                                    <td><code>{code}</code></td>
                                    <td>{record}</td>
                                    <td class="small">{summary(e.get("before").filter(|v| !v.is_null()), e.get("after").filter(|v| !v.is_null()))}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        {move || cursor.with(Option::is_some).then(|| view! {
            <button class="secondary load-more" id="activity-more" disabled=move || loading.get() on:click=move |_| fetch(true)>
                {move || if loading.get() { "Loading…" } else { "Load more" }}
            </button>
        })}
    }
}
