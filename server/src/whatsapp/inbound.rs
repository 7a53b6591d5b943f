//! What one inbound WhatsApp message becomes in Baton: a [`NewInbound`] with a kind, a text that
//! any client can show (the body, a caption, a tapped button's title…) and the structured
//! [`MessageContent`]. Nothing is dropped: a type Baton cannot show becomes `unsupported` with a
//! sentence the agent can act on, and the raw webhook stays in `webhook_deliveries`.

use baton_shared::model::{ContactCard, MessageContent, MessageKind as Kind, display_text};
use baton_whatsapp::webhook::{InboundMessage, MessageKind, UnsupportedReason};

use crate::store::conversations::NewInbound;

/// The message as Baton stores it.
pub fn new_inbound(message: InboundMessage) -> NewInbound {
    let reply_to = message.context.as_ref().and_then(|context| context.message_id.clone());
    let (kind, body, content) = content_of(message.kind);
    NewInbound {
        wa_id: message.from,
        // The customer chose it: nothing in it may disguise it (an RTL override, zero-width…).
        profile_name: display_text(&message.profile_name.unwrap_or_default()),
        wa_message_id: message.id,
        kind,
        body,
        // WhatsApp's own time (seconds), not arrival: webhooks may come late or out of order.
        at: message.timestamp.saturating_mul(1000),
        content,
        reply_to,
    }
}

fn content_of(kind: MessageKind) -> (Kind, String, Option<MessageContent>) {
    match kind {
        MessageKind::Text { body } => (Kind::Text, body, None),
        MessageKind::Media(media) => {
            let content = MessageContent::Media {
                media_kind: media.kind.as_str().to_owned(),
                media_id: media.id,
                mime_type: media.mime_type,
                filename: media.filename.as_deref().map(display_text),
                voice: media.voice,
                upload: None,
            };
            (Kind::parse(media.kind.as_str()), media.caption.unwrap_or_default(), Some(content))
        }
        MessageKind::Location(location) => {
            let body = [location.name.as_deref(), location.address.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
            let content = MessageContent::Location {
                latitude: location.latitude.to_string(),
                longitude: location.longitude.to_string(),
                name: location.name,
                address: location.address,
                url: location.url,
            };
            (Kind::Location, body, Some(content))
        }
        MessageKind::Contacts(cards) => {
            let cards: Vec<ContactCard> = cards
                .into_iter()
                .map(|card| ContactCard {
                    name: card
                        .name
                        .and_then(|name| {
                            name.formatted_name.or_else(|| {
                                let parts: Vec<String> =
                                    [name.first_name, name.last_name].into_iter().flatten().collect();
                                (!parts.is_empty()).then(|| parts.join(" "))
                            })
                        })
                        .unwrap_or_default(),
                    phones: card.phones.into_iter().filter_map(|phone| phone.phone.or(phone.wa_id)).collect(),
                })
                .collect();
            let body = cards.iter().map(|card| card.name.as_str()).collect::<Vec<_>>().join(", ");
            (Kind::Contacts, body, Some(MessageContent::Contacts { cards }))
        }
        MessageKind::ButtonReply { id, title } => choice("button_reply", id, title),
        MessageKind::ListReply { id, title, .. } => choice("list_reply", id, title),
        MessageKind::TemplateButton { payload, text } => {
            let id = payload.unwrap_or_else(|| text.clone());
            let (_, body, content) = choice("template_button", id, text);
            (Kind::Button, body, content)
        }
        MessageKind::Reaction { message_id, emoji } => {
            let body = emoji.clone().unwrap_or_default();
            (Kind::Reaction, body, Some(MessageContent::Reaction { target: message_id, emoji }))
        }
        MessageKind::System(system) => (Kind::System, system.body.unwrap_or_default(), None),
        MessageKind::Order(order) => unsupported(
            "order",
            "The customer sent an order from a catalog, which Baton cannot show yet.",
            order.text.unwrap_or_default(),
        ),
        MessageKind::Unsupported(message) => {
            let what = match &message.subtype {
                Some(subtype) => format!("{} ({subtype})", message.message_type),
                None => message.message_type.clone(),
            };
            let reason = match message.reason {
                UnsupportedReason::Reported => "WhatsApp does not show this kind of message to businesses.",
                UnsupportedReason::UnknownType => "Baton does not know this kind of message yet.",
                UnsupportedReason::UnreadableContent => "The message's content could not be read.",
            };
            let sentence = format!("{reason} Ask the customer to send it another way.");
            (Kind::Unsupported, String::new(), Some(MessageContent::Unsupported { what, reason: sentence }))
        }
    }
}

fn choice(source: &str, id: String, title: String) -> (Kind, String, Option<MessageContent>) {
    let content = MessageContent::Choice { source: source.to_owned(), id, title: title.clone() };
    (Kind::Interactive, title, Some(content))
}

fn unsupported(what: &str, reason: &str, body: String) -> (Kind, String, Option<MessageContent>) {
    let content = MessageContent::Unsupported { what: what.to_owned(), reason: reason.to_owned() };
    (Kind::Unsupported, body, Some(content))
}
