//! The ingest worker: reads stored webhook deliveries oldest first and applies what they say —
//! customer messages become conversations and messages (once per wamid, however often Meta
//! redelivers), statuses move messages forward only — then broadcasts the committed events.
//!
//! On PostgreSQL, deliveries of different customers are applied side by side ([`LANES`] at a time); each
//! customer's own deliveries one after the other, in arrival order.
//!
//! A delivery is marked processed only after everything in it was applied, so a crash or a
//! database hiccup means it is read again later (every step is idempotent). A delivery that can
//! never be read (not JSON, not a WhatsApp payload) is marked processed with the reason kept
//! beside its bytes, never retried forever and never silently dropped.

use std::time::Duration;

use baton_shared::model::{DeliveryError, DeliveryStatus};
use baton_whatsapp::webhook::{self, Item, MessageKind, StatusUpdate};
use futures_util::StreamExt;
use tokio::sync::Notify;

use crate::clock::now_ms;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::channel::{StatusWrite, WebhookDelivery};
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

/// Customers whose deliveries are applied at the same time on PostgreSQL. One customer's
/// deliveries are applied one after the other, in arrival order, so their messages keep that
/// order. SQLite has one writer: concurrent transactions there only wait on each other's lock
/// (measured: much slower), so it gets one lane.
const LANES: usize = 8;

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
        // Each delivery is parsed once, then goes to its customer's lane (the first sender in
        // it; statuses and unreadable deliveries share a lane).
        let mut lanes: Vec<(String, Vec<Parsed>)> = Vec::new();
        for delivery in batch {
            let items =
                webhook::parse(&delivery.body).map(|payload| payload.into_items()).map_err(|error| error.to_string());
            let lane = lane_of(&items);
            let parsed = Parsed { delivery, items };
            match lanes.iter_mut().find(|(key, _)| *key == lane) {
                Some((_, deliveries)) => deliveries.push(parsed),
                None => lanes.push((lane, vec![parsed])),
            }
        }
        let outcomes: Vec<(usize, bool)> = futures_util::stream::iter(lanes)
            .map(|(_, deliveries)| apply_lane(state, deliveries))
            .buffer_unordered(lanes_for(state))
            .collect()
            .await;
        finished += outcomes.iter().map(|(done, _)| done).sum::<usize>();
        if outcomes.iter().any(|(_, failed)| *failed) {
            return finished;
        }
    }
}

fn lanes_for(state: &AppState) -> usize {
    match state.store.backend() {
        crate::store::Backend::Postgres => LANES,
        crate::store::Backend::Sqlite => 1,
    }
}

/// A stored delivery and what it says (or why it cannot be read).
struct Parsed {
    delivery: WebhookDelivery,
    items: Result<Vec<Item>, String>,
}

/// Which lane a delivery goes to: its first customer.
fn lane_of(items: &Result<Vec<Item>, String>) -> String {
    let items = items.as_deref().unwrap_or_default();
    items
        .iter()
        .find_map(|item| match item {
            Item::Message(message) => Some(message.from.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Applies one lane's deliveries in order; how many finished, and whether it stopped on a failure
/// (the rest of the lane then waits for the next round, keeping the order).
async fn apply_lane(state: &AppState, deliveries: Vec<Parsed>) -> (usize, bool) {
    let mut finished = 0;
    for Parsed { delivery, items } in deliveries {
        let outcome = match process(state, items).await {
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
                if let Err(error) = state.store.finish_webhook(delivery.id, Some(&error.to_string()), now_ms()).await {
                    tracing::error!(%error, "cannot record a failed webhook attempt");
                }
                return (finished, true);
            }
        };
        match outcome {
            Ok(()) => finished += 1,
            Err(error) => {
                tracing::error!(delivery = delivery.id, %error, "cannot mark a webhook delivery processed");
                return (finished, true);
            }
        }
    }
    (finished, false)
}

/// Applies one delivery's items. `Ok(Some(reason))`: it can never be read.
async fn process(state: &AppState, items: Result<Vec<Item>, String>) -> Result<Option<String>, StoreError> {
    let items = match items {
        Ok(items) => items,
        Err(unreadable) => return Ok(Some(unreadable)),
    };
    let ours = state.config.whatsapp.phone_number_id.as_deref();
    for item in items {
        match item {
            Item::Message(message) => {
                if ours.is_some_and(|ours| ours != message.origin.phone_number_id) {
                    tracing::warn!(number = %message.origin.phone_number_id, "message for another business number ignored");
                    continue;
                }
                let media = match &message.kind {
                    MessageKind::Media(media) => Some((media.id.clone(), media.url.clone())),
                    _ => None,
                };
                let inbound = super::inbound::new_inbound(message);
                if let InboundOutcome::Recorded { events, .. } = state.store.record_inbound(&inbound, now_ms()).await? {
                    state.bus.publish(&events);
                    if let Some((media_id, url)) = media {
                        state.media.prefetch(state, media_id, url);
                    }
                }
            }
            Item::Status(update) => {
                let events = state.store.apply_status(&status_write(update), now_ms()).await?;
                state.bus.publish(&events);
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
