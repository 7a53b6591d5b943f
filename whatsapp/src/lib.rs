//! The WhatsApp Cloud API contract, as Rust types and pure functions.
//!
//! Baton talks to exactly one outside system that it does not control: Meta's WhatsApp Cloud API. This crate
//! writes down that contract once (the handbook's `whatsapp/CONTRACT.md`), so that both sides Baton needs agree
//! on it byte for byte:
//!
//! - Baton's **server** verifies and reads webhooks ([`signature`], [`webhook`]) and sends through the Graph
//!   API ([`graph`]);
//! - the **WhatsApp simulator** used by the end-to-end tests plays Meta's side: it signs webhooks with
//!   [`signature::sign`], writes them with Meta's `\uXXXX` escaping ([`escape`]), parses what Baton sends
//!   ([`graph::parse_request`]) and answers with the contract's success and error shapes.
//!
//! | module | owns |
//! |---|---|
//! | [`signature`] | `X-Hub-Signature-256`: HMAC-SHA256 over the raw body, constant-time check, typed refusals |
//! | [`webhook`] | the POST envelope (lenient serde types), [`webhook::Item`]s, status ordering, the GET handshake |
//! | [`graph`] | request bodies for `/{phone_number_id}/messages`, responses, and what to do about each error code |
//! | [`escape`] | JSON written the way Meta writes it: ASCII only, non-ASCII as `\uXXXX` |
//! | [`fixtures`] | the contract's webhook fixtures, byte-exact, for tests on both sides |
//!
//! # What is deliberately not here
//!
//! No I/O of any kind: no HTTP client or server, no tokio, no clock, no database, no configuration loading.
//! Functions take bytes and values and return values, so every rule above is unit-testable and the simulator
//! cannot drift from the server. Retry scheduling, deduplication storage, the 24-hour window bookkeeping and
//! media downloads belong to the server; this crate only says what the wire looks like and what each answer
//! means.
//!
//! # Leniency
//!
//! Meta keeps adding fields and message types. Incoming types therefore ignore unknown fields, treat almost
//! everything as optional, and keep the raw JSON of anything they cannot read ([`Lenient`]), so that one odd
//! message never makes Baton drop the rest of a webhook.

pub mod escape;
pub mod fixtures;
pub mod graph;
mod lenient;
pub mod signature;
pub mod webhook;

pub use lenient::Lenient;
