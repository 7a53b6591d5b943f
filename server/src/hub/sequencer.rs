//! [`Sequencer`]: each conversation's events fan out in seq order, each once, whatever order their
//! publishers reach the hub in.
//!
//! Two transactions on one conversation commit seq n, then n+1 (the conversation's row lock orders
//! them), but their publishers race to the hub: n+1 may arrive first. Fanned out as it came, a
//! socket's queue would hold n+1 and then have to drop n as "already queued" — a silent loss. So
//! each conversation has a lane that knows the next seq due: an event ahead of it is held until
//! the missing ones arrive, and an event at or behind what went out already is a duplicate.
//!
//! A missing event is always committed already (n committed before n+1 could take the lock), so
//! if its publisher never comes (it failed between commit and publish), the bus's gap keeper reads
//! it from the store after [`super::HubConfig::gap_patience`] ([`Sequencer::gaps`]).
//!
//! A lane's fan-out runs under the lane's lock, so two publishers cannot interleave the
//! recipients' queues either. The lock is a plain mutex, never held across an await.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use baton_shared::ConversationId;
use baton_shared::model::ConversationEvent;
use dashmap::DashMap;
use tokio::time::Instant;

/// Events of one conversation that are missing: those with `after < seq < before`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Gap {
    pub conversation: ConversationId,
    pub after: u64,
    pub before: u64,
}

#[derive(Default)]
struct Lane {
    /// The seq that goes out next; everything below it went out.
    next: u64,
    /// Events ahead of `next`, waiting for the ones before them.
    pending: BTreeMap<u64, ConversationEvent>,
    /// Since when the oldest gap has been waiting.
    waiting_since: Option<Instant>,
}

#[derive(Default)]
pub struct Sequencer {
    lanes: DashMap<ConversationId, Arc<Mutex<Lane>>>,
}

impl Sequencer {
    /// Where each conversation stands in the store now: the next event of each goes out first.
    /// Conversations not named here start at seq 1.
    pub fn load(&self, last_seqs: impl IntoIterator<Item = (ConversationId, u64)>) {
        for (conversation, last_seq) in last_seqs {
            let lane = Lane { next: last_seq + 1, ..Lane::default() };
            self.lanes.insert(conversation, Arc::new(Mutex::new(lane)));
        }
    }

    fn lane(&self, conversation: ConversationId) -> Arc<Mutex<Lane>> {
        // Cloned out, so the map's shard is not locked during a fan-out.
        self.lanes
            .entry(conversation)
            .or_insert_with(|| Arc::new(Mutex::new(Lane { next: 1, ..Lane::default() })))
            .clone()
    }

    /// Takes a committed event: calls `fan_out` for it and for every held event it unblocks, in
    /// seq order, or holds it until the events before it arrive. Duplicates are dropped.
    pub fn accept(&self, event: &ConversationEvent, mut fan_out: impl FnMut(&ConversationEvent)) {
        let lane = self.lane(event.conversation_id);
        let mut lane = lock(&lane);
        if event.seq < lane.next {
            return;
        }
        if event.seq > lane.next {
            lane.pending.entry(event.seq).or_insert_with(|| event.clone());
            lane.waiting_since.get_or_insert_with(Instant::now);
            return;
        }
        fan_out(event);
        lane.next += 1;
        drain_ready(&mut lane, &mut fan_out);
    }

    /// Gives up on a gap that cannot be filled: what is held from `before` on goes out.
    pub fn skip(&self, gap: Gap, mut fan_out: impl FnMut(&ConversationEvent)) {
        let lane = self.lane(gap.conversation);
        let mut lane = lock(&lane);
        if lane.next <= gap.after + 1 {
            lane.next = gap.before;
            drain_ready(&mut lane, &mut fan_out);
        }
    }

    /// Gaps that have waited at least `patience`: their publishers are late or gone.
    pub fn gaps(&self, patience: Duration) -> Vec<Gap> {
        let now = Instant::now();
        self.lanes
            .iter()
            .filter_map(|entry| {
                let lane = lock(entry.value());
                let since = lane.waiting_since?;
                let (&before, _) = lane.pending.first_key_value()?;
                (now.duration_since(since) >= patience).then_some(Gap {
                    conversation: *entry.key(),
                    after: lane.next - 1,
                    before,
                })
            })
            .collect()
    }

    /// How many events are held, in all.
    pub fn held(&self) -> usize {
        self.lanes.iter().map(|entry| lock(entry.value()).pending.len()).sum()
    }

    /// What must hold in every lane ([`super::Hub::check_invariants`]): it holds only events of
    /// its own conversation, each under its own seq and ahead of the next seq due, and it waits
    /// exactly while it holds something.
    pub(super) fn check(&self) -> Result<(), String> {
        // Cloned out first: a lane's lock is not taken under the map's shard.
        let lanes: Vec<(ConversationId, Arc<Mutex<Lane>>)> =
            self.lanes.iter().map(|entry| (*entry.key(), entry.value().clone())).collect();
        for (conversation, lane) in lanes {
            let lane = lock(&lane);
            let c = conversation.0;
            if let Some((&first, _)) = lane.pending.first_key_value()
                && first <= lane.next
            {
                return Err(format!(
                    "conversation {c}'s lane holds seq {first}, at or behind its next seq {}",
                    lane.next
                ));
            }
            if let Some((seq, event)) =
                lane.pending.iter().find(|(seq, event)| event.seq != **seq || event.conversation_id != conversation)
            {
                return Err(format!(
                    "conversation {c}'s lane holds event {} of conversation {} under seq {seq}",
                    event.seq, event.conversation_id.0
                ));
            }
            if lane.waiting_since.is_some() == lane.pending.is_empty() {
                return Err(format!("conversation {c}'s lane waits with {} events held", lane.pending.len()));
            }
        }
        Ok(())
    }
}

fn lock(lane: &Mutex<Lane>) -> MutexGuard<'_, Lane> {
    // A panic during a fan-out leaves the lane's numbers as they were: keep using them.
    lane.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Fans out the held events that follow on from `next`, and resets the wait if a gap remains.
fn drain_ready(lane: &mut Lane, fan_out: &mut impl FnMut(&ConversationEvent)) {
    while let Some(entry) = lane.pending.first_entry() {
        if *entry.key() < lane.next {
            entry.remove();
        } else if *entry.key() == lane.next {
            fan_out(&entry.remove());
            lane.next += 1;
        } else {
            break;
        }
    }
    // A gap that remains is a new wait: its clock starts now.
    lane.waiting_since = if lane.pending.is_empty() { None } else { Some(Instant::now()) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_shared::model::Change;

    fn event(conversation: i64, seq: u64) -> ConversationEvent {
        ConversationEvent {
            conversation_id: ConversationId(conversation),
            seq,
            at: 0,
            actor: None,
            change: Change::Released { holder: baton_shared::UserId(1), expired: false },
        }
    }

    fn accept(sequencer: &Sequencer, conversation: i64, seq: u64) -> Vec<u64> {
        let mut out = Vec::new();
        sequencer.accept(&event(conversation, seq), |event| out.push(event.seq));
        out
    }

    #[test]
    fn events_ahead_wait_for_those_before_them() {
        let sequencer = Sequencer::default();
        assert_eq!(accept(&sequencer, 1, 1), [1]);
        assert_eq!(accept(&sequencer, 1, 3), Vec::<u64>::new(), "2 has not come yet");
        assert_eq!(accept(&sequencer, 1, 4), Vec::<u64>::new());
        assert_eq!(accept(&sequencer, 2, 1), [1], "another conversation is not held up");
        assert_eq!(accept(&sequencer, 1, 2), [2, 3, 4]);
        assert_eq!(accept(&sequencer, 1, 3), Vec::<u64>::new(), "a duplicate goes nowhere");
        assert_eq!(sequencer.held(), 0);
        assert_eq!(sequencer.check(), Ok(()));
    }

    #[test]
    fn the_check_finds_a_lane_holding_what_went_out() {
        let sequencer = Sequencer::default();
        accept(&sequencer, 1, 1);
        accept(&sequencer, 1, 3);
        assert_eq!(sequencer.check(), Ok(()));
        let lane = sequencer.lane(ConversationId(1));
        lock(&lane).next = 3;
        assert_eq!(sequencer.check(), Err("conversation 1's lane holds seq 3, at or behind its next seq 3".into()));
        lock(&lane).next = 2;
        lock(&lane).waiting_since = None;
        assert_eq!(sequencer.check(), Err("conversation 1's lane waits with 1 events held".into()));
    }

    #[test]
    fn loaded_conversations_continue_from_the_store() {
        let sequencer = Sequencer::default();
        sequencer.load([(ConversationId(1), 41)]);
        assert_eq!(accept(&sequencer, 1, 41), Vec::<u64>::new(), "went out before the start");
        assert_eq!(accept(&sequencer, 1, 43), Vec::<u64>::new());
        assert_eq!(accept(&sequencer, 1, 42), [42, 43]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_gap_is_reported_after_the_patience_and_can_be_skipped() {
        let sequencer = Sequencer::default();
        accept(&sequencer, 1, 1);
        accept(&sequencer, 1, 4);
        accept(&sequencer, 1, 5);
        let patience = Duration::from_secs(1);
        assert!(sequencer.gaps(patience).is_empty(), "not yet");
        tokio::time::advance(patience).await;
        let gap = Gap { conversation: ConversationId(1), after: 1, before: 4 };
        assert_eq!(sequencer.gaps(patience), [gap]);
        // The gap keeper fills 2; 3 is still missing, and its wait starts again.
        assert_eq!(accept(&sequencer, 1, 2), [2]);
        assert!(sequencer.gaps(patience).is_empty());
        tokio::time::advance(patience).await;
        assert_eq!(sequencer.gaps(patience), [Gap { conversation: ConversationId(1), after: 2, before: 4 }]);
        let mut out = Vec::new();
        sequencer.skip(Gap { conversation: ConversationId(1), after: 2, before: 4 }, |event| out.push(event.seq));
        assert_eq!(out, [4, 5]);
        assert!(sequencer.gaps(patience).is_empty());
        assert_eq!(accept(&sequencer, 1, 3), Vec::<u64>::new(), "too late: skipped");
        assert_eq!(sequencer.check(), Ok(()));
    }
}
