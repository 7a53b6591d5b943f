//! Baton's wire types, shared by the server and the WASM app.
//!
//! Everything that crosses the network lives here and nowhere else: id newtypes ([`ids`]), the
//! WebSocket protocol ([`protocol`]), REST request/response bodies ([`api`]) and the error codes
//! both of them carry ([`error`]). The crate depends on serde only, so it builds for
//! `wasm32-unknown-unknown` as well as natively.

pub mod api;
pub mod error;
pub mod ids;
pub mod model;
pub mod protocol;

pub use error::{ApiError, ErrorCode};
pub use ids::{ContactId, ConversationId, MessageId, NoteId, UserId};
