//! Error codes shared by REST error bodies (`{code, message}`) and the WebSocket's
//! `ServerMsg::Error`. Clients branch on the code; the message is a human sentence.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A machine-readable error code. Serialized in `snake_case`; the set only grows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request was understood but its content is not acceptable (a field out of range…).
    InvalidInput,
    /// The body is not valid JSON, or not the JSON shape the endpoint expects.
    MalformedJson,
    /// The body is not declared as `application/json`.
    UnsupportedMediaType,
    /// The body is larger than the endpoint accepts.
    PayloadTooLarge,
    /// No valid session: log in first.
    Unauthenticated,
    /// Email and password do not match an active account (never says which one was wrong).
    InvalidCredentials,
    /// Too many failed attempts; retry later.
    TooManyRequests,
    /// Logged in, but the role does not allow this.
    Forbidden,
    /// A state-changing request without the CSRF header, or from a foreign Origin.
    CsrfRejected,
    /// No such route or resource.
    NotFound,
    /// The route exists but not with this HTTP method.
    MethodNotAllowed,
    /// Another account already uses this email.
    EmailTaken,
    /// The change would leave Baton without an active admin.
    LastAdmin,
    /// Something failed on the server; details are in the server log, under the request id.
    Internal,
    /// The server is up but cannot serve this yet (for example the web app was not built).
    Unavailable,
    /// Someone else holds the conversation's claim (the detail says who).
    ClaimedByOther,
    /// Only the claim's holder may do this (reply, release).
    NotClaimHolder,
    /// The customer or a teammate wrote since `seen_seq`; resend with `force` to send anyway.
    ConversationChanged,
    /// The thing changed since the version the request was based on.
    Conflict,
    /// A WebSocket frame that is not a text frame holding a known message.
    UnsupportedFrame,
    /// A webhook whose signature is malformed or does not match its body.
    BadSignature,
    /// The customer's 24-hour service window is closed: only an approved template may be sent
    /// (the detail lists them).
    WindowClosed,
    /// The thing cannot be done in its current state (e.g. retrying a message that did not fail).
    InvalidState,
    /// Take next found nothing waiting in the agent's teams' queues.
    QueueEmpty,
    /// Take next: the agent already holds as many conversations as their capacity allows.
    AtCapacity,
}

impl ErrorCode {
    /// The wire spelling, as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::WindowClosed => "window_closed",
            ErrorCode::InvalidState => "invalid_state",
            ErrorCode::QueueEmpty => "queue_empty",
            ErrorCode::AtCapacity => "at_capacity",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::CsrfRejected => "csrf_rejected",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::EmailTaken => "email_taken",
            ErrorCode::LastAdmin => "last_admin",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::ClaimedByOther => "claimed_by_other",
            ErrorCode::NotClaimHolder => "not_claim_holder",
            ErrorCode::ConversationChanged => "conversation_changed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::UnsupportedFrame => "unsupported_frame",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every REST error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// What a refused conversation operation adds, as the socket's `error` carries it (who holds
    /// the claim, the messages missed, the templates to send instead…). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<crate::protocol::ErrorDetail>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_str_matches_serde_spelling() {
        for code in [
            ErrorCode::InvalidInput,
            ErrorCode::MalformedJson,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::PayloadTooLarge,
            ErrorCode::Unauthenticated,
            ErrorCode::InvalidCredentials,
            ErrorCode::TooManyRequests,
            ErrorCode::Forbidden,
            ErrorCode::CsrfRejected,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::EmailTaken,
            ErrorCode::LastAdmin,
            ErrorCode::Internal,
            ErrorCode::Unavailable,
            ErrorCode::ClaimedByOther,
            ErrorCode::NotClaimHolder,
            ErrorCode::ConversationChanged,
            ErrorCode::Conflict,
            ErrorCode::UnsupportedFrame,
            ErrorCode::BadSignature,
            ErrorCode::WindowClosed,
            ErrorCode::InvalidState,
            ErrorCode::QueueEmpty,
            ErrorCode::AtCapacity,
        ] {
            let json = serde_json::to_string(&code).expect("serializes");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
