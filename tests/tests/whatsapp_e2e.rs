//! End to end over real HTTP, with the WhatsApp simulator standing in for Meta: a customer writes
//! on the simulator → signed webhook → Baton → a supervisor's socket; an agent claims and replies →
//! outbox → the simulator receives the exact Graph request → statuses come back by webhook → the
//! ticks move live. Then what the sender does with Meta's refusals: a throughput limit is retried,
//! a closed 24-hour window fails the message with a sentence (never retried), a refused token
//! pauses sending and alerts admins without losing the reply.

use std::time::Duration;

use baton_server::config::Config;
use baton_shared::ConversationId;
use baton_shared::api::Role;
use baton_shared::model::{Change, DeliveryStatus, Message};
use baton_shared::protocol::{ClientMsg, ServerMsg};
use baton_simulator::{Customer, Endpoint, Simulator};
use baton_tests::database::Kind;
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;

/// Baton and the simulator, wired to each other.
async fn start(kind: Kind) -> anyhow::Result<(TestServer, Simulator)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let simulator = Simulator::start(baton_simulator::Config::default(), listener).await?;
    let meta = simulator.config().clone();
    let graph_url = simulator.graph_url();
    let secret =
        baton_whatsapp::signature::AppSecret::new(&meta.app_secret).map_err(|error| anyhow::anyhow!("{error}"))?;
    let server = TestServer::start_with(kind, move |config: &mut Config| {
        config.whatsapp.app_secret = Some(secret);
        config.whatsapp.access_token = Some(meta.access_token.clone());
        config.whatsapp.phone_number_id = Some(meta.phone_number_id.clone());
        config.whatsapp.graph_url = graph_url;
        config.whatsapp.api_version = meta.api_version.clone();
        // Retries come quickly here; the backoff's shape is the same.
        config.whatsapp.retry_base = Duration::from_millis(20);
    })
    .await?;
    simulator.set_webhook_url(server.url("/webhooks/whatsapp"));
    Ok((server, simulator))
}

/// Waits on `socket` for a new message that `wanted`.
async fn arrival(socket: &mut WsClient, wanted: impl Fn(&Message) -> bool) -> anyhow::Result<Message> {
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
async fn reaches(
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
async fn customer_and_reply(
    server: &TestServer,
    simulator: &Simulator,
    customer: &Customer,
    reply: &str,
) -> anyhow::Result<(WsClient, Message)> {
    let (agent_client, _) = server.logged_in(&format!("Agent {}", customer.wa_id), Role::Agent).await?;
    let mut agent = WsClient::connect(&agent_client).await?;
    let wamid = simulator.send_text(customer, "Where is my parcel?").await?;
    let conversation = wait_for_conversation(server, &wamid).await?;
    let opened =
        agent.request(|req_id| ClientMsg::Open { req_id, conversation_id: conversation, after_seq: 0 }).await?;
    let seen = match opened {
        ServerMsg::Ack { detail: Some(baton_shared::protocol::AckDetail::Conversation { conversation }), .. } => {
            conversation.last_seq
        }
        other => anyhow::bail!("open refused: {other:?}"),
    };
    let claimed = agent.request(|req_id| ClientMsg::Claim { req_id, conversation_id: conversation }).await?;
    anyhow::ensure!(matches!(claimed, ServerMsg::Ack { .. }), "claim refused: {claimed:?}");
    let sent = agent
        .request(|req_id| ClientMsg::Reply {
            req_id,
            conversation_id: conversation,
            body: reply.into(),
            idempotency_key: format!("reply-{}", customer.wa_id),
            seen_seq: seen,
            force: false,
        })
        .await?;
    match sent {
        ServerMsg::Ack { detail: Some(baton_shared::protocol::AckDetail::Message { message }), .. } => {
            Ok((agent, message))
        }
        other => anyhow::bail!("reply refused: {other:?}"),
    }
}

/// The conversation that received the customer message `wamid` (ingest is asynchronous: bounded
/// polling of the store, no sleeping).
async fn wait_for_conversation(server: &TestServer, wamid: &str) -> anyhow::Result<ConversationId> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        for conversation in server.state.store.conversations(false, 100).await? {
            let events = server.state.store.events_after(conversation.id, 0, 1000).await?;
            let found = events.iter().any(|event| {
                matches!(&event.change, Change::MessageAdded { message } if message.wa_message_id.as_deref() == Some(wamid))
            });
            if found {
                return Ok(conversation.id);
            }
        }
        tokio::task::yield_now().await;
    }
    anyhow::bail!("the customer's message {wamid} never arrived")
}

async fn a_customer_and_an_agent_talk_through_whatsapp(kind: Kind) -> anyhow::Result<()> {
    let (server, simulator) = start(kind).await?;
    let (supervisor_client, _) = server.logged_in("Sam", Role::Supervisor).await?;
    let mut supervisor = WsClient::connect(&supervisor_client).await?;
    supervisor.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors: vec![] }).await?;

    let customer = Customer::new("15550002222", "Señora Núñez");
    let (mut agent, reply) =
        customer_and_reply(&server, &simulator, &customer, "It ships today — tracking follows.").await?;
    // The supervisor watching the whole inbox saw the customer's message arrive, then the reply.
    let arrived = arrival(&mut supervisor, |message| message.body == "Where is my parcel?").await?;
    assert!(arrived.wa_message_id.as_deref().is_some_and(|wamid| wamid.starts_with("wamid.")));
    arrival(&mut supervisor, |message| message.id == reply.id).await?;

    // The Graph request Baton made, byte for byte what the contract prescribes.
    let request = simulator.wait_for_request(|request| request.endpoint == Endpoint::Messages).await?;
    assert_eq!(request.authorization.as_deref(), Some(format!("Bearer {}", simulator.config().access_token).as_str()));
    let expected = serde_json::json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+15550002222",
        "type": "text",
        "text": {"body": "It ships today — tracking follows.", "preview_url": false}
    });
    assert_eq!(request.json, Some(expected));

    // sent → delivered → read come back by signed webhook; the agent sees each tick.
    for status in [DeliveryStatus::Sent, DeliveryStatus::Delivered, DeliveryStatus::Read] {
        assert_eq!(reaches(&mut agent, &reply, status).await?, None, "{status:?}");
    }
    // The customer's name arrived intact through the \u escapes.
    let conversations = server.state.store.conversations(false, 10).await?;
    assert!(conversations.iter().any(|c| c.contact.profile_name == "Señora Núñez"));
    Ok(())
}

async fn refusals_are_retried_failed_or_pause_sending_as_the_code_says(kind: Kind) -> anyhow::Result<()> {
    let (server, simulator) = start(kind).await?;

    // 130429 (throughput) twice, then accepted: the same reply, sent once in the end.
    let busy = Customer::new("15550003333", "Bob");
    simulator.fail_next_sends(2, 130429, Some("15550003333"));
    let (mut agent, reply) = customer_and_reply(&server, &simulator, &busy, "Retried until it goes").await?;
    assert_eq!(reaches(&mut agent, &reply, DeliveryStatus::Sent).await?, None);
    let attempts = simulator
        .message_requests()
        .iter()
        .filter(|r| r.json.as_ref().is_some_and(|j| j["to"] == "+15550003333"))
        .count();
    assert_eq!(attempts, 3, "two refusals, then the accepted send");

    // 131047 (the 24-hour window closed): failed at once with a sentence, never retried.
    let late = Customer::new("15550004444", "Carla");
    simulator.fail_next_sends(1, 131047, Some("15550004444"));
    let (mut agent, reply) = customer_and_reply(&server, &simulator, &late, "Are you still there?").await?;
    let error = reaches(&mut agent, &reply, DeliveryStatus::Failed).await?;
    let error = error.ok_or_else(|| anyhow::anyhow!("a failure without its reason"))?;
    assert_eq!(error.code, 131047);
    assert!(error.message.to_lowercase().contains("template"), "the agent is told what to do: {}", error.message);
    let attempts = simulator
        .message_requests()
        .iter()
        .filter(|r| r.json.as_ref().is_some_and(|j| j["to"] == "+15550004444"))
        .count();
    assert_eq!(attempts, 1, "never retried");

    // 190 (token refused): sending pauses, admins are alerted, the reply stays queued.
    let (admin_client, _) = server.logged_in("Ada", Role::Admin).await?;
    let mut admin = WsClient::connect(&admin_client).await?;
    let paused = Customer::new("15550005555", "Dan");
    simulator.fail_next_sends(1, 190, None);
    let (_agent, reply) = customer_and_reply(&server, &simulator, &paused, "Held until the token is fixed").await?;
    let alert = admin
        .expect(|message| match message {
            ServerMsg::ChannelAlert { message, paused } => Some((message.clone(), *paused)),
            _ => None,
        })
        .await?;
    assert!(alert.1 && alert.0.contains("190"), "{alert:?}");
    assert!(server.state.sender.paused().is_some());
    let queued = server.state.store.due_outbox(i64::MAX, 10).await?;
    assert!(queued.iter().any(|item| item.message_id == reply.id), "the reply is still in the outbox");
    Ok(())
}

baton_tests::on_both_kinds!(
    a_customer_and_an_agent_talk_through_whatsapp,
    refusals_are_retried_failed_or_pause_sending_as_the_code_says
);
