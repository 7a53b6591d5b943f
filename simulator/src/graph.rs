//! The Graph API side (contract §6, §7, §10, §13): the routes Baton calls instead of
//! `https://graph.facebook.com` (sends, media uploads, metadata, downloads and deletion, templates), the
//! Bearer check every one of them makes, and the recording of every request (raw bytes included) together
//! with the answer.

mod media;
mod messages;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::errors;
use crate::journal::{Endpoint, RecordedRequest};
use crate::state::Shared;
use crate::templates;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/{version}/{phone_number_id}/messages", post(messages::send))
        // axum's default 2 MB body limit would refuse most videos and documents before the handler sees them.
        .route(
            "/{version}/{phone_number_id}/media",
            post(media::upload).layer(DefaultBodyLimit::max(media::UPLOAD_LIMIT)),
        )
        .route("/{version}/{waba_id}/message_templates", get(list_templates))
        .route("/{version}/{media_id}", get(media::info).delete(media::delete))
        .route(crate::media::DOWNLOAD_PATH, get(media::download))
}

/// What arrived, kept for the journal.
pub(crate) struct Arrival {
    pub(crate) endpoint: Endpoint,
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Arrival {
    /// Records the request with its answer and returns the answer.
    pub(crate) fn answer(self, shared: &Shared, reply: Reply) -> Response {
        self.record(shared, reply.status, serde_json::from_str(&reply.body).unwrap_or(Value::Null));
        let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, [(header::CONTENT_TYPE, "application/json")], reply.body).into_response()
    }

    pub(crate) fn record(self, shared: &Shared, status: u16, response: Value) {
        let header_text = |name: header::HeaderName| {
            self.headers.get(name).map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        };
        let json = serde_json::from_slice(&self.body).ok();
        shared.journal.record_request(RecordedRequest {
            sequence: 0,
            endpoint: self.endpoint,
            method: self.method.to_string(),
            uri: self.uri.to_string(),
            authorization: header_text(header::AUTHORIZATION),
            content_type: header_text(header::CONTENT_TYPE),
            body: self.body.to_vec(),
            json,
            response_status: status,
            response,
        });
    }
}

/// Whether the request carries `Authorization: Bearer <the configured token>`.
pub(crate) fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .is_some_and(|token| token == shared.config.access_token)
}

/// A JSON answer, serialized from the contract's typed bodies so that keys keep Meta's order
/// (`messaging_product` first, `error.message` first…) rather than a JSON map's.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: String,
}

impl Reply {
    pub(crate) fn json<T: Serialize>(status: u16, value: &T) -> Self {
        // The contract's types always serialize; an empty object is a safe stand-in regardless.
        Self { status, body: serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned()) }
    }

    pub(crate) fn ok<T: Serialize>(value: &T) -> Self {
        Self::json(200, value)
    }
}

/// A Graph error with the contract's status and body for `code`.
pub(crate) fn error(code: i64, details: Option<String>) -> Reply {
    let (status, body) = errors::graph_error(code, details);
    Reply::json(status, &body)
}

/// Meta versions look like `v23.0`.
pub(crate) fn valid_version(version: &str) -> bool {
    version.strip_prefix('v').and_then(|rest| rest.split_once('.')).is_some_and(|(major, minor)| {
        [major, minor].iter().all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()))
    })
}

/// The error Meta gives for an id that is not there (or not this app's).
pub(crate) fn unknown_object(method: &Method, id: &str) -> Reply {
    let verb = method.as_str().to_ascii_lowercase();
    error(
        100,
        Some(format!(
            "Unsupported {verb} request. Object with ID '{id}' does not exist, cannot be loaded due to missing \
             permissions, or does not support this operation."
        )),
    )
}

#[derive(Deserialize)]
struct TemplateQuery {
    name: Option<String>,
}

async fn list_templates(
    State(shared): State<Arc<Shared>>,
    Path((version, waba_id)): Path<(String, String)>,
    Query(query): Query<TemplateQuery>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let arrival = Arrival { endpoint: Endpoint::Templates, method, uri, headers, body: Bytes::new() };
    let reply = if !authorized(&shared, &arrival.headers) {
        error(190, None)
    } else if !valid_version(&version) || waba_id != shared.config.waba_id {
        unknown_object(&arrival.method, &waba_id)
    } else {
        Reply::ok(&templates::listing(&shared.settings().templates, query.name.as_deref()))
    };
    arrival.answer(&shared, reply)
}

/// Anything else on the Graph side: Meta's "unknown path" error, recorded so a wrong URL in Baton shows up
/// in the journal.
pub(crate) async fn unknown_path(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let arrival = Arrival { endpoint: Endpoint::Other, method, uri, headers, body };
    let (_, mut response) = errors::graph_error(2500, Some(format!("Unknown path components: {path}")));
    response.error.message = format!("Unknown path components: {path}");
    arrival.answer(&shared, Reply::json(400, &response))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(valid_version("v23.0"));
        assert!(valid_version("v9.1"));
        assert!(!valid_version("23.0"));
        assert!(!valid_version("v23"));
        assert!(!valid_version("v23."));
        assert!(!valid_version("vx.0"));
    }
}
