//! The observing half of the [`Simulator`] handle: what Baton sent to the Graph API, which webhooks went
//! out and how Baton answered them, read receipts, and the chats. The `wait_for_*`/`next_*` methods wait
//! on change notifications for at most [`crate::Config::wait_timeout`]: never a sleep.

use std::sync::PoisonError;

use baton_whatsapp::webhook::{self as contract, DeliveryStatus, Item};

use crate::Simulator;
use crate::customers::{ChatView, CustomerSummary};
use crate::journal::{DeliveryKind, Endpoint, ReadReceipt, RecordedRequest, WebhookDelivery};
use crate::media::MediaItem;

impl Simulator {
    /// Every Graph API request so far (oldest first; the oldest are dropped beyond 5000).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.journal.lock().requests.iter().cloned().collect()
    }

    /// The requests to `POST /{version}/{phone_number_id}/messages` so far.
    pub fn message_requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .journal
            .lock()
            .requests
            .iter()
            .filter(|request| request.endpoint == Endpoint::Messages)
            .cloned()
            .collect()
    }

    /// The next Graph API request after the one this method last returned, waiting for it if needed.
    pub async fn next_request(&self) -> anyhow::Result<RecordedRequest> {
        self.next_matching_request(None).await
    }

    /// The next request to `endpoint` after the one the `next_*` methods last returned (requests to other
    /// endpoints in between are skipped).
    pub async fn next_request_to(&self, endpoint: Endpoint) -> anyhow::Result<RecordedRequest> {
        self.next_matching_request(Some(endpoint)).await
    }

    async fn next_matching_request(&self, endpoint: Option<Endpoint>) -> anyhow::Result<RecordedRequest> {
        let after = *self.request_cursor.lock().unwrap_or_else(PoisonError::into_inner);
        let request = self
            .shared
            .journal
            .wait_until(self.config().wait_timeout, "the next Graph API request", |records| {
                records
                    .requests
                    .iter()
                    .find(|request| {
                        request.sequence > after && endpoint.is_none_or(|wanted| request.endpoint == wanted)
                    })
                    .cloned()
            })
            .await?;
        *self.request_cursor.lock().unwrap_or_else(PoisonError::into_inner) = request.sequence;
        Ok(request)
    }

    /// Waits until at least `count` Graph API requests arrived in total, and returns them all.
    pub async fn wait_for_requests(&self, count: usize) -> anyhow::Result<Vec<RecordedRequest>> {
        let what = format!("{count} Graph API requests");
        self.shared
            .journal
            .wait_until(self.config().wait_timeout, &what, |records| {
                (records.requests.len() >= count).then(|| records.requests.iter().cloned().collect())
            })
            .await
    }

    /// Waits for the first request (past or future) that satisfies `predicate`.
    pub async fn wait_for_request(
        &self,
        predicate: impl Fn(&RecordedRequest) -> bool,
    ) -> anyhow::Result<RecordedRequest> {
        self.shared
            .journal
            .wait_until(self.config().wait_timeout, "a matching Graph API request", |records| {
                records.requests.iter().find(|request| predicate(request)).cloned()
            })
            .await
    }

    /// Every webhook delivery so far, with each attempt's outcome.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.shared.journal.lock().deliveries.iter().cloned().collect()
    }

    /// The next webhook delivery (with at least one attempt made) after the one this method last returned.
    pub async fn next_delivery(&self) -> anyhow::Result<WebhookDelivery> {
        let after = *self.delivery_cursor.lock().unwrap_or_else(PoisonError::into_inner);
        let delivery = self.wait_for_delivery(|delivery| delivery.id > after).await?;
        *self.delivery_cursor.lock().unwrap_or_else(PoisonError::into_inner) = delivery.id;
        Ok(delivery)
    }

    /// Waits until at least `count` deliveries have been attempted, and returns them all.
    pub async fn wait_for_deliveries(&self, count: usize) -> anyhow::Result<Vec<WebhookDelivery>> {
        let what = format!("{count} webhook deliveries");
        self.shared
            .journal
            .wait_until(self.config().wait_timeout, &what, |records| {
                let attempted = records.deliveries.iter().filter(|delivery| !delivery.attempts.is_empty()).count();
                (attempted >= count).then(|| records.deliveries.iter().cloned().collect())
            })
            .await
    }

    /// Waits for the first attempted delivery (past or future) that satisfies `predicate`. Re-checked after
    /// every attempt, so `|delivery| delivery.attempts.len() >= 3` waits for re-sends.
    pub async fn wait_for_delivery(
        &self,
        predicate: impl Fn(&WebhookDelivery) -> bool,
    ) -> anyhow::Result<WebhookDelivery> {
        self.shared
            .journal
            .wait_until(self.config().wait_timeout, "a matching webhook delivery", |records| {
                records.deliveries.iter().find(|delivery| !delivery.attempts.is_empty() && predicate(delivery)).cloned()
            })
            .await
    }

    /// Waits until the status webhook `status` for `message_id` has been delivered (attempted at least once).
    pub async fn wait_for_status(&self, message_id: &str, status: DeliveryStatus) -> anyhow::Result<WebhookDelivery> {
        self.wait_for_delivery(|delivery| {
            delivery.kind == DeliveryKind::Statuses && carries_status(delivery, message_id, status)
        })
        .await
    }

    /// Every mark-as-read (and typing indicator) Baton sent.
    pub fn read_receipts(&self) -> Vec<ReadReceipt> {
        self.shared.journal.lock().reads.iter().cloned().collect()
    }

    /// Waits until Baton marked `message_id` as read.
    pub async fn wait_for_read(&self, message_id: &str) -> anyhow::Result<ReadReceipt> {
        let what = format!("a read receipt for {message_id}");
        self.shared
            .journal
            .wait_until(self.config().wait_timeout, &what, |records| {
                records.reads.iter().find(|receipt| receipt.message_id == message_id).cloned()
            })
            .await
    }

    /// The latest status the simulator reported for a message Baton sent.
    pub fn message_status(&self, message_id: &str) -> Option<DeliveryStatus> {
        self.shared.customers.status_of(message_id)
    }

    /// Every known customer.
    pub fn customers(&self) -> Vec<CustomerSummary> {
        self.shared.customers.list(self.shared.clock.now())
    }

    /// A customer's chat as their phone shows it.
    pub fn chat(&self, wa_id: &str) -> Option<ChatView> {
        self.shared.customers.chat(wa_id, self.shared.clock.now())
    }

    /// A stored medium (what a customer sent), to compare with what Baton downloaded.
    pub fn media(&self, media_id: &str) -> Option<MediaItem> {
        self.shared.media.get(media_id)
    }
}

fn carries_status(delivery: &WebhookDelivery, message_id: &str, status: DeliveryStatus) -> bool {
    let Ok(payload) = contract::parse(&delivery.body) else {
        return false;
    };
    payload
        .into_items()
        .iter()
        .any(|item| matches!(item, Item::Status(update) if update.message_id == message_id && update.status == status))
}
