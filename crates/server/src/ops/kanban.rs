//! Kanban: the queries and business operations below the HTTP handlers.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use crmconnect_domain::api::{CurrencyAmount, KanbanColumn, LeadCard};
use crmconnect_domain::leads::{days_in_stage, position_between, renumbered};
use crmconnect_domain::money::{from_minor, Currency};
use crmconnect_domain::permissions::ViewScope;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use time::OffsetDateTime;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::entities::{lead, pipeline_status};
use crate::error::{Error, ErrorCode, Result};
use crate::ops::leads::LeadFilter;
use crate::ops::leads::{record_status_change, tags_of, top_position, LeadNames};
use crate::ops::pipelines::status_to_api;

pub const DEFAULT_CARDS: u64 = 20;
pub const MAX_CARDS: u64 = 200;

pub fn card_limit(limit: Option<u64>) -> Result<u64> {
    let n = limit.unwrap_or(DEFAULT_CARDS);
    if !(1..=MAX_CARDS).contains(&n) {
        return Err(Error::field("limit", "out_of_range", format!("limit must be between 1 and {MAX_CARDS}")));
    }
    Ok(n)
}

pub fn encode_cursor(position: i64, id: i32) -> String {
    URL_SAFE_NO_PAD.encode(format!("p:{position}:{id}"))
}

pub fn decode_cursor(raw: &str) -> Result<(i64, i32)> {
    let invalid = || Error::refused(ErrorCode::InvalidCursor, "Pass back `next_cursor` exactly as received.");
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?).map_err(|_| invalid())?;
    let mut parts = text.strip_prefix("p:").ok_or_else(invalid)?.split(':');
    let pos = parts.next().and_then(|p| p.parse().ok()).ok_or_else(invalid)?;
    let id = parts.next().and_then(|p| p.parse().ok()).ok_or_else(invalid)?;
    Ok((pos, id))
}

/// Cards on the board: not lost, not junk, not opportunities (LeadFilter's defaults).
pub fn live_in(status_id: i32) -> Condition {
    Condition::all()
        .add(lead::Column::StatusId.eq(status_id))
        .add(lead::Column::Lost.eq(false))
        .add(lead::Column::Junk.eq(false))
        .add(lead::Column::IsOpportunity.eq(false))
}

#[derive(Debug, FromQueryResult)]
pub struct ColumnTotal {
    pub status_id: i32,
    pub currency: Option<String>,
    pub n: i64,
    pub total: Option<i64>,
}

/// Count and value sums per (status, currency) in one grouped, index-backed query.
pub async fn totals(db: &impl ConnectionTrait, cond: Condition) -> Result<Vec<ColumnTotal>> {
    Ok(lead::Entity::find()
        .select_only()
        .column(lead::Column::StatusId)
        .column(lead::Column::Currency)
        .column_as(Expr::cust("COUNT(*)"), "n")
        // PostgreSQL sums BIGINT as NUMERIC; cast back so both databases return an integer.
        .column_as(Expr::cust("CAST(SUM(estimated_value_minor) AS BIGINT)"), "total")
        .filter(cond)
        .group_by(lead::Column::StatusId)
        .group_by(lead::Column::Currency)
        .into_model::<ColumnTotal>()
        .all(db)
        .await?)
}

pub async fn column(
    db: &impl ConnectionTrait,
    status: &pipeline_status::Model,
    base: &Condition,
    sums: &[ColumnTotal],
    limit: u64,
    after: Option<(i64, i32)>,
    names: &LeadNames,
) -> Result<KanbanColumn> {
    let mut cond = base.clone().add(live_in(status.id));
    if let Some((pos, id)) = after {
        cond = cond
            .add(Condition::any().add(lead::Column::Position.gt(pos)).add(Condition::all().add(lead::Column::Position.eq(pos)).add(lead::Column::Id.gt(id))));
    }
    let mut rows = lead::Entity::find().filter(cond).order_by_asc(lead::Column::Position).order_by_asc(lead::Column::Id).limit(limit + 1).all(db).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(|l| encode_cursor(l.position, l.id)) } else { None };
    let mut tags = tags_of(db, &rows.iter().map(|l| l.id).collect::<Vec<_>>()).await?;
    let now = OffsetDateTime::now_utc();
    let items = rows
        .iter()
        .map(|l| LeadCard {
            id: l.id,
            name: l.name.clone(),
            company: l.company.clone(),
            estimated_value: crmconnect_domain::money::amount_of(l.estimated_value_minor, l.currency.as_deref()),
            currency: l.currency.clone(),
            assigned_to: l.assigned_to,
            assigned_to_name: names.staff_name(l.assigned_to),
            score: l.score,
            days_in_stage: days_in_stage(l.last_status_change_at, now),
            tags: tags.remove(&l.id).unwrap_or_default(),
        })
        .collect();
    let mine: Vec<&ColumnTotal> = sums.iter().filter(|t| t.status_id == status.id).collect();
    let mut value_totals: Vec<CurrencyAmount> = mine
        .iter()
        .filter_map(|t| {
            let currency = Currency::parse(t.currency.as_deref()?).ok()?;
            Some(CurrencyAmount { currency: currency.code().to_string(), amount: from_minor(t.total?, currency) })
        })
        .collect();
    value_totals.sort_by(|a, b| a.currency.cmp(&b.currency));
    Ok(KanbanColumn { status: status_to_api(status), count: mine.iter().map(|t| t.n as u64).sum(), value_totals, items, next_cursor })
}

/// The filter conditions for the board, without the list-only lost/junk switches.
pub fn board_condition(user: &AuthUser, scope: ViewScope, filter: &LeadFilter, pipeline_id: i32) -> Result<Condition> {
    let filter = LeadFilter {
        pipeline_id: Some(pipeline_id),
        status: None,
        lost: None,
        junk: None,
        assigned: filter.assigned.clone(),
        source_id: filter.source_id,
        tag: filter.tag.clone(),
        created: filter.created.clone(),
        stagnant_days: filter.stagnant_days,
        uncontacted: filter.uncontacted,
        q: filter.q.clone(),
        no_followup: filter.no_followup,
    };
    filter.condition(user, scope)
}

/// Rewrites a column's positions evenly (excluding `except`), when two neighbours touch.
pub async fn renumber(db: &impl ConnectionTrait, status_id: i32, except: i32) -> Result<()> {
    let ids: Vec<i32> = lead::Entity::find()
        .filter(live_in(status_id))
        .filter(lead::Column::Id.ne(except))
        .order_by_asc(lead::Column::Position)
        .order_by_asc(lead::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.id)
        .collect();
    let positions = renumbered(ids.len());
    for (id, pos) in ids.into_iter().zip(positions) {
        lead::Entity::update_many().col_expr(lead::Column::Position, Expr::value(pos)).filter(lead::Column::Id.eq(id)).exec(db).await?;
    }
    Ok(())
}

/// The position right after `after_id` (or at the top) in a column, renumbering if needed.
pub async fn drop_position(db: &impl ConnectionTrait, status_id: i32, moving: i32, after_id: Option<i32>) -> Result<i64> {
    for _ in 0..2 {
        let (before, after) = match after_id {
            None => (None, None),
            Some(anchor_id) => {
                let anchor = lead::Entity::find_by_id(anchor_id)
                    .filter(live_in(status_id))
                    .one(db)
                    .await?
                    .ok_or_else(|| Error::field("after_id", "not_in_column", format!("lead {anchor_id} is not a card of the target column")))?;
                let next = lead::Entity::find()
                    .filter(live_in(status_id))
                    .filter(lead::Column::Id.ne(moving))
                    .filter(
                        Condition::any()
                            .add(lead::Column::Position.gt(anchor.position))
                            .add(Condition::all().add(lead::Column::Position.eq(anchor.position)).add(lead::Column::Id.gt(anchor.id))),
                    )
                    .order_by_asc(lead::Column::Position)
                    .order_by_asc(lead::Column::Id)
                    .one(db)
                    .await?;
                (Some(anchor.position), next.map(|n| n.position))
            }
        };
        let pos = match (before, after) {
            (None, None) if after_id.is_none() => Some(top_position(db, status_id, Some(moving)).await?),
            (b, a) => position_between(b, a),
        };
        if let Some(pos) = pos {
            return Ok(pos);
        }
        renumber(db, status_id, moving).await?;
    }
    Err(Error::internal(anyhow::anyhow!("no room in column {status_id} after renumbering")))
}

/// Moves every lead of a status to another (deleting a status with `move_to`), each recorded
/// like a drag-drop, appended in their order below the target's cards.
pub async fn move_all(db: &impl ConnectionTrait, user: &AuthUser, from: i32, to: i32) -> Result<()> {
    let now = OffsetDateTime::now_utc();
    let leads =
        lead::Entity::find().filter(lead::Column::StatusId.eq(from)).order_by_asc(lead::Column::Position).order_by_asc(lead::Column::Id).all(db).await?;
    let bottom = lead::Entity::find().filter(live_in(to)).order_by_desc(lead::Column::Position).one(db).await?.map(|l| l.position);
    let mut pos = bottom;
    for l in leads {
        pos = Some(position_between(pos, None).unwrap_or(i64::MAX));
        let mut row: lead::ActiveModel = l.clone().into();
        row.status_id = Set(to);
        row.position = Set(pos.unwrap_or_default());
        row.last_status_change_at = Set(now);
        row.updated_at = Set(now);
        let saved = row.update(db).await?;
        record_status_change(db, &saved, Some(from), Some(user.id()), now).await?;
        audit::record(
            db,
            &user.actor(),
            Change::new("lead.status_changed", "lead", saved.id).after(&json!({"from_status_id": from, "to_status_id": to, "reason": "status deleted"})),
        )
        .await?;
    }
    Ok(())
}
