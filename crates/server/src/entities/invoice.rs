use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub number: Option<String>,
    pub client_id: i32,
    pub due_date: Option<TimeDate>,
    pub status_code: i32,
    pub terms: String,
    pub proposal_id: Option<i32>,
    pub sales_order_id: Option<i32>,
    pub sale_agent: Option<i32>,
    pub admin_note: Option<String>,
    pub client_note: Option<String>,
    pub tags: Option<Json>,
    pub allowed_payment_modes: Option<Json>,
    pub paid_minor: i64,
    pub portal_token: Option<String>,
    pub issued_at: Option<TimeDateTimeWithTimeZone>,
    pub sent_at: Option<TimeDateTimeWithTimeZone>,
    pub recurring_id: Option<i32>,
    pub recurring_cycle: Option<i32>,
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
