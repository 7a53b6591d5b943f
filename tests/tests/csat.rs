//! The rating request against the WhatsApp simulator, on SQLite and PostgreSQL: resolving sends
//! it (three reply buttons), the customer's tap is stored on the conversation it rates — which
//! neither reopens nor starts a new one — with the resolution and the agent who held it; an answer
//! that comes after the conversation was reopened and reassigned still rates the first
//! resolution, and its agent.

use std::time::Duration;

use baton_shared::api::Role;
use baton_shared::csat::Scale;
use baton_shared::model::{Change, ConversationStatus};
use baton_shared::{ConversationId, UserId};
use baton_simulator::{Customer, Inbound, Simulator};
use baton_tests::client::TestClient;
use baton_tests::database::Kind;
use baton_tests::eventually::eventually;
use baton_tests::server::TestServer;
use baton_tests::teams::put;
use baton_tests::whatsapp::{start, wait_for_conversation};
use serde_json::{Value, json};

const PATIENCE: Duration = Duration::from_secs(20);

/// The rating requests Baton sent `customer` (Graph request bodies with their wamids), once
/// `count` have gone.
async fn requests(simulator: &Simulator, customer: &Customer, count: usize) -> anyhow::Result<Vec<(String, Value)>> {
    let to = format!("+{}", customer.wa_id);
    eventually(PATIENCE, || async {
        let sent: Vec<(String, Value)> = simulator
            .message_requests()
            .into_iter()
            .filter_map(|request| Some((request.message_id()?.to_owned(), request.json?)))
            .filter(|(_, json)| json["type"] == "interactive" && json["to"] == to.as_str())
            .collect();
        Ok(if sent.len() >= count { Ok(sent) } else { Err(format!("{} requests", sent.len())) })
    })
    .await
}

async fn set_status(client: &TestClient, id: ConversationId, status: &str) -> anyhow::Result<()> {
    put(client, &format!("/api/conversations/{id}/status"), &json!({"status": status})).await
}

async fn assign(client: &TestClient, id: ConversationId, user: UserId) -> anyhow::Result<()> {
    put(client, &format!("/api/conversations/{id}/assignee"), &json!({"assignee": user})).await
}

/// Waits until Baton stored WhatsApp's id for each of `sent` (in conversation `id`): a customer can
/// only tap a request their phone received, which comes after WhatsApp answered Baton's send.
async fn stored(server: &TestServer, id: ConversationId, sent: &[(String, Value)]) -> anyhow::Result<()> {
    eventually(PATIENCE, || async {
        let messages = server.state.store.messages(id).await?;
        let known = sent
            .iter()
            .all(|(wamid, _)| messages.iter().any(|message| message.wa_message_id.as_deref() == Some(wamid.as_str())));
        Ok(if known { Ok(()) } else { Err("a request's wamid is not stored yet".to_owned()) })
    })
    .await
}

/// Waits until the conversation's answers are `wanted` (score, resolved_at, assignee), in order.
async fn answers(
    server: &TestServer,
    id: ConversationId,
    wanted: usize,
) -> anyhow::Result<Vec<(Option<u8>, i64, Option<UserId>)>> {
    eventually(PATIENCE, || async {
        let records = server.state.store.csat_records(id).await?;
        let answered = records.iter().filter(|record| record.score.is_some()).count();
        let seen: Vec<_> = records.iter().map(|record| (record.score, record.resolved_at, record.assignee)).collect();
        Ok(if answered >= wanted { Ok(seen) } else { Err(format!("{seen:?}")) })
    })
    .await
}

async fn a_rating_is_stored_with_the_resolution_it_rates(kind: Kind) -> anyhow::Result<()> {
    let (server, simulator) = start(kind).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let (_, ann) = server.logged_in("Ann", Role::Agent).await?;
    let (_, ben) = server.logged_in("Ben", Role::Agent).await?;
    let csat = json!({"version": 0, "enabled": true, "scale": "three", "question": "How did we do?",
                      "labels": ["Good", "OK", "Bad"], "list_button": "Rate us"});
    put(&admin, "/api/automation/csat", &csat).await?;

    let ana = Customer::new("15550007070", "Ana");
    let first = simulator.send_text(&ana, "My order is late").await?;
    let id = wait_for_conversation(&server, &first).await?;
    assign(&admin, id, ann.id).await?;
    set_status(&admin, id, "resolved").await?;
    let sent = requests(&simulator, &ana, 1).await?;
    stored(&server, id, &sent).await?;
    let (request_wamid, request) = &sent[0];
    assert_eq!(request["interactive"]["type"], "button");
    let ids: Vec<&str> = request["interactive"]["action"]["buttons"]
        .as_array()
        .map(|buttons| buttons.iter().filter_map(|button| button["reply"]["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["baton.csat.3", "baton.csat.2", "baton.csat.1"]);
    let resolved_at = server.state.store.csat_records(id).await?[0].resolved_at;

    // Before the customer answers, the conversation is reopened and given to Ben.
    set_status(&admin, id, "open").await?;
    assign(&admin, id, ben.id).await?;
    let tap = Inbound::ButtonReply { context: request_wamid.clone(), id: "baton.csat.1".into(), title: "Bad".into() };
    simulator.send(&ana, tap).await?;
    // It rates Ann's resolution, not Ben's conversation now.
    assert_eq!(answers(&server, id, 1).await?, [(Some(1), resolved_at, Some(ann.id))]);
    let events = server.state.store.events_after(id, 0, 1000).await?;
    let answered: Vec<_> = events
        .iter()
        .filter_map(|event| match &event.change {
            Change::CsatAnswered { score, scale, resolved_at, assignee } => {
                Some((*score, *scale, *resolved_at, *assignee))
            }
            _ => None,
        })
        .collect();
    assert_eq!(answered, [(1, Scale::Three, resolved_at, Some(ann.id))], "shown in its timeline");

    // Ben resolves it; the customer taps "Good" on the new request: his resolution's rating. The
    // tap opens nothing: the conversation stays resolved, and no new one starts.
    set_status(&admin, id, "resolved").await?;
    let sent = requests(&simulator, &ana, 2).await?;
    stored(&server, id, &sent).await?;
    let tap = Inbound::ButtonReply { context: sent[1].0.clone(), id: "baton.csat.3".into(), title: "Good".into() };
    let before = server.state.store.conversations(true, 100).await?.len();
    simulator.send(&ana, tap).await?;
    let rated = answers(&server, id, 2).await?;
    assert_eq!(rated.len(), 2);
    assert_eq!((rated[1].0, rated[1].2), (Some(3), Some(ben.id)));
    let after = server.state.store.conversation(id).await?;
    assert_eq!(after.map(|conversation| conversation.status), Some(ConversationStatus::Resolved));
    assert_eq!(server.state.store.conversations(true, 100).await?.len(), before, "no new conversation");
    server.stop().await
}

baton_tests::on_both_kinds!(a_rating_is_stored_with_the_resolution_it_rates);
