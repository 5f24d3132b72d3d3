//! Lookups: the queries and business operations below the HTTP handlers.

use crmconnect_domain::api::NamedOption;
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{Condition, ConnectionTrait, FromQueryResult, StatementBuilder};

use crate::db::Read;
use crate::error::{Error, ErrorCode, Result};

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

pub async fn fetch<S: StatementBuilder>(db: &impl ConnectionTrait, stmt: &S) -> Result<Vec<NamedOption>> {
    let rows = Row::find_by_statement(db.get_database_backend().build(stmt)).all(db).await?;
    Ok(rows.into_iter().map(|r| NamedOption { id: r.id, name: r.name }).collect())
}

/// The queries every lookup table answers the same way.
impl Lookup {
    pub async fn all(&self, db: &impl ConnectionTrait) -> Result<Vec<NamedOption>> {
        self.all_where(db, Condition::all()).await
    }

    /// The options that meet `changed` (the list's `updated_since` / `created_since`).
    pub async fn all_where(&self, db: &impl ConnectionTrait, changed: Condition) -> Result<Vec<NamedOption>> {
        let order = Alias::new(if self.ordered_by_id { "id" } else { "name" });
        let q = Query::select()
            .columns([Alias::new("id"), Alias::new("name")])
            .from(Alias::new(self.table))
            .cond_where(changed)
            .order_by(order, sea_orm::Order::Asc)
            .to_owned();
        fetch(db, &q).await
    }

    pub async fn first(&self, db: &impl ConnectionTrait) -> Result<Option<NamedOption>> {
        Ok(self.all(db).await?.into_iter().next())
    }

    pub async fn find(&self, db: &impl ConnectionTrait, id: i32) -> Result<Option<NamedOption>> {
        self.read(db, id, Read::Plain).await
    }

    /// The option, locked until the transaction ends (before a checked rename).
    pub async fn lock(&self, db: &impl ConnectionTrait, id: i32) -> Result<Option<NamedOption>> {
        self.read(db, id, Read::ForUpdate).await
    }

    async fn read(&self, db: &impl ConnectionTrait, id: i32, read: Read) -> Result<Option<NamedOption>> {
        let mut q = Query::select()
            .columns([Alias::new("id"), Alias::new("name")])
            .from(Alias::new(self.table))
            .and_where(Expr::col(Alias::new("id")).eq(id))
            .to_owned();
        if read == Read::ForUpdate {
            q.lock_exclusive();
        }
        Ok(fetch(db, &q).await?.into_iter().next())
    }

    pub async fn ensure_name_free(&self, db: &impl ConnectionTrait, name: &str, except: Option<i32>) -> Result<()> {
        let mut q = Query::select().expr_as(Expr::cust("COUNT(*)"), Alias::new("n")).from(Alias::new(self.table)).to_owned();
        q.and_where(Expr::col(Alias::new("name")).eq(name));
        if let Some(id) = except {
            q.and_where(Expr::col(Alias::new("id")).ne(id));
        }
        let n = Count::find_by_statement(db.get_database_backend().build(&q)).one(db).await?.map_or(0, |c| c.n);
        if n > 0 {
            return Err(Error::refused(ErrorCode::NameTaken, format!("A {} named `{name}` already exists.", self.label)));
        }
        Ok(())
    }
}
