//! # The WhatsApp simulator
//!
//! A stand-in for Meta's side of the WhatsApp Cloud API that follows Baton's contract
//! (`whatsapp/CONTRACT.md`) byte for byte, so Baton can be tested end to end and demonstrated without Meta:
//!
//! - a **Graph API** (`graph.rs`): `POST /{version}/{phone_number_id}/messages` (sends,
//!   mark-as-read, typing indicator; Bearer check, validation, error shapes), media uploads, metadata and
//!   downloads, and the template list;
//! - a **webhook sender**: envelopes as Meta writes them (ASCII with `\uXXXX` escapes), signed over the exact
//!   bytes, re-sent on non-200, and status webhooks `sent` → `delivered` → `read` (→ `played` for audio,
//!   when asked) after each accepted send, one status per webhook or several batched together;
//! - a **scripting API** on the [`Simulator`] handle (and as JSON under `/_sim`, see `control.rs`):
//!   customers sending every message type, forced errors, `failed` statuses, the 24-hour window, rate limits,
//!   duplicates and out-of-order statuses; plus everything recorded for assertions;
//! - a **customer-phone page** at `/` to chat with Baton by hand.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use baton_simulator::{Config, Customer, Simulator};
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let simulator = Simulator::start(Config::default(), listener).await?;
//! // Start Baton with BATON_WHATSAPP_GRAPH_URL = simulator.graph_url(), then:
//! simulator.set_webhook_url("http://127.0.0.1:8080/webhooks/whatsapp");
//! let alice = Customer::new("15550002222", "Alice Example");
//! let wamid = simulator.send_text(&alice, "Hi, is my order shipped?").await?;
//! let reply = simulator.next_request().await?; // what Baton sent to the Graph API, byte for byte
//! # drop((wamid, reply));
//! # Ok(()) }
//! ```
//!
//! All timing (status steps, re-sends, the window, media URL expiry, the rate limit, webhook timestamps)
//! runs on tokio's clock, so tests can pause and advance it.
//!
//! The contract itself — payload types, signatures, escaping, error codes — comes from `baton-whatsapp`;
//! this crate only adds the behaviour around it.

mod chat;
mod clock;
mod config;
mod control;
mod customers;
mod envelope;
mod errors;
mod faults;
mod graph;
mod ids;
mod inbound;
mod journal;
mod media;
mod observe;
mod phone;
mod samples;
mod script;
mod simulator;
mod state;
mod status_batch;
mod statuses;
mod templates;
mod webhook;

pub use baton_whatsapp::webhook::DeliveryStatus;
pub use chat::{ChatEntry, Choice, ChoiceReply};
pub use config::{Config, JsonFormat, StatusBatching, StatusProgression, WebhookOptions, WindowEnforcement};
pub use customers::{ChatView, Customer, CustomerSummary, WINDOW};
pub use faults::ForcedFailure;
pub use inbound::{Inbound, InboundReceipt};
pub use journal::{DeliveryAttempt, DeliveryKind, Endpoint, ReadReceipt, RecordedRequest, WebhookDelivery};
pub use media::{MediaItem, URL_LIFETIME};
/// A small valid PNG of the given size, for tests that need an image file.
pub use samples::png as sample_png;
pub use simulator::Simulator;
pub use statuses::StatusOrder;
pub use templates::{TemplateDefinition, default_templates};
pub use webhook::{DeliveryOutcome, SubscriptionOutcome};
