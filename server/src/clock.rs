//! Time as stored in the database: Unix milliseconds. [`now_ms`] reads the wall clock;
//! [`Clock`] lets the WhatsApp sender schedule its retries by tokio's clock instead, so tests can
//! pause and advance it and see backoff happen without waiting for it.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 if the clock is set before 1970).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Where "now" comes from.
#[derive(Clone, Copy, Debug, Default)]
pub enum Clock {
    /// The wall clock: what a server runs by.
    #[default]
    Wall,
    /// The wall clock when it was made, moved on by tokio's clock since — which a test may pause
    /// (`tokio::time::pause`) and move (`tokio::time::advance`).
    Tokio { unix_ms: i64, since: tokio::time::Instant },
}

impl Clock {
    /// A clock that follows tokio's, starting at the wall clock's time now.
    pub fn following_tokio() -> Self {
        Clock::Tokio { unix_ms: now_ms(), since: tokio::time::Instant::now() }
    }

    /// Unix milliseconds now.
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::Wall => now_ms(),
            Clock::Tokio { unix_ms, since } => {
                unix_ms.saturating_add(i64::try_from(since.elapsed().as_millis()).unwrap_or(i64::MAX))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_tokio_clock_moves_only_with_tokio() {
        let clock = Clock::following_tokio();
        let start = clock.now_ms();
        tokio::time::advance(Duration::from_secs(90)).await;
        assert_eq!(clock.now_ms() - start, 90_000);
    }
}
