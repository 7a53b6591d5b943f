//! What a webhook means for Baton: [`Payload::into_items`] flattens entries × changes × elements into
//! [`Item`]s — inbound messages with their sender's profile name joined on `wa_id`, status updates,
//! value-level errors, ignored fields, and anything unrecognized with its raw JSON.

use std::collections::HashMap;

use serde_json::Value;

use super::message::{ContactCard, Context, Location, MediaObject, Message, Order, Referral, System};
use super::status::{Conversation, DeliveryStatus, Pricing, Status};
use super::{Change, ErrorDetail, MESSAGES_FIELD, Payload};

/// One thing a webhook told Baton, in payload order.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// A customer wrote (or reacted, tapped a button, changed number…). Deduplicate on its wamid.
    Message(InboundMessage),
    /// News about a message Baton sent. Deduplicate on (message id, status); apply with
    /// [`DeliveryStatus::merge`].
    Status(StatusUpdate),
    /// A system-, app- or account-level error (`value.errors[]`): log it.
    Error(ValueError),
    /// A change of a `field` other than `messages`: acknowledge and ignore.
    Ignored(Ignored),
    /// Something in a `messages` change this crate cannot read (no wamid, an unknown status value…). Kept
    /// raw so it can be logged and stored rather than lost.
    Unrecognized(Unrecognized),
}

/// Which business number an item concerns: route on `phone_number_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The WhatsApp Business Account id (`entry[].id`).
    pub business_account_id: String,
    pub phone_number_id: String,
    pub display_phone_number: Option<String>,
}

/// An inbound message, flattened.
#[derive(Clone, Debug, PartialEq)]
pub struct InboundMessage {
    pub origin: Origin,
    /// The wamid.
    pub id: String,
    /// The sender's `wa_id`: phone digits, without the `+` some Meta examples write.
    pub from: String,
    /// The sender's business-scoped user id, when Meta sends one (2026).
    pub from_user_id: Option<String>,
    /// The sender's WhatsApp profile name, from the change's `contacts` entry with the same `wa_id`.
    pub profile_name: Option<String>,
    /// Unix seconds, from the webhook (order conversations by this, not by arrival).
    pub timestamp: i64,
    pub context: Option<Context>,
    /// Set when the conversation started from a Click-to-WhatsApp ad or post. Boxed: it is large and rare.
    pub referral: Option<Box<Referral>>,
    pub kind: MessageKind,
}

/// The content of an inbound message.
#[derive(Clone, Debug, PartialEq)]
pub enum MessageKind {
    Text {
        body: String,
    },
    /// Image, video, audio, document or sticker.
    Media(MediaAttachment),
    Location(Location),
    /// Shared contact cards.
    Contacts(Vec<ContactCard>),
    /// A tap on an interactive reply button (`interactive.button_reply`); `context` names the message.
    ButtonReply {
        id: String,
        title: String,
    },
    /// A choice from an interactive list (`interactive.list_reply`).
    ListReply {
        id: String,
        title: String,
        description: Option<String>,
    },
    /// A tap on a template's quick-reply button (`button`).
    TemplateButton {
        payload: Option<String>,
        text: String,
    },
    /// A reaction to `message_id`; `emoji` is `None` when the reaction was removed.
    Reaction {
        message_id: String,
        emoji: Option<String>,
    },
    Order(Order),
    System(System),
    /// Anything Baton cannot show as such. The raw JSON is in it, so nothing is lost.
    Unsupported(Unsupported),
}

/// Which media object a message carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Document,
    Sticker,
}

impl MediaKind {
    /// The message `type`, which is also the key of the media object.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
        }
    }
}

/// Inbound media: fetch the bytes via `GET /{media id}` (or straight from `url` when present).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaAttachment {
    pub kind: MediaKind,
    pub id: String,
    pub mime_type: Option<String>,
    pub sha256: Option<String>,
    pub caption: Option<String>,
    pub filename: Option<String>,
    pub url: Option<String>,
    /// A recorded voice note (audio only).
    pub voice: bool,
    /// An animated sticker.
    pub animated: bool,
}

impl MediaAttachment {
    fn new(kind: MediaKind, media: MediaObject) -> Self {
        Self {
            kind,
            id: media.id,
            mime_type: media.mime_type,
            sha256: media.sha256,
            caption: media.caption,
            filename: media.filename,
            url: media.url,
            voice: media.voice,
            animated: media.animated,
        }
    }
}

/// A message Baton cannot show as such.
#[derive(Clone, Debug, PartialEq)]
pub struct Unsupported {
    /// The message `type` (`unsupported`, `revoke`, `interactive`…).
    pub message_type: String,
    /// A finer type when there is one: Meta's `unsupported.type` (`poll_creation`…) or an interactive
    /// reply's `interactive.type` (`nfm_reply`…).
    pub subtype: Option<String>,
    pub reason: UnsupportedReason,
    /// The message's `errors` (e.g. 131051 "Message type unknown").
    pub errors: Vec<ErrorDetail>,
    /// The whole message object as Meta sent it.
    pub raw: Value,
}

/// Why a message is [`Unsupported`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnsupportedReason {
    /// WhatsApp itself says so: type `unsupported` or `unknown`.
    Reported,
    /// A type (or interactive subtype) this crate does not know: `revoke`, `edit`, `request_welcome`…
    UnknownType,
    /// A known type whose object is missing or of an unexpected shape.
    UnreadableContent,
}

/// A status update for a message Baton sent.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusUpdate {
    pub origin: Origin,
    /// The wamid the send call returned.
    pub message_id: String,
    pub status: DeliveryStatus,
    /// Unix seconds.
    pub timestamp: i64,
    pub recipient_id: Option<String>,
    pub biz_opaque_callback_data: Option<String>,
    pub conversation: Option<Conversation>,
    pub pricing: Option<Pricing>,
    /// Why it failed, on `failed`.
    pub errors: Vec<ErrorDetail>,
}

/// An error from `value.errors[]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueError {
    pub origin: Origin,
    pub error: ErrorDetail,
}

/// A change of a field Baton does not handle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ignored {
    pub business_account_id: String,
    pub field: String,
}

/// Something unreadable, with why and the raw JSON (the whole change value, or the one element).
#[derive(Clone, Debug, PartialEq)]
pub struct Unrecognized {
    pub business_account_id: String,
    /// Known unless the change had no usable `metadata`.
    pub phone_number_id: Option<String>,
    pub reason: String,
    pub raw: Value,
}

impl Payload {
    /// Flattens the payload into items, in payload order: entries, then changes, then within a change its
    /// value-level errors, statuses and messages. Never fails: what cannot be read becomes
    /// [`Item::Unrecognized`] or [`MessageKind::Unsupported`].
    pub fn into_items(self) -> Vec<Item> {
        let mut items = Vec::new();
        for entry in self.entry {
            for change in entry.changes {
                read_change(&entry.id, change, &mut items);
            }
        }
        items
    }
}

fn read_change(business_account_id: &str, change: Change, items: &mut Vec<Item>) {
    if change.field != MESSAGES_FIELD {
        items.push(Item::Ignored(Ignored { business_account_id: business_account_id.to_owned(), field: change.field }));
        return;
    }
    let unrecognized = |phone_number_id: Option<&str>, reason: String, raw: Value| {
        Item::Unrecognized(Unrecognized {
            business_account_id: business_account_id.to_owned(),
            phone_number_id: phone_number_id.map(str::to_owned),
            reason,
            raw,
        })
    };
    let (raw, parsed) = change.value.into_parts();
    let value = match parsed {
        Ok(value) => value,
        Err(reason) => {
            items.push(unrecognized(None, format!("unreadable change value: {reason}"), raw));
            return;
        }
    };
    let Some(metadata) = value.metadata else {
        let reason = "the change has no metadata.phone_number_id to route it by".to_owned();
        items.push(unrecognized(None, reason, raw));
        return;
    };
    let origin = Origin {
        business_account_id: business_account_id.to_owned(),
        phone_number_id: metadata.phone_number_id,
        display_phone_number: metadata.display_phone_number,
    };
    let phone_number_id = Some(origin.phone_number_id.as_str());

    for error in value.errors {
        match error.into_parts() {
            (_, Ok(error)) => items.push(Item::Error(ValueError { origin: origin.clone(), error })),
            (raw, Err(reason)) => items.push(unrecognized(phone_number_id, format!("unreadable error: {reason}"), raw)),
        }
    }

    for status in value.statuses {
        match status.into_parts() {
            (raw, Ok(status)) => match status_update(&origin, status) {
                Ok(update) => items.push(Item::Status(update)),
                Err(reason) => items.push(unrecognized(phone_number_id, reason, raw)),
            },
            (raw, Err(reason)) => {
                items.push(unrecognized(phone_number_id, format!("unreadable status: {reason}"), raw))
            }
        }
    }

    // Join senders on wa_id, never on position: one change can carry several contacts and messages, in
    // any order. A contact entry that is not even an object has no name to offer and is skipped.
    let mut profile_names: HashMap<String, String> = HashMap::new();
    for contact in &value.contacts {
        if let Ok(contact) = contact.parsed()
            && let (Some(wa_id), Some(name)) =
                (&contact.wa_id, contact.profile.as_ref().and_then(|profile| profile.name.as_ref()))
        {
            profile_names.entry(without_plus(wa_id).to_owned()).or_insert_with(|| name.clone());
        }
    }

    for message in value.messages {
        match message.into_parts() {
            (raw, Ok(message)) => match unix_seconds(&message.timestamp) {
                Ok(timestamp) => {
                    items.push(Item::Message(inbound_message(&origin, &profile_names, message, timestamp, raw)))
                }
                Err(reason) => items.push(unrecognized(phone_number_id, reason, raw)),
            },
            (raw, Err(reason)) => {
                items.push(unrecognized(phone_number_id, format!("unreadable message: {reason}"), raw))
            }
        }
    }
}

/// Meta's docs sometimes show `from` as `+16505551234`; `wa_id` never has the `+`.
fn without_plus(number: &str) -> &str {
    number.strip_prefix('+').unwrap_or(number)
}

fn unix_seconds(timestamp: &str) -> Result<i64, String> {
    timestamp.parse().map_err(|_| format!("timestamp {timestamp:?} is not Unix seconds"))
}

fn status_update(origin: &Origin, status: Status) -> Result<StatusUpdate, String> {
    Ok(StatusUpdate {
        origin: origin.clone(),
        timestamp: unix_seconds(&status.timestamp)?,
        message_id: status.id,
        status: status.status,
        recipient_id: status.recipient_id,
        biz_opaque_callback_data: status.biz_opaque_callback_data,
        conversation: status.conversation,
        pricing: status.pricing,
        errors: status.errors,
    })
}

fn inbound_message(
    origin: &Origin,
    profile_names: &HashMap<String, String>,
    mut message: Message,
    timestamp: i64,
    raw: Value,
) -> InboundMessage {
    let from = without_plus(&message.from).to_owned();
    InboundMessage {
        origin: origin.clone(),
        profile_name: profile_names.get(&from).cloned(),
        from,
        timestamp,
        from_user_id: message.from_user_id.take(),
        context: message.context.take(),
        referral: message.referral.take().map(Box::new),
        kind: message_kind(&mut message, raw),
        id: message.id,
    }
}

/// Picks the object named by `type`. Anything else — Meta's own `unsupported`, a type or interactive
/// subtype this crate does not know, a known type whose object is missing or odd — becomes
/// [`MessageKind::Unsupported`] carrying the raw message.
fn message_kind(message: &mut Message, raw: Value) -> MessageKind {
    let media =
        |kind, object: Option<MediaObject>| object.map(|media| MessageKind::Media(MediaAttachment::new(kind, media)));
    let known = match message.kind.as_str() {
        "text" => message.text.take().map(|text| MessageKind::Text { body: text.body }),
        "image" => media(MediaKind::Image, message.image.take()),
        "video" => media(MediaKind::Video, message.video.take()),
        "audio" => media(MediaKind::Audio, message.audio.take()),
        "document" => media(MediaKind::Document, message.document.take()),
        "sticker" => media(MediaKind::Sticker, message.sticker.take()),
        "location" => message.location.take().map(MessageKind::Location),
        "contacts" => message.contacts.take().map(MessageKind::Contacts),
        "interactive" => match message.interactive.take() {
            Some(interactive) => match interactive.kind.as_str() {
                "button_reply" => {
                    interactive.button_reply.map(|reply| MessageKind::ButtonReply { id: reply.id, title: reply.title })
                }
                "list_reply" => interactive.list_reply.map(|reply| MessageKind::ListReply {
                    id: reply.id,
                    title: reply.title,
                    description: reply.description,
                }),
                _ => return unsupported(message, Some(interactive.kind), UnsupportedReason::UnknownType, raw),
            },
            None => None,
        },
        "button" => message
            .button
            .take()
            .map(|button| MessageKind::TemplateButton { payload: button.payload, text: button.text }),
        // pywa has seen `""` for a removed reaction where Meta documents a missing emoji: same meaning.
        "reaction" => message.reaction.take().map(|reaction| MessageKind::Reaction {
            message_id: reaction.message_id,
            emoji: reaction.emoji.filter(|emoji| !emoji.is_empty()),
        }),
        "order" => message.order.take().map(MessageKind::Order),
        "system" => message.system.take().map(MessageKind::System),
        "unsupported" | "unknown" => {
            let subtype = message.unsupported.take().and_then(|unsupported| unsupported.kind);
            return unsupported(message, subtype, UnsupportedReason::Reported, raw);
        }
        _ => return unsupported(message, None, UnsupportedReason::UnknownType, raw),
    };
    match known {
        Some(kind) => kind,
        None => unsupported(message, None, UnsupportedReason::UnreadableContent, raw),
    }
}

fn unsupported(message: &mut Message, subtype: Option<String>, reason: UnsupportedReason, raw: Value) -> MessageKind {
    MessageKind::Unsupported(Unsupported {
        message_type: message.kind.clone(),
        subtype,
        reason,
        errors: message.errors.take().unwrap_or_default(),
        raw,
    })
}
