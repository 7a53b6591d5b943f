//! What the customer sees of the team's attention (contract §6.4, §6.5): blue ticks when an agent
//! opens the conversation, and "typing…" while the claim holder writes. Both are best-effort and
//! off the request path — a failure is logged, never shown to the agent, and never blocks a reply.

use std::time::Duration;

use baton_shared::ConversationId;
use dashmap::DashMap;
use tokio::time::Instant;

use crate::state::AppState;

/// WhatsApp shows "typing…" for 25 s; renewing a little earlier keeps it steady.
const TYPING_RENEW: Duration = Duration::from_secs(20);

/// What was last sent per conversation, so repeated opens and keystrokes cost nothing.
#[derive(Default)]
pub struct Receipts {
    /// The newest customer message marked read, per conversation.
    read: DashMap<ConversationId, String>,
    /// When "typing…" was last shown, per conversation.
    typing: DashMap<ConversationId, Instant>,
}

impl Receipts {
    /// An agent opened the conversation: mark the customer's newest message read.
    pub fn opened(&self, state: &AppState, conversation: ConversationId) {
        spawn_receipt(state, conversation, false);
    }

    /// The claim holder is typing: show "typing…" to the customer (which also marks read), at
    /// most once per [`TYPING_RENEW`].
    pub fn typing(&self, state: &AppState, conversation: ConversationId) {
        if !state.config.whatsapp.typing_indicator || state.graph.is_none() {
            return;
        }
        let now = Instant::now();
        let due = self.typing.get(&conversation).is_none_or(|shown| now.duration_since(*shown) >= TYPING_RENEW);
        if due {
            self.typing.insert(conversation, now);
            spawn_receipt(state, conversation, true);
        }
    }

    /// A reply went: the indicator is gone on the customer's side, so the next keystroke shows it again.
    pub fn replied(&self, conversation: ConversationId) {
        self.typing.remove(&conversation);
    }
}

fn spawn_receipt(state: &AppState, conversation: ConversationId, typing: bool) {
    let Some(graph) = state.graph.clone() else { return };
    let state = state.clone();
    tokio::spawn(async move {
        let wamid = match state.store.last_inbound_wamid(conversation).await {
            Ok(Some(wamid)) => wamid,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(%error, %conversation, "cannot find the message to mark read");
                return;
            }
        };
        let receipts = &state.receipts;
        if !typing && receipts.read.get(&conversation).is_some_and(|read| *read == wamid) {
            return;
        }
        match graph.mark_read(&wamid, typing).await {
            Ok(()) => {
                receipts.read.insert(conversation, wamid);
            }
            Err(error) => tracing::warn!(%error, %conversation, typing, "WhatsApp read receipt not sent"),
        }
    });
}
