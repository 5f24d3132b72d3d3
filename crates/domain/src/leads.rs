//! Pure lead rules: contact validation, tags, Kanban card positions, stagnation.

use time::OffsetDateTime;

use crate::validation::FieldProblem;

/// Gap between neighbouring card positions: room for many moves before a renumbering.
pub const POSITION_GAP: i64 = 1024;

/// Leads with no status change for this many days are "stagnant" in the guide's review.
pub const STAGNANT_DAYS: i64 = 14;

/// A phone number as typed, kept readable: digits with an optional leading `+` and the usual
/// separators; 6 to 20 digits.
pub fn parse_phone(raw: &str) -> Result<String, FieldProblem> {
    let phone = raw.trim();
    let digits = phone.chars().filter(|c| c.is_ascii_digit()).count();
    let allowed = phone.char_indices().all(|(i, c)| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '/') || (c == '+' && i == 0));
    if !allowed || !(6..=20).contains(&digits) {
        return Err(FieldProblem::new("invalid_phone", format!("`{phone}` is not a valid phone number")));
    }
    Ok(phone.to_string())
}

/// The digits of a phone number (with a leading `+` kept), for duplicate detection.
pub fn phone_key(phone: &str) -> String {
    let plus = phone.trim_start().starts_with('+');
    let digits: String = phone.chars().filter(|c| c.is_ascii_digit()).collect();
    if plus {
        format!("+{digits}")
    } else {
        digits
    }
}

pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 50;

/// Trimmed, de-duplicated (case-insensitively, first spelling wins), in the given order.
pub fn normalize_tags(raw: &[String]) -> Result<Vec<String>, FieldProblem> {
    let mut out: Vec<String> = Vec::new();
    for tag in raw {
        let tag = tag.trim();
        if tag.is_empty() {
            continue;
        }
        if tag.chars().count() > MAX_TAG_CHARS {
            return Err(FieldProblem::new("too_long", format!("tags have at most {MAX_TAG_CHARS} characters")));
        }
        if !out.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            out.push(tag.to_string());
        }
    }
    if out.len() > MAX_TAGS {
        return Err(FieldProblem::new("too_many", format!("at most {MAX_TAGS} tags")));
    }
    Ok(out)
}

/// Where a card goes between its new neighbours (`None` = column edge). `None` as the result
/// means there is no room left: renumber the column and ask again.
pub fn position_between(before: Option<i64>, after: Option<i64>) -> Option<i64> {
    match (before, after) {
        (None, None) => Some(0),
        (Some(b), None) => b.checked_add(POSITION_GAP),
        (None, Some(a)) => a.checked_sub(POSITION_GAP),
        (Some(b), Some(a)) if a - b >= 2 => Some(b + (a - b) / 2),
        _ => None,
    }
}

/// Evenly spaced positions for `n` cards, for a renumbered column.
pub fn renumbered(n: usize) -> impl Iterator<Item = i64> {
    (0..n as i64).map(|i| i * POSITION_GAP)
}

/// Whole days since the lead entered its current stage.
pub fn days_in_stage(last_status_change_at: OffsetDateTime, now: OffsetDateTime) -> i64 {
    (now - last_status_change_at).whole_days().max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn phones_are_checked_but_kept_as_typed() {
        assert_eq!(parse_phone(" +40 721 234 567 ").unwrap(), "+40 721 234 567");
        assert_eq!(parse_phone("(021) 311-22-33").unwrap(), "(021) 311-22-33");
        for bad in ["", "12345", "+40 abc 123 456", "40+721234567", "1234567890123456789012"] {
            assert!(parse_phone(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(phone_key("+40 721-234.567"), "+40721234567");
        assert_eq!(phone_key("0721 234 567"), "0721234567");
    }

    #[test]
    fn tags_are_trimmed_deduplicated_and_bounded() {
        let tags = normalize_tags(&["  VIP ".into(), "vip".into(), "".into(), "Q4".into()]).unwrap();
        assert_eq!(tags, ["VIP", "Q4"]);
        assert!(normalize_tags(&["x".repeat(51)]).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert_eq!(normalize_tags(&many).unwrap_err().code, "too_many");
    }

    #[test]
    fn positions_fall_between_neighbours_or_ask_for_renumbering() {
        assert_eq!(position_between(None, None), Some(0));
        assert_eq!(position_between(None, Some(0)), Some(-1024));
        assert_eq!(position_between(Some(1024), None), Some(2048));
        assert_eq!(position_between(Some(0), Some(1024)), Some(512));
        assert_eq!(position_between(Some(5), Some(7)), Some(6));
        assert_eq!(position_between(Some(5), Some(6)), None);
        assert_eq!(position_between(Some(i64::MAX), None), None);
        assert_eq!(renumbered(3).collect::<Vec<_>>(), [0, 1024, 2048]);
    }

    #[test]
    fn days_in_stage_counts_whole_days() {
        let changed = datetime!(2026-11-01 10:00 UTC);
        assert_eq!(days_in_stage(changed, datetime!(2026-11-15 09:59 UTC)), 13);
        assert_eq!(days_in_stage(changed, datetime!(2026-11-15 10:00 UTC)), 14);
        assert_eq!(days_in_stage(changed, datetime!(2026-10-01 10:00 UTC)), 0);
    }
}
