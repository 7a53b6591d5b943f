//! Routing over real HTTP and sockets, on SQLite and PostgreSQL: round-robin shares evenly,
//! balanced evens out uneven loads, capacity holds when many conversations arrive at once (the
//! rest wait, and move by themselves, most urgent first, as capacity frees), only eligible agents
//! get pushed work, and agents pressing Take next at once each get a different conversation.

use std::collections::BTreeSet;
use std::time::Duration;

use baton_shared::api::Role;
use baton_shared::model::Change;
use baton_shared::protocol::{ClientMsg, PresenceStatus, ServerMsg};
use baton_shared::teams::{AssignmentModel, RoutedBy};
use baton_shared::{ConversationId, ErrorCode, TeamId, UserId};
use baton_tests::client::{TestClient, expect_error, json};
use baton_tests::database::Kind;
use baton_tests::eventually::eventually;
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;
use baton_tests::teams::{create_team, loads, put, waiting_in};
use reqwest::StatusCode;

baton_tests::on_both_kinds!(
    round_robin_shares_evenly_and_balanced_evens_out_uneven_loads,
    capacity_holds_when_many_conversations_arrive_at_once,
    only_eligible_agents_get_pushed_work,
    agents_pressing_take_next_at_once_each_get_a_different_conversation,
    agents_and_leads_assign_within_the_team_supervisors_anywhere,
);

const PATIENCE: Duration = Duration::from_secs(20);

/// `count` agents, each logged in with a socket open (so available).
async fn agents(
    server: &TestServer,
    prefix: &str,
    count: usize,
) -> anyhow::Result<Vec<(TestClient, UserId, WsClient)>> {
    let mut agents = Vec::with_capacity(count);
    for index in 0..count {
        let (client, user) = server.logged_in(&format!("{prefix}{index}"), Role::Agent).await?;
        let socket = WsClient::connect(&client).await?;
        agents.push((client, user.id, socket));
    }
    Ok(agents)
}

/// Waits until `team`'s queue holds `waiting` and its members hold `held` in all.
async fn settled(server: &TestServer, team: TeamId, held: usize, waiting: usize) -> anyhow::Result<()> {
    eventually(PATIENCE, || async {
        let (loads, queued) = loads(server, team).await?;
        let total: usize = loads.values().sum();
        Ok(if (total, queued) == (held, waiting) { Ok(()) } else { Err(format!("held {total}, waiting {queued}")) })
    })
    .await
}

async fn held_by(server: &TestServer, team: TeamId, users: &[UserId]) -> anyhow::Result<Vec<usize>> {
    let (loads, _) = loads(server, team).await?;
    Ok(users.iter().map(|user| loads.get(user).copied().unwrap_or(0)).collect())
}

async fn assignee(server: &TestServer, id: ConversationId) -> anyhow::Result<Option<UserId>> {
    let conversation = server.state.store.conversation(id).await?;
    Ok(conversation.and_then(|conversation| conversation.assignee))
}

async fn round_robin_shares_evenly_and_balanced_evens_out_uneven_loads(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;

    let support = agents(&server, "Sup", 4).await?;
    let ids: Vec<UserId> = support.iter().map(|(_, id, _)| *id).collect();
    let members: Vec<(UserId, Option<u32>)> = ids.iter().map(|id| (*id, Some(100))).collect();
    let team = create_team(&admin, "Support", AssignmentModel::RoundRobin, &members).await?;
    for n in 0..100 {
        waiting_in(&server, &admin, &format!("1555{n:04}"), team).await?;
    }
    settled(&server, team, 100, 0).await?;
    assert_eq!(held_by(&server, team, &ids).await?, [25, 25, 25, 25], "round-robin: 25 each");

    // Balanced, from uneven loads (0, 2, 5, 8 held by hand): the 20 waiting even them out.
    let billing = agents(&server, "Bil", 4).await?;
    let ids: Vec<UserId> = billing.iter().map(|(_, id, _)| *id).collect();
    let members: Vec<(UserId, Option<u32>)> = ids.iter().map(|id| (*id, Some(100))).collect();
    let team = create_team(&admin, "Billing", AssignmentModel::Manual, &members).await?;
    for (agent, count) in ids.iter().zip([0, 2, 5, 8]) {
        for n in 0..count {
            let id = waiting_in(&server, &admin, &format!("1666{agent}{n:02}"), team).await?;
            put(&admin, &format!("/api/conversations/{id}/assignee"), &serde_json::json!({ "assignee": agent }))
                .await?;
        }
    }
    for n in 0..20 {
        waiting_in(&server, &admin, &format!("1777{n:04}"), team).await?;
    }
    assert_eq!(held_by(&server, team, &ids).await?, [0, 2, 5, 8], "manual: nobody is pushed work");
    let settings = serde_json::json!({ "name": "Billing", "model": "balanced" });
    put(&admin, &format!("/api/teams/{team}"), &settings).await?;
    settled(&server, team, 35, 0).await?;
    let mut held = held_by(&server, team, &ids).await?;
    held.sort_unstable();
    assert_eq!(held, [8, 9, 9, 9], "balanced: evened out");
    server.stop().await
}

async fn capacity_holds_when_many_conversations_arrive_at_once(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let mut agents = agents(&server, "Agent", 5).await?;
    let ids: Vec<UserId> = agents.iter().map(|(_, id, _)| *id).collect();
    let members: Vec<(UserId, Option<u32>)> = ids.iter().map(|id| (*id, Some(10))).collect();
    let team = create_team(&admin, "Support", AssignmentModel::RoundRobin, &members).await?;

    // 200 conversations enter the queue at once.
    let mut conversations = Vec::new();
    for n in 0..200 {
        conversations.push(server.customer_writes(&format!("1555{n:04}"), "Hello").await?);
    }
    let moves = conversations.iter().map(|id| baton_tests::teams::move_to(&admin, *id, Some(team)));
    for moved in futures_util::future::join_all(moves).await {
        moved?;
    }
    settled(&server, team, 50, 150).await?;
    assert_eq!(held_by(&server, team, &ids).await?, [10; 5], "nobody above capacity");

    // Capacity frees: the waiting work moves by itself, the most urgent first.
    let (_, waiting): (Vec<_>, Vec<_>) = {
        let mut all = Vec::new();
        for id in &conversations {
            all.push((*id, assignee(&server, *id).await?));
        }
        all.into_iter().partition(|(_, assignee)| assignee.is_some())
    };
    let (urgent, high) = (waiting[149].0, waiting[100].0);
    put(&admin, &format!("/api/conversations/{urgent}/priority"), &serde_json::json!({ "priority": "urgent" })).await?;
    put(&admin, &format!("/api/conversations/{high}/priority"), &serde_json::json!({ "priority": "high" })).await?;
    let (_, first, socket) = &mut agents[0];
    let first = *first;
    socket.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors: Vec::new() }).await?;
    let firsts: Vec<ConversationId> = server
        .state
        .store
        .conversations(false, 1000)
        .await?
        .into_iter()
        .filter(|conversation| conversation.assignee == Some(first))
        .map(|conversation| conversation.id)
        .take(2)
        .collect();
    for id in &firsts {
        put(&admin, &format!("/api/conversations/{id}/status"), &serde_json::json!({ "status": "resolved" })).await?;
    }
    let mut given = Vec::new();
    while given.len() < 2 {
        let (id, by) = socket
            .expect(|message| match message {
                ServerMsg::Event { event } => match &event.change {
                    Change::Assigned { assignee: Some(to), routing: Some(routing) } if *to == first => {
                        Some((event.conversation_id, routing.by.clone()))
                    }
                    _ => None,
                },
                _ => None,
            })
            .await?;
        assert_eq!(by, RoutedBy::RoundRobin);
        given.push(id);
    }
    assert_eq!(given, [urgent, high], "most urgent first");
    settled(&server, team, 50, 148).await?;
    assert_eq!(held_by(&server, team, &ids).await?, [10; 5]);
    drop(agents);
    server.stop().await
}

async fn only_eligible_agents_get_pushed_work(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let (ava_client, ava) = server.logged_in("Ava Available", Role::Agent).await?;
    let _ava_socket = WsClient::connect(&ava_client).await?;
    let (aby_client, aby) = server.logged_in("Aby Away", Role::Agent).await?;
    let mut aby_socket = WsClient::connect(&aby_client).await?;
    aby_socket.request(|req_id| ClientMsg::SetPresence { req_id, status: PresenceStatus::Away }).await?;
    aby_socket.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors: Vec::new() }).await?;
    let (_, ola) = server.logged_in("Ola Offline", Role::Agent).await?;
    let (dee_client, dee) = server.logged_in("Dee Disabled", Role::Agent).await?;
    let _dee_socket = WsClient::connect(&dee_client).await?;
    let (flo_client, flo) = server.logged_in("Flo Full", Role::Agent).await?;
    let _flo_socket = WsClient::connect(&flo_client).await?;
    let response = admin.patch(&format!("/api/users/{}", dee.id), &serde_json::json!({ "disabled": true })).await?;
    assert_eq!(response.status(), StatusCode::OK);
    let members = [(ava.id, Some(2)), (aby.id, None), (ola.id, None), (dee.id, None), (flo.id, Some(0))];
    let team = create_team(&admin, "Support", AssignmentModel::Balanced, &members).await?;

    let mut conversations = Vec::new();
    for n in 0..5 {
        conversations.push(waiting_in(&server, &admin, &format!("1555{n:04}"), team).await?);
    }
    settled(&server, team, 2, 3).await?;
    let everyone = [ava.id, aby.id, ola.id, dee.id, flo.id];
    assert_eq!(held_by(&server, team, &everyone).await?, [2, 0, 0, 0, 0], "only Ava was eligible");
    assert_eq!(assignee(&server, conversations[0]).await?, Some(ava.id), "oldest first");
    assert_eq!(assignee(&server, conversations[1]).await?, Some(ava.id));

    // Aby becomes available: the waiting three flow to her, the urgent one first.
    put(
        &admin,
        &format!("/api/conversations/{}/priority", conversations[4]),
        &serde_json::json!({ "priority": "urgent" }),
    )
    .await?;
    aby_socket.request(|req_id| ClientMsg::SetPresence { req_id, status: PresenceStatus::Available }).await?;
    let mut given = Vec::new();
    while given.len() < 3 {
        given.push(
            aby_socket
                .expect(|message| match message {
                    ServerMsg::Event { event } => match &event.change {
                        Change::Assigned { assignee: Some(to), routing: Some(_) } if *to == aby.id => {
                            Some(event.conversation_id)
                        }
                        _ => None,
                    },
                    _ => None,
                })
                .await?,
        );
    }
    assert_eq!(given, [conversations[4], conversations[2], conversations[3]], "priority, then age");
    assert_eq!(held_by(&server, team, &everyone).await?, [2, 3, 0, 0, 0]);
    server.stop().await
}

async fn agents_pressing_take_next_at_once_each_get_a_different_conversation(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let mut clients = Vec::new();
    for n in 0..20 {
        clients.push(server.logged_in(&format!("Agent{n}"), Role::Agent).await?);
    }
    let members: Vec<(UserId, Option<u32>)> = clients.iter().map(|(_, user)| (user.id, None)).collect();
    let team = create_team(&admin, "Sales", AssignmentModel::Queue, &members).await?;
    let mut waiting = BTreeSet::new();
    for n in 0..10 {
        waiting.insert(waiting_in(&server, &admin, &format!("1555{n:04}"), team).await?);
    }
    let nothing = serde_json::json!({});
    let presses = clients.iter().map(|(client, _)| client.post("/api/queue/take-next", &nothing));
    let answers = futures_util::future::join_all(presses).await;
    let mut taken = BTreeSet::new();
    let mut empty = 0;
    for ((_, user), answer) in clients.iter().zip(answers) {
        let answer = answer?;
        if answer.status() == StatusCode::OK {
            let conversation: baton_shared::model::Conversation = json(answer).await?;
            assert_eq!(conversation.assignee, Some(user.id));
            assert!(taken.insert(conversation.id), "{} given twice", conversation.id);
        } else {
            let error = expect_error(answer, StatusCode::CONFLICT).await?;
            assert_eq!(error.code, ErrorCode::QueueEmpty);
            empty += 1;
        }
    }
    assert_eq!(taken, waiting, "each waiting conversation taken once");
    assert_eq!(empty, 10);
    let (held, queued) = loads(&server, team).await?;
    assert_eq!((held.len(), held.values().all(|count| *count == 1), queued), (10, true, 0));
    // Take next respects capacity.
    let (one, _) = &clients[0];
    let full = server.logged_in("Solo", Role::Agent).await?;
    let solo_team = create_team(&admin, "Solo", AssignmentModel::Queue, &[(full.1.id, Some(1))]).await?;
    waiting_in(&server, &admin, "15559998", solo_team).await?;
    waiting_in(&server, &admin, "15559999", solo_team).await?;
    assert_eq!(full.0.post("/api/queue/take-next", &serde_json::json!({})).await?.status(), StatusCode::OK);
    let error =
        expect_error(full.0.post("/api/queue/take-next", &serde_json::json!({})).await?, StatusCode::CONFLICT).await?;
    assert_eq!(error.code, ErrorCode::AtCapacity);
    let error =
        expect_error(one.post("/api/queue/take-next", &serde_json::json!({})).await?, StatusCode::CONFLICT).await?;
    assert_eq!(error.code, ErrorCode::QueueEmpty, "another team's queue is not theirs");
    server.stop().await
}

async fn agents_and_leads_assign_within_the_team_supervisors_anywhere(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let (bea_client, bea) = server.logged_in("Bea", Role::Agent).await?;
    let (lee_client, lee) = server.logged_in("Lee", Role::Lead).await?;
    let (_, ben) = server.logged_in("Ben", Role::Agent).await?;
    let (_, sam) = server.logged_in("Sam", Role::Agent).await?;
    let (sue_client, _) = server.logged_in("Sue", Role::Supervisor).await?;
    let members = [(bea.id, None), (lee.id, None), (ben.id, None)];
    let billing = create_team(&admin, "Billing", AssignmentModel::Manual, &members).await?;
    create_team(&admin, "Sales", AssignmentModel::Manual, &[(sam.id, None)]).await?;
    let id = waiting_in(&server, &admin, "15550001", billing).await?;
    let assign = |client: &TestClient, to: UserId| {
        let path = format!("/api/conversations/{id}/assignee");
        let body = serde_json::json!({ "assignee": to });
        let request = client.request(reqwest::Method::PUT, &path).json(&body);
        async move { anyhow::Ok(request.send().await?) }
    };
    let refused = expect_error(assign(&bea_client, sam.id).await?, StatusCode::UNPROCESSABLE_ENTITY).await?;
    assert_eq!(refused.code, ErrorCode::InvalidInput, "Sam is not in Billing");
    assert!(refused.message.contains("Sam"), "{}", refused.message);
    assert_eq!(assign(&bea_client, ben.id).await?.status(), StatusCode::OK, "Ben is");
    // The lead sees Ben's conversation and moves it on within Billing, not outside it.
    expect_error(assign(&lee_client, sam.id).await?, StatusCode::UNPROCESSABLE_ENTITY).await?;
    assert_eq!(assign(&lee_client, bea.id).await?.status(), StatusCode::OK);
    assert_eq!(assign(&sue_client, sam.id).await?.status(), StatusCode::OK, "a supervisor's call");
    assert_eq!(assignee(&server, id).await?, Some(sam.id));
    server.stop().await
}
