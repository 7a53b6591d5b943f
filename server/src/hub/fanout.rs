//! Fan-out: every message to the sockets that should get it. The one place to read to follow a
//! message from its sender to the sockets' queues.
//!
//! - A committed conversation event comes from the bus ([`Hub::publish`]), waits in its
//!   conversation's lane until the events before it went out ([`super::sequencer`]), and goes to
//!   the conversation's watchers: the sockets that opened it and the inbox followers that may see
//!   it ([`Hub::may_see`]). An assignment also changes who may see it ([`Hub::revoke`]).
//! - Ephemeral messages (viewers, typing, drafts, presence, alerts) skip the sequencer: to a
//!   conversation's watchers ([`Hub::send_to_watchers`]), to one user, to admins, to everyone.
//!
//! Each message is serialized once ([`frame`]) and the frame shared by all recipients. Pushing
//! into a socket's queue never waits: a full queue closes its socket as slow ([`Hub::deliver`]).
//! A keystroke's fan-out allocates only the list of the conversation's followers.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use baton_shared::api::Role;
use baton_shared::model::{Change, ConversationEvent};
use baton_shared::protocol::ServerMsg;
use baton_shared::{ConversationId, UserId};

use super::Hub;
use super::access::Move;
use super::connections::{ConnId, Connection};
use super::sequencer::{self, Sequencer};
use super::socket_queue::{Frame, SocketQueue};

/// Slots in [`FanOut::epochs`].
const EPOCH_SLOTS: usize = 4096;

pub(super) struct FanOut {
    /// Puts each conversation's events in seq order before they fan out.
    pub(super) sequencer: Sequencer,
    /// Counters bumped by every event of the conversations hashed to them: a typing lock checked
    /// at one value is stale once its conversation's counter moved. Fixed size, so memory does
    /// not grow with conversations; a shared slot only costs a needless re-check.
    epochs: Box<[AtomicU64]>,
    slow_consumers: AtomicU64,
}

impl Default for FanOut {
    fn default() -> Self {
        FanOut {
            sequencer: Sequencer::default(),
            epochs: (0..EPOCH_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            slow_consumers: AtomicU64::new(0),
        }
    }
}

/// Serializes a message once for every recipient.
pub fn frame(message: &ServerMsg) -> Option<Frame> {
    match serde_json::to_string(message) {
        Ok(text) => Some(Frame::from(text)),
        Err(error) => {
            tracing::error!(%error, "cannot serialize a server message");
            None
        }
    }
}

impl Hub {
    /// Fans a committed event out to the conversation's followers and the inbox followers, after
    /// every event before it and never twice ([`sequencer`]).
    pub fn publish(&self, event: &ConversationEvent) {
        // Before anyone hears of it: a typing lock checked from now on sees the new counter.
        self.epoch_slot(event.conversation_id).fetch_add(1, Ordering::AcqRel);
        self.inner.fanout.sequencer.accept(event, |ready| self.fan_out(ready));
    }

    /// Where each conversation stands in the store (at start): its next event goes out first.
    pub fn load_sequences(&self, last_seqs: Vec<(ConversationId, u64)>) {
        self.inner.fanout.sequencer.load(last_seqs);
    }

    /// Events that waited longer than [`super::HubConfig::gap_patience`] for the ones before them.
    pub fn gaps(&self) -> Vec<sequencer::Gap> {
        self.inner.fanout.sequencer.gaps(self.inner.config.gap_patience)
    }

    /// Lets the events held behind a gap that cannot be filled go out (they are in the store,
    /// and clients that notice the gap ask for it again).
    pub fn skip_gap(&self, gap: sequencer::Gap) {
        self.inner.fanout.sequencer.skip(gap, |ready| self.fan_out(ready));
    }

    /// How many events wait for earlier ones.
    pub fn held_events(&self) -> usize {
        self.inner.fanout.sequencer.held()
    }

    /// A counter that moves whenever something happens in `conversation` (see
    /// [`super::TypingLock`]).
    pub fn conversation_epoch(&self, conversation: ConversationId) -> u64 {
        self.epoch_slot(conversation).load(Ordering::Acquire)
    }

    fn epoch_slot(&self, conversation: ConversationId) -> &AtomicU64 {
        let index = conversation.0.rem_euclid(EPOCH_SLOTS as i64) as usize;
        &self.inner.fanout.epochs[index]
    }

    /// One event, its turn come (called under its lane's lock, so in seq order).
    fn fan_out(&self, event: &ConversationEvent) {
        let conversation = event.conversation_id;
        let Some(frame) = frame(&ServerMsg::Event { event: event.clone() }) else { return };
        let push = |connection: &Connection| {
            self.deliver(connection, |queue| queue.push_event(conversation, event.seq, frame.clone()));
        };
        let change = match &event.change {
            // Opened in a team's queue: placed before anyone hears of it, so that only those who
            // may see it there do.
            Change::Opened { team: Some(team), .. } => {
                self.apply_move(conversation, Move::Team(Some(*team)));
                self.for_each_watcher(conversation, false, push);
                return;
            }
            Change::Assigned { assignee, .. } => Move::Assignee(*assignee),
            Change::Triaged { team, .. } => Move::Team(*team),
            _ => {
                self.for_each_watcher(conversation, false, push);
                return;
            }
        };
        // Everyone who could see the conversation hears where it went, and so does everyone who
        // may see it there; then those who may no longer see it stop following it.
        let mut told = HashSet::new();
        self.for_each_watcher(conversation, false, |connection| {
            told.insert(connection.id);
            push(connection);
        });
        self.apply_move(conversation, change);
        self.for_each_watcher(conversation, false, |connection| {
            if !told.contains(&connection.id) {
                push(connection);
            }
        });
        self.revoke(conversation);
    }

    /// Sends to the sockets watching a conversation: its followers and the inbox followers
    /// (`supervisors_only`: only those whose user is a supervisor or admin).
    pub fn send_to_watchers(&self, conversation: ConversationId, message: &ServerMsg, supervisors_only: bool) {
        let Some(frame) = frame(message) else { return };
        self.for_each_watcher(conversation, supervisors_only, |connection| {
            self.deliver(connection, |queue| queue.push(frame.clone()));
        });
    }

    /// Calls `visit` once for each socket watching `conversation`: its followers, then the inbox
    /// followers that do not follow it too. Allocates only the (small) list of followers: this is
    /// the path of every keystroke's fan-out.
    fn for_each_watcher(
        &self,
        conversation: ConversationId,
        supervisors_only: bool,
        mut visit: impl FnMut(&Connection),
    ) {
        let subscriptions = &self.inner.subscriptions;
        let followers: Vec<ConnId> = subscriptions
            .followers
            .get(&conversation)
            .map(|followers| followers.iter().copied().collect())
            .unwrap_or_default();
        let wanted = |connection: &Connection| !supervisors_only || connection.is_supervisor();
        for id in &followers {
            // Access is checked again here: an open that raced an assignment away is filtered.
            if let Some(connection) = self.inner.connections.get(*id)
                && wanted(&connection)
                && self.may_see(&connection, conversation)
            {
                visit(&connection);
            }
        }
        for entry in subscriptions.inbox.iter() {
            if !followers.contains(entry.key()) && wanted(entry.value()) && self.may_see(entry.value(), conversation) {
                visit(entry.value());
            }
        }
    }

    /// Sends to every socket of `user`.
    pub fn send_to_user(&self, user: UserId, message: &ServerMsg) {
        self.send_where(message, |connection| connection.user.id == user);
    }

    /// Sends to every socket of an admin.
    pub fn send_to_admins(&self, message: &ServerMsg) {
        self.send_where(message, |connection| connection.role == Role::Admin);
    }

    /// Sends to every socket whose user may see one of `conversations` (supervisors and admins
    /// see them all): what changes about a customer reaches everyone who may see them.
    pub fn send_to_seers(&self, conversations: &[ConversationId], message: &ServerMsg) {
        self.send_where(message, |connection| {
            connection.is_supervisor()
                || conversations.iter().any(|conversation| self.may_see(connection, *conversation))
        });
    }

    /// Sends to every socket.
    pub fn broadcast(&self, message: &ServerMsg) {
        self.send_where(message, |_| true);
    }

    /// Serializes once and sends to every socket `wanted`.
    fn send_where(&self, message: &ServerMsg, wanted: impl Fn(&Connection) -> bool) {
        let Some(frame) = frame(message) else { return };
        for connection in self.inner.connections.sockets.iter().filter(|connection| wanted(connection)) {
            self.deliver(&connection, |queue| queue.push(frame.clone()));
        }
    }

    /// Pushes into a socket's queue, counting the socket as slow when that overflows it.
    fn deliver(&self, connection: &Connection, push: impl FnOnce(&SocketQueue) -> bool) {
        let was_closing = connection.queue.is_closing();
        if !push(&connection.queue) && !was_closing {
            self.inner.fanout.slow_consumers.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(conn = connection.id, user = %connection.user.id, "slow consumer: closing its socket");
        }
    }

    /// How many sockets were closed for falling behind, since start.
    pub fn slow_consumers(&self) -> u64 {
        self.inner.fanout.slow_consumers.load(Ordering::Relaxed)
    }
}
