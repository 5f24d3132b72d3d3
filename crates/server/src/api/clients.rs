//! Clients and their contacts: `/api/v1/clients`, and converting a lead into a client.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{Client, ClientInput, Contact, ContactInput, Page, Problem, TimelineEntry};
use crmconnect_domain::leads::parse_phone;
use crmconnect_domain::money::Currency;
use crmconnect_domain::permissions::{Action, Module, ViewScope};
use crmconnect_domain::validation::{parse_name, EmailAddress, Validator};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use utoipa::IntoParams;

use super::leads::{load_api as load_lead, lock_visible as lock_visible_lead};
use crate::audit::{self, Change};
use crate::custom_fields;
use crate::auth::AuthUser;
use crate::entities::{client, client_contact, lead, staff};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::Json;
use crate::outbox;
use crate::pagination::{finish_page, PageParams};
use crate::state::AppState;
use crate::db;
use crate::db::Read;

pub const DEFAULT_CURRENCY: &str = "RON";
pub const DEFAULT_PAYMENT_TERMS_DAYS: i32 = 30;

fn contact_to_api(c: &client_contact::Model) -> Contact {
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

async fn contacts_of(db: &impl ConnectionTrait, client_id: i32) -> ApiResult<Vec<client_contact::Model>> {
    Ok(client_contact::Entity::find()
        .filter(client_contact::Column::ClientId.eq(client_id))
        .order_by_desc(client_contact::Column::IsPrimary)
        .order_by_asc(client_contact::Column::Id)
        .all(db)
        .await?)
}

fn to_api(c: &client::Model, contacts: &[client_contact::Model]) -> Client {
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

pub async fn load_api(db: &impl ConnectionTrait, c: &client::Model) -> ApiResult<Client> {
    Ok(load_many(db, std::slice::from_ref(c)).await?.remove(0))
}

/// API clients for many rows: contacts and custom fields each loaded in one query.
pub async fn load_many(db: &impl ConnectionTrait, rows: &[client::Model]) -> ApiResult<Vec<Client>> {
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

async fn find_visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32) -> ApiResult<client::Model> {
    visible(db, user, id, Read::Plain).await
}

/// [`find_visible`], locking the row until the transaction ends (write paths use this).
async fn lock_visible(txn: &impl ConnectionTrait, user: &AuthUser, id: i32) -> ApiResult<client::Model> {
    visible(txn, user, id, Read::ForUpdate).await
}

async fn visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32, read: Read) -> ApiResult<client::Model> {
    let scope = user.view_scope(Module::Clients)?;
    let c = read.apply(client::Entity::find_by_id(id)).one(db).await?.ok_or_else(|| ApiError::not_found("client"))?;
    if matches!(scope, ViewScope::Own(me) if c.assigned_to != Some(me)) {
        return Err(ApiError::not_found("client"));
    }
    Ok(c)
}

/// `Some("")` clears, `Some(x)` sets (trimmed, bounded), `None` leaves as is.
fn text_patch(v: &mut Validator, field: &str, value: &Option<String>, max: usize) -> Option<Option<String>> {
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
async fn apply_client(db: &impl ConnectionTrait, row: &mut client::ActiveModel, b: &ClientInput, creating: bool) -> ApiResult<custom_fields::Changes> {
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
    v.finish().map_err(ApiError::validation)?;

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

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientFilter {
    /// Search in company name and VAT number.
    pub q: Option<String>,
    /// `me`, `none` or a staff id.
    pub assigned: Option<String>,
}

/// List clients (view own: only yours).
#[utoipa::path(get, path = "/api/v1/clients", tag = "clients", security(("bearer" = [])), params(ClientFilter, PageParams),
    responses((status = 200, body = Page<Client>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<ClientFilter>,
    page: web::Query<PageParams>,
    custom: web::Query<std::collections::HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Clients)?;
    let page = page.parse()?;
    let mut q = client::Entity::find()
        .filter(custom_fields::filter(&state.db, custom_fields::CLIENT, client::Column::Id, &custom).await?)
        .order_by_asc(client::Column::Id)
        .limit(page.limit + 1);
    if let ViewScope::Own(me) = scope {
        q = q.filter(client::Column::AssignedTo.eq(me));
    }
    if let Some(after) = page.after_id {
        q = q.filter(client::Column::Id.gt(after));
    }
    if let Some(assigned) = super::leads::assigned_condition(filter.assigned.as_deref(), &user, client::Column::AssignedTo)? {
        q = q.filter(assigned);
    }
    if let Some(text) = filter.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = format!("%{}%", text.to_lowercase());
        q = q.filter(
            Condition::any()
                .add(Expr::expr(Func::lower(Expr::col(client::Column::Company))).like(pattern.clone()))
                .add(Expr::expr(Func::lower(Expr::col(client::Column::VatNumber))).like(pattern)),
        );
    }
    let (rows, next_cursor) = finish_page(q.all(&state.db).await?, page, |c| c.id);
    Ok(HttpResponse::Ok().json(Page { items: load_many(&state.db, &rows).await?, next_cursor }))
}

/// Create a client.
#[utoipa::path(post, path = "/api/v1/clients", tag = "clients", security(("bearer" = [])), request_body = ClientInput,
    responses((status = 201, body = Client), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<ClientInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Clients, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let now = OffsetDateTime::now_utc();
    let mut row = client::ActiveModel { lead_id: Set(None), created_at: Set(now), updated_at: Set(now), ..Default::default() };
    let custom = apply_client(&txn, &mut row, &body.0, true).await?;
    let saved = row.insert(&txn).await?;
    custom_fields::save(&txn, saved.id, custom).await?;
    let api = load_api(&txn, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("client.created", "client", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Get a client with its contacts.
#[utoipa::path(get, path = "/api/v1/clients/{id}", tag = "clients", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Client), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let c = find_visible(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(load_api(&state.db, &c).await?))
}

/// Update a client: fields sent change (an empty string clears a text field).
#[utoipa::path(patch, path = "/api/v1/clients/{id}", tag = "clients", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = ClientInput,
    responses((status = 200, body = Client), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<ClientInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Clients, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    let before = load_api(&txn, &current).await?;
    let mut row: client::ActiveModel = current.into();
    let custom = apply_client(&txn, &mut row, &body.0, false).await?;
    row.updated_at = Set(OffsetDateTime::now_utc());
    let saved = row.update(&txn).await?;
    custom_fields::save(&txn, saved.id, custom).await?;
    let after = load_api(&txn, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("client.updated", "client", saved.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Delete a client and its contacts.
#[utoipa::path(delete, path = "/api/v1/clients/{id}", tag = "clients", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`in_use`: the client has invoices, proposals, orders, contracts or credit", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Clients, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    if let Some(what) = documents_of(&txn, current.id).await? {
        return Err(ApiError::new(ErrorCode::InUse, format!("{} has {what}; a client with documents cannot be deleted.", current.company)));
    }
    let before = load_api(&txn, &current).await?;
    client::Entity::delete_by_id(current.id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("client.deleted", "client", current.id).before(&before)).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The first kind of document a client still has (they keep it from being deleted), if any.
async fn documents_of(db: &impl ConnectionTrait, client_id: i32) -> ApiResult<Option<&'static str>> {
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

/// The history of the lead this client was converted from (empty for direct clients).
#[utoipa::path(get, path = "/api/v1/clients/{id}/history", tag = "clients", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Page<TimelineEntry>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn history(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let c = find_visible(&state.db, &user, *id).await?;
    let mut items = match c.lead_id {
        Some(lead_id) => super::activities::timeline_of(&state.db, lead_id).await?,
        None => Vec::new(),
    };
    items.sort_by_key(|e| e.at);
    Ok(HttpResponse::Ok().json(Page { items, next_cursor: None }))
}

struct ValidContact {
    name: Option<String>,
    email: Option<Option<String>>,
    phone: Option<Option<String>>,
    title: Option<Option<String>>,
}

fn validate_contact(b: &ContactInput, creating: bool) -> ApiResult<ValidContact> {
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
    v.finish().map_err(ApiError::validation)?;
    Ok(ValidContact { name, email, phone, title })
}

/// Makes `contact_id` the only primary contact of its client.
async fn make_primary(db: &impl ConnectionTrait, client_id: i32, contact_id: i32) -> ApiResult<()> {
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

/// Contacts of a client, primary first.
#[utoipa::path(get, path = "/api/v1/clients/{id}/contacts", tag = "clients", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Page<Contact>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_contacts(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let c = find_visible(&state.db, &user, *id).await?;
    let items = contacts_of(&state.db, c.id).await?.iter().map(contact_to_api).collect();
    Ok(HttpResponse::Ok().json(Page::<Contact> { items, next_cursor: None }))
}

/// Add a contact. The first contact of a client is its primary contact.
#[utoipa::path(post, path = "/api/v1/clients/{id}/contacts", tag = "clients", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = ContactInput,
    responses((status = 201, body = Contact), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_contact(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<ContactInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Clients, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let c = lock_visible(&txn, &user, *id).await?;
    let valid = validate_contact(&body.0, true)?;
    let first = contacts_of(&txn, c.id).await?.is_empty();
    let saved = insert_contact(&txn, c.id, valid, first || body.0.is_primary == Some(true)).await?;
    let api = contact_to_api(&saved);
    audit::record(&txn, &user.actor(), Change::new("client.contact_added", "client", c.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

async fn insert_contact(db: &impl ConnectionTrait, client_id: i32, valid: ValidContact, primary: bool) -> ApiResult<client_contact::Model> {
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

async fn find_contact(db: &impl ConnectionTrait, client_id: i32, contact_id: i32) -> ApiResult<client_contact::Model> {
    client_contact::Entity::find_by_id(contact_id)
        .filter(client_contact::Column::ClientId.eq(client_id))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("contact of this client"))
}

/// Update a contact; `is_primary: true` makes it the primary contact.
#[utoipa::path(patch, path = "/api/v1/clients/{id}/contacts/{contact_id}", tag = "clients", security(("bearer" = [])),
    params(("id" = i32, Path), ("contact_id" = i32, Path)), request_body = ContactInput,
    responses((status = 200, body = Contact), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_contact(state: web::Data<AppState>, user: AuthUser, path: web::Path<(i32, i32)>, body: Json<ContactInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Clients, Action::Edit)?;
    let (client_id, contact_id) = path.into_inner();
    let valid = validate_contact(&body.0, false)?;
    let txn = db::begin_write(&state.db).await?;
    let c = lock_visible(&txn, &user, client_id).await?;
    let current = find_contact(&txn, c.id, contact_id).await?;
    let before = contact_to_api(&current);
    let mut row: client_contact::ActiveModel = current.into();
    if let Some(n) = valid.name {
        row.name = Set(n);
    }
    if let Some(e) = valid.email {
        row.email = Set(e);
    }
    if let Some(p) = valid.phone {
        row.phone = Set(p);
    }
    if let Some(t) = valid.title {
        row.title = Set(t);
    }
    row.updated_at = Set(OffsetDateTime::now_utc());
    row.update(&txn).await?;
    if body.0.is_primary == Some(true) {
        make_primary(&txn, c.id, contact_id).await?;
    }
    let after = contact_to_api(&find_contact(&txn, c.id, contact_id).await?);
    audit::record(&txn, &user.actor(), Change::new("client.contact_updated", "client", c.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Remove a contact; if it was primary, the oldest remaining contact becomes primary.
#[utoipa::path(delete, path = "/api/v1/clients/{id}/contacts/{contact_id}", tag = "clients", security(("bearer" = [])),
    params(("id" = i32, Path), ("contact_id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_contact(state: web::Data<AppState>, user: AuthUser, path: web::Path<(i32, i32)>) -> ApiResult<HttpResponse> {
    user.require(Module::Clients, Action::Edit)?;
    let (client_id, contact_id) = path.into_inner();
    let txn = db::begin_write(&state.db).await?;
    let c = lock_visible(&txn, &user, client_id).await?;
    let current = find_contact(&txn, c.id, contact_id).await?;
    client_contact::Entity::delete_by_id(contact_id).exec(&txn).await?;
    if current.is_primary {
        if let Some(next) = contacts_of(&txn, c.id).await?.into_iter().min_by_key(|x| x.id) {
            make_primary(&txn, c.id, next.id).await?;
        }
    }
    audit::record(&txn, &user.actor(), Change::new("client.contact_removed", "client", c.id).before(&contact_to_api(&current))).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Convert a lead into a client: creates the client and its primary contact from the lead,
/// marks the lead converted (date, client id) and keeps its history visible from the client.
#[utoipa::path(post, path = "/api/v1/leads/{id}/convert-to-client", tag = "clients", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 201, body = Client), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_converted`", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(actor = user.id(), lead_id = *id))]
pub async fn convert_lead(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Clients, Action::Create)?;
    user.require(Module::Leads, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let l = lock_visible_lead(&txn, &user, *id).await?;
    if let Some(client_id) = l.converted_client_id {
        return Err(ApiError::new(ErrorCode::AlreadyConverted, format!("This lead was already converted to client {client_id}.")));
    }
    let saved = convert_lead_in(&txn, &user.actor(), &l).await?;
    let api = load_api(&txn, &saved).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Creates the client (and its primary contact) for a lead and marks the lead converted, in
/// the caller's transaction. The caller checks that the lead was not converted yet.
pub async fn convert_lead_in(txn: &impl ConnectionTrait, actor: &crate::audit::Actor, l: &lead::Model) -> ApiResult<client::Model> {
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
    let contact = ValidContact {
        name: Some(l.name.clone()),
        email: Some(l.email.clone()),
        phone: Some(l.phone.clone()),
        title: Some(l.title.clone()),
    };
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
    let lead_after = load_lead(txn, &lead::Entity::find_by_id(l.id).one(txn).await?.ok_or_else(|| ApiError::not_found("lead"))?).await?;
    let mut change = Change::new("lead.converted_to_client", "lead", l.id).before(&lead_before);
    change.after = Some(json!({"lead": lead_after, "details": {"client_id": saved.id}}));
    audit::record(txn, actor, change).await?;
    outbox::emit(txn, "lead_converted", "lead", l.id, json!({"lead_id": l.id, "client_id": saved.id})).await?;
    Ok(saved)
}
