//! # Baton's server
//!
//! A guide for newcomers, in the order a request meets the code:
//!
//! - [`cli`] parses the `baton` command line (`serve`, `demo`, `user add`) into a [`config::Config`].
//! - [`run`] takes a bound listener, so tests start a server on port 0 and know its address before
//!   the first request, and serves until the shutdown future resolves.
//! - [`http::router`] assembles the routes (one module per resource under `http/`), the error
//!   shape, CSRF defence, request ids, tracing, compression and the static web app.
//! - Handlers stay thin: they authenticate through [`sessions::CurrentUser`], check the role, and
//!   call a domain operation ([`accounts`]) which validates and goes to the [`store::Store`].
//! - [`store`] is the only place that speaks SQL: one trait, one SQLite and one PostgreSQL
//!   implementation, each with its own migrations under `migrations/`.
//! - [`conversations`] is the conversation domain: every rule on a conversation (who may see it,
//!   claim, send, assign) as one operation taking an actor. Socket and REST handlers only call it.
//! - [`ws`] upgrades `/ws` (session cookie, Origin allowlist, size limits) and runs one task per
//!   socket; [`realtime`] dispatches each request to the domain, [`hub`] fans frames out, [`bus`] carries committed
//!   events to the hub, [`leases`] renews and expires claims, and [`drafts`] keeps drafts in batches.
//! - [`whatsapp`] is the channel: signed webhooks stored, then ingested by a worker.
//! - [`state::AppState`] is what every handler can reach: config, store, password hasher, login
//!   throttle, hub and bus.

pub mod accounts;
pub mod bus;
pub mod cli;
pub mod clock;
pub mod config;
pub mod conversations;
pub mod demo;
pub mod drafts;
pub mod error;
pub mod http;
pub mod hub;
pub mod input;
pub mod leases;
pub mod passwords;
pub mod realtime;
pub mod sessions;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod throttle;
pub mod whatsapp;
pub mod ws;

use axum::serve::ListenerExt;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

pub use config::Config;
pub use state::AppState;

/// Serves Baton on an already-bound listener until `shutdown` resolves, then drains in-flight
/// requests. Background housekeeping (expired sessions) runs for as long as the server does.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Agents' inbox feeds are filtered by assignment: the hub starts from the store's.
    state.hub.load_assignments(state.store.assignments().await?);
    // Live events go out in seq order: each conversation continues from the store's last seq.
    state.hub.load_sequences(state.store.last_seqs().await?);
    let gaps = tokio::spawn(bus::fill_gaps(state.hub.clone(), state.store.clone()));
    let housekeeping = tokio::spawn(sessions::housekeeping(state.clone()));
    let leases = tokio::spawn(leases::keep(state.clone()));
    let drafts = tokio::spawn(state.drafts.clone().keep(state.store.clone()));
    let intake = tokio::spawn(whatsapp::intake::run(state.clone()));
    let ingest = tokio::spawn(whatsapp::ingest::run(state.clone()));
    let sender = tokio::spawn(whatsapp::sender::run(state.clone()));
    let hub = state.hub.clone();
    let presence = tokio::spawn(async move {
        let mut tick = tokio::time::interval(hub::PRESENCE_INTERVAL);
        loop {
            tick.tick().await;
            hub.flush_presence();
        }
    });
    let (draft_writer, store) = (state.drafts.clone(), state.store.clone());
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    // Live frames are small and must leave at once: no Nagle delay behind an unacknowledged one.
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    });
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    housekeeping.abort();
    gaps.abort();
    leases.abort();
    presence.abort();
    drafts.abort();
    intake.abort();
    ingest.abort();
    sender.abort();
    // What was typed in the last moments is kept too.
    draft_writer.flush(&*store).await;
    served.map_err(anyhow::Error::from)
}
