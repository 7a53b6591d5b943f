//! `GET /healthz`: 200 when the database answers, 503 otherwise. Unauthenticated, for load
//! balancers and orchestrators.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use baton_shared::ErrorCode;
use baton_shared::api::Health;

use super::extract::ApiJson;
use crate::error::AppError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(health))
}

async fn health(State(state): State<AppState>) -> Result<ApiJson<Health>, AppError> {
    if let Err(error) = state.store.ping().await {
        tracing::error!(%error, "health check: database does not answer");
        return Err(AppError::new(ErrorCode::Unavailable, "The database does not answer."));
    }
    Ok(ApiJson(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        database: state.store.backend().as_str().into(),
    }))
}
