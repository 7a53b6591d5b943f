//! `POST /api/inbound` (admins): records a customer message as if WhatsApp had delivered it. The
//! stand-in that makes the real-time core testable on its own; the WhatsApp webhook replaces it
//! as the way customers' messages arrive.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde::{Deserialize, Serialize};

use super::extract::ApiJson;
use crate::error::AppError;
use crate::sessions::Admin;
use crate::state::AppState;
use crate::store::conversations::{InboundOutcome, NewInbound};

pub fn routes() -> Router<AppState> {
    Router::new().route("/inbound", post(inbound))
}

/// A customer message to record.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboundRequest {
    pub wa_id: String,
    #[serde(default)]
    pub profile_name: String,
    pub body: String,
    /// Defaults to a fresh id; repeat one to see deduplication.
    #[serde(default)]
    pub wa_message_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct InboundResponse {
    pub conversation_id: Option<i64>,
    pub duplicate: bool,
}

async fn inbound(
    State(state): State<AppState>,
    _admin: Admin,
    ApiJson(request): ApiJson<InboundRequest>,
) -> Result<(StatusCode, ApiJson<InboundResponse>), AppError> {
    if request.wa_id.is_empty() || !request.wa_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') {
        return Err(AppError::invalid("wa_id must be the customer's WhatsApp id (digits)."));
    }
    if request.body.is_empty() {
        return Err(AppError::invalid("The message body must not be empty."));
    }
    let now = state.now();
    let wa_message_id = request.wa_message_id.unwrap_or_else(|| format!("wamid.local.{}", uuid::Uuid::new_v4()));
    let message = NewInbound {
        wa_id: request.wa_id,
        profile_name: request.profile_name,
        wa_message_id,
        kind: "text".into(),
        body: request.body,
        at: now,
        ..Default::default()
    };
    match state.store.record_inbound(&message, now).await? {
        InboundOutcome::Recorded { conversation_id, events } => {
            state.bus.publish(&events);
            Ok((
                StatusCode::CREATED,
                ApiJson(InboundResponse { conversation_id: Some(conversation_id.0), duplicate: false }),
            ))
        }
        InboundOutcome::Duplicate => {
            Ok((StatusCode::OK, ApiJson(InboundResponse { conversation_id: None, duplicate: true })))
        }
    }
}
