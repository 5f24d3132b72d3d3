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

/// `#[serde(default, with = "crate::dates::patch", skip_serializing_if = "Option::is_none")]` for
/// PATCH fields `Option<Option<Date>>`: absent → `None`, `null` → `Some(None)`, `"YYYY-MM-DD"` →
/// `Some(Some(d))`. Both directions are explicit: the browser app *serialises* these bodies, and
/// `time`'s own impl would write `[2026,356]` there (its human-readable format is a cargo feature
/// that is on in the server build and off in the WASM build).
pub mod patch {
    use time::Date;

    pub fn serialize<S: serde::Serializer>(value: &Option<Option<Date>>, ser: S) -> Result<S::Ok, S::Error> {
        super::iso_date_format::option::serialize(&value.flatten(), ser)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<Option<Date>>, D::Error> {
        super::iso_date_format::option::deserialize(de).map(Some)
    }
}

/// Like [`patch`], for PATCH fields `Option<Option<OffsetDateTime>>` written as RFC 3339.
pub mod patch_instant {
    use time::OffsetDateTime;

    pub fn serialize<S: serde::Serializer>(value: &Option<Option<OffsetDateTime>>, ser: S) -> Result<S::Ok, S::Error> {
        time::serde::rfc3339::option::serialize(&value.flatten(), ser)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<Option<OffsetDateTime>>, D::Error> {
        time::serde::rfc3339::option::deserialize(de).map(Some)
    }
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
