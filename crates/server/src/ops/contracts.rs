//! Contracts: the queries and business operations below the HTTP handlers.

use crmconnect_domain::api::{Contract, ContractInput, Signature};
use crmconnect_domain::money::{self, Currency};
use crmconnect_domain::permissions::{Module, ViewScope};
use crmconnect_domain::validation::{parse_name, Validator};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use time::{Date, Duration, OffsetDateTime};

use crate::auth::{secrets, AuthUser};
use crate::db::Read;
use crate::documents;
use crate::documents::{content_hash, currency_of, today};
use crate::entities::{client, contract, contract_status};
use crate::error::{Error, ErrorCode, Result};

pub fn signature_of(c: &contract::Model) -> Option<Signature> {
    Some(Signature {
        name: c.signed_name.clone()?,
        at: c.signed_at?,
        ip: c.signed_ip.clone(),
        user_agent: c.signed_user_agent.clone(),
        content_hash: c.signed_content_hash.clone()?,
    })
}

/// A contract can be signed once, while its status is "Awaiting signature" (not a draft, not
/// active before anyone signed, not expired or terminated) and before its end date.
pub async fn refuse_unless_signable(db: &impl ConnectionTrait, c: &contract::Model) -> Result<()> {
    if c.signed_at.is_some() {
        return Err(Error::refused(ErrorCode::AlreadyDone, "This contract is already signed."));
    }
    let status = match c.status_id {
        Some(id) => contract_status::Entity::find_by_id(id).one(db).await?.map(|s| s.name),
        None => None,
    };
    if status.as_deref() != Some(crate::db::AWAITING_SIGNATURE) {
        let shown = status.unwrap_or_else(|| "without a status".into());
        return Err(Error::refused(ErrorCode::InvalidStatusTransition, format!("This contract is {shown}, not awaiting signature.")));
    }
    if c.end_date.is_some_and(|end| end < today()) {
        return Err(Error::refused(ErrorCode::InvalidStatusTransition, "This contract has ended; it can no longer be signed."));
    }
    Ok(())
}

pub fn changed_after_signing(c: &contract::Model) -> bool {
    c.signed_content_hash.as_ref().is_some_and(|h| *h != content_hash(&c.content))
}

pub async fn load_many(db: &impl ConnectionTrait, public_url: &str, rows: &[contract::Model]) -> Result<Vec<Contract>> {
    let statuses: std::collections::HashMap<i32, String> = contract_status::Entity::find().all(db).await?.into_iter().map(|s| (s.id, s.name)).collect();
    let client_ids: Vec<i32> = rows.iter().map(|c| c.client_id).collect();
    let names: std::collections::HashMap<i32, String> =
        client::Entity::find().filter(client::Column::Id.is_in(client_ids)).all(db).await?.into_iter().map(|c| (c.id, c.company)).collect();
    Ok(rows
        .iter()
        .map(|c| Contract {
            id: c.id,
            client_id: c.client_id,
            client_name: names.get(&c.client_id).cloned().unwrap_or_default(),
            subject: c.subject.clone(),
            contract_type: c.contract_type.clone(),
            value: money::from_minor(c.value_minor, currency_of(&c.currency)),
            currency: c.currency.clone(),
            start_date: c.start_date,
            end_date: c.end_date,
            content: c.content.clone(),
            status_id: c.status_id,
            status: c.status_id.and_then(|id| statuses.get(&id).cloned()),
            proposal_id: c.proposal_id,
            renewed_from_id: c.renewed_from_id,
            portal_url: c.portal_token.as_deref().map(|t| format!("{public_url}/contract/{t}")),
            signature: signature_of(c),
            changed_after_signing: changed_after_signing(c),
            created_at: c.created_at,
        })
        .collect())
}

pub async fn load_api(db: &impl ConnectionTrait, public_url: &str, c: &contract::Model) -> Result<Contract> {
    Ok(load_many(db, public_url, std::slice::from_ref(c)).await?.remove(0))
}

pub async fn find_visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<contract::Model> {
    visible(db, user, id, Read::Plain).await
}

/// [`find_visible`], locking the row until the transaction ends (write paths use this).
pub async fn lock_visible(txn: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<contract::Model> {
    visible(txn, user, id, Read::ForUpdate).await
}

pub async fn visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32, read: Read) -> Result<contract::Model> {
    let scope = user.view_scope(Module::Contracts)?;
    let c = read.apply(contract::Entity::find_by_id(id)).one(db).await?.ok_or_else(|| Error::not_found("contract"))?;
    if let ViewScope::Own(me) = scope {
        let owner = client::Entity::find_by_id(c.client_id).one(db).await?.and_then(|x| x.assigned_to);
        if owner != Some(me) && c.created_by != Some(me) {
            return Err(Error::not_found("contract"));
        }
    }
    Ok(c)
}

pub async fn status_named(db: &impl ConnectionTrait, name: &str) -> Result<Option<i32>> {
    Ok(contract_status::Entity::find().filter(contract_status::Column::Name.eq(name)).one(db).await?.map(|s| s.id))
}

pub async fn apply(
    db: &impl ConnectionTrait,
    user: &AuthUser,
    row: &mut contract::ActiveModel,
    current: Option<&contract::Model>,
    b: &ContractInput,
) -> Result<()> {
    let creating = current.is_none();
    let mut v = Validator::new();
    let client = documents::requested_client(db, user, &mut v, b.client_id, creating).await?;
    let subject = match &b.subject {
        Some(s) => v.check("subject", parse_name(s, 300)),
        None if creating => {
            v.push("subject", "required", "a subject is required");
            None
        }
        None => None,
    };
    let currency: Option<Currency> = match (&b.currency, current, &client) {
        (Some(c), _, _) => documents::enabled_currency(db, &mut v, "currency", c).await?,
        (None, Some(c), _) => Some(currency_of(&c.currency)),
        (None, None, Some(_)) => Some(documents::base_currency(db).await?),
        _ => None,
    };
    let value_minor = match (b.value, currency) {
        (Some(val), Some(c)) => v.check("value", money::non_negative_minor(val, c)),
        _ => None,
    };
    let start = b.start_date.or(current.map(|c| c.start_date)).unwrap_or_else(today);
    let end = match b.end_date {
        Some(e) => e,
        None => current.and_then(|c| c.end_date),
    };
    if end.is_some_and(|e| e < start) {
        v.push("end_date", "before_start", "the end date cannot be before the start date");
    }
    if let Some(id) = b.status_id {
        if contract_status::Entity::find_by_id(id).one(db).await?.is_none() {
            v.push("status_id", "not_found", format!("no contract status {id}"));
        }
    }
    if b.contract_type.as_ref().is_some_and(|t| t.chars().count() > 100) {
        v.push("contract_type", "too_long", "at most 100 characters");
    }
    v.finish().map_err(Error::validation)?;
    if let Some(c) = client {
        row.client_id = Set(c.id);
    }
    if let Some(s) = subject {
        row.subject = Set(s);
    }
    if let Some(c) = currency {
        row.currency = Set(c.code().to_string());
    }
    if let Some(m) = value_minor {
        row.value_minor = Set(m);
    } else if creating {
        row.value_minor = Set(0);
    }
    row.start_date = Set(start);
    row.end_date = Set(end);
    if let Some(t) = &b.contract_type {
        row.contract_type = Set(Some(t.trim().to_string()).filter(|t| !t.is_empty()));
    } else if creating {
        row.contract_type = Set(None);
    }
    if let Some(c) = &b.content {
        row.content = Set(documents::sanitize_html(c));
    } else if creating {
        row.content = Set(String::new());
    }
    match b.status_id {
        Some(id) => row.status_id = Set(Some(id)),
        None if creating => row.status_id = Set(status_named(db, "Draft").await?),
        None => {}
    }
    row.updated_at = Set(OffsetDateTime::now_utc());
    Ok(())
}

pub fn new_row(user_id: Option<i32>) -> contract::ActiveModel {
    let now = OffsetDateTime::now_utc();
    contract::ActiveModel {
        proposal_id: Set(None),
        renewed_from_id: Set(None),
        portal_token: Set(Some(secrets::random_secret())),
        signed_name: Set(None),
        signature: Set(None),
        signed_at: Set(None),
        signed_ip: Set(None),
        signed_user_agent: Set(None),
        signed_content_hash: Set(None),
        created_by: Set(user_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// The contracts ending within `days` of `today` (for the expiry job).
pub async fn ending_within(db: &impl ConnectionTrait, today: Date, days: i64) -> Result<Vec<contract::Model>> {
    Ok(contract::Entity::find()
        .filter(contract::Column::EndDate.gte(today))
        .filter(contract::Column::EndDate.lte(today + Duration::days(days)))
        .all(db)
        .await?)
}

/// Revokes the contract's portal link and issues a new one (`POST /contracts/{id}/portal-token`):
/// the old link answers 404 from now on, e.g. after it was forwarded to the wrong person.
pub async fn rotate_portal_token(txn: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<contract::Model> {
    let current = lock_visible(txn, user, id).await?;
    let mut row: contract::ActiveModel = current.into();
    row.portal_token = sea_orm::ActiveValue::Set(Some(crate::auth::secrets::random_secret()));
    row.updated_at = sea_orm::ActiveValue::Set(time::OffsetDateTime::now_utc());
    let saved = sea_orm::ActiveModelTrait::update(row, txn).await?;
    crate::audit::record(txn, &user.actor(), crate::audit::Change::new("contract.portal_link_rotated", "contract", id)).await?;
    Ok(saved)
}
