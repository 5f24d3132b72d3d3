//! Proposals: `/api/v1/proposals` — create (from a lead, opportunity or client, optionally from
//! a template), edit, list with the guide's filters, status changes, sending by e-mail, PDF,
//! comments, the portal token, and conversion to an invoice or a sales order.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use crmconnect_domain::api::{
    Acceptance, Comment, CommentInput, Invoice, Page, Problem, Proposal, ProposalInput, ProposalStatusInput, Recipient, SalesOrder, SendInput,
    SendResult, SentEmail,
};
use crmconnect_domain::documents::{DiscountApplies, DocumentDiscount};
use crmconnect_domain::leads::normalize_tags;
use crmconnect_domain::money::Currency;
use crmconnect_domain::permissions::{Action, Module, ViewScope};
use crmconnect_domain::proposals::{self as rules, ProposalEvent, ProposalStatus};
use crmconnect_domain::validation::{parse_name, EmailAddress, Validator};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Deserialize;
use serde_json::json;
use time::{Date, Duration, OffsetDateTime};
use utoipa::IntoParams;

use crate::audit::{self, Actor, Change};
use crate::auth::{secrets, AuthUser};
use crate::documents::{self, dec, Line, PROPOSAL};
use crate::entities::{client, client_contact, email_outbox, lead, opportunity_status, proposal, proposal_comment, proposal_template, staff};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::Json;
use crate::pagination::{finish_page, PageParams};
use crate::state::AppState;
use crate::{custom_fields, db, email, outbox, pdf, settings};
use crate::db::Read;

pub fn status_of(p: &proposal::Model) -> ProposalStatus {
    ProposalStatus::from_code(p.status_code).unwrap_or(ProposalStatus::Draft)
}

pub fn currency_of(code: &str) -> Currency {
    Currency::parse(code).unwrap_or_else(|_| Currency::parse("RON").expect("RON is known"))
}

pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

pub fn discount_of(p: &proposal::Model) -> Option<DocumentDiscount> {
    documents::discount_of(p.discount_type.as_deref(), &p.discount_value, &p.discount_applies)
}

pub fn portal_url(public_url: &str, token: &str) -> String {
    format!("{public_url}/proposal/{token}")
}

fn recipient_of(p: &proposal::Model) -> Recipient {
    Recipient {
        name: p.recipient_name.clone(),
        email: p.recipient_email.clone(),
        phone: p.recipient_phone.clone(),
        address: p.recipient_address.clone(),
        city: p.recipient_city.clone(),
        country: p.recipient_country.clone(),
        zip: p.recipient_zip.clone(),
    }
}

pub fn acceptance_of(p: &proposal::Model) -> Option<Acceptance> {
    Some(Acceptance {
        name: p.accepted_name.clone()?,
        email: p.accepted_email.clone(),
        signature: p.accepted_signature.clone(),
        at: p.accepted_at?,
        ip: p.accepted_ip.clone(),
        user_agent: p.accepted_user_agent.clone(),
    })
}

/// API proposals for many rows: lines, names, opportunity flags and custom fields in one query each.
pub async fn load_many(db: &impl ConnectionTrait, public_url: &str, rows: &[proposal::Model]) -> ApiResult<Vec<Proposal>> {
    let ids: Vec<i32> = rows.iter().map(|p| p.id).collect();
    let mut lines = documents::lines_of(db, PROPOSAL, &ids).await?;
    let staff_ids: Vec<i32> = rows.iter().filter_map(|p| p.assigned_to).collect();
    let names: HashMap<i32, String> = if staff_ids.is_empty() {
        HashMap::new()
    } else {
        staff::Entity::find().filter(staff::Column::Id.is_in(staff_ids)).all(db).await?.into_iter().map(|s| (s.id, s.name)).collect()
    };
    let lead_ids: Vec<i32> = rows.iter().filter_map(|p| p.lead_id).collect();
    let opportunities: Vec<i32> = if lead_ids.is_empty() {
        Vec::new()
    } else {
        lead::Entity::find()
            .select_only()
            .column(lead::Column::Id)
            .filter(lead::Column::Id.is_in(lead_ids))
            .filter(lead::Column::IsOpportunity.eq(true))
            .into_tuple::<i32>()
            .all(db)
            .await?
    };
    let mut custom = custom_fields::values_of(db, custom_fields::PROPOSAL, &ids).await?;
    let today = today();
    Ok(rows
        .iter()
        .map(|p| {
            let status = status_of(p);
            let (api_lines, amounts) = documents::present(currency_of(&p.currency), &lines.remove(&p.id).unwrap_or_default(), discount_of(p));
            Proposal {
                id: p.id,
                number: p.number.clone(),
                subject: p.subject.clone(),
                lead_id: p.lead_id,
                opportunity_id: p.lead_id.filter(|id| opportunities.contains(id)),
                client_id: p.client_id,
                recipient: recipient_of(p),
                currency: p.currency.clone(),
                date: p.date,
                open_till: p.open_till,
                allow_comments: p.allow_comments,
                assigned_to: p.assigned_to,
                assigned_to_name: p.assigned_to.and_then(|id| names.get(&id).cloned()),
                discount_type: documents::parse_discount_type(p.discount_type.as_deref()),
                discount_value: dec(&p.discount_value),
                discount_applies: documents::parse_discount_applies(&p.discount_applies),
                content: p.content.clone(),
                terms: p.terms.clone(),
                internal_notes: p.internal_notes.clone(),
                tags: serde_json::from_value(p.tags.clone()).unwrap_or_default(),
                custom_fields: custom.remove(&p.id).unwrap_or_default(),
                lines: api_lines,
                amounts,
                status: status.name().to_string(),
                status_code: status.code(),
                expired: rules::is_expired(status, p.open_till, today),
                portal_url: p.portal_token.as_deref().map(|t| portal_url(public_url, t)),
                invoice_id: p.invoice_id,
                sales_order_id: p.sales_order_id,
                accepted: acceptance_of(p),
                declined_reason: p.declined_reason.clone(),
                sent_at: p.sent_at,
                viewed_at: p.viewed_at,
                created_at: p.created_at,
                updated_at: p.updated_at,
            }
        })
        .collect())
}

pub async fn load_api(db: &impl ConnectionTrait, public_url: &str, p: &proposal::Model) -> ApiResult<Proposal> {
    Ok(load_many(db, public_url, std::slice::from_ref(p)).await?.remove(0))
}

/// A proposal the caller may see ("view own": assigned to or created by them).
pub async fn find_visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32) -> ApiResult<proposal::Model> {
    visible(db, user, id, Read::Plain).await
}

/// [`find_visible`], locking the row until the transaction ends (write paths use this).
pub async fn lock_visible(txn: &impl ConnectionTrait, user: &AuthUser, id: i32) -> ApiResult<proposal::Model> {
    visible(txn, user, id, Read::ForUpdate).await
}

async fn visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32, read: Read) -> ApiResult<proposal::Model> {
    let scope = user.view_scope(Module::Proposals)?;
    let p = read.apply(proposal::Entity::find_by_id(id)).one(db).await?.ok_or_else(|| ApiError::not_found("proposal"))?;
    if let ViewScope::Own(me) = scope {
        if p.assigned_to != Some(me) && p.created_by != Some(me) {
            return Err(ApiError::not_found("proposal"));
        }
    }
    Ok(p)
}

/// Every column a proposal's editor controls, resolved and validated.
struct Fields {
    subject: String,
    lead_id: Option<i32>,
    client_id: Option<i32>,
    recipient: Recipient,
    currency: Currency,
    date: Date,
    open_till: Option<Date>,
    allow_comments: bool,
    assigned_to: Option<i32>,
    discount: Option<DocumentDiscount>,
    discount_applies: DiscountApplies,
    content: String,
    terms: String,
    internal_notes: Option<String>,
    tags: Vec<String>,
    lines: Vec<Line>,
}

/// What a relation contributes to a new proposal: recipient, currency, assignee.
struct RelationDefaults {
    recipient: Recipient,
    currency: Option<String>,
    assigned_to: Option<i32>,
}

async fn relation_defaults(db: &impl ConnectionTrait, v: &mut Validator, user: &AuthUser, b: &ProposalInput) -> ApiResult<Option<(Option<i32>, Option<i32>, RelationDefaults)>> {
    let given = [b.lead_id.is_some(), b.opportunity_id.is_some(), b.client_id.is_some()].iter().filter(|x| **x).count();
    if given == 0 {
        return Ok(None);
    }
    if given > 1 {
        v.push("client_id", "ambiguous", "relate the proposal to one lead, opportunity or client");
        return Ok(None);
    }
    if let Some(id) = b.lead_id.or(b.opportunity_id) {
        // The same row either way (opportunities are leads with `is_opportunity`), but each
        // field is looked up under its own module's visibility.
        let (field, found) = match b.lead_id {
            Some(_) => ("lead_id", visible_reference(super::leads::find_visible(db, user, id).await)?),
            None => ("opportunity_id", visible_reference(super::opportunities::find_visible(db, user, id).await)?),
        };
        let Some(l) = found else {
            let what = if field == "lead_id" { "lead" } else { "opportunity" };
            v.push(field, "not_found", format!("no {what} {id} that you can see"));
            return Ok(None);
        };
        let recipient = Recipient {
            name: Some(l.name.clone()),
            email: l.email.clone(),
            phone: l.phone.clone(),
            address: l.address.clone(),
            city: l.city.clone(),
            country: l.country.clone(),
            zip: None,
        };
        // A converted lead is billed as its client.
        return Ok(Some((Some(l.id), l.converted_client_id, RelationDefaults { recipient, currency: l.currency.clone(), assigned_to: l.assigned_to })));
    }
    let Some(id) = b.client_id else { return Ok(None) };
    let Some(c) = crate::visibility::referenced_client(db, user, id).await? else {
        v.push("client_id", "not_found", format!("no client {id} that you can see"));
        return Ok(None);
    };
    let contact = client_contact::Entity::find()
        .filter(client_contact::Column::ClientId.eq(c.id))
        .order_by_desc(client_contact::Column::IsPrimary)
        .order_by_asc(client_contact::Column::Id)
        .one(db)
        .await?;
    let recipient = Recipient {
        name: Some(c.company.clone()),
        email: contact.as_ref().and_then(|x| x.email.clone()),
        phone: c.phone.clone().or_else(|| contact.as_ref().and_then(|x| x.phone.clone())),
        address: c.address.clone(),
        city: c.city.clone(),
        country: c.country.clone(),
        zip: c.zip.clone(),
    };
    Ok(Some((None, Some(c.id), RelationDefaults { recipient, currency: Some(c.currency.clone()), assigned_to: c.assigned_to })))
}

/// A referenced record the caller cannot see is a field error (422), not a 404 or 403 of the
/// request.
fn visible_reference<T>(found: ApiResult<T>) -> ApiResult<Option<T>> {
    match found {
        Ok(row) => Ok(Some(row)),
        Err(e) if matches!(e.code, ErrorCode::NotFound | ErrorCode::Forbidden) => Ok(None),
        Err(e) => Err(e),
    }
}

fn text(v: &mut Validator, field: &str, value: &Option<String>, max: usize) -> Option<Option<String>> {
    let raw = value.as_deref()?;
    let s = raw.trim();
    if s.chars().count() > max {
        v.push(field, "too_long", format!("must have at most {max} characters"));
        return None;
    }
    Some((!s.is_empty()).then(|| s.to_string()))
}

/// Validates a create or patch body on top of `current` (the stored proposal, or `None`).
async fn resolve(db: &impl ConnectionTrait, user: &AuthUser, current: Option<&proposal::Model>, b: &ProposalInput) -> ApiResult<(Fields, custom_fields::Changes)> {
    let creating = current.is_none();
    let mut v = Validator::new();
    let defs = custom_fields::definitions(db, custom_fields::PROPOSAL).await?;
    let custom = custom_fields::validate(&defs, &b.custom_fields, creating).unwrap_or_else(|errors| {
        for e in errors {
            v.push(&e.field, &e.code, e.message);
        }
        Vec::new()
    });

    if let Some(p) = current {
        let status = status_of(p);
        let commercial = b.lines.is_some() || b.currency.is_some() || b.discount_type.is_some() || b.discount_value.is_some() || b.discount_applies.is_some();
        if commercial && (status.lines_locked() || p.invoice_id.is_some() || p.sales_order_id.is_some()) {
            return Err(ApiError::new(ErrorCode::ProposalLocked, "An accepted or converted proposal's lines, currency and discount cannot change; create a new proposal."));
        }
        if b.template_id.is_some() {
            v.push("template_id", "create_only", "templates apply when a proposal is created");
        }
    }
    let template = match b.template_id.filter(|_| creating) {
        Some(id) => match proposal_template::Entity::find_by_id(id).one(db).await? {
            Some(t) => Some((t.content.clone(), documents::lines_from_rows(&documents::lines_of(db, documents::PROPOSAL_TEMPLATE, &[t.id]).await?.remove(&t.id).unwrap_or_default()))),
            None => {
                v.push("template_id", "not_found", format!("no proposal template {id}"));
                None
            }
        },
        None => None,
    };

    let relation = relation_defaults(db, &mut v, user, b).await?;
    if creating && relation.is_none() && !v.has_errors() {
        v.push("lead_id", "required", "relate the proposal to a lead (lead_id), an opportunity (opportunity_id) or a client (client_id)");
    }
    let settings = settings::load(db).await?;

    let subject = match &b.subject {
        Some(s) => v.check("subject", parse_name(s, 300)),
        None if creating => {
            v.push("subject", "required", "a subject is required");
            None
        }
        None => current.map(|p| p.subject.clone()),
    };
    let (lead_id, client_id) = match &relation {
        Some((l, c, _)) => (*l, *c),
        None => (current.and_then(|p| p.lead_id), current.and_then(|p| p.client_id)),
    };

    // Recipient: the relation's, then the stored one, then the fields sent.
    let mut recipient = match (&relation, current) {
        (Some((_, _, d)), _) => d.recipient.clone(),
        (None, Some(p)) => recipient_of(p),
        (None, None) => Recipient::default(),
    };
    if let Some(r) = &b.recipient {
        for (field, value, slot, max) in [
            ("recipient.name", &r.name, &mut recipient.name, 200),
            ("recipient.phone", &r.phone, &mut recipient.phone, 40),
            ("recipient.address", &r.address, &mut recipient.address, 1000),
            ("recipient.city", &r.city, &mut recipient.city, 100),
            ("recipient.country", &r.country, &mut recipient.country, 100),
            ("recipient.zip", &r.zip, &mut recipient.zip, 20),
        ] {
            if let Some(x) = text(&mut v, field, value, max) {
                *slot = x;
            }
        }
        match text(&mut v, "recipient.email", &r.email, 254) {
            Some(Some(e)) => recipient.email = v.check("recipient.email", EmailAddress::parse(&e)).map(|e| e.into_inner()),
            Some(None) => recipient.email = None,
            None => {}
        }
    }

    let currency = match (&b.currency, &relation, current) {
        (Some(c), _, _) => documents::enabled_currency(db, &mut v, "currency", c).await?,
        (None, _, Some(p)) => Some(currency_of(&p.currency)),
        (None, Some((_, _, RelationDefaults { currency: Some(c), .. })), None) => Some(documents::enabled_or_base(db, c).await?),
        (None, _, None) => Some(documents::base_currency(db).await?),
    };
    let date = b.date.or(current.map(|p| p.date)).unwrap_or_else(today);
    let open_till = match b.open_till {
        Some(x) => x,
        None => match current {
            Some(p) => p.open_till,
            None => Some(date + Duration::days(i64::from(settings.proposal_open_till_days))),
        },
    };
    if open_till.is_some_and(|t| t < date) {
        v.push("open_till", "before_date", "open_till cannot be before the proposal date");
    }
    let assigned_to = match b.assigned_to {
        Some(x) => x,
        None => match (current, &relation) {
            (Some(p), _) => p.assigned_to,
            (None, Some((_, _, d))) => d.assigned_to.or(Some(user.id())),
            (None, None) => Some(user.id()),
        },
    };
    if let Some(Some(id)) = b.assigned_to {
        if !staff::Entity::find_by_id(id).one(db).await?.is_some_and(|s| s.active) {
            v.push("assigned_to", "not_found", format!("no active staff member {id}"));
        }
    }

    let kind = match b.discount_type {
        Some(k) => k,
        None => current.and_then(|p| documents::parse_discount_type(p.discount_type.as_deref())),
    };
    let value = b.discount_value.or(current.map(|p| dec(&p.discount_value))).unwrap_or_default();
    let applies = b.discount_applies.or(current.map(|p| documents::parse_discount_applies(&p.discount_applies))).unwrap_or_default();
    if kind.is_none() && b.discount_value.is_some_and(|d| !d.is_zero()) {
        v.push("discount_type", "required", "say whether discount_value is a `percent` or a `fixed` amount");
    }

    let lines = match (&b.lines, &template, current) {
        (Some(inputs), _, _) => documents::resolve_lines(db, &mut v, inputs).await?,
        (None, Some((_, lines)), None) => lines.clone(),
        (None, _, Some(p)) => documents::lines_from_rows(&documents::lines_of(db, PROPOSAL, &[p.id]).await?.remove(&p.id).unwrap_or_default()),
        (None, None, None) => Vec::new(),
    };
    let content = match (&b.content, &template, current) {
        (Some(c), _, _) => documents::sanitize_html(c),
        (None, Some((c, _)), None) => c.clone(),
        (None, _, Some(p)) => p.content.clone(),
        (None, None, None) => String::new(),
    };
    let terms = b.terms.as_deref().map(documents::sanitize_html).or(current.map(|p| p.terms.clone())).unwrap_or_default();
    for (field, value, max) in [("content", &content, 200_000), ("terms", &terms, 50_000)] {
        if value.chars().count() > max {
            v.push(field, "too_long", format!("must have at most {max} characters"));
        }
    }
    let internal_notes = match text(&mut v, "internal_notes", &b.internal_notes, 10_000) {
        Some(x) => x,
        None => current.and_then(|p| p.internal_notes.clone()),
    };
    let tags = match &b.tags {
        Some(t) => v.check("tags", normalize_tags(t)).unwrap_or_default(),
        None => current.map(|p| serde_json::from_value(p.tags.clone()).unwrap_or_default()).unwrap_or_default(),
    };
    let discount = kind.map(|kind| DocumentDiscount { kind, value, applies });
    if let Some(c) = currency {
        if let Err(e) = documents::compute(c, &lines, discount) {
            v.push("discount_value", e.code, e.message);
        }
    }
    v.finish().map_err(ApiError::validation)?;
    Ok((
        Fields {
            subject: subject.expect("validated"),
            lead_id,
            client_id,
            recipient,
            currency: currency.expect("validated"),
            date,
            open_till,
            allow_comments: b.allow_comments.or(current.map(|p| p.allow_comments)).unwrap_or(true),
            assigned_to,
            discount,
            discount_applies: applies,
            content,
            terms,
            internal_notes,
            tags,
            lines,
        },
        custom,
    ))
}

/// Writes the resolved fields and the cached totals onto a row.
fn write(row: &mut proposal::ActiveModel, f: &Fields) {
    let totals = documents::compute(f.currency, &f.lines, f.discount).expect("validated in resolve");
    let (subtotal, discount, tax, total) = documents::minor_totals(&totals, f.currency);
    row.subject = Set(f.subject.clone());
    row.lead_id = Set(f.lead_id);
    row.client_id = Set(f.client_id);
    row.recipient_name = Set(f.recipient.name.clone());
    row.recipient_email = Set(f.recipient.email.clone());
    row.recipient_phone = Set(f.recipient.phone.clone());
    row.recipient_address = Set(f.recipient.address.clone());
    row.recipient_city = Set(f.recipient.city.clone());
    row.recipient_country = Set(f.recipient.country.clone());
    row.recipient_zip = Set(f.recipient.zip.clone());
    row.currency = Set(f.currency.code().to_string());
    row.date = Set(f.date);
    row.open_till = Set(f.open_till);
    row.allow_comments = Set(f.allow_comments);
    row.assigned_to = Set(f.assigned_to);
    row.discount_type = Set(f.discount.map(|d| documents::discount_type_name(d.kind).to_string()));
    row.discount_value = Set(f.discount.map(|d| d.value.normalize().to_string()).unwrap_or_else(|| "0".into()));
    row.discount_applies = Set(documents::discount_applies_name(f.discount_applies).to_string());
    row.content = Set(f.content.clone());
    row.terms = Set(f.terms.clone());
    row.internal_notes = Set(f.internal_notes.clone());
    row.tags = Set(json!(f.tags));
    row.subtotal_minor = Set(subtotal);
    row.discount_minor = Set(discount);
    row.total_tax_minor = Set(tax);
    row.total_minor = Set(total);
    row.updated_at = Set(OffsetDateTime::now_utc());
}

/// Create a proposal from a lead, opportunity or client (their contact data is copied),
/// optionally starting from a template. Starts as Draft (6) with the next number.
#[utoipa::path(post, path = "/api/v1/proposals", tag = "proposals", security(("bearer" = [])), request_body = ProposalInput,
    responses((status = 201, body = Proposal), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<ProposalInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Proposals, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let (fields, custom) = resolve(&txn, &user, None, &body.0).await?;
    let settings = settings::load(&txn).await?;
    let number = rules::format_number(&settings.proposal_number_prefix, documents::next_number(&txn, "proposal").await?, settings.proposal_number_padding as usize);
    let now = OffsetDateTime::now_utc();
    let mut row = proposal::ActiveModel {
        number: Set(number),
        status_code: Set(ProposalStatus::Draft.code()),
        portal_token: Set(Some(secrets::random_secret())),
        invoice_id: Set(None),
        sales_order_id: Set(None),
        accepted_name: Set(None),
        accepted_email: Set(None),
        accepted_signature: Set(None),
        accepted_at: Set(None),
        accepted_ip: Set(None),
        accepted_user_agent: Set(None),
        declined_reason: Set(None),
        declined_at: Set(None),
        sent_at: Set(None),
        viewed_at: Set(None),
        created_by: Set(Some(user.id())),
        created_at: Set(now),
        ..Default::default()
    };
    write(&mut row, &fields);
    let saved = row.insert(&txn).await?;
    documents::save_lines(&txn, PROPOSAL, saved.id, &fields.lines).await?;
    custom_fields::save(&txn, saved.id, custom).await?;
    let api = load_api(&txn, &state.settings.public_url, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("proposal.created", "proposal", saved.id).after(&api)).await?;
    outbox::emit(&txn, "proposal_created", "proposal", saved.id, json!({"proposal_id": saved.id, "lead_id": saved.lead_id, "client_id": saved.client_id})).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Get a proposal with its lines and every computed amount. Staff reading it never marks it viewed.
#[utoipa::path(get, path = "/api/v1/proposals/{id}", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Proposal), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let p = find_visible(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(load_api(&state.db, &state.settings.public_url, &p).await?))
}

/// Change a proposal: the fields sent change; `lines` replaces every line. Accepted or
/// converted proposals keep their lines, currency and discount (409 `proposal_locked`).
#[utoipa::path(patch, path = "/api/v1/proposals/{id}", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = ProposalInput,
    responses((status = 200, body = Proposal), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`proposal_locked`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<ProposalInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Proposals, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    let before = load_api(&txn, &state.settings.public_url, &current).await?;
    let (fields, custom) = resolve(&txn, &user, Some(&current), &body.0).await?;
    let mut row: proposal::ActiveModel = current.clone().into();
    write(&mut row, &fields);
    let saved = row.update(&txn).await?;
    if body.0.lines.is_some() {
        documents::save_lines(&txn, PROPOSAL, saved.id, &fields.lines).await?;
    }
    custom_fields::save(&txn, saved.id, custom).await?;
    let after = load_api(&txn, &state.settings.public_url, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("proposal.updated", "proposal", saved.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Delete a proposal that was not converted.
#[utoipa::path(delete, path = "/api/v1/proposals/{id}", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`proposal_locked` (converted)", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Proposals, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    if current.invoice_id.is_some() || current.sales_order_id.is_some() {
        return Err(ApiError::new(ErrorCode::ProposalLocked, "A converted proposal is part of the invoice's history and cannot be deleted."));
    }
    let before = load_api(&txn, &state.settings.public_url, &current).await?;
    documents::save_lines(&txn, PROPOSAL, current.id, &[]).await?;
    proposal::Entity::delete_by_id(current.id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("proposal.deleted", "proposal", current.id).before(&before)).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProposalFilter {
    /// Codes or names, comma-separated or repeated: `?status=4`, `?status=sent,viewed`.
    /// (Read from the raw query string, where a key may repeat.)
    #[serde(skip_deserializing)]
    pub status: Option<String>,
    /// `true`: past `open_till` and unanswered; `false`: not expired.
    pub expired: Option<bool>,
    pub lead_id: Option<i32>,
    pub opportunity_id: Option<i32>,
    pub client_id: Option<i32>,
    /// `me`, `none` or a staff id.
    pub assigned: Option<String>,
    /// Proposal date from (inclusive), `YYYY-MM-DD`.
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub date_from: Option<Date>,
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub date_to: Option<Date>,
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub open_till_from: Option<Date>,
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub open_till_to: Option<Date>,
    /// Search in number, subject and recipient.
    pub q: Option<String>,
}

fn statuses_from_query(req: &HttpRequest) -> ApiResult<Vec<ProposalStatus>> {
    crate::pagination::repeated_param(req, "status")
        .iter()
        .map(|raw| ProposalStatus::parse(raw).map_err(|e| ApiError::field_query("status", e)))
        .collect()
}

/// List proposals, newest first, with the guide's filters (`?status=4` = sent, awaiting answer).
#[utoipa::path(get, path = "/api/v1/proposals", tag = "proposals", security(("bearer" = [])), params(ProposalFilter, PageParams),
    responses((status = 200, body = Page<Proposal>), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    filter: web::Query<ProposalFilter>,
    page: web::Query<PageParams>,
    custom: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Proposals)?;
    let page = page.parse()?;
    let statuses = statuses_from_query(&req)?;
    let mut q = proposal::Entity::find()
        .filter(custom_fields::filter(&state.db, custom_fields::PROPOSAL, proposal::Column::Id, &custom).await?)
        .order_by_desc(proposal::Column::Id)
        .limit(page.limit + 1);
    if let ViewScope::Own(me) = scope {
        q = q.filter(Condition::any().add(proposal::Column::AssignedTo.eq(me)).add(proposal::Column::CreatedBy.eq(me)));
    }
    if let Some(before) = page.after_id {
        q = q.filter(proposal::Column::Id.lt(before));
    }
    if !statuses.is_empty() {
        q = q.filter(proposal::Column::StatusCode.is_in(statuses.iter().map(|s| s.code())));
    }
    let today = today();
    let answered = [ProposalStatus::Accepted.code(), ProposalStatus::Declined.code()];
    match filter.expired {
        Some(true) => q = q.filter(proposal::Column::OpenTill.lt(today)).filter(proposal::Column::StatusCode.is_not_in(answered)),
        Some(false) => {
            q = q.filter(
                Condition::any()
                    .add(proposal::Column::OpenTill.is_null())
                    .add(proposal::Column::OpenTill.gte(today))
                    .add(proposal::Column::StatusCode.is_in(answered)),
            )
        }
        None => {}
    }
    if let Some(id) = filter.lead_id.or(filter.opportunity_id) {
        q = q.filter(proposal::Column::LeadId.eq(id));
    }
    if let Some(id) = filter.client_id {
        q = q.filter(proposal::Column::ClientId.eq(id));
    }
    if let Some(cond) = super::leads::assigned_condition(filter.assigned.as_deref(), &user, proposal::Column::AssignedTo)? {
        q = q.filter(cond);
    }
    for (col, bound, from) in [
        (proposal::Column::Date, filter.date_from, true),
        (proposal::Column::Date, filter.date_to, false),
        (proposal::Column::OpenTill, filter.open_till_from, true),
        (proposal::Column::OpenTill, filter.open_till_to, false),
    ] {
        if let Some(d) = bound {
            q = q.filter(if from { col.gte(d) } else { col.lte(d) });
        }
    }
    if let Some(text) = filter.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = format!("%{}%", text.to_lowercase());
        let like = |c: proposal::Column| Expr::expr(Func::lower(Expr::col(c))).like(pattern.clone());
        q = q.filter(Condition::any().add(like(proposal::Column::Number)).add(like(proposal::Column::Subject)).add(like(proposal::Column::RecipientName)));
    }
    let (rows, next_cursor) = finish_page(q.all(&state.db).await?, page, |p| p.id);
    Ok(HttpResponse::Ok().json(Page { items: load_many(&state.db, &state.settings.public_url, &rows).await?, next_cursor }))
}

/// An accepted proposal wins the opportunity it was made for: the opportunity moves to the
/// status named "Won" (one of the default statuses; a company without it keeps its status) at
/// probability 100. In the caller's transaction; a proposal of a plain lead changes nothing.
pub async fn win_opportunity(txn: &impl ConnectionTrait, actor: &Actor, p: &proposal::Model) -> ApiResult<()> {
    let Some(lead_id) = p.lead_id else { return Ok(()) };
    let Some(o) = lead::Entity::find_by_id(lead_id).filter(lead::Column::IsOpportunity.eq(true)).one(txn).await? else {
        return Ok(());
    };
    let won = opportunity_status::Entity::find()
        .filter(Expr::expr(Func::lower(Expr::col(opportunity_status::Column::Name))).eq("won"))
        .one(txn)
        .await?;
    let Some(won) = won.filter(|w| o.opportunity_status_id != Some(w.id)) else { return Ok(()) };
    let now = OffsetDateTime::now_utc();
    lead::Entity::update_many()
        .col_expr(lead::Column::OpportunityStatusId, Expr::value(won.id))
        .col_expr(lead::Column::Probability, Expr::value(100))
        .col_expr(lead::Column::LastStatusChangeAt, Expr::value(now))
        .col_expr(lead::Column::UpdatedAt, Expr::value(now))
        .filter(lead::Column::Id.eq(o.id))
        .exec(txn)
        .await?;
    let mut change = Change::new("opportunity.won", "opportunity", o.id);
    change.before = Some(json!({"opportunity_status_id": o.opportunity_status_id, "probability": o.probability}));
    change.after = Some(json!({"opportunity_status_id": won.id, "probability": 100, "proposal_id": p.id}));
    audit::record(txn, actor, change).await?;
    outbox::emit(txn, "opportunity_won", "opportunity", o.id, json!({"opportunity_id": o.id, "proposal_id": p.id})).await?;
    Ok(())
}

fn transition_error(reason: String) -> ApiError {
    ApiError::new(ErrorCode::InvalidStatusTransition, reason)
}

/// Set the status by hand: 7 marks it sent without e-mail; 3/2 record the client's answer
/// given by phone; 5 revised; 6 back to draft. Sent (4) and Viewed (1) are facts set by
/// sending and by the client, so they are refused here (409 `invalid_status_transition`).
#[utoipa::path(post, path = "/api/v1/proposals/{id}/status", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = ProposalStatusInput,
    responses((status = 200, body = Proposal), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status_transition`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn set_status(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<ProposalStatusInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Proposals, Action::Edit)?;
    let to = ProposalStatus::parse(&body.0.status.as_text()).map_err(|e| ApiError::field("status", e.code, e.message))?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    let before = load_api(&txn, &state.settings.public_url, &current).await?;
    let new = rules::transition(status_of(&current), ProposalEvent::Manual(to)).map_err(transition_error)?;
    let now = OffsetDateTime::now_utc();
    let mut row: proposal::ActiveModel = current.into();
    row.status_code = Set(new.code());
    match new {
        ProposalStatus::Accepted => {
            row.accepted_name = Set(Some(user.staff.name.clone()));
            row.accepted_email = Set(Some(user.staff.email.clone()));
            row.accepted_at = Set(Some(now));
            row.accepted_ip = Set(user.ip.clone());
        }
        ProposalStatus::Declined => row.declined_at = Set(Some(now)),
        ProposalStatus::SentManually => row.sent_at = Set(Some(now)),
        _ => {}
    }
    row.updated_at = Set(now);
    let saved = row.update(&txn).await?;
    let after = load_api(&txn, &state.settings.public_url, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("proposal.status_changed", "proposal", saved.id).before(&before).after(&after)).await?;
    if new == ProposalStatus::Accepted {
        win_opportunity(&txn, &user.actor(), &saved).await?;
    }
    outbox::emit(&txn, "proposal_status_changed", "proposal", saved.id, json!({"proposal_id": saved.id, "from": before.status_code, "to": new.code()})).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

fn addresses(v: &mut Validator, field: &str, list: Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    for (i, raw) in list.iter().enumerate() {
        if let Some(e) = v.check(&format!("{field}[{i}]"), EmailAddress::parse(raw)) {
            out.push(e.into_inner());
        }
    }
    if out.len() > 20 {
        v.push(field, "too_many", "at most 20 addresses");
    }
    out
}

pub fn pdf_of(p: &Proposal, company: &crmconnect_domain::api::AppSettings) -> Vec<u8> {
    let r = &p.recipient;
    let buyer = [
        r.name.clone(),
        r.address.clone(),
        Some([r.zip.clone(), r.city.clone(), r.country.clone()].into_iter().flatten().collect::<Vec<_>>().join(" ")),
        r.email.clone(),
        r.phone.clone(),
    ];
    let mut meta = vec![("Date".to_string(), p.date.to_string())];
    if let Some(t) = p.open_till {
        meta.push(("Valid until".into(), t.to_string()));
    }
    pdf::render(&pdf::DocumentPdf {
        title: "PROPOSAL".into(),
        number: p.number.clone(),
        seller: pdf::company_block(company),
        buyer: pdf::block(buyer.into_iter().flatten()),
        meta,
        currency: p.currency.clone(),
        lines: p.lines.clone(),
        amounts: p.amounts.clone(),
        extra_totals: Vec::new(),
        sections: vec![(p.subject.clone(), documents::html_to_text(&p.content)), ("Terms and conditions".into(), documents::html_to_text(&p.terms))],
    })
}

/// E-mail the proposal with its portal link (and PDF if asked), through the outbox; Draft,
/// Revised and Sent manually become Sent (4). Answers once the e-mail is safely queued.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/send", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = SendInput,
    responses((status = 200, body = SendResult), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status_transition`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn send(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<SendInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Proposals, Action::Send)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, *id).await?;
    let new = rules::transition(status_of(&current), ProposalEvent::SentByEmail).map_err(transition_error)?;
    let before = load_api(&txn, &state.settings.public_url, &current).await?;
    let body = body.0;
    let mut v = Validator::new();
    let to = match body.to {
        Some(list) => addresses(&mut v, "to", list.into_vec()),
        None => current.recipient_email.clone().into_iter().collect(),
    };
    if to.is_empty() {
        v.push("to", "required", "the proposal has no recipient e-mail; give `to`");
    }
    let cc = addresses(&mut v, "cc", body.cc.map(|c| c.into_vec()).unwrap_or_default());
    let subject_override = body.subject.as_deref().and_then(|s| v.check("subject", parse_name(s, 500)));
    if body.message.as_ref().is_some_and(|m| m.chars().count() > 10_000) {
        v.push("message", "too_long", "at most 10000 characters");
    }
    v.finish().map_err(ApiError::validation)?;

    let now = OffsetDateTime::now_utc();
    let mut row: proposal::ActiveModel = current.clone().into();
    // Sending needs a link: a revoked token is replaced.
    let token = match current.portal_token.clone() {
        Some(t) => t,
        None => {
            let t = secrets::random_secret();
            row.portal_token = Set(Some(t.clone()));
            t
        }
    };
    row.status_code = Set(new.code());
    row.sent_at = Set(Some(now));
    row.updated_at = Set(now);
    let saved = row.update(&txn).await?;
    let api = load_api(&txn, &state.settings.public_url, &saved).await?;

    let company = settings::load(&txn).await?;
    let template = email::template(&txn, "proposal_send").await?;
    let context = json!({
        "proposal": {
            "number": api.number, "subject": api.subject, "total": api.amounts.total.to_string(), "currency": api.currency,
            "open_till": api.open_till.map(|d| d.to_string()), "link": portal_url(&state.settings.public_url, &token),
        },
        "recipient": {"name": api.recipient.name.clone().unwrap_or_default(), "email": api.recipient.email},
        "staff": {"name": user.staff.name, "email": user.staff.email},
        "company": {"name": company.company_name},
        "message": body.message.unwrap_or_default(),
    });
    let subject = match subject_override {
        Some(s) => s,
        None => email::render(&template.subject, &context)?.trim().to_string(),
    };
    let text = email::render(&template.body, &context)?;
    let attachment = body.attach_pdf.then(|| (format!("{}.pdf", api.number), pdf_of(&api, &company)));
    let queued = email::queue(
        &txn,
        email::Outgoing {
            related: Some((PROPOSAL, saved.id)),
            from: company.company_email.clone(),
            from_name: company.company_name.clone(),
            to,
            cc,
            subject,
            text,
            attachment,
            created_by: Some(user.id()),
        },
    )
    .await?;
    audit::record(&txn, &user.actor(), Change::new("proposal.sent", "proposal", saved.id).before(&before).after(&api)).await?;
    outbox::emit(&txn, "proposal_sent", "proposal", saved.id, json!({"proposal_id": saved.id, "email_id": queued.id})).await?;
    txn.commit().await?;
    state.email_wakeup.notify_one();
    Ok(HttpResponse::Ok().json(SendResult { proposal: api, email: email::to_api(&queued) }))
}

/// The e-mails sent (or queued) for this proposal, newest first, with delivery status.
#[utoipa::path(get, path = "/api/v1/proposals/{id}/emails", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Page<SentEmail>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn emails(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let p = find_visible(&state.db, &user, *id).await?;
    let rows = email_outbox::Entity::find()
        .filter(email_outbox::Column::RelatedType.eq(PROPOSAL))
        .filter(email_outbox::Column::RelatedId.eq(p.id))
        .order_by_desc(email_outbox::Column::Id)
        .all(&state.db)
        .await?;
    Ok(HttpResponse::Ok().json(Page { items: rows.iter().map(email::to_api).collect::<Vec<_>>(), next_cursor: None }))
}

pub fn pdf_response(number: &str, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(("Content-Disposition", format!("inline; filename=\"{number}.pdf\"")))
        .body(bytes)
}

/// The proposal as a printable PDF (text is selectable and searchable).
#[utoipa::path(get, path = "/api/v1/proposals/{id}/pdf", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, description = "application/pdf", content_type = "application/pdf"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn pdf(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let p = find_visible(&state.db, &user, *id).await?;
    let api = load_api(&state.db, &state.settings.public_url, &p).await?;
    let company = settings::load(&state.db).await?;
    Ok(pdf_response(&api.number, pdf_of(&api, &company)))
}

pub fn comment_to_api(c: &proposal_comment::Model) -> Comment {
    Comment { id: c.id, content: c.content.clone(), author_name: c.author_name.clone(), from_client: c.staff_id.is_none(), created_at: c.created_at }
}

pub async fn comments_of(db: &impl ConnectionTrait, proposal_id: i32) -> ApiResult<Vec<Comment>> {
    let rows = proposal_comment::Entity::find()
        .filter(proposal_comment::Column::ProposalId.eq(proposal_id))
        .order_by_asc(proposal_comment::Column::Id)
        .all(db)
        .await?;
    Ok(rows.iter().map(comment_to_api).collect())
}

pub fn check_comment(body: &CommentInput) -> ApiResult<String> {
    let content = body.content.trim();
    if content.is_empty() {
        return Err(ApiError::field("content", "required", "the comment is empty"));
    }
    if content.chars().count() > 5000 {
        return Err(ApiError::field("content", "too_long", "at most 5000 characters"));
    }
    Ok(content.to_string())
}

/// The comment thread with the client, oldest first.
#[utoipa::path(get, path = "/api/v1/proposals/{id}/comments", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Page<Comment>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_comments(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let p = find_visible(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(Page { items: comments_of(&state.db, p.id).await?, next_cursor: None }))
}

/// Reply to the client; the reply shows on the portal.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/comments", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = CommentInput,
    responses((status = 201, body = Comment), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn add_comment(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<CommentInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Proposals, Action::Edit)?;
    let content = check_comment(&body.0)?;
    let txn = db::begin_write(&state.db).await?;
    let p = lock_visible(&txn, &user, *id).await?;
    let saved = proposal_comment::ActiveModel {
        proposal_id: Set(p.id),
        content: Set(content),
        staff_id: Set(Some(user.id())),
        author_name: Set(user.staff.name.clone()),
        created_at: Set(OffsetDateTime::now_utc()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let api = comment_to_api(&saved);
    audit::record(&txn, &user.actor(), Change::new("proposal.comment_added", "proposal", p.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Issue a new portal link; the old one stops working at once.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/portal-token", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Proposal), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn regenerate_token(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    set_token(state, user, *id, Some(secrets::random_secret())).await
}

/// Revoke the portal link (the client sees "not found"); sending issues a new one.
#[utoipa::path(delete, path = "/api/v1/proposals/{id}/portal-token", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Proposal), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_token(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    set_token(state, user, *id, None).await
}

async fn set_token(state: web::Data<AppState>, user: AuthUser, id: i32, token: Option<String>) -> ApiResult<HttpResponse> {
    user.require(Module::Proposals, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = lock_visible(&txn, &user, id).await?;
    let action = if token.is_some() { "proposal.portal_token_regenerated" } else { "proposal.portal_token_revoked" };
    let mut row: proposal::ActiveModel = current.into();
    row.portal_token = Set(token);
    row.updated_at = Set(OffsetDateTime::now_utc());
    let saved = row.update(&txn).await?;
    // The audit entry names the action only: tokens never go into the log.
    audit::record(&txn, &user.actor(), Change::new(action, "proposal", saved.id)).await?;
    let api = load_api(&txn, &state.settings.public_url, &saved).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(api))
}

/// What a proposal converts into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Invoice,
    SalesOrder,
}

/// The client a converted document is billed to: the proposal's, or its lead's (converting
/// the lead to a client first, as the leads module defines).
pub async fn billing_client(txn: &impl ConnectionTrait, actor: &Actor, p: &proposal::Model) -> ApiResult<i32> {
    if let Some(id) = p.client_id {
        return Ok(id);
    }
    let lead_id = p.lead_id.ok_or_else(|| ApiError::field("client_id", "required", "relate the proposal to a client before converting it"))?;
    // Locked: two proposals of one lead converted at once must make one client, not two.
    let l = Read::ForUpdate.apply(lead::Entity::find_by_id(lead_id)).one(txn).await?.ok_or_else(|| ApiError::not_found("lead"))?;
    match l.converted_client_id {
        Some(id) => Ok(id),
        None => Ok(super::clients::convert_lead_in(txn, actor, &l).await?.id),
    }
}

/// Copies an accepted proposal into a new draft invoice or sales order (every line, tax,
/// discount and the currency), links both ways, in the caller's transaction.
pub async fn convert_in(txn: &impl ConnectionTrait, actor: &Actor, p: &proposal::Model, target: Target) -> ApiResult<i32> {
    if status_of(p) != ProposalStatus::Accepted {
        return Err(ApiError::new(ErrorCode::ProposalNotAccepted, format!("Only accepted proposals convert; {} is {}.", p.number, status_of(p).name())));
    }
    let existing = match target {
        Target::Invoice => p.invoice_id.map(|id| format!("invoice {id}")),
        Target::SalesOrder => p.sales_order_id.map(|id| format!("sales order {id}")),
    };
    if let Some(what) = existing {
        return Err(ApiError::new(ErrorCode::AlreadyConverted, format!("{} was already converted to {what}.", p.number)));
    }
    let client_id = billing_client(txn, actor, p).await?;
    let client = client::Entity::find_by_id(client_id).one(txn).await?.ok_or_else(|| ApiError::not_found("client"))?;
    let rows = documents::lines_of(txn, PROPOSAL, &[p.id]).await?.remove(&p.id).unwrap_or_default();
    let lines = documents::lines_from_rows(&rows);
    let now = OffsetDateTime::now_utc();
    let today = now.date();
    let (document_type, new_id) = match target {
        Target::Invoice => {
            let draft = super::invoices::DraftInvoice {
                client: &client,
                currency: currency_of(&p.currency),
                date: today,
                due_date: None,
                lines: &lines,
                discount: discount_of(p),
                terms: p.terms.clone(),
                client_note: None,
                sale_agent: p.assigned_to,
                proposal_id: Some(p.id),
                sales_order_id: None,
                recurring: None,
                created_by: actor.staff_id,
            };
            (documents::INVOICE, super::invoices::insert_draft(txn, draft).await?.id)
        }
        Target::SalesOrder => {
            let number = rules::format_number("SO-", documents::next_number(txn, "sales_order").await?, 6);
            let saved = crate::entities::sales_order::ActiveModel {
                number: Set(number),
                client_id: Set(client_id),
                status: Set("draft".into()),
                proposal_id: Set(Some(p.id)),
                invoice_id: Set(None),
                currency: Set(p.currency.clone()),
                date: Set(today),
                discount_type: Set(p.discount_type.clone()),
                discount_value: Set(p.discount_value.clone()),
                discount_applies: Set(p.discount_applies.clone()),
                subtotal_minor: Set(p.subtotal_minor),
                discount_minor: Set(p.discount_minor),
                total_tax_minor: Set(p.total_tax_minor),
                total_minor: Set(p.total_minor),
                created_by: Set(actor.staff_id),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            (documents::SALES_ORDER, saved.id)
        }
    };
    if target == Target::SalesOrder {
        documents::save_lines(txn, document_type, new_id, &lines).await?;
    }
    let mut update = proposal::Entity::update_many()
        .col_expr(proposal::Column::ClientId, Expr::value(client_id))
        .col_expr(proposal::Column::UpdatedAt, Expr::value(now))
        .filter(proposal::Column::Id.eq(p.id));
    update = match target {
        Target::Invoice => update.col_expr(proposal::Column::InvoiceId, Expr::value(new_id)),
        Target::SalesOrder => update.col_expr(proposal::Column::SalesOrderId, Expr::value(new_id)),
    };
    update.exec(txn).await?;
    let action = match target {
        Target::Invoice => "proposal.converted_to_invoice",
        Target::SalesOrder => "proposal.converted_to_sales_order",
    };
    let mut change = Change::new(action, "proposal", p.id);
    change.after = Some(json!({"document_type": document_type, "document_id": new_id, "client_id": client_id}));
    audit::record(txn, actor, change).await?;
    outbox::emit(txn, "proposal_converted", "proposal", p.id, json!({"proposal_id": p.id, "document_type": document_type, "document_id": new_id})).await?;
    Ok(new_id)
}

/// Convert an accepted proposal into a draft invoice with identical lines and totals.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/convert-to-invoice", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 201, body = Invoice), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`proposal_not_accepted`, `already_converted`", body = Problem, content_type = "application/problem+json")))]
pub async fn convert_to_invoice(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    // Converting needs `create` on what it creates and sight of the proposal — not `edit` on
    // proposals: the guide's sales agent converts the proposals they won.
    user.require(Module::Invoices, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let p = lock_visible(&txn, &user, *id).await?;
    let invoice_id = convert_in(&txn, &user.actor(), &p, Target::Invoice).await?;
    let invoice = super::invoices::load(&txn, &state.settings.public_url, invoice_id).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(invoice))
}

/// Convert an accepted proposal into a draft sales order with identical lines and totals.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/convert-to-sales-order", tag = "proposals", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 201, body = SalesOrder), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`proposal_not_accepted`, `already_converted`", body = Problem, content_type = "application/problem+json")))]
pub async fn convert_to_sales_order(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::SalesOrders, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let p = lock_visible(&txn, &user, *id).await?;
    let order_id = convert_in(&txn, &user.actor(), &p, Target::SalesOrder).await?;
    let order = super::sales_orders::load_sales_order(&txn, order_id).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(order))
}
