//! Leads: the queries and business operations below the HTTP handlers.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use crmconnect_domain::api::{CreateLead, Lead, UpdateLead};
use crmconnect_domain::leads::{normalize_tags, parse_phone, phone_key, POSITION_GAP};
use crmconnect_domain::money::{non_negative_minor, Currency};
use crmconnect_domain::permissions::{Module, ViewScope};
use crmconnect_domain::validation::{parse_name, EmailAddress, Validator};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, Func, Query};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::{Duration, OffsetDateTime, Time};
use utoipa::IntoParams;

use crate::auth::AuthUser;
use crate::db::Read;
use crate::entities::{lead, lead_source, lead_status_change, lead_tag, lost_reason, opportunity_status, pipeline_status, reminder, staff};
use crate::error::{Error, ErrorCode, Result};
use crate::ops::lookups::SOURCES;
use crate::ops::pipelines::{default_pipeline, find_pipeline, statuses_of};
use crate::outbox;

/// Names referenced by leads, loaded once per request (small configuration tables).
#[derive(Clone)]
pub struct LeadNames {
    pub statuses: HashMap<i32, String>,
    pub sources: HashMap<i32, String>,
    pub staff: HashMap<i32, String>,
    pub lost_reasons: HashMap<i32, String>,
    pub opportunity_statuses: HashMap<i32, String>,
}

impl LeadNames {
    pub async fn load(db: &impl ConnectionTrait) -> Result<LeadNames> {
        Ok(LeadNames {
            statuses: pipeline_status::Entity::find().all(db).await?.into_iter().map(|s| (s.id, s.name)).collect(),
            sources: lead_source::Entity::find().all(db).await?.into_iter().map(|s| (s.id, s.name)).collect(),
            staff: staff::Entity::find().all(db).await?.into_iter().map(|s| (s.id, s.name)).collect(),
            lost_reasons: lost_reason::Entity::find().all(db).await?.into_iter().map(|s| (s.id, s.name)).collect(),
            opportunity_statuses: opportunity_status::Entity::find().all(db).await?.into_iter().map(|s| (s.id, s.name)).collect(),
        })
    }

    pub fn staff_name(&self, id: Option<i32>) -> Option<String> {
        id.and_then(|id| self.staff.get(&id).cloned())
    }

    pub fn status_name(&self, id: i32) -> Option<String> {
        self.statuses.get(&id).cloned()
    }

    pub fn opportunity_status_name(&self, id: Option<i32>) -> Option<String> {
        id.and_then(|id| self.opportunity_statuses.get(&id).cloned())
    }
}

pub fn to_api(l: &lead::Model, tags: Vec<String>, names: &LeadNames) -> Lead {
    Lead {
        id: l.id,
        name: l.name.clone(),
        company: l.company.clone(),
        title: l.title.clone(),
        email: l.email.clone(),
        phone: l.phone.clone(),
        website: l.website.clone(),
        address: l.address.clone(),
        city: l.city.clone(),
        country: l.country.clone(),
        industry: l.industry.clone(),
        area: l.area.clone(),
        company_size: l.company_size.clone(),
        source_id: l.source_id,
        source: l.source_id.and_then(|id| names.sources.get(&id).cloned()),
        pipeline_id: l.pipeline_id,
        status_id: l.status_id,
        status: names.statuses.get(&l.status_id).cloned().unwrap_or_default(),
        assigned_to: l.assigned_to,
        assigned_to_name: names.staff_name(l.assigned_to),
        estimated_value: crmconnect_domain::money::amount_of(l.estimated_value_minor, l.currency.as_deref()),
        currency: l.currency.clone(),
        description: l.description.clone(),
        tags,
        score: l.score,
        is_opportunity: l.is_opportunity,
        lost: l.lost,
        lost_reason_id: l.lost_reason_id,
        lost_reason: l.lost_reason_id.and_then(|id| names.lost_reasons.get(&id).cloned()),
        junk: l.junk,
        converted_client_id: l.converted_client_id,
        converted_at: l.converted_at,
        last_contacted_at: l.last_contacted_at,
        last_status_change_at: l.last_status_change_at,
        created_at: l.created_at,
        updated_at: l.updated_at,
        probability: l.probability,
        expected_close_date: l.expected_close_date,
        opportunity_status_id: l.opportunity_status_id,
        opportunity_status: names.opportunity_status_name(l.opportunity_status_id),
        origin_lead_id: l.origin_lead_id,
        custom_fields: serde_json::Map::new(),
    }
}

/// Fills the `custom_fields` objects of API leads.
pub async fn fill_custom(db: &impl ConnectionTrait, leads: &mut [Lead]) -> Result<()> {
    let ids: Vec<i32> = leads.iter().map(|l| l.id).collect();
    let mut values = crate::custom_fields::values_of(db, crate::custom_fields::LEAD, &ids).await?;
    for l in leads.iter_mut() {
        l.custom_fields = values.remove(&l.id).unwrap_or_default();
    }
    Ok(())
}

/// Tags of many leads at once, in insertion order.
pub async fn tags_of(db: &impl ConnectionTrait, ids: &[i32]) -> Result<HashMap<i32, Vec<String>>> {
    let mut out: HashMap<i32, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for t in lead_tag::Entity::find().filter(lead_tag::Column::LeadId.is_in(ids.to_vec())).all(db).await? {
        out.entry(t.lead_id).or_default().push(t.tag);
    }
    Ok(out)
}

pub async fn reload(db: &impl ConnectionTrait, id: i32) -> Result<lead::Model> {
    lead::Entity::find_by_id(id).one(db).await?.ok_or_else(|| Error::not_found("lead"))
}

pub async fn load_api(db: &impl ConnectionTrait, l: &lead::Model) -> Result<Lead> {
    let names = LeadNames::load(db).await?;
    Ok(load_many_with(db, &names, std::slice::from_ref(l)).await?.remove(0))
}

/// API leads for many rows: names, tags and custom fields each loaded in one query.
pub async fn load_many(db: &impl ConnectionTrait, rows: &[lead::Model]) -> Result<Vec<Lead>> {
    let names = LeadNames::load(db).await?;
    load_many_with(db, &names, rows).await
}

pub async fn load_many_with(db: &impl ConnectionTrait, names: &LeadNames, rows: &[lead::Model]) -> Result<Vec<Lead>> {
    let mut tags = tags_of(db, &rows.iter().map(|l| l.id).collect::<Vec<_>>()).await?;
    let mut items: Vec<Lead> = rows.iter().map(|l| to_api(l, tags.remove(&l.id).unwrap_or_default(), names)).collect();
    fill_custom(db, &mut items).await?;
    Ok(items)
}

/// A lead the caller may see (`view_own` → only assigned to them); 404 otherwise.
pub async fn find_visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<lead::Model> {
    visible(db, user, id, Read::Plain).await
}

/// [`find_visible`], locking the row until the transaction ends (write paths use this).
pub async fn lock_visible(txn: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<lead::Model> {
    visible(txn, user, id, Read::ForUpdate).await
}

pub async fn visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32, read: Read) -> Result<lead::Model> {
    let scope = user.view_scope(Module::Leads)?;
    let lead = read.apply(lead::Entity::find_by_id(id).filter(lead::Column::IsOpportunity.eq(false))).one(db).await?.ok_or_else(|| Error::not_found("lead"))?;
    if let ViewScope::Own(me) = scope {
        if lead.assigned_to != Some(me) {
            return Err(Error::not_found("lead"));
        }
    }
    Ok(lead)
}

/// Every editable field, before validation: built from a create body, or from a stored lead
/// with a PATCH applied, so both paths enforce the same rules.
#[derive(Debug, Clone, Default)]
pub struct LeadDraft {
    pub name: String,
    pub company: Option<String>,
    pub title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub industry: Option<String>,
    pub area: Option<String>,
    pub company_size: Option<String>,
    pub source_id: Option<i32>,
    pub pipeline_id: Option<i32>,
    pub status_id: Option<i32>,
    pub assigned_to: Option<i32>,
    pub estimated_value: Option<Decimal>,
    pub currency: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
}

impl From<CreateLead> for LeadDraft {
    fn from(b: CreateLead) -> Self {
        LeadDraft {
            name: b.name,
            company: b.company,
            title: b.title,
            email: b.email,
            phone: b.phone,
            website: b.website,
            address: b.address,
            city: b.city,
            country: b.country,
            industry: b.industry,
            area: b.area,
            company_size: b.company_size,
            source_id: b.source_id,
            pipeline_id: b.pipeline_id,
            status_id: b.status_id,
            assigned_to: b.assigned_to,
            estimated_value: b.estimated_value,
            currency: b.currency,
            description: b.description,
            tags: b.tags,
        }
    }
}

impl LeadDraft {
    pub fn from_model(l: &lead::Model, tags: Vec<String>) -> Self {
        LeadDraft {
            name: l.name.clone(),
            company: l.company.clone(),
            title: l.title.clone(),
            email: l.email.clone(),
            phone: l.phone.clone(),
            website: l.website.clone(),
            address: l.address.clone(),
            city: l.city.clone(),
            country: l.country.clone(),
            industry: l.industry.clone(),
            area: l.area.clone(),
            company_size: l.company_size.clone(),
            source_id: l.source_id,
            pipeline_id: Some(l.pipeline_id),
            status_id: Some(l.status_id),
            assigned_to: l.assigned_to,
            estimated_value: crmconnect_domain::money::amount_of(l.estimated_value_minor, l.currency.as_deref()),
            currency: l.currency.clone(),
            description: l.description.clone(),
            tags,
        }
    }

    pub fn apply(&mut self, p: UpdateLead) {
        fn set<T>(slot: &mut Option<T>, patch: Option<Option<T>>) {
            if let Some(v) = patch {
                *slot = v;
            }
        }
        if let Some(n) = p.name {
            self.name = n;
        }
        set(&mut self.company, p.company);
        set(&mut self.title, p.title);
        set(&mut self.email, p.email);
        set(&mut self.phone, p.phone);
        set(&mut self.website, p.website);
        set(&mut self.address, p.address);
        set(&mut self.city, p.city);
        set(&mut self.country, p.country);
        set(&mut self.industry, p.industry);
        set(&mut self.area, p.area);
        set(&mut self.company_size, p.company_size);
        set(&mut self.source_id, p.source_id);
        set(&mut self.assigned_to, p.assigned_to);
        set(&mut self.estimated_value, p.estimated_value);
        set(&mut self.currency, p.currency);
        set(&mut self.description, p.description);
        if let Some(s) = p.status_id {
            self.status_id = Some(s);
        }
        if let Some(t) = p.tags {
            self.tags = t;
        }
    }
}

/// A draft that passed every rule, ready to store.
pub struct ValidLead {
    pub name: String,
    pub company: Option<String>,
    pub title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub phone_key: Option<String>,
    pub website: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub industry: Option<String>,
    pub area: Option<String>,
    pub company_size: Option<String>,
    pub source_id: Option<i32>,
    pub pipeline_id: i32,
    pub status_id: i32,
    pub assigned_to: Option<i32>,
    pub estimated_value_minor: Option<i64>,
    pub currency: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
}

/// Trimmed optional text; empty means absent.
pub fn opt_text(v: &mut Validator, field: &str, value: &Option<String>, max: usize) -> Option<String> {
    let s = value.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    if s.chars().count() > max {
        v.push(field, "too_long", format!("must have at most {max} characters"));
        return None;
    }
    Some(s.to_string())
}

pub async fn validate(db: &impl ConnectionTrait, d: LeadDraft) -> Result<ValidLead> {
    let mut v = Validator::new();
    let name = v.check("name", parse_name(&d.name, 200));
    let email = opt_text(&mut v, "email", &d.email, 254).and_then(|e| v.check("email", EmailAddress::parse(&e)));
    let phone = opt_text(&mut v, "phone", &d.phone, 40).and_then(|p| v.check("phone", parse_phone(&p)));
    if d.email.as_deref().is_none_or(|e| e.trim().is_empty()) && d.phone.as_deref().is_none_or(|p| p.trim().is_empty()) {
        v.push("email", "email_or_phone_required", "give an e-mail address or a phone number");
    }
    let currency = opt_text(&mut v, "currency", &d.currency, 3).and_then(|c| v.check("currency", Currency::parse(&c)));
    let estimated_value_minor = match (d.estimated_value, currency) {
        (None, _) => None,
        (Some(amount), Some(c)) => v.check("estimated_value", non_negative_minor(amount, c)),
        (Some(_), None) => {
            if d.currency.is_none() {
                v.push("currency", "required", "give the currency of estimated_value");
            }
            None
        }
    };
    let tags = v.check("tags", normalize_tags(&d.tags)).unwrap_or_default();
    let fields = ValidLeadText {
        company: opt_text(&mut v, "company", &d.company, 200),
        title: opt_text(&mut v, "title", &d.title, 100),
        website: opt_text(&mut v, "website", &d.website, 300),
        address: opt_text(&mut v, "address", &d.address, 1000),
        city: opt_text(&mut v, "city", &d.city, 100),
        country: opt_text(&mut v, "country", &d.country, 100),
        industry: opt_text(&mut v, "industry", &d.industry, 100),
        area: opt_text(&mut v, "area", &d.area, 100),
        company_size: opt_text(&mut v, "company_size", &d.company_size, 50),
        description: opt_text(&mut v, "description", &d.description, 10_000),
    };

    // References to other records.
    if let Some(id) = d.source_id {
        if SOURCES.find(db, id).await?.is_none() {
            v.push("source_id", "not_found", format!("lead source {id} does not exist"));
        }
    }
    if let Some(id) = d.assigned_to {
        if !staff::Entity::find_by_id(id).one(db).await?.is_some_and(|s| s.active) {
            v.push("assigned_to", "not_found", format!("no active staff member {id}"));
        }
    }
    let pipeline = match d.pipeline_id {
        Some(id) => match find_pipeline(db, id).await {
            Ok(p) => Some(p),
            Err(_) => {
                v.push("pipeline_id", "not_found", format!("pipeline {id} does not exist"));
                None
            }
        },
        None => Some(default_pipeline(db).await?),
    };
    let mut status_id = None;
    if let Some(p) = &pipeline {
        let statuses = statuses_of(db, p.id).await?;
        match d.status_id {
            Some(id) if statuses.iter().any(|s| s.id == id) => status_id = Some(id),
            Some(id) => {
                let code = if pipeline_status::Entity::find_by_id(id).one(db).await?.is_some() { "wrong_pipeline" } else { "not_found" };
                v.push("status_id", code, format!("status {id} is not a status of pipeline `{}`", p.name));
            }
            None => match statuses.first() {
                Some(s) => status_id = Some(s.id),
                None => v.push("status_id", "required", format!("pipeline `{}` has no statuses", p.name)),
            },
        }
    }
    let ((name, pipeline), status_id) = Error::validated(v, name.zip(pipeline).zip(status_id))?;
    Ok(ValidLead {
        name,
        company: fields.company,
        title: fields.title,
        phone_key: phone.as_deref().map(phone_key),
        email: email.map(EmailAddress::into_inner),
        phone,
        website: fields.website,
        address: fields.address,
        city: fields.city,
        country: fields.country,
        industry: fields.industry,
        area: fields.area,
        company_size: fields.company_size,
        source_id: d.source_id,
        pipeline_id: pipeline.id,
        status_id,
        assigned_to: d.assigned_to,
        estimated_value_minor,
        currency: if estimated_value_minor.is_some() || d.currency.is_some() { currency.map(|c| c.code().to_string()) } else { None },
        description: fields.description,
        tags,
    })
}

pub struct ValidLeadText {
    pub company: Option<String>,
    pub title: Option<String>,
    pub website: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub industry: Option<String>,
    pub area: Option<String>,
    pub company_size: Option<String>,
    pub description: Option<String>,
}

impl ValidLead {
    pub fn write_to(&self, row: &mut lead::ActiveModel) {
        row.name = Set(self.name.clone());
        row.company = Set(self.company.clone());
        row.title = Set(self.title.clone());
        row.email = Set(self.email.clone());
        row.phone = Set(self.phone.clone());
        row.phone_key = Set(self.phone_key.clone());
        row.website = Set(self.website.clone());
        row.address = Set(self.address.clone());
        row.city = Set(self.city.clone());
        row.country = Set(self.country.clone());
        row.industry = Set(self.industry.clone());
        row.area = Set(self.area.clone());
        row.company_size = Set(self.company_size.clone());
        row.source_id = Set(self.source_id);
        row.pipeline_id = Set(self.pipeline_id);
        row.status_id = Set(self.status_id);
        row.assigned_to = Set(self.assigned_to);
        row.estimated_value_minor = Set(self.estimated_value_minor);
        row.currency = Set(self.currency.clone());
        row.description = Set(self.description.clone());
    }
}

pub async fn replace_tags(db: &impl ConnectionTrait, lead_id: i32, tags: &[String]) -> Result<()> {
    lead_tag::Entity::delete_many().filter(lead_tag::Column::LeadId.eq(lead_id)).exec(db).await?;
    if !tags.is_empty() {
        let rows = tags.iter().map(|t| lead_tag::ActiveModel { lead_id: Set(lead_id), tag: Set(t.clone()) });
        lead_tag::Entity::insert_many(rows).exec(db).await?;
    }
    Ok(())
}

/// Position for a card arriving at the top of a column.
/// The position above the first card of a column. Locks the column (its status row) for the
/// rest of the caller's transaction, so two cards put on top at once get distinct positions.
pub async fn top_position(db: &impl ConnectionTrait, status_id: i32, except: Option<i32>) -> Result<i64> {
    Read::ForUpdate.apply(pipeline_status::Entity::find_by_id(status_id)).one(db).await?;
    let mut q = lead::Entity::find()
        .filter(lead::Column::StatusId.eq(status_id))
        .filter(lead::Column::Lost.eq(false))
        .filter(lead::Column::Junk.eq(false))
        .filter(lead::Column::IsOpportunity.eq(false))
        .order_by_asc(lead::Column::Position)
        .limit(1);
    if let Some(id) = except {
        q = q.filter(lead::Column::Id.ne(id));
    }
    Ok(q.one(db).await?.map_or(0, |l| l.position - POSITION_GAP))
}

/// Records a status change in the lead's history and emits `lead_status_changed`.
pub async fn record_status_change(db: &impl ConnectionTrait, lead: &lead::Model, from: Option<i32>, staff_id: Option<i32>, at: OffsetDateTime) -> Result<()> {
    lead_status_change::ActiveModel {
        lead_id: Set(lead.id),
        from_status_id: Set(from),
        to_status_id: Set(lead.status_id),
        staff_id: Set(staff_id),
        at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    if from.is_some() {
        let payload = json!({
            "lead_id": lead.id,
            "pipeline_id": lead.pipeline_id,
            "from_status_id": from,
            "to_status_id": lead.status_id,
            "assigned_to": lead.assigned_to,
            "changed_by": staff_id,
            "at": at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        });
        outbox::emit(db, "lead.status_changed", "lead", lead.id, payload).await?;
    }
    Ok(())
}

/// Validates and inserts a new funnel record in the caller's transaction: the lead rules
/// (contact, pipeline and status defaults, value, tags, custom fields, scoring), then `extra`
/// sets what a direct opportunity adds. The caller writes the audit entry and the event.
pub async fn insert_new(
    txn: &impl ConnectionTrait,
    user: &AuthUser,
    mut body: CreateLead,
    extra: impl FnOnce(&mut lead::ActiveModel) -> Result<()>,
) -> Result<lead::Model> {
    let custom = std::mem::take(&mut body.custom_fields);
    // Someone who sees only their own leads gets what they add (else it vanishes from their view).
    if body.assigned_to.is_none() && matches!(user.view_scope(Module::Leads), Ok(ViewScope::Own(_))) {
        body.assigned_to = Some(user.id());
    }
    let valid = validate(txn, LeadDraft::from(body)).await?;
    let defs = crate::custom_fields::definitions(txn, crate::custom_fields::LEAD).await?;
    let custom = crate::custom_fields::validate(&defs, &custom, true).map_err(Error::validation)?;
    let now = OffsetDateTime::now_utc();
    let mut row = lead::ActiveModel {
        position: Set(top_position(txn, valid.status_id, None).await?),
        score: Set(0),
        is_opportunity: Set(false),
        lost: Set(false),
        lost_reason_id: Set(None),
        junk: Set(false),
        converted_client_id: Set(None),
        converted_at: Set(None),
        last_contacted_at: Set(None),
        last_status_change_at: Set(now),
        created_by: Set(Some(user.id())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    valid.write_to(&mut row);
    extra(&mut row)?;
    let saved = row.insert(txn).await?;
    replace_tags(txn, saved.id, &valid.tags).await?;
    crate::custom_fields::save(txn, saved.id, custom).await?;
    record_status_change(txn, &saved, None, Some(user.id()), now).await?;
    crate::scoring::rescore(txn, Some(&[saved.id])).await?;
    reload(txn, saved.id).await
}

/// The `assigned` filter of lists: `me`, `none` or a staff id.
pub fn assigned_condition<C: ColumnTrait>(raw: Option<&str>, user: &AuthUser, column: C) -> Result<Option<Condition>> {
    let expr = match raw.map(str::trim) {
        None | Some("") => return Ok(None),
        Some("me") => column.eq(user.id()),
        Some("none") => column.is_null(),
        Some(id) => column.eq(id.parse::<i32>().map_err(|_| Error::field("assigned", "invalid", "use `me`, `none` or a staff id"))?),
    };
    Ok(Some(Condition::all().add(expr)))
}

impl LeadFilter {
    /// [`Self::condition`] plus the `cf.<key>=…` custom field filters of the query string.
    pub async fn with_custom_fields(
        &self,
        db: &impl ConnectionTrait,
        user: &AuthUser,
        scope: ViewScope,
        custom: &HashMap<String, String>,
    ) -> Result<Condition> {
        Ok(self.condition(user, scope)?.add(crate::custom_fields::filter(db, crate::custom_fields::LEAD, lead::Column::Id, custom).await?))
    }

    /// The conditions, including the caller's `view_own` restriction.
    pub fn condition(&self, user: &AuthUser, scope: ViewScope) -> Result<Condition> {
        let mut c = Condition::all().add(lead::Column::IsOpportunity.eq(false));
        if let ViewScope::Own(me) = scope {
            c = c.add(lead::Column::AssignedTo.eq(me));
        }
        if let Some(p) = self.pipeline_id {
            c = c.add(lead::Column::PipelineId.eq(p));
        }
        if let Some(status) = self.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            c = c.add(match status.parse::<i32>() {
                Ok(id) => lead::Column::StatusId.eq(id),
                Err(_) => lead::Column::StatusId.in_subquery(
                    Query::select()
                        .column(pipeline_status::Column::Id)
                        .from(pipeline_status::Entity)
                        .and_where(Expr::expr(Func::lower(Expr::col(pipeline_status::Column::Name))).eq(status.to_lowercase()))
                        .to_owned(),
                ),
            });
        }
        if let Some(assigned) = assigned_condition(self.assigned.as_deref(), user, lead::Column::AssignedTo)? {
            c = c.add(assigned);
        }
        if let Some(s) = self.source_id {
            c = c.add(lead::Column::SourceId.eq(s));
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
        let now = OffsetDateTime::now_utc();
        match self.created.as_deref() {
            None | Some("") => {}
            Some("today") => c = c.add(lead::Column::CreatedAt.gte(now.replace_time(Time::MIDNIGHT))),
            Some(_) => return Err(Error::field("created", "invalid", "the only supported value is `today`")),
        }
        if let Some(days) = self.stagnant_days {
            if days < 0 {
                return Err(Error::field("stagnant_days", "out_of_range", "must be 0 or more"));
            }
            c = c.add(lead::Column::LastStatusChangeAt.lte(now - Duration::days(days)));
        }
        c = c.add(lead::Column::Lost.eq(self.lost.unwrap_or(false)));
        c = c.add(lead::Column::Junk.eq(self.junk.unwrap_or(false)));
        if self.uncontacted == Some(true) {
            c = c.add(lead::Column::LastContactedAt.is_null());
        } else if self.uncontacted == Some(false) {
            c = c.add(lead::Column::LastContactedAt.is_not_null());
        }
        if let Some(no_followup) = self.no_followup {
            let planned = Query::select()
                .column(reminder::Column::LeadId)
                .from(reminder::Entity)
                .and_where(reminder::Column::DoneAt.is_null())
                .and_where(reminder::Column::RemindAt.gt(now))
                .to_owned();
            c = c.add(if no_followup { lead::Column::Id.not_in_subquery(planned) } else { lead::Column::Id.in_subquery(planned) });
        }
        if let Some(q) = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let pattern = format!("%{}%", q.to_lowercase());
            let mut any = Condition::any()
                .add(Expr::expr(Func::lower(Expr::col(lead::Column::Name))).like(pattern.clone()))
                .add(Expr::col(lead::Column::Email).like(pattern.clone()))
                .add(Expr::expr(Func::lower(Expr::col(lead::Column::Company))).like(pattern));
            let digits = phone_key(q);
            if digits.trim_start_matches('+').len() >= 3 {
                any = any.add(lead::Column::PhoneKey.like(format!("%{}%", digits.trim_start_matches('+'))));
            }
            c = c.add(any);
        }
        Ok(c)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sort {
    Newest,
    Oldest,
    ScoreDesc,
    ScoreAsc,
    NameAsc,
    NameDesc,
    UpdatedAsc,
    UpdatedDesc,
}

/// Keyset position: the sort key's value and the id of the last row of a page.
#[derive(Debug, Serialize, Deserialize)]
pub struct SortCursor {
    pub k: serde_json::Value,
    pub id: i32,
}

impl Sort {
    pub fn parse(s: Option<&str>) -> Result<Sort> {
        Ok(match s.unwrap_or("-created_at") {
            "-created_at" | "-id" => Sort::Newest,
            "created_at" | "id" => Sort::Oldest,
            "-score" => Sort::ScoreDesc,
            "score" => Sort::ScoreAsc,
            "name" => Sort::NameAsc,
            "-name" => Sort::NameDesc,
            "updated_at" => Sort::UpdatedAsc,
            "-updated_at" => Sort::UpdatedDesc,
            other => {
                return Err(Error::field("sort", "invalid", format!("cannot sort by `{other}`; use created_at, updated_at, score or name, `-` for descending")))
            }
        })
    }

    pub fn descending(self) -> bool {
        matches!(self, Sort::Newest | Sort::ScoreDesc | Sort::NameDesc | Sort::UpdatedDesc)
    }

    /// Orders a query by this sort, ties broken by id in the same direction (what the keyset
    /// cursor relies on).
    pub fn apply(self, q: sea_orm::Select<lead::Entity>) -> sea_orm::Select<lead::Entity> {
        let order = if self.descending() { sea_orm::Order::Desc } else { sea_orm::Order::Asc };
        let q = match self {
            Sort::Newest | Sort::Oldest => q,
            Sort::ScoreDesc | Sort::ScoreAsc => q.order_by(lead::Column::Score, order.clone()),
            Sort::NameAsc | Sort::NameDesc => q.order_by(lead::Column::Name, order.clone()),
            Sort::UpdatedAsc | Sort::UpdatedDesc => q.order_by(lead::Column::UpdatedAt, order.clone()),
        };
        q.order_by(lead::Column::Id, order)
    }

    pub fn key(self, l: &lead::Model) -> serde_json::Value {
        match self {
            Sort::Newest | Sort::Oldest => json!(l.id),
            Sort::ScoreDesc | Sort::ScoreAsc => json!(l.score),
            Sort::NameAsc | Sort::NameDesc => json!(l.name),
            // Nanoseconds, so the cursor's tie test matches the stored value exactly.
            Sort::UpdatedAsc | Sort::UpdatedDesc => json!(l.updated_at.unix_timestamp_nanos() as i64),
        }
    }
}

pub fn decode_sort_cursor(raw: &str) -> Result<SortCursor> {
    let invalid = || Error::refused(ErrorCode::InvalidCursor, "Pass back `next_cursor` exactly as received, with the same `sort`.");
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

/// The most rows one export returns; narrow the filters for more.
pub const EXPORT_MAX_ROWS: u64 = 1_000_000;
/// Rows read, loaded and written per step of an export: the `IN (…)` lists of its tag and
/// custom-field queries stay far below every database's bind-parameter limit, and memory stays
/// flat however many leads there are.
pub const EXPORT_CHUNK_ROWS: u64 = 2_000;

/// One chunk of an export, in `sort` order: at most [`EXPORT_CHUNK_ROWS`] leads from `offset`.
pub async fn export_chunk(db: &impl ConnectionTrait, names: &LeadNames, cond: Condition, sort: Sort, offset: u64) -> Result<Vec<Lead>> {
    let limit = EXPORT_CHUNK_ROWS.min(EXPORT_MAX_ROWS.saturating_sub(offset));
    if limit == 0 {
        return Ok(Vec::new());
    }
    let rows = sort.apply(lead::Entity::find().filter(cond)).offset(offset).limit(limit).all(db).await?;
    load_many_with(db, names, &rows).await
}

pub trait IntoCondition {
    fn into_condition(self) -> Condition;
}

impl IntoCondition for sea_orm::sea_query::SimpleExpr {
    fn into_condition(self) -> Condition {
        Condition::all().add(self)
    }
}

/// Filters shared by the lead list and the Kanban board.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeadFilter {
    /// Only leads of this pipeline. The Kanban board shows this pipeline (the default one
    /// when omitted); a column page ignores it.
    pub pipeline_id: Option<i32>,
    /// A status id or a status name (case-insensitive).
    pub status: Option<String>,
    /// `me`, `none` or a staff id.
    pub assigned: Option<String>,
    pub source_id: Option<i32>,
    pub tag: Option<String>,
    /// `today`: created since midnight UTC.
    pub created: Option<String>,
    /// No status change for at least this many days (the guide's "stagnant > 14 days").
    pub stagnant_days: Option<i64>,
    /// `true`: only lost leads. Lost leads are hidden otherwise.
    pub lost: Option<bool>,
    /// `true`: only junk. Junk is hidden otherwise.
    pub junk: Option<bool>,
    /// `true`: never contacted (no call, e-mail or meeting logged).
    pub uncontacted: Option<bool>,
    /// Search in name, e-mail, company and phone.
    pub q: Option<String>,
    /// `true`: no open reminder in the future ("no lead left hanging").
    pub no_followup: Option<bool>,
}

/// Closes the open follow-up reminders of a lead that was marked lost or junk: nobody should be
/// reminded to call a lead that is out of the funnel. (Restoring it does not reopen them.)
pub async fn close_reminders(txn: &impl ConnectionTrait, lead_id: i32) -> Result<()> {
    let now = OffsetDateTime::now_utc();
    reminder::Entity::update_many()
        .col_expr(reminder::Column::DoneAt, Expr::value(now))
        .col_expr(reminder::Column::UpdatedAt, Expr::value(now))
        .filter(reminder::Column::LeadId.eq(lead_id))
        .filter(reminder::Column::DoneAt.is_null())
        .exec(txn)
        .await?;
    Ok(())
}
