//! Who sees what, the whole matrix, on SQLite and PostgreSQL, over REST and the socket: an agent,
//! a lead, a supervisor and an admin — each a member of Sales — against their own conversation, a
//! teammate's, Sales' waiting ones, Billing's (waiting and taken) and the general inbox's (waiting
//! and taken). Each viewer's inbox list, each conversation read, each `open`, and the live inbox
//! feed all agree with the rule; a conversation moved to another team leaves an agent's feed live.

use std::collections::BTreeSet;

use baton_shared::api::{ConversationSummary, NoteRequest, Role, User};
use baton_shared::model::Change;
use baton_shared::protocol::{ClientMsg, ServerMsg};
use baton_shared::teams::{MembershipRequest, MembershipsRequest, Team};
use baton_shared::{ConversationId, ErrorCode, TeamId, UserId};
use baton_tests::client::{TestClient, json};
use baton_tests::database::Kind;
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;
use reqwest::{Method, StatusCode};

baton_tests::on_both_kinds!(who_sees_what_by_role_and_team_over_rest_and_the_socket);

async fn create_team(admin: &TestClient, name: &str, members: &[UserId]) -> anyhow::Result<TeamId> {
    let team: Team = json(admin.post("/api/teams", &serde_json::json!({ "name": name })).await?).await?;
    let body = MembershipsRequest {
        members: members.iter().map(|user| MembershipRequest { user: *user, capacity: None }).collect(),
    };
    let response = admin.request(Method::PUT, &format!("/api/teams/{}/members", team.id)).json(&body).send().await?;
    anyhow::ensure!(response.status() == StatusCode::OK, "members answered {}", response.status());
    Ok(team.id)
}

async fn put(admin: &TestClient, path: &str, body: serde_json::Value) -> anyhow::Result<()> {
    let response = admin.request(Method::PUT, path).json(&body).send().await?;
    anyhow::ensure!(response.status() == StatusCode::OK, "{path} answered {}", response.status());
    Ok(())
}

/// A new conversation, placed in `team` and assigned to `assignee`.
async fn conversation(
    server: &TestServer,
    admin: &TestClient,
    customer: &str,
    team: Option<TeamId>,
    assignee: Option<UserId>,
) -> anyhow::Result<ConversationId> {
    let id = server.customer_writes(customer, "Hello").await?;
    put(admin, &format!("/api/conversations/{id}/team"), serde_json::json!({ "team": team })).await?;
    put(admin, &format!("/api/conversations/{id}/assignee"), serde_json::json!({ "assignee": assignee })).await?;
    Ok(id)
}

async fn note(admin: &TestClient, id: ConversationId, body: &str) -> anyhow::Result<()> {
    let request = NoteRequest { body: body.into(), base_version: 0 };
    let response = admin.post(&format!("/api/conversations/{id}/notes"), &request).await?;
    anyhow::ensure!(response.status() == StatusCode::CREATED, "note answered {}", response.status());
    Ok(())
}

/// The conversations whose notes reach `socket`, read up to the note that says "sentinel".
async fn noted(socket: &mut WsClient) -> anyhow::Result<BTreeSet<ConversationId>> {
    let mut seen = BTreeSet::new();
    loop {
        let (id, body) = socket
            .expect(|message| match message {
                ServerMsg::Event { event } => match &event.change {
                    Change::NoteAdded { note } => Some((event.conversation_id, note.body.clone())),
                    _ => None,
                },
                _ => None,
            })
            .await?;
        if body == "sentinel" {
            return Ok(seen);
        }
        seen.insert(id);
    }
}

async fn who_sees_what_by_role_and_team_over_rest_and_the_socket(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (admin, _) = server.logged_in("Ada Owner", Role::Admin).await?;
    let mut viewers: Vec<(Role, TestClient, User)> = Vec::new();
    for (name, role) in [("Vera", Role::Agent), ("Leo", Role::Lead), ("Sue", Role::Supervisor), ("Ann", Role::Admin)] {
        let (client, user) = server.logged_in(name, role).await?;
        viewers.push((role, client, user));
    }
    let (_, tom) = server.logged_in("Tom", Role::Agent).await?;
    let (olga_client, olga) = server.logged_in("Olga", Role::Agent).await?;
    let mut sales_members: Vec<UserId> = viewers.iter().map(|(_, _, user)| user.id).collect();
    sales_members.push(tom.id);
    let sales = create_team(&admin, "Sales", &sales_members).await?;
    let billing = create_team(&admin, "Billing", &[olga.id]).await?;

    let mut own = Vec::new();
    for (index, (_, _, user)) in viewers.iter().enumerate() {
        own.push(conversation(&server, &admin, &format!("1555000{index}"), Some(sales), Some(user.id)).await?);
    }
    let teammates = conversation(&server, &admin, "15551001", Some(sales), Some(tom.id)).await?;
    let sales_waiting = conversation(&server, &admin, "15551002", Some(sales), None).await?;
    let billing_taken = conversation(&server, &admin, "15551003", Some(billing), Some(olga.id)).await?;
    let billing_waiting = conversation(&server, &admin, "15551004", Some(billing), None).await?;
    let general_waiting = conversation(&server, &admin, "15551005", None, None).await?;
    let general_taken = conversation(&server, &admin, "15551006", None, Some(olga.id)).await?;
    let everything: BTreeSet<ConversationId> = own
        .iter()
        .copied()
        .chain([teammates, sales_waiting, billing_taken, billing_waiting, general_waiting, general_taken])
        .collect();

    for (index, (role, client, _)) in viewers.iter().enumerate() {
        let expected: BTreeSet<ConversationId> = match role {
            Role::Agent => [own[index], sales_waiting, general_waiting].into(),
            Role::Lead => own.iter().copied().chain([teammates, sales_waiting, general_waiting]).collect(),
            Role::Supervisor | Role::Admin => everything.clone(),
        };
        // REST: the inbox list, and each conversation read on its own.
        let listed: Vec<ConversationSummary> = json(client.get("/api/conversations").await?).await?;
        let listed: BTreeSet<ConversationId> = listed.iter().map(|summary| summary.conversation.id).collect();
        assert_eq!(listed, expected, "{role:?}: the inbox list");
        for id in &everything {
            let status = client.get(&format!("/api/conversations/{id}")).await?.status();
            let wanted = if expected.contains(id) { StatusCode::OK } else { StatusCode::NOT_FOUND };
            assert_eq!(status, wanted, "{role:?}: GET conversation {id}");
        }
        // The socket: opening each (their backlogs stay on this socket), then the live inbox feed
        // on another.
        let mut socket = WsClient::connect(client).await?;
        for id in &everything {
            let answer =
                socket.request(|req_id| ClientMsg::Open { req_id, conversation_id: *id, after_seq: 0 }).await?;
            let opened = match answer {
                ServerMsg::Ack { .. } => true,
                ServerMsg::Error { code: ErrorCode::NotFound, .. } => false,
                other => anyhow::bail!("{role:?}: open {id} answered {other:?}"),
            };
            assert_eq!(opened, expected.contains(id), "{role:?}: open {id}");
            socket.request(|req_id| ClientMsg::Close { req_id, conversation_id: *id }).await?;
        }
        socket.close().await?;
        let mut socket = WsClient::connect(client).await?;
        socket.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors: Vec::new() }).await?;
        for id in &everything {
            note(&admin, *id, &format!("{role:?} check")).await?;
        }
        // A sentinel everyone sees, last: every note before it has been fanned out.
        note(&admin, general_waiting, "sentinel").await?;
        assert_eq!(noted(&mut socket).await?, expected, "{role:?}: the inbox feed");
    }

    // Live: a waiting Sales conversation moved to Billing leaves the agent's feed and reaches
    // Billing's member, who could not see it before.
    let (_, vera_client, _) = &viewers[0];
    let mut vera = WsClient::connect(vera_client).await?;
    vera.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors: Vec::new() }).await?;
    let mut olga_socket = WsClient::connect(&olga_client).await?;
    olga_socket.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors: Vec::new() }).await?;
    put(&admin, &format!("/api/conversations/{sales_waiting}/team"), serde_json::json!({ "team": billing })).await?;
    let moved = vera
        .expect(|message| match message {
            ServerMsg::Event { event } if event.conversation_id == sales_waiting => match event.change {
                Change::Triaged { team, .. } => Some(team),
                _ => None,
            },
            _ => None,
        })
        .await?;
    assert_eq!(moved, Some(billing), "the agent hears where it went");
    note(&admin, sales_waiting, "for Billing").await?;
    note(&admin, general_waiting, "sentinel").await?;
    assert_eq!(noted(&mut vera).await?, BTreeSet::new(), "no longer hers to see");
    assert_eq!(noted(&mut olga_socket).await?, [sales_waiting].into(), "now Billing's");
    let status = vera_client.get(&format!("/api/conversations/{sales_waiting}")).await?.status();
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await
}
