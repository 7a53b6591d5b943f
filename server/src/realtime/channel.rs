//! The socket requests that depend on WhatsApp's rules: templates (listed, checked and rendered
//! before they are stored), the refusal of free text outside the 24-hour window (which offers the
//! templates instead), and the retry of a failed reply.

use std::sync::Arc;

use baton_shared::model::MessageTemplate;
use baton_shared::protocol::{AckDetail, ErrorDetail};
use baton_shared::{ErrorCode, MessageId};

use super::{Outcome, Refusal, publish, visible};
use crate::hub::Connection;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::channel::RequeueOutcome;
use crate::store::conversations::{NewReply, ReplyContent, TemplateChoice};

/// The approved templates, or why they cannot be listed.
pub(super) async fn templates(state: &AppState) -> Result<Arc<Vec<MessageTemplate>>, Refusal> {
    let Some(graph) = state.whatsapp.graph.as_deref() else {
        return Err(Refusal::new(ErrorCode::Unavailable, "The WhatsApp channel is not configured."));
    };
    state.whatsapp.templates.list(graph).await.map_err(|error| {
        tracing::warn!(%error, "cannot list the message templates");
        Refusal::new(ErrorCode::Unavailable, "WhatsApp's template list cannot be read right now; try again shortly.")
    })
}

/// The text a template send stores, after checking the template is approved and gets exactly
/// the parameters its body needs.
pub(super) async fn render_template(state: &AppState, chosen: &TemplateChoice) -> Result<String, Refusal> {
    let templates = templates(state).await?;
    let template = templates
        .iter()
        .find(|template| template.name == chosen.name && template.language == chosen.language)
        .ok_or_else(|| {
            Refusal::new(
                ErrorCode::InvalidInput,
                format!("There is no approved template {} in {}.", chosen.name, chosen.language),
            )
        })?;
    let given = chosen.parameters.len();
    if u32::try_from(given).ok() != Some(template.parameters) {
        return Err(Refusal::new(
            ErrorCode::InvalidInput,
            format!("The template {} needs {} parameter(s); {given} were given.", template.name, template.parameters),
        ));
    }
    if chosen.parameters.iter().any(|value| value.trim().is_empty() || value.chars().count() > 1024) {
        return Err(Refusal::new(
            ErrorCode::InvalidInput,
            "Every template parameter needs a value (at most 1024 characters).",
        ));
    }
    Ok(template.render(&chosen.parameters))
}

/// Free text refused outside the window, with the templates that may be sent instead (none
/// listed if they cannot be read right now: the refusal itself must not fail).
pub(super) async fn window_closed(state: &AppState) -> Refusal {
    let templates = templates(state).await.map(|templates| templates.as_ref().clone()).unwrap_or_default();
    Refusal {
        code: ErrorCode::WindowClosed,
        message: "The customer has not written in the last 24 hours, so WhatsApp only allows an approved \
                  template. Pick one to reopen the conversation."
            .to_owned(),
        detail: Some(ErrorDetail::Templates { templates }),
    }
}

/// The retry button: the failed reply goes again through its own outbox row.
pub(super) async fn retry(state: &AppState, connection: &Connection, message_id: MessageId) -> Outcome {
    let message = state.store.message(message_id).await?.ok_or_else(|| Refusal::from(StoreError::NotFound))?;
    visible(state, connection, message.conversation_id).await?;
    match state.store.requeue_failed(message_id, connection.user.id, state.now()).await? {
        RequeueOutcome::Requeued { event } => {
            publish(state, &[event]);
            state.whatsapp.sender.wake();
            let message = state.store.message(message_id).await?.ok_or_else(|| Refusal::from(StoreError::NotFound))?;
            Ok(Some(AckDetail::Message { message }))
        }
        RequeueOutcome::NotFailed => {
            Err(Refusal::new(ErrorCode::InvalidState, "Only a reply that failed can be sent again."))
        }
        RequeueOutcome::NotHolder { claim } => Err(Refusal {
            code: ErrorCode::NotClaimHolder,
            message: match &claim {
                Some(claim) => format!("{} is replying to this conversation; only they can send.", claim.holder_name),
                None => "Claim the conversation before sending again.".to_owned(),
            },
            detail: claim.map(|claim| baton_shared::protocol::ErrorDetail::ClaimedBy { claim }),
        }),
        RequeueOutcome::WindowClosed => Err(window_closed(state).await),
    }
}

/// The wamid of `message`, which must belong to `conversation` and have come through WhatsApp.
pub(super) async fn wamid_in(
    state: &AppState,
    message: MessageId,
    conversation: baton_shared::ConversationId,
) -> Result<String, Refusal> {
    let found = state.store.message(message).await?.filter(|found| found.conversation_id == conversation);
    let found = found.ok_or_else(|| Refusal::new(ErrorCode::NotFound, "No such message in this conversation."))?;
    found.wa_message_id.ok_or_else(|| {
        Refusal::new(ErrorCode::InvalidState, "This message has not reached WhatsApp yet; try again in a moment.")
    })
}

/// A reaction to a message of the conversation: sent like a reply, by the claim's holder.
pub(super) async fn react(
    state: &AppState,
    connection: &Connection,
    message_id: MessageId,
    emoji: String,
    idempotency_key: String,
) -> Outcome {
    let message = state.store.message(message_id).await?.ok_or_else(|| Refusal::from(StoreError::NotFound))?;
    visible(state, connection, message.conversation_id).await?;
    if emoji.chars().count() > 10 || emoji.chars().any(char::is_whitespace) {
        return Err(Refusal::new(ErrorCode::InvalidInput, "A reaction is one emoji (or empty, to take it back)."));
    }
    let target = wamid_in(state, message_id, message.conversation_id).await?;
    let reply = NewReply {
        conversation_id: message.conversation_id,
        author: connection.user.id,
        body: emoji,
        idempotency_key,
        seen_seq: 0,
        force: true,
        content: ReplyContent::Reaction { target },
        reply_to: None,
    };
    super::send(state, connection, reply).await
}

/// The upload a `send_media` names, checked: it exists, this user uploaded it, the caption fits.
pub(super) async fn media_upload(
    state: &AppState,
    connection: &Connection,
    upload_id: &str,
    caption: &str,
) -> Result<ReplyContent, Refusal> {
    if caption.chars().count() > 1024 {
        return Err(Refusal::new(ErrorCode::InvalidInput, "A caption may have at most 1024 characters."));
    }
    let found = state.whatsapp.media.upload(upload_id).await.map_err(|error| {
        tracing::error!(%error, "cannot read an upload");
        Refusal::new(ErrorCode::Internal, "Something went wrong on the server; it has been logged.")
    })?;
    let Some((meta, _)) = found.filter(|(meta, _)| meta.uploader == connection.user.id) else {
        return Err(Refusal::new(ErrorCode::NotFound, "No such upload: upload the file first (POST /api/uploads)."));
    };
    Ok(ReplyContent::Media {
        kind: crate::http::uploads::media_kind(&meta.mime_type),
        upload: upload_id.to_owned(),
        mime_type: meta.mime_type,
        filename: meta.filename,
    })
}
