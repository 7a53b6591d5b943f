//! The hub: who is connected, what each socket follows, who is viewing and typing where, and the
//! fan-out of every message to the sockets that should see it. It keeps no durable state: events
//! come from the store through the bus ([`crate::bus`]); presence, viewers, typing and drafts live
//! here only.
//!
//! One job per module, each owning its own maps:
//! - [`connections`]: the open sockets ([`Connection`]) and presence (who is online, and how).
//! - [`subscriptions`]: what each socket follows (conversations it opened, the inbox feed) and who
//!   views each conversation.
//! - [`access`]: who may see each conversation (its assignee and team, and each user's teams).
//! - [`fanout`]: every message to the sockets that should get it, each frame serialized once;
//!   conversation events in seq order, each once ([`sequencer`]). Start here to follow an event
//!   from the bus to the sockets.
//! - [`presence_time`]: each person's time online and available, for the reports.
//! - [`typing`]: typing indicators, live drafts and the typing lock.
//! - [`socket_queue`]: one socket's bounded queue, which the hub fills and the socket's task
//!   ([`crate::ws`]) drains. Fan-out never waits: a socket whose queue is full is closed as a slow
//!   consumer (it resumes on reconnect).
//! - [`invariants`]: [`Hub::check_invariants`], what must hold across all of the above.
//!
//! Locks are taken in this order, and none is held across an `.await`: [`Inner::changes`], then a
//! [`Connection`]'s own set of opened conversations, then the maps' shards, then a socket's
//! queue. A sequencer lane's lock comes before all of them (fan-out runs under it).

pub mod access;
pub mod connections;
pub mod fanout;
mod invariants;
pub mod presence_time;
pub mod sequencer;
pub mod socket_queue;
pub mod subscriptions;
mod typing;

#[cfg(test)]
mod tests;

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};
use std::time::Duration;

pub use connections::{ConnId, Connection, PRESENCE_FRAMES_PER_SECOND, PRESENCE_INTERVAL, STORM_FLUSHES};
pub use fanout::frame;
pub use socket_queue::{Closing, Frame, SocketQueue};
pub use typing::{DraftSaver, TypingLock};

use crate::clock::Clock;
pub use crate::sessions::SessionKey;

/// The hub's limits and timers.
#[derive(Clone, Copy, Debug)]
pub struct HubConfig {
    /// Frames a socket may have waiting in its [`SocketQueue`] before it is closed as slow.
    pub outbox_capacity: usize,
    /// Typing stops by itself this long after the last keystroke.
    pub typing_timeout: Duration,
    /// At most one draft update per user and conversation this often (to supervisors).
    pub draft_interval: Duration,
    /// How long an event waits for the ones before it before they are read from the store
    /// ([`sequencer`]).
    pub gap_patience: Duration,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            outbox_capacity: 512,
            typing_timeout: Duration::from_secs(5),
            draft_interval: Duration::from_millis(250),
            gap_patience: Duration::from_millis(500),
        }
    }
}

struct Inner {
    config: HubConfig,
    /// What presence time is measured by.
    clock: Clock,
    /// Held shared by each change that touches several of the maps below (a socket connecting,
    /// opening a conversation, going away), and exclusively by [`Hub::check_invariants`] alone:
    /// the check then sees the maps between changes, never halfway through one. Changes do not
    /// wait for each other, and fan-out does not take it.
    changes: RwLock<()>,
    connections: connections::Connections,
    subscriptions: subscriptions::Subscriptions,
    access: access::Access,
    fanout: fanout::FanOut,
    typing: typing::Typing,
}

/// Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

impl Hub {
    pub fn new(config: HubConfig, clock: Clock, drafts: Arc<dyn DraftSaver>) -> Self {
        Hub {
            inner: Arc::new(Inner {
                config,
                clock,
                changes: RwLock::new(()),
                connections: connections::Connections::default(),
                subscriptions: subscriptions::Subscriptions::default(),
                access: access::Access::default(),
                fanout: fanout::FanOut::default(),
                typing: typing::Typing::new(drafts),
            }),
        }
    }

    pub fn config(&self) -> HubConfig {
        self.inner.config
    }

    fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// Held while a change spans several maps ([`Inner::changes`]). Taken only by the hub's public
    /// entry points, never again below them: a second shared hold behind a waiting check would
    /// deadlock.
    fn changing(&self) -> RwLockReadGuard<'_, ()> {
        // The guarded value is `()`: a panic elsewhere leaves nothing half-written in it.
        self.inner.changes.read().unwrap_or_else(PoisonError::into_inner)
    }
}
