//! Who may see a conversation, and so act in it. The rule itself is
//! [`baton_shared::rules::visible_to`]; here it is applied to what the store holds, and a
//! conversation (or a note, or a message in one) the actor may not see is answered exactly as one
//! that does not exist.

use baton_shared::model::{Conversation, Message, Note};
use baton_shared::{ConversationId, MessageId, NoteId};

use super::{Actor, Refusal};
use crate::state::AppState;

/// The conversation as stored now; `not_found` if there is none.
pub async fn stored(state: &AppState, id: ConversationId) -> Result<Conversation, Refusal> {
    state.store.conversation(id).await?.ok_or_else(Refusal::not_found)
}

/// The conversation, if `actor` may see it.
pub async fn visible(state: &AppState, actor: &Actor, id: ConversationId) -> Result<Conversation, Refusal> {
    let conversation = stored(state, id).await?;
    if actor.may_see(&conversation) { Ok(conversation) } else { Err(Refusal::not_found()) }
}

/// A message and its conversation, if `actor` may see that conversation.
pub async fn visible_message(
    state: &AppState,
    actor: &Actor,
    id: MessageId,
) -> Result<(Message, Conversation), Refusal> {
    let message = state.store.message(id).await?.ok_or_else(Refusal::not_found)?;
    let conversation = visible(state, actor, message.conversation_id).await?;
    Ok((message, conversation))
}

/// A note, if `actor` may see its conversation.
pub async fn visible_note(state: &AppState, actor: &Actor, id: NoteId) -> Result<Note, Refusal> {
    let note = state.store.note(id).await?.ok_or_else(Refusal::not_found)?;
    visible(state, actor, note.conversation_id).await?;
    Ok(note)
}

/// The conversations `actor` may see among `conversations`.
pub fn filter_visible(actor: &Actor, conversations: impl IntoIterator<Item = Conversation>) -> Vec<Conversation> {
    conversations.into_iter().filter(|conversation| actor.may_see(conversation)).collect()
}
