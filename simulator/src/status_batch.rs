//! Status webhooks that travel together. Meta batches up to 1000 updates in one POST without promising to
//! (contract §2.3), so with [`crate::StatusBatching`] on, statuses wait here instead of going out one per
//! webhook: the first status to join an empty batch starts the window, and when the window ends everything
//! that joined meanwhile (several messages, several steps of one message) goes out in one webhook, in the
//! order it joined, as several `value.statuses[]` entries.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use baton_whatsapp::webhook::Status;
use tokio::sync::oneshot;

use crate::journal::DeliveryKind;
use crate::state::Shared;
use crate::webhook::{self, DeliveryOutcome};

/// Meta's ceiling for one POST ("up to 1000 updates", contract §2.3): a larger batch is split.
const MAX_STATUSES_PER_WEBHOOK: usize = 1000;

#[derive(Default)]
struct Pending {
    statuses: Vec<Status>,
    /// Whoever wants to know how the webhook carrying their statuses was answered.
    waiters: Vec<oneshot::Sender<Vec<DeliveryOutcome>>>,
    /// A flush is already waiting for the window to end: later statuses just join.
    flush_scheduled: bool,
}

/// The statuses waiting for the current window to end.
#[derive(Default)]
pub(crate) struct StatusBatch {
    pending: Mutex<Pending>,
}

impl StatusBatch {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Adds `statuses` to the pending batch, starting the window if the batch was empty. The receiver gets the
/// outcome of the webhook(s) that carried the batch; dropping it is fine (the automatic progression does).
pub(crate) fn enqueue(
    shared: &Arc<Shared>,
    statuses: Vec<Status>,
    window: Duration,
) -> oneshot::Receiver<Vec<DeliveryOutcome>> {
    let (sender, receiver) = oneshot::channel();
    let start_flush = {
        let mut pending = shared.status_batch.lock();
        pending.statuses.extend(statuses);
        pending.waiters.push(sender);
        !std::mem::replace(&mut pending.flush_scheduled, true)
    };
    if start_flush {
        let background = Arc::clone(shared);
        shared.spawn(async move { flush_after(background, window).await });
    }
    receiver
}

async fn flush_after(shared: Arc<Shared>, window: Duration) {
    tokio::time::sleep(window).await;
    // Taking the batch resets `flush_scheduled`: a status arriving from now on starts the next window.
    let Pending { statuses, waiters, .. } = std::mem::take(&mut *shared.status_batch.lock());
    let mut outcomes = Vec::new();
    for chunk in statuses.chunks(MAX_STATUSES_PER_WEBHOOK) {
        match crate::envelope::statuses(&shared.config, shared.config.webhook.format, chunk) {
            Ok(body) => outcomes.push(webhook::deliver(&shared, DeliveryKind::Statuses, body, None).await),
            Err(error) => tracing::warn!(%error, "could not write a batched status webhook"),
        }
    }
    for waiter in waiters {
        // A waiter that gave up (or never cared) has dropped its receiver: nothing to tell it.
        waiter.send(outcomes.clone()).ok();
    }
}
