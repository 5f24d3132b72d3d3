use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "lead_activities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub lead_id: i32,
    pub activity_type: String,
    pub summary: String,
    pub body: Option<String>,
    pub duration_minutes: Option<i32>,
    pub attendees: Option<String>,
    pub occurred_at: TimeDateTimeWithTimeZone,
    pub staff_id: Option<i32>,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
