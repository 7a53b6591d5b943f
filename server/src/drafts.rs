//! Drafts kept durable off the socket's path. A keystroke's draft replaces the one waiting for
//! its user and conversation; one task writes whatever waits in a single transaction every
//! [`SAVE_INTERVAL`], so a room full of typists costs a couple of commits a second, not one per
//! keystroke. Each draft carries the time it was typed and the store keeps only the newest, so a
//! batch that lands after the reply was sent cannot bring the draft back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_shared::protocol::Teammate;
use baton_shared::{ConversationId, UserId};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::hub::DraftSaver;
use crate::store::Store;
use crate::store::conversations::DraftWrite;

/// How often waiting drafts are written.
pub const SAVE_INTERVAL: Duration = Duration::from_millis(500);

/// Drafts waiting to be written, newest per user and conversation.
pub struct DraftWriter {
    waiting: Mutex<HashMap<(ConversationId, UserId), DraftWrite>>,
    /// Held by a flush from taking its batch until the batch is written: a flush that finds
    /// nothing waiting still returns only once drafts taken by another flush are stored (so
    /// "flush, then read the store" sees every draft typed before it).
    writing: tokio::sync::Mutex<()>,
    /// The server's clock: a draft's time is compared with claims' and sends' times.
    clock: Clock,
}

impl DraftSaver for DraftWriter {
    fn save(&self, conversation: ConversationId, user: &Teammate, body: String) {
        let draft = DraftWrite { conversation, user: user.id, body, typed_at: self.clock.now_ms() };
        self.waiting().insert((conversation, user.id), draft);
    }
}

impl DraftWriter {
    pub fn new(clock: Clock) -> Self {
        DraftWriter { waiting: Mutex::default(), writing: tokio::sync::Mutex::new(()), clock }
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, HashMap<(ConversationId, UserId), DraftWrite>> {
        self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes the drafts waiting now, after any batch another flush is writing. On failure they
    /// wait for the next try, unless newer ones replaced them meanwhile.
    pub async fn flush(&self, store: &dyn Store) {
        let _writing = self.writing.lock().await;
        let batch: Vec<DraftWrite> = {
            let mut waiting = self.waiting();
            if waiting.is_empty() {
                return;
            }
            waiting.drain().map(|(_, draft)| draft).collect()
        };
        if let Err(error) = store.save_drafts(&batch).await {
            tracing::warn!(%error, drafts = batch.len(), "could not save drafts; retrying");
            let mut waiting = self.waiting();
            for draft in batch {
                waiting.entry((draft.conversation, draft.user)).or_insert(draft);
            }
        }
    }
}

/// The draft writer's task: writes waiting drafts every [`SAVE_INTERVAL`].
pub struct Worker {
    pub writer: Arc<DraftWriter>,
    pub store: Arc<dyn Store>,
}

impl Worker {
    /// Writes every [`SAVE_INTERVAL`] until `stop`, then once more: what was typed in the last
    /// moments is kept too.
    pub async fn run(self, stop: CancellationToken) {
        let mut tick = tokio::time::interval(SAVE_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => self.writer.flush(&*self.store).await,
                () = stop.cancelled() => break,
            }
        }
        self.writer.flush(&*self.store).await;
    }
}
