//! Control routes that script the simulator: the window, statuses on demand, duplicates, forced failures,
//! the rate limit, and the behaviour settings.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use baton_whatsapp::webhook::DeliveryStatus;
use serde::Deserialize;

use super::ControlError;
use crate::config::{StatusBatching, StatusProgression, WindowEnforcement};
use crate::faults::ForcedFailure;
use crate::state::Shared;
use crate::statuses::{self, StatusOrder};
use crate::webhook::{self, DeliveryOutcome};

#[derive(Deserialize)]
pub(super) struct Window {
    open: bool,
}

pub(super) async fn window(
    State(shared): State<Arc<Shared>>,
    Path(wa_id): Path<String>,
    Json(window): Json<Window>,
) -> StatusCode {
    shared.customers.set_window(&wa_id, window.open, shared.clock.now());
    StatusCode::NO_CONTENT
}

pub(super) async fn redeliver(
    State(shared): State<Arc<Shared>>,
    Path(delivery_id): Path<u64>,
) -> Result<Json<DeliveryOutcome>, ControlError> {
    Ok(Json(webhook::redeliver(&shared, delivery_id).await?))
}

#[derive(Deserialize)]
pub(super) struct Statuses {
    message_id: String,
    statuses: Vec<DeliveryStatus>,
    #[serde(default)]
    order: StatusOrder,
    /// For `failed`: the error code (131047 when absent).
    #[serde(default)]
    failure_code: Option<i64>,
}

pub(super) async fn statuses(
    State(shared): State<Arc<Shared>>,
    Json(request): Json<Statuses>,
) -> Result<Json<Vec<DeliveryOutcome>>, ControlError> {
    let outcomes =
        statuses::send_statuses(&shared, &request.message_id, &request.statuses, request.failure_code, request.order)
            .await?;
    Ok(Json(outcomes))
}

pub(super) async fn sync_errors(State(shared): State<Arc<Shared>>, Json(failure): Json<ForcedFailure>) -> StatusCode {
    shared.faults.add_sync_error(failure);
    StatusCode::NO_CONTENT
}

pub(super) async fn failed_statuses(
    State(shared): State<Arc<Shared>>,
    Json(failure): Json<ForcedFailure>,
) -> StatusCode {
    shared.faults.add_async_failure(failure);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
pub(super) struct RateLimit {
    per_second: Option<u32>,
}

pub(super) async fn rate_limit(State(shared): State<Arc<Shared>>, Json(limit): Json<RateLimit>) -> StatusCode {
    shared.faults.set_rate_limit(limit.per_second);
    StatusCode::NO_CONTENT
}

pub(super) async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.faults.clear();
    StatusCode::NO_CONTENT
}

/// Only the fields present change.
#[derive(Deserialize)]
pub(super) struct Settings {
    #[serde(default)]
    webhook_url: Option<String>,
    #[serde(default)]
    status_progression: Option<StatusProgression>,
    /// `{enabled, window_ms?}`: several statuses per webhook.
    #[serde(default)]
    status_batching: Option<StatusBatching>,
    #[serde(default)]
    window_enforcement: Option<WindowEnforcement>,
}

pub(super) async fn settings(State(shared): State<Arc<Shared>>, Json(update): Json<Settings>) -> StatusCode {
    let mut settings = shared.settings();
    if let Some(url) = update.webhook_url {
        settings.webhook_url = Some(url);
    }
    if let Some(progression) = update.status_progression {
        settings.statuses = progression;
    }
    if let Some(batching) = update.status_batching {
        settings.status_batching = batching;
    }
    if let Some(enforcement) = update.window_enforcement {
        settings.window = enforcement;
    }
    StatusCode::NO_CONTENT
}
