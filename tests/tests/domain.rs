//! The conversation domain called directly, as the routing engine, automations and API tokens will
//! call it: each operation with a user [`Actor`], on a real store (both databases), answering a
//! typed value or a typed refusal. Then one operation through REST and through the socket: the
//! same answer either way, because both only call the domain.

use baton_server::conversations::replies::{self, Sending};
use baton_server::conversations::{Actor, Refusal, access, assignment, claims, notes};
use baton_shared::ErrorCode;
use baton_shared::api::{NoteRequest, Role, User};
use baton_shared::model::{Claim, ConversationStatus, Note};
use baton_shared::protocol::{AckDetail, ClientMsg, ErrorDetail, ServerMsg, Teammate};
use baton_tests::client::{expect_error, json};
use baton_tests::database::Kind;
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;
use reqwest::{Method, StatusCode};

fn actor(user: &User) -> Actor {
    Actor::user(Teammate { id: user.id, name: user.name.clone() }, user.role, std::sync::Arc::from([]))
}

fn code<T: std::fmt::Debug>(outcome: Result<T, Refusal>) -> ErrorCode {
    match outcome {
        Ok(value) => panic!("expected a refusal, got {value:?}"),
        Err(refusal) => refusal.code,
    }
}

fn sending(key: &str) -> Sending {
    Sending { idempotency_key: key.into(), seen_seq: u64::MAX / 2, force: true }
}

async fn each_operation_answers_a_user_actor(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let state = &server.state;
    let (alice, _) = server.create_user("Alice", Role::Agent).await?;
    let (bob, _) = server.create_user("Bob", Role::Agent).await?;
    let (sam, _) = server.create_user("Sam", Role::Supervisor).await?;
    let (alice, bob, sam) = (actor(&alice), actor(&bob), actor(&sam));
    let id = server.customer_writes("15550100", "Where is my order?").await?;

    // Claims: one holder at a time; only supervisors take over.
    let claim = claims::claim(state, &alice, id).await?;
    assert_eq!(claim.holder, alice.id());
    let refused = claims::claim(state, &bob, id).await.expect_err("Alice holds it");
    assert_eq!(refused.code, ErrorCode::ClaimedByOther);
    assert!(
        matches!(refused.detail, Some(ErrorDetail::ClaimedBy { claim: Claim { holder, .. } }) if holder == alice.id())
    );
    assert_eq!(code(claims::release(state, &bob, id).await), ErrorCode::NotClaimHolder);
    assert_eq!(code(claims::transfer(state, &bob, id, bob.id()).await), ErrorCode::Forbidden);
    assert_eq!(code(claims::take_over(state, &bob, id).await), ErrorCode::Forbidden);
    assert_eq!(claims::take_over(state, &sam, id).await?.holder, sam.id());

    // The typing lock: refused while Sam holds it; the first keystroke after takes it, the next
    // ones find it held.
    assert_eq!(code(claims::typing(state, &alice, id, "Hi".into()).await), ErrorCode::ClaimedByOther);
    claims::release(state, &sam, id).await?;
    let taken = claims::typing(state, &alice, id, "Hi".into()).await?;
    assert_eq!(taken.map(|claim| claim.holder), Some(alice.id()), "the first keystroke claims");
    assert_eq!(claims::typing(state, &alice, id, "Hi there".into()).await?, None, "already held");

    // Replies: only the holder sends; the same key answers the same message.
    assert_eq!(
        code(replies::text(state, &bob, id, "Me!".into(), None, sending("b1")).await),
        ErrorCode::NotClaimHolder
    );
    assert_eq!(
        code(replies::text(state, &alice, id, "   ".into(), None, sending("a0")).await),
        ErrorCode::InvalidInput
    );
    let sent = replies::text(state, &alice, id, "On its way".into(), None, sending("a1")).await?;
    assert_eq!((sent.body.as_str(), sent.author), ("On its way", Some(alice.id())));
    let again = replies::text(state, &alice, id, "On its way".into(), None, sending("a1")).await?;
    assert_eq!(again.id, sent.id, "idempotent");
    assert_eq!(
        code(
            replies::text(
                state,
                &alice,
                id,
                "Stale".into(),
                None,
                Sending { seen_seq: 0, force: false, ..sending("a2") }
            )
            .await
        ),
        ErrorCode::ConversationChanged
    );

    // Notes: anyone who sees the conversation adds; authors (and supervisors) change theirs.
    let note = notes::add(state, &bob, id, "Customer called too").await?;
    assert_eq!(note.author, bob.id());
    assert_eq!(code(notes::edit(state, &alice, note.id, "Mine now", note.version).await), ErrorCode::Forbidden);
    let edited = notes::edit(state, &sam, note.id, "Customer called twice", note.version).await?;
    assert_eq!(edited.version, note.version + 1);
    assert_eq!(code(notes::edit(state, &bob, note.id, "Stale edit", note.version).await), ErrorCode::Conflict);
    notes::delete(state, &bob, note.id).await?;

    // Labels and assignment: Bob may not assign it away while Alice holds it; Sam may.
    let labelled = assignment::edit_labels(state, &bob, id, &["vip".into()], &[]).await?;
    assert_eq!(labelled.labels, ["vip"]);
    assert_eq!(code(assignment::assign(state, &bob, id, Some(bob.id()), None).await), ErrorCode::ClaimedByOther);
    let assigned = assignment::assign(state, &sam, id, Some(bob.id()), Some("Bob knows them".into())).await?;
    assert_eq!((assigned.assignee, assigned.claim), (Some(bob.id()), None), "assigning released Alice's claim");

    // Now Alice may not see it: every operation answers as for a conversation that does not exist.
    assert_eq!(code(access::visible(state, &alice, id).await), ErrorCode::NotFound);
    assert_eq!(code(claims::claim(state, &alice, id).await), ErrorCode::NotFound);
    assert_eq!(code(replies::text(state, &alice, id, "Hi".into(), None, sending("a3")).await), ErrorCode::NotFound);
    assert_eq!(code(notes::add(state, &alice, id, "Hello").await), ErrorCode::NotFound);
    assert_eq!(
        code(assignment::set_status(state, &alice, id, ConversationStatus::Resolved).await),
        ErrorCode::NotFound
    );

    // Bob claims, then resolves: resolving releases the claim.
    claims::claim(state, &bob, id).await?;
    let resolved = assignment::set_status(state, &bob, id, ConversationStatus::Resolved).await?;
    assert_eq!((resolved.status, resolved.claim), (ConversationStatus::Resolved, None));
    Ok(())
}

/// The socket's refusal as `(code, message, detail)`.
fn socket_refusal(answer: &ServerMsg) -> Option<(ErrorCode, String, Option<ErrorDetail>)> {
    match answer {
        ServerMsg::Error { code, message, detail, .. } => Some((*code, message.clone(), detail.clone())),
        _ => None,
    }
}

/// REST's refusal, the same way.
fn rest_refusal(error: baton_shared::ApiError) -> Option<(ErrorCode, String, Option<ErrorDetail>)> {
    Some((error.code, error.message, error.detail))
}

async fn rest_and_socket_answer_alike(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (alice_client, alice) = server.logged_in("Alice", Role::Agent).await?;
    let (bob_client, _) = server.logged_in("Bob", Role::Agent).await?;
    let mut alice_socket = WsClient::connect(&alice_client).await?;
    let mut bob_socket = WsClient::connect(&bob_client).await?;
    let id = server.customer_writes("15550101", "Hello").await?;
    let claim_path = format!("/api/conversations/{}/claim", id.0);

    // Alice claims over REST; the socket's answer to Bob and REST's are the same refusal.
    let claim: Claim = json(alice_client.post(&claim_path, &()).await?).await?;
    assert_eq!(claim.holder, alice.id);
    let over_socket = bob_socket.request(|req_id| ClientMsg::Claim { req_id, conversation_id: id }).await?;
    let over_rest = expect_error(bob_client.post(&claim_path, &()).await?, StatusCode::CONFLICT).await?;
    assert_eq!(over_rest.code, ErrorCode::ClaimedByOther);
    assert!(
        matches!(&over_rest.detail, Some(ErrorDetail::ClaimedBy { claim }) if claim.holder == alice.id),
        "REST says who holds it, as the socket does: {over_rest:?}"
    );
    assert_eq!(socket_refusal(&over_socket), rest_refusal(over_rest));

    // An agent's take-over: forbidden, in the same words.
    let take_over_path = format!("/api/conversations/{}/take-over", id.0);
    let over_socket = bob_socket.request(|req_id| ClientMsg::TakeOver { req_id, conversation_id: id }).await?;
    let over_rest = expect_error(bob_client.post(&take_over_path, &()).await?, StatusCode::FORBIDDEN).await?;
    assert_eq!(socket_refusal(&over_socket), rest_refusal(over_rest));

    // Alice releases over the socket; Bob claims over REST, then renews over the socket: the
    // claim answered either way is the one stored.
    let released = alice_socket.request(|req_id| ClientMsg::Release { req_id, conversation_id: id }).await?;
    assert!(matches!(released, ServerMsg::Ack { .. }), "{released:?}");
    let by_rest: Claim = json(bob_client.post(&claim_path, &()).await?).await?;
    let by_socket = bob_socket.request(|req_id| ClientMsg::Claim { req_id, conversation_id: id }).await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Claim { claim: by_socket }), .. } = by_socket else {
        anyhow::bail!("claim refused: {by_socket:?}")
    };
    assert_eq!(by_socket.holder, by_rest.holder);
    let stored = server.state.store.conversation(id).await?.and_then(|conversation| conversation.claim);
    assert_eq!(stored.as_ref(), Some(&by_socket), "the socket's answer is what was stored");

    // A note over REST and over the socket: the same shape, each as stored.
    let notes_path = format!("/api/conversations/{}/notes", id.0);
    let request = NoteRequest { body: "From REST".into(), base_version: 0 };
    let response = alice_client.post(&notes_path, &request).await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let from_rest: Note = json(response).await?;
    let answer = alice_socket
        .request(|req_id| ClientMsg::AddNote { req_id, conversation_id: id, body: "From the socket".into() })
        .await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Note { note: from_socket }), .. } = answer else {
        anyhow::bail!("note refused: {answer:?}")
    };
    let stored = server.state.store.notes(id).await?;
    assert_eq!(stored, vec![from_rest, from_socket]);

    // Bob releases over REST (204); releasing again is refused alike.
    let response = bob_client.request(Method::DELETE, &claim_path).send().await?;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let over_rest =
        expect_error(bob_client.request(Method::DELETE, &claim_path).send().await?, StatusCode::CONFLICT).await?;
    let over_socket = bob_socket.request(|req_id| ClientMsg::Release { req_id, conversation_id: id }).await?;
    assert_eq!(over_rest.code, ErrorCode::NotClaimHolder);
    assert_eq!(socket_refusal(&over_socket), rest_refusal(over_rest));
    Ok(())
}

baton_tests::on_both_kinds!(each_operation_answers_a_user_actor, rest_and_socket_answer_alike);
