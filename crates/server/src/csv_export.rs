//! CSV exports for spreadsheets (the `csv` crate does the quoting).

use crmconnect_domain::api::Lead;

/// Spreadsheets run a cell starting with one of these as a formula ("CSV injection"); a
/// leading `'` makes it text. Applied to free-text cells only, never to numbers.
fn safe_text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn opt(s: &Option<String>) -> String {
    s.as_deref().map(safe_text).unwrap_or_default()
}

const LEAD_COLUMNS: [&str; 17] = [
    "id",
    "name",
    "company",
    "title",
    "email",
    "phone",
    "city",
    "country",
    "status",
    "source",
    "assigned_to",
    "estimated_value",
    "currency",
    "score",
    "tags",
    "last_contacted_at",
    "created_at",
];

/// The header row of the leads export.
pub fn lead_header() -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(LEAD_COLUMNS)?;
    w.into_inner().map_err(|e| e.into_error().into())
}

/// One row per lead, without the header: an export is written a chunk at a time.
pub fn lead_rows(leads: &[Lead]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    for l in leads {
        let rfc3339 = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        w.write_record([
            l.id.to_string(),
            safe_text(&l.name),
            opt(&l.company),
            opt(&l.title),
            opt(&l.email),
            opt(&l.phone),
            opt(&l.city),
            opt(&l.country),
            safe_text(&l.status),
            opt(&l.source),
            opt(&l.assigned_to_name),
            l.estimated_value.map(|v| v.to_string()).unwrap_or_default(),
            l.currency.clone().unwrap_or_default(),
            l.score.to_string(),
            safe_text(&l.tags.join("; ")),
            l.last_contacted_at.map(rfc3339).unwrap_or_default(),
            rfc3339(l.created_at),
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// The sales report's rows: period, currency, invoiced, collected, invoice count, average.
pub fn sales_rows(rows: &[crmconnect_domain::reports::SalesRow]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["period", "currency", "invoiced", "collected", "invoice_count", "average_invoice"])?;
    for r in rows {
        w.write_record([
            r.period.to_string(),
            r.currency.clone(),
            r.invoiced.to_string(),
            r.collected.to_string(),
            r.invoice_count.to_string(),
            r.average_invoice.to_string(),
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The leads report's rows: the key, counts, rates, then lost by reason and won per currency as
/// `reason: n; …` and `amount CUR; …`.
pub fn leads_report(rows: &[crmconnect_domain::reports::LeadsRow]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "key",
        "leads",
        "contacted",
        "opportunities",
        "clients",
        "lost",
        "contact_rate",
        "opportunity_rate",
        "client_rate",
        "lost_by_reason",
        "won",
    ])?;
    for r in rows {
        let lost = r.lost_by_reason.iter().map(|l| format!("{}: {}", l.reason.as_deref().unwrap_or("(none)"), l.count)).collect::<Vec<_>>().join("; ");
        let won = r.won.iter().map(|m| format!("{} {}", m.amount, m.currency)).collect::<Vec<_>>().join("; ");
        w.write_record([
            safe_text(&r.key),
            r.leads.to_string(),
            r.contacted.to_string(),
            r.opportunities.to_string(),
            r.clients.to_string(),
            r.lost.to_string(),
            r.contact_rate.to_string(),
            r.opportunity_rate.to_string(),
            r.client_rate.to_string(),
            safe_text(&lost),
            won,
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::safe_text;

    #[test]
    fn formula_like_text_is_neutralised() {
        assert_eq!(safe_text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_text("-1+2"), "'-1+2");
        assert_eq!(safe_text("Acme SRL"), "Acme SRL");
    }
}
