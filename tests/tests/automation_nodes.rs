//! Automation on two Baton nodes sharing one PostgreSQL database. Thirty customers write at once,
//! half through each node; each node's automation worker takes due jobs from the shared table
//! while the other does too. Every conversation gets exactly one greeting, and WhatsApp receives
//! exactly thirty. Then every conversation is resolved, half on each node: the rule that thanks on
//! resolve sends exactly once per conversation, counted thirty times, whichever node ran it.

use baton_shared::api::Role;
use baton_shared::automation::Automated;
use baton_shared::routing_rules::{Action, Rule, RuleSet, StoredRules, Trigger};
use baton_simulator::{Customer, WindowEnforcement};
use baton_tests::clocked::jobs_done;
use baton_tests::database::{Kind, TestDatabase};
use baton_tests::eventually::eventually;
use baton_tests::server::TestServer;
use baton_tests::teams::put;
use baton_tests::whatsapp::serve_on;
use futures_util::future::try_join_all;
use serde_json::json;
use std::time::Duration;

const CUSTOMERS: usize = 30;

/// The automated messages of `kind` stored per conversation.
async fn automated_per_conversation(server: &TestServer, kind: Automated) -> anyhow::Result<Vec<usize>> {
    let mut counts = Vec::new();
    for conversation in server.state.store.conversations(true, 1000).await? {
        let messages = server.state.store.messages(conversation.id).await?;
        counts.push(messages.iter().filter(|message| message.automation == Some(kind)).count());
    }
    Ok(counts)
}

/// The text messages WhatsApp received with `body`.
fn sent(simulator: &baton_simulator::Simulator, body: &str) -> usize {
    simulator
        .message_requests()
        .iter()
        .filter(|request| request.json.as_ref().is_some_and(|json| json["text"]["body"] == body))
        .count()
}

/// The greeting a customer gets (the test's customers are named by their number).
fn greeting(customer: &Customer) -> String {
    format!("Hello Customer {}, welcome!", customer.wa_id)
}

#[tokio::test]
async fn two_nodes_greet_and_thank_each_customer_once() -> anyhow::Result<()> {
    let meta = baton_simulator::Config { window: WindowEnforcement::Off, ..Default::default() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let simulator = baton_simulator::Simulator::start(meta, listener).await?;
    let database = TestDatabase::new(Kind::Postgres).await?;
    let second = database.another_node()?;
    let alpha = serve_on(&simulator, database, |_| {}).await?;
    let beta = serve_on(&simulator, second, |_| {}).await?;
    let (admin, _) = alpha.logged_in("Ada", Role::Admin).await?;
    let replies = json!({
        "version": 0,
        "greeting": {"enabled": true, "text": "Hello {{customer_name}}, welcome!"},
        "away": {"enabled": false, "text": "Away"},
        "queue_ack": {"enabled": false, "text": "In line"},
        "hourly_cap": 3
    });
    put(&admin, "/api/automation/replies", &replies).await?;
    let created =
        admin.post("/api/canned-responses", &json!({"title": "Thanks", "body": "Thanks for writing!"})).await?;
    anyhow::ensure!(created.status() == 201, "canned: {}", created.status());
    let thanks: baton_shared::api::CannedResponse = created.json().await?;
    let rule =
        Rule::new("Thank", vec![Trigger::ConversationResolved], vec![], vec![Action::SendCanned { canned: thanks.id }]);
    let rules = StoredRules { version: 0, set: RuleSet { default_team: None, rules: vec![rule] }, fired: vec![] };
    let saved = admin.request(reqwest::Method::PUT, "/api/routing/rules").json(&rules).send().await?;
    anyhow::ensure!(saved.status() == 200, "rules: {}", saved.status());

    // Thirty customers write at once, every other one through the other node.
    let customers: Vec<Customer> =
        (0..CUSTOMERS).map(|index| Customer::new(format!("1555077{index:04}"), format!("Customer {index}"))).collect();
    for customer in &customers {
        simulator.add_customer(customer)?;
    }
    let ids = try_join_all(customers.iter().enumerate().map(|(index, customer)| {
        let node = if index % 2 == 0 { &alpha } else { &beta };
        node.customer_writes(&customer.wa_id, "Hi, a question")
    }))
    .await?;
    jobs_done(&alpha).await?;
    assert_eq!(automated_per_conversation(&alpha, Automated::Greeting).await?, vec![1; CUSTOMERS], "one greeting each");
    eventually(Duration::from_secs(20), || async {
        let count = customers.iter().map(|customer| sent(&simulator, &greeting(customer))).sum::<usize>();
        Ok(if count >= CUSTOMERS { Ok(()) } else { Err(format!("{count} greetings sent")) })
    })
    .await?;

    // Every conversation resolved at once, half on each node.
    let (beta_admin, _) = beta.logged_in("Bo", Role::Admin).await?;
    try_join_all(ids.iter().enumerate().map(|(index, id)| {
        let client = if index % 2 == 0 { &admin } else { &beta_admin };
        async move { put(client, &format!("/api/conversations/{id}/status"), &json!({"status": "resolved"})).await }
    }))
    .await?;
    jobs_done(&beta).await?;
    assert_eq!(automated_per_conversation(&beta, Automated::Rule).await?, vec![1; CUSTOMERS], "one thanks each");
    eventually(Duration::from_secs(20), || async {
        let count = sent(&simulator, "Thanks for writing!");
        Ok(if count >= CUSTOMERS { Ok(()) } else { Err(format!("{count} thanks sent")) })
    })
    .await?;
    let stored: StoredRules = admin.get("/api/routing/rules").await?.json().await?;
    assert_eq!(stored.fired.iter().map(|fired| fired.count).sum::<u64>(), CUSTOMERS as u64, "fired once each");
    // Nothing went twice: WhatsApp received each message once, whichever node's outbox sent it.
    let greetings = customers.iter().map(|customer| sent(&simulator, &greeting(customer))).collect::<Vec<_>>();
    assert_eq!(greetings, vec![1; CUSTOMERS]);
    assert_eq!(sent(&simulator, "Thanks for writing!"), CUSTOMERS);
    beta.stop().await?;
    alpha.stop().await
}
