//! How long each person has been online and available since their time was last taken
//! ([`Hub::take_presence_time`]), per quarter hour, for the reports' "time online" and "time
//! available" (docs/reports.md). Every presence change adds the time spent in the state it leaves,
//! at the moment of the change, split at quarter-hour boundaries: the figures are measured, not
//! sampled, and each quarter hour gets its own time however late it is taken.

use baton_shared::UserId;
use baton_shared::protocol::PresenceStatus;

use super::Hub;
use super::connections::PresenceEntry;
use crate::store::reports::BUCKET_MS;

/// One person's time online and available in one quarter hour (`bucket`, its start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PresenceTime {
    pub bucket: i64,
    pub user: UserId,
    pub online_ms: i64,
    pub available_ms: i64,
}

/// Time gathered for one person since it was last taken, per quarter hour.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accrual {
    /// When the time below was last brought up to date (Unix ms).
    since: i64,
    /// (quarter hour, online ms, available ms), oldest first; usually one or two.
    quarters: Vec<(i64, i64, i64)>,
}

impl Accrual {
    pub(super) fn starting(now: i64) -> Self {
        Accrual { since: now, quarters: Vec::new() }
    }

    /// Adds the time from the last update to `now`, spent online or not, available or not, to
    /// the quarter hours it fell in. Called before the state changes, with the state it had.
    pub(super) fn accrue(&mut self, now: i64, online: bool, status: PresenceStatus) {
        // A clock stepped back adds nothing (until it is past `since` again) rather than taking
        // time away.
        if online {
            let mut from = self.since;
            while from < now {
                let bucket = from - from.rem_euclid(BUCKET_MS);
                let to = now.min(bucket + BUCKET_MS);
                let available = if status == PresenceStatus::Available { to - from } else { 0 };
                self.add(bucket, to - from, available);
                from = to;
            }
        }
        self.since = self.since.max(now);
    }

    fn add(&mut self, bucket: i64, online_ms: i64, available_ms: i64) {
        match self.quarters.iter_mut().find(|(at, _, _)| *at == bucket) {
            Some((_, online, available)) => {
                *online += online_ms;
                *available += available_ms;
            }
            None => self.quarters.push((bucket, online_ms, available_ms)),
        }
    }
}

impl PresenceEntry {
    /// Brings the entry's time up to `now`, in the state it has now: called before every change.
    pub(super) fn accrue(&mut self, now: i64) {
        let (online, status) = (self.sockets > 0, self.status);
        self.time.accrue(now, online, status);
    }
}

impl Hub {
    /// Everyone's time online and available since it was last taken, up to now, per quarter hour
    /// (the one under way so far included), and starts again from zero. Only time online is
    /// returned.
    pub fn take_presence_time(&self) -> Vec<PresenceTime> {
        let now = self.now_ms();
        let mut taken = Vec::new();
        for mut entry in self.inner.connections.presence.iter_mut() {
            let user = *entry.key();
            entry.accrue(now);
            // From the entry's own time: a change on it since `now` was read has counted up to
            // a later moment, which must not be counted again.
            let quarters = std::mem::take(&mut entry.time.quarters);
            taken.extend(
                quarters
                    .into_iter()
                    .filter(|(_, online, _)| *online > 0)
                    .map(|(bucket, online_ms, available_ms)| PresenceTime { bucket, user, online_ms, available_ms }),
            );
        }
        taken
    }

    /// Gives back time taken that could not be recorded: it is taken again with the next.
    pub fn restore_presence_time(&self, times: &[PresenceTime]) {
        for time in times {
            if let Some(mut entry) = self.inner.connections.presence.get_mut(&time.user) {
                entry.time.add(time.bucket, time.online_ms, time.available_ms);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    #[test]
    fn time_counts_in_the_state_and_the_quarter_hours_it_was_spent_in() {
        let mut time = Accrual::starting(10 * MINUTE);
        time.accrue(11 * MINUTE, true, PresenceStatus::Available);
        time.accrue(12 * MINUTE, true, PresenceStatus::Busy);
        time.accrue(13 * MINUTE, false, PresenceStatus::Available);
        // Across two boundaries: the rest of the first quarter hour, a whole one, three minutes.
        time.accrue(33 * MINUTE, true, PresenceStatus::Available);
        assert_eq!(
            time.quarters,
            vec![
                (0, 4 * MINUTE, 3 * MINUTE),
                (15 * MINUTE, 15 * MINUTE, 15 * MINUTE),
                (30 * MINUTE, 3 * MINUTE, 3 * MINUTE)
            ]
        );
        // A clock stepped back adds nothing, and the next step counts from the latest time.
        time.accrue(20 * MINUTE, true, PresenceStatus::Available);
        time.accrue(34 * MINUTE, true, PresenceStatus::Away);
        assert_eq!(time.quarters.last(), Some(&(30 * MINUTE, 4 * MINUTE, 3 * MINUTE)));
    }
}
