//! Internal notes: the team's words beside a conversation, never sent to the customer. Anyone who
//! sees the conversation adds them; authors edit and delete their own, supervisors and admins any
//! (edits are checked against the version they were based on). `@alice` in a note notifies Alice,
//! if she may see the conversation.

use baton_shared::model::{Change, ConversationEvent, Note};
use baton_shared::protocol::{ErrorDetail, ServerMsg, Teammate};
use baton_shared::{ConversationId, ErrorCode, NoteId};

use super::access::{visible, visible_note};
use super::{Actor, Refusal, check_text, publish};
use crate::state::AppState;
use crate::store::conversations::NoteEditOutcome;

/// Adds a note to a conversation the actor sees.
pub async fn add(
    state: &AppState,
    actor: &Actor,
    conversation_id: ConversationId,
    body: &str,
) -> Result<Note, Refusal> {
    visible(state, actor, conversation_id).await?;
    check_text(body, "note")?;
    let event = state.store.add_note(conversation_id, actor.id(), body, state.now()).await?;
    notify_mentions(state, actor, &event).await;
    publish_note(state, event)
}

/// Replaces a note's text, if nobody changed it since `base_version`; a conflict answers with
/// their version and overwrites nothing.
pub async fn edit(state: &AppState, actor: &Actor, id: NoteId, body: &str, base_version: u32) -> Result<Note, Refusal> {
    editable(state, actor, id).await?;
    check_text(body, "note")?;
    match state.store.edit_note(id, actor.id(), body, base_version, state.now()).await? {
        NoteEditOutcome::Edited { event } => {
            notify_mentions(state, actor, &event).await;
            publish_note(state, event)
        }
        NoteEditOutcome::Conflict { current } => Err(Refusal::new(
            ErrorCode::Conflict,
            "A teammate changed this note meanwhile. Here is their version; nothing was overwritten.",
        )
        .with_detail(ErrorDetail::CurrentNote { note: current })),
    }
}

pub async fn delete(state: &AppState, actor: &Actor, id: NoteId) -> Result<(), Refusal> {
    editable(state, actor, id).await?;
    let event = state.store.delete_note(id, actor.id(), state.now()).await?;
    publish(state, &[event]);
    Ok(())
}

/// Authors edit their notes; supervisors and admins edit any.
async fn editable(state: &AppState, actor: &Actor, id: NoteId) -> Result<(), Refusal> {
    let note = visible_note(state, actor, id).await?;
    if note.author == actor.id() || actor.is_supervisor() {
        Ok(())
    } else {
        Err(Refusal::forbidden("change a teammate's note"))
    }
}

/// Publishes a note's event and answers with the note as stored.
fn publish_note(state: &AppState, event: ConversationEvent) -> Result<Note, Refusal> {
    let note = match &event.change {
        Change::NoteAdded { note } | Change::NoteEdited { note } => Some(note.clone()),
        _ => None,
    };
    publish(state, &[event]);
    note.ok_or_else(|| super::unexpected("a note was stored without its note event"))
}

/// `@alice` in a note notifies every active user whose first name or email name is `alice`, if
/// they may see the conversation.
async fn notify_mentions(state: &AppState, actor: &Actor, event: &ConversationEvent) {
    let (Change::NoteAdded { note } | Change::NoteEdited { note }) = &event.change else { return };
    let handles = mentions(&note.body);
    if handles.is_empty() {
        return;
    }
    // Only teammates who may see the conversation (as stored now: it may have been assigned
    // since) hear of it: a mention must not reveal a conversation to someone who cannot open it.
    let conversation = match state.store.conversation(note.conversation_id).await {
        Ok(Some(conversation)) => conversation,
        Ok(None) => return,
        Err(error) => {
            tracing::warn!(%error, "cannot read the conversation of an @mention");
            return;
        }
    };
    let users = match state.store.users().await {
        Ok(users) => users,
        Err(error) => {
            tracing::warn!(%error, "cannot resolve @mentions");
            return;
        }
    };
    let notified =
        users.iter().filter(|user| !user.disabled && user.id != actor.id() && state.actor(user).may_see(&conversation));
    for user in notified {
        let first_name = user.name.split_whitespace().next().unwrap_or_default().to_lowercase();
        let email_name = user.email.split('@').next().unwrap_or_default().to_lowercase();
        if handles.iter().any(|handle| *handle == first_name || *handle == email_name) {
            let by = Teammate { id: actor.id(), name: actor.teammate().name.clone() };
            let message = ServerMsg::Mentioned { conversation_id: note.conversation_id, note_id: note.id, by };
            state.hub.send_to_user(user.id, &message);
        }
    }
}

/// The lower-cased handles after `@` in a text.
pub fn mentions(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '!' | '?' | '(' | ')'))
        .filter_map(|word| word.strip_prefix('@'))
        .map(|handle| handle.trim_end_matches('.').to_lowercase())
        .filter(|handle| !handle.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_found_in_text() {
        assert_eq!(mentions("Ask @Alice, or @bob.smith. Not email@x.com"), ["alice", "bob.smith"]);
        assert!(mentions("no one here @").is_empty());
    }
}
