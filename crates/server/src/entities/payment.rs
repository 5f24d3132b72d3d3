use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub invoice_id: i32,
    pub client_id: i32,
    pub amount_minor: i64,
    pub currency: String,
    pub date: TimeDate,
    pub payment_mode_id: Option<i32>,
    pub transaction_id: Option<String>,
    pub note: Option<String>,
    pub source: String,
    pub gateway_event_id: Option<String>,
    pub created_by: Option<i32>,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
