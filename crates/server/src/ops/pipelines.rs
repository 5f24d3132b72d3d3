//! Pipelines: the queries and business operations below the HTTP handlers.

use crmconnect_domain::api::{Pipeline, PipelineStatus};
use crmconnect_domain::permissions::Module;
use crmconnect_domain::validation::FieldProblem;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use crate::auth::AuthUser;
use crate::db::Read;
use crate::entities::{lead, pipeline, pipeline_status};
use crate::error::{Error, ErrorCode, Result};

pub const DEFAULT_COLOR: &str = "#64748b";

/// Pipelines are configuration: anyone who works leads may read them, settings staff edit them.
pub fn require_read(user: &AuthUser) -> Result<()> {
    if user.view_scope(Module::Leads).is_ok() || user.view_scope(Module::Opportunities).is_ok() {
        return Ok(());
    }
    user.view_scope(Module::Settings).map(|_| ())
}

pub fn parse_color(raw: &str) -> Result<String, FieldProblem> {
    let c = raw.trim();
    let hex = c.strip_prefix('#').unwrap_or("");
    if (hex.len() == 3 || hex.len() == 6) && hex.chars().all(|ch| ch.is_ascii_hexdigit()) {
        Ok(c.to_ascii_lowercase())
    } else {
        Err(FieldProblem::new("invalid_color", "use a CSS hex colour like #1f5eff"))
    }
}

pub fn status_to_api(s: &pipeline_status::Model) -> PipelineStatus {
    PipelineStatus { id: s.id, pipeline_id: s.pipeline_id, name: s.name.clone(), color: s.color.clone(), order: s.sort_order }
}

pub async fn statuses_of(db: &impl ConnectionTrait, pipeline_id: i32) -> Result<Vec<pipeline_status::Model>> {
    statuses_where(db, pipeline_id, Condition::all()).await
}

/// A pipeline's statuses that also meet `changed` (the list's `updated_since` / `created_since`).
pub async fn statuses_where(db: &impl ConnectionTrait, pipeline_id: i32, changed: Condition) -> Result<Vec<pipeline_status::Model>> {
    Ok(pipeline_status::Entity::find()
        .filter(pipeline_status::Column::PipelineId.eq(pipeline_id))
        .filter(changed)
        .order_by_asc(pipeline_status::Column::SortOrder)
        .order_by_asc(pipeline_status::Column::Id)
        .all(db)
        .await?)
}

pub async fn to_api(db: &impl ConnectionTrait, p: &pipeline::Model) -> Result<Pipeline> {
    let statuses = statuses_of(db, p.id).await?;
    Ok(Pipeline { id: p.id, name: p.name.clone(), is_default: p.is_default, statuses: statuses.iter().map(status_to_api).collect() })
}

pub async fn find_pipeline(db: &impl ConnectionTrait, id: i32) -> Result<pipeline::Model> {
    pipeline::Entity::find_by_id(id).one(db).await?.ok_or_else(|| Error::not_found("pipeline"))
}

/// The pipeline, locked until the transaction ends: a change to it or to one of its statuses
/// (which are part of its representation) waits for another one in progress.
pub async fn lock_pipeline(db: &impl ConnectionTrait, id: i32) -> Result<pipeline::Model> {
    Read::ForUpdate.apply(pipeline::Entity::find_by_id(id)).one(db).await?.ok_or_else(|| Error::not_found("pipeline"))
}

pub async fn default_pipeline(db: &impl ConnectionTrait) -> Result<pipeline::Model> {
    pipeline::Entity::find()
        .order_by_desc(pipeline::Column::IsDefault)
        .order_by_asc(pipeline::Column::Id)
        .one(db)
        .await?
        .ok_or_else(|| Error::field("pipeline_id", "required", "no pipeline exists; create one first"))
}

pub async fn ensure_name_free(db: &impl ConnectionTrait, name: &str, except: Option<i32>) -> Result<()> {
    let mut q = pipeline::Entity::find().filter(pipeline::Column::Name.eq(name));
    if let Some(id) = except {
        q = q.filter(pipeline::Column::Id.ne(id));
    }
    if q.count(db).await? > 0 {
        return Err(Error::refused(ErrorCode::NameTaken, format!("A pipeline named `{name}` already exists.")));
    }
    Ok(())
}

pub async fn make_sole_default(db: &impl ConnectionTrait, id: i32) -> Result<()> {
    pipeline::Entity::update_many().col_expr(pipeline::Column::IsDefault, Expr::value(false)).filter(pipeline::Column::Id.ne(id)).exec(db).await?;
    Ok(())
}

/// Writes `sort_order` 0..n in the given order.
pub async fn write_order(db: &impl ConnectionTrait, ids: &[i32]) -> Result<()> {
    for (i, id) in ids.iter().enumerate() {
        pipeline_status::Entity::update_many()
            .col_expr(pipeline_status::Column::SortOrder, Expr::value(i as i32))
            .filter(pipeline_status::Column::Id.eq(*id))
            .exec(db)
            .await?;
    }
    Ok(())
}

pub async fn lead_count(db: &impl ConnectionTrait, col: lead::Column, id: i32) -> Result<u64> {
    Ok(lead::Entity::find().filter(col.eq(id)).count(db).await?)
}

pub async fn ensure_status_name_free(db: &impl ConnectionTrait, pipeline_id: i32, name: &str, except: Option<i32>) -> Result<()> {
    let mut q = pipeline_status::Entity::find().filter(pipeline_status::Column::PipelineId.eq(pipeline_id)).filter(pipeline_status::Column::Name.eq(name));
    if let Some(id) = except {
        q = q.filter(pipeline_status::Column::Id.ne(id));
    }
    if q.count(db).await? > 0 {
        return Err(Error::refused(ErrorCode::NameTaken, format!("This pipeline already has a status named `{name}`.")));
    }
    Ok(())
}

pub async fn find_status(db: &impl ConnectionTrait, pipeline_id: i32, status_id: i32) -> Result<pipeline_status::Model> {
    pipeline_status::Entity::find_by_id(status_id)
        .filter(pipeline_status::Column::PipelineId.eq(pipeline_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("status of this pipeline"))
}
