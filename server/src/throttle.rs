//! Login throttling. Attempts are counted per email (whether or not the account exists, so the
//! throttle reveals nothing) and per client network. An attempt is counted *before* its password
//! is checked — [`Throttle::attempt`] checks and counts in one step under the key's lock — so
//! parallel guesses cannot slip through while the slow hash runs; a successful login clears its
//! email's count. The failure that reaches the policy's count (the 5th for an email) locks the key
//! out, for a delay that doubles with every further failure, up to a cap. Counts are forgotten after a quiet period, and the map is
//! capped so a flood of fresh keys cannot grow it without bound.
//!
//! Time is passed in, so the policy is tested without waiting.

use std::time::{Duration, Instant};

use dashmap::DashMap;

/// The throttle policy.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// The failure that locks the key out: this many failures in a row, and the next attempt waits.
    pub lockout_after: u32,
    /// The first lockout; doubles with each further failure.
    pub base_lockout: Duration,
    pub max_lockout: Duration,
    /// A key with no failure for this long starts afresh.
    pub forget_after: Duration,
}

impl Policy {
    /// Per email: the 5th failure locks for 30 s, the 6th for 60 s, … up to 15 minutes.
    pub const PER_ACCOUNT: Policy = Policy {
        lockout_after: 5,
        base_lockout: Duration::from_secs(30),
        max_lockout: Duration::from_secs(15 * 60),
        forget_after: Duration::from_secs(60 * 60),
    };
    /// Per client address: generous (teams share offices and proxies), still stops a sweep.
    pub const PER_ADDRESS: Policy = Policy {
        lockout_after: 50,
        base_lockout: Duration::from_secs(30),
        max_lockout: Duration::from_secs(15 * 60),
        forget_after: Duration::from_secs(60 * 60),
    };
}

#[derive(Clone, Copy, Debug)]
struct Record {
    failures: u32,
    last_failure: Instant,
    locked_until: Option<Instant>,
}

/// Failure counts for one kind of key.
pub struct Throttle {
    policy: Policy,
    records: DashMap<String, Record>,
}

/// Past this many tracked keys, stale ones are pruned on the next attempt.
const PRUNE_ABOVE: usize = 10_000;

impl Throttle {
    pub fn new(policy: Policy) -> Self {
        Throttle { policy, records: DashMap::new() }
    }

    /// `Err(wait)` while `key` is locked out.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let Some(record) = self.records.get(key).map(|entry| *entry) else { return Ok(()) };
        match record.locked_until {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Checks and counts one attempt atomically: `Err(wait)` while locked out (not counted),
    /// otherwise the attempt counts as a failure until [`Throttle::record_success`] clears it.
    pub fn attempt(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.records.len() > PRUNE_ABOVE {
            self.prune(now);
        }
        let policy = self.policy;
        let mut entry =
            self.records.entry(key.to_owned()).or_insert(Record { failures: 0, last_failure: now, locked_until: None });
        if let Some(until) = entry.locked_until.filter(|until| *until > now) {
            return Err(until - now);
        }
        if now.duration_since(entry.last_failure) > policy.forget_after {
            *entry = Record { failures: 0, last_failure: now, locked_until: None };
        }
        entry.failures += 1;
        entry.last_failure = now;
        if entry.failures >= policy.lockout_after {
            let doublings = (entry.failures - policy.lockout_after).min(16);
            let lockout = policy.base_lockout.saturating_mul(1 << doublings).min(policy.max_lockout);
            entry.locked_until = Some(now + lockout);
        }
        Ok(())
    }

    /// Clears `key` after a successful login.
    pub fn record_success(&self, key: &str) {
        self.records.remove(key);
    }

    /// Takes back one counted attempt (a success from a shared network must not count against it),
    /// lifting the lockout if the count falls back below the one that locks.
    pub fn forgive_one(&self, key: &str) {
        let lockout_after = self.policy.lockout_after;
        if let Some(mut record) = self.records.get_mut(key) {
            record.failures = record.failures.saturating_sub(1);
            if record.failures < lockout_after {
                record.locked_until = None;
            }
        }
    }

    fn prune(&self, now: Instant) {
        let forget_after = self.policy.forget_after;
        self.records.retain(|_, record| now.duration_since(record.last_failure) <= forget_after);
        if self.records.len() > PRUNE_ABOVE {
            // Still full of recent keys (a flood): keep those that are locked out, drop the rest.
            self.records.retain(|_, record| record.locked_until.is_some_and(|until| until > now));
        }
    }
}

/// The two throttles a login passes.
pub struct LoginThrottle {
    pub accounts: Throttle,
    pub addresses: Throttle,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle { accounts: Throttle::new(Policy::PER_ACCOUNT), addresses: Throttle::new(Policy::PER_ADDRESS) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Throttle {
        /// Counts one failure, as a failed login does (not counted while locked out).
        fn record_failure(&self, key: &str, now: Instant) {
            if self.attempt(key, now).is_err() {
                // Locked out: the attempt was refused before being counted, as in a real login.
            }
        }
    }

    #[test]
    fn the_fifth_failure_locks_then_lockouts_double() {
        let throttle = Throttle::new(Policy::PER_ACCOUNT);
        let start = Instant::now();
        for _ in 0..4 {
            throttle.record_failure("a@x", start);
            assert!(throttle.check("a@x", start).is_ok());
        }
        throttle.record_failure("a@x", start);
        assert_eq!(throttle.check("a@x", start), Err(Duration::from_secs(30)), "the 5th failure locks");
        let later = start + Duration::from_secs(31);
        assert!(throttle.check("a@x", later).is_ok(), "the lockout ends");
        throttle.record_failure("a@x", later);
        assert_eq!(throttle.check("a@x", later), Err(Duration::from_secs(60)), "and doubles");
        assert!(throttle.check("b@x", later).is_ok(), "other keys are unaffected");
    }

    #[test]
    fn attempts_count_before_the_verdict_and_locked_attempts_do_not() {
        let throttle = Throttle::new(Policy::PER_ACCOUNT);
        let now = Instant::now();
        let allowed = (0..20).filter(|_| throttle.attempt("a@x", now).is_ok()).count();
        assert_eq!(allowed, 5, "four free attempts and the fifth, which locks");
        throttle.record_success("a@x");
        assert!(throttle.attempt("a@x", now).is_ok(), "a success clears the count");

        let network = Throttle::new(Policy { lockout_after: 3, ..Policy::PER_ADDRESS });
        for _ in 0..3 {
            assert!(network.attempt("net", now).is_ok());
        }
        assert!(network.check("net", now).is_err(), "the third attempt locked");
        network.forgive_one("net");
        assert!(network.check("net", now).is_ok(), "it was a success after all");
    }

    #[test]
    fn lockouts_are_capped() {
        let throttle = Throttle::new(Policy::PER_ACCOUNT);
        let mut now = Instant::now();
        let mut longest = Duration::ZERO;
        for _ in 0..40 {
            throttle.record_failure("a@x", now);
            if let Err(wait) = throttle.check("a@x", now) {
                longest = longest.max(wait);
                now += wait;
            }
        }
        assert_eq!(longest, Duration::from_secs(15 * 60));
    }

    #[test]
    fn success_and_quiet_periods_reset() {
        let throttle = Throttle::new(Policy::PER_ACCOUNT);
        let now = Instant::now();
        for _ in 0..5 {
            throttle.record_failure("a@x", now);
        }
        throttle.record_success("a@x");
        assert!(throttle.check("a@x", now).is_ok());

        for _ in 0..4 {
            throttle.record_failure("b@x", now);
        }
        let much_later = now + Duration::from_secs(2 * 3600);
        throttle.record_failure("b@x", much_later);
        assert!(throttle.check("b@x", much_later).is_ok(), "old failures were forgotten");
    }
}
