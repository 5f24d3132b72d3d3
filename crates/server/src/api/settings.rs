//! `/api/v1/settings` (company details, proposal numbering and defaults, conversion switches)
//! and `/api/v1/email-templates`.

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{AppSettings, AppSettingsPatch, EmailTemplate, EmailTemplateInput, Page, Problem};
use crmconnect_domain::permissions::{Action, Module};
use crmconnect_domain::validation::{parse_name, Validator};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::db::{self, Read};
use crate::email;
use crate::entities::email_template;
use crate::extract::Json;
use crate::pagination::{SinceParams, WholeList};
use crate::problem::{ApiError, ApiResult};
use crate::settings;
use crate::state::AppState;

/// Company settings (settings: view).
#[utoipa::path(get, path = "/api/v1/settings", operation_id = "getSettings", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = AppSettings), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    user.view_scope(Module::Settings)?;
    Ok(HttpResponse::Ok().json(settings::load(&state.db).await?))
}

/// Change settings: the fields sent change (settings: edit).
#[utoipa::path(patch, path = "/api/v1/settings", operation_id = "updateSettings", tag = "settings", security(("bearer" = [])), params(IfMatchHeader), request_body = AppSettingsPatch,
    responses((status = 200, body = AppSettings), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(state: web::Data<AppState>, user: AuthUser, if_match: IfMatch, body: Json<AppSettingsPatch>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    db::lock_document(&txn, "settings").await?;
    let before = settings::load(&txn).await?;
    if_match.check(&before)?;
    let after = settings::update(&txn, &body.0).await?;
    let mut change = Change::new("settings.updated", "settings", 0).before(&before).after(&after);
    change.entity_id = None;
    audit::record(&txn, &user.actor(), change).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

fn template_to_api(t: &email_template::Model) -> EmailTemplate {
    EmailTemplate {
        id: t.id,
        slug: t.slug.clone(),
        name: t.name.clone(),
        subject: t.subject.clone(),
        body: t.body.clone(),
        merge_fields: email::merge_fields(&t.slug),
    }
}

/// E-mail templates with their merge fields (settings: view).
#[utoipa::path(get, path = "/api/v1/email-templates", operation_id = "listEmailTemplates", tag = "settings", security(("bearer" = [])), params(WholeList, SinceParams),
    responses((status = 200, body = Page<EmailTemplate>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_email_templates(
    state: web::Data<AppState>,
    user: AuthUser,
    since: web::Query<SinceParams>,
    whole: web::Query<WholeList>,
) -> ApiResult<HttpResponse> {
    whole.check()?;
    user.view_scope(Module::Settings)?;
    let changed = since.condition(email_template::Column::CreatedAt, email_template::Column::UpdatedAt)?;
    let rows = email_template::Entity::find().filter(changed).order_by_asc(email_template::Column::Slug).all(&state.db).await?;
    Ok(HttpResponse::Ok().json(Page { items: rows.iter().map(template_to_api).collect::<Vec<_>>(), next_cursor: None }))
}

/// Edit a template; a syntax error is refused with the line it is on (settings: edit).
#[utoipa::path(patch, path = "/api/v1/email-templates/{id}", operation_id = "updateEmailTemplate", tag = "settings", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader),
    request_body = EmailTemplateInput,
    responses((status = 200, body = EmailTemplate), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_email_template(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i32>,
    if_match: IfMatch,
    body: Json<EmailTemplateInput>,
) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let mut v = Validator::new();
    let name = body.0.name.as_deref().and_then(|n| v.check("name", parse_name(n, 200)));
    let subject = body.0.subject.as_deref().and_then(|s| v.check("subject", parse_name(s, 500)));
    for (field, value) in [("subject", &subject), ("body", &body.0.body)] {
        if let Some(Err(e)) = value.as_deref().map(email::check_template) {
            v.push(field, "invalid_template", e);
        }
    }
    if body.0.body.as_ref().is_some_and(|b| b.trim().is_empty()) {
        v.push("body", "required", "the body cannot be empty");
    }
    v.finish().map_err(ApiError::validation)?;
    let txn = db::begin_write(&state.db).await?;
    let current = Read::ForUpdate.apply(email_template::Entity::find_by_id(*id)).one(&txn).await?.ok_or_else(|| ApiError::not_found("e-mail template"))?;
    let before = template_to_api(&current);
    if_match.check(&before)?;
    let mut row: email_template::ActiveModel = current.into();
    if let Some(n) = name {
        row.name = Set(n);
    }
    if let Some(s) = subject {
        row.subject = Set(s);
    }
    if let Some(b) = &body.0.body {
        row.body = Set(b.clone());
    }
    row.updated_at = Set(OffsetDateTime::now_utc());
    let api = template_to_api(&row.update(&txn).await?);
    audit::record(&txn, &user.actor(), Change::new("email_template.updated", "email_template", api.id).before(&before).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(api))
}
