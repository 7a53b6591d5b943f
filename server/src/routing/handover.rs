//! Offline handover. When an agent's last socket closes, or they set themselves away, each of
//! their teams' conversations they hold goes back to that team's queue after the team's grace
//! (`grace_minutes`), with a line saying why ("Returned to the queue: Ann went offline"), and
//! routing gives it to the next eligible member. Coming back (a socket, `available` or `busy`)
//! within the grace keeps everything. Pending handovers are rows with a due time, carried out by
//! [`Worker`] — whichever node's keeper takes a row first — so they survive a restart.

use std::sync::Arc;
use std::time::Duration;

use baton_shared::UserId;
use baton_shared::protocol::PresenceStatus;
use tokio_util::sync::CancellationToken;

use crate::background::Progress;
use crate::bus::Bus;
use crate::clock::Clock;
use crate::hub::Hub;
use crate::state::AppState;
use crate::store::Store;
use crate::store::routing::Absence;

/// How often the keeper looks for handovers that are due.
pub const HANDOVER_TICK: Duration = Duration::from_secs(5);

/// What `user`'s presence means for their work: back (available or busy, with a socket), away,
/// or offline.
fn absence(hub: &Hub, user: UserId) -> Option<Absence> {
    match hub.presence_of(user) {
        Some((true, PresenceStatus::Away)) => Some(Absence::Away),
        Some((true, _)) => None,
        _ => Some(Absence::Offline),
    }
}

/// An agent's sockets or presence changed: a handover starts if they left, and is called off
/// if they came back — when they came back available, their teams' waiting work moves to them.
pub async fn presence_changed(state: &AppState, user: UserId) {
    let outcome = match absence(&state.hub, user) {
        Some(absence) => state.store.schedule_handovers(user, absence, state.now()).await,
        None => state.store.cancel_handovers(user).await,
    };
    if let Err(error) = outcome {
        tracing::warn!(%user, %error, "cannot note the presence change for handover");
    }
    if state.hub.is_available(user) {
        state.router.kick_user(&state.hub, user);
    }
}

/// The handover keeper: what it reads, writes and asks.
pub struct Worker {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    /// Who is back (a handover noted before they returned is called off).
    pub hub: Hub,
    pub clock: Clock,
    /// Its handle, where each finished pass is noted.
    pub progress: Arc<Progress>,
}

impl Worker {
    /// Carries out due handovers every [`HANDOVER_TICK`] until `stop`.
    pub async fn run(self, stop: CancellationToken) {
        let mut tick = tokio::time::interval(HANDOVER_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => self.pass().await,
            }
        }
    }

    async fn pass(&self) {
        let now = self.clock.now_ms();
        let due = match self.store.due_handovers(now).await {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(%error, "cannot read the handovers due");
                return;
            }
        };
        for handover in due {
            // Noted after they came back (a disconnect and a reconnect racing): called off.
            if absence(&self.hub, handover.user).is_none() {
                if let Err(error) = self.store.cancel_handovers(handover.user).await {
                    tracing::warn!(user = %handover.user, %error, "cannot call a handover off");
                }
                continue;
            }
            match self.store.hand_back(handover, now).await {
                Ok(events) => {
                    if !events.is_empty() {
                        tracing::info!(user = %handover.user, team = %handover.team, "work returned to the queue");
                    }
                    // The bus kicks the team's routing.
                    self.bus.publish(&events);
                }
                Err(error) => tracing::warn!(user = %handover.user, %error, "handover failed"),
            }
        }
        self.progress.passed(now);
    }
}
