use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "proposals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub number: String,
    pub subject: String,
    pub lead_id: Option<i32>,
    pub client_id: Option<i32>,
    pub recipient_name: Option<String>,
    pub recipient_email: Option<String>,
    pub recipient_phone: Option<String>,
    pub recipient_address: Option<String>,
    pub recipient_city: Option<String>,
    pub recipient_country: Option<String>,
    pub recipient_zip: Option<String>,
    pub open_till: Option<TimeDate>,
    pub status_code: i32,
    pub allow_comments: bool,
    pub assigned_to: Option<i32>,
    pub content: String,
    pub terms: String,
    pub internal_notes: Option<String>,
    pub tags: Json,
    pub portal_token: Option<String>,
    pub invoice_id: Option<i32>,
    pub sales_order_id: Option<i32>,
    pub accepted_name: Option<String>,
    pub accepted_email: Option<String>,
    pub accepted_signature: Option<String>,
    pub accepted_at: Option<TimeDateTimeWithTimeZone>,
    pub accepted_ip: Option<String>,
    pub accepted_user_agent: Option<String>,
    pub accepted_content_hash: Option<String>,
    pub declined_reason: Option<String>,
    pub declined_at: Option<TimeDateTimeWithTimeZone>,
    pub sent_at: Option<TimeDateTimeWithTimeZone>,
    pub viewed_at: Option<TimeDateTimeWithTimeZone>,
    pub currency: String,
    pub date: TimeDate,
    pub discount_type: Option<String>,
    pub discount_value: String,
    pub discount_applies: String,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub total_tax_minor: i64,
    pub total_minor: i64,
    pub created_by: Option<i32>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
