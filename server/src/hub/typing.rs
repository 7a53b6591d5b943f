//! Typing indicators and live drafts. The first keystroke in a conversation tells its watchers
//! "typing"; a timer ends it [`super::HubConfig::typing_timeout`] after the last keystroke. The
//! draft text goes to supervisors only, at most once per [`super::HubConfig::draft_interval`]
//! (the newest text wins), and is saved through a [`DraftSaver`] at the same pace, so a reload or
//! another device finds it.
//!
//! A typing session also remembers that its user's claim was checked ([`TypingLock`]), so the
//! keystrokes that follow skip the database until the conversation changes (any event in it) or
//! the lease seen then runs out: a keystroke costs no query on the fan-out's path.
//!
//! Timers use tokio's clock, so tests drive them with a paused clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_shared::protocol::{ServerMsg, Teammate};
use baton_shared::{ConversationId, UserId};
use dashmap::DashMap;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::Hub;

/// Keeps drafts durable (the server saves them in the store).
pub trait DraftSaver: Send + Sync + 'static {
    fn save(&self, conversation: ConversationId, user: &Teammate, body: String);
}

/// What the first keystroke's check found: the user may write in the conversation and holds its
/// claim until `lease_until`, as of the conversation's `epoch` ([`Hub::conversation_epoch`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypingLock {
    pub epoch: u64,
    /// Milliseconds since the epoch.
    pub lease_until: i64,
}

/// Who is typing where, and where their drafts go.
pub(super) struct Typing {
    /// The live typing sessions. A session outlives its user's last socket until its deadline:
    /// typing ends by its timer, or by a reply.
    sessions: DashMap<(ConversationId, UserId), Arc<Session>>,
    drafts: Arc<dyn DraftSaver>,
}

impl Typing {
    pub(super) fn new(drafts: Arc<dyn DraftSaver>) -> Self {
        Typing { sessions: DashMap::new(), drafts }
    }

    /// The session of `user` in `conversation`, cloned out: no shard stays locked while its
    /// state is (the session's timer locks them the other way round).
    fn session(&self, conversation: ConversationId, user: UserId) -> Option<Arc<Session>> {
        self.sessions.get(&(conversation, user)).map(|session| session.clone())
    }

    /// What must hold for every typing session ([`Hub::check_invariants`]): it is filed under its
    /// own conversation and user, a live one ends within `timeout` from `now`, and an ended one
    /// keeps no draft to send.
    pub(super) fn check(&self, now: Instant, timeout: Duration) -> Result<(), String> {
        let sessions: Vec<((ConversationId, UserId), Arc<Session>)> =
            self.sessions.iter().map(|entry| (*entry.key(), entry.value().clone())).collect();
        for ((conversation, user), session) in sessions {
            if (session.conversation, session.user.id) != (conversation, user) {
                return Err(format!(
                    "typing session of user {} in conversation {} filed under user {user} in conversation {}",
                    session.user.id, session.conversation.0, conversation.0
                ));
            }
            let state = session.state();
            if !state.ended && state.deadline > now + timeout {
                return Err(format!(
                    "user {user} typing in conversation {} ends later than the timeout",
                    conversation.0
                ));
            }
            if state.ended && state.pending_draft.is_some() {
                return Err(format!("user {user}'s ended typing in conversation {} keeps a draft", conversation.0));
            }
        }
        Ok(())
    }
}

/// One user typing in one conversation.
pub(super) struct Session {
    conversation: ConversationId,
    user: Teammate,
    state: Mutex<State>,
    wake: Notify,
}

struct State {
    /// Typing ends at this instant unless another keystroke comes.
    deadline: Instant,
    last_draft_sent: Instant,
    /// A draft newer than the last one sent, waiting for the interval.
    pending_draft: Option<String>,
    ended: bool,
    lock: Option<TypingLock>,
}

impl Session {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Hub {
    /// A keystroke by `user` in `conversation` with the whole draft.
    pub fn typing(&self, conversation: ConversationId, user: &Teammate, draft: String) {
        let config = self.inner.config;
        let now = Instant::now();
        let key = (conversation, user.id);
        if let Some(session) = self.inner.typing.session(conversation, user.id) {
            let mut state = session.state();
            if !state.ended {
                state.deadline = now + config.typing_timeout;
                if now.duration_since(state.last_draft_sent) >= config.draft_interval {
                    state.last_draft_sent = now;
                    state.pending_draft = None;
                    drop(state);
                    self.send_draft(&session, draft);
                } else {
                    state.pending_draft = Some(draft);
                    drop(state);
                    session.wake.notify_one();
                }
                return;
            }
        }
        let session = Arc::new(Session {
            conversation,
            user: user.clone(),
            state: Mutex::new(State {
                deadline: now + config.typing_timeout,
                last_draft_sent: now,
                pending_draft: None,
                ended: false,
                lock: None,
            }),
            wake: Notify::new(),
        });
        self.inner.typing.sessions.insert(key, session.clone());
        let started = ServerMsg::Typing { conversation_id: conversation, user: user.clone(), typing: true };
        self.send_to_watchers(conversation, &started, false);
        self.send_draft(&session, draft);
        tokio::spawn(self.clone().run_typing(session));
    }

    /// Remembers that `user`, typing in `conversation`, was checked to hold its claim.
    pub fn remember_typing_lock(&self, conversation: ConversationId, user: UserId, lock: TypingLock) {
        // Not under the map's shard: the session's timer locks its state, then the shard.
        if let Some(session) = self.inner.typing.session(conversation, user) {
            session.state().lock = Some(lock);
        }
    }

    /// Whether `user`'s claim on `conversation`, checked at their first keystroke, still holds
    /// without asking the store: nothing happened in the conversation since and the lease then
    /// seen has not run out (renewals only extend it).
    pub fn typing_lock_held(&self, conversation: ConversationId, user: UserId, now_ms: i64) -> bool {
        let Some(session) = self.inner.typing.session(conversation, user) else { return false };
        let state = session.state();
        !state.ended
            && state
                .lock
                .is_some_and(|lock| lock.lease_until > now_ms && lock.epoch == self.conversation_epoch(conversation))
    }

    /// Ends `user`'s typing in `conversation` at once (they sent their reply): a draft still
    /// waiting for the throttle is dropped, and watchers see the typing stop.
    pub fn stop_typing(&self, conversation: ConversationId, user: &Teammate) {
        let Some((_, session)) = self.inner.typing.sessions.remove(&(conversation, user.id)) else { return };
        {
            let mut state = session.state();
            state.ended = true;
            state.pending_draft = None;
        }
        session.wake.notify_one();
        let stopped = ServerMsg::Typing { conversation_id: conversation, user: user.clone(), typing: false };
        self.send_to_watchers(conversation, &stopped, false);
    }

    /// The draft `user` typed last in `conversation`, if it still waits for the draft throttle
    /// (newer than what the draft saver was given).
    pub fn waiting_draft(&self, conversation: ConversationId, user: UserId) -> Option<String> {
        let session = self.inner.typing.session(conversation, user)?;
        let state = session.state();
        state.pending_draft.clone()
    }

    /// Whether `user` is typing in `conversation` now.
    pub fn is_typing(&self, conversation: ConversationId, user: UserId) -> bool {
        self.inner.typing.sessions.contains_key(&(conversation, user))
    }

    fn send_draft(&self, session: &Session, body: String) {
        let message =
            ServerMsg::Draft { conversation_id: session.conversation, user: session.user.clone(), body: body.clone() };
        self.send_to_watchers(session.conversation, &message, true);
        self.inner.typing.drafts.save(session.conversation, &session.user, body);
    }

    /// Sends throttled drafts when due and ends typing at its deadline.
    async fn run_typing(self, session: Arc<Session>) {
        loop {
            let wake_at = {
                let state = session.state();
                if state.ended {
                    // Stopped from outside (a reply was sent).
                    return;
                }
                match &state.pending_draft {
                    Some(_) => state.deadline.min(state.last_draft_sent + self.inner.config.draft_interval),
                    None => state.deadline,
                }
            };
            tokio::select! {
                () = tokio::time::sleep_until(wake_at) => {}
                () = session.wake.notified() => continue,
            }
            let now = Instant::now();
            let mut state = session.state();
            let due = now.duration_since(state.last_draft_sent) >= self.inner.config.draft_interval;
            let flush = if due || now >= state.deadline { state.pending_draft.take() } else { None };
            if flush.is_some() {
                state.last_draft_sent = now;
            }
            let ended = now >= state.deadline;
            if ended {
                state.ended = true;
                self.inner
                    .typing
                    .sessions
                    .remove_if(&(session.conversation, session.user.id), |_, current| Arc::ptr_eq(current, &session));
            }
            drop(state);
            if let Some(draft) = flush {
                self.send_draft(&session, draft);
            }
            if ended {
                let stopped = ServerMsg::Typing {
                    conversation_id: session.conversation,
                    user: session.user.clone(),
                    typing: false,
                };
                self.send_to_watchers(session.conversation, &stopped, false);
                return;
            }
        }
    }
}
