//! The WebSocket protocol (`GET /ws`): what a client sends ([`ClientMsg`]) and what the server
//! pushes ([`ServerMsg`]). JSON text frames, objects tagged by `"type"` in `snake_case`. Every
//! request carries a `req_id` chosen by the client and is answered by exactly one
//! [`ServerMsg::Ack`] or [`ServerMsg::Error`] with the same `req_id`. `docs/protocol.md` shows an
//! example of every message.
//!
//! Durable changes arrive as [`ServerMsg::Event`], numbered per conversation without gaps; a client
//! keeps the last `seq` it holds per conversation and sends it back when it (re)subscribes.
//! Ephemeral signals — presence, viewers, typing, drafts — are not numbered and not replayed.

use crate::api::{Me, Role};
use crate::error::ErrorCode;
use crate::ids::{ConversationId, MessageId, NoteId, TeamId, UserId};
use crate::model::{
    Claim, Conversation, ConversationEvent, ConversationStatus, Message, MessageTemplate, Note, Priority,
};
use serde::{Deserialize, Serialize};

/// A client's request id, echoed back in the answer.
pub type ReqId = u64;

/// WebSocket close code: the client fell too far behind reading; reconnect and resume.
pub const CLOSE_SLOW_CONSUMER: u16 = 4008;
/// WebSocket close code: the session ended (logout, or the user was disabled).
pub const CLOSE_SESSION_ENDED: u16 = 4001;
/// WebSocket close code: no frame (not even a pong) within the idle timeout.
pub const CLOSE_IDLE: u16 = 4002;
/// WebSocket close code (RFC 6455): the client broke the WebSocket protocol.
pub const CLOSE_PROTOCOL_ERROR: u16 = 1002;
/// WebSocket close code (RFC 6455): a text frame that is not valid UTF-8.
pub const CLOSE_INVALID_DATA: u16 = 1007;
/// WebSocket close code (RFC 6455): a frame or message larger than the server accepts.
pub const CLOSE_TOO_BIG: u16 = 1009;

/// The status a user chooses; online/offline comes from their sockets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    Available,
    Busy,
    Away,
}

/// Where a client stands in one conversation's event log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub conversation_id: ConversationId,
    /// The last `seq` the client holds (0 for none).
    pub after_seq: u64,
}

/// Messages from a client to the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// Liveness check at the application level; answered by an `ack`.
    Ping {
        req_id: ReqId,
    },
    /// Chooses available / busy / away.
    SetPresence {
        req_id: ReqId,
        status: PresenceStatus,
    },
    /// Follows every conversation the user may see ([`crate::rules::visible_to`]) — supervisors:
    /// all, with drafts — and hears when one is assigned or moved away. `cursors` resume
    /// conversations the client already holds; others start from their next event.
    SubscribeInbox {
        req_id: ReqId,
        cursors: Vec<Cursor>,
    },
    /// Opens one conversation: follows its events from `after_seq` and shows the user as viewing.
    Open {
        req_id: ReqId,
        conversation_id: ConversationId,
        after_seq: u64,
    },
    /// Closes it: no longer viewing (events keep coming only through an inbox subscription).
    Close {
        req_id: ReqId,
        conversation_id: ConversationId,
    },
    /// A keystroke in the composer, with the whole draft. Claims the conversation when nobody
    /// holds it (the typing lock); refused with `claimed_by_other` when someone else does.
    Typing {
        req_id: ReqId,
        conversation_id: ConversationId,
        draft: String,
    },
    Claim {
        req_id: ReqId,
        conversation_id: ConversationId,
    },
    Release {
        req_id: ReqId,
        conversation_id: ConversationId,
    },
    /// Hands the claim to `to` (the holder, or a supervisor).
    Transfer {
        req_id: ReqId,
        conversation_id: ConversationId,
        to: UserId,
    },
    /// Assigns the conversation to a teammate (or to nobody), with an optional note for them.
    /// Supervisors assign any conversation; agents those they can see. A claim held by someone
    /// else than the new assignee is released.
    Assign {
        req_id: ReqId,
        conversation_id: ConversationId,
        assignee: Option<UserId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Take next: assigns the sender the most urgent, then longest waiting, conversation of their
    /// teams' queues (acked with it), as far as their capacity allows; refused with `queue_empty`
    /// or `at_capacity`.
    TakeNext {
        req_id: ReqId,
    },
    /// Moves the conversation to a team's queue (`None`: the general inbox). A move to another
    /// team returns it to that team's queue: it is unassigned and its claim released.
    SetTeam {
        req_id: ReqId,
        conversation_id: ConversationId,
        team: Option<TeamId>,
    },
    /// Sets how urgent the conversation is.
    SetPriority {
        req_id: ReqId,
        conversation_id: ConversationId,
        priority: Priority,
    },
    /// Resolves, reopens or parks (`pending`) the conversation.
    SetStatus {
        req_id: ReqId,
        conversation_id: ConversationId,
        status: ConversationStatus,
        /// With `pending`: snoozed until then (Unix ms), when it reopens by itself.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<i64>,
    },
    /// Adds and removes labels (normalized as [`crate::model::edit_labels`] says), applied to the
    /// labels as they are when it arrives: teammates labelling at once keep each other's. Anyone
    /// who may see the conversation may label it.
    EditLabels {
        req_id: ReqId,
        conversation_id: ConversationId,
        #[serde(default)]
        add: Vec<String>,
        #[serde(default)]
        remove: Vec<String>,
    },
    /// A supervisor takes the claim for themselves.
    TakeOver {
        req_id: ReqId,
        conversation_id: ConversationId,
    },
    /// Sends a reply. `seen_seq` is the newest event the client had shown; `force` sends even if
    /// the customer or a teammate wrote since. `idempotency_key` makes retries safe.
    Reply {
        req_id: ReqId,
        conversation_id: ConversationId,
        body: String,
        idempotency_key: String,
        seen_seq: u64,
        #[serde(default)]
        force: bool,
        /// A message of the conversation to quote (WhatsApp shows it above the reply).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<MessageId>,
    },
    /// Reacts to a message of the conversation with an emoji (`""` takes the reaction back).
    /// Claim holders only, like any send; it does not count as a reply for the traffic cop.
    React {
        req_id: ReqId,
        message_id: MessageId,
        emoji: String,
        idempotency_key: String,
    },
    /// Sends an approved template — the only message allowed outside the customer's 24-hour
    /// window. `parameters` fill the body's `{{1}}`, `{{2}}`…; otherwise like `reply`.
    SendTemplate {
        req_id: ReqId,
        conversation_id: ConversationId,
        name: String,
        language: String,
        #[serde(default)]
        parameters: Vec<String>,
        idempotency_key: String,
        seen_seq: u64,
        #[serde(default)]
        force: bool,
    },
    /// Sends a file the agent uploaded (`POST /api/uploads`) as an image, video, audio or
    /// document (by its type), with an optional caption; otherwise like `reply`.
    SendMedia {
        req_id: ReqId,
        conversation_id: ConversationId,
        upload_id: String,
        #[serde(default)]
        caption: String,
        idempotency_key: String,
        seen_seq: u64,
        #[serde(default)]
        force: bool,
    },
    /// The approved templates (answered with `ack` detail `templates`).
    ListTemplates {
        req_id: ReqId,
    },
    /// Sends a failed reply again — the same message, the same outbox row. Claim holders only.
    RetryMessage {
        req_id: ReqId,
        message_id: MessageId,
    },
    AddNote {
        req_id: ReqId,
        conversation_id: ConversationId,
        body: String,
    },
    /// Edits a note; refused with `conflict` (and the current text) if it changed since `base_version`.
    EditNote {
        req_id: ReqId,
        note_id: NoteId,
        body: String,
        base_version: u32,
    },
    DeleteNote {
        req_id: ReqId,
        note_id: NoteId,
    },
}

impl ClientMsg {
    pub fn req_id(&self) -> ReqId {
        match self {
            ClientMsg::Ping { req_id }
            | ClientMsg::SetPresence { req_id, .. }
            | ClientMsg::SubscribeInbox { req_id, .. }
            | ClientMsg::Open { req_id, .. }
            | ClientMsg::Close { req_id, .. }
            | ClientMsg::Typing { req_id, .. }
            | ClientMsg::Claim { req_id, .. }
            | ClientMsg::Release { req_id, .. }
            | ClientMsg::Transfer { req_id, .. }
            | ClientMsg::TakeOver { req_id, .. }
            | ClientMsg::Assign { req_id, .. }
            | ClientMsg::SetStatus { req_id, .. }
            | ClientMsg::TakeNext { req_id }
            | ClientMsg::SetTeam { req_id, .. }
            | ClientMsg::SetPriority { req_id, .. }
            | ClientMsg::EditLabels { req_id, .. }
            | ClientMsg::Reply { req_id, .. }
            | ClientMsg::SendTemplate { req_id, .. }
            | ClientMsg::React { req_id, .. }
            | ClientMsg::SendMedia { req_id, .. }
            | ClientMsg::ListTemplates { req_id }
            | ClientMsg::RetryMessage { req_id, .. }
            | ClientMsg::AddNote { req_id, .. }
            | ClientMsg::EditNote { req_id, .. }
            | ClientMsg::DeleteNote { req_id, .. } => *req_id,
        }
    }
}

/// A teammate as shown next to presence, viewers and typing.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Teammate {
    pub id: UserId,
    pub name: String,
}

/// One teammate's presence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub user: Teammate,
    pub role: Role,
    /// At least one socket open.
    pub online: bool,
    pub status: PresenceStatus,
}

/// What a successful request produced, when there is more to say than "done".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AckDetail {
    /// The conversation as it is now (`open`).
    Conversation {
        conversation: Conversation,
    },
    /// The claim the request holds (`claim`, `typing`, `transfer`, `take_over`).
    Claim {
        claim: Claim,
    },
    /// The stored reply (also for a repeated idempotency key: the original).
    Message {
        message: Message,
    },
    Note {
        note: Note,
    },
    /// The approved templates (`list_templates`).
    Templates {
        templates: Vec<MessageTemplate>,
    },
}

/// Why a request failed, when the client can do something with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ErrorDetail {
    /// `claimed_by_other` / `not_claim_holder`: who holds the claim.
    ClaimedBy { claim: Claim },
    /// `conversation_changed`: what arrived after `seen_seq` (in timeline order); resend with
    /// `force` to send anyway.
    Missed { messages: Vec<Message> },
    /// `conflict`: the note as it is now.
    CurrentNote { note: Note },
    /// `window_closed`: the approved templates that may be sent instead.
    Templates { templates: Vec<MessageTemplate> },
}

/// Messages from the server to a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// First message on a new socket: who the server thinks you are. `presence` messages listing
    /// every teammate online follow (at most 6 per frame, so no frame grows with the team).
    Hello { me: Me, server_version: String },
    /// A request succeeded.
    Ack {
        req_id: ReqId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<AckDetail>,
    },
    /// A request failed, or (with no `req_id`) a frame could not be understood at all.
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<ReqId>,
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<ErrorDetail>,
    },
    /// A durable change, in `seq` order per conversation.
    Event { event: ConversationEvent },
    /// The client is too far behind in this conversation to catch up event by event: here is the
    /// conversation as it is; continue from its `last_seq`.
    Resync { conversation: Conversation },
    /// Teammates who came online, went offline or changed status. Changes are gathered and sent
    /// together in one frame (at most every 100 ms), so a hundred teammates logging in make a
    /// frame or two, not a hundred; after `hello`, one of these lists everyone online.
    Presence { presence: Vec<Presence> },
    /// Who is looking at a conversation now.
    Viewers { conversation_id: ConversationId, viewers: Vec<Teammate> },
    /// Someone started or stopped typing in a conversation.
    Typing { conversation_id: ConversationId, user: Teammate, typing: bool },
    /// The draft being written (supervisors only; throttled).
    Draft { conversation_id: ConversationId, user: Teammate, body: String },
    /// Someone @mentioned you in a note.
    Mentioned { conversation_id: ConversationId, note_id: NoteId, by: Teammate },
    /// A contact was edited (by a teammate, an import or automation): to everyone who may see one
    /// of its conversations, so every open card and list shows the change.
    ContactChanged { contact: Box<crate::contacts::ContactRecord> },
    /// To admins: the WhatsApp channel needs attention (e.g. its access token was refused, and
    /// sending is `paused` until it is fixed; no reply is lost meanwhile).
    ChannelAlert { message: String, paused: bool },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_tagged_by_type() {
        let ping: ClientMsg = serde_json::from_str(r#"{"type":"ping","req_id":7}"#).expect("parses");
        assert_eq!(ping, ClientMsg::Ping { req_id: 7 });
        assert_eq!(ping.req_id(), 7);
        let err = ServerMsg::Error { req_id: None, code: ErrorCode::MalformedJson, message: "x".into(), detail: None };
        assert_eq!(
            serde_json::to_string(&err).expect("serializes"),
            r#"{"type":"error","code":"malformed_json","message":"x"}"#
        );
        let reply: ClientMsg = serde_json::from_str(
            r#"{"type":"reply","req_id":1,"conversation_id":3,"body":"hi","idempotency_key":"k","seen_seq":4}"#,
        )
        .expect("force defaults to false");
        assert!(matches!(reply, ClientMsg::Reply { force: false, .. }));
    }
}
