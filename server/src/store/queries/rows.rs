//! Rows of the conversation tables as both databases return them, and their conversion into the
//! shared model types. A row that does not decode (an unknown status, a malformed event) is a
//! database error: it means the data was written by something other than Baton.

use baton_shared::model::{
    Change, Claim, Contact, Conversation, ConversationEvent, ConversationStatus, DeliveryStatus, Direction, Message,
    MessageKind, Note, Priority,
};
use baton_shared::sla::{SlaDue, SlaKind};
use baton_shared::{ContactId, ConversationId, MessageId, NoteId, TeamId, UserId};

use super::StoreError;

pub(super) fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(what.into().into()))
}

pub(super) fn seq_of(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| corrupt(format!("negative seq {value}")))
}

pub(super) fn seq_param(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[derive(sqlx::FromRow)]
pub(super) struct ContactRow {
    pub contact_id: i64,
    pub wa_id: String,
    pub profile_name: String,
    pub last_inbound_at: Option<i64>,
    pub window_closed_at: Option<i64>,
    pub display_name: Option<String>,
    pub blocked: bool,
}

impl From<ContactRow> for Contact {
    fn from(row: ContactRow) -> Self {
        Contact {
            id: ContactId(row.contact_id),
            wa_id: row.wa_id,
            profile_name: row.profile_name,
            last_inbound_at: row.last_inbound_at,
            window_closed_at: row.window_closed_at,
            display_name: row.display_name,
            blocked: row.blocked,
        }
    }
}

/// `SELECT` of a conversation with its contact and claim; append a `WHERE`/`ORDER BY`.
pub(super) const CONVERSATION_SELECT: &str = "SELECT c.id, c.status, c.assignee_id, c.team_id, c.priority, c.queued_at, c.last_seq, \
     c.last_message_at, c.created_at, c.labels, c.snoozed_until, c.sla_kind, c.sla_due_at, c.sla_breached_at, \
     k.id AS contact_id, k.wa_id, k.profile_name, k.last_inbound_at, \
     k.window_closed_at, k.display_name, k.blocked, \
     cl.holder_id, u.name AS holder_name, cl.lease_until, \
     CASE WHEN d.updated_at > cl.active_at THEN d.updated_at ELSE cl.active_at END AS active_at \
     FROM conversations c JOIN contacts k ON k.id = c.contact_id \
     LEFT JOIN claims cl ON cl.conversation_id = c.id LEFT JOIN users u ON u.id = cl.holder_id \
     LEFT JOIN drafts d ON d.conversation_id = cl.conversation_id AND d.user_id = cl.holder_id";

#[derive(sqlx::FromRow)]
pub(super) struct ConversationRow {
    pub id: i64,
    pub status: String,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    pub priority: i64,
    pub queued_at: Option<i64>,
    pub last_seq: i64,
    pub last_message_at: Option<i64>,
    pub created_at: i64,
    /// A JSON array of strings.
    pub labels: String,
    pub snoozed_until: Option<i64>,
    pub sla_kind: Option<String>,
    pub sla_due_at: Option<i64>,
    pub sla_breached_at: Option<i64>,
    #[sqlx(flatten)]
    pub contact: ContactRow,
    pub holder_id: Option<i64>,
    pub holder_name: Option<String>,
    pub lease_until: Option<i64>,
    pub active_at: Option<i64>,
}

impl TryFrom<ConversationRow> for Conversation {
    type Error = StoreError;

    fn try_from(row: ConversationRow) -> Result<Self, Self::Error> {
        let status = ConversationStatus::parse(&row.status).ok_or_else(|| corrupt(format!("status {}", row.status)))?;
        let labels = serde_json::from_str(&row.labels).map_err(|_| corrupt(format!("labels {}", row.labels)))?;
        let priority =
            Priority::from_rank(row.priority).ok_or_else(|| corrupt(format!("priority {}", row.priority)))?;
        let claim = match (row.holder_id, row.holder_name, row.lease_until) {
            (Some(holder), Some(holder_name), Some(lease_until)) => {
                Some(Claim { holder: UserId(holder), holder_name, lease_until, active_at: row.active_at.unwrap_or(0) })
            }
            _ => None,
        };
        Ok(Conversation {
            id: ConversationId(row.id),
            contact: row.contact.into(),
            status,
            assignee: row.assignee_id.map(UserId),
            team: row.team_id.map(TeamId),
            priority,
            queued_at: row.queued_at,
            claim,
            last_seq: seq_of(row.last_seq)?,
            last_message_at: row.last_message_at,
            created_at: row.created_at,
            labels,
            snoozed_until: row.snoozed_until,
            sla: match (row.sla_kind.as_deref().and_then(SlaKind::parse), row.sla_due_at) {
                (Some(kind), Some(due_at)) => Some(SlaDue { kind, due_at, breached: row.sla_breached_at.is_some() }),
                _ => None,
            },
        })
    }
}

pub(super) const MESSAGE_COLUMNS: &str = "id, conversation_id, seq, direction, kind, body, author_id, status, created_at, sent_at, content, wa_message_id, reply_to, error, automation";

#[derive(sqlx::FromRow)]
pub(super) struct MessageRow {
    pub id: i64,
    pub conversation_id: i64,
    pub seq: i64,
    pub direction: String,
    pub kind: String,
    pub body: String,
    pub author_id: Option<i64>,
    pub status: String,
    pub created_at: i64,
    pub sent_at: i64,
    pub content: Option<String>,
    pub wa_message_id: Option<String>,
    pub reply_to: Option<String>,
    pub error: Option<String>,
    pub automation: Option<String>,
}

impl TryFrom<MessageRow> for Message {
    type Error = StoreError;

    fn try_from(row: MessageRow) -> Result<Self, Self::Error> {
        let direction = match row.direction.as_str() {
            "inbound" => Direction::Inbound,
            "outbound" => Direction::Outbound,
            other => return Err(corrupt(format!("direction {other}"))),
        };
        let status = DeliveryStatus::parse(&row.status).ok_or_else(|| corrupt(format!("status {}", row.status)))?;
        Ok(Message {
            id: MessageId(row.id),
            conversation_id: ConversationId(row.conversation_id),
            seq: seq_of(row.seq)?,
            direction,
            kind: MessageKind::parse(&row.kind),
            body: row.body,
            author: row.author_id.map(UserId),
            status,
            created_at: row.created_at,
            sent_at: row.sent_at,
            content: json_column(row.content.as_deref(), "message content")?.map(Box::new),
            wa_message_id: row.wa_message_id,
            reply_to: row.reply_to,
            error: json_column(row.error.as_deref(), "message error")?,
            automation: row.automation.as_deref().and_then(baton_shared::automation::Automated::parse),
        })
    }
}

pub(super) const NOTE_COLUMNS: &str = "id, conversation_id, author_id, body, version, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub(super) struct NoteRow {
    pub id: i64,
    pub conversation_id: i64,
    pub author_id: i64,
    pub body: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<NoteRow> for Note {
    type Error = StoreError;

    fn try_from(row: NoteRow) -> Result<Self, Self::Error> {
        Ok(Note {
            id: NoteId(row.id),
            conversation_id: ConversationId(row.conversation_id),
            author: UserId(row.author_id),
            body: row.body,
            version: u32::try_from(row.version).map_err(|_| corrupt(format!("note version {}", row.version)))?,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct EventRow {
    pub conversation_id: i64,
    pub seq: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub change: String,
}

impl TryFrom<EventRow> for ConversationEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, Self::Error> {
        let change: Change =
            serde_json::from_str(&row.change).map_err(|error| corrupt(format!("event change: {error}")))?;
        Ok(ConversationEvent {
            conversation_id: ConversationId(row.conversation_id),
            seq: seq_of(row.seq)?,
            at: row.at,
            actor: row.actor_id.map(UserId),
            change,
        })
    }
}

/// A claim with its holder's name.
#[derive(sqlx::FromRow)]
pub(super) struct ClaimRow {
    pub holder_id: i64,
    pub holder_name: String,
    pub lease_until: i64,
    pub active_at: i64,
}

impl From<ClaimRow> for Claim {
    fn from(row: ClaimRow) -> Self {
        let ClaimRow { holder_id, holder_name, lease_until, active_at } = row;
        Claim { holder: UserId(holder_id), holder_name, lease_until, active_at }
    }
}

/// A claim with its last use: taken, or its holder's draft saved (see `queries::claims`).
pub(super) const CLAIM_SELECT: &str = "SELECT cl.holder_id, u.name AS holder_name, cl.lease_until, \
     CASE WHEN d.updated_at > cl.active_at THEN d.updated_at ELSE cl.active_at END AS active_at \
     FROM claims cl JOIN users u ON u.id = cl.holder_id \
     LEFT JOIN drafts d ON d.conversation_id = cl.conversation_id AND d.user_id = cl.holder_id \
     WHERE cl.conversation_id = $1";

/// A nullable JSON column, read into its type.
pub(super) fn json_column<T: serde::de::DeserializeOwned>(
    text: Option<&str>,
    what: &str,
) -> Result<Option<T>, StoreError> {
    text.map(|text| serde_json::from_str(text).map_err(|error| corrupt(format!("{what}: {error}")))).transpose()
}

/// A value for a nullable JSON column.
pub(super) fn to_json_column<T: serde::Serialize>(value: Option<&T>) -> Result<Option<String>, StoreError> {
    value
        .map(|value| serde_json::to_string(value).map_err(|error| corrupt(format!("cannot write JSON: {error}"))))
        .transpose()
}
