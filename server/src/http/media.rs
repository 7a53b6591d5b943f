//! `GET /api/messages/{id}/media`: a customer's image, voice note, video, document or sticker,
//! for users who may see the message's conversation. Served as an inert download: its declared
//! type with `nosniff` and a sandboxing CSP, so a file that pretends to be a page cannot run.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use baton_shared::model::MessageContent;
use baton_shared::{ErrorCode, MessageId};

use super::extract::ApiPath;
use crate::error::AppError;
use crate::sessions::CurrentUser;
use crate::state::AppState;
use crate::whatsapp::media::MediaError;

pub fn routes() -> Router<AppState> {
    Router::new().route("/messages/{id}/media", get(media))
}

/// Types a browser may show inline: raster images, audio and video (WhatsApp's, and the common web
/// ones), which cannot carry script. Anything else — an SVG (which can), HTML, a PDF, whatever a
/// customer or an upload declares — is offered as a download.
const INLINE_TYPES: [&str; 15] = [
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "audio/aac",
    "audio/amr",
    "audio/mp4",
    "audio/mpeg",
    "audio/ogg",
    "audio/opus",
    "audio/wav",
    "audio/webm",
    "video/3gpp",
    "video/mp4",
    "video/webm",
];

/// Whether a declared type is one of [`INLINE_TYPES`] (parameters such as `codecs=opus` aside).
fn shown_inline(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    INLINE_TYPES.contains(&essence.as_str())
}

async fn media(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, AppError> {
    let not_found = || AppError::not_found("There is no such media file.");
    let message = state.store.message(MessageId(id)).await?.ok_or_else(not_found)?;
    let conversation = state.store.conversation(message.conversation_id).await?.ok_or_else(not_found)?;
    // A file of a conversation this user may not see is answered like one that does not exist.
    if !state.actor(&user).may_see(&conversation) {
        return Err(not_found());
    }
    let Some(MessageContent::Media { media_id, mime_type, filename, upload, .. }) = message.content.as_deref() else {
        return Err(not_found());
    };
    let fetched = match upload {
        // A file the team sent: Baton's own copy.
        Some(upload) => match state.whatsapp.media.upload(upload).await {
            Ok(Some((_, path))) => Ok(path),
            Ok(None) => return Err(not_found()),
            Err(error) => Err(error),
        },
        None => state.whatsapp.media.fetch(state.whatsapp.graph.as_deref(), media_id, None).await,
    };
    let path = match fetched {
        Ok(path) => path,
        Err(MediaError::BadId) => return Err(not_found()),
        Err(MediaError::NoChannel) => {
            return Err(AppError::new(
                ErrorCode::Unavailable,
                "The WhatsApp channel is not configured, so media cannot be fetched.",
            ));
        }
        Err(MediaError::Download(reason)) => {
            tracing::warn!(%media_id, %reason, "media download failed");
            return Err(AppError::new(
                ErrorCode::Unavailable,
                "WhatsApp did not give the file right now; try again in a moment.",
            ));
        }
        Err(MediaError::Io(error)) => return Err(AppError::Internal(error.into())),
    };
    let bytes = tokio::fs::read(&path).await.map_err(|error| AppError::Internal(error.into()))?;
    let content_type = mime_type.as_deref().unwrap_or("application/octet-stream");
    let inline = shown_inline(content_type);
    let disposition = match (inline, filename) {
        (true, _) => "inline".to_owned(),
        (false, Some(name)) => format!("attachment; filename=\"{}\"", safe_filename(name)),
        (false, None) => "attachment".to_owned(),
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    // Also set by the router for every answer; here too, so this answer never depends on it.
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(response)
}

/// A customer's file name, kept to characters that cannot break the header.
fn safe_filename(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') { c } else { '_' })
        .take(120)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_raster_audio_and_video_are_shown_inline() {
        for inline in ["image/jpeg", "image/png", "image/webp", "audio/ogg; codecs=opus", "Video/MP4"] {
            assert!(shown_inline(inline), "{inline}");
        }
        for download in ["image/svg+xml", "text/html", "application/pdf", "image/svg", "application/octet-stream", ""] {
            assert!(!shown_inline(download), "{download}");
        }
    }
}
