//! Baton's wire types, shared by the server and the WASM app.
//!
//! Everything that crosses the network lives here and nowhere else: id newtypes ([`ids`]), the
//! WebSocket protocol ([`protocol`]), REST request/response bodies ([`api`]) and the error codes
//! both of them carry ([`error`]). Beside them, [`rules`]: the pure predicates every part of Baton
//! decides by (a claim is live, held, a conversation visible, a reply allowed), so the server's
//! transactions, the hub's feeds and the app cannot disagree. The crate depends on serde only, so
//! it builds for `wasm32-unknown-unknown` as well as natively.

pub mod api;
pub mod automation;
pub mod contacts;
pub mod csat;
pub mod error;
pub mod ids;
pub mod menu;
pub mod model;
pub mod protocol;
pub mod reports;
pub mod routing_rules;
pub mod rules;
pub mod search;
pub mod sla;
pub mod teams;

pub use error::{ApiError, ErrorCode};
pub use ids::{ContactId, ConversationId, MessageId, NoteId, TeamId, UserId};
