//! The catalogue documents are built from: `/api/v1/taxes`, `/api/v1/items`, `/api/v1/currencies`.
//! Everyone signed in reads them (the proposal editor needs them); changing them is a
//! settings permission.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{CurrencyInfo, CurrencyInput, Item, ItemInput, Page, Problem, Tax, TaxInput};
use crmconnect_domain::documents;
use crmconnect_domain::money::Currency;
use crmconnect_domain::permissions::{Action, Module};
use crmconnect_domain::validation::{parse_name, Validator};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::IntoParams;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::db::{self, Read};
use crate::documents::dec;
use crate::entities::{currency, item, proposal, tax};
use crate::extract::Json;
use crate::pagination::{SinceParams, WholeList};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

fn tax_to_api(t: &tax::Model) -> Tax {
    Tax { id: t.id, name: t.name.clone(), rate: dec(&t.rate) }
}

async fn name_free<E: EntityTrait>(db: &impl ConnectionTrait, col: E::Column, name: &str, except: Option<i32>, id_col: E::Column) -> ApiResult<()>
where
    E::Model: Sync,
{
    let mut q = E::find().filter(Expr::expr(Func::lower(Expr::col(col))).eq(name.to_lowercase()));
    if let Some(id) = except {
        q = q.filter(id_col.ne(id));
    }
    if q.one(db).await?.is_some() {
        return Err(ApiError::new(ErrorCode::NameTaken, format!("`{name}` already exists.")));
    }
    Ok(())
}

/// All taxes, by rate.
#[utoipa::path(get, path = "/api/v1/taxes", operation_id = "listTaxes", tag = "catalogue", security(("bearer" = [])), params(WholeList, SinceParams),
    responses((status = 200, body = Page<Tax>), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list_taxes(state: web::Data<AppState>, _user: AuthUser, since: web::Query<SinceParams>, whole: web::Query<WholeList>) -> ApiResult<HttpResponse> {
    whole.check()?;
    let changed = since.condition(tax::Column::CreatedAt, tax::Column::UpdatedAt)?;
    let mut items: Vec<Tax> = tax::Entity::find().filter(changed).order_by_asc(tax::Column::Id).all(&state.db).await?.iter().map(tax_to_api).collect();
    items.sort_by(|a, b| a.rate.cmp(&b.rate).then(a.id.cmp(&b.id)));
    Ok(HttpResponse::Ok().json(Page { items, next_cursor: None }))
}

fn validate_tax(b: &TaxInput, creating: bool) -> ApiResult<(Option<String>, Option<String>)> {
    let mut v = Validator::new();
    let name = match &b.name {
        Some(n) => v.check("name", parse_name(n, 100)),
        None if creating => {
            v.push("name", "required", "a name is required");
            None
        }
        None => None,
    };
    let rate = match b.rate {
        Some(r) => v.check("rate", documents::check_tax_rate(r)).map(|r| r.normalize().to_string()),
        None if creating => {
            v.push("rate", "required", "a rate (percent) is required");
            None
        }
        None => None,
    };
    v.finish().map_err(ApiError::validation)?;
    Ok((name, rate))
}

/// Add a tax rate. Settings permission.
#[utoipa::path(post, path = "/api/v1/taxes", operation_id = "createTax", tag = "catalogue", security(("bearer" = [])), request_body = TaxInput,
    responses((status = 201, body = Tax), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_tax(state: web::Data<AppState>, user: AuthUser, body: Json<TaxInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let (name, rate) = validate_tax(&body.0, true)?;
    let (name, rate) = (name.unwrap_or_default(), rate.unwrap_or_default());
    let txn = db::begin_write(&state.db).await?;
    name_free::<tax::Entity>(&txn, tax::Column::Name, &name, None, tax::Column::Id).await?;
    let now = OffsetDateTime::now_utc();
    let saved = tax::ActiveModel { name: Set(name), rate: Set(rate), created_at: Set(now), updated_at: Set(now), ..Default::default() }.insert(&txn).await?;
    let api = tax_to_api(&saved);
    audit::record(&txn, &user.actor(), Change::new("tax.created", "tax", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Rename or change a rate. Existing document lines keep the rate they were written with.
#[utoipa::path(patch, path = "/api/v1/taxes/{id}", operation_id = "updateTax", tag = "catalogue", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader), request_body = TaxInput,
    responses((status = 200, body = Tax), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json")))]
pub async fn update_tax(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, if_match: IfMatch, body: Json<TaxInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let (name, rate) = validate_tax(&body.0, false)?;
    let txn = db::begin_write(&state.db).await?;
    let current = Read::ForUpdate.apply(tax::Entity::find_by_id(*id)).one(&txn).await?.ok_or_else(|| ApiError::not_found("tax"))?;
    let before = tax_to_api(&current);
    if_match.check(&before)?;
    let mut row: tax::ActiveModel = current.into();
    if let Some(n) = name {
        name_free::<tax::Entity>(&txn, tax::Column::Name, &n, Some(*id), tax::Column::Id).await?;
        row.name = Set(n);
    }
    if let Some(r) = rate {
        row.rate = Set(r);
    }
    row.updated_at = Set(OffsetDateTime::now_utc());
    let api = tax_to_api(&row.update(&txn).await?);
    audit::record(&txn, &user.actor(), Change::new("tax.updated", "tax", *id).before(&before).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(api))
}

/// Delete a tax no item uses (document lines keep their snapshot).
#[utoipa::path(delete, path = "/api/v1/taxes/{id}", operation_id = "deleteTax", tag = "catalogue", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`in_use`", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_tax(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = tax::Entity::find_by_id(*id).one(&txn).await?.ok_or_else(|| ApiError::not_found("tax"))?;
    let used_by = item::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .filter(|i| serde_json::from_value::<Vec<i32>>(i.tax_ids.clone()).unwrap_or_default().contains(&current.id))
        .count();
    if used_by > 0 {
        return Err(ApiError::new(ErrorCode::InUse, format!("{used_by} item(s) use this tax; change them first.")));
    }
    tax::Entity::delete_by_id(current.id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("tax.deleted", "tax", current.id).before(&tax_to_api(&current))).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

fn item_to_api(i: &item::Model) -> Item {
    Item {
        id: i.id,
        description: i.description.clone(),
        long_description: i.long_description.clone(),
        unit: i.unit.clone(),
        unit_price: dec(&i.unit_price),
        purchase_price: i.purchase_price.as_deref().map(dec),
        tax_ids: serde_json::from_value(i.tax_ids.clone()).unwrap_or_default(),
        group_name: i.group_name.clone(),
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemFilter {
    /// Search in the description.
    pub q: Option<String>,
    pub group: Option<String>,
}

/// The catalogue of products and services (item picker). `purchase_price` is shown only to
/// roles that may edit the catalogue (`settings: edit`); others get `null`.
#[utoipa::path(get, path = "/api/v1/items", operation_id = "listItems", tag = "catalogue", security(("bearer" = [])), params(WholeList, ItemFilter, SinceParams),
    responses((status = 200, body = Page<Item>), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list_items(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<ItemFilter>,
    since: web::Query<SinceParams>,
    whole: web::Query<WholeList>,
) -> ApiResult<HttpResponse> {
    whole.check()?;
    let changed = since.condition(item::Column::CreatedAt, item::Column::UpdatedAt)?;
    let mut q = item::Entity::find().filter(changed).order_by_asc(item::Column::Description).order_by_asc(item::Column::Id);
    if let Some(text) = filter.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        q = q.filter(Expr::expr(Func::lower(Expr::col(item::Column::Description))).like(format!("%{}%", text.to_lowercase())));
    }
    if let Some(g) = filter.group.as_deref() {
        q = q.filter(item::Column::GroupName.eq(g));
    }
    // Purchase prices (margins) are for those who manage the catalogue, not every seller.
    let show_cost = user.permissions.allows(Module::Settings, Action::Edit);
    let items: Vec<Item> =
        q.all(&state.db).await?.iter().map(item_to_api).map(|i| Item { purchase_price: i.purchase_price.filter(|_| show_cost), ..i }).collect();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor: None }))
}

async fn apply_item(db: &impl ConnectionTrait, row: &mut item::ActiveModel, b: &ItemInput, creating: bool) -> ApiResult<()> {
    let mut v = Validator::new();
    match &b.description {
        Some(d) => {
            if let Some(d) = v.check("description", parse_name(d, 300)) {
                row.description = Set(d);
            }
        }
        None if creating => v.push("description", "required", "a description is required"),
        None => {}
    }
    match b.unit_price {
        Some(p) => {
            if let Some(p) = v.check("unit_price", documents::check_unit_price(p)) {
                row.unit_price = Set(p.normalize().to_string());
            }
        }
        None if creating => v.push("unit_price", "required", "a unit price is required"),
        None => {}
    }
    if let Some(pp) = b.purchase_price {
        match pp {
            Some(p) => {
                if let Some(p) = v.check("purchase_price", documents::check_unit_price(p)) {
                    row.purchase_price = Set(Some(p.normalize().to_string()));
                }
            }
            None => row.purchase_price = Set(None),
        }
    } else if creating {
        row.purchase_price = Set(None);
    }
    let text = |value: &Option<String>| value.as_deref().map(str::trim).map(|s| (!s.is_empty()).then(|| s.to_string()));
    for (field, value, max) in [("long_description", &b.long_description, 5000), ("unit", &b.unit, 30), ("group_name", &b.group_name, 100)] {
        if value.as_ref().is_some_and(|s| s.trim().chars().count() > max) {
            v.push(field, "too_long", format!("must have at most {max} characters"));
        }
    }
    if let Some(ids) = &b.tax_ids {
        for id in ids {
            if tax::Entity::find_by_id(*id).one(db).await?.is_none() {
                v.push("tax_ids", "not_found", format!("no tax {id}"));
            }
        }
    }
    v.finish().map_err(ApiError::validation)?;
    for (slot, value) in [(&mut row.long_description, text(&b.long_description)), (&mut row.unit, text(&b.unit)), (&mut row.group_name, text(&b.group_name))] {
        match value {
            Some(v) => *slot = Set(v),
            None if creating => *slot = Set(None),
            None => {}
        }
    }
    match &b.tax_ids {
        Some(ids) => row.tax_ids = Set(serde_json::json!(ids)),
        None if creating => row.tax_ids = Set(serde_json::json!([])),
        None => {}
    }
    Ok(())
}

/// Add an item. Settings permission.
#[utoipa::path(post, path = "/api/v1/items", operation_id = "createItem", tag = "catalogue", security(("bearer" = [])), request_body = ItemInput,
    responses((status = 201, body = Item), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_item(state: web::Data<AppState>, user: AuthUser, body: Json<ItemInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let now = OffsetDateTime::now_utc();
    let mut row = item::ActiveModel { created_at: Set(now), updated_at: Set(now), ..Default::default() };
    apply_item(&txn, &mut row, &body.0, true).await?;
    let api = item_to_api(&row.insert(&txn).await?);
    audit::record(&txn, &user.actor(), Change::new("item.created", "item", api.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Change an item (documents keep what they were written with).
#[utoipa::path(patch, path = "/api/v1/items/{id}", operation_id = "updateItem", tag = "catalogue", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader), request_body = ItemInput,
    responses((status = 200, body = Item), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_item(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, if_match: IfMatch, body: Json<ItemInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = Read::ForUpdate.apply(item::Entity::find_by_id(*id)).one(&txn).await?.ok_or_else(|| ApiError::not_found("item"))?;
    let before = item_to_api(&current);
    if_match.check(&before)?;
    let mut row: item::ActiveModel = current.into();
    apply_item(&txn, &mut row, &body.0, false).await?;
    row.updated_at = Set(OffsetDateTime::now_utc());
    let api = item_to_api(&row.update(&txn).await?);
    audit::record(&txn, &user.actor(), Change::new("item.updated", "item", api.id).before(&before).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(api))
}

/// Delete an item (document lines keep their copy).
#[utoipa::path(delete, path = "/api/v1/items/{id}", operation_id = "deleteItem", tag = "catalogue", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_item(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = item::Entity::find_by_id(*id).one(&txn).await?.ok_or_else(|| ApiError::not_found("item"))?;
    item::Entity::delete_by_id(current.id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("item.deleted", "item", current.id).before(&item_to_api(&current))).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

fn currency_to_api(c: &currency::Model) -> CurrencyInfo {
    CurrencyInfo {
        id: c.id,
        code: c.code.clone(),
        symbol: c.symbol.clone(),
        decimal_places: Currency::parse(&c.code).map(Currency::minor_units).unwrap_or(2),
        is_base: c.is_base,
    }
}

/// Enabled currencies, base first.
#[utoipa::path(get, path = "/api/v1/currencies", operation_id = "listCurrencies", tag = "catalogue", security(("bearer" = [])), params(WholeList, SinceParams),
    responses((status = 200, body = Page<CurrencyInfo>), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list_currencies(
    state: web::Data<AppState>,
    _user: AuthUser,
    since: web::Query<SinceParams>,
    whole: web::Query<WholeList>,
) -> ApiResult<HttpResponse> {
    whole.check()?;
    let changed = since.condition(currency::Column::CreatedAt, currency::Column::UpdatedAt)?;
    let rows = currency::Entity::find().filter(changed).order_by_desc(currency::Column::IsBase).order_by_asc(currency::Column::Code).all(&state.db).await?;
    Ok(HttpResponse::Ok().json(Page { items: rows.iter().map(currency_to_api).collect::<Vec<_>>(), next_cursor: None }))
}

async fn make_base(db: &impl ConnectionTrait, id: i32) -> ApiResult<()> {
    let now = OffsetDateTime::now_utc();
    for (rows, is_base) in [
        (currency::Column::Id.ne(id).and(currency::Column::IsBase.eq(true)), false),
        (currency::Column::Id.eq(id).and(currency::Column::IsBase.eq(false)), true),
    ] {
        currency::Entity::update_many()
            .col_expr(currency::Column::IsBase, Expr::value(is_base))
            .col_expr(currency::Column::UpdatedAt, Expr::value(now))
            .filter(rows)
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Enable a currency (ISO 4217 code; decimal places follow the standard).
#[utoipa::path(post, path = "/api/v1/currencies", operation_id = "createCurrency", tag = "catalogue", security(("bearer" = [])), request_body = CurrencyInput,
    responses((status = 201, body = CurrencyInfo), (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_currency(state: web::Data<AppState>, user: AuthUser, body: Json<CurrencyInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let mut v = Validator::new();
    let code = match &body.0.code {
        Some(c) => v.check("code", Currency::parse(c)),
        None => {
            v.push("code", "required", "an ISO 4217 code is required");
            None
        }
    };
    let symbol = body.0.symbol.as_deref().map(str::trim).unwrap_or_default().to_string();
    if symbol.chars().count() > 10 {
        v.push("symbol", "too_long", "at most 10 characters");
    }
    let code = ApiError::validated(v, code)?.code();
    let now = OffsetDateTime::now_utc();
    let txn = db::begin_write(&state.db).await?;
    if currency::Entity::find().filter(currency::Column::Code.eq(code)).one(&txn).await?.is_some() {
        return Err(ApiError::new(ErrorCode::NameTaken, format!("{code} is already enabled.")));
    }
    let saved = currency::ActiveModel {
        code: Set(code.to_string()),
        symbol: Set(if symbol.is_empty() { code.to_string() } else { symbol }),
        is_base: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if body.0.is_base == Some(true) {
        make_base(&txn, saved.id).await?;
    }
    let api = currency_to_api(&currency::Entity::find_by_id(saved.id).one(&txn).await?.ok_or_else(|| ApiError::not_found("currency"))?);
    audit::record(&txn, &user.actor(), Change::new("currency.created", "currency", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Change the symbol or make it the base currency (the code never changes).
#[utoipa::path(patch, path = "/api/v1/currencies/{id}", operation_id = "updateCurrency", tag = "catalogue", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader), request_body = CurrencyInput,
    responses((status = 200, body = CurrencyInfo), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_currency(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i32>,
    if_match: IfMatch,
    body: Json<CurrencyInput>,
) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = Read::ForUpdate.apply(currency::Entity::find_by_id(*id)).one(&txn).await?.ok_or_else(|| ApiError::not_found("currency"))?;
    if_match.check(&currency_to_api(&current))?;
    if body.0.code.as_ref().is_some_and(|c| !c.trim().eq_ignore_ascii_case(&current.code)) {
        return Err(ApiError::field("code", "immutable", "the code of a currency cannot change; add another currency"));
    }
    if body.0.is_base == Some(false) && current.is_base {
        return Err(ApiError::field("is_base", "base_required", "make another currency the base instead"));
    }
    let before = currency_to_api(&current);
    if let Some(symbol) = body.0.symbol.as_deref().map(str::trim) {
        if symbol.is_empty() || symbol.chars().count() > 10 {
            return Err(ApiError::field("symbol", "invalid", "1 to 10 characters"));
        }
        let mut row: currency::ActiveModel = current.clone().into();
        row.symbol = Set(symbol.to_string());
        row.updated_at = Set(OffsetDateTime::now_utc());
        row.update(&txn).await?;
    }
    if body.0.is_base == Some(true) {
        make_base(&txn, current.id).await?;
    }
    let api = currency_to_api(&currency::Entity::find_by_id(current.id).one(&txn).await?.ok_or_else(|| ApiError::not_found("currency"))?);
    audit::record(&txn, &user.actor(), Change::new("currency.updated", "currency", current.id).before(&before).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(api))
}

/// Disable a currency that is not the base and no proposal uses.
#[utoipa::path(delete, path = "/api/v1/currencies/{id}", operation_id = "deleteCurrency", tag = "catalogue", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`in_use`", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_currency(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = currency::Entity::find_by_id(*id).one(&txn).await?.ok_or_else(|| ApiError::not_found("currency"))?;
    if current.is_base {
        return Err(ApiError::new(ErrorCode::InUse, "The base currency cannot be removed; make another currency the base first."));
    }
    if proposal::Entity::find().filter(proposal::Column::Currency.eq(current.code.clone())).one(&txn).await?.is_some() {
        return Err(ApiError::new(ErrorCode::InUse, format!("Proposals in {} exist.", current.code)));
    }
    currency::Entity::delete_by_id(current.id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("currency.deleted", "currency", current.id).before(&currency_to_api(&current))).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
