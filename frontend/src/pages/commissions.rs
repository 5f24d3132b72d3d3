//! `/admin/commission`: what payments earned (an agent their own; managers anyone's, with a
//! staff filter), pending and paid totals per currency, receipts paying pending commissions
//! out, and the receipts with their PDF. The policies and who earns under them are data-driven
//! settings screens ([`super::settings::COMMISSION_POLICIES`]). Works on `serde_json::Value`
//! like those: no new deserialisers in the bundle.

use crmconnect_domain::permissions::{Action, Module};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use serde_json::{json, Value};

use super::settings::{rows, staff_visible, text_of};
use crate::api::{self, ApiFailure};
use crate::app::Session;

fn t(v: &Value, key: &str) -> String {
    text_of(v.get(key))
}

fn id(v: &Value, key: &str) -> i64 {
    v.get(key).and_then(Value::as_i64).unwrap_or_default()
}

/// A refusal in words, every field error included (a receipt over two staff members' or two
/// currencies' commissions is refused with one error per reason).
fn refusal(e: ApiFailure) -> AnyView {
    let reasons: Vec<String> = e.problem.as_ref().map(|p| p.errors.iter().map(|f| f.message.clone()).collect()).unwrap_or_default();
    let text = if reasons.len() > 1 { format!("{} — {}.", e.summary(), reasons.join("; ")) } else { e.summary() };
    view! { <div class="alert" role="alert" id="commission-error">{text}</div> }.into_any()
}

#[component]
pub fn CommissionsPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let query = use_query_map();
    // "View" is everyone's commissions; "view own" only the agent's, without a staff filter.
    let everyone = session.can(Module::Commissions, Action::View);
    let may_pay = session.can(Module::Commissions, Action::Create);
    let reload = RwSignal::new(0u32);
    let staff = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<i64>::new());
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiFailure>);
    let notice = RwSignal::new(None::<String>);
    let list = api::load::<Value>(move || {
        reload.get();
        let status = query.with(|q| q.get("status")).map(|s| format!("&status={s}")).unwrap_or_default();
        let who = staff.with(|s| if s.is_empty() { String::new() } else { format!("&staff_id={s}") });
        format!("/api/v1/commissions?limit=500{status}{who}")
    });
    let receipts = api::load::<Value>(move || {
        reload.get();
        "/api/v1/commission-receipts?limit=100".to_string()
    });
    // Whom to filter by: the staff list, or for a role that may not list staff, who earns.
    let people = everyone.then(|| {
        let path = if staff_visible() { "/api/v1/staff?limit=500" } else { "/api/v1/commission/applicable-staff?limit=500" };
        api::load::<Value>(move || path.to_string())
    });

    let pay = move |_| {
        // Only rows on screen and still pending, whatever was ticked under another filter.
        let ids: Vec<i64> = list.with_untracked(|l| match l {
            Some(Ok(page)) => {
                rows(page).iter().filter(|c| id(c, "status_code") == 0 && chosen.with_untracked(|ch| ch.contains(&id(c, "id")))).map(|c| id(c, "id")).collect()
            }
            _ => Vec::new(),
        });
        let body = json!({
            "staff_id": staff.get_untracked().parse::<i64>().ok(),
            "commission_ids": ids,
            "note": Some(note.get_untracked()).filter(|n| !n.trim().is_empty()),
        });
        leptos::task::spawn_local(async move {
            match api::post::<_, Value>("/api/v1/commission-receipts", &body).await {
                Ok(r) => {
                    chosen.set(Vec::new());
                    note.set(String::new());
                    error.set(None);
                    notice.set(Some(format!("Receipt {} created: {} {} paid.", t(&r, "number"), t(&r, "total"), t(&r, "currency"))));
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let chips = [("All", ""), ("Pending", "?status=pending"), ("Paid", "?status=paid")];

    view! {
        <div class="board-header">
            <h1>"Commissions"</h1>
            {everyone.then(|| view! {
                <span><A href="/admin/commission/policies">"Policies"</A>" · "<A href="/admin/commission/applicable_staff">"Who earns"</A></span>
            })}
        </div>
        <nav class="chips" aria-label="Filter by status">
            {chips.into_iter().map(|(label, q)| view! { <A href=format!("/admin/commission{q}")>{label}</A> }).collect_view()}
        </nav>
        {people.map(|people| view! {
            <p class="filters"><label>"Staff member "
                <select id="commission-staff" on:change=move |ev| { chosen.set(Vec::new()); staff.set(event_target_value(&ev)); }>
                    <option value="">"Everyone"</option>
                    {move || people.get().and_then(Result::ok).map(|p| rows(&p).iter().map(|r| {
                        let who = r.get("staff_id").or_else(|| r.get("id")).and_then(Value::as_i64).unwrap_or_default();
                        let name = r.get("staff_name").or_else(|| r.get("name")).map(|n| text_of(Some(n))).unwrap_or_default();
                        view! { <option value=who.to_string()>{name}</option> }
                    }).collect_view())}
                </select>
            </label></p>
        })}
        {move || error.get().map(refusal)}
        {move || notice.get().map(|n| view! { <div class="notice" role="status" id="notice">{n}</div> })}
        {move || match list.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => refusal(e),
            Some(Ok(page)) => {
                let items = rows(&page);
                let numbers: Vec<(i64, String)> = receipts.with(|r| match r {
                    Some(Ok(r)) => rows(r).iter().map(|r| (id(r, "id"), t(r, "number"))).collect(),
                    _ => Vec::new(),
                });
                view! {
                    <p class="small muted" id="commission-totals">
                        {rows(&page["totals"]).iter().map(|s| format!("{}: {} pending · {} paid", t(s, "currency"), t(s, "pending"), t(s, "paid"))).collect::<Vec<_>>().join(" | ")}
                    </p>
                    {if items.is_empty() {
                        view! { <p class="muted" id="no-commissions">"No commissions match."</p> }.into_any()
                    } else {
                        view! {
                            <table class="grid" id="commissions-table">
                                <thead><tr>
                                    {may_pay.then(|| view! { <th></th> })}
                                    <th>"Invoice"</th>{everyone.then(|| view! { <th>"Staff"</th> })}<th>"Payment date"</th><th>"Base"</th><th>"Commission"</th><th>"Status"</th><th>"Receipt"</th>
                                </tr></thead>
                                <tbody>
                                    {items.into_iter().map(|c| {
                                        let row = id(&c, "id");
                                        let pending = id(&c, "status_code") == 0;
                                        let cur = t(&c, "currency");
                                        let invoice = id(&c, "invoice_id");
                                        let number = c.get("invoice_number").filter(|n| !n.is_null()).map_or_else(|| format!("#{invoice}"), |n| text_of(Some(n)));
                                        let receipt = c.get("receipt_id").and_then(Value::as_i64).map(|r| numbers.iter().find(|(i, _)| *i == r).map_or_else(|| format!("#{r}"), |(_, n)| n.clone()));
                                        view! {
                                            <tr data-id=row class=if pending { "pending" } else { "paid" }>
                                                {may_pay.then(|| view! { <td>{pending.then(|| view! {
                                                    <input type="checkbox" class="pick" aria-label="Pay out" prop:checked=move || chosen.with(|ch| ch.contains(&row))
                                                        on:change=move |ev| chosen.update(|ch| { ch.retain(|x| *x != row); if event_target_checked(&ev) { ch.push(row); } })/>
                                                })}</td> })}
                                                <td><A href=format!("/admin/invoices/{invoice}")>{number}</A></td>
                                                {everyone.then(|| view! { <td>{t(&c, "staff_name")}</td> })}
                                                <td>{t(&c, "date")}</td>
                                                <td class="num">{format!("{} {cur}", t(&c, "base_amount"))}</td>
                                                <td class="num">{format!("{} {cur}", t(&c, "amount"))}</td>
                                                <td><span class="badge">{if pending { "Pending" } else { "Paid" }}</span></td>
                                                <td>{receipt}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }}
                }.into_any()
            }
        }}
        {may_pay.then(|| view! {
            <div class="actions">
                <input id="receipt-note" placeholder="Note on the receipt (optional)" prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))/>
                <button id="create-receipt" on:click=pay disabled=move || chosen.with(Vec::is_empty) || staff.with(String::is_empty)>"Create receipt"</button>
                {move || staff.with(String::is_empty).then(|| view! { <span class="small muted">"Choose a staff member, then tick their pending commissions."</span> })}
            </div>
        })}
        <h2>"Receipts"</h2>
        {move || match receipts.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => refusal(e),
            Some(Ok(r)) if rows(&r).is_empty() => view! { <p class="muted">"No receipts yet."</p> }.into_any(),
            Some(Ok(r)) => view! {
                <table class="grid" id="receipts-table">
                    <thead><tr><th>"Number"</th><th>"Staff"</th><th>"Date"</th><th>"Total"</th><th>"Note"</th><th></th></tr></thead>
                    <tbody>
                        {rows(&r).into_iter().map(|r| {
                            let pdf = format!("/api/v1/commission-receipts/{}/pdf", id(&r, "id"));
                            view! {
                                <tr>
                                    <td>{t(&r, "number")}</td>
                                    <td>{t(&r, "staff_name")}</td>
                                    <td>{t(&r, "date")}</td>
                                    <td class="num">{format!("{} {}", t(&r, "total"), t(&r, "currency"))}</td>
                                    <td>{t(&r, "note")}</td>
                                    <td><button class="link" on:click=move |_| api::open_file(pdf.clone(), error)>"PDF"</button></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any(),
        }}
    }
}
