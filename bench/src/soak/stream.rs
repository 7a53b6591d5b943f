//! What every soak socket checks in the stream it receives, and the figures they all add to.
//!
//! A socket keeps, per conversation, the last `seq` it holds. Each event must be exactly one past
//! it. One further on is a **gap** (the seqs skipped are remembered); one at or below it is a
//! **duplicate**, unless it is a seq the socket was missing, which is **out of order**. The socket
//! resumes from the seq it holds, so a resumed stream that does not continue exactly from the
//! cursor it sent shows as one of these too. A `resync` moves the seq held to the conversation's
//! `last_seq` and is counted apart: the server says plainly that it skipped.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Instant;

use baton_shared::ConversationId;
use baton_shared::model::{Change, ConversationEvent};

/// Which defect an event showed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Defect {
    Gap,
    Duplicate,
    OutOfOrder,
}

impl Defect {
    pub fn name(self) -> &'static str {
        match self {
            Defect::Gap => "gap",
            Defect::Duplicate => "duplicate",
            Defect::OutOfOrder => "out-of-order",
        }
    }
}

/// How many missing seqs a socket remembers per conversation: enough to tell a late event from a
/// repeated one, without growing without bound if the stream is badly broken.
const MISSING_KEPT: usize = 10_000;

/// One socket's position in each conversation's stream. It outlives the socket's connections: a
/// reconnect resumes from it.
#[derive(Default)]
pub struct Positions {
    held: HashMap<ConversationId, u64>,
    missing: HashMap<ConversationId, BTreeSet<u64>>,
}

impl Positions {
    /// The last seq held in `conversation` (0 for none).
    pub fn held(&self, conversation: ConversationId) -> u64 {
        self.held.get(&conversation).copied().unwrap_or(0)
    }

    /// Places one event; the defect it shows, if any.
    pub fn place(&mut self, conversation: ConversationId, seq: u64) -> Option<Defect> {
        let held = self.held(conversation);
        if seq == held + 1 {
            self.held.insert(conversation, seq);
            return None;
        }
        if seq > held + 1 {
            let missing = self.missing.entry(conversation).or_default();
            for skipped in (held + 1..seq).take(MISSING_KEPT.saturating_sub(missing.len())) {
                missing.insert(skipped);
            }
            self.held.insert(conversation, seq);
            return Some(Defect::Gap);
        }
        let late = self.missing.get_mut(&conversation).is_some_and(|missing| missing.remove(&seq));
        Some(if late { Defect::OutOfOrder } else { Defect::Duplicate })
    }

    /// The server resynced the conversation: continue from `last_seq`.
    pub fn resync(&mut self, conversation: ConversationId, last_seq: u64) {
        self.held.insert(conversation, last_seq);
        self.missing.remove(&conversation);
    }
}

/// The kind of socket, for the figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Agent,
    Supervisor,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
        }
    }
}

/// One defect as seen, for the report.
pub struct Sighting {
    pub socket: String,
    pub defect: Defect,
    pub conversation: ConversationId,
    pub held: u64,
    pub seq: u64,
    pub kind: &'static str,
    pub seconds: f64,
    /// Events this socket received on this connection before this one.
    pub since_connect: u64,
}

/// How many sightings are kept in full.
const SIGHTINGS_KEPT: usize = 40;

/// Everything counted during a run, by every task.
#[derive(Default)]
pub struct Figures {
    /// Events received, by socket role and change kind.
    pub events: BTreeMap<(Role, &'static str), u64>,
    /// Defects, by socket role, defect and the offending event's change kind.
    pub defects: BTreeMap<(Role, Defect, &'static str), u64>,
    pub sightings: Vec<Sighting>,
    /// Other frames (hello, presence, typing, drafts…), by type.
    pub signals: BTreeMap<&'static str, u64>,
    pub resyncs: u64,
    /// Events repeated after an `open` on a conversation the socket followed already (allowed:
    /// see [`crate::link::PeerState::reasking`]).
    pub repeats: u64,
    /// `open`s a supervisor sent on a conversation it followed through the inbox.
    pub supervisor_opens: u64,
    /// Requests refused, by error code.
    pub refusals: BTreeMap<String, u64>,
    /// Connections the server closed, by close code (`none`: no close frame).
    pub closes: BTreeMap<String, u64>,
    /// Connections this tool cut on purpose.
    pub cuts: u64,
    pub reconnects: u64,
    /// Events that arrived for a conversation the agent's socket had closed (a stray after `close`).
    pub after_close: u64,
    /// Requests with no answer in time (their connection was cut, or the server did not answer).
    pub unanswered: u64,
    pub webhooks_sent: u64,
    /// Webhooks Baton did not answer with 200 (the simulator re-sends them).
    pub webhooks_refused: u64,
    pub replies_sent: u64,
    /// Replies sent again with `force` after a `conversation_changed`.
    pub replies_forced: u64,
    pub notes_added: u64,
    pub keystrokes: u64,
    pub opens: u64,
    pub closes_sent: u64,
}

/// The shared figures and the run's clock.
pub struct Tally {
    pub figures: Mutex<Figures>,
    pub started: Instant,
}

impl Tally {
    pub fn new() -> Self {
        Tally { figures: Mutex::new(Figures::default()), started: Instant::now() }
    }

    /// The figures, to read or add to (never held across an await).
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Figures> {
        self.figures.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts one event received and the defect it showed.
    pub fn event(
        &self,
        socket: &str,
        role: Role,
        event: &ConversationEvent,
        held: u64,
        defect: Option<Defect>,
        since_connect: u64,
    ) {
        let kind = change_kind(&event.change);
        let mut figures = self.lock();
        *figures.events.entry((role, kind)).or_default() += 1;
        let Some(defect) = defect else { return };
        *figures.defects.entry((role, defect, kind)).or_default() += 1;
        if figures.sightings.len() < SIGHTINGS_KEPT {
            let seconds = self.started.elapsed().as_secs_f64();
            figures.sightings.push(Sighting {
                socket: socket.to_owned(),
                defect,
                conversation: event.conversation_id,
                held,
                seq: event.seq,
                kind,
                seconds,
                since_connect,
            });
        }
    }
}

/// The `kind` a change is written with on the wire.
pub fn change_kind(change: &Change) -> &'static str {
    match change {
        Change::Opened { .. } => "opened",
        Change::MessageAdded { .. } => "message_added",
        Change::MessageStatus { .. } => "message_status",
        Change::Claimed { .. } => "claimed",
        Change::Released { .. } => "released",
        Change::Transferred { .. } => "transferred",
        Change::TakenOver { .. } => "taken_over",
        Change::StatusChanged { .. } => "status_changed",
        Change::Labeled { .. } => "labeled",
        Change::Assigned { .. } => "assigned",
        Change::Triaged { .. } => "triaged",
        Change::NoteAdded { .. } => "note_added",
        Change::NoteEdited { .. } => "note_edited",
        Change::NoteDeleted { .. } => "note_deleted",
        Change::WindowClosed { .. } => "window_closed",
        Change::Snoozed { .. } => "snoozed",
        Change::SlaChanged { .. } => "sla_changed",
        Change::SlaBreached { .. } => "sla_breached",
        Change::CsatAnswered { .. } => "csat_answered",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_seq_must_follow_the_one_held() {
        let conversation = ConversationId(7);
        let mut positions = Positions::default();
        assert_eq!(positions.place(conversation, 1), None);
        assert_eq!(positions.place(conversation, 2), None);
        assert_eq!(positions.place(conversation, 2), Some(Defect::Duplicate));
        assert_eq!(positions.place(conversation, 5), Some(Defect::Gap));
        assert_eq!(positions.held(conversation), 5);
        assert_eq!(positions.place(conversation, 4), Some(Defect::OutOfOrder));
        assert_eq!(positions.place(conversation, 4), Some(Defect::Duplicate), "4 was placed already");
        assert_eq!(positions.place(conversation, 6), None);
        positions.resync(conversation, 40);
        assert_eq!(positions.place(conversation, 3), Some(Defect::Duplicate), "a resync forgets what was missing");
        assert_eq!(positions.place(conversation, 41), None);
    }
}
