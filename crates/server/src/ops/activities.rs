//! Activities: the queries and business operations below the HTTP handlers.

use crmconnect_domain::api::{Activity, ActivityType, TimelineEntry};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::entities::{audit_log, lead_activity, lead_status_change, pipeline_status};
use crate::error::Result;

pub fn to_api(a: &lead_activity::Model) -> Activity {
    Activity {
        id: a.id,
        lead_id: a.lead_id,
        activity_type: ActivityType::parse(&a.activity_type).unwrap_or(ActivityType::Note),
        summary: a.summary.clone(),
        body: a.body.clone(),
        duration_minutes: a.duration_minutes,
        attendees: a.attendees.clone(),
        occurred_at: a.occurred_at,
        staff_id: a.staff_id,
        created_at: a.created_at,
    }
}

pub async fn timeline_of(db: &sea_orm::DatabaseConnection, lead_id: i32) -> Result<Vec<TimelineEntry>> {
    let mut items = Vec::new();
    for a in lead_activity::Entity::find().filter(lead_activity::Column::LeadId.eq(lead_id)).all(db).await? {
        items.push(TimelineEntry {
            at: a.occurred_at,
            kind: "activity".into(),
            title: format!("{}: {}", a.activity_type, a.summary),
            detail: a.body.clone(),
            staff_id: a.staff_id,
            activity_id: Some(a.id),
        });
    }
    let statuses: std::collections::HashMap<i32, String> = pipeline_status::Entity::find().all(db).await?.into_iter().map(|s| (s.id, s.name)).collect();
    let name = |id: Option<i32>| id.and_then(|id| statuses.get(&id).cloned()).unwrap_or_else(|| "(deleted status)".into());
    for c in lead_status_change::Entity::find().filter(lead_status_change::Column::LeadId.eq(lead_id)).all(db).await? {
        let title = match c.from_status_id {
            None => format!("Entered {}", name(Some(c.to_status_id))),
            Some(_) => format!("{} → {}", name(c.from_status_id), name(Some(c.to_status_id))),
        };
        items.push(TimelineEntry { at: c.at, kind: "status_change".into(), title, detail: None, staff_id: c.staff_id, activity_id: None });
    }
    let events = audit_log::Entity::find()
        .filter(audit_log::Column::EntityType.eq("lead"))
        .filter(audit_log::Column::EntityId.eq(lead_id))
        .filter(audit_log::Column::Action.is_not_in(["lead.status_changed", "lead.reordered", "lead.activity_logged"]))
        .all(db)
        .await?;
    for e in events {
        let detail = e.after.as_ref().and_then(|a| a.get("details")).filter(|d| !d.is_null()).map(|d| d.to_string());
        items.push(TimelineEntry {
            at: e.at,
            kind: "event".into(),
            title: e.action.trim_start_matches("lead.").replace('_', " "),
            detail,
            staff_id: e.actor_staff_id,
            activity_id: None,
        });
    }
    Ok(items)
}
