//! `/proposal/{token}`: what the client sees from the e-mail link — no login, no staff
//! chrome, readable on a phone. Content, lines, totals, accept (with name) or decline,
//! comments, PDF.

use crmconnect_domain::api::{AcceptInput, Comment, CommentInput, DeclineInput, Page, PortalProposal};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::proposals::{money, status_label};
use crate::api::{self, ApiFailure};

#[component]
pub fn PortalProposalPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.get().get("token").unwrap_or_default();
    let reload = RwSignal::new(0u32);
    let proposal = api::load_public::<PortalProposal>(move || {
        reload.get();
        let t = token();
        format!("/api/v1/portal/proposals/{t}")
    });
    let comments = api::load_public::<Page<Comment>>(move || {
        reload.get();
        let t = token();
        format!("/api/v1/portal/proposals/{t}/comments")
    });
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let comment = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiFailure>);
    let after = move |r: Result<(), ApiFailure>| match r {
        Ok(()) => {
            error.set(None);
            reload.update(|n| *n += 1);
        }
        Err(e) => error.set(Some(e)),
    };
    let accept = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = AcceptInput {
            name: name.get_untracked(),
            email: Some(email.get_untracked()).filter(|e| !e.trim().is_empty()),
            signature: Some(name.get_untracked()),
        };
        let t = token();
        leptos::task::spawn_local(async move {
            after(api::public_post::<_, PortalProposal>(&format!("/api/v1/portal/proposals/{t}/accept"), &body).await.map(|_| ()));
        });
    };
    let decline = move |_| {
        let body = DeclineInput { reason: Some(reason.get_untracked()).filter(|r| !r.trim().is_empty()) };
        let t = token();
        leptos::task::spawn_local(async move {
            after(api::public_post::<_, PortalProposal>(&format!("/api/v1/portal/proposals/{t}/decline"), &body).await.map(|_| ()));
        });
    };
    let add_comment = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = CommentInput { content: comment.get_untracked() };
        let t = token();
        leptos::task::spawn_local(async move {
            let r = api::public_post::<_, Comment>(&format!("/api/v1/portal/proposals/{t}/comments"), &body).await;
            if r.is_ok() {
                comment.set(String::new());
            }
            after(r.map(|_| ()));
        });
    };

    view! {
        <div class="portal">
            {move || error.get().map(|e| view! { <div class="alert" role="alert" id="portal-error">{e.summary()}</div> })}
            {move || match proposal.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) if e.status == 404 => view! { <h1>"This link is not valid"</h1><p class="muted">"Ask your contact for a new link."</p> }.into_any(),
                Some(Err(e)) => view! { <div class="alert" role="alert">{e.summary()}</div> }.into_any(),
                Some(Ok(p)) => {
                    let cur = p.currency.clone();
                    view! {
                        <header class="portal-head">
                            <div class="brand">{p.company_name.clone()}</div>
                            <div><span id="portal-status" class=format!("badge s{}", p.status_code)>{status_label(p.status_code)}</span></div>
                        </header>
                        <h1>{format!("{} · {}", p.number, p.subject)}</h1>
                        <p class="muted small">{format!("Date {} · valid until {}", p.date, p.open_till.map(|d| d.to_string()).unwrap_or_else(|| "—".into()))}</p>
                        {p.expired.then(|| view! { <div class="alert" id="portal-expired">"This proposal has expired; please ask us for an updated one."</div> })}
                        <div class="content" inner_html=p.content.clone()></div>
                        <table class="grid">
                            <thead><tr><th>"Item"</th><th>"Qty"</th><th>"Price"</th><th>"Amount"</th></tr></thead>
                            <tbody>
                                {p.lines.iter().map(|l| view! {
                                    <tr><td>{l.description.clone()}</td><td class="num">{l.qty.normalize().to_string()}</td><td class="num">{l.unit_price.to_string()}</td><td class="num">{l.net.to_string()}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <table class="totals">
                            <tr><th>"Subtotal"</th><td>{money(p.amounts.subtotal, &cur)}</td></tr>
                            {(!p.amounts.discount_total.is_zero()).then(|| view! { <tr><th>"Discount"</th><td>{format!("-{}", money(p.amounts.discount_total, &cur))}</td></tr> })}
                            {p.amounts.taxes.iter().map(|t| view! { <tr><th>{super::proposals::tax_label(&t.name, t.rate)}</th><td>{money(t.amount, &cur)}</td></tr> }).collect_view()}
                            <tr class="grand"><th>"Total"</th><td id="portal-total">{money(p.amounts.total, &cur)}</td></tr>
                        </table>
                        <div class="content small" inner_html=p.terms.clone()></div>
                        <p><a href=format!("/api/v1/portal/proposals/{}/pdf", token()) target="_blank">"Download PDF"</a></p>
                        {p.accepted.clone().map(|a| view! {
                            <p class="notice" id="portal-accepted">{format!("Accepted by {} on {}. Thank you!", a.name, a.at.date())}</p>
                            {a.content_hash.map(|h| view! { <p class="small muted" id="accepted-hash">"Fingerprint of what you accepted (SHA-256): " <code>{h}</code></p> })}
                        })}
                        {p.can_respond.then(|| view! {
                            <form class="card respond" id="accept-form" on:submit=accept>
                                <h2>"Accept this proposal"</h2>
                                <label for="accept-name">"Your full name"</label>
                                <input id="accept-name" required bind:value=name autocomplete="name"/>
                                <label for="accept-email">"E-mail (optional)"</label>
                                <input id="accept-email" type="email" bind:value=email autocomplete="email"/>
                                <button type="submit" id="accept-submit">"Accept"</button>
                                <label for="decline-reason">"Or decline — tell us why (optional)"</label>
                                <input id="decline-reason" bind:value=reason/>
                                <button type="button" class="secondary" id="decline-submit" on:click=decline>"Decline"</button>
                            </form>
                        })}
                        {p.allow_comments.then(|| view! {
                            <section class="card" id="portal-comments">
                                <h2>"Questions and comments"</h2>
                                {move || comments.get().and_then(|r| r.ok()).map(|page| page.items.into_iter().map(|c| view! {
                                    <div class=if c.from_client { "comment client" } else { "comment staff" }><strong>{c.author_name}</strong><p>{c.content}</p></div>
                                }).collect_view())}
                                <form on:submit=add_comment>
                                    <label for="portal-comment">"Your comment"</label>
                                    <textarea id="portal-comment" rows="3" bind:value=comment></textarea>
                                    <button type="submit" id="portal-comment-submit">"Send"</button>
                                </form>
                            </section>
                        })}
                    }.into_any()
                }
            }}
        </div>
    }
}
