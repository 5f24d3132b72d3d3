//! Custom field definitions: `/api/v1/custom-fields` (for leads and clients).

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{CustomField, CustomFieldInput, CustomFieldUpdate, Page, Problem};
use crmconnect_domain::custom_fields::{check_key, FieldType};
use crmconnect_domain::permissions::{Action, Module};
use crmconnect_domain::validation::{parse_name, Validator};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::IntoParams;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::custom_fields::{options, CLIENT, INVOICE, LEAD, PROPOSAL};
use crate::db::{self, Read};
use crate::entities::custom_field;
use crate::extract::Json;
use crate::pagination::{SinceParams, WholeList};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

fn to_api(f: &custom_field::Model) -> CustomField {
    CustomField {
        id: f.id,
        entity: f.entity.clone(),
        key: f.key.clone(),
        label: f.label.clone(),
        field_type: f.field_type.clone(),
        options: options(f),
        required: f.required,
    }
}

fn check_options(v: &mut Validator, t: Option<FieldType>, opts: &[String]) -> Vec<String> {
    let cleaned: Vec<String> = opts.iter().map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect();
    if t.is_some_and(FieldType::has_options) && cleaned.is_empty() {
        v.push("options", "required", "select fields need at least one option");
    }
    let mut unique = cleaned.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != cleaned.len() {
        v.push("options", "duplicate", "options must be unique");
    }
    cleaned
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntityParam {
    /// `lead` or `client`; all when omitted.
    pub entity: Option<String>,
}

/// List custom field definitions.
#[utoipa::path(get, path = "/api/v1/custom-fields", operation_id = "listCustomFields", tag = "leads", security(("bearer" = [])), params(WholeList, EntityParam, SinceParams),
    responses((status = 200, body = Page<CustomField>)))]
pub async fn list(
    state: web::Data<AppState>,
    _user: AuthUser,
    params: web::Query<EntityParam>,
    since: web::Query<SinceParams>,
    whole: web::Query<WholeList>,
) -> ApiResult<HttpResponse> {
    whole.check()?;
    let changed = since.condition(custom_field::Column::CreatedAt, custom_field::Column::UpdatedAt)?;
    let mut q = custom_field::Entity::find().filter(changed).order_by_asc(custom_field::Column::Id);
    if let Some(e) = &params.entity {
        q = q.filter(custom_field::Column::Entity.eq(e.as_str()));
    }
    let items = q.all(&state.db).await?.iter().map(to_api).collect();
    Ok(HttpResponse::Ok().json(Page::<CustomField> { items, next_cursor: None }))
}

/// Define a custom field.
#[utoipa::path(post, path = "/api/v1/custom-fields", operation_id = "createCustomField", tag = "leads", security(("bearer" = [])), request_body = CustomFieldInput,
    responses((status = 201, body = CustomField), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`: the entity already has a field with this key", body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<CustomFieldInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Create)?;
    let b = body.0;
    let mut v = Validator::new();
    if ![LEAD, CLIENT, PROPOSAL, INVOICE].contains(&b.entity.as_str()) {
        v.push("entity", "invalid", "use lead, client, proposal or invoice");
    }
    let key = v.check("key", check_key(&b.key));
    let label = v.check("label", parse_name(&b.label, 100));
    let t = v.check("field_type", FieldType::parse(&b.field_type));
    let opts = check_options(&mut v, t, &b.options);
    v.finish().map_err(ApiError::validation)?;
    let key = key.unwrap_or_default();
    let now = OffsetDateTime::now_utc();
    let txn = db::begin_write(&state.db).await?;
    let taken = custom_field::Entity::find()
        .filter(custom_field::Column::Entity.eq(b.entity.as_str()))
        .filter(custom_field::Column::Key.eq(key.as_str()))
        .count(&txn)
        .await?;
    if taken > 0 {
        return Err(ApiError::new(ErrorCode::NameTaken, format!("A {} custom field `{key}` already exists.", b.entity)));
    }
    let saved = custom_field::ActiveModel {
        entity: Set(b.entity),
        key: Set(key),
        label: Set(label.unwrap_or_default()),
        field_type: Set(b.field_type),
        options: Set(serde_json::to_value(if t.is_some_and(FieldType::has_options) { opts } else { vec![] }).map_err(ApiError::internal)?),
        required: Set(b.required),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let api = to_api(&saved);
    audit::record(&txn, &user.actor(), Change::new("custom_field.created", "custom_field", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Change a custom field's label, options or required flag (its key and type are fixed).
#[utoipa::path(patch, path = "/api/v1/custom-fields/{id}", operation_id = "updateCustomField", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader),
    request_body = CustomFieldUpdate,
    responses((status = 200, body = CustomField), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i32>,
    if_match: IfMatch,
    body: Json<CustomFieldUpdate>,
) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let b = body.0;
    let txn = db::begin_write(&state.db).await?;
    let current = Read::ForUpdate.apply(custom_field::Entity::find_by_id(*id)).one(&txn).await?.ok_or_else(|| ApiError::not_found("custom field"))?;
    if_match.check(&to_api(&current))?;
    let t = FieldType::parse(&current.field_type).ok();
    let mut v = Validator::new();
    let label = b.label.as_deref().and_then(|l| v.check("label", parse_name(l, 100)));
    let opts = b.options.as_ref().map(|o| check_options(&mut v, t, o));
    v.finish().map_err(ApiError::validation)?;
    let before = to_api(&current);
    let mut row: custom_field::ActiveModel = current.into();
    if let Some(l) = label {
        row.label = Set(l);
    }
    if let Some(o) = opts.filter(|_| t.is_some_and(FieldType::has_options)) {
        row.options = Set(serde_json::to_value(o).map_err(ApiError::internal)?);
    }
    if let Some(r) = b.required {
        row.required = Set(r);
    }
    row.updated_at = Set(OffsetDateTime::now_utc());
    let saved = row.update(&txn).await?;
    let after = to_api(&saved);
    audit::record(&txn, &user.actor(), Change::new("custom_field.updated", "custom_field", saved.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Delete a custom field and every value of it.
#[utoipa::path(delete, path = "/api/v1/custom-fields/{id}", operation_id = "deleteCustomField", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let current = custom_field::Entity::find_by_id(*id).one(&txn).await?.ok_or_else(|| ApiError::not_found("custom field"))?;
    custom_field::Entity::delete_by_id(current.id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("custom_field.deleted", "custom_field", current.id).before(&to_api(&current))).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
