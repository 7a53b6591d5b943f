//! The customers on the other end: their profile names, their 24-hour customer-service windows (contract §8,
//! reopened by every inbound message, on tokio's clock), their chats as the phone page shows them, and the
//! business messages sent to them with what status webhooks need to know about each.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use baton_whatsapp::webhook::DeliveryStatus;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::chat::ChatEntry;

/// The customer-service window: free-form messages are allowed this long after the customer last wrote.
pub const WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// A typing indicator disappears after this long, or when the business replies (contract §6.5).
const TYPING_INDICATOR: Duration = Duration::from_secs(25);

/// A WhatsApp user: `wa_id` (phone digits, no `+`) and profile name (any Unicode).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub wa_id: String,
    pub name: String,
}

impl Customer {
    pub fn new(wa_id: impl Into<String>, name: impl Into<String>) -> Self {
        Self { wa_id: wa_id.into(), name: name.into() }
    }

    /// A `wa_id` is 5 to 20 digits: anything else would make an unrealistic webhook.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let digits = self.wa_id.len();
        if !(5..=20).contains(&digits) || !self.wa_id.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(format!("wa_id {:?} must be 5 to 20 digits", self.wa_id));
        }
        if self.name.trim().is_empty() {
            return Err("the profile name must not be empty".to_owned());
        }
        Ok(())
    }
}

/// A customer in a listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CustomerSummary {
    pub wa_id: String,
    pub name: String,
    pub window_open: bool,
}

/// One customer's chat as the phone page shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChatView {
    pub customer: Customer,
    pub window_open: bool,
    /// Baton sent a typing indicator less than 25 s ago and has not replied since.
    pub typing: bool,
    pub entries: Vec<ChatEntry>,
}

/// What status webhooks about one business message need.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OutboundRecord {
    pub(crate) wa_id: String,
    pub(crate) biz_opaque_callback_data: Option<String>,
    /// `service` for free-form messages, the template's category otherwise.
    pub(crate) pricing_category: String,
    /// `free_customer_service` or `regular`.
    pub(crate) pricing_type: String,
    pub(crate) conversation_id: String,
    /// An audio message: the only kind that can get a `played` status.
    pub(crate) audio: bool,
    pub(crate) status: Option<DeliveryStatus>,
}

struct CustomerRecord {
    name: String,
    last_inbound: Option<Instant>,
    typing_until: Option<Instant>,
    chat: Vec<ChatEntry>,
}

#[derive(Default)]
struct Registry {
    customers: BTreeMap<String, CustomerRecord>,
    outbound: HashMap<String, OutboundRecord>,
    next_sequence: u64,
}

impl Registry {
    fn customer(&mut self, wa_id: &str) -> &mut CustomerRecord {
        self.customers.entry(wa_id.to_owned()).or_insert_with(|| CustomerRecord {
            // Someone Baton writes to first has no profile name yet; show the number.
            name: wa_id.to_owned(),
            last_inbound: None,
            typing_until: None,
            chat: Vec::new(),
        })
    }

    fn push(&mut self, wa_id: &str, mut entry: ChatEntry) {
        self.next_sequence += 1;
        entry.sequence = self.next_sequence;
        self.customer(wa_id).chat.push(entry);
    }

    fn entry_mut(&mut self, message_id: &str) -> Option<&mut ChatEntry> {
        self.customers
            .values_mut()
            .flat_map(|customer| customer.chat.iter_mut())
            .find(|entry| entry.message_id == message_id)
    }
}

#[derive(Default)]
pub(crate) struct Customers {
    registry: Mutex<Registry>,
}

impl Customers {
    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a customer, or renames one (profile names change).
    pub(crate) fn upsert(&self, customer: &Customer) {
        self.lock().customer(&customer.wa_id).name.clone_from(&customer.name);
    }

    pub(crate) fn name_of(&self, wa_id: &str) -> Option<String> {
        self.lock().customers.get(wa_id).map(|record| record.name.clone())
    }

    pub(crate) fn list(&self, now: Instant) -> Vec<CustomerSummary> {
        self.lock()
            .customers
            .iter()
            .map(|(wa_id, record)| CustomerSummary {
                wa_id: wa_id.clone(),
                name: record.name.clone(),
                window_open: window_open(record.last_inbound, now),
            })
            .collect()
    }

    /// Stores what a customer sent and (re)opens their window. A reaction is attached to its target instead
    /// of getting an entry of its own, as on a real phone.
    pub(crate) fn record_inbound(
        &self,
        customer: &Customer,
        entry: ChatEntry,
        reaction: Option<(&str, Option<&str>)>,
        now: Instant,
    ) {
        let mut registry = self.lock();
        let record = registry.customer(&customer.wa_id);
        record.name.clone_from(&customer.name);
        record.last_inbound = Some(now);
        match reaction {
            Some((target, emoji)) => {
                if let Some(target) = registry.entry_mut(target) {
                    target.reaction = emoji.map(str::to_owned);
                }
            }
            None => registry.push(&customer.wa_id, entry),
        }
    }

    pub(crate) fn window_open(&self, wa_id: &str, now: Instant) -> bool {
        self.lock().customers.get(wa_id).is_some_and(|record| window_open(record.last_inbound, now))
    }

    /// Opens the window as if the customer had just written, or closes it until they write again.
    pub(crate) fn set_window(&self, wa_id: &str, open: bool, now: Instant) {
        self.lock().customer(wa_id).last_inbound = open.then_some(now);
    }

    /// Stores a business message Baton sent. Replying removes the typing indicator.
    pub(crate) fn record_outbound(
        &self,
        message_id: &str,
        entry: ChatEntry,
        reaction: Option<(&str, &str)>,
        record: OutboundRecord,
    ) {
        let mut registry = self.lock();
        let wa_id = record.wa_id.clone();
        registry.customer(&wa_id).typing_until = None;
        match reaction {
            Some((target, emoji)) => {
                if let Some(target) = registry.entry_mut(target) {
                    // An empty emoji removes the reaction.
                    target.reaction = (!emoji.is_empty()).then(|| emoji.to_owned());
                }
            }
            None => registry.push(&wa_id, entry),
        }
        registry.outbound.insert(message_id.to_owned(), record);
    }

    pub(crate) fn outbound(&self, message_id: &str) -> Option<OutboundRecord> {
        self.lock().outbound.get(message_id).cloned()
    }

    /// Applies a status to a business message monotonically (contract §2.5) and returns the status it now
    /// has; `None` for a wamid the simulator never issued.
    pub(crate) fn apply_status(
        &self,
        message_id: &str,
        status: DeliveryStatus,
        error: Option<String>,
    ) -> Option<DeliveryStatus> {
        let mut registry = self.lock();
        let record = registry.outbound.get_mut(message_id)?;
        let merged = DeliveryStatus::merge(record.status, status);
        record.status = Some(merged);
        if let Some(entry) = registry.entry_mut(message_id) {
            entry.status = Some(merged);
            if merged == DeliveryStatus::Failed {
                entry.error = error;
            }
        }
        Some(merged)
    }

    pub(crate) fn status_of(&self, message_id: &str) -> Option<DeliveryStatus> {
        self.lock().outbound.get(message_id).and_then(|record| record.status)
    }

    /// Baton marked `message_id` read: it and every earlier message of that customer show as read (contract
    /// §6.4); with the indicator, "typing…" shows for up to 25 s.
    pub(crate) fn mark_read(&self, message_id: &str, typing: bool, now: Instant) {
        let mut registry = self.lock();
        for record in registry.customers.values_mut() {
            let Some(position) = record.chat.iter().position(|entry| entry.message_id == message_id) else {
                continue;
            };
            for entry in record.chat[..=position].iter_mut().filter(|entry| entry.from_customer) {
                entry.status = Some(DeliveryStatus::Read);
            }
            if typing {
                record.typing_until = Some(now + TYPING_INDICATOR);
            }
        }
    }

    pub(crate) fn chat(&self, wa_id: &str, now: Instant) -> Option<ChatView> {
        let registry = self.lock();
        let record = registry.customers.get(wa_id)?;
        Some(ChatView {
            customer: Customer::new(wa_id, record.name.clone()),
            window_open: window_open(record.last_inbound, now),
            typing: record.typing_until.is_some_and(|until| now < until),
            entries: record.chat.clone(),
        })
    }
}

fn window_open(last_inbound: Option<Instant>, now: Instant) -> bool {
    last_inbound.is_some_and(|last| now.saturating_duration_since(last) < WINDOW)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_window_closes_24_hours_after_the_last_inbound_message() {
        let customers = Customers::default();
        let alice = Customer::new("15550002222", "Alice");
        assert!(!customers.window_open(&alice.wa_id, Instant::now()), "never wrote: closed");
        customers.record_inbound(&alice, ChatEntry::new(true, "wamid.A", 0, "text"), None, Instant::now());
        tokio::time::advance(WINDOW - Duration::from_secs(1)).await;
        assert!(customers.window_open(&alice.wa_id, Instant::now()));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(!customers.window_open(&alice.wa_id, Instant::now()));
        customers.set_window(&alice.wa_id, true, Instant::now());
        assert!(customers.window_open(&alice.wa_id, Instant::now()));
    }

    #[test]
    fn validates_wa_ids() {
        assert!(Customer::new("15550002222", "Alice").validate().is_ok());
        assert!(Customer::new("+15550002222", "Alice").validate().is_err());
        assert!(Customer::new("123", "Alice").validate().is_err());
        assert!(Customer::new("15550002222", " ").validate().is_err());
    }
}
