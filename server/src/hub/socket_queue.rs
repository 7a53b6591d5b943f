//! [`SocketQueue`]: one socket's outgoing queue, shared by the hub (which pushes live frames) and the
//! socket's task (which pushes answers and backlogs, and drains everything into the socket).
//!
//! It is bounded: a client that stops reading fills it, and the next live push marks it slow; the
//! socket task then closes it with [`baton_shared::protocol::CLOSE_SLOW_CONSUMER`] and the client
//! resumes from its cursors. While a conversation's backlog is being read ([`SocketQueue::hold`]), live
//! events of that conversation are set aside and released after the backlog, in order, without
//! duplicates — so subscribing never races the live stream.
//!
//! (Not to be confused with the WhatsApp outbox, the table of replies waiting to be sent.)

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use baton_shared::ConversationId;
use tokio::sync::Notify;
use tungstenite::Utf8Bytes;

/// A serialized `ServerMsg`, shared by every recipient.
pub type Frame = Utf8Bytes;

/// Why a socket must close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closing {
    /// Its queue overflowed.
    Slow,
    /// Its session ended (logout, disabled user).
    SessionEnded,
}

#[derive(Default)]
struct State {
    frames: VecDeque<Frame>,
    /// How many of `frames` the client asked for (greeting, backlogs): they do not count
    /// against the capacity, which bounds only what the client did not ask for.
    requested: usize,
    /// Live events set aside while a backlog is read: seq and frame.
    held: HashMap<ConversationId, Vec<(u64, Frame)>>,
    /// The newest seq queued per conversation: older or equal ones are duplicates.
    queued_seq: HashMap<ConversationId, u64>,
    closing: Option<Closing>,
}

/// One socket's bounded queue of frames to write.
pub struct SocketQueue {
    capacity: usize,
    state: Mutex<State>,
    wake: Notify,
}

impl SocketQueue {
    pub fn new(capacity: usize) -> Self {
        SocketQueue { capacity, state: Mutex::new(State::default()), wake: Notify::new() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock leaves plain data behind: keep using it.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues an ephemeral or answer frame; `false` (and the queue closes as slow) when full.
    pub fn push(&self, frame: Frame) -> bool {
        let mut state = self.lock();
        if state.closing.is_some() {
            return false;
        }
        if state.frames.len() - state.requested >= self.capacity {
            state.closing = Some(Closing::Slow);
            drop(state);
            self.wake.notify_one();
            return false;
        }
        state.frames.push_back(frame);
        drop(state);
        self.wake.notify_one();
        true
    }

    /// Queues frames a request asked for (a greeting, a backlog), whatever the capacity: their
    /// number is bounded by the request, and refusing them would punish a client for asking.
    pub fn push_all(&self, frames: Vec<Frame>) {
        let mut state = self.lock();
        if state.closing.is_some() {
            return;
        }
        state.requested += frames.len();
        state.frames.extend(frames);
        drop(state);
        self.wake.notify_one();
    }

    /// Queues a conversation event, unless already queued or held back by a running backlog.
    pub fn push_event(&self, conversation: ConversationId, seq: u64, frame: Frame) -> bool {
        let mut state = self.lock();
        if state.closing.is_some() {
            return false;
        }
        if let Some(held) = state.held.get_mut(&conversation) {
            held.push((seq, frame));
            return true;
        }
        if state.queued_seq.get(&conversation).is_some_and(|queued| *queued >= seq) {
            return true;
        }
        if state.frames.len() - state.requested >= self.capacity {
            state.closing = Some(Closing::Slow);
            drop(state);
            self.wake.notify_one();
            return false;
        }
        state.queued_seq.insert(conversation, seq);
        state.frames.push_back(frame);
        drop(state);
        self.wake.notify_one();
        true
    }

    /// Sets live events of `conversation` aside until [`SocketQueue::release`].
    pub fn hold(&self, conversation: ConversationId) {
        self.lock().held.entry(conversation).or_default();
    }

    /// Queues the backlog (events after the client's cursor `after_seq`, in seq order), then the
    /// live events held back meanwhile, each seq once. The client's cursor, not what was queued
    /// before, is the baseline: a client that asks again from an earlier seq (it dropped events
    /// it could not place) gets them again, and ignores any it already holds. A backlog may
    /// exceed the capacity: its size is bounded by the resync limit.
    pub fn release(&self, conversation: ConversationId, after_seq: u64, backlog: Vec<(u64, Frame)>) {
        let mut state = self.lock();
        let held = state.held.remove(&conversation).unwrap_or_default();
        let mut newest = after_seq;
        for (seq, frame) in backlog.into_iter().chain(held) {
            if seq > newest {
                newest = seq;
                state.frames.push_back(frame);
                state.requested += 1;
            }
        }
        state.queued_seq.insert(conversation, newest);
        drop(state);
        self.wake.notify_one();
    }

    /// Forgets a conversation's position (after the client closed it).
    pub fn forget(&self, conversation: ConversationId) {
        let mut state = self.lock();
        state.held.remove(&conversation);
        state.queued_seq.remove(&conversation);
    }

    /// Tells the socket task to close.
    pub fn close(&self, reason: Closing) {
        self.lock().closing.get_or_insert(reason);
        self.wake.notify_one();
    }

    pub fn is_closing(&self) -> bool {
        self.lock().closing.is_some()
    }

    /// Everything queued now (possibly nothing), and whether the socket must close.
    pub fn drain(&self) -> (Vec<Frame>, Option<Closing>) {
        let mut state = self.lock();
        // Take the deque itself: an idle socket then holds no queue memory, however long its
        // queue once was.
        let frames = Vec::from(std::mem::take(&mut state.frames));
        state.requested = 0;
        (frames, state.closing)
    }

    /// Wakes the socket task with nothing queued: something else it sends is waiting (a pong).
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    /// Resolves when something was queued or closing was asked since the last drain.
    pub async fn wait(&self) {
        self.wake.notified().await;
    }

    /// What must hold between this queue's counters ([`super::Hub::check_invariants`]).
    pub(super) fn check(&self) -> Result<(), String> {
        let state = self.lock();
        if state.requested > state.frames.len() {
            return Err(format!("{} frames counted as requested, {} queued", state.requested, state.frames.len()));
        }
        let unrequested = state.frames.len() - state.requested;
        if unrequested > self.capacity {
            return Err(format!("{unrequested} unrequested frames queued, over the capacity of {}", self.capacity));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(text: &str) -> Frame {
        Frame::from(text)
    }

    #[test]
    fn overflow_marks_the_socket_slow() {
        let queue = SocketQueue::new(2);
        assert!(queue.push(frame("a")));
        assert!(queue.push(frame("b")));
        assert!(!queue.push(frame("c")));
        let (frames, closing) = queue.drain();
        assert_eq!(frames.len(), 2);
        assert_eq!(closing, Some(Closing::Slow));
        assert!(!queue.push(frame("d")), "a closing queue takes nothing more");
        assert_eq!(queue.check(), Ok(()));
    }

    #[test]
    fn requested_frames_do_not_count_against_the_capacity() {
        let queue = SocketQueue::new(2);
        queue.push_all(vec![frame("hello"), frame("p1"), frame("p2"), frame("p3")]);
        assert!(queue.push(frame("live 1")));
        assert!(queue.push(frame("live 2")));
        assert!(!queue.push(frame("live 3")), "two unrequested frames fill it");
        assert_eq!(queue.check(), Ok(()));
        queue.lock().frames.push_back(frame("past the capacity"));
        assert_eq!(queue.check(), Err("3 unrequested frames queued, over the capacity of 2".into()));
        queue.lock().requested = 10;
        assert_eq!(queue.check(), Err("10 frames counted as requested, 7 queued".into()));
    }

    #[test]
    fn backlog_and_held_live_events_merge_in_order_without_duplicates() {
        let queue = SocketQueue::new(100);
        let conversation = ConversationId(1);
        queue.hold(conversation);
        // Live events arrive while the backlog (3..=5) is read; 5 is in both.
        queue.push_event(conversation, 5, frame("5"));
        queue.push_event(conversation, 6, frame("6"));
        assert!(queue.drain().0.is_empty(), "held back");
        queue.release(conversation, 2, vec![(3, frame("3")), (4, frame("4")), (5, frame("5"))]);
        queue.push_event(conversation, 6, frame("6 again"));
        queue.push_event(conversation, 7, frame("7"));
        let texts: Vec<String> = queue.drain().0.iter().map(|f| f.as_str().to_owned()).collect();
        assert_eq!(texts, ["3", "4", "5", "6", "7"]);
    }

    #[test]
    fn a_client_asking_again_from_an_earlier_seq_gets_the_events_again() {
        let queue = SocketQueue::new(100);
        let conversation = ConversationId(1);
        queue.push_event(conversation, 4, frame("4"));
        queue.push_event(conversation, 5, frame("5"));
        let _ = queue.drain();
        // The client could not place them (it did not hold the conversation): it asks from 0.
        queue.hold(conversation);
        queue.release(conversation, 0, vec![(1, frame("1")), (2, frame("2")), (4, frame("4")), (5, frame("5"))]);
        queue.push_event(conversation, 5, frame("5 live repeat"));
        let texts: Vec<String> = queue.drain().0.iter().map(|f| f.as_str().to_owned()).collect();
        assert_eq!(texts, ["1", "2", "4", "5"]);
    }
}
