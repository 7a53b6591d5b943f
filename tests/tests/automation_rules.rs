//! Automation rules, on SQLite and PostgreSQL: one rule engine for routing and automation.
//!
//! - Against the simulator: a rule that keeps going labels every new conversation and the next
//!   places it; a keyword rule's note is written by Baton; a resolve sends the canned thanks
//!   (its placeholder filled) and removes a label; each rule's firings are counted.
//! - On tokio's paused clock: a missed first response escalates (priority and label), once; a
//!   time rule notes a conversation pending for 24 hours and resolves it at 48, each once; one
//!   pending before the rules were saved gets them too; a customer writing back ends the spell.
//! - No loops: two Baton numbers whose rules answer every message stop at the hourly cap.

use std::sync::Arc;
use std::time::Duration;

use baton_shared::ConversationId;
use baton_shared::api::{CannedResponse, Role};
use baton_shared::automation::{AUTOMATION_USER, Automated};
use baton_shared::model::{ConversationStatus, Direction, Priority};
use baton_shared::routing_rules::{Action, Condition, Rule, RuleSet, StoredRules, Trigger};
use baton_simulator::{Customer, Endpoint, Simulator};
use baton_tests::client::TestClient;
use baton_tests::clocked::{advance, jobs_done, start_at};
use baton_tests::database::Kind;
use baton_tests::eventually::eventually;
use baton_tests::paused::on_paused_clock;
use baton_tests::server::TestServer;
use baton_tests::teams::put;
use baton_tests::whatsapp::{start, wait_for_conversation};
use serde_json::json;

const PATIENCE: Duration = Duration::from_secs(20);
const HOUR: Duration = Duration::from_secs(3600);
const MINUTE: Duration = Duration::from_secs(60);

async fn canned(admin: &TestClient, title: &str, body: &str) -> anyhow::Result<CannedResponse> {
    let created = admin.post("/api/canned-responses", &json!({"title": title, "body": body})).await?;
    anyhow::ensure!(created.status() == 201, "canned response: {}", created.status());
    Ok(created.json().await?)
}

async fn save_rules(admin: &TestClient, rules: Vec<Rule>) -> anyhow::Result<StoredRules> {
    let current: StoredRules = admin.get("/api/routing/rules").await?.json().await?;
    let body = StoredRules { version: current.version, set: RuleSet { default_team: None, rules }, fired: vec![] };
    let saved = admin.request(reqwest::Method::PUT, "/api/routing/rules").json(&body).send().await?;
    anyhow::ensure!(saved.status() == 200, "rules: {} {}", saved.status(), saved.text().await?);
    Ok(saved.json().await?)
}

/// How often each rule (by name) fired, as the Rules page reads it.
async fn fire_counts(admin: &TestClient) -> anyhow::Result<Vec<(String, u64)>> {
    let stored: StoredRules = admin.get("/api/routing/rules").await?.json().await?;
    Ok(stored
        .set
        .rules
        .iter()
        .map(|rule| {
            let count = stored.fired.iter().find(|fired| fired.rule == rule.id).map_or(0, |fired| fired.count);
            (rule.name.clone(), count)
        })
        .collect())
}

fn names(counts: &[(&str, u64)]) -> Vec<(String, u64)> {
    counts.iter().map(|(name, count)| ((*name).to_owned(), *count)).collect()
}

/// Baton's notes on the conversation (their text).
async fn baton_notes(server: &TestServer, id: ConversationId) -> anyhow::Result<Vec<String>> {
    let notes = server.state.store.notes(id).await?;
    Ok(notes.into_iter().filter(|note| note.author == AUTOMATION_USER).map(|note| note.body).collect())
}

async fn rules_label_note_and_thank_on_resolve(kind: Kind) -> anyhow::Result<()> {
    let (server, simulator) = start(kind).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let thanks = canned(&admin, "Thanks", "Thank you, {{customer_name}}! Write any time.").await?;
    let mut tag_new = Rule::new(
        "Tag new",
        vec![Trigger::NewConversation],
        vec![],
        vec![Action::AddLabels { labels: vec!["new".into()] }],
    );
    tag_new.keep_going = true;
    let refunds = Rule::new(
        "Refunds",
        vec![Trigger::NewConversation, Trigger::CustomerMessage],
        vec![Condition::TextContains { keywords: vec!["refund".into()] }],
        vec![
            Action::AddLabels { labels: vec!["billing".into()] },
            Action::SetPriority { priority: Priority::High },
            Action::AddNote { text: "Check the refund policy before answering.".into() },
        ],
    );
    let thank = Rule::new(
        "Thank on resolve",
        vec![Trigger::ConversationResolved],
        vec![Condition::HasLabel { label: "billing".into() }],
        vec![Action::SendCanned { canned: thanks.id }, Action::RemoveLabels { labels: vec!["new".into()] }],
    );
    let saved = save_rules(&admin, vec![tag_new, refunds, thank]).await?;
    assert_eq!(saved.set.rules.iter().map(|rule| rule.id).collect::<Vec<_>>(), [1, 2, 3], "numbered on save");

    let ana = Customer::new("15550008080", "Ana");
    let first = simulator.send_text(&ana, "I want a REFUND for order 12").await?;
    let id = wait_for_conversation(&server, &first).await?;
    let placed = server.state.store.conversation(id).await?.ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!(placed.labels, ["new", "billing"], "both rules, in the message's transaction");
    assert_eq!(placed.priority, Priority::High);
    let note = eventually(PATIENCE, || async {
        let notes = baton_notes(&server, id).await?;
        Ok(if notes.is_empty() { Err("no note yet".to_owned()) } else { Ok(notes) })
    })
    .await?;
    assert_eq!(note, ["Check the refund policy before answering."]);

    put(&admin, &format!("/api/conversations/{id}/status"), &json!({"status": "resolved"})).await?;
    let to = format!("+{}", ana.wa_id);
    let sent = simulator
        .wait_for_request(|request| {
            request.json.as_ref().is_some_and(|json| json["to"] == to.as_str() && json["type"] == "text")
        })
        .await?;
    let body = sent.json.as_ref().map(|json| json["text"]["body"].clone());
    assert_eq!(body, Some(json!("Thank you, Ana! Write any time.")));
    let labels = eventually(PATIENCE, || async {
        let labels = server.state.store.conversation(id).await?.map(|c| c.labels).unwrap_or_default();
        Ok(if labels.contains(&"new".to_owned()) { Err(format!("{labels:?}")) } else { Ok(labels) })
    })
    .await?;
    assert_eq!(labels, ["billing"]);
    let messages = server.state.store.messages(id).await?;
    let automated: Vec<_> = messages.iter().filter_map(|message| message.automation).collect();
    assert_eq!(automated, [Automated::Rule], "the thanks says a rule sent it");
    assert_eq!(fire_counts(&admin).await?, names(&[("Tag new", 1), ("Refunds", 1), ("Thank on resolve", 1)]));

    // A second message in the conversation (reopened, nobody holds it) fires "Refunds" again, not
    // "Tag new" (not a new conversation); the note is written again, for this message.
    simulator.send_text(&ana, "Still no refund?").await?;
    let notes = eventually(PATIENCE, || async {
        let notes = baton_notes(&server, id).await?;
        Ok(if notes.len() < 2 { Err(format!("{notes:?}")) } else { Ok(notes) })
    })
    .await?;
    assert_eq!(notes.len(), 2);
    assert_eq!(fire_counts(&admin).await?, names(&[("Tag new", 1), ("Refunds", 2), ("Thank on resolve", 1)]));

    // A rule naming a canned response that does not exist is refused with a sentence.
    let current: StoredRules = admin.get("/api/routing/rules").await?.json().await?;
    let mut broken = current.clone();
    broken.set.rules[2].actions = vec![Action::SendCanned { canned: 999_999 }];
    let refused = admin.request(reqwest::Method::PUT, "/api/routing/rules").json(&broken).send().await?;
    assert_eq!(refused.status(), 422);
    let problem: serde_json::Value = refused.json().await?;
    assert!(problem["message"].as_str().is_some_and(|message| message.contains("canned response")), "{problem}");
    server.stop().await
}

async fn status(server: &TestServer, id: ConversationId) -> anyhow::Result<Option<ConversationStatus>> {
    Ok(server.state.store.conversation(id).await?.map(|conversation| conversation.status))
}

async fn time_and_breach_rules_fire_once_each(kind: Kind) -> anyhow::Result<()> {
    let start = baton_server::clock::now_ms();
    let server = start_at(kind, start).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    put(&admin, "/api/automation/sla", &json!({"version": 0, "inbox": {"first_response_minutes": 5}})).await?;
    let early = server.customer_writes_at("15550011", "Waiting for the courier", start).await?;
    put(&admin, &format!("/api/conversations/{early}/status"), &json!({"status": "pending"})).await?;
    advance(&server, HOUR).await?;

    // Saved an hour after `early` became pending: it gets the time rules too.
    let escalate = Rule::new(
        "Escalate",
        vec![Trigger::SlaBreached],
        vec![],
        vec![Action::SetPriority { priority: Priority::Urgent }, Action::AddLabels { labels: vec!["late".into()] }],
    );
    let nudge = Rule::new(
        "Nudge",
        vec![Trigger::PendingFor { hours: 24 }],
        vec![],
        vec![Action::AddNote { text: "Waiting a day: nudge the customer with a template.".into() }],
    );
    let close = Rule::new("Close stale", vec![Trigger::PendingFor { hours: 48 }], vec![], vec![Action::Resolve]);
    save_rules(&admin, vec![escalate, nudge, close]).await?;

    let late = server.customer_writes_at("15550012", "Hello? Anyone?", server.state.now()).await?;
    advance(&server, MINUTE).await?;
    advance(&server, 3 * MINUTE).await?;
    let before = server.state.store.conversation(late).await?.map(|c| (c.priority, c.labels));
    assert_eq!(before, Some((Priority::Normal, vec![])), "not before the deadline");
    advance(&server, 2 * MINUTE).await?;
    let after = server.state.store.conversation(late).await?.map(|c| (c.priority, c.labels));
    assert_eq!(after, Some((Priority::Urgent, vec!["late".to_owned()])), "the breach escalates");
    let before_rules = server.state.store.conversation(early).await?.map(|c| c.priority);
    assert_eq!(before_rules, Some(Priority::Normal), "its breach came before the rule was saved");

    // `late` goes pending now; a third one goes pending and hears back from its customer.
    put(&admin, &format!("/api/conversations/{late}/status"), &json!({"status": "pending"})).await?;
    let answered = server.customer_writes_at("15550013", "Let me check", server.state.now()).await?;
    put(&admin, &format!("/api/conversations/{answered}/status"), &json!({"status": "pending"})).await?;
    advance(&server, 22 * HOUR).await?;
    // `early`: pending for 23 h 7 min; the others for 22 h.
    assert!(baton_notes(&server, early).await?.is_empty(), "not before a day");
    advance(&server, HOUR).await?;
    assert_eq!(baton_notes(&server, early).await?.len(), 1, "a day pending, though it was pending before the rule");
    assert!(baton_notes(&server, late).await?.is_empty());
    server.customer_writes_at("15550013", "Found it: order 77", server.state.now()).await?;
    advance(&server, HOUR).await?;
    assert_eq!(baton_notes(&server, late).await?.len(), 1, "a day pending");
    assert_eq!(status(&server, answered).await?, Some(ConversationStatus::Open), "the customer wrote back");

    advance(&server, 23 * HOUR).await?;
    assert_eq!(status(&server, early).await?, Some(ConversationStatus::Resolved), "two days pending");
    assert_eq!(status(&server, late).await?, Some(ConversationStatus::Pending), "not two days yet");
    advance(&server, 2 * HOUR).await?;
    assert_eq!(status(&server, late).await?, Some(ConversationStatus::Resolved));
    advance(&server, 48 * HOUR).await?;
    for id in [early, late] {
        assert_eq!(baton_notes(&server, id).await?.len(), 1, "each wait fires once per spell");
    }
    assert!(baton_notes(&server, answered).await?.is_empty(), "its spell ended before a day");
    assert_eq!(status(&server, answered).await?, Some(ConversationStatus::Open));
    let resolved_by = server.state.store.events_after(late, 0, 1000).await?.into_iter().find_map(|event| {
        matches!(event.change, baton_shared::model::Change::StatusChanged { status: ConversationStatus::Resolved })
            .then_some(event.actor)
    });
    assert_eq!(resolved_by, Some(Some(AUTOMATION_USER)), "Baton resolved it");
    assert_eq!(fire_counts(&admin).await?, names(&[("Escalate", 2), ("Nudge", 2), ("Close stale", 2)]));
    server.stop().await
}

/// Relays what one Baton sends to `to` (the other Baton's number) to the other's simulator, as
/// that number writing to it: the "other bot" of a loop.
fn relay(
    from: Arc<Simulator>,
    to_number: Customer,
    into: Arc<Simulator>,
    as_customer: Customer,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let to = format!("+{}", to_number.wa_id);
        loop {
            let Ok(request) = from.next_request_to(Endpoint::Messages).await else { continue };
            let Some(json) = request.json else { continue };
            if json["to"] != to.as_str() || json["type"] != "text" {
                continue;
            }
            let body = json["text"]["body"].as_str().unwrap_or_default().to_owned();
            if let Err(error) = into.send_text(&as_customer, body).await {
                eprintln!("the relay could not deliver: {error}");
            }
        }
    })
}

/// The automated messages stored in Baton `server`, and the customer messages.
async fn counts(server: &TestServer) -> anyhow::Result<(usize, usize)> {
    let mut automated = 0;
    let mut inbound = 0;
    for conversation in server.state.store.conversations(true, 100).await? {
        for message in server.state.store.messages(conversation.id).await? {
            automated += usize::from(message.automation == Some(Automated::Rule));
            inbound += usize::from(message.direction == Direction::Inbound);
        }
    }
    Ok((automated, inbound))
}

async fn two_auto_replying_numbers_stop_at_the_cap(kind: Kind) -> anyhow::Result<()> {
    let (alpha, alpha_meta) = start(kind).await?;
    let (beta, beta_meta) = start(kind).await?;
    let (alpha_meta, beta_meta) = (Arc::new(alpha_meta), Arc::new(beta_meta));
    for server in [&alpha, &beta] {
        let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
        let reply = canned(&admin, "Auto", "Thanks for your message! We will answer soon.").await?;
        let answer_all = Rule::new(
            "Answer everything",
            vec![Trigger::NewConversation, Trigger::CustomerMessage],
            vec![],
            vec![Action::SendCanned { canned: reply.id }],
        );
        save_rules(&admin, vec![answer_all]).await?;
    }
    // Alpha's number as Beta's customers see it, and Beta's as Alpha's.
    let alpha_number = Customer::new("15550100001", "Alpha Shop");
    let beta_number = Customer::new("15550200002", "Beta Store");
    let to_beta = relay(alpha_meta.clone(), beta_number.clone(), beta_meta.clone(), alpha_number.clone());
    let to_alpha = relay(beta_meta.clone(), alpha_number.clone(), alpha_meta.clone(), beta_number.clone());

    // Beta's number writes to Alpha first; from then on each answers the other.
    alpha_meta.send_text(&beta_number, "Hello from Beta Store").await?;
    // Each sends three (the cap), so Alpha hears four messages and Beta three; then nothing.
    let settled = eventually(PATIENCE, || async {
        let (alpha_counts, beta_counts) = (counts(&alpha).await?, counts(&beta).await?);
        Ok(if alpha_counts.1 >= 4 && beta_counts.1 >= 3 {
            Ok(())
        } else {
            Err(format!("alpha {alpha_counts:?}, beta {beta_counts:?}"))
        })
    })
    .await;
    settled?;
    for server in [&alpha, &beta] {
        jobs_done(server).await?;
    }
    assert_eq!(counts(&alpha).await?, (3, 4), "Alpha: three automated answers, then the cap");
    assert_eq!(counts(&beta).await?, (3, 3), "Beta: three automated answers, then the cap");
    let (admin, _) = alpha.logged_in("Al", Role::Admin).await?;
    assert_eq!(fire_counts(&admin).await?, names(&[("Answer everything", 4)]), "it fired; the cap held the send");
    to_beta.abort();
    to_alpha.abort();
    alpha.stop().await?;
    beta.stop().await
}

#[tokio::test]
async fn rules_on_sqlite() -> anyhow::Result<()> {
    rules_label_note_and_thank_on_resolve(Kind::Sqlite).await
}

#[tokio::test]
async fn rules_on_postgres() -> anyhow::Result<()> {
    rules_label_note_and_thank_on_resolve(Kind::Postgres).await
}

#[test]
fn time_rules_on_sqlite() -> anyhow::Result<()> {
    on_paused_clock("time rules on SQLite", || time_and_breach_rules_fire_once_each(Kind::Sqlite))
}

#[test]
fn time_rules_on_postgres() -> anyhow::Result<()> {
    on_paused_clock("time rules on PostgreSQL", || time_and_breach_rules_fire_once_each(Kind::Postgres))
}

#[tokio::test]
async fn no_loop_on_sqlite() -> anyhow::Result<()> {
    two_auto_replying_numbers_stop_at_the_cap(Kind::Sqlite).await
}

#[tokio::test]
async fn no_loop_on_postgres() -> anyhow::Result<()> {
    two_auto_replying_numbers_stop_at_the_cap(Kind::Postgres).await
}
