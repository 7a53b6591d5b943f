//! # The conversation domain: every rule on a conversation, in one place
//!
//! Each operation here takes an [`Actor`] (who acts: today a user with a role; next the routing
//! engine, automations and API tokens) and returns a typed value or a typed [`Refusal`]. None of
//! them knows about sockets or HTTP: the WebSocket dispatcher ([`crate::realtime`]) and the REST
//! handlers ([`crate::http::conversations`]) parse, call, and map the answer to their wire.
//!
//! One module per concern:
//! - [`access`]: who may see a conversation, and so act in it (the visibility rule itself is
//!   [`baton_shared::rules::visible_to`]).
//! - [`claims`]: claim, release, transfer, take-over, the typing lock, and letting go of an unused
//!   claim when its holder leaves. The claim rule lives here and in [`baton_shared::rules`].
//! - [`replies`]: text, media, template, reaction and retry — only the live claim holder sends
//!   ([`baton_shared::rules::may_send`], checked inside the store's transaction).
//! - [`notes`]: internal notes, with @mentions.
//! - [`assignment`]: assign, status and labels.
//! - [`automated`]: what Baton sends by itself, under the loop guards.
//! - [`search`]: search across what the actor may see.
//!
//! An operation runs one store transaction, then publishes the committed events
//! ([`publish`]) so every socket watching sees them in order.

pub mod access;
pub mod actor;
pub mod assignment;
pub mod automated;
pub mod claims;
pub mod notes;
pub mod refusal;
pub mod replies;
pub mod search;

use baton_shared::model::ConversationEvent;

pub use actor::Actor;
pub use refusal::Refusal;

use crate::state::AppState;

/// Longest reply or note accepted (WhatsApp's own text limit is 4096 characters).
pub const MAX_TEXT_CHARS: usize = 4096;

/// Hands committed events to the bus, which fans them out in seq order.
pub(crate) fn publish(state: &AppState, events: &[ConversationEvent]) {
    state.bus.publish(events);
}

/// A reply's or note's text: not blank, at most [`MAX_TEXT_CHARS`].
pub(crate) fn check_text(body: &str, what: &str) -> Result<(), Refusal> {
    if body.trim().is_empty() {
        Err(Refusal::invalid(format!("An empty {what} cannot be sent.")))
    } else if body.chars().count() > MAX_TEXT_CHARS {
        Err(Refusal::invalid(format!("A {what} may have at most {MAX_TEXT_CHARS} characters.")))
    } else {
        Ok(())
    }
}

/// A store answer that breaks its own contract: logged, and answered as an internal failure.
pub(crate) fn unexpected(what: &str) -> Refusal {
    tracing::error!(what, "unexpected store answer");
    Refusal::new(baton_shared::ErrorCode::Internal, "Something went wrong on the server; it has been logged.")
}
