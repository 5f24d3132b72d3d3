use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "leads")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    pub company: Option<String>,
    pub title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub phone_key: Option<String>,
    pub website: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub industry: Option<String>,
    pub area: Option<String>,
    pub company_size: Option<String>,
    pub source_id: Option<i32>,
    pub pipeline_id: i32,
    pub status_id: i32,
    pub position: i64,
    pub assigned_to: Option<i32>,
    pub estimated_value_minor: Option<i64>,
    pub currency: Option<String>,
    pub description: Option<String>,
    pub score: i32,
    pub is_opportunity: bool,
    pub lost: bool,
    pub lost_reason_id: Option<i32>,
    pub junk: bool,
    pub converted_client_id: Option<i32>,
    pub converted_at: Option<TimeDateTimeWithTimeZone>,
    pub last_contacted_at: Option<TimeDateTimeWithTimeZone>,
    pub last_status_change_at: TimeDateTimeWithTimeZone,
    pub created_by: Option<i32>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
    pub probability: Option<i32>,
    pub expected_close_date: Option<TimeDate>,
    pub opportunity_status_id: Option<i32>,
    pub origin_lead_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
