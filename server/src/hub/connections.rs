//! Who is connected: the open sockets ([`Connection`]), each user's presence (online while any of
//! their sockets is open, with the status they chose), and the ending of sockets whose login
//! session ended.
//!
//! Presence changes are gathered and sent together, one frame per socket for any number of
//! changes ([`Hub::presence_due`]): when enough have gathered for the frame to be worth every
//! socket's while (a [`STORM_FLUSHES`]th of the sockets), or when the first has waited
//! [`Hub::presence_interval`] — [`PRESENCE_INTERVAL`], or longer with so many sockets that a
//! frame to each would pass [`PRESENCE_FRAMES_PER_SECOND`]. So when a whole team comes online at
//! shift start, each socket hears of it in about [`STORM_FLUSHES`] frames (a slower storm is
//! paced by the interval instead): presence frames grow with the sockets, not with their square.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use baton_shared::api::{Role, User};
use baton_shared::protocol::{Presence, PresenceStatus, ServerMsg, Teammate};
use baton_shared::{ConversationId, UserId};
use dashmap::DashMap;
use tokio::time::Instant;

use super::fanout::frame;
use super::presence_time::Accrual;
use super::socket_queue::{Closing, Frame, SocketQueue};
use super::{Hub, SessionKey};

/// A socket's id, unique for the life of the process.
pub type ConnId = u64;

/// One open socket.
pub struct Connection {
    pub id: ConnId,
    /// The login session the socket was opened with: it ends with that session.
    pub session: SessionKey,
    pub user: Teammate,
    pub role: Role,
    /// Frames waiting to be written to the socket.
    pub queue: SocketQueue,
    /// Conversations this socket opened (follows and views): the socket's side of
    /// [`super::subscriptions`].
    opened: Mutex<HashSet<ConversationId>>,
}

impl Connection {
    pub fn is_supervisor(&self) -> bool {
        self.role.at_least(Role::Supervisor)
    }

    pub(super) fn opened(&self) -> MutexGuard<'_, HashSet<ConversationId>> {
        self.opened.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(super) struct PresenceEntry {
    user: Teammate,
    role: Role,
    /// How many sockets the user has open.
    pub(super) sockets: usize,
    pub(super) status: PresenceStatus,
    /// Time online and available not yet taken for the reports.
    pub(super) time: Accrual,
}

impl PresenceEntry {
    fn presence(&self) -> Presence {
        Presence { user: self.user.clone(), role: self.role, online: self.sockets > 0, status: self.status }
    }
}

/// Presence changes not sent yet.
#[derive(Default)]
struct Changes {
    users: HashSet<UserId>,
    /// When the first of them was gathered.
    since: Option<Instant>,
}

/// The open sockets and everyone's presence.
pub(super) struct Connections {
    next_id: AtomicU64,
    pub(super) sockets: DashMap<ConnId, Arc<Connection>>,
    pub(super) presence: DashMap<UserId, PresenceEntry>,
    /// Users whose presence changed since the last [`Hub::flush_presence`].
    changes: Mutex<Changes>,
    /// Who is online, as the frame shared by every new socket's greeting; rebuilt after a change.
    online_frame: Mutex<Option<Frame>>,
}

impl Default for Connections {
    fn default() -> Self {
        Connections {
            next_id: AtomicU64::new(1),
            sockets: DashMap::new(),
            presence: DashMap::new(),
            changes: Mutex::new(Changes::default()),
            online_frame: Mutex::new(None),
        }
    }
}

impl Connections {
    /// The socket `id`, if it is open (cloned out: no shard stays locked).
    pub(super) fn get(&self, id: ConnId) -> Option<Arc<Connection>> {
        self.sockets.get(&id).map(|entry| entry.clone())
    }

    /// The next id a socket would get: every open socket's is below it.
    pub(super) fn next_id(&self) -> ConnId {
        self.next_id.load(Ordering::Relaxed)
    }
}

impl Hub {
    /// Registers a new socket of `user`, opened with login `session`; the first one brings them
    /// online for everyone.
    pub fn connect(&self, user: &User, session: SessionKey) -> Arc<Connection> {
        let _changing = self.changing();
        let connections = &self.inner.connections;
        let id = connections.next_id.fetch_add(1, Ordering::Relaxed);
        let teammate = Teammate { id: user.id, name: user.name.clone() };
        let connection = Arc::new(Connection {
            id,
            session,
            user: teammate.clone(),
            role: user.role,
            queue: SocketQueue::new(self.inner.config.outbox_capacity),
            opened: Mutex::new(HashSet::new()),
        });
        connections.sockets.insert(id, connection.clone());
        let now = self.now_ms();
        let came_online = {
            let mut entry = connections.presence.entry(user.id).or_insert_with(|| PresenceEntry {
                user: teammate,
                role: user.role,
                sockets: 0,
                status: PresenceStatus::Available,
                time: Accrual::starting(now),
            });
            entry.accrue(now);
            entry.sockets += 1;
            entry.role = user.role;
            entry.sockets == 1
        };
        if came_online {
            self.presence_changed(user.id);
        }
        connection
    }

    /// Forgets a socket: it stops following and viewing, and its user goes offline with their
    /// last socket.
    pub fn disconnect(&self, connection: &Connection) {
        let _changing = self.changing();
        self.inner.connections.sockets.remove(&connection.id);
        self.unfollow_all(connection);
        let now = self.now_ms();
        let went_offline = self.inner.connections.presence.get_mut(&connection.user.id).is_some_and(|mut entry| {
            entry.accrue(now);
            entry.sockets = entry.sockets.saturating_sub(1);
            entry.sockets == 0
        });
        if went_offline {
            self.presence_changed(connection.user.id);
        }
    }

    /// Whether `user` has at least one socket open.
    pub fn is_online(&self, user: UserId) -> bool {
        self.inner.connections.presence.get(&user).is_some_and(|entry| entry.sockets > 0)
    }

    /// Whether `user` has a socket open, and the presence they chose (`None`: never connected).
    pub fn presence_of(&self, user: UserId) -> Option<(bool, PresenceStatus)> {
        self.inner.connections.presence.get(&user).map(|entry| (entry.sockets > 0, entry.status))
    }

    /// Whether routing may push work to `user` now: a socket open and presence `available`.
    pub fn is_available(&self, user: UserId) -> bool {
        self.inner
            .connections
            .presence
            .get(&user)
            .is_some_and(|entry| entry.sockets > 0 && entry.status == PresenceStatus::Available)
    }

    /// Everyone's presence.
    pub fn presence(&self) -> Vec<Presence> {
        self.inner.connections.presence.iter().map(|entry| entry.presence()).collect()
    }

    /// Who is online, for a new socket's greeting: one frame, serialized once and shared by every
    /// socket that connects until presence changes (sockets write shared frames as they are, so
    /// a large one costs no socket any memory). A socket registered before it reads this also
    /// gets the next [`Hub::flush_presence`], so together they miss nothing.
    pub fn online_frame(&self) -> Option<Frame> {
        let connections = &self.inner.connections;
        // Built under the lock, so a flush cannot slip between reading the map and storing.
        let mut cached = connections.online_frame.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(frame) = cached.as_ref() {
            return Some(frame.clone());
        }
        let online: Vec<Presence> =
            connections.presence.iter().filter(|entry| entry.sockets > 0).map(|entry| entry.presence()).collect();
        let built = frame(&ServerMsg::Presence { presence: online });
        cached.clone_from(&built);
        built
    }

    /// Whether the gathered presence changes should go out now ([`Hub::flush_presence`]): a
    /// [`STORM_FLUSHES`]th of the sockets changed, or the first change waited
    /// [`Hub::presence_interval`]. [`crate::run`] asks every [`PRESENCE_INTERVAL`].
    pub fn presence_due(&self) -> bool {
        let sockets = self.inner.connections.sockets.len() as u64;
        let changes = self.inner.connections.changes.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(since) = changes.since else { return false };
        changes.users.len() as u64 * STORM_FLUSHES >= sockets || since.elapsed() >= self.presence_interval()
    }

    /// The longest a presence change waits to be sent: a flush sends a frame to every socket, so
    /// with many sockets flushes come less often, keeping presence frames under
    /// [`PRESENCE_FRAMES_PER_SECOND`] (2,200 sockets: every 220 ms).
    pub fn presence_interval(&self) -> Duration {
        let sockets = self.inner.connections.sockets.len() as u64;
        let budgeted = Duration::from_micros(sockets * 1_000_000 / PRESENCE_FRAMES_PER_SECOND);
        budgeted.max(PRESENCE_INTERVAL)
    }

    pub fn set_status(&self, user: UserId, status: PresenceStatus) {
        let now = self.now_ms();
        let changed = self.inner.connections.presence.get_mut(&user).is_some_and(|mut entry| {
            entry.accrue(now);
            let changed = entry.status != status;
            entry.status = status;
            changed
        });
        if changed {
            self.presence_changed(user);
        }
    }

    fn presence_changed(&self, user: UserId) {
        let mut changes = self.inner.connections.changes.lock().unwrap_or_else(PoisonError::into_inner);
        changes.users.insert(user);
        changes.since.get_or_insert_with(Instant::now);
    }

    /// Sends the presence changes gathered since the last call to every socket, one frame
    /// ([`Hub::presence_due`] says when).
    pub fn flush_presence(&self) {
        let connections = &self.inner.connections;
        let changed: Vec<UserId> = {
            let mut changes = connections.changes.lock().unwrap_or_else(PoisonError::into_inner);
            changes.since = None;
            changes.users.drain().collect()
        };
        if changed.is_empty() {
            return;
        }
        // Before the changes go out: a socket that reads the old greeting frames is registered
        // already and receives them.
        *connections.online_frame.lock().unwrap_or_else(PoisonError::into_inner) = None;
        let presence: Vec<Presence> =
            changed.iter().filter_map(|user| connections.presence.get(user).map(|entry| entry.presence())).collect();
        self.broadcast(&ServerMsg::Presence { presence });
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
        for connection in self.inner.connections.sockets.iter().filter(|connection| wanted(connection)) {
            connection.queue.close(Closing::SessionEnded);
        }
    }

    /// How many sockets are open.
    pub fn connection_count(&self) -> usize {
        self.inner.connections.sockets.len()
    }
}

/// How often gathered presence changes are sent, with few sockets.
pub const PRESENCE_INTERVAL: Duration = Duration::from_millis(100);

/// Presence frames per second, all sockets together, that a trickle of changes stays under.
pub const PRESENCE_FRAMES_PER_SECOND: u64 = 10_000;

/// In how many frames, about, each socket hears that everyone changed (a shift starting): a
/// flush goes out as soon as this fraction of the sockets changed.
pub const STORM_FLUSHES: u64 = 10;
