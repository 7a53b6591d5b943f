//! The scripting half of the [`Simulator`] handle: customers writing in, statuses and duplicates on demand,
//! scripted failures, the 24-hour window, and the behaviour settings. The control API calls the same
//! functions, so the phone page and a test drive the simulator identically.

use baton_whatsapp::webhook::DeliveryStatus;

use crate::Simulator;
use crate::config::{StatusBatching, StatusProgression, WindowEnforcement};
use crate::customers::Customer;
use crate::faults::ForcedFailure;
use crate::inbound::{self, Inbound, InboundReceipt};
use crate::statuses::{self, StatusOrder};
use crate::templates::TemplateDefinition;
use crate::webhook::{self, DeliveryOutcome, SubscriptionOutcome};

impl Simulator {
    /// Makes a customer known (for the phone page) without sending anything; renames an existing one.
    pub fn add_customer(&self, customer: &Customer) -> anyhow::Result<()> {
        customer.validate().map_err(anyhow::Error::msg)?;
        self.shared.customers.upsert(customer);
        Ok(())
    }

    /// The customer sends one message: a signed webhook goes to Baton. Returns once Baton answered it.
    pub async fn send(&self, customer: &Customer, message: Inbound) -> anyhow::Result<InboundReceipt> {
        inbound::send(&self.shared, vec![(customer.clone(), message)]).await
    }

    /// The customer sends a text; returns its wamid.
    pub async fn send_text(&self, customer: &Customer, body: impl Into<String>) -> anyhow::Result<String> {
        let receipt = self.send(customer, Inbound::text(body)).await?;
        Ok(receipt.message_id().to_owned())
    }

    /// Several messages, possibly from several customers, in one webhook (one `contacts` entry per sender).
    pub async fn send_batch(&self, messages: Vec<(Customer, Inbound)>) -> anyhow::Result<InboundReceipt> {
        inbound::send(&self.shared, messages).await
    }

    /// Sends the exact bytes of an earlier webhook delivery again: a duplicate, as Meta's retries produce.
    pub async fn redeliver(&self, delivery_id: u64) -> anyhow::Result<DeliveryOutcome> {
        webhook::redeliver(&self.shared, delivery_id).await
    }

    /// Plays Meta's verification handshake (contract §1) against the webhook URL with `verify_token`.
    pub async fn verify_subscription(&self, verify_token: &str) -> anyhow::Result<SubscriptionOutcome> {
        webhook::verify_subscription(&self.shared, verify_token).await
    }

    /// Sends status webhooks for a message Baton sent, one webhook per status (or, with
    /// [`Simulator::set_status_batching`] on, together in one), in the given order (`Reversed` or `Shuffled`
    /// to test out-of-order handling). `failed` carries 131047; `played` is refused unless the message is
    /// audio.
    pub async fn send_statuses(
        &self,
        message_id: &str,
        statuses: &[DeliveryStatus],
        order: StatusOrder,
    ) -> anyhow::Result<Vec<DeliveryOutcome>> {
        statuses::send_statuses(&self.shared, message_id, statuses, None, order).await
    }

    /// The customer listens to an audio message (voice note) Baton sent: a `played` status (contract §4).
    /// Refused for any other kind of message.
    pub async fn play(&self, message_id: &str) -> anyhow::Result<Vec<DeliveryOutcome>> {
        statuses::send_statuses(&self.shared, message_id, &[DeliveryStatus::Played], None, StatusOrder::AsGiven).await
    }

    /// Sends a `failed` status with `code` for a message Baton sent, now.
    pub async fn fail_message(&self, message_id: &str, code: i64) -> anyhow::Result<DeliveryOutcome> {
        let mut outcomes = statuses::send_statuses(
            &self.shared,
            message_id,
            &[DeliveryStatus::Failed],
            Some(code),
            StatusOrder::AsGiven,
        )
        .await?;
        outcomes.pop().ok_or_else(|| anyhow::anyhow!("no status was sent"))
    }

    /// The next `count` sends (to `recipient` only, when given) are refused synchronously with `code`, with
    /// the HTTP status the contract suggests (e.g. 429 for 130429, 400 for 131056, 500 for 131000).
    pub fn fail_next_sends(&self, count: u32, code: i64, recipient: Option<&str>) {
        self.shared.faults.add_sync_error(ForcedFailure { code, count, recipient: recipient.map(str::to_owned) });
    }

    /// The next `count` sends (to `recipient` only, when given) are accepted, then end in a `failed` status
    /// with `code` (131047 is the usual one) instead of sent/delivered/read.
    pub fn fail_next_deliveries(&self, count: u32, code: i64, recipient: Option<&str>) {
        self.shared.faults.add_async_failure(ForcedFailure { code, count, recipient: recipient.map(str::to_owned) });
    }

    /// Refuses sends beyond `per_second` in any one second with 130429 (HTTP 429); `None` lifts the limit.
    pub fn set_rate_limit(&self, per_second: Option<u32>) {
        self.shared.faults.set_rate_limit(per_second);
    }

    /// Forgets all scripted failures and the rate limit.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// Opens the customer's 24-hour window as if they had just written.
    pub fn open_window(&self, wa_id: &str) {
        self.shared.customers.set_window(wa_id, true, self.shared.clock.now());
    }

    /// Closes the customer's window until they write again.
    pub fn close_window(&self, wa_id: &str) {
        self.shared.customers.set_window(wa_id, false, self.shared.clock.now());
    }

    /// Whether free-form messages to the customer are allowed now.
    pub fn window_open(&self, wa_id: &str) -> bool {
        self.shared.customers.window_open(wa_id, self.shared.clock.now())
    }

    /// How a free-form send outside the window fails (or not).
    pub fn set_window_enforcement(&self, enforcement: WindowEnforcement) {
        self.shared.settings().window = enforcement;
    }

    /// Which statuses follow an accepted send, and how fast.
    pub fn set_status_progression(&self, progression: StatusProgression) {
        self.shared.settings().statuses = progression;
    }

    /// One status per webhook, or several batched together (`value.statuses[]` with several entries).
    pub fn set_status_batching(&self, batching: StatusBatching) {
        self.shared.settings().status_batching = batching;
    }

    /// Replaces the template catalog.
    pub fn set_templates(&self, templates: Vec<TemplateDefinition>) {
        self.shared.settings().templates = templates;
    }
}
