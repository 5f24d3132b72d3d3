//! Global search: `GET /api/v1/search?q=` over leads, opportunities and clients, each list
//! filtered by the caller's permissions (a type the caller cannot see is simply empty).

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{Problem, SearchResults};
use crmconnect_domain::permissions::{Module, ViewScope};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::AuthUser;
use crate::entities::{client, lead};
use crate::ops::leads::LeadFilter;
use crate::ops::leads::{load_many_with, LeadNames};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

pub const PER_TYPE: u64 = 10;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// At least 2 characters: name, e-mail, company, phone, VAT number.
    pub q: String,
}

/// Search everything you may see.
#[utoipa::path(get, path = "/api/v1/search", operation_id = "searchRecords", tag = "leads", security(("bearer" = [])), params(SearchParams),
    responses((status = 200, body = SearchResults), (status = 422, description = "`validation_failed`: `q` is missing or too short; see `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn search(state: web::Data<AppState>, user: AuthUser, params: web::Query<SearchParams>) -> ApiResult<HttpResponse> {
    let q = params.q.trim().to_string();
    if q.chars().count() < 2 {
        return Err(ApiError::field("q", "too_short", "search for at least 2 characters"));
    }
    let names = LeadNames::load(&state.db).await?;
    let mut results = SearchResults { q: q.clone(), leads: Vec::new(), opportunities: Vec::new(), clients: Vec::new() };

    if let Ok(scope) = user.view_scope(Module::Leads) {
        let filter = LeadFilter { q: Some(q.clone()), ..Default::default() };
        let rows = lead::Entity::find().filter(filter.condition(&user, scope)?).order_by_desc(lead::Column::Id).limit(PER_TYPE).all(&state.db).await?;
        results.leads = load_many_with(&state.db, &names, &rows).await?;
    }
    if let Ok(scope) = user.view_scope(Module::Opportunities) {
        let pattern = format!("%{}%", q.to_lowercase());
        let mut cond = Condition::all().add(lead::Column::IsOpportunity.eq(true)).add(lead::Column::Junk.eq(false)).add(
            Condition::any()
                .add(Expr::expr(Func::lower(Expr::col(lead::Column::Name))).like(pattern.clone()))
                .add(Expr::col(lead::Column::Email).like(pattern.clone()))
                .add(Expr::expr(Func::lower(Expr::col(lead::Column::Company))).like(pattern)),
        );
        if let ViewScope::Own(me) = scope {
            cond = cond.add(lead::Column::AssignedTo.eq(me));
        }
        let rows = lead::Entity::find().filter(cond).order_by_desc(lead::Column::Id).limit(PER_TYPE).all(&state.db).await?;
        results.opportunities = load_many_with(&state.db, &names, &rows).await?;
    }
    if let Ok(scope) = user.view_scope(Module::Clients) {
        let pattern = format!("%{}%", q.to_lowercase());
        let mut cond = Condition::any()
            .add(Expr::expr(Func::lower(Expr::col(client::Column::Company))).like(pattern.clone()))
            .add(Expr::expr(Func::lower(Expr::col(client::Column::VatNumber))).like(pattern));
        if let ViewScope::Own(me) = scope {
            cond = Condition::all().add(cond).add(client::Column::AssignedTo.eq(me));
        }
        let rows = client::Entity::find().filter(cond).order_by_asc(client::Column::Company).limit(PER_TYPE).all(&state.db).await?;
        results.clients = crate::ops::clients::load_many(&state.db, &rows).await?;
    }
    Ok(HttpResponse::Ok().json(results))
}
