//! The team's canned responses: `GET /api/canned-responses` for every logged-in user (the
//! composer's picker); `POST`, `PUT /{id}` and `DELETE /{id}` for supervisors and admins, who keep
//! the list.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use baton_shared::api::{CannedResponse, CannedResponseRequest, MAX_CANNED_TITLE_CHARS, Role, User};
use baton_shared::model::display_text;

use super::extract::{ApiJson, ApiPath};
use crate::conversations::MAX_TEXT_CHARS;
use crate::error::AppError;
use crate::sessions::CurrentUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/canned-responses", get(list).post(create))
        .route("/canned-responses/{id}", put(update).delete(remove))
}

async fn list(State(state): State<AppState>, _user: CurrentUser) -> Result<ApiJson<Vec<CannedResponse>>, AppError> {
    Ok(ApiJson(state.store.canned_responses().await?))
}

async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(request): ApiJson<CannedResponseRequest>,
) -> Result<(StatusCode, ApiJson<CannedResponse>), AppError> {
    keeper(&user)?;
    let (title, body) = checked(&request)?;
    let created = state.store.create_canned(&title, body, user.id, state.now()).await?;
    tracing::info!(canned = created.id, by = %user.id, "canned response created");
    Ok((StatusCode::CREATED, ApiJson(created)))
}

async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<CannedResponseRequest>,
) -> Result<ApiJson<CannedResponse>, AppError> {
    keeper(&user)?;
    let (title, body) = checked(&request)?;
    let updated = state.store.update_canned(id, &title, body, user.id, state.now()).await?;
    tracing::info!(canned = id, by = %user.id, "canned response updated");
    Ok(ApiJson(updated))
}

async fn remove(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    keeper(&user)?;
    state.store.delete_canned(id).await?;
    tracing::info!(canned = id, by = %user.id, "canned response deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Supervisors and admins keep the list.
fn keeper(user: &User) -> Result<(), AppError> {
    if user.role.at_least(Role::Supervisor) { Ok(()) } else { Err(AppError::forbidden()) }
}

/// The title (without disguising characters: [`display_text`]) and the body, trimmed, or why they
/// cannot be saved.
fn checked(request: &CannedResponseRequest) -> Result<(String, &str), AppError> {
    let title = display_text(&request.title).trim().to_owned();
    let body = request.body.trim();
    if title.is_empty() || body.is_empty() {
        return Err(AppError::invalid("A canned response needs a title and a text."));
    }
    if title.chars().count() > MAX_CANNED_TITLE_CHARS {
        return Err(AppError::invalid(format!("A title may have at most {MAX_CANNED_TITLE_CHARS} characters.")));
    }
    if body.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::invalid(format!("A canned response may have at most {MAX_TEXT_CHARS} characters.")));
    }
    Ok((title, body))
}
