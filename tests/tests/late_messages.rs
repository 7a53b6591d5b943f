//! Messages WhatsApp delivers late and out of order (after an outage its retries come in any
//! order): the timeline, its pages and the inbox list's preview place a message where the
//! customer wrote it (WhatsApp's timestamp, then seq), `last_message_at` never moves back, and
//! the read receipt names the newest written.
//! On SQLite and PostgreSQL; the redeliveries come from the WhatsApp simulator, on tokio's paused
//! clock so the customer's messages carry distinct whole-second timestamps.

use std::time::Duration;

use baton_server::clock::Clock;
use baton_server::store::conversations::{ClaimOutcome, NewReply, ReplyOutcome};
use baton_shared::api::{ConversationDetail, ConversationSummary, MessagePage, Role};
use baton_shared::model::{Conversation, Message};
use baton_shared::protocol::{ClientMsg, ServerMsg};
use baton_shared::{ConversationId, ErrorCode, UserId};
use baton_simulator::{Customer, Inbound};
use baton_tests::client::{TestClient, expect_error, json};
use baton_tests::database::Kind;
use baton_tests::paused::{on_paused_clock, until_some};
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;
use reqwest::StatusCode;

baton_tests::on_both_kinds!(
    pages_are_cut_where_messages_belong,
    a_reply_is_never_placed_before_what_it_answers,
    what_a_reply_missed_is_listed_in_the_customers_order,
);

async fn detail(client: &TestClient, id: ConversationId) -> anyhow::Result<ConversationDetail> {
    let response = client.get(&format!("/api/conversations/{id}")).await?;
    anyhow::ensure!(response.status() == StatusCode::OK, "conversation {id:?} answered {}", response.status());
    json(response).await
}

async fn page(client: &TestClient, id: ConversationId, before_seq: u64, limit: u32) -> anyhow::Result<MessagePage> {
    let response =
        client.get(&format!("/api/conversations/{id}/messages?before_seq={before_seq}&limit={limit}")).await?;
    anyhow::ensure!(response.status() == StatusCode::OK, "page before {before_seq} answered {}", response.status());
    json(response).await
}

fn reply_in(conversation_id: ConversationId, author: UserId, body: &str, seen_seq: u64) -> NewReply {
    NewReply {
        conversation_id,
        author,
        body: body.into(),
        idempotency_key: body.into(),
        seen_seq,
        force: false,
        content: Default::default(),
        reply_to: None,
    }
}

fn bodies(messages: &[Message]) -> Vec<&str> {
    messages.iter().map(|message| message.body.as_str()).collect()
}

fn seq_of(messages: &[Message], body: &str) -> anyhow::Result<u64> {
    messages
        .iter()
        .find(|message| message.body == body)
        .map(|message| message.seq)
        .ok_or_else(|| anyhow::anyhow!("no message {body:?}"))
}

/// The customer writes one, two, three; WhatsApp delivers three, one, two (the simulator's
/// redeliveries of deliveries Baton missed). The history and the list show them in the
/// customer's order, and `last_message_at` never went back as they arrived.
async fn redeliveries_out_of_order_are_shown_in_the_customers_order(kind: Kind) -> anyhow::Result<()> {
    let mut meta = baton_simulator::Config::default();
    // What Baton missed is sent again below, in the order the test chooses, not by the backoff.
    meta.webhook.max_attempts = 1;
    let (server, simulator) = baton_tests::whatsapp::start_with_simulator(kind, meta, |config| {
        config.clock = Clock::following_tokio();
    })
    .await?;
    let (agent, _) = server.logged_in("Alice", Role::Agent).await?;
    let customer = Customer::new("15550006666", "Olga");

    // An outage: the webhook reaches no handler (404), so Baton stores nothing. The customer
    // writes a second apart.
    simulator.set_webhook_url(server.url("/api/not-the-webhook"));
    let mut missed = Vec::new();
    let mut wamids = Vec::new();
    for body in ["one", "two", "three"] {
        let receipt = simulator.send(&customer, Inbound::text(body)).await?;
        assert!(!receipt.delivery.acknowledged(), "{body} was not to arrive yet");
        missed.push(receipt.delivery.delivery_id);
        wamids.push(receipt.message_id().to_owned());
        tokio::time::advance(Duration::from_secs(1)).await;
    }

    // Back: WhatsApp redelivers three, then one, then two.
    simulator.set_webhook_url(server.url("/webhooks/whatsapp"));
    let mut conversation: Option<Conversation> = None;
    for (arrived, delivery) in [missed[2], missed[0], missed[1]].into_iter().enumerate() {
        let outcome = simulator.redeliver(delivery).await?;
        assert!(outcome.acknowledged(), "redelivery answered {:?}", outcome.status);
        let store = &server.state.store;
        let now = until_some("the redelivered message to be stored", || async {
            for candidate in store.conversations(false, 10).await? {
                // Read again once the message is there: the row listed may predate it.
                if candidate.contact.wa_id == customer.wa_id && store.messages(candidate.id).await?.len() == arrived + 1
                {
                    return store.conversation(candidate.id).await.map_err(anyhow::Error::from);
                }
            }
            Ok(None)
        })
        .await?;
        if let Some(before) = &conversation {
            assert!(
                now.last_message_at >= before.last_message_at,
                "last_message_at went back from {:?} to {:?} after {} arrivals",
                before.last_message_at,
                now.last_message_at,
                arrived + 1
            );
        }
        conversation = Some(now);
    }
    let conversation = conversation.ok_or_else(|| anyhow::anyhow!("no conversation"))?;

    let history = detail(&agent, conversation.id).await?;
    assert_eq!(bodies(&history.messages), ["one", "two", "three"], "the customer's order, not arrival order");
    let seqs: Vec<u64> = history.messages.iter().map(|message| message.seq).collect();
    assert!(seqs[2] < seqs[0] && seqs[0] < seqs[1], "three arrived first, then one, then two: {seqs:?}");
    let sent: Vec<i64> = history.messages.iter().map(|message| message.sent_at).collect();
    assert!(sent[0] < sent[1] && sent[1] < sent[2], "WhatsApp's timestamps, a second apart: {sent:?}");
    assert_eq!(conversation.last_message_at, Some(sent[2]), "three was the last written");

    let response = agent.get("/api/conversations").await?;
    let list: Vec<ConversationSummary> = json(response).await?;
    let row = list
        .iter()
        .find(|summary| summary.conversation.id == conversation.id)
        .ok_or_else(|| anyhow::anyhow!("not listed"))?;
    assert_eq!(row.last_message.as_ref().map(|message| message.body.as_str()), Some("three"), "the preview");
    assert_eq!(row.conversation.last_message_at, Some(sent[2]));

    // Opening it marks the newest written read (WhatsApp then marks the earlier ones too), not
    // the one that happened to arrive last.
    let mut socket = WsClient::connect(&agent).await?;
    let opened =
        socket.request(|req_id| ClientMsg::Open { req_id, conversation_id: conversation.id, after_seq: 0 }).await?;
    assert!(matches!(opened, ServerMsg::Ack { .. }), "open: {opened:?}");
    let read = until_some("a read receipt", || async { Ok(simulator.read_receipts().first().cloned()) }).await?;
    assert_eq!(read.message_id, wamids[2], "three is marked read, not two");
    server.stop().await
}

#[test]
fn redeliveries_out_of_order_are_shown_in_the_customers_order_on_sqlite() -> anyhow::Result<()> {
    on_paused_clock("late redeliveries on SQLite", || {
        redeliveries_out_of_order_are_shown_in_the_customers_order(Kind::Sqlite)
    })
}

#[test]
fn redeliveries_out_of_order_are_shown_in_the_customers_order_on_postgres() -> anyhow::Result<()> {
    on_paused_clock("late redeliveries on PostgreSQL", || {
        redeliveries_out_of_order_are_shown_in_the_customers_order(Kind::Postgres)
    })
}

/// A late message belongs to an earlier page: paging is by place, so it is on that page (not
/// skipped, not on the newest), and a cursor that names no message is refused.
async fn pages_are_cut_where_messages_belong(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (agent, _) = server.logged_in("Alice", Role::Agent).await?;
    let wa_id = "15550007777";
    let t = 1_764_000_000_000;
    for (body, at) in [("m1", t + 1_000), ("m2", t + 2_000), ("m3", t + 3_000), ("m4", t + 4_000)] {
        server.customer_writes_at(wa_id, body, at).await?;
    }
    // Written between m1 and m2, delivered after m4.
    let id = server.customer_writes_at(wa_id, "late", t + 1_500).await?;

    let history = detail(&agent, id).await?;
    assert_eq!(bodies(&history.messages), ["m1", "late", "m2", "m3", "m4"]);
    assert_eq!(history.conversation.last_message_at, Some(t + 4_000), "not moved back by the late one");

    let before_m3 = page(&agent, id, seq_of(&history.messages, "m3")?, 2).await?;
    assert_eq!(bodies(&before_m3.messages), ["late", "m2"], "the two placed just before m3");
    assert!(before_m3.has_earlier);
    let before_late = page(&agent, id, seq_of(&history.messages, "late")?, 2).await?;
    assert_eq!(bodies(&before_late.messages), ["m1"]);
    assert!(!before_late.has_earlier);

    let response = agent.get(&format!("/api/conversations/{id}/messages?before_seq=999")).await?;
    let error = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY).await?;
    assert_eq!(error.code, ErrorCode::InvalidInput, "a cursor that is no message: {}", error.message);
    server.stop().await
}

/// WhatsApp's clock a minute ahead of Baton's: a reply written now still goes after the
/// customer's message it answers, and is the list's preview.
async fn a_reply_is_never_placed_before_what_it_answers(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (agent_client, agent) = server.logged_in("Alice", Role::Agent).await?;
    let now = server.state.now();
    let ahead = now + 60_000;
    let id = server.customer_writes_at("15550008888", "Are you there?", ahead).await?;
    let store = &server.state.store;
    let claimed = store.claim(id, agent.id, now + 60_000, now).await?;
    anyhow::ensure!(matches!(claimed, ClaimOutcome::Held { .. }), "claim: {claimed:?}");
    let seen = store.conversation(id).await?.map(|c| c.last_seq).unwrap_or_default();
    let reply = |body: &str, seen_seq: u64| reply_in(id, agent.id, body, seen_seq);
    let ReplyOutcome::Sent { message, .. } = store.send_reply(&reply("Yes!", seen), now).await? else {
        anyhow::bail!("reply not stored")
    };
    assert_eq!(message.created_at, now, "stored now");
    assert_eq!(message.sent_at, ahead, "placed no earlier than the message before it");

    let history = detail(&agent_client, id).await?;
    assert_eq!(bodies(&history.messages), ["Are you there?", "Yes!"]);
    assert_eq!(history.conversation.last_message_at, Some(ahead));
    let list: Vec<ConversationSummary> = json(agent_client.get("/api/conversations").await?).await?;
    assert_eq!(list[0].last_message.as_ref().map(|message| message.body.as_str()), Some("Yes!"));
    server.stop().await
}

/// The traffic cop lists what a reply missed where the customer wrote it, not as it arrived.
async fn what_a_reply_missed_is_listed_in_the_customers_order(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (_, agent) = server.logged_in("Alice", Role::Agent).await?;
    let now = server.state.now();
    let wa_id = "15550009999";
    let id = server.customer_writes_at(wa_id, "Hello", now - 10_000).await?;
    let store = &server.state.store;
    let claimed = store.claim(id, agent.id, now + 60_000, now).await?;
    anyhow::ensure!(matches!(claimed, ClaimOutcome::Held { .. }), "claim: {claimed:?}");
    let seen = store.conversation(id).await?.map(|c| c.last_seq).unwrap_or_default();
    // While the agent writes, WhatsApp delivers the customer's second message before the first.
    server.customer_writes_at(wa_id, "second", now - 2_000).await?;
    server.customer_writes_at(wa_id, "first", now - 5_000).await?;
    let ReplyOutcome::Changed { missed } = store.send_reply(&reply_in(id, agent.id, "Hi!", seen), now).await? else {
        anyhow::bail!("the reply was not stopped")
    };
    assert_eq!(bodies(&missed), ["first", "second"]);
    server.stop().await
}
