//! The sockets' readers: what each socket saw, and when (nanoseconds since the run's epoch).
//!
//! An agent's socket records the `assigned` events that routing made *to that agent* (the
//! decision, as the agent learns it). The supervisor's socket sees every conversation: it records
//! each `opened` event (which customer, so which webhook, and the baseline arrival) and every
//! `assigned` event in the order they came, from which each agent's load is replayed.
//!
//! Readers do not parse frames they do not need: the generator shares the machine's two cores
//! with the server, and 40 agents per team each receive every event of their team's queue.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use baton_shared::model::Change;
use baton_shared::protocol::ServerMsg;
use baton_shared::{ConversationId, UserId};
use futures_util::StreamExt;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;

use baton_bench::Socket;

/// One `assigned` event as the supervisor saw it.
#[derive(Clone, Copy)]
pub struct Assignment {
    pub conversation: ConversationId,
    pub assignee: Option<UserId>,
    /// Made by routing (not by hand).
    pub routed: bool,
}

/// Everything the sockets recorded.
#[derive(Default)]
pub struct Seen {
    /// Supervisor: conversation → (the customer's `wa_id`, when `opened` arrived).
    pub opened: HashMap<ConversationId, (String, u64)>,
    /// Supervisor: every `assigned` event, in arrival order.
    pub assignments: Vec<Assignment>,
    /// Agents: (conversation, the agent, when routing's `assigned` to them arrived on their socket).
    pub decisions: Vec<(ConversationId, UserId, u64)>,
    /// Agents: (conversation, the agent) for every `opened` an agent's socket received.
    pub agent_opened: Vec<(ConversationId, UserId)>,
    /// Sockets the server closed, with the close code (4008: too slow a reader).
    pub closed: Vec<(String, Option<u16>)>,
    /// `error` frames received.
    pub errors: Vec<String>,
}

/// What the readers share: what they saw, and how many frames they read in all.
#[derive(Default)]
pub struct Record {
    seen: Mutex<Seen>,
    pub frames: AtomicU64,
}

pub type Shared = Arc<Record>;

pub fn lock(record: &Record) -> std::sync::MutexGuard<'_, Seen> {
    record.seen.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Nanoseconds since `epoch`.
pub fn since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Who a socket belongs to, for what it records.
#[derive(Clone, Copy)]
pub enum Watcher {
    /// An agent: records routing's assignments to `UserId`.
    Agent(UserId),
    /// The supervisor: records `opened` and every `assigned`.
    Supervisor,
}

/// Reads `stream` until it ends; `subscribed` is told when the `subscribe_inbox` (req_id 1) is
/// acknowledged.
pub async fn read(
    mut stream: futures_util::stream::SplitStream<Socket>,
    who: Watcher,
    name: String,
    epoch: Instant,
    seen: Shared,
    subscribed: oneshot::Sender<()>,
) {
    let mut subscribed = Some(subscribed);
    let mut closed = None;
    while let Some(frame) = stream.next().await {
        let at = since(epoch);
        let text = match frame {
            Ok(Message::Text(text)) => text,
            Ok(Message::Close(frame)) => {
                closed = Some(frame.map(|frame| u16::from(frame.code)));
                break;
            }
            Ok(_) => continue,
            Err(_) => {
                closed = Some(None);
                break;
            }
        };
        seen.frames.fetch_add(1, Ordering::Relaxed);
        let text = text.as_str();
        if subscribed.is_some() && text.starts_with("{\"type\":\"ack\"") && text.contains("\"req_id\":1") {
            if let Some(subscribed) = subscribed.take() {
                let _ = subscribed.send(());
            }
            continue;
        }
        if text.starts_with("{\"type\":\"error\"") {
            lock(&seen).errors.push(format!("{name}: {text}"));
            continue;
        }
        let wanted = match who {
            Watcher::Agent(me) => {
                if text.contains("\"kind\":\"opened\"")
                    && let Some(conversation) = conversation_of(text)
                {
                    lock(&seen).agent_opened.push((conversation, me));
                }
                text.contains("\"kind\":\"assigned\"")
            }
            Watcher::Supervisor => text.contains("\"kind\":\"assigned\"") || text.contains("\"kind\":\"opened\""),
        };
        if !wanted {
            continue;
        }
        let Ok(ServerMsg::Event { event }) = serde_json::from_str::<ServerMsg>(text) else { continue };
        let conversation = event.conversation_id;
        match (who, event.change) {
            (Watcher::Agent(me), Change::Assigned { assignee: Some(assignee), routing: Some(_) }) if assignee == me => {
                lock(&seen).decisions.push((conversation, me, at));
            }
            (Watcher::Supervisor, Change::Opened { contact, .. }) => {
                lock(&seen).opened.insert(conversation, (contact.wa_id, at));
            }
            (Watcher::Supervisor, Change::Assigned { assignee, routing }) => {
                lock(&seen).assignments.push(Assignment { conversation, assignee, routed: routing.is_some() });
            }
            _ => {}
        }
    }
    // The stream ended: closed by the server (with its code), or cut.
    lock(&seen).closed.push((name, closed.flatten()));
}

/// The `conversation_id` of an event frame, read without parsing the rest.
fn conversation_of(text: &str) -> Option<ConversationId> {
    let (_, rest) = text.split_once("\"conversation_id\":")?;
    let digits = rest.find(|character: char| !character.is_ascii_digit()).unwrap_or(rest.len());
    Some(ConversationId(rest[..digits].parse().ok()?))
}
