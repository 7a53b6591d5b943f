//! Webhook intake with group commit: a signed delivery must be stored durably before Meta gets its
//! 200, and one transaction per delivery makes the database's single writer (SQLite) the limit.
//! Handlers hand their bytes to one writer task instead; it stores everything that queued up
//! meanwhile in one transaction and answers each handler. Under light load a batch is one
//! delivery (no added wait); under heavy load batches grow and the commits stay few. When the
//! server stops, the writer stores and answers what is queued before it returns.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::ingest::Ingest;
use crate::clock::Clock;
use crate::store::Store;

/// The delivery could not be stored (the database failed, or the server is stopping); Meta
/// retries what was not answered 200, so nothing is lost.
#[derive(Debug, thiserror::Error)]
#[error("the webhook delivery could not be stored")]
pub struct NotStored;

/// Deliveries waiting for the writer; handlers wait for room beyond this (back-pressure).
const QUEUE: usize = 4096;
/// Most deliveries stored in one transaction.
const MAX_BATCH: usize = 512;

type Waiting = (Bytes, oneshot::Sender<Result<i64, NotStored>>);

/// The handlers' side of the writer.
pub struct Intake {
    queue: mpsc::Sender<Waiting>,
    /// Taken by [`Intake::worker`] when the server starts.
    pending: Mutex<Option<mpsc::Receiver<Waiting>>>,
}

impl Default for Intake {
    fn default() -> Self {
        let (queue, pending) = mpsc::channel(QUEUE);
        Intake { queue, pending: Mutex::new(Some(pending)) }
    }
}

impl Intake {
    /// Stores a delivery's bytes durably; its id once committed.
    pub async fn store(&self, body: Bytes) -> Result<i64, NotStored> {
        let (answer, stored) = oneshot::channel();
        self.queue.send((body, answer)).await.map_err(|_| NotStored)?;
        stored.await.map_err(|_| NotStored)?
    }
}

/// The writer: stores what queued up, one transaction per batch, until the server stops.
pub struct Worker {
    pending: mpsc::Receiver<Waiting>,
    store: Arc<dyn Store>,
    clock: Clock,
    /// Woken when deliveries were stored.
    ingest: Arc<Ingest>,
}

impl Intake {
    /// The writer for this queue; `None` if it was already built (there is one queue, one writer).
    pub fn worker(&self, store: Arc<dyn Store>, clock: Clock, ingest: Arc<Ingest>) -> Option<Worker> {
        let pending = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()?;
        Some(Worker { pending, store, clock, ingest })
    }
}

impl Worker {
    /// Stores batches until `stop`; then lets no new delivery in (the handler answers 503 and Meta
    /// retries it) and stores and answers every one already queued before returning.
    pub async fn run(mut self, stop: CancellationToken) {
        let mut batch: Vec<Waiting> = Vec::with_capacity(MAX_BATCH);
        loop {
            let received = tokio::select! {
                received = self.pending.recv_many(&mut batch, MAX_BATCH) => received,
                () = stop.cancelled() => break,
            };
            if received == 0 {
                return;
            }
            self.write(&mut batch).await;
        }
        self.pending.close();
        let mut queued = 0;
        while self.pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
            queued += batch.len();
            self.write(&mut batch).await;
        }
        tracing::info!(queued, "webhook writer stopped: every queued delivery answered");
    }

    /// Stores one batch in one transaction and answers each of its handlers.
    async fn write(&self, batch: &mut Vec<Waiting>) {
        let bodies: Vec<&[u8]> = batch.iter().map(|(body, _)| body.as_ref()).collect();
        let stored = self.store.record_webhooks(&bodies, self.clock.now_ms()).await;
        match stored {
            Ok(ids) => {
                for ((_, answer), id) in batch.drain(..).zip(ids) {
                    let _ = answer.send(Ok(id));
                }
                self.ingest.wake();
            }
            Err(error) => {
                tracing::error!(%error, deliveries = batch.len(), "cannot store webhook deliveries");
                for (_, answer) in batch.drain(..) {
                    let _ = answer.send(Err(NotStored));
                }
            }
        }
    }
}
