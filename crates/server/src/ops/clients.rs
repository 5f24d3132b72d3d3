//! Clients: the queries and business operations below the HTTP handlers.

use crmconnect_domain::api::{Client, ClientInput, Contact, ContactInput};
use crmconnect_domain::leads::parse_phone;
use crmconnect_domain::money::Currency;
use crmconnect_domain::permissions::{Module, ViewScope};
use crmconnect_domain::validation::{parse_name, EmailAddress, Validator};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use time::OffsetDateTime;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::custom_fields;
use crate::db::Read;
use crate::entities::{client, client_contact, lead, staff};
use crate::error::{Error, Result};
use crate::ops::leads::load_api as load_lead;
use crate::outbox;

pub const DEFAULT_CURRENCY: &str = "RON";
pub const DEFAULT_PAYMENT_TERMS_DAYS: i32 = 30;

pub fn contact_to_api(c: &client_contact::Model) -> Contact {
    Contact {
        id: c.id,
        client_id: c.client_id,
        name: c.name.clone(),
        email: c.email.clone(),
        phone: c.phone.clone(),
        title: c.title.clone(),
        is_primary: c.is_primary,
    }
}

/// The client's primary contact (else its first), for what a document or an opportunity
/// copies from the client: name, e-mail, phone.
pub async fn primary_contact(db: &impl ConnectionTrait, client_id: i32) -> Result<Option<client_contact::Model>> {
    Ok(client_contact::Entity::find()
        .filter(client_contact::Column::ClientId.eq(client_id))
        .order_by_desc(client_contact::Column::IsPrimary)
        .order_by_asc(client_contact::Column::Id)
        .one(db)
        .await?)
}

pub async fn contacts_of(db: &impl ConnectionTrait, client_id: i32) -> Result<Vec<client_contact::Model>> {
    contacts_where(db, client_id, Condition::all()).await
}

/// A client's contacts that also meet `changed` (the list's `updated_since` / `created_since`).
pub async fn contacts_where(db: &impl ConnectionTrait, client_id: i32, changed: Condition) -> Result<Vec<client_contact::Model>> {
    Ok(client_contact::Entity::find()
        .filter(client_contact::Column::ClientId.eq(client_id))
        .filter(changed)
        .order_by_desc(client_contact::Column::IsPrimary)
        .order_by_asc(client_contact::Column::Id)
        .all(db)
        .await?)
}

pub fn to_api(c: &client::Model, contacts: &[client_contact::Model]) -> Client {
    Client {
        id: c.id,
        company: c.company.clone(),
        vat_number: c.vat_number.clone(),
        registration_number: c.registration_number.clone(),
        address: c.address.clone(),
        city: c.city.clone(),
        county: c.county.clone(),
        country: c.country.clone(),
        zip: c.zip.clone(),
        phone: c.phone.clone(),
        website: c.website.clone(),
        currency: c.currency.clone(),
        payment_terms_days: c.payment_terms_days,
        assigned_to: c.assigned_to,
        lead_id: c.lead_id,
        contacts: contacts.iter().map(contact_to_api).collect(),
        custom_fields: serde_json::Map::new(),
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

pub async fn load_api(db: &impl ConnectionTrait, c: &client::Model) -> Result<Client> {
    Ok(load_many(db, std::slice::from_ref(c)).await?.remove(0))
}

/// API clients for many rows: contacts and custom fields each loaded in one query.
pub async fn load_many(db: &impl ConnectionTrait, rows: &[client::Model]) -> Result<Vec<Client>> {
    let ids: Vec<i32> = rows.iter().map(|c| c.id).collect();
    let mut contacts: std::collections::HashMap<i32, Vec<client_contact::Model>> = std::collections::HashMap::new();
    if !ids.is_empty() {
        let all = client_contact::Entity::find()
            .filter(client_contact::Column::ClientId.is_in(ids.clone()))
            .order_by_desc(client_contact::Column::IsPrimary)
            .order_by_asc(client_contact::Column::Id)
            .all(db)
            .await?;
        for c in all {
            contacts.entry(c.client_id).or_default().push(c);
        }
    }
    let mut custom = custom_fields::values_of(db, custom_fields::CLIENT, &ids).await?;
    Ok(rows
        .iter()
        .map(|c| {
            let mut api = to_api(c, contacts.get(&c.id).map(Vec::as_slice).unwrap_or(&[]));
            api.custom_fields = custom.remove(&c.id).unwrap_or_default();
            api
        })
        .collect())
}

pub async fn find_visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<client::Model> {
    visible(db, user, id, Read::Plain).await
}

/// [`find_visible`], locking the row until the transaction ends (write paths use this).
pub async fn lock_visible(txn: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<client::Model> {
    visible(txn, user, id, Read::ForUpdate).await
}

pub async fn visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32, read: Read) -> Result<client::Model> {
    let scope = user.view_scope(Module::Clients)?;
    let c = read.apply(client::Entity::find_by_id(id)).one(db).await?.ok_or_else(|| Error::not_found("client"))?;
    if matches!(scope, ViewScope::Own(me) if c.assigned_to != Some(me)) {
        return Err(Error::not_found("client"));
    }
    Ok(c)
}

/// `Some("")` clears, `Some(x)` sets (trimmed, bounded), `None` leaves as is.
pub fn text_patch(v: &mut Validator, field: &str, value: &Option<String>, max: usize) -> Option<Option<String>> {
    let raw = value.as_deref()?;
    let s = raw.trim();
    if s.is_empty() {
        return Some(None);
    }
    if s.chars().count() > max {
        v.push(field, "too_long", format!("must have at most {max} characters"));
        return None;
    }
    Some(Some(s.to_string()))
}

/// Applies a create/update body to a row; on create the row starts empty and `company` is required.
/// Returns the validated custom field changes, to save once the row has an id.
pub async fn apply_client(db: &impl ConnectionTrait, row: &mut client::ActiveModel, b: &ClientInput, creating: bool) -> Result<custom_fields::Changes> {
    let defs = custom_fields::definitions(db, custom_fields::CLIENT).await?;
    let custom = custom_fields::validate(&defs, &b.custom_fields, creating);
    let mut v = Validator::new();
    if let Err(errors) = &custom {
        for e in errors {
            v.push(&e.field, &e.code, e.message.clone());
        }
    }
    let company = match &b.company {
        Some(c) => v.check("company", parse_name(c, 200)),
        None if creating => {
            v.push("company", "required", "the company name is required");
            None
        }
        None => None,
    };
    let texts = [
        ("vat_number", &b.vat_number, 50),
        ("registration_number", &b.registration_number, 50),
        ("address", &b.address, 1000),
        ("city", &b.city, 100),
        ("county", &b.county, 100),
        ("country", &b.country, 100),
        ("zip", &b.zip, 20),
        ("website", &b.website, 300),
    ]
    .map(|(f, val, max)| text_patch(&mut v, f, val, max));
    let phone = match text_patch(&mut v, "phone", &b.phone, 40) {
        Some(Some(p)) => v.check("phone", parse_phone(&p)).map(Some),
        other => other,
    };
    let currency = b.currency.as_deref().and_then(|c| v.check("currency", Currency::parse(c)));
    if let Some(days) = b.payment_terms_days {
        if !(0..=365).contains(&days) {
            v.push("payment_terms_days", "out_of_range", "between 0 and 365 days");
        }
    }
    if let Some(id) = b.assigned_to {
        if !staff::Entity::find_by_id(id).one(db).await?.is_some_and(|s| s.active) {
            v.push("assigned_to", "not_found", format!("no active staff member {id}"));
        }
    }
    v.finish().map_err(Error::validation)?;

    if let Some(c) = company {
        row.company = Set(c);
    }
    let [vat, reg, address, city, county, country, zip, website] = texts;
    let set = |slot: &mut sea_orm::ActiveValue<Option<String>>, value: Option<Option<String>>| {
        if let Some(v) = value {
            *slot = Set(v);
        } else if creating {
            *slot = Set(None);
        }
    };
    set(&mut row.vat_number, vat);
    set(&mut row.registration_number, reg);
    set(&mut row.address, address);
    set(&mut row.city, city);
    set(&mut row.county, county);
    set(&mut row.country, country);
    set(&mut row.zip, zip);
    set(&mut row.website, website);
    set(&mut row.phone, phone);
    if let Some(c) = currency {
        row.currency = Set(c.code().to_string());
    } else if creating {
        row.currency = Set(DEFAULT_CURRENCY.into());
    }
    if let Some(d) = b.payment_terms_days {
        row.payment_terms_days = Set(d);
    } else if creating {
        row.payment_terms_days = Set(DEFAULT_PAYMENT_TERMS_DAYS);
    }
    if b.assigned_to.is_some() || creating {
        row.assigned_to = Set(b.assigned_to);
    }
    Ok(custom.unwrap_or_default())
}

/// The first kind of document a client still has (they keep it from being deleted), if any.
pub async fn documents_of(db: &impl ConnectionTrait, client_id: i32) -> Result<Option<&'static str>> {
    use crate::entities::{client_credit, contract, invoice, proposal, recurring_invoice, sales_order};
    if invoice::Entity::find().filter(invoice::Column::ClientId.eq(client_id)).one(db).await?.is_some() {
        return Ok(Some("invoices"));
    }
    if proposal::Entity::find().filter(proposal::Column::ClientId.eq(client_id)).one(db).await?.is_some() {
        return Ok(Some("proposals"));
    }
    if sales_order::Entity::find().filter(sales_order::Column::ClientId.eq(client_id)).one(db).await?.is_some() {
        return Ok(Some("sales orders"));
    }
    if contract::Entity::find().filter(contract::Column::ClientId.eq(client_id)).one(db).await?.is_some() {
        return Ok(Some("contracts"));
    }
    if recurring_invoice::Entity::find().filter(recurring_invoice::Column::ClientId.eq(client_id)).one(db).await?.is_some() {
        return Ok(Some("recurring invoices"));
    }
    if client_credit::Entity::find().filter(client_credit::Column::ClientId.eq(client_id)).one(db).await?.is_some() {
        return Ok(Some("credit entries"));
    }
    Ok(None)
}

pub struct ValidContact {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub title: Option<Option<String>>,
}

pub fn validate_contact(b: &ContactInput, creating: bool) -> Result<ValidContact> {
    let mut v = Validator::new();
    let name = match &b.name {
        Some(n) => v.check("name", parse_name(n, 200)),
        None if creating => {
            v.push("name", "required", "the contact's name is required");
            None
        }
        None => None,
    };
    let email = match text_patch(&mut v, "email", &b.email, 254) {
        Some(Some(e)) => v.check("email", EmailAddress::parse(&e)).map(|e| Some(e.into_inner())),
        other => other,
    };
    let phone = match text_patch(&mut v, "phone", &b.phone, 40) {
        Some(Some(p)) => v.check("phone", parse_phone(&p)).map(Some),
        other => other,
    };
    let title = text_patch(&mut v, "title", &b.title, 100);
    v.finish().map_err(Error::validation)?;
    Ok(ValidContact { name, email, phone, title })
}

/// Makes `contact_id` the only primary contact of its client.
pub async fn make_primary(db: &impl ConnectionTrait, client_id: i32, contact_id: i32) -> Result<()> {
    client_contact::Entity::update_many()
        .col_expr(client_contact::Column::IsPrimary, Expr::value(false))
        .filter(client_contact::Column::ClientId.eq(client_id))
        .filter(client_contact::Column::Id.ne(contact_id))
        .exec(db)
        .await?;
    client_contact::Entity::update_many()
        .col_expr(client_contact::Column::IsPrimary, Expr::value(true))
        .filter(client_contact::Column::Id.eq(contact_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn insert_contact(db: &impl ConnectionTrait, client_id: i32, valid: ValidContact, primary: bool) -> Result<client_contact::Model> {
    let now = OffsetDateTime::now_utc();
    let saved = client_contact::ActiveModel {
        client_id: Set(client_id),
        name: Set(valid.name.unwrap_or_default()),
        email: Set(valid.email.flatten()),
        phone: Set(valid.phone.flatten()),
        title: Set(valid.title.flatten()),
        is_primary: Set(primary),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    if primary {
        make_primary(db, client_id, saved.id).await?;
    }
    Ok(saved)
}

pub async fn find_contact(db: &impl ConnectionTrait, client_id: i32, contact_id: i32) -> Result<client_contact::Model> {
    client_contact::Entity::find_by_id(contact_id)
        .filter(client_contact::Column::ClientId.eq(client_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("contact of this client"))
}

/// Creates the client (and its primary contact) for a lead and marks the lead converted, in
/// the caller's transaction. The caller checks that the lead was not converted yet.
pub async fn convert_lead_in(txn: &impl ConnectionTrait, actor: &crate::audit::Actor, l: &lead::Model) -> Result<client::Model> {
    let lead_before = load_lead(txn, l).await?;
    let now = OffsetDateTime::now_utc();
    let saved = client::ActiveModel {
        company: Set(l.company.clone().unwrap_or_else(|| l.name.clone())),
        vat_number: Set(None),
        registration_number: Set(None),
        address: Set(l.address.clone()),
        city: Set(l.city.clone()),
        county: Set(None),
        country: Set(l.country.clone()),
        zip: Set(None),
        phone: Set(l.phone.clone()),
        website: Set(l.website.clone()),
        currency: Set(l.currency.clone().unwrap_or_else(|| DEFAULT_CURRENCY.into())),
        payment_terms_days: Set(DEFAULT_PAYMENT_TERMS_DAYS),
        assigned_to: Set(l.assigned_to),
        lead_id: Set(Some(l.id)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let contact = ValidContact { name: Some(l.name.clone()), email: Some(l.email.clone()), phone: Some(l.phone.clone()), title: Some(l.title.clone()) };
    insert_contact(txn, saved.id, contact, true).await?;
    lead::Entity::update_many()
        .col_expr(lead::Column::ConvertedClientId, Expr::value(saved.id))
        .col_expr(lead::Column::ConvertedAt, Expr::value(now))
        .col_expr(lead::Column::UpdatedAt, Expr::value(now))
        .filter(lead::Column::Id.eq(l.id))
        .exec(txn)
        .await?;
    let api = load_api(txn, &saved).await?;
    audit::record(txn, actor, Change::new("client.created", "client", saved.id).after(&api)).await?;
    let lead_after = load_lead(txn, &lead::Entity::find_by_id(l.id).one(txn).await?.ok_or_else(|| Error::not_found("lead"))?).await?;
    let mut change = Change::new("lead.converted_to_client", "lead", l.id).before(&lead_before);
    change.after = Some(json!({"lead": lead_after, "details": {"client_id": saved.id}}));
    audit::record(txn, actor, change).await?;
    outbox::emit(txn, "lead.converted", "lead", l.id, json!({"lead_id": l.id, "client_id": saved.id})).await?;
    Ok(saved)
}
