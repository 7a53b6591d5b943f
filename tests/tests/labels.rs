//! Labels over real sockets, on SQLite and PostgreSQL: an agent labels a conversation; the labels
//! are normalized, stored, sent live to everyone who may see the conversation as a `labeled`
//! event, replayed to a client resuming from before it, and listed by `GET /api/conversations`.
//! An edit that changes nothing makes no event; two teammates adding labels at once both keep
//! theirs; bad labels and a teammate's conversation are refused, and an agent who may not see the
//! conversation does not receive its labels.

use baton_shared::api::{ConversationSummary, Role};
use baton_shared::model::{Change, MAX_LABELS};
use baton_shared::protocol::{AckDetail, ClientMsg, Cursor, ServerMsg};
use baton_shared::{ConversationId, ErrorCode};
use baton_tests::client::json;
use baton_tests::database::Kind;
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;

baton_tests::on_both_kinds!(
    labels_are_normalized_stored_and_streamed,
    teammates_labelling_at_once_keep_each_others_labels,
    bad_labels_and_foreign_conversations_are_refused,
);

fn edit(conversation_id: ConversationId, add: &[&str], remove: &[&str]) -> impl FnOnce(u64) -> ClientMsg + use<> {
    let strings = |labels: &[&str]| labels.iter().map(|label| (*label).to_owned()).collect();
    let (add, remove) = (strings(add), strings(remove));
    move |req_id| ClientMsg::EditLabels { req_id, conversation_id, add, remove }
}

fn add(conversation_id: ConversationId, labels: &[&str]) -> impl FnOnce(u64) -> ClientMsg + use<> {
    edit(conversation_id, labels, &[])
}

/// The labels of the conversation in an ack; fails on a refusal.
fn acked_labels(answer: ServerMsg) -> anyhow::Result<Vec<String>> {
    match answer {
        ServerMsg::Ack { detail: Some(AckDetail::Conversation { conversation }), .. } => Ok(conversation.labels),
        other => anyhow::bail!("expected an ack with the conversation, got {other:?}"),
    }
}

/// The next `labeled` event of `conversation` on the socket: (seq, labels).
async fn labeled(socket: &mut WsClient, conversation: ConversationId) -> anyhow::Result<(u64, Vec<String>)> {
    socket
        .expect(|message| match message {
            ServerMsg::Event { event } if event.conversation_id == conversation => match &event.change {
                Change::Labeled { labels } => Some((event.seq, labels.clone())),
                _ => None,
            },
            _ => None,
        })
        .await
}

async fn labels_are_normalized_stored_and_streamed(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (alice_client, _) = server.logged_in("Alice", Role::Agent).await?;
    let (sam_client, _) = server.logged_in("Sam", Role::Supervisor).await?;
    let mut alice = WsClient::connect(&alice_client).await?;
    let mut sam = WsClient::connect(&sam_client).await?;
    let id = server.customer_writes("15550001", "My invoice is wrong").await?;
    let ServerMsg::Ack { .. } = sam.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors: vec![] }).await?
    else {
        anyhow::bail!("the supervisor could not follow the inbox");
    };

    let answer = alice.request(add(id, &["  VIP ", "Billing   question", "vip"])).await?;
    let expected = vec!["vip".to_owned(), "billing question".to_owned()];
    assert_eq!(acked_labels(answer)?, expected, "trimmed, lowercased, once each");
    let (seq, streamed) = labeled(&mut sam, id).await?;
    assert_eq!(streamed, expected, "the supervisor watching the inbox sees the labels live");

    // Labels it has already, or removing one it lacks: acknowledged, no new event. The next
    // change proves nothing came between.
    acked_labels(alice.request(edit(id, &["VIP"], &["refund"])).await?)?;
    acked_labels(alice.request(edit(id, &[], &["Billing Question"])).await?)?;
    let (next_seq, streamed) = labeled(&mut sam, id).await?;
    assert_eq!((next_seq, streamed), (seq + 1, vec!["vip".to_owned()]), "an unchanged list made no event");

    // A client resuming from before the labels gets both changes, in order.
    let mut late = WsClient::connect(&sam_client).await?;
    late.request(|req_id| ClientMsg::SubscribeInbox {
        req_id,
        cursors: vec![Cursor { conversation_id: id, after_seq: seq - 1 }],
    })
    .await?;
    assert_eq!(labeled(&mut late, id).await?, (seq, expected));
    assert_eq!(labeled(&mut late, id).await?, (seq + 1, vec!["vip".to_owned()]));

    // Removing every label is a change too; the inbox list carries what is stored.
    acked_labels(alice.request(edit(id, &[], &["vip"])).await?)?;
    assert_eq!(labeled(&mut sam, id).await?, (seq + 2, vec![]));
    acked_labels(alice.request(add(id, &["refund"])).await?)?;
    let list: Vec<ConversationSummary> = json(alice_client.get("/api/conversations").await?).await?;
    let listed: Vec<_> =
        list.iter().map(|summary| (summary.conversation.id, summary.conversation.labels.clone())).collect();
    assert_eq!(listed, [(id, vec!["refund".to_owned()])]);
    server.stop().await
}

async fn teammates_labelling_at_once_keep_each_others_labels(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (alice_client, _) = server.logged_in("Alice", Role::Agent).await?;
    let (bob_client, _) = server.logged_in("Bob", Role::Agent).await?;
    let mut alice = WsClient::connect(&alice_client).await?;
    let mut bob = WsClient::connect(&bob_client).await?;
    let id = server.customer_writes("15550001", "Refund please, and where is my parcel?").await?;
    for round in 0..20 {
        let (mine, theirs) = (format!("alice {round}"), format!("bob {round}"));
        // Both send before either reads an answer: the edits meet at the server. Each adds its
        // own label; Bob also takes his previous one off.
        let alice_req = alice.send(add(id, &[&mine])).await?;
        let bob_req = bob.send(edit(id, &[&theirs], &[&format!("bob {}", round.max(1) - 1)])).await?;
        acked_labels(alice.answer(alice_req).await?)?;
        acked_labels(bob.answer(bob_req).await?)?;
        let after = acked_labels(alice.request(edit(id, &[], &[])).await?)?;
        assert!(after.contains(&mine) && after.contains(&theirs), "round {round}: both kept: {after:?}");
        acked_labels(alice.request(edit(id, &[], &[&mine])).await?)?;
    }
    server.stop().await
}

async fn bad_labels_and_foreign_conversations_are_refused(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (alice_client, _) = server.logged_in("Alice", Role::Agent).await?;
    let (bob_client, bob) = server.logged_in("Bob", Role::Agent).await?;
    let (sam_client, _) = server.logged_in("Sam", Role::Supervisor).await?;
    let mut alice = WsClient::connect(&alice_client).await?;
    let mut bob_socket = WsClient::connect(&bob_client).await?;
    let mut sam = WsClient::connect(&sam_client).await?;
    let id = server.customer_writes("15550001", "Hello").await?;

    acked_labels(alice.request(add(id, &["one", "two", "three", "four", "five", "six", "seven", "eight"])).await?)?;
    let too_long = "x".repeat(33);
    let refusals = [edit(id, &[" "], &[]), edit(id, &[&too_long], &[]), edit(id, &["nine", "ten", "eleven"], &[])];
    for request in refusals {
        let answer = alice.request(request).await?;
        let ServerMsg::Error { code, message, .. } = answer else { anyhow::bail!("accepted: {answer:?}") };
        assert_eq!(code, ErrorCode::InvalidInput);
        assert!(message.starts_with("A "), "a human sentence: {message}");
    }
    let eleven: Vec<String> = (0..=MAX_LABELS).map(|n| format!("l{n}")).collect();
    let answer = alice
        .request(|req_id| ClientMsg::EditLabels { req_id, conversation_id: id, add: eleven, remove: vec![] })
        .await?;
    assert!(matches!(answer, ServerMsg::Error { code: ErrorCode::InvalidInput, .. }), "{answer:?}");
    // Nothing of the refused edits was applied; making room first lets one more in.
    let labels = acked_labels(alice.request(edit(id, &["nine", "ten", "eleven"], &["one"])).await?)?;
    assert_eq!(labels.len(), MAX_LABELS);
    assert_eq!(labels.last().map(String::as_str), Some("eleven"));

    // Once the conversation is Bob's, Alice may not label it; Bob may.
    let assign = |req_id| ClientMsg::Assign { req_id, conversation_id: id, assignee: Some(bob.id), note: None };
    let ServerMsg::Ack { .. } = sam.request(assign).await? else { anyhow::bail!("the supervisor could not assign") };
    let answer = alice.request(add(id, &["vip"])).await?;
    let ServerMsg::Error { code, .. } = answer else { anyhow::bail!("Alice labelled Bob's conversation: {answer:?}") };
    assert_eq!(code, ErrorCode::NotFound, "answered as if it did not exist");
    // Alice follows the inbox; Bob's label on his conversation does not reach her. A new
    // conversation she may see proves her feed moved on past it.
    let follow = alice.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors: vec![] }).await?;
    anyhow::ensure!(matches!(follow, ServerMsg::Ack { .. }), "{follow:?}");
    let labels = acked_labels(bob_socket.request(edit(id, &["vip"], &["two"])).await?)?;
    assert!(labels.contains(&"vip".to_owned()) && !labels.contains(&"two".to_owned()));
    let other = server.customer_writes("15550002", "Hi").await?;
    alice
        .expect(|message| matches!(message, ServerMsg::Event { event } if event.conversation_id == other).then_some(()))
        .await?;
    let leaked = alice
        .pending
        .iter()
        .any(|message| matches!(message, ServerMsg::Event { event } if event.conversation_id == id));
    assert!(!leaked, "Alice received an event of Bob's conversation: {:?}", alice.pending);
    server.stop().await
}
