//! List paging and change tracking, shared by every paginated list: `limit` (default 50, max
//! 500), an opaque keyset `cursor`, `sort=updated_at` / `-updated_at`, and the sync filters
//! `updated_since` / `created_since` (RFC 3339).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sea_orm::sea_query::{Alias, Expr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Select};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};
use utoipa::IntoParams;

use crate::error::{Error, ErrorCode, Result};

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 500;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1–500 (default 50).
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `updated_at` (oldest change first — what a sync loop reads) or `-updated_at`; ties are
    /// broken by id. Without it, the list's own order.
    pub sort: Option<String>,
    /// Only records changed at or after this instant (RFC 3339, e.g. `2026-12-01T08:00:00Z`).
    #[param(format = DateTime)]
    pub updated_since: Option<String>,
    /// Only records created at or after this instant (RFC 3339).
    #[param(format = DateTime)]
    pub created_since: Option<String>,
}

/// `limit` on the short lists answered whole (sources, statuses, currencies, the catalogue…):
/// accepted so a client can call every list the same way; the answer always holds every row
/// and `next_cursor` is `null`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WholeList {
    /// 1–500. This list is always answered whole (`next_cursor` is `null`).
    pub limit: Option<u64>,
}

impl WholeList {
    pub fn check(&self) -> Result<()> {
        match self.limit {
            Some(limit) if !(1..=MAX_LIMIT).contains(&limit) => Err(Error::field("limit", "out_of_range", format!("limit must be between 1 and {MAX_LIMIT}"))),
            _ => Ok(()),
        }
    }
}

/// `updated_since` / `created_since` for lists that are not paged (the catalogue, templates,
/// rules: a few dozen rows) — the same meaning as on paged lists.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SinceParams {
    /// Only rows changed at or after this instant (RFC 3339, e.g. `2026-12-01T08:00:00Z`).
    #[param(format = DateTime)]
    pub updated_since: Option<String>,
    /// Only rows created at or after this instant (RFC 3339).
    #[param(format = DateTime)]
    pub created_since: Option<String>,
}

impl SinceParams {
    /// The filters as a condition on a table with these columns.
    pub fn condition<C: ColumnTrait>(&self, created_at: C, updated_at: C) -> Result<Condition> {
        let updated = parse_instant("updated_since", self.updated_since.as_deref())?;
        let created = parse_instant("created_since", self.created_since.as_deref())?;
        Ok(since(created_at, updated_at, created, updated))
    }
}

impl SinceParams {
    /// The same on a table queried by column names (the shared lookup tables).
    pub fn condition_on(&self, created_at: &str, updated_at: &str) -> Result<Condition> {
        let updated = parse_instant("updated_since", self.updated_since.as_deref())?;
        let created = parse_instant("created_since", self.created_since.as_deref())?;
        let mut cond = Condition::all();
        if let Some(t) = updated {
            cond = cond.add(Expr::col(Alias::new(updated_at)).gte(t));
        }
        if let Some(t) = created {
            cond = cond.add(Expr::col(Alias::new(created_at)).gte(t));
        }
        Ok(cond)
    }
}

fn since<C: ColumnTrait>(created_at: C, updated_at: C, created: Option<OffsetDateTime>, updated: Option<OffsetDateTime>) -> Condition {
    let mut cond = Condition::all();
    if let Some(t) = updated {
        cond = cond.add(updated_at.gte(t));
    }
    if let Some(t) = created {
        cond = cond.add(created_at.gte(t));
    }
    cond
}

/// The order of a page: the list's own (by id, in the direction the list chose) or by last change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageOrder {
    Default,
    UpdatedAsc,
    UpdatedDesc,
}

/// Where the previous page ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    Id(i32),
    Updated(OffsetDateTime, i32),
}

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u64,
    pub order: PageOrder,
    after: Option<Cursor>,
    pub updated_since: Option<OffsetDateTime>,
    pub created_since: Option<OffsetDateTime>,
}

/// The columns a list pages and filters on. Tables whose rows never change after insertion
/// (payments, the audit log) name their creation time as `updated_at` too.
pub struct Keys<C> {
    pub id: C,
    pub created_at: C,
    pub updated_at: C,
}

/// The id and last change of a row, for its cursor.
pub type RowKey = (i32, OffsetDateTime);

impl PageParams {
    pub fn parse(&self) -> Result<PageRequest> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::field("limit", "out_of_range", format!("limit must be between 1 and {MAX_LIMIT}")));
        }
        let order = match self.sort.as_deref() {
            None => PageOrder::Default,
            Some("updated_at") => PageOrder::UpdatedAsc,
            Some("-updated_at") => PageOrder::UpdatedDesc,
            Some(other) => return Err(Error::field("sort", "invalid", format!("cannot sort this list by `{other}`; use updated_at or -updated_at"))),
        };
        let after = self.cursor.as_deref().map(|c| decode_cursor(c, order)).transpose()?;
        Ok(PageRequest {
            limit,
            order,
            after,
            updated_since: parse_instant("updated_since", self.updated_since.as_deref())?,
            created_since: parse_instant("created_since", self.created_since.as_deref())?,
        })
    }
}

/// An RFC 3339 instant from a query parameter, in UTC (how every timestamp is stored). A `+`
/// of an offset that was not percent-encoded arrives as a space; it is read as the `+` it was.
pub fn parse_instant(field: &str, raw: Option<&str>) -> Result<Option<OffsetDateTime>> {
    let Some(raw) = raw else { return Ok(None) };
    OffsetDateTime::parse(&raw.trim_start().replace(' ', "+"), &Rfc3339)
        .map(|t| Some(t.to_offset(UtcOffset::UTC)))
        .map_err(|_| Error::field(field, "invalid", format!("`{raw}` is not an RFC 3339 instant such as 2026-12-01T08:00:00Z")))
}

impl PageRequest {
    /// A plain first page of `limit` rows in the list's own order.
    pub fn first(limit: u64) -> Self {
        PageRequest { limit, order: PageOrder::Default, after: None, updated_since: None, created_since: None }
    }

    /// Applies the sync filters, the order (ties broken by id), the cursor and `limit + 1` to a
    /// list query. `default` is the list's own direction by id.
    pub fn select<E: EntityTrait>(&self, q: Select<E>, keys: Keys<E::Column>, default: Order) -> Select<E> {
        let Keys { id, created_at, updated_at } = keys;
        let mut q = q.filter(since(created_at, updated_at, self.created_since, self.updated_since));
        let descending = match self.order {
            PageOrder::Default => default == Order::Desc,
            PageOrder::UpdatedAsc => false,
            PageOrder::UpdatedDesc => true,
        };
        let beyond = |col: E::Column, v: sea_orm::Value| if descending { col.lt(v) } else { col.gt(v) };
        match self.after {
            Some(Cursor::Id(last)) => q = q.filter(beyond(id, last.into())),
            Some(Cursor::Updated(at, last)) => {
                let tie = Condition::all().add(updated_at.eq(at)).add(beyond(id, last.into()));
                q = q.filter(Condition::any().add(beyond(updated_at, at.into())).add(tie));
            }
            None => {}
        }
        let order = if descending { Order::Desc } else { Order::Asc };
        if self.order != PageOrder::Default {
            q = q.order_by(updated_at, order.clone());
        }
        q.order_by(id, order).limit(self.limit + 1)
    }

    fn cursor_after(&self, (id, updated_at): RowKey) -> String {
        match self.order {
            PageOrder::Default => URL_SAFE_NO_PAD.encode(format!("id:{id}")),
            PageOrder::UpdatedAsc | PageOrder::UpdatedDesc => URL_SAFE_NO_PAD.encode(format!("u:{}:{id}", updated_at.unix_timestamp_nanos())),
        }
    }
}

fn decode_cursor(cursor: &str, order: PageOrder) -> Result<Cursor> {
    let invalid = || Error::refused(ErrorCode::InvalidCursor, "Pass back `next_cursor` exactly as received, with the same `sort`.");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let cursor = if let Some(id) = text.strip_prefix("id:") {
        Cursor::Id(id.parse().map_err(|_| invalid())?)
    } else {
        let (nanos, id) = text.strip_prefix("u:").and_then(|rest| rest.split_once(':')).ok_or_else(invalid)?;
        let at = nanos.parse::<i128>().ok().and_then(|n| OffsetDateTime::from_unix_timestamp_nanos(n).ok()).ok_or_else(invalid)?;
        Cursor::Updated(at, id.parse().map_err(|_| invalid())?)
    };
    match (cursor, order) {
        (Cursor::Id(_), PageOrder::Default) | (Cursor::Updated(..), PageOrder::UpdatedAsc | PageOrder::UpdatedDesc) => Ok(cursor),
        _ => Err(invalid()),
    }
}

/// Fetch with [`PageRequest::select`] (`limit + 1` rows); this trims the extra one and makes
/// the cursor from the last row kept.
pub fn finish_page<T>(mut rows: Vec<T>, page: PageRequest, key_of: impl Fn(&T) -> RowKey) -> (Vec<T>, Option<String>) {
    let more = rows.len() as u64 > page.limit;
    rows.truncate(page.limit as usize);
    let next = if more { rows.last().map(|r| page.cursor_after(key_of(r))) } else { None };
    (rows, next)
}

/// Every value of a query parameter that may repeat or hold a comma-separated list
/// (`?status=4&status=1`, `?status=sent,viewed`). serde's `Query` keeps only one.
pub fn repeated_param(query_string: &str, name: &str) -> Vec<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query_string).unwrap_or_default();
    pairs
        .into_iter()
        .filter(|(k, _)| k == name)
        .flat_map(|(_, v)| v.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect::<Vec<_>>())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn params(limit: Option<u64>, cursor: Option<String>, sort: Option<&str>) -> PageParams {
        PageParams { limit, cursor, sort: sort.map(str::to_string), ..Default::default() }
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let first = params(Some(10), None, None).parse().unwrap();
        let p = params(Some(10), Some(first.cursor_after((77, OffsetDateTime::UNIX_EPOCH))), None).parse().unwrap();
        assert_eq!(p.after, Some(Cursor::Id(77)));
        assert!(params(None, Some("!!".into()), None).parse().is_err());
        assert!(params(None, Some(URL_SAFE_NO_PAD.encode("id:x")), None).parse().is_err());
        assert!(params(Some(0), None, None).parse().is_err());
        assert!(params(Some(501), None, None).parse().is_err());
        assert_eq!(PageParams::default().parse().unwrap().limit, 50);
    }

    #[test]
    fn an_updated_at_cursor_keeps_nanoseconds_and_belongs_to_its_sort() {
        let at = datetime!(2026-12-07 10:11:12.123456789 UTC);
        let by_change = params(None, None, Some("updated_at")).parse().unwrap();
        let cursor = by_change.cursor_after((5, at));
        assert_eq!(params(None, Some(cursor.clone()), Some("updated_at")).parse().unwrap().after, Some(Cursor::Updated(at, 5)));
        assert!(params(None, Some(cursor.clone()), None).parse().is_err(), "a cursor of another sort is refused");
        assert!(params(None, Some(cursor), Some("-updated_at")).parse().is_ok());
        assert!(params(None, None, Some("name")).parse().is_err());
    }

    #[test]
    fn since_filters_read_rfc3339_in_utc() {
        let p =
            PageParams { updated_since: Some("2026-12-01T10:00:00+02:00".into()), created_since: Some("2026-12-01T08:00:00Z".into()), ..Default::default() };
        let p = p.parse().unwrap();
        assert_eq!(p.updated_since, Some(datetime!(2026-12-01 08:00 UTC)));
        assert_eq!(p.created_since, Some(datetime!(2026-12-01 08:00 UTC)));
        assert_eq!(parse_instant("x", Some("2026-12-01T10:00:00 02:00")).unwrap(), Some(datetime!(2026-12-01 08:00 UTC)), "an unencoded + is read back");
        assert!(parse_instant("x", Some("2026-12-01")).is_err());
        assert!(parse_instant("x", Some("yesterday")).is_err());
    }

    #[test]
    fn finish_page_detects_more() {
        let page = PageRequest::first(2);
        let key = |r: &i32| (*r, OffsetDateTime::UNIX_EPOCH);
        let (rows, next) = finish_page(vec![1, 2, 3], page, key);
        assert_eq!((rows, next), (vec![1, 2], Some(URL_SAFE_NO_PAD.encode("id:2"))));
        let (rows, next) = finish_page(vec![1, 2], page, key);
        assert_eq!((rows, next), (vec![1, 2], None));
    }
}
