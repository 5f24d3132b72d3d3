//! Opportunities: leads with `is_opportunity`, their own statuses, and the weighted pipeline.
//! `/api/v1/opportunities`, `/api/v1/leads/{id}/convert-to-opportunity`.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{ConvertToOpportunity, CreateOpportunity, Forecast, ForecastRow, Lead, Page, Problem, UpdateOpportunity};
use crmconnect_domain::money::{non_negative_minor, Currency};
use crmconnect_domain::opportunities::{check_probability, forecast as forecast_buckets};
use crmconnect_domain::permissions::{Action, Module};
use crmconnect_domain::validation::{parse_name, Validator};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, Order, QueryFilter};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use utoipa::IntoParams;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::db;
use crate::entities::{lead, staff};
use crate::extract::Json;
use crate::ops::leads::{load_api, load_many, lock_visible as lock_visible_lead, replace_tags, tags_of, LeadNames};
use crate::ops::opportunities::*;
use crate::pagination::{finish_page, Keys, PageParams};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

/// Turn a lead into an opportunity: a new record (`is_opportunity = true`) with the lead's
/// contact data, value, probability and close date. The lead stays active and linked
/// (`origin_lead_id`).
#[utoipa::path(post, path = "/api/v1/leads/{id}/convert-to-opportunity", operation_id = "convertLeadToOpportunity", tag = "opportunities", security(("bearer" = [])),
    params(("id" = i32, Path)), request_body = ConvertToOpportunity,
    responses((status = 201, body = Lead), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_converted`: the lead already has an opportunity", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(actor = user.id(), lead_id = *id))]
pub async fn convert(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<ConvertToOpportunity>) -> ApiResult<HttpResponse> {
    user.require(Module::Opportunities, Action::Create)?;
    let b = body.0;
    let txn = db::begin_write(&state.db).await?;
    let l = lock_visible_lead(&txn, &user, *id).await?;
    // One opportunity per lead: a second conversion (a double click, a retry) is refused.
    let existing = lead::Entity::find().filter(lead::Column::OriginLeadId.eq(l.id)).filter(lead::Column::IsOpportunity.eq(true)).one(&txn).await?;
    if let Some(o) = existing {
        return Err(ApiError::new(ErrorCode::AlreadyConverted, format!("This lead was already converted to opportunity {}.", o.id)));
    }
    let mut v = Validator::new();
    let currency = v.check("currency", Currency::parse(&b.currency));
    let minor = currency.and_then(|c| v.check("estimated_value", non_negative_minor(b.estimated_value, c)));
    let probability = v.check("probability", check_probability(b.probability));
    let status_id = initial_status(&mut v, &txn, b.opportunity_status_id).await?;
    v.finish().map_err(ApiError::validation)?;
    let now = OffsetDateTime::now_utc();
    let tags = tags_of(&txn, &[l.id]).await?.remove(&l.id).unwrap_or_default();
    let mut row: lead::ActiveModel = l.clone().into();
    row.id = sea_orm::ActiveValue::NotSet;
    row.is_opportunity = Set(true);
    row.origin_lead_id = Set(Some(l.id));
    row.estimated_value_minor = Set(minor);
    row.currency = Set(currency.map(|c| c.code().to_string()));
    row.probability = Set(probability.map(i32::from));
    row.expected_close_date = Set(b.expected_close_date);
    row.opportunity_status_id = Set(status_id);
    row.position = Set(0);
    row.converted_client_id = Set(None);
    row.converted_at = Set(None);
    row.created_by = Set(Some(user.id()));
    row.created_at = Set(now);
    row.updated_at = Set(now);
    row.last_status_change_at = Set(now);
    let saved = row.insert(&txn).await?;
    replace_tags(&txn, saved.id, &tags).await?;
    let api = load_api(&txn, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("opportunity.created", "opportunity", saved.id).after(&api)).await?;
    let mut lead_change = Change::new("lead.converted_to_opportunity", "lead", l.id);
    lead_change.after = Some(json!({"details": {"opportunity_id": saved.id}}));
    audit::record(&txn, &user.actor(), lead_change).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Add an opportunity directly — for an existing client (`client_id`) or a new prospect (company
/// and contact fields, `email` or `phone` required). Value, currency, probability, expected close
/// date, status and assignee as on conversion; it starts in the default pipeline's first stage.
#[utoipa::path(post, path = "/api/v1/opportunities", operation_id = "createOpportunity", tag = "opportunities", security(("bearer" = [])), request_body = CreateOpportunity,
    responses((status = 201, body = Lead), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(actor = user.id()))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<CreateOpportunity>) -> ApiResult<HttpResponse> {
    user.require(Module::Opportunities, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let saved = create_direct(&txn, &user, body.0).await?;
    let api = load_api(&txn, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("opportunity.created", "opportunity", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// List opportunities, newest first (they never appear in the leads list, nor leads here).
#[utoipa::path(get, path = "/api/v1/opportunities", operation_id = "listOpportunities", tag = "opportunities", security(("bearer" = [])), params(OpportunityFilter, PageParams),
    responses((status = 200, body = Page<Lead>), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: a filter value is invalid; see `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, filter: web::Query<OpportunityFilter>, page: web::Query<PageParams>) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Opportunities)?;
    let page = page.parse()?;
    let query = lead::Entity::find().filter(filter.condition(&user, scope)?);
    let rows = page
        .select(query, Keys { id: lead::Column::Id, created_at: lead::Column::CreatedAt, updated_at: lead::Column::UpdatedAt }, Order::Desc)
        .all(&state.db)
        .await?;
    let (rows, next_cursor) = finish_page(rows, page, |l| (l.id, l.updated_at));
    Ok(HttpResponse::Ok().json(Page { items: load_many(&state.db, &rows).await?, next_cursor }))
}

/// Get one opportunity.
#[utoipa::path(get, path = "/api/v1/opportunities/{id}", operation_id = "getOpportunity", tag = "opportunities", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Lead), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let o = find_visible(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(load_api(&state.db, &o).await?))
}

/// Update an opportunity's value, probability, close date, status or owner.
#[utoipa::path(patch, path = "/api/v1/opportunities/{id}", operation_id = "updateOpportunity", tag = "opportunities", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader),
    request_body = UpdateOpportunity,
    responses((status = 200, body = Lead), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i32>,
    if_match: IfMatch,
    body: Json<UpdateOpportunity>,
) -> ApiResult<HttpResponse> {
    user.require(Module::Opportunities, Action::Edit)?;
    let b = body.0;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    let mut v = Validator::new();
    let name = b.name.as_deref().and_then(|n| v.check("name", parse_name(n, 200)));
    let currency_raw = b.currency.clone().or_else(|| current.currency.clone());
    let currency = match currency_raw.as_deref() {
        Some(c) => v.check("currency", Currency::parse(c)),
        None => None,
    };
    let minor = match (b.estimated_value, currency) {
        (Some(amount), Some(c)) => v.check("estimated_value", non_negative_minor(amount, c)).map(Some),
        (Some(_), None) => {
            v.push("currency", "required", "give the currency of estimated_value");
            None
        }
        // A new currency re-reads the stored value in it (minor units stay exact only if the
        // number of decimals matches), so require the value along with a currency change.
        (None, _) if b.currency.is_some() => {
            v.push("estimated_value", "required", "send estimated_value together with a new currency");
            None
        }
        (None, _) => None,
    };
    let probability = b.probability.and_then(|p| v.check("probability", check_probability(p)));
    if let Some(s) = b.opportunity_status_id {
        check_status(&mut v, &txn, s).await?;
    }
    if let Some(sid) = b.assigned_to {
        if !staff::Entity::find_by_id(sid).one(&txn).await?.is_some_and(|s| s.active) {
            v.push("assigned_to", "not_found", format!("no active staff member {sid}"));
        }
    }
    v.finish().map_err(ApiError::validation)?;
    let before = load_api(&txn, &current).await?;
    if_match.check(&before)?;
    let mut row: lead::ActiveModel = current.into();
    if let Some(n) = name {
        row.name = Set(n);
    }
    if let Some(m) = minor {
        row.estimated_value_minor = Set(m);
        row.currency = Set(currency.map(|c| c.code().to_string()));
    }
    if let Some(p) = probability {
        row.probability = Set(Some(i32::from(p)));
    }
    if b.expected_close_date.is_some() {
        row.expected_close_date = Set(b.expected_close_date);
    }
    if let Some(s) = b.opportunity_status_id {
        row.opportunity_status_id = Set(Some(s));
        row.last_status_change_at = Set(OffsetDateTime::now_utc());
    }
    if let Some(a) = b.assigned_to {
        row.assigned_to = Set(Some(a));
    }
    row.updated_at = Set(OffsetDateTime::now_utc());
    let saved = row.update(&txn).await?;
    let after = load_api(&txn, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("opportunity.updated", "opportunity", saved.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ForecastParams {
    /// `month` (expected close month), `status` or `staff`.
    pub group_by: Option<String>,
}

/// The weighted pipeline: per group and currency, Σ value and Σ value × probability.
#[utoipa::path(get, path = "/api/v1/opportunities/forecast", operation_id = "getOpportunityForecast", tag = "opportunities", security(("bearer" = [])),
    params(ForecastParams, OpportunityFilter),
    responses((status = 200, body = Forecast), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: a filter value is invalid; see `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn forecast(
    state: web::Data<AppState>,
    user: AuthUser,
    params: web::Query<ForecastParams>,
    filter: web::Query<OpportunityFilter>,
) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Opportunities)?;
    let group_by = params.group_by.clone().unwrap_or_else(|| "month".into());
    if !matches!(group_by.as_str(), "month" | "status" | "staff") {
        return Err(ApiError::field("group_by", "invalid", "use month, status or staff"));
    }
    let cond = filter.condition(&user, scope)?;
    let rows = lead::Entity::find().filter(cond).all(&state.db).await?;
    let names = LeadNames::load(&state.db).await?;
    let key_of = |l: &lead::Model| -> Option<String> {
        match group_by.as_str() {
            "month" => l.expected_close_date.map(|d| format!("{:04}-{:02}", d.year(), u8::from(d.month()))),
            "status" => l.opportunity_status_id.map(|s| s.to_string()),
            _ => l.assigned_to.map(|s| s.to_string()),
        }
    };
    let items: Vec<_> = rows
        .iter()
        .filter_map(|l| {
            let currency = Currency::parse(l.currency.as_deref()?).ok()?;
            Some((key_of(l), currency, l.estimated_value_minor?, l.probability.unwrap_or(0).clamp(0, 100) as u8))
        })
        .collect();
    let label = |key: &Option<String>| -> String {
        match (group_by.as_str(), key) {
            (_, None) => match group_by.as_str() {
                "month" => "No close date".into(),
                "status" => "No status".into(),
                _ => "Unassigned".into(),
            },
            ("month", Some(k)) => k.clone(),
            ("status", Some(k)) => names.opportunity_status_name(k.parse().ok()).unwrap_or_else(|| k.clone()),
            (_, Some(k)) => names.staff_name(k.parse().ok()).unwrap_or_else(|| k.clone()),
        }
    };
    let to_row = |b: &crmconnect_domain::opportunities::ForecastBucket, label: String| ForecastRow {
        key: b.key.clone(),
        label,
        currency: b.currency.code().to_string(),
        count: b.count,
        total: b.total,
        weighted: b.weighted,
    };
    let rows_out: Vec<ForecastRow> = forecast_buckets(items.clone()).iter().map(|b| to_row(b, label(&b.key))).collect();
    let totals: Vec<ForecastRow> = forecast_buckets(items.into_iter().map(|(_, c, m, p)| (None, c, m, p))).iter().map(|b| to_row(b, "Total".into())).collect();
    Ok(HttpResponse::Ok().json(Forecast { group_by, rows: rows_out, totals }))
}
