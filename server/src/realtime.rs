//! The WebSocket requests: a thin dispatcher. Each request is parsed by [`crate::ws`], run here as
//! the socket's user ([`Actor`]) through the conversation domain ([`crate::conversations`]), and
//! answered with an ack (and what the operation returned) or the operation's typed refusal.
//!
//! What belongs to the socket itself stays here: following conversations (a backlog from a
//! cursor, then live events, without gap or duplicate), the inbox feed, presence, and what
//! closing a conversation does to this socket's subscriptions.

use std::sync::Arc;

use baton_shared::ConversationId;
use baton_shared::model::Conversation;
use baton_shared::protocol::{AckDetail, ClientMsg, Cursor, ServerMsg};

use crate::conversations::replies::{self, Sending};
use crate::conversations::{Actor, Refusal, access, assignment, claims, notes};
use crate::hub::{Connection, frame};
use crate::state::AppState;
use crate::store::conversations::TemplateChoice;
use crate::store::routing::Triage;

/// A client that is this many events behind in a conversation gets a `resync` instead.
pub const RESYNC_AFTER: u64 = 1000;

type Outcome = Result<Option<AckDetail>, Refusal>;

/// The socket's user, as the domain's actor.
pub fn actor_of(state: &AppState, connection: &Connection) -> Actor {
    Actor::user(connection.user.clone(), connection.role, state.hub.teams_of(connection.user.id))
}

fn conversation_ack(conversation: Conversation) -> Option<AckDetail> {
    Some(AckDetail::Conversation { conversation })
}

/// Runs one request for `connection`; the caller turns the outcome into an ack or an error.
pub async fn handle(state: &AppState, connection: &Arc<Connection>, actor: &Actor, request: ClientMsg) -> Outcome {
    let claim_ack = |claim| Some(AckDetail::Claim { claim });
    let message_ack = |message| Some(AckDetail::Message { message });
    match request {
        ClientMsg::Ping { .. } => Ok(None),
        ClientMsg::SetPresence { status, .. } => {
            state.hub.set_status(connection.user.id, status);
            crate::routing::presence_changed(state, connection.user.id).await;
            Ok(None)
        }
        ClientMsg::SubscribeInbox { cursors, .. } => subscribe_inbox(state, connection, actor, cursors).await,
        ClientMsg::Open { conversation_id, after_seq, .. } => {
            open(state, connection, actor, conversation_id, after_seq).await
        }
        ClientMsg::Close { conversation_id, .. } => {
            state.hub.close(connection, conversation_id);
            connection.queue.forget(conversation_id);
            claims::let_go_if_unused(state, actor, conversation_id).await.map(|()| None)
        }
        ClientMsg::Typing { conversation_id, draft, .. } => {
            Ok(claims::typing(state, actor, conversation_id, draft).await?.and_then(claim_ack))
        }
        ClientMsg::Claim { conversation_id, .. } => claims::claim(state, actor, conversation_id).await.map(claim_ack),
        ClientMsg::Release { conversation_id, .. } => {
            claims::release(state, actor, conversation_id).await.map(|()| None)
        }
        ClientMsg::Transfer { conversation_id, to, .. } => {
            claims::transfer(state, actor, conversation_id, to).await.map(claim_ack)
        }
        ClientMsg::TakeOver { conversation_id, .. } => {
            claims::take_over(state, actor, conversation_id).await.map(claim_ack)
        }
        ClientMsg::Assign { conversation_id, assignee, note, .. } => {
            assignment::assign(state, actor, conversation_id, assignee, note).await.map(conversation_ack)
        }
        ClientMsg::EditLabels { conversation_id, add, remove, .. } => {
            assignment::edit_labels(state, actor, conversation_id, &add, &remove).await.map(conversation_ack)
        }
        ClientMsg::TakeNext { .. } => crate::routing::take_next(state, actor).await.map(conversation_ack),
        ClientMsg::SetTeam { conversation_id, team, .. } => {
            let triage = Triage { team: Some(team), priority: None };
            assignment::triage(state, actor, conversation_id, triage).await.map(conversation_ack)
        }
        ClientMsg::SetPriority { conversation_id, priority, .. } => {
            let triage = Triage { team: None, priority: Some(priority) };
            assignment::triage(state, actor, conversation_id, triage).await.map(conversation_ack)
        }
        ClientMsg::SetStatus { conversation_id, status, until, .. } => {
            assignment::change_status(state, actor, conversation_id, status, until).await.map(conversation_ack)
        }
        ClientMsg::Reply { conversation_id, body, idempotency_key, seen_seq, force, reply_to, .. } => {
            let sending = Sending { idempotency_key, seen_seq, force };
            replies::text(state, actor, conversation_id, body, reply_to, sending).await.map(message_ack)
        }
        ClientMsg::SendMedia { conversation_id, upload_id, caption, idempotency_key, seen_seq, force, .. } => {
            let sending = Sending { idempotency_key, seen_seq, force };
            replies::media(state, actor, conversation_id, &upload_id, caption, sending).await.map(message_ack)
        }
        ClientMsg::SendTemplate {
            conversation_id,
            name,
            language,
            parameters,
            idempotency_key,
            seen_seq,
            force,
            ..
        } => {
            let sending = Sending { idempotency_key, seen_seq, force };
            let chosen = TemplateChoice { name, language, parameters };
            replies::template(state, actor, conversation_id, chosen, sending).await.map(message_ack)
        }
        ClientMsg::React { message_id, emoji, idempotency_key, .. } => {
            replies::react(state, actor, message_id, emoji, idempotency_key).await.map(message_ack)
        }
        ClientMsg::RetryMessage { message_id, .. } => replies::retry(state, actor, message_id).await.map(message_ack),
        ClientMsg::ListTemplates { .. } => {
            let templates = replies::templates(state).await?;
            Ok(Some(AckDetail::Templates { templates: templates.as_ref().clone() }))
        }
        ClientMsg::AddNote { conversation_id, body, .. } => {
            let note = notes::add(state, actor, conversation_id, &body).await?;
            Ok(Some(AckDetail::Note { note }))
        }
        ClientMsg::EditNote { note_id, body, base_version, .. } => {
            let note = notes::edit(state, actor, note_id, &body, base_version).await?;
            Ok(Some(AckDetail::Note { note }))
        }
        ClientMsg::DeleteNote { note_id, .. } => notes::delete(state, actor, note_id).await.map(|()| None),
    }
}

/// Follows one conversation from `after_seq`: holds live events back, queues the backlog, then
/// releases the held events — no gap, no duplicate.
async fn follow(
    state: &AppState,
    connection: &Connection,
    conversation: &Conversation,
    after_seq: u64,
) -> Result<(), Refusal> {
    let id = conversation.id;
    connection.queue.hold(id);
    if conversation.last_seq.saturating_sub(after_seq) > RESYNC_AFTER {
        // The resync goes first: the live events held meanwhile follow on from it.
        if let Some(resync) = frame(&ServerMsg::Resync { conversation: conversation.clone() }) {
            connection.queue.push(resync);
        }
        connection.queue.release(id, conversation.last_seq, Vec::new());
        return Ok(());
    }
    let events = match state.store.events_after(id, after_seq, i64::try_from(RESYNC_AFTER).unwrap_or(i64::MAX)).await {
        Ok(events) => events,
        Err(error) => {
            connection.queue.release(id, after_seq, Vec::new());
            return Err(error.into());
        }
    };
    let backlog = events
        .iter()
        .filter_map(|event| frame(&ServerMsg::Event { event: event.clone() }).map(|frame| (event.seq, frame)))
        .collect();
    connection.queue.release(id, after_seq, backlog);
    Ok(())
}

async fn subscribe_inbox(
    state: &AppState,
    connection: &Arc<Connection>,
    actor: &Actor,
    cursors: Vec<Cursor>,
) -> Outcome {
    // Every cursor's conversation is held before the socket joins the inbox feed: a live event of
    // one whose backlog is read later must wait behind that backlog, not run ahead of it.
    for cursor in &cursors {
        connection.queue.hold(cursor.conversation_id);
    }
    state.hub.follow_inbox(connection);
    let mut cursors = cursors.into_iter();
    let outcome = follow_cursors(state, connection, actor, &mut cursors).await;
    // After a failure, the conversations not reached yet are let go (their clients ask again).
    for cursor in cursors {
        connection.queue.forget(cursor.conversation_id);
    }
    outcome.map(|()| None)
}

async fn follow_cursors(
    state: &AppState,
    connection: &Connection,
    actor: &Actor,
    cursors: &mut impl Iterator<Item = Cursor>,
) -> Result<(), Refusal> {
    for cursor in cursors.by_ref() {
        let conversation = match state.store.conversation(cursor.conversation_id).await {
            Ok(conversation) => conversation,
            Err(error) => {
                connection.queue.forget(cursor.conversation_id);
                return Err(error.into());
            }
        };
        match conversation.filter(|conversation| actor.may_see(conversation)) {
            Some(conversation) => follow(state, connection, &conversation, cursor.after_seq).await?,
            None => connection.queue.forget(cursor.conversation_id),
        }
    }
    Ok(())
}

async fn open(
    state: &AppState,
    connection: &Arc<Connection>,
    actor: &Actor,
    id: ConversationId,
    after_seq: u64,
) -> Outcome {
    let conversation = access::visible(state, actor, id).await?;
    connection.queue.hold(id);
    state.hub.open(connection, id);
    // Read again after following, so the snapshot is at least as new as the stream.
    let conversation = state.store.conversation(id).await?.unwrap_or(conversation);
    follow(state, connection, &conversation, after_seq).await?;
    state.whatsapp.receipts.opened(id);
    Ok(conversation_ack(conversation))
}
