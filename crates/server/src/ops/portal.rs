//! Portal: the queries and business operations below the HTTP handlers.

use crmconnect_domain::api::{Acceptance, PortalContract, PortalProposal, Signature};
use crmconnect_domain::money;
use crmconnect_domain::proposals::{self as rules, ProposalStatus};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::db::Read;
use crate::documents::currency_of;
use crate::entities::{client, contract, proposal};
use crate::error::{Error, ErrorCode, Result};
use crate::notifications::{self, Notice};
use crate::ops::contracts::{changed_after_signing, refuse_unless_signable, signature_of};
use crate::ops::proposals::{self, acceptance_of, status_of};
use crate::settings;

/// The proposal behind a token, as long as the client may see it (drafts are not published).
pub async fn by_token(db: &impl ConnectionTrait, token: &str, read: Read) -> Result<proposal::Model> {
    let not_found = || Error::not_found("proposal");
    if token.len() > 100 {
        return Err(not_found());
    }
    let p = read.apply(proposal::Entity::find().filter(proposal::Column::PortalToken.eq(token))).one(db).await?.ok_or_else(not_found)?;
    if status_of(&p) == ProposalStatus::Draft {
        return Err(not_found());
    }
    Ok(p)
}

/// Staff to tell about what the client did: the assignee, else the author.
pub fn owner(p: &proposal::Model) -> Option<i32> {
    p.assigned_to.or(p.created_by)
}

pub async fn notify_owner(db: &impl ConnectionTrait, p: &proposal::Model, kind: &str, title: String, body: String) -> Result<()> {
    if let Some(staff_id) = owner(p) {
        let notice = Notice { kind, title, body, link: Some(format!("/admin/proposals/{}", p.id)), entity: Some(("proposal", p.id)) };
        notifications::notify(db, staff_id, notice).await?;
    }
    Ok(())
}

pub async fn portal_view(db: &impl ConnectionTrait, public_url: &str, p: &proposal::Model) -> Result<PortalProposal> {
    let api = proposals::load_api(db, public_url, p).await?;
    let company = settings::load(db).await?;
    let status = status_of(p);
    let expired = rules::is_expired(status, p.open_till, crate::documents::today());
    Ok(PortalProposal {
        number: api.number,
        subject: api.subject,
        company_name: company.company_name,
        recipient: api.recipient,
        currency: api.currency,
        date: api.date,
        open_till: api.open_till,
        content: api.content,
        terms: api.terms,
        lines: api.lines,
        amounts: api.amounts,
        status: api.status,
        status_code: api.status_code,
        expired,
        allow_comments: api.allow_comments,
        can_respond: status.awaiting_client() && !expired,
        // Who accepted and when is the client's to see; from which IP and browser is not.
        accepted: acceptance_of(p).map(|a| Acceptance { ip: None, user_agent: None, ..a }),
    })
}

pub fn refuse_if_expired(p: &proposal::Model) -> Result<()> {
    if rules::is_expired(status_of(p), p.open_till, crate::documents::today()) {
        let till = p.open_till.map(|d| d.to_string()).unwrap_or_default();
        return Err(Error::refused(ErrorCode::ProposalExpired, format!("This proposal was open until {till}; ask us for an updated one.")));
    }
    Ok(())
}

pub fn require_comments(p: &proposal::Model) -> Result<()> {
    if !p.allow_comments {
        return Err(Error::refused(ErrorCode::CommentsDisabled, "Comments are turned off for this proposal."));
    }
    Ok(())
}

pub async fn invoice_by_token(db: &impl ConnectionTrait, token: &str) -> Result<crate::entities::invoice::Model> {
    use crate::entities::invoice;
    let not_found = || Error::not_found("invoice");
    if token.len() > 100 {
        return Err(not_found());
    }
    let i = invoice::Entity::find().filter(invoice::Column::PortalToken.eq(token)).one(db).await?.ok_or_else(not_found)?;
    // Drafts have no number yet and are not the client's business.
    if i.number.is_none() {
        return Err(not_found());
    }
    Ok(i)
}

/// The contract behind a portal token.
pub async fn contract_by_token(db: &impl ConnectionTrait, token: &str, read: Read) -> Result<contract::Model> {
    if token.len() > 100 {
        return Err(Error::not_found("contract"));
    }
    read.apply(contract::Entity::find().filter(contract::Column::PortalToken.eq(token))).one(db).await?.ok_or_else(|| Error::not_found("contract"))
}

/// The contract as its client sees it on the portal.
pub async fn contract_view(db: &impl ConnectionTrait, c: &contract::Model) -> Result<PortalContract> {
    let company = settings::load(db).await?;
    let client_name = client::Entity::find_by_id(c.client_id).one(db).await?.map(|x| x.company).unwrap_or_default();
    Ok(PortalContract {
        subject: c.subject.clone(),
        company_name: company.company_name,
        client_name,
        value: money::from_minor(c.value_minor, currency_of(&c.currency)),
        currency: c.currency.clone(),
        start_date: c.start_date,
        end_date: c.end_date,
        content: c.content.clone(),
        signature: signature_of(c).map(|s| Signature { ip: None, user_agent: None, ..s }),
        changed_after_signing: changed_after_signing(c),
        can_sign: refuse_unless_signable(db, c).await.is_ok(),
    })
}
