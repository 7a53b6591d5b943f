//! Labels over real sockets, on SQLite and PostgreSQL: an agent labels a conversation; the labels
//! are normalized, stored, sent live to everyone watching as a `labeled` event, replayed to a
//! client resuming from before it, and listed by `GET /api/conversations`. Setting the same
//! labels again changes nothing; bad labels and a teammate's conversation are refused.

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
    bad_labels_and_foreign_conversations_are_refused
);

fn set_labels(conversation_id: ConversationId, labels: &[&str]) -> impl FnOnce(u64) -> ClientMsg {
    let labels = labels.iter().map(|label| (*label).to_owned()).collect();
    move |req_id| ClientMsg::SetLabels { req_id, conversation_id, labels }
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

    let answer = alice.request(set_labels(id, &["  VIP ", "Billing   question", "vip"])).await?;
    let expected = vec!["vip".to_owned(), "billing question".to_owned()];
    assert_eq!(acked_labels(answer)?, expected, "trimmed, lowercased, once each");
    let (seq, streamed) = labeled(&mut sam, id).await?;
    assert_eq!(streamed, expected, "the supervisor watching the inbox sees the labels live");

    // The same labels again: acknowledged, no new event. The next change proves nothing came
    // between.
    acked_labels(alice.request(set_labels(id, &["VIP", "billing question"])).await?)?;
    acked_labels(alice.request(set_labels(id, &["vip"])).await?)?;
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
    acked_labels(alice.request(set_labels(id, &[])).await?)?;
    assert_eq!(labeled(&mut sam, id).await?, (seq + 2, vec![]));
    acked_labels(alice.request(set_labels(id, &["refund"])).await?)?;
    let list: Vec<ConversationSummary> = json(alice_client.get("/api/conversations").await?).await?;
    let listed: Vec<_> =
        list.iter().map(|summary| (summary.conversation.id, summary.conversation.labels.clone())).collect();
    assert_eq!(listed, [(id, vec!["refund".to_owned()])]);
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

    let too_many: Vec<String> = (0..=MAX_LABELS).map(|n| format!("label {n}")).collect();
    let too_long = "x".repeat(33);
    for labels in [vec![" ".to_owned()], vec![too_long], too_many] {
        let answer = alice.request(|req_id| ClientMsg::SetLabels { req_id, conversation_id: id, labels }).await?;
        let ServerMsg::Error { code, message, .. } = answer else { anyhow::bail!("accepted: {answer:?}") };
        assert_eq!(code, ErrorCode::InvalidInput);
        assert!(message.starts_with("A "), "a human sentence: {message}");
    }

    // Once the conversation is Bob's, Alice may not label it; Bob may.
    let assign = |req_id| ClientMsg::Assign { req_id, conversation_id: id, assignee: Some(bob.id), note: None };
    let ServerMsg::Ack { .. } = sam.request(assign).await? else { anyhow::bail!("the supervisor could not assign") };
    let answer = alice.request(set_labels(id, &["vip"])).await?;
    let ServerMsg::Error { code, .. } = answer else { anyhow::bail!("Alice labelled Bob's conversation: {answer:?}") };
    assert_eq!(code, ErrorCode::Forbidden);
    assert_eq!(acked_labels(bob_socket.request(set_labels(id, &["vip"])).await?)?, ["vip"]);
    server.stop().await
}
