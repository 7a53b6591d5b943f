//! Assignment over real sockets: a conversation assigned to a teammate leaves every other
//! agent's view at once — their inbox feed, the conversation they had open, the claim they held —
//! and everything they try on it afterwards (open, claim, type, reply, its notes, its messages, its
//! media) is refused exactly as if it did not exist.
//! Agents' inbox feeds carry the unassigned conversations and their own; supervisors see all.

use baton_shared::ErrorCode;
use baton_shared::api::Role;
use baton_shared::model::{Change, ConversationStatus};
use baton_shared::protocol::{AckDetail, ClientMsg, ServerMsg};
use baton_shared::{ConversationId, MessageId, NoteId, UserId};
use baton_tests::client::expect_error;
use baton_tests::database::Kind;
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;
use reqwest::StatusCode;

fn refused_with(answer: &ServerMsg, code: ErrorCode) -> bool {
    matches!(answer, ServerMsg::Error { code: refused, .. } if *refused == code)
}

/// The code and sentence of a refusal.
fn refusal(answer: &ServerMsg) -> Option<(ErrorCode, String)> {
    match answer {
        ServerMsg::Error { code, message, .. } => Some((*code, message.clone())),
        _ => None,
    }
}

/// The next event of any conversation on `socket` (skipped messages stay pending), as
/// (conversation, seq, change).
async fn next_event(socket: &mut WsClient) -> anyhow::Result<(ConversationId, u64, Change)> {
    socket
        .expect(|message| match message {
            ServerMsg::Event { event } => Some((event.conversation_id, event.seq, event.change.clone())),
            _ => None,
        })
        .await
}

async fn assigning_away_revokes_every_other_agents_access(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (alice_client, alice) = server.logged_in("Alice", Role::Agent).await?;
    let (bob_client, bob) = server.logged_in("Bob", Role::Agent).await?;
    let (sam_client, _) = server.logged_in("Sam", Role::Supervisor).await?;
    let mut alice_socket = WsClient::connect(&alice_client).await?;
    let mut bob_socket = WsClient::connect(&bob_client).await?;
    let mut sam_socket = WsClient::connect(&sam_client).await?;
    for socket in [&mut alice_socket, &mut bob_socket] {
        let answer = socket.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors: vec![] }).await?;
        assert!(matches!(answer, ServerMsg::Ack { .. }), "agents follow their inbox: {answer:?}");
    }
    let vip = server.customer_writes("15550001", "I am a VIP").await?;
    let other = server.customer_writes("15550002", "Hello?").await?;
    // Unassigned conversations reach every agent's inbox feed.
    assert_eq!(next_event(&mut alice_socket).await?.0, vip);

    alice_socket.request(|req_id| ClientMsg::Open { req_id, conversation_id: vip, after_seq: 0 }).await?;
    alice_socket.request(|req_id| ClientMsg::Claim { req_id, conversation_id: vip }).await?;

    // Bob cannot take Alice's claim by assigning the conversation to himself: that is a take-over.
    let answer = bob_socket
        .request(|req_id| ClientMsg::Assign { req_id, conversation_id: vip, assignee: Some(bob.id), note: None })
        .await?;
    assert!(refused_with(&answer, ErrorCode::ClaimedByOther), "{answer:?}");

    // Sam gives it to Bob, with a note: Alice hears of it once, loses her claim, and is gone.
    let answer = sam_socket
        .request(|req_id| ClientMsg::Assign {
            req_id,
            conversation_id: vip,
            assignee: Some(bob.id),
            note: Some("VIP: Bob knows this customer".into()),
        })
        .await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Conversation { conversation }), .. } = answer else {
        anyhow::bail!("assign refused: {answer:?}")
    };
    assert_eq!((conversation.assignee, conversation.claim), (Some(bob.id), None));
    let told = alice_socket
        .expect(|message| match message {
            ServerMsg::Event { event } if event.conversation_id == vip => match &event.change {
                Change::Assigned { assignee, .. } => Some((*assignee, event.seq)),
                _ => None,
            },
            _ => None,
        })
        .await?;
    let (told, assigned_at) = told;
    assert_eq!(told, Some(bob.id));
    let mut bob_saw = Vec::new();
    while bob_saw.len() < 3 {
        let (conversation, _, change) = next_event(&mut bob_socket).await?;
        if conversation == vip
            && !matches!(change, Change::Opened { .. } | Change::MessageAdded { .. } | Change::Claimed { .. })
        {
            bob_saw.push(change);
        }
    }
    assert!(matches!(bob_saw[0], Change::Assigned { .. }), "{bob_saw:?}");
    assert!(matches!(bob_saw[1], Change::Released { holder, .. } if holder == alice.id), "{bob_saw:?}");
    assert!(matches!(&bob_saw[2], Change::NoteAdded { note } if note.body.starts_with("VIP")), "{bob_saw:?}");

    // Everything Alice tries on it now is refused, exactly as if it did not exist: the answer
    // does not tell that it does.
    let Change::NoteAdded { note } = &bob_saw[2] else { anyhow::bail!("{bob_saw:?}") };
    let stored = server.state.store.messages(vip).await?;
    let missing = ConversationId(999_999);
    let nowhere = alice_socket.request(|req_id| ClientMsg::Open { req_id, conversation_id: missing, after_seq: 0 });
    let nowhere = refusal(&nowhere.await?);
    assert_eq!(nowhere.as_ref().map(|(code, _)| *code), Some(ErrorCode::NotFound));
    let no_note = NoteId(999_999);
    let no_message = MessageId(999_999);
    for (note, message) in [(note.id, stored[0].id), (no_note, no_message)] {
        let edit = |req_id| ClientMsg::EditNote { req_id, note_id: note, body: "mine".into(), base_version: 1 };
        let delete = |req_id| ClientMsg::DeleteNote { req_id, note_id: note };
        let key = format!("alice-react-{}", message.0);
        let react =
            |req_id| ClientMsg::React { req_id, message_id: message, emoji: "👍".into(), idempotency_key: key };
        let retry = |req_id| ClientMsg::RetryMessage { req_id, message_id: message };
        assert_eq!(refusal(&alice_socket.request(edit).await?), nowhere, "edit_note");
        assert_eq!(refusal(&alice_socket.request(delete).await?), nowhere, "delete_note");
        assert_eq!(refusal(&alice_socket.request(react).await?), nowhere, "react");
        assert_eq!(refusal(&alice_socket.request(retry).await?), nowhere, "retry_message");
    }
    let attempts = [
        ClientMsg::Open { req_id: 0, conversation_id: vip, after_seq: 0 },
        ClientMsg::Claim { req_id: 0, conversation_id: vip },
        ClientMsg::Typing { req_id: 0, conversation_id: vip, draft: "I'll take it".into() },
        ClientMsg::AddNote { req_id: 0, conversation_id: vip, body: "mine".into() },
        ClientMsg::Reply {
            req_id: 0,
            conversation_id: vip,
            body: "Hi!".into(),
            idempotency_key: "alice-late".into(),
            seen_seq: 99,
            force: true,
            reply_to: None,
        },
        ClientMsg::Reply {
            req_id: 0,
            conversation_id: vip,
            body: "Quoting you".into(),
            idempotency_key: "alice-quote".into(),
            seen_seq: 99,
            force: true,
            reply_to: Some(stored[0].id),
        },
        ClientMsg::Assign { req_id: 0, conversation_id: vip, assignee: Some(alice.id), note: None },
        ClientMsg::SetStatus { req_id: 0, conversation_id: vip, status: ConversationStatus::Resolved, until: None },
    ];
    for attempt in attempts {
        let answer = alice_socket.request(|req_id| with_req_id(attempt.clone(), req_id)).await?;
        assert_eq!(refusal(&answer), nowhere, "{attempt:?}");
    }
    let media = alice_client.get(&format!("/api/messages/{}/media", stored[0].id.0)).await?;
    let media = expect_error(media, StatusCode::NOT_FOUND).await?;
    let no_media = alice_client.get(&format!("/api/messages/{}/media", no_message.0)).await?;
    let no_media = expect_error(no_media, StatusCode::NOT_FOUND).await?;
    assert_eq!((media.code, media.message), (no_media.code, no_media.message), "nor its media");

    // The customer writes again: Bob hears it, Alice does not (her next event is the other
    // conversation's, which is still unassigned).
    server.customer_writes("15550001", "Bob, are you there?").await?;
    server.customer_writes("15550002", "Anyone?").await?;
    loop {
        let (conversation, seq, change) = next_event(&mut alice_socket).await?;
        assert!(conversation != vip || seq <= assigned_at, "Alice still hears the VIP conversation: {change:?}");
        if matches!(&change, Change::MessageAdded { message } if message.body == "Anyone?") {
            break;
        }
    }

    // Bob resolves it.
    let answer = bob_socket
        .request(|req_id| ClientMsg::SetStatus {
            req_id,
            conversation_id: vip,
            status: ConversationStatus::Resolved,
            until: None,
        })
        .await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Conversation { conversation }), .. } = answer else {
        anyhow::bail!("resolve refused: {answer:?}")
    };
    assert_eq!(conversation.status, ConversationStatus::Resolved);
    // Assigning to nobody who exists is refused.
    let answer = sam_socket
        .request(|req_id| ClientMsg::Assign {
            req_id,
            conversation_id: other,
            assignee: Some(UserId(999_999)),
            note: None,
        })
        .await?;
    assert!(refused_with(&answer, ErrorCode::InvalidInput), "{answer:?}");
    Ok(())
}

/// The same request with another `req_id`.
fn with_req_id(message: ClientMsg, id: u64) -> ClientMsg {
    match message {
        ClientMsg::Open { conversation_id, after_seq, .. } => {
            ClientMsg::Open { req_id: id, conversation_id, after_seq }
        }
        ClientMsg::Claim { conversation_id, .. } => ClientMsg::Claim { req_id: id, conversation_id },
        ClientMsg::Typing { conversation_id, draft, .. } => ClientMsg::Typing { req_id: id, conversation_id, draft },
        ClientMsg::AddNote { conversation_id, body, .. } => ClientMsg::AddNote { req_id: id, conversation_id, body },
        ClientMsg::Assign { conversation_id, assignee, note, .. } => {
            ClientMsg::Assign { req_id: id, conversation_id, assignee, note }
        }
        ClientMsg::SetStatus { conversation_id, status, .. } => {
            ClientMsg::SetStatus { req_id: id, conversation_id, status, until: None }
        }
        ClientMsg::Reply { conversation_id, body, idempotency_key, seen_seq, force, reply_to, .. } => {
            ClientMsg::Reply { req_id: id, conversation_id, body, idempotency_key, seen_seq, force, reply_to }
        }
        other => other,
    }
}

/// A claim handed to someone who may not see the conversation could be neither used nor given
/// back: the transfer is refused, whoever asks, and the claim stays where it was.
async fn a_claim_goes_only_to_someone_who_may_see_the_conversation(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (alice_client, alice) = server.logged_in("Alice", Role::Agent).await?;
    let (_, bob) = server.logged_in("Bob", Role::Agent).await?;
    let (sam_client, sam) = server.logged_in("Sam", Role::Supervisor).await?;
    let mut alice_socket = WsClient::connect(&alice_client).await?;
    let mut sam_socket = WsClient::connect(&sam_client).await?;
    let vip = server.customer_writes("15550003", "Alice knows me").await?;
    let answer = sam_socket
        .request(|req_id| ClientMsg::Assign { req_id, conversation_id: vip, assignee: Some(alice.id), note: None })
        .await?;
    assert!(matches!(answer, ServerMsg::Ack { .. }), "{answer:?}");
    let answer = alice_socket.request(|req_id| ClientMsg::Claim { req_id, conversation_id: vip }).await?;
    assert!(matches!(answer, ServerMsg::Ack { .. }), "{answer:?}");

    for socket in [&mut alice_socket, &mut sam_socket] {
        let answer = socket.request(|req_id| ClientMsg::Transfer { req_id, conversation_id: vip, to: bob.id }).await?;
        assert!(refused_with(&answer, ErrorCode::InvalidInput), "{answer:?}");
    }
    let claim = server.state.store.conversation(vip).await?.and_then(|conversation| conversation.claim);
    assert_eq!(claim.map(|claim| claim.holder), Some(alice.id), "the claim stayed with Alice");

    // A supervisor sees every conversation: the claim may go to one.
    let answer =
        alice_socket.request(|req_id| ClientMsg::Transfer { req_id, conversation_id: vip, to: sam.id }).await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Claim { claim }), .. } = answer else { anyhow::bail!("{answer:?}") };
    assert_eq!(claim.holder, sam.id);
    Ok(())
}

baton_tests::on_both_kinds!(
    assigning_away_revokes_every_other_agents_access,
    a_claim_goes_only_to_someone_who_may_see_the_conversation,
);
