//! Contracts: `/api/v1/contracts` (CRUD, `?expiring_in_days=30`), configurable statuses
//! `/api/v1/contract-statuses`, creation from an accepted proposal and renewal. Signing on the
//! portal lives with the other portal pages in `api::portal`.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{Contract, ContractInput, Page, Problem, RenewInput};
use crmconnect_domain::money;
use crmconnect_domain::permissions::{Action, Module, ViewScope};
use crmconnect_domain::proposals::ProposalStatus;
use crmconnect_domain::validation::parse_name;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use serde_json::json;
use time::{Duration, OffsetDateTime};
use utoipa::IntoParams;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::documents::{currency_of, today};
use crate::entities::{client, contract, contract_status};
use crate::extract::Json;
use crate::ops::contracts::*;
use crate::pagination::{finish_page, Keys, PageParams, SinceParams, WholeList};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;
use crate::{db, outbox};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContractFilter {
    /// Contracts ending within this many days from today (not yet ended).
    pub expiring_in_days: Option<u32>,
    pub client_id: Option<i32>,
    pub status_id: Option<i32>,
}

/// Contracts, soonest ending first when `expiring_in_days` is given, else newest first.
#[utoipa::path(get, path = "/api/v1/contracts", operation_id = "listContracts", tag = "contracts", security(("bearer" = [])), params(ContractFilter, PageParams),
    responses((status = 200, body = Page<Contract>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, filter: web::Query<ContractFilter>, page: web::Query<PageParams>) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Contracts)?;
    let page = page.parse()?;
    let mut q = page.select(
        contract::Entity::find(),
        Keys { id: contract::Column::Id, created_at: contract::Column::CreatedAt, updated_at: contract::Column::UpdatedAt },
        Order::Desc,
    );
    if let ViewScope::Own(me) = scope {
        let mine = client::Entity::find()
            .select_only()
            .column(client::Column::Id)
            .filter(client::Column::AssignedTo.eq(me))
            .into_tuple::<i32>()
            .all(&state.db)
            .await?;
        q = q.filter(sea_orm::Condition::any().add(contract::Column::ClientId.is_in(mine)).add(contract::Column::CreatedBy.eq(me)));
    }
    if let Some(days) = filter.expiring_in_days {
        let today = today();
        q = q.filter(contract::Column::EndDate.gte(today)).filter(contract::Column::EndDate.lte(today + Duration::days(i64::from(days))));
    }
    if let Some(id) = filter.client_id {
        q = q.filter(contract::Column::ClientId.eq(id));
    }
    if let Some(id) = filter.status_id {
        q = q.filter(contract::Column::StatusId.eq(id));
    }
    let (rows, next_cursor) = finish_page(q.all(&state.db).await?, page, |c| (c.id, c.updated_at));
    Ok(HttpResponse::Ok().json(Page { items: load_many(&state.db, &state.settings.public_url, &rows).await?, next_cursor }))
}

/// Create a contract (status Draft unless given).
#[utoipa::path(post, path = "/api/v1/contracts", operation_id = "createContract", tag = "contracts", security(("bearer" = [])), request_body = ContractInput,
    responses((status = 201, body = Contract), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<ContractInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Contracts, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let mut row = new_row(Some(user.id()));
    apply(&txn, &user, &mut row, None, &body.0).await?;
    let saved = row.insert(&txn).await?;
    let api = load_api(&txn, &state.settings.public_url, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("contract.created", "contract", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// A contract, with its signature and whether the text changed since.
#[utoipa::path(get, path = "/api/v1/contracts/{id}", operation_id = "getContract", tag = "contracts", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Contract), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let c = find_visible(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(load_api(&state.db, &state.settings.public_url, &c).await?))
}

/// Change a contract. Changing the content of a signed contract is allowed and flagged
/// (`changed_after_signing`).
#[utoipa::path(patch, path = "/api/v1/contracts/{id}", operation_id = "updateContract", tag = "contracts", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader), request_body = ContractInput,
    responses((status = 200, body = Contract), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, if_match: IfMatch, body: Json<ContractInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Contracts, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    let before = load_api(&txn, &state.settings.public_url, &current).await?;
    if_match.check(&before)?;
    let mut row: contract::ActiveModel = current.clone().into();
    apply(&txn, &user, &mut row, Some(&current), &body.0).await?;
    let saved = row.update(&txn).await?;
    let after = load_api(&txn, &state.settings.public_url, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("contract.updated", "contract", saved.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Delete an unsigned contract.
#[utoipa::path(delete, path = "/api/v1/contracts/{id}", operation_id = "deleteContract", tag = "contracts", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 409, description = "`in_use` (signed)", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Contracts, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    if current.signed_at.is_some() {
        return Err(ApiError::new(ErrorCode::InUse, "A signed contract is kept; set its status to Terminated instead."));
    }
    let before = load_api(&txn, &state.settings.public_url, &current).await?;
    // Recorded first: the feed's deletion event names who the record was visible to as theirs.
    audit::record(&txn, &user.actor(), Change::new("contract.deleted", "contract", current.id).before(&before)).await?;
    contract::Entity::delete_by_id(current.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Create a contract from an accepted proposal: client, subject, value (total) and currency,
/// content from the proposal.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/create-contract", operation_id = "createContractFromProposal", tag = "contracts", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 201, body = Contract), (status = 409, description = "`proposal_not_accepted`, `already_converted`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: the proposal has no client or lead (`client_id`)", body = Problem, content_type = "application/problem+json")))]
pub async fn from_proposal(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Contracts, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let p = crate::ops::proposals::lock_visible(&txn, &user, *id).await?;
    if ProposalStatus::from_code(p.status_code) != Some(ProposalStatus::Accepted) {
        return Err(ApiError::new(ErrorCode::ProposalNotAccepted, "Contracts are created from accepted proposals."));
    }
    if let Some(c) = contract::Entity::find().filter(contract::Column::ProposalId.eq(p.id)).one(&txn).await? {
        return Err(ApiError::new(ErrorCode::AlreadyConverted, format!("{} already has contract {}.", p.number, c.id)));
    }
    let client_id = crate::ops::proposals::billing_client(&txn, &user.actor(), &p).await?;
    let mut row = new_row(Some(user.id()));
    row.client_id = Set(client_id);
    row.subject = Set(p.subject.clone());
    row.contract_type = Set(None);
    row.value_minor = Set(p.total_minor);
    row.currency = Set(p.currency.clone());
    row.start_date = Set(today());
    row.end_date = Set(Some(crmconnect_domain::recurring::add_months(today(), 12) - Duration::days(1)));
    row.content = Set(format!("{}{}", p.content, p.terms));
    row.status_id = Set(status_named(&txn, "Draft").await?);
    row.proposal_id = Set(Some(p.id));
    let saved = row.insert(&txn).await?;
    let api = load_api(&txn, &state.settings.public_url, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("contract.created", "contract", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Renew: a new contract for the following period, linked by `renewed_from_id`.
#[utoipa::path(post, path = "/api/v1/contracts/{id}/renew", operation_id = "renewContract", tag = "contracts", security(("bearer" = [])), params(("id" = i32, Path)), request_body = RenewInput,
    responses((status = 201, body = Contract), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn renew(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<RenewInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Contracts, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let old = lock_visible(&txn, &user, *id).await?;
    let start = body.0.start_date.or(old.end_date.map(|e| e + Duration::days(1))).unwrap_or_else(today);
    let length = old.end_date.map(|e| e - old.start_date);
    let end = body.0.end_date.or(length.map(|l| start + l));
    if end.is_some_and(|e| e < start) {
        return Err(ApiError::field("end_date", "before_start", "the end date cannot be before the start date"));
    }
    let value_minor = match body.0.value {
        Some(v) => money::non_negative_minor(v, currency_of(&old.currency)).map_err(|e| ApiError::field("value", e.code, e.message))?,
        None => old.value_minor,
    };
    let mut row = new_row(Some(user.id()));
    row.client_id = Set(old.client_id);
    row.subject = Set(old.subject.clone());
    row.contract_type = Set(old.contract_type.clone());
    row.value_minor = Set(value_minor);
    row.currency = Set(old.currency.clone());
    row.start_date = Set(start);
    row.end_date = Set(end);
    row.content = Set(old.content.clone());
    row.status_id = Set(status_named(&txn, "Draft").await?);
    row.proposal_id = Set(old.proposal_id);
    row.renewed_from_id = Set(Some(old.id));
    let saved = row.insert(&txn).await?;
    let api = load_api(&txn, &state.settings.public_url, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("contract.renewed", "contract", saved.id).after(&api)).await?;
    outbox::emit(&txn, "contract.renewed", "contract", saved.id, json!({"contract_id": saved.id, "renewed_from_id": old.id})).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Contract statuses (configurable; seeded Draft, Active, Expired, Terminated).
#[utoipa::path(get, path = "/api/v1/contract-statuses", operation_id = "listContractStatuses", tag = "contracts", security(("bearer" = [])), params(WholeList, SinceParams),
    responses((status = 200, body = Page<crmconnect_domain::api::NamedOption>), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list_statuses(
    state: web::Data<AppState>,
    _user: AuthUser,
    since: web::Query<SinceParams>,
    whole: web::Query<WholeList>,
) -> ApiResult<HttpResponse> {
    whole.check()?;
    let changed = since.condition(contract_status::Column::CreatedAt, contract_status::Column::UpdatedAt)?;
    let rows = contract_status::Entity::find().filter(changed).order_by_asc(contract_status::Column::Id).all(&state.db).await?;
    let items: Vec<crmconnect_domain::api::NamedOption> = rows.into_iter().map(|s| crmconnect_domain::api::NamedOption { id: s.id, name: s.name }).collect();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor: None }))
}

/// Add a contract status (settings: edit).
#[utoipa::path(post, path = "/api/v1/contract-statuses", operation_id = "createContractStatus", tag = "contracts", security(("bearer" = [])), request_body = crmconnect_domain::api::NamedOptionInput,
    responses((status = 201, body = crmconnect_domain::api::NamedOption), (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json")))]
pub async fn create_status(state: web::Data<AppState>, user: AuthUser, body: Json<crmconnect_domain::api::NamedOptionInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let name = parse_name(&body.0.name, 100).map_err(|e| ApiError::field("name", e.code, e.message))?;
    let txn = db::begin_write(&state.db).await?;
    if status_named(&txn, &name).await?.is_some() {
        return Err(ApiError::new(ErrorCode::NameTaken, format!("`{name}` already exists.")));
    }
    let now = OffsetDateTime::now_utc();
    let saved = contract_status::ActiveModel { name: Set(name), created_at: Set(now), updated_at: Set(now), ..Default::default() }.insert(&txn).await?;
    let api = crmconnect_domain::api::NamedOption { id: saved.id, name: saved.name.clone() };
    audit::record(&txn, &user.actor(), Change::new("contract_status.created", "contract_status", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Revoke the contract's portal link and issue a new one: the old link answers 404 from now on.
#[utoipa::path(post, path = "/api/v1/contracts/{id}/portal-token", operation_id = "rotateContractPortalToken", tag = "contracts", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Contract, description = "The contract with its new `portal_url`"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(actor = user.id(), contract_id = *id))]
pub async fn rotate_portal_link(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Contracts, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let saved = rotate_portal_token(&txn, &user, *id).await?;
    let api = load_api(&txn, &state.settings.public_url, &saved).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(api))
}
