//! The simulator's sense of time. Everything that expires or ages — the 24-hour window, media URLs, the
//! rate limit, webhook timestamps — reads tokio's clock, so a test that pauses and advances it
//! (`tokio::time::pause`/`advance`) moves all of them together, wall-clock timestamps included.

use std::time::{SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// Maps tokio instants to the Unix seconds that webhooks carry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    started: Instant,
    unix_at_start: u64,
}

impl Clock {
    pub(crate) fn new() -> Self {
        // A clock before 1970 is a broken machine; timestamps of 0 are still valid strings then.
        let unix_at_start = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs());
        Self { started: Instant::now(), unix_at_start }
    }

    pub(crate) fn now(&self) -> Instant {
        Instant::now()
    }

    /// Unix seconds now, advancing with tokio's (possibly paused) clock.
    pub(crate) fn unix_seconds(&self) -> u64 {
        self.unix_at(Instant::now())
    }

    pub(crate) fn unix_at(&self, instant: Instant) -> u64 {
        self.unix_at_start + instant.saturating_duration_since(self.started).as_secs()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn unix_time_follows_the_paused_clock() {
        let clock = Clock::new();
        let before = clock.unix_seconds();
        tokio::time::advance(Duration::from_secs(3600)).await;
        assert_eq!(clock.unix_seconds(), before + 3600);
    }
}
