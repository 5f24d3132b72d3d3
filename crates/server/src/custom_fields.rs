//! Custom field values of leads and clients: validation against the field definitions,
//! storage (one row per value, canonical text) and the `cf.<key>=…` list filters.

use std::collections::HashMap;

use crmconnect_domain::custom_fields::{canonical, sort_by_options, to_json, FieldType};
use crmconnect_domain::validation::FieldError;
use sea_orm::sea_query::Query;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Map, Value};

use crate::entities::{custom_field, custom_field_value};
use crate::error::{Error, Result};

pub const LEAD: &str = "lead";
pub const CLIENT: &str = "client";
pub const PROPOSAL: &str = "proposal";
pub const INVOICE: &str = "invoice";

pub fn field_type(f: &custom_field::Model) -> FieldType {
    FieldType::parse(&f.field_type).unwrap_or(FieldType::Text)
}

pub fn options(f: &custom_field::Model) -> Vec<String> {
    serde_json::from_value(f.options.clone()).unwrap_or_default()
}

pub async fn definitions(db: &impl ConnectionTrait, entity: &str) -> Result<Vec<custom_field::Model>> {
    Ok(custom_field::Entity::find().filter(custom_field::Column::Entity.eq(entity)).order_by_asc(custom_field::Column::Id).all(db).await?)
}

/// Validated changes: field id → its new values (empty = cleared).
pub type Changes = Vec<(i32, Vec<String>)>;

/// Checks `input` against the definitions. On create every required field must have a value;
/// on update a required field cannot be cleared.
pub fn validate(defs: &[custom_field::Model], input: &Map<String, Value>, creating: bool) -> Result<Changes, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut changes = Vec::new();
    let err = |key: &str, code: &str, message: String| FieldError { field: format!("custom_fields.{key}"), code: code.into(), message };
    for key in input.keys() {
        if !defs.iter().any(|d| &d.key == key) {
            errors.push(err(key, "unknown", format!("no custom field `{key}` for this record type")));
        }
    }
    for d in defs {
        match input.get(&d.key) {
            Some(v) => match canonical(field_type(d), &options(d), v) {
                Ok(values) if values.is_empty() && d.required => errors.push(err(&d.key, "required", format!("{} is required", d.label))),
                Ok(values) => changes.push((d.id, values)),
                Err(p) => errors.push(err(&d.key, p.code, p.message)),
            },
            None if creating && d.required => errors.push(err(&d.key, "required", format!("{} is required", d.label))),
            None => {}
        }
    }
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(errors)
    }
}

pub async fn save(db: &impl ConnectionTrait, entity_id: i32, changes: Changes) -> Result<()> {
    for (field_id, values) in changes {
        custom_field_value::Entity::delete_many()
            .filter(custom_field_value::Column::FieldId.eq(field_id))
            .filter(custom_field_value::Column::EntityId.eq(entity_id))
            .exec(db)
            .await?;
        if !values.is_empty() {
            let rows = values.into_iter().map(|v| custom_field_value::ActiveModel { field_id: Set(field_id), entity_id: Set(entity_id), value: Set(v) });
            custom_field_value::Entity::insert_many(rows).exec(db).await?;
        }
    }
    Ok(())
}

/// The `custom_fields` objects of many records (every defined key present, `null` if unset).
pub async fn values_of(db: &impl ConnectionTrait, entity: &str, ids: &[i32]) -> Result<HashMap<i32, Map<String, Value>>> {
    let defs = definitions(db, entity).await?;
    let mut raw: HashMap<(i32, i32), Vec<String>> = HashMap::new();
    if !defs.is_empty() && !ids.is_empty() {
        let rows = custom_field_value::Entity::find()
            .filter(custom_field_value::Column::FieldId.is_in(defs.iter().map(|d| d.id).collect::<Vec<_>>()))
            .filter(custom_field_value::Column::EntityId.is_in(ids.to_vec()))
            .all(db)
            .await?;
        for r in rows {
            raw.entry((r.entity_id, r.field_id)).or_default().push(r.value);
        }
    }
    Ok(ids
        .iter()
        .map(|id| {
            let map = defs
                .iter()
                .map(|d| {
                    let mut values = raw.get(&(*id, d.id)).cloned().unwrap_or_default();
                    sort_by_options(&mut values, &options(d));
                    (d.key.clone(), to_json(field_type(d), &values))
                })
                .collect();
            (*id, map)
        })
        .collect())
}

/// `cf.<key>=value` query parameters as conditions on `id_column`.
pub async fn filter<C: ColumnTrait>(db: &impl ConnectionTrait, entity: &str, id_column: C, query: &HashMap<String, String>) -> Result<Condition> {
    let mut cond = Condition::all();
    let wanted: Vec<(&str, &String)> = query.iter().filter_map(|(k, v)| k.strip_prefix("cf.").map(|key| (key, v))).collect();
    if wanted.is_empty() {
        return Ok(cond);
    }
    let defs = definitions(db, entity).await?;
    for (key, raw) in wanted {
        let d = defs.iter().find(|d| d.key == key).ok_or_else(|| Error::field(&format!("cf.{key}"), "unknown", format!("no custom field `{key}`")))?;
        let t = field_type(d);
        // A filter names one value, even for multi-select fields.
        let one_type = if t == FieldType::MultiSelect { FieldType::Select } else { t };
        let value = match one_type {
            FieldType::Number => Value::String(raw.clone()),
            FieldType::Checkbox => Value::Bool(raw == "true" || raw == "1"),
            _ => Value::String(raw.clone()),
        };
        let canon = canonical(one_type, &options(d), &value).map_err(|p| Error::field(&format!("cf.{key}"), p.code, p.message))?;
        let Some(v) = canon.into_iter().next() else { continue };
        cond = cond.add(
            id_column.in_subquery(
                Query::select()
                    .column(custom_field_value::Column::EntityId)
                    .from(custom_field_value::Entity)
                    .and_where(custom_field_value::Column::FieldId.eq(d.id))
                    .and_where(custom_field_value::Column::Value.eq(v))
                    .to_owned(),
            ),
        );
    }
    Ok(cond)
}
