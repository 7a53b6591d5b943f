//! Baton wired to the WhatsApp simulator, and what the channel's tests keep asking of it: a
//! customer writes and an agent answers, a message arrives on a socket, a message reaches a status.

use std::time::Duration;

use anyhow::Context;
use baton_server::config::Config;
use baton_shared::ConversationId;
use baton_shared::api::Role;
use baton_shared::model::{Change, DeliveryStatus, Message};
use baton_shared::protocol::{AckDetail, ClientMsg, ServerMsg};
use baton_simulator::{Customer, Simulator};

use crate::database::{Kind, TestDatabase};
use crate::eventually::eventually;
use crate::server::TestServer;
use crate::socket::WsClient;

/// Baton and the simulator, wired to each other. Retries come quickly here (20 ms doubling); the
/// backoff's shape is the same as in production.
pub async fn start(kind: Kind) -> anyhow::Result<(TestServer, Simulator)> {
    start_with(kind, |config| config.whatsapp.retry_base = Duration::from_millis(20)).await
}

/// [`start`], with more of Baton's configuration set by `configure`.
pub async fn start_with(kind: Kind, configure: impl FnOnce(&mut Config)) -> anyhow::Result<(TestServer, Simulator)> {
    start_with_simulator(kind, baton_simulator::Config::default(), configure).await
}

/// [`start_with`], with the simulator configured as `meta` says.
pub async fn start_with_simulator(
    kind: Kind,
    meta: baton_simulator::Config,
    configure: impl FnOnce(&mut Config),
) -> anyhow::Result<(TestServer, Simulator)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let simulator = Simulator::start(meta, listener).await?;
    let server = serve_on(&simulator, TestDatabase::new(kind).await?, configure).await?;
    Ok((server, simulator))
}

/// Baton on `database` (which the test may have prepared), wired to a running `simulator`.
pub async fn serve_on(
    simulator: &Simulator,
    database: TestDatabase,
    configure: impl FnOnce(&mut Config),
) -> anyhow::Result<TestServer> {
    let meta = simulator.config().clone();
    let graph_url = simulator.graph_url();
    let secret =
        baton_whatsapp::signature::AppSecret::new(&meta.app_secret).map_err(|error| anyhow::anyhow!("{error}"))?;
    let server = TestServer::start_on(database, move |config: &mut Config| {
        config.whatsapp.app_secret = Some(secret);
        config.whatsapp.access_token = Some(meta.access_token.clone());
        config.whatsapp.phone_number_id = Some(meta.phone_number_id.clone());
        config.whatsapp.graph_url = graph_url;
        config.whatsapp.api_version = meta.api_version.clone();
        config.whatsapp.business_account_id = Some(meta.waba_id.clone());
        configure(config);
    })
    .await?;
    simulator.set_webhook_url(server.url("/webhooks/whatsapp"));
    Ok(server)
}

/// Waits on `socket` for a new message that `wanted`.
pub async fn arrival(socket: &mut WsClient, wanted: impl Fn(&Message) -> bool) -> anyhow::Result<Message> {
    socket
        .expect(|message| match message {
            ServerMsg::Event { event } => match &event.change {
                Change::MessageAdded { message } if wanted(message) => Some(message.clone()),
                _ => None,
            },
            _ => None,
        })
        .await
}

/// Waits on `socket` for `message` to reach `status`; returns the error shown with it.
pub async fn reaches(
    socket: &mut WsClient,
    message: &Message,
    status: DeliveryStatus,
) -> anyhow::Result<Option<baton_shared::model::DeliveryError>> {
    socket
        .expect(|server_message| match server_message {
            ServerMsg::Event { event } => match &event.change {
                Change::MessageStatus { message_id, status: reached, error }
                    if *message_id == message.id && *reached == status =>
                {
                    Some(error.clone())
                }
                _ => None,
            },
            _ => None,
        })
        .await
}

/// A customer writes; an agent opens the conversation, claims it and replies. Returns the agent's
/// socket and the stored reply.
pub async fn customer_and_reply(
    server: &TestServer,
    simulator: &Simulator,
    customer: &Customer,
    reply: &str,
) -> anyhow::Result<(WsClient, Message)> {
    let wamid = simulator.send_text(customer, "Where is my parcel?").await?;
    let conversation = wait_for_conversation(server, &wamid).await?;
    let (mut agent, seen) = agent_claims(server, &format!("Agent {}", customer.wa_id), conversation).await?;
    let key = format!("reply-{}", customer.wa_id);
    match send_reply(&mut agent, conversation, reply, &key, seen).await? {
        ServerMsg::Ack { detail: Some(AckDetail::Message { message }), .. } => Ok((agent, message)),
        other => anyhow::bail!("reply refused: {other:?}"),
    }
}

/// A new agent opens the conversation and claims it; their socket and the last `seq` they saw.
pub async fn agent_claims(
    server: &TestServer,
    name: &str,
    conversation: ConversationId,
) -> anyhow::Result<(WsClient, u64)> {
    let (agent_client, _) = server.logged_in(name, Role::Agent).await?;
    let mut agent = WsClient::connect(&agent_client).await?;
    let opened =
        agent.request(|req_id| ClientMsg::Open { req_id, conversation_id: conversation, after_seq: 0 }).await?;
    let seen = match opened {
        ServerMsg::Ack { detail: Some(AckDetail::Conversation { conversation }), .. } => conversation.last_seq,
        other => anyhow::bail!("open refused: {other:?}"),
    };
    let claimed = agent.request(|req_id| ClientMsg::Claim { req_id, conversation_id: conversation }).await?;
    anyhow::ensure!(matches!(claimed, ServerMsg::Ack { .. }), "claim refused: {claimed:?}");
    Ok((agent, seen))
}

/// Sends a free-text reply; the server's answer.
pub async fn send_reply(
    agent: &mut WsClient,
    conversation: ConversationId,
    body: &str,
    key: &str,
    seen_seq: u64,
) -> anyhow::Result<ServerMsg> {
    agent
        .request(|req_id| ClientMsg::Reply {
            req_id,
            conversation_id: conversation,
            body: body.into(),
            idempotency_key: key.into(),
            seen_seq,
            force: false,
            reply_to: None,
        })
        .await
}

/// The conversation that received the customer message `wamid` (ingest is asynchronous: bounded
/// polling of the store, no sleeping).
pub async fn wait_for_conversation(server: &TestServer, wamid: &str) -> anyhow::Result<ConversationId> {
    let store = &server.state.store;
    let found = eventually(Duration::from_secs(10), || async {
        for conversation in store.conversations(false, 100).await? {
            let events = store.events_after(conversation.id, 0, 1000).await?;
            let found = events.iter().any(|event| {
                matches!(&event.change, Change::MessageAdded { message } if message.wa_message_id.as_deref() == Some(wamid))
            });
            if found {
                return Ok(Some(conversation.id));
            }
        }
        Ok(None)
    })
    .await;
    found.with_context(|| format!("the customer's message {wamid} never arrived"))
}

/// A customer's text that WhatsApp delivers late: written at `written_at` (Unix seconds), shaped
/// as Meta sends it (contract §2.3), signed with the simulator's app secret and posted to Baton's
/// webhook now — as a redelivery after an outage arrives, whatever order it comes in.
pub async fn deliver_late_text(
    server: &TestServer,
    simulator: &Simulator,
    customer: &Customer,
    body: &str,
    written_at: u64,
) -> anyhow::Result<String> {
    let meta = simulator.config();
    let wamid = format!("wamid.late.{}", uuid::Uuid::new_v4().simple());
    let payload = serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": meta.waba_id,
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": meta.display_phone_number, "phone_number_id": meta.phone_number_id},
                    "contacts": [{"profile": {"name": customer.name}, "wa_id": customer.wa_id}],
                    "messages": [{
                        "from": customer.wa_id, "id": wamid, "timestamp": written_at.to_string(),
                        "type": "text", "text": {"body": body}
                    }]
                }
            }]
        }]
    });
    let body = serde_json::to_vec(&payload)?;
    let secret =
        baton_whatsapp::signature::AppSecret::new(&meta.app_secret).map_err(|error| anyhow::anyhow!("{error}"))?;
    let response = reqwest::Client::new()
        .post(server.url("/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .header(baton_whatsapp::signature::SIGNATURE_HEADER, baton_whatsapp::signature::sign(&secret, &body))
        .body(body)
        .send()
        .await?;
    anyhow::ensure!(response.status().is_success(), "the late webhook answered {}", response.status());
    Ok(wamid)
}

/// The JSON body of a send as WhatsApp received it, without its tag: asserts the send carries one
/// (`biz_opaque_callback_data`, random per send and echoed in its statuses) and takes it out, so
/// the rest can be compared exactly.
pub fn untagged(json: Option<&serde_json::Value>) -> serde_json::Value {
    let mut body = json.cloned().unwrap_or_default();
    let tag = body.as_object_mut().and_then(|fields| fields.remove("biz_opaque_callback_data"));
    assert!(
        tag.as_ref().and_then(|tag| tag.as_str()).is_some_and(|tag| tag.starts_with("baton-outbox-")),
        "untagged send: {tag:?}"
    );
    body
}
