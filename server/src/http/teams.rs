//! Teams: `GET /api/teams` for every logged-in user (their teams' queues, the assign menu);
//! `POST`, `PUT /{id}`, `DELETE /{id}` and `PUT /{id}/members` for admins, who set teams up.

use std::collections::HashSet;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use baton_shared::TeamId;
use baton_shared::api::{Role, User};
use baton_shared::model::display_text;
use baton_shared::teams::{
    DEFAULT_CAPACITY, MAX_CAPACITY, MAX_GRACE_MINUTES, MAX_STICKY_DAYS, MAX_TEAM_NAME_CHARS, Membership,
    MembershipsRequest, Team, TeamRequest,
};

use super::extract::{ApiJson, ApiPath};
use crate::error::AppError;
use crate::routing;
use crate::sessions::CurrentUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/teams", get(list).post(create))
        .route("/teams/{id}", put(update).delete(remove))
        .route("/teams/{id}/members", put(set_members))
}

async fn list(State(state): State<AppState>, _user: CurrentUser) -> Result<ApiJson<Vec<Team>>, AppError> {
    Ok(ApiJson(state.store.teams().await?))
}

async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(request): ApiJson<TeamRequest>,
) -> Result<(StatusCode, ApiJson<Team>), AppError> {
    admin(&user)?;
    let settings = checked(request)?;
    let team = state.store.create_team(&settings, user.id, state.now()).await?;
    tracing::info!(team = %team.id, by = %user.id, "team created");
    Ok((StatusCode::CREATED, ApiJson(team)))
}

async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<TeamId>,
    ApiJson(request): ApiJson<TeamRequest>,
) -> Result<ApiJson<Team>, AppError> {
    admin(&user)?;
    let settings = checked(request)?;
    let team = state.store.update_team(id, &settings, user.id, state.now()).await?;
    // The team may push work now.
    state.router.kick(id);
    tracing::info!(team = %id, by = %user.id, "team updated");
    Ok(ApiJson(team))
}

async fn remove(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<TeamId>,
) -> Result<StatusCode, AppError> {
    admin(&user)?;
    let events = state.store.delete_team(id, user.id, state.now()).await?;
    crate::conversations::publish(&state, &events);
    routing::refresh_memberships(&state).await?;
    tracing::info!(team = %id, by = %user.id, "team deleted");
    Ok(StatusCode::NO_CONTENT)
}

async fn set_members(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<TeamId>,
    ApiJson(request): ApiJson<MembershipsRequest>,
) -> Result<ApiJson<Team>, AppError> {
    admin(&user)?;
    let users: HashSet<_> = state.store.users().await?.into_iter().map(|user| user.id).collect();
    let mut seen = HashSet::new();
    let mut members = Vec::with_capacity(request.members.len());
    for member in request.members {
        if !users.contains(&member.user) {
            return Err(AppError::invalid(format!("There is no user {}.", member.user)));
        }
        if !seen.insert(member.user) {
            return Err(AppError::invalid(format!("User {} is listed twice.", member.user)));
        }
        let capacity = member.capacity.unwrap_or(DEFAULT_CAPACITY);
        if capacity > MAX_CAPACITY {
            return Err(AppError::invalid(format!("A capacity may be at most {MAX_CAPACITY}.")));
        }
        members.push(Membership { user: member.user, capacity });
    }
    members.sort_by_key(|member| member.user);
    let team = state.store.set_team_members(id, &members, user.id, state.now()).await?;
    routing::refresh_memberships(&state).await?;
    // New members may take waiting work.
    state.router.kick(id);
    tracing::info!(team = %id, members = team.members.len(), by = %user.id, "team members set");
    Ok(ApiJson(team))
}

/// Admins set teams up.
fn admin(user: &User) -> Result<(), AppError> {
    if user.role.at_least(Role::Admin) { Ok(()) } else { Err(AppError::forbidden()) }
}

/// The settings with the name trimmed (and without disguising characters: [`display_text`]), or
/// why they cannot be saved.
fn checked(mut request: TeamRequest) -> Result<TeamRequest, AppError> {
    request.name = display_text(&request.name).trim().to_owned();
    if request.name.is_empty() {
        return Err(AppError::invalid("A team needs a name."));
    }
    if request.name.chars().count() > MAX_TEAM_NAME_CHARS {
        return Err(AppError::invalid(format!("A team's name may have at most {MAX_TEAM_NAME_CHARS} characters.")));
    }
    if request.sticky_days > MAX_STICKY_DAYS {
        return Err(AppError::invalid(format!("A sticky owner is kept at most {MAX_STICKY_DAYS} days.")));
    }
    if request.grace_minutes > MAX_GRACE_MINUTES {
        return Err(AppError::invalid(format!("The grace period may be at most {MAX_GRACE_MINUTES} minutes.")));
    }
    Ok(request)
}
