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
//!
//! Meta has no idempotency key, so a process that stops between Meta's 200 and recording the wamid
//! would send the reply again after a restart. Each send is therefore tagged
//! (`biz_opaque_callback_data`, echoed in the message's status webhooks) and its row marked *in
//! flight* with the tag, durably, before the POST. After a restart an in-flight row waits
//! [`super::WhatsAppConfig::in_flight_wait`]; a status carrying its tag meanwhile adopts the wamid
//! (the ingest worker does that: `WebhookStore::apply_status`) and the reply is not sent again.
//! Only without one is it re-sent — the remaining window for a duplicate (README: "Sends across a
//! restart"). A send that got no answer at all (a timeout, a cut connection) is treated the same.
//! When the server stops, the send under way is finished and recorded before the worker returns.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_shared::model::{DeliveryError, MessageContent};
use baton_shared::protocol::ServerMsg;
use baton_whatsapp::graph::{
    self, Behaviour, ButtonAction, Component, Content, Interactive, InteractiveText, Language, ListAction, ListRow,
    ListSection, Media, Parameter, ReplyButton, ReplyOption, ReplyTo, SendMessage, Template,
};
use baton_whatsapp::webhook::MediaKind;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::graph::{GraphCallError, GraphClient};
use super::media::MediaStore;
use super::pacing::Pacing;
use crate::bus::Bus;
use crate::clock::Clock;
use crate::hub::Hub;
use crate::store::Store;
use crate::store::channel::{OutboxItem, send_tag};

/// How often due replies are looked for without a wake-up (retries come due this way).
const POLL: Duration = Duration::from_millis(250);
/// The longest wait between two attempts of one reply.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Wakes the sender, and remembers why sending is paused.
#[derive(Default)]
pub struct Sender {
    queued: Notify,
    paused: Mutex<Option<String>>,
    /// Wake-ups so far, and the newest one a finished pass had seen when it began: once
    /// `served` reaches a wake-up's number, everything due at that wake-up has been handled.
    wakes: AtomicU64,
    served: AtomicU64,
}

impl Sender {
    /// A reply was queued (or is due): look now. Returns the wake-up's number (see [`Sender::served`]).
    pub fn wake(&self) -> u64 {
        let number = self.wakes.fetch_add(1, Ordering::AcqRel) + 1;
        self.queued.notify_one();
        number
    }

    /// The newest wake-up a finished pass had seen when it began.
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Acquire)
    }

    /// Why sending is paused, if it is.
    pub fn paused(&self) -> Option<String> {
        self.paused.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    fn pause(&self, reason: String) {
        *self.paused.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(reason);
    }
}

/// The sender's settings (from [`super::WhatsAppConfig`]).
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub messages_per_second: u32,
    pub retry_base: Duration,
    pub in_flight_wait: Duration,
}

impl From<&super::WhatsAppConfig> for Settings {
    fn from(config: &super::WhatsAppConfig) -> Self {
        Settings {
            messages_per_second: config.messages_per_second,
            retry_base: config.retry_base,
            in_flight_wait: config.in_flight_wait,
        }
    }
}

/// The sender: what it reads, writes, wakes and alerts — not the whole server.
pub struct Worker {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    /// Admins online are alerted when sending pauses.
    pub hub: Hub,
    pub clock: Clock,
    pub graph: Arc<GraphClient>,
    /// Where agents' uploads are kept.
    pub media: Arc<MediaStore>,
    /// Its handle: wake-ups, progress, pause.
    pub sender: Arc<Sender>,
    pub settings: Settings,
}

impl Worker {
    /// Sends queued replies until `stop`. A send under way finishes and is recorded first (one
    /// cut short would be in flight, and wait for its status after the restart).
    pub async fn run(self, stop: CancellationToken) {
        self.hold_in_flight().await;
        let mut pacing = Pacing::new(self.settings.messages_per_second);
        while !stop.is_cancelled() {
            let seen = self.sender.wakes.load(Ordering::Acquire);
            if self.sender.paused().is_none() {
                self.send_due(&mut pacing, &stop).await;
            }
            self.sender.served.fetch_max(seen, Ordering::AcqRel);
            tokio::select! {
                () = self.sender.queued.notified() => {}
                () = tokio::time::sleep(POLL) => {}
                () = stop.cancelled() => {}
            }
        }
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Replies whose send was on its way when the process stopped wait, from now, for a status
    /// webhook carrying their tag: Meta retries webhooks it could not deliver while Baton was down.
    async fn hold_in_flight(&self) {
        let wait = i64::try_from(self.settings.in_flight_wait.as_millis()).unwrap_or(i64::MAX);
        match self.store.hold_in_flight(self.now().saturating_add(wait)).await {
            Ok(0) => {}
            Ok(held) => tracing::warn!(
                replies = held,
                wait = ?self.settings.in_flight_wait,
                "replies were on their way to WhatsApp when Baton stopped: waiting for their statuses before sending any again"
            ),
            // Their rows still come due only after the wait that began with the send.
            Err(error) => tracing::error!(%error, "cannot hold the interrupted sends"),
        }
    }

    /// Sends what is due now, stopping between two sends once `stop` is signalled.
    async fn send_due(&self, pacing: &mut Pacing, stop: &CancellationToken) {
        let due = match self.store.due_outbox(self.now(), 50).await {
            Ok(due) => due,
            Err(error) => {
                tracing::error!(%error, "cannot read the outbox");
                return;
            }
        };
        for item in due {
            if stop.is_cancelled() {
                return;
            }
            // The customer's pair limit: a reply that would exceed it waits, without holding up others.
            if let Some(wait) = pacing.recipient_wait(&item.to) {
                let at = self.now().saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
                if let Err(error) = self.store.defer_outbox(item.id, at).await {
                    tracing::error!(outbox = item.id, %error, "cannot defer a reply");
                }
                continue;
            }
            // Waiting for the number's next slot is no send under way: stopping does not wait for it.
            tokio::select! {
                () = pacing.number_slot() => {}
                () = stop.cancelled() => return,
            }
            if !self.send_one(item).await {
                return;
            }
        }
    }

    /// Sends one reply and records the outcome; `false` when sending just paused.
    async fn send_one(&self, item: OutboxItem) -> bool {
        let outcome = match self.uploaded_media(&item).await {
            Ok(media_id) => {
                let Some(tag) = self.begin_send(&item).await else { return true };
                let mut request = request_for(&item, media_id);
                request.biz_opaque_callback_data = Some(tag);
                self.graph.send(&request).await
            }
            Err(None) => return Self::record(&item, self.missing_file_failure(&item).await),
            Err(Some(error)) => Err(error),
        };
        let recorded = match outcome {
            Ok(wamid) => match self.store.message_accepted(item.message_id, &wamid, self.now()).await {
                Ok(events) => {
                    self.bus.publish(&events);
                    Ok(())
                }
                Err(error) => Err(error),
            },
            Err(GraphCallError::Unanswered(reason)) => {
                // WhatsApp may have accepted it: like a send interrupted by a stop, it stays in flight
                // (a status carrying its tag adopts it) and goes again only after the wait.
                tracing::warn!(outbox = item.id, %reason, "no answer to a send: waiting for its status before sending it again");
                self.store.await_status(item.id, &reason).await
            }
            Err(GraphCallError::Transport(reason)) => {
                tracing::warn!(outbox = item.id, %reason, "Graph API unreachable: will retry");
                self.retry(&item, self.backoff(item.attempts), &reason).await
            }
            Err(GraphCallError::Refused { status, error }) => {
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
                        self.retry(&item, self.backoff(item.attempts), &error.error.message).await
                    }
                    Behaviour::RetryRecipientLater => {
                        let attempt = u32::try_from(item.attempts).unwrap_or(u32::MAX);
                        self.retry(&item, graph::pair_rate_limit_delay(attempt), &error.error.message).await
                    }
                    Behaviour::PauseSendingAndAlert => {
                        let reason = format!(
                            "WhatsApp refused to send (code {code}): {} Sending is paused; no reply is lost.",
                            classification.sentence
                        );
                        tracing::error!(%reason, "WhatsApp sending paused");
                        // Refused, so not in flight: after a restart it goes at once, not after the wait.
                        if let Err(error) = self.retry(&item, Duration::ZERO, &error.error.message).await {
                            tracing::error!(outbox = item.id, %error, "cannot record a refused send");
                        }
                        self.sender.pause(reason.clone());
                        self.alert_admins(reason);
                        return false;
                    }
                    Behaviour::WindowClosed | Behaviour::FixTemplate | Behaviour::NeverRetry => {
                        let failure = DeliveryError { code, message: classification.sentence.to_owned() };
                        match self.store.fail_outbox(item.id, &failure, self.now()).await {
                            Ok(events) => {
                                self.bus.publish(&events);
                                Ok(())
                            }
                            Err(error) => Err(error),
                        }
                    }
                }
            }
        };
        Self::record(&item, recorded)
    }

    /// Marks the reply in flight under a new tag, durably, before it is posted; the tag, or `None` when
    /// it must not be posted now (no longer pending or due — another sender marked it first — or
    /// the mark could not be written: the reply stays due and is tried on a later pass).
    async fn begin_send(&self, item: &OutboxItem) -> Option<String> {
        if let Some(earlier) = &item.in_flight {
            tracing::warn!(
                outbox = item.id,
                tag = %earlier,
                "no status came for a send interrupted by a stop: sending the reply again (the customer may get it twice)"
            );
        }
        let tag = send_tag(item.id, &uuid::Uuid::new_v4().simple().to_string()[..16]);
        let wait = i64::try_from(self.settings.in_flight_wait.as_millis()).unwrap_or(i64::MAX);
        let now = self.now();
        match self.store.begin_send(item.id, &tag, now.saturating_add(wait), now).await {
            Ok(true) => Some(tag),
            Ok(false) => None,
            Err(error) => {
                tracing::error!(outbox = item.id, %error, "cannot mark a reply in flight: not sending it yet");
                None
            }
        }
    }

    fn record(item: &OutboxItem, recorded: Result<(), crate::store::StoreError>) -> bool {
        if let Err(error) = recorded {
            tracing::error!(outbox = item.id, %error, "cannot record a send's outcome");
        }
        true
    }

    /// For a file an agent sent: uploads Baton's copy to WhatsApp first; the media id it got.
    /// `Err(None)`: the file is gone from the data directory.
    async fn uploaded_media(&self, item: &OutboxItem) -> Result<Option<String>, Option<GraphCallError>> {
        let Some(MessageContent::Media { upload: Some(upload), mime_type, filename, .. }) = item.content.as_ref()
        else {
            return Ok(None);
        };
        // Only a file that is gone fails the reply; any other trouble reading it is retried.
        let transient =
            |error: &dyn std::fmt::Display| Some(GraphCallError::Transport(format!("cannot read the file: {error}")));
        let found = self.media.upload(upload).await.map_err(|error| transient(&error))?;
        let Some((_, path)) = found else { return Err(None) };
        let bytes = match tokio::fs::read(&path).await {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(None),
            Err(error) => return Err(transient(&error)),
        };
        let mime_type = mime_type.as_deref().unwrap_or("application/octet-stream");
        let filename = filename.as_deref().unwrap_or(upload);
        self.graph.upload(bytes, mime_type, filename).await.map(Some).map_err(Some)
    }

    async fn missing_file_failure(&self, item: &OutboxItem) -> Result<(), crate::store::StoreError> {
        tracing::error!(outbox = item.id, "the file of a media reply is missing from the data directory");
        let failure =
            DeliveryError { code: 0, message: "The file is no longer on the server: attach it again.".into() };
        let events = self.store.fail_outbox(item.id, &failure, self.now()).await?;
        self.bus.publish(&events);
        Ok(())
    }

    async fn retry(&self, item: &OutboxItem, after: Duration, reason: &str) -> Result<(), crate::store::StoreError> {
        let after_ms = i64::try_from(after.as_millis()).unwrap_or(i64::MAX);
        self.store.retry_outbox(item.id, self.now().saturating_add(after_ms), reason).await
    }

    /// `retry_base` × 2^attempts, at most [`MAX_BACKOFF`].
    fn backoff(&self, attempts: i64) -> Duration {
        let exponent = u32::try_from(attempts.clamp(0, 16)).unwrap_or(16);
        self.settings.retry_base.saturating_mul(2_u32.saturating_pow(exponent)).min(MAX_BACKOFF)
    }

    fn alert_admins(&self, message: String) {
        self.hub.send_to_admins(&ServerMsg::ChannelAlert { message, paused: true });
    }
}

/// The Graph request for a queued reply: a template, a reaction, media (uploaded as `media_id`),
/// or text (quoting `reply_to`, if any).
fn request_for(item: &OutboxItem, media_id: Option<String>) -> SendMessage {
    let to = format!("+{}", item.to);
    if let (Some(MessageContent::Media { media_kind, filename, .. }), Some(media_id)) =
        (item.content.as_ref(), media_id)
    {
        let mut media = Media::id(media_id);
        if !item.body.is_empty() && media_kind != "audio" {
            media = media.with_caption(item.body.clone());
        }
        if let (true, Some(filename)) = (media_kind == "document", filename) {
            media = media.with_filename(filename.clone());
        }
        let kind = match media_kind.as_str() {
            "image" => MediaKind::Image,
            "video" => MediaKind::Video,
            "audio" => MediaKind::Audio,
            _ => MediaKind::Document,
        };
        let mut request = SendMessage::media(to, kind, media);
        request.context = item.reply_to.clone().map(|message_id| ReplyTo { message_id });
        return request;
    }
    if let Some(MessageContent::Template { name, language, parameters }) = item.content.as_ref() {
        let mut template = Template::new(name.clone(), Language::new(language.clone()));
        if !parameters.is_empty() {
            let parameters = parameters.iter().map(|value| Parameter::text(value.clone())).collect();
            template = template.with_components(vec![Component::body(parameters)]);
        }
        return SendMessage::template(to, template);
    }
    if let Some(MessageContent::Interactive { list_button, choices }) = item.content.as_ref() {
        return SendMessage::new(
            to,
            Content::Interactive { interactive: interactive(&item.body, list_button, choices) },
        );
    }
    if let Some(MessageContent::Reaction { target, emoji }) = item.content.as_ref() {
        // No quote on a reaction (the contract forbids `context` there); an empty emoji removes it.
        return SendMessage::reaction(to, target.clone(), emoji.clone().unwrap_or_default());
    }
    let mut request = SendMessage::text(to, item.body.clone(), false);
    request.context = item.reply_to.clone().map(|message_id| ReplyTo { message_id });
    request
}

/// The menu bot's choices as WhatsApp shows them: reply buttons, or a list behind `list_button`.
fn interactive(body: &str, list_button: &Option<String>, choices: &[baton_shared::menu::Choice]) -> Interactive {
    let body = InteractiveText { text: body.to_owned() };
    match list_button {
        None => Interactive::Button {
            body,
            action: ButtonAction {
                buttons: choices
                    .iter()
                    .map(|choice| ReplyButton::Reply {
                        reply: ReplyOption { id: choice.id.clone(), title: choice.title.clone() },
                    })
                    .collect(),
            },
        },
        Some(button) => Interactive::List {
            header: None,
            body,
            footer: None,
            action: ListAction {
                button: button.clone(),
                sections: vec![ListSection {
                    title: button.clone(),
                    rows: choices
                        .iter()
                        .map(|choice| ListRow {
                            id: choice.id.clone(),
                            title: choice.title.clone(),
                            description: choice.description.clone(),
                        })
                        .collect(),
                }],
            },
        },
    }
}
