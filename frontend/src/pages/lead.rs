//! `/admin/leads/{id}`: the lead record — details, status and score, the activity timeline,
//! logging a call / e-mail / meeting / note, reminders, conversion, lost / junk / restore,
//! and its proposals with "Add". The activity, attachments and proposals panels are shared
//! with the opportunity record (an opportunity is a lead row; the same routes serve both).

use crmconnect_domain::api::{
    Activity, ActivityType, Attachment, ConvertToOpportunity, CreateActivity, CreateReminder, Lead, MarkLost, MoveLead, NamedOption, Page, Pipeline, Proposal,
    Reminder, TimelineEntry,
};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use rust_decimal::Decimal;

use crmconnect_domain::permissions::{Action, Module};

use super::proposals::{money, status_label};
use super::settings::{field, EditForm, Field, Kind};
use crate::api::{self, ApiFailure};
use crate::app::Session;

/// The fields the lead record edits (`PATCH /leads/{id}`).
pub const LEAD_FIELDS: &[Field] = &[
    field("name", "Name", Kind::Text),
    field("company", "Company", Kind::Text),
    field("title", "Position", Kind::Text),
    field("email", "E-mail", Kind::Text),
    field("phone", "Phone", Kind::Text),
    field("website", "Website", Kind::Text),
    field("address", "Address", Kind::Text),
    field("city", "City", Kind::Text),
    field("country", "Country", Kind::Text),
    field("industry", "Industry", Kind::Text),
    field("company_size", "Company size", Kind::Text),
    field("source_id", "Source", Kind::Ref("/api/v1/lead-sources")),
    field("assigned_to", "Assigned to", Kind::Ref("/api/v1/staff")),
    field("estimated_value", "Estimated value", Kind::Decimal),
    field("currency", "Currency (ISO code)", Kind::Text),
    field("tags", "Tags (comma-separated)", Kind::List),
    field("description", "Description", Kind::LongText),
];

#[component]
pub fn LeadRecord(id: i32) -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let version = RwSignal::new(None);
    let lead = api::load_versioned::<Lead>(
        move || {
            reload.get();
            format!("/api/v1/leads/{id}")
        },
        version,
    );
    let session = expect_context::<Session>();
    let lost_reasons = api::load::<Page<NamedOption>>(move || "/api/v1/lost-reasons".to_string());
    let pipelines = api::load::<Page<Pipeline>>(move || "/api/v1/pipelines?limit=100".to_string());
    let error = RwSignal::new(None::<ApiFailure>);
    let change_status = move |status_id: i32| {
        leptos::task::spawn_local(async move {
            let moved = api::post::<_, Lead>(&format!("/api/v1/leads/{id}/move"), &MoveLead { status_id, after_id: None }).await;
            match moved {
                Ok(_) => {
                    error.set(None);
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let lost_reason = RwSignal::new(String::new());
    let editing = RwSignal::new(false);
    let converting = RwSignal::new(false);
    let opp_value = RwSignal::new(String::new());
    let opp_currency = RwSignal::new("RON".to_string());
    let opp_probability = RwSignal::new("50".to_string());
    let opp_close = RwSignal::new(String::new());
    let navigate = use_navigate();
    let convert_to_opportunity = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(estimated_value) = opp_value.get_untracked().trim().replace(',', ".").parse::<Decimal>() else {
            error.set(Some(ApiFailure::invalid("estimated_value", "Enter the estimated value, e.g. 25000.00.".into())));
            return;
        };
        let expected_close_date = time::Date::parse(&opp_close.get_untracked(), time::macros::format_description!("[year]-[month]-[day]")).ok();
        let body = ConvertToOpportunity {
            estimated_value,
            currency: opp_currency.get_untracked().trim().to_uppercase(),
            probability: opp_probability.get_untracked().trim().parse().unwrap_or(0),
            expected_close_date,
            opportunity_status_id: None,
        };
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match api::post::<_, Lead>(&format!("/api/v1/leads/{id}/convert-to-opportunity"), &body).await {
                // A role that may create opportunities but not see them (SDR) goes back to its
                // leads: the opportunity record would only say "permission denied".
                Ok(_) if !(session.can(Module::Opportunities, Action::View) || session.can(Module::Opportunities, Action::ViewOwn)) => {
                    navigate("/admin/leads", Default::default())
                }
                Ok(opportunity) => navigate(&format!("/admin/opportunities/{}", opportunity.id), Default::default()),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let done = move |r: Result<(), ApiFailure>| match r {
        Ok(()) => {
            error.set(None);
            reload.update(|n| *n += 1);
        }
        Err(e) => error.set(Some(e)),
    };
    let act = move |path: &'static str| {
        leptos::task::spawn_local(async move {
            let r = match path {
                "lost" => {
                    let Ok(reason) = lost_reason.get_untracked().parse::<i32>() else {
                        error.set(Some(ApiFailure { status: 0, problem: None, message: "Choose a lost reason.".into() }));
                        return;
                    };
                    api::post::<_, Lead>(&format!("/api/v1/leads/{id}/lost"), &MarkLost { lost_reason_id: reason, note: None }).await.map(|_| ())
                }
                "convert-to-client" => {
                    api::post::<_, serde_json::Value>(&format!("/api/v1/leads/{id}/convert-to-client"), &serde_json::json!({})).await.map(|_| ())
                }
                other => api::post::<_, Lead>(&format!("/api/v1/leads/{id}/{other}"), &serde_json::json!({})).await.map(|_| ()),
            };
            done(r);
        });
    };

    view! {
        {move || error.get().map(|e| view! { <div class="alert" role="alert">{e.summary()}</div> })}
        {move || match lead.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <div class="alert" role="alert">{e.summary()}</div> }.into_any(),
            Some(Ok(l)) => view! {
                <div class="board-header">
                    <h1 id="lead-name">{l.name.clone()}</h1>
                    {
                        let (pipeline_id, status_id) = (l.pipeline_id, l.status_id);
                        move || {
                            let statuses = pipelines.get().and_then(Result::ok).and_then(|p| p.items.into_iter().find(|p| p.id == pipeline_id)).map(|p| p.statuses).unwrap_or_default();
                            view! {
                                <label class="visually-hidden" for="lead-status">"Status"</label>
                                <select id="lead-status" disabled=!session.can(Module::Leads, Action::Edit) on:change=move |ev| { if let Ok(s) = event_target_value(&ev).parse() { change_status(s) } }>
                                    {statuses.into_iter().map(|s| view! { <option value=s.id selected=s.id == status_id>{s.name}</option> }).collect_view()}
                                </select>
                            }
                        }
                    }
                </div>
                <p class="muted">
                    {[l.company.clone(), l.title.clone(), l.email.clone(), l.phone.clone(), l.city.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ")}
                </p>
                <p class="small">
                    {format!("Score {} · source {} · assigned to {}", l.score, l.source.clone().unwrap_or_else(|| "—".into()), l.assigned_to_name.clone().unwrap_or_else(|| "nobody".into()))}
                    {l.estimated_value.map(|v| format!(" · value {}", money(v, &l.currency.clone().unwrap_or_default())))}
                    {l.lost.then(|| format!(" · LOST ({})", l.lost_reason.clone().unwrap_or_default()))}
                    {l.junk.then_some(" · JUNK")}
                </p>
                <div class="actions">
                    {session.can(Module::Proposals, Action::Create).then(|| view! { <A href=format!("/admin/proposals/new?lead_id={id}") attr:class="button" attr:id="add-proposal">"+ Proposal"</A> })}
                    {session.can(Module::Leads, Action::Edit).then(|| view! { <button class="secondary" id="edit-lead" on:click=move |_| editing.update(|e| *e = !*e)>"Edit"</button> })}
                    {(!l.is_opportunity && session.can(Module::Opportunities, Action::Create)).then(|| view! { <button class="secondary" id="open-convert-opportunity" on:click=move |_| converting.update(|c| *c = !*c)>"Convert to opportunity"</button> })}
                    {(l.converted_client_id.is_none() && session.can(Module::Clients, Action::Create) && session.can(Module::Leads, Action::Edit)).then(|| view! {
                        <button class="secondary" id="convert-client" on:click=move |_| act("convert-to-client")>"Convert to client"</button>
                    })}
                    {((l.lost || l.junk) && session.can(Module::Leads, Action::Edit)).then(|| view! { <button class="secondary" on:click=move |_| act("restore")>"Restore"</button> })}
                    {(!l.lost && !l.junk && session.can(Module::Leads, Action::Edit)).then(|| view! {
                        <label class="visually-hidden" for="lost-reason">"Lost reason"</label>
                        <select id="lost-reason" on:change=move |ev| lost_reason.set(event_target_value(&ev))>
                            <option value="">"Lost reason…"</option>
                            {move || lost_reasons.get().and_then(|r| r.ok()).map(|p| p.items.into_iter().map(|r| view! { <option value=r.id>{r.name}</option> }).collect_view())}
                        </select>
                        <button class="secondary" on:click=move |_| act("lost")>"Mark lost"</button>
                        <button class="secondary" on:click=move |_| act("junk")>"Junk"</button>
                    })}
                </div>
                {
                    let initial = serde_json::to_value(&l).unwrap_or_default();
                    move || editing.get().then(|| view! {
                        <section class="card">
                            <h2>"Edit lead"</h2>
                            <EditForm
                                api=format!("/api/v1/leads/{id}")
                                fields=LEAD_FIELDS
                                initial=initial.clone()
                                on_saved=Callback::new(move |_| { editing.set(false); reload.update(|n| *n += 1); })
                                on_cancel=Callback::new(move |_| editing.set(false))
                                version=version
                                on_reload=Callback::new(move |_| reload.update(|n| *n += 1))
                            />
                        </section>
                    })
                }
                {
                    let currency = l.currency.clone();
                    let value = l.estimated_value;
                    let convert = convert_to_opportunity.clone();
                    move || converting.get().then(|| {
                        if let Some(c) = currency.clone() { opp_currency.set(c); }
                        if let Some(v) = value { opp_value.set(v.to_string()); }
                        view! {
                            <section class="card">
                                <h2>"Convert to opportunity"</h2>
                                <form class="form-grid" id="convert-opportunity" on:submit=convert.clone()>
                                    <label for="opp-value">"Estimated value"</label>
                                    <input id="opp-value" inputmode="decimal" required bind:value=opp_value/>
                                    <label for="opp-currency">"Currency"</label>
                                    <input id="opp-currency" size="4" bind:value=opp_currency/>
                                    <label for="opp-probability">"Probability (%)"</label>
                                    <input id="opp-probability" inputmode="numeric" bind:value=opp_probability/>
                                    <label for="opp-close">"Expected close date"</label>
                                    <input id="opp-close" type="date" bind:value=opp_close/>
                                    <span></span>
                                    <button type="submit" id="convert-opportunity-submit">"Create opportunity"</button>
                                </form>
                            </section>
                        }
                    })
                }
            }.into_any(),
        }}
        <RecordActivity id=id reload=reload error=error editable=session.can(Module::Leads, Action::Edit)/>
        <Attachments lead_id=id editable=session.can(Module::Leads, Action::Edit)/>
        <RecordProposals of="lead" id=id/>
    }
}

/// The activity panel of a lead or an opportunity record (`id` is the lead row's): log a call /
/// e-mail / meeting / note, reminders, and the timeline. `reload` is shared with the record so
/// its own actions (status, conversion) show in the timeline; errors go to the record's alert.
#[component]
pub fn RecordActivity(id: i32, reload: RwSignal<u32>, error: RwSignal<Option<ApiFailure>>, editable: bool) -> impl IntoView {
    let timeline = api::load::<Page<TimelineEntry>>(move || {
        reload.get();
        format!("/api/v1/leads/{id}/timeline")
    });
    let reminders = api::load::<Page<Reminder>>(move || {
        reload.get();
        format!("/api/v1/leads/{id}/reminders")
    });
    let kind = RwSignal::new("call".to_string());
    let summary = RwSignal::new(String::new());
    let duration = RwSignal::new(String::new());
    let remind_at = RwSignal::new(String::new());
    let remind_note = RwSignal::new(String::new());
    let done = move |r: Result<(), ApiFailure>| match r {
        Ok(()) => {
            error.set(None);
            reload.update(|n| *n += 1);
        }
        Err(e) => error.set(Some(e)),
    };
    let log = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let activity_type = match kind.get_untracked().as_str() {
            "email" => ActivityType::Email,
            "meeting" => ActivityType::Meeting,
            "note" => ActivityType::Note,
            _ => ActivityType::Call,
        };
        let body = CreateActivity {
            activity_type,
            summary: summary.get_untracked(),
            body: None,
            duration_minutes: duration.get_untracked().trim().parse().ok(),
            attendees: None,
            occurred_at: None,
        };
        leptos::task::spawn_local(async move {
            let r = api::post::<_, Activity>(&format!("/api/v1/leads/{id}/activities"), &body).await.map(|_| ());
            if r.is_ok() {
                summary.set(String::new());
                duration.set(String::new());
            }
            done(r);
        });
    };
    let add_reminder = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // datetime-local gives "YYYY-MM-DDTHH:MM" in the user's clock; sent as UTC.
        let raw = remind_at.get_untracked();
        let at = time::PrimitiveDateTime::parse(&raw, time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]")).map(|p| p.assume_utc());
        let Ok(at) = at else {
            error.set(Some(ApiFailure { status: 0, problem: None, message: "Pick a date and time.".into() }));
            return;
        };
        let body = CreateReminder { remind_at: at, staff_id: None, note: Some(remind_note.get_untracked()).filter(|n| !n.trim().is_empty()) };
        leptos::task::spawn_local(async move {
            let r = api::post::<_, Reminder>(&format!("/api/v1/leads/{id}/reminders"), &body).await.map(|_| ());
            if r.is_ok() {
                remind_note.set(String::new());
            }
            done(r);
        });
    };

    view! {
        <div class="two-col">
            <section class="card">
                <h2>{if editable { "Log activity" } else { "Activity" }}</h2>
                <Show when=move || editable>
                <form class="send-dialog" id="activity-form" on:submit=log>
                    <label for="activity-type">"Type"</label>
                    <select id="activity-type" on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="call">"Call"</option>
                        <option value="email">"E-mail"</option>
                        <option value="meeting">"Meeting"</option>
                        <option value="note">"Note"</option>
                    </select>
                    <label for="activity-summary">"Summary"</label>
                    <input id="activity-summary" required bind:value=summary/>
                    <Show when=move || kind.get() == "call">
                        <label for="activity-duration">"Duration (minutes)"</label>
                        <input id="activity-duration" inputmode="numeric" bind:value=duration/>
                    </Show>
                    <button type="submit" id="activity-submit">"Log"</button>
                </form>
                </Show>
                <h2>"Reminders"</h2>
                {move || reminders.get().and_then(|r| r.ok()).map(|p| view! {
                    <ul class="plain" id="reminders">{p.items.into_iter().map(|r| view! { <li>{format!("{} · {}{}", r.remind_at.date(), r.note.unwrap_or_default(), if r.done_at.is_some() { " (done)" } else { "" })}</li> }).collect_view()}</ul>
                })}
                <Show when=move || editable>
                <form class="send-dialog" id="reminder-form" on:submit=add_reminder>
                    <label for="remind-at">"Remind me at (UTC)"</label>
                    <input id="remind-at" type="datetime-local" bind:value=remind_at/>
                    <label for="remind-note">"Note"</label>
                    <input id="remind-note" bind:value=remind_note/>
                    <button type="submit" class="secondary" id="reminder-submit">"Add reminder"</button>
                </form>
                </Show>
            </section>
            <section class="card" id="timeline">
                <h2>"Timeline"</h2>
                {move || timeline.get().and_then(|r| r.ok()).map(|p| {
                    let mut items = p.items;
                    items.reverse();
                    view! {
                        <ul class="plain">{items.into_iter().map(|t| view! {
                            <li><span class="small muted">{format!("{} {} · ", t.at.date(), t.at.time().format(time::macros::format_description!("[hour]:[minute]")).unwrap_or_default())}</span>
                                <strong>{t.title}</strong>{t.detail.map(|d| format!(" — {d}"))}</li>
                        }).collect_view()}</ul>
                    }
                })}
            </section>
        </div>
    }
}

/// The proposals of a lead (`of="lead"`) or an opportunity (`of="opportunity"`).
#[component]
pub fn RecordProposals(of: &'static str, id: i32) -> impl IntoView {
    let proposals = api::load::<Page<Proposal>>(move || format!("/api/v1/proposals?{of}_id={id}"));
    view! {
        <section class="card" id=format!("{of}-proposals")>
            <h2>"Proposals"</h2>
            {move || proposals.get().map(|r| match r {
                Err(e) => view! { <p class="muted">{e.summary()}</p> }.into_any(),
                Ok(p) if p.items.is_empty() => view! { <p class="muted">"No proposals yet."</p> }.into_any(),
                Ok(p) => view! {
                    <ul class="plain">{p.items.into_iter().map(|p| view! {
                        <li><A href=format!("/admin/proposals/{}", p.id)>{p.number.clone()}</A>{format!(" · {} · {} · {}", p.subject, money(p.amounts.total, &p.currency), status_label(p.status_code))}</li>
                    }).collect_view()}</ul>
                }.into_any(),
            })}
        </section>
    }
}

/// Files on a lead or an opportunity: upload, download, delete (the last two need `editable`).
#[component]
pub fn Attachments(lead_id: i32, editable: bool) -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let files = api::load::<Page<Attachment>>(move || {
        reload.get();
        format!("/api/v1/leads/{lead_id}/attachments")
    });
    let error = RwSignal::new(None::<ApiFailure>);
    let uploading = RwSignal::new(false);
    let on_file = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        uploading.set(true);
        leptos::task::spawn_local(async move {
            match api::upload::<Attachment>(&format!("/api/v1/leads/{lead_id}/attachments"), &file).await {
                Ok(_) => {
                    error.set(None);
                    input.set_value("");
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
            uploading.set(false);
        });
    };
    view! {
        <section class="card" id="attachments">
            <h2>"Attachments"</h2>
            {move || error.get().map(|e| view! { <div class="alert" role="alert">{e.summary()}</div> })}
            {move || files.get().and_then(Result::ok).map(|page| if page.items.is_empty() {
                view! { <p class="muted">"No files yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain">
                        {page.items.into_iter().map(|f| {
                            let path = format!("/api/v1/leads/{lead_id}/attachments/{}", f.id);
                            let (get_path, del_path, name) = (path.clone(), path, f.file_name.clone());
                            view! {
                                <li>
                                    <button class="link" on:click=move |_| {
                                        let (p, n) = (get_path.clone(), name.clone());
                                        leptos::task::spawn_local(async move { if let Err(e) = api::download(&p, &n).await { error.set(Some(e)); } });
                                    }>{f.file_name.clone()}</button>
                                    <span class="small muted">{format!(" {} KiB · {}", (f.size_bytes + 1023) / 1024, f.created_at.date())}</span>
                                    <button class="link small" hidden=!editable on:click=move |_| {
                                        let p = del_path.clone();
                                        leptos::task::spawn_local(async move {
                                            match api::delete(&p).await {
                                                Ok(()) => reload.update(|n| *n += 1),
                                                Err(e) => error.set(Some(e)),
                                            }
                                        });
                                    }>"delete"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
            <Show when=move || editable>
                <label for="attachment-file">{move || if uploading.get() { "Uploading…" } else { "Add a file (max 10 MiB)" }}</label>
                <input id="attachment-file" type="file" on:change=on_file/>
            </Show>
        </section>
    }
}
