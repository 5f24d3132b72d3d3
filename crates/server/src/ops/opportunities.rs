//! Opportunities: the queries and business operations below the HTTP handlers.

use crmconnect_domain::api::{CreateLead, CreateOpportunity};
use crmconnect_domain::opportunities::check_probability;
use crmconnect_domain::permissions::{Module, ViewScope};
use crmconnect_domain::validation::Validator;
use sea_orm::sea_query::{Expr, Func, Query};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use time::{Date, OffsetDateTime};
use utoipa::IntoParams;

use crate::auth::AuthUser;
use crate::db::Read;
use crate::documents;
use crate::entities::{client, lead, lead_tag, opportunity_status};
use crate::error::{Error, Result};
use crate::ops::leads::assigned_condition;
use crate::ops::lookups::OPPORTUNITY_STATUSES;

pub async fn find_visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<lead::Model> {
    visible(db, user, id, Read::Plain).await
}

/// [`find_visible`], locking the row until the transaction ends (write paths use this).
pub async fn lock_visible(txn: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<lead::Model> {
    visible(txn, user, id, Read::ForUpdate).await
}

pub async fn visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32, read: Read) -> Result<lead::Model> {
    let scope = user.view_scope(Module::Opportunities)?;
    let o =
        read.apply(lead::Entity::find_by_id(id).filter(lead::Column::IsOpportunity.eq(true))).one(db).await?.ok_or_else(|| Error::not_found("opportunity"))?;
    if matches!(scope, ViewScope::Own(me) if o.assigned_to != Some(me)) {
        return Err(Error::not_found("opportunity"));
    }
    Ok(o)
}

pub async fn check_status(v: &mut Validator, db: &impl ConnectionTrait, id: i32) -> Result<()> {
    if OPPORTUNITY_STATUSES.find(db, id).await?.is_none() {
        v.push("opportunity_status_id", "not_found", format!("opportunity status {id} does not exist"));
    }
    Ok(())
}

/// The status a new opportunity starts in: the requested one if it exists (else a field error),
/// or the first opportunity status.
pub async fn initial_status(v: &mut Validator, db: &impl ConnectionTrait, requested: Option<i32>) -> Result<Option<i32>> {
    match requested {
        Some(id) => {
            check_status(v, db, id).await?;
            Ok(Some(id))
        }
        None => Ok(OPPORTUNITY_STATUSES.first(db).await?.map(|s| s.id)),
    }
}

pub fn parse_date(field: &str, raw: &Option<String>) -> Result<Option<Date>> {
    raw.as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| crmconnect_domain::dates::parse(s).ok_or_else(|| Error::field(field, "invalid_date", "use YYYY-MM-DD")))
        .transpose()
}

impl OpportunityFilter {
    pub fn condition(&self, user: &AuthUser, scope: ViewScope) -> Result<Condition> {
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
                check_probability(p).map_err(|e| Error::field(field, e.code, e.message))?;
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

/// Validates and inserts an opportunity added directly (`POST /opportunities`), in the caller's
/// transaction. With `client_id` the client (and its primary contact) supply what the body
/// leaves out, and the opportunity is marked as that client's, so converting its proposal bills
/// the client instead of creating a second one. The caller writes the audit entry and event.
pub async fn create_direct(txn: &impl ConnectionTrait, user: &AuthUser, b: CreateOpportunity) -> Result<lead::Model> {
    let mut v = Validator::new();
    let probability = v.check("probability", check_probability(b.probability));
    let status_id = initial_status(&mut v, txn, b.opportunity_status_id).await?;
    let client = documents::requested_client(txn, user, &mut v, b.client_id, false).await?;
    v.finish().map_err(Error::validation)?;
    let contact = match &client {
        Some(c) => crate::ops::clients::primary_contact(txn, c.id).await?,
        None => None,
    };
    let pick = |given: Option<String>, from_client: Option<String>| given.filter(|s| !s.trim().is_empty()).or(from_client);
    let of_client = |field: fn(&client::Model) -> Option<String>| client.as_ref().and_then(field);
    let name = pick(b.name, contact.as_ref().map(|x| x.name.clone())).or_else(|| of_client(|c| Some(c.company.clone()))).unwrap_or_default();
    let lead_body = CreateLead {
        name,
        company: pick(b.company, of_client(|c| Some(c.company.clone()))),
        title: pick(b.title, contact.as_ref().and_then(|x| x.title.clone())),
        email: pick(b.email, contact.as_ref().and_then(|x| x.email.clone())),
        phone: pick(b.phone, contact.as_ref().and_then(|x| x.phone.clone()).or_else(|| of_client(|c| c.phone.clone()))),
        website: pick(b.website, of_client(|c| c.website.clone())),
        address: pick(b.address, of_client(|c| c.address.clone())),
        city: pick(b.city, of_client(|c| c.city.clone())),
        country: pick(b.country, of_client(|c| c.country.clone())),
        source_id: b.source_id,
        assigned_to: b.assigned_to.or(Some(user.id())),
        estimated_value: Some(b.estimated_value),
        currency: Some(b.currency),
        description: b.description,
        tags: b.tags,
        ..Default::default()
    };
    let client_id = client.as_ref().map(|c| c.id);
    let now = OffsetDateTime::now_utc();
    crate::ops::leads::insert_new(txn, user, lead_body, |row| {
        row.is_opportunity = Set(true);
        row.probability = Set(probability.map(i32::from));
        row.expected_close_date = Set(b.expected_close_date);
        row.opportunity_status_id = Set(status_id);
        row.converted_client_id = Set(client_id);
        row.converted_at = Set(client_id.map(|_| now));
        Ok(())
    })
    .await
}
