//! Custom fields: their types, keys and how a JSON value becomes stored text and back.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

use crate::validation::FieldProblem;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Number,
    Date,
    Select,
    MultiSelect,
    Checkbox,
}

impl FieldType {
    pub fn parse(raw: &str) -> Result<FieldType, FieldProblem> {
        Ok(match raw {
            "text" => FieldType::Text,
            "number" => FieldType::Number,
            "date" => FieldType::Date,
            "select" => FieldType::Select,
            "multi_select" => FieldType::MultiSelect,
            "checkbox" => FieldType::Checkbox,
            _ => return Err(FieldProblem::new("invalid", "use text, number, date, select, multi_select or checkbox")),
        })
    }

    pub fn has_options(self) -> bool {
        matches!(self, FieldType::Select | FieldType::MultiSelect)
    }
}

/// `snake_case`, starting with a letter, at most 60 characters.
pub fn check_key(raw: &str) -> Result<String, FieldProblem> {
    let key = raw.trim();
    let ok = !key.is_empty()
        && key.len() <= 60
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(key.to_string())
    } else {
        Err(FieldProblem::new("invalid", "keys are snake_case: lowercase letters, digits and _, starting with a letter"))
    }
}

/// The stored form of a value: one text per value (several for multi-select). `null` or an
/// empty value gives no values (the field is cleared).
pub fn canonical(field_type: FieldType, options: &[String], value: &Value) -> Result<Vec<String>, FieldProblem> {
    let invalid = |msg: &str| FieldProblem::new("invalid", msg);
    if value.is_null() {
        return Ok(Vec::new());
    }
    let option = |s: &str| {
        options.iter().find(|o| o.as_str() == s.trim()).cloned().ok_or_else(|| invalid(&format!("`{}` is not one of: {}", s.trim(), options.join(", "))))
    };
    Ok(match field_type {
        FieldType::Text => {
            let s = value.as_str().ok_or_else(|| invalid("expected text"))?.trim();
            if s.chars().count() > 2000 {
                return Err(FieldProblem::new("too_long", "at most 2000 characters"));
            }
            if s.is_empty() {
                vec![]
            } else {
                vec![s.to_string()]
            }
        }
        FieldType::Number => {
            let d = match value {
                Value::String(s) => Decimal::from_str(s.trim()).map_err(|_| invalid("expected a number"))?,
                Value::Number(n) => Decimal::from_str(&n.to_string()).map_err(|_| invalid("expected a number"))?,
                _ => return Err(invalid("expected a number")),
            };
            vec![d.normalize().to_string()]
        }
        FieldType::Date => {
            let s = value.as_str().ok_or_else(|| invalid("expected a date YYYY-MM-DD"))?;
            let d = crate::dates::parse(s).ok_or_else(|| invalid("expected a date YYYY-MM-DD"))?;
            vec![format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())]
        }
        FieldType::Select => vec![option(value.as_str().ok_or_else(|| invalid("expected one option"))?)?],
        FieldType::MultiSelect => {
            let items = value.as_array().ok_or_else(|| invalid("expected a list of options"))?;
            let mut out: Vec<String> = Vec::new();
            for item in items {
                let o = option(item.as_str().ok_or_else(|| invalid("expected a list of options"))?)?;
                if !out.contains(&o) {
                    out.push(o);
                }
            }
            sort_by_options(&mut out, options);
            out
        }
        FieldType::Checkbox => vec![value.as_bool().ok_or_else(|| invalid("expected true or false"))?.to_string()],
    })
}

/// Multi-select values in the order the field lists its options.
pub fn sort_by_options(values: &mut [String], options: &[String]) {
    values.sort_by_key(|v| options.iter().position(|o| o == v).unwrap_or(usize::MAX));
}

/// The stored texts back as the JSON the API shows.
pub fn to_json(field_type: FieldType, values: &[String]) -> Value {
    match field_type {
        FieldType::MultiSelect => Value::Array(values.iter().cloned().map(Value::String).collect()),
        FieldType::Checkbox => values.first().map_or(Value::Null, |v| Value::Bool(v == "true")),
        _ => values.first().map_or(Value::Null, |v| Value::String(v.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_checked_and_canonicalised_per_type() {
        let opts = vec!["Gold".to_string(), "Silver".to_string()];
        let ok = |t, v: Value| canonical(t, &opts, &v).unwrap();
        assert_eq!(ok(FieldType::Text, json!("  hi ")), ["hi"]);
        assert_eq!(ok(FieldType::Text, json!("")), Vec::<String>::new());
        assert_eq!(ok(FieldType::Number, json!("12.50")), ["12.5"]);
        assert_eq!(ok(FieldType::Number, json!(7)), ["7"]);
        assert_eq!(ok(FieldType::Date, json!("2026-02-03")), ["2026-02-03"]);
        assert_eq!(ok(FieldType::Select, json!("Gold")), ["Gold"]);
        assert_eq!(ok(FieldType::MultiSelect, json!(["Silver", "Gold", "Silver"])), ["Gold", "Silver"], "option order");
        assert_eq!(ok(FieldType::Checkbox, json!(true)), ["true"]);
        assert_eq!(ok(FieldType::Select, Value::Null), Vec::<String>::new());
        for (t, v) in [
            (FieldType::Number, json!("twelve")),
            (FieldType::Date, json!("03/02/2026")),
            (FieldType::Select, json!("Bronze")),
            (FieldType::MultiSelect, json!("Gold")),
            (FieldType::Checkbox, json!("yes")),
            (FieldType::Text, json!(5)),
        ] {
            assert!(canonical(t, &opts, &v).is_err(), "{t:?} {v}");
        }
    }

    #[test]
    fn json_round_trip_and_keys() {
        assert_eq!(to_json(FieldType::MultiSelect, &["A".into()]), json!(["A"]));
        assert_eq!(to_json(FieldType::Checkbox, &["false".into()]), json!(false));
        assert_eq!(to_json(FieldType::Text, &[]), Value::Null);
        assert_eq!(check_key("budget_2026").unwrap(), "budget_2026");
        for bad in ["", "Budget", "2budget", "bud-get", &"x".repeat(61)] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }
}
