//! Messages Baton sends by itself (greeting, away message, queue acknowledgement): the
//! [`Actor::Automation`]'s send. A person's rule does not fit it — it holds no claim — so it has
//! its own, decided by the store inside the transaction that queues the message
//! ([`crate::store::automation::AutomationStore::send_automated`]): never while a person holds
//! the claim, only inside WhatsApp's 24-hour window, never twice under one key or too soon after
//! one of its kind, and never past the customer's hourly cap. What passes goes through the outbox
//! like any reply, so a failure shows in the timeline with WhatsApp's reason.

use super::{Actor, Refusal, check_text, publish};
use crate::state::AppState;
use crate::store::automation::{AutomatedOutcome, AutomatedReply};

/// Sends `reply` if its guards allow; the outcome says what happened (only `Sent` changed
/// anything).
pub async fn send(state: &AppState, actor: &Actor, reply: &AutomatedReply) -> Result<AutomatedOutcome, Refusal> {
    if !actor.is_automation() {
        return Err(Refusal::new(
            baton_shared::ErrorCode::Forbidden,
            "Only Baton's automation sends automated messages.",
        ));
    }
    check_text(&reply.body, "automated message")?;
    let outcome = state.store.send_automated(reply, state.now()).await?;
    if let AutomatedOutcome::Sent { event } = &outcome {
        publish(state, std::slice::from_ref(event));
        state.whatsapp.sender.wake();
    }
    Ok(outcome)
}
