//! In-app notifications for staff (proposal viewed, accepted, declined, commented…), written
//! in the same transaction as the event that causes them.

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use time::OffsetDateTime;

use crate::entities::notification;
use crate::error::Result;

pub struct Notice<'a> {
    pub kind: &'a str,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub entity: Option<(&'a str, i32)>,
}

pub async fn notify(db: &impl ConnectionTrait, staff_id: i32, n: Notice<'_>) -> Result<()> {
    notification::Entity::insert(notification::ActiveModel {
        staff_id: Set(staff_id),
        kind: Set(n.kind.to_string()),
        title: Set(n.title.chars().take(300).collect()),
        body: Set(n.body),
        link: Set(n.link),
        entity_type: Set(n.entity.map(|(t, _)| t.to_string())),
        entity_id: Set(n.entity.map(|(_, id)| id)),
        read_at: Set(None),
        created_at: Set(OffsetDateTime::now_utc()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}
