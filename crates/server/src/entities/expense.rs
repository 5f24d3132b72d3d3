use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "expenses")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub category_id: i32,
    pub amount_minor: i64,
    pub currency: String,
    pub tax_ids: Json,
    pub taxes: Json,
    pub total_minor: i64,
    pub date: TimeDate,
    pub staff_id: Option<i32>,
    pub client_id: Option<i32>,
    pub note: Option<String>,
    pub reference: Option<String>,
    pub commission_receipt_id: Option<i32>,
    pub created_by: Option<i32>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
