//! Time in routing, on tokio's paused clock, on SQLite and PostgreSQL: an agent who goes offline
//! keeps their conversations through the team's grace (and for good if they reconnect within it);
//! past it, each returns to the queue with a line saying why and goes to the next eligible member.
//! Setting oneself away does the same. A returning customer goes back to the agent who last served
//! them while that agent is eligible and the sticky window lasts, and follows the model otherwise.

use std::time::Duration;

use baton_server::clock::Clock;
use baton_shared::api::Role;
use baton_shared::model::Change;
use baton_shared::protocol::{ClientMsg, PresenceStatus, ServerMsg};
use baton_shared::teams::{AssignmentModel, RoutedBy};
use baton_shared::{ConversationId, UserId};
use baton_tests::database::Kind;
use baton_tests::paused::{on_paused_clock, until, until_some};
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;
use baton_tests::teams::{create_team, move_to, put};

const GRACE: Duration = Duration::from_secs(5 * 60);
const MINUTE: Duration = Duration::from_secs(60);

async fn start(kind: Kind) -> anyhow::Result<TestServer> {
    TestServer::start_with(kind, |config| {
        config.clock = Clock::following_tokio();
        // The test's sockets read only when it expects something: no idle closing meanwhile.
        config.ws_ping_interval = Duration::from_secs(30 * 86_400);
        config.ws_idle_timeout = Duration::from_secs(60 * 86_400);
    })
    .await
}

/// Moves the paused clock on and waits (in real time) for the handover keeper's pass at the new
/// time.
async fn advance(server: &TestServer, by: Duration) -> anyhow::Result<()> {
    tokio::time::advance(by).await;
    let now = server.state.now();
    until("the handover keeper's pass", || server.state.handovers.last_pass() >= now).await
}

async fn assignees(server: &TestServer, ids: &[ConversationId]) -> anyhow::Result<Vec<Option<UserId>>> {
    let mut assignees = Vec::new();
    for id in ids {
        assignees.push(server.state.store.conversation(*id).await?.and_then(|conversation| conversation.assignee));
    }
    Ok(assignees)
}

/// Waits until every one of `ids` is assigned as `wanted`.
async fn until_assigned(server: &TestServer, ids: &[ConversationId], wanted: Option<UserId>) -> anyhow::Result<()> {
    until_some("the assignments", || async {
        let now = assignees(server, ids).await?;
        Ok(if now.iter().all(|assignee| *assignee == wanted) { Ok(()) } else { Err(format!("{now:?}")) })
    })
    .await
}

/// Waits until `user` is gone from the hub and their handover is noted.
async fn until_handover_noted(server: &TestServer, user: UserId) -> anyhow::Result<()> {
    until_some("the handover noted", || async {
        let due = server.state.store.due_handovers(i64::MAX).await?;
        Ok(due.iter().any(|handover| handover.user == user).then_some(()))
    })
    .await
}

/// The next `assigned` event of `id` on `socket`: to whom, and how routing decided.
async fn next_assignment(socket: &mut WsClient, id: ConversationId) -> anyhow::Result<(Option<UserId>, RoutedBy)> {
    socket
        .expect(|message| match message {
            ServerMsg::Event { event } if event.conversation_id == id => match &event.change {
                Change::Assigned { assignee, routing: Some(routing) } => Some((*assignee, routing.by.clone())),
                _ => None,
            },
            _ => None,
        })
        .await
}

async fn work_returns_to_the_queue_after_the_grace_unless_its_holder_comes_back(kind: Kind) -> anyhow::Result<()> {
    let server = start(kind).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let (bea_client, bea) = server.logged_in("Bea", Role::Agent).await?;
    let (ben_client, ben) = server.logged_in("Ben", Role::Agent).await?;
    let bea_socket = WsClient::connect(&bea_client).await?;
    let mut ben_socket = WsClient::connect(&ben_client).await?;
    ben_socket.set_presence(PresenceStatus::Away).await?;
    let team = create_team(&admin, "Billing", AssignmentModel::RoundRobin, &[(bea.id, None), (ben.id, None)]).await?;
    let mut ids = Vec::new();
    for wa_id in ["15550001", "15550002"] {
        let id = server.customer_writes(wa_id, "I was charged twice").await?;
        move_to(&admin, id, Some(team)).await?;
        ids.push(id);
    }
    until_assigned(&server, &ids, Some(bea.id)).await?;
    ben_socket.set_presence(PresenceStatus::Available).await?;
    ben_socket.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors: Vec::new() }).await?;

    // Bea's connection drops; she is back within the grace: everything stays hers.
    bea_socket.close().await?;
    until_handover_noted(&server, bea.id).await?;
    advance(&server, GRACE - MINUTE).await?;
    assert_eq!(assignees(&server, &ids).await?, [Some(bea.id); 2], "still within the grace");
    let bea_socket = WsClient::connect(&bea_client).await?;
    until_some("the handover called off", || async {
        let due = server.state.store.due_handovers(i64::MAX).await?;
        Ok(due.is_empty().then_some(()))
    })
    .await?;
    advance(&server, 2 * MINUTE).await?;
    assert_eq!(assignees(&server, &ids).await?, [Some(bea.id); 2], "she came back in time");

    // She goes again and stays away past the grace: each returns to the queue, then to Ben.
    bea_socket.close().await?;
    until_handover_noted(&server, bea.id).await?;
    advance(&server, GRACE - MINUTE).await?;
    assert_eq!(assignees(&server, &ids).await?, [Some(bea.id); 2]);
    advance(&server, MINUTE).await?;
    for id in &ids {
        assert_eq!(next_assignment(&mut ben_socket, *id).await?, (None, RoutedBy::WentOffline { from: bea.id }));
        assert_eq!(next_assignment(&mut ben_socket, *id).await?, (Some(ben.id), RoutedBy::RoundRobin));
    }
    until_assigned(&server, &ids, Some(ben.id)).await?;

    // Ben sets himself away: the same, back to Bea once she is here.
    let _bea_socket = WsClient::connect(&bea_client).await?;
    ben_socket.set_presence(PresenceStatus::Away).await?;
    until_handover_noted(&server, ben.id).await?;
    advance(&server, GRACE).await?;
    for id in &ids {
        assert_eq!(next_assignment(&mut ben_socket, *id).await?, (None, RoutedBy::WentAway { from: ben.id }));
    }
    until_assigned(&server, &ids, Some(bea.id)).await?;
    server.stop().await
}

async fn a_returning_customer_goes_back_to_who_served_them_while_eligible_and_in_the_window(
    kind: Kind,
) -> anyhow::Result<()> {
    let server = start(kind).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let (ann_client, ann) = server.logged_in("Ann", Role::Agent).await?;
    let (ben_client, ben) = server.logged_in("Ben", Role::Agent).await?;
    let mut ann_socket = WsClient::connect(&ann_client).await?;
    ann_socket.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors: Vec::new() }).await?;
    let mut ben_socket = WsClient::connect(&ben_client).await?;
    let team = create_team(&admin, "Support", AssignmentModel::RoundRobin, &[(ann.id, None), (ben.id, None)]).await?;
    let settings = serde_json::json!({ "name": "Support", "model": "round_robin", "sticky": true, "sticky_days": 1 });
    put(&admin, &format!("/api/teams/{team}"), &settings).await?;

    // Round-robin: Yan's to Ann, then Xia's to Ben.
    let arrive = |wa_id: &'static str| {
        let (server, admin) = (&server, &admin);
        async move {
            let id = server.customer_writes(wa_id, "Hello again").await?;
            move_to(admin, id, Some(team)).await?;
            anyhow::Ok(id)
        }
    };
    let resolve = |id: ConversationId| {
        let admin = &admin;
        async move {
            put(admin, &format!("/api/conversations/{id}/status"), &serde_json::json!({ "status": "resolved" })).await
        }
    };
    let yan = arrive("15550001").await?;
    assert_eq!(next_assignment(&mut ann_socket, yan).await?, (Some(ann.id), RoutedBy::RoundRobin));
    let xia = arrive("15550002").await?;
    assert_eq!(next_assignment(&mut ann_socket, xia).await?, (Some(ben.id), RoutedBy::RoundRobin));
    resolve(xia).await?;

    // Xia comes back: to Ben, her last agent, although the rotation points at Ann.
    let again = arrive("15550002").await?;
    assert_eq!(next_assignment(&mut ann_socket, again).await?, (Some(ben.id), RoutedBy::Sticky));
    resolve(again).await?;

    // Ben is away: she follows the model.
    ben_socket.set_presence(PresenceStatus::Away).await?;
    let while_away = arrive("15550002").await?;
    assert_eq!(next_assignment(&mut ann_socket, while_away).await?, (Some(ann.id), RoutedBy::RoundRobin));
    resolve(while_away).await?;
    ben_socket.set_presence(PresenceStatus::Available).await?;

    // A day and an hour later Ann served her longer ago than the window: the model again.
    advance(&server, Duration::from_secs(25 * 3600)).await?;
    let later = arrive("15550002").await?;
    assert_eq!(next_assignment(&mut ann_socket, later).await?, (Some(ben.id), RoutedBy::RoundRobin));
    server.stop().await
}

#[test]
fn handover_on_sqlite() -> anyhow::Result<()> {
    on_paused_clock("handover on SQLite", || {
        work_returns_to_the_queue_after_the_grace_unless_its_holder_comes_back(Kind::Sqlite)
    })
}

#[test]
fn handover_on_postgres() -> anyhow::Result<()> {
    on_paused_clock("handover on PostgreSQL", || {
        work_returns_to_the_queue_after_the_grace_unless_its_holder_comes_back(Kind::Postgres)
    })
}

#[test]
fn sticky_owners_on_sqlite() -> anyhow::Result<()> {
    on_paused_clock("sticky owners on SQLite", || {
        a_returning_customer_goes_back_to_who_served_them_while_eligible_and_in_the_window(Kind::Sqlite)
    })
}

#[test]
fn sticky_owners_on_postgres() -> anyhow::Result<()> {
    on_paused_clock("sticky owners on PostgreSQL", || {
        a_returning_customer_goes_back_to_who_served_them_while_eligible_and_in_the_window(Kind::Postgres)
    })
}
