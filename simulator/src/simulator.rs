//! The handle tests hold: [`Simulator::start`] serves the Graph API, the control API and the phone page on
//! one listener, and the handle's methods (here and in `script.rs`, `observe.rs`) drive and watch it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::state::Shared;
use crate::{control, graph, phone};

/// How long [`Simulator::shutdown`] waits for open connections to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running simulator. Dropping it stops the server and every background task (status progressions,
/// webhook re-sends); [`Simulator::shutdown`] also waits for the server to finish.
pub struct Simulator {
    pub(crate) shared: Arc<Shared>,
    address: SocketAddr,
    server: Option<JoinHandle<()>>,
    /// The last request sequence [`Simulator::next_request`] returned.
    pub(crate) request_cursor: Mutex<u64>,
    /// The last delivery id [`Simulator::next_delivery`] returned.
    pub(crate) delivery_cursor: Mutex<u64>,
}

impl Simulator {
    /// Serves on `listener` (bind `127.0.0.1:0` in tests). The listener is already bound, so the simulator
    /// accepts requests as soon as this returns: no waiting for readiness.
    pub async fn start(config: Config, listener: TcpListener) -> anyhow::Result<Self> {
        let mut address = listener.local_addr()?;
        if address.ip().is_unspecified() {
            // Listening on every interface: loopback is the address that surely reaches it.
            address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let shared = Arc::new(Shared::new(config, format!("http://{address}"))?);
        let router = router(Arc::clone(&shared));
        let stopped = shared.stopped();
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).with_graceful_shutdown(stopped).await {
                tracing::error!(%error, "the simulator's server stopped");
            }
        });
        tracing::info!(%address, "WhatsApp simulator listening");
        Ok(Self {
            shared,
            address,
            server: Some(server),
            request_cursor: Mutex::new(0),
            delivery_cursor: Mutex::new(0),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:<port>`: the phone page is here, the control API under `/_sim`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// What Baton's `BATON_WHATSAPP_GRAPH_URL` should be: Baton appends `/{version}/…` as it would to
    /// `https://graph.facebook.com`.
    pub fn graph_url(&self) -> String {
        self.base_url()
    }

    /// The configuration it started with (runtime changes through the setters are not reflected here).
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Where webhooks go now.
    pub fn webhook_url(&self) -> Option<String> {
        self.shared.settings().webhook_url.clone()
    }

    /// Points webhooks at Baton (`http://host:port/webhooks/whatsapp`); usually called once Baton is up.
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        self.shared.settings().webhook_url = Some(url.into());
    }

    /// Stops accepting requests and background work, and waits (briefly) for the server to finish.
    pub async fn shutdown(mut self) {
        self.shared.stop();
        if let Some(server) = self.server.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, server).await.is_err()
        {
            tracing::warn!("the simulator's server did not finish within {SHUTDOWN_GRACE:?}");
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.shared.stop();
    }
}

/// Every route on one router: the phone page at `/`, the control API under `/_sim`, the Graph API for the
/// rest (including Meta's "unknown path" answer as the fallback).
fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(phone::routes())
        .nest("/_sim", control::routes())
        .merge(graph::routes())
        .fallback(graph::unknown_path)
        .with_state(shared)
}
