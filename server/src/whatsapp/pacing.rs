//! Throughput pacing for sends (contract §9): at most the configured messages per second for the
//! business number (80 by default), and WhatsApp's pair limit per customer — one message every
//! 6 s on average, with bursts of up to 45 borrowed against later. Staying under both spares the
//! round trips that end in 130429 or 131056.
//!
//! Both are the generic cell rate algorithm: a "theoretical arrival time" per limit that each send
//! pushes forward by one interval; a send may go while that time is at most `burst - 1`
//! intervals ahead of now. Time is tokio's, so tests can drive it with a paused clock.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

/// The pair limit: one message per this interval per customer, on average.
pub const PAIR_INTERVAL: Duration = Duration::from_secs(6);
/// How many messages a customer may receive in a burst.
pub const PAIR_BURST: u32 = 45;
/// Above this many remembered customers, those with no debt left are forgotten.
const FORGET_ABOVE: usize = 10_000;

/// One limit's state.
#[derive(Clone, Copy, Debug)]
struct Cell {
    interval: Duration,
    tolerance: Duration,
}

impl Cell {
    fn new(interval: Duration, burst: u32) -> Self {
        Cell { interval, tolerance: interval.saturating_mul(burst.saturating_sub(1)) }
    }

    /// How long to wait before a send may go, given the theoretical arrival time `tat`.
    fn wait(&self, tat: Instant, now: Instant) -> Option<Duration> {
        let ahead = tat.saturating_duration_since(now);
        (ahead > self.tolerance).then(|| ahead - self.tolerance)
    }

    /// The arrival time after a send at `now`.
    fn advance(&self, tat: Instant, now: Instant) -> Instant {
        tat.max(now) + self.interval
    }
}

/// The sender's pacing state.
pub struct Pacing {
    number: Cell,
    number_tat: Instant,
    pair: Cell,
    recipients: HashMap<String, Instant>,
}

impl Pacing {
    /// Pacing for `messages_per_second` on the number (bursts of up to one second's worth).
    pub fn new(messages_per_second: u32) -> Self {
        let rate = messages_per_second.max(1);
        let now = Instant::now();
        Pacing {
            number: Cell::new(Duration::from_secs(1) / rate, rate),
            number_tat: now,
            pair: Cell::new(PAIR_INTERVAL, PAIR_BURST),
            recipients: HashMap::new(),
        }
    }

    /// `None` if a message to `wa_id` may go now (and counts it); otherwise how long to wait.
    pub fn recipient_wait(&mut self, wa_id: &str) -> Option<Duration> {
        let now = Instant::now();
        let tat = self.recipients.get(wa_id).copied().unwrap_or(now);
        if let Some(wait) = self.pair.wait(tat, now) {
            return Some(wait);
        }
        if self.recipients.len() >= FORGET_ABOVE {
            self.recipients.retain(|_, tat| *tat > now);
        }
        self.recipients.insert(wa_id.to_owned(), self.pair.advance(tat, now));
        None
    }

    /// Waits until the number may send one more message, and counts it.
    pub async fn number_slot(&mut self) {
        let now = Instant::now();
        if let Some(wait) = self.number.wait(self.number_tat, now) {
            tokio::time::sleep(wait).await;
        }
        let now = Instant::now();
        self.number_tat = self.number.advance(self.number_tat, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_number_sends_at_most_its_rate() {
        let mut pacing = Pacing::new(80);
        let start = Instant::now();
        for _ in 0..240 {
            pacing.number_slot().await;
        }
        // The first second's 80 go at once (the burst); the next 160 take two more seconds.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(1975), "{elapsed:?}");
        assert!(elapsed <= Duration::from_millis(2025), "{elapsed:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_customer_gets_a_burst_then_one_message_per_six_seconds() {
        let mut pacing = Pacing::new(80);
        for sent in 0..PAIR_BURST {
            assert_eq!(pacing.recipient_wait("15550002222"), None, "message {sent} of the burst");
        }
        let wait = pacing.recipient_wait("15550002222").expect("the burst is spent");
        assert_eq!(wait, PAIR_INTERVAL);
        assert_eq!(pacing.recipient_wait("15550003333"), None, "another customer is not held up");
        tokio::time::advance(wait).await;
        assert_eq!(pacing.recipient_wait("15550002222"), None);
        assert!(pacing.recipient_wait("15550002222").is_some());
    }
}
