//! Request bodies for `POST /{version}/{phone_number_id}/messages` (contract §6.2, §6.4, §6.5), written and
//! read with serde so that Baton's sender and the simulator share one definition.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{REPLY_BUTTONS_MAX, TEXT_BODY_MAX_CHARS};
use crate::webhook::MediaKind;

/// `messaging_product`: always `"whatsapp"`; any other value fails to deserialize.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessagingProduct {
    #[default]
    #[serde(rename = "whatsapp")]
    WhatsApp,
}

/// `recipient_type`: `individual` (the default) or `group`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecipientType {
    #[default]
    Individual,
    Group,
}

/// Send a message: the common part plus the `type`-named content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SendMessage {
    pub messaging_product: MessagingProduct,
    #[serde(default)]
    pub recipient_type: RecipientType,
    /// The user's phone number; `+` and the country code are strongly recommended (without `+` Meta
    /// prepends the business's own country code).
    pub to: String,
    /// Quote-reply to a message. Not allowed on reactions; templates don't show the bubble.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<ReplyTo>,
    /// Echoed back in this message's status webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
    #[serde(flatten)]
    pub content: Content,
}

/// `context` of a send: `{"message_id": "wamid…"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyTo {
    pub message_id: String,
}

/// `"type"` and the object of the same name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    Text { text: Text },
    Image { image: Media },
    Video { video: Media },
    Audio { audio: Media },
    Document { document: Media },
    Sticker { sticker: Media },
    Reaction { reaction: Reaction },
    Interactive { interactive: Interactive },
    Template { template: Template },
}

impl Content {
    /// The media content of the given kind.
    pub fn media(kind: MediaKind, media: Media) -> Self {
        match kind {
            MediaKind::Image => Content::Image { image: media },
            MediaKind::Video => Content::Video { video: media },
            MediaKind::Audio => Content::Audio { audio: media },
            MediaKind::Document => Content::Document { document: media },
            MediaKind::Sticker => Content::Sticker { sticker: media },
        }
    }
}

/// `text`: body up to [`TEXT_BODY_MAX_CHARS`]; `preview_url` renders a preview of the first URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_url: Option<bool>,
}

/// A media object: an uploaded media id or a public link, plus `caption` (image, video, document) and
/// `filename` (document).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    #[serde(flatten)]
    pub source: MediaSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

/// Where the media comes from: written as an `"id"` or a `"link"` key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaSource {
    /// A media id from an upload (valid 30 days).
    Id(String),
    /// An HTTPS URL Meta fetches (and caches for 10 minutes).
    Link(String),
}

impl Media {
    pub fn id(id: impl Into<String>) -> Self {
        Self { source: MediaSource::Id(id.into()), caption: None, filename: None }
    }

    pub fn link(url: impl Into<String>) -> Self {
        Self { source: MediaSource::Link(url.into()), caption: None, filename: None }
    }

    pub fn with_caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    pub fn with_filename(mut self, filename: impl Into<String>) -> Self {
        self.filename = Some(filename.into());
        self
    }
}

/// `reaction`: an emoji on a message (by wamid).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub message_id: String,
    pub emoji: String,
}

/// `interactive`: reply buttons or a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Interactive {
    /// Up to [`REPLY_BUTTONS_MAX`] reply buttons.
    Button { body: InteractiveText, action: ButtonAction },
    List {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<InteractiveHeader>,
        body: InteractiveText,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        footer: Option<InteractiveText>,
        action: ListAction,
    },
}

/// `{"text": …}`: an interactive message's body or footer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractiveText {
    pub text: String,
}

/// An interactive message's header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InteractiveHeader {
    Text { text: String },
}

/// `action` of a reply-button message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ButtonAction {
    pub buttons: Vec<ReplyButton>,
}

/// `{"type": "reply", "reply": {id, title}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReplyButton {
    Reply { reply: ReplyOption },
}

/// A reply button's id (comes back in `button_reply.id`) and title.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyOption {
    pub id: String,
    pub title: String,
}

/// `action` of a list message: the button that opens the list, and its sections.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListAction {
    pub button: String,
    pub sections: Vec<ListSection>,
}

/// One list section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListSection {
    pub title: String,
    pub rows: Vec<ListRow>,
}

/// One list row (comes back in `list_reply`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRow {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `template`: the only kind of message allowed outside the 24-hour window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub name: String,
    pub language: Language,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<Component>,
}

impl Template {
    pub fn new(name: impl Into<String>, language: Language) -> Self {
        Self { name: name.into(), language, components: Vec::new() }
    }

    pub fn with_components(mut self, components: Vec<Component>) -> Self {
        self.components = components;
        self
    }
}

/// `template.language`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Language {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<LanguagePolicy>,
}

impl Language {
    /// A language with `policy: "deterministic"`. Meta's OpenAPI spec marks the policy required while its
    /// current examples leave it out (contract §16.8); sending it satisfies both, and chatwoot does.
    pub fn new(code: impl Into<String>) -> Self {
        Self { code: code.into(), policy: Some(LanguagePolicy::Deterministic) }
    }
}

/// `language.policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LanguagePolicy {
    Deterministic,
}

/// One template component with the values for its placeholders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    #[serde(rename = "type")]
    pub kind: ComponentKind,
    /// Buttons only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<ButtonSubType>,
    /// Buttons only: the button's position, written as a string (`"0"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    #[serde(default)]
    pub parameters: Vec<Parameter>,
}

impl Component {
    pub fn header(parameters: Vec<Parameter>) -> Self {
        Self { kind: ComponentKind::Header, sub_type: None, index: None, parameters }
    }

    pub fn body(parameters: Vec<Parameter>) -> Self {
        Self { kind: ComponentKind::Body, sub_type: None, index: None, parameters }
    }

    pub fn button(sub_type: ButtonSubType, index: usize, parameters: Vec<Parameter>) -> Self {
        Self { kind: ComponentKind::Button, sub_type: Some(sub_type), index: Some(index.to_string()), parameters }
    }
}

/// `components[].type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ComponentKind {
    Header,
    Body,
    Button,
}

/// `components[].sub_type` of a button.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonSubType {
    QuickReply,
    Url,
    Catalog,
    Flow,
}

/// A value for one placeholder: `{"type": "text", "text": …}` and so on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Parameter {
    Text {
        text: String,
    },
    Currency {
        currency: Currency,
    },
    DateTime {
        date_time: DateTime,
    },
    Image {
        image: Media,
    },
    Video {
        video: Media,
    },
    Document {
        document: Media,
    },
    /// A quick-reply button's payload (comes back in the `button` webhook).
    Payload {
        payload: String,
    },
}

impl Parameter {
    pub fn text(text: impl Into<String>) -> Self {
        Parameter::Text { text: text.into() }
    }
}

/// A currency parameter; `amount_1000` is the amount times 1000.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Currency {
    pub fallback_value: String,
    pub code: String,
    pub amount_1000: i64,
}

/// A date-time parameter, given as its display text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateTime {
    pub fallback_value: String,
}

impl SendMessage {
    /// A message to an individual with the given content.
    pub fn new(to: impl Into<String>, content: Content) -> Self {
        Self {
            messaging_product: MessagingProduct::WhatsApp,
            recipient_type: RecipientType::Individual,
            to: to.into(),
            context: None,
            biz_opaque_callback_data: None,
            content,
        }
    }

    /// A text message. `preview_url` is always written, as in the contract's example.
    pub fn text(to: impl Into<String>, body: impl Into<String>, preview_url: bool) -> Self {
        Self::new(to, Content::Text { text: Text { body: body.into(), preview_url: Some(preview_url) } })
    }

    pub fn media(to: impl Into<String>, kind: MediaKind, media: Media) -> Self {
        Self::new(to, Content::media(kind, media))
    }

    pub fn reaction(to: impl Into<String>, message_id: impl Into<String>, emoji: impl Into<String>) -> Self {
        Self::new(to, Content::Reaction { reaction: Reaction { message_id: message_id.into(), emoji: emoji.into() } })
    }

    pub fn template(to: impl Into<String>, template: Template) -> Self {
        Self::new(to, Content::Template { template })
    }

    /// Makes this a quote reply to `message_id`.
    pub fn reply_to(mut self, message_id: impl Into<String>) -> Self {
        self.context = Some(ReplyTo { message_id: message_id.into() });
        self
    }

    /// Sets `biz_opaque_callback_data`, which Meta echoes in this message's status webhooks.
    pub fn with_callback_data(mut self, data: impl Into<String>) -> Self {
        self.biz_opaque_callback_data = Some(data.into());
        self
    }

    /// The checks Meta makes that a body's types cannot express (contract §13: the simulator answers them
    /// with error 100). Baton's sender runs them too, so that it fails before the network does.
    pub fn validate(&self) -> Result<(), InvalidRequest> {
        let invalid = |reason: String| Err(InvalidRequest { reason });
        if self.to.trim().is_empty() {
            return invalid("`to` is empty".to_owned());
        }
        if let Some(context) = &self.context {
            if context.message_id.trim().is_empty() {
                return invalid("`context.message_id` is empty".to_owned());
            }
            if matches!(self.content, Content::Reaction { .. }) {
                return invalid("a reaction cannot carry `context`".to_owned());
            }
        }
        match &self.content {
            Content::Text { text } if text.body.trim().is_empty() => invalid("`text.body` is empty".to_owned()),
            Content::Text { text } if text.body.chars().count() > TEXT_BODY_MAX_CHARS => {
                invalid(format!("`text.body` is longer than {TEXT_BODY_MAX_CHARS} characters"))
            }
            Content::Audio { audio: media } | Content::Sticker { sticker: media } if media.caption.is_some() => {
                invalid("audio and stickers cannot carry a caption".to_owned())
            }
            Content::Reaction { reaction } if reaction.message_id.trim().is_empty() => {
                invalid("`reaction.message_id` is empty".to_owned())
            }
            Content::Interactive { interactive: Interactive::Button { action, .. } }
                if action.buttons.is_empty() || action.buttons.len() > REPLY_BUTTONS_MAX =>
            {
                invalid(format!("an interactive button message needs 1 to {REPLY_BUTTONS_MAX} buttons"))
            }
            _ => Ok(()),
        }
    }
}

/// A body that is well-formed JSON of the right shape but breaks one of Meta's rules.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid parameter: {reason}")]
pub struct InvalidRequest {
    pub reason: String,
}

impl InvalidRequest {
    /// Meta's code for an invalid parameter.
    pub const CODE: i64 = 100;
}

/// `status: "read"`: mark an inbound message (and the ones before it) as read, optionally showing the
/// typing indicator (which disappears when Baton replies, or after 25 s).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkRead {
    pub messaging_product: MessagingProduct,
    pub status: ReadStatus,
    /// The inbound wamid.
    pub message_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typing_indicator: Option<TypingIndicator>,
}

impl MarkRead {
    pub fn new(message_id: impl Into<String>) -> Self {
        Self {
            messaging_product: MessagingProduct::WhatsApp,
            status: ReadStatus::Read,
            message_id: message_id.into(),
            typing_indicator: None,
        }
    }

    /// Marks as read and shows "typing…" to the customer. Meta advises it only when a reply will follow.
    pub fn with_typing_indicator(message_id: impl Into<String>) -> Self {
        Self { typing_indicator: Some(TypingIndicator { kind: TypingIndicatorKind::Text }), ..Self::new(message_id) }
    }
}

/// The `status` of a mark-as-read request: only `"read"` exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadStatus {
    Read,
}

/// `typing_indicator`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypingIndicator {
    #[serde(rename = "type")]
    pub kind: TypingIndicatorKind,
}

/// `typing_indicator.type`: only `"text"` exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TypingIndicatorKind {
    Text,
}

/// Anything `POST /{phone_number_id}/messages` accepts.
#[derive(Clone, Debug, PartialEq)]
pub enum MessagesRequest {
    Send(SendMessage),
    MarkRead(MarkRead),
}

/// Reads a `/messages` request body the way Meta branches on it (contract §13): a body with a `status` key
/// is a mark-as-read (with or without typing indicator), anything else a send. The error says what is
/// wrong, for the simulator's error-100 answer.
pub fn parse_request(body: &[u8]) -> Result<MessagesRequest, serde_json::Error> {
    let value: Value = serde_json::from_slice(body)?;
    if value.get("status").is_some() {
        MarkRead::deserialize(&value).map(MessagesRequest::MarkRead)
    } else {
        SendMessage::deserialize(&value).map(MessagesRequest::Send)
    }
}
