//! Lead scoring: rules (field, operator, value, points) and the pure function that scores a
//! lead's facts. The server keeps the result on the lead for sorting.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

use crate::validation::FieldProblem;

/// What a rule looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScoreField {
    Source,
    Industry,
    Area,
    /// The contact's job title.
    Function,
    CompanySize,
    Country,
    Tag,
    EstimatedValue,
    /// `custom_field.<key>`.
    Custom(String),
}

impl ScoreField {
    pub fn parse(raw: &str) -> Result<ScoreField, FieldProblem> {
        Ok(match raw {
            "source" => ScoreField::Source,
            "industry" => ScoreField::Industry,
            "area" => ScoreField::Area,
            "function" | "title" => ScoreField::Function,
            "company_size" => ScoreField::CompanySize,
            "country" => ScoreField::Country,
            "tag" => ScoreField::Tag,
            "estimated_value" => ScoreField::EstimatedValue,
            other => match other.strip_prefix("custom_field.").filter(|k| !k.is_empty()) {
                Some(key) => ScoreField::Custom(key.to_string()),
                None => {
                    return Err(FieldProblem::new(
                        "invalid",
                        "use source, industry, area, function, company_size, country, tag, estimated_value or custom_field.<key>",
                    ))
                }
            },
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Case-insensitive equality.
    Equals(String),
    /// Equal to any of these (case-insensitive).
    In(Vec<String>),
    /// Case-insensitive substring.
    Contains(String),
    /// Numeric, inclusive bounds; text values use their first number ("51-200" → 51).
    Range { min: Option<Decimal>, max: Option<Decimal> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub field: ScoreField,
    pub condition: Condition,
    pub points: i32,
}

pub const OPERATORS: [&str; 4] = ["equals", "in", "contains", "range"];

fn number(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        _ => None,
    }
}

impl Rule {
    /// Validates a rule as stored or sent: the value's shape must fit the operator.
    pub fn parse(field: &str, operator: &str, value: &Value, points: i32) -> Result<Rule, (&'static str, FieldProblem)> {
        let field = ScoreField::parse(field).map_err(|p| ("field", p))?;
        let bad = |msg: &str| ("value", FieldProblem::new("invalid", msg));
        let text = |v: &Value| v.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let condition = match operator {
            "equals" => Condition::Equals(text(value).ok_or_else(|| bad("equals needs a non-empty string"))?),
            "contains" => Condition::Contains(text(value).ok_or_else(|| bad("contains needs a non-empty string"))?),
            "in" => {
                let items: Option<Vec<String>> = value.as_array().and_then(|a| a.iter().map(text).collect::<Option<Vec<_>>>());
                Condition::In(items.filter(|i| !i.is_empty()).ok_or_else(|| bad("in needs a non-empty list of strings"))?)
            }
            "range" => {
                let min = value.get("min").filter(|v| !v.is_null());
                let max = value.get("max").filter(|v| !v.is_null());
                let min = min.map(|v| number(v).ok_or_else(|| bad("min must be a number"))).transpose()?;
                let max = max.map(|v| number(v).ok_or_else(|| bad("max must be a number"))).transpose()?;
                if min.is_none() && max.is_none() {
                    return Err(bad("range needs {\"min\": …} and/or {\"max\": …}"));
                }
                if matches!((min, max), (Some(a), Some(b)) if a > b) {
                    return Err(bad("min must not exceed max"));
                }
                Condition::Range { min, max }
            }
            _ => return Err(("operator", FieldProblem::new("invalid", "use equals, in, contains or range"))),
        };
        if !(-1000..=1000).contains(&points) {
            return Err(("points", FieldProblem::new("out_of_range", "points between -1000 and 1000")));
        }
        Ok(Rule { field, condition, points })
    }

    fn matches_text(&self, value: &str) -> bool {
        let v = value.trim().to_lowercase();
        match &self.condition {
            Condition::Equals(x) => v == x.to_lowercase(),
            Condition::In(xs) => xs.iter().any(|x| v == x.to_lowercase()),
            Condition::Contains(x) => v.contains(&x.to_lowercase()),
            Condition::Range { min, max } => first_number(&v).is_some_and(|n| in_range(n, *min, *max)),
        }
    }

    pub fn matches(&self, facts: &LeadFacts) -> bool {
        let one = |v: &Option<String>| v.as_deref().is_some_and(|v| self.matches_text(v));
        match &self.field {
            ScoreField::Source => one(&facts.source),
            ScoreField::Industry => one(&facts.industry),
            ScoreField::Area => one(&facts.area),
            ScoreField::Function => one(&facts.function),
            ScoreField::CompanySize => one(&facts.company_size),
            ScoreField::Country => one(&facts.country),
            ScoreField::Tag => facts.tags.iter().any(|t| self.matches_text(t)),
            ScoreField::EstimatedValue => match (&self.condition, facts.estimated_value) {
                (Condition::Range { min, max }, Some(v)) => in_range(v, *min, *max),
                (_, Some(v)) => self.matches_text(&v.to_string()),
                (_, None) => false,
            },
            ScoreField::Custom(key) => facts.custom.get(key).is_some_and(|vs| vs.iter().any(|v| self.matches_text(v))),
        }
    }
}

fn in_range(n: Decimal, min: Option<Decimal>, max: Option<Decimal>) -> bool {
    min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m)
}

fn first_number(s: &str) -> Option<Decimal> {
    let start = s.find(|c: char| c.is_ascii_digit())?;
    let digits: String = s[start..].chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    Decimal::from_str(digits.trim_end_matches('.')).ok()
}

/// What scoring looks at on a lead.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeadFacts {
    /// The source's name.
    pub source: Option<String>,
    pub industry: Option<String>,
    pub area: Option<String>,
    pub function: Option<String>,
    pub company_size: Option<String>,
    pub country: Option<String>,
    pub tags: Vec<String>,
    pub estimated_value: Option<Decimal>,
    /// Custom field values by key (multi-select fields have several).
    pub custom: BTreeMap<String, Vec<String>>,
}

/// Σ points of the rules that match.
pub fn score(facts: &LeadFacts, rules: &[Rule]) -> i32 {
    rules.iter().filter(|r| r.matches(facts)).map(|r| r.points).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(field: &str, op: &str, value: Value, points: i32) -> Rule {
        Rule::parse(field, op, &value, points).unwrap()
    }

    fn facts() -> LeadFacts {
        LeadFacts {
            source: Some("Referral".into()),
            industry: Some("Software".into()),
            area: Some("North-West".into()),
            function: Some("Chief Technology Officer".into()),
            company_size: Some("51-200".into()),
            country: Some("RO".into()),
            tags: vec!["vip".into(), "q4".into()],
            estimated_value: Some(Decimal::from(25_000)),
            custom: BTreeMap::from([("budget_approved".into(), vec!["yes".into()])]),
        }
    }

    #[test]
    fn each_operator_matches_as_documented() {
        let f = facts();
        let cases = [
            (rule("source", "equals", json!("referral"), 1), true),
            (rule("source", "equals", json!("Website"), 1), false),
            (rule("industry", "in", json!(["Retail", "SOFTWARE"]), 1), true),
            (rule("function", "contains", json!("technology"), 1), true),
            (rule("company_size", "range", json!({"min": 50}), 1), true),
            (rule("company_size", "range", json!({"max": 50}), 1), false),
            (rule("estimated_value", "range", json!({"min": "10000", "max": "30000"}), 1), true),
            (rule("estimated_value", "range", json!({"min": "25000.01"}), 1), false),
            (rule("tag", "equals", json!("VIP"), 1), true),
            (rule("tag", "equals", json!("cold"), 1), false),
            (rule("country", "in", json!(["RO", "MD"]), 1), true),
            (rule("custom_field.budget_approved", "equals", json!("yes"), 1), true),
            (rule("custom_field.unknown", "equals", json!("yes"), 1), false),
        ];
        for (r, expected) in cases {
            assert_eq!(r.matches(&f), expected, "{r:?}");
        }
        assert!(!rule("industry", "equals", json!("Software"), 1).matches(&LeadFacts::default()), "missing facts never match");
    }

    #[test]
    fn the_score_is_the_sum_of_matching_rules_including_negative_ones() {
        let rules = [
            rule("source", "equals", json!("Referral"), 30),
            rule("industry", "equals", json!("Software"), 20),
            rule("area", "equals", json!("South"), 50),
            rule("tag", "equals", json!("q4"), -5),
        ];
        assert_eq!(score(&facts(), &rules), 45);
        assert_eq!(score(&facts(), &[]), 0);
    }

    #[test]
    fn malformed_rules_are_refused_with_the_field_to_blame() {
        let cases = [
            ("shoe_size", "equals", json!("x"), "field"),
            ("source", "like", json!("x"), "operator"),
            ("source", "equals", json!(""), "value"),
            ("source", "in", json!([]), "value"),
            ("source", "in", json!(["a", 3]), "value"),
            ("estimated_value", "range", json!({}), "value"),
            ("estimated_value", "range", json!({"min": 10, "max": 5}), "value"),
            ("estimated_value", "range", json!({"min": "lots"}), "value"),
            ("custom_field.", "equals", json!("x"), "field"),
        ];
        for (field, op, value, blamed) in cases {
            assert_eq!(Rule::parse(field, op, &value, 10).unwrap_err().0, blamed, "{field} {op} {value}");
        }
        assert_eq!(Rule::parse("source", "equals", &json!("x"), 5000).unwrap_err().0, "points");
    }
}
