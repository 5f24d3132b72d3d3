//! Reports below the HTTP handlers: daily sums in SQL (few rows whatever the table sizes, on
//! indexed dates), grouped into periods by `crmconnect_domain::reports`.

use crmconnect_domain::invoices::InvoiceStatus;
use crmconnect_domain::permissions::ViewScope;
use crmconnect_domain::reports::DaySums;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, QueryTrait};
use time::Date;

use crate::documents::currency_of;
use crate::entities::{invoice, payment};
use crate::error::Result;
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
