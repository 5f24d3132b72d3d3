//! Expenses (`/api/v1/expenses`), their categories (`/api/v1/expense-categories`, managed like
//! the other settings lists) and the files attached to them (the scanned receipt). Permission
//! `expenses`; "view own" = the expenses one spent or recorded.

use actix_multipart::Multipart;
use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{Expense, ExpenseAttachment, ExpenseCategory, ExpenseCategoryInput, ExpenseInput, Page, Problem};
use crmconnect_domain::permissions::{Action, Module};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, Order, QueryFilter, QueryOrder};
use serde::Deserialize;
use time::{Date, OffsetDateTime};
use utoipa::IntoParams;

use super::attachments::{dir, file_response, keep, receive, AttachmentUpload};
use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::db::{self, Read};
use crate::entities::{expense, expense_attachment, expense_category as category};
use crate::extract::Json;
use crate::ops::expenses::*;
use crate::pagination::{finish_page, Keys, PageParams, SinceParams, WholeList};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

// ---------------------------------------------------------------------------------------------
// Categories

/// Two requests adding the same name at once: the unique index decides, the loser is told.
fn name_taken(e: sea_orm::DbErr) -> ApiError {
    if crate::ops::commissions::is_unique_violation(&e) {
        ApiError::new(ErrorCode::NameTaken, "A category with this name already exists.")
    } else {
        e.into()
    }
}

fn category_to_api(c: &category::Model) -> ExpenseCategory {
    ExpenseCategory { id: c.id, name: c.name.clone(), created_at: c.created_at, updated_at: c.updated_at }
}

/// Expense categories, by name.
#[utoipa::path(get, path = "/api/v1/expense-categories", operation_id = "listExpenseCategories", tag = "expenses", security(("bearer" = [])),
    params(WholeList, SinceParams),
    responses((status = 200, body = Page<ExpenseCategory>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_categories(
    state: web::Data<AppState>,
    user: AuthUser,
    since: web::Query<SinceParams>,
    whole: web::Query<WholeList>,
) -> ApiResult<HttpResponse> {
    whole.check()?;
    user.view_scope(Module::Expenses)?;
    let changed = since.condition(category::Column::CreatedAt, category::Column::UpdatedAt)?;
    let rows = category::Entity::find().filter(changed).order_by_asc(category::Column::Name).all(&state.db).await?;
    Ok(HttpResponse::Ok().json(Page { items: rows.iter().map(category_to_api).collect::<Vec<_>>(), next_cursor: None }))
}

/// Add an expense category.
#[utoipa::path(post, path = "/api/v1/expense-categories", operation_id = "createExpenseCategory", tag = "expenses", security(("bearer" = [])),
    request_body = ExpenseCategoryInput,
    responses((status = 201, body = ExpenseCategory), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_category(state: web::Data<AppState>, user: AuthUser, body: Json<ExpenseCategoryInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let name = check_category_name(&body.0.name)?;
    let txn = db::begin_write(&state.db).await?;
    if category::Entity::find().filter(category::Column::Name.eq(name.as_str())).one(&txn).await?.is_some() {
        return Err(ApiError::new(ErrorCode::NameTaken, format!("The category `{name}` already exists.")));
    }
    let now = OffsetDateTime::now_utc();
    let saved =
        category::ActiveModel { name: Set(name), created_at: Set(now), updated_at: Set(now), ..Default::default() }.insert(&txn).await.map_err(name_taken)?;
    audit::record(&txn, &user.actor(), Change::new("expense_category.created", "expense_category", saved.id).after(&category_to_api(&saved))).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(category_to_api(&saved)))
}

/// Rename an expense category.
#[utoipa::path(patch, path = "/api/v1/expense-categories/{id}", operation_id = "updateExpenseCategory", tag = "expenses", security(("bearer" = [])),
    params(("id" = i32, Path), IfMatchHeader), request_body = ExpenseCategoryInput,
    responses((status = 200, body = ExpenseCategory), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_category(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i32>,
    if_match: IfMatch,
    body: Json<ExpenseCategoryInput>,
) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let name = check_category_name(&body.0.name)?;
    let txn = db::begin_write(&state.db).await?;
    let current = Read::ForUpdate.apply(category::Entity::find_by_id(*id)).one(&txn).await?.ok_or_else(|| ApiError::not_found("expense category"))?;
    let before = category_to_api(&current);
    if_match.check(&before)?;
    if category::Entity::find().filter(category::Column::Name.eq(name.as_str())).filter(category::Column::Id.ne(current.id)).one(&txn).await?.is_some() {
        return Err(ApiError::new(ErrorCode::NameTaken, format!("The category `{name}` already exists.")));
    }
    let mut row: category::ActiveModel = current.into();
    row.name = Set(name);
    row.updated_at = Set(OffsetDateTime::now_utc());
    let after = category_to_api(&row.update(&txn).await.map_err(name_taken)?);
    audit::record(&txn, &user.actor(), Change::new("expense_category.updated", "expense_category", after.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Delete a category no expense uses.
#[utoipa::path(delete, path = "/api/v1/expense-categories/{id}", operation_id = "deleteExpenseCategory", tag = "expenses", security(("bearer" = [])),
    params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`in_use`", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_category(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = Read::ForUpdate.apply(category::Entity::find_by_id(*id)).one(&txn).await?.ok_or_else(|| ApiError::not_found("expense category"))?;
    if expense::Entity::find().filter(expense::Column::CategoryId.eq(current.id)).one(&txn).await?.is_some() {
        return Err(ApiError::new(ErrorCode::InUse, "Expenses use this category."));
    }
    category::Entity::delete_by_id(current.id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("expense_category.deleted", "expense_category", current.id).before(&category_to_api(&current))).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------------------------------------
// Expenses

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExpenseFilter {
    pub category_id: Option<i32>,
    pub staff_id: Option<i32>,
    pub client_id: Option<i32>,
    /// Spent on or after this day.
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<Date>,
    /// Spent on or before this day.
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<Date>,
}

/// Expenses, newest first.
#[utoipa::path(get, path = "/api/v1/expenses", operation_id = "listExpenses", tag = "expenses", security(("bearer" = [])), params(ExpenseFilter, PageParams),
    responses((status = 200, body = Page<Expense>), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: a filter value is invalid; see `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, filter: web::Query<ExpenseFilter>, page: web::Query<PageParams>) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Expenses)?;
    let page = page.parse()?;
    let keys = Keys { id: expense::Column::Id, created_at: expense::Column::CreatedAt, updated_at: expense::Column::UpdatedAt };
    let mut q = page.select(expense::Entity::find().filter(visible_condition(scope)), keys, Order::Desc);
    if let Some(id) = filter.category_id {
        q = q.filter(expense::Column::CategoryId.eq(id));
    }
    if let Some(id) = filter.staff_id {
        q = q.filter(expense::Column::StaffId.eq(id));
    }
    if let Some(id) = filter.client_id {
        q = q.filter(expense::Column::ClientId.eq(id));
    }
    if let Some(from) = filter.from {
        q = q.filter(expense::Column::Date.gte(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(expense::Column::Date.lte(to));
    }
    let (rows, next_cursor) = finish_page(q.all(&state.db).await?, page, |e| (e.id, e.updated_at));
    Ok(HttpResponse::Ok().json(Page { items: to_api_many(&state.db, &rows).await?, next_cursor }))
}

async fn one(db: &impl sea_orm::ConnectionTrait, e: &expense::Model) -> ApiResult<Expense> {
    Ok(to_api_many(db, std::slice::from_ref(e)).await?.remove(0))
}

/// Record an expense: `amount` before tax, `tax_ids` add their taxes, `staff_id` defaults to you.
#[utoipa::path(post, path = "/api/v1/expenses", operation_id = "createExpense", tag = "expenses", security(("bearer" = [])), request_body = ExpenseInput,
    responses((status = 201, body = Expense), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Json<ExpenseInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Expenses, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let now = OffsetDateTime::now_utc();
    let mut row = expense::ActiveModel { created_by: Set(Some(user.id())), created_at: Set(now), commission_receipt_id: Set(None), ..Default::default() };
    apply(&txn, &user, &mut row, None, &body.0).await?;
    let saved = row.insert(&txn).await?;
    let api = one(&txn, &saved).await?;
    audit::record(&txn, &user.actor(), Change::new("expense.created", "expense", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// One expense.
#[utoipa::path(get, path = "/api/v1/expenses/{id}", operation_id = "getExpense", tag = "expenses", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Expense), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let e = find_visible(&state.db, &user, *id, Read::Plain).await?;
    Ok(HttpResponse::Ok().json(one(&state.db, &e).await?))
}

/// Change an expense: only the fields sent change; `null` clears.
#[utoipa::path(patch, path = "/api/v1/expenses/{id}", operation_id = "updateExpense", tag = "expenses", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader),
    request_body = ExpenseInput,
    responses((status = 200, body = Expense), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, if_match: IfMatch, body: Json<ExpenseInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Expenses, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = find_visible(&txn, &user, *id, Read::ForUpdate).await?;
    let before = one(&txn, &current).await?;
    if_match.check(&before)?;
    let mut row: expense::ActiveModel = current.clone().into();
    apply(&txn, &user, &mut row, Some(&current), &body.0).await?;
    let after = one(&txn, &row.update(&txn).await?).await?;
    audit::record(&txn, &user.actor(), Change::new("expense.updated", "expense", after.id).before(&before).after(&after)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Delete an expense and its files.
#[utoipa::path(delete, path = "/api/v1/expenses/{id}", operation_id = "deleteExpense", tag = "expenses", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Expenses, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let current = find_visible(&txn, &user, *id, Read::ForUpdate).await?;
    let before = one(&txn, &current).await?;
    let files = expense_attachment::Entity::find().filter(expense_attachment::Column::ExpenseId.eq(current.id)).all(&txn).await?;
    expense::Entity::delete_by_id(current.id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("expense.deleted", "expense", current.id).before(&before)).await?;
    txn.commit().await?;
    for f in files {
        if let Err(e) = tokio::fs::remove_file(dir(&state).join(&f.storage_key)).await {
            tracing::warn!(expense_attachment = f.id, error = %e, "expense deleted but a file of it could not be removed");
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------------------------------------
// Attachments

/// Attach a file (the scanned receipt) to an expense: multipart/form-data, field `file`, at most 10 MiB.
#[utoipa::path(post, path = "/api/v1/expenses/{id}/attachments", operation_id = "uploadExpenseAttachment", tag = "expenses", security(("bearer" = [])),
    params(("id" = i32, Path)), request_body(content = AttachmentUpload, content_type = "multipart/form-data", description = "A `file` field"),
    responses((status = 201, body = ExpenseAttachment), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json")))]
pub async fn upload(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, payload: Multipart) -> ApiResult<HttpResponse> {
    user.require(Module::Expenses, Action::Edit)?;
    let e = find_visible(&state.db, &user, *id, Read::Plain).await?;
    let up = receive(&state, payload).await?;
    let saved = keep(&state, &up, async |txn, key| {
        let saved = expense_attachment::ActiveModel {
            expense_id: Set(e.id),
            file_name: Set(up.file_name.clone()),
            content_type: Set(up.content_type.clone()),
            size_bytes: Set(up.size as i64),
            storage_key: Set(key),
            uploaded_by: Set(Some(user.id())),
            created_at: Set(OffsetDateTime::now_utc()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        audit::record(txn, &user.actor(), Change::new("expense.attachment_added", "expense", e.id).after(&attachment_to_api(&saved))).await?;
        Ok(saved)
    })
    .await?;
    Ok(HttpResponse::Created().json(attachment_to_api(&saved)))
}

/// An expense's files.
#[utoipa::path(get, path = "/api/v1/expenses/{id}/attachments", operation_id = "listExpenseAttachments", tag = "expenses", security(("bearer" = [])),
    params(("id" = i32, Path), SinceParams),
    responses((status = 200, body = Page<ExpenseAttachment>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_attachments(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, since: web::Query<SinceParams>) -> ApiResult<HttpResponse> {
    let e = find_visible(&state.db, &user, *id, Read::Plain).await?;
    // Files are never edited: their upload is their last change.
    let changed = since.condition(expense_attachment::Column::CreatedAt, expense_attachment::Column::CreatedAt)?;
    let rows = expense_attachment::Entity::find()
        .filter(expense_attachment::Column::ExpenseId.eq(e.id))
        .filter(changed)
        .order_by_asc(expense_attachment::Column::Id)
        .all(&state.db)
        .await?;
    Ok(HttpResponse::Ok().json(Page { items: rows.iter().map(attachment_to_api).collect::<Vec<_>>(), next_cursor: None }))
}

async fn find_attachment(state: &AppState, user: &AuthUser, expense_id: i32, attachment_id: i32) -> ApiResult<expense_attachment::Model> {
    let e = find_visible(&state.db, user, expense_id, Read::Plain).await?;
    expense_attachment::Entity::find_by_id(attachment_id)
        .filter(expense_attachment::Column::ExpenseId.eq(e.id))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("attachment"))
}

/// Download a file of an expense.
#[utoipa::path(get, path = "/api/v1/expenses/{id}/attachments/{attachment_id}", operation_id = "downloadExpenseAttachment", tag = "expenses", security(("bearer" = [])),
    params(("id" = i32, Path), ("attachment_id" = i32, Path)),
    responses((status = 200, description = "The file, with the content type it was uploaded with", content_type = "*/*"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn download(state: web::Data<AppState>, user: AuthUser, path: web::Path<(i32, i32)>) -> ApiResult<HttpResponse> {
    let (expense_id, attachment_id) = path.into_inner();
    let a = find_attachment(&state, &user, expense_id, attachment_id).await?;
    file_response(&state, &a.storage_key, &a.file_name, &a.content_type).await
}

/// Remove a file of an expense.
#[utoipa::path(delete, path = "/api/v1/expenses/{id}/attachments/{attachment_id}", operation_id = "deleteExpenseAttachment", tag = "expenses", security(("bearer" = [])),
    params(("id" = i32, Path), ("attachment_id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_attachment(state: web::Data<AppState>, user: AuthUser, path: web::Path<(i32, i32)>) -> ApiResult<HttpResponse> {
    user.require(Module::Expenses, Action::Edit)?;
    let (expense_id, attachment_id) = path.into_inner();
    let a = find_attachment(&state, &user, expense_id, attachment_id).await?;
    let txn = db::begin_write(&state.db).await?;
    expense_attachment::Entity::delete_by_id(a.id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("expense.attachment_removed", "expense", expense_id).before(&attachment_to_api(&a))).await?;
    txn.commit().await?;
    if let Err(e) = tokio::fs::remove_file(dir(&state).join(&a.storage_key)).await {
        tracing::warn!(expense_attachment = a.id, error = %e, "attachment row deleted but its file could not be removed");
    }
    Ok(HttpResponse::NoContent().finish())
}
