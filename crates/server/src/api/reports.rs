//! `/api/v1/reports/*`: read-only reports (permission `reports`; "view own" restricts them to
//! the caller's records). Each answers JSON, or CSV with `?format=csv` or `Accept: text/csv`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use crmconnect_domain::api::Problem;
use crmconnect_domain::permissions::Module;
use crmconnect_domain::reports::{self, GroupBy, LeadsBy, LeadsRow, SalesOverview, SalesRow};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::ops::reports::{leads_rows, sales_days, SalesScope};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodParams {
    /// First day (default: a year before `to`).
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<Date>,
    /// Last day (default: today, UTC).
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<Date>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SalesReportParams {
    /// `day`, `week` (from Monday), `month` (default), `quarter` or `year`.
    pub group_by: Option<String>,
    pub sale_agent: Option<i32>,
    pub client_id: Option<i32>,
    /// `csv` for a spreadsheet (as `Accept: text/csv`).
    pub format: Option<String>,
}

/// The sales report: rows per period and currency, and totals per currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct SalesReport {
    #[serde(with = "crmconnect_domain::dates::iso")]
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[serde(with = "crmconnect_domain::dates::iso")]
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    pub group_by: GroupBy,
    pub rows: Vec<SalesRow>,
    /// One row per currency over the whole range (`period` = `from`).
    pub totals: Vec<SalesRow>,
}

fn wants_csv(req: &HttpRequest, format: Option<&str>) -> ApiResult<bool> {
    match format {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(_) => Err(ApiError::field("format", "invalid", "use csv or json")),
        None => Ok(req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/csv"))),
    }
}

fn csv_response(name: &str, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}.csv\"")))
        .body(bytes)
}

/// Invoiced (issued invoices' totals by invoice date), collected (payments by their date),
/// invoice count and average invoice, per period and currency — never adding currencies.
#[utoipa::path(get, path = "/api/v1/reports/sales", operation_id = "getSalesReport", tag = "reports", security(("bearer" = [])), params(PeriodParams, SalesReportParams),
    responses((status = 200, description = "The report as JSON, or as CSV (one row per period and currency) with `format=csv`",
        content((SalesReport = "application/json"), (String = "text/csv"))), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: a parameter value is invalid; see `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn sales(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    dates: web::Query<PeriodParams>,
    params: web::Query<SalesReportParams>,
) -> ApiResult<HttpResponse> {
    let view = user.view_scope(Module::Reports)?;
    let (from, to) = dates.period()?;
    let group_by = match params.group_by.as_deref() {
        Some(g) => GroupBy::parse(g).map_err(|p| ApiError::field("group_by", p.code, p.message))?,
        None => GroupBy::Month,
    };
    let csv = wants_csv(&req, params.format.as_deref())?;
    let scope = SalesScope { from, to, sale_agent: params.sale_agent, client_id: params.client_id, view };
    let days = sales_days(&state.db, &scope).await?;
    let report = SalesReport { from, to, group_by, rows: reports::sales_rows(&days, group_by), totals: reports::sales_totals(&days, from) };
    if csv {
        let bytes = crate::csv_export::sales_rows(&report.rows).map_err(ApiError::internal)?;
        return Ok(csv_response("sales-report", bytes));
    }
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeadsReportParams {
    /// `source` (default), `assignee` or `pipeline`.
    pub by: Option<String>,
    /// `csv` for a spreadsheet (as `Accept: text/csv`).
    pub format: Option<String>,
}

/// The leads report: one row per source, assignee or pipeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeadsReport {
    #[serde(with = "crmconnect_domain::dates::iso")]
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[serde(with = "crmconnect_domain::dates::iso")]
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    pub by: LeadsBy,
    pub rows: Vec<LeadsRow>,
}

impl PeriodParams {
    /// `(from, to)` with the defaults; `from` after `to` is refused.
    fn period(&self) -> ApiResult<(Date, Date)> {
        let to = self.to.unwrap_or_else(|| OffsetDateTime::now_utc().date());
        let from = self.from.unwrap_or(to - Duration::days(365));
        if from > to {
            return Err(ApiError::field("from", "after_to", "`from` must not be after `to`"));
        }
        Ok((from, to))
    }
}

/// Leads created in the period by source (the guide's "ROI per channel"), assignee or pipeline:
/// how many, contacted, became opportunities, became clients, lost (by reason), the rates, and
/// what the clients they became have paid, per currency.
#[utoipa::path(get, path = "/api/v1/reports/leads", operation_id = "getLeadsReport", tag = "reports", security(("bearer" = [])), params(PeriodParams, LeadsReportParams),
    responses((status = 200, description = "The report as JSON, or as CSV (one row per source, assignee or pipeline) with `format=csv`",
        content((LeadsReport = "application/json"), (String = "text/csv"))), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: a parameter value is invalid; see `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn leads(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    dates: web::Query<PeriodParams>,
    params: web::Query<LeadsReportParams>,
) -> ApiResult<HttpResponse> {
    let view = user.view_scope(Module::Reports)?;
    let (from, to) = dates.period()?;
    let by = match params.by.as_deref() {
        Some(b) => LeadsBy::parse(b).map_err(|p| ApiError::field("by", p.code, p.message))?,
        None => LeadsBy::Source,
    };
    let csv = wants_csv(&req, params.format.as_deref())?;
    let rows = leads_rows(&state.db, from, to, by, view).await?;
    if csv {
        return Ok(csv_response("leads-report", crate::csv_export::leads_report(&rows).map_err(ApiError::internal)?));
    }
    Ok(HttpResponse::Ok().json(LeadsReport { from, to, by, rows }))
}

/// The combined KPIs: new leads, open opportunities and the weighted pipeline per currency,
/// proposals sent and accepted with the acceptance rate, invoiced, collected and the average
/// invoice per currency, outstanding and overdue balances, the average sales cycle in days.
#[utoipa::path(get, path = "/api/v1/reports/sales-overview", operation_id = "getSalesOverview", tag = "reports", security(("bearer" = [])), params(PeriodParams),
    responses((status = 200, body = SalesOverview), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: a parameter value is invalid; see `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn sales_overview(state: web::Data<AppState>, user: AuthUser, dates: web::Query<PeriodParams>) -> ApiResult<HttpResponse> {
    let view = user.view_scope(Module::Reports)?;
    let (from, to) = dates.period()?;
    Ok(HttpResponse::Ok().json(crate::ops::reports::sales_overview(&state.db, from, to, view).await?))
}
