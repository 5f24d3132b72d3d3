//! Who may see which record — the one rule per resource that every read and every reference in
//! a request body goes through. Lists express the same rule as a query condition beside it.

use crmconnect_domain::permissions::{Action, Module, ViewScope};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use crate::auth::AuthUser;
use crate::db::Read;
use crate::entities::{client, contract, invoice, lead, proposal, sales_order};
use crate::error::{Error, Result};
use crate::ownership::own_record_ids;

/// A client is visible with Clients `view`, or with `view_own` when it is assigned to the caller.
pub fn client(user: &AuthUser, c: &client::Model) -> bool {
    match user.permissions.view_scope(Module::Clients, user.staff.id) {
        Some(ViewScope::All) => true,
        Some(ViewScope::Own(me)) => c.assigned_to == Some(me),
        None => false,
    }
}

/// The client a request body names, if it exists and the caller may see it. `None` is the same
/// answer for "no such client" and "not yours", so ids of other people's clients do not leak.
pub async fn referenced_client(db: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<Option<client::Model>> {
    Ok(client::Entity::find_by_id(id).one(db).await?.filter(|c| client(user, c)))
}

/// The module a funnel record belongs to: opportunities are rows of `leads` with
/// `is_opportunity`, governed by the Opportunities permissions.
pub fn funnel_module(l: &lead::Model) -> Module {
    if l.is_opportunity {
        Module::Opportunities
    } else {
        Module::Leads
    }
}

/// A lead or an opportunity by id, visible under its own module (`view`, or `view_own` when
/// assigned to the caller). Used by what both carry: activities, reminders, attachments, timeline.
pub async fn funnel_record(db: &impl ConnectionTrait, user: &AuthUser, id: i32, read: Read) -> Result<lead::Model> {
    let row = read.apply(lead::Entity::find_by_id(id)).one(db).await?.ok_or_else(|| Error::not_found("lead"))?;
    let what = if row.is_opportunity { "opportunity" } else { "lead" };
    match user.view_scope(funnel_module(&row))? {
        ViewScope::Own(me) if row.assigned_to != Some(me) => Err(Error::not_found(what)),
        _ => Ok(row),
    }
}

/// Editing what hangs off a funnel record (logging a call, setting a reminder, attaching a
/// file) needs `edit` on the record's own module.
pub fn require_funnel_edit(user: &AuthUser, l: &lead::Model) -> Result<()> {
    user.require(funnel_module(l), Action::Edit)
}

/// The same rule as [`funnel_record`], as a condition on `leads` for lists.
pub fn funnel_condition(user: &AuthUser) -> Condition {
    let side = |module: Module, is_opportunity: bool| -> Condition {
        let base = Condition::all().add(lead::Column::IsOpportunity.eq(is_opportunity));
        match user.permissions.view_scope(module, user.staff.id) {
            Some(ViewScope::All) => base,
            Some(ViewScope::Own(me)) => base.add(lead::Column::AssignedTo.eq(me)),
            None => Condition::all().add(Expr::val(1).eq(0)),
        }
    };
    Condition::any().add(side(Module::Leads, false)).add(side(Module::Opportunities, true))
}

/// Whether record `id` of `record_type` exists and `scope` (the caller's, on the record's module)
/// lets them see it.
pub async fn record_visible(db: &impl ConnectionTrait, record_type: &str, id: i32, scope: ViewScope) -> Result<bool> {
    let all = Condition::all();
    match record_type {
        "lead" | "opportunity" => {
            let kind = Condition::all().add(lead::Column::IsOpportunity.eq(record_type == "opportunity"));
            exists_within::<lead::Entity>(db, lead::Column::Id, id, kind, scope, record_type).await
        }
        "client" => exists_within::<client::Entity>(db, client::Column::Id, id, all, scope, record_type).await,
        "proposal" => exists_within::<proposal::Entity>(db, proposal::Column::Id, id, all, scope, record_type).await,
        "sales_order" => exists_within::<sales_order::Entity>(db, sales_order::Column::Id, id, all, scope, record_type).await,
        "invoice" => exists_within::<invoice::Entity>(db, invoice::Column::Id, id, all, scope, record_type).await,
        "contract" => exists_within::<contract::Entity>(db, contract::Column::Id, id, all, scope, record_type).await,
        _ => Ok(false),
    }
}

async fn exists_within<E: EntityTrait>(
    db: &impl ConnectionTrait,
    id_col: E::Column,
    id: i32,
    extra: Condition,
    scope: ViewScope,
    record_type: &str,
) -> Result<bool> {
    let mut cond = Condition::all().add(id_col.eq(id)).add(extra);
    if let ViewScope::Own(me) = scope {
        cond = cond.add(id_col.in_subquery(own_record_ids(record_type, me)));
    }
    Ok(E::find().filter(cond).one(db).await?.is_some())
}
