//! Staff: the queries and business operations below the HTTP handlers.

use std::collections::HashMap;

use crmconnect_domain::api::{CreateStaff, Staff};
use crmconnect_domain::permissions::{Module, ViewScope};
use crmconnect_domain::validation::{check_password, parse_name, EmailAddress, Validator};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait};
use time::OffsetDateTime;

use crate::audit::{self, Actor, Change};
use crate::auth::{password, AuthUser};
use crate::db::Read;
use crate::entities::{refresh_token, role, staff};
use crate::error::{Error, ErrorCode, Result};

pub const NAME_MAX: usize = 200;

pub fn to_api(s: &staff::Model, role_name: &str) -> Staff {
    Staff {
        id: s.id,
        name: s.name.clone(),
        email: s.email.clone(),
        role_id: s.role_id,
        role_name: role_name.to_string(),
        active: s.active,
        last_login_at: s.last_login_at,
        created_at: s.created_at,
        updated_at: s.updated_at,
    }
}

pub async fn role_names(db: &impl ConnectionTrait) -> Result<HashMap<i32, String>> {
    Ok(role::Entity::find().all(db).await?.into_iter().map(|r| (r.id, r.name)).collect())
}

pub async fn load_api(db: &impl ConnectionTrait, s: &staff::Model) -> Result<Staff> {
    let role = role::Entity::find_by_id(s.role_id).one(db).await?;
    Ok(to_api(s, role.map(|r| r.name).as_deref().unwrap_or("")))
}

/// Validated input for a new staff member.
pub struct NewStaff {
    pub name: String,
    pub email: EmailAddress,
    pub password: String,
    pub role_id: i32,
}

impl TryFrom<CreateStaff> for NewStaff {
    type Error = Error;

    fn try_from(body: CreateStaff) -> Result<Self> {
        let mut v = Validator::new();
        let name = v.check("name", parse_name(&body.name, NAME_MAX));
        let email = v.check("email", EmailAddress::parse(&body.email));
        v.check("password", check_password(&body.password));
        let (name, email) = Error::validated(v, name.zip(email))?;
        Ok(NewStaff { name, email, password: body.password, role_id: body.role_id })
    }
}

pub async fn ensure_email_free(db: &impl ConnectionTrait, email: &str, except_id: Option<i32>) -> Result<()> {
    let mut query = staff::Entity::find().filter(staff::Column::Email.eq(email));
    if let Some(id) = except_id {
        query = query.filter(staff::Column::Id.ne(id));
    }
    if query.count(db).await? > 0 {
        return Err(Error::refused(ErrorCode::EmailTaken, format!("A staff member with e-mail {email} already exists.")));
    }
    Ok(())
}

pub async fn find_role(db: &impl ConnectionTrait, role_id: i32) -> Result<role::Model> {
    role::Entity::find_by_id(role_id).one(db).await?.ok_or_else(|| Error::field("role_id", "not_found", format!("role {role_id} does not exist")))
}

/// Creates a staff member in one transaction with its audit entry. Used by the API, the
/// `create-admin` command and the demo seed.
pub async fn insert_staff(db: &impl TransactionTrait, actor: &Actor, new: NewStaff) -> Result<Staff> {
    let hash = password::hash(new.password).await?;
    let txn = db.begin().await?;
    let role = find_role(&txn, new.role_id).await?;
    ensure_email_free(&txn, new.email.as_str(), None).await?;
    let now = OffsetDateTime::now_utc();
    let row = staff::ActiveModel {
        name: Set(new.name),
        email: Set(new.email.into_inner()),
        password_hash: Set(hash),
        role_id: Set(role.id),
        active: Set(true),
        last_login_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(email_conflict)?;
    let api = to_api(&row, &role.name);
    audit::record(&txn, actor, Change::new("staff.created", "staff", row.id).after(&api)).await?;
    txn.commit().await?;
    Ok(api)
}

/// The unique index catches a concurrent insert of the same e-mail.
pub fn email_conflict(err: sea_orm::DbErr) -> Error {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::refused(ErrorCode::EmailTaken, "A staff member with this e-mail already exists."),
        _ => Error::from(err),
    }
}

pub async fn find_visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<staff::Model> {
    visible(db, user, id, Read::Plain).await
}

/// [`find_visible`], locking the row until the transaction ends (write paths use this).
pub async fn lock_visible(txn: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<staff::Model> {
    visible(txn, user, id, Read::ForUpdate).await
}

pub async fn visible(db: &impl ConnectionTrait, user: &AuthUser, id: i32, read: Read) -> Result<staff::Model> {
    let scope = user.view_scope(Module::Staff)?;
    if matches!(scope, ViewScope::Own(me) if me != id) {
        return Err(Error::not_found("staff member"));
    }
    read.apply(staff::Entity::find_by_id(id)).one(db).await?.ok_or_else(|| Error::not_found("staff member"))
}

/// Fails when `staff_id` is the last active administrator and the change would remove that.
pub async fn keep_an_admin(db: &impl ConnectionTrait, staff_id: i32) -> Result<()> {
    let admin_roles: Vec<i32> = role::Entity::find().filter(role::Column::IsAdmin.eq(true)).all(db).await?.into_iter().map(|r| r.id).collect();
    let others = staff::Entity::find()
        .filter(staff::Column::RoleId.is_in(admin_roles))
        .filter(staff::Column::Active.eq(true))
        .filter(staff::Column::Id.ne(staff_id))
        .count(db)
        .await?;
    if others == 0 {
        return Err(Error::refused(ErrorCode::LastAdministrator, "This is the last active administrator; appoint another one first."));
    }
    Ok(())
}

pub async fn revoke_sessions(db: &impl ConnectionTrait, staff_id: i32) -> Result<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(OffsetDateTime::now_utc()))
        .filter(refresh_token::Column::StaffId.eq(staff_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
