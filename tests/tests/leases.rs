//! Claim leases on tokio's paused clock, with the production lease (30 s) and claim-idle time
//! (60 s): a connected holder with a draft keeps the claim for as long as they stay (a minute and
//! more), and once they disconnect it runs out — not before its time — and everyone watching sees
//! the conversation released; a claim its online holder does not use lapses 60 s after the last
//! keystroke, not before.

use std::time::Duration;

use baton_server::clock::Clock;
use baton_shared::ConversationId;
use baton_shared::api::Role;
use baton_shared::model::Change;
use baton_shared::protocol::{ClientMsg, ServerMsg};
use baton_tests::database::Kind;
use baton_tests::paused::{on_paused_clock, until};
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;

const LEASE: Duration = Duration::from_secs(30);
const LEASE_MS: i64 = 30_000;
/// The lease keeper looks every quarter lease.
const TICK: Duration = Duration::from_millis(7_500);

async fn start(kind: Kind) -> anyhow::Result<TestServer> {
    TestServer::start_with(kind, |config| {
        config.clock = Clock::following_tokio();
        config.claim_lease = LEASE;
        // The test's sockets read only when it expects something: no idle closing meanwhile.
        config.ws_ping_interval = Duration::from_secs(3600);
        config.ws_idle_timeout = Duration::from_secs(7200);
    })
    .await
}

/// `watcher` sees `holder`'s claim end by itself (`released`, expired), then may claim it.
async fn watcher_sees_it_end_and_claims(
    watcher: &mut WsClient,
    conversation: ConversationId,
    holder: baton_shared::UserId,
) -> anyhow::Result<()> {
    let released = watcher
        .expect(|message| match message {
            ServerMsg::Event { event } if event.conversation_id == conversation => match &event.change {
                Change::Released { holder, expired } => Some((*holder, *expired)),
                _ => None,
            },
            _ => None,
        })
        .await?;
    assert_eq!(released, (holder, true));
    let claimed = watcher.request(|req_id| ClientMsg::Claim { req_id, conversation_id: conversation }).await?;
    assert!(matches!(claimed, ServerMsg::Ack { .. }), "the watcher may claim it now: {claimed:?}");
    Ok(())
}

/// Moves the paused clock on and waits (in real time) for the lease keeper's pass at the new
/// time; the claim's `lease_until` then, if there is still a claim.
async fn advance(server: &TestServer, conversation: ConversationId, by: Duration) -> anyhow::Result<Option<i64>> {
    tokio::time::advance(by).await;
    let now = server.state.now();
    until("the lease keeper's pass", || server.state.leases.last_pass() >= now).await?;
    Ok(server.state.store.conversation(conversation).await?.and_then(|c| c.claim).map(|claim| claim.lease_until))
}

async fn a_lease_lives_while_its_holder_is_connected_and_expires_after(kind: Kind) -> anyhow::Result<()> {
    let server = start(kind).await?;
    let (alice_client, alice) = server.logged_in("Alice", Role::Agent).await?;
    let (bob_client, _) = server.logged_in("Bob", Role::Agent).await?;
    let mut alice_socket = WsClient::connect(&alice_client).await?;
    let mut bob_socket = WsClient::connect(&bob_client).await?;
    let conversation = server.customer_writes("15550001", "Hello").await?;
    bob_socket.request(|req_id| ClientMsg::Open { req_id, conversation_id: conversation, after_seq: 0 }).await?;
    // Alice starts a reply: her draft keeps the claim however long she takes.
    let claimed = alice_socket
        .request(|req_id| ClientMsg::Typing { req_id, conversation_id: conversation, draft: "Let me".into() })
        .await?;
    anyhow::ensure!(matches!(claimed, ServerMsg::Ack { .. }), "{claimed:?}");

    // Two lease periods with Alice connected: renewed at every look, never lost.
    for _ in 0..8 {
        let lease_until = advance(&server, conversation, TICK).await?;
        assert_eq!(lease_until, Some(server.state.now() + LEASE_MS), "renewed while Alice is connected");
    }
    let refused = bob_socket.request(|req_id| ClientMsg::Claim { req_id, conversation_id: conversation }).await?;
    assert!(matches!(refused, ServerMsg::Error { .. }), "Alice still holds it: {refused:?}");

    // Alice's connection drops: the lease she has (a full 30 s) runs out, not sooner.
    alice_socket.cut();
    until("Alice to go offline", || !server.state.hub.is_online(alice.id)).await?;
    let cut_at = server.state.now();
    for _ in 0..3 {
        // 7.5, 15 and 22.5 s later: still hers, not renewed.
        let lease_until = advance(&server, conversation, TICK).await?;
        assert_eq!(lease_until, Some(cut_at + LEASE_MS), "the lease ended before its time");
    }
    // 30 s later the lease has run out (a lease is valid strictly before `lease_until`).
    assert_eq!(advance(&server, conversation, TICK).await?, None, "expired once its time came");
    watcher_sees_it_end_and_claims(&mut bob_socket, conversation, alice.id).await
}

/// A claim nobody uses lapses after the claim-idle time (60 s) while its holder stays online,
/// unless a draft waits; every keystroke counts as use.
async fn an_unused_claim_lapses_while_its_holder_stays_online(kind: Kind) -> anyhow::Result<()> {
    let server = start(kind).await?;
    let (alice_client, alice) = server.logged_in("Alice", Role::Agent).await?;
    let (bob_client, _) = server.logged_in("Bob", Role::Agent).await?;
    let mut alice_socket = WsClient::connect(&alice_client).await?;
    let mut bob_socket = WsClient::connect(&bob_client).await?;
    let conversation = server.customer_writes("15550002", "Hello").await?;
    bob_socket.request(|req_id| ClientMsg::Open { req_id, conversation_id: conversation, after_seq: 0 }).await?;
    let claimed = alice_socket.request(|req_id| ClientMsg::Claim { req_id, conversation_id: conversation }).await?;
    anyhow::ensure!(matches!(claimed, ServerMsg::Ack { .. }), "{claimed:?}");

    // 30 s on she starts a reply: the draft keeps the claim. 7.5 s later (her typing has timed
    // out, so this keystroke goes out at once) she deletes it: that is her last use.
    for _ in 0..4 {
        assert!(advance(&server, conversation, TICK).await?.is_some(), "used within the idle time");
    }
    type_draft(&mut alice_socket, conversation, "Hi").await?;
    assert!(advance(&server, conversation, TICK).await?.is_some());
    type_draft(&mut alice_socket, conversation, "").await?;
    // Until 60 s after that keystroke the claim is hers; then it lapses, though she is online.
    for _ in 0..7 {
        assert!(advance(&server, conversation, TICK).await?.is_some(), "the keystroke counted as use");
    }
    assert!(server.state.hub.is_online(alice.id));
    assert_eq!(advance(&server, conversation, TICK).await?, None, "idle for 60 s with no draft: lapsed");
    watcher_sees_it_end_and_claims(&mut bob_socket, conversation, alice.id).await
}

/// One keystroke leaving `draft` in the composer.
async fn type_draft(socket: &mut WsClient, conversation: ConversationId, draft: &str) -> anyhow::Result<()> {
    let draft = draft.to_owned();
    let answer = socket.request(|req_id| ClientMsg::Typing { req_id, conversation_id: conversation, draft }).await?;
    anyhow::ensure!(matches!(answer, ServerMsg::Ack { .. }), "keystroke refused: {answer:?}");
    Ok(())
}

#[test]
fn idle_claims_on_sqlite() -> anyhow::Result<()> {
    on_paused_clock("idle claims on SQLite", || an_unused_claim_lapses_while_its_holder_stays_online(Kind::Sqlite))
}

#[test]
fn idle_claims_on_postgres() -> anyhow::Result<()> {
    on_paused_clock("idle claims on PostgreSQL", || {
        an_unused_claim_lapses_while_its_holder_stays_online(Kind::Postgres)
    })
}

#[test]
fn leases_on_sqlite() -> anyhow::Result<()> {
    on_paused_clock("leases on SQLite", || a_lease_lives_while_its_holder_is_connected_and_expires_after(Kind::Sqlite))
}

#[test]
fn leases_on_postgres() -> anyhow::Result<()> {
    on_paused_clock("leases on PostgreSQL", || {
        a_lease_lives_while_its_holder_is_connected_and_expires_after(Kind::Postgres)
    })
}
