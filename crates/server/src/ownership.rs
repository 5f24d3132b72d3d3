//! Whose a record is, for "view own": the rule per record type as a subquery of ids
//! ([`own_record_ids`], for lists, the events feed and references) and read the other way round
//! ([`owners_of`], for the feed's deletion events). One module, so the two change together; it
//! knows nothing of the caller (see `visibility` for that), so the audit log can use it.

use sea_orm::sea_query::SelectStatement;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait};

use crate::entities::{client, contract, invoice, lead, proposal, recurring_invoice, sales_order};
use crate::error::{Error, Result};

/// The ids of the records of one type (`lead`, `opportunity`, `client`, `proposal`,
/// `sales_order`, `invoice`, `contract`, `recurring_invoice`) that `view_own` lets `me` see — the
/// rule each list applies, as a subquery (the events feed, task references).
pub fn own_record_ids(record_type: &str, me: i32) -> SelectStatement {
    let my_clients = || ids::<client::Entity>(client::Column::Id, Condition::all().add(client::Column::AssignedTo.eq(me)));
    match record_type {
        "lead" | "opportunity" => ids::<lead::Entity>(lead::Column::Id, Condition::all().add(lead::Column::AssignedTo.eq(me))),
        "client" => my_clients(),
        "proposal" => {
            ids::<proposal::Entity>(proposal::Column::Id, Condition::any().add(proposal::Column::AssignedTo.eq(me)).add(proposal::Column::CreatedBy.eq(me)))
        }
        "sales_order" => ids::<sales_order::Entity>(
            sales_order::Column::Id,
            Condition::any().add(sales_order::Column::ClientId.in_subquery(my_clients())).add(sales_order::Column::CreatedBy.eq(me)),
        ),
        "invoice" => ids::<invoice::Entity>(
            invoice::Column::Id,
            Condition::any()
                .add(invoice::Column::SaleAgent.eq(me))
                .add(invoice::Column::CreatedBy.eq(me))
                .add(invoice::Column::ClientId.in_subquery(my_clients())),
        ),
        "contract" => ids::<contract::Entity>(
            contract::Column::Id,
            Condition::any().add(contract::Column::ClientId.in_subquery(my_clients())).add(contract::Column::CreatedBy.eq(me)),
        ),
        _ => ids::<recurring_invoice::Entity>(
            recurring_invoice::Column::Id,
            Condition::any().add(recurring_invoice::Column::SaleAgent.eq(me)).add(recurring_invoice::Column::CreatedBy.eq(me)),
        ),
    }
}

/// The staff members whose `view_own` covers record `id` of `record_type` now: the same rule as
/// [`own_record_ids`], read the other way round.
/// The events feed stores them with a `*.deleted` event, taken before the record goes.
pub async fn owners_of(db: &impl ConnectionTrait, record_type: &str, id: i32) -> Result<Vec<i32>> {
    let client_owner = |client_id: Option<i32>| async move {
        Ok::<_, Error>(match client_id {
            Some(c) => client::Entity::find_by_id(c).one(db).await?.and_then(|c| c.assigned_to),
            None => None,
        })
    };
    let mut owners: Vec<Option<i32>> = match record_type {
        "lead" | "opportunity" => vec![lead::Entity::find_by_id(id).one(db).await?.and_then(|l| l.assigned_to)],
        "client" => vec![client::Entity::find_by_id(id).one(db).await?.and_then(|c| c.assigned_to)],
        "proposal" => proposal::Entity::find_by_id(id).one(db).await?.map_or(vec![], |p| vec![p.assigned_to, p.created_by]),
        "sales_order" => match sales_order::Entity::find_by_id(id).one(db).await? {
            Some(o) => vec![o.created_by, client_owner(Some(o.client_id)).await?],
            None => vec![],
        },
        "invoice" => match invoice::Entity::find_by_id(id).one(db).await? {
            Some(i) => vec![i.sale_agent, i.created_by, client_owner(Some(i.client_id)).await?],
            None => vec![],
        },
        "contract" => match contract::Entity::find_by_id(id).one(db).await? {
            Some(k) => vec![k.created_by, client_owner(Some(k.client_id)).await?],
            None => vec![],
        },
        _ => recurring_invoice::Entity::find_by_id(id).one(db).await?.map_or(vec![], |r| vec![r.sale_agent, r.created_by]),
    };
    owners.sort_unstable();
    owners.dedup();
    Ok(owners.into_iter().flatten().collect())
}

fn ids<E: EntityTrait>(id: E::Column, cond: Condition) -> SelectStatement {
    E::find().select_only().column(id).filter(cond).into_query()
}
