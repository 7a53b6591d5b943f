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
//! - [`whatsapp`] is the channel: signed webhooks stored by a writer, then ingested by a worker;
//!   replies posted by the sender; receipts and media downloads off the request path.
//! - [`state::AppState`] is what every handler can reach: config, the one [`clock::Clock`], store,
//!   password hasher, login throttle, hub, bus, and handles to the workers (the WhatsApp ones
//!   grouped under `state.whatsapp`).
//! - [`background`] builds each worker from those handles — only the pieces it uses, never the
//!   state — and runs them in one set with one stop signal: on SIGTERM or Ctrl+C ([`cli`]) Baton
//!   stops accepting, lets in-flight requests, transactions and queued webhook writes finish,
//!   flushes drafts, and exits 0.

pub mod accounts;
pub mod automation;
pub mod background;
pub mod bus;
pub mod cli;
pub mod clock;
pub mod config;
pub mod contacts;
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
pub mod reports;
pub mod routing;
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

/// Serves Baton on an already-bound listener until `shutdown` resolves, with the background
/// workers ([`background`]) running beside it.
///
/// Stopping, in order: no new connection is accepted and the requests in flight finish (a
/// webhook waiting on the intake writer gets its answer: the writer still runs); then every
/// background task is told to stop and waited for — the intake writer stores and answers what is
/// queued, the workers finish the transaction they are in, the draft writer flushes.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Agents' inbox feeds are filtered by assignee and team: the hub starts from the store's.
    let places = state.store.placements().await?.into_iter().map(|placement| {
        (placement.conversation, hub::access::Place { assignee: placement.assignee, team: placement.team })
    });
    state.hub.load_places(places);
    routing::refresh_memberships(&state).await?;
    // Live events go out in seq order: each conversation continues from the store's last seq.
    state.hub.load_sequences(state.store.last_seqs().await?);
    let mut tasks = background::Background::default();
    background::start(&state, &mut tasks);
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    // Live frames are small and must leave at once: no Nagle delay behind an unacknowledged one.
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    });
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    tracing::info!("requests drained: stopping the background workers");
    tasks.stop(background::STOP_PATIENCE).await;
    tracing::info!("stopped");
    served.map_err(anyhow::Error::from)
}
