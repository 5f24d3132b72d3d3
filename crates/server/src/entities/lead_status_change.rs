use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "lead_status_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub lead_id: i32,
    pub from_status_id: Option<i32>,
    pub to_status_id: i32,
    pub staff_id: Option<i32>,
    pub at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
