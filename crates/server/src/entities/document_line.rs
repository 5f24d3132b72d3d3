use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "document_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub document_type: String,
    pub document_id: i32,
    pub position: i32,
    pub item_id: Option<i32>,
    pub description: String,
    pub long_description: Option<String>,
    pub qty: String,
    pub unit: Option<String>,
    pub unit_price: String,
    pub discount_percent: String,
    pub taxes: Json,
    /// The item's purchase price when the line was written (decimal text); internal, never shown to clients.
    pub purchase_price: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
