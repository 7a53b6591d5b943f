//! What the simulator saw and did, for tests to assert on: every Graph API request (raw bytes included),
//! every webhook delivery with each attempt's outcome, and the read receipts / typing indicators received.
//!
//! Waiting is by notification, never by polling with sleeps: every change bumps a `watch` counter, and
//! [`Journal::wait_until`] re-checks its condition on each bump until a deadline on tokio's clock.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;

/// Old records are dropped beyond this many of each kind, so a long-running binary stays small.
const KEEP: usize = 5000;

/// Which Graph API endpoint a request hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `POST /{version}/{phone_number_id}/messages`: sends, mark-as-read, typing indicator.
    Messages,
    /// `POST /{version}/{phone_number_id}/media`: a multipart upload.
    MediaUpload,
    /// `GET /{version}/{media_id}`.
    MediaInfo,
    /// `DELETE /{version}/{media_id}`.
    MediaDelete,
    /// `GET` of the download URL that media info returned.
    MediaDownload,
    /// `GET /{version}/{waba_id}/message_templates`.
    Templates,
    /// Anything else (answered with a Graph error).
    Other,
}

/// One request to the Graph API side, exactly as it arrived, and what the simulator answered.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordedRequest {
    /// 1, 2, 3… in arrival order.
    pub sequence: u64,
    pub endpoint: Endpoint,
    pub method: String,
    /// Path and query, e.g. `/v23.0/106000000000001/messages`.
    pub uri: String,
    /// The `Authorization` header as sent (`Bearer …`).
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    /// The raw body bytes. Serialized as text (lossy UTF-8) on the control API.
    #[serde(serialize_with = "lossy_text")]
    pub body: Vec<u8>,
    /// The body parsed as JSON, when it was JSON.
    pub json: Option<Value>,
    pub response_status: u16,
    /// The JSON answered (`null` for media bytes).
    pub response: Value,
}

impl RecordedRequest {
    /// The body as text (invalid UTF-8 replaced).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The wamid the simulator answered with, for an accepted send.
    pub fn message_id(&self) -> Option<&str> {
        self.response.pointer("/messages/0/id").and_then(Value::as_str)
    }
}

/// Which kind of webhook a delivery carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryKind {
    /// Customer messages (`value.messages`).
    Messages,
    /// Delivery statuses (`value.statuses`).
    Statuses,
}

/// One webhook POST body and every attempt to deliver it. A re-send of the same bytes after a non-200 is
/// another attempt; a deliberate duplicate ([`crate::Simulator::redeliver`]) is a new delivery with
/// `redelivery_of` set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WebhookDelivery {
    /// 1, 2, 3… in the order deliveries were created.
    pub id: u64,
    pub kind: DeliveryKind,
    pub redelivery_of: Option<u64>,
    /// The exact bytes POSTed (ASCII JSON).
    #[serde(serialize_with = "lossy_text")]
    pub body: Vec<u8>,
    /// The `X-Hub-Signature-256` value sent with them.
    pub signature: String,
    pub attempts: Vec<DeliveryAttempt>,
}

impl WebhookDelivery {
    /// The body as text (webhook bodies are ASCII).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Whether an attempt was answered with 200.
    pub fn acknowledged(&self) -> bool {
        self.attempts.iter().any(|attempt| attempt.status == Some(200))
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// One attempt: the HTTP status Baton answered, or why there was none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeliveryAttempt {
    pub status: Option<u16>,
    pub error: Option<String>,
}

/// A mark-as-read request (with or without the typing indicator).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReadReceipt {
    pub message_id: String,
    pub typing_indicator: bool,
    pub unix_seconds: u64,
}

#[derive(Default)]
pub(crate) struct Records {
    pub(crate) requests: VecDeque<RecordedRequest>,
    pub(crate) deliveries: VecDeque<WebhookDelivery>,
    pub(crate) reads: VecDeque<ReadReceipt>,
    next_request: u64,
    next_delivery: u64,
}

pub(crate) struct Journal {
    records: Mutex<Records>,
    changes: watch::Sender<u64>,
}

impl Journal {
    pub(crate) fn new() -> Self {
        Self { records: Mutex::new(Records::default()), changes: watch::Sender::new(0) }
    }

    /// The records, locked. Never held across an `.await`.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Records> {
        // A panic while holding the lock leaves plain data behind, still worth reading.
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn changed(&self) {
        self.changes.send_modify(|version| *version += 1);
    }

    /// Stores a request and gives it the next sequence number.
    pub(crate) fn record_request(&self, mut request: RecordedRequest) -> u64 {
        let sequence = {
            let mut records = self.lock();
            records.next_request += 1;
            request.sequence = records.next_request;
            push_bounded(&mut records.requests, request);
            records.next_request
        };
        self.changed();
        sequence
    }

    /// Opens a delivery record (no attempts yet) and returns its id.
    pub(crate) fn open_delivery(
        &self,
        kind: DeliveryKind,
        body: Vec<u8>,
        signature: String,
        redelivery_of: Option<u64>,
    ) -> u64 {
        let id = {
            let mut records = self.lock();
            records.next_delivery += 1;
            let id = records.next_delivery;
            push_bounded(
                &mut records.deliveries,
                WebhookDelivery { id, kind, redelivery_of, body, signature, attempts: Vec::new() },
            );
            id
        };
        self.changed();
        id
    }

    pub(crate) fn record_attempt(&self, delivery_id: u64, attempt: DeliveryAttempt) {
        {
            let mut records = self.lock();
            if let Some(delivery) = records.deliveries.iter_mut().find(|delivery| delivery.id == delivery_id) {
                delivery.attempts.push(attempt);
            }
        }
        self.changed();
    }

    pub(crate) fn delivery(&self, delivery_id: u64) -> Option<WebhookDelivery> {
        self.lock().deliveries.iter().find(|delivery| delivery.id == delivery_id).cloned()
    }

    pub(crate) fn record_read(&self, receipt: ReadReceipt) {
        push_bounded(&mut self.lock().reads, receipt);
        self.changed();
    }

    /// Waits until `probe` finds what it looks for, re-checking after every change, for at most `timeout`
    /// (tokio time, so a paused clock only runs out when nothing else can happen).
    pub(crate) async fn wait_until<T>(
        &self,
        timeout: Duration,
        what: &str,
        mut probe: impl FnMut(&Records) -> Option<T>,
    ) -> anyhow::Result<T> {
        // Subscribe before the first check: a change between the check and the wait is then not missed.
        let mut changes = self.changes.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(found) = probe(&self.lock()) {
                return Ok(found);
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => anyhow::bail!("the simulator stopped while waiting for {what}"),
                Err(_) => anyhow::bail!("timed out after {timeout:?} waiting for {what}"),
            }
        }
    }
}

fn push_bounded<T>(list: &mut VecDeque<T>, item: T) {
    if list.len() == KEEP {
        list.pop_front();
    }
    list.push_back(item);
}

fn lossy_text<S: serde::Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&String::from_utf8_lossy(bytes))
}
