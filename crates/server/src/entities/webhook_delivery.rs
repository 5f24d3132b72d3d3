use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub webhook_id: i32,
    pub event_id: i32,
    pub event_type: String,
    pub record_type: String,
    pub record_id: i32,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: TimeDateTimeWithTimeZone,
    pub first_attempt_at: Option<TimeDateTimeWithTimeZone>,
    pub locked_until: Option<TimeDateTimeWithTimeZone>,
    pub locked_by: Option<String>,
    pub response_status: Option<i32>,
    pub latency_ms: Option<i32>,
    pub response_excerpt: Option<String>,
    pub last_error: Option<String>,
    pub delivered_at: Option<TimeDateTimeWithTimeZone>,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
