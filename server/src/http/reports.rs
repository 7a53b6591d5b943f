//! Reports over REST, each route a call into [`crate::reports::figures`] (which decides who may
//! read what and computes every figure), with the same filters
//! (`?from=&to=&tz=&team=&agent=&label=`, [`ReportRequest`]):
//! - `GET /api/reports/overview` — the period's figures beside the previous period's, its days,
//!   the heatmap and the first-response distribution;
//! - `GET /api/reports/now` — the first responses of the last hour (the live panel's median);
//! - `GET /api/reports/{agents,teams,labels}[?format=csv]` — a table, in JSON or as CSV with the
//!   header [`baton_shared::reports::TABLE_CSV_COLUMNS`].

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use baton_shared::reports::{Overview, RecentResponses, ReportRequest};
use serde::Deserialize;

use super::extract::{ApiJson, ApiPath};
use crate::error::AppError;
use crate::reports::figures::{self, TableBy};
use crate::sessions::CurrentUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports/overview", get(overview))
        .route("/reports/now", get(now))
        .route("/reports/{table}", get(table))
}

/// A table's format, beside the report's filters (read on their own: numbers do not survive
/// serde's `flatten` in a query string).
#[derive(Debug, Default, Deserialize)]
struct Format {
    /// `csv` for a CSV file; JSON otherwise.
    #[serde(default)]
    format: Option<String>,
}

fn read<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, AppError> {
    let Query(request) = query.map_err(|rejection| {
        AppError::invalid(format!(
            "The report's parameters do not read ({}): from and to (Unix ms), tz, team, agent, label.",
            rejection.body_text()
        ))
    })?;
    Ok(request)
}

async fn overview(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<ReportRequest>, QueryRejection>,
) -> Result<ApiJson<Overview>, AppError> {
    let request = read(query)?;
    Ok(ApiJson(figures::overview(state.store.as_ref(), &state.actor(&user), &request).await?))
}

async fn now(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<ApiJson<RecentResponses>, AppError> {
    Ok(ApiJson(figures::recent_responses(state.store.as_ref(), &state.actor(&user), state.now()).await?))
}

async fn table(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(table): ApiPath<String>,
    query: Result<Query<ReportRequest>, QueryRejection>,
    Query(Format { format }): Query<Format>,
) -> Result<Response, AppError> {
    let by = match table.as_str() {
        "agents" => TableBy::Agent,
        "teams" => TableBy::Team,
        "labels" => TableBy::Label,
        _ => return Err(AppError::not_found("No such report: there are overview, agents, teams and labels.")),
    };
    let request = read(query)?;
    let rows = figures::table(state.store.as_ref(), &state.actor(&user), &request, by).await?;
    if format.as_deref() != Some("csv") {
        return Ok(ApiJson(rows).into_response());
    }
    let name = match by {
        TableBy::Agent => "attachment; filename=\"report-agents.csv\"",
        TableBy::Team => "attachment; filename=\"report-teams.csv\"",
        TableBy::Label => "attachment; filename=\"report-labels.csv\"",
    };
    let mut response = figures::table_csv(&rows)?.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(name));
    Ok(response)
}
