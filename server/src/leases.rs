//! Claim leases over time: while a holder has a socket open their leases are renewed; a lease
//! whose holder has been gone for [`crate::config::Config::claim_lease`] expires, and so does a
//! claim nobody used for [`crate::config::Config::claim_idle`] with no draft waiting (a keystroke
//! in an unassigned conversation must not hold it for as long as its typist stays online).
//! Everyone watching sees the conversation released.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::background::Progress;
use crate::bus::Bus;
use crate::clock::Clock;
use crate::hub::Hub;
use crate::store::Store;

/// The lease keeper: what it reads, writes and asks — not the whole server.
pub struct Worker {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    /// Who is online (only their leases are renewed).
    pub hub: Hub,
    pub clock: Clock,
    /// [`crate::config::Config::claim_lease`].
    pub lease: Duration,
    /// [`crate::config::Config::claim_idle`].
    pub idle: Duration,
    /// Its handle, where each finished pass is noted.
    pub progress: Arc<Progress>,
}

impl Worker {
    /// Renews and expires leases, several times per lease period, until `stop` (a pass under way
    /// finishes first).
    pub async fn run(self, stop: CancellationToken) {
        let mut tick = tokio::time::interval((self.lease / 4).max(Duration::from_millis(50)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = stop.cancelled() => return,
            }
            self.pass().await;
        }
    }

    async fn pass(&self) {
        let lease_ms = i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX);
        let idle_ms = i64::try_from(self.idle.as_millis()).unwrap_or(i64::MAX);
        let now = self.clock.now_ms();
        // One query finds who holds leases; those who are also connected are renewed in one
        // statement.
        let holders = match self.store.claim_holders(now).await {
            Ok(holders) => holders,
            Err(error) => {
                tracing::warn!(%error, "could not list lease holders");
                Vec::new()
            }
        };
        let online: Vec<_> = holders.into_iter().filter(|user| self.hub.is_online(*user)).collect();
        if let Err(error) = self.store.renew_claims(&online, now.saturating_add(lease_ms), now).await {
            tracing::warn!(%error, holders = online.len(), "could not renew leases");
        }
        let idle_before = now.saturating_sub(idle_ms);
        match self.store.expire_claims(now, idle_before).await {
            Ok(events) if !events.is_empty() => {
                tracing::info!(count = events.len(), "claims expired");
                self.bus.publish(&events);
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not expire leases"),
        }
        self.progress.passed(now);
    }
}
