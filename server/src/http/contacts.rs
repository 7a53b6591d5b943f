//! Contacts over REST, each route a call into [`crate::contacts`] (which decides who may do what):
//! - `GET /api/contacts?q=&label=&attribute=&value=&blocked=&sort=&offset=&limit=` — the list;
//! - `GET /api/contacts/{id}` — the profile; `PATCH` — an edit ([`ContactPatch`]);
//! - `GET /api/contacts/{id}/changes` — the audited changes;
//! - `GET`/`PUT /api/contacts/attributes` — the attribute definitions;
//! - `POST /api/contacts/import[?commit=true]` — a CSV file (`text/csv`): the preview, or the
//!   import (all rows or none);
//! - `GET /api/contacts/export` — every contact as CSV.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use baton_shared::ContactId;
use baton_shared::ErrorCode;
use baton_shared::contacts::{
    AttributeDefinitions, ContactChange, ContactList, ContactListRequest, ContactPatch, ContactProfile, ContactRecord,
    ImportReport,
};
use serde::Deserialize;

use super::extract::{ApiJson, ApiPath};
use crate::contacts;
use crate::error::AppError;
use crate::sessions::CurrentUser;
use crate::state::AppState;

/// The largest file an import takes.
pub const MAX_IMPORT_BYTES: usize = 16 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/contacts", get(list))
        .route("/contacts/attributes", get(definitions).put(define))
        .route("/contacts/import", post(import).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)))
        .route("/contacts/export", get(export))
        .route("/contacts/{id}", get(profile).patch(edit))
        .route("/contacts/{id}/changes", get(changes))
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<ContactListRequest>, QueryRejection>,
) -> Result<ApiJson<ContactList>, AppError> {
    let Query(request) = query.map_err(|rejection| {
        AppError::invalid(format!(
            "The list's parameters do not read ({}): q, label, attribute and value, blocked, sort (recent, name, \
             created), offset and limit.",
            rejection.body_text()
        ))
    })?;
    Ok(ApiJson(contacts::list(&state, &state.actor(&user), &request).await?))
}

async fn profile(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<ContactProfile>, AppError> {
    Ok(ApiJson(contacts::profile(&state, &state.actor(&user), ContactId(id)).await?))
}

async fn edit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<ContactPatch>,
) -> Result<ApiJson<ContactRecord>, AppError> {
    Ok(ApiJson(contacts::edit(&state, &state.actor(&user), ContactId(id), &patch).await?))
}

async fn changes(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<Vec<ContactChange>>, AppError> {
    Ok(ApiJson(contacts::changes(&state, &state.actor(&user), ContactId(id)).await?))
}

async fn definitions(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> Result<ApiJson<AttributeDefinitions>, AppError> {
    Ok(ApiJson(AttributeDefinitions { attributes: state.store.attribute_definitions().await? }))
}

async fn define(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(request): ApiJson<AttributeDefinitions>,
) -> Result<ApiJson<AttributeDefinitions>, AppError> {
    let attributes = contacts::define(&state, &state.actor(&user), request.attributes).await?;
    Ok(ApiJson(AttributeDefinitions { attributes }))
}

#[derive(Debug, Default, Deserialize)]
struct ImportQuery {
    #[serde(default)]
    commit: bool,
}

async fn import(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<ImportQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<ApiJson<ImportReport>, AppError> {
    let Query(query) = query.map_err(|_| AppError::invalid("commit must be true or false."))?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::new(
                ErrorCode::PayloadTooLarge,
                format!("The file is larger than {}; split it.", super::extract::size_in_words(MAX_IMPORT_BYTES)),
            )
        } else {
            super::extract::body_rejection(&rejection, MAX_IMPORT_BYTES)
        }
    })?;
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !matches!(kind.as_str(), "text/csv" | "text/plain" | "application/vnd.ms-excel") {
        return Err(AppError::new(ErrorCode::UnsupportedMediaType, "Send the contacts as a CSV file (text/csv)."));
    }
    // A byte-order mark (spreadsheets write one) is not part of the header.
    let text = std::str::from_utf8(&body)
        .map_err(|_| AppError::invalid("The file is not UTF-8 text: save it as “CSV UTF-8”."))?
        .trim_start_matches('\u{feff}');
    Ok(ApiJson(contacts::import(&state, &state.actor(&user), text, query.commit).await?))
}

async fn export(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Response, AppError> {
    let csv = contacts::export(&state, &state.actor(&user)).await?;
    let mut response = csv.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"contacts.csv\""));
    Ok(response)
}
