use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "contracts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub client_id: i32,
    pub subject: String,
    pub contract_type: Option<String>,
    pub value_minor: i64,
    pub currency: String,
    pub start_date: TimeDate,
    pub end_date: Option<TimeDate>,
    pub content: String,
    pub status_id: Option<i32>,
    pub proposal_id: Option<i32>,
    pub renewed_from_id: Option<i32>,
    pub portal_token: Option<String>,
    pub signed_name: Option<String>,
    pub signature: Option<String>,
    pub signed_at: Option<TimeDateTimeWithTimeZone>,
    pub signed_ip: Option<String>,
    pub signed_user_agent: Option<String>,
    pub signed_content_hash: Option<String>,
    pub created_by: Option<i32>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
