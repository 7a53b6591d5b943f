//! The real-time core over real WebSockets: presence, viewing, typing and drafts, the claim as a
//! hard lock, the send path, notes, resume without gaps, slow consumers, and bad input.

use std::collections::HashMap;
use std::time::Duration;

use baton_shared::ErrorCode;
use baton_shared::api::{Role, User};
use baton_shared::model::{Change, ConversationEvent};
use baton_shared::protocol::{
    AckDetail, CLOSE_SLOW_CONSUMER, ClientMsg, Cursor, ErrorDetail, PresenceStatus, ServerMsg,
};
use baton_shared::{ConversationId, UserId};
use baton_tests::client::TestClient;
use baton_tests::database::Kind;
use baton_tests::eventually::eventually;
use baton_tests::server::TestServer;
use baton_tests::socket::{Ended, HandshakeError, WsClient, handshake};
use tokio_tungstenite::tungstenite::Message;

async fn member(server: &TestServer, name: &str, role: Role) -> anyhow::Result<(TestClient, User, WsClient)> {
    let (client, user) = server.logged_in(name, role).await?;
    let socket = WsClient::connect(&client).await?;
    Ok((client, user, socket))
}

fn error_code(message: &ServerMsg) -> Option<ErrorCode> {
    match message {
        ServerMsg::Error { code, .. } => Some(*code),
        _ => None,
    }
}

fn is_ack(message: &ServerMsg) -> bool {
    matches!(message, ServerMsg::Ack { .. })
}

/// The next event of `conversation` (skipping other messages, which stay pending).
async fn next_event(socket: &mut WsClient, conversation: ConversationId) -> anyhow::Result<ConversationEvent> {
    socket
        .expect(|message| match message {
            ServerMsg::Event { event } if event.conversation_id == conversation => Some(event.clone()),
            _ => None,
        })
        .await
}

async fn open(socket: &mut WsClient, conversation: ConversationId, after_seq: u64) -> anyhow::Result<ServerMsg> {
    socket.request(|req_id| ClientMsg::Open { req_id, conversation_id: conversation, after_seq }).await
}

#[tokio::test]
async fn presence_follows_sockets_and_chosen_status() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (_, alice_user, mut alice) = member(&server, "Alice", Role::Agent).await?;
    let own = alice.greeting.iter().any(|m| matches!(m, ServerMsg::Presence { presence } if presence.iter().any(|p| p.user.id == alice_user.id && p.online)));
    assert!(own, "the greeting lists who is online: {:?}", alice.greeting);
    let (bob_client, bob, bob_tab1) = member(&server, "Bob", Role::Agent).await?;
    let presence_of = |user: UserId| {
        move |message: &ServerMsg| match message {
            ServerMsg::Presence { presence } => presence.iter().find(|p| p.user.id == user).cloned(),
            _ => None,
        }
    };
    assert!(alice.expect(presence_of(bob.id)).await?.online);

    // Closing one of Bob's two tabs leaves him online: his next change shows him still online.
    let mut bob_tab2 = WsClient::connect(&bob_client).await?;
    bob_tab1.close().await?;
    eventually(Duration::from_secs(10), || async {
        let connections = server.state.hub.connection_count();
        Ok(if connections <= 2 { Ok(()) } else { Err(format!("{connections} connections")) })
    })
    .await?;
    bob_tab2.request(|req_id| ClientMsg::SetPresence { req_id, status: PresenceStatus::Busy }).await?;
    let busy = alice.expect(presence_of(bob.id)).await?;
    assert_eq!((busy.online, busy.status), (true, PresenceStatus::Busy), "online with one tab left, and busy");

    // An abrupt disconnect of his last tab takes him offline.
    bob_tab2.cut();
    let gone = alice.expect(presence_of(bob.id)).await?;
    assert!(!gone.online);
    let _bob_again = WsClient::connect(&bob_client).await?;
    assert!(alice.expect(presence_of(bob.id)).await?.online);
    Ok(())
}

#[tokio::test]
async fn viewers_appear_and_clear_even_on_abrupt_disconnect() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (_, alice, mut alice_socket) = member(&server, "Alice", Role::Agent).await?;
    let (_, bob, mut bob_socket) = member(&server, "Bob", Role::Agent).await?;
    let conversation = server.customer_writes("15550001", "Hello").await?;
    assert!(is_ack(&open(&mut alice_socket, conversation, 0).await?));
    assert!(is_ack(&open(&mut bob_socket, conversation, 0).await?));
    let viewers = |expected: Vec<UserId>| {
        move |message: &ServerMsg| match message {
            ServerMsg::Viewers { viewers, .. } if viewers.iter().map(|v| v.id).collect::<Vec<_>>() == expected => {
                Some(())
            }
            _ => None,
        }
    };
    alice_socket.expect(viewers(vec![alice.id, bob.id])).await?;
    alice_socket.pending.clear();
    bob_socket.cut();
    alice_socket.expect(viewers(vec![alice.id])).await?;
    assert_eq!(server.state.hub.viewers(conversation).len(), 1);
    alice_socket.request(|req_id| ClientMsg::Close { req_id, conversation_id: conversation }).await?;
    assert!(server.state.hub.viewers(conversation).is_empty());
    Ok(())
}

#[tokio::test]
async fn typing_locks_the_composer_and_drafts_reach_only_supervisors() -> anyhow::Result<()> {
    let server = TestServer::start_with(Kind::Sqlite, |config| {
        config.hub.typing_timeout = Duration::from_millis(300);
    })
    .await?;
    let (_, alice, mut alice_socket) = member(&server, "Alice", Role::Agent).await?;
    let (_, _, mut bob_socket) = member(&server, "Bob", Role::Agent).await?;
    let (_, _, mut sam_socket) = member(&server, "Sam", Role::Supervisor).await?;
    let conversation = server.customer_writes("15550001", "Hello").await?;
    open(&mut alice_socket, conversation, 0).await?;
    open(&mut bob_socket, conversation, 0).await?;
    assert!(is_ack(&sam_socket.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors: vec![] }).await?));

    let typed = alice_socket
        .request(|req_id| ClientMsg::Typing { req_id, conversation_id: conversation, draft: "Hi! Let me".into() })
        .await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Claim { claim }), .. } = typed else { anyhow::bail!("{typed:?}") };
    assert_eq!(claim.holder, alice.id, "the first keystroke claimed the conversation");

    let typing = |user: UserId, on: bool| {
        move |message: &ServerMsg| match message {
            ServerMsg::Typing { user: who, typing, .. } if who.id == user && *typing == on => Some(()),
            _ => None,
        }
    };
    bob_socket.expect(typing(alice.id, true)).await?;
    sam_socket.expect(typing(alice.id, true)).await?;
    let draft = sam_socket
        .expect(|m| match m {
            ServerMsg::Draft { user, body, .. } if user.id == alice.id => Some(body.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(draft, "Hi! Let me");

    // Bob's composer is locked: his keystroke is refused and names the holder.
    let refused = bob_socket
        .request(|req_id| ClientMsg::Typing { req_id, conversation_id: conversation, draft: "Hel".into() })
        .await?;
    let ServerMsg::Error { code, detail: Some(ErrorDetail::ClaimedBy { claim }), message, .. } = refused else {
        anyhow::bail!("{refused:?}")
    };
    assert_eq!(code, ErrorCode::ClaimedByOther);
    assert_eq!(claim.holder_name, "Alice");
    assert!(message.contains("Alice"), "{message}");

    // Typing stops by itself after the timeout; the draft never reached Bob.
    bob_socket.expect(typing(alice.id, false)).await?;
    sam_socket.expect(typing(alice.id, false)).await?;
    assert!(!bob_socket.pending.iter().any(|m| matches!(m, ServerMsg::Draft { .. })), "an agent saw a draft");
    // The draft was kept server-side.
    // Drafts are saved off the socket's path; wait (bounded) until this one is.
    let saved =
        eventually(Duration::from_secs(10), || async { Ok(server.state.store.draft(conversation, alice.id).await?) })
            .await?;
    assert_eq!(saved, "Hi! Let me");
    Ok(())
}

/// Conversations claimed at the same instant in each round of the race.
const RACED_AT_ONCE: usize = 3;

/// 50 sockets claim the same conversations at the same instant, `rounds` times, by hand and by
/// a first keystroke: a burst of 150 claims, which the store takes in shared transactions (group
/// commit), several on one conversation in one batch. One winner per conversation each time.
async fn claim_race(kind: Kind, rounds: usize) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let mut sockets = Vec::new();
    for index in 0..50 {
        let (_, user, socket) = member(&server, &format!("Racer {index}"), Role::Agent).await?;
        sockets.push((user, socket));
    }
    for round in 0..rounds {
        let mut conversations = Vec::new();
        for which in 0..RACED_AT_ONCE {
            conversations.push(server.customer_writes(&format!("1555{round:05}{which}"), "Who answers?").await?);
        }
        // Every socket asks for every conversation before anyone reads an answer, each in its
        // own order, half of them by typing.
        let mut requests = Vec::new();
        for (index, (_, socket)) in sockets.iter_mut().enumerate() {
            for turn in 0..RACED_AT_ONCE {
                let conversation = conversations[(index + turn) % RACED_AT_ONCE];
                let req_id = if (index + turn) % 2 == 0 {
                    socket.send(|req_id| ClientMsg::Claim { req_id, conversation_id: conversation }).await?
                } else {
                    let draft = format!("Racer {index} here");
                    socket.send(|req_id| ClientMsg::Typing { req_id, conversation_id: conversation, draft }).await?
                };
                requests.push((index, conversation, req_id));
            }
        }
        let mut winners: HashMap<ConversationId, Vec<UserId>> = HashMap::new();
        let mut refused = 0;
        for (index, conversation, req_id) in requests {
            let (user, socket) = &mut sockets[index];
            match socket.answer(req_id).await? {
                ServerMsg::Ack { .. } => winners.entry(conversation).or_default().push(user.id),
                ServerMsg::Error { code: ErrorCode::ClaimedByOther, .. } => refused += 1,
                other => anyhow::bail!("round {round}: {other:?}"),
            }
        }
        assert_eq!(refused, 49 * RACED_AT_ONCE, "round {round}");
        for conversation in conversations {
            let won = winners.get(&conversation).cloned().unwrap_or_default();
            assert_eq!(won.len(), 1, "round {round}, {conversation:?}: {won:?}");
            let holder = server.state.store.conversation(conversation).await?.and_then(|c| c.claim).map(|c| c.holder);
            assert_eq!(holder, won.first().copied(), "round {round}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn one_of_fifty_claimers_wins_every_round_on_sqlite() -> anyhow::Result<()> {
    claim_race(Kind::Sqlite, 100).await
}

#[tokio::test]
async fn one_of_fifty_claimers_wins_every_round_on_postgres() -> anyhow::Result<()> {
    claim_race(Kind::Postgres, 100).await
}

#[tokio::test]
async fn only_the_holder_sends_once_per_key_and_the_traffic_cop_stops_stale_replies() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (_, alice, mut alice_socket) = member(&server, "Alice", Role::Agent).await?;
    let (_, _, mut bob_socket) = member(&server, "Bob", Role::Agent).await?;
    let conversation = server.customer_writes("15550001", "Hello").await?;
    open(&mut alice_socket, conversation, 2).await?;
    open(&mut bob_socket, conversation, 2).await?;
    alice_socket.request(|req_id| ClientMsg::Claim { req_id, conversation_id: conversation }).await?;
    let seen = server.state.store.conversation(conversation).await?.map(|c| c.last_seq).unwrap_or_default();

    let reply = |key: &str, seen_seq: u64, force: bool| {
        let key = key.to_owned();
        move |req_id| ClientMsg::Reply {
            req_id,
            conversation_id: conversation,
            body: "We're on it!".into(),
            idempotency_key: key,
            seen_seq,
            force,
            reply_to: None,
        }
    };
    let refused = bob_socket.request(reply("bob-1", seen, false)).await?;
    assert_eq!(error_code(&refused), Some(ErrorCode::NotClaimHolder), "{refused:?}");

    let first = alice_socket.request(reply("alice-1", seen, false)).await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Message { message }), .. } = first else { anyhow::bail!("{first:?}") };
    let second = alice_socket.request(reply("alice-1", seen, false)).await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Message { message: again }), .. } = second else {
        anyhow::bail!("{second:?}")
    };
    assert_eq!(again.id, message.id, "a double click sends once");
    let outbound =
        server.state.store.messages(conversation).await?.iter().filter(|m| m.author == Some(alice.id)).count();
    assert_eq!(outbound, 1);
    let event = next_event(&mut bob_socket, conversation).await?;
    assert!(matches!(event.change, Change::Claimed { .. }));
    let event = next_event(&mut bob_socket, conversation).await?;
    assert!(matches!(event.change, Change::MessageAdded { .. }), "bob sees the reply live: {event:?}");

    server.customer_writes("15550001", "Actually, cancel my order").await?;
    let stale = alice_socket.request(reply("alice-2", message.seq, false)).await?;
    let ServerMsg::Error { code, detail: Some(ErrorDetail::Missed { messages }), .. } = stale else {
        anyhow::bail!("{stale:?}")
    };
    assert_eq!(code, ErrorCode::ConversationChanged);
    assert_eq!(messages[0].body, "Actually, cancel my order");
    let forced = alice_socket.request(reply("alice-2", message.seq, true)).await?;
    assert!(is_ack(&forced), "sending anyway, deliberately: {forced:?}");
    Ok(())
}

#[tokio::test]
async fn notes_are_live_conflicts_keep_both_texts_and_mentions_notify() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (_, _, mut alice_socket) = member(&server, "Alice", Role::Agent).await?;
    let (_, bob, mut bob_socket) = member(&server, "Bob", Role::Agent).await?;
    let conversation = server.customer_writes("15550001", "Hello").await?;
    open(&mut alice_socket, conversation, 2).await?;
    open(&mut bob_socket, conversation, 2).await?;

    let added = alice_socket
        .request(|req_id| ClientMsg::AddNote { req_id, conversation_id: conversation, body: "VIP, ask @bob".into() })
        .await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Note { note }), .. } = added else { anyhow::bail!("{added:?}") };
    let event = next_event(&mut bob_socket, conversation).await?;
    assert!(matches!(&event.change, Change::NoteAdded { note: seen } if seen.id == note.id));
    let mentioned = bob_socket
        .expect(|m| match m {
            ServerMsg::Mentioned { note_id, by, .. } if *note_id == note.id => Some(by.name.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(mentioned, "Alice");

    let bob_edit = bob_socket
        .request(|req_id| ClientMsg::EditNote { req_id, note_id: note.id, body: "VIP".into(), base_version: 1 })
        .await?;
    assert_eq!(error_code(&bob_edit), Some(ErrorCode::Forbidden), "agents edit only their own notes");
    let edited = alice_socket
        .request(|req_id| ClientMsg::EditNote {
            req_id,
            note_id: note.id,
            body: "VIP customer".into(),
            base_version: 1,
        })
        .await?;
    assert!(is_ack(&edited));
    let stale = alice_socket
        .request(|req_id| ClientMsg::EditNote { req_id, note_id: note.id, body: "Old idea".into(), base_version: 1 })
        .await?;
    let ServerMsg::Error {
        code: ErrorCode::Conflict, detail: Some(ErrorDetail::CurrentNote { note: current }), ..
    } = stale
    else {
        anyhow::bail!("{stale:?}")
    };
    assert_eq!(current.body, "VIP customer", "the newer words are kept and shown");
    assert_ne!(bob.id, current.author);
    Ok(())
}

#[tokio::test]
async fn a_reconnecting_client_gets_exactly_what_it_missed() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (client, _, mut socket) = member(&server, "Alice", Role::Supervisor).await?;
    let mut conversations = Vec::new();
    for index in 0..20 {
        conversations.push(server.customer_writes(&format!("1555000{index:02}"), "Hello").await?);
    }
    let mut cursors = HashMap::new();
    for conversation in &conversations {
        open(&mut socket, *conversation, 0).await?;
        let mut last = 0;
        while last < 2 {
            last = next_event(&mut socket, *conversation).await?.seq;
        }
        cursors.insert(*conversation, last);
    }
    socket.cut();

    for index in 0..500 {
        let conversation = conversations[index % conversations.len()];
        let wa_id = format!("1555000{:02}", index % conversations.len());
        let recorded = server.customer_writes(&wa_id, &format!("message {index}")).await?;
        assert_eq!(recorded, conversation);
    }

    let mut socket = WsClient::connect(&client).await?;
    let resume: Vec<Cursor> =
        cursors.iter().map(|(conversation, seq)| Cursor { conversation_id: *conversation, after_seq: *seq }).collect();
    let answer = socket.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors: resume }).await?;
    assert!(is_ack(&answer), "{answer:?}");
    let mut received: HashMap<ConversationId, Vec<u64>> = HashMap::new();
    let mut events = 0;
    while events < 500 {
        let message = socket.next().await?;
        match message {
            ServerMsg::Event { event } => received.entry(event.conversation_id).or_default().push(event.seq),
            ServerMsg::Presence { .. } => continue,
            other => anyhow::bail!("unexpected {other:?}"),
        }
        events += 1;
    }
    for conversation in &conversations {
        let seqs = received.remove(conversation).unwrap_or_default();
        let expected: Vec<u64> = (3..3 + 25).collect();
        assert_eq!(seqs, expected, "conversation {conversation}: all missed events, once, in order");
    }
    assert!(is_ack(&socket.request(|req_id| ClientMsg::Ping { req_id }).await?), "and nothing more");
    Ok(())
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_while_others_keep_receiving() -> anyhow::Result<()> {
    let server = TestServer::start_with(Kind::Sqlite, |config| config.hub.outbox_capacity = 32).await?;
    let (_, _, mut sleepy) = member(&server, "Sleepy", Role::Supervisor).await?;
    let (_, _, mut awake) = member(&server, "Awake", Role::Supervisor).await?;
    sleepy.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors: vec![] }).await?;
    awake.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors: vec![] }).await?;
    let conversation = server.customer_writes("15550001", "start").await?;
    let mut seen = 0;
    // `awake` reads as it goes; `sleepy` reads nothing. Kernel socket buffers absorb some data
    // before the server's queue for `sleepy` overflows: send until the hub reports it slow.
    let big = "x".repeat(3000);
    for index in 0..5000 {
        server.customer_writes("15550001", &format!("{index} {big}")).await?;
        while seen < index + 1 {
            let event = next_event(&mut awake, conversation).await?;
            if matches!(event.change, Change::MessageAdded { .. }) {
                seen += 1;
            }
        }
        if server.state.hub.slow_consumers() > 0 {
            break;
        }
    }
    assert_eq!(server.state.hub.slow_consumers(), 1, "the sleepy socket fell behind");
    // Reading now, it finds what was sent before the overflow, then the close code.
    let ended = sleepy.until_closed().await?;
    assert_eq!(ended, Ended::Closed(Some(CLOSE_SLOW_CONSUMER)));
    assert!(is_ack(&awake.request(|req_id| ClientMsg::Ping { req_id }).await?));
    Ok(())
}

#[tokio::test]
async fn foreign_origins_and_missing_sessions_are_refused_at_the_handshake() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (client, _) = server.logged_in("Alice", Role::Agent).await?;
    let foreign = handshake(&client, Some("https://evil.example")).await;
    assert!(matches!(foreign, Err(HandshakeError::Status(403))), "{foreign:?}");
    let anonymous = handshake(&server.client(), Some(&server.origin())).await;
    assert!(matches!(anonymous, Err(HandshakeError::Status(401))), "{anonymous:?}");
    assert!(handshake(&client, Some(&server.origin())).await.is_ok());
    Ok(())
}

#[tokio::test]
async fn roles_are_checked_on_every_message() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (_, alice, mut alice_socket) = member(&server, "Alice", Role::Agent).await?;
    let (_, _, mut bob_socket) = member(&server, "Bob", Role::Agent).await?;
    let (_, sam, mut sam_socket) = member(&server, "Sam", Role::Supervisor).await?;
    let conversation = server.customer_writes("15550001", "Hello").await?;

    alice_socket.request(|req_id| ClientMsg::Claim { req_id, conversation_id: conversation }).await?;
    let take = bob_socket.request(|req_id| ClientMsg::TakeOver { req_id, conversation_id: conversation }).await?;
    assert_eq!(error_code(&take), Some(ErrorCode::Forbidden), "agents cannot take over");
    let transfer = bob_socket
        .request(|req_id| ClientMsg::Transfer { req_id, conversation_id: conversation, to: UserId(1) })
        .await?;
    assert_eq!(error_code(&transfer), Some(ErrorCode::Forbidden), "only the holder or a supervisor hands over");
    let release = bob_socket.request(|req_id| ClientMsg::Release { req_id, conversation_id: conversation }).await?;
    assert_eq!(error_code(&release), Some(ErrorCode::NotClaimHolder));
    let missing = bob_socket
        .request(|req_id| ClientMsg::Open { req_id, conversation_id: ConversationId(999_999), after_seq: 0 })
        .await?;
    assert_eq!(error_code(&missing), Some(ErrorCode::NotFound));

    let taken = sam_socket.request(|req_id| ClientMsg::TakeOver { req_id, conversation_id: conversation }).await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Claim { claim }), .. } = taken else { anyhow::bail!("{taken:?}") };
    assert_eq!(claim.holder, sam.id);
    let events = server.state.store.events_after(conversation, 0, 100).await?;
    assert!(events.iter().any(|e| matches!(&e.change, Change::TakenOver { from, .. } if *from == alice.id)), "audited");
    Ok(())
}

#[tokio::test]
async fn a_thousand_malformed_frames_get_typed_errors_and_the_socket_stays_up() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (_, _, mut socket) = member(&server, "Alice", Role::Agent).await?;
    let frames = [
        Message::Text("not json".into()),
        Message::Text("{\"type\":\"launch_rockets\",\"req_id\":5}".into()),
        Message::Text("{\"type\":\"claim\",\"req_id\":6}".into()),
        Message::Text("[1,2,3]".into()),
        Message::Binary(vec![0, 159, 146, 150].into()),
    ];
    for index in 0..1000 {
        socket.send_raw(frames[index % frames.len()].clone()).await?;
    }
    let mut codes = HashMap::new();
    let mut answers = 0;
    while answers < 1000 {
        let message = socket.next().await?;
        if matches!(message, ServerMsg::Presence { .. }) {
            continue; // presence broadcasts come whenever they come
        }
        let code = error_code(&message).ok_or_else(|| anyhow::anyhow!("not an error: {message:?}"))?;
        *codes.entry(code).or_insert(0) += 1;
        answers += 1;
    }
    assert_eq!(codes.get(&ErrorCode::MalformedJson), Some(&200));
    assert_eq!(codes.get(&ErrorCode::InvalidInput), Some(&600), "unknown type, missing field, wrong shape");
    assert_eq!(codes.get(&ErrorCode::UnsupportedFrame), Some(&200));
    assert!(is_ack(&socket.request(|req_id| ClientMsg::Ping { req_id }).await?), "still up");
    assert_eq!(server.client().get("/healthz").await?.status(), reqwest::StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn sockets_end_with_the_session() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (admin, _) = server.logged_in("Admin", Role::Admin).await?;
    let (_, bob, mut bob_socket) = member(&server, "Bob", Role::Agent).await?;
    let (carol_client, carol, mut carol_socket) = member(&server, "Carol", Role::Agent).await?;

    let disabled = admin.patch(&format!("/api/users/{}", bob.id), &serde_json::json!({"disabled": true})).await?;
    assert_eq!(disabled.status(), reqwest::StatusCode::OK);
    assert_eq!(bob_socket.until_closed().await?, Ended::Closed(Some(baton_shared::protocol::CLOSE_SESSION_ENDED)));

    // Carol is also logged in on a second device: logging out on one ends only that one's sockets.
    let mut carol_phone = server.client();
    carol_phone.login(&carol.email, "pass-carol-agent").await?;
    let mut carol_phone_socket = WsClient::connect(&carol_phone).await?;
    let logout = carol_client.request(reqwest::Method::POST, "/api/auth/logout").send().await?;
    assert_eq!(logout.status(), reqwest::StatusCode::NO_CONTENT);
    assert_eq!(carol_socket.until_closed().await?, Ended::Closed(Some(baton_shared::protocol::CLOSE_SESSION_ENDED)));
    let still_there = carol_phone_socket.request(|req_id| ClientMsg::Ping { req_id }).await?;
    assert!(matches!(still_there, ServerMsg::Ack { .. }), "the other device's socket stays: {still_there:?}");
    let again = handshake(&carol_client, Some(&server.origin())).await;
    assert!(matches!(again, Err(HandshakeError::Status(401))), "{again:?}");
    Ok(())
}

/// A client that could not place events it received (it did not hold their conversation yet:
/// an agent who is assigned a conversation mid-stream) asks again from an earlier cursor, and
/// gets those events again, in order, then the live ones — the app relies on this for gaps.
#[tokio::test]
async fn asking_again_from_an_earlier_cursor_replays_what_was_already_sent() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (_client, _agent, mut socket) = member(&server, "Gil", Role::Agent).await?;
    socket.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors: vec![] }).await?;
    let conversation = server.customer_writes("15550009", "first").await?;
    server.customer_writes("15550009", "second").await?;
    let first_time = event_seqs(&mut socket, conversation, 3).await?;
    assert_eq!(first_time, [1, 2, 3], "opened, then two messages");
    let cursors = vec![Cursor { conversation_id: conversation, after_seq: 0 }];
    let answer = socket.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors }).await?;
    assert!(matches!(answer, ServerMsg::Ack { .. }), "{answer:?}");
    server.customer_writes("15550009", "third").await?;
    assert_eq!(
        event_seqs(&mut socket, conversation, 4).await?,
        [1, 2, 3, 4],
        "the backlog again, then the live event once"
    );
    server.stop().await
}

/// The seqs of the next `count` events of `conversation` on `socket`.
async fn event_seqs(socket: &mut WsClient, conversation: ConversationId, count: usize) -> anyhow::Result<Vec<u64>> {
    let mut seqs = Vec::new();
    while seqs.len() < count {
        let seq = socket
            .expect(|message| match message {
                ServerMsg::Event { event } if event.conversation_id == conversation => Some(event.seq),
                _ => None,
            })
            .await?;
        seqs.push(seq);
    }
    Ok(seqs)
}
