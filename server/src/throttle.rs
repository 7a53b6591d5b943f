//! Login throttling. Failed logins are counted per email (whether or not the account exists, so
//! the throttle reveals nothing) and per client address. After a few free failures each key is
//! locked out for a delay that doubles with every further failure, up to a cap; a successful
//! login clears its email's count. Counts are forgotten after a quiet period.
//!
//! Time is passed in, so the policy is tested without waiting.

use std::time::{Duration, Instant};

use dashmap::DashMap;

/// The throttle policy.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Failures allowed before lockouts start.
    pub free_failures: u32,
    /// Lockout after the first failure past the free ones; doubles with each further failure.
    pub base_lockout: Duration,
    pub max_lockout: Duration,
    /// A key with no failure for this long starts afresh.
    pub forget_after: Duration,
}

impl Policy {
    /// Per email: 5 free failures, then 30 s, 60 s, … up to 15 minutes.
    pub const PER_ACCOUNT: Policy = Policy {
        free_failures: 5,
        base_lockout: Duration::from_secs(30),
        max_lockout: Duration::from_secs(15 * 60),
        forget_after: Duration::from_secs(60 * 60),
    };
    /// Per client address: generous (teams share offices and proxies), still stops a sweep.
    pub const PER_ADDRESS: Policy = Policy {
        free_failures: 50,
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

/// Past this many tracked keys, stale ones are pruned on the next failure.
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

    pub fn record_failure(&self, key: &str, now: Instant) {
        if self.records.len() > PRUNE_ABOVE {
            self.prune(now);
        }
        let policy = self.policy;
        let mut entry =
            self.records.entry(key.to_owned()).or_insert(Record { failures: 0, last_failure: now, locked_until: None });
        if now.duration_since(entry.last_failure) > policy.forget_after {
            *entry = Record { failures: 0, last_failure: now, locked_until: None };
        }
        entry.failures += 1;
        entry.last_failure = now;
        if entry.failures > policy.free_failures {
            let doublings = (entry.failures - policy.free_failures - 1).min(16);
            let lockout = policy.base_lockout.saturating_mul(1 << doublings).min(policy.max_lockout);
            entry.locked_until = Some(now + lockout);
        }
    }

    pub fn record_success(&self, key: &str) {
        self.records.remove(key);
    }

    fn prune(&self, now: Instant) {
        let forget_after = self.policy.forget_after;
        self.records.retain(|_, record| now.duration_since(record.last_failure) <= forget_after);
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

    #[test]
    fn free_failures_then_doubling_lockouts() {
        let throttle = Throttle::new(Policy::PER_ACCOUNT);
        let start = Instant::now();
        for _ in 0..5 {
            assert!(throttle.check("a@x", start).is_ok());
            throttle.record_failure("a@x", start);
        }
        assert!(throttle.check("a@x", start).is_ok(), "five failures are free");
        throttle.record_failure("a@x", start);
        assert_eq!(throttle.check("a@x", start), Err(Duration::from_secs(30)));
        let later = start + Duration::from_secs(31);
        assert!(throttle.check("a@x", later).is_ok(), "the lockout ends");
        throttle.record_failure("a@x", later);
        assert_eq!(throttle.check("a@x", later), Err(Duration::from_secs(60)), "and doubles");
        assert!(throttle.check("b@x", later).is_ok(), "other keys are unaffected");
    }

    #[test]
    fn lockouts_are_capped() {
        let throttle = Throttle::new(Policy::PER_ACCOUNT);
        let now = Instant::now();
        for _ in 0..40 {
            throttle.record_failure("a@x", now);
        }
        assert_eq!(throttle.check("a@x", now), Err(Duration::from_secs(15 * 60)));
    }

    #[test]
    fn success_and_quiet_periods_reset() {
        let throttle = Throttle::new(Policy::PER_ACCOUNT);
        let now = Instant::now();
        for _ in 0..6 {
            throttle.record_failure("a@x", now);
        }
        throttle.record_success("a@x");
        assert!(throttle.check("a@x", now).is_ok());

        for _ in 0..5 {
            throttle.record_failure("b@x", now);
        }
        let much_later = now + Duration::from_secs(2 * 3600);
        throttle.record_failure("b@x", much_later);
        assert!(throttle.check("b@x", much_later).is_ok(), "old failures were forgotten");
    }
}
