//! Roles and permissions: which staff may do what in which module.
//!
//! A role grants, per module, a set of actions. `view` sees every record of the module;
//! `view_own` only records assigned to (or created by) the staff member. Administrators
//! (`is_admin`) bypass the table entirely. The default roles mirror the sales guide.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// A functional area of the CRM that permissions are granted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Module {
    Leads,
    Opportunities,
    Clients,
    Proposals,
    SalesOrders,
    Contracts,
    Invoices,
    Payments,
    Tasks,
    Commissions,
    Expenses,
    Goals,
    Reports,
    Automation,
    Settings,
    Staff,
    Roles,
    AuditLog,
}

impl Module {
    pub const ALL: [Module; 18] = [
        Module::Leads,
        Module::Opportunities,
        Module::Clients,
        Module::Proposals,
        Module::SalesOrders,
        Module::Contracts,
        Module::Invoices,
        Module::Payments,
        Module::Tasks,
        Module::Commissions,
        Module::Expenses,
        Module::Goals,
        Module::Reports,
        Module::Automation,
        Module::Settings,
        Module::Staff,
        Module::Roles,
        Module::AuditLog,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Module::Leads => "leads",
            Module::Opportunities => "opportunities",
            Module::Clients => "clients",
            Module::Proposals => "proposals",
            Module::SalesOrders => "sales_orders",
            Module::Contracts => "contracts",
            Module::Invoices => "invoices",
            Module::Payments => "payments",
            Module::Tasks => "tasks",
            Module::Commissions => "commissions",
            Module::Expenses => "expenses",
            Module::Goals => "goals",
            Module::Reports => "reports",
            Module::Automation => "automation",
            Module::Settings => "settings",
            Module::Staff => "staff",
            Module::Roles => "roles",
            Module::AuditLog => "audit_log",
        }
    }

    pub fn parse(name: &str) -> Option<Module> {
        Module::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// The actions that mean something for this module (`send` only where documents are sent).
    pub fn actions(self) -> &'static [Action] {
        use Action::*;
        match self {
            Module::Proposals | Module::SalesOrders | Module::Contracts | Module::Invoices => &[View, ViewOwn, Create, Edit, Delete, Send],
            Module::Reports | Module::AuditLog => &[View, ViewOwn],
            _ => &[View, ViewOwn, Create, Edit, Delete],
        }
    }
}

/// Something a role may do within a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Action {
    View,
    ViewOwn,
    Create,
    Edit,
    Delete,
    Send,
}

impl Action {
    pub const ALL: [Action; 6] = [Action::View, Action::ViewOwn, Action::Create, Action::Edit, Action::Delete, Action::Send];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::View => "view",
            Action::ViewOwn => "view_own",
            Action::Create => "create",
            Action::Edit => "edit",
            Action::Delete => "delete",
            Action::Send => "send",
        }
    }

    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// Which records of a module a caller may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewScope {
    /// Every record.
    All,
    /// Only records owned by (assigned to) this staff id.
    Own(i32),
}

/// The grants of one role (or the intersection of a role and an API token's scopes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, Vec<Action>>, example = json!({"leads": ["view", "create", "edit"]})))]
pub struct PermissionSet(pub BTreeMap<Module, BTreeSet<Action>>);

/// Why a permission set or scope list was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PermissionError {
    ActionNotApplicable { module: Module, action: Action },
    UnknownScope(String),
}

impl std::fmt::Display for PermissionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PermissionError::ActionNotApplicable { module, action } => write!(f, "action `{}` does not apply to module `{}`", action.as_str(), module.as_str()),
            PermissionError::UnknownScope(s) => write!(f, "unknown scope `{s}`; use `*`, `<module>:*` or `<module>:<action>`"),
        }
    }
}

impl PermissionSet {
    pub fn grant(mut self, module: Module, actions: &[Action]) -> Self {
        self.0.entry(module).or_default().extend(actions.iter().copied());
        self
    }

    /// Every applicable action on every module.
    pub fn everything() -> Self {
        Module::ALL.into_iter().fold(PermissionSet::default(), |set, m| set.grant(m, m.actions()))
    }

    pub fn allows(&self, module: Module, action: Action) -> bool {
        self.0.get(&module).is_some_and(|a| a.contains(&action))
    }

    /// `view` beats `view_own`; neither means no read access at all.
    pub fn view_scope(&self, module: Module, staff_id: i32) -> Option<ViewScope> {
        if self.allows(module, Action::View) {
            Some(ViewScope::All)
        } else if self.allows(module, Action::ViewOwn) {
            Some(ViewScope::Own(staff_id))
        } else {
            None
        }
    }

    /// Rejects actions that make no sense for a module (e.g. `send` on leads).
    pub fn validate(&self) -> Result<(), PermissionError> {
        for (module, actions) in &self.0 {
            if let Some(action) = actions.iter().find(|a| !module.actions().contains(a)) {
                return Err(PermissionError::ActionNotApplicable { module: *module, action: *action });
            }
        }
        Ok(())
    }

    /// Only what both sets grant: an API token never exceeds its owner's role.
    /// Whether every action this set grants is also granted by `other` (a role a staff
    /// manager may create or hand out never exceeds their own).
    pub fn is_within(&self, other: &PermissionSet) -> bool {
        self.0.iter().all(|(module, actions)| actions.iter().all(|a| other.allows(*module, *a)))
    }

    pub fn intersect(&self, other: &PermissionSet) -> PermissionSet {
        let mut out = BTreeMap::new();
        for (module, actions) in &self.0 {
            if let Some(theirs) = other.0.get(module) {
                let both: BTreeSet<Action> = actions.intersection(theirs).copied().collect();
                if !both.is_empty() {
                    out.insert(*module, both);
                }
            }
        }
        PermissionSet(out)
    }

    /// Parses API-token scopes: `*`, `<module>:*` or `<module>:<action>`.
    pub fn from_scopes<S: AsRef<str>>(scopes: &[S]) -> Result<PermissionSet, PermissionError> {
        let mut set = PermissionSet::default();
        for scope in scopes {
            let scope = scope.as_ref();
            if scope == "*" {
                set = PermissionSet::everything();
                continue;
            }
            let unknown = || PermissionError::UnknownScope(scope.to_string());
            let (module, action) = scope.split_once(':').ok_or_else(unknown)?;
            let module = Module::parse(module).ok_or_else(unknown)?;
            if action == "*" {
                set = set.grant(module, module.actions());
            } else {
                let action = Action::parse(action).ok_or_else(unknown)?;
                if !module.actions().contains(&action) {
                    return Err(PermissionError::ActionNotApplicable { module, action });
                }
                set = set.grant(module, &[action]);
            }
        }
        Ok(set)
    }
}

/// A role shipped with every new database.
pub struct DefaultRole {
    pub name: &'static str,
    pub description: &'static str,
    pub is_admin: bool,
    pub permissions: PermissionSet,
}

/// The roles of the sales guide: Administrator, Sales Manager, Account Manager, Sales Agent, SDR.
pub fn default_roles() -> Vec<DefaultRole> {
    use Action::*;
    use Module::*;
    let all = [View, Create, Edit, Delete];
    let all_send = [View, Create, Edit, Delete, Send];
    vec![
        DefaultRole {
            name: "Administrator",
            description: "Full access, including staff, roles and settings.",
            is_admin: true,
            permissions: PermissionSet::everything(),
        },
        DefaultRole {
            name: "Sales Manager",
            description: "Monitors pipeline, goals, team performance and commissions.",
            is_admin: false,
            permissions: PermissionSet::default()
                .grant(Leads, &all)
                .grant(Opportunities, &all)
                .grant(Clients, &all)
                .grant(Proposals, &all_send)
                .grant(SalesOrders, &all_send)
                .grant(Contracts, &all_send)
                .grant(Invoices, &all_send)
                .grant(Payments, &all)
                .grant(Tasks, &all)
                .grant(Commissions, &all)
                .grant(Expenses, &all)
                .grant(Goals, &all)
                .grant(Reports, &[View])
                .grant(Automation, &[View, Create, Edit])
                .grant(Staff, &[View])
                .grant(AuditLog, &[View]),
        },
        DefaultRole {
            name: "Account Manager",
            description: "Manages existing clients, upsell and contract renewals.",
            is_admin: false,
            permissions: PermissionSet::default()
                .grant(Leads, &[ViewOwn, Create, Edit])
                .grant(Opportunities, &[ViewOwn, Create, Edit])
                .grant(Clients, &[View, Create, Edit])
                .grant(Proposals, &[View, Create, Edit, Send])
                .grant(SalesOrders, &[View, Create, Edit])
                .grant(Contracts, &[View, Create, Edit, Send])
                .grant(Invoices, &[View, Create, Send])
                .grant(Payments, &[View, Create])
                .grant(Tasks, &[ViewOwn, Create, Edit])
                .grant(Commissions, &[ViewOwn])
                .grant(Expenses, &[ViewOwn, Create, Edit])
                .grant(Goals, &[View])
                .grant(Reports, &[ViewOwn]),
        },
        DefaultRole {
            name: "Sales Agent",
            description: "Works opportunities, sends proposals, closes deals.",
            is_admin: false,
            permissions: PermissionSet::default()
                .grant(Leads, &[View, Create, Edit])
                .grant(Opportunities, &[View, Create, Edit])
                .grant(Proposals, &[View, Create, Send])
                .grant(SalesOrders, &[View, Create])
                .grant(Invoices, &[View, Create])
                .grant(Clients, &[View, Create])
                .grant(Tasks, &[ViewOwn, Create, Edit])
                .grant(Commissions, &[ViewOwn])
                .grant(Expenses, &[ViewOwn, Create, Edit])
                .grant(Goals, &[View]),
        },
        DefaultRole {
            name: "SDR",
            description: "Qualifies leads, makes first contacts, feeds the pipeline.",
            is_admin: false,
            permissions: PermissionSet::default()
                .grant(Leads, &[ViewOwn, Create, Edit])
                .grant(Opportunities, &[Create])
                .grant(Clients, &[View])
                .grant(Tasks, &[ViewOwn, Create, Edit])
                .grant(Commissions, &[ViewOwn])
                .grant(Expenses, &[ViewOwn, Create, Edit])
                .grant(Goals, &[View]),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_beats_view_own_and_nothing_means_no_access() {
        let set = PermissionSet::default().grant(Module::Leads, &[Action::ViewOwn]).grant(Module::Clients, &[Action::View, Action::ViewOwn]);
        assert_eq!(set.view_scope(Module::Leads, 7), Some(ViewScope::Own(7)));
        assert_eq!(set.view_scope(Module::Clients, 7), Some(ViewScope::All));
        assert_eq!(set.view_scope(Module::Invoices, 7), None);
    }

    #[test]
    fn scopes_parse_wildcards_and_reject_nonsense() {
        let set = PermissionSet::from_scopes(&["leads:view", "clients:*"]).unwrap();
        assert!(set.allows(Module::Leads, Action::View));
        assert!(!set.allows(Module::Leads, Action::Create));
        assert!(set.allows(Module::Clients, Action::Delete));
        assert!(!set.allows(Module::Clients, Action::Send), "send is not a clients action");
        assert_eq!(PermissionSet::from_scopes(&["*"]).unwrap(), PermissionSet::everything());
        for bad in ["leads", "leads:fly", "nope:view", "leads:send", ""] {
            assert!(PermissionSet::from_scopes(&[bad]).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn intersection_never_exceeds_either_side() {
        let role = PermissionSet::default().grant(Module::Leads, &[Action::View, Action::Edit]);
        let token = PermissionSet::from_scopes(&["leads:*", "invoices:view"]).unwrap();
        let eff = role.intersect(&token);
        assert!(eff.allows(Module::Leads, Action::Edit));
        assert!(!eff.allows(Module::Leads, Action::Delete));
        assert!(!eff.allows(Module::Invoices, Action::View));
    }

    #[test]
    fn validate_rejects_inapplicable_actions() {
        assert!(PermissionSet::everything().validate().is_ok());
        let bad = PermissionSet::default().grant(Module::Leads, &[Action::Send]);
        assert_eq!(bad.validate(), Err(PermissionError::ActionNotApplicable { module: Module::Leads, action: Action::Send }));
    }

    #[test]
    fn default_roles_follow_the_guide() {
        let roles = default_roles();
        let names: Vec<_> = roles.iter().map(|r| r.name).collect();
        assert_eq!(names, ["Administrator", "Sales Manager", "Account Manager", "Sales Agent", "SDR"]);
        let agent = &roles[3].permissions;
        // Guide: Proposals → View / Create / Send; Commission → View own.
        assert!(agent.allows(Module::Proposals, Action::Send));
        assert_eq!(agent.view_scope(Module::Commissions, 1), Some(ViewScope::Own(1)));
        assert!(!agent.allows(Module::Staff, Action::View));
        let sdr = &roles[4].permissions;
        assert_eq!(sdr.view_scope(Module::Leads, 3), Some(ViewScope::Own(3)));
        for role in &roles {
            assert!(role.permissions.validate().is_ok(), "{} invalid", role.name);
        }
    }

    #[test]
    fn serializes_as_module_to_action_list() {
        let set = PermissionSet::default().grant(Module::SalesOrders, &[Action::ViewOwn]);
        assert_eq!(serde_json::to_string(&set).unwrap(), r#"{"sales_orders":["view_own"]}"#);
    }

    #[test]
    fn a_set_is_within_another_only_when_it_grants_nothing_more() {
        let small = PermissionSet::default().grant(Module::Leads, &[Action::View]);
        let big = PermissionSet::default().grant(Module::Leads, &[Action::View, Action::Edit]).grant(Module::Staff, &[Action::View]);
        assert!(small.is_within(&big));
        assert!(!big.is_within(&small));
        assert!(PermissionSet::default().is_within(&small));
        assert!(big.is_within(&PermissionSet::everything()));
    }
}
