//! Sales order statuses and the one table of allowed changes.

use crate::validation::FieldProblem;

pub const STATUSES: [&str; 6] = ["draft", "confirmed", "partially_delivered", "delivered", "invoiced", "cancelled"];

pub fn parse_status(raw: &str) -> Result<&'static str, FieldProblem> {
    let s = raw.trim().to_ascii_lowercase().replace(' ', "_");
    STATUSES
        .into_iter()
        .find(|x| *x == s)
        .ok_or_else(|| FieldProblem::new("invalid_status", format!("`{}` is not a sales order status ({})", raw.trim(), STATUSES.join(", "))))
}

/// Set by hand through `/status`; `invoiced` is set only by converting to an invoice.
pub fn can_set(from: &str, to: &str) -> bool {
    matches!(
        (from, to),
        ("draft", "confirmed")
            | ("confirmed", "partially_delivered")
            | ("confirmed", "delivered")
            | ("partially_delivered", "delivered")
            | ("confirmed", "draft")
            | ("cancelled", "draft")
            | ("draft" | "confirmed" | "partially_delivered" | "delivered", "cancelled")
    )
}

/// Orders convert to an invoice once they are confirmed (delivered or not), and only once.
pub fn can_invoice(status: &str) -> bool {
    matches!(status, "confirmed" | "partially_delivered" | "delivered")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_allows_the_normal_flow_and_nothing_after_invoicing() {
        assert!(can_set("draft", "confirmed") && can_set("confirmed", "delivered") && can_set("partially_delivered", "delivered"));
        assert!(can_set("delivered", "cancelled") && can_set("cancelled", "draft"));
        assert!(!can_set("draft", "delivered") && !can_set("delivered", "invoiced") && !can_set("invoiced", "cancelled"));
        assert!(can_invoice("delivered") && !can_invoice("draft") && !can_invoice("invoiced"));
        assert_eq!(parse_status("Partially delivered").unwrap(), "partially_delivered");
        assert!(parse_status("shipped").is_err());
    }
}
