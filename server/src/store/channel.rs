//! What the WhatsApp channel keeps, as [`WebhookStore`] and [`OutboxStore`]: the exact bytes of
//! every webhook delivery until it is processed, delivery statuses applied to the messages they
//! concern, and the replies waiting to be sent.

use async_trait::async_trait;
use baton_shared::model::{Claim, ConversationEvent, DeliveryError, DeliveryStatus, Message, MessageContent};
use baton_shared::{MessageId, UserId};

use super::StoreResult;
use super::conversations::NewInbound;

/// A stored webhook delivery, waiting to be processed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub id: i64,
    /// The exact bytes Meta signed.
    pub body: Vec<u8>,
    /// Earlier attempts that failed.
    pub attempts: i64,
}

/// A delivery status WhatsApp reported for the message with wamid `wa_message_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusWrite {
    pub wa_message_id: String,
    pub status: DeliveryStatus,
    pub error: Option<DeliveryError>,
    /// The send's tag, echoed by Meta (`biz_opaque_callback_data`): names the outbox row a
    /// status belongs to before Baton has recorded the send's wamid (see [`send_tag`]).
    pub callback_data: Option<String>,
}

/// What one stored delivery asks for, in its order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryWork {
    /// The delivery (`webhook_deliveries.id`): marked processed with its work.
    pub id: i64,
    pub work: Vec<Work>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Work {
    Inbound(Box<NewInbound>),
    Status(StatusWrite),
}

/// What applying deliveries did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppliedDeliveries {
    /// The committed events, in order.
    pub events: Vec<ConversationEvent>,
    /// For each inbound message, in order: whether it was new (not a redelivery).
    pub recorded: Vec<bool>,
}

/// A reply due to be sent to WhatsApp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub message_id: MessageId,
    /// The customer's `wa_id`.
    pub to: String,
    pub body: String,
    /// The wamid the reply quotes, if any.
    pub reply_to: Option<String>,
    /// Earlier attempts that failed.
    pub attempts: i64,
    /// What it carries beyond text (a template to send).
    pub content: Option<MessageContent>,
    /// The tag of an earlier send whose answer was never recorded (the process stopped while it
    /// was on its way): that send may have reached WhatsApp.
    pub in_flight: Option<String>,
}

/// The tag of one send of outbox row `outbox_id`: sent as `biz_opaque_callback_data` and echoed by
/// Meta in every status webhook of the message. `nonce` (random) tells the row's sends apart, so a
/// late status of an earlier send (a failed one sent again with the retry button, say) never
/// stands for a later one, nor for a row of another database that reused the id.
pub fn send_tag(outbox_id: i64, nonce: &str) -> String {
    format!("baton-outbox-{outbox_id}-{nonce}")
}

/// WhatsApp's code for "the customer's 24-hour window is closed" (re-engagement required).
pub const WINDOW_CLOSED_CODE: i64 = 131047;

/// What asking to send a failed reply again came to.
#[derive(Clone, Debug, PartialEq, Eq)]
// Returned once per request and never kept in bulk: the larger variant's size costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum RequeueOutcome {
    /// Queued again; the event (back to `pending`) to broadcast, and the message as queued (read
    /// in the same transaction: the sender may move it on the moment it commits).
    Requeued { event: ConversationEvent, message: Message },
    /// The message is not an outbound message that failed.
    NotFailed,
    /// Only the claim's holder may send (`claim`: who holds it, if anyone).
    NotHolder { claim: Option<Claim> },
    /// Free text outside the customer's window.
    WindowClosed,
}

impl From<baton_shared::rules::SendRefusal> for RequeueOutcome {
    fn from(refusal: baton_shared::rules::SendRefusal) -> Self {
        match refusal {
            baton_shared::rules::SendRefusal::NotHolder { claim } => RequeueOutcome::NotHolder { claim },
            baton_shared::rules::SendRefusal::WindowClosed => RequeueOutcome::WindowClosed,
        }
    }
}

/// Webhook deliveries, kept and applied.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Keeps webhook deliveries' bytes durably, in one transaction; returns their ids in order.
    async fn record_webhooks(&self, bodies: &[&[u8]], now: i64) -> StoreResult<Vec<i64>>;
    /// Deliveries not processed yet, oldest first.
    async fn pending_webhooks(&self, limit: i64) -> StoreResult<Vec<WebhookDelivery>>;
    /// Applies several deliveries' work and marks them processed, all in one transaction.
    async fn apply_deliveries(&self, deliveries: &[DeliveryWork], now: i64) -> StoreResult<AppliedDeliveries>;
    /// Marks a delivery processed, or counts a failed attempt and why (it stays pending).
    async fn finish_webhook(&self, id: i64, failure: Option<&str>, now: i64) -> StoreResult<()>;
    /// Applies a status to its message when it moves the message forward
    /// ([`DeliveryStatus::rank`]); returns the events to broadcast (a 131047 failure also closes
    /// the customer's window: [`WINDOW_CLOSED_CODE`]). A status for a wamid no message has yet
    /// adopts that wamid for the reply whose send its tag names, if that send's answer was never
    /// recorded; otherwise it is kept and applied when a message gets that wamid.
    async fn apply_status(&self, status: &StatusWrite, now: i64) -> StoreResult<Vec<ConversationEvent>>;
}

/// Replies on their way to WhatsApp.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Replies due at `now`, oldest first.
    async fn due_outbox(&self, now: i64, limit: i64) -> StoreResult<Vec<OutboxItem>>;
    /// Marks a reply as on its way to WhatsApp under `tag`, durably, just before the POST: if the
    /// process stops before the answer is recorded, the row comes due again at `answer_by` (and a
    /// status carrying `tag` adopts the send meanwhile). A compare-and-set: only a row still
    /// pending and due at `now` is marked, so of two senders that both found it due (two Baton
    /// nodes on one database) only the first posts it. `false` if it was not marked.
    async fn begin_send(&self, id: i64, tag: &str, answer_by: i64, now: i64) -> StoreResult<bool>;
    /// At start: replies whose send was on its way when the process stopped wait until `until` at
    /// least for a status carrying their tag, before they are sent again. Returns how many wait.
    async fn hold_in_flight(&self, until: i64) -> StoreResult<u64>;
    /// Counts an attempt that got no answer, keeping the reply in flight under its tag: it comes
    /// due again at the deadline [`OutboxStore::begin_send`] set, unless a tagged status adopts it.
    async fn await_status(&self, id: i64, error: &str) -> StoreResult<()>;
    /// Counts a failed attempt and when to try again.
    async fn retry_outbox(&self, id: i64, next_attempt_at: i64, error: &str) -> StoreResult<()>;
    /// Moves a reply's next attempt without counting a failure (pacing).
    async fn defer_outbox(&self, id: i64, next_attempt_at: i64) -> StoreResult<()>;
    /// Gives up on a reply: its message becomes `failed` with `error`; returns the events.
    async fn fail_outbox(&self, id: i64, error: &DeliveryError, now: i64) -> StoreResult<Vec<ConversationEvent>>;
    /// Sends a failed reply again (the retry button): the same outbox row, due now, if `actor`
    /// holds the conversation's claim and the window allows it.
    async fn requeue_failed(&self, message: MessageId, actor: UserId, now: i64) -> StoreResult<RequeueOutcome>;
    /// Records that Meta accepted an outbound message under `wa_message_id`: it becomes `sent`,
    /// then any statuses that arrived before this answer apply. Returns the events, if the
    /// message moved forward. The same wamid adopted already (by the send's tag) changes nothing.
    async fn message_accepted(
        &self,
        message: MessageId,
        wa_message_id: &str,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>>;
}
