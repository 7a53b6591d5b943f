//! Replies to the customer — text, media, templates, reactions — and the retry of a failed one.
//! Only the live claim holder sends, and outside WhatsApp's 24-hour window only an approved
//! template: the rule is [`baton_shared::rules::may_send`], checked by the store inside the
//! transaction that queues the reply, so no race can slip past it. A reply not sent is answered
//! with why (who holds the claim, what arrived meanwhile, or the templates to send instead).

use std::sync::Arc;

use baton_shared::model::{Message, MessageKind, MessageTemplate};
use baton_shared::protocol::ErrorDetail;
use baton_shared::{ConversationId, ErrorCode, MessageId};

use super::access::{visible, visible_message};
use super::{Actor, Refusal, check_text, publish};
use crate::state::AppState;
use crate::store::channel::RequeueOutcome;
use crate::store::conversations::{NewReply, ReplyContent, ReplyOutcome, TemplateChoice};

/// How a reply is sent, whatever its content.
#[derive(Clone, Debug)]
pub struct Sending {
    /// Sending the same key again answers with the reply stored the first time (1 to 100 bytes).
    pub idempotency_key: String,
    /// The newest event the author had seen: anything the customer or a teammate wrote after it
    /// stops the reply (unless `force`), so nobody answers what they have not read.
    pub seen_seq: u64,
    pub force: bool,
}

/// A text reply, optionally quoting message `reply_to` of the conversation.
pub async fn text(
    state: &AppState,
    actor: &Actor,
    conversation_id: ConversationId,
    body: String,
    reply_to: Option<MessageId>,
    sending: Sending,
) -> Result<Message, Refusal> {
    check_text(&body, "reply")?;
    let reply_to = match reply_to {
        Some(quoted) => {
            // Before the quoted message is looked at: its answer must not tell about a
            // conversation this actor may not see.
            visible(state, actor, conversation_id).await?;
            Some(wamid_in(state, quoted, conversation_id).await?)
        }
        None => None,
    };
    send(state, actor, new_reply(actor, conversation_id, body, ReplyContent::Text, sending, reply_to)).await
}

/// A file the actor uploaded (`POST /api/uploads`), with a caption.
pub async fn media(
    state: &AppState,
    actor: &Actor,
    conversation_id: ConversationId,
    upload_id: &str,
    caption: String,
    sending: Sending,
) -> Result<Message, Refusal> {
    let content = media_upload(state, actor, upload_id, &caption).await?;
    send(state, actor, new_reply(actor, conversation_id, caption, content, sending, None)).await
}

/// An approved template with its parameters: the only reply allowed outside the window.
pub async fn template(
    state: &AppState,
    actor: &Actor,
    conversation_id: ConversationId,
    chosen: TemplateChoice,
    sending: Sending,
) -> Result<Message, Refusal> {
    let body = render_template(state, &chosen).await?;
    let content = ReplyContent::Template(chosen);
    send(state, actor, new_reply(actor, conversation_id, body, content, sending, None)).await
}

/// A reaction to a message of the conversation (empty to take it back): sent like a reply, by
/// the claim's holder.
pub async fn react(
    state: &AppState,
    actor: &Actor,
    message_id: MessageId,
    emoji: String,
    idempotency_key: String,
) -> Result<Message, Refusal> {
    let (message, _) = visible_message(state, actor, message_id).await?;
    if emoji.chars().count() > 10 || emoji.chars().any(char::is_whitespace) {
        return Err(Refusal::invalid("A reaction is one emoji (or empty, to take it back)."));
    }
    let target = wamid_in(state, message_id, message.conversation_id).await?;
    let sending = Sending { idempotency_key, seen_seq: 0, force: true };
    let content = ReplyContent::Reaction { target };
    send(state, actor, new_reply(actor, message.conversation_id, emoji, content, sending, None)).await
}

/// The retry button: the failed reply goes again through its own outbox row.
pub async fn retry(state: &AppState, actor: &Actor, message_id: MessageId) -> Result<Message, Refusal> {
    visible_message(state, actor, message_id).await?;
    match state.store.requeue_failed(message_id, actor.id(), state.now()).await? {
        RequeueOutcome::Requeued { event, message } => {
            publish(state, &[event]);
            state.whatsapp.sender.wake();
            // The reply as this request left it: queued again. Where the sender takes it next
            // arrives as events (read after the wake-up, the answer raced the sender).
            Ok(message)
        }
        RequeueOutcome::NotFailed => {
            Err(Refusal::new(ErrorCode::InvalidState, "Only a reply that failed can be sent again."))
        }
        RequeueOutcome::NotHolder { claim } => Err(not_holder(claim, "Claim the conversation before sending again.")),
        RequeueOutcome::WindowClosed => Err(window_closed(state).await),
    }
}

/// The approved templates, or why they cannot be listed.
pub async fn templates(state: &AppState) -> Result<Arc<Vec<MessageTemplate>>, Refusal> {
    let Some(graph) = state.whatsapp.graph.as_deref() else {
        return Err(Refusal::new(ErrorCode::Unavailable, "The WhatsApp channel is not configured."));
    };
    state.whatsapp.templates.list(graph).await.map_err(|error| {
        tracing::warn!(%error, "cannot list the message templates");
        Refusal::new(ErrorCode::Unavailable, "WhatsApp's template list cannot be read right now; try again shortly.")
    })
}

fn new_reply(
    actor: &Actor,
    conversation_id: ConversationId,
    body: String,
    content: ReplyContent,
    sending: Sending,
    reply_to: Option<String>,
) -> NewReply {
    let Sending { idempotency_key, seen_seq, force } = sending;
    NewReply { conversation_id, author: actor.id(), body, idempotency_key, seen_seq, force, content, reply_to }
}

/// Stores a reply if its author holds the claim (checked in the store's transaction), and queues it.
async fn send(state: &AppState, actor: &Actor, reply: NewReply) -> Result<Message, Refusal> {
    visible(state, actor, reply.conversation_id).await?;
    if reply.idempotency_key.is_empty() || reply.idempotency_key.len() > 100 {
        return Err(Refusal::invalid("A reply needs an idempotency key of 1 to 100 bytes."));
    }
    match state.store.send_reply(&reply, state.now()).await? {
        ReplyOutcome::Sent { message, event, followed_by } => {
            if message.kind != MessageKind::Reaction {
                // The reply left the composer: its author is no longer typing.
                state.hub.stop_typing(message.conversation_id, actor.teammate());
                state.whatsapp.receipts.replied(message.conversation_id);
            }
            let mut events = vec![event];
            events.extend(followed_by);
            publish(state, &events);
            state.whatsapp.sender.wake();
            Ok(message)
        }
        ReplyOutcome::Duplicate { message } => Ok(message),
        ReplyOutcome::NotHolder { claim } => Err(not_holder(claim, "Claim the conversation before replying.")),
        ReplyOutcome::Changed { missed } => Err(Refusal::new(
            ErrorCode::ConversationChanged,
            format!(
                "{} new message(s) arrived since you started writing. Read them, then send again (or send anyway).",
                missed.len()
            ),
        )
        .with_detail(ErrorDetail::Missed { messages: missed })),
        ReplyOutcome::WindowClosed => Err(window_closed(state).await),
    }
}

/// Someone else holds the claim (told who), or nobody does.
fn not_holder(claim: Option<baton_shared::model::Claim>, unclaimed: &str) -> Refusal {
    match claim {
        Some(claim) => Refusal::new(
            ErrorCode::NotClaimHolder,
            format!("{} is replying to this conversation; only they can send.", claim.holder_name),
        )
        .with_detail(ErrorDetail::ClaimedBy { claim }),
        None => Refusal::new(ErrorCode::NotClaimHolder, unclaimed),
    }
}

/// The text a template send stores, after checking the template is approved and gets exactly
/// the parameters its body needs.
async fn render_template(state: &AppState, chosen: &TemplateChoice) -> Result<String, Refusal> {
    let templates = templates(state).await?;
    let template = templates
        .iter()
        .find(|template| template.name == chosen.name && template.language == chosen.language)
        .ok_or_else(|| {
            Refusal::invalid(format!("There is no approved template {} in {}.", chosen.name, chosen.language))
        })?;
    let given = chosen.parameters.len();
    if u32::try_from(given).ok() != Some(template.parameters) {
        return Err(Refusal::invalid(format!(
            "The template {} needs {} parameter(s); {given} were given.",
            template.name, template.parameters
        )));
    }
    if chosen.parameters.iter().any(|value| value.trim().is_empty() || value.chars().count() > 1024) {
        return Err(Refusal::invalid("Every template parameter needs a value (at most 1024 characters)."));
    }
    Ok(template.render(&chosen.parameters))
}

/// Free text refused outside the window, with the templates that may be sent instead (none
/// listed if they cannot be read right now: the refusal itself must not fail).
async fn window_closed(state: &AppState) -> Refusal {
    let templates = templates(state).await.map(|templates| templates.as_ref().clone()).unwrap_or_default();
    Refusal::new(
        ErrorCode::WindowClosed,
        "The customer has not written in the last 24 hours, so WhatsApp only allows an approved template. Pick \
         one to reopen the conversation.",
    )
    .with_detail(ErrorDetail::Templates { templates })
}

/// The wamid of `message`, which must belong to `conversation` and have come through WhatsApp.
async fn wamid_in(state: &AppState, message: MessageId, conversation: ConversationId) -> Result<String, Refusal> {
    let found = state.store.message(message).await?.filter(|found| found.conversation_id == conversation);
    let found = found.ok_or_else(|| Refusal::new(ErrorCode::NotFound, "No such message in this conversation."))?;
    found.wa_message_id.ok_or_else(|| {
        Refusal::new(ErrorCode::InvalidState, "This message has not reached WhatsApp yet; try again in a moment.")
    })
}

/// The upload a media reply names, checked: it exists, this actor uploaded it, the caption fits.
async fn media_upload(
    state: &AppState,
    actor: &Actor,
    upload_id: &str,
    caption: &str,
) -> Result<ReplyContent, Refusal> {
    if caption.chars().count() > 1024 {
        return Err(Refusal::invalid("A caption may have at most 1024 characters."));
    }
    let found = state.whatsapp.media.upload(upload_id).await.map_err(|error| {
        tracing::error!(%error, "cannot read an upload");
        Refusal::new(ErrorCode::Internal, "Something went wrong on the server; it has been logged.")
    })?;
    let Some((meta, _)) = found.filter(|(meta, _)| meta.uploader == actor.id()) else {
        return Err(Refusal::new(ErrorCode::NotFound, "No such upload: upload the file first (POST /api/uploads)."));
    };
    Ok(ReplyContent::Media {
        kind: crate::http::uploads::media_kind(&meta.mime_type),
        upload: upload_id.to_owned(),
        mime_type: meta.mime_type,
        filename: meta.filename,
    })
}
