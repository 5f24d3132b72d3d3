//! Tasks: visibility (`view_own` = assigned to or following), validation of a create or change
//! (staff, the related record and whether the caller may see it), loading into the API type, and
//! the reminders the job runner sends once.

use std::collections::HashMap;

use crmconnect_domain::api::{Task, TaskInput};
use crmconnect_domain::permissions::{Module, ViewScope};
use crmconnect_domain::tasks::{self as rules, TaskStatus};
use crmconnect_domain::validation::{parse_name, Validator};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait};
use time::OffsetDateTime;

use crate::auth::AuthUser;
use crate::db::Read;
use crate::entities::{staff, task, task_assignee, task_follower};
use crate::error::{Error, Result};
use crate::notifications::{self, Notice};
use crate::visibility;

/// Tasks the caller may see, as a condition on `tasks` (lists).
pub fn visible_condition(scope: ViewScope) -> Condition {
    match scope {
        ViewScope::All => Condition::all(),
        ViewScope::Own(me) => Condition::any()
            .add(task::Column::Id.in_subquery(
                task_assignee::Entity::find().select_only().column(task_assignee::Column::TaskId).filter(task_assignee::Column::StaffId.eq(me)).into_query(),
            ))
            .add(task::Column::Id.in_subquery(
                task_follower::Entity::find().select_only().column(task_follower::Column::TaskId).filter(task_follower::Column::StaffId.eq(me)).into_query(),
            )),
    }
}

async fn visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32, read: Read) -> Result<task::Model> {
    let scope = user.view_scope(Module::Tasks)?;
    read.apply(task::Entity::find_by_id(id).filter(visible_condition(scope))).one(db).await?.ok_or_else(|| Error::not_found("task"))
}

pub async fn find_visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<task::Model> {
    visible(db, user, id, Read::Plain).await
}

pub async fn lock_visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<task::Model> {
    visible(db, user, id, Read::ForUpdate).await
}

pub async fn load_many(db: &impl ConnectionTrait, rows: &[task::Model], now: OffsetDateTime) -> Result<Vec<Task>> {
    let ids: Vec<i32> = rows.iter().map(|t| t.id).collect();
    let mut assignees: HashMap<i32, Vec<i32>> = HashMap::new();
    for a in task_assignee::Entity::find().filter(task_assignee::Column::TaskId.is_in(ids.clone())).all(db).await? {
        assignees.entry(a.task_id).or_default().push(a.staff_id);
    }
    let mut followers: HashMap<i32, Vec<i32>> = HashMap::new();
    for f in task_follower::Entity::find().filter(task_follower::Column::TaskId.is_in(ids)).all(db).await? {
        followers.entry(f.task_id).or_default().push(f.staff_id);
    }
    Ok(rows
        .iter()
        .map(|t| {
            let status = TaskStatus::from_code(t.status_code).unwrap_or(TaskStatus::NotStarted);
            Task {
                id: t.id,
                title: t.title.clone(),
                description: t.description.clone(),
                status: status.as_str().into(),
                status_code: status.code(),
                priority: t.priority.clone(),
                start_date: t.start_date,
                due_at: t.due_at,
                assignees: sorted(assignees.remove(&t.id)),
                followers: sorted(followers.remove(&t.id)),
                related_type: t.related_type.clone(),
                related_id: t.related_id,
                reminder_at: t.reminder_at,
                is_overdue: status != TaskStatus::Complete && t.due_at.is_some_and(|d| d < now),
                completed_at: t.completed_at,
                created_by: t.created_by,
                created_at: t.created_at,
                updated_at: t.updated_at,
            }
        })
        .collect())
}

fn sorted(ids: Option<Vec<i32>>) -> Vec<i32> {
    let mut ids = ids.unwrap_or_default();
    ids.sort_unstable();
    ids
}

pub async fn load(db: &impl ConnectionTrait, t: &task::Model) -> Result<Task> {
    Ok(load_many(db, std::slice::from_ref(t), OffsetDateTime::now_utc()).await?.remove(0))
}

/// Writes a create (`current == None`) or a change into `row`, after checking every field; the
/// assignees and followers to store, when they change.
pub async fn apply(
    db: &impl ConnectionTrait,
    user: &AuthUser,
    row: &mut task::ActiveModel,
    current: Option<&task::Model>,
    input: &TaskInput,
) -> Result<(Option<Vec<i32>>, Option<Vec<i32>>)> {
    let mut v = Validator::new();
    match (&input.title, current) {
        (Some(title), _) => {
            if let Some(t) = v.check("title", parse_name(title, 300)) {
                row.title = Set(t);
            }
        }
        (None, None) => v.push("title", "required", "give the task a title"),
        (None, Some(_)) => {}
    }
    if let Some(d) = &input.description {
        row.description = Set(d.as_ref().map(|d| d.trim().to_string()).filter(|d| !d.is_empty()));
    }
    let status = match (&input.status, input.status_code) {
        (Some(raw), _) => v.check("status", TaskStatus::parse(raw)),
        (None, Some(code)) => v.check("status_code", TaskStatus::parse(&code.to_string())),
        (None, None) => None,
    };
    if let Some(s) = status {
        let was_complete = current.is_some_and(|c| c.status_code == TaskStatus::Complete.code());
        row.status_code = Set(s.code());
        if s == TaskStatus::Complete && !was_complete {
            row.completed_at = Set(Some(OffsetDateTime::now_utc()));
        } else if s != TaskStatus::Complete {
            row.completed_at = Set(None);
        }
    }
    if let Some(p) = &input.priority {
        if let Some(p) = v.check("priority", rules::parse_priority(p)) {
            row.priority = Set(p.into());
        }
    }
    if let Some(d) = input.start_date {
        row.start_date = Set(d);
    }
    if let Some(d) = input.due_at {
        row.due_at = Set(d);
    }
    if let Some(r) = input.reminder_at {
        row.reminder_at = Set(r);
        // A new reminder time is a new reminder.
        row.reminded_at = Set(None);
    }
    let assignees = match &input.assignees {
        Some(ids) => Some(check_staff(db, &mut v, "assignees", ids).await?),
        None if current.is_none() => Some(vec![user.id()]),
        None => None,
    };
    let followers = match &input.followers {
        Some(ids) => Some(check_staff(db, &mut v, "followers", ids).await?),
        None => None,
    };
    if input.related_type.is_some() || input.related_id.is_some() {
        let related_type = input.related_type.clone().unwrap_or_else(|| current.and_then(|c| c.related_type.clone()));
        let related_id = input.related_id.unwrap_or_else(|| current.and_then(|c| c.related_id));
        match (related_type.as_deref(), related_id) {
            (None, None) => {
                row.related_type = Set(None);
                row.related_id = Set(None);
            }
            (Some(t), Some(id)) if rules::RELATED_TYPES.contains(&t) => {
                if related_visible(db, user, t, id).await? {
                    row.related_type = Set(Some(t.to_string()));
                    row.related_id = Set(Some(id));
                } else {
                    v.push("related_id", "not_found", format!("no {t} {id} that you can see"));
                }
            }
            (Some(t), Some(_)) => v.push("related_type", "invalid", format!("`{t}` is not one of {}", rules::RELATED_TYPES.join(", "))),
            _ => v.push("related_id", "required", "give `related_type` and `related_id` together"),
        }
    }
    v.finish().map_err(Error::Invalid)?;
    Ok((assignees, followers))
}

async fn check_staff(db: &impl ConnectionTrait, v: &mut Validator, field: &str, ids: &[i32]) -> Result<Vec<i32>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let active: Vec<i32> = staff::Entity::find()
        .select_only()
        .column(staff::Column::Id)
        .filter(staff::Column::Id.is_in(ids.clone()))
        .filter(staff::Column::Active.eq(true))
        .into_tuple()
        .all(db)
        .await?;
    for id in &ids {
        if !active.contains(id) {
            v.push(field, "not_found", format!("no active staff member {id}"));
        }
    }
    Ok(ids)
}

/// Whether the record a task points at exists and the caller may see it (under its own module).
async fn related_visible(db: &impl ConnectionTrait, user: &AuthUser, record_type: &str, id: i32) -> Result<bool> {
    let Some((_, module)) = crate::outbox::RECORD_TYPES.iter().find(|(t, _)| *t == record_type) else { return Ok(false) };
    let Some(scope) = user.permissions.view_scope(*module, user.staff.id) else { return Ok(false) };
    visibility::record_visible(db, record_type, id, scope).await
}

pub async fn save_people(db: &impl ConnectionTrait, task_id: i32, assignees: Option<Vec<i32>>, followers: Option<Vec<i32>>) -> Result<()> {
    if let Some(ids) = assignees {
        task_assignee::Entity::delete_many().filter(task_assignee::Column::TaskId.eq(task_id)).exec(db).await?;
        for staff_id in ids {
            task_assignee::ActiveModel { task_id: Set(task_id), staff_id: Set(staff_id), ..Default::default() }.insert(db).await?;
        }
    }
    if let Some(ids) = followers {
        task_follower::Entity::delete_many().filter(task_follower::Column::TaskId.eq(task_id)).exec(db).await?;
        for staff_id in ids {
            task_follower::ActiveModel { task_id: Set(task_id), staff_id: Set(staff_id), ..Default::default() }.insert(db).await?;
        }
    }
    Ok(())
}

/// Sends each due reminder once: in one transaction per task, the task is marked with a
/// conditional UPDATE and its assignees notified, so of two job runners only one notifies and a
/// failure leaves the reminder due. The number of tasks reminded.
pub async fn send_reminders(db: &sea_orm::DatabaseConnection, now: OffsetDateTime) -> Result<usize> {
    let due = task::Entity::find()
        .filter(task::Column::RemindedAt.is_null())
        .filter(task::Column::ReminderAt.lte(now))
        .filter(task::Column::StatusCode.ne(TaskStatus::Complete.code()))
        .all(db)
        .await?;
    let mut sent = 0;
    for t in due {
        let txn = crate::db::begin_write(db).await?;
        let marked = task::Entity::update_many()
            .col_expr(task::Column::RemindedAt, Expr::value(now))
            .filter(task::Column::Id.eq(t.id))
            .filter(task::Column::RemindedAt.is_null())
            .exec(&txn)
            .await?;
        if marked.rows_affected != 1 {
            continue;
        }
        let assignees = task_assignee::Entity::find().filter(task_assignee::Column::TaskId.eq(t.id)).all(&txn).await?;
        for a in assignees {
            let due = t.due_at.and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok()).map(|d| format!(" (due {d})")).unwrap_or_default();
            let notice = Notice {
                kind: "task_reminder",
                title: format!("Reminder: {}", t.title),
                body: format!("Task “{}”{due}.", t.title),
                link: Some(format!("/admin/tasks/{}", t.id)),
                entity: Some(("task", t.id)),
            };
            notifications::notify(&txn, a.staff_id, notice).await?;
        }
        txn.commit().await?;
        sent += 1;
    }
    Ok(sent)
}

/// `?due=` as a condition: due within the window and not complete.
pub fn due_condition(due: rules::Due, now: OffsetDateTime) -> Condition {
    let (from, until) = due.window(now);
    let mut cond = Condition::all().add(task::Column::StatusCode.ne(TaskStatus::Complete.code())).add(task::Column::DueAt.is_not_null());
    if let Some(f) = from {
        cond = cond.add(task::Column::DueAt.gte(f));
    }
    if let Some(u) = until {
        cond = cond.add(task::Column::DueAt.lt(u));
    }
    cond
}
