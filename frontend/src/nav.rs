//! The modules of the sales guide, with the URLs its users know.

use crmconnect_domain::permissions::Module;

pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    /// Shown only to roles with some access to this module; `None` = everyone.
    pub module: Option<Module>,
}

pub const NAV: &[NavItem] = &[
    NavItem { label: "Dashboard", href: "/admin", module: None },
    NavItem { label: "Leads", href: "/admin/leads", module: Some(Module::Leads) },
    NavItem { label: "Opportunities", href: "/admin/opportunities", module: Some(Module::Opportunities) },
    NavItem { label: "Clients", href: "/admin/clients", module: Some(Module::Clients) },
    NavItem { label: "Proposals", href: "/admin/proposals", module: Some(Module::Proposals) },
    NavItem { label: "Sales orders", href: "/admin/sales_orders", module: Some(Module::SalesOrders) },
    NavItem { label: "Contracts", href: "/admin/contracts", module: Some(Module::Contracts) },
    NavItem { label: "Invoices", href: "/admin/invoices/list_invoices", module: Some(Module::Invoices) },
    NavItem { label: "Payments", href: "/admin/payments", module: Some(Module::Payments) },
    NavItem { label: "Commissions", href: "/admin/commission", module: Some(Module::Commissions) },
    NavItem { label: "Goals", href: "/admin/goals", module: Some(Module::Goals) },
    NavItem { label: "Reports", href: "/admin/reports/sales", module: Some(Module::Reports) },
    NavItem { label: "Automation", href: "/admin/workflow_automation", module: Some(Module::Automation) },
    NavItem { label: "Settings", href: "/admin/settings", module: Some(Module::Settings) },
    NavItem { label: "Staff", href: "/admin/staff", module: Some(Module::Staff) },
    NavItem { label: "Roles", href: "/admin/roles", module: Some(Module::Roles) },
];

/// The nav item a path belongs to (longest matching prefix).
pub fn item_for(path: &str) -> Option<&'static NavItem> {
    NAV.iter()
        .filter(|i| i.href != "/admin")
        .filter(|i| {
            let section = i.href.split('/').take(3).collect::<Vec<_>>().join("/");
            path == i.href || path.starts_with(&format!("{section}/")) || path == section
        })
        .max_by_key(|i| i.href.len())
}
