use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "commissions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub staff_id: i32,
    pub invoice_id: i32,
    pub payment_id: Option<i32>,
    pub policy_id: Option<i32>,
    pub base_amount_minor: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub status_code: i32,
    pub date: TimeDate,
    pub available_at: TimeDateTimeWithTimeZone,
    pub announced_at: Option<TimeDateTimeWithTimeZone>,
    pub receipt_id: Option<i32>,
    pub offsets_id: Option<i32>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
