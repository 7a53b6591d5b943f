//! `GET /api/team`: every active teammate's name and role, for any logged-in user (authors of
//! replies and notes, mentions, the assign menu). Emails and disabled accounts stay with the
//! admins' `/api/users`.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use baton_shared::api::TeamMember;

use super::extract::ApiJson;
use crate::error::AppError;
use crate::sessions::CurrentUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/team", get(list))
}

/// Sorted by name, as the store returns users.
async fn list(State(state): State<AppState>, _user: CurrentUser) -> Result<ApiJson<Vec<TeamMember>>, AppError> {
    let users = state.store.users().await?;
    let team = users
        .into_iter()
        .filter(|user| !user.disabled)
        .map(|user| TeamMember { id: user.id, name: user.name, role: user.role })
        .collect();
    Ok(ApiJson(team))
}
