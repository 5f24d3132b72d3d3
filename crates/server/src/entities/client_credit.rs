use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "client_credits")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub client_id: i32,
    pub currency: String,
    pub amount_minor: i64,
    pub date: TimeDate,
    pub invoice_id: Option<i32>,
    pub payment_id: Option<i32>,
    pub payment_mode_id: Option<i32>,
    pub note: Option<String>,
    /// The gateway session an online overpayment came from (unique).
    pub gateway_event_id: Option<String>,
    pub created_by: Option<i32>,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
