//! Test scaffolding: a tiny webhook receiver standing in for Baton (it records the raw bytes and headers and
//! answers with scripted statuses), a simulator started on port 0 and pointed at it, and a Graph API client.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use baton_simulator::{Config, Simulator, StatusProgression};
use baton_whatsapp::signature::{self, AppSecret};
use baton_whatsapp::webhook::{self, InboundMessage, Item, StatusUpdate};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub const ALICE: &str = "15550002222";
pub const BOB: &str = "15550003333";

/// One webhook POST as the receiver got it.
#[derive(Clone, Debug)]
pub struct Received {
    pub body: Vec<u8>,
    pub signature: Option<String>,
    pub content_type: Option<String>,
}

impl Received {
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("webhook bodies are ASCII")
    }

    /// Checks the signature over the exact bytes, then reads the payload.
    pub fn items(&self) -> Vec<Item> {
        let secret = AppSecret::new("test_app_secret").expect("a valid secret");
        signature::verify(&secret, self.signature.as_deref().map(str::as_bytes), &self.body)
            .expect("the webhook is signed over its exact bytes");
        webhook::parse(&self.body).expect("the webhook parses").into_items()
    }

    pub fn message(&self) -> InboundMessage {
        match self.items().as_slice() {
            [Item::Message(message)] => message.clone(),
            other => panic!("expected one message, got {other:?}"),
        }
    }

    pub fn status(&self) -> StatusUpdate {
        match self.items().as_slice() {
            [Item::Status(status)] => status.clone(),
            other => panic!("expected one status, got {other:?}"),
        }
    }
}

#[derive(Default)]
struct Inbox {
    received: Vec<Received>,
    /// Statuses to answer with, in order; 200 once they run out.
    answers: VecDeque<u16>,
}

/// The stand-in for Baton's webhook endpoint.
pub struct Receiver {
    pub url: String,
    inbox: Arc<Mutex<Inbox>>,
    changes: watch::Sender<usize>,
    cursor: Mutex<usize>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a port");
        let url = format!("http://{}/webhooks/whatsapp", listener.local_addr().expect("bound"));
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let changes = watch::Sender::new(0);
        let router = Router::new()
            .route("/webhooks/whatsapp", post(receive).get(verify))
            .with_state((Arc::clone(&inbox), changes.clone()));
        tokio::spawn(async move { axum::serve(listener, router).await.expect("the receiver runs") });
        Receiver { url, inbox, changes, cursor: Mutex::new(0) }
    }

    /// Answer the next webhooks with these statuses (then 200 again).
    pub fn answer_with(&self, statuses: &[u16]) {
        self.inbox.lock().expect("lock").answers.extend(statuses);
    }

    pub fn received(&self) -> Vec<Received> {
        self.inbox.lock().expect("lock").received.clone()
    }

    /// Waits until `count` webhooks arrived in total.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        let mut changes = self.changes.subscribe();
        let waited = tokio::time::timeout(Duration::from_secs(30), changes.wait_for(|total| *total >= count)).await;
        assert!(waited.is_ok(), "timed out waiting for {count} webhooks; got {:?}", self.received().len());
        self.received()
    }

    /// The next webhook after the one this returned last.
    pub async fn next(&self) -> Received {
        let position = *self.cursor.lock().expect("lock");
        let received = self.wait_for(position + 1).await;
        *self.cursor.lock().expect("lock") = position + 1;
        received[position].clone()
    }
}

type ReceiverState = (Arc<Mutex<Inbox>>, watch::Sender<usize>);

/// The GET handshake, answered with the crate's own check; the verify token is `verify-me`.
async fn verify(Query(query): Query<HashMap<String, String>>) -> (StatusCode, String) {
    let value = |key: &str| query.get(key).map(String::as_str);
    match webhook::subscription::verify(
        value("hub.mode"),
        value("hub.verify_token"),
        value("hub.challenge"),
        "verify-me",
    ) {
        Ok(challenge) => (StatusCode::OK, challenge.to_owned()),
        Err(refusal) => (StatusCode::FORBIDDEN, refusal.to_string()),
    }
}

async fn receive(State((inbox, changes)): State<ReceiverState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| headers.get(name).map(|value| value.to_str().expect("ASCII header").to_owned());
    let (status, total) = {
        let mut inbox = inbox.lock().expect("lock");
        inbox.received.push(Received {
            body: body.to_vec(),
            signature: header("x-hub-signature-256"),
            content_type: header("content-type"),
        });
        (inbox.answers.pop_front().unwrap_or(200), inbox.received.len())
    };
    changes.send_replace(total);
    StatusCode::from_u16(status).expect("a valid status")
}

/// A simulator on port 0 with quick, automatic statuses, pointed at a fresh receiver.
pub async fn start() -> (Simulator, Receiver) {
    start_with(Config {
        statuses: StatusProgression { step_delay: Duration::from_millis(10), ..StatusProgression::default() },
        ..Config::default()
    })
    .await
}

pub async fn start_with(mut config: Config) -> (Simulator, Receiver) {
    let receiver = Receiver::start().await;
    config.webhook_url = Some(receiver.url.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a port");
    let simulator = Simulator::start(config, listener).await.expect("the simulator starts");
    (simulator, receiver)
}

/// What a Graph call answered.
pub struct Answer {
    pub status: u16,
    pub json: Value,
}

impl Answer {
    pub fn error_code(&self) -> Option<i64> {
        self.json.pointer("/error/code").and_then(Value::as_i64)
    }

    pub fn message_id(&self) -> String {
        self.json.pointer("/messages/0/id").and_then(Value::as_str).expect("a wamid in the answer").to_owned()
    }
}

/// Plain HTTP (no proxy from the environment).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().expect("a client")
}

/// POSTs these exact bytes to `/v23.0/{phone_number_id}/messages` with the right token.
pub async fn post_messages(simulator: &Simulator, body: &str) -> Answer {
    post_messages_as(simulator, body, Some("test_access_token")).await
}

pub async fn post_messages_as(simulator: &Simulator, body: &str, token: Option<&str>) -> Answer {
    let url = format!("{}/v23.0/{}/messages", simulator.graph_url(), simulator.config().phone_number_id);
    let mut request = client().post(url).header("content-type", "application/json").body(body.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the simulator answers");
    let status = response.status().as_u16();
    let json = response.json().await.expect("a JSON answer");
    Answer { status, json }
}

/// A GET with the right token (or another).
pub async fn get(url: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = client().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("the simulator answers")
}

pub fn text_to(to: &str, body: &str) -> String {
    serde_json::json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": body, "preview_url": false},
    })
    .to_string()
}
