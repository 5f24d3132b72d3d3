use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "custom_field_values")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub field_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub entity_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub value: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
