//! The inbox's entities as clients see them — contacts, conversations, messages, notes, claims —
//! and the per-conversation event log ([`ConversationEvent`]) that carries every durable change.
//! Used by REST answers and by the WebSocket protocol alike.

use crate::ids::{ContactId, ConversationId, MessageId, NoteId, TeamId, UserId};
use crate::teams::Routing;
use serde::{Deserialize, Serialize};

/// A WhatsApp customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub id: ContactId,
    /// WhatsApp's user id (usually the phone number's digits).
    pub wa_id: String,
    /// The name the customer set in WhatsApp; may be empty.
    pub profile_name: String,
    /// Unix ms of the customer's last message: the 24-hour service window starts here.
    pub last_inbound_at: Option<i64>,
    /// Unix ms when WhatsApp refused a free-form message because the window had closed (131047),
    /// earlier than `last_inbound_at` + 24 h says. A later customer message opens it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_closed_at: Option<i64>,
    /// The name the team gave the customer, shown instead of the profile name
    /// ([`crate::contacts::shown_name`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Blocked: the customer's messages are still stored, but not routed and not announced.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub blocked: bool,
}

/// WhatsApp's customer-service window: free-form messages are allowed for 24 hours after the
/// customer's last message; outside it only approved templates.
pub const SERVICE_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// A customer message reopens a window WhatsApp closed if it was written at most this long before
/// the refused message: WhatsApp's times are whole seconds from another clock.
pub const WINDOW_REOPEN_SLACK_MS: i64 = 5_000;

// The rules on these entities (the service window, a claim's life, who sees a conversation, who
// may send) live in [`crate::rules`].
pub use crate::rules::window_open;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// Waiting for the team.
    Open,
    /// Waiting for the customer (or something else); still in the inbox.
    Pending,
    /// Done. A new customer message starts a new conversation.
    Resolved,
}

impl ConversationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Pending => "pending",
            ConversationStatus::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [ConversationStatus::Open, ConversationStatus::Pending, ConversationStatus::Resolved]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// How soon a conversation should be answered. Queues hand out the most urgent first, then the
/// one that has waited longest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Priority::ALL.into_iter().find(|priority| priority.as_str() == text)
    }

    /// Its rank as stored (0 low … 3 urgent), so that the database orders queues by it.
    pub fn rank(self) -> i64 {
        match self {
            Priority::Low => 0,
            Priority::Normal => 1,
            Priority::High => 2,
            Priority::Urgent => 3,
        }
    }

    pub fn from_rank(rank: i64) -> Option<Self> {
        Priority::ALL.into_iter().find(|priority| priority.rank() == rank)
    }
}

/// Who may send in a conversation right now: the claim's holder, until `lease_until`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub holder: UserId,
    /// The holder's display name, so a refused client can say who is replying.
    pub holder_name: String,
    /// Unix ms. Renewed while the holder is connected; past it, anyone may claim.
    pub lease_until: i64,
    /// Unix ms: when the holder last did something with it (took it, typed, replied). Unused for
    /// the server's claim-idle time with no draft waiting, it lapses; the wall shows how long.
    #[serde(default)]
    pub active_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: ConversationId,
    pub contact: Contact,
    pub status: ConversationStatus,
    pub assignee: Option<UserId>,
    /// The team whose queue it belongs to; `None`: the general inbox.
    #[serde(default)]
    pub team: Option<TeamId>,
    #[serde(default)]
    pub priority: Priority,
    /// Unix ms: when it last began waiting for an agent (opened, returned or moved to a queue);
    /// queues hand out the longest waiting first.
    #[serde(default)]
    pub queued_at: Option<i64>,
    pub claim: Option<Claim>,
    /// The newest event's sequence number.
    pub last_seq: u64,
    /// Unix ms of the newest message, in either direction: the greatest `sent_at`. It never moves
    /// back: a message that arrives late, written before the newest, leaves it.
    pub last_message_at: Option<i64>,
    pub created_at: i64,
    /// The team's tags on it ("vip", "billing"): lowercase, at most [`MAX_LABELS`], each at most
    /// [`MAX_LABEL_CHARS`] characters ([`normalize_label`]).
    #[serde(default)]
    pub labels: Vec<String>,
    /// Unix ms: a pending conversation snoozed until then reopens by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<i64>,
    /// Its most urgent running service-level clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<crate::sla::SlaDue>,
}

/// At most this many labels on a conversation.
pub const MAX_LABELS: usize = 10;
/// At most this many characters in a label.
pub const MAX_LABEL_CHARS: usize = 32;

/// A name, label or title as stored: without the characters that can make one text pass for
/// another — bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C: an RTL
/// override shows "fdp.exe" as "exe.pdf"), zero-width characters (U+200B–U+200D, U+2060, U+FEFF:
/// "Alice" and "Ali\u{200B}ce" look alike) and C0 controls (and DEL) other than newline and tab.
/// Message bodies are not passed through it: customers' text is kept as written.
pub fn display_text(text: &str) -> String {
    text.chars().filter(|character| !disguises(*character)).collect()
}

/// Whether a character is one [`display_text`] strips.
fn disguises(character: char) -> bool {
    matches!(
        character,
        '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{061C}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'
            | '\u{FEFF}'
            | '\u{0}'..='\u{8}'
            | '\u{B}'..='\u{1F}'
            | '\u{7F}'
    )
}

/// A label as stored: disguising characters dropped ([`display_text`]), trimmed, inner whitespace
/// collapsed, lowercase. `Err` says why it cannot be one (empty, too long).
pub fn normalize_label(label: &str) -> Result<String, String> {
    let label = display_text(label).split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    if label.is_empty() {
        return Err("A label cannot be empty.".into());
    }
    if label.chars().count() > MAX_LABEL_CHARS {
        return Err(format!("A label may have at most {MAX_LABEL_CHARS} characters."));
    }
    Ok(label)
}

/// The labels after an edit: `remove` taken out, then `add` appended in order, each label once
/// (both normalized first, so "VIP" removes "vip"). Applied to the labels as stored when the edit
/// arrives, so two teammates adding labels at once both keep theirs. `Err` says what is wrong: a
/// bad label, more than [`MAX_LABELS`] in the result.
pub fn edit_labels(current: &[String], add: &[String], remove: &[String]) -> Result<Vec<String>, String> {
    let remove = remove.iter().map(|label| normalize_label(label)).collect::<Result<Vec<_>, _>>()?;
    let mut labels: Vec<String> = current.iter().filter(|label| !remove.contains(label)).cloned().collect();
    for label in add {
        let label = normalize_label(label)?;
        if !labels.contains(&label) {
            labels.push(label);
        }
        if labels.len() > MAX_LABELS {
            return Err(format!("A conversation may have at most {MAX_LABELS} labels."));
        }
    }
    Ok(labels)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the customer.
    Inbound,
    /// From the team.
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// Delivery state. Outbound messages move forward only ([`DeliveryStatus::rank`]): pending < sent
/// < failed < delivered < read < played — a `failed` is final unless WhatsApp later reports the
/// message delivered or read. Inbound messages are `received`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Received,
    Pending,
    Sent,
    Delivered,
    Read,
    Failed,
    /// A voice message was played (so also delivered and read).
    Played,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Received => "received",
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Played => "played",
        }
    }

    /// How far a message got: statuses only ever move to a higher rank, so they can be applied in
    /// any order and end in the same state.
    pub fn rank(self) -> u8 {
        match self {
            DeliveryStatus::Received | DeliveryStatus::Pending => 0,
            DeliveryStatus::Sent => 1,
            DeliveryStatus::Failed => 2,
            DeliveryStatus::Delivered => 3,
            DeliveryStatus::Read => 4,
            DeliveryStatus::Played => 5,
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            DeliveryStatus::Received,
            DeliveryStatus::Pending,
            DeliveryStatus::Sent,
            DeliveryStatus::Delivered,
            DeliveryStatus::Read,
            DeliveryStatus::Failed,
            DeliveryStatus::Played,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// What kind of message a [`Message`] is: WhatsApp's message types as Baton shows them, plus the
/// team's templates. On the wire and in the database, its snake_case name (`text`, `image`, …).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    #[default]
    Text,
    Image,
    Audio,
    Video,
    Document,
    Sticker,
    Location,
    Contacts,
    /// A reply button or list row the customer chose.
    Interactive,
    /// A template's quick-reply button the customer pressed.
    Button,
    Reaction,
    /// WhatsApp's own notice (e.g. the customer changed number).
    System,
    /// An approved template the team sent.
    Template,
    /// What Baton cannot show (its content says what and why). A kind a newer server knows and
    /// this client does not is read as this too.
    #[serde(other)]
    Unsupported,
}

impl MessageKind {
    pub const ALL: [MessageKind; 14] = [
        MessageKind::Text,
        MessageKind::Image,
        MessageKind::Audio,
        MessageKind::Video,
        MessageKind::Document,
        MessageKind::Sticker,
        MessageKind::Location,
        MessageKind::Contacts,
        MessageKind::Interactive,
        MessageKind::Button,
        MessageKind::Reaction,
        MessageKind::System,
        MessageKind::Template,
        MessageKind::Unsupported,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::Image => "image",
            MessageKind::Audio => "audio",
            MessageKind::Video => "video",
            MessageKind::Document => "document",
            MessageKind::Sticker => "sticker",
            MessageKind::Location => "location",
            MessageKind::Contacts => "contacts",
            MessageKind::Interactive => "interactive",
            MessageKind::Button => "button",
            MessageKind::Reaction => "reaction",
            MessageKind::System => "system",
            MessageKind::Template => "template",
            MessageKind::Unsupported => "unsupported",
        }
    }

    /// The kind named `name`; anything else is [`MessageKind::Unsupported`].
    pub fn parse(name: &str) -> Self {
        MessageKind::ALL.into_iter().find(|kind| kind.as_str() == name).unwrap_or(MessageKind::Unsupported)
    }
}

impl From<&str> for MessageKind {
    fn from(name: &str) -> Self {
        MessageKind::parse(name)
    }
}

impl PartialEq<&str> for MessageKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for MessageKind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// The event that added the message.
    pub seq: u64,
    pub direction: Direction,
    /// What kind of message it is (`unsupported` for what Baton cannot show).
    pub kind: MessageKind,
    /// The text, or the caption of media.
    pub body: String,
    /// The agent who wrote an outbound message.
    pub author: Option<UserId>,
    pub status: DeliveryStatus,
    /// Unix ms: for a customer message, WhatsApp's timestamp (when it was written, in whole
    /// seconds); for the team's, when Baton stored it.
    pub created_at: i64,
    /// Unix ms of when the message was sent, which places it in the timeline
    /// ([`Message::placement`]): WhatsApp's timestamp for a customer message, however late it
    /// arrived (but never before the message it answers: WhatsApp's times are whole seconds); for the team's, when Baton stored it, but never before a message already in the
    /// conversation (so a reply stays after what it answers even if WhatsApp's clock is ahead).
    pub sent_at: i64,
    /// What the message carries beyond its text (media, a location, a tapped button…). Boxed: most
    /// messages are plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Box<MessageContent>>,
    /// WhatsApp's id of the message (its wamid), once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_message_id: Option<String>,
    /// The wamid of the message this one quotes or answers (a reply, a tapped button).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Why it failed, when its status is `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<DeliveryError>,
    /// What sent it, when Baton did by itself (its `author` is then
    /// [`crate::automation::AUTOMATION_USER`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automation: Option<crate::automation::Automated>,
}

impl Message {
    /// Where the message stands in its conversation's timeline: by `sent_at`, then by `seq`. A
    /// total order (seq is unique per conversation), used by the server's history, its pages and
    /// the list's preview, and by clients placing a message that arrives late. It differs from
    /// `seq` (the order Baton received messages in) when WhatsApp redelivers out of order.
    pub fn placement(&self) -> (i64, u64) {
        (self.sent_at, self.seq)
    }
}

/// Why WhatsApp did not deliver a message: its error code and a sentence for the agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryError {
    pub code: i64,
    pub message: String,
}

/// What a WhatsApp message carries beyond its text. The text (or caption) stays in
/// [`Message::body`], so a client that knows none of these still shows something.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageContent {
    /// An image, video, audio (a voice note when `voice`), document or sticker.
    Media {
        media_kind: String,
        /// WhatsApp's media id.
        media_id: String,
        #[serde(default)]
        mime_type: Option<String>,
        #[serde(default)]
        filename: Option<String>,
        #[serde(default)]
        voice: bool,
        /// For media the team sent: Baton's copy (the upload's id). WhatsApp's `media_id` is
        /// then the id it was uploaded under (empty until it was).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        upload: Option<String>,
    },
    /// Coordinates as WhatsApp wrote them (decimal degrees), with an optional place.
    Location {
        latitude: String,
        longitude: String,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        address: Option<String>,
        #[serde(default)]
        url: Option<String>,
    },
    /// Shared contact cards: a name and phone numbers each.
    Contacts { cards: Vec<ContactCard> },
    /// A tap on a button or a choice from a list the business sent.
    Choice {
        /// `button_reply`, `list_reply` or `template_button`.
        source: String,
        id: String,
        title: String,
    },
    /// A reaction to the message with wamid `target`; `emoji: None` removes it.
    Reaction {
        target: String,
        #[serde(default)]
        emoji: Option<String>,
    },
    /// Something Baton cannot show: what it is and why, so the agent can ask the customer.
    Unsupported { what: String, reason: String },
    /// Choices the team sent (the menu bot's): reply buttons, or a list opened by `list_button`.
    /// The message's body is the prompt.
    Interactive {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        list_button: Option<String>,
        choices: Vec<crate::menu::Choice>,
    },
    /// An approved template the team sent (its rendered text is the message's body).
    Template {
        name: String,
        /// e.g. `en_US`.
        language: String,
        /// The body's `{{1}}`, `{{2}}`… in order.
        #[serde(default)]
        parameters: Vec<String>,
    },
}

/// An approved WhatsApp message template: the only kind of message allowed outside the 24-hour
/// window. Listed from the Graph API's template endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageTemplate {
    pub name: String,
    /// e.g. `en_US`.
    pub language: String,
    /// `utility`, `marketing` or `authentication`.
    pub category: String,
    /// The body text with its placeholders `{{1}}`, `{{2}}`….
    pub body: String,
    /// How many placeholders the body has: a send must give exactly this many parameters.
    pub parameters: u32,
    /// The texts of its quick-reply buttons.
    #[serde(default)]
    pub buttons: Vec<String>,
}

impl MessageTemplate {
    /// The body with `{{n}}` replaced by the n-th parameter.
    pub fn render(&self, parameters: &[String]) -> String {
        let mut text = self.body.clone();
        for (index, value) in parameters.iter().enumerate() {
            text = text.replace(&format!("{{{{{}}}}}", index + 1), value);
        }
        text
    }
}

/// A shared contact card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactCard {
    pub name: String,
    #[serde(default)]
    pub phones: Vec<String>,
}

/// An internal note: seen by the team, never by the customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub id: NoteId,
    pub conversation_id: ConversationId,
    pub author: UserId,
    pub body: String,
    /// Starts at 1; every edit adds one. An edit names the version it was based on.
    pub version: u32,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One durable change to a conversation, numbered without gaps from 1 per conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationEvent {
    pub conversation_id: ConversationId,
    pub seq: u64,
    /// Unix ms.
    pub at: i64,
    /// Who caused it; `None` for the customer or the system.
    pub actor: Option<UserId>,
    pub change: Change,
}

/// What an event changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// The conversation began (always seq 1).
    Opened {
        contact: Contact,
        /// The team whose queue it opened in (the routing rules decided), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        team: Option<TeamId>,
    },
    MessageAdded {
        message: Message,
    },
    MessageStatus {
        message_id: MessageId,
        status: DeliveryStatus,
        /// Why, when the status is `failed`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<DeliveryError>,
    },
    Claimed {
        claim: Claim,
    },
    /// The holder let go, or the lease ran out (`expired`).
    Released {
        holder: UserId,
        expired: bool,
    },
    /// A supervisor (or the holder) handed the claim to someone else.
    Transferred {
        from: Option<UserId>,
        claim: Claim,
    },
    /// A supervisor took the claim from its holder.
    TakenOver {
        from: UserId,
        claim: Claim,
    },
    StatusChanged {
        status: ConversationStatus,
    },
    /// The conversation's labels are now these (all of them, not a difference).
    Labeled {
        labels: Vec<String>,
    },
    /// Someone (or routing) assigned it, or returned it to its queue (`assignee: None`).
    Assigned {
        assignee: Option<UserId>,
        /// How routing decided, when it did; absent when a person assigned by hand.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        routing: Option<Routing>,
    },
    /// Its team (`None`: the general inbox) or priority changed; both are given as they now are,
    /// with the routing rule that decided (absent: a person did, or the default team applied to a
    /// conversation no rule matched, which `by_default` says).
    Triaged {
        team: Option<TeamId>,
        priority: Priority,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        by_default: bool,
    },
    NoteAdded {
        note: Note,
    },
    NoteEdited {
        note: Note,
    },
    NoteDeleted {
        note_id: NoteId,
    },
    /// Set pending until `until` (Unix ms), when it reopens by itself and tells its assignee.
    Snoozed {
        until: i64,
    },
    /// Its most urgent running service-level clock is now this (`None`: none runs).
    SlaChanged {
        sla: Option<crate::sla::SlaDue>,
    },
    /// A service-level target was missed: the deadline `due_at` passed with the clock running.
    /// Once per clock.
    SlaBreached {
        target: crate::sla::SlaKind,
        due_at: i64,
    },
    /// The customer answered the rating request of the resolution at `resolved_at` (whoever held
    /// it then, `assignee`, is who the answer rates): `score` of `scale` levels, 1 the worst.
    CsatAnswered {
        score: u8,
        scale: crate::csat::Scale,
        resolved_at: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assignee: Option<crate::UserId>,
    },
    /// WhatsApp refused a free-form message because the customer's 24-hour window had closed
    /// (131047): until the customer writes again, only templates. `since` (the refused message's
    /// time) becomes the contact's `window_closed_at`; a customer message from
    /// [`WINDOW_REOPEN_SLACK_MS`] before it on reopens the window.
    WindowClosed {
        since: i64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_edits_normalize_merge_and_cap() {
        let strings = |labels: &[&str]| labels.iter().map(|label| (*label).to_owned()).collect::<Vec<_>>();
        let added = edit_labels(&[], &strings(&["  VIP ", "billing   question", "vip", "Billing Question"]), &[]);
        assert_eq!(added, Ok(strings(&["vip", "billing question"])), "trimmed, collapsed, lowercased, once");
        let current = strings(&["vip", "billing"]);
        assert_eq!(
            edit_labels(&current, &strings(&["refund"]), &strings(&["VIP"])),
            Ok(strings(&["billing", "refund"]))
        );
        assert_eq!(edit_labels(&current, &[], &strings(&["unknown"])), Ok(current.clone()), "removing a missing one");
        assert!(edit_labels(&current, &strings(&["  "]), &[]).is_err(), "empty");
        assert!(edit_labels(&current, &["x".repeat(MAX_LABEL_CHARS + 1)], &[]).is_err(), "too long");
        assert!(edit_labels(&[], &["é".repeat(MAX_LABEL_CHARS)], &[]).is_ok(), "characters, not bytes");
        let ten: Vec<String> = (0..MAX_LABELS).map(|n| format!("l{n}")).collect();
        assert_eq!(edit_labels(&ten, &strings(&["l0"]), &[]).map(|labels| labels.len()), Ok(MAX_LABELS));
        assert!(edit_labels(&ten, &strings(&["one more"]), &[]).is_err(), "too many");
        assert!(edit_labels(&ten, &strings(&["one more"]), &strings(&["l3"])).is_ok(), "room made first");
    }

    #[test]
    fn display_text_drops_what_disguises_a_name() {
        assert_eq!(display_text("Alice"), "Alice");
        assert_eq!(display_text("\u{202E}fdp.exe\u{202C}"), "fdp.exe", "RTL override and pop");
        assert_eq!(
            display_text("\u{2066}a\u{2067}b\u{2068}c\u{2069}\u{200E}\u{200F}\u{061C}"),
            "abc",
            "isolates, marks"
        );
        assert_eq!(display_text("Ali\u{200B}c\u{200C}e\u{200D}\u{2060}\u{FEFF}"), "Alice", "zero-width");
        assert_eq!(display_text("a\u{0}b\u{7}c\u{1B}[31md\re\u{7F}"), "abc[31mde", "C0 controls and DEL");
        assert_eq!(display_text("line\nnext\tcolumn"), "line\nnext\tcolumn", "newline and tab stay");
        assert_eq!(display_text("José 👋 محمد \u{FFFD}"), "José 👋 محمد \u{FFFD}", "letters of any script stay");
        assert_eq!(normalize_label("\u{202E}VIP\u{200B}"), Ok("vip".to_owned()));
        assert!(normalize_label("\u{200B}\u{200B}").is_err(), "nothing left: empty");
    }

    #[test]
    fn message_kinds_keep_their_wire_names_and_unknown_ones_are_unsupported() {
        for kind in MessageKind::ALL {
            assert_eq!(MessageKind::parse(kind.as_str()), kind);
            assert_eq!(serde_json::to_string(&kind).ok(), Some(format!("\"{kind}\"")));
        }
        assert_eq!(MessageKind::parse("order"), MessageKind::Unsupported);
        assert_eq!(serde_json::from_str::<MessageKind>("\"hologram\"").ok(), Some(MessageKind::Unsupported));
    }

    #[test]
    fn templates_render_their_parameters() {
        let template = MessageTemplate {
            name: "order_update".into(),
            language: "en_US".into(),
            category: "utility".into(),
            body: "Hi {{1}}, your order {{2}} is on its way.".into(),
            parameters: 2,
            buttons: vec![],
        };
        assert_eq!(template.render(&["Ann".into(), "#42".into()]), "Hi Ann, your order #42 is on its way.");
    }
}
