//! Sign-in, token refresh and sign-out; `GET /me`.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use crmconnect_domain::api::{ChangePasswordRequest, LoginRequest, Me, Problem, RefreshRequest, Staff, TokenResponse, UpdateProfile};
use crmconnect_domain::validation::EmailAddress;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use time::{Duration, OffsetDateTime};

use crate::audit::{self, Actor, Change};
use crate::auth::{password, secrets, throttle, AuthUser};
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::db;
use crate::entities::{refresh_token, staff};
use crate::error::Error;
use crate::extract::peer_ip;
use crate::extract::Json;
use crate::ops::staff::{change_own_password, me_of, update_profile};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

/// Refresh tokens live 30 days and are single-use (rotated on every refresh).
pub const REFRESH_TOKEN_TTL: Duration = Duration::days(30);

/// The browser keeps its refresh token in this cookie: HttpOnly (no script reads it),
/// SameSite=Strict (no other site sends it), scoped to the auth endpoints, Secure under https.
pub const REFRESH_COOKIE: &str = "crm_refresh";
const REFRESH_COOKIE_PATH: &str = "/api/v1/auth";

/// Admits one password check for `email` from `ip`: argon2 is deliberately costly (~19 MiB
/// each), so a bounded number run at once and a burst beyond that is told to come back
/// (checked first, so a request turned away is not taken for a failed guess); then the attempt
/// is counted, or refused while this account and address must wait. Hold the permit while
/// the password is checked.
async fn begin_password_check(
    state: &AppState,
    email: &str,
    ip: Option<&str>,
    now: OffsetDateTime,
) -> ApiResult<(tokio::sync::OwnedSemaphorePermit, throttle::Attempt)> {
    let Ok(permit) = state.password_checks.clone().try_acquire_owned() else {
        return Err(ApiError::new(ErrorCode::RateLimited, "The server is busy checking passwords; try again in a second.").with_retry_after(1));
    };
    match throttle::admit(&state.db, email, ip, now).await? {
        throttle::Admission::Admitted(attempt) => Ok((permit, attempt)),
        throttle::Admission::Refused { retry_after } => {
            let secs = retry_after.whole_seconds().max(1).unsigned_abs();
            Err(ApiError::new(ErrorCode::TooManyLoginAttempts, format!("Too many wrong passwords; try again in {secs} seconds.")).with_retry_after(secs))
        }
    }
}

fn refresh_cookie(state: &AppState, value: &str, max_age: Duration) -> Cookie<'static> {
    Cookie::build(REFRESH_COOKIE, value.to_string())
        .path(REFRESH_COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.settings.public_url.starts_with("https://"))
        .max_age(actix_web::cookie::time::Duration::seconds(max_age.whole_seconds()))
        .finish()
}

/// A new session's answer: the tokens in the body (API clients) and the refresh token in the
/// cookie (the browser app, which keeps the access token in memory only).
fn session_response(state: &AppState, tokens: &TokenResponse) -> HttpResponse {
    HttpResponse::Ok().cookie(refresh_cookie(state, &tokens.refresh_token, REFRESH_TOKEN_TTL)).json(tokens)
}

/// Where a refresh or logout found its token.
enum Presented {
    Body(String),
    Cookie(String),
}

impl Presented {
    fn token(&self) -> &str {
        match self {
            Presented::Body(t) | Presented::Cookie(t) => t,
        }
    }
}

/// The refresh token of a refresh or logout: the body's, else the cookie's.
fn presented_refresh_token(req: &HttpRequest, body: &RefreshRequest) -> Option<Presented> {
    let in_body = body.refresh_token.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(|t| Presented::Body(t.to_string()));
    in_body.or_else(|| req.cookie(REFRESH_COOKIE).map(|c| c.value().to_string()).filter(|t| !t.is_empty()).map(Presented::Cookie))
}

/// A refresh answered from the cookie keeps the new refresh token in the cookie only: script on
/// the page (which can call this endpoint) must never read it from the body.
fn cookie_only(presented: &Presented, mut tokens: TokenResponse) -> TokenResponse {
    if matches!(presented, Presented::Cookie(_)) {
        tokens.refresh_token = String::new();
    }
    tokens
}

fn refresh_response(state: &AppState, presented: &Presented, tokens: TokenResponse) -> HttpResponse {
    HttpResponse::Ok().cookie(refresh_cookie(state, &tokens.refresh_token, REFRESH_TOKEN_TTL)).json(cookie_only(presented, tokens))
}

/// Sign in with e-mail and password.
///
/// Failed attempts are throttled per account and per IP (429 with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/auth/login", operation_id = "login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "`invalid_credentials`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_login_attempts` (with `Retry-After`), or `rate_limited` when too many sign-ins are being checked at once", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn login(state: web::Data<AppState>, req: HttpRequest, body: Json<LoginRequest>) -> ApiResult<HttpResponse> {
    let LoginRequest { email, password: given } = body.0;
    let email = EmailAddress::parse(&email).map_err(|p| ApiError::field("email", p.code, p.message))?;
    if given.is_empty() {
        return Err(ApiError::field("password", "required", "password is required"));
    }
    let ip = peer_ip(&req);
    let now = OffsetDateTime::now_utc();
    let (_permit, attempt) = begin_password_check(&state, email.as_str(), ip.as_deref(), now).await?;

    let account = staff::Entity::find().filter(staff::Column::Email.eq(email.as_str())).one(&state.db).await?.filter(|s| s.active);
    let ok = password::verify(given, account.as_ref().map(|s| s.password_hash.clone())).await?;
    let Some(account) = account.filter(|_| ok) else {
        tracing::info!(ip = ?ip, "failed sign-in");
        return Err(ApiError::new(ErrorCode::InvalidCredentials, "The e-mail or password is wrong."));
    };

    let txn = db::begin_write(&state.db).await?;
    throttle::succeeded(&txn, attempt).await?;
    staff::Entity::update_many().col_expr(staff::Column::LastLoginAt, Expr::value(now)).filter(staff::Column::Id.eq(account.id)).exec(&txn).await?;
    let tokens = issue_tokens(&state, &txn, account.id, now).await?;
    let actor = Actor { staff_id: Some(account.id), api_token_id: None, ip };
    audit::record(&txn, &actor, Change::new("auth.login", "staff", account.id)).await?;
    txn.commit().await?;
    Ok(session_response(&state, &tokens))
}

async fn issue_tokens(state: &AppState, db: &impl ConnectionTrait, staff_id: i32, now: OffsetDateTime) -> ApiResult<TokenResponse> {
    Ok(issue_session(state, db, staff_id, now).await?.0)
}

/// A new access token and refresh token, and the refresh token's row id.
async fn issue_session(state: &AppState, db: &impl ConnectionTrait, staff_id: i32, now: OffsetDateTime) -> ApiResult<(TokenResponse, i32)> {
    let refresh = secrets::random_secret();
    let inserted = refresh_token::Entity::insert(refresh_token::ActiveModel {
        staff_id: Set(staff_id),
        token_hash: Set(secrets::hash_secret(&refresh)),
        expires_at: Set(now + REFRESH_TOKEN_TTL),
        revoked_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    })
    .exec(db)
    .await?;
    let (access_token, expires_in) = state.jwt.issue(staff_id).map_err(ApiError::internal)?;
    Ok((TokenResponse { access_token, refresh_token: refresh, token_type: "Bearer".into(), expires_in }, inserted.last_insert_id))
}

/// How long after a rotation the old refresh token still counts as a race rather than a replay.
pub const REUSE_GRACE: Duration = Duration::seconds(30);

/// Whether a spent refresh token is being presented by a request that raced with its own
/// rotation moments ago (two tabs loading together share one cookie), not replayed by a thief:
/// it was rotated (not signed out) within [`REUSE_GRACE`], and its successor is still live
/// (a password change or sign-out since then ends the grace).
async fn raced_with_rotation(db: &impl ConnectionTrait, spent: &refresh_token::Model, now: OffsetDateTime) -> ApiResult<bool> {
    let (Some(successor), Some(revoked_at)) = (spent.replaced_by_id, spent.revoked_at) else { return Ok(false) };
    if now - revoked_at >= REUSE_GRACE {
        return Ok(false);
    }
    Ok(refresh_token::Entity::find_by_id(successor).one(db).await?.is_some_and(|s| s.revoked_at.is_none() && s.expires_at > now))
}

fn invalid_refresh() -> ApiError {
    ApiError::new(ErrorCode::InvalidRefreshToken, "The refresh token is invalid, expired or already used; sign in again.")
}

/// Exchange a refresh token for a new access token and a new refresh token.
///
/// The old refresh token stops working. Presenting an already-used token revokes every
/// session of that account (it was probably stolen) — unless it was rotated less than 30
/// seconds ago and its successor is live: that is two requests (two tabs) racing, and both
/// get a session.
#[utoipa::path(post, path = "/api/v1/auth/refresh", operation_id = "refreshTokens", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "`invalid_refresh_token`", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn refresh(state: web::Data<AppState>, req: HttpRequest, body: Json<RefreshRequest>) -> ApiResult<HttpResponse> {
    let now = OffsetDateTime::now_utc();
    let presented = presented_refresh_token(&req, &body.0).ok_or_else(invalid_refresh)?;
    let hash = secrets::hash_secret(presented.token());
    let txn = db::begin_write(&state.db).await?;
    let row = refresh_token::Entity::find().filter(refresh_token::Column::TokenHash.eq(hash)).one(&txn).await?.ok_or_else(invalid_refresh)?;
    if row.expires_at <= now {
        return Err(invalid_refresh());
    }
    let active = staff::Entity::find_by_id(row.staff_id).one(&txn).await?.is_some_and(|s| s.active);
    if !active {
        return Err(invalid_refresh());
    }
    // Conditional update: of two concurrent refreshes with the same token only one rotates it.
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(row.id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 1 {
        let (tokens, successor) = issue_session(&state, &txn, row.staff_id, now).await?;
        refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::ReplacedById, Expr::value(successor))
            .filter(refresh_token::Column::Id.eq(row.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        return Ok(refresh_response(&state, &presented, tokens));
    }
    // Already spent: read it as it is now (the rotation that won may have just committed).
    let spent = refresh_token::Entity::find_by_id(row.id).one(&txn).await?.ok_or_else(invalid_refresh)?;
    if raced_with_rotation(&txn, &spent, now).await? {
        let tokens = issue_tokens(&state, &txn, row.staff_id, now).await?;
        txn.commit().await?;
        return Ok(refresh_response(&state, &presented, tokens));
    }
    revoke_all_sessions(&txn, row.staff_id, now).await?;
    txn.commit().await?;
    tracing::warn!(staff_id = row.staff_id, "refresh token reused; all sessions revoked");
    Err(invalid_refresh())
}

async fn revoke_all_sessions(db: &impl ConnectionTrait, staff_id: i32, now: OffsetDateTime) -> ApiResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::StaffId.eq(staff_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Sign out: revokes the refresh token. Idempotent; the access token simply expires.
#[utoipa::path(post, path = "/api/v1/auth/logout", operation_id = "logout", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 204, description = "Revoked (or already unusable)"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn logout(state: web::Data<AppState>, req: HttpRequest, body: Json<RefreshRequest>) -> ApiResult<HttpResponse> {
    let now = OffsetDateTime::now_utc();
    let hash = secrets::hash_secret(presented_refresh_token(&req, &body.0).as_ref().map_or("", Presented::token));
    let txn = db::begin_write(&state.db).await?;
    let row =
        refresh_token::Entity::find().filter(refresh_token::Column::TokenHash.eq(hash)).filter(refresh_token::Column::RevokedAt.is_null()).one(&txn).await?;
    if let Some(row) = row {
        refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
            .filter(refresh_token::Column::Id.eq(row.id))
            .exec(&txn)
            .await?;
        let actor = Actor { staff_id: Some(row.staff_id), api_token_id: None, ip: peer_ip(&req) };
        audit::record(&txn, &actor, Change::new("auth.logout", "staff", row.staff_id)).await?;
    }
    txn.commit().await?;
    Ok(HttpResponse::NoContent().cookie(refresh_cookie(&state, "", Duration::ZERO)).finish())
}

/// The signed-in staff member, their role and effective permissions.
#[utoipa::path(get, path = "/api/v1/me", operation_id = "getMe", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, body = Me),
        (status = 401, description = "`unauthenticated` or `invalid_token`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn me(user: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(me_of(&user, &user.staff))
}

/// Change your own password. Needs the current one and a signed-in session (not an API token).
/// Every other session and every API token of the account stop working; the answer is a new
/// session for the caller.
#[utoipa::path(post, path = "/api/v1/me/password", operation_id = "changeOwnPassword", tag = "auth", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`session_required`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`current_password` wrong, or `new_password` too short, too common or unchanged", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_login_attempts` after repeated wrong current passwords (with `Retry-After`), or `rate_limited`", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all, fields(actor = user.id()))]
pub async fn change_password(state: web::Data<AppState>, req: HttpRequest, user: AuthUser, body: Json<ChangePasswordRequest>) -> ApiResult<HttpResponse> {
    let body = body.0;
    let now = OffsetDateTime::now_utc();
    // The current password is checked like a sign-in's (a stolen access token must not be a
    // password oracle), on the same counter.
    let ip = peer_ip(&req);
    let (_permit, attempt) = begin_password_check(&state, &user.staff.email, ip.as_deref(), now).await?;
    let txn = db::begin_write(&state.db).await?;
    match change_own_password(&txn, &user, body.current_password, body.new_password).await {
        Ok(()) => {
            throttle::succeeded(&txn, attempt).await?;
            let tokens = issue_tokens(&state, &txn, user.id(), now).await?;
            txn.commit().await?;
            Ok(session_response(&state, &tokens))
        }
        Err(e) => {
            txn.rollback().await?;
            let wrong_password = matches!(&e, Error::Invalid(errors) if errors.iter().any(|f| f.field == "current_password" && f.code == "wrong"));
            if !wrong_password {
                throttle::forget(&state.db, attempt).await?;
            }
            Err(e.into())
        }
    }
}

/// Edit your own name or e-mail address (the e-mail only from a signed-in session).
#[utoipa::path(patch, path = "/api/v1/me", operation_id = "updateOwnProfile", tag = "auth", security(("bearer" = [])), params(IfMatchHeader), request_body = UpdateProfile,
    responses(
        (status = 200, body = Staff),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`session_required`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`email_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all, fields(actor = user.id()))]
pub async fn update_me(state: web::Data<AppState>, user: AuthUser, if_match: IfMatch, body: Json<UpdateProfile>) -> ApiResult<HttpResponse> {
    let txn = db::begin_write(&state.db).await?;
    let saved: Staff = update_profile(&txn, &user, &if_match, body.0).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(saved))
}
