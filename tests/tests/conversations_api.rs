//! The REST reads the web app starts from, over real HTTP on SQLite and PostgreSQL: the inbox list
//! (`GET /api/conversations`), a conversation with its history, notes and the reader's own draft
//! (`GET /api/conversations/{id}`), and the team (`GET /api/team`). Agents see the unassigned
//! conversations and their own; a teammate's conversation answers exactly like one that does not
//! exist.

use std::time::Duration;

use anyhow::Context;
use baton_server::store::UserPatch;
use baton_shared::api::{ConversationDetail, ConversationSummary, HISTORY_PAGE, MessagePage, Role, TeamMember};
use baton_shared::model::{ConversationStatus, Direction};
use baton_shared::protocol::{AckDetail, ClientMsg, ServerMsg};
use baton_shared::{ConversationId, ErrorCode};
use baton_tests::client::{TestClient, expect_error, json};
use baton_tests::database::Kind;
use baton_tests::eventually::eventually;
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;
use reqwest::StatusCode;

baton_tests::on_both_kinds!(
    the_inbox_lists_what_each_user_may_see,
    a_conversation_comes_with_its_history_notes_and_own_draft,
    the_team_lists_active_members_by_name,
    a_long_history_comes_a_page_at_a_time,
);

/// A request on the socket that must be acknowledged.
async fn acked(socket: &mut WsClient, build: impl FnOnce(u64) -> ClientMsg) -> anyhow::Result<Option<AckDetail>> {
    match socket.request(build).await? {
        ServerMsg::Ack { detail, .. } => Ok(detail),
        refused => anyhow::bail!("refused: {refused:?}"),
    }
}

async fn inbox(client: &TestClient) -> anyhow::Result<Vec<ConversationSummary>> {
    let response = client.get("/api/conversations").await?;
    anyhow::ensure!(response.status() == StatusCode::OK, "inbox answered {}", response.status());
    json(response).await
}

async fn detail(client: &TestClient, id: ConversationId) -> anyhow::Result<ConversationDetail> {
    let response = client.get(&format!("/api/conversations/{}", id.0)).await?;
    anyhow::ensure!(response.status() == StatusCode::OK, "conversation {id:?} answered {}", response.status());
    json(response).await
}

/// (conversation, body of its last message) per row, in the order listed.
fn rows(list: &[ConversationSummary]) -> Vec<(ConversationId, Option<&str>)> {
    list.iter()
        .map(|summary| (summary.conversation.id, summary.last_message.as_ref().map(|message| message.body.as_str())))
        .collect()
}

async fn the_inbox_lists_what_each_user_may_see(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (alice_client, _) = server.logged_in("Alice", Role::Agent).await?;
    let (bob_client, bob) = server.logged_in("Bob", Role::Agent).await?;
    let (sam_client, _) = server.logged_in("Sam", Role::Supervisor).await?;
    let mut sam_socket = WsClient::connect(&sam_client).await?;
    assert!(inbox(&alice_client).await?.is_empty(), "no conversations yet");

    let start = baton_server::clock::now_ms() - 60_000;
    let greeting = server.customer_writes_at("15550001", "Hello", start).await?;
    let resolved = server.customer_writes_at("15550002", "Thanks, all good", start + 1_000).await?;
    let bobs = server.customer_writes_at("15550003", "Where is order 42?", start + 2_000).await?;
    server.customer_writes_at("15550001", "Anyone there?", start + 3_000).await?;
    acked(&mut sam_socket, |req_id| ClientMsg::Assign {
        req_id,
        conversation_id: bobs,
        assignee: Some(bob.id),
        note: None,
    })
    .await?;
    acked(&mut sam_socket, |req_id| ClientMsg::SetStatus {
        req_id,
        conversation_id: resolved,
        status: ConversationStatus::Resolved,
        until: None,
    })
    .await?;

    // A supervisor sees every conversation, resolved ones too, newest activity first, each with
    // its newest message.
    let all = inbox(&sam_client).await?;
    assert_eq!(
        rows(&all),
        [(greeting, Some("Anyone there?")), (bobs, Some("Where is order 42?")), (resolved, Some("Thanks, all good")),]
    );
    assert_eq!(all[0].last_message.as_ref().map(|message| message.direction), Some(Direction::Inbound));
    assert_eq!(all[1].conversation.assignee, Some(bob.id));
    assert_eq!(all[2].conversation.status, ConversationStatus::Resolved);
    assert_eq!(all[0].conversation.contact.wa_id, "15550001");

    // Agents: the unassigned ones and their own, never a teammate's.
    let alices = inbox(&alice_client).await?;
    assert_eq!(rows(&alices), [(greeting, Some("Anyone there?")), (resolved, Some("Thanks, all good"))]);
    let bobs_inbox = inbox(&bob_client).await?;
    assert_eq!(
        bobs_inbox.iter().map(|summary| summary.conversation.id).collect::<Vec<_>>(),
        [greeting, bobs, resolved]
    );

    let error = expect_error(server.client().get("/api/conversations").await?, StatusCode::UNAUTHORIZED).await?;
    assert_eq!(error.code, ErrorCode::Unauthenticated);
    Ok(())
}

async fn a_conversation_comes_with_its_history_notes_and_own_draft(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (alice_client, alice) = server.logged_in("Alice", Role::Agent).await?;
    let (bob_client, bob) = server.logged_in("Bob", Role::Agent).await?;
    let (sam_client, _) = server.logged_in("Sam", Role::Supervisor).await?;
    let mut alice_socket = WsClient::connect(&alice_client).await?;
    let mut sam_socket = WsClient::connect(&sam_client).await?;

    let start = baton_server::clock::now_ms() - 60_000;
    let id = server.customer_writes_at("15550001", "Hello", start).await?;
    server.customer_writes_at("15550001", "My parcel never came", start + 1_000).await?;
    let bobs = server.customer_writes_at("15550002", "Bob, it's me again", start + 2_000).await?;
    acked(&mut sam_socket, |req_id| ClientMsg::Assign {
        req_id,
        conversation_id: bobs,
        assignee: Some(bob.id),
        note: None,
    })
    .await?;
    acked(&mut sam_socket, |req_id| ClientMsg::AddNote {
        req_id,
        conversation_id: id,
        body: "Second parcel lost".into(),
    })
    .await?;
    acked(&mut alice_socket, |req_id| ClientMsg::Typing {
        req_id,
        conversation_id: id,
        draft: "So sorry, let me check".into(),
    })
    .await?;
    // Drafts are saved off the socket's path; wait (bounded) until this one is.
    eventually(Duration::from_secs(10), || async { Ok(server.state.store.draft(id, alice.id).await?) })
        .await
        .context("the draft was never saved")?;

    let seen = detail(&alice_client, id).await?;
    assert_eq!(seen.conversation.id, id);
    assert_eq!(seen.conversation.claim.as_ref().map(|claim| claim.holder), Some(alice.id), "typing claimed it");
    let history: Vec<(u64, &str)> = seen.messages.iter().map(|message| (message.seq, message.body.as_str())).collect();
    assert_eq!(history.iter().map(|(_, body)| *body).collect::<Vec<_>>(), ["Hello", "My parcel never came"]);
    assert!(history.windows(2).all(|pair| pair[0].0 < pair[1].0), "oldest first: {history:?}");
    assert!(history.iter().all(|(seq, _)| *seq <= seen.conversation.last_seq), "{history:?}");
    assert_eq!(seen.notes.iter().map(|note| note.body.as_str()).collect::<Vec<_>>(), ["Second parcel lost"]);
    assert_eq!(seen.draft, "So sorry, let me check");

    // Drafts are personal: the supervisor reads the same conversation without Alice's.
    let sams = detail(&sam_client, id).await?;
    assert_eq!(sams.messages, seen.messages);
    assert_eq!(sams.draft, "");

    // A teammate's conversation is answered exactly like one that does not exist.
    let hidden =
        expect_error(alice_client.get(&format!("/api/conversations/{}", bobs.0)).await?, StatusCode::NOT_FOUND).await?;
    let missing = expect_error(alice_client.get("/api/conversations/999999").await?, StatusCode::NOT_FOUND).await?;
    assert_eq!(hidden.code, ErrorCode::NotFound);
    assert_eq!((hidden.code, &hidden.message), (missing.code, &missing.message));
    assert_eq!(detail(&bob_client, bobs).await?.messages.len(), 1, "its assignee reads it");
    let malformed = expect_error(alice_client.get("/api/conversations/abc").await?, StatusCode::NOT_FOUND).await?;
    assert_eq!(malformed.code, ErrorCode::NotFound);

    let error =
        expect_error(server.client().get(&format!("/api/conversations/{}", id.0)).await?, StatusCode::UNAUTHORIZED)
            .await?;
    assert_eq!(error.code, ErrorCode::Unauthenticated);
    Ok(())
}

async fn the_team_lists_active_members_by_name(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (dana_client, dana) = server.logged_in("Dana", Role::Agent).await?;
    let (bob, _) = server.create_user("bob", Role::Agent).await?;
    let (alice, _) = server.create_user("Alice", Role::Supervisor).await?;
    let (carl, _) = server.create_user("Carl", Role::Agent).await?;
    // Someone must stay admin for Carl to be disabled.
    let (zed, _) = server.create_user("Zed", Role::Admin).await?;
    let disable = UserPatch { disabled: Some(true), ..UserPatch::default() };
    server.state.store.update_user(carl.id, disable, None, baton_server::clock::now_ms()).await?;

    let response = dana_client.get("/api/team").await?;
    assert_eq!(response.status(), StatusCode::OK);
    let raw: serde_json::Value = json(response).await?;
    assert!(!raw.to_string().contains("@test.baton"), "emails stay private: {raw}");
    let team: Vec<TeamMember> = serde_json::from_value(raw)?;
    assert_eq!(
        team,
        [
            TeamMember { id: alice.id, name: "Alice".into(), role: Role::Supervisor },
            TeamMember { id: bob.id, name: "bob".into(), role: Role::Agent },
            TeamMember { id: dana.id, name: "Dana".into(), role: Role::Agent },
            TeamMember { id: zed.id, name: "Zed".into(), role: Role::Admin },
        ],
        "by name, without the disabled Carl"
    );

    let error = expect_error(server.client().get("/api/team").await?, StatusCode::UNAUTHORIZED).await?;
    assert_eq!(error.code, ErrorCode::Unauthenticated);
    Ok(())
}

/// 130 messages: the history holds the newest 100 and says there are earlier ones; the page
/// before them holds the other 30 and says there are none; bad paging parameters are refused.
async fn a_long_history_comes_a_page_at_a_time(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (agent, _) = server.logged_in("Alice", Role::Agent).await?;
    let mut conversation = None;
    for n in 1..=130 {
        conversation = Some(server.customer_writes_at("15550007", &format!("message {n}"), 1_000 + n).await?);
    }
    let conversation = conversation.ok_or_else(|| anyhow::anyhow!("no conversation"))?;
    let history = detail(&agent, conversation).await?;
    assert_eq!(history.messages.len(), HISTORY_PAGE as usize);
    assert!(history.has_earlier);
    assert_eq!(history.messages.first().map(|m| m.body.as_str()), Some("message 31"));
    assert_eq!(history.messages.last().map(|m| m.body.as_str()), Some("message 130"));

    let first_seq = history.messages.first().map(|m| m.seq).unwrap_or_default();
    let response = agent.get(&format!("/api/conversations/{conversation}/messages?before_seq={first_seq}")).await?;
    assert_eq!(response.status(), StatusCode::OK);
    let page: MessagePage = json(response).await?;
    let bodies: Vec<String> = page.messages.iter().map(|m| m.body.clone()).collect();
    assert_eq!(bodies, (1..=30).map(|n| format!("message {n}")).collect::<Vec<_>>());
    assert!(!page.has_earlier);

    let response =
        agent.get(&format!("/api/conversations/{conversation}/messages?before_seq={first_seq}&limit=10")).await?;
    let page: MessagePage = json(response).await?;
    assert_eq!(page.messages.first().map(|m| m.body.as_str()), Some("message 21"));
    assert!(page.has_earlier);

    for bad in ["before_seq=x", "before_seq=5&limit=0", "before_seq=5&limit=101", ""] {
        let response = agent.get(&format!("/api/conversations/{conversation}/messages?{bad}")).await?;
        let error = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY).await?;
        assert_eq!(error.code, ErrorCode::InvalidInput, "{bad}");
    }
    server.stop().await
}
