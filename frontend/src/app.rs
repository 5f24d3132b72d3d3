use crmconnect_domain::api::Me;
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
