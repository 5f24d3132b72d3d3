//! The morning dashboard: each widget one query, with the visibility rule of its records, so
//! the browser asks once instead of assembling lists.

use std::collections::HashMap;

use crmconnect_domain::api::{Dashboard, DashboardDocument, DashboardItem, DashboardLead};
use crmconnect_domain::invoices::InvoiceStatus;
use crmconnect_domain::money;
use crmconnect_domain::permissions::{Module, ViewScope};
use crmconnect_domain::proposals::ProposalStatus;
use crmconnect_domain::tasks::{Due, TaskStatus};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};
use time::{Duration, OffsetDateTime, Time};

use crate::auth::AuthUser;
use crate::documents::currency_of;
use crate::entities::{client, goal, invoice, lead, proposal, reminder, task, task_assignee};
use crate::error::Result;
use crate::ops::invoices::status_condition;
use crate::ops::lookups::SOURCES;
use crate::ownership::own_record_ids;
use crate::visibility::funnel_condition;

/// At most this many rows per widget: the dashboard links to the full lists.
const PER_WIDGET: u64 = 20;

pub async fn load(db: &impl ConnectionTrait, user: &AuthUser, now: OffsetDateTime) -> Result<Dashboard> {
    let today = now.date();
    let scope = |m: Module| user.permissions.view_scope(m, user.staff.id);

    let sources: HashMap<i32, String> = SOURCES.all(db).await?.into_iter().map(|o| (o.id, o.name)).collect();
    let new_leads = lead::Entity::find()
        .filter(funnel_condition(user))
        .filter(lead::Column::IsOpportunity.eq(false))
        .filter(lead::Column::CreatedAt.gte(now - Duration::hours(24)))
        .filter(lead::Column::LastContactedAt.is_null())
        .filter(lead::Column::Lost.eq(false))
        .filter(lead::Column::Junk.eq(false))
        .order_by_desc(lead::Column::CreatedAt)
        .limit(PER_WIDGET)
        .all(db)
        .await?
        .into_iter()
        .map(|l| DashboardLead {
            id: l.id,
            source: l.source_id.and_then(|s| sources.get(&s).cloned()),
            name: l.name,
            company: l.company,
            created_at: l.created_at,
        })
        .collect();

    let mut tasks_due_today = Vec::new();
    if scope(Module::Tasks).is_some() {
        let mine =
            task_assignee::Entity::find().select_only().column(task_assignee::Column::TaskId).filter(task_assignee::Column::StaffId.eq(user.id())).into_query();
        tasks_due_today = task::Entity::find()
            .filter(task::Column::Id.in_subquery(mine))
            .filter(crate::ops::tasks::due_condition(Due::Today, now))
            .filter(task::Column::StatusCode.ne(TaskStatus::Complete.code()))
            .order_by_asc(task::Column::DueAt)
            .limit(PER_WIDGET)
            .all(db)
            .await?
            .into_iter()
            .filter_map(|t| Some(DashboardItem { id: t.id, title: t.title, due_at: t.due_at?, lead_id: None }))
            .collect();
    }

    let midnight = now.replace_time(Time::MIDNIGHT);
    let visible_leads = lead::Entity::find().select_only().column(lead::Column::Id).filter(funnel_condition(user)).into_query();
    let reminders_due_today = reminder::Entity::find()
        .filter(reminder::Column::StaffId.eq(user.id()))
        .filter(reminder::Column::DoneAt.is_null())
        .filter(reminder::Column::RemindAt.gte(midnight))
        .filter(reminder::Column::RemindAt.lt(midnight + Duration::days(1)))
        .filter(reminder::Column::LeadId.in_subquery(visible_leads))
        .order_by_asc(reminder::Column::RemindAt)
        .limit(PER_WIDGET)
        .all(db)
        .await?
        .into_iter()
        .map(|r| DashboardItem { id: r.id, title: r.note.unwrap_or_else(|| "Follow up".into()), due_at: r.remind_at, lead_id: Some(r.lead_id) })
        .collect();

    let mut expired_proposals = Vec::new();
    if let Some(view) = scope(Module::Proposals) {
        let mut q = proposal::Entity::find()
            .filter(proposal::Column::StatusCode.is_in([ProposalStatus::Sent.code(), ProposalStatus::SentManually.code(), ProposalStatus::Viewed.code()]))
            .filter(proposal::Column::OpenTill.lt(today));
        if let ViewScope::Own(me) = view {
            q = q.filter(proposal::Column::Id.in_subquery(own_record_ids("proposal", me)));
        }
        expired_proposals = q
            .order_by_asc(proposal::Column::OpenTill)
            .limit(PER_WIDGET)
            .all(db)
            .await?
            .into_iter()
            .filter_map(|p| {
                Some(DashboardDocument {
                    id: p.id,
                    number: Some(p.number),
                    title: p.subject,
                    date: p.open_till?,
                    amount: money::from_minor(p.total_minor, currency_of(&p.currency)),
                    currency: p.currency,
                })
            })
            .collect();
    }

    let mut overdue_invoices = Vec::new();
    if let Some(view) = scope(Module::Invoices) {
        let mut q = invoice::Entity::find().filter(status_condition(InvoiceStatus::Overdue, today));
        if let ViewScope::Own(me) = view {
            q = q.filter(invoice::Column::Id.in_subquery(own_record_ids("invoice", me)));
        }
        let rows = q.order_by_asc(invoice::Column::DueDate).limit(PER_WIDGET).all(db).await?;
        let client_ids: Vec<i32> = rows.iter().map(|i| i.client_id).collect();
        let names: HashMap<i32, String> =
            client::Entity::find().filter(client::Column::Id.is_in(client_ids)).all(db).await?.into_iter().map(|c| (c.id, c.company)).collect();
        overdue_invoices = rows
            .into_iter()
            .filter_map(|i| {
                Some(DashboardDocument {
                    id: i.id,
                    title: names.get(&i.client_id).cloned().unwrap_or_default(),
                    date: i.due_date?,
                    amount: money::from_minor(i.total_minor - i.paid_minor, currency_of(&i.currency)),
                    number: i.number,
                    currency: i.currency,
                })
            })
            .collect();
    }

    let mut goals = Vec::new();
    if scope(Module::Goals).is_some() {
        let rows = goal::Entity::find()
            .filter(crate::ops::goals::concerning(user.id()))
            .filter(goal::Column::EndDate.gte(today - Duration::days(30)))
            .order_by_asc(goal::Column::EndDate)
            .limit(PER_WIDGET)
            .all(db)
            .await?;
        for g in &rows {
            goals.push(crate::ops::goals::to_api(db, g, today).await?);
        }
    }
    Ok(Dashboard { new_leads, tasks_due_today, reminders_due_today, expired_proposals, overdue_invoices, goals })
}
