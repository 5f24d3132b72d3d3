use crmconnect_domain::api::Me;
use crmconnect_domain::permissions::{Action, Module};
use leptos::prelude::*;
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;

use crate::pages::invoices::{PortalContractPage, PortalInvoicePage};
use crate::pages::{dashboard::Dashboard, layout::Layout, login::LoginPage, module::ModulePage, portal::PortalProposalPage};

/// The signed-in user, shared by every page.
#[derive(Clone, Copy)]
pub struct Session {
    pub me: RwSignal<Option<Me>>,
}

impl Session {
    /// Whether the signed-in user may do `action` in `module` (reactive: read inside a view
    /// closure, it follows the session). The server sends an administrator's permissions as
    /// everything, so this is the one check pages need to hide or disable what a role cannot use.
    pub fn can(&self, module: Module, action: Action) -> bool {
        self.me.with(|me| me.as_ref().is_some_and(|me| me.permissions.allows(module, action)))
    }
}

/// An action the guide mentions but the user's role cannot use: shown disabled, with the
/// reason on hover and in plain words beside it (never a refusal after the click).
pub fn denied(label: &'static str, reason: &'static str) -> AnyView {
    view! { <button class="secondary" disabled title=reason>{label}</button><span class="small muted denied">{reason}</span> }.into_any()
}

/// Asks before a hard-to-undo action; `false` when the user declines (or no dialog can show).
pub fn confirmed(question: &str) -> bool {
    web_sys::window().and_then(|w| w.confirm_with_message(question).ok()).unwrap_or(false)
}

#[component]
pub fn App() -> impl IntoView {
    provide_context(Session { me: RwSignal::new(None) });
    view! {
        <Router>
            <Routes fallback=|| view! { <Redirect path="/admin"/> }>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/proposal/:token") view=PortalProposalPage/>
                <Route path=path!("/invoice/:token") view=PortalInvoicePage/>
                <Route path=path!("/contract/:token") view=PortalContractPage/>
                <Route path=path!("/") view=|| view! { <Redirect path="/admin"/> }/>
                <Route path=path!("/admin") view=|| view! { <Layout><Dashboard/></Layout> }/>
                <Route path=path!("/admin/*rest") view=|| view! { <Layout><ModulePage/></Layout> }/>
            </Routes>
        </Router>
    }
}
