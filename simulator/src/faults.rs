//! Failures a test asks for: forced synchronous errors on the next sends (optionally for one recipient),
//! sends that are accepted but end in a `failed` status, and a messages-per-second limit answered with
//! 130429. The 24-hour window is enforced elsewhere ([`crate::customers`]), as it is not a fault but a rule.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// A scripted failure: `count` sends (to `recipient` only, when set) fail with `code`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForcedFailure {
    pub code: i64,
    pub count: u32,
    /// A `wa_id` (digits); `None` for any recipient.
    #[serde(default)]
    pub recipient: Option<String>,
}

#[derive(Default)]
struct Script {
    /// Answered synchronously, with the HTTP status the contract suggests for the code.
    sync_errors: Vec<ForcedFailure>,
    /// Accepted, then a `failed` status webhook.
    async_failures: Vec<ForcedFailure>,
    per_second: Option<u32>,
    recent_sends: VecDeque<Instant>,
}

#[derive(Default)]
pub(crate) struct Faults {
    script: Mutex<Script>,
}

impl Faults {
    fn lock(&self) -> MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn add_sync_error(&self, failure: ForcedFailure) {
        if failure.count > 0 {
            self.lock().sync_errors.push(failure);
        }
    }

    pub(crate) fn add_async_failure(&self, failure: ForcedFailure) {
        if failure.count > 0 {
            self.lock().async_failures.push(failure);
        }
    }

    /// The code the next send to `wa_id` must fail with synchronously, using up one forced failure.
    pub(crate) fn take_sync_error(&self, wa_id: &str) -> Option<i64> {
        take(&mut self.lock().sync_errors, wa_id)
    }

    /// The code an accepted send to `wa_id` must end with in a `failed` status, using up one.
    pub(crate) fn take_async_failure(&self, wa_id: &str) -> Option<i64> {
        take(&mut self.lock().async_failures, wa_id)
    }

    pub(crate) fn set_rate_limit(&self, per_second: Option<u32>) {
        let mut script = self.lock();
        script.per_second = per_second;
        script.recent_sends.clear();
    }

    pub(crate) fn rate_limit(&self) -> Option<u32> {
        self.lock().per_second
    }

    /// Counts a send against the limit. `false` means it is over the limit (and is not counted, so that a
    /// sender that backs off gets through once the second has passed).
    pub(crate) fn admit_send(&self, now: Instant) -> bool {
        let mut script = self.lock();
        let Some(per_second) = script.per_second else {
            return true;
        };
        while script
            .recent_sends
            .front()
            .is_some_and(|sent| now.saturating_duration_since(*sent) >= Duration::from_secs(1))
        {
            script.recent_sends.pop_front();
        }
        if script.recent_sends.len() >= usize::try_from(per_second).unwrap_or(usize::MAX) {
            return false;
        }
        script.recent_sends.push_back(now);
        true
    }

    /// Forgets every scripted failure and the rate limit.
    pub(crate) fn clear(&self) {
        *self.lock() = Script::default();
    }
}

fn take(failures: &mut Vec<ForcedFailure>, wa_id: &str) -> Option<i64> {
    let position =
        failures.iter().position(|failure| failure.recipient.as_deref().is_none_or(|recipient| recipient == wa_id))?;
    let failure = &mut failures[position];
    let code = failure.code;
    failure.count -= 1;
    if failure.count == 0 {
        failures.remove(position);
    }
    Some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forced_errors_are_used_up_and_respect_the_recipient() {
        let faults = Faults::default();
        faults.add_sync_error(ForcedFailure { code: 131056, count: 1, recipient: Some("15550003333".into()) });
        faults.add_sync_error(ForcedFailure { code: 131000, count: 2, recipient: None });
        assert_eq!(faults.take_sync_error("15550003333"), Some(131056));
        assert_eq!(faults.take_sync_error("15550003333"), Some(131000));
        assert_eq!(faults.take_sync_error("15550002222"), Some(131000));
        assert_eq!(faults.take_sync_error("15550002222"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_limit_is_per_second() {
        let faults = Faults::default();
        faults.set_rate_limit(Some(2));
        assert!(faults.admit_send(Instant::now()));
        assert!(faults.admit_send(Instant::now()));
        assert!(!faults.admit_send(Instant::now()));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(faults.admit_send(Instant::now()));
    }
}
