//! Logging in and out, and who am I: `POST /api/auth/login`, `POST /api/auth/logout`,
//! `GET /api/me`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::response::{AppendHeaders, IntoResponse};
use axum::routing::{get, post};
use baton_shared::api::{LoginRequest, Me};

use super::extract::ApiJson;
use crate::accounts;
use crate::error::AppError;
use crate::sessions::{self, ClientAddr, CurrentUser, clearing_cookie, session_cookie, token_hash};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/auth/login", post(login)).route("/auth/logout", post(logout)).route("/me", get(me))
}

/// Logs in. A session whose cookie came with the request is ended first: a login always starts a
/// fresh session, so a planted cookie cannot be carried into it.
async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    parts: Parts,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<impl IntoResponse, AppError> {
    let user = accounts::login(&state, &request.email, request.password, client).await?;
    if let Some(presented) = sessions::token_from_parts(&parts, state.config.secure_cookies()) {
        state.store.delete_session(&token_hash(&presented)).await?;
    }
    let token = sessions::start(&state, &user).await?;
    tracing::info!(user_id = %user.id, "logged in");
    let cookie = session_cookie(&token, state.config.session_ttl, state.config.secure_cookies());
    Ok((AppendHeaders([(SET_COOKIE, cookie)]), ApiJson(state.me(&user))))
}

/// Ends the session of the cookie, if any, and clears the cookie. Idempotent.
async fn logout(State(state): State<AppState>, parts: Parts) -> Result<impl IntoResponse, AppError> {
    if let Some(token) = sessions::token_from_parts(&parts, state.config.secure_cookies()) {
        let hash = token_hash(&token);
        state.store.delete_session(&hash).await?;
        // This session's sockets end with it; the user's other sessions (devices) stay.
        state.hub.end_session(sessions::session_key(&hash));
    }
    Ok((StatusCode::NO_CONTENT, AppendHeaders([(SET_COOKIE, clearing_cookie(state.config.secure_cookies()))])))
}

async fn me(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> ApiJson<Me> {
    ApiJson(state.me(&user))
}
