//! Typing indicators and live drafts. The first keystroke in a conversation tells its watchers
//! "typing"; a timer ends it [`super::HubConfig::typing_timeout`] after the last keystroke. The
//! draft text goes to supervisors only, at most once per [`super::HubConfig::draft_interval`]
//! (the newest text wins), and is saved through a [`DraftSaver`] at the same pace, so a reload or
//! another device finds it.
//!
//! Timers use tokio's clock, so tests drive them with a paused clock.

use std::sync::{Arc, Mutex};

use baton_shared::ConversationId;
use baton_shared::protocol::{ServerMsg, Teammate};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::Hub;

/// Keeps drafts durable (the server saves them in the store).
pub trait DraftSaver: Send + Sync + 'static {
    fn save(&self, conversation: ConversationId, user: &Teammate, body: String);
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
        let existing = self.inner.typing.get(&key).map(|session| session.clone());
        if let Some(session) = existing {
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
            }),
            wake: Notify::new(),
        });
        self.inner.typing.insert(key, session.clone());
        let started = ServerMsg::Typing { conversation_id: conversation, user: user.clone(), typing: true };
        self.send_to_watchers(conversation, &started, false);
        self.send_draft(&session, draft);
        tokio::spawn(self.clone().run_typing(session));
    }

    /// Whether `user` is typing in `conversation` now.
    pub fn is_typing(&self, conversation: ConversationId, user: baton_shared::UserId) -> bool {
        self.inner.typing.contains_key(&(conversation, user))
    }

    fn send_draft(&self, session: &Session, body: String) {
        let message =
            ServerMsg::Draft { conversation_id: session.conversation, user: session.user.clone(), body: body.clone() };
        self.send_to_watchers(session.conversation, &message, true);
        self.inner.drafts.save(session.conversation, &session.user, body);
    }

    /// Sends throttled drafts when due and ends typing at its deadline.
    async fn run_typing(self, session: Arc<Session>) {
        loop {
            let wake_at = {
                let state = session.state();
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
