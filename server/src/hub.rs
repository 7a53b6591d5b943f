//! The hub: who is connected, what each socket follows, who is viewing and typing where, and the
//! fan-out of every message to the sockets that should see it.
//!
//! Fan-out never waits: a frame is serialized once, shared by all recipients, and pushed into each
//! socket's bounded [`Outbox`]; a socket whose outbox is full is closed as a slow consumer (it
//! resumes on reconnect). The hub keeps no durable state: events come from the store through the
//! bus ([`crate::bus`]), and presence, viewers, typing and drafts live here only.

pub mod outbox;
pub mod sequencer;
mod typing;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_shared::api::{Role, User};
use baton_shared::model::{Change, ConversationEvent};
use baton_shared::protocol::{Presence, PresenceStatus, ServerMsg, Teammate};
use baton_shared::{ConversationId, UserId};
use dashmap::DashMap;

pub use outbox::{Closing, Frame, Outbox};
pub use typing::{DraftSaver, TypingLock};

pub use crate::sessions::SessionKey;

/// A socket's id, unique for the life of the process.
pub type ConnId = u64;

/// The hub's limits and timers.
#[derive(Clone, Copy, Debug)]
pub struct HubConfig {
    /// Frames a socket may have waiting before it is closed as slow.
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

/// One open socket.
pub struct Connection {
    pub id: ConnId,
    /// The login session the socket was opened with: it ends with that session.
    pub session: SessionKey,
    pub user: Teammate,
    pub role: Role,
    pub outbox: Outbox,
    /// Conversations this socket opened (follows and views).
    opened: Mutex<HashSet<ConversationId>>,
}

impl Connection {
    pub fn is_supervisor(&self) -> bool {
        self.role.at_least(Role::Supervisor)
    }

    fn opened(&self) -> std::sync::MutexGuard<'_, HashSet<ConversationId>> {
        self.opened.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

struct PresenceEntry {
    user: Teammate,
    role: Role,
    sockets: usize,
    status: PresenceStatus,
}

impl PresenceEntry {
    fn presence(&self) -> Presence {
        Presence { user: self.user.clone(), role: self.role, online: self.sockets > 0, status: self.status }
    }
}

struct Inner {
    config: HubConfig,
    next_id: AtomicU64,
    connections: DashMap<ConnId, Arc<Connection>>,
    /// Sockets that opened a conversation.
    followers: DashMap<ConversationId, HashSet<ConnId>>,
    /// Sockets following the whole inbox: supervisors get every conversation, agents those they
    /// may see ([`Hub::may_see`]).
    inbox: DashMap<ConnId, Arc<Connection>>,
    /// Puts each conversation's events in seq order before they fan out.
    sequencer: sequencer::Sequencer,
    /// Who each assigned conversation belongs to (absent: unassigned). Kept from the store at
    /// start and from `assigned` events since.
    assignees: DashMap<ConversationId, UserId>,
    /// Who views a conversation, with how many of their sockets.
    viewers: DashMap<ConversationId, HashMap<UserId, (Teammate, usize)>>,
    presence: DashMap<UserId, PresenceEntry>,
    typing: DashMap<(ConversationId, UserId), Arc<typing::Session>>,
    drafts: Arc<dyn DraftSaver>,
    slow_consumers: AtomicU64,
    /// Users whose presence changed since the last [`Hub::flush_presence`].
    presence_changes: Mutex<HashSet<UserId>>,
    /// Who is online, as frames shared by every new socket's greeting; rebuilt after a change.
    online_frames: Mutex<Option<Arc<[Frame]>>>,
    /// Counters bumped by every event of the conversations hashed to them: a typing lock checked
    /// at one value is stale once its conversation's counter moved. Fixed size, so memory does
    /// not grow with conversations; a shared slot only costs a needless re-check.
    epochs: Box<[AtomicU64]>,
}

/// Slots in [`Inner::epochs`].
const EPOCH_SLOTS: usize = 4096;

/// Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
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
    pub fn new(config: HubConfig, drafts: Arc<dyn DraftSaver>) -> Self {
        Hub {
            inner: Arc::new(Inner {
                config,
                next_id: AtomicU64::new(1),
                connections: DashMap::new(),
                followers: DashMap::new(),
                inbox: DashMap::new(),
                sequencer: sequencer::Sequencer::default(),
                assignees: DashMap::new(),
                viewers: DashMap::new(),
                presence: DashMap::new(),
                typing: DashMap::new(),
                drafts,
                slow_consumers: AtomicU64::new(0),
                presence_changes: Mutex::new(HashSet::new()),
                online_frames: Mutex::new(None),
                epochs: (0..EPOCH_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            }),
        }
    }

    pub fn config(&self) -> HubConfig {
        self.inner.config
    }

    /// Registers a new socket of `user`, opened with login `session`; the first one brings them
    /// online for everyone.
    pub fn connect(&self, user: &User, session: SessionKey) -> Arc<Connection> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let teammate = Teammate { id: user.id, name: user.name.clone() };
        let connection = Arc::new(Connection {
            id,
            session,
            user: teammate.clone(),
            role: user.role,
            outbox: Outbox::new(self.inner.config.outbox_capacity),
            opened: Mutex::new(HashSet::new()),
        });
        self.inner.connections.insert(id, connection.clone());
        let came_online = {
            let mut entry = self.inner.presence.entry(user.id).or_insert_with(|| PresenceEntry {
                user: teammate,
                role: user.role,
                sockets: 0,
                status: PresenceStatus::Available,
            });
            entry.sockets += 1;
            entry.role = user.role;
            entry.sockets == 1
        };
        if came_online {
            self.presence_changed(user.id);
        }
        connection
    }

    /// Forgets a socket: it stops viewing, and its user goes offline with their last socket.
    pub fn disconnect(&self, connection: &Connection) {
        self.inner.connections.remove(&connection.id);
        self.inner.inbox.remove(&connection.id);
        let opened: Vec<ConversationId> = connection.opened().drain().collect();
        for conversation in opened {
            self.remove_follower(conversation, connection);
        }
        let went_offline = self.inner.presence.get_mut(&connection.user.id).is_some_and(|mut entry| {
            entry.sockets = entry.sockets.saturating_sub(1);
            entry.sockets == 0
        });
        if went_offline {
            self.presence_changed(connection.user.id);
        }
    }

    /// Whether `user` has at least one socket open.
    pub fn is_online(&self, user: UserId) -> bool {
        self.inner.presence.get(&user).is_some_and(|entry| entry.sockets > 0)
    }

    /// Everyone's presence.
    pub fn presence(&self) -> Vec<Presence> {
        self.inner.presence.iter().map(|entry| entry.presence()).collect()
    }

    /// Who is online, for a new socket's greeting: frames serialized once and shared by every
    /// socket that connects until presence changes. A socket registered before it reads these
    /// also gets the next [`Hub::flush_presence`], so together they miss nothing.
    pub fn online_frames(&self) -> Arc<[Frame]> {
        // Built under the lock, so a flush cannot slip between reading the map and storing.
        let mut cached = self.inner.online_frames.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(frames) = cached.as_ref() {
            return frames.clone();
        }
        let online: Vec<Presence> =
            self.inner.presence.iter().filter(|entry| entry.sockets > 0).map(|entry| entry.presence()).collect();
        let frames: Arc<[Frame]> = presence_messages(online).iter().filter_map(frame).collect();
        *cached = Some(frames.clone());
        frames
    }

    pub fn set_status(&self, user: UserId, status: PresenceStatus) {
        let changed = self.inner.presence.get_mut(&user).is_some_and(|mut entry| {
            let changed = entry.status != status;
            entry.status = status;
            changed
        });
        if changed {
            self.presence_changed(user);
        }
    }

    fn presence_changed(&self, user: UserId) {
        self.inner.presence_changes.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(user);
    }

    /// Sends the presence changes gathered since the last call to every socket, a few frames in
    /// all; [`crate::run`] calls it every [`PRESENCE_INTERVAL`].
    pub fn flush_presence(&self) {
        let changed: Vec<UserId> = {
            let mut changes = self.inner.presence_changes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            changes.drain().collect()
        };
        if changed.is_empty() {
            return;
        }
        // Before the changes go out: a socket that reads the old greeting frames is registered
        // already and receives them.
        *self.inner.online_frames.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        let presence: Vec<Presence> =
            changed.iter().filter_map(|user| self.inner.presence.get(user).map(|entry| entry.presence())).collect();
        for message in presence_messages(presence) {
            self.broadcast(&message);
        }
    }

    /// The socket follows every conversation's events (supervisors).
    pub fn follow_inbox(&self, connection: &Arc<Connection>) {
        self.inner.inbox.insert(connection.id, connection.clone());
    }

    /// The socket follows a conversation and shows its user as viewing it. Returns whether it
    /// was not open already.
    pub fn open(&self, connection: &Connection, conversation: ConversationId) -> bool {
        if !connection.opened().insert(conversation) {
            return false;
        }
        self.inner.followers.entry(conversation).or_default().insert(connection.id);
        let viewers = {
            let mut viewers = self.inner.viewers.entry(conversation).or_default();
            viewers.entry(connection.user.id).or_insert_with(|| (connection.user.clone(), 0)).1 += 1;
            list_viewers(&viewers)
        };
        self.send_to_watchers(conversation, &ServerMsg::Viewers { conversation_id: conversation, viewers }, false);
        true
    }

    /// The socket stops following and viewing a conversation.
    pub fn close(&self, connection: &Connection, conversation: ConversationId) {
        if connection.opened().remove(&conversation) {
            self.remove_follower(conversation, connection);
        }
    }

    fn remove_follower(&self, conversation: ConversationId, connection: &Connection) {
        if let Some(mut followers) = self.inner.followers.get_mut(&conversation) {
            followers.remove(&connection.id);
        }
        self.inner.followers.remove_if(&conversation, |_, followers| followers.is_empty());
        let viewers = self.inner.viewers.get_mut(&conversation).map(|mut viewers| {
            if let Some((_, sockets)) = viewers.get_mut(&connection.user.id) {
                *sockets -= 1;
                if *sockets == 0 {
                    viewers.remove(&connection.user.id);
                }
            }
            list_viewers(&viewers)
        });
        self.inner.viewers.remove_if(&conversation, |_, viewers| viewers.is_empty());
        if let Some(viewers) = viewers {
            self.send_to_watchers(conversation, &ServerMsg::Viewers { conversation_id: conversation, viewers }, false);
        }
    }

    /// Who views a conversation now.
    pub fn viewers(&self, conversation: ConversationId) -> Vec<Teammate> {
        self.inner.viewers.get(&conversation).map(|viewers| list_viewers(&viewers)).unwrap_or_default()
    }

    /// A counter that moves whenever something happens in `conversation` (see [`TypingLock`]).
    pub fn conversation_epoch(&self, conversation: ConversationId) -> u64 {
        self.epoch_slot(conversation).load(Ordering::Acquire)
    }

    fn epoch_slot(&self, conversation: ConversationId) -> &AtomicU64 {
        let index = conversation.0.rem_euclid(EPOCH_SLOTS as i64) as usize;
        &self.inner.epochs[index]
    }

    /// Fans a committed event out to the conversation's followers and the inbox followers, after
    /// every event before it and never twice ([`sequencer`]).
    pub fn publish(&self, event: &ConversationEvent) {
        // Before anyone hears of it: a typing lock checked from now on sees the new counter.
        self.epoch_slot(event.conversation_id).fetch_add(1, Ordering::AcqRel);
        self.inner.sequencer.accept(event, |ready| self.fan_out(ready));
    }

    /// Where each conversation stands in the store (at start): its next event goes out first.
    pub fn load_sequences(&self, last_seqs: Vec<(ConversationId, u64)>) {
        self.inner.sequencer.load(last_seqs);
    }

    /// Events that waited longer than [`HubConfig::gap_patience`] for the ones before them.
    pub fn gaps(&self) -> Vec<sequencer::Gap> {
        self.inner.sequencer.gaps(self.inner.config.gap_patience)
    }

    /// Lets the events held behind a gap that cannot be filled go out (they are in the store,
    /// and clients that notice the gap ask for it again).
    pub fn skip_gap(&self, gap: sequencer::Gap) {
        self.inner.sequencer.skip(gap, |ready| self.fan_out(ready));
    }

    /// How many events wait for earlier ones.
    pub fn held_events(&self) -> usize {
        self.inner.sequencer.held()
    }

    fn fan_out(&self, event: &ConversationEvent) {
        let conversation = event.conversation_id;
        let Some(frame) = frame(&ServerMsg::Event { event: event.clone() }) else { return };
        let push = |connection: &Connection| {
            self.deliver(connection, |outbox| outbox.push_event(conversation, event.seq, frame.clone()));
        };
        let Change::Assigned { assignee } = &event.change else {
            self.for_each_watcher(conversation, false, push);
            return;
        };
        // Everyone who could see the conversation hears of its new assignee, and so does the
        // new assignee; then those who may no longer see it stop following it.
        let mut told = HashSet::new();
        self.for_each_watcher(conversation, false, |connection| {
            told.insert(connection.id);
            push(connection);
        });
        match assignee {
            Some(assignee) => self.inner.assignees.insert(conversation, *assignee),
            None => self.inner.assignees.remove(&conversation).map(|(_, previous)| previous),
        };
        self.for_each_watcher(conversation, false, |connection| {
            if !told.contains(&connection.id) {
                push(connection);
            }
        });
        self.revoke(conversation);
    }

    /// The assignments of open conversations, as the store has them (at start).
    pub fn load_assignments(&self, assignments: Vec<(ConversationId, UserId)>) {
        for (conversation, assignee) in assignments {
            self.inner.assignees.insert(conversation, assignee);
        }
    }

    /// Supervisors and admins see every conversation; agents and leads the unassigned ones and
    /// their own (as in `realtime::may_access`).
    fn may_see(&self, connection: &Connection, conversation: ConversationId) -> bool {
        connection.is_supervisor()
            || self.inner.assignees.get(&conversation).is_none_or(|assignee| *assignee == connection.user.id)
    }

    /// Sockets that may no longer see a conversation stop following and viewing it.
    fn revoke(&self, conversation: ConversationId) {
        let followers: Vec<ConnId> = self
            .inner
            .followers
            .get(&conversation)
            .map(|followers| followers.iter().copied().collect())
            .unwrap_or_default();
        for id in followers {
            let Some(connection) = self.inner.connections.get(&id).map(|entry| entry.clone()) else { continue };
            if !self.may_see(&connection, conversation) {
                self.close(&connection, conversation);
                connection.outbox.forget(conversation);
            }
        }
    }

    /// Sends to the sockets watching a conversation: its followers and the inbox followers
    /// (`supervisors_only`: only those whose user is a supervisor or admin).
    pub fn send_to_watchers(&self, conversation: ConversationId, message: &ServerMsg, supervisors_only: bool) {
        let Some(frame) = frame(message) else { return };
        self.for_each_watcher(conversation, supervisors_only, |connection| {
            self.deliver(connection, |outbox| outbox.push(frame.clone()));
        });
    }

    /// Pushes into a socket's outbox, counting the socket as slow when that overflows it.
    fn deliver(&self, connection: &Connection, push: impl FnOnce(&Outbox) -> bool) {
        let was_closing = connection.outbox.is_closing();
        if !push(&connection.outbox) && !was_closing {
            self.inner.slow_consumers.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(conn = connection.id, user = %connection.user.id, "slow consumer: closing its socket");
        }
    }

    /// How many sockets were closed for falling behind, since start.
    pub fn slow_consumers(&self) -> u64 {
        self.inner.slow_consumers.load(Ordering::Relaxed)
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
        let followers: Vec<ConnId> = self
            .inner
            .followers
            .get(&conversation)
            .map(|followers| followers.iter().copied().collect())
            .unwrap_or_default();
        let wanted = |connection: &Connection| !supervisors_only || connection.is_supervisor();
        for id in &followers {
            // Access is checked again here: an open that raced an assignment away is filtered.
            if let Some(connection) = self.inner.connections.get(id).map(|entry| entry.clone())
                && wanted(&connection)
                && self.may_see(&connection, conversation)
            {
                visit(&connection);
            }
        }
        for entry in self.inner.inbox.iter() {
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

    /// Sends to every socket.
    pub fn broadcast(&self, message: &ServerMsg) {
        self.send_where(message, |_| true);
    }

    /// Serializes once and sends to every socket `wanted`.
    fn send_where(&self, message: &ServerMsg, wanted: impl Fn(&Connection) -> bool) {
        let Some(frame) = frame(message) else { return };
        for connection in self.inner.connections.iter().filter(|connection| wanted(connection)) {
            self.deliver(&connection, |outbox| outbox.push(frame.clone()));
        }
    }

    /// Closes the sockets opened with one login session (its logout).
    pub fn end_session(&self, session: SessionKey) {
        self.close_where(|connection| connection.session == session);
    }

    /// Closes every socket of `user` (a disabled account).
    pub fn end_sessions(&self, user: UserId) {
        self.close_where(|connection| connection.user.id == user);
    }

    fn close_where(&self, wanted: impl Fn(&Connection) -> bool) {
        for connection in self.inner.connections.iter().filter(|connection| wanted(connection)) {
            connection.outbox.close(Closing::SessionEnded);
        }
    }

    /// How many sockets are open.
    pub fn connection_count(&self) -> usize {
        self.inner.connections.len()
    }
}

/// How often gathered presence changes are sent.
pub const PRESENCE_INTERVAL: Duration = Duration::from_millis(100);

/// Most presence entries in one frame (about 500 bytes): a socket's write buffer keeps the capacity of
/// the largest frame it wrote, so frames stay small.
pub const PRESENCE_PER_FRAME: usize = 6;

/// `presence` messages for a list, [`PRESENCE_PER_FRAME`] entries each.
pub fn presence_messages(presence: Vec<Presence>) -> Vec<ServerMsg> {
    presence.chunks(PRESENCE_PER_FRAME).map(|chunk| ServerMsg::Presence { presence: chunk.to_vec() }).collect()
}

fn list_viewers(viewers: &HashMap<UserId, (Teammate, usize)>) -> Vec<Teammate> {
    let mut list: Vec<Teammate> = viewers.values().map(|(teammate, _)| teammate.clone()).collect();
    list.sort_by_key(|teammate| teammate.id);
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    /// Remembers saved drafts.
    #[derive(Default)]
    struct Drafts(StdMutex<Vec<String>>);

    impl DraftSaver for Drafts {
        fn save(&self, _conversation: ConversationId, _user: &Teammate, body: String) {
            self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(body);
        }
    }

    fn user(id: i64, name: &str, role: Role) -> User {
        User { id: UserId(id), name: name.into(), email: format!("{id}@x.test"), role, disabled: false, created_at: 0 }
    }

    /// The messages queued for a socket since the last call, parsed.
    fn received(connection: &Connection) -> Vec<ServerMsg> {
        let (frames, _) = connection.outbox.drain();
        frames.iter().filter_map(|frame| serde_json::from_str(frame.as_str()).ok()).collect()
    }

    fn typing_flags(messages: &[ServerMsg]) -> Vec<bool> {
        messages
            .iter()
            .filter_map(|m| if let ServerMsg::Typing { typing, .. } = m { Some(*typing) } else { None })
            .collect()
    }

    fn drafts(messages: &[ServerMsg]) -> Vec<String> {
        messages
            .iter()
            .filter_map(|m| if let ServerMsg::Draft { body, .. } = m { Some(body.clone()) } else { None })
            .collect()
    }

    /// Lets spawned timer tasks run at the current (paused) instant.
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn typing_expires_by_itself_and_drafts_are_throttled_to_supervisors() {
        let saved = Arc::new(Drafts::default());
        let hub = Hub::new(HubConfig::default(), saved.clone());
        let conversation = ConversationId(7);
        let alice = hub.connect(&user(1, "Alice", Role::Agent), 1);
        let bob = hub.connect(&user(2, "Bob", Role::Agent), 2);
        let sam = hub.connect(&user(3, "Sam", Role::Supervisor), 3);
        hub.open(&bob, conversation);
        hub.follow_inbox(&sam);
        received(&bob);
        received(&sam);

        hub.typing(conversation, &alice.user, "H".into());
        settle().await;
        let (to_bob, to_sam) = (received(&bob), received(&sam));
        assert_eq!(typing_flags(&to_bob), [true]);
        assert_eq!(typing_flags(&to_sam), [true]);
        assert!(drafts(&to_bob).is_empty(), "agents never get drafts");
        assert_eq!(drafts(&to_sam), ["H"]);

        // Three keystrokes within the draft interval: one update, with the newest text, when due.
        tokio::time::advance(Duration::from_millis(50)).await;
        hub.typing(conversation, &alice.user, "He".into());
        hub.typing(conversation, &alice.user, "Hel".into());
        hub.typing(conversation, &alice.user, "Hell".into());
        settle().await;
        assert!(drafts(&received(&sam)).is_empty(), "throttled");
        tokio::time::advance(Duration::from_millis(200)).await;
        settle().await;
        assert_eq!(drafts(&received(&sam)), ["Hell"]);

        // Typing holds while keystrokes come, and stops by itself 5 s after the last one.
        tokio::time::advance(Duration::from_secs(4)).await;
        settle().await;
        assert!(hub.is_typing(conversation, alice.user.id));
        tokio::time::advance(Duration::from_millis(800)).await;
        settle().await;
        assert!(!hub.is_typing(conversation, alice.user.id));
        assert_eq!(typing_flags(&received(&bob)), [false]);
        assert_eq!(typing_flags(&received(&sam)), [false]);
        assert_eq!(*saved.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner), ["H", "Hell"]);

        // A new keystroke starts a new typing session.
        hub.typing(conversation, &alice.user, "Hello".into());
        settle().await;
        assert_eq!(typing_flags(&received(&bob)), [true]);
    }

    #[tokio::test]
    async fn presence_counts_sockets() {
        let hub = Hub::new(HubConfig::default(), Arc::new(Drafts::default()));
        let watcher = hub.connect(&user(9, "Watcher", Role::Agent), 4);
        let first = hub.connect(&user(1, "Alice", Role::Agent), 5);
        let second = hub.connect(&user(1, "Alice", Role::Agent), 6);
        assert!(hub.is_online(UserId(1)));
        let presence_of = |messages: Vec<ServerMsg>| -> Vec<(UserId, bool)> {
            messages
                .into_iter()
                .filter_map(|m| if let ServerMsg::Presence { presence } = m { Some(presence) } else { None })
                .flatten()
                .map(|presence| (presence.user.id, presence.online))
                .collect()
        };
        hub.flush_presence();
        let mut online = presence_of(received(&watcher));
        online.sort();
        assert_eq!(online, [(UserId(1), true), (UserId(9), true)], "gathered into one frame");
        hub.disconnect(&first);
        hub.flush_presence();
        assert!(hub.is_online(UserId(1)), "one tab left");
        assert!(presence_of(received(&watcher)).is_empty(), "closing one of two tabs announces nothing");
        hub.disconnect(&second);
        hub.flush_presence();
        assert!(!hub.is_online(UserId(1)));
        assert_eq!(presence_of(received(&watcher)), [(UserId(1), false)]);

        let many: Vec<Presence> = (0..(PRESENCE_PER_FRAME as i64 * 10 + 1))
            .map(|id| Presence {
                user: Teammate { id: UserId(id), name: String::new() },
                role: Role::Agent,
                online: true,
                status: PresenceStatus::Available,
            })
            .collect();
        let sizes: Vec<usize> = presence_messages(many)
            .iter()
            .map(|m| if let ServerMsg::Presence { presence } = m { presence.len() } else { 0 })
            .collect();
        let mut expected = vec![PRESENCE_PER_FRAME; 10];
        expected.push(1);
        assert_eq!(sizes, expected, "small frames: a socket's write buffer keeps the largest one's size");
    }
}
