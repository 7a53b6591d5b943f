//! Customers writing to the business (contract §3): every message type an inbox must handle, turned into
//! `value.messages[]` elements (the crate's own [`Message`] type), with media registered so Baton can
//! download it, sent as one signed webhook per call, and remembered for the phone page and the window.

use std::sync::Arc;

use baton_whatsapp::webhook::{
    Button, Contact, ContactCard, Context, ErrorData, ErrorDetail, Interactive, InteractiveReply, Location, MediaKind,
    MediaObject, Message, Profile, Reaction, Text, UnsupportedObject,
};
use serde::{Deserialize, Serialize};

use crate::chat::ChatEntry;
use crate::customers::Customer;
use crate::ids::{self, Direction};
use crate::journal::DeliveryKind;
use crate::media;
use crate::state::Shared;
use crate::webhook::{self, DeliveryOutcome};

/// Something a customer sends. On the control API it is JSON tagged by `type`, e.g.
/// `{"type": "text", "body": "Hi"}` or `{"type": "button_reply", "context": "wamid…", "id": "yes", "title": "Yes"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Inbound {
    /// Text; `reply_to` makes it a quote reply to that wamid.
    Text {
        body: String,
        #[serde(default)]
        reply_to: Option<String>,
    },
    /// A generated PNG.
    Image {
        #[serde(default)]
        caption: Option<String>,
    },
    /// A generated MP4 header.
    Video {
        #[serde(default)]
        caption: Option<String>,
    },
    /// A generated Ogg Opus header; `voice` marks a recorded voice note.
    Audio {
        #[serde(default)]
        voice: bool,
    },
    /// A generated one-page PDF.
    Document {
        #[serde(default)]
        filename: Option<String>,
        #[serde(default)]
        caption: Option<String>,
    },
    /// A generated WebP.
    Sticker {
        #[serde(default)]
        animated: bool,
    },
    Location {
        latitude: f64,
        longitude: f64,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        address: Option<String>,
    },
    /// Shared contact cards (not the sender).
    Contacts { cards: Vec<ContactCard> },
    /// A tap on reply button `id` of the interactive message `context` (a wamid).
    ButtonReply { context: String, id: String, title: String },
    /// A pick of row `id` in the list message `context`.
    ListReply {
        context: String,
        id: String,
        title: String,
        #[serde(default)]
        description: Option<String>,
    },
    /// A tap on a template's quick-reply button: type `button` with `payload` and `text`.
    TemplateButton { context: String, payload: String, text: String },
    /// A reaction to `message_id`; `None` (or an empty emoji) removes it, sent without `emoji`.
    Reaction {
        message_id: String,
        #[serde(default)]
        emoji: Option<String>,
    },
    /// Something WhatsApp cannot pass on: type `unsupported` with error 131051 and, when given,
    /// `unsupported.type` (`poll_creation`, `edit`…).
    Unsupported {
        #[serde(default)]
        subtype: Option<String>,
    },
    /// A type Baton cannot know (e.g. `revoke`): only the common fields, nothing else.
    UnknownType { name: String },
}

impl Inbound {
    pub fn text(body: impl Into<String>) -> Self {
        Inbound::Text { body: body.into(), reply_to: None }
    }

    pub fn quote_reply(body: impl Into<String>, message_id: impl Into<String>) -> Self {
        Inbound::Text { body: body.into(), reply_to: Some(message_id.into()) }
    }

    pub fn image(caption: Option<&str>) -> Self {
        Inbound::Image { caption: caption.map(str::to_owned) }
    }

    pub fn voice_note() -> Self {
        Inbound::Audio { voice: true }
    }

    pub fn document(filename: &str, caption: Option<&str>) -> Self {
        Inbound::Document { filename: Some(filename.to_owned()), caption: caption.map(str::to_owned) }
    }

    pub fn location(latitude: f64, longitude: f64) -> Self {
        Inbound::Location { latitude, longitude, name: None, address: None }
    }

    pub fn button_reply(context: impl Into<String>, id: impl Into<String>, title: impl Into<String>) -> Self {
        Inbound::ButtonReply { context: context.into(), id: id.into(), title: title.into() }
    }

    pub fn reaction(message_id: impl Into<String>, emoji: Option<&str>) -> Self {
        Inbound::Reaction { message_id: message_id.into(), emoji: emoji.map(str::to_owned) }
    }

    /// The message `type` on the wire.
    pub fn message_type(&self) -> &str {
        match self {
            Inbound::Text { .. } => "text",
            Inbound::Image { .. } => "image",
            Inbound::Video { .. } => "video",
            Inbound::Audio { .. } => "audio",
            Inbound::Document { .. } => "document",
            Inbound::Sticker { .. } => "sticker",
            Inbound::Location { .. } => "location",
            Inbound::Contacts { .. } => "contacts",
            Inbound::ButtonReply { .. } | Inbound::ListReply { .. } => "interactive",
            Inbound::TemplateButton { .. } => "button",
            Inbound::Reaction { .. } => "reaction",
            Inbound::Unsupported { .. } => "unsupported",
            Inbound::UnknownType { name } => name,
        }
    }
}

/// What a customer send produced: the wamids (in order) and how Baton answered the webhook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InboundReceipt {
    pub message_ids: Vec<String>,
    pub delivery: DeliveryOutcome,
}

impl InboundReceipt {
    /// The first (usually only) wamid.
    pub fn message_id(&self) -> &str {
        self.message_ids.first().map_or("", String::as_str)
    }
}

/// Sends one webhook holding all `messages`, with one `contacts` entry per distinct sender. Returns after
/// Baton answered the first attempt; re-sends continue in the background.
pub(crate) async fn send(shared: &Arc<Shared>, messages: Vec<(Customer, Inbound)>) -> anyhow::Result<InboundReceipt> {
    anyhow::ensure!(!messages.is_empty(), "nothing to send");
    for (customer, _) in &messages {
        customer.validate().map_err(anyhow::Error::msg)?;
    }
    let now = shared.clock.now();
    let unix_seconds = shared.clock.unix_at(now);
    let mut contacts: Vec<Contact> = Vec::new();
    let mut elements = Vec::with_capacity(messages.len());
    let mut message_ids = Vec::with_capacity(messages.len());
    for (customer, inbound) in messages {
        let message_id = ids::wamid(&customer.wa_id, Direction::FromCustomer);
        let (element, entry) = build(shared, &customer, &inbound, &message_id, unix_seconds);
        if !contacts.iter().any(|contact| contact.wa_id.as_deref() == Some(customer.wa_id.as_str())) {
            contacts.push(Contact {
                profile: Some(Profile { name: Some(customer.name.clone()), username: None }),
                wa_id: Some(customer.wa_id.clone()),
                ..Contact::default()
            });
        }
        let reaction = match &inbound {
            Inbound::Reaction { message_id, emoji } => {
                Some((message_id.as_str(), emoji.as_deref().filter(|emoji| !emoji.is_empty())))
            }
            _ => None,
        };
        shared.customers.record_inbound(&customer, entry, reaction, now);
        elements.push(element);
        message_ids.push(message_id);
    }
    let body = crate::envelope::messages(&shared.config, shared.config.webhook.format, &contacts, &elements)?;
    let delivery = webhook::deliver(shared, DeliveryKind::Messages, body, None).await;
    Ok(InboundReceipt { message_ids, delivery })
}

/// The webhook element and the phone's chat entry for one inbound message.
fn build(
    shared: &Shared,
    customer: &Customer,
    inbound: &Inbound,
    message_id: &str,
    unix_seconds: u64,
) -> (Message, ChatEntry) {
    let mut message = blank(&customer.wa_id, message_id, unix_seconds, inbound.message_type());
    let mut entry = ChatEntry::new(true, message_id, unix_seconds, inbound.message_type());
    let business_context = |wamid: &str| Context {
        from: Some(shared.config.display_phone_number.clone()),
        message_id: Some(wamid.to_owned()),
        ..Context::default()
    };
    match inbound {
        Inbound::Text { body, reply_to } => {
            message.text = Some(Text { body: body.clone() });
            message.context = reply_to.as_deref().map(business_context);
            entry.text = Some(body.clone());
            entry.reply_to.clone_from(reply_to);
        }
        Inbound::Image { caption } => {
            let media = media_object(shared, MediaKind::Image, false, None, caption.clone(), &mut entry);
            message.image = Some(media);
        }
        Inbound::Video { caption } => {
            message.video = Some(media_object(shared, MediaKind::Video, false, None, caption.clone(), &mut entry));
        }
        Inbound::Audio { voice } => {
            let mut media = media_object(shared, MediaKind::Audio, *voice, None, None, &mut entry);
            media.voice = *voice;
            // Plain words, not emoji: the phone page must read well without an emoji font.
            entry.text = Some(if *voice { "Voice message" } else { "Audio" }.to_owned());
            message.audio = Some(media);
        }
        Inbound::Document { filename, caption } => {
            let filename = filename.clone().unwrap_or_else(|| "document.pdf".to_owned());
            let media = media_object(shared, MediaKind::Document, false, Some(filename), caption.clone(), &mut entry);
            message.document = Some(media);
        }
        Inbound::Sticker { animated } => {
            let mut media = media_object(shared, MediaKind::Sticker, false, None, None, &mut entry);
            media.animated = *animated;
            message.sticker = Some(media);
        }
        Inbound::Location { latitude, longitude, name, address } => {
            message.location = Some(Location {
                latitude: *latitude,
                longitude: *longitude,
                name: name.clone(),
                address: address.clone(),
                url: None,
            });
            let place = [name.as_deref(), address.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(", ");
            entry.text = Some(if place.is_empty() {
                format!("Location: {latitude}, {longitude}")
            } else {
                format!("Location: {place} ({latitude}, {longitude})")
            });
        }
        Inbound::Contacts { cards } => {
            message.contacts = Some(cards.clone());
            let names: Vec<&str> = cards
                .iter()
                .filter_map(|card| card.name.as_ref().and_then(|name| name.formatted_name.as_deref()))
                .collect();
            entry.text = Some(format!("Contact: {}", names.join(", ")));
        }
        Inbound::ButtonReply { context, id, title } => {
            message.context = Some(business_context(context));
            message.interactive = Some(Interactive {
                kind: "button_reply".to_owned(),
                button_reply: Some(InteractiveReply { id: id.clone(), title: title.clone(), description: None }),
                list_reply: None,
            });
            entry.text = Some(title.clone());
            entry.reply_to = Some(context.clone());
        }
        Inbound::ListReply { context, id, title, description } => {
            message.context = Some(business_context(context));
            message.interactive = Some(Interactive {
                kind: "list_reply".to_owned(),
                button_reply: None,
                list_reply: Some(InteractiveReply {
                    id: id.clone(),
                    title: title.clone(),
                    description: description.clone(),
                }),
            });
            entry.text = Some(title.clone());
            entry.reply_to = Some(context.clone());
        }
        Inbound::TemplateButton { context, payload, text } => {
            message.context = Some(business_context(context));
            message.button = Some(Button { payload: Some(payload.clone()), text: text.clone() });
            entry.text = Some(text.clone());
            entry.reply_to = Some(context.clone());
        }
        Inbound::Reaction { message_id: target, emoji } => {
            // Removing a reaction leaves `emoji` out entirely (contract §3).
            let emoji = emoji.clone().filter(|emoji| !emoji.is_empty());
            entry.text.clone_from(&emoji);
            message.reaction = Some(Reaction { message_id: target.clone(), emoji });
        }
        Inbound::Unsupported { subtype } => {
            message.errors = Some(vec![ErrorDetail {
                code: 131051,
                title: Some("Message type unknown".to_owned()),
                message: Some("Message type unknown".to_owned()),
                error_data: Some(ErrorData { details: Some("Message type is currently not supported.".to_owned()) }),
                href: None,
            }]);
            message.unsupported = subtype.clone().map(|kind| UnsupportedObject { kind: Some(kind) });
            entry.text = Some("[unsupported message]".to_owned());
        }
        Inbound::UnknownType { name } => entry.text = Some(format!("[{name}]")),
    }
    (message, entry)
}

/// Registers a generated sample and describes it as the webhook does, with the optional `url` when
/// configured.
fn media_object(
    shared: &Shared,
    kind: MediaKind,
    voice: bool,
    filename: Option<String>,
    caption: Option<String>,
    entry: &mut ChatEntry,
) -> MediaObject {
    let item = shared.media.register_sample(kind, voice, filename.clone());
    let url = shared.config.media_url_in_webhooks.then(|| {
        let now = shared.clock.now();
        shared.media.issue_link(&item.id, now).map(|(token, expires_at)| {
            media::download_url(&shared.base_url, &item.id, &token, shared.clock.unix_at(expires_at))
        })
    });
    entry.media_id = Some(item.id.clone());
    entry.text = match (&filename, &caption) {
        (Some(filename), Some(caption)) => Some(format!("Document: {filename}\n{caption}")),
        (Some(filename), None) => Some(format!("Document: {filename}")),
        (None, caption) => caption.clone(),
    };
    MediaObject {
        caption,
        filename,
        mime_type: Some(item.mime_type),
        sha256: Some(item.sha256),
        id: item.id,
        url: url.flatten(),
        voice: false,
        animated: false,
    }
}

/// A message with only the common fields set.
fn blank(from: &str, id: &str, unix_seconds: u64, kind: &str) -> Message {
    Message {
        context: None,
        from: from.to_owned(),
        from_user_id: None,
        id: id.to_owned(),
        timestamp: unix_seconds.to_string(),
        kind: kind.to_owned(),
        text: None,
        image: None,
        video: None,
        audio: None,
        document: None,
        sticker: None,
        location: None,
        contacts: None,
        interactive: None,
        button: None,
        reaction: None,
        order: None,
        system: None,
        unsupported: None,
        referral: None,
        errors: None,
    }
}
