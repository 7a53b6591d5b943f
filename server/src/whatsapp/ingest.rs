//! The ingest worker: reads stored webhook deliveries oldest first and applies what they say —
//! customer messages become conversations and messages (once per wamid, however often Meta
//! redelivers), statuses move messages forward only — then broadcasts the committed events.
//!
//! A delivery is marked processed only after everything in it was applied, so a crash or a
//! database hiccup means it is read again later (every step is idempotent). A delivery that can
//! never be read (not JSON, not a WhatsApp payload) is marked processed with the reason kept
//! beside its bytes, never retried forever and never silently dropped.

use std::time::Duration;

use baton_shared::model::{DeliveryError, DeliveryStatus};
use baton_whatsapp::webhook::{self, Item, StatusUpdate};
use tokio::sync::Notify;

use crate::clock::now_ms;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::channel::StatusWrite;
use crate::store::conversations::InboundOutcome;

/// Deliveries read per query.
const BATCH: i64 = 100;
/// How often pending deliveries are looked at without a wake-up (after a failure, at start).
pub const RETRY_INTERVAL: Duration = Duration::from_secs(5);

/// Wakes the worker when a delivery was stored.
#[derive(Default)]
pub struct Ingest {
    stored: Notify,
}

impl Ingest {
    pub fn wake(&self) {
        self.stored.notify_one();
    }
}

/// Processes deliveries for as long as the server runs.
pub async fn run(state: AppState) {
    loop {
        drain(&state).await;
        tokio::select! {
            () = state.ingest.stored.notified() => {}
            () = tokio::time::sleep(RETRY_INTERVAL) => {}
        }
    }
}

/// Processes every pending delivery; stops early when the store fails (the next round retries).
/// Returns how many deliveries were finished.
pub async fn drain(state: &AppState) -> usize {
    let mut finished = 0;
    loop {
        let batch = match state.store.pending_webhooks(BATCH).await {
            Ok(batch) => batch,
            Err(error) => {
                tracing::error!(%error, "cannot read pending webhook deliveries");
                return finished;
            }
        };
        if batch.is_empty() {
            return finished;
        }
        for delivery in batch {
            let outcome = match process(state, &delivery.body).await {
                Ok(None) => state.store.finish_webhook(delivery.id, None, now_ms()).await,
                Ok(Some(unreadable)) => {
                    tracing::error!(delivery = delivery.id, reason = %unreadable, "unreadable WhatsApp webhook kept aside");
                    match state.store.finish_webhook(delivery.id, Some(&unreadable), now_ms()).await {
                        Ok(()) => state.store.finish_webhook(delivery.id, None, now_ms()).await,
                        Err(error) => Err(error),
                    }
                }
                Err(error) => {
                    tracing::warn!(delivery = delivery.id, attempts = delivery.attempts + 1, %error, "webhook delivery will be retried");
                    if let Err(error) =
                        state.store.finish_webhook(delivery.id, Some(&error.to_string()), now_ms()).await
                    {
                        tracing::error!(%error, "cannot record a failed webhook attempt");
                    }
                    return finished;
                }
            };
            match outcome {
                Ok(()) => finished += 1,
                Err(error) => {
                    tracing::error!(delivery = delivery.id, %error, "cannot mark a webhook delivery processed");
                    return finished;
                }
            }
        }
    }
}

/// Applies one delivery. `Ok(Some(reason))`: it can never be read.
async fn process(state: &AppState, body: &[u8]) -> Result<Option<String>, StoreError> {
    let payload = match webhook::parse(body) {
        Ok(payload) => payload,
        Err(error) => return Ok(Some(error.to_string())),
    };
    let ours = state.config.whatsapp.phone_number_id.as_deref();
    for item in payload.into_items() {
        match item {
            Item::Message(message) => {
                if ours.is_some_and(|ours| ours != message.origin.phone_number_id) {
                    tracing::warn!(number = %message.origin.phone_number_id, "message for another business number ignored");
                    continue;
                }
                let inbound = super::inbound::new_inbound(message);
                if let InboundOutcome::Recorded { events, .. } = state.store.record_inbound(&inbound, now_ms()).await? {
                    state.bus.publish(&events);
                }
            }
            Item::Status(update) => {
                if let Some(event) = state.store.apply_status(&status_write(update), now_ms()).await? {
                    state.bus.publish(&[event]);
                }
            }
            Item::Error(error) => tracing::warn!(
                code = error.error.code,
                title = error.error.title.as_deref().unwrap_or_default(),
                details = error.error.details().unwrap_or_default(),
                "WhatsApp reported an error"
            ),
            Item::Ignored(ignored) => tracing::debug!(field = %ignored.field, "webhook field ignored"),
            Item::Unrecognized(unrecognized) => {
                tracing::warn!(reason = %unrecognized.reason, "part of a webhook could not be read (kept in the delivery)");
            }
        }
    }
    Ok(None)
}

fn status_write(update: StatusUpdate) -> StatusWrite {
    use baton_whatsapp::webhook::DeliveryStatus as Wire;
    let status = match update.status {
        Wire::Sent => DeliveryStatus::Sent,
        Wire::Delivered => DeliveryStatus::Delivered,
        Wire::Read => DeliveryStatus::Read,
        Wire::Played => DeliveryStatus::Played,
        Wire::Failed => DeliveryStatus::Failed,
    };
    let error = update.errors.first().map(|error| DeliveryError {
        code: error.code,
        message: baton_whatsapp::graph::classify(None, Some(error.code)).sentence.to_owned(),
    });
    StatusWrite { wa_message_id: update.message_id, status, error }
}
