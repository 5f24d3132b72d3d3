//! The admin settings screens. Most settings are flat lists edited the same way (lead sources,
//! taxes, items, currencies, staff…), so one data-driven screen serves them all: a [`Resource`]
//! names the API path and describes its fields, and [`ResourcePage`] lists, adds, edits and
//! deletes rows through the JSON API. Working on `serde_json::Value` keeps one copy of the code
//! in the WASM bundle however many resources there are. Single-object settings (company,
//! billing) use [`SettingsForm`] with the same field descriptions.

use std::collections::BTreeMap;

use crmconnect_domain::permissions::{Action, Module};
use leptos::prelude::*;
use leptos_router::components::A;
use serde_json::{json, Map, Value};

use crate::api::{self, ApiFailure};
use crate::app::Session;

/// How a field is edited and sent.
#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Text,
    LongText,
    /// Sent only when filled in (passwords on edit).
    Secret,
    Int,
    /// A decimal sent as a string ("21.00"): money and rates are never floats.
    Decimal,
    Bool,
    Choice(&'static [&'static str]),
    /// Comma-separated in the form, an array of strings in the API.
    List,
    /// The id of a row of another list (`GET path` → items with `id` and `name`).
    Ref(&'static str),
    /// Several ids of another list.
    RefList(&'static str),
    /// `YYYY-MM-DD`, with the browser's date picker.
    Date,
    /// A list of objects (`[{…}]`, e.g. a commission ladder's tiers), one row of these inputs
    /// each, with add and remove buttons; kept in the form as JSON text.
    Rows(&'static [Field]),
    /// A goal's progress (read only): a bar, the percent, achieved of target and the status.
    Progress,
}

/// Where a field appears.
#[derive(Clone, Copy, PartialEq)]
pub enum Mode {
    /// Shown in the table, set on create and edit.
    Both,
    /// Only in the create form (e.g. a staff member's first password).
    CreateOnly,
    /// Only in the edit form.
    EditOnly,
    /// Only shown in the table.
    ReadOnly,
    /// Set on create and edit, not shown in the table.
    Form,
}

/// Whether a field of this mode is in the create (or edit) form.
fn in_form(mode: Mode, editing: bool) -> bool {
    matches!(mode, Mode::Both | Mode::Form) || mode == if editing { Mode::EditOnly } else { Mode::CreateOnly }
}

/// Whether a field is hidden (and not sent) because of the value of another (`when`).
fn hidden(field: &Field, values: &FormValues) -> bool {
    field.when.is_some_and(|(k, allowed)| !allowed.contains(&values.get(k).map_or("", String::as_str)))
}

#[derive(PartialEq)]
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub mode: Mode,
    /// Shown only while the field `.0` holds one of `.1` (what a commission policy's type uses).
    pub when: Option<(&'static str, &'static [&'static str])>,
}

/// A field shown in tables and set on create and edit.
pub const fn field(key: &'static str, label: &'static str, kind: Kind) -> Field {
    Field { key, label, kind, mode: Mode::Both, when: None }
}

pub const fn only(key: &'static str, label: &'static str, kind: Kind, mode: Mode) -> Field {
    Field { key, label, kind, mode, when: None }
}

/// A field of the form shown only while `key` holds one of `values`.
const fn when(key: &'static str, values: &'static [&'static str], field: Field) -> Field {
    Field { when: Some((key, values)), ..field }
}

pub struct Resource {
    pub title: &'static str,
    pub api: &'static str,
    pub fields: &'static [Field],
    pub create: bool,
    pub edit: bool,
    pub delete: bool,
    pub help: &'static str,
}

impl Resource {
    /// The permission module guarding the rows; `None`: the user's own (API tokens).
    fn module(&self) -> Option<Module> {
        match self.api {
            "/api/v1/staff" => Some(Module::Staff),
            "/api/v1/api-tokens" => None,
            api if api.starts_with("/api/v1/commission/") => Some(Module::Commissions),
            "/api/v1/goals" | "/api/v1/teams" => Some(Module::Goals),
            "/api/v1/expenses" => Some(Module::Expenses),
            _ => Some(Module::Settings),
        }
    }
}

const NAME: &[Field] = &[field("name", "Name", Kind::Text)];

pub const LEAD_SOURCES: Resource = Resource {
    title: "Lead sources",
    api: "/api/v1/lead-sources",
    fields: NAME,
    create: true,
    edit: true,
    delete: true,
    help: "Where leads come from; used for filters and ROI reports by channel.",
};

pub const LOST_REASONS: Resource = Resource {
    title: "Lost reasons",
    api: "/api/v1/lost-reasons",
    fields: NAME,
    create: true,
    edit: true,
    delete: true,
    help: "Asked for when a lead is marked lost.",
};

pub const OPPORTUNITY_STATUSES: Resource = Resource {
    title: "Opportunity statuses",
    api: "/api/v1/opportunity-statuses",
    fields: NAME,
    create: true,
    edit: true,
    delete: true,
    help: "The columns of the opportunities board.",
};

pub const CONTRACT_STATUSES: Resource =
    Resource { title: "Contract types", api: "/api/v1/contract-statuses", fields: NAME, create: true, edit: false, delete: false, help: "" };

pub const TAXES: Resource = Resource {
    title: "Taxes",
    api: "/api/v1/taxes",
    fields: &[field("name", "Name", Kind::Text), field("rate", "Rate (%)", Kind::Decimal)],
    create: true,
    edit: true,
    delete: true,
    help: "A tax used on documents cannot be deleted; documents keep the rate they were made with.",
};

pub const ITEMS: Resource = Resource {
    title: "Items",
    api: "/api/v1/items",
    fields: &[
        field("description", "Description", Kind::Text),
        field("long_description", "Long description", Kind::LongText),
        field("unit", "Unit", Kind::Text),
        field("unit_price", "Unit price (base currency)", Kind::Decimal),
        field("purchase_price", "Purchase price", Kind::Decimal),
        field("tax_ids", "Taxes", Kind::RefList("/api/v1/taxes")),
        field("group_name", "Group", Kind::Text),
    ],
    create: true,
    edit: true,
    delete: true,
    help: "The catalogue the proposal and invoice editors pick lines from.",
};

pub const CURRENCIES: Resource = Resource {
    title: "Currencies",
    api: "/api/v1/currencies",
    fields: &[
        field("code", "ISO code", Kind::Text),
        field("symbol", "Symbol", Kind::Text),
        only("decimal_places", "Decimals", Kind::Int, Mode::ReadOnly),
        field("is_base", "Base currency", Kind::Bool),
    ],
    create: true,
    edit: true,
    delete: true,
    help: "Documents may use any currency listed here; item prices and reports are in the base currency.",
};

pub const PAYMENT_MODES: Resource = Resource {
    title: "Payment modes",
    api: "/api/v1/payment-modes",
    fields: &[field("name", "Name", Kind::Text), field("active", "Active", Kind::Bool)],
    create: true,
    edit: true,
    delete: true,
    help: "",
};

pub const CUSTOM_FIELDS: Resource = Resource {
    title: "Custom fields",
    api: "/api/v1/custom-fields",
    fields: &[
        field("entity", "Record", Kind::Choice(&["lead", "client", "proposal", "invoice"])),
        field("label", "Label", Kind::Text),
        field("key", "Key", Kind::Text),
        field("field_type", "Type", Kind::Choice(&["text", "number", "date", "select", "multi_select", "checkbox"])),
        field("options", "Choices (comma-separated)", Kind::List),
        field("required", "Required", Kind::Bool),
    ],
    create: true,
    edit: true,
    delete: true,
    help: "Extra fields on records; filter lists with cf.<key>=value.",
};

pub const EMAIL_TEMPLATES: Resource = Resource {
    title: "E-mail templates",
    api: "/api/v1/email-templates",
    fields: &[
        only("slug", "Template", Kind::Text, Mode::ReadOnly),
        field("name", "Name", Kind::Text),
        field("subject", "Subject", Kind::Text),
        only("body", "Body (HTML)", Kind::LongText, Mode::EditOnly),
        only("merge_fields", "Merge fields", Kind::List, Mode::ReadOnly),
    ],
    create: false,
    edit: true,
    delete: false,
    help: "Merge fields are written {{ field }}.",
};

pub const API_TOKENS: Resource = Resource {
    title: "API tokens",
    api: "/api/v1/api-tokens",
    fields: &[
        field("name", "Name", Kind::Text),
        field("scopes", "Scopes (comma-separated, e.g. leads:view, proposals:*)", Kind::List),
        only("last_used_at", "Last used", Kind::Text, Mode::ReadOnly),
    ],
    create: true,
    edit: false,
    delete: true,
    help: "The token is shown once, when it is created; only its hash is stored.",
};

pub const STAFF: Resource = Resource {
    title: "Staff",
    api: "/api/v1/staff",
    fields: &[
        field("name", "Name", Kind::Text),
        field("email", "E-mail", Kind::Text),
        field("role_id", "Role", Kind::Ref("/api/v1/roles")),
        only("password", "Password", Kind::Secret, Mode::CreateOnly),
        only("password", "New password (leave empty to keep)", Kind::Secret, Mode::EditOnly),
        only("active", "Active", Kind::Bool, Mode::EditOnly),
        only("last_login_at", "Last sign-in", Kind::Text, Mode::ReadOnly),
    ],
    create: true,
    edit: true,
    delete: true,
    help: "Deactivated staff cannot sign in; their records keep pointing at them.",
};

const TIERS: &[Field] = &[field("from", "From", Kind::Decimal), field("to", "To (empty: and above)", Kind::Decimal), field("rate", "Rate (%)", Kind::Decimal)];
const ITEM: Field = field("item_id", "Item", Kind::Ref("/api/v1/items"));

/// `/admin/commission/policies`: the rules' inputs follow the chosen type.
pub const COMMISSION_POLICIES: Resource = Resource {
    title: "Commission policies",
    api: "/api/v1/commission/policies",
    fields: &[
        field("name", "Name", Kind::Text),
        field("type", "Type", Kind::Choice(&["percentage", "ladder", "product", "product_ladder", "margin"])),
        when("type", &["percentage", "product", "product_ladder", "margin"], field("rate", "Rate (%)", Kind::Decimal)),
        when("type", &["ladder"], field("tiers", "Tiers", Kind::Rows(TIERS))),
        when(
            "type",
            &["product"],
            field("product_rates", "Item rates", Kind::Rows(&[ITEM, field("group", "or item group", Kind::Text), field("rate", "Rate (%)", Kind::Decimal)])),
        ),
        when("type", &["product_ladder"], field("product_tiers", "Item ladders", Kind::Rows(&[ITEM, field("tiers", "Tiers", Kind::Rows(TIERS))]))),
        only("staff_ids", "Who earns", Kind::RefList("/api/v1/staff"), Mode::ReadOnly),
    ],
    create: true,
    edit: true,
    delete: true,
    help: "Percentage: of the invoice's net value. Ladder: marginal, like tax brackets — tiers start at 0 and each where the previous ends; an empty \"to\" means and above. Product: an item's rate wins over its group's; the rate covers other lines. Margin: of net minus purchase price. Each payment earns its share.",
};

/// `/admin/commission/applicable_staff`: who earns under which policy.
pub const COMMISSION_STAFF: Resource = Resource {
    title: "Who earns commissions",
    api: "/api/v1/commission/applicable-staff",
    fields: &[field("staff_id", "Staff member", Kind::Ref("/api/v1/staff")), field("policy_id", "Policy", Kind::Ref("/api/v1/commission/policies"))],
    create: true,
    edit: false,
    delete: true,
    help: "One policy per staff member. An invoice's sale agent earns on each of its payments.",
};

/// `/admin/goals`: targets for the company, a staff member or a team, with their progress.
pub const GOALS: Resource = Resource {
    title: "Goals",
    api: "/api/v1/goals",
    fields: &[
        field("subject", "Subject", Kind::Text),
        field("goal_type", "Goal type", Kind::Choice(&["income", "total_invoices", "contract_value", "converted_leads", "new_clients", "accepted_proposals"])),
        only("target", "Target", Kind::Decimal, Mode::Form),
        when("goal_type", &["income", "total_invoices", "contract_value"], only("currency", "Currency", Kind::Text, Mode::Form)),
        field("start_date", "From", Kind::Date),
        field("end_date", "To", Kind::Date),
        field("target_type", "For", Kind::Choice(&["all", "staff", "team"])),
        when("target_type", &["staff"], field("staff_id", "Staff member", Kind::Ref("/api/v1/staff"))),
        when("target_type", &["team"], field("team_id", "Team", Kind::Ref("/api/v1/teams"))),
        only("notify_when_achieved", "Notify when achieved", Kind::Bool, Mode::Form),
        only("notify_when_missed", "Notify when missed", Kind::Bool, Mode::Form),
        only("progress_percent", "Progress", Kind::Progress, Mode::ReadOnly),
    ],
    create: true,
    edit: true,
    delete: true,
    help: "Income counts payments received, total_invoices invoices issued, contract_value contracts signed; the others count records. Money goals are in one currency. For: the company (all), a staff member or a team.",
};

/// `/admin/teams`: who a team goal counts.
pub const TEAMS: Resource = Resource {
    title: "Teams",
    api: "/api/v1/teams",
    fields: &[field("name", "Name", Kind::Text), field("member_ids", "Members", Kind::RefList("/api/v1/staff"))],
    create: true,
    edit: true,
    delete: true,
    help: "A team goal counts its members' results.",
};

/// `/admin/expenses`: money spent, with its taxes and total.
pub const EXPENSES: Resource = Resource {
    title: "Expenses",
    api: "/api/v1/expenses",
    fields: &[
        field("date", "Date", Kind::Date),
        field("category_id", "Category", Kind::Ref("/api/v1/expense-categories")),
        field("amount", "Amount (before tax)", Kind::Decimal),
        field("currency", "Currency", Kind::Text),
        field("tax_ids", "Taxes", Kind::RefList("/api/v1/taxes")),
        only("total", "Total", Kind::Text, Mode::ReadOnly),
        field("client_id", "Client", Kind::Ref("/api/v1/clients")),
        field("reference", "Reference", Kind::Text),
        field("note", "Note", Kind::LongText),
    ],
    create: true,
    edit: true,
    delete: true,
    help: "The date defaults to today. Categories: Settings → Expense categories.",
};

pub const EXPENSE_CATEGORIES: Resource = Resource {
    title: "Expense categories",
    api: "/api/v1/expense-categories",
    fields: NAME,
    create: true,
    edit: true,
    delete: true,
    help: "A category in use is not deleted.",
};

/// A goal's progress: a bar (full from 100 % on), the percent, achieved of target (with the
/// currency of a money goal) and the status.
pub fn progress(goal: &Value) -> AnyView {
    let t = |k| text_of(goal.get(k));
    let (percent, status) = (t("progress_percent"), t("status"));
    let of = format!("{} / {} {}", t("achieved"), t("target"), t("currency"));
    view! {
        <span class="goal">
            <progress max="100" value=percent.clone()></progress>
            {format!(" {percent} % · {}", of.trim_end())}
            <span class=format!("badge {status}")>{status.replace('_', " ")}</span>
        </span>
    }
    .into_any()
}

pub const COMPANY: &[Field] = &[
    field("company_name", "Company name", Kind::Text),
    field("company_address", "Address", Kind::LongText),
    field("company_vat_number", "VAT number (CUI)", Kind::Text),
    field("company_registration_number", "Registration number", Kind::Text),
    field("company_email", "E-mail", Kind::Text),
    field("proposal_number_prefix", "Proposal number prefix", Kind::Text),
    field("proposal_number_padding", "Proposal number padding", Kind::Int),
    field("proposal_open_till_days", "Proposals open for (days)", Kind::Int),
    field("estimate_auto_convert_to_invoice_on_client_accept", "Convert to invoice on client acceptance (1 = yes)", Kind::Int),
    field("commission_calculate_after_days", "Commissions show this many days after the payment", Kind::Int),
];

pub const BILLING: &[Field] = &[
    field("series", "Series", Kind::Text),
    field("prefix", "Prefix", Kind::Text),
    field("format", "Number format", Kind::Choice(&["number", "year_number"])),
    field("padding", "Padding (digits)", Kind::Int),
    field("next_number", "Next number", Kind::Int),
    field("default_due_days", "Due after (days)", Kind::Int),
    field("overdue_reminder_after_days", "First overdue reminder after (days)", Kind::Int),
    field("overdue_reminder_every_days", "Repeat reminders every (days)", Kind::Int),
    field("payment_instructions", "Payment instructions", Kind::LongText),
];

/// The settings index: every screen an admin configures, with the URLs users know.
pub const SCREENS: &[(&str, &str)] = &[
    ("/admin/leads/pipelines", "Pipelines and lead statuses"),
    ("/admin/leads/sources", "Lead sources"),
    ("/admin/leads/lost_reasons", "Lost reasons"),
    ("/admin/opportunities/statuses", "Opportunity statuses"),
    ("/admin/custom_fields", "Custom fields"),
    ("/admin/taxes", "Taxes"),
    ("/admin/invoice_items", "Items"),
    ("/admin/currencies", "Currencies"),
    ("/admin/paymentmodes", "Payment modes"),
    ("/admin/billing/config", "Billing: invoice numbering, due dates, reminders"),
    ("/admin/contracts/types", "Contract types"),
    ("/admin/emails", "E-mail templates"),
    ("/admin/staff", "Staff"),
    ("/admin/roles", "Roles and permissions"),
    ("/admin/api_tokens", "API tokens"),
    ("/admin/expenses/categories", "Expense categories"),
];

/// The resource screen for a settings URL, if it is one.
pub fn resource_for(path: &str) -> Option<&'static Resource> {
    Some(match path {
        "/admin/leads/sources" => &LEAD_SOURCES,
        "/admin/leads/lost_reasons" => &LOST_REASONS,
        "/admin/opportunities/statuses" => &OPPORTUNITY_STATUSES,
        "/admin/contracts/types" => &CONTRACT_STATUSES,
        "/admin/custom_fields" => &CUSTOM_FIELDS,
        "/admin/taxes" => &TAXES,
        "/admin/invoice_items" => &ITEMS,
        "/admin/currencies" => &CURRENCIES,
        "/admin/paymentmodes" => &PAYMENT_MODES,
        "/admin/emails" => &EMAIL_TEMPLATES,
        "/admin/api_tokens" => &API_TOKENS,
        "/admin/staff" => &STAFF,
        "/admin/commission/policies" => &COMMISSION_POLICIES,
        "/admin/commission/applicable_staff" => &COMMISSION_STAFF,
        "/admin/goals" => &GOALS,
        "/admin/teams" => &TEAMS,
        "/admin/expenses" => &EXPENSES,
        "/admin/expenses/categories" => &EXPENSE_CATEGORIES,
        _ => return None,
    })
}

/// Form state: the text of every input, by field key.
type FormValues = BTreeMap<&'static str, String>;

/// A list endpoint's rows: a page's `items` or a bare array.
pub fn rows(v: &Value) -> Vec<Value> {
    v.get("items").unwrap_or(v).as_array().cloned().unwrap_or_default()
}

pub fn text_of(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a.iter().map(|x| text_of(Some(x))).collect::<Vec<_>>().join(", "),
        Some(other) => other.to_string(),
    }
}

fn values_of(fields: &[Field], row: Option<&Value>, editing: bool) -> FormValues {
    fields
        .iter()
        .filter(|f| in_form(f.mode, editing))
        .map(|f| {
            let current = row.and_then(|r| r.get(f.key));
            let text = match (f.kind, current) {
                (Kind::Secret, _) => String::new(),
                (Kind::Bool, None) => "true".into(),
                (Kind::Choice(options), None) => options[0].to_string(),
                (Kind::Rows(_), _) => current.filter(|v| v.is_array()).map_or_else(|| "[]".into(), Value::to_string),
                _ => text_of(current),
            };
            (f.key, text)
        })
        .collect()
}

/// Turns the form into the JSON body. On create empty inputs are left out; on edit they
/// clear the field (`null`), except secrets, which are only sent when typed. Errors name the
/// field after `at` (`tiers.1.` inside rows), as the server does.
fn body_of(fields: &[Field], values: &FormValues, editing: bool, at: &str) -> Result<Value, ApiFailure> {
    let mut body = Map::new();
    for field in fields {
        let Some(text) = values.get(field.key) else { continue };
        if !in_form(field.mode, editing) {
            continue;
        }
        // A hidden input counts as empty: left out on create, cleared on edit.
        let text = if hidden(field, values) { "" } else { text.trim() };
        let value = match field.kind {
            Kind::Bool => Value::Bool(text == "true"),
            Kind::List => Value::Array(text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| json!(s)).collect()),
            Kind::RefList(_) => Value::Array(text.split(',').filter_map(|s| s.trim().parse::<i64>().ok()).map(|n| json!(n)).collect()),
            // Each row is a small form of its own: its empty inputs are left out.
            Kind::Rows(sub) => {
                let rows = serde_json::from_str::<Value>(text).unwrap_or_default();
                let mut out = Vec::new();
                for (i, row) in rows.as_array().into_iter().flatten().enumerate() {
                    let mut cells = FormValues::new();
                    for f in sub {
                        let text = if matches!(f.kind, Kind::Rows(_)) {
                            row.get(f.key).map_or_else(|| "[]".into(), Value::to_string)
                        } else {
                            text_of(row.get(f.key))
                        };
                        cells.insert(f.key, text);
                    }
                    out.push(body_of(sub, &cells, false, &format!("{at}{}.{i}.", field.key))?);
                }
                Value::Array(out)
            }
            _ if text.is_empty() => {
                if editing && field.kind != Kind::Secret {
                    body.insert(field.key.into(), Value::Null);
                }
                continue;
            }
            Kind::Int | Kind::Ref(_) => match text.parse::<i64>() {
                Ok(n) => json!(n),
                Err(_) => return Err(ApiFailure::invalid(&format!("{at}{}", field.key), format!("{} must be a whole number.", field.label))),
            },
            Kind::Decimal => match text.replace(',', ".").parse::<rust_decimal::Decimal>() {
                Ok(d) => json!(d.to_string()),
                Err(_) => return Err(ApiFailure::invalid(&format!("{at}{}", field.key), format!("{} must be a number such as 19.50.", field.label))),
            },
            _ => json!(text),
        };
        body.insert(field.key.into(), value);
    }
    Ok(Value::Object(body))
}

/// Whether the signed-in user may list staff (assignee pickers).
pub fn staff_visible() -> bool {
    let session = expect_context::<Session>();
    session.can(Module::Staff, Action::View) || session.can(Module::Staff, Action::ViewOwn)
}

/// Options of `Ref`/`RefList` fields, loaded once per screen: path → [(id, name)].
type RefOptions = BTreeMap<&'static str, Vec<(i64, String)>>;

fn ref_paths(fields: &[Field]) -> Vec<&'static str> {
    let mut paths = Vec::new();
    for f in fields {
        let found = match f.kind {
            Kind::Ref(p) | Kind::RefList(p) => vec![p],
            Kind::Rows(sub) => ref_paths(sub),
            _ => continue,
        };
        for p in found {
            if !paths.contains(&p) {
                paths.push(p);
            }
        }
    }
    paths
}

/// The lookups of a form. The staff list is only asked for by roles that may see staff: the
/// others keep the current value (shown by id) instead of a refused call on every form.
async fn load_refs(paths: Vec<&'static str>, staff_visible: bool) -> RefOptions {
    let mut out = RefOptions::new();
    for path in paths.into_iter().filter(|p| staff_visible || *p != "/api/v1/staff") {
        let list = api::get::<Value>(&format!("{path}?limit=500")).await.map(|v| rows(&v)).unwrap_or_default();
        let label = |r: &Value| {
            ["name", "company", "code", "description"].iter().find_map(|k| r.get(*k).filter(|v| !v.is_null())).map(|v| text_of(Some(v))).unwrap_or_default()
        };
        let options = list.iter().filter_map(|r| Some((r.get("id")?.as_i64()?, label(r)))).collect();
        out.insert(path, options);
    }
    out
}

fn cell(field: &Field, row: &Value, refs: &RefOptions) -> String {
    let v = row.get(field.key);
    match field.kind {
        Kind::Bool => if v.and_then(Value::as_bool).unwrap_or(false) { "Yes" } else { "No" }.into(),
        Kind::Ref(path) => {
            let id = v.and_then(Value::as_i64);
            refs.get(path).and_then(|o| o.iter().find(|(i, _)| Some(*i) == id)).map(|(_, n)| n.clone()).unwrap_or_else(|| text_of(v))
        }
        Kind::RefList(path) => {
            let ids: Vec<i64> = v.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_i64).collect()).unwrap_or_default();
            let names = refs.get(path).map(|o| o.iter().filter(|(i, _)| ids.contains(i)).map(|(_, n)| n.clone()).collect::<Vec<_>>());
            names.map(|n| n.join(", ")).unwrap_or_default()
        }
        Kind::LongText => {
            let t = text_of(v);
            if t.chars().count() > 60 {
                format!("{}…", t.chars().take(60).collect::<String>())
            } else {
                t
            }
        }
        _ => text_of(v),
    }
}

#[component]
pub fn SettingsIndex() -> impl IntoView {
    let session = expect_context::<Session>();
    view! {
        <h1>"Settings"</h1>
        <div class="two-col">
            <section class="card">
                <h2>"Configure"</h2>
                <ul class="plain" id="settings-index">
                    {SCREENS.iter().map(|(href, label)| view! { <li><A href=*href>{*label}</A></li> }).collect_view()}
                    {move || crate::pages::layout::audit_log_visible(session).then(|| view! { <li><A href="/admin/utilities/activity_log">"Activity log"</A></li> })}
                </ul>
            </section>
            <section class="card">
                <h2>"Company"</h2>
                <SettingsForm api="/api/v1/settings" fields=COMPANY/>
            </section>
        </div>
    }
}

#[component]
pub fn BillingConfigPage() -> impl IntoView {
    view! {
        <h1>"Billing configuration"</h1>
        <p class="muted">"Each series counts on its own; the next number is used by the next invoice issued."</p>
        <section class="card"><SettingsForm api="/api/v1/billing/config" fields=BILLING/></section>
    }
}

/// One settings object (`GET api` → form → `PATCH api`).
#[component]
pub fn SettingsForm(api: &'static str, fields: &'static [Field]) -> impl IntoView {
    let session = expect_context::<Session>();
    let values = RwSignal::new(FormValues::new());
    let error = RwSignal::new(None::<ApiFailure>);
    let saved = RwSignal::new(false);
    let loaded = RwSignal::new(None::<Result<(), ApiFailure>>);
    leptos::task::spawn_local(async move {
        let current = api::get::<Value>(api).await.map(|current| {
            values.try_set(values_of(fields, Some(&current), true));
        });
        loaded.try_set(Some(current));
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let body = match body_of(fields, &values.get_untracked(), true, "") {
            Ok(b) => b,
            Err(e) => return error.set(Some(e)),
        };
        leptos::task::spawn_local(async move {
            match api::patch::<_, Value>(api, &body).await {
                Ok(v) => {
                    values.set(values_of(fields, Some(&v), true));
                    error.set(None);
                    saved.set(true);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        {move || match loaded.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <div class="alert" role="alert">{e.summary()}</div> }.into_any(),
            Some(Ok(())) => view! {
                <form class="settings-form" on:submit=submit>
                    <Inputs fields=fields values=values error=error refs=RwSignal::new(RefOptions::new()) editing=true/>
                    <div class="actions">
                        {if session.can(Module::Settings, Action::Edit) {
                            view! { <button type="submit">"Save"</button> }.into_any()
                        } else {
                            crate::app::denied("Save", "Your role cannot change settings.")
                        }}
                        {move || saved.get().then(|| view! { <span class="muted" role="status">"Saved."</span> })}
                    </div>
                </form>
            }.into_any(),
        }}
    }
}

/// A form's error. A save refused because someone else changed the record since it was opened
/// (412) comes with a Reload button when the screen can load the record again.
pub fn form_alert(e: ApiFailure, reload: Option<Callback<()>>) -> AnyView {
    let reload = reload.filter(|_| e.stale());
    view! {
        <div class="alert" role="alert">
            {e.summary()}
            {reload.map(|r| view! { " " <button type="button" class="link" id="reload-record" on:click=move |_| r.run(())>"Reload"</button> })}
        </div>
    }
    .into_any()
}

/// Edits one record in place (`PATCH api`), or with `create` makes one (`POST api`): the form
/// starts from `initial` and hands the saved record to `on_saved`. With `version` the save is
/// conditional (`If-Match`); when the record changed meanwhile, `on_reload` loads it again.
#[component]
pub fn EditForm(
    api: String,
    fields: &'static [Field],
    initial: Value,
    on_saved: Callback<Value>,
    on_cancel: Callback<()>,
    #[prop(optional)] create: bool,
    #[prop(optional)] version: Option<api::Version>,
    #[prop(optional)] on_reload: Option<Callback<()>>,
) -> impl IntoView {
    let editing = !create;
    let values = RwSignal::new(values_of(fields, Some(&initial), editing));
    let error = RwSignal::new(None::<ApiFailure>);
    let refs = RwSignal::new(RefOptions::new());
    let staff_visible = staff_visible();
    leptos::task::spawn_local(async move { refs.set(load_refs(ref_paths(fields), staff_visible).await) });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = match body_of(fields, &values.get_untracked(), editing, "") {
            Ok(b) => b,
            Err(e) => return error.set(Some(e)),
        };
        let path = api.clone();
        leptos::task::spawn_local(async move {
            let saved = match version {
                _ if !editing => api::post::<_, Value>(&path, &body).await,
                Some(v) => api::patch_versioned::<_, Value>(&path, &body, v).await,
                None => api::patch::<_, Value>(&path, &body).await,
            };
            match saved {
                Ok(v) => on_saved.run(v),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <form class="settings-form" id="edit-form" on:submit=submit>
            <Inputs fields=fields values=values error=error refs=refs editing=editing on_reload=on_reload/>
            <div class="actions">
                <button type="submit" id="edit-save">"Save"</button>
                <button type="button" class="secondary" on:click=move |_| on_cancel.run(())>"Cancel"</button>
            </div>
        </form>
    }
}

/// The inputs of a form, with labels and the server's field errors beside them.
#[component]
fn Inputs(
    fields: &'static [Field],
    values: RwSignal<FormValues>,
    error: RwSignal<Option<ApiFailure>>,
    refs: RwSignal<RefOptions>,
    editing: bool,
    #[prop(optional_no_strip)] on_reload: Option<Callback<()>>,
) -> impl IntoView {
    let shown = fields.iter().filter(move |f| in_form(f.mode, editing));
    view! {
        <div class="form-grid">
            {move || error.get().filter(|e| e.problem.as_ref().is_none_or(|p| p.errors.is_empty())).map(|e| form_alert(e, on_reload))}
            {shown.map(|field| {
                let key = field.key;
                let id = format!("field-{key}");
                // Hidden, not removed: the other inputs keep their focus while the type changes.
                let hide = move || values.with(|v| hidden(field, v));
                view! {
                    <label for=id.clone() prop:hidden=hide>{field.label}</label>
                    <div prop:hidden=hide>
                        {input(field.kind, id, values, key, None, error, refs)}
                        {move || error.get().and_then(|e| e.field(key)).map(|m| view! { <div class="field-error" role="alert">{m}</div> })}
                    </div>
                }
            }).collect_view()}
        </div>
    }
}

/// Changes the JSON text of a `Rows` field in place.
fn edit_rows(values: RwSignal<FormValues>, key: &'static str, change: &mut dyn FnMut(&mut Value)) {
    values.update(|v| {
        let mut doc = v.get(key).and_then(|t| serde_json::from_str(t).ok()).unwrap_or_else(|| json!([]));
        change(&mut doc);
        v.insert(key, doc.to_string());
    });
}

/// One input: of the form field `key`, or with `at` (a JSON pointer such as `/1/from`) of a
/// cell of that `Rows` field.
fn input(
    kind: Kind,
    id: String,
    values: RwSignal<FormValues>,
    key: &'static str,
    at: Option<String>,
    error: RwSignal<Option<ApiFailure>>,
    refs: RwSignal<RefOptions>,
) -> AnyView {
    if let Kind::Rows(sub) = kind {
        return rows_input(sub, values, key, at.unwrap_or_default(), error, refs);
    }
    let ptr = at.clone();
    let get = move || {
        values.with(|v| {
            let text = v.get(key).map_or("", String::as_str);
            match &ptr {
                None => text.to_string(),
                Some(p) => text_of(serde_json::from_str::<Value>(text).ok().as_ref().and_then(|d| d.pointer(p))),
            }
        })
    };
    let set = move |text: String| match &at {
        None => values.update(|v| {
            v.insert(key, text);
        }),
        Some(p) => {
            let (row, cell) = p.rsplit_once('/').unwrap_or_default();
            edit_rows(values, key, &mut |d| {
                if let Some(o) = d.pointer_mut(row).and_then(Value::as_object_mut) {
                    o.insert(cell.into(), json!(text));
                }
            });
        }
    };
    match kind {
        Kind::LongText => view! { <textarea id=id rows="4" prop:value=get on:input=move |ev| set(event_target_value(&ev))></textarea> }.into_any(),
        Kind::Bool => view! {
            <input id=id type="checkbox" prop:checked=move || get() == "true" on:change=move |ev| set(event_target_checked(&ev).to_string())/>
        }.into_any(),
        Kind::Choice(options) => view! {
            <select id=id prop:value=get on:change=move |ev| set(event_target_value(&ev))>
                {options.iter().map(|o| view! { <option value=*o>{*o}</option> }).collect_view()}
            </select>
        }.into_any(),
        Kind::Ref(path) => {
            let current = get.clone();
            view! {
                <select id=id prop:value=current on:change=move |ev| set(event_target_value(&ev))>
                    <option value="">"—"</option>
                    {move || refs.with(|r| r.get(path).cloned().unwrap_or_default()).into_iter().map(|(i, n)| view! { <option value=i.to_string() selected=get() == i.to_string()>{n}</option> }).collect_view()}
                </select>
            }.into_any()
        }
        Kind::RefList(path) => view! {
            <span id=id class="checks">
                {move || refs.with(|r| r.get(path).cloned().unwrap_or_default()).into_iter().map(|(i, n)| {
                    let (get, set) = (get.clone(), set.clone());
                    let on = get().split(',').any(|s| s.trim() == i.to_string());
                    view! {
                        <label class="check"><input type="checkbox" prop:checked=on on:change=move |ev| {
                            let mut ids: Vec<String> = get().split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty() && *s != i.to_string()).collect();
                            if event_target_checked(&ev) { ids.push(i.to_string()); }
                            set(ids.join(","));
                        }/>{n}</label>
                    }
                }).collect_view()}
            </span>
        }.into_any(),
        kind => {
            let input_type = match kind {
                Kind::Secret => "password",
                Kind::Date => "date",
                _ => "text",
            };
            let mode = match kind {
                Kind::Int => "numeric",
                Kind::Decimal => "decimal",
                _ => "text",
            };
            view! { <input id=id type=input_type inputmode=mode prop:value=get on:input=move |ev| set(event_target_value(&ev))/> }.into_any()
        }
    }
}

/// The rows of a `Rows` field (the array at `at` in its JSON): a table of inputs, a remove
/// button per row and an add button. The table is drawn again only when the number of rows
/// changes, so typing keeps the focus. Errors show by the cell the server names (`tiers.1.from`).
fn rows_input(
    sub: &'static [Field],
    values: RwSignal<FormValues>,
    key: &'static str,
    at: String,
    error: RwSignal<Option<ApiFailure>>,
    refs: RwSignal<RefOptions>,
) -> AnyView {
    let name = format!("{key}{}", at.replace('/', "."));
    let array = at.clone();
    let count = Memo::new(move |_| {
        values.with(|v| {
            serde_json::from_str::<Value>(v.get(key).map_or("", String::as_str)).ok().and_then(|d| d.pointer(&array)?.as_array().map(Vec::len)).unwrap_or(0)
        })
    });
    let (add_at, list_at) = (at.clone(), at);
    let add = move |_| {
        edit_rows(values, key, &mut |d| match d.pointer_mut(&add_at) {
            Some(Value::Array(rows)) => rows.push(json!({})),
            // A row's own list that is not there yet (an item ladder's first tier).
            _ => {
                let (row, cell) = add_at.rsplit_once('/').unwrap_or_default();
                if let Some(o) = d.pointer_mut(row).and_then(Value::as_object_mut) {
                    o.insert(cell.into(), json!([{}]));
                }
            }
        })
    };
    let (table, add_id) = (format!("rows-{name}"), format!("add-{name}"));
    view! {
        <table class="rows" id=table>
            <thead><tr>{sub.iter().map(|f| view! { <th>{f.label}</th> }).collect_view()}<th></th></tr></thead>
            <tbody>
                {move || (0..count.get()).map(|i| {
                    let cells = sub.iter().map(|f| {
                        let cell = format!("{name}.{i}.{}", f.key);
                        let input = input(f.kind, format!("field-{cell}"), values, key, Some(format!("{list_at}/{i}/{}", f.key)), error, refs);
                        view! { <td>{input}{move || error.get().and_then(|e| e.field(&cell)).map(|m| view! { <div class="field-error" role="alert">{m}</div> })}</td> }
                    }).collect_view();
                    let at = list_at.clone();
                    view! {
                        <tr>
                            {cells}
                            <td><button type="button" class="link" on:click=move |_| edit_rows(values, key, &mut |d| {
                                if let Some(rows) = d.pointer_mut(&at).and_then(Value::as_array_mut) {
                                    rows.remove(i);
                                }
                            })>"Remove"</button></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <button type="button" class="secondary small" id=add_id on:click=add>"+ Row"</button>
    }
    .into_any()
}

/// A list of one resource with add, edit and delete.
#[component]
pub fn ResourcePage(resource: &'static Resource) -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let list = api::load::<Value>(move || {
        reload.get();
        format!("{}?limit=500", resource.api)
    });
    let refs = RwSignal::new(RefOptions::new());
    let staff_visible = staff_visible();
    leptos::task::spawn_local(async move { refs.set(load_refs(ref_paths(resource.fields), staff_visible).await) });
    let session = expect_context::<Session>();
    let may = move |action: Action| resource.module().is_none_or(|m| session.can(m, action));
    // `None`: the add form; `Some(id)`: editing that row.
    let editing = RwSignal::new(None::<i64>);
    let values = RwSignal::new(values_of(resource.fields, None, false));
    let error = RwSignal::new(None::<ApiFailure>);
    let created_secret = RwSignal::new(None::<String>);
    let form_open = RwSignal::new(false);

    let reset = move || {
        editing.set(None);
        values.set(values_of(resource.fields, None, false));
        error.set(None);
        form_open.set(false);
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let row_id = editing.get_untracked();
        let body = match body_of(resource.fields, &values.get_untracked(), row_id.is_some(), "") {
            Ok(b) => b,
            Err(e) => return error.set(Some(e)),
        };
        leptos::task::spawn_local(async move {
            let result = match row_id {
                Some(id) => api::patch::<_, Value>(&format!("{}/{id}", resource.api), &body).await,
                None => api::post::<_, Value>(resource.api, &body).await,
            };
            match result {
                Ok(v) => {
                    created_secret.set(v.get("token").and_then(Value::as_str).map(str::to_string));
                    reset();
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let remove = move |id: i64| {
        let confirmed = web_sys::window().and_then(|w| w.confirm_with_message("Delete this row?").ok()).unwrap_or(false);
        if !confirmed {
            return;
        }
        leptos::task::spawn_local(async move {
            match api::delete(&format!("{}/{id}", resource.api)).await {
                Ok(()) => {
                    error.set(None);
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let table_fields: Vec<&'static Field> =
        resource.fields.iter().filter(|f| matches!(f.mode, Mode::Both | Mode::ReadOnly) && !matches!(f.kind, Kind::LongText | Kind::Rows(_))).collect();

    view! {
        <div class="board-header">
            <h1>{resource.title}</h1>
            {(resource.create && may(Action::Create)).then(|| view! { <button id="add-row" on:click=move |_| { reset(); form_open.set(true); }>"+ Add"</button> })}
        </div>
        {(!resource.help.is_empty()).then(|| view! { <p class="muted">{resource.help}</p> })}
        {move || created_secret.get().map(|t| view! {
            <div class="notice" role="status">"Copy this token now, it is not shown again: " <code id="new-token">{t}</code></div>
        })}
        {move || (form_open.get() && editing.get().is_none()).then(|| view! {
            <section class="card">
                <h2>"New"</h2>
                <form class="settings-form" id="row-form" on:submit=submit>
                    <Inputs fields=resource.fields values=values error=error refs=refs editing=false/>
                    <div class="actions"><button type="submit" id="save-row">"Save"</button><button type="button" class="secondary" on:click=move |_| reset()>"Cancel"</button></div>
                </form>
            </section>
        })}
        {move || (!form_open.get()).then(|| error.get().map(|e| view! { <div class="alert" role="alert">{e.summary()}</div> })).flatten()}
        {move || match list.get().map(|r| r.map(|v| rows(&v))) {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <div class="alert" role="alert">{e.summary()}</div> }.into_any(),
            Some(Ok(items)) if items.is_empty() => view! { <p class="muted">"Nothing here yet."</p> }.into_any(),
            Some(Ok(items)) => {
                let table_fields = table_fields.clone();
                let refs_now = refs.get();
                view! {
                    <table class="grid" id="settings-table">
                        <thead><tr>
                            {table_fields.iter().map(|f| view! { <th>{f.label}</th> }).collect_view()}
                            <th></th>
                        </tr></thead>
                        <tbody>
                            {items.into_iter().map(|row| {
                                let id = row.get("id").and_then(Value::as_i64).unwrap_or_default();
                                let cells = table_fields
                                    .iter()
                                    .map(|f| view! { <td>{if f.kind == Kind::Progress { progress(&row) } else { cell(f, &row, &refs_now).into_any() }}</td> })
                                    .collect_view();
                                let row_for_edit = row.clone();
                                view! {
                                    <tr data-id=id>
                                        {cells}
                                        <td class="actions">
                                            {(resource.edit && may(Action::Edit)).then(|| view! { <button class="link" on:click=move |_| {
                                                values.set(values_of(resource.fields, Some(&row_for_edit), true));
                                                error.set(None);
                                                editing.set(Some(id));
                                                form_open.set(true);
                                            }>"Edit"</button> })}
                                            {(resource.delete && may(Action::Delete)).then(|| view! { <button class="link" on:click=move |_| remove(id)>"Delete"</button> })}
                                        </td>
                                    </tr>
                                    {move || (editing.get() == Some(id)).then(|| view! {
                                        <tr class="edit-row"><td colspan="99">
                                            <form class="settings-form" id="row-form" on:submit=submit>
                                                <Inputs fields=resource.fields values=values error=error refs=refs editing=true/>
                                                <div class="actions"><button type="submit" id="save-row">"Save"</button><button type="button" class="secondary" on:click=move |_| reset()>"Cancel"</button></div>
                                            </form>
                                        </td></tr>
                                    })}
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }
        }}
    }
}
