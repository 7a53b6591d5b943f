//! The WebSocket protocol: what a client sends ([`ClientMsg`]) and what the server pushes
//! ([`ServerMsg`]). JSON objects tagged by `"type"` in `snake_case`. Every client request carries a
//! `req_id` chosen by the client, answered by exactly one [`ServerMsg::Ack`] or
//! [`ServerMsg::Error`] with the same `req_id`.
//!
//! The socket itself arrives with the real-time core; the envelope is fixed now so both ends grow
//! from the same shape.

use crate::api::Me;
use crate::error::ErrorCode;
use serde::{Deserialize, Serialize};

/// A client's request id, echoed back in the answer.
pub type ReqId = u64;

/// Messages from a client to the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// Liveness check at the application level; answered by an `ack`.
    Ping { req_id: ReqId },
}

/// Messages from the server to a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// First message on a new socket: who the server thinks you are.
    Hello { me: Me, server_version: String },
    /// A request succeeded.
    Ack { req_id: ReqId },
    /// A request failed, or (with no `req_id`) a frame could not be understood at all.
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<ReqId>,
        code: ErrorCode,
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_tagged_by_type() {
        let ping: ClientMsg = serde_json::from_str(r#"{"type":"ping","req_id":7}"#).expect("parses");
        assert_eq!(ping, ClientMsg::Ping { req_id: 7 });
        let err = ServerMsg::Error { req_id: None, code: ErrorCode::MalformedJson, message: "x".into() };
        assert_eq!(
            serde_json::to_string(&err).expect("serializes"),
            r#"{"type":"error","code":"malformed_json","message":"x"}"#
        );
    }
}
