//! The router: drains the pushing teams' queues. Anything that may let waiting work move — a
//! conversation entering or returning to a queue, a claim ending, capacity freed by a resolve or
//! a reassignment, an agent becoming available — kicks the teams concerned ([`Router::observe`]
//! sees every committed event on the bus; presence changes kick directly). Each kicked team is
//! drained by one task at a time: routing steps ([`crate::store::QueueStore::route_next`]) until
//! nothing more can move. Kicks that come while a team drains make it drain once more.
//!
//! Nothing here is needed for correctness after a restart or on another node: every step reads
//! and writes the database, and a sweep drains every pushing team every [`SWEEP_EVERY`] (and at
//! start), so work that waits because a kick was lost still moves.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use baton_shared::model::{Change, ConversationEvent, ConversationStatus};
use baton_shared::{TeamId, UserId};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::bus::Bus;
use crate::clock::Clock;
use crate::hub::Hub;
use crate::hub::access::Place;
use crate::store::Store;
use crate::store::routing::RouteOutcome;

/// How often every pushing team is drained even without a kick.
pub const SWEEP_EVERY: Duration = Duration::from_secs(15);

/// Most routing steps one drain takes before it lets other teams' drains run.
const STEPS_PER_DRAIN: usize = 200;

/// The handle the bus, the sockets and the domain kick teams through. Cheap to clone.
#[derive(Clone)]
pub struct Router {
    kicks: mpsc::UnboundedSender<TeamId>,
    receiver: Arc<Mutex<Option<mpsc::UnboundedReceiver<TeamId>>>>,
}

impl Default for Router {
    fn default() -> Self {
        let (kicks, receiver) = mpsc::unbounded_channel();
        Router { kicks, receiver: Arc::new(Mutex::new(Some(receiver))) }
    }
}

impl Router {
    /// Asks for `team`'s queue to be drained.
    pub fn kick(&self, team: TeamId) {
        // Only fails once the worker has stopped, when nothing is routed any more.
        let _ = self.kicks.send(team);
    }

    /// Kicks every team of `user` (they became available, or have room again).
    pub fn kick_user(&self, hub: &Hub, user: UserId) {
        for team in hub.teams_of(user).iter() {
            self.kick(*team);
        }
    }

    /// Where the conversations of `events` are before the hub applies them.
    pub fn before(hub: &Hub, events: &[ConversationEvent]) -> Vec<Place> {
        events.iter().filter(|event| moves_work(&event.change)).map(|event| hub.place(event.conversation_id)).collect()
    }

    /// After the hub applied `events` (whose places were `before`): kicks the queues work may
    /// now move in — the conversation's team, and the teams of whoever held it before and holds
    /// it now (capacity freed, or an agent's load changed).
    pub fn observe(&self, hub: &Hub, events: &[ConversationEvent], before: &[Place]) {
        let moved = events.iter().filter(|event| moves_work(&event.change));
        for (event, before) in moved.zip(before) {
            let after = hub.place(event.conversation_id);
            for team in [before.team, after.team].into_iter().flatten() {
                self.kick(team);
            }
            for user in [before.assignee, after.assignee].into_iter().flatten() {
                self.kick_user(hub, user);
            }
        }
    }

    /// The worker that drains; `None` if it was made already.
    pub fn worker(&self, store: Arc<dyn Store>, bus: Arc<dyn Bus>, hub: Hub, clock: Clock) -> Option<Worker> {
        let kicks = self.receiver.lock().unwrap_or_else(PoisonError::into_inner).take()?;
        Some(Worker { kicks, store, bus, hub, clock })
    }
}

/// Whether an event may let waiting work move.
fn moves_work(change: &Change) -> bool {
    match change {
        Change::Opened { .. } | Change::Assigned { .. } | Change::Triaged { .. } | Change::Released { .. } => true,
        Change::StatusChanged { status } => *status != ConversationStatus::Pending,
        _ => false,
    }
}

/// The draining worker: what it reads, writes and asks.
pub struct Worker {
    kicks: mpsc::UnboundedReceiver<TeamId>,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    /// Who is available (routing pushes work only to them).
    hub: Hub,
    clock: Clock,
}

impl Worker {
    /// Drains kicked teams until `stop`; drains under way finish their step first.
    pub async fn run(mut self, stop: CancellationToken) {
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Per team being drained: whether it was kicked again meanwhile.
        let mut draining: HashMap<TeamId, bool> = HashMap::new();
        let mut drains: JoinSet<(TeamId, bool)> = JoinSet::new();
        // Which team each drain task serves, so a drain that panicked lets its team go.
        let mut tasks: HashMap<tokio::task::Id, TeamId> = HashMap::new();
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                Some(team) = self.kicks.recv() => self.start(team, &mut draining, &mut drains, &mut tasks, &stop),
                Some(done) = drains.join_next_with_id(), if !drains.is_empty() => match done {
                    Ok((task, (team, unfinished))) => {
                        tasks.remove(&task);
                        if draining.remove(&team) == Some(true) || unfinished {
                            self.start(team, &mut draining, &mut drains, &mut tasks, &stop);
                        }
                    }
                    Err(error) => {
                        tracing::error!(%error, "a routing drain failed");
                        // Its team is drained again at the next kick or sweep.
                        if let Some(team) = tasks.remove(&error.id()) {
                            draining.remove(&team);
                        }
                    }
                },
                _ = sweep.tick() => match self.store.pushing_teams().await {
                    Ok(teams) => {
                        for team in teams {
                            self.start(team, &mut draining, &mut drains, &mut tasks, &stop);
                        }
                    }
                    Err(error) => tracing::warn!(%error, "cannot list the teams to route"),
                },
            }
        }
        while drains.join_next().await.is_some() {}
    }

    fn start(
        &self,
        team: TeamId,
        draining: &mut HashMap<TeamId, bool>,
        drains: &mut JoinSet<(TeamId, bool)>,
        tasks: &mut HashMap<tokio::task::Id, TeamId>,
        stop: &CancellationToken,
    ) {
        if let Some(again) = draining.get_mut(&team) {
            *again = true;
            return;
        }
        draining.insert(team, false);
        let (store, bus, hub, clock, stop) =
            (self.store.clone(), self.bus.clone(), self.hub.clone(), self.clock, stop.clone());
        let task = drains.spawn(async move {
            let unfinished = drain(store.as_ref(), bus.as_ref(), &hub, clock, team, &stop).await;
            (team, unfinished)
        });
        tasks.insert(task.id(), team);
    }
}

/// Routes the head of `team`'s queue until nothing more can move; answers whether it stopped
/// with work still movable (after [`STEPS_PER_DRAIN`]), to be drained again.
async fn drain(
    store: &dyn Store,
    bus: &dyn Bus,
    hub: &Hub,
    clock: Clock,
    team: TeamId,
    stop: &CancellationToken,
) -> bool {
    let eligible = |user: UserId| hub.is_available(user);
    for _ in 0..STEPS_PER_DRAIN {
        if stop.is_cancelled() {
            return false;
        }
        match store.route_next(team, &eligible, clock.now_ms()).await {
            Ok(RouteOutcome::Assigned { assignee, events }) => {
                tracing::debug!(%team, %assignee, "routed");
                bus.publish(&events);
            }
            Ok(RouteOutcome::Raced) => {}
            Ok(RouteOutcome::Idle) => return false,
            Err(error) => {
                tracing::warn!(%team, %error, "routing step failed");
                return false;
            }
        }
    }
    true
}
