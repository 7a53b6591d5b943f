//! Extractors that answer in Baton's error shape: [`ApiJson`] and [`ApiPath`] wrap axum's `Json` and
//! `Path`, turning their rejections into `{code, message}` with a fitting status instead of axum's
//! plain-text bodies. A JSON body passes [`crate::input`]'s rule on the way in (NUL and lone
//! surrogates replaced).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use baton_shared::ErrorCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A JSON body (or a JSON answer: it is also a response).
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(request.headers()) {
            return Err(AppError::new(
                ErrorCode::UnsupportedMediaType,
                "Send the body as JSON, with the header Content-Type: application/json.",
            ));
        }
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| body_rejection(&rejection, super::API_BODY_LIMIT))?;
        let body = crate::input::clean_json(&body);
        if !crate::input::is_json_object(&body) {
            // Not JSON at all is malformed; JSON but not an object is the wrong shape.
            return Err(match Json::<serde::de::IgnoredAny>::from_bytes(&body) {
                Err(rejection) => json_rejection(rejection),
                Ok(_) => AppError::invalid("The body must be a JSON object."),
            });
        }
        match Json::<T>::from_bytes(&body) {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// `application/json`, or a `+json` type (`application/merge-patch+json`), as axum's `Json` has it.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(content_type) = headers.get(axum::http::header::CONTENT_TYPE).and_then(|value| value.to_str().ok()) else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence.strip_prefix("application/").is_some_and(|subtype| subtype == "json" || subtype.ends_with("+json"))
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

fn json_rejection(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::JsonSyntaxError(error) => {
            AppError::new(ErrorCode::MalformedJson, format!("The body is not valid JSON: {}", error.body_text()))
        }
        JsonRejection::JsonDataError(error) => AppError::invalid(format!(
            "The JSON body does not have the expected fields: {}",
            error.body_text().trim_start_matches("Failed to deserialize the JSON body into the target type: ")
        )),
        other => AppError::new(ErrorCode::MalformedJson, format!("The body could not be read: {}", other.body_text())),
    }
}

/// Path parameters. A parameter that does not parse (`/api/users/abc`) names no resource: 404.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(path_rejection(rejection)),
        }
    }
}

fn path_rejection(rejection: PathRejection) -> AppError {
    match rejection {
        PathRejection::FailedToDeserializePathParams(error) => {
            AppError::not_found(format!("No such resource: {}", error.body_text()))
        }
        other => AppError::Internal(anyhow::anyhow!("path extraction: {}", other.body_text())),
    }
}

/// A limit as people say it: whole megabytes as "16 MB" (binary, as WhatsApp counts them), smaller
/// ones in KiB.
pub fn size_in_words(bytes: usize) -> String {
    const MEGABYTE: usize = 1024 * 1024;
    if bytes >= MEGABYTE && bytes.is_multiple_of(MEGABYTE) {
        format!("{} MB", bytes / MEGABYTE)
    } else {
        format!("{} KiB", bytes / 1024)
    }
}

/// A raw body that could not be read: too large for the endpoint's `limit`, or cut short.
pub fn body_rejection(rejection: &axum::extract::rejection::BytesRejection, limit: usize) -> AppError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::new(
            ErrorCode::PayloadTooLarge,
            format!("The body is larger than the {} this endpoint accepts.", size_in_words(limit)),
        )
    } else {
        AppError::new(ErrorCode::InvalidInput, format!("The body could not be read: {}", rejection.body_text()))
    }
}
