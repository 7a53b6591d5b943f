//! `POST /api/uploads?filename=…`: a file an agent is about to send (the body is the file, its
//! `Content-Type` its type). Baton keeps it under the data directory; `send_media` on the socket
//! then sends it, uploading it to WhatsApp on the way out.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use baton_shared::ErrorCode;
use baton_shared::api::Upload;
use baton_shared::model::display_text;
use serde::Deserialize;

use super::extract::ApiJson;
use crate::error::AppError;
use crate::sessions::CurrentUser;
use crate::state::AppState;
use crate::whatsapp::media::UploadMeta;

/// The largest file accepted (shared with the app, which checks before uploading).
pub use baton_shared::api::MAX_UPLOAD_BYTES;

pub fn routes() -> Router<AppState> {
    Router::new().route("/uploads", post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)))
}

#[derive(Deserialize)]
struct UploadQuery {
    filename: Option<String>,
}

/// Which WhatsApp message type a file goes out as.
pub fn media_kind(mime_type: &str) -> &'static str {
    match mime_type {
        "image/jpeg" | "image/png" => "image",
        "video/mp4" | "video/3gpp" => "video",
        "audio/aac" | "audio/mp4" | "audio/mpeg" | "audio/amr" | "audio/ogg" => "audio",
        _ => "document",
    }
}

async fn upload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, ApiJson<Upload>), AppError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "The file is larger than {}, the most WhatsApp accepts.",
                    super::extract::size_in_words(MAX_UPLOAD_BYTES)
                ),
            )
        } else {
            super::extract::body_rejection(&rejection, MAX_UPLOAD_BYTES)
        }
    })?;
    let mime_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
        .filter(|value| value.contains('/') && value.len() <= 100)
        .ok_or_else(|| {
            AppError::new(ErrorCode::UnsupportedMediaType, "Send the file with its Content-Type (e.g. image/jpeg).")
        })?;
    if body.is_empty() {
        return Err(AppError::invalid("The file is empty."));
    }
    if media_kind(&mime_type) == "image" && body.len() > 5 * 1024 * 1024 {
        return Err(AppError::new(ErrorCode::PayloadTooLarge, "WhatsApp accepts images of at most 5 MB."));
    }
    // A file name is shown to the team: nothing in it may disguise it ("fdp.exe" shown as "exe.pdf").
    let filename = query.filename.map(|name| display_text(&name).trim().to_owned()).filter(|name| !name.is_empty());
    if filename.as_ref().is_some_and(|name| name.chars().count() > 240) {
        return Err(AppError::invalid("The file name may have at most 240 characters."));
    }
    let size = u64::try_from(body.len()).unwrap_or(u64::MAX);
    let meta = UploadMeta { mime_type, filename, size, uploader: user.id };
    let upload = state
        .whatsapp
        .media
        .save_upload(&body, meta)
        .await
        .map_err(|error| AppError::Internal(anyhow::anyhow!("{error}")))?;
    Ok((StatusCode::CREATED, ApiJson(upload)))
}
