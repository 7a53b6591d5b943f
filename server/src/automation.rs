//! # Automation: what Baton does when nobody is looking
//!
//! Everything here acts as the [`crate::conversations::Actor::Automation`] actor, through the
//! same conversation operations and the same outbox as people, and leaves events in the log.
//!
//! - [`csat`]: the rating request on resolve (its answer is recorded with the customer's message).
//! - [`hours`]: business hours — "open now?" and "next opening" in any IANA time zone.
//! - [`settings`]: the admin-edited documents (hours, auto-replies), versioned.
//! - [`menu`]: the menu bot, and its handoff to people.
//! - [`replies`]: the greeting, the away message and the queue acknowledgement.
//! - [`rules`]: what automation rules do — on a customer message, a resolve, a missed target, or
//!   a conversation pending too long.
//! - [`sla`]: service-level clocks and breaches, snoozes' wake-ups, auto-resolve.
//! - [`worker`]: runs automation's durable jobs. No timer lives only in a process: a customer
//!   message schedules its job in the transaction that stores it (when automation has anything to
//!   do on it: [`worker::answers_customer_messages`]), any node takes due jobs from the database
//!   (one node per job), and a job taken by a node that died is taken again.

pub mod csat;
pub mod hours;
pub mod menu;
pub mod replies;
pub mod rules;
pub mod settings;
pub mod sla;
pub mod worker;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::background::Progress;

/// The handle that wakes the automation worker, and its progress (tests wait on it).
#[derive(Clone, Default)]
pub struct Automation {
    wake: Arc<Notify>,
    progress: Arc<Progress>,
}

impl Automation {
    /// Something may be due now (a customer message was stored).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The server time (Unix ms) by which every job due was done.
    pub fn last_pass(&self) -> i64 {
        self.progress.last_pass()
    }
}
