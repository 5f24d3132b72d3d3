use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "goals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub subject: String,
    pub goal_type: String,
    pub target: String,
    pub currency: Option<String>,
    pub start_date: TimeDate,
    pub end_date: TimeDate,
    pub target_type: String,
    pub staff_id: Option<i32>,
    pub team_id: Option<i32>,
    pub notify_when_achieved: bool,
    pub notify_when_missed: bool,
    pub achieved_notified_at: Option<TimeDateTimeWithTimeZone>,
    pub missed_notified_at: Option<TimeDateTimeWithTimeZone>,
    pub created_by: Option<i32>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
