//! [`AppState`]: what every handler can reach. Cheap to clone (Arcs inside). Later issues add the
//! WebSocket hub, the cross-node bus and the WhatsApp client here.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::config::{Config, Origin};
use crate::http::web::WebApp;
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
        Ok(AppState {
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
