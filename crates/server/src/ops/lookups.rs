//! Lookups: the queries and business operations below the HTTP handlers.

use crmconnect_domain::api::NamedOption;
use sea_orm::{ConnectionTrait, FromQueryResult, StatementBuilder};

use crate::error::ApiResult;

pub struct Lookup {
    pub table: &'static str,
    pub entity_type: &'static str,
    pub label: &'static str,
    /// Deleting an option still used by a lead: `Some(column)` refuses; `None` lets the
    /// database clear the reference (ON DELETE SET NULL).
    pub refuse_when_used_by: Option<&'static str>,
    /// Statuses keep their creation order; plain options sort by name.
    pub ordered_by_id: bool,
}

pub const SOURCES: Lookup = Lookup { table: "lead_sources", entity_type: "lead_source", label: "lead source", refuse_when_used_by: None, ordered_by_id: false };
pub const LOST_REASONS: Lookup =
    Lookup { table: "lost_reasons", entity_type: "lost_reason", label: "lost reason", refuse_when_used_by: Some("lost_reason_id"), ordered_by_id: false };
pub const OPPORTUNITY_STATUSES: Lookup = Lookup {
    table: "opportunity_statuses",
    entity_type: "opportunity_status",
    label: "opportunity status",
    refuse_when_used_by: Some("opportunity_status_id"),
    ordered_by_id: true,
};

#[derive(FromQueryResult)]
pub struct Row {
    pub id: i32,
    pub name: String,
}

#[derive(FromQueryResult)]
pub struct Count {
    pub n: i64,
}

pub async fn fetch<S: StatementBuilder>(db: &impl ConnectionTrait, stmt: &S) -> ApiResult<Vec<NamedOption>> {
    let rows = Row::find_by_statement(db.get_database_backend().build(stmt)).all(db).await?;
    Ok(rows.into_iter().map(|r| NamedOption { id: r.id, name: r.name }).collect())
}
