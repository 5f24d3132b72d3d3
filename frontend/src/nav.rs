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
    NavItem { label: "Teams", href: "/admin/teams", module: Some(Module::Goals) },
    NavItem { label: "Expenses", href: "/admin/expenses", module: Some(Module::Expenses) },
    // Reports (/admin/reports/sales) and Automation
    // (/admin/workflow_automation) join the menu with the issues that build them: a menu entry
    // that opens "not part of this build" is a dead end for the user.
    NavItem { label: "Settings", href: "/admin/settings", module: Some(Module::Settings) },
    NavItem { label: "Staff", href: "/admin/staff", module: Some(Module::Staff) },
    NavItem { label: "Roles", href: "/admin/roles", module: Some(Module::Roles) },
];
