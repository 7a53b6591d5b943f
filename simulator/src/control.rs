//! The control API under `/_sim`: the scripting and observation of the [`crate::Simulator`] handle as small
//! JSON endpoints, for the phone page and for driving the simulator by hand (`curl`). Errors are
//! `{"error": "…"}` with a 4xx status.
//!
//! | route | does |
//! |---|---|
//! | `GET /_sim/state` | business identity and current settings |
//! | `GET, POST /_sim/customers` | list customers / add one (`{wa_id, name}`) |
//! | `GET /_sim/customers/{wa_id}/chat` | the chat as the phone shows it |
//! | `POST /_sim/customers/{wa_id}/messages` | the customer sends an [`crate::Inbound`] |
//! | `PUT /_sim/customers/{wa_id}/window` | `{open: bool}` |
//! | `POST /_sim/batch` | `{messages: [{customer, message}]}` in one webhook |
//! | `GET /_sim/media/{media_id}` | a stored medium's bytes (no token: for the phone page) |
//! | `GET /_sim/requests`, `/_sim/webhooks`, `/_sim/reads` | what was recorded |
//! | `POST /_sim/webhooks/{id}/redeliver` | send a delivery's bytes again |
//! | `POST /_sim/statuses` | `{message_id, statuses, order?, failure_code?}` (`played`: audio only) |
//! | `POST /_sim/faults/sync-errors`, `/_sim/faults/failed-statuses` | `{code, count, recipient?}` |
//! | `PUT /_sim/faults/rate-limit` | `{per_second: n \| null}` |
//! | `DELETE /_sim/faults` | forget all scripted failures |
//! | `PUT /_sim/settings` | `{webhook_url?, status_progression?, status_batching?, window_enforcement?}` |

mod chat;
mod script;

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::journal::{ReadReceipt, RecordedRequest, WebhookDelivery};
use crate::state::Shared;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/state", get(state))
        .route("/customers", get(chat::list).post(chat::add))
        .route("/customers/{wa_id}/chat", get(chat::view))
        .route("/customers/{wa_id}/messages", post(chat::send))
        .route("/customers/{wa_id}/window", put(script::window))
        .route("/batch", post(chat::batch))
        .route("/media/{media_id}", get(chat::media))
        .route("/requests", get(requests))
        .route("/webhooks", get(webhooks))
        .route("/webhooks/{delivery_id}/redeliver", post(script::redeliver))
        .route("/reads", get(reads))
        .route("/statuses", post(script::statuses))
        .route("/faults/sync-errors", post(script::sync_errors))
        .route("/faults/failed-statuses", post(script::failed_statuses))
        .route("/faults/rate-limit", put(script::rate_limit))
        .route("/faults", delete(script::clear_faults))
        .route("/settings", put(script::settings))
}

/// A control API failure: `{"error": message}`.
pub(crate) struct ControlError {
    status: StatusCode,
    message: String,
}

impl ControlError {
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, message: message.into() }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self { status: StatusCode::NOT_FOUND, message: message.into() }
    }
}

impl From<anyhow::Error> for ControlError {
    fn from(error: anyhow::Error) -> Self {
        Self::bad_request(format!("{error:#}"))
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"error": self.message}))).into_response()
    }
}

async fn state(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let config = &shared.config;
    let settings = shared.settings();
    Json(json!({
        "business": {
            "name": config.business_name,
            "display_phone_number": config.display_phone_number,
            "phone_number_id": config.phone_number_id,
            "waba_id": config.waba_id,
            "api_version": config.api_version,
        },
        "webhook_url": settings.webhook_url,
        "status_progression": settings.statuses,
        "status_batching": settings.status_batching,
        "window_enforcement": settings.window,
        "rate_limit_per_second": shared.faults.rate_limit(),
        "templates": settings.templates,
    }))
}

async fn requests(State(shared): State<Arc<Shared>>) -> Json<Vec<RecordedRequest>> {
    Json(shared.journal.lock().requests.iter().cloned().collect())
}

async fn webhooks(State(shared): State<Arc<Shared>>) -> Json<Vec<WebhookDelivery>> {
    Json(shared.journal.lock().deliveries.iter().cloned().collect())
}

async fn reads(State(shared): State<Arc<Shared>>) -> Json<Vec<ReadReceipt>> {
    Json(shared.journal.lock().reads.iter().cloned().collect())
}
