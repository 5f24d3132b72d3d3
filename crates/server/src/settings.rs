//! Company-wide settings an administrator changes at run time (`GET/PATCH /api/v1/settings`),
//! kept as `setting.<name>` rows of `app_settings`. Unset keys have the defaults below.

use crmconnect_domain::api::{AppSettings, AppSettingsPatch};
use crmconnect_domain::validation::{EmailAddress, Validator};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use time::OffsetDateTime;

use crate::entities::app_setting;
use crate::error::{Error, Result};

const PREFIX: &str = "setting.";

pub fn defaults() -> AppSettings {
    AppSettings {
        company_name: "My Company SRL".into(),
        company_address: String::new(),
        company_vat_number: String::new(),
        company_registration_number: String::new(),
        company_email: "office@example.com".into(),
        proposal_number_prefix: "PRO-".into(),
        proposal_number_padding: 6,
        proposal_open_till_days: 14,
        estimate_auto_convert_to_invoice_on_client_accept: 0,
        commission_calculate_after_days: 0,
    }
}

pub async fn load(db: &impl ConnectionTrait) -> Result<AppSettings> {
    let rows = app_setting::Entity::find().filter(app_setting::Column::Key.starts_with(PREFIX)).all(db).await?;
    let mut map: serde_json::Map<String, serde_json::Value> = match serde_json::to_value(defaults()) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => unreachable!("settings serialise to an object"),
    };
    for row in rows {
        let key = &row.key[PREFIX.len()..];
        if let Some(slot) = map.get_mut(key) {
            // Stored as JSON text so numbers stay numbers.
            if let Ok(v) = serde_json::from_str(&row.value) {
                *slot = v;
            }
        }
    }
    serde_json::from_value(serde_json::Value::Object(map)).map_err(Error::internal)
}

/// Validates and stores the fields sent; returns the settings after the change.
pub async fn update(db: &impl ConnectionTrait, patch: &AppSettingsPatch) -> Result<AppSettings> {
    let mut v = Validator::new();
    let texts = [
        ("company_name", &patch.company_name, 200),
        ("company_address", &patch.company_address, 1000),
        ("company_vat_number", &patch.company_vat_number, 50),
        ("company_registration_number", &patch.company_registration_number, 50),
        ("proposal_number_prefix", &patch.proposal_number_prefix, 20),
    ];
    for (field, value, max) in texts {
        if value.as_ref().is_some_and(|s| s.chars().count() > max) {
            v.push(field, "too_long", format!("must have at most {max} characters"));
        }
    }
    if patch.company_name.as_ref().is_some_and(|s| s.trim().is_empty()) {
        v.push("company_name", "required", "the company name cannot be empty");
    }
    if let Some(e) = &patch.company_email {
        v.check("company_email", EmailAddress::parse(e));
    }
    if patch.proposal_number_padding.is_some_and(|p| p > 12) {
        v.push("proposal_number_padding", "out_of_range", "between 0 and 12 digits");
    }
    if patch.proposal_open_till_days.is_some_and(|d| !(1..=365).contains(&d)) {
        v.push("proposal_open_till_days", "out_of_range", "between 1 and 365 days");
    }
    if patch.estimate_auto_convert_to_invoice_on_client_accept.is_some_and(|x| x > 1) {
        v.push("estimate_auto_convert_to_invoice_on_client_accept", "out_of_range", "0 or 1");
    }
    if patch.commission_calculate_after_days.is_some_and(|d| d > 365) {
        v.push("commission_calculate_after_days", "out_of_range", "between 0 and 365 days");
    }
    v.finish().map_err(Error::validation)?;

    let serde_json::Value::Object(sent) = serde_json::to_value(patch).map_err(Error::internal)? else { unreachable!("a patch serialises to an object") };
    let now = OffsetDateTime::now_utc();
    for (key, value) in sent.into_iter().filter(|(_, v)| !v.is_null()) {
        let value = match value {
            serde_json::Value::String(s) => serde_json::Value::String(s.trim().to_string()),
            other => other,
        };
        app_setting::Entity::insert(app_setting::ActiveModel { key: Set(format!("{PREFIX}{key}")), value: Set(value.to_string()), updated_at: Set(now) })
            .on_conflict(OnConflict::column(app_setting::Column::Key).update_columns([app_setting::Column::Value, app_setting::Column::UpdatedAt]).to_owned())
            .exec(db)
            .await?;
    }
    load(db).await
}
