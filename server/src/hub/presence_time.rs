//! How long each person has been online and available since their time was last taken
//! ([`Hub::take_presence_time`]), for the reports' "time online" and "time available"
//! (docs/reports.md). Every presence change adds the time spent in the state it leaves, at the
//! moment of the change, so the figures are exact to the millisecond rather than sampled.

use baton_shared::UserId;
use baton_shared::protocol::PresenceStatus;

use super::Hub;
use super::connections::PresenceEntry;

/// Time gathered for one person since it was last taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Accrual {
    /// When the time below was last brought up to date (Unix ms).
    since: i64,
    online_ms: i64,
    available_ms: i64,
}

impl Accrual {
    pub(super) fn starting(now: i64) -> Self {
        Accrual { since: now, ..Accrual::default() }
    }

    /// Adds the time from the last update to `now`, spent online or not, available or not.
    /// Called before the state changes, with the state it had.
    pub(super) fn accrue(&mut self, now: i64, online: bool, status: PresenceStatus) {
        // A clock stepped back adds nothing rather than taking time away.
        let elapsed = (now - self.since).max(0);
        if online {
            self.online_ms += elapsed;
            if status == PresenceStatus::Available {
                self.available_ms += elapsed;
            }
        }
        self.since = self.since.max(now);
    }
}

/// One person's time online and available over an interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PresenceTime {
    pub user: UserId,
    pub online_ms: i64,
    pub available_ms: i64,
}

impl PresenceEntry {
    /// Brings the entry's time up to `now`, in the state it has now: called before every change.
    pub(super) fn accrue(&mut self, now: i64) {
        let (online, status) = (self.sockets > 0, self.status);
        self.time.accrue(now, online, status);
    }
}

impl Hub {
    /// Everyone's time online and available since it was last taken, up to now, and starts
    /// again from zero. People with no time online are left out.
    pub fn take_presence_time(&self) -> Vec<PresenceTime> {
        let now = self.now_ms();
        let mut taken = Vec::new();
        for mut entry in self.inner.connections.presence.iter_mut() {
            let user = *entry.key();
            entry.accrue(now);
            let time = std::mem::replace(&mut entry.time, Accrual::starting(now));
            if time.online_ms > 0 {
                taken.push(PresenceTime { user, online_ms: time.online_ms, available_ms: time.available_ms });
            }
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_counts_in_the_state_it_was_spent_in() {
        let mut time = Accrual::starting(1_000);
        time.accrue(61_000, true, PresenceStatus::Available);
        time.accrue(121_000, true, PresenceStatus::Busy);
        time.accrue(181_000, false, PresenceStatus::Available);
        time.accrue(241_000, true, PresenceStatus::Away);
        assert_eq!((time.online_ms, time.available_ms), (180_000, 60_000));
        // A clock stepped back adds nothing, and the next step counts from the latest time.
        time.accrue(200_000, true, PresenceStatus::Available);
        time.accrue(251_000, true, PresenceStatus::Available);
        assert_eq!((time.online_ms, time.available_ms), (190_000, 70_000));
    }
}
