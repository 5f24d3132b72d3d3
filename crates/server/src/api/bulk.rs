//! Bulk actions on a selection of leads: `POST /api/v1/leads/bulk` — all or nothing.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{BulkLeadAction, BulkResult, Problem};
use crmconnect_domain::leads::normalize_tags;
use crmconnect_domain::permissions::{Action, Module, ViewScope};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use time::OffsetDateTime;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::db;
use crate::entities::{lead, lead_tag, pipeline_status, staff};
use crate::extract::Json;
use crate::ops::leads::{load_many_with, record_status_change, top_position, LeadNames};
use crate::ops::lookups::LOST_REASONS;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

pub const MAX_SELECTION: usize = 500;

/// Apply one action to many leads in one transaction: `assign`, `change_status`, `add_tag`,
/// `mark_lost`, `mark_junk` or `delete`. If any lead is not yours to change, nothing changes.
#[utoipa::path(post, path = "/api/v1/leads/bulk", operation_id = "bulkUpdateLeads", tag = "leads", security(("bearer" = [])), request_body = BulkLeadAction,
    responses((status = 200, body = BulkResult), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(actor = user.id()))]
pub async fn bulk(state: web::Data<AppState>, user: AuthUser, body: Json<BulkLeadAction>) -> ApiResult<HttpResponse> {
    let b = body.0;
    let needed = if b.action == "delete" { Action::Delete } else { Action::Edit };
    user.require(Module::Leads, needed)?;
    let scope = user.view_scope(Module::Leads)?;
    let mut ids = b.ids.clone();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() || ids.len() > MAX_SELECTION {
        return Err(ApiError::field("ids", "out_of_range", format!("select 1 to {MAX_SELECTION} leads")));
    }
    let txn = db::begin_write(&state.db).await?;
    let leads = lead::Entity::find().filter(lead::Column::Id.is_in(ids.clone())).filter(lead::Column::IsOpportunity.eq(false)).all(&txn).await?;
    let visible: Vec<lead::Model> = leads.into_iter().filter(|l| !matches!(scope, ViewScope::Own(me) if l.assigned_to != Some(me))).collect();
    if visible.len() != ids.len() {
        let found: Vec<i32> = visible.iter().map(|l| l.id).collect();
        let missing: Vec<String> = ids.iter().filter(|id| !found.contains(id)).map(|id| id.to_string()).collect();
        return Err(ApiError::field("ids", "not_found", format!("no such leads (or not yours): {}", missing.join(", "))));
    }
    let now = OffsetDateTime::now_utc();
    let action_name = format!("lead.bulk_{}", b.action);
    let names = LeadNames::load(&txn).await?;
    let befores = load_many_with(&txn, &names, &visible).await?;
    for (l, before) in visible.iter().zip(befores) {
        let mut row: lead::ActiveModel = l.clone().into();
        row.updated_at = Set(now);
        match b.action.as_str() {
            "assign" => {
                if let Some(sid) = b.assigned_to {
                    if !staff::Entity::find_by_id(sid).one(&txn).await?.is_some_and(|s| s.active) {
                        return Err(ApiError::field("assigned_to", "not_found", format!("no active staff member {sid}")));
                    }
                }
                row.assigned_to = Set(b.assigned_to);
            }
            "change_status" => {
                let sid = b.status_id.ok_or_else(|| ApiError::field("status_id", "required", "give the new status"))?;
                let status = pipeline_status::Entity::find_by_id(sid).one(&txn).await?;
                if status.as_ref().is_none_or(|s| s.pipeline_id != l.pipeline_id) {
                    return Err(ApiError::field("status_id", "wrong_pipeline", format!("status {sid} is not in the pipeline of lead {}", l.id)));
                }
                if l.status_id == sid {
                    continue;
                }
                row.status_id = Set(sid);
                row.position = Set(top_position(&txn, sid, Some(l.id)).await?);
                row.last_status_change_at = Set(now);
            }
            "add_tag" => {
                let tag = normalize_tags(&[b.tag.clone().unwrap_or_default()]).map_err(|p| ApiError::field("tag", p.code, p.message))?;
                let tag = tag.into_iter().next().ok_or_else(|| ApiError::field("tag", "required", "give the tag to add"))?;
                if !before.tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
                    lead_tag::Entity::insert(lead_tag::ActiveModel { lead_id: Set(l.id), tag: Set(tag) }).exec(&txn).await?;
                }
            }
            "mark_lost" => {
                let rid = b.lost_reason_id.ok_or_else(|| ApiError::field("lost_reason_id", "required", "give the lost reason"))?;
                if LOST_REASONS.find(&txn, rid).await?.is_none() {
                    return Err(ApiError::field("lost_reason_id", "not_found", format!("lost reason {rid} does not exist")));
                }
                row.lost = Set(true);
                row.junk = Set(false);
                row.lost_reason_id = Set(Some(rid));
                crate::ops::leads::close_reminders(&txn, l.id).await?;
            }
            "mark_junk" => {
                row.junk = Set(true);
                row.lost = Set(false);
                row.lost_reason_id = Set(None);
                crate::ops::leads::close_reminders(&txn, l.id).await?;
            }
            "delete" => {
                audit::record(&txn, &user.actor(), Change::new(&action_name, "lead", l.id).before(&before).removing_record()).await?;
                lead::Entity::delete_by_id(l.id).exec(&txn).await?;
                continue;
            }
            other => {
                return Err(ApiError::field(
                    "action",
                    "invalid",
                    format!("unknown action `{other}`; use assign, change_status, add_tag, mark_lost, mark_junk or delete"),
                ))
            }
        }
        let saved = row.update(&txn).await?;
        if saved.status_id != l.status_id {
            record_status_change(&txn, &saved, Some(l.status_id), Some(user.id()), now).await?;
        }
        let after = load_many_with(&txn, &names, std::slice::from_ref(&saved)).await?.remove(0);
        audit::record(&txn, &user.actor(), Change::new(&action_name, "lead", l.id).before(&before).after(&json!({"lead": after, "details": {"bulk": true}})))
            .await?;
    }
    if b.action == "add_tag" {
        crate::scoring::rescore(&txn, Some(&ids)).await?;
    }
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(BulkResult { action: b.action, affected: visible.len() as u64 }))
}
