//! The conversation half of the store: contacts, conversations, messages, notes, claims, drafts
//! and the per-conversation event log, as the [`ConversationStore`], [`MessageStore`],
//! [`ClaimStore`], [`NoteStore`] and [`DraftStore`] traits.
//!
//! Every operation that changes a conversation runs in one transaction that first locks the
//! conversation (a row lock on PostgreSQL; SQLite's single writer, taken by `BEGIN IMMEDIATE`),
//! then validates, writes its rows and appends its events numbered `last_seq + 1, + 2, …`. Events
//! are returned only once committed, so the caller can broadcast them knowing they are durable.
//!
//! The traits are split by resource; [`super::queries`] implements each once for both databases.

use async_trait::async_trait;
use baton_shared::model::{Claim, Conversation, ConversationEvent, ConversationStatus, Message, MessageContent, Note};
use baton_shared::{ConversationId, MessageId, NoteId, UserId};

use super::StoreResult;

/// A customer's message, as the channel (or the test endpoint) delivers it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewInbound {
    pub wa_id: String,
    pub profile_name: String,
    /// WhatsApp's message id: a second delivery with the same id records nothing.
    pub wa_message_id: String,
    pub kind: baton_shared::model::MessageKind,
    pub body: String,
    /// Unix ms of the message.
    pub at: i64,
    /// What it carries beyond text.
    pub content: Option<MessageContent>,
    /// The wamid it quotes or answers.
    pub reply_to: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InboundOutcome {
    /// Stored; the events to broadcast (the conversation's opening, if new, then the message).
    Recorded { conversation_id: ConversationId, events: Vec<ConversationEvent> },
    /// This WhatsApp message id was recorded before.
    Duplicate,
}

// Returned once per request and never kept in bulk: the larger variant's size costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The caller holds the claim now; `event` is `None` when they already held it (a renewal).
    Held { claim: Claim, event: Option<ConversationEvent> },
    /// Someone else holds a live lease.
    ClaimedByOther { claim: Claim },
}

/// How a claim changes hands by someone else's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handover {
    /// To `to`, decided by the holder or a supervisor, who checked that `to` may see the
    /// conversation as assigned to `assignee`. If it was reassigned meanwhile, nothing is done
    /// ([`crate::store::StoreError::Changed`]): a compare-and-set, like claiming.
    Transfer { to: UserId, assignee: Option<UserId> },
    /// To the acting supervisor.
    TakeOver,
}

/// An agent's reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewReply {
    pub conversation_id: ConversationId,
    pub author: UserId,
    pub body: String,
    /// Chosen by the client; the same key from the same author sends once.
    pub idempotency_key: String,
    /// The newest `seq` the author had seen when they pressed send.
    pub seen_seq: u64,
    /// Send even if the conversation changed since `seen_seq`.
    pub force: bool,
    /// What is sent: text, a template or a reaction.
    pub content: ReplyContent,
    /// The wamid of the customer's message this one quotes.
    pub reply_to: Option<String>,
}

/// What kind of reply it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ReplyContent {
    /// Free text (`body`).
    #[default]
    Text,
    /// An approved template (`body` is its rendered text): allowed outside the customer's 24-hour
    /// window, which everything else is not.
    Template(TemplateChoice),
    /// A file an agent uploaded (`body` is its caption), sent as `kind` (image, video, audio or
    /// document).
    Media { kind: &'static str, upload: String, mime_type: String, filename: Option<String> },
    /// A reaction to the message with wamid `target` (`body` is the emoji; empty removes it).
    /// Not a reply to the conversation: no traffic-cop check.
    Reaction { target: String },
}

/// Which template a reply sends, with its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateChoice {
    pub name: String,
    pub language: String,
    pub parameters: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
// Returned once per request and never kept in bulk: the larger variant's size costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum ReplyOutcome {
    Sent {
        message: Message,
        event: ConversationEvent,
        /// What the reply caused after it (its service-level clock met).
        followed_by: Vec<ConversationEvent>,
    },
    /// This key was used before: the original message, nothing new stored.
    Duplicate { message: Message },
    /// The author does not hold the claim (`claim` is who does, if anyone).
    NotHolder { claim: Option<Claim> },
    /// Customer messages or teammates' replies arrived after `seen_seq`.
    Changed { missed: Vec<Message> },
    /// Free text outside the customer's 24-hour window: only a template may go.
    WindowClosed,
}

impl From<baton_shared::rules::SendRefusal> for ReplyOutcome {
    fn from(refusal: baton_shared::rules::SendRefusal) -> Self {
        match refusal {
            baton_shared::rules::SendRefusal::NotHolder { claim } => ReplyOutcome::NotHolder { claim },
            baton_shared::rules::SendRefusal::WindowClosed => ReplyOutcome::WindowClosed,
        }
    }
}

/// A draft to keep: what `user` had typed in a conversation at `typed_at` (empty: nothing any
/// more). An older draft never replaces a newer one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftWrite {
    pub conversation: ConversationId,
    pub user: UserId,
    pub body: String,
    /// Milliseconds since the epoch.
    pub typed_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoteEditOutcome {
    Edited {
        event: ConversationEvent,
    },
    /// The note changed since the version the edit was based on: here it is now.
    Conflict {
        current: Note,
    },
}

#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Records a customer message: finds or creates the contact and its open conversation.
    async fn record_inbound(&self, inbound: &NewInbound, now: i64) -> StoreResult<InboundOutcome>;

    async fn conversation(&self, id: ConversationId) -> StoreResult<Option<Conversation>>;
    /// Conversations, most recently active first; resolved ones only when asked.
    async fn conversations(&self, include_resolved: bool, limit: i64) -> StoreResult<Vec<Conversation>>;
    /// Events with `seq > after`, in order, at most `limit`.
    async fn events_after(&self, id: ConversationId, after: u64, limit: i64) -> StoreResult<Vec<ConversationEvent>>;

    /// Assigns the conversation to `assignee` (or nobody), with an optional note, in one
    /// transaction. A claim held by someone other than the new assignee is released: they may no
    /// longer see the conversation. Returns the events (none when nothing changed).
    async fn assign(
        &self,
        id: ConversationId,
        actor: UserId,
        assignee: Option<UserId>,
        note: Option<&str>,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>>;

    /// Every conversation's newest seq (the hub continues each from there).
    async fn last_seqs(&self) -> StoreResult<Vec<(ConversationId, u64)>>;

    /// Sets the status; resolving also releases the claim. Returns the events (none when the
    /// status was already that).
    async fn set_status(
        &self,
        id: ConversationId,
        actor: UserId,
        status: ConversationStatus,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>>;
}

/// A conversation's messages, read in timeline order, and agents' replies.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// All of a conversation's messages in timeline order ([`Message::placement`]).
    async fn messages(&self, id: ConversationId) -> StoreResult<Vec<Message>>;
    /// One message, if it exists.
    async fn message(&self, id: MessageId) -> StoreResult<Option<Message>>;
    /// The newest message (the last placed, [`Message::placement`]) of each of these
    /// conversations that has any, in no particular order: one query per few hundred ids, not
    /// one per conversation.
    async fn last_messages(&self, ids: &[ConversationId]) -> StoreResult<Vec<Message>>;
    /// The last `limit` messages in timeline order among those with `seq <= up_to_seq`, oldest
    /// first: a history as of that seq (later ones arrive as events).
    async fn newest_messages(&self, id: ConversationId, up_to_seq: u64, limit: i64) -> StoreResult<Vec<Message>>;
    /// The `limit` messages placed just before the message with seq `before_seq` (a client's
    /// earliest held), oldest first: one page further back. Not bounded by seq: a message that
    /// arrived late and belongs there is on it. `None` if no message of the conversation has
    /// that seq.
    async fn messages_before(
        &self,
        id: ConversationId,
        before_seq: u64,
        limit: i64,
    ) -> StoreResult<Option<Vec<Message>>>;
    /// The wamid of the customer's newest message in a conversation, in timeline order (what a
    /// read receipt names: WhatsApp marks it and every earlier one read, so not one that merely
    /// arrived last).
    async fn last_inbound_wamid(&self, conversation: ConversationId) -> StoreResult<Option<String>>;

    /// Stores a reply, and queues it for WhatsApp, if the author holds the claim and has seen
    /// everything (or forces).
    async fn send_reply(&self, reply: &NewReply, now: i64) -> StoreResult<ReplyOutcome>;
}

/// The lock on replying: one holder per conversation, with a lease.
#[async_trait]
pub trait ClaimStore: Send + Sync {
    /// Compare-and-set: takes the claim when it is free or its lease ran out, renews it for its
    /// holder, and otherwise says who holds it.
    async fn claim(&self, id: ConversationId, agent: UserId, lease_until: i64, now: i64) -> StoreResult<ClaimOutcome>;
    /// Lets go of the claim if `agent` holds it; `None` when they did not.
    async fn release(&self, id: ConversationId, agent: UserId, now: i64) -> StoreResult<Option<ConversationEvent>>;
    /// Hands the claim over, whoever holds it (authorisation is the caller's job).
    async fn hand_over(
        &self,
        id: ConversationId,
        actor: UserId,
        handover: Handover,
        lease_until: i64,
        now: i64,
    ) -> StoreResult<ConversationEvent>;
    /// Users holding a live lease at `now`.
    async fn claim_holders(&self, now: i64) -> StoreResult<Vec<UserId>>;
    /// Extends every live lease the `holders` hold, in one statement whatever their number;
    /// returns how many.
    async fn renew_claims(&self, holders: &[UserId], lease_until: i64, now: i64) -> StoreResult<u64>;
    /// Ends every lease that ran out by `now`, and every claim idle since `idle_before` with no
    /// draft waiting; returns the `released (expired)` events.
    async fn expire_claims(&self, now: i64, idle_before: i64) -> StoreResult<Vec<ConversationEvent>>;
}

/// Internal notes.
#[async_trait]
pub trait NoteStore: Send + Sync {
    async fn notes(&self, id: ConversationId) -> StoreResult<Vec<Note>>;
    async fn add_note(
        &self,
        id: ConversationId,
        author: UserId,
        body: &str,
        now: i64,
    ) -> StoreResult<ConversationEvent>;
    async fn note(&self, id: NoteId) -> StoreResult<Option<Note>>;
    async fn edit_note(
        &self,
        id: NoteId,
        editor: UserId,
        body: &str,
        base_version: u32,
        now: i64,
    ) -> StoreResult<NoteEditOutcome>;
    async fn delete_note(&self, id: NoteId, actor: UserId, now: i64) -> StoreResult<ConversationEvent>;
}

/// What each user has typed in each conversation.
#[async_trait]
pub trait DraftStore: Send + Sync {
    /// Keeps what users are typing (an empty body removes the draft), in one transaction.
    async fn save_drafts(&self, drafts: &[DraftWrite]) -> StoreResult<()>;
    async fn draft(&self, id: ConversationId, user: UserId) -> StoreResult<Option<String>>;
}
