//! Claim leases over time: while a holder has a socket open their leases are renewed; a lease
//! whose holder has been gone for [`crate::config::Config::claim_lease`] expires, and so does a
//! claim nobody used for [`crate::config::Config::claim_idle`] with no draft waiting (a keystroke
//! in an unassigned conversation must not hold it for as long as its typist stays online).
//! Everyone watching sees the conversation released.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::state::AppState;

/// When the keeper last looked at the leases.
#[derive(Default)]
pub struct LeaseKeeper {
    last_pass: AtomicI64,
}

impl LeaseKeeper {
    /// The time (Unix ms, by the server's clock) of the keeper's last finished pass: every lease
    /// that had run out by then is released (tests wait on it).
    pub fn last_pass(&self) -> i64 {
        self.last_pass.load(Ordering::Acquire)
    }
}

/// Renews and expires leases, several times per lease period, for as long as the server runs.
pub async fn keep(state: AppState) {
    let lease = state.config.claim_lease;
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    let idle_ms = i64::try_from(state.config.claim_idle.as_millis()).unwrap_or(i64::MAX);
    let mut tick = tokio::time::interval((lease / 4).max(Duration::from_millis(50)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = state.now();
        // One query finds who holds leases; only those who are also connected are renewed.
        let holders = match state.store.claim_holders(now).await {
            Ok(holders) => holders,
            Err(error) => {
                tracing::warn!(%error, "could not list lease holders");
                Vec::new()
            }
        };
        for user in holders.into_iter().filter(|user| state.hub.is_online(*user)) {
            if let Err(error) = state.store.renew_claims(user, now.saturating_add(lease_ms), now).await {
                tracing::warn!(%error, %user, "could not renew leases");
            }
        }
        let idle_before = now.saturating_sub(idle_ms);
        match state.store.expire_claims(now, idle_before).await {
            Ok(events) if !events.is_empty() => {
                tracing::info!(count = events.len(), "claims expired");
                state.bus.publish(&events);
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not expire leases"),
        }
        state.leases.last_pass.store(now, Ordering::Release);
    }
}
