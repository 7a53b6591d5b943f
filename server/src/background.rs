//! The server's background tasks and how they stop. [`start`] builds each worker from the handles
//! in [`AppState`] — only the pieces it uses, never the state itself — and spawns it in one
//! [`Background`] set, under one stop signal:
//!
//! - the webhook writer ([`whatsapp::intake::Worker`]) and the webhook worker
//!   ([`whatsapp::ingest::Worker`]);
//! - the sender ([`whatsapp::sender::Worker`]), receipts ([`whatsapp::receipts::Worker`]) and
//!   media downloads ([`whatsapp::media::Worker`]);
//! - the lease keeper ([`leases::Worker`]) and the draft writer ([`drafts::Worker`]);
//! - the router ([`routing::router::Worker`]), which drains the teams' queues, and the handover
//!   keeper ([`routing::handover::Worker`]), which returns absent agents' work to them;
//! - the automation worker ([`automation::worker::Worker`]), which does automation's due jobs;
//! - the reports' backlogs and quarter hours: agent load sampled, time online recorded (the last
//!   of it when the server stops);
//! - housekeeping loops with nothing to finish: expired sessions, the live stream's gaps, presence.
//!
//! Stopping happens after the HTTP server has drained (see [`crate::run`]): while requests are in
//! flight the writer must still be there to store the webhooks they wait on. Then every task is
//! told to stop, and each stops at its next safe point — between transactions, never inside one:
//! the webhook writer stores and answers what is queued, the draft writer flushes.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::task::{Id, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::state::AppState;
use crate::{automation, bus, drafts, hub, leases, routing, sessions, whatsapp};

/// A periodic worker's progress: the time (Unix ms, by the server's clock) of its last finished
/// pass — everything due by then was done. Tests wait on it instead of sleeping.
#[derive(Default)]
pub struct Progress {
    last_pass: AtomicI64,
}

impl Progress {
    pub fn last_pass(&self) -> i64 {
        self.last_pass.load(Ordering::Acquire)
    }

    /// Notes a pass that looked at everything due at `at`.
    pub fn passed(&self, at: i64) {
        self.last_pass.store(at, Ordering::Release);
    }
}

/// How long stopping waits for the tasks before it abandons them (a send or a download hanging
/// on the network must not keep the process from exiting).
pub const STOP_PATIENCE: Duration = Duration::from_secs(20);

/// Background tasks that stop on one signal.
#[derive(Default)]
pub struct Background {
    tasks: JoinSet<()>,
    names: HashMap<Id, &'static str>,
    stop: CancellationToken,
}

impl Background {
    /// Runs `task`, which must return soon after the stop signal (see [`Background::signal`]).
    pub fn spawn<F>(&mut self, name: &'static str, task: impl FnOnce(CancellationToken) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let handle = self.tasks.spawn(task(self.stop.clone()));
        self.names.insert(handle.id(), name);
    }

    /// Runs a loop that has nothing to finish: it is dropped at its next await once stopping.
    pub fn spawn_loop(&mut self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        self.spawn(name, |stop| async move {
            tokio::select! {
                () = task => {}
                () = stop.cancelled() => {}
            }
        });
    }

    /// The stop signal every task watches.
    pub fn signal(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Tells every task to stop and waits for them, at most `patience`; a task still running then
    /// is aborted (and named in the log).
    pub async fn stop(mut self, patience: Duration) {
        self.stop.cancel();
        let joined = tokio::time::timeout(patience, async {
            while let Some(joined) = self.tasks.join_next_with_id().await {
                match joined {
                    Ok((id, ())) => {
                        self.names.remove(&id);
                    }
                    Err(error) => {
                        let name = self.names.remove(&error.id()).unwrap_or("a task");
                        tracing::error!(task = name, %error, "a background task failed");
                    }
                }
            }
        })
        .await;
        if joined.is_err() {
            let waiting: Vec<&str> = self.names.values().copied().collect();
            tracing::warn!(tasks = ?waiting, "background tasks did not stop in time: abandoned");
            self.tasks.abort_all();
        }
    }
}

/// Builds the workers from the state's handles and starts them with the housekeeping loops.
pub fn start(state: &AppState, background: &mut Background) {
    let whatsapp = &state.whatsapp;
    match whatsapp.intake.worker(state.store.clone(), state.clock, whatsapp.ingest.clone()) {
        Some(writer) => background.spawn("webhook writer", |stop| writer.run(stop)),
        None => tracing::error!("the webhook writer was started twice"),
    }
    let ingest = ingest_worker(state);
    background.spawn("webhook worker", |stop| ingest.run(stop));
    if let Some(graph) = whatsapp.graph.clone() {
        let sender = whatsapp::sender::Worker {
            store: state.store.clone(),
            bus: state.bus.clone(),
            hub: state.hub.clone(),
            clock: state.clock,
            graph: graph.clone(),
            media: whatsapp.media.clone(),
            sender: whatsapp.sender.clone(),
            settings: whatsapp::sender::Settings::from(&state.config.whatsapp),
        };
        background.spawn("sender", |stop| sender.run(stop));
        if let Some(receipts) = whatsapp.receipts.worker(state.store.clone(), graph) {
            background.spawn("receipts", |stop| receipts.run(stop));
        }
    } else {
        tracing::info!("WhatsApp sending is off: set BATON_WHATSAPP_ACCESS_TOKEN and BATON_WHATSAPP_PHONE_NUMBER_ID");
    }
    if let Some(media) = whatsapp.media.worker(whatsapp.graph.clone()) {
        background.spawn("media downloads", |stop| media.run(stop));
    }
    let leases = leases::Worker {
        store: state.store.clone(),
        bus: state.bus.clone(),
        hub: state.hub.clone(),
        clock: state.clock,
        lease: state.config.claim_lease,
        idle: state.config.claim_idle,
        progress: state.leases.clone(),
    };
    background.spawn("lease keeper", |stop| leases.run(stop));
    match state.router.worker(state.store.clone(), state.bus.clone(), state.hub.clone(), state.clock) {
        Some(router) => background.spawn("router", |stop| router.run(stop)),
        None => tracing::error!("the router was started twice"),
    }
    let handover = routing::handover::Worker {
        store: state.store.clone(),
        bus: state.bus.clone(),
        hub: state.hub.clone(),
        clock: state.clock,
        progress: state.handovers.clone(),
    };
    background.spawn("handover keeper", |stop| handover.run(stop));
    let automation = automation::worker::Worker { state: state.clone(), automation: state.automation.clone() };
    background.spawn("automation", |stop| automation.run(stop));
    let drafts = drafts::Worker { writer: state.drafts.clone(), store: state.store.clone() };
    background.spawn("draft writer", |stop| drafts.run(stop));
    let store = state.store.clone();
    background.spawn("search backlog", |stop| search_backlog(store, stop));
    let store = state.store.clone();
    background.spawn("report backlog", |stop| report_backlog(store, stop));
    let (store, hub, clock, progress) =
        (state.store.clone(), state.hub.clone(), state.clock, state.quarter_hours.clone());
    background.spawn("quarter hours", move |stop| quarter_hours(store, hub, clock, progress, stop));

    background.spawn_loop("session housekeeping", sessions::housekeeping(state.store.clone(), state.clock));
    background.spawn_loop("gap filler", bus::fill_gaps(state.hub.clone(), state.store.clone()));
    let hub = state.hub.clone();
    background.spawn_loop("presence", async move {
        let mut tick = tokio::time::interval(hub::PRESENCE_INTERVAL);
        loop {
            tick.tick().await;
            if hub.presence_due() {
                hub.flush_presence();
            }
        }
    });
}

/// Samples agent load as each quarter hour begins, and records the time people spent online and
/// available as each ends (docs/reports.md): at start, then at every quarter hour by the server's
/// clock, and once more when the server stops. A quarter hour already sampled (a restart, another
/// node) keeps its load sample.
async fn quarter_hours(
    store: std::sync::Arc<dyn crate::store::Store>,
    hub: hub::Hub,
    clock: crate::clock::Clock,
    progress: std::sync::Arc<Progress>,
    stop: CancellationToken,
) {
    use crate::store::reports::BUCKET_MS;
    loop {
        let now = clock.now_ms();
        let quarter = now - now.rem_euclid(BUCKET_MS);
        // Time first: the hub splits it at the boundary, so taken a little late it is the same.
        record_presence(&*store, &hub).await;
        if let Err(error) = store.sample_load(quarter).await {
            tracing::warn!(%error, "could not sample agent load");
        }
        progress.passed(now);
        let wait = u64::try_from(quarter + BUCKET_MS - clock.now_ms()).unwrap_or(0).max(1);
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_millis(wait)) => {}
            () = stop.cancelled() => break,
        }
    }
    record_presence(&*store, &hub).await;
}

/// Records the presence time gathered since it was last taken; what cannot be recorded now is
/// given back to the hub, to be recorded with the next.
async fn record_presence(store: &dyn crate::store::Store, hub: &hub::Hub) {
    let times = hub.take_presence_time();
    if let Err(error) = store.record_presence(&times).await {
        tracing::warn!(%error, rows = times.len(), "could not record time online: trying again at the next quarter hour");
        hub.restore_presence_time(&times);
    }
}

/// The webhook worker, as [`start`] builds it (also for one pass on demand: [`whatsapp::ingest::drain`]).
pub fn ingest_worker(state: &AppState) -> whatsapp::ingest::Worker {
    whatsapp::ingest::Worker {
        store: state.store.clone(),
        bus: state.bus.clone(),
        clock: state.clock,
        media: state.whatsapp.media.clone(),
        phone_number_id: state.config.whatsapp.phone_number_id.clone(),
        wake: state.whatsapp.ingest.clone(),
    }
}

/// Indexes, a batch at a time, the messages and notes stored before search existed (an upgrade),
/// newest first; then ends. What is written meanwhile is indexed as it is written.
async fn search_backlog(store: std::sync::Arc<dyn crate::store::Store>, stop: CancellationToken) {
    let mut from = crate::store::search::Backlog::START;
    let mut batches = 0;
    while !stop.is_cancelled() {
        match store.index_backlog(from, 500).await {
            Ok(None) => break,
            Ok(Some(next)) => {
                from = next;
                batches += 1;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot index the search backlog: trying again in a minute");
                tokio::select! {
                    () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
                    () = stop.cancelled() => {}
                }
            }
        }
    }
    if batches > 0 {
        tracing::info!(batches, "messages and notes from before search are searchable");
    }
    let mut contacts = 0;
    while !stop.is_cancelled() {
        match store.index_contact_backlog(500).await {
            Ok(0) => break,
            Ok(done) => contacts += done,
            Err(error) => {
                tracing::warn!(%error, "cannot index the contacts' backlog: trying again in a minute");
                tokio::select! {
                    () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
                    () = stop.cancelled() => {}
                }
            }
        }
    }
    if contacts > 0 {
        tracing::info!(contacts, "contacts and labels from before contact search are searchable");
    }
}

/// Records, a batch at a time, the report facts of conversations from before reports (an
/// upgrade), newest first; then ends. What is written meanwhile records its own facts.
async fn report_backlog(store: std::sync::Arc<dyn crate::store::Store>, stop: CancellationToken) {
    let mut replayed = 0;
    while !stop.is_cancelled() {
        match store.replay_report_backlog(100).await {
            Ok(0) => break,
            Ok(done) => replayed += done,
            Err(error) => {
                tracing::warn!(%error, "cannot replay the reports' backlog: trying again in a minute");
                tokio::select! {
                    () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
                    () = stop.cancelled() => {}
                }
            }
        }
    }
    if replayed > 0 {
        tracing::info!(conversations = replayed, "conversations from before reports are in the reports");
    }
}
