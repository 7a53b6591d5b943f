//! The conversation as the customer's phone shows it: one [`ChatEntry`] per message either way, built from
//! what the customer sent ([`crate::Inbound`]) or from the Graph request Baton made
//! ([`baton_whatsapp::graph::SendMessage`]). Entries carry the buttons the customer can tap, so the phone page
//! and tests can answer interactive messages and templates with the right reply type and context.

use baton_whatsapp::graph::{Content, Interactive, ReplyButton, SendMessage};
use baton_whatsapp::webhook::DeliveryStatus;
use serde::{Deserialize, Serialize};

use crate::templates::{self, TemplateDefinition};

/// One message in a chat.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChatEntry {
    /// Increases across all chats, so the phone page can tell new entries from old.
    pub sequence: u64,
    pub from_customer: bool,
    pub message_id: String,
    pub unix_seconds: u64,
    /// The message `type` (`text`, `image`, `interactive`, `template`…).
    pub kind: String,
    /// What to show: the body, a caption, a rendered template, or a short description.
    pub text: Option<String>,
    /// A medium the customer sent (fetch its bytes from `/_sim/media/{id}`).
    pub media_id: Option<String>,
    /// The options of an interactive message or template, for the customer to tap.
    pub choices: Vec<Choice>,
    /// The label of the button that opens a list message.
    pub list_button: Option<String>,
    /// The wamid this message quotes or answers.
    pub reply_to: Option<String>,
    /// The other side's reaction to this message.
    pub reaction: Option<String>,
    /// Business messages: the latest delivery status. Customer messages: `read` once Baton marked them read.
    pub status: Option<DeliveryStatus>,
    /// Why a business message failed.
    pub error: Option<String>,
}

impl ChatEntry {
    pub(crate) fn new(from_customer: bool, message_id: &str, unix_seconds: u64, kind: &str) -> Self {
        Self {
            sequence: 0,
            from_customer,
            message_id: message_id.to_owned(),
            unix_seconds,
            kind: kind.to_owned(),
            text: None,
            media_id: None,
            choices: Vec::new(),
            list_button: None,
            reply_to: None,
            reaction: None,
            status: None,
            error: None,
        }
    }
}

/// Something the customer can tap, and which inbound type tapping it produces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub reply: ChoiceReply,
    /// The button or row id (`button_reply`/`list_reply`), or the quick-reply payload (`button`).
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

/// The inbound message a [`Choice`] turns into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceReply {
    /// `interactive.button_reply`.
    ButtonReply,
    /// `interactive.list_reply`.
    ListReply,
    /// A template quick reply: type `button`.
    TemplateButton,
}

/// The chat entry for a send Baton made (already accepted, with its wamid). `uploaded` is the media id of
/// a medium Baton uploaded and sent by id: the phone shows it like a medium a customer sent.
pub(crate) fn business_entry(
    send: &SendMessage,
    message_id: &str,
    unix_seconds: u64,
    template: Option<&TemplateDefinition>,
    uploaded: Option<&str>,
) -> ChatEntry {
    let mut entry = ChatEntry::new(false, message_id, unix_seconds, content_kind(&send.content));
    entry.reply_to = send.context.as_ref().map(|context| context.message_id.clone());
    match &send.content {
        Content::Text { text } => entry.text = Some(text.body.clone()),
        Content::Image { image: media }
        | Content::Video { video: media }
        | Content::Audio { audio: media }
        | Content::Document { document: media }
        | Content::Sticker { sticker: media } => {
            entry.media_id = uploaded.map(str::to_owned);
            let shown = entry.media_id.is_some() && matches!(entry.kind.as_str(), "image" | "sticker");
            // A picture on screen needs no "[image]" label: only its caption, as on a phone.
            let label = match &media.filename {
                Some(filename) => Some(filename.clone()),
                None => (!shown).then(|| format!("[{}]", entry.kind)),
            };
            entry.text = match (label, &media.caption) {
                (Some(label), Some(caption)) => Some(format!("{label} {caption}")),
                (Some(label), None) => Some(label),
                (None, caption) => caption.clone(),
            };
        }
        // Reactions are attached to their target by the caller; the entry is only a fallback.
        Content::Reaction { reaction } => entry.text = Some(reaction.emoji.clone()),
        Content::Interactive { interactive } => interactive_entry(&mut entry, interactive),
        // Rendered from its definition below; a template the catalog does not know shows its name.
        Content::Template { template } => entry.text = Some(format!("[template {}]", template.name)),
    }
    if let (Content::Template { template }, Some(definition)) = (&send.content, template) {
        let rendered = templates::render(definition, template);
        entry.text = Some(rendered.text);
        entry.choices = rendered
            .quick_replies
            .into_iter()
            .map(|(payload, title)| Choice {
                reply: ChoiceReply::TemplateButton,
                id: payload,
                title,
                description: None,
            })
            .collect();
    }
    entry
}

fn interactive_entry(entry: &mut ChatEntry, interactive: &Interactive) {
    match interactive {
        Interactive::Button { body, action } => {
            entry.text = Some(body.text.clone());
            entry.choices = action
                .buttons
                .iter()
                .map(|ReplyButton::Reply { reply }| Choice {
                    reply: ChoiceReply::ButtonReply,
                    id: reply.id.clone(),
                    title: reply.title.clone(),
                    description: None,
                })
                .collect();
        }
        Interactive::List { header, body, footer, action } => {
            let mut parts = Vec::new();
            if let Some(baton_whatsapp::graph::InteractiveHeader::Text { text }) = header {
                parts.push(text.clone());
            }
            parts.push(body.text.clone());
            if let Some(footer) = footer {
                parts.push(footer.text.clone());
            }
            entry.text = Some(parts.join("\n"));
            entry.list_button = Some(action.button.clone());
            entry.choices = action
                .sections
                .iter()
                .flat_map(|section| &section.rows)
                .map(|row| Choice {
                    reply: ChoiceReply::ListReply,
                    id: row.id.clone(),
                    title: row.title.clone(),
                    description: row.description.clone(),
                })
                .collect();
        }
    }
}

fn content_kind(content: &Content) -> &'static str {
    match content {
        Content::Text { .. } => "text",
        Content::Image { .. } => "image",
        Content::Video { .. } => "video",
        Content::Audio { .. } => "audio",
        Content::Document { .. } => "document",
        Content::Sticker { .. } => "sticker",
        Content::Reaction { .. } => "reaction",
        Content::Interactive { .. } => "interactive",
        Content::Template { .. } => "template",
    }
}
