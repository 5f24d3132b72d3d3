//! Clients (companies you invoice) and their contacts.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Client {
    pub id: i32,
    pub company: String,
    pub vat_number: Option<String>,
    pub registration_number: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub county: Option<String>,
    pub country: Option<String>,
    pub zip: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    /// Default currency of the client's documents (ISO 4217).
    pub currency: String,
    /// Default days until an invoice is due.
    pub payment_terms_days: i32,
    /// The staff member responsible (what `view_own` filters on).
    pub assigned_to: Option<i32>,
    /// The lead this client was converted from.
    pub lead_id: Option<i32>,
    pub contacts: Vec<Contact>,
    /// Values of the client custom fields, by key.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub custom_fields: serde_json::Map<String, serde_json::Value>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientInput {
    /// Required on create.
    pub company: Option<String>,
    pub vat_number: Option<String>,
    pub registration_number: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub county: Option<String>,
    pub country: Option<String>,
    pub zip: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    /// Defaults to RON.
    pub currency: Option<String>,
    /// Defaults to 30; 0–365.
    pub payment_terms_days: Option<i32>,
    pub assigned_to: Option<i32>,
    /// Custom field values by key; on update only the keys sent change (`null` clears).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub custom_fields: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    pub id: i32,
    pub client_id: i32,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    /// Exactly one contact of a client with contacts is primary.
    pub is_primary: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactInput {
    /// Required on create.
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub is_primary: Option<bool>,
}
