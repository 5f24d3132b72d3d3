//! Who is calling, and may they? [`AuthUser`] is the one guard every protected endpoint takes.

pub mod jwt;
pub mod password;
pub mod secrets;
pub mod throttle;

use crmconnect_domain::permissions::{Action, Module, PermissionSet, ViewScope};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use time::OffsetDateTime;

use crate::audit::Actor;
use crate::entities::{api_token, role, staff};
use crate::error::{Error, ErrorCode, Result};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// A JWT from `/auth/login`.
    Session,
    /// A personal API token (its id).
    ApiToken(i32),
}

/// The authenticated caller: an active staff member, with their effective permissions.
/// Loaded from the database on every request, so a role change or deactivation applies at once.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub staff: staff::Model,
    pub role: role::Model,
    pub permissions: PermissionSet,
    pub method: AuthMethod,
    pub ip: Option<String>,
}

impl AuthUser {
    pub fn id(&self) -> i32 {
        self.staff.id
    }

    pub fn require(&self, module: Module, action: Action) -> Result<()> {
        self.require_any(module, &[action])
    }

    /// One of `actions` on `module` (e.g. issuing an invoice: `edit`, or `create` for one's own).
    pub fn require_any(&self, module: Module, actions: &[Action]) -> Result<()> {
        if actions.iter().any(|a| self.permissions.allows(module, *a)) {
            return Ok(());
        }
        let names: Vec<&str> = actions.iter().map(|a| a.as_str()).collect();
        Err(Error::forbidden(format!("Your role does not grant `{}` on `{}`.", names.join("` or `"), module.as_str())))
    }

    /// What the caller may read in `module`; lists filter by it, single reads check it.
    pub fn view_scope(&self, module: Module) -> Result<ViewScope> {
        self.permissions
            .view_scope(module, self.staff.id)
            .ok_or_else(|| Error::forbidden(format!("Your role does not grant `view` or `view_own` on `{}`.", module.as_str())))
    }

    /// Account management (API tokens) needs a real sign-in, not another API token.
    pub fn require_session(&self) -> Result<()> {
        match self.method {
            AuthMethod::Session => Ok(()),
            AuthMethod::ApiToken(_) => Err(Error::refused(ErrorCode::SessionRequired, "API tokens cannot manage API tokens; sign in instead.")),
        }
    }

    pub fn actor(&self) -> Actor {
        Actor {
            staff_id: Some(self.staff.id),
            api_token_id: match self.method {
                AuthMethod::ApiToken(id) => Some(id),
                AuthMethod::Session => None,
            },
            ip: self.ip.clone(),
        }
    }
}

fn invalid_token() -> Error {
    Error::refused(ErrorCode::InvalidToken, "The token is invalid, expired or revoked.")
}

/// Who holds `token` (a session JWT or a personal API token), if it is valid and its owner active.
pub async fn authenticate(state: &AppState, token: &str, ip: Option<String>) -> Result<AuthUser> {
    let now = OffsetDateTime::now_utc();
    let (staff_id, method, scopes) = if token.starts_with(secrets::API_TOKEN_PREFIX) {
        let row = api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(secrets::hash_secret(token)))
            .one(&state.db)
            .await?
            .filter(|t| t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > now))
            .ok_or_else(invalid_token)?;
        let scopes: Vec<String> = serde_json::from_value(row.scopes.clone()).map_err(Error::internal)?;
        let scopes = PermissionSet::from_scopes(&scopes).map_err(|e| Error::internal(anyhow::anyhow!("{e}")))?;
        touch_api_token(state, &row, now).await?;
        (row.staff_id, AuthMethod::ApiToken(row.id), Some(scopes))
    } else {
        let id = state.jwt.verify(token).ok_or_else(invalid_token)?;
        (id, AuthMethod::Session, None)
    };
    let staff = staff::Entity::find_by_id(staff_id).one(&state.db).await?.filter(|s| s.active).ok_or_else(invalid_token)?;
    let role =
        role::Entity::find_by_id(staff.role_id).one(&state.db).await?.ok_or_else(|| Error::internal(anyhow::anyhow!("staff {} has no role", staff.id)))?;
    let role_permissions = role_permissions(&role)?;
    let permissions = match scopes {
        Some(scopes) => role_permissions.intersect(&scopes),
        None => role_permissions,
    };
    Ok(AuthUser { staff, role, permissions, method, ip })
}

/// An administrator's role grants everything, whatever its stored table says.
pub fn role_permissions(role: &role::Model) -> Result<PermissionSet> {
    if role.is_admin {
        return Ok(PermissionSet::everything());
    }
    serde_json::from_value(role.permissions.clone()).map_err(Error::internal)
}

/// Records use at most once a minute, so a busy integration does not write on every call.
async fn touch_api_token(state: &AppState, row: &api_token::Model, now: OffsetDateTime) -> Result<()> {
    if row.last_used_at.is_some_and(|t| now - t < time::Duration::minutes(1)) {
        return Ok(());
    }
    api_token::Entity::update_many()
        .col_expr(api_token::Column::LastUsedAt, sea_orm::sea_query::Expr::value(now))
        .filter(api_token::Column::Id.eq(row.id))
        .exec(&state.db)
        .await?;
    Ok(())
}
