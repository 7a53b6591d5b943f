//! `POST /{version}/{phone_number_id}/messages` (contract §6, §13): the Bearer check, `messaging_product`,
//! mark-as-read and the typing indicator, validation of sends (error 100), the scripted faults and the
//! 24-hour window, and for an accepted send the §6.3 answer with a fresh wamid followed by status webhooks.
//! Media sent by id must have been uploaded (`POST /{version}/{phone_number_id}/media`); an unknown id is
//! accepted and then fails with 131053, as Meta reports media problems in a `failed` status.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use baton_whatsapp::graph::{
    Content, MarkRead, MediaSource, MessagesRequest, SendMessage, SendResponse, SuccessResponse, parse_request,
};
use serde_json::Value;

use super::{Arrival, Reply, authorized, error, unknown_object, valid_version};
use crate::chat;
use crate::config::WindowEnforcement;
use crate::customers::OutboundRecord;
use crate::ids::{self, Direction};
use crate::journal::{Endpoint, ReadReceipt};
use crate::state::Shared;
use crate::statuses::{self, FollowUp};
use crate::templates;

pub(super) async fn send(
    State(shared): State<Arc<Shared>>,
    Path((version, phone_number_id)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrival = Arrival { endpoint: Endpoint::Messages, method, uri, headers, body };
    let (reply, follow_up) = decide(&shared, &arrival, &version, &phone_number_id);
    // Record before any status webhook can go out, so tests see the request first.
    let response = arrival.answer(&shared, reply);
    if let Some((message_id, follow_up)) = follow_up {
        statuses::schedule(&shared, message_id, follow_up);
    }
    response
}

type Decision = (Reply, Option<(String, FollowUp)>);

fn refuse(reply: Reply) -> Decision {
    (reply, None)
}

fn invalid(details: impl Into<String>) -> Decision {
    refuse(error(100, Some(details.into())))
}

fn decide(shared: &Arc<Shared>, arrival: &Arrival, version: &str, phone_number_id: &str) -> Decision {
    if !authorized(shared, &arrival.headers) {
        return refuse(error(190, None));
    }
    if !valid_version(version) || phone_number_id != shared.config.phone_number_id {
        return refuse(unknown_object(&arrival.method, phone_number_id));
    }
    let Ok(json) = serde_json::from_slice::<Value>(&arrival.body) else {
        return invalid("The request body is not valid JSON.");
    };
    if json.get("messaging_product").and_then(Value::as_str) != Some("whatsapp") {
        return invalid("The parameter messaging_product is required.");
    }
    match parse_request(&arrival.body) {
        Ok(MessagesRequest::MarkRead(read)) => mark_read(shared, &read),
        Ok(MessagesRequest::Send(message)) => accept(shared, &message),
        Err(reason) => invalid(format!("Invalid parameter: {reason}")),
    }
}

fn mark_read(shared: &Shared, read: &MarkRead) -> Decision {
    if !read.message_id.starts_with("wamid.") {
        return invalid(format!("Invalid message_id: {}", read.message_id));
    }
    let typing = read.typing_indicator.is_some();
    shared.journal.record_read(ReadReceipt {
        message_id: read.message_id.clone(),
        typing_indicator: typing,
        unix_seconds: shared.clock.unix_seconds(),
    });
    shared.customers.mark_read(&read.message_id, typing, shared.clock.now());
    (Reply::ok(&SuccessResponse { success: true }), None)
}

fn accept(shared: &Arc<Shared>, message: &SendMessage) -> Decision {
    if let Err(reason) = message.validate() {
        return invalid(reason.to_string());
    }
    // Contract §13: check `context.message_id` (and a reaction's target) looks like a wamid.
    let quoted = message.context.as_ref().map(|context| context.message_id.as_str());
    let reacted = match &message.content {
        Content::Reaction { reaction } => Some(reaction.message_id.as_str()),
        _ => None,
    };
    for id in quoted.into_iter().chain(reacted) {
        if !id.starts_with("wamid.") {
            return invalid(format!("Invalid message id {id}: message ids start with `wamid.`"));
        }
    }
    // "+" and formatting are allowed in `to`; the wa_id is the digits.
    let wa_id: String = message.to.chars().filter(char::is_ascii_digit).collect();
    if wa_id.len() < 5 || message.to.chars().any(|character| character.is_alphabetic()) {
        return invalid(format!("Invalid parameter: `to` ({}) is not a phone number", message.to));
    }
    if wa_id == shared.config.display_phone_number {
        return refuse(error(131021, None));
    }
    let now = shared.clock.now();
    if !shared.faults.admit_send(now) {
        return refuse(error(130429, None));
    }
    if let Some(code) = shared.faults.take_sync_error(&wa_id) {
        return refuse(error(code, None));
    }
    let (template, enforcement) = {
        let settings = shared.settings();
        let template = match &message.content {
            Content::Template { template } => match templates::check(&settings.templates, template) {
                Ok(definition) => Some(definition),
                Err(refusal) => return refuse(error(refusal.code, Some(refusal.details))),
            },
            _ => None,
        };
        (template, settings.window)
    };
    // Templates are the only messages allowed outside the window (contract §8).
    let window_closed = template.is_none() && !shared.customers.window_open(&wa_id, now);
    if window_closed && enforcement == WindowEnforcement::SyncError {
        return refuse(error(131047, None));
    }

    // Media by id: the phone shows an uploaded medium; an id nobody uploaded cannot be delivered.
    let media_id = match media_source(&message.content) {
        Some(MediaSource::Id(id)) => Some(id.as_str()),
        _ => None,
    };
    let uploaded = media_id.filter(|id| shared.media.get(id).is_some());
    let message_id = ids::wamid(&wa_id, Direction::FromBusiness);
    let unix_seconds = shared.clock.unix_at(now);
    let entry = chat::business_entry(message, &message_id, unix_seconds, template.as_ref(), uploaded);
    let reaction = match &message.content {
        Content::Reaction { reaction } => Some((reaction.message_id.as_str(), reaction.emoji.as_str())),
        _ => None,
    };
    let (pricing_category, pricing_type) = match &template {
        Some(definition) => (definition.pricing_category(), "regular"),
        None => ("service".to_owned(), "free_customer_service"),
    };
    let record = OutboundRecord {
        wa_id: wa_id.clone(),
        biz_opaque_callback_data: message.biz_opaque_callback_data.clone(),
        pricing_category,
        pricing_type: pricing_type.to_owned(),
        conversation_id: ids::hex_token(),
        audio: matches!(message.content, Content::Audio { .. }),
        status: None,
    };
    shared.customers.record_outbound(&message_id, entry, reaction, record);

    let follow_up = if window_closed && enforcement == WindowEnforcement::FailedStatus {
        FollowUp::Fail(131047)
    } else if media_id.is_some() && uploaded.is_none() {
        FollowUp::Fail(131053)
    } else if let Some(code) = shared.faults.take_async_failure(&wa_id) {
        FollowUp::Fail(code)
    } else {
        FollowUp::Progress
    };
    let response = SendResponse::new(message.to.clone(), wa_id, message_id.clone());
    (Reply::ok(&response), Some((message_id, follow_up)))
}

/// Where a media send's medium comes from; `None` for other content.
fn media_source(content: &Content) -> Option<&MediaSource> {
    match content {
        Content::Image { image: media }
        | Content::Video { video: media }
        | Content::Audio { audio: media }
        | Content::Document { document: media }
        | Content::Sticker { sticker: media } => Some(&media.source),
        _ => None,
    }
}
