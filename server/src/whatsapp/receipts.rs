//! What the customer sees of the team's attention (contract §6.4, §6.5): blue ticks when an agent
//! opens the conversation, and "typing…" while the claim holder writes. Both are best-effort and
//! off the request path — a failure is logged, never shown to the agent, and never blocks a reply.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_shared::ConversationId;
use dashmap::DashMap;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::graph::GraphClient;
use crate::store::Store;

/// WhatsApp shows "typing…" for 25 s; renewing a little earlier keeps it steady.
const TYPING_RENEW: Duration = Duration::from_secs(20);

/// The handlers' side: queues receipts, at most one "typing…" per [`TYPING_RENEW`] per
/// conversation, so repeated keystrokes cost nothing.
pub struct Receipts {
    /// Whether there is a Graph API to send receipts to.
    channel: bool,
    /// Whether "typing…" is shown (configured, and a channel).
    typing_indicator: bool,
    /// When "typing…" was last shown, per conversation.
    typing: DashMap<ConversationId, Instant>,
    queue: mpsc::UnboundedSender<Receipt>,
    /// Taken by [`Receipts::worker`] when the server starts.
    queued: Mutex<Option<mpsc::UnboundedReceiver<Receipt>>>,
}

/// A conversation to mark read, and whether to show "typing…" as well.
type Receipt = (ConversationId, bool);

impl Receipts {
    pub fn new(channel: bool, typing_indicator: bool) -> Self {
        let (queue, queued) = mpsc::unbounded_channel();
        Receipts {
            channel,
            typing_indicator: channel && typing_indicator,
            typing: DashMap::new(),
            queue,
            queued: Mutex::new(Some(queued)),
        }
    }

    /// An agent opened the conversation: mark the customer's newest message read.
    pub fn opened(&self, conversation: ConversationId) {
        if self.channel {
            self.send((conversation, false));
        }
    }

    /// The claim holder is typing: show "typing…" to the customer (which also marks read), at
    /// most once per [`TYPING_RENEW`].
    pub fn typing(&self, conversation: ConversationId) {
        if !self.typing_indicator {
            return;
        }
        let now = Instant::now();
        let due = self.typing.get(&conversation).is_none_or(|shown| now.duration_since(*shown) >= TYPING_RENEW);
        if due {
            self.typing.insert(conversation, now);
            self.send((conversation, true));
        }
    }

    /// A reply went: the indicator is gone on the customer's side, so the next keystroke shows it again.
    pub fn replied(&self, conversation: ConversationId) {
        self.typing.remove(&conversation);
    }

    fn send(&self, receipt: Receipt) {
        // Only fails once the server is stopping; receipts are best-effort.
        let _stopping = self.queue.send(receipt);
    }

    /// The worker sending this queue's receipts; `None` if it was already built.
    pub fn worker(&self, store: Arc<dyn Store>, graph: Arc<GraphClient>) -> Option<Worker> {
        let requests = self.queued.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()?;
        Some(Worker { store, graph, requests, read: Arc::default() })
    }
}

/// Sends queued receipts to the Graph API, each on its own (one slow answer holds no other up).
pub struct Worker {
    store: Arc<dyn Store>,
    graph: Arc<GraphClient>,
    requests: mpsc::UnboundedReceiver<Receipt>,
    /// The newest customer message marked read, per conversation.
    read: Arc<DashMap<ConversationId, String>>,
}

impl Worker {
    /// Sends receipts until `stop`; those still on their way then are dropped (best-effort).
    pub async fn run(mut self, stop: CancellationToken) {
        let mut sending = JoinSet::new();
        loop {
            tokio::select! {
                request = self.requests.recv() => {
                    let Some((conversation, typing)) = request else { break };
                    let (store, graph, read) = (self.store.clone(), self.graph.clone(), self.read.clone());
                    sending.spawn(send_receipt(store, graph, read, conversation, typing));
                }
                Some(_) = sending.join_next(), if !sending.is_empty() => {}
                () = stop.cancelled() => break,
            }
        }
    }
}

async fn send_receipt(
    store: Arc<dyn Store>,
    graph: Arc<GraphClient>,
    read: Arc<DashMap<ConversationId, String>>,
    conversation: ConversationId,
    typing: bool,
) {
    let wamid = match store.last_inbound_wamid(conversation).await {
        Ok(Some(wamid)) => wamid,
        Ok(None) => return,
        Err(error) => {
            tracing::warn!(%error, %conversation, "cannot find the message to mark read");
            return;
        }
    };
    if !typing && read.get(&conversation).is_some_and(|marked| *marked == wamid) {
        return;
    }
    match graph.mark_read(&wamid, typing).await {
        Ok(()) => {
            read.insert(conversation, wamid);
        }
        Err(error) => tracing::warn!(%error, %conversation, typing, "WhatsApp read receipt not sent"),
    }
}
