//! Messages Baton sends by itself (greeting, away message, queue acknowledgement): the
//! [`Actor::Automation`]'s send. A person's rule does not fit it — it holds no claim — so it has
//! its own, decided by the store inside the transaction that queues the message
//! ([`crate::store::automation::AutomationStore::send_automated`]): never while a person holds
//! the claim, only inside WhatsApp's 24-hour window, never twice under one key or too soon after
//! one of its kind, never past the customer's hourly cap, and never to a blocked customer. What
//! passes goes through the outbox like any reply, so a failure shows in the timeline with
//! WhatsApp's reason.
//!
//! The menu bot's steps are the Automation actor's too: starting its turn (the menu, and the
//! claim held as "Bot"), asking again, and handing the conversation to people. Each is one store
//! transaction that checks the turn is still on: a person who took the claim ended it.

use baton_shared::MessageId;

use super::{Actor, Refusal, check_text, publish};
use crate::state::AppState;
use crate::store::automation::{AutomatedOutcome, AutomatedReply, BotOutcome, Handoff};

/// How long the bot holds a conversation waiting for a choice: WhatsApp's window.
const BOT_LEASE_MS: i64 = 24 * 3_600_000;

fn automation_only(actor: &Actor) -> Result<(), Refusal> {
    if actor.is_automation() {
        Ok(())
    } else {
        Err(Refusal::new(baton_shared::ErrorCode::Forbidden, "Only Baton's automation does this."))
    }
}

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

/// Starts the menu bot's turn with `menu`, keeping the customer's first words `said`; whether it
/// started (not in a conversation someone holds or is assigned, nor past the guards).
pub async fn start_bot(
    state: &AppState,
    actor: &Actor,
    menu: &AutomatedReply,
    message: MessageId,
    said: &str,
) -> Result<bool, Refusal> {
    automation_only(actor)?;
    let lease_until = state.now().saturating_add(BOT_LEASE_MS);
    Ok(announce(state, state.store.start_bot(menu, message, said, lease_until, state.now()).await?))
}

/// Asks again with `menu`, keeping the answer `said` that was no choice; whether it did.
pub async fn ask_again(
    state: &AppState,
    actor: &Actor,
    menu: &AutomatedReply,
    message: MessageId,
    said: &str,
) -> Result<bool, Refusal> {
    automation_only(actor)?;
    Ok(announce(state, state.store.bot_ask_again(menu, message, said, state.now()).await?))
}

/// Hands the conversation to people as `handoff` says; whether the bot's turn was still on.
pub async fn hand_off(state: &AppState, actor: &Actor, handoff: &Handoff) -> Result<bool, Refusal> {
    automation_only(actor)?;
    Ok(announce(state, state.store.bot_hand_off(handoff, state.now()).await?))
}

/// Publishes what a bot step committed; whether it did anything.
fn announce(state: &AppState, outcome: BotOutcome) -> bool {
    match outcome {
        BotOutcome::Done { events } => {
            publish(state, &events);
            state.whatsapp.sender.wake();
            true
        }
        BotOutcome::NotSent(skipped) => {
            tracing::debug!(?skipped, "the menu was not sent");
            false
        }
        BotOutcome::NoTurn => false,
    }
}
