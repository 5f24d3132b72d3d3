use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "recurring_invoices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub client_id: i32,
    pub currency: String,
    pub frequency: String,
    pub interval: i32,
    pub start_date: TimeDate,
    pub cycles: i32,
    pub mode: String,
    pub active: bool,
    pub sale_agent: Option<i32>,
    pub terms: String,
    pub client_note: Option<String>,
    pub created_by: Option<i32>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
