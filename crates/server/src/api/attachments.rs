//! Lead attachments: `/api/v1/leads/{id}/attachments` (multipart upload, list, download,
//! delete). Files live under `CRM_DATA_DIR/attachments` with random names; the database row
//! and the file are written together (no orphan files, no rows without files).

use std::path::PathBuf;

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{Attachment, Page, Problem};
use futures_util::StreamExt;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;
use tokio::io::AsyncWriteExt;

use crate::audit::{self, Change};
use crate::auth::{secrets, AuthUser};
use crate::db;
use crate::db::Read;
use crate::entities::attachment;
use crate::pagination::SinceParams;
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;
use crate::visibility::{funnel_record, require_funnel_edit};

/// Largest file accepted.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

pub(super) fn dir(state: &AppState) -> PathBuf {
    state.settings.data_dir.join("attachments")
}

fn to_api(a: &attachment::Model) -> Attachment {
    Attachment {
        id: a.id,
        lead_id: a.lead_id,
        file_name: a.file_name.clone(),
        content_type: a.content_type.clone(),
        size_bytes: a.size_bytes,
        uploaded_by: a.uploaded_by,
        created_at: a.created_at,
    }
}

/// The last path segment, without control characters, at most 255 characters.
fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("").trim();
    let cleaned: String = base.chars().filter(|c| !c.is_control() && *c != '"').take(255).collect();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "file".into()
    } else {
        cleaned
    }
}

fn multipart_error(e: actix_multipart::MultipartError) -> ApiError {
    ApiError::new(ErrorCode::UnsupportedMediaType, format!("Send the file as multipart/form-data in a field named `file` ({e})."))
}

pub(super) struct Upload {
    pub temp: PathBuf,
    pub file_name: String,
    pub content_type: String,
    pub size: usize,
}

/// Streams the `file` field to a temporary file, enforcing the size limit.
pub(super) async fn receive(state: &AppState, mut payload: Multipart) -> ApiResult<Upload> {
    let dir = dir(state);
    tokio::fs::create_dir_all(&dir).await.map_err(ApiError::internal)?;
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(multipart_error)?;
        if field.name() != Some("file") {
            continue;
        }
        let file_name = clean_file_name(field.content_disposition().and_then(|d| d.get_filename()).unwrap_or("file"));
        let content_type = field.content_type().map(|m| m.essence_str().to_string()).unwrap_or_else(|| "application/octet-stream".into());
        let temp = dir.join(format!("upload-{}.part", secrets::random_secret()));
        let mut out = tokio::fs::File::create(&temp).await.map_err(ApiError::internal)?;
        let mut size = 0usize;
        while let Some(chunk) = field.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    let _ = tokio::fs::remove_file(&temp).await;
                    return Err(multipart_error(e));
                }
            };
            size += chunk.len();
            if size > MAX_BYTES {
                drop(out);
                let _ = tokio::fs::remove_file(&temp).await;
                return Err(ApiError::new(ErrorCode::PayloadTooLarge, format!("Attachments are limited to {} MiB.", MAX_BYTES / 1024 / 1024)));
            }
            out.write_all(&chunk).await.map_err(ApiError::internal)?;
        }
        out.flush().await.map_err(ApiError::internal)?;
        return Ok(Upload { temp, file_name, content_type, size });
    }
    Err(ApiError::field("file", "required", "send the file in a multipart field named `file`"))
}

/// The upload form: one file.
// For the OpenAPI document only: `receive` reads the multipart stream itself.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AttachmentUpload {
    /// The file, at most 10 MiB; its name and content type are kept.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Upload a file to a lead (multipart/form-data, field `file`, at most 10 MiB).
#[utoipa::path(post, path = "/api/v1/leads/{id}/attachments", operation_id = "uploadLeadAttachment", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body(content = AttachmentUpload, content_type = "multipart/form-data", description = "A `file` field"),
    responses((status = 201, body = Attachment), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json")))]
pub async fn upload(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, payload: Multipart) -> ApiResult<HttpResponse> {
    let l = funnel_record(&state.db, &user, *id, Read::Plain).await?;
    require_funnel_edit(&user, &l)?;
    let up = receive(&state, payload).await?;
    let saved = keep(&state, &up, async |txn, key| {
        let saved = attachment::ActiveModel {
            lead_id: Set(l.id),
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
        audit::record(txn, &user.actor(), Change::new("lead.attachment_added", "lead", l.id).after(&to_api(&saved))).await?;
        Ok(saved)
    })
    .await?;
    Ok(HttpResponse::Created().json(to_api(&saved)))
}

/// Keeps an upload under a new random name: `save` writes its row (and audit entry) in a
/// transaction; the file takes its final name before the commit and is removed if anything
/// fails, so neither the row nor the file exists without the other.
pub(super) async fn keep<T>(state: &AppState, up: &Upload, save: impl AsyncFnOnce(&sea_orm::DatabaseTransaction, String) -> ApiResult<T>) -> ApiResult<T> {
    let key = secrets::random_secret();
    let final_path = dir(state).join(&key);
    let result: ApiResult<T> = async {
        let txn = db::begin_write(&state.db).await?;
        let saved = save(&txn, key).await?;
        tokio::fs::rename(&up.temp, &final_path).await.map_err(ApiError::internal)?;
        txn.commit().await?;
        Ok(saved)
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&up.temp).await;
        let _ = tokio::fs::remove_file(&final_path).await;
    }
    result
}

/// A lead's attachments, newest first.
#[utoipa::path(get, path = "/api/v1/leads/{id}/attachments", operation_id = "listLeadAttachments", tag = "leads", security(("bearer" = [])), params(("id" = i32, Path), SinceParams),
    responses((status = 200, body = Page<Attachment>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, since: web::Query<SinceParams>) -> ApiResult<HttpResponse> {
    let l = funnel_record(&state.db, &user, *id, Read::Plain).await?;
    // Attachments are never edited: their upload is their last change.
    let changed = since.condition(attachment::Column::CreatedAt, attachment::Column::CreatedAt)?;
    let rows =
        attachment::Entity::find().filter(attachment::Column::LeadId.eq(l.id)).filter(changed).order_by_desc(attachment::Column::Id).all(&state.db).await?;
    Ok(HttpResponse::Ok().json(Page { items: rows.iter().map(to_api).collect(), next_cursor: None }))
}

async fn find(state: &AppState, user: &AuthUser, lead_id: i32, attachment_id: i32) -> ApiResult<attachment::Model> {
    let l = funnel_record(&state.db, user, lead_id, Read::Plain).await?;
    attachment::Entity::find_by_id(attachment_id)
        .filter(attachment::Column::LeadId.eq(l.id))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("attachment"))
}

/// Download an attachment with its original name and content type.
#[utoipa::path(get, path = "/api/v1/leads/{id}/attachments/{attachment_id}", operation_id = "downloadLeadAttachment", tag = "leads", security(("bearer" = [])),
    params(("id" = i32, Path), ("attachment_id" = i32, Path)),
    responses((status = 200, description = "The file, with the content type it was uploaded with", content_type = "*/*"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn download(state: web::Data<AppState>, user: AuthUser, path: web::Path<(i32, i32)>) -> ApiResult<HttpResponse> {
    let (lead_id, attachment_id) = path.into_inner();
    let a = find(&state, &user, lead_id, attachment_id).await?;
    file_response(&state, &a.storage_key, &a.file_name, &a.content_type).await
}

/// A stored file as a download with its original name and content type.
pub(super) async fn file_response(state: &AppState, storage_key: &str, file_name: &str, content_type: &str) -> ApiResult<HttpResponse> {
    let bytes = tokio::fs::read(dir(state).join(storage_key)).await.map_err(ApiError::internal)?;
    let disposition = header::ContentDisposition {
        disposition: header::DispositionType::Attachment,
        parameters: vec![header::DispositionParam::Filename(file_name.to_string())],
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type.to_string()))
        .insert_header(disposition)
        // Never let a browser sniff an uploaded HTML file into a page of ours.
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(bytes))
}

/// Delete an attachment (the row and the file).
#[utoipa::path(delete, path = "/api/v1/leads/{id}/attachments/{attachment_id}", operation_id = "deleteLeadAttachment", tag = "leads", security(("bearer" = [])),
    params(("id" = i32, Path), ("attachment_id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, path: web::Path<(i32, i32)>) -> ApiResult<HttpResponse> {
    let (lead_id, attachment_id) = path.into_inner();
    let a = find(&state, &user, lead_id, attachment_id).await?;
    require_funnel_edit(&user, &funnel_record(&state.db, &user, lead_id, Read::Plain).await?)?;
    let txn = db::begin_write(&state.db).await?;
    attachment::Entity::delete_by_id(a.id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("lead.attachment_removed", "lead", lead_id).before(&to_api(&a))).await?;
    txn.commit().await?;
    if let Err(e) = tokio::fs::remove_file(dir(&state).join(&a.storage_key)).await {
        tracing::warn!(attachment = a.id, error = %e, "attachment row deleted but its file could not be removed");
    }
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::clean_file_name;

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\Users\\ana\\offer.pdf"), "offer.pdf");
        assert_eq!(clean_file_name("a\"b\nc.txt"), "abc.txt");
        assert_eq!(clean_file_name(".."), "file");
        assert_eq!(clean_file_name(""), "file");
    }
}
