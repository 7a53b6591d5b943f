//! `/webhooks/whatsapp`. `GET` answers Meta's verification handshake (contract §1). `POST`
//! checks `X-Hub-Signature-256` over the exact bytes received, in constant time, before reading
//! anything (missing → 401, malformed or wrong → 403, nothing stored); then stores the bytes and
//! answers 200 at once. Processing happens afterwards in [`super::ingest`], so Meta never waits on
//! Baton's database work and a crash after the 200 loses nothing.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use baton_shared::ErrorCode;
use baton_whatsapp::signature::{self, SIGNATURE_HEADER, SignatureError};
use baton_whatsapp::webhook::subscription;
use std::collections::HashMap;

use crate::error::AppError;
use crate::state::AppState;

/// Meta's largest webhook is 3 MB (contract §2.3); a little room above it.
const WEBHOOK_BODY_LIMIT: usize = 4 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks/whatsapp", get(handshake).post(deliver))
        .layer(DefaultBodyLimit::max(WEBHOOK_BODY_LIMIT))
}

async fn handshake(State(state): State<AppState>, Query(query): Query<HashMap<String, String>>) -> Response {
    let expected = state.config.whatsapp.verify_token.as_deref().unwrap_or_default();
    let verified = subscription::verify(
        query.get("hub.mode").map(String::as_str),
        query.get("hub.verify_token").map(String::as_str),
        query.get("hub.challenge").map(String::as_str),
        expected,
    );
    match verified {
        // Echoed byte for byte, as text.
        Ok(challenge) => (StatusCode::OK, [("content-type", "text/plain")], challenge.to_owned()).into_response(),
        Err(error) => {
            tracing::warn!(%error, "WhatsApp webhook verification refused");
            AppError::new(ErrorCode::Forbidden, format!("Webhook verification refused: {error}.")).into_response()
        }
    }
}

async fn deliver(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<StatusCode, AppError> {
    let body = body.map_err(|rejection| crate::http::extract::body_rejection(&rejection, WEBHOOK_BODY_LIMIT))?;
    let Some(secret) = &state.config.whatsapp.app_secret else {
        tracing::warn!("a WhatsApp webhook arrived but BATON_WHATSAPP_APP_SECRET is not set: refused");
        return Err(AppError::new(
            ErrorCode::Unavailable,
            "The WhatsApp channel is not configured on this server (no app secret).",
        ));
    };
    let header = headers.get(SIGNATURE_HEADER).map(|value| value.as_bytes());
    if let Err(error) = signature::verify(secret, header, &body) {
        tracing::warn!(%error, bytes = body.len(), "WhatsApp webhook refused: bad signature");
        let code = match error {
            SignatureError::Missing => ErrorCode::Unauthenticated,
            SignatureError::Malformed(_) | SignatureError::Mismatch => ErrorCode::BadSignature,
        };
        return Err(AppError::new(code, format!("Webhook refused: {error}.")));
    }
    let bytes = body.len();
    let id =
        state.whatsapp.intake.store(body).await.map_err(|error| {
            AppError::new(ErrorCode::Unavailable, format!("{error}; WhatsApp will deliver it again."))
        })?;
    tracing::debug!(delivery = id, bytes, "WhatsApp webhook stored");
    Ok(StatusCode::OK)
}
