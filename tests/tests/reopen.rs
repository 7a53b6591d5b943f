//! Reopening, on SQLite and PostgreSQL: a customer who writes into a conversation resolved within
//! the week reopens it — the same conversation, open again and back in its team's queue — and
//! routing gives it to the agent who last held it while they may take it (its sticky owner), to
//! the team's model when they may not.

use std::time::Duration;

use baton_shared::api::Role;
use baton_shared::model::ConversationStatus;
use baton_shared::protocol::{ClientMsg, PresenceStatus, ServerMsg};
use baton_shared::teams::AssignmentModel;
use baton_shared::{ConversationId, UserId};
use baton_tests::database::Kind;
use baton_tests::eventually::eventually;
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;
use baton_tests::teams::{create_team, move_to, put};
use serde_json::json;

const PATIENCE: Duration = Duration::from_secs(20);

async fn until_held_by(server: &TestServer, id: ConversationId, user: UserId) -> anyhow::Result<()> {
    eventually(PATIENCE, || async {
        let now = server.state.store.conversation(id).await?.and_then(|conversation| conversation.assignee);
        Ok(if now == Some(user) { Ok(()) } else { Err(format!("{now:?}")) })
    })
    .await
}

async fn a_customer_writing_again_reopens_and_goes_back_to_their_agent(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let (ann_client, ann) = server.logged_in("Ann", Role::Agent).await?;
    let (ben_client, ben) = server.logged_in("Ben", Role::Agent).await?;
    let mut ann_socket = WsClient::connect(&ann_client).await?;
    let _ben_socket = WsClient::connect(&ben_client).await?;
    let team = create_team(&admin, "Support", AssignmentModel::RoundRobin, &[(ann.id, None), (ben.id, None)]).await?;
    let id = server.customer_writes("15550009", "My parcel is late").await?;
    move_to(&admin, id, Some(team)).await?;
    let first = eventually(PATIENCE, || async {
        Ok(server.state.store.conversation(id).await?.and_then(|conversation| conversation.assignee))
    })
    .await?;
    let other = if first == ann.id { ben.id } else { ann.id };
    put(&admin, &format!("/api/conversations/{id}/status"), &json!({"status": "resolved"})).await?;

    // The customer writes again: the same conversation, open, back to its agent although the
    // rotation points at the other one.
    let again = server.customer_writes("15550009", "It still has not come").await?;
    assert_eq!(again, id, "reopened, not a new conversation");
    let reopened = server.state.store.conversation(id).await?;
    assert_eq!(reopened.as_ref().map(|conversation| conversation.status), Some(ConversationStatus::Open));
    until_held_by(&server, id, first).await?;

    // Resolved again; its agent is away now: the model decides.
    put(&admin, &format!("/api/conversations/{id}/status"), &json!({"status": "resolved"})).await?;
    if first == ann.id {
        let answer =
            ann_socket.request(|req_id| ClientMsg::SetPresence { req_id, status: PresenceStatus::Away }).await?;
        anyhow::ensure!(matches!(answer, ServerMsg::Ack { .. }), "{answer:?}");
    } else {
        drop(_ben_socket);
    }
    server.customer_writes("15550009", "Hello?").await?;
    until_held_by(&server, id, other).await?;
    server.stop().await
}

baton_tests::on_both_kinds!(a_customer_writing_again_reopens_and_goes_back_to_their_agent);
