//! `crmconnect seed-demo`: a realistic demo company. Grows as modules land.

use anyhow::{bail, Context};
use crmconnect_domain::validation::EmailAddress;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

use crate::api::staff::{insert_staff, NewStaff};
use crate::audit::Actor;
use crate::entities::{role, staff};

pub const DEMO_PASSWORD: &str = "demo1234";
pub const DEMO_ADMIN_EMAIL: &str = "admin@demo.crmconnect.dev";

/// Staff of the demo company: (name, e-mail, role).
const DEMO_STAFF: &[(&str, &str, &str)] = &[
    ("Alexandra Ionescu", DEMO_ADMIN_EMAIL, "Administrator"),
    ("Mihai Popescu", "mihai.popescu@demo.crmconnect.dev", "Sales Manager"),
    ("Elena Dumitrescu", "elena.dumitrescu@demo.crmconnect.dev", "Account Manager"),
    ("Andrei Stan", "andrei.stan@demo.crmconnect.dev", "Sales Agent"),
    ("Ioana Marin", "ioana.marin@demo.crmconnect.dev", "Sales Agent"),
    ("Radu Georgescu", "radu.georgescu@demo.crmconnect.dev", "SDR"),
    ("Maria Constantin", "maria.constantin@demo.crmconnect.dev", "SDR"),
];

pub async fn is_empty(db: &DatabaseConnection) -> anyhow::Result<bool> {
    Ok(staff::Entity::find().count(db).await? == 0)
}

/// Loads the demo company; refuses on a database that already has staff.
pub async fn seed_demo(db: &DatabaseConnection) -> anyhow::Result<usize> {
    if !is_empty(db).await? {
        bail!("the database is not empty (it has staff accounts); seed-demo only fills a new database");
    }
    for (name, email, role_name) in DEMO_STAFF {
        let role = role::Entity::find()
            .filter(role::Column::Name.eq(*role_name))
            .one(db)
            .await?
            .with_context(|| format!("default role {role_name} missing"))?;
        let new = NewStaff {
            name: name.to_string(),
            email: EmailAddress::parse(email).map_err(|p| anyhow::anyhow!(p.message))?,
            password: DEMO_PASSWORD.to_string(),
            role_id: role.id,
        };
        insert_staff(db, &Actor::system(), new).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(DEMO_STAFF.len())
}
