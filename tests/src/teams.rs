//! Teams and queues as an admin sets them up over REST, for the visibility and routing tests:
//! creating a team with its model and members, moving a conversation into a queue, and reading
//! who holds what from the store.

use std::collections::BTreeMap;

use baton_shared::model::ConversationStatus;
use baton_shared::teams::{AssignmentModel, MembershipRequest, MembershipsRequest, Team};
use baton_shared::{ConversationId, TeamId, UserId};
use reqwest::{Method, StatusCode};

use crate::client::{TestClient, json};
use crate::server::TestServer;

/// Creates a team with `model` and `members` (each with a capacity; `None`: the default).
pub async fn create_team(
    admin: &TestClient,
    name: &str,
    model: AssignmentModel,
    members: &[(UserId, Option<u32>)],
) -> anyhow::Result<TeamId> {
    let created = admin.post("/api/teams", &serde_json::json!({ "name": name, "model": model })).await?;
    anyhow::ensure!(created.status() == StatusCode::CREATED, "creating {name} answered {}", created.status());
    let team: Team = json(created).await?;
    set_members(admin, team.id, members).await?;
    Ok(team.id)
}

/// Replaces a team's members.
pub async fn set_members(admin: &TestClient, team: TeamId, members: &[(UserId, Option<u32>)]) -> anyhow::Result<()> {
    let body = MembershipsRequest {
        members: members
            .iter()
            .map(|(user, capacity)| MembershipRequest { user: *user, capacity: *capacity })
            .collect(),
    };
    put(admin, &format!("/api/teams/{team}/members"), &serde_json::to_value(body)?).await
}

/// A `PUT` that must answer 200.
pub async fn put(client: &TestClient, path: &str, body: &serde_json::Value) -> anyhow::Result<()> {
    let response = client.request(Method::PUT, path).json(body).send().await?;
    anyhow::ensure!(response.status() == StatusCode::OK, "{path} answered {}", response.status());
    Ok(())
}

/// Moves a conversation to `team`'s queue (`None`: the general inbox).
pub async fn move_to(client: &TestClient, id: ConversationId, team: Option<TeamId>) -> anyhow::Result<()> {
    put(client, &format!("/api/conversations/{id}/team"), &serde_json::json!({ "team": team })).await
}

/// A new conversation of customer `wa_id`, moved into `team`'s queue.
pub async fn waiting_in(
    server: &TestServer,
    admin: &TestClient,
    wa_id: &str,
    team: TeamId,
) -> anyhow::Result<ConversationId> {
    let id = server.customer_writes(wa_id, "Hello").await?;
    move_to(admin, id, Some(team)).await?;
    Ok(id)
}

/// What each user holds of `team`'s conversations (open and pending), and how many of them wait.
pub async fn loads(server: &TestServer, team: TeamId) -> anyhow::Result<(BTreeMap<UserId, usize>, usize)> {
    let mut held = BTreeMap::new();
    let mut waiting = 0;
    let conversations = server.state.store.conversations(false, 100_000).await?;
    for conversation in conversations.into_iter().filter(|conversation| conversation.team == Some(team)) {
        match conversation.assignee {
            Some(user) if conversation.status != ConversationStatus::Resolved => *held.entry(user).or_default() += 1,
            Some(_) => {}
            None => waiting += 1,
        }
    }
    Ok((held, waiting))
}
