//! `/admin/proposals` (list, `?status=4` as in the guide), the proposal editor (lines with the
//! item picker, taxes, discounts and live totals computed by the domain crate — the same code
//! as the server), and the proposal view (send, status, comments, PDF, conversion).

use std::str::FromStr;

use crmconnect_domain::api::{
    Client, Comment, CommentInput, CurrencyInfo, Invoice, Item, LineInput, Page, Proposal, ProposalInput, ProposalStatusInput, ProposalTemplate, SalesOrder,
    SendInput, SendResult, SentEmail, StatusRef, Tax,
};
use crmconnect_domain::documents::{self, AppliedTax, DiscountApplies, DiscountType, DocumentDiscount};
use crmconnect_domain::money::Currency;
use crmconnect_domain::permissions::{Action, Module};
use crmconnect_domain::proposals::ProposalStatus;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use rust_decimal::Decimal;

use super::settings::form_alert;
use crate::api::{self, ApiFailure};
use crate::app::{denied, Session};

/// Asks before leaving an editor with unsaved changes: closing the tab or reloading (the
/// browser's own "Leave site?" prompt) and following a link inside the app (a confirm dialog; a
/// capture-phase listener on the window runs before the router's click handler and stops it).
pub fn guard_unsaved_changes(dirty: RwSignal<bool>) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let Some(window) = web_sys::window() else { return };
    let before_unload = Closure::<dyn Fn(web_sys::BeforeUnloadEvent)>::new(move |ev: web_sys::BeforeUnloadEvent| {
        if dirty.try_get_untracked().unwrap_or(false) {
            ev.prevent_default();
            ev.set_return_value("unsaved");
        }
    });
    let link_click = Closure::<dyn Fn(web_sys::MouseEvent)>::new(move |ev: web_sys::MouseEvent| {
        if !dirty.try_get_untracked().unwrap_or(false) {
            return;
        }
        let on_link = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).and_then(|e| e.closest("a[href]").ok().flatten()).is_some();
        let leave = || web_sys::window().and_then(|w| w.confirm_with_message("Leave this page? Your changes are not saved.").ok()).unwrap_or(true);
        if on_link && !leave() {
            ev.prevent_default();
            ev.stop_immediate_propagation();
        }
    });
    let _ = window.add_event_listener_with_callback("beforeunload", before_unload.as_ref().unchecked_ref());
    let _ = window.add_event_listener_with_callback_and_bool("click", link_click.as_ref().unchecked_ref(), true);
    let before_unload: js_sys::Function = before_unload.into_js_value().unchecked_into();
    let link_click: js_sys::Function = link_click.into_js_value().unchecked_into();
    on_cleanup(move || {
        if let Some(w) = web_sys::window() {
            let _ = w.remove_event_listener_with_callback("beforeunload", &before_unload);
            let _ = w.remove_event_listener_with_callback_and_bool("click", &link_click, true);
        }
    });
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The proposal as a standalone HTML page for the editor's preview frame.
fn preview_html(subject: &str, content: &str, lines: &[(String, String, String)], total: Option<String>) -> String {
    let rows: String = lines
        .iter()
        .map(|(d, q, p)| {
            format!("<tr><td>{}</td><td style=\"text-align:right\">{}</td><td style=\"text-align:right\">{}</td></tr>", escape(d), escape(q), escape(p))
        })
        .collect();
    format!(
        "<!doctype html><meta charset=\"utf-8\"><body style=\"font-family:sans-serif;margin:1rem\"><h1>{}</h1><div>{content}</div>\
         <table style=\"width:100%;border-collapse:collapse\"><tr><th align=left>Description</th><th>Qty</th><th>Unit price</th></tr>{rows}</table>\
         <p style=\"text-align:right\"><strong>Total {}</strong></p></body>",
        escape(subject),
        escape(&total.unwrap_or_default()),
    )
}

fn alert(e: ApiFailure) -> AnyView {
    view! { <div class="alert" role="alert">{e.summary()}</div> }.into_any()
}

pub fn status_label(code: i32) -> &'static str {
    match ProposalStatus::from_code(code) {
        Some(ProposalStatus::Draft) => "Draft",
        Some(ProposalStatus::Sent) => "Sent",
        Some(ProposalStatus::Viewed) => "Viewed",
        Some(ProposalStatus::SentManually) => "Sent manually",
        Some(ProposalStatus::Accepted) => "Accepted",
        Some(ProposalStatus::Declined) => "Declined",
        Some(ProposalStatus::Revised) => "Revised",
        None => "?",
    }
}

/// "VAT 21%" as named; a name without the rate gets it added.
pub fn tax_label(name: &str, rate: Decimal) -> String {
    if name.contains('%') {
        name.to_string()
    } else {
        format!("{name} ({}%)", rate.normalize())
    }
}

pub fn money(amount: Decimal, currency: &str) -> String {
    format!("{amount} {currency}")
}

/// The list. The status filter comes from the URL, so the guide's bookmarks work.
#[component]
pub fn ProposalsList() -> impl IntoView {
    let query = use_query_map();
    let session = expect_context::<Session>();
    let proposals = api::load::<Page<Proposal>>(move || {
        let q = query.get();
        let mut params = vec!["limit=100".to_string()];
        if let Some(s) = q.get("status") {
            params.push(format!("status={s}"));
        }
        if let Some(e) = q.get("expired") {
            params.push(format!("expired={e}"));
        }
        format!("/api/v1/proposals?{}", params.join("&"))
    });
    let chips = [
        ("All", ""),
        ("Draft", "?status=6"),
        ("Sent", "?status=4"),
        ("Viewed", "?status=1"),
        ("Accepted", "?status=3"),
        ("Declined", "?status=2"),
        ("Expired", "?expired=true"),
    ];
    view! {
        <div class="board-header">
            <h1>"Proposals"</h1>
            {session.can(Module::Proposals, Action::Create).then(|| view! { <A href="/admin/proposals/new" attr:class="button" attr:id="new-proposal">"+ New proposal"</A> })}
        </div>
        <nav class="chips" aria-label="Filter by status">
            {chips.into_iter().map(|(label, q)| view! { <A href=format!("/admin/proposals{q}")>{label}</A> }).collect_view()}
        </nav>
        {move || match proposals.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => alert(e),
            Some(Ok(page)) if page.items.is_empty() => view! { <p class="muted" id="no-proposals">"No proposals match."</p> }.into_any(),
            Some(Ok(page)) => view! {
                <table class="grid" id="proposals-table">
                    <thead><tr><th>"Number"</th><th>"Subject"</th><th>"To"</th><th>"Total"</th><th>"Date"</th><th>"Open till"</th><th>"Status"</th></tr></thead>
                    <tbody>
                        {page.items.into_iter().map(|p| view! {
                            <tr>
                                <td><A href=format!("/admin/proposals/{}", p.id)>{p.number.clone()}</A></td>
                                <td>{p.subject.clone()}</td>
                                <td>{p.recipient.name.clone().unwrap_or_default()}</td>
                                <td class="num">{money(p.amounts.total, &p.currency)}</td>
                                <td>{p.date.to_string()}</td>
                                <td>{p.open_till.map(|d| d.to_string()).unwrap_or_default()}{p.expired.then(|| view! { <span class="badge danger">"expired"</span> })}</td>
                                <td><span class=format!("badge s{}", p.status_code)>{status_label(p.status_code)}</span></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any(),
        }}
    }
}

/// One editable line (text inputs keep what the user typed until it parses).
#[derive(Clone, Copy)]
struct LineRow {
    key: u32,
    item_id: RwSignal<Option<i32>>,
    description: RwSignal<String>,
    qty: RwSignal<String>,
    unit: RwSignal<String>,
    unit_price: RwSignal<String>,
    discount: RwSignal<String>,
    tax_ids: RwSignal<Vec<i32>>,
}

impl LineRow {
    fn new(key: u32, l: Option<&LineInput>) -> LineRow {
        LineRow {
            key,
            item_id: RwSignal::new(l.and_then(|l| l.item_id)),
            description: RwSignal::new(l.and_then(|l| l.description.clone()).unwrap_or_default()),
            qty: RwSignal::new(l.map(|l| l.qty.normalize().to_string()).unwrap_or_else(|| "1".into())),
            unit: RwSignal::new(l.and_then(|l| l.unit.clone()).unwrap_or_default()),
            unit_price: RwSignal::new(l.and_then(|l| l.unit_price).map(|p| p.normalize().to_string()).unwrap_or_default()),
            discount: RwSignal::new(l.and_then(|l| l.discount_percent).filter(|d| !d.is_zero()).map(|d| d.normalize().to_string()).unwrap_or_default()),
            tax_ids: RwSignal::new(l.and_then(|l| l.tax_ids.clone()).unwrap_or_default()),
        }
    }

    fn to_input(self) -> LineInput {
        LineInput {
            item_id: self.item_id.get_untracked(),
            description: Some(self.description.get_untracked()),
            long_description: None,
            qty: dec(&self.qty.get_untracked()),
            unit: Some(self.unit.get_untracked()).filter(|u| !u.trim().is_empty()),
            unit_price: Some(dec(&self.unit_price.get_untracked())),
            tax_ids: Some(self.tax_ids.get_untracked()),
            discount_percent: Some(dec(&self.discount.get_untracked())),
        }
    }
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s.trim().replace(',', ".").as_str()).unwrap_or_default()
}

/// New (`/admin/proposals/new?lead_id=…|opportunity_id=…|client_id=…`) or edit (`/admin/proposals/{id}/edit`).
/// The documents the editor makes. All share lines, taxes and live totals; proposals add
/// subject, relation, template, validity and content; the billed ones (invoices, sales orders,
/// recurring schedules) a client, dates and notes; schedules their cycle.
#[derive(Clone, Copy, PartialEq, Default)]
pub enum DocKind {
    #[default]
    Proposal,
    Invoice,
    SalesOrder,
    Recurring,
}

impl DocKind {
    fn api(self) -> &'static str {
        match self {
            DocKind::Proposal => "/api/v1/proposals",
            DocKind::Invoice => "/api/v1/invoices",
            DocKind::SalesOrder => "/api/v1/sales-orders",
            DocKind::Recurring => "/api/v1/recurring-invoices",
        }
    }

    /// Where the saved document is shown.
    fn shown_at(self, id: i64) -> String {
        match self {
            DocKind::Proposal => format!("/admin/proposals/{id}"),
            DocKind::Invoice => format!("/admin/invoices/{id}"),
            DocKind::SalesOrder => "/admin/sales_orders".into(),
            DocKind::Recurring => "/admin/invoices/recurring".into(),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            DocKind::Proposal => "proposal",
            DocKind::Invoice => "invoice",
            DocKind::SalesOrder => "sales order",
            DocKind::Recurring => "recurring invoice",
        }
    }

    fn billed(self) -> bool {
        self != DocKind::Proposal
    }

    /// Recurring schedules have no document discount.
    fn discounts(self) -> bool {
        self != DocKind::Recurring
    }
}

#[component]
pub fn InvoiceEditor(#[prop(optional)] id: Option<i32>) -> impl IntoView {
    ProposalEditor(ProposalEditorProps { id, kind: DocKind::Invoice })
}

#[component]
pub fn SalesOrderEditor(#[prop(optional)] id: Option<i32>) -> impl IntoView {
    ProposalEditor(ProposalEditorProps { id, kind: DocKind::SalesOrder })
}

#[component]
pub fn RecurringEditor(#[prop(optional)] id: Option<i32>) -> impl IntoView {
    ProposalEditor(ProposalEditorProps { id, kind: DocKind::Recurring })
}

#[component]
pub fn ProposalEditor(#[prop(optional)] id: Option<i32>, #[prop(optional)] kind: DocKind) -> impl IntoView {
    let billed = kind.billed();
    let query = use_query_map();
    let navigate = use_navigate();
    type Catalogue = (Vec<Tax>, Vec<Item>, Vec<CurrencyInfo>, Vec<ProposalTemplate>);
    let catalogue = RwSignal::new(None::<Result<Catalogue, ApiFailure>>);
    leptos::task::spawn_local(async move {
        let loaded = async {
            let taxes = api::get::<Page<Tax>>("/api/v1/taxes").await?.items;
            let items = api::get::<Page<Item>>("/api/v1/items").await?.items;
            let currencies = api::get::<Page<CurrencyInfo>>("/api/v1/currencies").await?.items;
            let templates = api::get::<Page<ProposalTemplate>>("/api/v1/proposal-templates").await.map(|p| p.items).unwrap_or_default();
            Ok((taxes, items, currencies, templates))
        };
        catalogue.try_set(Some(loaded.await));
    });
    let subject = RwSignal::new(String::new());
    let relation = RwSignal::new(String::new());
    let currency = RwSignal::new("RON".to_string());
    let open_till = RwSignal::new(String::new());
    let allow_comments = RwSignal::new(true);
    let discount_kind = RwSignal::new(String::new());
    let discount_value = RwSignal::new(String::new());
    let discount_after_tax = RwSignal::new(false);
    let content = RwSignal::new(String::new());
    let terms = RwSignal::new(String::new());
    let lines = RwSignal::new(Vec::<LineRow>::new());
    let next_key = RwSignal::new(1u32);
    let error = RwSignal::new(None::<ApiFailure>);
    let saving = RwSignal::new(false);
    let dirty = RwSignal::new(false);
    let client = RwSignal::new(String::new());
    let date = RwSignal::new(String::new());
    let due_date = RwSignal::new(String::new());
    let client_note = RwSignal::new(String::new());
    let frequency = RwSignal::new("monthly".to_string());
    let interval = RwSignal::new("1".to_string());
    let cycles = RwSignal::new("0".to_string());
    let mode = RwSignal::new("issue_and_send".to_string());
    let active = RwSignal::new(true);
    let clients = RwSignal::new(None::<Vec<Client>>);
    if billed {
        leptos::task::spawn_local(async move {
            clients.try_set(api::get::<Page<Client>>("/api/v1/clients?limit=500").await.ok().map(|p| p.items));
        });
    }
    guard_unsaved_changes(dirty);

    let add_line = move |l: Option<&LineInput>| {
        let key = next_key.get_untracked();
        next_key.set(key + 1);
        lines.update(|v| v.push(LineRow::new(key, l)));
    };
    // Pre-fill: the relation from the URL when new, the stored proposal when editing.
    let q = query.get_untracked();
    if let Some(lead) = q.get("lead_id") {
        relation.set(format!("lead:{lead}"));
    } else if let Some(o) = q.get("opportunity_id") {
        relation.set(format!("opportunity:{o}"));
    } else if let Some(c) = q.get("client_id") {
        relation.set(format!("client:{c}"));
        client.set(c);
    }
    let fill_lines = move |doc_lines: &[crmconnect_domain::api::DocumentLine]| {
        lines.update(Vec::clear);
        for l in doc_lines {
            let input = LineInput {
                item_id: l.item_id,
                description: Some(l.description.clone()),
                long_description: l.long_description.clone(),
                qty: l.qty,
                unit: l.unit.clone(),
                unit_price: Some(l.unit_price),
                tax_ids: Some(l.tax_ids.clone()),
                discount_percent: Some(l.discount_percent),
            };
            add_line(Some(&input));
        }
    };
    let discount_name = |t: Option<DiscountType>| match t {
        Some(DiscountType::Percent) => "percent".to_string(),
        Some(DiscountType::Fixed) => "fixed".into(),
        None => String::new(),
    };
    // The version of the stored document: saves send it as `If-Match`.
    let version = RwSignal::new(None);
    let load_stored = move || match id {
        // Billed documents are read as JSON: one code path for the three kinds.
        Some(id) if billed => leptos::task::spawn_local(async move {
            match api::get_versioned::<serde_json::Value>(&format!("{}/{id}", kind.api()), version).await {
                Ok(d) => {
                    let text = |k: &str| match &d[k] {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    client.set(text("client_id"));
                    currency.set(text("currency"));
                    date.set(if kind == DocKind::Recurring { text("start_date") } else { text("date") });
                    due_date.set(text("due_date"));
                    discount_kind.set(text("discount_type"));
                    let discount = dec(&text("discount_value"));
                    discount_value.set(if discount.is_zero() { String::new() } else { discount.normalize().to_string() });
                    discount_after_tax.set(text("discount_applies") == "after_tax");
                    terms.set(text("terms"));
                    client_note.set(text("client_note"));
                    frequency.set(text("frequency"));
                    interval.set(text("interval"));
                    cycles.set(text("cycles"));
                    mode.set(text("mode"));
                    active.set(d["active"].as_bool().unwrap_or(true));
                    let doc_lines: Vec<crmconnect_domain::api::DocumentLine> = serde_json::from_value(d["lines"].clone()).unwrap_or_default();
                    fill_lines(&doc_lines);
                }
                Err(e) => error.set(Some(e)),
            }
        }),
        Some(id) => leptos::task::spawn_local(async move {
            match api::get_versioned::<Proposal>(&format!("/api/v1/proposals/{id}"), version).await {
                Ok(p) => {
                    subject.set(p.subject.clone());
                    currency.set(p.currency.clone());
                    open_till.set(p.open_till.map(|d| d.to_string()).unwrap_or_default());
                    allow_comments.set(p.allow_comments);
                    discount_kind.set(discount_name(p.discount_type));
                    discount_value.set(if p.discount_value.is_zero() { String::new() } else { p.discount_value.normalize().to_string() });
                    discount_after_tax.set(p.discount_applies == DiscountApplies::AfterTax);
                    content.set(p.content.clone());
                    terms.set(p.terms.clone());
                    fill_lines(&p.lines);
                }
                Err(e) => error.set(Some(e)),
            }
        }),
        None => add_line(None),
    };
    load_stored();
    // After a save refused because someone else changed the document: their version replaces
    // what was typed.
    let reload = id.map(|_| {
        Callback::new(move |()| {
            error.set(None);
            dirty.set(false);
            load_stored();
        })
    });

    // Live totals: the domain's arithmetic on what is typed.
    let totals = Memo::new(move |_| {
        let taxes = catalogue.get().and_then(|r| r.ok()).map(|c| c.0).unwrap_or_default();
        let cur = Currency::parse(&currency.get()).ok()?;
        let inputs: Vec<documents::LineInput> = lines
            .get()
            .iter()
            .map(|row| documents::LineInput {
                qty: dec(&row.qty.get()),
                unit_price: dec(&row.unit_price.get()),
                discount_percent: dec(&row.discount.get()),
                taxes: row
                    .tax_ids
                    .get()
                    .iter()
                    .filter_map(|id| taxes.iter().find(|t| t.id == *id))
                    .map(|t| AppliedTax { tax_id: t.id, name: t.name.clone(), rate: t.rate })
                    .collect(),
            })
            .collect();
        let kind = match discount_kind.get().as_str() {
            "percent" => Some(DiscountType::Percent),
            "fixed" => Some(DiscountType::Fixed),
            _ => None,
        };
        let applies = if discount_after_tax.get() { DiscountApplies::AfterTax } else { DiscountApplies::BeforeTax };
        let discount = kind.map(|kind| DocumentDiscount { kind, value: dec(&discount_value.get()), applies });
        Some(documents::compute(cur, &inputs, discount).map_err(|e| e.message))
    });

    // A template only fills the form (content and lines); what is saved is what the user sees.
    let apply_template = move |tid: i32, templates: &[ProposalTemplate]| {
        if let Some(t) = templates.iter().find(|t| t.id == tid) {
            content.set(t.content.clone());
            lines.set(Vec::new());
            for l in &t.lines {
                add_line(Some(l));
            }
        }
    };

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saving.set(true);
        let discount_type = match discount_kind.get_untracked().as_str() {
            "percent" => Some(DiscountType::Percent),
            "fixed" => Some(DiscountType::Fixed),
            _ => None,
        };
        let discount_applies = if discount_after_tax.get_untracked() { DiscountApplies::AfterTax } else { DiscountApplies::BeforeTax };
        if billed {
            // Each kind accepts exactly its own fields (unknown fields are refused).
            let mut body = serde_json::json!({
                "currency": currency.get_untracked(),
                "lines": lines.get_untracked().into_iter().map(LineRow::to_input).collect::<Vec<_>>(),
            });
            let date_value = crmconnect_domain::dates::parse(&date.get_untracked()).map(|d| d.to_string());
            if id.is_none() {
                body["client_id"] = serde_json::json!(client.get_untracked().parse::<i32>().ok());
            }
            if kind.discounts() {
                body["discount_type"] = serde_json::json!(discount_type);
                body["discount_value"] = serde_json::json!(dec(&discount_value.get_untracked()).to_string());
                body["discount_applies"] = serde_json::json!(discount_applies);
            }
            match kind {
                DocKind::Invoice => {
                    body["date"] = serde_json::json!(date_value);
                    body["due_date"] = serde_json::json!(crmconnect_domain::dates::parse(&due_date.get_untracked()).map(|d| d.to_string()));
                }
                DocKind::SalesOrder => body["date"] = serde_json::json!(date_value),
                DocKind::Recurring => {
                    body["start_date"] = serde_json::json!(date_value);
                    body["frequency"] = serde_json::json!(frequency.get_untracked());
                    body["interval"] = serde_json::json!(interval.get_untracked().trim().parse::<i32>().ok());
                    body["cycles"] = serde_json::json!(cycles.get_untracked().trim().parse::<i32>().ok());
                    body["mode"] = serde_json::json!(mode.get_untracked());
                    body["active"] = serde_json::json!(active.get_untracked());
                }
                DocKind::Proposal => {}
            }
            if matches!(kind, DocKind::Invoice | DocKind::Recurring) {
                body["terms"] = serde_json::json!(terms.get_untracked());
                body["client_note"] = serde_json::json!(client_note.get_untracked());
            }
            let navigate = navigate.clone();
            leptos::task::spawn_local(async move {
                let result = match id {
                    Some(id) => api::patch_versioned::<_, serde_json::Value>(&format!("{}/{id}", kind.api()), &body, version).await,
                    None => api::post::<_, serde_json::Value>(kind.api(), &body).await,
                };
                saving.set(false);
                match result {
                    Ok(saved) => {
                        dirty.set(false);
                        navigate(&kind.shown_at(saved["id"].as_i64().unwrap_or_default()), Default::default());
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
            return;
        }
        let rel = relation.get_untracked();
        let (kind, rel_id) = rel.split_once(':').map(|(k, v)| (k.to_string(), v.parse::<i32>().ok())).unwrap_or_default();
        let body = ProposalInput {
            subject: Some(subject.get_untracked()),
            lead_id: if id.is_none() && kind == "lead" { rel_id } else { None },
            opportunity_id: if id.is_none() && kind == "opportunity" { rel_id } else { None },
            client_id: if id.is_none() && kind == "client" { rel_id } else { None },
            currency: Some(currency.get_untracked()),
            open_till: Some(crmconnect_domain::dates::parse(&open_till.get_untracked())),
            allow_comments: Some(allow_comments.get_untracked()),
            lines: Some(lines.get_untracked().into_iter().map(LineRow::to_input).collect()),
            discount_type: Some(discount_type),
            discount_value: Some(dec(&discount_value.get_untracked())),
            discount_applies: Some(discount_applies),
            content: Some(content.get_untracked()),
            terms: Some(terms.get_untracked()),
            ..Default::default()
        };
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let result = match id {
                Some(id) => api::patch_versioned::<_, Proposal>(&format!("/api/v1/proposals/{id}"), &body, version).await,
                None => api::post::<_, Proposal>("/api/v1/proposals", &body).await,
            };
            saving.set(false);
            match result {
                Ok(p) => {
                    dirty.set(false);
                    navigate(&format!("/admin/proposals/{}", p.id), Default::default());
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let field_error = move |name: &'static str| move || error.get().and_then(|e| e.field(name)).map(|m| view! { <span class="field-error">{m}</span> });

    view! {
        <h1>{format!("{} {}", if id.is_some() { "Edit" } else { "New" }, kind.noun())}</h1>
        {move || error.get().map(|e| form_alert(e, reload))}
        {move || match catalogue.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => alert(e),
            Some(Ok((taxes, items, currencies, templates))) => {
                let templates_for_change = templates.clone();
                view! {
                <form class="editor" id="proposal-editor" on:submit=save.clone() on:input=move |_| dirty.set(true)>
                    {billed.then(|| view! {
                        <div class="form-grid">
                            {id.is_none().then(|| view! {
                                <label for="i-client">"Client"</label>
                                <div>
                                    <select id="i-client" on:change=move |ev| client.set(event_target_value(&ev))>
                                        <option value="">"Choose a client…"</option>
                                        {move || clients.get().unwrap_or_default().into_iter().map(|c| {
                                            let cid = c.id.to_string();
                                            view! { <option value=cid.clone() selected=client.get_untracked() == cid>{c.company}</option> }
                                        }).collect_view()}
                                    </select>
                                    {field_error("client_id")}
                                </div>
                            })}
                            <label for="i-date">{if kind == DocKind::Recurring { "First invoice on" } else { "Date" }}</label>
                            <div><input id="i-date" type="date" bind:value=date/>{field_error("date")}{field_error("start_date")}</div>
                            {(kind == DocKind::Invoice).then(|| view! {
                                <label for="i-due">"Due date"</label>
                                <div><input id="i-due" type="date" bind:value=due_date/><span class="small muted">" empty: the billing default"</span>{field_error("due_date")}</div>
                            })}
                            {(kind == DocKind::Recurring).then(|| view! {
                                <label for="r-frequency">"Repeat"</label>
                                <div>
                                    <select id="r-frequency" prop:value=move || frequency.get() on:change=move |ev| frequency.set(event_target_value(&ev))>
                                        {["monthly", "quarterly", "annual", "days", "weeks", "months"].map(|f| view! { <option value=f>{f}</option> })}
                                    </select>
                                    " every "<input id="r-interval" size="3" inputmode="numeric" bind:value=interval/>
                                    {field_error("frequency")}{field_error("interval")}
                                </div>
                                <label for="r-cycles">"Total cycles (0 = until stopped)"</label>
                                <div><input id="r-cycles" inputmode="numeric" bind:value=cycles/>{field_error("cycles")}</div>
                                <label for="r-mode">"Each invoice is"</label>
                                <select id="r-mode" prop:value=move || mode.get() on:change=move |ev| mode.set(event_target_value(&ev))>
                                    <option value="draft">"left as a draft"</option>
                                    <option value="issue">"issued"</option>
                                    <option value="issue_and_send">"issued and e-mailed"</option>
                                </select>
                                <label for="r-active">"Active"</label>
                                <input id="r-active" type="checkbox" bind:checked=active/>
                            })}
                        </div>
                    })}
                    <div class="form-grid">
                        {(!billed).then(|| view! {
                        <label for="p-subject">"Subject"</label>
                        <div><input id="p-subject" required bind:value=subject/>{field_error("subject")}</div>
                        })}
                        {(id.is_none() && !billed).then(|| view! {
                            <label for="p-relation">"Related to"</label>
                            <div>
                                <input id="p-relation" placeholder="lead:12, opportunity:7 or client:3" bind:value=relation/>
                                <span class="small muted">" a lead (lead:id), an opportunity (opportunity:id) or a client (client:id)"</span>
                                {field_error("lead_id")}{field_error("opportunity_id")}{field_error("client_id")}
                            </div>
                            <label for="p-template">"Template"</label>
                            <select id="p-template" on:change=move |ev| {
                                if let Ok(tid) = event_target_value(&ev).parse::<i32>() { apply_template(tid, &templates_for_change) }
                            }>
                                <option value="">"—"</option>
                                {templates.iter().map(|t| view! { <option value=t.id>{t.name.clone()}</option> }).collect_view()}
                            </select>
                        })}
                        <label for="p-currency">"Currency"</label>
                        <select id="p-currency" on:change=move |ev| currency.set(event_target_value(&ev))>
                            {currencies.iter().map(|c| { let code = c.code.clone(); view! { <option value=code.clone() selected=move || currency.get() == code>{c.code.clone()}</option> } }).collect_view()}
                        </select>
                        {(!billed).then(|| view! {
                        <label for="p-open-till">"Open till"</label>
                        <div><input id="p-open-till" type="date" bind:value=open_till/>{field_error("open_till")}</div>
                        <label for="p-comments">"Allow comments"</label>
                        <input id="p-comments" type="checkbox" bind:checked=allow_comments/>
                        })}
                    </div>

                    <h2>"Lines"</h2>
                    <table class="grid lines" id="lines">
                        <thead><tr><th>"Item"</th><th>"Description"</th><th>"Qty"</th><th>"Unit"</th><th>"Unit price"</th><th>"Disc. %"</th><th>"Taxes"</th><th>"Net"</th><th></th></tr></thead>
                        <tbody>
                            <For each=move || lines.get().into_iter().enumerate() key=|(_, row)| row.key let((index, row))>
                                <LineEditor row=row index=index items=items.clone() taxes=taxes.clone() totals=totals on_remove=move || lines.update(|v| v.retain(|r| r.key != row.key))/>
                            </For>
                        </tbody>
                    </table>
                    {move || error.get().and_then(|e| e.problem).map(|p| p.errors.into_iter().filter(|e| e.field.starts_with("lines")).map(|e| view! { <div class="field-error">{format!("{}: {}", e.field, e.message)}</div> }).collect_view())}
                    <button type="button" class="secondary" id="add-line" on:click=move |_| add_line(None)>"+ Add line"</button>

                    <div class="totals-box">
                        <div class="discount" style=(!kind.discounts()).then_some("visibility: hidden")>
                            <label for="p-discount-kind">"Discount"</label>
                            <select id="p-discount-kind" on:change=move |ev| discount_kind.set(event_target_value(&ev))>
                                <option value="" selected=move || discount_kind.get().is_empty()>"none"</option>
                                <option value="percent" selected=move || discount_kind.get() == "percent">"%"</option>
                                <option value="fixed" selected=move || discount_kind.get() == "fixed">"amount"</option>
                            </select>
                            <input id="p-discount-value" inputmode="decimal" bind:value=discount_value/>
                            <label><input type="checkbox" bind:checked=discount_after_tax/>" after tax"</label>
                            {field_error("discount_value")}
                        </div>
                        {move || match totals.get() {
                            Some(Ok(t)) => {
                                let cur = currency.get();
                                view! {
                                    <table class="totals" id="live-totals">
                                        <tr><th>"Subtotal"</th><td id="t-subtotal">{money(t.subtotal, &cur)}</td></tr>
                                        {(!t.discount_total.is_zero()).then(|| view! { <tr><th>"Discount"</th><td>{format!("-{}", money(t.discount_total, &cur))}</td></tr> })}
                                        {t.taxes.iter().map(|x| view! { <tr><th>{tax_label(&x.name, x.rate)}</th><td>{money(x.amount, &cur)}</td></tr> }).collect_view()}
                                        <tr class="grand"><th>"Total"</th><td id="t-total">{money(t.total, &cur)}</td></tr>
                                    </table>
                                }.into_any()
                            }
                            Some(Err(msg)) => view! { <p class="field-error">{msg}</p> }.into_any(),
                            None => view! { <p class="muted">"Choose a currency."</p> }.into_any(),
                        }}
                    </div>

                    {(!billed).then(|| view! {
                        <label for="p-content">"Content (HTML)"</label>
                        <textarea id="p-content" rows="5" bind:value=content></textarea>
                        <details class="preview">
                            <summary id="open-preview">"Preview"</summary>
                            // A sandboxed frame (no scripts, no same-origin access): the content
                            // is shown as the client will see it before the server sanitises it.
                            <iframe id="preview" title="Proposal preview" sandbox="" srcdoc=move || preview_html(
                                &subject.get(),
                                &content.get(),
                                &lines.get().iter().map(|r| (r.description.get(), r.qty.get(), r.unit_price.get())).collect::<Vec<_>>(),
                                totals.get().and_then(Result::ok).map(|t| money(t.total, &currency.get())),
                            )></iframe>
                        </details>
                    })}
                    {matches!(kind, DocKind::Invoice | DocKind::Recurring).then(|| view! {
                        <label for="i-client-note">"Note to the client"</label>
                        <textarea id="i-client-note" rows="2" bind:value=client_note></textarea>
                    })}
                    {(kind != DocKind::SalesOrder).then(|| view! {
                        <label for="p-terms">"Terms and conditions"</label>
                        <textarea id="p-terms" rows="3" bind:value=terms></textarea>
                    })}
                    <div class="actions">
                        <button type="submit" id=match kind { DocKind::Proposal => "save-proposal", DocKind::Invoice => "save-invoice", _ => "save-document" } disabled=move || saving.get()>"Save"</button>
                        {move || dirty.get().then(|| view! { <span class="muted small">"Unsaved changes"</span> })}
                    </div>
                </form>
            }.into_any()},
        }}
    }
}

#[component]
fn LineEditor<F>(
    row: LineRow,
    index: usize,
    items: Vec<Item>,
    taxes: Vec<Tax>,
    totals: Memo<Option<Result<documents::DocumentTotals, String>>>,
    on_remove: F,
) -> impl IntoView
where
    F: Fn() + Copy + 'static,
{
    let items_for_pick = items.clone();
    let pick = move |ev: leptos::ev::Event| {
        let Ok(item_id) = event_target_value(&ev).parse::<i32>() else {
            row.item_id.set(None);
            return;
        };
        if let Some(it) = items_for_pick.iter().find(|i| i.id == item_id) {
            row.item_id.set(Some(it.id));
            row.description.set(it.description.clone());
            row.unit.set(it.unit.clone().unwrap_or_default());
            row.unit_price.set(it.unit_price.normalize().to_string());
            row.tax_ids.set(it.tax_ids.clone());
        }
    };
    let net = move || match totals.get() {
        Some(Ok(t)) => t.lines.get(index).map(|l| l.net.to_string()).unwrap_or_default(),
        _ => String::new(),
    };
    view! {
        <tr class="line" data-index=index>
            <td>
                <label class="visually-hidden" for=format!("item-{index}")>"Item"</label>
                <select id=format!("item-{index}") on:change=pick>
                    <option value="">"—"</option>
                    {items.iter().map(|it| { let iid = it.id; view! { <option value=it.id selected=move || row.item_id.get() == Some(iid)>{it.description.clone()}</option> } }).collect_view()}
                </select>
            </td>
            <td><input class="l-description" aria-label="Description" bind:value=row.description/></td>
            <td><input class="l-qty num" aria-label="Quantity" inputmode="decimal" bind:value=row.qty/></td>
            <td><input class="l-unit" aria-label="Unit" bind:value=row.unit size="5"/></td>
            <td><input class="l-price num" aria-label="Unit price" inputmode="decimal" bind:value=row.unit_price/></td>
            <td><input class="l-discount num" aria-label="Discount percent" inputmode="decimal" bind:value=row.discount size="4"/></td>
            <td class="taxes">
                {taxes.iter().map(|t| {
                    let tid = t.id;
                    view! {
                        <label class="small">
                            <input type="checkbox" class=format!("l-tax-{tid}") prop:checked=move || row.tax_ids.get().contains(&tid)
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    row.tax_ids.update(|ids| { ids.retain(|x| *x != tid); if on { ids.push(tid) } });
                                }/>
                            {t.name.clone()}
                        </label>
                    }
                }).collect_view()}
            </td>
            <td class="num l-net">{net}</td>
            <td><button type="button" class="link" aria-label="Remove line" on:click=move |_| on_remove()>"✕"</button></td>
        </tr>
    }
}

/// The proposal as staff see it, with every action of the guide.
#[component]
pub fn ProposalView(id: i32) -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let proposal = api::load::<Proposal>(move || {
        reload.get();
        format!("/api/v1/proposals/{id}")
    });
    let comments = api::load::<Page<Comment>>(move || {
        reload.get();
        format!("/api/v1/proposals/{id}/comments")
    });
    let emails = api::load::<Page<SentEmail>>(move || {
        reload.get();
        format!("/api/v1/proposals/{id}/emails")
    });
    let error = RwSignal::new(None::<ApiFailure>);
    let notice = RwSignal::new(None::<String>);
    let session = expect_context::<Session>();
    let can = move |m: Module, a: Action| session.can(m, a);
    let show_send = RwSignal::new(false);
    let send_to = RwSignal::new(String::new());
    let send_message = RwSignal::new(String::new());
    let attach_pdf = RwSignal::new(true);
    let reply = RwSignal::new(String::new());
    let done = move |r: Result<String, ApiFailure>| match r {
        Ok(msg) => {
            error.set(None);
            notice.set(Some(msg));
            reload.update(|n| *n += 1);
        }
        Err(e) => error.set(Some(e)),
    };
    let set_status = move |code: i32| {
        leptos::task::spawn_local(async move {
            let r = api::post::<_, Proposal>(&format!("/api/v1/proposals/{id}/status"), &ProposalStatusInput { status: StatusRef::Code(code) }).await;
            done(r.map(|p| format!("Status: {}", status_label(p.status_code))));
        });
    };
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let to = send_to.get_untracked();
        let body = SendInput {
            to: Some(to.trim().to_string()).filter(|t| !t.is_empty()).map(crmconnect_domain::api::Addresses::One),
            message: Some(send_message.get_untracked()).filter(|m| !m.trim().is_empty()),
            attach_pdf: attach_pdf.get_untracked(),
            ..Default::default()
        };
        leptos::task::spawn_local(async move {
            let r = api::post::<_, SendResult>(&format!("/api/v1/proposals/{id}/send"), &body).await;
            if r.is_ok() {
                show_send.set(false);
            }
            done(r.map(|s| format!("E-mail to {} queued.", s.email.to.join(", "))));
        });
    };
    let convert = move |target: &'static str| {
        leptos::task::spawn_local(async move {
            let path = format!("/api/v1/proposals/{id}/convert-to-{target}");
            let r = if target == "invoice" {
                api::post::<_, Invoice>(&path, &serde_json::json!({}))
                    .await
                    .map(|i| format!("Invoice draft #{} created ({}).", i.id, money(i.amounts.total, &i.currency)))
            } else {
                api::post::<_, SalesOrder>(&path, &serde_json::json!({})).await.map(|o| format!("Sales order {} created.", o.number))
            };
            done(r);
        });
    };
    let add_reply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = CommentInput { content: reply.get_untracked() };
        leptos::task::spawn_local(async move {
            let r = api::post::<_, Comment>(&format!("/api/v1/proposals/{id}/comments"), &body).await;
            if r.is_ok() {
                reply.set(String::new());
            }
            done(r.map(|_| "Reply posted.".to_string()));
        });
    };

    view! {
        {move || error.get().map(alert)}
        {move || notice.get().map(|n| view! { <div class="notice" role="status" id="notice">{n}</div> })}
        {move || match proposal.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => alert(e),
            Some(Ok(p)) => {
                let status = ProposalStatus::from_code(p.status_code).unwrap_or(ProposalStatus::Draft);
                let cur = p.currency.clone();
                let editable = status != ProposalStatus::Accepted && p.invoice_id.is_none() && p.sales_order_id.is_none();
                view! {
                    <div class="board-header">
                        <h1><span id="proposal-number">{p.number.clone()}</span>" · "{p.subject.clone()}</h1>
                        <span class=format!("badge s{}", p.status_code) id="proposal-status">{status_label(p.status_code)}</span>
                    </div>
                    {p.expired.then(|| view! { <div class="alert">"Expired: the client can no longer accept. Extend “open till” or mark it."</div> })}
                    <div class="actions">
                        {(editable && can(Module::Proposals, Action::Edit)).then(|| view! { <A href=format!("/admin/proposals/{id}/edit") attr:class="button secondary" attr:id="edit-proposal">"Edit"</A> })}
                        {(!matches!(status, ProposalStatus::Accepted | ProposalStatus::Declined) && can(Module::Proposals, Action::Send)).then(|| view! { <button id="open-send" on:click=move |_| show_send.set(true)>"Send"</button> })}
                        {(matches!(status, ProposalStatus::Draft | ProposalStatus::Revised) && can(Module::Proposals, Action::Edit)).then(|| view! { <button class="secondary" id="mark-sent" on:click=move |_| set_status(7)>"Mark as sent"</button> })}
                        {(status.awaiting_client() && can(Module::Proposals, Action::Edit)).then(|| view! {
                            <button class="secondary" id="mark-accepted" on:click=move |_| set_status(3)>"Mark accepted"</button>
                            <button class="secondary" on:click=move |_| set_status(2)>"Mark declined"</button>
                        })}
                        // One conversion per proposal: once invoiced, no sales order is offered (and back).
                        {(status == ProposalStatus::Accepted && p.invoice_id.is_none() && p.sales_order_id.is_none()).then(|| view! {
                            {if can(Module::Invoices, Action::Create) {
                                view! { <button id="convert-invoice" on:click=move |_| convert("invoice")>"Convert to invoice"</button> }.into_any()
                            } else {
                                denied("Convert to invoice", "Your role cannot convert to invoices.")
                            }}
                            {if can(Module::SalesOrders, Action::Create) {
                                view! { <button class="secondary" id="convert-sales-order" on:click=move |_| convert("sales-order")>"Convert to sales order"</button> }.into_any()
                            } else {
                                denied("Convert to sales order", "Your role cannot convert to sales orders.")
                            }}
                        })}
                        <button class="secondary" on:click=move |_| api::open_file(format!("/api/v1/proposals/{id}/pdf"), error)>"PDF"</button>
                    </div>
                    <Show when=move || show_send.get()>
                        <form class="card send-dialog" id="send-form" on:submit=send>
                            <label for="send-to">"To (default: the recipient)"</label>
                            <input id="send-to" bind:value=send_to placeholder="client@example.com"/>
                            <label for="send-message">"Message"</label>
                            <textarea id="send-message" rows="3" bind:value=send_message></textarea>
                            <label><input type="checkbox" bind:checked=attach_pdf/>" Attach the PDF"</label>
                            <div class="actions"><button type="submit" id="send-submit">"Send e-mail"</button><button type="button" class="secondary" on:click=move |_| show_send.set(false)>"Cancel"</button></div>
                        </form>
                    </Show>
                    <div class="two-col">
                        <div class="card">
                            <h2>"Recipient"</h2>
                            <p>{p.recipient.name.clone().unwrap_or_default()}<br/>{p.recipient.email.clone().unwrap_or_default()}</p>
                            {match (p.opportunity_id, p.lead_id, p.client_id) {
                                (Some(o), _, _) => Some(("Opportunity", "opportunities", o)),
                                (None, Some(l), _) => Some(("Lead", "leads", l)),
                                (None, None, Some(c)) => Some(("Client", "clients", c)),
                                _ => None,
                            }.map(|(what, path, rid)| view! { <p class="small">"Related to "<A href=format!("/admin/{path}/{rid}") attr:id="relation-link">{format!("{what} #{rid}")}</A></p> })}
                            <p class="small muted">{format!("Date {} · open till {}", p.date, p.open_till.map(|d| d.to_string()).unwrap_or_else(|| "—".into()))}</p>
                            {p.portal_url.clone().map(|u| view! { <p class="small">"Client link: "<a id="portal-link" href=u.clone() target="_blank">{u.clone()}</a></p> })}
                            {p.invoice_id.map(|i| view! { <p><A href=format!("/admin/invoices/{i}") attr:id="invoice-link">{format!("Invoice #{i}")}</A></p> })}
                            {p.accepted.clone().map(|a| view! { <p class="small">{format!("Accepted by {} on {}", a.name, a.at.date())}</p> })}
                        </div>
                        <div class="card">
                            <h2>"Amounts"</h2>
                            <table class="totals" id="proposal-totals">
                                <tr><th>"Subtotal"</th><td>{money(p.amounts.subtotal, &cur)}</td></tr>
                                {(!p.amounts.discount_total.is_zero()).then(|| view! { <tr><th>"Discount"</th><td>{format!("-{}", money(p.amounts.discount_total, &cur))}</td></tr> })}
                                {p.amounts.taxes.iter().map(|t| view! { <tr><th>{tax_label(&t.name, t.rate)}</th><td>{money(t.amount, &cur)}</td></tr> }).collect_view()}
                                <tr class="grand"><th>"Total"</th><td id="proposal-total">{money(p.amounts.total, &cur)}</td></tr>
                            </table>
                        </div>
                    </div>
                    <table class="grid">
                        <thead><tr><th>"Description"</th><th>"Qty"</th><th>"Unit price"</th><th>"Taxes"</th><th>"Net"</th></tr></thead>
                        <tbody>
                            {p.lines.iter().map(|l| view! {
                                <tr>
                                    <td>{l.description.clone()}</td>
                                    <td class="num">{format!("{} {}", l.qty.normalize(), l.unit.clone().unwrap_or_default())}</td>
                                    <td class="num">{l.unit_price.to_string()}</td>
                                    <td>{l.taxes.iter().map(|t| format!("{}%", t.rate.normalize())).collect::<Vec<_>>().join(" + ")}</td>
                                    <td class="num">{l.net.to_string()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }
        }}
        <div class="two-col">
            <section class="card" id="comments">
                <h2>"Comments with the client"</h2>
                {move || comments.get().and_then(|r| r.ok()).map(|page| page.items.into_iter().map(|c| view! {
                    <div class=if c.from_client { "comment client" } else { "comment staff" }>
                        <strong>{c.author_name}</strong>" "<span class="small muted">{c.created_at.date().to_string()}</span>
                        <p>{c.content}</p>
                    </div>
                }).collect_view())}
                <Show when=move || can(Module::Proposals, Action::Edit)>
                    <form on:submit=add_reply>
                        <label class="visually-hidden" for="reply">"Reply"</label>
                        <textarea id="reply" rows="2" bind:value=reply placeholder="Reply to the client"></textarea>
                        <button type="submit">"Reply"</button>
                    </form>
                </Show>
            </section>
            <section class="card" id="emails">
                <h2>"E-mails"</h2>
                {move || emails.get().and_then(|r| r.ok()).map(|page| page.items.into_iter().map(|e| view! {
                    <p class="small">{format!("{} → {} · {} ({} attempt(s))", e.created_at.date(), e.to.join(", "), e.status, e.attempts)}</p>
                }).collect_view())}
            </section>
        </div>
    }
}
