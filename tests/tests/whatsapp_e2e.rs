//! End to end over real HTTP, with the WhatsApp simulator standing in for Meta: a customer writes
//! on the simulator → signed webhook → Baton → a supervisor's socket; an agent claims and replies →
//! outbox → the simulator receives the exact Graph request → statuses come back by webhook → the
//! ticks move live. Then what the sender does with Meta's refusals: a throughput limit is retried,
//! a closed 24-hour window fails the message with a sentence (never retried), a refused token
//! pauses sending and alerts admins without losing the reply.

use baton_shared::api::Role;
use baton_shared::model::DeliveryStatus;
use baton_shared::protocol::{ClientMsg, ServerMsg};
use baton_simulator::{Customer, Endpoint};
use baton_tests::database::Kind;
use baton_tests::socket::WsClient;
use baton_tests::whatsapp::{arrival, customer_and_reply, reaches, start};

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
    // (Opening the conversation also marked the customer's message read: a request of its own.)
    let request = simulator
        .wait_for_request(|request| {
            request.endpoint == Endpoint::Messages && request.json.as_ref().is_some_and(|json| json["type"] == "text")
        })
        .await?;
    assert_eq!(request.authorization.as_deref(), Some(format!("Bearer {}", simulator.config().access_token).as_str()));
    let expected = serde_json::json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+15550002222",
        "type": "text",
        "text": {"body": "It ships today — tracking follows.", "preview_url": false}
    });
    // Plus the send's tag (random per send), which Meta echoes in the message's statuses.
    assert_eq!(baton_tests::whatsapp::untagged(request.json.as_ref()), expected);

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
    assert!(server.state.whatsapp.sender.paused().is_some());
    let queued = server.state.store.due_outbox(i64::MAX, 10).await?;
    assert!(queued.iter().any(|item| item.message_id == reply.id), "the reply is still in the outbox");
    Ok(())
}

baton_tests::on_both_kinds!(
    a_customer_and_an_agent_talk_through_whatsapp,
    refusals_are_retried_failed_or_pause_sending_as_the_code_says
);
