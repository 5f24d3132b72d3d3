//! Reports below the HTTP handlers: sums and counts in SQL, grouped (few rows whatever the table
//! sizes), finished by the pure rules of `crmconnect_domain::reports`.

use std::collections::{BTreeMap, HashMap};

use crmconnect_domain::invoices::InvoiceStatus;
use crmconnect_domain::money;
use crmconnect_domain::money::Currency;
use crmconnect_domain::opportunities::forecast;
use crmconnect_domain::permissions::ViewScope;
use crmconnect_domain::proposals::ProposalStatus;
use crmconnect_domain::reports::{average_days, rate, sales_totals, Amount, CountedAmount, DaySums, LeadsBy, LeadsRow, LostByReason, Pipeline, SalesOverview};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};
use time::{Date, Duration, OffsetDateTime, Time};

use crate::documents::currency_of;
use crate::entities::{invoice, lead, payment, pipeline, proposal, staff};
use crate::error::Result;
use crate::ops::invoices::status_condition;
use crate::ops::lookups::{LOST_REASONS, OPPORTUNITY_STATUSES, SOURCES};
use crate::ownership::own_record_ids;

/// Which invoices a sales report covers.
#[derive(Debug, Clone, Copy)]
pub struct SalesScope {
    pub from: Date,
    pub to: Date,
    pub sale_agent: Option<i32>,
    pub client_id: Option<i32>,
    /// `view_own` on reports: the caller's invoices only.
    pub view: ViewScope,
}

impl SalesScope {
    /// The invoices counted (issued, not cancelled), whatever their date.
    fn invoices(&self) -> Condition {
        let mut c = Condition::all().add(invoice::Column::StatusCode.is_not_in([InvoiceStatus::Draft.code(), InvoiceStatus::Cancelled.code()]));
        if let Some(agent) = self.sale_agent {
            c = c.add(invoice::Column::SaleAgent.eq(agent));
        }
        if let Some(client) = self.client_id {
            c = c.add(invoice::Column::ClientId.eq(client));
        }
        if let ViewScope::Own(me) = self.view {
            c = c.add(invoice::Column::Id.in_subquery(own_record_ids("invoice", me)));
        }
        c
    }
}

#[derive(FromQueryResult)]
struct Daily {
    day: Date,
    currency: String,
    amount: i64,
    n: i64,
}

/// Invoiced (by invoice date) and collected (by payment date) per day and currency.
pub async fn sales_days(db: &impl ConnectionTrait, scope: &SalesScope) -> Result<Vec<DaySums>> {
    let invoiced = invoice::Entity::find()
        .select_only()
        .column_as(invoice::Column::Date, "day")
        .column(invoice::Column::Currency)
        .column_as(Expr::cust("CAST(COALESCE(SUM(total_minor), 0) AS BIGINT)"), "amount")
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .filter(scope.invoices())
        .filter(invoice::Column::Date.between(scope.from, scope.to))
        .group_by(invoice::Column::Date)
        .group_by(invoice::Column::Currency)
        .into_model::<Daily>()
        .all(db)
        .await?;
    let counted = invoice::Entity::find().select_only().column(invoice::Column::Id).filter(scope.invoices()).into_query();
    let collected = payment::Entity::find()
        .select_only()
        .column_as(payment::Column::Date, "day")
        .column(payment::Column::Currency)
        .column_as(Expr::cust("CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT)"), "amount")
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .filter(payment::Column::InvoiceId.in_subquery(counted))
        .filter(payment::Column::Date.between(scope.from, scope.to))
        .group_by(payment::Column::Date)
        .group_by(payment::Column::Currency)
        .into_model::<Daily>()
        .all(db)
        .await?;
    let invoiced = invoiced.into_iter().map(|d| DaySums {
        day: d.day,
        currency: currency_of(&d.currency),
        invoiced_minor: d.amount,
        invoice_count: d.n,
        collected_minor: 0,
    });
    let collected = collected.into_iter().map(|d| DaySums {
        day: d.day,
        currency: currency_of(&d.currency),
        invoiced_minor: 0,
        invoice_count: 0,
        collected_minor: d.amount,
    });
    Ok(invoiced.chain(collected).collect())
}

/// The leads created in `[from, to]` grouped by source, assignee or pipeline: what they became.
pub async fn leads_rows(db: &impl ConnectionTrait, from: Date, to: Date, by: LeadsBy, view: ViewScope) -> Result<Vec<LeadsRow>> {
    let key = match by {
        LeadsBy::Source => lead::Column::SourceId,
        LeadsBy::Assignee => lead::Column::AssignedTo,
        LeadsBy::Pipeline => lead::Column::PipelineId,
    };
    let start = from.with_time(Time::MIDNIGHT).assume_utc();
    let mut created =
        Condition::all().add(lead::Column::CreatedAt.gte(start)).add(lead::Column::CreatedAt.lt(to.with_time(Time::MIDNIGHT).assume_utc() + Duration::days(1)));
    if let ViewScope::Own(me) = view {
        created = created.add(lead::Column::AssignedTo.eq(me));
    }
    #[derive(FromQueryResult)]
    struct Counts {
        key_id: Option<i32>,
        leads: i64,
        contacted: i64,
        opportunities: i64,
        clients: i64,
        lost: i64,
    }
    let count_if = |cond: &str| Expr::cust(format!("CAST(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END) AS BIGINT)"));
    let counts = lead::Entity::find()
        .select_only()
        .column_as(key, "key_id")
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "leads")
        .column_as(count_if("last_contacted_at IS NOT NULL"), "contacted")
        .column_as(count_if("is_opportunity"), "opportunities")
        .column_as(count_if("converted_client_id IS NOT NULL"), "clients")
        .column_as(count_if("lost"), "lost")
        .filter(created.clone())
        .group_by(key)
        .into_model::<Counts>()
        .all(db)
        .await?;

    #[derive(FromQueryResult)]
    struct Lost {
        key_id: Option<i32>,
        reason_id: Option<i32>,
        n: i64,
    }
    let lost = lead::Entity::find()
        .select_only()
        .column_as(key, "key_id")
        .column_as(lead::Column::LostReasonId, "reason_id")
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .filter(created.clone())
        .filter(lead::Column::Lost.eq(true))
        .group_by(key)
        .group_by(lead::Column::LostReasonId)
        .into_model::<Lost>()
        .all(db)
        .await?;
    let reasons: HashMap<i32, String> = LOST_REASONS.all(db).await?.into_iter().map(|o| (o.id, o.name)).collect();

    // What the clients these leads became have paid, per currency.
    #[derive(FromQueryResult)]
    struct Converted {
        key_id: Option<i32>,
        client_id: i32,
    }
    let converted = lead::Entity::find()
        .select_only()
        .column_as(key, "key_id")
        .column_as(lead::Column::ConvertedClientId, "client_id")
        .filter(created)
        .filter(lead::Column::ConvertedClientId.is_not_null())
        .distinct()
        .into_model::<Converted>()
        .all(db)
        .await?;
    #[derive(FromQueryResult)]
    struct Paid {
        client_id: i32,
        currency: String,
        amount: i64,
    }
    let paid = payment::Entity::find()
        .select_only()
        .column(payment::Column::ClientId)
        .column(payment::Column::Currency)
        .column_as(Expr::cust("CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT)"), "amount")
        .filter(payment::Column::ClientId.is_in(converted.iter().map(|c| c.client_id).collect::<Vec<_>>()))
        .group_by(payment::Column::ClientId)
        .group_by(payment::Column::Currency)
        .into_model::<Paid>()
        .all(db)
        .await?;
    let mut won: BTreeMap<(Option<i32>, String), i64> = BTreeMap::new();
    for c in &converted {
        for p in paid.iter().filter(|p| p.client_id == c.client_id) {
            *won.entry((c.key_id, p.currency.clone())).or_default() += p.amount;
        }
    }

    let names: HashMap<i32, String> = match by {
        LeadsBy::Source => SOURCES.all(db).await?.into_iter().map(|o| (o.id, o.name)).collect(),
        LeadsBy::Assignee => staff::Entity::find().all(db).await?.into_iter().map(|s| (s.id, s.name)).collect(),
        LeadsBy::Pipeline => pipeline::Entity::find().all(db).await?.into_iter().map(|p| (p.id, p.name)).collect(),
    };
    let mut rows: Vec<LeadsRow> = counts
        .into_iter()
        .map(|c| LeadsRow {
            key: c.key_id.and_then(|id| names.get(&id).cloned()).unwrap_or_else(|| "(none)".into()),
            lost_by_reason: lost
                .iter()
                .filter(|l| l.key_id == c.key_id)
                .map(|l| LostByReason { reason: l.reason_id.and_then(|r| reasons.get(&r).cloned()), count: l.n })
                .collect(),
            contact_rate: rate(c.contacted, c.leads),
            opportunity_rate: rate(c.opportunities, c.leads),
            client_rate: rate(c.clients, c.leads),
            won: won
                .iter()
                .filter(|((k, _), _)| *k == c.key_id)
                .map(|((_, code), minor)| Amount { amount: money::from_minor(*minor, currency_of(code)), currency: code.clone() })
                .collect(),
            key_id: c.key_id,
            leads: c.leads,
            contacted: c.contacted,
            opportunities: c.opportunities,
            clients: c.clients,
            lost: c.lost,
        })
        .collect();
    rows.sort_by(|a, b| b.leads.cmp(&a.leads).then_with(|| a.key.cmp(&b.key)));
    Ok(rows)
}

/// The sales manager's KPIs over `[from, to]` (see [`SalesOverview`] for each figure).
pub async fn sales_overview(db: &impl ConnectionTrait, from: Date, to: Date, view: ViewScope) -> Result<SalesOverview> {
    let (start, end) = (from.with_time(Time::MIDNIGHT).assume_utc(), to.with_time(Time::MIDNIGHT).assume_utc() + Duration::days(1));
    let own = |column: lead::Column| match view {
        ViewScope::All => Condition::all(),
        ViewScope::Own(me) => Condition::all().add(column.eq(me)),
    };
    let new_leads = lead::Entity::find()
        .filter(own(lead::Column::AssignedTo))
        .filter(lead::Column::CreatedAt.gte(start))
        .filter(lead::Column::CreatedAt.lt(end))
        .count(db)
        .await?;

    // Open: neither lost, junk nor in the status named "Won".
    let won: Vec<i32> = OPPORTUNITY_STATUSES.all(db).await?.into_iter().filter(|s| s.name.eq_ignore_ascii_case("won")).map(|s| s.id).collect();
    let open = lead::Entity::find()
        .filter(own(lead::Column::AssignedTo))
        .filter(lead::Column::IsOpportunity.eq(true))
        .filter(lead::Column::Lost.eq(false))
        .filter(lead::Column::Junk.eq(false))
        .filter(Condition::any().add(lead::Column::OpportunityStatusId.is_null()).add(lead::Column::OpportunityStatusId.is_not_in(won)))
        .all(db)
        .await?;
    let items = open
        .iter()
        .filter_map(|l| Some((None, Currency::parse(l.currency.as_deref()?).ok()?, l.estimated_value_minor?, l.probability.unwrap_or(0).clamp(0, 100) as u8)));
    let open_opportunities = forecast(items)
        .into_iter()
        .map(|b| Pipeline { currency: b.currency.code().to_string(), count: b.count, total: b.total, weighted: b.weighted })
        .collect();

    let mut proposals =
        proposal::Entity::find().filter(proposal::Column::Date.between(from, to)).filter(proposal::Column::StatusCode.ne(ProposalStatus::Draft.code()));
    if let ViewScope::Own(me) = view {
        proposals = proposals.filter(proposal::Column::Id.in_subquery(own_record_ids("proposal", me)));
    }
    let proposals_sent = proposals.clone().count(db).await? as i64;
    let proposals_accepted = proposals.filter(proposal::Column::StatusCode.eq(ProposalStatus::Accepted.code())).count(db).await? as i64;

    let scope = SalesScope { from, to, sale_agent: None, client_id: None, view };
    let sales = sales_totals(&sales_days(db, &scope).await?, from);

    let today = OffsetDateTime::now_utc().date();
    let balances = |cond: Condition| async move {
        #[derive(FromQueryResult)]
        struct Balance {
            currency: String,
            count: i64,
            amount: i64,
        }
        let rows = invoice::Entity::find()
            .select_only()
            .column(invoice::Column::Currency)
            .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "count")
            .column_as(Expr::cust("CAST(COALESCE(SUM(total_minor - paid_minor), 0) AS BIGINT)"), "amount")
            .filter(scope.invoices())
            .filter(cond)
            .group_by(invoice::Column::Currency)
            .order_by_asc(invoice::Column::Currency)
            .into_model::<Balance>()
            .all(db)
            .await?;
        Ok::<_, crate::error::Error>(
            rows.into_iter()
                .map(|b| CountedAmount { amount: money::from_minor(b.amount, currency_of(&b.currency)), currency: b.currency, count: b.count })
                .collect::<Vec<_>>(),
        )
    };
    let unpaid = Expr::col(invoice::Column::PaidMinor).lt(Expr::col(invoice::Column::TotalMinor));
    let outstanding = balances(Condition::all().add(unpaid)).await?;
    let overdue = balances(status_condition(InvoiceStatus::Overdue, today)).await?;

    // Lead created → first payment of the client it became, for first payments in the period.
    let converted = lead::Entity::find().filter(own(lead::Column::AssignedTo)).filter(lead::Column::ConvertedClientId.is_not_null()).all(db).await?;
    let started: HashMap<i32, Date> = converted.iter().filter_map(|l| Some((l.converted_client_id?, l.created_at.date()))).collect();
    #[derive(FromQueryResult)]
    struct FirstPayment {
        client_id: i32,
        first: Date,
    }
    let firsts = payment::Entity::find()
        .select_only()
        .column(payment::Column::ClientId)
        .column_as(payment::Column::Date.min(), "first")
        .filter(payment::Column::ClientId.is_in(started.keys().copied().collect::<Vec<_>>()))
        .group_by(payment::Column::ClientId)
        .into_model::<FirstPayment>()
        .all(db)
        .await?;
    let cycles: Vec<i64> = firsts
        .iter()
        .filter(|f| (from..=to).contains(&f.first))
        .filter_map(|f| started.get(&f.client_id).map(|created| (f.first - *created).whole_days().max(0)))
        .collect();

    Ok(SalesOverview {
        from,
        to,
        new_leads: new_leads as i64,
        open_opportunities,
        acceptance_rate: rate(proposals_accepted, proposals_sent),
        proposals_sent,
        proposals_accepted,
        sales,
        outstanding,
        overdue,
        average_sales_cycle_days: average_days(&cycles),
    })
}
