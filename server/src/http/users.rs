//! User administration (admins only): `GET/POST /api/users`, `GET/PATCH /api/users/{id}`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use baton_shared::UserId;
use baton_shared::api::{CreateUserRequest, UpdateUserRequest, User};

use super::extract::{ApiJson, ApiPath};
use crate::accounts::{self, NewAccount};
use crate::error::AppError;
use crate::sessions::Admin;
use crate::state::AppState;
use crate::store::UserPatch;

pub fn routes() -> Router<AppState> {
    Router::new().route("/users", get(list).post(create)).route("/users/{id}", get(show).patch(update))
}

async fn list(State(state): State<AppState>, _admin: Admin) -> Result<ApiJson<Vec<User>>, AppError> {
    Ok(ApiJson(state.store.users().await?))
}

async fn show(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(id): ApiPath<UserId>,
) -> Result<ApiJson<User>, AppError> {
    let user = state.store.user(id).await?.ok_or_else(|| AppError::not_found("No such user."))?;
    Ok(ApiJson(user))
}

async fn create(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiJson(request): ApiJson<CreateUserRequest>,
) -> Result<(StatusCode, ApiJson<User>), AppError> {
    let account =
        NewAccount { email: request.email, name: request.name, role: request.role, password: request.password };
    let user = accounts::create(state.store.as_ref(), &state.passwords, account, Some(admin.id), state.clock).await?;
    tracing::info!(user_id = %user.id, role = %user.role, by = %admin.id, "user created");
    Ok((StatusCode::CREATED, ApiJson(user)))
}

async fn update(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(request): ApiJson<UpdateUserRequest>,
) -> Result<ApiJson<User>, AppError> {
    let patch = UserPatch { role: request.role, disabled: request.disabled };
    let user = accounts::update(state.store.as_ref(), id, patch, admin.id, state.clock).await?;
    if patch.role.is_some() || patch.disabled == Some(true) {
        // Open sockets carry the role they were opened with: end them so they reconnect as
        // the user now is (or not at all).
        state.hub.end_sessions(user.id);
    }
    tracing::info!(user_id = %user.id, ?patch, by = %admin.id, "user updated");
    Ok(ApiJson(user))
}
