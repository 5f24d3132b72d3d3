//! Teams and goals below the HTTP handlers: what each goal type counts (in SQL, over the
//! goal's period and the people it targets), loading into the API type with the progress rules
//! of `crmconnect_domain::goals`, and the job that notifies once when a goal is achieved or
//! missed.
//!
//! Whose a record is: an invoice and its payments are its `sale_agent`'s, a lead, client or
//! proposal its `assigned_to`'s, a contract its client's assignee's or its creator's.

use std::collections::HashMap;

use crmconnect_domain::api::{Goal, Team, TeamInput};
use crmconnect_domain::goals::{self as rules, GoalInput, GoalNotification, GoalStatus, GoalTargetType, GoalType, NotificationState};
use crmconnect_domain::invoices::InvoiceStatus;
use crmconnect_domain::money;
use crmconnect_domain::permissions::ViewScope;
use crmconnect_domain::validation::{parse_name, Validator};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use time::{Date, Duration, OffsetDateTime, Time};

use crate::db::Read;
use crate::documents::{currency_of, dec};
use crate::entities::{client, contract, goal, invoice, lead, payment, proposal, staff, team, team_member};
use crate::error::{Error, ErrorCode, Result};
use crate::notifications::{self, Notice};

// ---------------------------------------------------------------------------------------------
// Teams

pub async fn members_of(db: &impl ConnectionTrait, team_ids: Vec<i32>) -> Result<HashMap<i32, Vec<i32>>> {
    let mut out: HashMap<i32, Vec<i32>> = HashMap::new();
    for m in team_member::Entity::find().filter(team_member::Column::TeamId.is_in(team_ids)).order_by_asc(team_member::Column::StaffId).all(db).await? {
        out.entry(m.team_id).or_default().push(m.staff_id);
    }
    Ok(out)
}

pub async fn teams_to_api(db: &impl ConnectionTrait, rows: &[team::Model]) -> Result<Vec<Team>> {
    let mut members = members_of(db, rows.iter().map(|t| t.id).collect()).await?;
    Ok(rows
        .iter()
        .map(|t| Team {
            id: t.id,
            name: t.name.clone(),
            member_ids: members.remove(&t.id).unwrap_or_default(),
            created_at: t.created_at,
            updated_at: t.updated_at,
        })
        .collect())
}

pub async fn find_team(db: &impl ConnectionTrait, id: i32, read: Read) -> Result<team::Model> {
    read.apply(team::Entity::find_by_id(id)).one(db).await?.ok_or_else(|| Error::not_found("team"))
}

/// Creates (`current` is `None`) or changes a team; `member_ids` replaces the members.
pub async fn save_team(db: &impl ConnectionTrait, current: Option<team::Model>, input: &TeamInput) -> Result<team::Model> {
    let mut v = Validator::new();
    let name = match (&input.name, &current) {
        (Some(n), _) => v.check("name", parse_name(n, 100)),
        (None, Some(t)) => Some(t.name.clone()),
        (None, None) => {
            v.push("name", "required", "a name is required");
            None
        }
    };
    let mut members = input.member_ids.clone();
    if let Some(ids) = members.as_mut() {
        ids.sort_unstable();
        ids.dedup();
        let found = staff::Entity::find().filter(staff::Column::Id.is_in(ids.clone())).all(db).await?;
        for id in ids.iter().filter(|id| !found.iter().any(|s| s.id == **id)) {
            v.push("member_ids", "not_found", format!("no staff member {id}"));
        }
    }
    v.finish().map_err(Error::validation)?;
    let name = name.unwrap_or_default();
    let taken =
        team::Entity::find().filter(team::Column::Name.eq(name.as_str())).filter(team::Column::Id.ne(current.as_ref().map_or(0, |t| t.id))).one(db).await?;
    if taken.is_some() {
        return Err(Error::refused(ErrorCode::NameTaken, format!("A team named `{name}` already exists.")));
    }
    let now = OffsetDateTime::now_utc();
    let saved = match current {
        Some(t) => {
            let mut row: team::ActiveModel = t.into();
            row.name = Set(name);
            row.updated_at = Set(now);
            row.update(db).await
        }
        None => team::ActiveModel { name: Set(name), created_at: Set(now), updated_at: Set(now), ..Default::default() }.insert(db).await,
    }
    .map_err(|e| {
        if crate::ops::commissions::is_unique_violation(&e) {
            Error::refused(ErrorCode::NameTaken, "A team with this name already exists.")
        } else {
            e.into()
        }
    })?;
    if let Some(ids) = members {
        team_member::Entity::delete_many().filter(team_member::Column::TeamId.eq(saved.id)).exec(db).await?;
        for staff_id in ids {
            team_member::ActiveModel { team_id: Set(saved.id), staff_id: Set(staff_id), ..Default::default() }.insert(db).await?;
        }
    }
    Ok(saved)
}

/// Teams the caller may see: all with `view`, their own with `view_own`.
pub fn visible_teams(scope: ViewScope) -> Condition {
    match scope {
        ViewScope::All => Condition::all(),
        ViewScope::Own(me) => Condition::all().add(team::Column::Id.in_subquery(
            team_member::Entity::find().select_only().column(team_member::Column::TeamId).filter(team_member::Column::StaffId.eq(me)).into_query(),
        )),
    }
}

/// Goals the caller may see: all with `view`, the ones concerning them with `view_own`.
pub fn visible_goals(scope: ViewScope) -> Condition {
    match scope {
        ViewScope::All => Condition::all(),
        ViewScope::Own(me) => concerning(me),
    }
}

// ---------------------------------------------------------------------------------------------
// Goals

fn parse_enum<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(raw.to_string())).map_err(Error::internal)
}

fn enum_text<T: serde::Serialize>(value: T) -> Result<String> {
    match serde_json::to_value(value).map_err(Error::internal)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(Error::internal(anyhow::anyhow!("an enum serialised as {other}"))),
    }
}

pub fn input_of(g: &goal::Model) -> Result<GoalInput> {
    Ok(GoalInput {
        subject: g.subject.clone(),
        goal_type: parse_enum(&g.goal_type)?,
        target: dec(&g.target),
        currency: g.currency.clone(),
        start_date: g.start_date,
        end_date: g.end_date,
        target_type: parse_enum(&g.target_type)?,
        staff_id: g.staff_id,
        team_id: g.team_id,
        notify_when_achieved: g.notify_when_achieved,
        notify_when_missed: g.notify_when_missed,
    })
}

pub async fn find_goal(db: &impl ConnectionTrait, id: i32, read: Read) -> Result<goal::Model> {
    read.apply(goal::Entity::find_by_id(id)).one(db).await?.ok_or_else(|| Error::not_found("goal"))
}

/// Creates (`current` is `None`) or replaces a goal with `input`, after the domain's checks and
/// the references (an active staff member, an existing team, an enabled currency).
pub async fn save_goal(db: &impl ConnectionTrait, current: Option<goal::Model>, input: &GoalInput, created_by: i32) -> Result<goal::Model> {
    input.validate().map_err(Error::validation)?;
    let mut v = Validator::new();
    if let Some(id) = input.staff_id {
        if !staff::Entity::find_by_id(id).one(db).await?.is_some_and(|s| s.active) {
            v.push("staff_id", "not_found", format!("no active staff member {id}"));
        }
    }
    if let Some(id) = input.team_id {
        if team::Entity::find_by_id(id).one(db).await?.is_none() {
            v.push("team_id", "not_found", format!("no team {id}"));
        }
    }
    let currency = match (input.goal_type.is_money(), input.currency.as_deref()) {
        (true, Some(code)) => crate::documents::enabled_currency(db, &mut v, "currency", code).await?.map(|c| c.code().to_string()),
        _ => None,
    };
    v.finish().map_err(Error::validation)?;
    let now = OffsetDateTime::now_utc();
    let target = match currency.as_deref() {
        Some(code) => money::round(input.target, currency_of(code)),
        None => input.target.trunc(),
    };
    let existing = current.is_some();
    let mut row = match current {
        Some(g) => {
            let changed_goal = input_of(&g)? != *input;
            let mut row: goal::ActiveModel = g.into();
            if changed_goal {
                // A changed goal is a new promise: its notifications may go out again.
                row.achieved_notified_at = Set(None);
                row.missed_notified_at = Set(None);
            }
            row
        }
        None => goal::ActiveModel { created_by: Set(Some(created_by)), created_at: Set(now), ..Default::default() },
    };
    row.subject = Set(input.subject.trim().to_string());
    row.goal_type = Set(enum_text(input.goal_type)?);
    row.target = Set(target.to_string());
    row.currency = Set(currency);
    row.start_date = Set(input.start_date);
    row.end_date = Set(input.end_date);
    row.target_type = Set(enum_text(input.target_type)?);
    row.staff_id = Set(input.staff_id);
    row.team_id = Set(input.team_id);
    row.notify_when_achieved = Set(input.notify_when_achieved);
    row.notify_when_missed = Set(input.notify_when_missed);
    row.updated_at = Set(now);
    Ok(if existing { row.update(db).await? } else { row.insert(db).await? })
}

/// The staff whose results count: `None` for the whole company.
async fn targeted(db: &impl ConnectionTrait, g: &GoalInput) -> Result<Option<Vec<i32>>> {
    Ok(match g.target_type {
        GoalTargetType::All => None,
        GoalTargetType::Staff => Some(g.staff_id.into_iter().collect()),
        GoalTargetType::Team => Some(members_of(db, g.team_id.into_iter().collect()).await?.into_values().flatten().collect()),
    })
}

#[derive(FromQueryResult)]
struct Number {
    n: i64,
}

/// `SELECT CAST(COALESCE(SUM(col) | COUNT(*), 0) AS BIGINT)` of `q`.
async fn number<E: EntityTrait>(db: &impl ConnectionTrait, q: sea_orm::Select<E>, sum_of: Option<&str>) -> Result<i64> {
    let expr = match sum_of {
        Some(col) => format!("CAST(COALESCE(SUM({col}), 0) AS BIGINT)"),
        None => "CAST(COUNT(*) AS BIGINT)".to_string(),
    };
    let row = q.select_only().column_as(Expr::cust(expr), "n").into_model::<Number>().one(db).await?;
    Ok(row.map_or(0, |r| r.n))
}

/// `[start of start_date, start of the day after end_date)` in UTC.
fn period(g: &GoalInput) -> (OffsetDateTime, OffsetDateTime) {
    let at = |d: Date| d.with_time(Time::MIDNIGHT).assume_utc();
    (at(g.start_date), at(g.end_date) + Duration::days(1))
}

fn owned_by(column: impl ColumnTrait, people: &Option<Vec<i32>>) -> Condition {
    match people {
        None => Condition::all(),
        Some(ids) => Condition::all().add(column.is_in(ids.clone())),
    }
}

/// What the goal has achieved so far: an amount in its currency or a number of records.
pub async fn achieved(db: &impl ConnectionTrait, g: &GoalInput) -> Result<Decimal> {
    let people = targeted(db, g).await?;
    let (from, until) = period(g);
    let currency = g.currency.as_deref().unwrap_or("RON");
    let agents_invoices = |people: &Option<Vec<i32>>| -> SimpleExpr {
        let ids = invoice::Entity::find().select_only().column(invoice::Column::Id).filter(owned_by(invoice::Column::SaleAgent, people)).into_query();
        payment::Column::InvoiceId.in_subquery(ids)
    };
    let minor = match g.goal_type {
        GoalType::Income => {
            let q = payment::Entity::find()
                .filter(payment::Column::Currency.eq(currency))
                .filter(payment::Column::Date.between(g.start_date, g.end_date))
                .filter(agents_invoices(&people));
            number(db, q, Some("amount_minor")).await?
        }
        GoalType::TotalInvoices => {
            let q = invoice::Entity::find()
                .filter(invoice::Column::Currency.eq(currency))
                .filter(invoice::Column::IssuedAt.gte(from))
                .filter(invoice::Column::IssuedAt.lt(until))
                .filter(invoice::Column::StatusCode.is_not_in([InvoiceStatus::Draft.code(), InvoiceStatus::Cancelled.code()]))
                .filter(owned_by(invoice::Column::SaleAgent, &people));
            number(db, q, Some("total_minor")).await?
        }
        GoalType::ContractValue => {
            let mut q = contract::Entity::find()
                .filter(contract::Column::Currency.eq(currency))
                .filter(contract::Column::SignedAt.gte(from))
                .filter(contract::Column::SignedAt.lt(until));
            if let Some(ids) = &people {
                let their_clients =
                    client::Entity::find().select_only().column(client::Column::Id).filter(client::Column::AssignedTo.is_in(ids.clone())).into_query();
                q = q.filter(Condition::any().add(contract::Column::ClientId.in_subquery(their_clients)).add(contract::Column::CreatedBy.is_in(ids.clone())));
            }
            number(db, q, Some("value_minor")).await?
        }
        GoalType::ConvertedLeads => {
            let q = lead::Entity::find()
                .filter(lead::Column::ConvertedClientId.is_not_null())
                .filter(lead::Column::ConvertedAt.gte(from))
                .filter(lead::Column::ConvertedAt.lt(until))
                .filter(owned_by(lead::Column::AssignedTo, &people));
            return Ok(Decimal::from(number(db, q, None).await?));
        }
        GoalType::NewClients => {
            let from_leads =
                lead::Entity::find().select_only().column(lead::Column::ConvertedClientId).filter(lead::Column::ConvertedClientId.is_not_null()).into_query();
            let q = client::Entity::find()
                .filter(client::Column::CreatedAt.gte(from))
                .filter(client::Column::CreatedAt.lt(until))
                .filter(client::Column::Id.not_in_subquery(from_leads))
                .filter(owned_by(client::Column::AssignedTo, &people));
            return Ok(Decimal::from(number(db, q, None).await?));
        }
        GoalType::AcceptedProposals => {
            let invoiced =
                invoice::Entity::find().select_only().column(invoice::Column::ProposalId).filter(invoice::Column::ProposalId.is_not_null()).into_query();
            let q = proposal::Entity::find()
                .filter(proposal::Column::AcceptedAt.gte(from))
                .filter(proposal::Column::AcceptedAt.lt(until))
                .filter(proposal::Column::Id.in_subquery(invoiced))
                .filter(owned_by(proposal::Column::AssignedTo, &people));
            return Ok(Decimal::from(number(db, q, None).await?));
        }
    };
    Ok(money::from_minor(minor, currency_of(currency)))
}

pub async fn to_api(db: &impl ConnectionTrait, g: &goal::Model, today: Date) -> Result<Goal> {
    let input = input_of(g)?;
    let achieved = achieved(db, &input).await?;
    Ok(Goal {
        id: g.id,
        progress_percent: rules::progress(achieved, input.target),
        status: rules::status(achieved, input.target, input.end_date, today),
        achieved,
        goal: input,
        created_at: g.created_at,
        updated_at: g.updated_at,
    })
}

/// Goals whose target includes `staff_id`: the company's, theirs, their teams'.
pub fn concerning(staff_id: i32) -> Condition {
    let teams = team_member::Entity::find().select_only().column(team_member::Column::TeamId).filter(team_member::Column::StaffId.eq(staff_id)).into_query();
    Condition::any().add(goal::Column::TargetType.eq("all")).add(goal::Column::StaffId.eq(staff_id)).add(goal::Column::TeamId.in_subquery(teams))
}

// ---------------------------------------------------------------------------------------------
// The job runner

/// Sends each goal's "achieved" and "missed" notification at most once (a conditional UPDATE of
/// its `*_notified_at` decides which server sends it) to the people the goal targets: the staff
/// member, the team's members, or every active staff member for a company goal.
pub async fn notify_due(db: &sea_orm::DatabaseConnection, now: OffsetDateTime) -> Result<usize> {
    // A goal long over that was never achieved is not looked at again for "achieved".
    let achieved_open = Condition::all()
        .add(goal::Column::NotifyWhenAchieved.eq(true))
        .add(goal::Column::AchievedNotifiedAt.is_null())
        .add(goal::Column::EndDate.gte(now.date() - Duration::days(30)));
    let missed_open =
        Condition::all().add(goal::Column::NotifyWhenMissed.eq(true)).add(goal::Column::MissedNotifiedAt.is_null()).add(goal::Column::EndDate.lt(now.date()));
    let open = Condition::any().add(achieved_open).add(missed_open);
    let candidates = goal::Entity::find().filter(open).all(db).await?;
    let mut sent = 0;
    for g in candidates {
        let current = to_api(db, &g, now.date()).await?;
        let state = NotificationState {
            notify_when_achieved: g.notify_when_achieved,
            notify_when_missed: g.notify_when_missed,
            achieved_sent: g.achieved_notified_at.is_some(),
            missed_sent: g.missed_notified_at.is_some(),
        };
        let Some(kind) = rules::notification_due(current.status, state) else { continue };
        let column = match kind {
            GoalNotification::Achieved => goal::Column::AchievedNotifiedAt,
            GoalNotification::Missed => goal::Column::MissedNotifiedAt,
        };
        let txn = crate::db::begin_write(db).await?;
        // Only the version of the goal that was evaluated: a goal changed meanwhile waits for the next pass.
        let marked = goal::Entity::update_many()
            .col_expr(column, Expr::value(now))
            .filter(goal::Column::Id.eq(g.id))
            .filter(goal::Column::UpdatedAt.eq(g.updated_at))
            .filter(column.is_null())
            .exec(&txn)
            .await?;
        if marked.rows_affected != 1 {
            continue;
        }
        let people = match targeted(&txn, &current.goal).await? {
            Some(ids) => ids,
            None => staff::Entity::find().filter(staff::Column::Active.eq(true)).all(&txn).await?.into_iter().map(|s| s.id).collect(),
        };
        let (kind_name, title) = match current.status {
            GoalStatus::Achieved => ("goal_achieved", format!("Goal achieved: {}", g.subject)),
            _ => ("goal_missed", format!("Goal missed: {} ({}% reached)", g.subject, current.progress_percent)),
        };
        for staff_id in people {
            let notice = Notice {
                kind: kind_name,
                title: title.clone(),
                body: format!("{} of {} ({}%).", current.achieved, current.goal.target, current.progress_percent),
                link: Some("/admin/goals".into()),
                entity: Some(("goal", g.id)),
            };
            notifications::notify(&txn, staff_id, notice).await?;
        }
        txn.commit().await?;
        sent += 1;
    }
    Ok(sent)
}
