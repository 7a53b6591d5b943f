//! The WhatsApp Cloud API channel: how customers reach Baton. The contract itself (signatures,
//! payload shapes, Graph bodies, error codes) lives in the `baton-whatsapp` crate; this module
//! owns the I/O around it:
//!
//! - [`webhook`]: `GET`/`POST /webhooks/whatsapp` — the verification handshake, and deliveries
//!   checked against their signature on the raw bytes and stored before they are answered;
//! - [`intake`]: stores signed deliveries, many per transaction when they come fast (group commit);
//! - [`ingest`]: the worker that turns stored deliveries into contacts, conversations, messages
//!   and delivery statuses, idempotently, and broadcasts what changed;
//! - [`inbound`]: what one inbound WhatsApp message becomes in Baton's model;
//! - [`sender`]: the worker that posts queued replies to the Graph API, retrying or failing each
//!   as the contract's code table says, paced by [`pacing`]; each send is tagged, so one that was
//!   on its way when the process stopped is recognised by its status webhooks, not repeated;
//! - [`graph`]: the Graph API client (sends, read receipts, templates, media downloads);
//! - [`templates`]: the approved templates, listed from the Graph API and kept a few minutes;
//! - [`media`]: customers' media files, downloaded once and kept under the data directory;
//! - [`receipts`]: blue ticks and "typing…" for the customer when agents read and write.

pub mod graph;
pub mod inbound;
pub mod ingest;
pub mod intake;
pub mod media;
pub mod pacing;
pub mod receipts;
pub mod sender;
pub mod templates;
pub mod webhook;

use std::fmt;

use baton_whatsapp::signature::AppSecret;

/// Meta's Graph API, the default base URL for sends and media.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com";
/// The Graph API version Baton is written against (contract §0).
pub const DEFAULT_API_VERSION: &str = "v23.0";

/// The channel's settings (`BATON_WHATSAPP_*`). `Debug` never prints a secret or a token.
#[derive(Clone)]
pub struct WhatsAppConfig {
    /// Verifies webhook signatures. Without it, deliveries are refused (nothing unsigned is read).
    pub app_secret: Option<AppSecret>,
    /// Answers Meta's verification handshake.
    pub verify_token: Option<String>,
    /// Bearer token for the Graph API.
    pub access_token: Option<String>,
    /// The business number's id: the one this inbox answers for.
    pub phone_number_id: Option<String>,
    pub graph_url: String,
    pub api_version: String,
    /// The WhatsApp Business Account's id: where the approved templates are listed.
    pub business_account_id: Option<String>,
    /// The number's throughput limit (contract §9: 80 by default).
    pub messages_per_second: u32,
    /// Show the customer "typing…" while the claim holder writes.
    pub typing_indicator: bool,
    /// The first retry's delay after a transient send failure; each next one doubles.
    pub retry_base: std::time::Duration,
    /// After a restart, how long a reply whose send was on its way when the process stopped waits
    /// for a status webhook carrying its tag (proof that WhatsApp accepted it) before it is sent
    /// again. Also the wait if the answer of a send is never recorded (a database failure).
    pub in_flight_wait: std::time::Duration,
}

/// The default of [`WhatsAppConfig::in_flight_wait`]: Meta's first status of an accepted message
/// usually comes within seconds, and its webhook retries within a few more.
pub const DEFAULT_IN_FLIGHT_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Meta's default throughput for a business number, in messages per second.
pub const DEFAULT_MESSAGES_PER_SECOND: u32 = 80;

impl Default for WhatsAppConfig {
    fn default() -> Self {
        WhatsAppConfig {
            app_secret: None,
            verify_token: None,
            access_token: None,
            phone_number_id: None,
            graph_url: DEFAULT_GRAPH_URL.to_owned(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            business_account_id: None,
            messages_per_second: DEFAULT_MESSAGES_PER_SECOND,
            typing_indicator: true,
            retry_base: std::time::Duration::from_secs(1),
            in_flight_wait: DEFAULT_IN_FLIGHT_WAIT,
        }
    }
}

impl fmt::Debug for WhatsAppConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |present: bool| if present { "<set>" } else { "<unset>" };
        f.debug_struct("WhatsAppConfig")
            .field("app_secret", &set(self.app_secret.is_some()))
            .field("verify_token", &set(self.verify_token.is_some()))
            .field("access_token", &set(self.access_token.is_some()))
            .field("phone_number_id", &self.phone_number_id)
            .field("graph_url", &self.graph_url)
            .field("api_version", &self.api_version)
            .field("business_account_id", &self.business_account_id)
            .field("messages_per_second", &self.messages_per_second)
            .field("typing_indicator", &self.typing_indicator)
            .field("retry_base", &self.retry_base)
            .field("in_flight_wait", &self.in_flight_wait)
            .finish()
    }
}
