//! Webhook intake with group commit: a signed delivery must be stored durably before Meta gets its
//! 200, and one transaction per delivery makes the database's single writer (SQLite) the limit.
//! Handlers hand their bytes to one writer task instead; it stores everything that queued up
//! meanwhile in one transaction and answers each handler. Under light load a batch is one
//! delivery (no added wait); under heavy load batches grow and the commits stay few.

use std::sync::Mutex;

use axum::body::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::state::AppState;

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
    /// Taken by [`run`] when the server starts.
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

/// The writer: stores what queued up, one transaction per batch, for as long as the server runs.
pub async fn run(state: AppState) {
    let taken = state.intake.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    let Some(mut pending) = taken else {
        tracing::error!("the webhook intake was started twice");
        return;
    };
    let mut batch: Vec<Waiting> = Vec::with_capacity(MAX_BATCH);
    while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let bodies: Vec<&[u8]> = batch.iter().map(|(body, _)| body.as_ref()).collect();
        let stored = state.store.record_webhooks(&bodies, state.now()).await;
        match stored {
            Ok(ids) => {
                for ((_, answer), id) in batch.drain(..).zip(ids) {
                    let _ = answer.send(Ok(id));
                }
                state.ingest.wake();
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
