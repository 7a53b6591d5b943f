//! What each WebSocket request does: authorise it for the socket's user, run the domain operation
//! (one store transaction), publish the committed events, and answer with an ack or a typed
//! refusal. Ephemeral requests (presence, typing) go to the hub only — except that the first
//! keystroke in an unclaimed conversation claims it: the typing lock.

use std::sync::Arc;

use baton_shared::ErrorCode;
use baton_shared::api::Role;
use baton_shared::model::{Change, Conversation, ConversationEvent, MAX_LABELS};
use baton_shared::protocol::{AckDetail, ClientMsg, Cursor, ErrorDetail, ServerMsg, Teammate};
use baton_shared::{ConversationId, NoteId};

use crate::hub::{Connection, TypingLock, frame};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::conversations::{
    ClaimOutcome, Handover, NewReply, NoteEditOutcome, ReplyContent, ReplyOutcome, TemplateChoice,
};
use crate::store::labels::LabelOutcome;

mod channel;

/// A client that is this many events behind in a conversation gets a `resync` instead.
pub const RESYNC_AFTER: u64 = 1000;
/// Longest reply or note accepted (WhatsApp's own text limit is 4096 characters).
pub const MAX_TEXT_CHARS: usize = 4096;

/// Why a request was refused.
#[derive(Debug)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    pub detail: Option<ErrorDetail>,
}

impl Refusal {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Refusal { code, message: message.into(), detail: None }
    }

    fn forbidden(what: &str) -> Self {
        Refusal::new(ErrorCode::Forbidden, format!("Your role does not allow you to {what}."))
    }
}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Refusal::new(ErrorCode::NotFound, "No such conversation or note."),
            StoreError::Changed => {
                Refusal::new(ErrorCode::Conflict, "The conversation changed meanwhile; look again and retry.")
            }
            other => {
                tracing::error!(error = %other, "store failure during a socket request");
                Refusal::new(ErrorCode::Internal, "Something went wrong on the server; it has been logged.")
            }
        }
    }
}

type Outcome = Result<Option<AckDetail>, Refusal>;

/// Runs one request for `connection`; the caller turns the outcome into an ack or an error.
pub async fn handle(state: &AppState, connection: &Arc<Connection>, request: ClientMsg) -> Outcome {
    match request {
        ClientMsg::Ping { .. } => Ok(None),
        ClientMsg::SetPresence { status, .. } => {
            state.hub.set_status(connection.user.id, status);
            Ok(None)
        }
        ClientMsg::SubscribeInbox { cursors, .. } => subscribe_inbox(state, connection, cursors).await,
        ClientMsg::Open { conversation_id, after_seq, .. } => open(state, connection, conversation_id, after_seq).await,
        ClientMsg::Close { conversation_id, .. } => leave(state, connection, conversation_id).await,
        ClientMsg::Typing { conversation_id, draft, .. } => typing(state, connection, conversation_id, draft).await,
        ClientMsg::Claim { conversation_id, .. } => claim(state, connection, conversation_id).await,
        ClientMsg::Release { conversation_id, .. } => {
            visible(state, connection, conversation_id).await?;
            match state.store.release(conversation_id, connection.user.id, state.now()).await? {
                Some(event) => {
                    publish(state, &[event]);
                    Ok(None)
                }
                None => Err(Refusal::new(ErrorCode::NotClaimHolder, "You do not hold this conversation's claim.")),
            }
        }
        ClientMsg::Transfer { conversation_id, to, .. } => transfer(state, connection, conversation_id, to).await,
        ClientMsg::Assign { conversation_id, assignee, note, .. } => {
            assign(state, connection, conversation_id, assignee, note).await
        }
        ClientMsg::EditLabels { conversation_id, add, remove, .. } => {
            edit_labels(state, connection, conversation_id, &add, &remove).await
        }
        ClientMsg::SetStatus { conversation_id, status, .. } => {
            visible(state, connection, conversation_id).await?;
            let events = state.store.set_status(conversation_id, connection.user.id, status, state.now()).await?;
            publish(state, &events);
            // Answered with what was stored, even if the conversation was assigned away meanwhile:
            // the change was made, and saying "forbidden" would be false.
            let conversation = stored(state, conversation_id).await?;
            Ok(Some(AckDetail::Conversation { conversation }))
        }
        ClientMsg::TakeOver { conversation_id, .. } => {
            if !connection.is_supervisor() {
                return Err(Refusal::forbidden("take over a conversation"));
            }
            visible(state, connection, conversation_id).await?;
            let lease_until = lease_until(state);
            let event = state
                .store
                .hand_over(conversation_id, connection.user.id, Handover::TakeOver, lease_until, state.now())
                .await?;
            Ok(claim_ack(state, event))
        }
        ClientMsg::Reply { conversation_id, body, idempotency_key, seen_seq, force, reply_to: quoted, .. } => {
            check_text(&body, "reply")?;
            let reply_to = match quoted {
                Some(quoted) => {
                    // Before the quoted message is looked at: its answer must not tell about a
                    // conversation this user may not see.
                    visible(state, connection, conversation_id).await?;
                    Some(channel::wamid_in(state, quoted, conversation_id).await?)
                }
                None => None,
            };
            let author = connection.user.id;
            let content = ReplyContent::Text;
            let reply = NewReply { conversation_id, author, body, idempotency_key, seen_seq, force, content, reply_to };
            send(state, connection, reply).await
        }
        ClientMsg::SendMedia { conversation_id, upload_id, caption, idempotency_key, seen_seq, force, .. } => {
            let content = channel::media_upload(state, connection, &upload_id, &caption).await?;
            let author = connection.user.id;
            let body = caption;
            let reply =
                NewReply { conversation_id, author, body, idempotency_key, seen_seq, force, content, reply_to: None };
            send(state, connection, reply).await
        }
        ClientMsg::React { message_id, emoji, idempotency_key, .. } => {
            channel::react(state, connection, message_id, emoji, idempotency_key).await
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
            let chosen = TemplateChoice { name, language, parameters };
            let body = channel::render_template(state, &chosen).await?;
            let author = connection.user.id;
            let content = ReplyContent::Template(chosen);
            let reply =
                NewReply { conversation_id, author, body, idempotency_key, seen_seq, force, content, reply_to: None };
            send(state, connection, reply).await
        }
        ClientMsg::ListTemplates { .. } => {
            let templates = channel::templates(state).await?;
            Ok(Some(AckDetail::Templates { templates: templates.as_ref().clone() }))
        }
        ClientMsg::RetryMessage { message_id, .. } => channel::retry(state, connection, message_id).await,
        ClientMsg::AddNote { conversation_id, body, .. } => {
            visible(state, connection, conversation_id).await?;
            check_text(&body, "note")?;
            let event = state.store.add_note(conversation_id, connection.user.id, &body, state.now()).await?;
            notify_mentions(state, connection, &event).await;
            Ok(note_ack(state, event))
        }
        ClientMsg::EditNote { note_id, body, base_version, .. } => {
            edit_note(state, connection, note_id, body, base_version).await
        }
        ClientMsg::DeleteNote { note_id, .. } => {
            note_editable(state, connection, note_id).await?;
            let event = state.store.delete_note(note_id, connection.user.id, state.now()).await?;
            publish(state, &[event]);
            Ok(None)
        }
    }
}

pub(crate) fn publish(state: &AppState, events: &[ConversationEvent]) {
    state.bus.publish(events);
}

fn lease_until(state: &AppState) -> i64 {
    state.now().saturating_add(i64::try_from(state.config.claim_lease.as_millis()).unwrap_or(i64::MAX))
}

/// Agents and leads see conversations that are unassigned or assigned to them; supervisors and
/// admins see all.
pub fn may_access(connection: &Connection, conversation: &Conversation) -> bool {
    may_access_as(connection.user.id, connection.role, conversation)
}

/// [`may_access`] for a user and role (REST requests have no socket).
pub fn may_access_as(user: baton_shared::UserId, role: Role, conversation: &Conversation) -> bool {
    role.at_least(Role::Supervisor) || conversation.assignee.is_none_or(|assignee| assignee == user)
}

/// The conversation as stored now; `not_found` if there is none.
async fn stored(state: &AppState, id: ConversationId) -> Result<Conversation, Refusal> {
    state.store.conversation(id).await?.ok_or_else(|| Refusal::from(StoreError::NotFound))
}

/// The conversation, if this socket's user may see it. One they may not is answered exactly as
/// one that does not exist: the answer must not tell which conversations (or notes, or messages
/// in them) exist.
pub(crate) async fn visible(
    state: &AppState,
    connection: &Connection,
    id: ConversationId,
) -> Result<Conversation, Refusal> {
    let conversation = stored(state, id).await?;
    if may_access(connection, &conversation) { Ok(conversation) } else { Err(Refusal::from(StoreError::NotFound)) }
}

fn check_text(body: &str, what: &str) -> Result<(), Refusal> {
    if body.trim().is_empty() {
        Err(Refusal::new(ErrorCode::InvalidInput, format!("An empty {what} cannot be sent.")))
    } else if body.chars().count() > MAX_TEXT_CHARS {
        Err(Refusal::new(ErrorCode::InvalidInput, format!("A {what} may have at most {MAX_TEXT_CHARS} characters.")))
    } else {
        Ok(())
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
    connection.outbox.hold(id);
    if conversation.last_seq.saturating_sub(after_seq) > RESYNC_AFTER {
        // The resync goes first: the live events held meanwhile follow on from it.
        if let Some(resync) = frame(&ServerMsg::Resync { conversation: conversation.clone() }) {
            connection.outbox.push(resync);
        }
        connection.outbox.release(id, conversation.last_seq, Vec::new());
        return Ok(());
    }
    let events = match state.store.events_after(id, after_seq, i64::try_from(RESYNC_AFTER).unwrap_or(i64::MAX)).await {
        Ok(events) => events,
        Err(error) => {
            connection.outbox.release(id, after_seq, Vec::new());
            return Err(error.into());
        }
    };
    let backlog = events
        .iter()
        .filter_map(|event| frame(&ServerMsg::Event { event: event.clone() }).map(|frame| (event.seq, frame)))
        .collect();
    connection.outbox.release(id, after_seq, backlog);
    Ok(())
}

async fn subscribe_inbox(state: &AppState, connection: &Arc<Connection>, cursors: Vec<Cursor>) -> Outcome {
    // Every cursor's conversation is held before the socket joins the inbox feed: a live event of
    // one whose backlog is read later must wait behind that backlog, not run ahead of it.
    for cursor in &cursors {
        connection.outbox.hold(cursor.conversation_id);
    }
    state.hub.follow_inbox(connection);
    let mut cursors = cursors.into_iter();
    let outcome = follow_cursors(state, connection, &mut cursors).await;
    // After a failure, the conversations not reached yet are let go (their clients ask again).
    for cursor in cursors {
        connection.outbox.forget(cursor.conversation_id);
    }
    outcome.map(|()| None)
}

async fn follow_cursors(
    state: &AppState,
    connection: &Connection,
    cursors: &mut impl Iterator<Item = Cursor>,
) -> Result<(), Refusal> {
    for cursor in cursors.by_ref() {
        let conversation = match state.store.conversation(cursor.conversation_id).await {
            Ok(conversation) => conversation,
            Err(error) => {
                connection.outbox.forget(cursor.conversation_id);
                return Err(error.into());
            }
        };
        match conversation.filter(|conversation| may_access(connection, conversation)) {
            Some(conversation) => follow(state, connection, &conversation, cursor.after_seq).await?,
            None => connection.outbox.forget(cursor.conversation_id),
        }
    }
    Ok(())
}

async fn assign(
    state: &AppState,
    connection: &Connection,
    id: ConversationId,
    assignee: Option<baton_shared::UserId>,
    note: Option<String>,
) -> Outcome {
    let conversation = visible(state, connection, id).await?;
    // Assigning releases another holder's claim: for agents that would be a take-over, which is
    // a supervisor's decision.
    let held_by_other = conversation
        .claim
        .as_ref()
        .filter(|claim| claim.holder != connection.user.id && claim.lease_until > state.now());
    if let (Some(claim), false) = (held_by_other, connection.is_supervisor()) {
        return Err(Refusal {
            code: ErrorCode::ClaimedByOther,
            message: format!(
                "{} is replying to this conversation; ask a supervisor to reassign it.",
                claim.holder_name
            ),
            detail: Some(ErrorDetail::ClaimedBy { claim: claim.clone() }),
        });
    }
    if let Some(assignee) = assignee {
        let recipient = state.store.user(assignee).await?;
        if recipient.as_ref().is_none_or(|user| user.disabled) {
            return Err(Refusal::new(ErrorCode::InvalidInput, "A conversation can only go to an active teammate."));
        }
    }
    let note = note.filter(|note| !note.trim().is_empty());
    if let Some(note) = &note {
        check_text(note, "note")?;
    }
    let events = state.store.assign(id, connection.user.id, assignee, note.as_deref(), state.now()).await?;
    publish(state, &events);
    let conversation = stored(state, id).await?;
    Ok(Some(AckDetail::Conversation { conversation }))
}

async fn open(state: &AppState, connection: &Arc<Connection>, id: ConversationId, after_seq: u64) -> Outcome {
    let conversation = visible(state, connection, id).await?;
    connection.outbox.hold(id);
    state.hub.open(connection, id);
    // Read again after following, so the snapshot is at least as new as the stream.
    let conversation = state.store.conversation(id).await?.unwrap_or(conversation);
    follow(state, connection, &conversation, after_seq).await?;
    state.whatsapp.receipts.opened(id);
    Ok(Some(AckDetail::Conversation { conversation }))
}

/// The socket stops following a conversation. A user who leaves it (no other tab of theirs still
/// views it) with nothing typed lets go of its claim: a claim nobody uses must not lock teammates
/// out. A draft keeps the claim: the user means to come back to it.
async fn leave(state: &AppState, connection: &Connection, id: ConversationId) -> Outcome {
    state.hub.close(connection, id);
    connection.outbox.forget(id);
    let user = connection.user.id;
    if state.hub.viewers(id).iter().any(|viewer| viewer.id == user) {
        return Ok(None);
    }
    let Some(conversation) = state.store.conversation(id).await? else { return Ok(None) };
    let holds = conversation.claim.is_some_and(|claim| claim.holder == user && claim.lease_until > state.now());
    if !holds {
        return Ok(None);
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
        state.hub.stop_typing(id, &connection.user);
        publish(state, &[event]);
    }
    Ok(None)
}

fn claim_ack(state: &AppState, event: ConversationEvent) -> Option<AckDetail> {
    let claim = match &event.change {
        Change::Claimed { claim } | Change::Transferred { claim, .. } | Change::TakenOver { claim, .. } => {
            Some(claim.clone())
        }
        _ => None,
    };
    publish(state, &[event]);
    claim.map(|claim| AckDetail::Claim { claim })
}

async fn claim(state: &AppState, connection: &Connection, id: ConversationId) -> Outcome {
    visible(state, connection, id).await?;
    match state.store.claim(id, connection.user.id, lease_until(state), state.now()).await? {
        ClaimOutcome::Held { claim, event } => {
            if let Some(event) = event {
                publish(state, &[event]);
            }
            Ok(Some(AckDetail::Claim { claim }))
        }
        ClaimOutcome::ClaimedByOther { claim } => Err(Refusal {
            code: ErrorCode::ClaimedByOther,
            message: format!("{} is replying to this conversation.", claim.holder_name),
            detail: Some(ErrorDetail::ClaimedBy { claim }),
        }),
    }
}

/// The typing lock: a keystroke claims an unclaimed conversation, and is refused in one someone
/// else holds — before anyone sees it typed. Once checked, the user's next keystrokes skip the
/// store until something happens in the conversation ([`crate::hub::TypingLock`]).
async fn typing(state: &AppState, connection: &Connection, id: ConversationId, draft: String) -> Outcome {
    if draft.chars().count() > MAX_TEXT_CHARS {
        return Err(Refusal::new(
            ErrorCode::InvalidInput,
            format!("A reply may have at most {MAX_TEXT_CHARS} characters."),
        ));
    }
    let user = connection.user.id;
    if state.hub.typing_lock_held(id, user, state.now()) {
        state.hub.typing(id, &connection.user, draft);
        state.whatsapp.receipts.typing(id);
        return Ok(None);
    }
    // Read before the store: an event committed after the check moves it.
    let epoch = state.hub.conversation_epoch(id);
    let conversation = visible(state, connection, id).await?;
    let held = conversation.claim.as_ref().filter(|claim| claim.holder == user && claim.lease_until > state.now());
    let (detail, lease_until) = match held {
        Some(claim) => (None, claim.lease_until),
        None => {
            let detail = claim(state, connection, id).await?;
            let lease_until = match &detail {
                Some(AckDetail::Claim { claim }) => claim.lease_until,
                _ => 0,
            };
            (detail, lease_until)
        }
    };
    state.hub.typing(id, &connection.user, draft);
    state.hub.remember_typing_lock(id, user, TypingLock { epoch, lease_until });
    state.whatsapp.receipts.typing(id);
    Ok(detail)
}

/// Labels edited under the conversation's lock; answered with the conversation as stored after.
async fn edit_labels(
    state: &AppState,
    connection: &Connection,
    id: ConversationId,
    add: &[String],
    remove: &[String],
) -> Outcome {
    // Bounded before any work: a valid edit never names more labels than a conversation holds.
    if add.len() > MAX_LABELS || remove.len() > MAX_LABELS {
        let message = format!("A conversation may have at most {MAX_LABELS} labels.");
        return Err(Refusal::new(ErrorCode::InvalidInput, message));
    }
    visible(state, connection, id).await?;
    match state.store.edit_labels(id, connection.user.id, add, remove, state.now()).await? {
        LabelOutcome::Changed(event) => publish(state, std::slice::from_ref(&*event)),
        LabelOutcome::Unchanged => {}
        LabelOutcome::Refused(why) => return Err(Refusal::new(ErrorCode::InvalidInput, why)),
    }
    let conversation = stored(state, id).await?;
    Ok(Some(AckDetail::Conversation { conversation }))
}

async fn transfer(state: &AppState, connection: &Connection, id: ConversationId, to: baton_shared::UserId) -> Outcome {
    let conversation = visible(state, connection, id).await?;
    let holds = conversation.claim.as_ref().is_some_and(|claim| claim.holder == connection.user.id);
    if !holds && !connection.is_supervisor() {
        return Err(Refusal::forbidden("hand over a conversation you do not hold"));
    }
    let recipient = state.store.user(to).await?;
    let Some(recipient) = recipient.filter(|user| !user.disabled) else {
        return Err(Refusal::new(ErrorCode::InvalidInput, "The claim can only go to an active teammate."));
    };
    // A holder who may not see the conversation could neither reply nor release it.
    if !may_access_as(recipient.id, recipient.role, &conversation) {
        return Err(Refusal::new(
            ErrorCode::InvalidInput,
            format!("{} may not see this conversation: assign it to them instead.", recipient.name),
        ));
    }
    let event = state
        .store
        .hand_over(
            id,
            connection.user.id,
            // Only if still assigned as when the recipient's access was checked.
            Handover::Transfer { to, assignee: conversation.assignee },
            lease_until(state),
            state.now(),
        )
        .await?;
    Ok(claim_ack(state, event))
}

/// Stores a reply (text, template or reaction) if its author holds the claim, and queues it.
pub(crate) async fn send(state: &AppState, connection: &Connection, reply: NewReply) -> Outcome {
    visible(state, connection, reply.conversation_id).await?;
    if reply.idempotency_key.is_empty() || reply.idempotency_key.len() > 100 {
        return Err(Refusal::new(ErrorCode::InvalidInput, "A reply needs an idempotency key of 1 to 100 bytes."));
    }
    match state.store.send_reply(&reply, state.now()).await? {
        ReplyOutcome::Sent { message, event } => {
            if message.kind != "reaction" {
                // The reply left the composer: its author is no longer typing.
                state.hub.stop_typing(message.conversation_id, &connection.user);
                state.whatsapp.receipts.replied(message.conversation_id);
            }
            publish(state, &[event]);
            state.whatsapp.sender.wake();
            Ok(Some(AckDetail::Message { message }))
        }
        ReplyOutcome::Duplicate { message } => Ok(Some(AckDetail::Message { message })),
        ReplyOutcome::NotHolder { claim } => Err(Refusal {
            code: ErrorCode::NotClaimHolder,
            message: match &claim {
                Some(claim) => format!("{} is replying to this conversation; only they can send.", claim.holder_name),
                None => "Claim the conversation before replying.".to_owned(),
            },
            detail: claim.map(|claim| ErrorDetail::ClaimedBy { claim }),
        }),
        ReplyOutcome::Changed { missed } => Err(Refusal {
            code: ErrorCode::ConversationChanged,
            message: format!(
                "{} new message(s) arrived since you started writing. Read them, then send again (or send anyway).",
                missed.len()
            ),
            detail: Some(ErrorDetail::Missed { messages: missed }),
        }),
        ReplyOutcome::WindowClosed => Err(channel::window_closed(state).await),
    }
}

fn note_ack(state: &AppState, event: ConversationEvent) -> Option<AckDetail> {
    let note = match &event.change {
        Change::NoteAdded { note } | Change::NoteEdited { note } => Some(note.clone()),
        _ => None,
    };
    publish(state, &[event]);
    note.map(|note| AckDetail::Note { note })
}

/// Authors edit their notes; supervisors and admins edit any.
async fn note_editable(state: &AppState, connection: &Connection, id: NoteId) -> Result<(), Refusal> {
    let note = state.store.note(id).await?.ok_or_else(|| Refusal::from(StoreError::NotFound))?;
    visible(state, connection, note.conversation_id).await?;
    if note.author == connection.user.id || connection.is_supervisor() {
        Ok(())
    } else {
        Err(Refusal::forbidden("change a teammate's note"))
    }
}

async fn edit_note(state: &AppState, connection: &Connection, id: NoteId, body: String, base_version: u32) -> Outcome {
    note_editable(state, connection, id).await?;
    check_text(&body, "note")?;
    match state.store.edit_note(id, connection.user.id, &body, base_version, state.now()).await? {
        NoteEditOutcome::Edited { event } => {
            notify_mentions(state, connection, &event).await;
            Ok(note_ack(state, event))
        }
        NoteEditOutcome::Conflict { current } => Err(Refusal {
            code: ErrorCode::Conflict,
            message: "A teammate changed this note meanwhile. Here is their version; nothing was overwritten."
                .to_owned(),
            detail: Some(ErrorDetail::CurrentNote { note: current }),
        }),
    }
}

/// `@alice` in a note notifies every active user whose first name or email name is `alice`, if
/// they may see the conversation ([`may_access_as`]).
async fn notify_mentions(state: &AppState, connection: &Connection, event: &ConversationEvent) {
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
    let notified = users.iter().filter(|user| {
        !user.disabled && user.id != connection.user.id && may_access_as(user.id, user.role, &conversation)
    });
    for user in notified {
        let first_name = user.name.split_whitespace().next().unwrap_or_default().to_lowercase();
        let email_name = user.email.split('@').next().unwrap_or_default().to_lowercase();
        if handles.iter().any(|handle| *handle == first_name || *handle == email_name) {
            let by = Teammate { id: connection.user.id, name: connection.user.name.clone() };
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
