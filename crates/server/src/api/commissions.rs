//! Commissions (the guide's `/admin/commission`): policies (`/api/v1/commission/policies`), who
//! earns under them (`/api/v1/commission/applicable-staff`), the commissions payments earn
//! (`/api/v1/commissions`) and the receipts that pay them out (`/api/v1/commission-receipts`).
//! Permission `commissions`; "view own" sees one's own commissions, receipts and policy.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{
    Amounts, ApplicableStaff, ApplicableStaffInput, Commission, CommissionPage, CommissionPolicy, CommissionPolicyInput, CommissionReceipt,
    CommissionReceiptInput, Page, Problem,
};
use crmconnect_domain::commission::CommissionStatus;
use crmconnect_domain::permissions::{Action, Module, ViewScope};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, Condition, EntityTrait, Order, QueryFilter, QueryOrder};
use serde::Deserialize;
use time::{Date, OffsetDateTime};
use utoipa::IntoParams;

use super::pdf_response;
use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::db::{self, Read};
use crate::entities::{commission, commission_applicable_staff as applicable, commission_policy as policy, commission_receipt as receipt};
use crate::extract::Json;
use crate::ops::commissions::*;
use crate::pagination::{finish_page, Keys, PageParams, SinceParams, WholeList};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use crate::{pdf, settings};

// ---------------------------------------------------------------------------------------------
// Policies

/// Commission policies, by name.
#[utoipa::path(get, path = "/api/v1/commission/policies", operation_id = "listCommissionPolicies", tag = "commissions", security(("bearer" = [])), params(WholeList, SinceParams),
    responses((status = 200, body = Page<CommissionPolicy>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_policies(
    state: web::Data<AppState>,
    user: AuthUser,
    since: web::Query<SinceParams>,
    whole: web::Query<WholeList>,
) -> ApiResult<HttpResponse> {
    whole.check()?;
    let scope = user.view_scope(Module::Commissions)?;
    let mut q = policy::Entity::find().filter(since.condition(policy::Column::CreatedAt, policy::Column::UpdatedAt)?).order_by_asc(policy::Column::Name);
    if let ViewScope::Own(me) = scope {
        q = q.filter(policy::Column::Id.in_subquery(own_policy(me)));
    }
    let rows = q.all(&state.db).await?;
    Ok(HttpResponse::Ok().json(Page { items: policies_to_api(&state.db, &rows).await?, next_cursor: None }))
}

fn own_policy(me: i32) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::{QuerySelect, QueryTrait};
    applicable::Entity::find().select_only().column(applicable::Column::PolicyId).filter(applicable::Column::StaffId.eq(me)).into_query()
}

async fn visible_policy(state: &AppState, user: &AuthUser, id: i32) -> ApiResult<policy::Model> {
    let scope = user.view_scope(Module::Commissions)?;
    let p = find_policy(&state.db, id, Read::Plain).await?;
    if let ViewScope::Own(me) = scope {
        let mine = applicable::Entity::find().filter(applicable::Column::StaffId.eq(me)).filter(applicable::Column::PolicyId.eq(id)).one(&state.db).await?;
        if mine.is_none() {
            return Err(ApiError::not_found("commission policy"));
        }
    }
    Ok(p)
}

/// Add a policy: `percentage` (`rate` % of the invoice's net), `ladder` (marginal `tiers`),
/// `product` (`product_rates` per item or item group, `rate` for other lines),
/// `product_ladder` (`product_tiers` per item) or `margin` (`rate` % of net − cost).
#[utoipa::path(post, path = "/api/v1/commission/policies", operation_id = "createCommissionPolicy", tag = "commissions", security(("bearer" = [])),
    request_body = CommissionPolicyInput,
    responses((status = 201, body = CommissionPolicy), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_policy(state: web::Data<AppState>, user: AuthUser, body: Json<CommissionPolicyInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Commissions, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let saved = save_policy(&txn, None, &body.0).await?;
    let api = policy_to_api(&txn, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("commission_policy.created", "commission_policy", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// One policy.
#[utoipa::path(get, path = "/api/v1/commission/policies/{id}", operation_id = "getCommissionPolicy", tag = "commissions", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = CommissionPolicy), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_policy(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let p = visible_policy(&state, &user, *id).await?;
    Ok(HttpResponse::Ok().json(policy_to_api(&state.db, &p).await?))
}

/// Change a policy: the fields sent replace the current ones. Commissions already earned keep
/// their amounts; payments from now on earn under the new rules.
#[utoipa::path(patch, path = "/api/v1/commission/policies/{id}", operation_id = "updateCommissionPolicy", tag = "commissions", security(("bearer" = [])),
    params(("id" = i32, Path), IfMatchHeader), request_body = CommissionPolicyInput,
    responses((status = 200, body = CommissionPolicy), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_policy(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i32>,
    if_match: IfMatch,
    body: Json<CommissionPolicyInput>,
) -> ApiResult<HttpResponse> {
    user.require(Module::Commissions, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = find_policy(&txn, *id, Read::ForUpdate).await?;
    let before = policy_to_api(&txn, &current).await?;
    if_match.check(&before)?;
    let saved = save_policy(&txn, Some(current), &body.0).await?;
    let after = policy_to_api(&txn, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("commission_policy.updated", "commission_policy", saved.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Delete a policy nobody earns under (commissions already earned keep their amounts).
#[utoipa::path(delete, path = "/api/v1/commission/policies/{id}", operation_id = "deleteCommissionPolicy", tag = "commissions", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`in_use`: staff earn under it", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_policy(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Commissions, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let current = find_policy(&txn, *id, Read::ForUpdate).await?;
    let before = policy_to_api(&txn, &current).await?;
    crate::ops::commissions::delete_policy(&txn, &current).await?;
    audit::record(&txn, &user.actor(), Change::new("commission_policy.deleted", "commission_policy", current.id).before(&before)).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------------------------------------
// Applicable staff

/// Who earns under which policy (the guide's `/admin/commission/applicable_staff`).
#[utoipa::path(get, path = "/api/v1/commission/applicable-staff", operation_id = "listCommissionApplicableStaff", tag = "commissions", security(("bearer" = [])),
    params(WholeList, SinceParams),
    responses((status = 200, body = Page<ApplicableStaff>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_applicable(
    state: web::Data<AppState>,
    user: AuthUser,
    since: web::Query<SinceParams>,
    whole: web::Query<WholeList>,
) -> ApiResult<HttpResponse> {
    whole.check()?;
    let scope = user.view_scope(Module::Commissions)?;
    let mut q =
        applicable::Entity::find().filter(since.condition(applicable::Column::CreatedAt, applicable::Column::UpdatedAt)?).order_by_asc(applicable::Column::Id);
    if let ViewScope::Own(me) = scope {
        q = q.filter(applicable::Column::StaffId.eq(me));
    }
    let rows = q.all(&state.db).await?;
    Ok(HttpResponse::Ok().json(Page { items: applicable_to_api(&state.db, &rows).await?, next_cursor: None }))
}

/// Make a staff member earn under a policy: commission on the payments of invoices where they
/// are the sale agent. One policy per staff member.
#[utoipa::path(post, path = "/api/v1/commission/applicable-staff", operation_id = "addCommissionApplicableStaff", tag = "commissions", security(("bearer" = [])),
    request_body = ApplicableStaffInput,
    responses((status = 201, body = ApplicableStaff), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_assigned`: the staff member earns under a policy already", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn add_applicable_staff(state: web::Data<AppState>, user: AuthUser, body: Json<ApplicableStaffInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Commissions, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let saved = add_applicable(&txn, body.0.staff_id, body.0.policy_id).await?;
    let api = applicable_to_api(&txn, std::slice::from_ref(&saved)).await?.remove(0);
    audit::record(&txn, &user.actor(), Change::new("commission_applicable_staff.created", "commission_applicable_staff", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Stop a staff member earning under their policy (commissions already earned stay).
#[utoipa::path(delete, path = "/api/v1/commission/applicable-staff/{id}", operation_id = "removeCommissionApplicableStaff", tag = "commissions", security(("bearer" = [])),
    params(("id" = i32, Path)),
    responses((status = 204, description = "Removed"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn remove_applicable_staff(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Commissions, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = Read::ForUpdate.apply(applicable::Entity::find_by_id(*id)).one(&txn).await?.ok_or_else(|| ApiError::not_found("applicable staff entry"))?;
    let before = applicable_to_api(&txn, std::slice::from_ref(&current)).await?.remove(0);
    applicable::Entity::delete_by_id(current.id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("commission_applicable_staff.deleted", "commission_applicable_staff", current.id).before(&before)).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------------------------------------
// Commissions

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommissionFilter {
    /// Whose commissions (managers; "view own" always sees only theirs).
    pub staff_id: Option<i32>,
    /// `0` / `pending` or `1` / `paid`.
    pub status: Option<String>,
    pub invoice_id: Option<i32>,
    /// Payments on or after this day.
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<Date>,
    /// Payments on or before this day.
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<Date>,
}

/// Commissions earned by payments, newest first, with pending and paid totals per currency
/// over the whole filtered list. A commission shows from `available_at` (the payment's date +
/// the setting `commission_calculate_after_days`).
#[utoipa::path(get, path = "/api/v1/commissions", operation_id = "listCommissions", tag = "commissions", security(("bearer" = [])), params(CommissionFilter, PageParams),
    responses((status = 200, body = CommissionPage), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: a filter value is invalid; see `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, filter: web::Query<CommissionFilter>, page: web::Query<PageParams>) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Commissions)?;
    let page = page.parse()?;
    let mut cond = visible_condition(scope, OffsetDateTime::now_utc());
    if let Some(staff_id) = filter.staff_id {
        cond = cond.add(commission::Column::StaffId.eq(staff_id));
    }
    if let Some(status) = filter.status.as_deref() {
        cond = cond.add(commission::Column::StatusCode.eq(CommissionStatus::parse(status).map_err(|p| ApiError::field_query("status", p))?.code()));
    }
    if let Some(invoice_id) = filter.invoice_id {
        cond = cond.add(commission::Column::InvoiceId.eq(invoice_id));
    }
    if let Some(from) = filter.from {
        cond = cond.add(commission::Column::Date.gte(from));
    }
    if let Some(to) = filter.to {
        cond = cond.add(commission::Column::Date.lte(to));
    }
    let keys = Keys { id: commission::Column::Id, created_at: commission::Column::CreatedAt, updated_at: commission::Column::UpdatedAt };
    let rows = page.select(commission::Entity::find().filter(cond.clone()), keys, Order::Desc).all(&state.db).await?;
    let (rows, next_cursor) = finish_page(rows, page, |c| (c.id, c.updated_at));
    let totals = totals(&state.db, cond).await?;
    Ok(HttpResponse::Ok().json(CommissionPage { items: to_api_many(&state.db, &rows).await?, next_cursor, totals }))
}

/// One commission.
#[utoipa::path(get, path = "/api/v1/commissions/{id}", operation_id = "getCommission", tag = "commissions", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Commission), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Commissions)?;
    let c = commission::Entity::find_by_id(*id)
        .filter(visible_condition(scope, OffsetDateTime::now_utc()))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("commission"))?;
    Ok(HttpResponse::Ok().json(to_api_many(&state.db, std::slice::from_ref(&c)).await?.remove(0)))
}

// ---------------------------------------------------------------------------------------------
// Receipts

fn receipt_condition(scope: ViewScope) -> Condition {
    match scope {
        ViewScope::All => Condition::all(),
        ViewScope::Own(me) => Condition::all().add(receipt::Column::StaffId.eq(me)),
    }
}

/// Pay out pending commissions of one staff member and one currency: they become paid (status
/// 1) with the receipt, in one transaction; a commission already paid is refused (409) and
/// nothing changes.
#[utoipa::path(post, path = "/api/v1/commission-receipts", operation_id = "createCommissionReceipt", tag = "commissions", security(("bearer" = [])),
    request_body = CommissionReceiptInput,
    responses((status = 201, body = CommissionReceipt), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_done`: a commission is already paid", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_receipt(state: web::Data<AppState>, user: AuthUser, body: Json<CommissionReceiptInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Commissions, Action::Create)?;
    if let ViewScope::Own(me) = user.view_scope(Module::Commissions)? {
        if body.0.staff_id != me {
            return Err(ApiError::forbidden("With \"view own\" on commissions you pay out only your own."));
        }
    }
    let txn = db::begin_write(&state.db).await?;
    let saved = crate::ops::commissions::create_receipt(&txn, user.id(), &body.0, OffsetDateTime::now_utc()).await?;
    let api = receipt_to_api(&txn, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("commission_receipt.created", "commission_receipt", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Commission receipts, newest first.
#[utoipa::path(get, path = "/api/v1/commission-receipts", operation_id = "listCommissionReceipts", tag = "commissions", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Page<CommissionReceipt>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_receipts(state: web::Data<AppState>, user: AuthUser, page: web::Query<PageParams>) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Commissions)?;
    let page = page.parse()?;
    let keys = Keys { id: receipt::Column::Id, created_at: receipt::Column::CreatedAt, updated_at: receipt::Column::UpdatedAt };
    let rows = page.select(receipt::Entity::find().filter(receipt_condition(scope)), keys, Order::Desc).all(&state.db).await?;
    let (rows, next_cursor) = finish_page(rows, page, |r| (r.id, r.updated_at));
    Ok(HttpResponse::Ok().json(Page { items: receipts_to_api(&state.db, &rows).await?, next_cursor }))
}

async fn visible_receipt(state: &AppState, user: &AuthUser, id: i32) -> ApiResult<receipt::Model> {
    let scope = user.view_scope(Module::Commissions)?;
    receipt::Entity::find_by_id(id).filter(receipt_condition(scope)).one(&state.db).await?.ok_or_else(|| ApiError::not_found("commission receipt"))
}

/// One receipt with its commissions.
#[utoipa::path(get, path = "/api/v1/commission-receipts/{id}", operation_id = "getCommissionReceipt", tag = "commissions", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = CommissionReceipt), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_receipt(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let r = visible_receipt(&state, &user, *id).await?;
    Ok(HttpResponse::Ok().json(receipt_to_api(&state.db, &r).await?))
}

/// The receipt as PDF: one row per commission (invoice, payment date, base, amount).
#[utoipa::path(get, path = "/api/v1/commission-receipts/{id}/pdf", operation_id = "getCommissionReceiptPdf", tag = "commissions", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, description = "application/pdf", content_type = "application/pdf"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn receipt_pdf(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let r = visible_receipt(&state, &user, *id).await?;
    let api = receipt_to_api(&state.db, &r).await?;
    let company = settings::load(&state.db).await?;
    let rows = api
        .commissions
        .iter()
        .map(|c| format!("{} · paid {} · base {} · commission {} {}", c.invoice_number.as_deref().unwrap_or("-"), c.date, c.base_amount, c.amount, c.currency))
        .collect::<Vec<_>>()
        .join("\n");
    let bytes = pdf::render(&pdf::DocumentPdf {
        title: "COMMISSION RECEIPT".into(),
        number: api.number.clone(),
        seller: pdf::company_block(&company),
        buyer: vec![api.staff_name.clone()],
        meta: vec![("Date".into(), api.date.to_string())],
        currency: api.currency.clone(),
        lines: Vec::new(),
        amounts: Amounts { subtotal: api.total, discount_total: Decimal::ZERO, taxes: Vec::new(), total_tax: Decimal::ZERO, total: api.total },
        extra_totals: Vec::new(),
        sections: [("Commissions".to_string(), rows)].into_iter().chain(api.note.clone().map(|n| ("Note".to_string(), n))).collect(),
    });
    Ok(pdf_response(&api.number, bytes))
}
