//! How a simulator is set up: the business it pretends to be (ids, secret, token), where Baton's webhook is,
//! and the behaviour knobs that tests and the control API can change later ([`StatusProgression`],
//! [`StatusBatching`], [`WindowEnforcement`], [`WebhookOptions`]). `Debug` never shows the app secret or the
//! access token.

use std::fmt;
use std::time::Duration;

use baton_whatsapp::webhook::DeliveryStatus;
use serde::{Deserialize, Serialize};

use crate::templates::{TemplateDefinition, default_templates};

/// Everything [`crate::Simulator::start`] needs. [`Config::default`] uses the contract's fixture identities
/// (business `15550001111`, phone number id `106000000000001`, WABA `102000000000001`).
#[derive(Clone)]
pub struct Config {
    /// Baton's `http://host:port/webhooks/whatsapp`. Can also be set after start
    /// ([`crate::Simulator::set_webhook_url`]), because Baton usually starts after the simulator.
    pub webhook_url: Option<String>,
    /// The app secret webhooks are signed with (`X-Hub-Signature-256`). Must not be empty.
    pub app_secret: String,
    /// The only Bearer token the Graph API endpoints accept.
    pub access_token: String,
    pub phone_number_id: String,
    /// Digits only, no `+`.
    pub display_phone_number: String,
    pub waba_id: String,
    /// Shown on the customer-phone page.
    pub business_name: String,
    /// The Graph API version webhooks are shaped for (`conversation` on statuses up to v23.0). Requests are
    /// accepted on any `vNN.N` path, as Meta serves several versions at once.
    pub api_version: String,
    pub statuses: StatusProgression,
    /// One status per webhook (the default) or several together.
    pub status_batching: StatusBatching,
    pub window: WindowEnforcement,
    pub webhook: WebhookOptions,
    /// Put the optional media `url` (contract §3, rolling out since Nov 2025) into media webhooks.
    pub media_url_in_webhooks: bool,
    /// The approved templates `GET /{waba_id}/message_templates` lists and template sends are checked against.
    pub templates: Vec<TemplateDefinition>,
    /// How long the handle's `wait_for_*`/`next_*` methods wait before failing.
    pub wait_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            webhook_url: None,
            app_secret: "test_app_secret".to_owned(),
            access_token: "test_access_token".to_owned(),
            phone_number_id: "106000000000001".to_owned(),
            display_phone_number: "15550001111".to_owned(),
            waba_id: "102000000000001".to_owned(),
            business_name: "Baton Demo Shop".to_owned(),
            api_version: baton_whatsapp::graph::DEFAULT_VERSION.to_owned(),
            statuses: StatusProgression::default(),
            status_batching: StatusBatching::default(),
            window: WindowEnforcement::default(),
            webhook: WebhookOptions::default(),
            media_url_in_webhooks: false,
            templates: default_templates(),
            wait_timeout: Duration::from_secs(10),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Config")
            .field("webhook_url", &self.webhook_url)
            .field("app_secret", &"<redacted>")
            .field("access_token", &"<redacted>")
            .field("phone_number_id", &self.phone_number_id)
            .field("display_phone_number", &self.display_phone_number)
            .field("waba_id", &self.waba_id)
            .field("business_name", &self.business_name)
            .field("api_version", &self.api_version)
            .field("statuses", &self.statuses)
            .field("status_batching", &self.status_batching)
            .field("window", &self.window)
            .field("webhook", &self.webhook)
            .field("media_url_in_webhooks", &self.media_url_in_webhooks)
            .field("templates", &self.templates.len())
            .field("wait_timeout", &self.wait_timeout)
            .finish()
    }
}

/// What happens after a send is accepted: status webhooks `sent` → `delivered` → `read`, one every
/// `step_delay`, stopping after `stop_at` (`sent`, `delivered` or `read`; `failed` counts as `read`).
/// `stop_at: played` goes one step further for audio messages only: the customer listens, and a `played`
/// status follows `read` (contract §4: "played = voice message first played"); other messages stop at `read`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusProgression {
    pub automatic: bool,
    #[serde(rename = "step_delay_ms", with = "milliseconds")]
    pub step_delay: Duration,
    pub stop_at: DeliveryStatus,
}

impl Default for StatusProgression {
    fn default() -> Self {
        Self { automatic: true, step_delay: Duration::from_millis(500), stop_at: DeliveryStatus::Read }
    }
}

impl StatusProgression {
    /// No automatic statuses: the test sends them itself.
    pub fn manual() -> Self {
        Self { automatic: false, ..Self::default() }
    }

    /// The statuses to send, in order, for an audio message or any other.
    pub(crate) fn steps(&self, audio: bool) -> &'static [DeliveryStatus] {
        use DeliveryStatus::{Delivered, Played, Read, Sent};
        match self.stop_at {
            Sent => &[Sent],
            Delivered => &[Sent, Delivered],
            // Meta only reports `played` for voice messages: a text cannot be played.
            Played if audio => &[Sent, Delivered, Read, Played],
            _ => &[Sent, Delivered, Read],
        }
    }
}

/// Whether status webhooks carry one status each or several. Meta batches up to 1000 updates in one POST
/// but does not promise to (contract §2.3), so Baton must handle `value.statuses[]` with several entries.
/// When `enabled`, every status the simulator emits (automatic progressions, scripted statuses, the phone's
/// "play") joins a pending batch; the first one starts a `window`, and when it ends everything pending goes
/// out in one webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusBatching {
    pub enabled: bool,
    #[serde(rename = "window_ms", with = "milliseconds", default = "default_batch_window")]
    pub window: Duration,
}

fn default_batch_window() -> Duration {
    Duration::from_secs(1)
}

impl Default for StatusBatching {
    fn default() -> Self {
        Self { enabled: false, window: default_batch_window() }
    }
}

impl StatusBatching {
    /// Batches statuses emitted within `window` of the first pending one.
    pub fn within(window: Duration) -> Self {
        Self { enabled: true, window }
    }

    /// The window when batching is on.
    pub(crate) fn window(&self) -> Option<Duration> {
        self.enabled.then_some(self.window)
    }
}

/// How the 24-hour customer-service window (contract §8) is enforced on free-form sends. Templates always
/// pass. Meta does not say which path 131047 takes, and both are seen in the field (§7.2, §16.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowEnforcement {
    /// Accept everything.
    Off,
    /// Answer the send with HTTP 400 and error 131047.
    SyncError,
    /// Accept the send (200 + wamid), then send a `failed` status with 131047: the common case in practice.
    #[default]
    FailedStatus,
}

/// How webhooks are written and re-sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookOptions {
    pub format: JsonFormat,
    /// Deliveries answered with anything but 200 are re-sent (same bytes) until this many attempts.
    pub max_attempts: u32,
    /// The wait before the first re-send; it doubles each time (Meta: "exponential backoff").
    #[serde(rename = "first_retry_delay_ms", with = "milliseconds")]
    pub first_retry_delay: Duration,
    /// How long one attempt may take before it counts as failed.
    #[serde(rename = "request_timeout_ms", with = "milliseconds")]
    pub request_timeout: Duration,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        Self {
            format: JsonFormat::Compact,
            max_attempts: 5,
            first_retry_delay: Duration::from_secs(1),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Webhook bodies are compact (as Meta sends them) or pretty with a trailing newline (as the fixtures are).
/// Both are ASCII-only with `\uXXXX` escapes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JsonFormat {
    #[default]
    Compact,
    Pretty,
}

/// Durations as whole milliseconds on the control API.
mod milliseconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let config = Config { app_secret: "very-secret".into(), access_token: "token-123".into(), ..Config::default() };
        let debug = format!("{config:?}");
        assert!(!debug.contains("very-secret") && !debug.contains("token-123"), "{debug}");
    }

    #[test]
    fn progression_steps_stop_where_asked() {
        let stop_at = |stop_at| StatusProgression { stop_at, ..StatusProgression::default() };
        assert_eq!(stop_at(DeliveryStatus::Sent).steps(false), &[DeliveryStatus::Sent]);
        assert_eq!(stop_at(DeliveryStatus::Delivered).steps(false).len(), 2);
        assert_eq!(stop_at(DeliveryStatus::Read).steps(false).len(), 3);
        assert_eq!(stop_at(DeliveryStatus::Read).steps(true).len(), 3, "played only when asked for");
        assert_eq!(stop_at(DeliveryStatus::Played).steps(false).last(), Some(&DeliveryStatus::Read));
        assert_eq!(stop_at(DeliveryStatus::Played).steps(true).last(), Some(&DeliveryStatus::Played));
    }

    #[test]
    fn status_batching_reads_from_the_control_api() {
        let on: StatusBatching = serde_json::from_str(r#"{"enabled": true, "window_ms": 250}"#).expect("parses");
        assert_eq!(on, StatusBatching::within(Duration::from_millis(250)));
        assert_eq!(on.window(), Some(Duration::from_millis(250)));
        let off: StatusBatching = serde_json::from_str(r#"{"enabled": false}"#).expect("parses");
        assert_eq!(off, StatusBatching::default());
        assert_eq!(off.window(), None);
    }
}
