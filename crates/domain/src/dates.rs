//! Calendar dates travel as `YYYY-MM-DD`.

use time::Date;

time::serde::format_description!(iso_date_format, Date, "[year]-[month]-[day]");

/// `#[serde(with = "crate::dates::option")]` for `Option<Date>`.
pub mod option {
    pub use super::iso_date_format::option::{deserialize, serialize};
}

/// `#[serde(with = "crate::dates::iso")]` for `Date`.
pub mod iso {
    pub use super::iso_date_format::{deserialize, serialize};
}

/// For PATCH bodies: absent → `None`, `null` → `Some(None)`, `"YYYY-MM-DD"` → `Some(Some(d))`.
pub fn double_option<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<Option<Date>>, D::Error> {
    iso_date_format::option::deserialize(de).map(Some)
}

pub fn parse(raw: &str) -> Option<Date> {
    Date::parse(raw.trim(), time::macros::format_description!("[year]-[month]-[day]")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates_round_trip_as_iso() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct D {
            #[serde(with = "super::option")]
            d: Option<Date>,
        }
        let json = serde_json::to_string(&D { d: Some(date!(2026 - 03 - 09)) }).unwrap();
        assert_eq!(json, r#"{"d":"2026-03-09"}"#);
        assert_eq!(serde_json::from_str::<D>(r#"{"d":null}"#).unwrap(), D { d: None });
        assert!(serde_json::from_str::<D>(r#"{"d":"09.03.2026"}"#).is_err());
        assert_eq!(parse("2026-12-31"), Some(date!(2026 - 12 - 31)));
        assert_eq!(parse("2026-13-01"), None);
    }
}
