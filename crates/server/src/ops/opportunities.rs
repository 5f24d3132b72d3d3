//! Opportunities: the queries and business operations below the HTTP handlers.

use crmconnect_domain::opportunities::check_probability;
use crmconnect_domain::permissions::{Module, ViewScope};
use crmconnect_domain::validation::Validator;
use sea_orm::sea_query::{Expr, Func, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use time::Date;
use utoipa::IntoParams;

use crate::auth::AuthUser;
use crate::db::Read;
use crate::entities::{lead, lead_tag, opportunity_status};
use crate::error::{ApiError, ApiResult};
use crate::ops::leads::assigned_condition;
use crate::ops::lookups::OPPORTUNITY_STATUSES;

pub async fn find_visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32) -> ApiResult<lead::Model> {
    visible(db, user, id, Read::Plain).await
}

/// [`find_visible`], locking the row until the transaction ends (write paths use this).
pub async fn lock_visible(txn: &impl ConnectionTrait, user: &AuthUser, id: i32) -> ApiResult<lead::Model> {
    visible(txn, user, id, Read::ForUpdate).await
}

pub async fn visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32, read: Read) -> ApiResult<lead::Model> {
    let scope = user.view_scope(Module::Opportunities)?;
    let o = read
        .apply(lead::Entity::find_by_id(id).filter(lead::Column::IsOpportunity.eq(true)))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("opportunity"))?;
    if matches!(scope, ViewScope::Own(me) if o.assigned_to != Some(me)) {
        return Err(ApiError::not_found("opportunity"));
    }
    Ok(o)
}

pub async fn check_status(v: &mut Validator, db: &impl ConnectionTrait, id: i32) -> ApiResult<()> {
    if OPPORTUNITY_STATUSES.find(db, id).await?.is_none() {
        v.push("opportunity_status_id", "not_found", format!("opportunity status {id} does not exist"));
    }
    Ok(())
}

/// The status a new opportunity starts in: the requested one if it exists (else a field error),
/// or the first opportunity status.
pub async fn initial_status(v: &mut Validator, db: &impl ConnectionTrait, requested: Option<i32>) -> ApiResult<Option<i32>> {
    match requested {
        Some(id) => {
            check_status(v, db, id).await?;
            Ok(Some(id))
        }
        None => Ok(OPPORTUNITY_STATUSES.first(db).await?.map(|s| s.id)),
    }
}

pub fn parse_date(field: &str, raw: &Option<String>) -> ApiResult<Option<Date>> {
    raw.as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| crmconnect_domain::dates::parse(s).ok_or_else(|| ApiError::field(field, "invalid_date", "use YYYY-MM-DD")))
        .transpose()
}

impl OpportunityFilter {
    pub fn condition(&self, user: &AuthUser, scope: ViewScope) -> ApiResult<Condition> {
        let mut c =
            Condition::all().add(lead::Column::IsOpportunity.eq(true)).add(lead::Column::Junk.eq(false)).add(lead::Column::Lost.eq(self.lost.unwrap_or(false)));
        if let ViewScope::Own(me) = scope {
            c = c.add(lead::Column::AssignedTo.eq(me));
        }
        if let Some(status) = self.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            c = c.add(match status.parse::<i32>() {
                Ok(id) => lead::Column::OpportunityStatusId.eq(id),
                Err(_) => lead::Column::OpportunityStatusId.in_subquery(
                    Query::select()
                        .column(opportunity_status::Column::Id)
                        .from(opportunity_status::Entity)
                        .and_where(Expr::expr(Func::lower(Expr::col(opportunity_status::Column::Name))).eq(status.to_lowercase()))
                        .to_owned(),
                ),
            });
        }
        if let Some(assigned) = assigned_condition(self.assigned.as_deref(), user, lead::Column::AssignedTo)? {
            c = c.add(assigned);
        }
        if let Some(source) = self.source_id {
            c = c.add(lead::Column::SourceId.eq(source));
        }
        if let Some(tag) = self.tag.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            c = c.add(
                lead::Column::Id.in_subquery(
                    Query::select()
                        .column(lead_tag::Column::LeadId)
                        .from(lead_tag::Entity)
                        .and_where(Expr::expr(Func::lower(Expr::col(lead_tag::Column::Tag))).eq(tag.to_lowercase()))
                        .to_owned(),
                ),
            );
        }
        if let Some(d) = parse_date("close_from", &self.close_from)? {
            c = c.add(lead::Column::ExpectedCloseDate.gte(d));
        }
        if let Some(d) = parse_date("close_to", &self.close_to)? {
            c = c.add(lead::Column::ExpectedCloseDate.lte(d));
        }
        for (field, value) in [("min_probability", self.min_probability), ("max_probability", self.max_probability)] {
            if let Some(p) = value {
                check_probability(p).map_err(|e| ApiError::field(field, e.code, e.message))?;
            }
        }
        if let Some(p) = self.min_probability {
            c = c.add(lead::Column::Probability.gte(p));
        }
        if let Some(p) = self.max_probability {
            c = c.add(lead::Column::Probability.lte(p));
        }
        if let Some(q) = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let pattern = format!("%{}%", q.to_lowercase());
            c = c.add(
                Condition::any()
                    .add(Expr::expr(Func::lower(Expr::col(lead::Column::Name))).like(pattern.clone()))
                    .add(Expr::col(lead::Column::Email).like(pattern.clone()))
                    .add(Expr::expr(Func::lower(Expr::col(lead::Column::Company))).like(pattern)),
            );
        }
        Ok(c)
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OpportunityFilter {
    /// An opportunity status id or name (case-insensitive).
    pub status: Option<String>,
    /// `me`, `none` or a staff id.
    pub assigned: Option<String>,
    /// Expected close date from (inclusive, `YYYY-MM-DD`).
    pub close_from: Option<String>,
    /// Expected close date to (inclusive).
    pub close_to: Option<String>,
    pub min_probability: Option<i32>,
    pub max_probability: Option<i32>,
    /// Search in name, e-mail and company.
    pub q: Option<String>,
    pub source_id: Option<i32>,
    pub tag: Option<String>,
    /// `true`: only lost ones (hidden otherwise).
    pub lost: Option<bool>,
}
