//! [`AppState`]: what every handler can reach. Cheap to clone (Arcs inside). The WhatsApp client
//! joins it with the channel.

use std::net::SocketAddr;
use std::sync::Arc;

use baton_shared::ConversationId;
use baton_shared::protocol::Teammate;

use crate::bus::{Bus, LocalBus};
use crate::clock::now_ms;
use crate::config::{Config, Origin};
use crate::http::web::WebApp;
use crate::hub::{DraftSaver, Hub};
use crate::passwords::Passwords;
use crate::store::Store;
use crate::throttle::LoginThrottle;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub passwords: Passwords,
    pub login_throttle: Arc<LoginThrottle>,
    /// Origins allowed to make state-changing requests (and, later, open the WebSocket).
    pub origins: Arc<[Origin]>,
    pub web: Arc<WebApp>,
    pub hub: Hub,
    pub bus: Arc<dyn Bus>,
}

/// Saves drafts in the store, off the socket's path.
struct StoreDrafts {
    store: Arc<dyn Store>,
}

impl DraftSaver for StoreDrafts {
    fn save(&self, conversation: ConversationId, user: &Teammate, body: String) {
        let store = self.store.clone();
        let user = user.id;
        tokio::spawn(async move {
            if let Err(error) = store.save_draft(conversation, user, &body, now_ms()).await {
                tracing::warn!(%error, %conversation, %user, "could not save a draft");
            }
        });
    }
}

impl AppState {
    /// Builds the state for a server bound to `local_addr`. Without configured public origins, the
    /// local ones of that address are allowed (`http://localhost:PORT`, `http://127.0.0.1:PORT`).
    pub fn new(config: Config, store: Arc<dyn Store>, local_addr: SocketAddr) -> anyhow::Result<Self> {
        let origins: Arc<[Origin]> = if config.public_origins.is_empty() {
            Origin::local_defaults(local_addr).into()
        } else {
            config.public_origins.clone().into()
        };
        let web = Arc::new(WebApp::load(&config.web_dir));
        let hub = Hub::new(config.hub, Arc::new(StoreDrafts { store: store.clone() }));
        let bus = Arc::new(LocalBus::new(hub.clone()));
        Ok(AppState {
            hub,
            bus,
            config: Arc::new(config),
            store,
            passwords: Passwords::new()?,
            login_throttle: Arc::new(LoginThrottle::default()),
            origins,
            web,
        })
    }

    pub fn allows_origin(&self, origin: &str) -> bool {
        Origin::parse(origin).is_ok_and(|origin| self.origins.contains(&origin))
    }
}
