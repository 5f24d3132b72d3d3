//! Staff: the queries and business operations below the HTTP handlers.

use std::collections::HashMap;

use crmconnect_domain::api::{CreateStaff, Me, RoleSummary, Staff, UpdateProfile, UpdateStaff};
use crmconnect_domain::permissions::{Module, ViewScope};
use crmconnect_domain::validation::{parse_name, EmailAddress, Validator};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait};
use time::OffsetDateTime;

use crate::audit::{self, Actor, Change};
use crate::auth::{password, AuthMethod, AuthUser};
use crate::db::Read;
use crate::entities::{api_token, refresh_token, role, staff};
use crate::error::{Error, ErrorCode, Result};
use crate::etag::IfMatch;

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
        v.check("password", password::policy(&body.password));
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
    // Locking the administrator role rows serialises every change that could remove an
    // administrator: two admins demoting each other at once cannot both pass the count.
    let admin_roles: Vec<i32> =
        Read::ForUpdate.apply(role::Entity::find().filter(role::Column::IsAdmin.eq(true))).all(db).await?.into_iter().map(|r| r.id).collect();
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

/// Only administrators create, edit, reset, deactivate or appoint administrators, and a
/// non-administrator manages only accounts and roles whose permissions are within their own:
/// Staff or Roles permissions must not be a way to become, or take over, someone mightier.
/// Appointing an administrator needs a signed-in session, not an API token.
pub fn ensure_may_manage(user: &AuthUser, role: &role::Model) -> Result<()> {
    if role.is_admin {
        if !user.role.is_admin {
            return Err(Error::forbidden("Only administrators create, edit or appoint administrator accounts."));
        }
        return require_session_for(user, "Administrators are appointed from a signed-in session, not with an API token.");
    }
    if !user.role.is_admin && !crate::auth::role_permissions(role)?.is_within(&user.permissions) {
        return Err(Error::forbidden(format!("The role `{}` grants more than yours; ask an administrator.", role.name)));
    }
    Ok(())
}

fn require_session_for(user: &AuthUser, why: &str) -> Result<()> {
    match user.method {
        AuthMethod::Session => Ok(()),
        AuthMethod::ApiToken(_) => Err(Error::refused(ErrorCode::SessionRequired, why)),
    }
}

/// Signs an account out everywhere: its refresh tokens and its API tokens stop working (an
/// access token already issued lives out its few minutes; a deactivated account is refused at
/// once). Used when its password changes or it is deactivated.
pub async fn revoke_credentials(db: &impl ConnectionTrait, staff_id: i32) -> Result<()> {
    let now = OffsetDateTime::now_utc();
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::StaffId.eq(staff_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(now))
        .filter(api_token::Column::StaffId.eq(staff_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Passwords and e-mail addresses (anyone's) are changed only from a signed-in session, never
/// with an API token: a leaked token must not be able to take accounts over.
fn ensure_session_for_credentials(user: &AuthUser, changes_credentials: bool) -> Result<()> {
    if changes_credentials {
        require_session_for(user, "Passwords and e-mail addresses are changed from a signed-in session, not with an API token.")?;
    }
    Ok(())
}

/// Validated changes to a staff account (`PATCH /staff/{id}`), the password already hashed.
pub struct StaffChanges {
    name: Option<String>,
    email: Option<EmailAddress>,
    password_hash: Option<String>,
    role_id: Option<i32>,
    active: Option<bool>,
}

impl StaffChanges {
    pub async fn parse(body: UpdateStaff) -> Result<Self> {
        let mut v = Validator::new();
        let name = body.name.as_deref().and_then(|n| v.check("name", parse_name(n, NAME_MAX)));
        let email = body.email.as_deref().and_then(|e| v.check("email", EmailAddress::parse(e)));
        if let Some(p) = body.password.as_deref() {
            v.check("password", password::policy(p));
        }
        v.finish().map_err(Error::validation)?;
        let password_hash = match body.password {
            Some(p) => Some(password::hash(p).await?),
            None => None,
        };
        Ok(StaffChanges { name, email, password_hash, role_id: body.role_id, active: body.active })
    }
}

/// Applies `changes` to staff member `id` in `txn`: the privilege rules, the last-administrator
/// rule, and signing the account out everywhere when its password changes or it is deactivated.
pub async fn update(txn: &impl ConnectionTrait, user: &AuthUser, id: i32, if_match: &IfMatch, changes: StaffChanges) -> Result<Staff> {
    ensure_session_for_credentials(user, changes.password_hash.is_some() || changes.email.is_some())?;
    let current = lock_visible(txn, user, id).await?;
    let current_role = find_role(txn, current.role_id).await?;
    ensure_may_manage(user, &current_role)?;
    let before = to_api(&current, &current_role.name);
    if_match.check(&before)?;
    let new_role = match changes.role_id {
        Some(role_id) => find_role(txn, role_id).await?,
        None => current_role.clone(),
    };
    ensure_may_manage(user, &new_role)?;
    let deactivating = changes.active == Some(false) && current.active;
    let losing_admin = current_role.is_admin && (!new_role.is_admin || deactivating);
    if id == user.id() && (deactivating || new_role.id != current_role.id) {
        return Err(Error::refused(ErrorCode::CannotChangeSelf, "You cannot change your own role or deactivate yourself."));
    }
    if losing_admin && current.active {
        keep_an_admin(txn, id).await?;
    }
    if let Some(email) = &changes.email {
        ensure_email_free(txn, email.as_str(), Some(id)).await?;
    }
    let password_changed = changes.password_hash.is_some();
    let mut row: staff::ActiveModel = current.into();
    if let Some(name) = changes.name {
        row.name = Set(name);
    }
    if let Some(email) = changes.email {
        row.email = Set(email.into_inner());
    }
    if let Some(hash) = changes.password_hash {
        row.password_hash = Set(hash);
    }
    row.role_id = Set(new_role.id);
    if let Some(active) = changes.active {
        row.active = Set(active);
    }
    row.updated_at = Set(OffsetDateTime::now_utc());
    let saved = row.update(txn).await.map_err(email_conflict)?;
    if password_changed || deactivating {
        revoke_credentials(txn, id).await?;
    }
    let after = to_api(&saved, &new_role.name);
    let mut change = Change::new("staff.updated", "staff", id).before(&before).after(&after);
    if password_changed {
        change.action = "staff.password_changed";
    }
    audit::record(txn, &user.actor(), change).await?;
    Ok(after)
}

/// Deactivates staff member `id` (nothing is deleted) and signs them out everywhere.
pub async fn deactivate(txn: &impl ConnectionTrait, user: &AuthUser, id: i32) -> Result<()> {
    if id == user.id() {
        return Err(Error::refused(ErrorCode::CannotChangeSelf, "You cannot deactivate yourself."));
    }
    let current = lock_visible(txn, user, id).await?;
    let role = find_role(txn, current.role_id).await?;
    ensure_may_manage(user, &role)?;
    if !current.active {
        return Ok(());
    }
    if role.is_admin {
        keep_an_admin(txn, id).await?;
    }
    let before = to_api(&current, &role.name);
    let mut row: staff::ActiveModel = current.into();
    row.active = Set(false);
    row.updated_at = Set(OffsetDateTime::now_utc());
    let saved = row.update(txn).await?;
    revoke_credentials(txn, id).await?;
    audit::record(txn, &user.actor(), Change::new("staff.deactivated", "staff", id).before(&before).after(&to_api(&saved, &role.name))).await
}

/// The caller changes their own password (`POST /me/password`): only from a signed-in session
/// and with the current password. Every credential of the account is revoked; the caller gets
/// a new session from the HTTP layer.
pub async fn change_own_password(txn: &impl ConnectionTrait, user: &AuthUser, current_password: String, new_password: String) -> Result<()> {
    user.require_session()?;
    let mut v = Validator::new();
    if current_password.is_empty() {
        v.push("current_password", "required", "your current password is required");
    }
    v.check("new_password", password::policy(&new_password));
    if !new_password.is_empty() && new_password == current_password {
        v.push("new_password", "unchanged", "the new password must differ from the current one");
    }
    v.finish().map_err(Error::validation)?;
    let me = Read::ForUpdate.apply(staff::Entity::find_by_id(user.id())).one(txn).await?.ok_or_else(|| Error::not_found("staff member"))?;
    if !password::verify(current_password, Some(me.password_hash.clone())).await? {
        return Err(Error::field("current_password", "wrong", "the current password is wrong"));
    }
    let hash = password::hash(new_password).await?;
    let mut row: staff::ActiveModel = me.into();
    row.password_hash = Set(hash);
    row.updated_at = Set(OffsetDateTime::now_utc());
    row.update(txn).await?;
    revoke_credentials(txn, user.id()).await?;
    audit::record(txn, &user.actor(), Change::new("staff.password_changed", "staff", user.id())).await
}

/// The caller edits their own profile (`PATCH /me`): name, and e-mail from a session only.
/// The caller's profile as `GET /me` shows it, with `staff` as their row now is.
pub fn me_of(user: &AuthUser, staff: &staff::Model) -> Me {
    Me {
        id: staff.id,
        name: staff.name.clone(),
        email: staff.email.clone(),
        role: RoleSummary { id: user.role.id, name: user.role.name.clone(), is_admin: user.role.is_admin },
        permissions: user.permissions.clone(),
        auth_method: match user.method {
            AuthMethod::Session => "session".into(),
            AuthMethod::ApiToken(_) => "api_token".into(),
        },
    }
}

/// Changes the caller's name or e-mail. `If-Match` names the `GET /me` representation.
pub async fn update_profile(txn: &impl ConnectionTrait, user: &AuthUser, if_match: &IfMatch, body: UpdateProfile) -> Result<Staff> {
    let mut v = Validator::new();
    let name = body.name.as_deref().and_then(|n| v.check("name", parse_name(n, NAME_MAX)));
    let email = body.email.as_deref().and_then(|e| v.check("email", EmailAddress::parse(e)));
    v.finish().map_err(Error::validation)?;
    ensure_session_for_credentials(user, email.is_some())?;
    let me = Read::ForUpdate.apply(staff::Entity::find_by_id(user.id())).one(txn).await?.ok_or_else(|| Error::not_found("staff member"))?;
    if let Some(email) = &email {
        ensure_email_free(txn, email.as_str(), Some(me.id)).await?;
    }
    if_match.check(&me_of(user, &me))?;
    let before = to_api(&me, &user.role.name);
    let mut row: staff::ActiveModel = me.into();
    if let Some(name) = name {
        row.name = Set(name);
    }
    if let Some(email) = email {
        row.email = Set(email.into_inner());
    }
    row.updated_at = Set(OffsetDateTime::now_utc());
    let saved = row.update(txn).await.map_err(email_conflict)?;
    let after = to_api(&saved, &user.role.name);
    audit::record(txn, &user.actor(), Change::new("staff.profile_updated", "staff", saved.id).before(&before).after(&after)).await?;
    Ok(after)
}
