//! Take next: an agent pulls work. The store picks and assigns in one transaction under the locks
//! of all the agent's teams, so agents pressing it at once each get a different conversation, and
//! none gets more than their capacity allows.

use baton_shared::ErrorCode;
use baton_shared::model::Conversation;

use crate::conversations::{Actor, Refusal, access, publish};
use crate::state::AppState;
use crate::store::routing::TakeOutcome;

/// Assigns `actor` the most urgent, then longest waiting, conversation of their teams' queues.
pub async fn take_next(state: &AppState, actor: &Actor) -> Result<Conversation, Refusal> {
    match state.store.take_next(actor.id(), state.now()).await? {
        TakeOutcome::Took { conversation, events } => {
            publish(state, &events);
            // Answered with it as stored now, even if it was reassigned meanwhile: the take was made.
            access::stored(state, conversation).await
        }
        TakeOutcome::Empty => Err(Refusal::new(ErrorCode::QueueEmpty, "Nothing is waiting in your teams' queues.")),
        TakeOutcome::Full { load } => Err(Refusal::new(
            ErrorCode::AtCapacity,
            format!("You hold {load} conversations, as many as your capacity allows: resolve or hand one over first."),
        )),
    }
}
