//! Clients and their contacts: `/api/v1/clients`, and converting a lead into a client.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{Client, ClientInput, Contact, ContactInput, Page, Problem, TimelineEntry};
use crmconnect_domain::permissions::{Action, Module, ViewScope};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, Order, QueryFilter};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::IntoParams;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::custom_fields;
use crate::db;
use crate::entities::{client, client_contact};
use crate::extract::Json;
use crate::ops::clients::*;
use crate::ops::leads::lock_visible as lock_visible_lead;
use crate::pagination::SinceParams;
use crate::pagination::{finish_page, Keys, PageParams};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientFilter {
    /// Search in company name and VAT number.
    pub q: Option<String>,
    /// `me`, `none` or a staff id.
    pub assigned: Option<String>,
}

/// List clients (view own: only yours).
#[utoipa::path(get, path = "/api/v1/clients", operation_id = "listClients", tag = "clients", security(("bearer" = [])), params(ClientFilter, PageParams),
    responses((status = 200, body = Page<Client>), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: a `cf.<key>` filter names no custom field or has an invalid value; see `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<ClientFilter>,
    page: web::Query<PageParams>,
    custom: web::Query<std::collections::HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Clients)?;
    let page = page.parse()?;
    let mut q = page.select(
        client::Entity::find().filter(custom_fields::filter(&state.db, custom_fields::CLIENT, client::Column::Id, &custom).await?),
        Keys { id: client::Column::Id, created_at: client::Column::CreatedAt, updated_at: client::Column::UpdatedAt },
        Order::Asc,
    );
    if let ViewScope::Own(me) = scope {
        q = q.filter(client::Column::AssignedTo.eq(me));
    }
    if let Some(assigned) = crate::ops::leads::assigned_condition(filter.assigned.as_deref(), &user, client::Column::AssignedTo)? {
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
    let (rows, next_cursor) = finish_page(q.all(&state.db).await?, page, |c| (c.id, c.updated_at));
    Ok(HttpResponse::Ok().json(Page { items: load_many(&state.db, &rows).await?, next_cursor }))
}

/// Create a client.
#[utoipa::path(post, path = "/api/v1/clients", operation_id = "createClient", tag = "clients", security(("bearer" = [])), request_body = ClientInput,
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
#[utoipa::path(get, path = "/api/v1/clients/{id}", operation_id = "getClient", tag = "clients", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Client), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let c = find_visible(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(load_api(&state.db, &c).await?))
}

/// Update a client: fields sent change (an empty string clears a text field).
#[utoipa::path(patch, path = "/api/v1/clients/{id}", operation_id = "updateClient", tag = "clients", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader),
    request_body = ClientInput,
    responses((status = 200, body = Client), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, if_match: IfMatch, body: Json<ClientInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Clients, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    let before = load_api(&txn, &current).await?;
    if_match.check(&before)?;
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
#[utoipa::path(delete, path = "/api/v1/clients/{id}", operation_id = "deleteClient", tag = "clients", security(("bearer" = [])), params(("id" = i32, Path)),
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
    // Recorded first: the feed's deletion event names who the record was visible to as theirs.
    audit::record(&txn, &user.actor(), Change::new("client.deleted", "client", current.id).before(&before)).await?;
    client::Entity::delete_by_id(current.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The history of the lead this client was converted from (empty for direct clients).
#[utoipa::path(get, path = "/api/v1/clients/{id}/history", operation_id = "getClientHistory", tag = "clients", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Page<TimelineEntry>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn history(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let c = find_visible(&state.db, &user, *id).await?;
    let mut items = match c.lead_id {
        Some(lead_id) => crate::ops::activities::timeline_of(&state.db, lead_id).await?,
        None => Vec::new(),
    };
    items.sort_by_key(|e| e.at);
    Ok(HttpResponse::Ok().json(Page { items, next_cursor: None }))
}

/// Contacts of a client, primary first.
#[utoipa::path(get, path = "/api/v1/clients/{id}/contacts", operation_id = "listClientContacts", tag = "clients", security(("bearer" = [])), params(("id" = i32, Path), SinceParams),
    responses((status = 200, body = Page<Contact>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_contacts(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, since: web::Query<SinceParams>) -> ApiResult<HttpResponse> {
    let c = find_visible(&state.db, &user, *id).await?;
    let changed = since.condition(client_contact::Column::CreatedAt, client_contact::Column::UpdatedAt)?;
    let items = contacts_where(&state.db, c.id, changed).await?.iter().map(contact_to_api).collect();
    Ok(HttpResponse::Ok().json(Page::<Contact> { items, next_cursor: None }))
}

/// Add a contact. The first contact of a client is its primary contact.
#[utoipa::path(post, path = "/api/v1/clients/{id}/contacts", operation_id = "createClientContact", tag = "clients", security(("bearer" = [])), params(("id" = i32, Path)),
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

/// Update a contact; `is_primary: true` makes it the primary contact.
#[utoipa::path(patch, path = "/api/v1/clients/{id}/contacts/{contact_id}", operation_id = "updateClientContact", tag = "clients", security(("bearer" = [])),
    params(("id" = i32, Path), ("contact_id" = i32, Path), IfMatchHeader), request_body = ContactInput,
    responses((status = 200, body = Contact), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_contact(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i32, i32)>,
    if_match: IfMatch,
    body: Json<ContactInput>,
) -> ApiResult<HttpResponse> {
    user.require(Module::Clients, Action::Edit)?;
    let (client_id, contact_id) = path.into_inner();
    let valid = validate_contact(&body.0, false)?;
    let txn = db::begin_write(&state.db).await?;
    let c = lock_visible(&txn, &user, client_id).await?;
    let current = find_contact(&txn, c.id, contact_id).await?;
    let before = contact_to_api(&current);
    if_match.check(&before)?;
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
#[utoipa::path(delete, path = "/api/v1/clients/{id}/contacts/{contact_id}", operation_id = "deleteClientContact", tag = "clients", security(("bearer" = [])),
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
#[utoipa::path(post, path = "/api/v1/leads/{id}/convert-to-client", operation_id = "convertLeadToClient", tag = "clients", security(("bearer" = [])), params(("id" = i32, Path)),
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
