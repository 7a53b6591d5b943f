//! The state every part of the simulator shares behind one `Arc`: the fixed configuration, the stores
//! (journal, customers, media, faults, the pending status batch), the settings tests may change while it
//! runs, the HTTP client for webhooks, and the shutdown signal background tasks stop on.
//!
//! Every lock here is a `std::sync::Mutex` held for a few field updates and never across an `.await`.

use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};

use baton_whatsapp::signature::AppSecret;
use tokio::sync::watch;

use crate::clock::Clock;
use crate::config::{Config, StatusBatching, StatusProgression, WindowEnforcement};
use crate::customers::Customers;
use crate::faults::Faults;
use crate::journal::Journal;
use crate::media::MediaStore;
use crate::status_batch::StatusBatch;
use crate::templates::TemplateDefinition;

/// What can change while the simulator runs.
pub(crate) struct Settings {
    pub(crate) webhook_url: Option<String>,
    pub(crate) statuses: StatusProgression,
    pub(crate) status_batching: StatusBatching,
    pub(crate) window: WindowEnforcement,
    pub(crate) templates: Vec<TemplateDefinition>,
}

pub(crate) struct Shared {
    pub(crate) config: Config,
    /// `http://<bound address>`: where media URLs point when a request carries no `Host`.
    pub(crate) base_url: String,
    pub(crate) secret: AppSecret,
    pub(crate) clock: Clock,
    pub(crate) journal: Journal,
    pub(crate) customers: Customers,
    pub(crate) media: MediaStore,
    pub(crate) faults: Faults,
    pub(crate) status_batch: StatusBatch,
    pub(crate) http: reqwest::Client,
    settings: Mutex<Settings>,
    shutdown: watch::Sender<bool>,
}

impl Shared {
    pub(crate) fn new(config: Config, base_url: String) -> anyhow::Result<Self> {
        let secret = AppSecret::new(&config.app_secret)?;
        anyhow::ensure!(!config.access_token.is_empty(), "the access token must not be empty");
        let http = reqwest::Client::builder()
            // Webhooks go straight to Baton: a proxy from the environment would only get in the way.
            .no_proxy()
            .timeout(config.webhook.request_timeout)
            .user_agent("facebookexternalua")
            .build()?;
        let settings = Settings {
            webhook_url: config.webhook_url.clone(),
            statuses: config.statuses,
            status_batching: config.status_batching,
            window: config.window,
            templates: config.templates.clone(),
        };
        Ok(Self {
            config,
            base_url,
            secret,
            clock: Clock::new(),
            journal: Journal::new(),
            customers: Customers::default(),
            media: MediaStore::default(),
            faults: Faults::default(),
            status_batch: StatusBatch::default(),
            http,
            settings: Mutex::new(settings),
            shutdown: watch::Sender::new(false),
        })
    }

    pub(crate) fn settings(&self) -> MutexGuard<'_, Settings> {
        self.settings.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs a background task (status progressions, webhook retries) until it ends or the simulator stops.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let stopped = self.stopped();
        tokio::spawn(async move {
            tokio::select! {
                () = task => {}
                () = stopped => {}
            }
        });
    }

    /// Completes once [`Shared::stop`] was called.
    pub(crate) fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut receiver = self.shutdown.subscribe();
        async move {
            // An error means the sender is gone, which only happens when everything is being dropped.
            if receiver.wait_for(|stopped| *stopped).await.is_err() {
                tracing::debug!("simulator state dropped before shutdown");
            }
        }
    }

    pub(crate) fn stop(&self) {
        self.shutdown.send_replace(true);
    }
}
