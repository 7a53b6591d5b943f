//! Delivering webhooks to Baton (contract §2): POST the exact bytes with `Content-Type: application/json`
//! and `X-Hub-Signature-256` over those bytes, record the answer, and re-send the very same bytes with
//! exponential backoff while the answer is not 200 (§2.5). Deliberate duplicates ([`redeliver`]) re-send a
//! past delivery's bytes as a new delivery. [`verify_subscription`] plays the GET handshake of §1.

use std::sync::Arc;

use baton_whatsapp::signature::{SIGNATURE_HEADER, sign};
use baton_whatsapp::webhook::subscription::{CHALLENGE_PARAMETER, MODE_PARAMETER, SUBSCRIBE, VERIFY_TOKEN_PARAMETER};
use serde::Serialize;

use crate::journal::{DeliveryAttempt, DeliveryKind};
use crate::state::Shared;

/// How the first attempt of a delivery went. Re-sends, if any, continue in the background and show up
/// in [`crate::WebhookDelivery::attempts`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeliveryOutcome {
    pub delivery_id: u64,
    /// Baton's HTTP status; `None` when it could not be reached (see `error`).
    pub status: Option<u16>,
    pub error: Option<String>,
}

impl DeliveryOutcome {
    /// Whether Baton answered 200.
    pub fn acknowledged(&self) -> bool {
        self.status == Some(200)
    }
}

/// Signs and POSTs `body`, waits for the first answer, and schedules re-sends if it was not 200.
pub(crate) async fn deliver(
    shared: &Arc<Shared>,
    kind: DeliveryKind,
    body: Vec<u8>,
    redelivery_of: Option<u64>,
) -> DeliveryOutcome {
    let signature = sign(&shared.secret, &body);
    let delivery_id = shared.journal.open_delivery(kind, body.clone(), signature.clone(), redelivery_of);
    let first = attempt(shared, &body, &signature).await;
    shared.journal.record_attempt(delivery_id, first.clone());
    if first.status != Some(200) && shared.config.webhook.max_attempts > 1 {
        let background = Arc::clone(shared);
        shared.spawn(async move { resend(background, delivery_id, body, signature).await });
    }
    DeliveryOutcome { delivery_id, status: first.status, error: first.error }
}

/// Sends the bytes of an earlier delivery again, as Meta's retries to every subscribed app do: a duplicate
/// Baton must recognise.
pub(crate) async fn redeliver(shared: &Arc<Shared>, delivery_id: u64) -> anyhow::Result<DeliveryOutcome> {
    let Some(original) = shared.journal.delivery(delivery_id) else {
        anyhow::bail!("no webhook delivery {delivery_id}");
    };
    Ok(deliver(shared, original.kind, original.body, Some(delivery_id)).await)
}

/// How Baton answered the verification handshake.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SubscriptionOutcome {
    pub status: u16,
    /// Meta only subscribes when the answer is 200 with exactly the challenge as its body (contract §1).
    pub verified: bool,
}

/// `GET <webhook url>?hub.mode=subscribe&hub.challenge=<random digits>&hub.verify_token=<token>`, as Meta
/// sends when the callback URL is saved in the App Dashboard.
pub(crate) async fn verify_subscription(shared: &Shared, verify_token: &str) -> anyhow::Result<SubscriptionOutcome> {
    let Some(url) = shared.settings().webhook_url.clone() else {
        anyhow::bail!("no webhook URL is configured");
    };
    // Digits with a leading zero catch a receiver that parses the challenge as a number.
    let challenge = format!("0{}", &crate::ids::media_id()[..9]);
    let response = shared
        .http
        .get(&url)
        .query(&[
            (MODE_PARAMETER, SUBSCRIBE),
            (CHALLENGE_PARAMETER, &challenge),
            (VERIFY_TOKEN_PARAMETER, verify_token),
        ])
        .send()
        .await?;
    let status = response.status().as_u16();
    let body = response.bytes().await?;
    Ok(SubscriptionOutcome { status, verified: status == 200 && body == challenge.as_bytes() })
}

/// Re-sends until 200 or `max_attempts`, doubling the wait each time (on tokio's clock).
async fn resend(shared: Arc<Shared>, delivery_id: u64, body: Vec<u8>, signature: String) {
    let options = shared.config.webhook;
    let mut delay = options.first_retry_delay;
    for _ in 1..options.max_attempts {
        tokio::time::sleep(delay).await;
        let outcome = attempt(&shared, &body, &signature).await;
        let acknowledged = outcome.status == Some(200);
        shared.journal.record_attempt(delivery_id, outcome);
        if acknowledged {
            return;
        }
        delay = delay.saturating_mul(2);
    }
    tracing::warn!(delivery_id, "webhook delivery given up after {} attempts", options.max_attempts);
}

async fn attempt(shared: &Shared, body: &[u8], signature: &str) -> DeliveryAttempt {
    let Some(url) = shared.settings().webhook_url.clone() else {
        return DeliveryAttempt { status: None, error: Some("no webhook URL is configured".to_owned()) };
    };
    let request = shared
        .http
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(body.to_vec());
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            // Read the answer to the end so the connection can be reused; its content does not matter.
            if let Err(error) = response.bytes().await {
                tracing::debug!(%error, "could not read the webhook response body");
            }
            DeliveryAttempt { status: Some(status), error: None }
        }
        Err(error) => {
            tracing::debug!(%error, url, "webhook delivery failed");
            DeliveryAttempt { status: None, error: Some(error.to_string()) }
        }
    }
}
