//! `GET /api/search?q=…&team=…&assignee=…&status=…&label=…&from=…&to=…&direction=…&limit=…`:
//! conversations with messages or notes matching the words, newest hit first, each with its
//! newest hits and their snippets — only what the user may see.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use baton_shared::search::{SearchRequest, SearchResults};

use super::extract::ApiJson;
use crate::conversations::search;
use crate::error::AppError;
use crate::sessions::CurrentUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/search", get(find))
}

async fn find(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<SearchRequest>, QueryRejection>,
) -> Result<ApiJson<SearchResults>, AppError> {
    let Query(request) = query.map_err(|rejection| {
        AppError::invalid(format!(
            "The search's parameters do not read ({}): q, and optionally team, assignee, status, label, from, to, \
             direction and limit.",
            rejection.body_text()
        ))
    })?;
    Ok(ApiJson(search::search(&state, &state.actor(&user), &request).await?))
}
