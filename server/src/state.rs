//! [`AppState`]: what every handler can reach — handles, grouped, and one clock. Cheap to clone
//! (Arcs inside). Background workers never hold it: each gets only its pieces
//! ([`crate::background`]).

use std::net::SocketAddr;
use std::sync::Arc;

use crate::automation::Automation;
use crate::background::Progress;
use crate::bus::{Bus, LocalBus};
use crate::clock::Clock;
use crate::config::{Config, Origin};
use crate::conversations::Actor;
use crate::drafts::DraftWriter;
use crate::http::web::WebApp;
use crate::hub::Hub;
use crate::passwords::Passwords;
use crate::routing::router::Router;
use crate::store::Store;
use crate::throttle::LoginThrottle;
use crate::whatsapp::graph::GraphClient;
use crate::whatsapp::ingest::Ingest;
use crate::whatsapp::intake::Intake;
use crate::whatsapp::media::MediaStore;
use crate::whatsapp::receipts::Receipts;
use crate::whatsapp::sender::Sender;
use crate::whatsapp::templates::TemplateCatalog;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    /// The server's one clock (`config.clock`): every time stored or compared comes from it.
    pub clock: Clock,
    pub store: Arc<dyn Store>,
    pub passwords: Passwords,
    pub login_throttle: Arc<LoginThrottle>,
    /// Origins allowed to make state-changing requests (and, later, open the WebSocket).
    pub origins: Arc<[Origin]>,
    pub web: Arc<WebApp>,
    pub hub: Hub,
    pub bus: Arc<dyn Bus>,
    /// Drafts waiting to be written (see [`crate::drafts`]).
    pub drafts: Arc<DraftWriter>,
    /// The lease keeper's progress.
    pub leases: Arc<Progress>,
    /// Kicks the teams' queues (see [`crate::routing::router`]).
    pub router: Router,
    /// Wakes the automation worker (see [`crate::automation`]).
    pub automation: Automation,
    /// The handover keeper's progress.
    pub handovers: Arc<Progress>,
    /// The reports' quarter-hour task's progress (load sampled, time online recorded).
    pub quarter_hours: Arc<Progress>,
    /// The WhatsApp channel's handles.
    pub whatsapp: WhatsApp,
}

/// What handlers reach of the WhatsApp channel. The workers behind these handles are built from
/// the same pieces in [`crate::background::start`]; none of them holds the [`AppState`].
#[derive(Clone)]
pub struct WhatsApp {
    /// The Graph API, when the channel has a token and a number id.
    pub graph: Option<Arc<GraphClient>>,
    /// The approved templates, kept a few minutes.
    pub templates: Arc<TemplateCatalog>,
    /// Customers' media files under the data directory; queues their downloads.
    pub media: Arc<MediaStore>,
    /// Wakes the sender; knows whether sending is paused.
    pub sender: Arc<Sender>,
    /// Queues read receipts and "typing…" for customers.
    pub receipts: Arc<Receipts>,
    /// Stores webhook deliveries, batching those that arrive together.
    pub intake: Arc<Intake>,
    /// Wakes the webhook worker.
    pub ingest: Arc<Ingest>,
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
        let clock = config.clock;
        let drafts = Arc::new(DraftWriter::new(clock));
        let hub = Hub::new(config.hub, clock, drafts.clone());
        let router = Router::default();
        let automation = Automation::default();
        let bus = Arc::new(LocalBus::new(hub.clone(), router.clone(), automation.clone()));
        let graph = GraphClient::from_config(&config.whatsapp)?.map(Arc::new);
        let typing_indicator = config.whatsapp.typing_indicator && graph.is_some();
        let whatsapp = WhatsApp {
            templates: Arc::new(TemplateCatalog::default()),
            media: Arc::new(MediaStore::new(&config.data_dir)),
            receipts: Arc::new(Receipts::new(graph.is_some(), typing_indicator)),
            sender: Arc::new(Sender::default()),
            intake: Arc::new(Intake::default()),
            ingest: Arc::new(Ingest::default()),
            graph,
        };
        Ok(AppState {
            clock,
            hub,
            bus,
            drafts,
            leases: Arc::new(Progress::default()),
            router,
            automation,
            handovers: Arc::new(Progress::default()),
            quarter_hours: Arc::new(Progress::default()),
            whatsapp,
            config: Arc::new(config),
            store,
            passwords: Passwords::new()?,
            login_throttle: Arc::new(LoginThrottle::default()),
            origins,
            web,
        })
    }

    /// Unix milliseconds now, by the configured clock.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// A signed-in user as the conversation domain's actor, with the teams they belong to now.
    pub fn actor(&self, user: &baton_shared::api::User) -> Actor {
        let teammate = baton_shared::protocol::Teammate { id: user.id, name: user.name.clone() };
        Actor::user(teammate, user.role, self.hub.teams_of(user.id))
    }

    /// What a user sees of themselves (`/api/me`, the socket's hello).
    pub fn me(&self, user: &baton_shared::api::User) -> baton_shared::api::Me {
        baton_shared::api::Me::new(user, self.hub.teams_of(user.id).to_vec())
    }

    pub fn allows_origin(&self, origin: &str) -> bool {
        Origin::parse(origin).is_ok_and(|origin| self.origins.contains(&origin))
    }
}
