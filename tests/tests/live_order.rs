//! Every socket following a conversation receives every seq exactly once, in order, live — while
//! three writers (signed customer webhooks, notes, replies) race on that one conversation, and
//! while watchers join mid-burst from an earlier cursor (`open` and `subscribe_inbox`).
//!
//! Two transactions commit seq n then n+1, but their publishers may reach the hub the other way
//! round: before the hub put events in order, watchers lost about 1–2 % of them, and a
//! subscription racing the live stream got a seq twice and out of order.

use std::time::Duration;

use anyhow::Context;
use baton_shared::ConversationId;
use baton_shared::api::Role;
use baton_shared::protocol::{AckDetail, ClientMsg, Cursor, ServerMsg};
use baton_simulator::{Customer, Simulator};
use baton_tests::database::Kind;
use baton_tests::eventually::eventually;
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;
use baton_tests::whatsapp;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Writes per writer per round: 1,500 events a round, and the replies' statuses on top.
const WRITES: usize = 500;
const ROUNDS: usize = 2;

/// How a watcher follows the conversation.
#[derive(Clone, Copy, Debug)]
enum Follow {
    Open,
    Inbox,
}

/// A watcher's socket, read in its own task until it holds `target`; returns the seqs it got.
fn watch_events(
    mut socket: WsClient,
    conversation: ConversationId,
    mut target: watch::Receiver<u64>,
) -> JoinHandle<anyhow::Result<Vec<u64>>> {
    tokio::spawn(async move {
        let mut seqs = Vec::new();
        loop {
            if seqs.last().is_some_and(|last| *last >= *target.borrow()) {
                return Ok(seqs);
            }
            tokio::select! {
                message = socket.next() => match message? {
                    ServerMsg::Event { event } if event.conversation_id == conversation => seqs.push(event.seq),
                    ServerMsg::Resync { .. } => anyhow::bail!("a resync: the watcher fell behind"),
                    _ => {}
                },
                changed = target.changed() => changed?,
            }
        }
    })
}

/// A watcher joins: it follows the conversation from `after_seq` and is read from then on.
async fn join(
    server: &TestServer,
    name: &str,
    role: Role,
    how: Follow,
    conversation: ConversationId,
    after_seq: u64,
    target: &watch::Receiver<u64>,
) -> anyhow::Result<Watcher> {
    let (client, _) = server.logged_in(name, role).await?;
    let mut socket = WsClient::connect(&client).await?;
    socket
        .send(|req_id| match how {
            Follow::Open => ClientMsg::Open { req_id, conversation_id: conversation, after_seq },
            Follow::Inbox => {
                ClientMsg::SubscribeInbox { req_id, cursors: vec![Cursor { conversation_id: conversation, after_seq }] }
            }
        })
        .await?;
    // The answer is read by the watcher's task with the events around it; what matters is the
    // stream of seqs, checked at the end.
    Ok((format!("{name} ({how:?} from {after_seq})"), after_seq, watch_events(socket, conversation, target.clone())))
}

async fn last_seq(server: &TestServer, conversation: ConversationId) -> anyhow::Result<u64> {
    let stored = server.state.store.conversation(conversation).await?;
    stored.map(|conversation| conversation.last_seq).ok_or_else(|| anyhow::anyhow!("the conversation is gone"))
}

/// The customer writes `count` times through signed webhooks.
async fn customer_burst(simulator: &Simulator, customer: &Customer, round: usize, count: usize) -> anyhow::Result<()> {
    for index in 0..count {
        simulator.send_text(customer, format!("round {round} message {index}")).await?;
    }
    Ok(())
}

/// A supervisor adds `count` notes.
async fn note_burst(
    socket: &mut WsClient,
    conversation: ConversationId,
    round: usize,
    count: usize,
) -> anyhow::Result<()> {
    for index in 0..count {
        let body = format!("round {round} note {index}");
        let answer =
            socket.request(|req_id| ClientMsg::AddNote { req_id, conversation_id: conversation, body }).await?;
        anyhow::ensure!(matches!(answer, ServerMsg::Ack { .. }), "note refused: {answer:?}");
    }
    Ok(())
}

/// The claim holder sends `count` replies (forced past the traffic cop: the customer keeps writing).
async fn reply_burst(
    socket: &mut WsClient,
    conversation: ConversationId,
    round: usize,
    count: usize,
) -> anyhow::Result<()> {
    for index in 0..count {
        let answer = socket
            .request(|req_id| ClientMsg::Reply {
                req_id,
                conversation_id: conversation,
                body: format!("round {round} reply {index}"),
                idempotency_key: format!("round-{round}-reply-{index}"),
                seen_seq: 0,
                force: true,
                reply_to: None,
            })
            .await?;
        anyhow::ensure!(
            matches!(answer, ServerMsg::Ack { detail: Some(AckDetail::Message { .. }), .. }),
            "reply refused: {answer:?}"
        );
    }
    Ok(())
}

type Watcher = (String, u64, JoinHandle<anyhow::Result<Vec<u64>>>);

/// Six supervisors join while the writers write, each from 150 events back: their backlog races
/// the live stream. Half open the conversation, half subscribe to the inbox with a cursor.
async fn late_joiners(
    server: &TestServer,
    conversation: ConversationId,
    round: usize,
    start: u64,
    target: &watch::Receiver<u64>,
) -> anyhow::Result<Vec<Watcher>> {
    let mut watchers = Vec::new();
    for index in 0..6 {
        // Let the burst get going between joins.
        let wanted = start + 60 * (index as u64 + 1);
        eventually(Duration::from_secs(30), || async {
            let seq = last_seq(server, conversation).await?;
            Ok(if seq >= wanted { Ok(()) } else { Err(format!("seq {seq}, waiting for {wanted}")) })
        })
        .await
        .context("the writers stalled")?;
        let from = last_seq(server, conversation).await?.saturating_sub(150).max(start);
        let how = if index % 2 == 0 { Follow::Inbox } else { Follow::Open };
        let name = format!("Late Sup{index}r{round}");
        watchers.push(join(server, &name, Role::Supervisor, how, conversation, from, target).await?);
    }
    Ok(watchers)
}

/// Waits until the store holds every customer message sent so far (ingest is asynchronous).
async fn customer_messages_stored(
    server: &TestServer,
    conversation: ConversationId,
    count: usize,
) -> anyhow::Result<()> {
    eventually(Duration::from_secs(60), || async {
        let messages = server.state.store.messages(conversation).await?;
        let inbound = messages.iter().filter(|message| message.author.is_none()).count();
        Ok(if inbound >= count { Ok(()) } else { Err(format!("only {inbound} of {count} customer messages stored")) })
    })
    .await
}

async fn three_writers_and_twelve_watchers(kind: Kind) -> anyhow::Result<()> {
    let (server, simulator) = whatsapp::start(kind).await?;
    let customer = Customer::new("15557770001", "Busy Customer");
    let wamid = simulator.send_text(&customer, "hello").await?;
    let conversation = whatsapp::wait_for_conversation(&server, &wamid).await?;

    // Ann has the conversation and its claim; Sam writes notes.
    let (ann_user, ann_password) = server.create_user("Ann Agent", Role::Agent).await?;
    let ann_login = || async {
        let mut client = server.client();
        client.login(&ann_user.email, &ann_password).await.map(|_| client)
    };
    let ann = ann_login().await?;
    let (sam, _) = server.logged_in("Sam Supervisor", Role::Supervisor).await?;
    let mut sam = WsClient::connect(&sam).await?;
    let assigned = sam
        .request(|req_id| ClientMsg::Assign {
            req_id,
            conversation_id: conversation,
            assignee: Some(ann_user.id),
            note: None,
        })
        .await?;
    anyhow::ensure!(matches!(assigned, ServerMsg::Ack { .. }), "assign refused: {assigned:?}");
    let mut ann = WsClient::connect(&ann).await?;
    let claimed = ann.request(|req_id| ClientMsg::Claim { req_id, conversation_id: conversation }).await?;
    anyhow::ensure!(matches!(claimed, ServerMsg::Ack { .. }), "claim refused: {claimed:?}");

    let mut customer_messages = 1;
    for round in 0..ROUNDS {
        let (target_tx, target) = watch::channel(u64::MAX);
        // Six watchers follow from now: Ann in three tabs, three supervisors viewing.
        let mut watchers = Vec::new();
        let start = last_seq(&server, conversation).await?;
        for tab in 0..3 {
            let name = format!("Ann Tab{tab}r{round}");
            // Ann's other tabs: a teammate would not see her conversation.
            let client = ann_login().await?;
            let mut socket = WsClient::connect(&client).await?;
            socket.send(|req_id| ClientMsg::Open { req_id, conversation_id: conversation, after_seq: start }).await?;
            watchers.push((name, start, watch_events(socket, conversation, target.clone())));
        }
        for index in 0..3 {
            let name = format!("Viewer Sup{index}r{round}");
            watchers.push(join(&server, &name, Role::Supervisor, Follow::Open, conversation, start, &target).await?);
        }

        let (webhooks, notes, replies, late) = tokio::join!(
            customer_burst(&simulator, &customer, round, WRITES),
            note_burst(&mut sam, conversation, round, WRITES),
            reply_burst(&mut ann, conversation, round, WRITES),
            late_joiners(&server, conversation, round, start, &target),
        );
        webhooks?;
        notes?;
        replies?;
        watchers.extend(late?);
        customer_messages += WRITES;
        customer_messages_stored(&server, conversation, customer_messages).await?;
        let end = last_seq(&server, conversation).await?;
        anyhow::ensure!(end - start >= 1_500, "only {} events this round", end - start);
        target_tx.send(end)?;

        let mut failures = Vec::new();
        for (name, after, watcher) in watchers {
            let seqs = watcher.await??;
            let expected: Vec<u64> = (after + 1..=seqs.last().copied().unwrap_or(after).max(end)).collect();
            if seqs != expected {
                let missing: Vec<u64> = expected.iter().filter(|seq| !seqs.contains(seq)).copied().collect();
                let out_of_order: Vec<(u64, u64)> =
                    seqs.windows(2).filter(|pair| pair[1] != pair[0] + 1).map(|pair| (pair[0], pair[1])).collect();
                failures.push(format!(
                    "round {round}: {name} got {} events for {} expected; missing {missing:?}; jumps {out_of_order:?}",
                    seqs.len(),
                    expected.len()
                ));
            }
        }
        anyhow::ensure!(failures.is_empty(), "{failures:#?}");
    }
    drop((ann, sam));
    server.stop().await?;
    Ok(())
}

/// An event committed but never published (its publisher died between commit and publish) holds
/// up the ones after it only until the gap keeper reads it from the store: then both go out, in
/// order.
async fn an_event_never_published_is_read_from_the_store(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let conversation = server.customer_writes("15557770002", "hello").await?;
    let (supervisor, user) = server.logged_in("Sue Supervisor", Role::Supervisor).await?;
    let mut watcher = WsClient::connect(&supervisor).await?;
    let start = last_seq(&server, conversation).await?;
    let opened =
        watcher.request(|req_id| ClientMsg::Open { req_id, conversation_id: conversation, after_seq: start }).await?;
    anyhow::ensure!(matches!(opened, ServerMsg::Ack { .. }), "open refused: {opened:?}");

    let now = baton_server::clock::now_ms();
    let lost = server.state.store.add_note(conversation, user.id, "committed, never published", now).await?;
    let (writer, _) = server.logged_in("Wes Supervisor", Role::Supervisor).await?;
    let mut writer = WsClient::connect(&writer).await?;
    let body = "published".to_owned();
    let added = writer.request(|req_id| ClientMsg::AddNote { req_id, conversation_id: conversation, body }).await?;
    anyhow::ensure!(matches!(added, ServerMsg::Ack { .. }), "note refused: {added:?}");

    let mut seqs = Vec::new();
    while seqs.len() < 2 {
        if let ServerMsg::Event { event } = watcher.next().await? {
            seqs.push(event.seq);
        }
    }
    assert_eq!(seqs, [lost.seq, lost.seq + 1], "the lost event first, then the one held behind it");
    server.stop().await?;
    Ok(())
}

baton_tests::on_both_kinds!(three_writers_and_twelve_watchers, an_event_never_published_is_read_from_the_store);
