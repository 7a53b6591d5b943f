//! The customers: they write through the WhatsApp simulator (signed webhooks, as Meta sends them)
//! at a steady rate with bursts, open loop — a webhook goes out on time whether or not Baton has
//! answered the earlier ones, up to a bound on those still waiting.

use std::sync::Arc;
use std::time::Duration;

use baton_simulator::{Customer, Inbound, Simulator};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::stream::Tally;

/// At most this many webhooks waiting for Baton's answer; beyond it a webhook is skipped (and
/// counted), so a stalled server cannot make the load generator grow without bound.
const IN_FLIGHT: usize = 256;

/// How customers write: a steady rate, and now and then many at once.
pub struct Writing {
    pub per_second: f64,
    /// Every `burst_every`, `burst` messages go out at the same moment (concurrent writers of
    /// the same conversations: the hub must still send each conversation's events in order).
    pub burst: usize,
    pub burst_every: Duration,
}

/// Writes as `writing` says, spread over `customers`, until `until`; returns when every webhook
/// sent has been answered, with the number skipped because too many were waiting.
pub async fn write(
    simulator: Arc<Simulator>,
    customers: Arc<Vec<Customer>>,
    writing: Writing,
    until: Instant,
    tally: Arc<Tally>,
) -> anyhow::Result<u64> {
    if customers.is_empty() {
        return Ok(0);
    }
    let gate = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / writing.per_second.max(0.001)));
    // Open loop: a late tick is not made up for in a burst, and not skipped silently either.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut bursts = tokio::time::interval_at(Instant::now() + writing.burst_every, writing.burst_every);
    let mut tasks = tokio::task::JoinSet::new();
    let mut skipped = 0;
    let mut sent: u64 = 0;
    while Instant::now() < until {
        let count = tokio::select! {
            _ = tick.tick(), if writing.per_second > 0.0 => 1,
            _ = bursts.tick(), if writing.burst > 0 => writing.burst,
            () = tokio::time::sleep_until(until) => 0,
        };
        for _ in 0..count {
            let Ok(permit) = gate.clone().try_acquire_owned() else {
                skipped += 1;
                continue;
            };
            let customer = customers[(sent % customers.len() as u64) as usize].clone();
            sent += 1;
            let (simulator, tally) = (simulator.clone(), tally.clone());
            tasks.spawn(async move {
                let receipt = simulator.send(&customer, Inbound::text(format!("Soak message {sent}"))).await;
                drop(permit);
                let mut figures = tally.lock();
                figures.webhooks_sent += 1;
                // The simulator re-sends a refused webhook by itself, as Meta does.
                if !receipt.is_ok_and(|receipt| receipt.delivery.acknowledged()) {
                    figures.webhooks_refused += 1;
                }
            });
        }
        // Finished tasks are collected as they go: the set stays as small as what is in flight.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    Ok(skipped)
}
