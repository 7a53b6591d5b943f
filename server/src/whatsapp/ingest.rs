//! The ingest worker: reads stored webhook deliveries oldest first and applies what they say —
//! customer messages become conversations and messages (once per wamid, however often Meta
//! redelivers), statuses move messages forward only — then broadcasts the committed events.
//!
//! On PostgreSQL, a batch's deliveries are spread over [`LANES`] lanes by customer
//! ([`Groups::into_lanes`]), applied side by side; each customer's own deliveries one after the
//! other, in arrival order. On SQLite (one writer) a batch is one lane, in arrival order.
//!
//! A lane's deliveries are applied many to a transaction ([`PER_TRANSACTION`]) and marked
//! processed in it, so a crash or a database hiccup means they are read again later (every step is
//! idempotent). If a transaction fails its deliveries are applied one by one; the first that fails
//! in a pass holds back the later deliveries of its customers (every sender and status recipient
//! in it), not the others'; a second failure ends the pass without counting an attempt, and the
//! next pass waits [`RETRY_INTERVAL`].
//! A delivery that can never be read (not JSON, not a WhatsApp payload) is marked processed with the reason kept
//! beside its bytes, never retried forever and never silently dropped.
//!
//! When the server stops, a pass under way finishes the batch it is applying; what is still
//! pending is read after the restart.

use std::sync::Arc;
use std::time::Duration;

use baton_shared::model::{DeliveryError, DeliveryStatus};
use baton_whatsapp::webhook::{self, Item, MessageKind, StatusUpdate};
use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::media::MediaStore;
use crate::bus::Bus;
use crate::clock::Clock;
use crate::store::channel::{AppliedDeliveries, DeliveryWork, StatusWrite, WebhookDelivery, Work};
use crate::store::{Store, StoreError};

/// Attempts after which a delivery that keeps failing is set aside (its bytes and the reason
/// stay stored), so it cannot hold its customer's later messages back for ever.
const MAX_ATTEMPTS: i64 = 10;
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

/// Lanes applied at the same time on PostgreSQL. One customer's deliveries are always in one lane
/// ([`Groups`]), applied one after the other in arrival order, so their messages keep that
/// order. SQLite has one writer: concurrent transactions there only wait on each other's lock
/// (measured: much slower), so a batch is one lane there — every customer's deliveries, in
/// arrival order, [`PER_TRANSACTION`] to a commit, where a lane per customer made it nearly a
/// commit per delivery (the applied rate doubled: README, ingest benchmark).
const LANES: usize = 8;

/// A stored delivery and what it says (or why it cannot be read).
struct Parsed {
    delivery: WebhookDelivery,
    items: Result<Vec<Item>, String>,
    /// Its customers ([`customers_of`]).
    customers: Vec<String>,
}

/// A batch's groups: each the customers it holds and their deliveries in arrival order. A
/// delivery goes to the group of its customers (a customer's messages and statuses never race
/// each other); one that speaks of customers of several groups joins them into one. Deliveries of
/// no customer (unreadable ones) share a group.
#[derive(Default)]
struct Groups(Vec<(Vec<String>, Vec<Parsed>)>);

impl Groups {
    /// Adds `delivery` (the batch's next, in arrival order).
    fn add(&mut self, delivery: Parsed) {
        let keys = match delivery.customers.as_slice() {
            [] => vec![String::new()],
            customers => customers.to_vec(),
        };
        let mut joined: Option<(Vec<String>, Vec<Parsed>)> = None;
        let mut index = 0;
        while index < self.0.len() {
            if self.0[index].0.iter().any(|key| keys.contains(key)) {
                let (group_keys, deliveries) = self.0.remove(index);
                let into = joined.get_or_insert_with(Default::default);
                into.0.extend(group_keys);
                into.1.extend(deliveries);
            } else {
                index += 1;
            }
        }
        let (mut group_keys, mut deliveries) = joined.unwrap_or_default();
        // Joined groups keep arrival order (the batch is read oldest first).
        deliveries.sort_by_key(|parsed| parsed.delivery.id);
        for key in keys {
            if !group_keys.contains(&key) {
                group_keys.push(key);
            }
        }
        deliveries.push(delivery);
        self.0.push((group_keys, deliveries));
    }

    /// The groups packed into at most `lanes` lanes, each the least loaded when a group joins
    /// it, its deliveries in arrival order: many customers to a lane, so that a lane's
    /// transactions hold many deliveries (a lane per customer made them one each, as many
    /// customers write a message at a time), and a group never split.
    fn into_lanes(self, lanes: usize) -> Vec<Vec<Parsed>> {
        let mut packed: Vec<Vec<Parsed>> = (0..lanes.max(1)).map(|_| Vec::new()).collect();
        for (_, deliveries) in self.0 {
            if let Some(lane) = packed.iter_mut().min_by_key(|lane| lane.len()) {
                lane.extend(deliveries);
            }
        }
        for lane in &mut packed {
            lane.sort_by_key(|parsed| parsed.delivery.id);
        }
        packed.retain(|lane| !lane.is_empty());
        packed
    }
}

/// Every customer a delivery speaks of — the senders of its messages, the recipients of its
/// statuses — whose later deliveries wait if it cannot be applied.
fn customers_of(items: &Result<Vec<Item>, String>) -> Vec<String> {
    let mut customers: Vec<String> = Vec::new();
    for item in items.as_deref().unwrap_or_default() {
        let customer = match item {
            Item::Message(message) => Some(&message.from),
            Item::Status(status) => status.recipient_id.as_ref(),
            _ => None,
        };
        if let Some(customer) = customer.filter(|customer| !customers.contains(customer)) {
            customers.push(customer.clone());
        }
    }
    customers
}

/// A media message's id and the webhook's download URL, if it had one.
type Attachment = (String, Option<String>);

/// Deliveries applied in one transaction at most. Their customer messages are stored as a set
/// (a statement per table for all of them: `store/queries/inbound_set.rs`), so more to a
/// transaction means fewer round trips per message; on SQLite's single writer a transaction
/// holds back the webhook answers' own writes while it runs, which bounds it (16 kept the answers
/// faster but applied at most ~3,000/s; 100 keeps up with 2,500/s at an answer p99 of ~9 ms:
/// README, ingest benchmark).
const PER_TRANSACTION: usize = 100;

/// How a lane (and a pass) ended, the worst last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum LaneEnd {
    /// Every delivery finished.
    Done,
    /// Some wait behind one that failed; the others finished. The next stored webhook wakes the
    /// next pass, as usual.
    Held,
    /// It stopped early: a second failure, or the store failed. The next pass waits
    /// [`RETRY_INTERVAL`].
    Stopped,
}

/// A readable delivery, ready to apply: what it asks, how often it was tried, its customers
/// ([`customers_of`]) and its inbound messages' media.
struct Prepared {
    work: DeliveryWork,
    attempts: i64,
    customers: Vec<String>,
    media: Vec<Option<Attachment>>,
}

/// Customers whose deliveries wait for the next round, behind one that failed; how many failed
/// in this pass; and whether any delivery waits (the failed one, if it was not set aside).
#[derive(Default)]
struct Held {
    customers: std::collections::HashSet<String>,
    failures: usize,
    waiting: bool,
}

impl Held {
    /// Whether `delivery` waits: it speaks of a held customer. Then so do all of its customers
    /// (a later delivery of any of them must not pass it).
    fn holds(&mut self, delivery: &Prepared) -> bool {
        if !delivery.customers.iter().any(|customer| self.customers.contains(customer)) {
            return false;
        }
        self.customers.extend(delivery.customers.iter().cloned());
        true
    }
}

/// The webhook worker: what it reads, writes and wakes — not the whole server.
pub struct Worker {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub clock: Clock,
    /// Downloads new messages' media.
    pub media: Arc<MediaStore>,
    /// The business number this inbox answers for: messages to others are ignored.
    pub phone_number_id: Option<String>,
    pub wake: Arc<Ingest>,
}

/// One pass over every pending delivery now, by a worker built as the server builds it (tests
/// drive ingest with it, without waiting for the running worker).
pub async fn drain(state: &crate::state::AppState) -> usize {
    crate::background::ingest_worker(state).drain().await
}

impl Worker {
    /// Processes deliveries until `stop`. A pass under way finishes its transaction first; what is
    /// left is read again after a restart (it is stored).
    pub async fn run(self, stop: CancellationToken) {
        while !stop.is_cancelled() {
            let (_, end) = self.drain_until(&stop).await;
            if end == LaneEnd::Stopped {
                // Not woken by the next webhook: a failing store is given time, and a delivery
                // that keeps failing is not retried many times a second.
                tokio::select! {
                    () = tokio::time::sleep(RETRY_INTERVAL) => {}
                    () = stop.cancelled() => {}
                }
                continue;
            }
            tokio::select! {
                () = self.wake.stored.notified() => {}
                () = tokio::time::sleep(RETRY_INTERVAL) => {}
                () = stop.cancelled() => {}
            }
        }
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Processes every pending delivery; stops early when the store fails (the next round retries).
    /// Returns how many deliveries were finished.
    pub async fn drain(&self) -> usize {
        self.drain_until(&CancellationToken::new()).await.0
    }

    /// [`Worker::drain`], stopping between batches once `stop` is signalled.
    /// Returns how many finished, and how the pass ended.
    async fn drain_until(&self, stop: &CancellationToken) -> (usize, LaneEnd) {
        let mut finished = 0;
        loop {
            if stop.is_cancelled() {
                return (finished, LaneEnd::Done);
            }
            // Enough for every lane to fill a transaction.
            let read = i64::try_from(PER_TRANSACTION * self.lanes_for()).unwrap_or(i64::MAX);
            let batch = match self.store.pending_webhooks(read).await {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::error!(%error, "cannot read pending webhook deliveries");
                    return (finished, LaneEnd::Stopped);
                }
            };
            if batch.is_empty() {
                return (finished, LaneEnd::Done);
            }
            // Each delivery is parsed once, then goes to the lane of its customers (one lane on
            // SQLite).
            let mut groups = Groups::default();
            for delivery in batch {
                // NUL and lone surrogates replaced first (crate::input): the message could not be
                // decoded or stored otherwise.
                let body = crate::input::clean_json(&delivery.body);
                let items =
                    webhook::parse(&body).map(|payload| payload.into_items()).map_err(|error| error.to_string());
                let customers = customers_of(&items);
                let parsed = Parsed { delivery, items, customers };
                groups.add(parsed);
            }
            let outcomes: Vec<(usize, LaneEnd)> = futures_util::stream::iter(groups.into_lanes(self.lanes_for()))
                .map(|deliveries| self.apply_lane(deliveries))
                .buffer_unordered(self.lanes_for())
                .collect()
                .await;
            finished += outcomes.iter().map(|(done, _)| done).sum::<usize>();
            if let Some(end) = outcomes.iter().map(|(_, end)| *end).max().filter(|end| *end != LaneEnd::Done) {
                return (finished, end);
            }
        }
    }

    fn lanes_for(&self) -> usize {
        match self.store.backend() {
            crate::store::Backend::Postgres => LANES,
            crate::store::Backend::Sqlite => 1,
        }
    }

    /// Applies one lane's deliveries in order, [`PER_TRANSACTION`] to a transaction (one commit
    /// for many deliveries is what lets ingest keep up on SQLite's single writer; a bound on them
    /// lets the webhook answers' writes in between). If a transaction fails, its deliveries are
    /// applied one by one, so one bad delivery holds back its own customer's later ones only.
    /// Returns how many finished, and whether some wait for the next round (keeping the order).
    async fn apply_lane(&self, deliveries: Vec<Parsed>) -> (usize, LaneEnd) {
        let mut finished = 0;
        let mut prepared = Vec::with_capacity(deliveries.len());
        for Parsed { delivery, items, customers } in deliveries {
            match items {
                Ok(items) => {
                    let (work, media) = prepare(self.phone_number_id.as_deref(), items);
                    let work = DeliveryWork { id: delivery.id, work };
                    prepared.push(Prepared { work, attempts: delivery.attempts, customers, media });
                }
                Err(unreadable) => {
                    tracing::error!(delivery = delivery.id, reason = %unreadable, "unreadable WhatsApp webhook kept aside");
                    let kept = match self.store.finish_webhook(delivery.id, Some(&unreadable), self.now()).await {
                        Ok(()) => self.store.finish_webhook(delivery.id, None, self.now()).await,
                        Err(error) => Err(error),
                    };
                    match kept {
                        Ok(()) => finished += 1,
                        Err(error) => {
                            tracing::error!(delivery = delivery.id, %error, "cannot set an unreadable delivery aside");
                            return (finished, LaneEnd::Stopped);
                        }
                    }
                }
            }
        }
        let mut held = Held::default();
        let mut prepared = prepared.into_iter().peekable();
        while prepared.peek().is_some() {
            let chunk: Vec<Prepared> =
                prepared.by_ref().filter(|delivery| !held.holds(delivery)).take(PER_TRANSACTION).collect();
            if chunk.is_empty() {
                break;
            }
            let works: Vec<DeliveryWork> = chunk.iter().map(|delivery| delivery.work.clone()).collect();
            match self.store.apply_deliveries(&works, self.now()).await {
                Ok(applied) => {
                    finished += chunk.len();
                    self.announce(applied, chunk.into_iter().flat_map(|delivery| delivery.media).collect());
                }
                Err(error) if chunk.len() > 1 => {
                    tracing::warn!(%error, deliveries = chunk.len(), "a batch of webhook deliveries failed: applying them one by one");
                    let (done, stopped) = self.one_by_one(chunk, &mut held).await;
                    finished += done;
                    if stopped {
                        return (finished, LaneEnd::Stopped);
                    }
                }
                Err(error) => {
                    for delivery in chunk {
                        match self.failed(&delivery, &error, &mut held).await {
                            Some(done) => finished += usize::from(done),
                            None => return (finished, LaneEnd::Stopped),
                        }
                    }
                }
            }
        }
        (finished, if held.waiting { LaneEnd::Held } else { LaneEnd::Done })
    }

    /// The slow path: each delivery in its own transaction, in order. One that fails (and is not
    /// set aside yet) holds back its customer's later deliveries (`held`), not the others'; a
    /// second failure stops the pass (then the store, not a delivery, is likely at fault), and
    /// what is left waits for the next round. Returns how many finished, and whether it stopped.
    async fn one_by_one(&self, deliveries: Vec<Prepared>, held: &mut Held) -> (usize, bool) {
        let mut finished = 0;
        for delivery in deliveries {
            if held.holds(&delivery) {
                continue;
            }
            match self.store.apply_deliveries(std::slice::from_ref(&delivery.work), self.now()).await {
                Ok(applied) => {
                    self.announce(applied, delivery.media);
                    finished += 1;
                }
                Err(error) => match self.failed(&delivery, &error, held).await {
                    Some(done) => finished += usize::from(done),
                    None => return (finished, true),
                },
            }
        }
        (finished, false)
    }

    /// A delivery failed alone. The first failure of a pass counts its attempt: returns whether
    /// it finished (set aside after [`MAX_ATTEMPTS`]), or that it holds back its customers
    /// (`Some(false)`). A second one ends the pass (`None`) without counting an attempt: then the
    /// store, not a delivery, is likely at fault, and good deliveries must not run out of them.
    async fn failed(&self, delivery: &Prepared, error: &StoreError, held: &mut Held) -> Option<bool> {
        if held.failures > 0 {
            tracing::warn!(delivery = delivery.work.id, %error, "a second webhook delivery failed: the rest waits for the next pass");
            return None;
        }
        held.failures += 1;
        if self.record_failure(delivery.work.id, delivery.attempts, error).await {
            return Some(true);
        }
        // One of no customer (a status without a recipient) holds nobody back, but it waits all
        // the same: the pass must not read it again at once (and count its attempts away).
        held.customers.extend(delivery.customers.iter().cloned());
        held.waiting = true;
        Some(false)
    }

    /// Counts a failed attempt; after [`MAX_ATTEMPTS`] the delivery is set aside (marked processed
    /// with the reason kept beside its bytes). Returns whether it was set aside.
    async fn record_failure(&self, delivery: i64, attempts: i64, error: &StoreError) -> bool {
        let reason = error.to_string();
        if let Err(error) = self.store.finish_webhook(delivery, Some(&reason), self.now()).await {
            tracing::error!(%error, "cannot record a failed webhook attempt");
            return false;
        }
        if attempts + 1 < MAX_ATTEMPTS {
            tracing::warn!(delivery, %reason, "webhook delivery will be retried");
            return false;
        }
        tracing::error!(delivery, %reason, "webhook delivery set aside after {MAX_ATTEMPTS} failed attempts (its bytes are kept)");
        match self.store.finish_webhook(delivery, None, self.now()).await {
            Ok(()) => true,
            Err(error) => {
                tracing::error!(%error, "cannot set a failing webhook delivery aside");
                false
            }
        }
    }

    /// Broadcasts what was committed and starts downloading new messages' media.
    fn announce(&self, applied: AppliedDeliveries, media: Vec<Option<Attachment>>) {
        self.bus.publish(&applied.events);
        for (recorded, attachment) in applied.recorded.into_iter().zip(media) {
            if let (true, Some((media_id, url))) = (recorded, attachment) {
                self.media.prefetch(media_id, url);
            }
        }
    }
}

/// What a delivery's items ask of the store, with each inbound message's media (in the same
/// order). Errors WhatsApp reports, other webhook fields and unreadable parts are logged here
/// (the delivery's bytes stay stored).
fn prepare(ours: Option<&str>, items: Vec<Item>) -> (Vec<Work>, Vec<Option<Attachment>>) {
    let mut work = Vec::with_capacity(items.len());
    let mut media = Vec::new();
    for item in items {
        match item {
            Item::Message(message) => {
                if ours.is_some_and(|ours| ours != message.origin.phone_number_id) {
                    tracing::warn!(number = %message.origin.phone_number_id, "message for another business number ignored");
                    continue;
                }
                media.push(match &message.kind {
                    MessageKind::Media(media) => Some((media.id.clone(), media.url.clone())),
                    _ => None,
                });
                work.push(Work::Inbound(Box::new(super::inbound::new_inbound(message))));
            }
            Item::Status(update) => work.push(Work::Status(status_write(update))),
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
    (work, media)
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
    StatusWrite { wa_message_id: update.message_id, status, error, callback_data: update.biz_opaque_callback_data }
}
