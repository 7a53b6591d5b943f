//! The claim: a hard lock on replying. Only its holder sends (the send rule is
//! [`baton_shared::rules::may_send`]); a claim is live until its lease runs out
//! ([`baton_shared::model::Claim::is_live`]) and the lease keeper renews it while its holder is
//! connected. Here: taking it (by hand or by typing: the typing lock), releasing it, handing it
//! to a teammate, a supervisor's take-over, and letting go of a claim its holder left unused.

use baton_shared::model::{Change, Claim, ConversationEvent};
use baton_shared::protocol::ErrorDetail;
use baton_shared::{ConversationId, ErrorCode, UserId};

use super::access::visible;
use super::{Actor, MAX_TEXT_CHARS, Refusal, publish};
use crate::hub::TypingLock;
use crate::state::AppState;
use crate::store::conversations::{ClaimOutcome, Handover};

/// When a claim taken or renewed now lapses.
pub fn lease_until(state: &AppState) -> i64 {
    state.now().saturating_add(i64::try_from(state.config.claim_lease.as_millis()).unwrap_or(i64::MAX))
}

fn claimed_by_other(claim: Claim, message: String) -> Refusal {
    Refusal::new(ErrorCode::ClaimedByOther, message).with_detail(ErrorDetail::ClaimedBy { claim })
}

/// Takes the conversation's claim, or renews the actor's own. Refused while someone else holds it.
pub async fn claim(state: &AppState, actor: &Actor, id: ConversationId) -> Result<Claim, Refusal> {
    visible(state, actor, id).await?;
    take(state, actor, id).await
}

/// [`claim`] once the actor is known to see the conversation.
async fn take(state: &AppState, actor: &Actor, id: ConversationId) -> Result<Claim, Refusal> {
    match state.store.claim(id, actor.id(), lease_until(state), state.now()).await? {
        ClaimOutcome::Held { claim, event } => {
            if let Some(event) = event {
                publish(state, &[event]);
            }
            Ok(claim)
        }
        ClaimOutcome::ClaimedByOther { claim } => {
            let message = format!("{} is replying to this conversation.", claim.holder_name);
            Err(claimed_by_other(claim, message))
        }
    }
}

/// Gives the actor's claim up.
pub async fn release(state: &AppState, actor: &Actor, id: ConversationId) -> Result<(), Refusal> {
    visible(state, actor, id).await?;
    match state.store.release(id, actor.id(), state.now()).await? {
        Some(event) => {
            publish(state, &[event]);
            Ok(())
        }
        None => Err(Refusal::new(ErrorCode::NotClaimHolder, "You do not hold this conversation's claim.")),
    }
}

/// A supervisor takes the claim from whoever holds it.
pub async fn take_over(state: &AppState, actor: &Actor, id: ConversationId) -> Result<Claim, Refusal> {
    if !actor.is_supervisor() {
        return Err(Refusal::forbidden("take over a conversation"));
    }
    visible(state, actor, id).await?;
    let event = state.store.hand_over(id, actor.id(), Handover::TakeOver, lease_until(state), state.now()).await?;
    publish_handover(state, event)
}

/// Hands the claim to teammate `to`: its holder may, and supervisors may for anyone's.
pub async fn transfer(state: &AppState, actor: &Actor, id: ConversationId, to: UserId) -> Result<Claim, Refusal> {
    let conversation = visible(state, actor, id).await?;
    let holds = conversation.claim.as_ref().is_some_and(|claim| claim.holder == actor.id());
    if !holds && !actor.is_supervisor() {
        return Err(Refusal::forbidden("hand over a conversation you do not hold"));
    }
    let recipient = state.store.user(to).await?;
    let Some(recipient) = recipient.filter(|user| !user.disabled) else {
        return Err(Refusal::invalid("The claim can only go to an active teammate."));
    };
    // A holder who may not see the conversation could neither reply nor release it.
    if !state.actor(&recipient).may_see(&conversation) {
        return Err(Refusal::invalid(format!(
            "{} may not see this conversation: assign it to them instead.",
            recipient.name
        )));
    }
    // Only if still assigned as when the recipient's access was checked.
    let handover = Handover::Transfer { to, assignee: conversation.assignee };
    let event = state.store.hand_over(id, actor.id(), handover, lease_until(state), state.now()).await?;
    publish_handover(state, event)
}

/// Publishes a hand-over and answers with the claim it made.
fn publish_handover(state: &AppState, event: ConversationEvent) -> Result<Claim, Refusal> {
    let claim = match &event.change {
        Change::Claimed { claim } | Change::Transferred { claim, .. } | Change::TakenOver { claim, .. } => {
            Some(claim.clone())
        }
        _ => None,
    };
    publish(state, &[event]);
    claim.ok_or_else(|| super::unexpected("a hand-over was stored without a claim"))
}

/// The typing lock: a keystroke claims an unclaimed conversation, and is refused in one someone
/// else holds — before anyone sees it typed. Once checked, the actor's next keystrokes skip the
/// store until something happens in the conversation ([`TypingLock`]). Answers with the claim
/// when this keystroke took it.
pub async fn typing(
    state: &AppState,
    actor: &Actor,
    id: ConversationId,
    draft: String,
) -> Result<Option<Claim>, Refusal> {
    if draft.chars().count() > MAX_TEXT_CHARS {
        return Err(Refusal::invalid(format!("A reply may have at most {MAX_TEXT_CHARS} characters.")));
    }
    let user = actor.id();
    if state.hub.typing_lock_held(id, user, state.now()) {
        state.hub.typing(id, actor.teammate(), draft);
        state.whatsapp.receipts.typing(id);
        return Ok(None);
    }
    // Read before the store: an event committed after the check moves it.
    let epoch = state.hub.conversation_epoch(id);
    let conversation = visible(state, actor, id).await?;
    let (taken, lease_until) = match conversation.claim.as_ref().filter(|claim| claim.is_held_by(user, state.now())) {
        Some(held) => (None, held.lease_until),
        None => {
            let taken = take(state, actor, id).await?;
            let lease_until = taken.lease_until;
            (Some(taken), lease_until)
        }
    };
    state.hub.typing(id, actor.teammate(), draft);
    state.hub.remember_typing_lock(id, user, TypingLock { epoch, lease_until });
    state.whatsapp.receipts.typing(id);
    Ok(taken)
}

/// The actor stopped viewing the conversation (in every tab): a claim of theirs with nothing
/// typed is let go, so a claim nobody uses does not lock teammates out. A draft keeps the claim:
/// the actor means to come back to it.
pub async fn let_go_if_unused(state: &AppState, actor: &Actor, id: ConversationId) -> Result<(), Refusal> {
    let user = actor.id();
    if state.hub.viewers(id).iter().any(|viewer| viewer.id == user) {
        return Ok(());
    }
    let Some(conversation) = state.store.conversation(id).await? else { return Ok(()) };
    if !conversation.claim.is_some_and(|claim| claim.is_held_by(user, state.now())) {
        return Ok(());
    }
    // The last keystrokes may still wait in the hub's throttle or the draft writer: what was
    // typed last counts.
    let typed = match state.hub.waiting_draft(id, user) {
        Some(draft) => !draft.trim().is_empty(),
        None => {
            state.drafts.flush(&*state.store).await;
            state.store.draft(id, user).await?.is_some_and(|draft| !draft.trim().is_empty())
        }
    };
    if !typed && let Some(event) = state.store.release(id, user, state.now()).await? {
        state.hub.stop_typing(id, actor.teammate());
        publish(state, &[event]);
    }
    Ok(())
}
