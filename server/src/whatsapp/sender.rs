//! The sender: posts queued replies ([`crate::store::channel::OutboxItem`]) to the Graph API and
//! acts on each answer as the contract's code table says (`baton_whatsapp::graph::classify`):
//!
//! - accepted: the message gets its wamid and becomes `sent` (statuses then come by webhook);
//! - throughput, pair-rate or server trouble: tried again later, with exponential backoff (the
//!   pair limit 131056 by Meta's 4^n seconds), the row staying in the outbox;
//! - a closed 24-hour window (131047), a bad request, a template problem: never retried — the
//!   message becomes `failed` with a sentence the agent can act on;
//! - a refused access token (190) or a restricted account: sending pauses with the outbox intact
//!   and every admin online is alerted; it resumes on restart (after the token is fixed).

use std::sync::Mutex;
use std::time::Duration;

use baton_shared::model::DeliveryError;
use baton_shared::protocol::ServerMsg;
use baton_whatsapp::graph::{self, Behaviour, ErrorResponse, ReplyTo, SendMessage, SendResponse};
use tokio::sync::Notify;

use crate::clock::now_ms;
use crate::state::AppState;
use crate::store::channel::OutboxItem;

/// How often due replies are looked for without a wake-up (retries come due this way).
const POLL: Duration = Duration::from_millis(250);
/// The longest wait between two attempts of one reply.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// How long one Graph request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Wakes the sender, and remembers why sending is paused.
#[derive(Default)]
pub struct Sender {
    queued: Notify,
    paused: Mutex<Option<String>>,
}

impl Sender {
    /// A reply was queued.
    pub fn wake(&self) {
        self.queued.notify_one();
    }

    /// Why sending is paused, if it is.
    pub fn paused(&self) -> Option<String> {
        self.paused.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    fn pause(&self, reason: String) {
        *self.paused.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(reason);
    }
}

/// The Graph API endpoint for sends, with its token.
struct Graph {
    http: reqwest::Client,
    messages_url: String,
    token: String,
}

/// Why a send did not go through.
enum SendError {
    /// Meta answered with an error.
    Refused { status: u16, error: Box<ErrorResponse> },
    /// No usable answer: the network, a timeout, or a body that is not the contract's.
    Transport(String),
}

/// Sends queued replies for as long as the server runs (if the channel is configured).
pub async fn run(state: AppState) {
    let config = &state.config.whatsapp;
    let (Some(token), Some(number)) = (config.access_token.clone(), config.phone_number_id.clone()) else {
        tracing::info!("WhatsApp sending is off: set BATON_WHATSAPP_ACCESS_TOKEN and BATON_WHATSAPP_PHONE_NUMBER_ID");
        return;
    };
    let http = match reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build() {
        Ok(http) => http,
        Err(error) => {
            tracing::error!(%error, "cannot build the Graph API client: sending is off");
            return;
        }
    };
    let messages_url = format!("{}{}", config.graph_url, graph::messages_path(&config.api_version, &number));
    let graph = Graph { http, messages_url, token };
    loop {
        if state.sender.paused().is_none() {
            send_due(&state, &graph).await;
        }
        tokio::select! {
            () = state.sender.queued.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

async fn send_due(state: &AppState, graph: &Graph) {
    let due = match state.store.due_outbox(now_ms(), 50).await {
        Ok(due) => due,
        Err(error) => {
            tracing::error!(%error, "cannot read the outbox");
            return;
        }
    };
    for item in due {
        if !send_one(state, graph, item).await {
            return;
        }
    }
}

/// Sends one reply and records the outcome; `false` when sending just paused.
async fn send_one(state: &AppState, graph: &Graph, item: OutboxItem) -> bool {
    let mut request = SendMessage::text(format!("+{}", item.to), item.body.clone(), false);
    request.context = item.reply_to.clone().map(|message_id| ReplyTo { message_id });
    let outcome = graph.send(&request).await;
    let recorded = match outcome {
        Ok(wamid) => match state.store.message_accepted(item.message_id, &wamid, now_ms()).await {
            Ok(event) => {
                state.bus.publish(event.as_slice());
                Ok(())
            }
            Err(error) => Err(error),
        },
        Err(SendError::Transport(reason)) => {
            tracing::warn!(outbox = item.id, %reason, "Graph API unreachable: will retry");
            retry(state, &item, backoff(state, item.attempts), &reason).await
        }
        Err(SendError::Refused { status, error }) => {
            let code = error.error.code;
            let classification = error.error.classify(status);
            tracing::warn!(
                outbox = item.id,
                status,
                code,
                details = error.error.details().unwrap_or_default(),
                "Graph API refused a reply"
            );
            match classification.behaviour {
                Behaviour::RetryWithBackoff => {
                    retry(state, &item, backoff(state, item.attempts), &error.error.message).await
                }
                Behaviour::RetryRecipientLater => {
                    let attempt = u32::try_from(item.attempts).unwrap_or(u32::MAX);
                    retry(state, &item, graph::pair_rate_limit_delay(attempt), &error.error.message).await
                }
                Behaviour::PauseSendingAndAlert => {
                    let reason = format!(
                        "WhatsApp refused to send (code {code}): {} Sending is paused; no reply is lost.",
                        classification.sentence
                    );
                    tracing::error!(%reason, "WhatsApp sending paused");
                    state.sender.pause(reason.clone());
                    alert_admins(state, reason);
                    return false;
                }
                Behaviour::WindowClosed | Behaviour::FixTemplate | Behaviour::NeverRetry => {
                    let failure = DeliveryError { code, message: classification.sentence.to_owned() };
                    match state.store.fail_outbox(item.id, &failure, now_ms()).await {
                        Ok(event) => {
                            state.bus.publish(event.as_slice());
                            Ok(())
                        }
                        Err(error) => Err(error),
                    }
                }
            }
        }
    };
    if let Err(error) = recorded {
        tracing::error!(outbox = item.id, %error, "cannot record a send's outcome");
    }
    true
}

async fn retry(
    state: &AppState,
    item: &OutboxItem,
    after: Duration,
    reason: &str,
) -> Result<(), crate::store::StoreError> {
    let after_ms = i64::try_from(after.as_millis()).unwrap_or(i64::MAX);
    state.store.retry_outbox(item.id, now_ms().saturating_add(after_ms), reason).await
}

/// `retry_base` × 2^attempts, at most [`MAX_BACKOFF`].
fn backoff(state: &AppState, attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 16)).unwrap_or(16);
    state.config.whatsapp.retry_base.saturating_mul(2_u32.saturating_pow(exponent)).min(MAX_BACKOFF)
}

fn alert_admins(state: &AppState, message: String) {
    state.hub.send_to_admins(&ServerMsg::ChannelAlert { message, paused: true });
}

impl Graph {
    /// Posts a send; the wamid Meta gave it.
    async fn send(&self, request: &SendMessage) -> Result<String, SendError> {
        let response = self
            .http
            .post(&self.messages_url)
            .bearer_auth(&self.token)
            .json(request)
            .send()
            .await
            .map_err(|error| SendError::Transport(error.to_string()))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|error| SendError::Transport(error.to_string()))?;
        if (200..300).contains(&status) {
            let accepted: SendResponse = serde_json::from_slice(&body)
                .map_err(|error| SendError::Transport(format!("unexpected success body: {error}")))?;
            return accepted
                .message_id()
                .map(str::to_owned)
                .ok_or_else(|| SendError::Transport("success without a message id".to_owned()));
        }
        match serde_json::from_slice::<ErrorResponse>(&body) {
            Ok(error) => Err(SendError::Refused { status, error: Box::new(error) }),
            Err(_) if status >= 500 || status == 429 => Err(SendError::Transport(format!("HTTP {status}"))),
            Err(_) => Err(SendError::Refused {
                status,
                error: Box::new(ErrorResponse::new(0, "Unknown error", format!("HTTP {status}"))),
            }),
        }
    }
}
