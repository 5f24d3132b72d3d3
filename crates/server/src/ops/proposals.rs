//! Proposals: the queries and business operations below the HTTP handlers.

use std::collections::HashMap;

use crmconnect_domain::api::{Acceptance, Comment, CommentInput, Proposal, ProposalInput, Recipient};
use crmconnect_domain::documents::{DiscountApplies, DocumentDiscount, DocumentTotals};
use crmconnect_domain::leads::normalize_tags;
use crmconnect_domain::money::Currency;
use crmconnect_domain::permissions::{Module, ViewScope};
use crmconnect_domain::proposals::{self as rules, ProposalStatus};
use crmconnect_domain::validation::{parse_name, EmailAddress, Validator};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use time::{Date, Duration, OffsetDateTime};

use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::db::Read;
use crate::documents::{self, currency_of, dec, today, Line, PROPOSAL};
use crate::entities::{client, lead, opportunity_status, proposal, proposal_comment, proposal_template, staff};
use crate::error::{Error, ErrorCode, Result};
use crate::{custom_fields, outbox, pdf, settings};

pub fn status_of(p: &proposal::Model) -> ProposalStatus {
    ProposalStatus::from_code(p.status_code).unwrap_or(ProposalStatus::Draft)
}

pub fn discount_of(p: &proposal::Model) -> Option<DocumentDiscount> {
    documents::discount_of(p.discount_type.as_deref(), &p.discount_value, &p.discount_applies)
}

pub fn portal_url(public_url: &str, token: &str) -> String {
    format!("{public_url}/proposal/{token}")
}

pub fn recipient_of(p: &proposal::Model) -> Recipient {
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
        content_hash: p.accepted_content_hash.clone(),
    })
}

/// The SHA-256 of exactly what the client sees and accepts: the document's identity, parties,
/// commercial terms and text. Stored at acceptance; editing any of it afterwards is refused.
pub fn accepted_content_hash(p: &Proposal) -> String {
    let accepted = serde_json::json!({
        "number": p.number,
        "date": p.date.to_string(),
        "open_till": p.open_till.map(|d| d.to_string()),
        "recipient": p.recipient,
        "currency": p.currency,
        "lines": p.lines,
        "amounts": p.amounts,
        "subject": p.subject,
        "content": p.content,
        "terms": p.terms,
    });
    documents::content_hash(&accepted.to_string())
}

/// API proposals for many rows: lines, names, opportunity flags and custom fields in one query each.
pub async fn load_many(db: &impl ConnectionTrait, public_url: &str, rows: &[proposal::Model]) -> Result<Vec<Proposal>> {
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

pub async fn load_api(db: &impl ConnectionTrait, public_url: &str, p: &proposal::Model) -> Result<Proposal> {
    Ok(load_many(db, public_url, std::slice::from_ref(p)).await?.remove(0))
}

/// A proposal the caller may see ("view own": assigned to or created by them).
pub async fn find_visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<proposal::Model> {
    visible(db, user, id, Read::Plain).await
}

/// [`find_visible`], locking the row until the transaction ends (write paths use this).
pub async fn lock_visible(txn: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<proposal::Model> {
    visible(txn, user, id, Read::ForUpdate).await
}

pub async fn visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32, read: Read) -> Result<proposal::Model> {
    let scope = user.view_scope(Module::Proposals)?;
    let p = read.apply(proposal::Entity::find_by_id(id)).one(db).await?.ok_or_else(|| Error::not_found("proposal"))?;
    if let ViewScope::Own(me) = scope {
        if p.assigned_to != Some(me) && p.created_by != Some(me) {
            return Err(Error::not_found("proposal"));
        }
    }
    Ok(p)
}

/// Every column a proposal's editor controls, resolved and validated.
pub struct Fields {
    pub subject: String,
    pub lead_id: Option<i32>,
    pub client_id: Option<i32>,
    pub recipient: Recipient,
    pub currency: Currency,
    pub date: Date,
    pub open_till: Option<Date>,
    pub allow_comments: bool,
    pub assigned_to: Option<i32>,
    pub discount: Option<DocumentDiscount>,
    pub discount_applies: DiscountApplies,
    pub content: String,
    pub terms: String,
    pub internal_notes: Option<String>,
    pub tags: Vec<String>,
    pub lines: Vec<Line>,
    /// The totals of `lines` under `discount` in `currency`, computed once while validating.
    pub totals: DocumentTotals,
}

/// What a relation contributes to a new proposal: recipient, currency, assignee.
pub struct RelationDefaults {
    pub recipient: Recipient,
    pub currency: Option<String>,
    pub assigned_to: Option<i32>,
}

pub async fn relation_defaults(
    db: &impl ConnectionTrait,
    v: &mut Validator,
    user: &AuthUser,
    b: &ProposalInput,
) -> Result<Option<(Option<i32>, Option<i32>, RelationDefaults)>> {
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
            Some(_) => ("lead_id", visible_reference(crate::ops::leads::find_visible(db, user, id).await)?),
            None => ("opportunity_id", visible_reference(crate::ops::opportunities::find_visible(db, user, id).await)?),
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
    let contact = crate::ops::clients::primary_contact(db, c.id).await?;
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
pub fn visible_reference<T>(found: Result<T>) -> Result<Option<T>> {
    match found {
        Ok(row) => Ok(Some(row)),
        Err(Error::NotFound(_) | Error::Forbidden(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn text(v: &mut Validator, field: &str, value: &Option<String>, max: usize) -> Option<Option<String>> {
    let raw = value.as_deref()?;
    let s = raw.trim();
    if s.chars().count() > max {
        v.push(field, "too_long", format!("must have at most {max} characters"));
        return None;
    }
    Some((!s.is_empty()).then(|| s.to_string()))
}

/// Validates a create or patch body on top of `current` (the stored proposal, or `None`).
pub async fn resolve(
    db: &impl ConnectionTrait,
    user: &AuthUser,
    current: Option<&proposal::Model>,
    b: &ProposalInput,
) -> Result<(Fields, custom_fields::Changes)> {
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
        // What the client accepted is frozen (its hash is on record); internal notes, tags,
        // the assignee, comments and custom fields stay editable.
        let client_visible = commercial
            || b.subject.is_some()
            || b.recipient.is_some()
            || b.client_id.is_some()
            || b.lead_id.is_some()
            || b.opportunity_id.is_some()
            || b.date.is_some()
            || b.open_till.is_some()
            || b.content.is_some()
            || b.terms.is_some();
        if client_visible && status == ProposalStatus::Accepted {
            return Err(Error::refused(
                ErrorCode::ProposalLocked,
                "The client accepted this proposal as it is: its content, terms, recipient and lines cannot change; create a new proposal.",
            ));
        }
        if commercial && (status.lines_locked() || p.invoice_id.is_some() || p.sales_order_id.is_some()) {
            return Err(Error::refused(
                ErrorCode::ProposalLocked,
                "An accepted or converted proposal's lines, currency and discount cannot change; create a new proposal.",
            ));
        }
        if b.template_id.is_some() {
            v.push("template_id", "create_only", "templates apply when a proposal is created");
        }
    }
    let template = match b.template_id.filter(|_| creating) {
        Some(id) => match proposal_template::Entity::find_by_id(id).one(db).await? {
            Some(t) => Some((t.content.clone(), documents::stored_lines(db, documents::PROPOSAL_TEMPLATE, t.id).await?)),
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

    let stored = current.map(|p| documents::StoredDiscount { kind: p.discount_type.as_deref(), value: &p.discount_value, applies: &p.discount_applies });
    let (discount, applies) = documents::resolve_discount(&mut v, b.discount_type, b.discount_value, b.discount_applies, stored);

    let lines = match (&b.lines, &template, current) {
        (Some(inputs), _, _) => documents::resolve_lines(db, &mut v, inputs).await?,
        (None, Some((_, lines)), None) => lines.clone(),
        (None, _, Some(p)) => documents::stored_lines(db, PROPOSAL, p.id).await?,
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
    let priced = currency.and_then(|c| v.check("discount_value", documents::compute(c, &lines, discount)).map(|t| (c, t)));
    let (subject, (currency, totals)) = Error::validated(v, subject.zip(priced))?;
    Ok((
        Fields {
            subject,
            lead_id,
            client_id,
            recipient,
            currency,
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
            totals,
        },
        custom,
    ))
}

/// Writes the resolved fields and the cached totals onto a row.
pub fn write(row: &mut proposal::ActiveModel, f: &Fields) {
    let (subtotal, discount, tax, total) = documents::minor_totals(&f.totals, f.currency);
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

/// An accepted proposal wins the opportunity it was made for: the opportunity moves to the
/// status named "Won" (one of the default statuses; a company without it keeps its status) at
/// probability 100. In the caller's transaction; a proposal of a plain lead changes nothing.
pub async fn win_opportunity(txn: &impl ConnectionTrait, actor: &Actor, p: &proposal::Model) -> Result<()> {
    let Some(lead_id) = p.lead_id else { return Ok(()) };
    let Some(o) = lead::Entity::find_by_id(lead_id).filter(lead::Column::IsOpportunity.eq(true)).one(txn).await? else {
        return Ok(());
    };
    let won = opportunity_status::Entity::find().filter(Expr::expr(Func::lower(Expr::col(opportunity_status::Column::Name))).eq("won")).one(txn).await?;
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
    outbox::emit(txn, "opportunity.won", "opportunity", o.id, json!({"opportunity_id": o.id, "proposal_id": p.id})).await?;
    Ok(())
}

pub fn transition_error(reason: String) -> Error {
    Error::refused(ErrorCode::InvalidStatusTransition, reason)
}

pub fn addresses(v: &mut Validator, field: &str, list: Vec<String>) -> Vec<String> {
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
    let mut sections = vec![(p.subject.clone(), documents::html_to_text(&p.content)), ("Terms and conditions".into(), documents::html_to_text(&p.terms))];
    if let Some(a) = &p.accepted {
        let proof = a.content_hash.as_deref().map(|h| format!("\nSHA-256 of the accepted proposal: {h}")).unwrap_or_default();
        sections.push(("Acceptance".into(), format!("Accepted by {} on {} UTC.{proof}", a.name, a.at.date())));
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
        sections,
    })
}

pub fn comment_to_api(c: &proposal_comment::Model) -> Comment {
    Comment { id: c.id, content: c.content.clone(), author_name: c.author_name.clone(), from_client: c.staff_id.is_none(), created_at: c.created_at }
}

pub async fn comments_of(db: &impl ConnectionTrait, proposal_id: i32) -> Result<Vec<Comment>> {
    comments_where(db, proposal_id, Condition::all()).await
}

/// A proposal's comments that also meet `changed` (the list's `created_since`).
pub async fn comments_where(db: &impl ConnectionTrait, proposal_id: i32, changed: Condition) -> Result<Vec<Comment>> {
    let rows = proposal_comment::Entity::find()
        .filter(proposal_comment::Column::ProposalId.eq(proposal_id))
        .filter(changed)
        .order_by_asc(proposal_comment::Column::Id)
        .all(db)
        .await?;
    Ok(rows.iter().map(comment_to_api).collect())
}

pub fn check_comment(body: &CommentInput) -> Result<String> {
    let content = body.content.trim();
    if content.is_empty() {
        return Err(Error::field("content", "required", "the comment is empty"));
    }
    if content.chars().count() > 5000 {
        return Err(Error::field("content", "too_long", "at most 5000 characters"));
    }
    Ok(content.to_string())
}

/// What a proposal converts into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Invoice,
    SalesOrder,
}

/// The client a converted document is billed to: the proposal's, or its lead's (converting
/// the lead to a client first, as the leads module defines).
pub async fn billing_client(txn: &impl ConnectionTrait, actor: &Actor, p: &proposal::Model) -> Result<i32> {
    if let Some(id) = p.client_id {
        return Ok(id);
    }
    let lead_id = p.lead_id.ok_or_else(|| Error::field("client_id", "required", "relate the proposal to a client before converting it"))?;
    // Locked: two proposals of one lead converted at once must make one client, not two.
    let l = Read::ForUpdate.apply(lead::Entity::find_by_id(lead_id)).one(txn).await?.ok_or_else(|| Error::not_found("lead"))?;
    match l.converted_client_id {
        Some(id) => Ok(id),
        None => Ok(crate::ops::clients::convert_lead_in(txn, actor, &l).await?.id),
    }
}

/// Copies an accepted proposal into a new draft invoice or sales order (every line, tax,
/// discount and the currency), links both ways, in the caller's transaction.
pub async fn convert_in(txn: &impl ConnectionTrait, actor: &Actor, p: &proposal::Model, target: Target) -> Result<i32> {
    if status_of(p) != ProposalStatus::Accepted {
        return Err(Error::refused(ErrorCode::ProposalNotAccepted, format!("Only accepted proposals convert; {} is {}.", p.number, status_of(p).name())));
    }
    let existing = match target {
        Target::Invoice => p.invoice_id.map(|id| format!("invoice {id}")),
        Target::SalesOrder => p.sales_order_id.map(|id| format!("sales order {id}")),
    };
    if let Some(what) = existing {
        return Err(Error::refused(ErrorCode::AlreadyConverted, format!("{} was already converted to {what}.", p.number)));
    }
    let client_id = billing_client(txn, actor, p).await?;
    let client = client::Entity::find_by_id(client_id).one(txn).await?.ok_or_else(|| Error::not_found("client"))?;
    let rows = documents::lines_of(txn, PROPOSAL, &[p.id]).await?.remove(&p.id).unwrap_or_default();
    let lines = documents::lines_from_rows(&rows);
    let now = OffsetDateTime::now_utc();
    let today = now.date();
    let (document_type, new_id) = match target {
        Target::Invoice => {
            let draft = crate::ops::invoices::DraftInvoice {
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
            (documents::INVOICE, crate::ops::invoices::insert_draft(txn, draft).await?.id)
        }
        Target::SalesOrder => {
            let row = crate::entities::sales_order::ActiveModel {
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
            };
            (documents::SALES_ORDER, crate::ops::sales_orders::insert(txn, row, &lines).await?.id)
        }
    };
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
    outbox::emit(txn, "proposal.converted", "proposal", p.id, json!({"proposal_id": p.id, "document_type": document_type, "document_id": new_id})).await?;
    Ok(new_id)
}
