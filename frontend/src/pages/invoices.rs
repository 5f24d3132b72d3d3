//! `/admin/invoices/list_invoices` (`?status=4` = overdue, as in the guide), the invoice view
//! (issue, send, record payment, payments, PDF), `/admin/payments`, `/admin/invoices/recurring`,
//! `/admin/contracts`, `/admin/sales_orders`, and the client's `/invoice/{token}` and
//! `/contract/{token}` pages.

use crmconnect_domain::api::{
    Contract, Invoice, InvoicePage, Page, Payment, PaymentInput, PaymentMode, PortalContract, PortalInvoice, RecurringInvoice, SalesOrder, SendInput, SignInput,
};
use crmconnect_domain::permissions::{Action, Module};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use rust_decimal::Decimal;
use std::str::FromStr;

use super::proposals::money;
use super::settings::{field, only, EditForm, Field, Kind, Mode};
use crate::api::{self, ApiFailure};
use crate::app::{denied, Session};

fn alert(e: ApiFailure) -> AnyView {
    view! { <div class="alert" role="alert">{e.summary()}</div> }.into_any()
}

fn status_badge(code: i32, name: &str) -> AnyView {
    let label = match code {
        6 => "Draft",
        1 => "Unpaid",
        3 => "Partially paid",
        2 => "Paid",
        4 => "Overdue",
        5 => "Cancelled",
        _ => name,
    }
    .to_string();
    view! { <span class=format!("badge i{code}")>{label}</span> }.into_any()
}

#[component]
pub fn InvoicesList() -> impl IntoView {
    let query = use_query_map();
    let session = expect_context::<Session>();
    let invoices = api::load::<InvoicePage>(move || {
        let q = query.get();
        let status = q.get("status").map(|s| format!("&status={s}")).unwrap_or_default();
        format!("/api/v1/invoices?limit=100{status}")
    });
    let chips = [
        ("All", ""),
        ("Draft", "?status=6"),
        ("Unpaid", "?status=1"),
        ("Partially paid", "?status=3"),
        ("Overdue", "?status=4"),
        ("Paid", "?status=2"),
        ("Cancelled", "?status=5"),
    ];
    view! {
        <div class="board-header">
            <h1>"Invoices"</h1>
            {session.can(Module::Invoices, Action::Create).then(|| view! { <A href="/admin/invoices/new" attr:class="button" attr:id="new-invoice">"+ Invoice"</A> })}
        </div>
        <nav class="chips" aria-label="Filter by status">
            {chips.into_iter().map(|(label, q)| view! { <A href=format!("/admin/invoices/list_invoices{q}")>{label}</A> }).collect_view()}
        </nav>
        {move || match invoices.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => alert(e),
            Some(Ok(page)) => view! {
                <p class="small muted" id="invoice-totals">
                    {page.totals.iter().map(|t| format!("{} invoices · {} total · {} due", t.count, money(t.total, &t.currency), money(t.balance_due, &t.currency))).collect::<Vec<_>>().join(" | ")}
                </p>
                {if page.items.is_empty() {
                    view! { <p class="muted" id="no-invoices">"No invoices match."</p> }.into_any()
                } else {
                    view! {
                        <table class="grid" id="invoices-table">
                            <thead><tr><th>"Number"</th><th>"Client"</th><th>"Date"</th><th>"Due"</th><th>"Total"</th><th>"Due now"</th><th>"Status"</th></tr></thead>
                            <tbody>
                                {page.items.into_iter().map(|i| view! {
                                    <tr>
                                        <td><A href=format!("/admin/invoices/{}", i.id)>{i.number.clone().unwrap_or_else(|| format!("Draft #{}", i.id))}</A></td>
                                        <td>{i.client_name.clone()}</td>
                                        <td>{i.date.to_string()}</td>
                                        <td>{i.due_date.map(|d| d.to_string()).unwrap_or_default()}{i.is_overdue.then(|| view! { <span class="badge danger">{format!("{} d late", i.days_overdue)}</span> })}</td>
                                        <td class="num">{money(i.amounts.total, &i.currency)}</td>
                                        <td class="num">{money(i.balance_due, &i.currency)}</td>
                                        <td>{status_badge(i.status_code, &i.status)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
            }.into_any(),
        }}
    }
}

#[component]
pub fn InvoiceView(id: i32) -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let invoice = api::load::<Invoice>(move || {
        reload.get();
        format!("/api/v1/invoices/{id}")
    });
    let payments = api::load::<Page<Payment>>(move || {
        reload.get();
        format!("/api/v1/invoices/{id}/payments")
    });
    let modes = api::load::<Page<PaymentMode>>(move || "/api/v1/payment-modes".to_string());
    let error = RwSignal::new(None::<ApiFailure>);
    let notice = RwSignal::new(None::<String>);
    let show_payment = RwSignal::new(false);
    let amount = RwSignal::new(String::new());
    let pay_date = RwSignal::new(String::new());
    let mode = RwSignal::new(String::new());
    let reference = RwSignal::new(String::new());
    let session = expect_context::<Session>();
    let can = move |m: Module, a: Action| session.can(m, a);
    // Whoever may create invoices may issue and send the ones they made (the server checks
    // whose draft it is); editing any invoice, or the Send permission, covers the rest.
    let (can_issue, can_send) = (
        can(Module::Invoices, Action::Create) || can(Module::Invoices, Action::Edit),
        can(Module::Invoices, Action::Send) || can(Module::Invoices, Action::Create),
    );
    let done = move |r: Result<String, ApiFailure>| match r {
        Ok(msg) => {
            error.set(None);
            notice.set(Some(msg));
            reload.update(|n| *n += 1);
        }
        Err(e) => error.set(Some(e)),
    };
    let action = move |path: &'static str| {
        let question = match path {
            "issue" => Some("Issue this invoice? It gets the next number of its series and can no longer be deleted."),
            "cancel" => Some("Cancel this invoice? It stays in the books as cancelled."),
            _ => None,
        };
        if question.is_some_and(|q| !crate::app::confirmed(q)) {
            return;
        }
        leptos::task::spawn_local(async move {
            let r = if path == "send" {
                api::post::<_, Invoice>(&format!("/api/v1/invoices/{id}/send"), &SendInput::default()).await
            } else {
                api::post::<_, Invoice>(&format!("/api/v1/invoices/{id}/{path}"), &serde_json::json!({})).await
            };
            done(r.map(|i| format!("{} · {}", i.number.unwrap_or_default(), i.status.replace('_', " "))));
        });
    };
    let record = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = PaymentInput {
            amount: Decimal::from_str(amount.get_untracked().trim()).unwrap_or_default(),
            date: crmconnect_domain::dates::parse(&pay_date.get_untracked()),
            payment_mode_id: mode.get_untracked().parse().ok(),
            transaction_id: Some(reference.get_untracked()).filter(|r| !r.trim().is_empty()),
            note: None,
        };
        leptos::task::spawn_local(async move {
            let r = api::post::<_, Invoice>(&format!("/api/v1/invoices/{id}/payments"), &body).await;
            if r.is_ok() {
                show_payment.set(false);
                amount.set(String::new());
                reference.set(String::new());
            }
            done(r.map(|i| format!("Payment recorded; {} due.", money(i.balance_due, &i.currency))));
        });
    };
    view! {
        {move || error.get().map(alert)}
        {move || notice.get().map(|n| view! { <div class="notice" role="status" id="notice">{n}</div> })}
        {move || match invoice.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => alert(e),
            Some(Ok(i)) => {
                let cur = i.currency.clone();
                // The payment form starts with what is due, paid today; the user corrects it.
                let balance = i.balance_due.to_string();
                let open_payment = move |_| {
                    if amount.get_untracked().trim().is_empty() {
                        amount.set(balance.clone());
                    }
                    if pay_date.get_untracked().is_empty() {
                        pay_date.set(time::OffsetDateTime::now_utc().date().to_string());
                    }
                    show_payment.set(true);
                };
                let dated = if i.status_code == 6 { "Draft dated" } else { "Issued" };
                view! {
                    <div class="board-header">
                        <h1><span id="invoice-number">{i.number.clone().unwrap_or_else(|| "Draft invoice".into())}</span>" · "{i.client_name.clone()}</h1>
                        <span id="invoice-status">{status_badge(i.status_code, &i.status)}</span>
                    </div>
                    {i.is_overdue.then(|| view! { <div class="alert">{format!("{} days past due.", i.days_overdue)}</div> })}
                    <div class="actions">
                        {(i.status_code == 6).then(|| if can_issue {
                            view! { <button id="issue-invoice" on:click=move |_| action("issue")>"Issue"</button> }.into_any()
                        } else {
                            denied("Issue", "Your role cannot issue invoices.")
                        })}
                        {(i.status_code == 6 && can(Module::Invoices, Action::Edit)).then(|| view! {
                            <A href=format!("/admin/invoices/{id}/edit") attr:class="button secondary" attr:id="edit-invoice">"Edit"</A>
                        })}
                        {(i.status_code != 5).then(|| if can_send {
                            view! { <button class="secondary" id="send-invoice" on:click=move |_| action("send")>"Send"</button> }.into_any()
                        } else {
                            denied("Send", "Your role cannot send invoices.")
                        })}
                        {matches!(i.status_code, 1 | 3 | 4).then(|| if can(Module::Payments, Action::Create) {
                            view! { <button id="record-payment" on:click=open_payment>"Record payment"</button> }.into_any()
                        } else {
                            denied("Record payment", "Your role cannot record payments.")
                        })}
                        {(i.status_code != 5 && i.status_code != 6 && i.total_paid.is_zero() && can(Module::Invoices, Action::Edit)).then(|| view! { <button class="secondary" on:click=move |_| action("cancel")>"Cancel"</button> })}
                        {(i.status_code == 5 && can(Module::Invoices, Action::Edit)).then(|| view! { <button class="secondary" on:click=move |_| action("uncancel")>"Uncancel"</button> })}
                        <button class="secondary" on:click=move |_| api::open_file(format!("/api/v1/invoices/{id}/pdf"), error)>"PDF"</button>
                    </div>
                    <Show when=move || show_payment.get()>
                        <form class="card send-dialog" id="payment-form" on:submit=record>
                            <label for="pay-amount">"Amount"</label>
                            <input id="pay-amount" inputmode="decimal" required bind:value=amount/>
                            <label for="pay-date">"Date"</label>
                            <input id="pay-date" type="date" bind:value=pay_date/>
                            <label for="pay-mode">"Payment mode"</label>
                            <select id="pay-mode" on:change=move |ev| mode.set(event_target_value(&ev))>
                                <option value="">"—"</option>
                                {move || modes.get().and_then(|r| r.ok()).map(|p| p.items.into_iter().filter(|m| m.active).map(|m| view! { <option value=m.id>{m.name}</option> }).collect_view())}
                            </select>
                            <label for="pay-reference">"Reference (transfer number)"</label>
                            <input id="pay-reference" bind:value=reference/>
                            <div class="actions"><button type="submit" id="pay-submit">"Save payment"</button><button type="button" class="secondary" on:click=move |_| show_payment.set(false)>"Close"</button></div>
                        </form>
                    </Show>
                    <div class="two-col">
                        <div class="card">
                            <h2>"Dates"</h2>
                            <p>{format!("{dated} {} · due {}", i.date, i.due_date.map(|d| d.to_string()).unwrap_or_else(|| "—".into()))}</p>
                            {i.portal_url.clone().filter(|_| i.number.is_some()).map(|u| view! { <p class="small">"Client link: "<a href=u.clone() target="_blank">{u.clone()}</a></p> })}
                        </div>
                        <div class="card">
                            <h2>"Amounts"</h2>
                            <table class="totals">
                                <tr><th>"Subtotal"</th><td>{money(i.amounts.subtotal, &cur)}</td></tr>
                                {i.amounts.taxes.iter().map(|t| view! { <tr><th>{super::proposals::tax_label(&t.name, t.rate)}</th><td>{money(t.amount, &cur)}</td></tr> }).collect_view()}
                                <tr class="grand"><th>"Total"</th><td id="invoice-total">{money(i.amounts.total, &cur)}</td></tr>
                                <tr><th>"Paid"</th><td id="invoice-paid">{money(i.total_paid, &cur)}</td></tr>
                                <tr class="grand"><th>"Balance due"</th><td id="invoice-balance">{money(i.balance_due, &cur)}</td></tr>
                            </table>
                        </div>
                    </div>
                    <table class="grid">
                        <thead><tr><th>"Description"</th><th>"Qty"</th><th>"Unit price"</th><th>"Net"</th></tr></thead>
                        <tbody>{i.lines.iter().map(|l| view! { <tr><td>{l.description.clone()}</td><td class="num">{l.qty.normalize().to_string()}</td><td class="num">{l.unit_price.to_string()}</td><td class="num">{l.net.to_string()}</td></tr> }).collect_view()}</tbody>
                    </table>
                }.into_any()
            }
        }}
        <section class="card" id="payments">
            <h2>"Payments"</h2>
            {move || payments.get().and_then(|r| r.ok()).map(|p| if p.items.is_empty() {
                view! { <p class="muted">"No payments yet."</p> }.into_any()
            } else {
                view! { <ul class="plain">{p.items.into_iter().map(|p| view! { <li>{format!("{} · {} · {} {}", p.date, money(p.amount, &p.currency), p.payment_mode.unwrap_or_default(), p.transaction_id.unwrap_or_default())}</li> }).collect_view()}</ul> }.into_any()
            })}
        </section>
    }
}

#[component]
pub fn PaymentsList() -> impl IntoView {
    let payments = api::load::<Page<Payment>>(move || "/api/v1/payments?limit=200".to_string());
    view! {
        <h1>"Payments"</h1>
        {move || match payments.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => alert(e),
            Some(Ok(page)) => view! {
                <table class="grid" id="payments-table">
                    <thead><tr><th>"Date"</th><th>"Invoice"</th><th>"Amount"</th><th>"Mode"</th><th>"Reference"</th></tr></thead>
                    <tbody>{page.items.into_iter().map(|p| view! {
                        <tr><td>{p.date.to_string()}</td><td><A href=format!("/admin/invoices/{}", p.invoice_id)>{p.invoice_number.clone().unwrap_or_default()}</A></td>
                            <td class="num">{money(p.amount, &p.currency)}</td><td>{p.payment_mode.clone().unwrap_or_default()}</td><td>{p.transaction_id.clone().unwrap_or_default()}</td></tr>
                    }).collect_view()}</tbody>
                </table>
            }.into_any(),
        }}
    }
}

#[component]
pub fn RecurringList() -> impl IntoView {
    let session = expect_context::<Session>();
    let schedules = api::load::<Page<RecurringInvoice>>(move || "/api/v1/recurring-invoices".to_string());
    view! {
        <div class="board-header">
            <h1>"Recurring invoices"</h1>
            {session.can(Module::Invoices, Action::Create).then(|| view! { <A href="/admin/invoices/recurring/new" attr:class="button" attr:id="new-recurring">"+ Recurring invoice"</A> })}
        </div>
        {move || match schedules.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => alert(e),
            Some(Ok(page)) => view! {
                <table class="grid" id="recurring-table">
                    <thead><tr><th>"Client"</th><th>"Frequency"</th><th>"Amount"</th><th>"Generated"</th><th>"Next"</th><th></th></tr></thead>
                    <tbody>{page.items.into_iter().map(|r| view! {
                        <tr><td>{r.client_name.clone()}</td><td>{format!("{:?} × {}", r.frequency, r.interval)}</td><td class="num">{money(r.amounts.total, &r.currency)}</td>
                            <td>{if r.cycles == 0 { format!("{}", r.generated) } else { format!("{} of {}", r.generated, r.cycles) }}</td>
                            <td>{r.next_date.map(|d| d.to_string()).unwrap_or_else(|| if r.active { "done".into() } else { "paused".into() })}</td>
                            <td>{session.can(Module::Invoices, Action::Edit).then(|| view! { <A href=format!("/admin/invoices/recurring/{}/edit", r.id)>"Edit"</A> })}</td></tr>
                    }).collect_view()}</tbody>
                </table>
            }.into_any(),
        }}
    }
}

const CONTRACT_FIELDS: &[Field] = &[
    only("client_id", "Client", Kind::Ref("/api/v1/clients"), Mode::CreateOnly),
    field("subject", "Subject", Kind::Text),
    field("contract_type", "Type", Kind::Text),
    field("status_id", "Status", Kind::Ref("/api/v1/contract-statuses")),
    field("value", "Value", Kind::Decimal),
    field("currency", "Currency (ISO code)", Kind::Text),
    field("start_date", "Start", Kind::Date),
    field("end_date", "End", Kind::Date),
    field("content", "Content (HTML)", Kind::LongText),
];

#[component]
pub fn ContractsList() -> impl IntoView {
    let query = use_query_map();
    let reload = RwSignal::new(0u32);
    let contracts = api::load::<Page<Contract>>(move || {
        reload.get();
        let days = query.get().get("expiring_in_days").map(|d| format!("&expiring_in_days={d}")).unwrap_or_default();
        format!("/api/v1/contracts?limit=200{days}")
    });
    let creating = RwSignal::new(false);
    let editing = RwSignal::new(None::<i32>);
    let session = expect_context::<Session>();
    view! {
        <div class="board-header">
            <h1>"Contracts"</h1>
            {session.can(Module::Contracts, Action::Create).then(|| view! { <button id="new-contract" on:click=move |_| creating.update(|c| *c = !*c)>"+ Contract"</button> })}
        </div>
        {move || creating.get().then(|| view! {
            <section class="card">
                <h2>"New contract"</h2>
                <EditForm api="/api/v1/contracts".to_string() create=true fields=CONTRACT_FIELDS initial=serde_json::json!({"currency": "RON"})
                    on_saved=Callback::new(move |_| { creating.set(false); reload.update(|n| *n += 1); })
                    on_cancel=Callback::new(move |_| creating.set(false))/>
            </section>
        })}
        <nav class="chips"><A href="/admin/contracts">"All"</A><A href="/admin/contracts?expiring_in_days=30">"Expiring in 30 days"</A></nav>
        {move || match contracts.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => alert(e),
            Some(Ok(page)) => view! {
                <table class="grid" id="contracts-table">
                    <thead><tr><th>"Subject"</th><th>"Client"</th><th>"Value"</th><th>"Period"</th><th>"Status"</th><th>"Signed"</th><th></th></tr></thead>
                    <tbody>{page.items.into_iter().map(|c| {
                        let id = c.id;
                        view! {
                        <tr><td>{c.subject.clone()}</td><td>{c.client_name.clone()}</td><td class="num">{money(c.value, &c.currency)}</td>
                            <td>{format!("{} → {}", c.start_date, c.end_date.map(|d| d.to_string()).unwrap_or_else(|| "open".into()))}</td>
                            <td>{c.status.clone().unwrap_or_default()}</td>
                            <td>{c.signature.as_ref().map(|s| format!("{} ({})", s.name, s.at.date())).unwrap_or_default()}{c.changed_after_signing.then(|| view! { <span class="badge danger">"changed since"</span> })}</td>
                            <td>{session.can(Module::Contracts, Action::Edit).then(|| view! { <button class="link" on:click=move |_| editing.set(Some(id))>"Edit"</button> })}</td></tr>
                        {move || (editing.get() == Some(id)).then(|| view! {
                            <tr class="edit-row"><td colspan="7">
                                <ContractEditor id=id
                                    on_saved=Callback::new(move |_| { editing.set(None); reload.update(|n| *n += 1); })
                                    on_cancel=Callback::new(move |_| editing.set(None))/>
                            </td></tr>
                        })}
                        }
                    }).collect_view()}</tbody>
                </table>
            }.into_any(),
        }}
    }
}

/// One contract's inline editor. It reads the contract with its version, so saving over a
/// colleague's change is refused ("changed by someone else — reload") instead of overwriting it.
#[component]
fn ContractEditor(id: i32, on_saved: Callback<()>, on_cancel: Callback<()>) -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let version = RwSignal::new(None);
    let contract = api::load_versioned::<Contract>(
        move || {
            reload.get();
            format!("/api/v1/contracts/{id}")
        },
        version,
    );
    move || match contract.get() {
        None => view! { <p class="muted">"Loading…"</p> }.into_any(),
        Some(Err(e)) => alert(e),
        Some(Ok(c)) => view! {
            <EditForm api=format!("/api/v1/contracts/{id}") fields=CONTRACT_FIELDS initial=serde_json::to_value(&c).unwrap_or_default()
                on_saved=Callback::new(move |_| on_saved.run(())) on_cancel=on_cancel
                version=version on_reload=Callback::new(move |_| reload.update(|n| *n += 1))/>
        }
        .into_any(),
    }
}

#[component]
pub fn SalesOrdersList() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let orders = api::load::<Page<SalesOrder>>(move || {
        reload.get();
        "/api/v1/sales-orders?limit=200".to_string()
    });
    let error = RwSignal::new(None::<ApiFailure>);
    let session = expect_context::<Session>();
    let act = move |path: String, body: serde_json::Value| {
        leptos::task::spawn_local(async move {
            match api::post::<_, serde_json::Value>(&path, &body).await {
                Ok(_) => {
                    error.set(None);
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="board-header">
            <h1>"Sales orders"</h1>
            {session.can(Module::SalesOrders, Action::Create).then(|| view! { <A href="/admin/sales_orders/new" attr:class="button" attr:id="new-sales-order">"+ Sales order"</A> })}
        </div>
        {move || error.get().map(alert)}
        {move || match orders.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => alert(e),
            Some(Ok(page)) => view! {
                <table class="grid" id="orders-table">
                    <thead><tr><th>"Number"</th><th>"Date"</th><th>"Total"</th><th>"Status"</th><th>"Invoice"</th><th></th></tr></thead>
                    <tbody>{page.items.into_iter().map(|o| {
                        let id = o.id;
                        let open = o.invoice_id.is_none() && o.status != "cancelled";
                        view! {
                            <tr><td>{o.number.clone()}</td><td>{o.date.to_string()}</td><td class="num">{money(o.amounts.total, &o.currency)}</td>
                                <td>
                                    <label class="visually-hidden" for=format!("so-status-{id}")>"Status"</label>
                                    <select id=format!("so-status-{id}") disabled=!session.can(Module::SalesOrders, Action::Edit) on:change=move |ev| act(format!("/api/v1/sales-orders/{id}/status"), serde_json::json!({"status": event_target_value(&ev)}))>
                                        {["draft", "confirmed", "partially_delivered", "delivered", "cancelled"].map(|st| view! { <option value=st selected=o.status == st>{st.replace('_', " ")}</option> })}
                                    </select>
                                </td>
                                <td>{o.invoice_id.map(|i| view! { <A href=format!("/admin/invoices/{i}")>{format!("#{i}")}</A> })}</td>
                                <td class="actions">
                                    {(open && session.can(Module::SalesOrders, Action::Edit)).then(|| view! { <A href=format!("/admin/sales_orders/{id}/edit")>"Edit"</A> })}
                                    {(open && crmconnect_domain::sales_orders::can_invoice(&o.status) && session.can(Module::Invoices, Action::Create)).then(|| view! {
                                        <button class="link" on:click=move |_| act(format!("/api/v1/sales-orders/{id}/convert-to-invoice"), serde_json::json!({}))>"Convert to invoice"</button>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
            }.into_any(),
        }}
    }
}

/// `/invoice/{token}`: the client's view — lines, totals, payments, balance, PDF, pay online.
#[component]
pub fn PortalInvoicePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.get().get("token").unwrap_or_default();
    let invoice = api::load_public::<PortalInvoice>(move || {
        let t = token();
        format!("/api/v1/portal/invoices/{t}")
    });
    let error = RwSignal::new(None::<ApiFailure>);
    let pay = move |_| {
        let t = token();
        leptos::task::spawn_local(async move {
            match api::public_post::<_, serde_json::Value>(&format!("/api/v1/portal/invoices/{t}/pay"), &serde_json::json!({})).await {
                Ok(v) => {
                    if let (Some(url), Some(w)) = (v["checkout_url"].as_str(), web_sys::window()) {
                        let _ = w.location().set_href(url);
                    }
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="portal">
            {move || error.get().map(alert)}
            {move || match invoice.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) if e.status == 404 => view! { <h1>"This link is not valid"</h1> }.into_any(),
                Some(Err(e)) => alert(e),
                Some(Ok(i)) => {
                    let cur = i.currency.clone();
                    view! {
                        <header class="portal-head"><div class="brand">{i.company_name.clone()}</div><div>{status_badge(i.status_code, &i.status)}</div></header>
                        <h1>{format!("Invoice {}", i.number)}</h1>
                        <p class="muted small">{format!("Date {} · due {}", i.date, i.due_date.map(|d| d.to_string()).unwrap_or_else(|| "—".into()))}</p>
                        <table class="grid">
                            <thead><tr><th>"Item"</th><th>"Qty"</th><th>"Amount"</th></tr></thead>
                            <tbody>{i.lines.iter().map(|l| view! { <tr><td>{l.description.clone()}</td><td class="num">{l.qty.normalize().to_string()}</td><td class="num">{l.net.to_string()}</td></tr> }).collect_view()}</tbody>
                        </table>
                        <table class="totals">
                            <tr><th>"Total"</th><td>{money(i.amounts.total, &cur)}</td></tr>
                            <tr><th>"Paid"</th><td>{money(i.total_paid, &cur)}</td></tr>
                            <tr class="grand"><th>"Balance due"</th><td id="portal-balance">{money(i.balance_due, &cur)}</td></tr>
                        </table>
                        {(!i.payments.is_empty()).then(|| view! {
                            <h2>"Payments"</h2>
                            <ul class="plain">{i.payments.iter().map(|p| view! { <li>{format!("{} · {} {}", p.date, money(p.amount, &cur), p.payment_mode.clone().unwrap_or_default())}</li> }).collect_view()}</ul>
                        })}
                        {(!i.payment_instructions.is_empty()).then(|| view! { <p class="small">{i.payment_instructions.clone()}</p> })}
                        <div class="actions">
                            <a class="button" href=format!("/api/v1/portal/invoices/{}/pdf", token()) target="_blank">"Download PDF"</a>
                            {(!i.balance_due.is_zero() && i.status_code != 5).then(|| view! { <button id="pay-online" on:click=pay>"Pay online"</button> })}
                        </div>
                    }.into_any()
                }
            }}
        </div>
    }
}

/// `/contract/{token}`: read and sign.
#[component]
pub fn PortalContractPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.get().get("token").unwrap_or_default();
    let reload = RwSignal::new(0u32);
    let contract = api::load_public::<PortalContract>(move || {
        reload.get();
        let t = token();
        format!("/api/v1/portal/contracts/{t}")
    });
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiFailure>);
    let sign = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = SignInput { name: name.get_untracked(), signature: name.get_untracked() };
        let t = token();
        leptos::task::spawn_local(async move {
            match api::public_post::<_, PortalContract>(&format!("/api/v1/portal/contracts/{t}/sign"), &body).await {
                Ok(_) => reload.update(|n| *n += 1),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="portal">
            {move || error.get().map(alert)}
            {move || match contract.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) if e.status == 404 => view! { <h1>"This link is not valid"</h1> }.into_any(),
                Some(Err(e)) => alert(e),
                Some(Ok(c)) => view! {
                    <header class="portal-head"><div class="brand">{c.company_name.clone()}</div></header>
                    <h1>{c.subject.clone()}</h1>
                    <p class="muted small">{format!("{} · {} → {} · {}", c.client_name, c.start_date, c.end_date.map(|d| d.to_string()).unwrap_or_else(|| "open".into()), money(c.value, &c.currency))}</p>
                    <div class="content" inner_html=c.content.clone()></div>
                    {match c.signature.clone() {
                        Some(s) => view! { <p class="notice" id="contract-signed">{format!("Signed by {} on {}.", s.name, s.at.date())}</p> }.into_any(),
                        None if !c.can_sign => view! { <p class="notice" id="contract-not-signable">"This contract is not open for signature. Please contact us."</p> }.into_any(),
                        None => view! {
                            <form class="card respond" on:submit=sign>
                                <label for="sign-name">"Type your full name to sign"</label>
                                <input id="sign-name" required bind:value=name autocomplete="name"/>
                                <button type="submit" id="sign-submit">"Sign"</button>
                            </form>
                        }.into_any(),
                    }}
                }.into_any(),
            }}
        </div>
    }
}
