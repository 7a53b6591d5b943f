//! Who a conversation belongs to and where it stands: assigning it (with an optional handover
//! note), its team and priority, its status (resolving releases the claim) and its labels. Each
//! answers with the conversation as stored after the change.

use baton_shared::model::{Conversation, ConversationStatus, MAX_LABELS};
use baton_shared::protocol::ErrorDetail;
use baton_shared::{ConversationId, ErrorCode, UserId};

use super::access::{stored, visible};
use super::{Actor, Refusal, check_text, publish};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::labels::LabelOutcome;
use crate::store::routing::Triage;

/// Assigns the conversation to an active teammate, or to nobody. Assigning releases another
/// holder's claim: for agents that would be a take-over, which is a supervisor's decision. Agents
/// and leads assign a team's conversation only to that team's members.
pub async fn assign(
    state: &AppState,
    actor: &Actor,
    id: ConversationId,
    assignee: Option<UserId>,
    note: Option<String>,
) -> Result<Conversation, Refusal> {
    let conversation = visible(state, actor, id).await?;
    let held_by_other = conversation.live_claim(state.now()).filter(|claim| claim.holder != actor.id());
    if let (Some(claim), false) = (held_by_other, actor.is_supervisor()) {
        return Err(Refusal::new(
            ErrorCode::ClaimedByOther,
            format!("{} is replying to this conversation; ask a supervisor to reassign it.", claim.holder_name),
        )
        .with_detail(ErrorDetail::ClaimedBy { claim: claim.clone() }));
    }
    if let Some(assignee) = assignee {
        let recipient = state.store.user(assignee).await?;
        let Some(recipient) = recipient.filter(|user| !user.disabled) else {
            return Err(Refusal::invalid("A conversation can only go to an active teammate."));
        };
        // Agents and leads assign within the conversation's team; moving it to another team's
        // people is a move of the conversation first (or a supervisor's call).
        if let Some(team) = conversation.team
            && !actor.is_supervisor()
            && !state.hub.teams_of(assignee).contains(&team)
        {
            return Err(Refusal::invalid(format!(
                "{} is not in this conversation's team: move it to their team first, or ask a supervisor.",
                recipient.name
            )));
        }
    }
    let note = note.filter(|note| !note.trim().is_empty());
    if let Some(note) = &note {
        check_text(note, "note")?;
    }
    let events = state.store.assign(id, actor.id(), assignee, note.as_deref(), state.now()).await?;
    publish(state, &events);
    stored(state, id).await
}

/// Moves the conversation to a team's queue (or the general inbox) and/or sets its priority.
/// Whoever may see it may do either; a move to another team returns it to that team's queue.
pub async fn triage(
    state: &AppState,
    actor: &Actor,
    id: ConversationId,
    triage: Triage,
) -> Result<Conversation, Refusal> {
    let conversation = visible(state, actor, id).await?;
    // A move releases the claim: taking it from someone replying is a supervisor's decision.
    let moves = triage.team.is_some_and(|team| team != conversation.team);
    let held_by_other = conversation.live_claim(state.now()).filter(|claim| claim.holder != actor.id());
    if let (true, Some(claim), false) = (moves, held_by_other, actor.is_supervisor()) {
        return Err(Refusal::new(
            ErrorCode::ClaimedByOther,
            format!("{} is replying to this conversation; ask a supervisor to move it.", claim.holder_name),
        )
        .with_detail(ErrorDetail::ClaimedBy { claim: claim.clone() }));
    }
    let events = match state.store.triage(id, actor.id(), triage, state.now()).await {
        Err(StoreError::NotFound) => return Err(Refusal::invalid("There is no such team.")),
        outcome => outcome?,
    };
    publish(state, &events);
    stored(state, id).await
}

/// Sets the status; resolving also releases the claim.
pub async fn set_status(
    state: &AppState,
    actor: &Actor,
    id: ConversationId,
    status: ConversationStatus,
) -> Result<Conversation, Refusal> {
    visible(state, actor, id).await?;
    let events = state.store.set_status(id, actor.id(), status, state.now()).await?;
    publish(state, &events);
    // Answered with what was stored, even if the conversation was assigned away meanwhile: the
    // change was made, and saying "not found" would be false.
    stored(state, id).await
}

/// A status change as asked (socket `set_status`, `PUT …/status`): with `until`, a snooze, which
/// only `pending` takes.
pub async fn change_status(
    state: &AppState,
    actor: &Actor,
    id: ConversationId,
    status: ConversationStatus,
    until: Option<i64>,
) -> Result<Conversation, Refusal> {
    match until {
        None => set_status(state, actor, id, status).await,
        Some(until) if status == ConversationStatus::Pending => snooze(state, actor, id, until).await,
        Some(_) => Err(Refusal::invalid("Only a pending conversation waits until a time.")),
    }
}

/// The longest a snooze may last.
const SNOOZE_MAX_MS: i64 = 366 * 86_400_000;

/// Snoozes the conversation: pending until `until` (Unix ms, at least a minute ahead, at most a
/// year), when it reopens by itself and tells its assignee. A customer message reopens it sooner.
pub async fn snooze(state: &AppState, actor: &Actor, id: ConversationId, until: i64) -> Result<Conversation, Refusal> {
    let conversation = visible(state, actor, id).await?;
    if conversation.status == ConversationStatus::Resolved {
        return Err(Refusal::invalid("A resolved conversation is not snoozed: reopen it first."));
    }
    let now = state.now();
    if until < now.saturating_add(60_000) || until > now.saturating_add(SNOOZE_MAX_MS) {
        return Err(Refusal::invalid("A snooze ends between a minute and a year from now."));
    }
    let events = state.store.snooze(id, actor.id(), until, now).await?;
    publish(state, &events);
    stored(state, id).await
}

/// Adds and removes labels under the conversation's lock.
pub async fn edit_labels(
    state: &AppState,
    actor: &Actor,
    id: ConversationId,
    add: &[String],
    remove: &[String],
) -> Result<Conversation, Refusal> {
    // Bounded before any work: a valid edit never names more labels than a conversation holds.
    if add.len() > MAX_LABELS || remove.len() > MAX_LABELS {
        return Err(Refusal::invalid(format!("A conversation may have at most {MAX_LABELS} labels.")));
    }
    visible(state, actor, id).await?;
    match state.store.edit_labels(id, actor.id(), add, remove, state.now()).await? {
        LabelOutcome::Changed(event) => publish(state, std::slice::from_ref(&*event)),
        LabelOutcome::Unchanged => {}
        LabelOutcome::Refused(why) => return Err(Refusal::invalid(why)),
    }
    stored(state, id).await
}
