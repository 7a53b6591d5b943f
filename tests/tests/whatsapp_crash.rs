//! `kill -9` while agents send (issue 12, defect 3). The real `baton` binary runs as a child
//! process, wired to the WhatsApp simulator; agents reply over real sockets, together well over 20
//! replies a second; the process is killed with SIGKILL at random moments, [`ROUNDS`] times, and
//! started again each time on the same database. At the end every reply an agent saw acknowledged
//! has reached the customer's phone (the simulator's chat) exactly once, and no reply twice.
//!
//! Without the send tags the process dies, now and then, after WhatsApp accepted a reply and before
//! its wamid was stored, and the restarted process sends that reply again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use baton_server::accounts::{self, NewAccount};
use baton_server::clock::Clock;
use baton_server::passwords::Passwords;
use baton_shared::ConversationId;
use baton_shared::api::Role;
use baton_shared::protocol::{AckDetail, ClientMsg, ServerMsg};
use baton_simulator::{Customer, Simulator};
use baton_tests::client::TestClient;
use baton_tests::database::{Kind, TestDatabase};
use baton_tests::eventually::eventually;
use baton_tests::process::{BatonProcess, baton_binary};
use baton_tests::socket::WsClient;

/// Agents replying at once, each to their own customer.
const AGENTS: usize = 5;
/// One reply per agent this often (after the previous one's answer): 50 a second in all at most.
const REPLY_INTERVAL: Duration = Duration::from_millis(100);
/// Kills.
const ROUNDS: usize = 20;
/// How long after a restart an interrupted send waits for its status (the simulator's first
/// status comes half a second after a send, its webhook retries 1, 2, 4 and 8 s apart).
const IN_FLIGHT_WAIT_SECS: u64 = 10;
const PASSWORD: &str = "crash-agent-password";

struct Agent {
    client: TestClient,
    customer: Customer,
    conversation: ConversationId,
}

/// Every reply an agent saw acknowledged, by body.
type Acknowledged = Arc<Mutex<Vec<String>>>;

async fn every_acknowledged_reply_reaches_the_customer_once(kind: Kind) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir()?;
    let building = Instant::now();
    let binary = tokio::task::spawn_blocking({
        let into = scratch.path().to_owned();
        move || baton_binary(&into)
    })
    .await??;
    println!("{kind:?}: baton built (or found up to date) in {:.1?}", building.elapsed());
    let running = Instant::now();
    let database = TestDatabase::new(kind).await?;
    let store = database.open().await?;
    let passwords = Passwords::new()?;
    for index in 0..AGENTS {
        let account = NewAccount {
            email: format!("agent{index}@crash.baton"),
            name: format!("Agent {index}"),
            role: Role::Agent,
            password: PASSWORD.into(),
        };
        accounts::create(store.as_ref(), &passwords, account, None, Clock::Wall)
            .await
            .map_err(|error| anyhow::anyhow!("{error}"))?;
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let simulator = Simulator::start(baton_simulator::Config::default(), listener).await?;
    let env = environment(&database, &simulator, scratch.path());
    let log = scratch.path().join("baton.log");
    let mut baton = start(&binary, &env, &log, &simulator).await?;

    // Each agent's customer writes; the agent logs in.
    let mut agents = Vec::with_capacity(AGENTS);
    for index in 0..AGENTS {
        let customer = Customer::new(format!("1555010{index:04}"), format!("Customer {index}"));
        simulator.send_text(&customer, "Hello?").await?;
        let conversation = conversation_of(&store, &customer.wa_id).await?;
        let mut client = TestClient::new(&baton.base);
        client.login(&format!("agent{index}@crash.baton"), PASSWORD).await?;
        agents.push(Agent { client, customer, conversation });
    }

    let acknowledged: Acknowledged = Arc::default();
    let sending = Instant::now();
    for round in 0..ROUNDS {
        let replying: Vec<_> = agents
            .iter()
            .enumerate()
            .map(|(index, agent)| {
                let mut client = agent.client.clone();
                client.base = baton.base.clone();
                let label = format!("a{index}-r{round}");
                tokio::spawn(reply_until_cut(client, agent.conversation, label, acknowledged.clone()))
            })
            .collect();
        // A random moment while they send.
        tokio::time::sleep(Duration::from_millis(400 + random_below(1_200))).await;
        baton.kill().await?;
        for task in replying {
            task.await?;
        }
        baton = start(&binary, &env, &log, &simulator).await?;
    }
    let acknowledged = acknowledged.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone();
    let rate = acknowledged.len() as f64 / sending.elapsed().as_secs_f64();
    println!("{kind:?}: {} replies acknowledged over {ROUNDS} kills, {rate:.0} a second", acknowledged.len());
    anyhow::ensure!(acknowledged.len() >= 10 * ROUNDS, "too few replies were sent to prove anything");

    // Everything still queued goes out (interrupted sends wait for their statuses first).
    eventually(Duration::from_secs(60), || async {
        let queued = store.due_outbox(i64::MAX, 1).await?;
        Ok(if queued.is_empty() { Ok(()) } else { Err(queued) })
    })
    .await
    .context("the outbox did not drain")?;
    baton.kill().await?;

    let mut arrived: HashMap<String, usize> = HashMap::new();
    for agent in &agents {
        let chat = simulator.chat(&agent.customer.wa_id).ok_or_else(|| anyhow::anyhow!("no chat"))?;
        for entry in chat.entries.iter().filter(|entry| !entry.from_customer) {
            *arrived.entry(entry.text.clone().unwrap_or_default()).or_default() += 1;
        }
    }
    let lost: Vec<&String> = acknowledged.iter().filter(|body| !arrived.contains_key(*body)).collect();
    let mut doubled: Vec<(&String, &usize)> = arrived.iter().filter(|(_, count)| **count > 1).collect();
    doubled.sort();
    println!("{kind:?}: {} replies reached the customer; the run took {:.1?}", arrived.len(), running.elapsed());
    assert!(lost.is_empty(), "acknowledged replies that never reached the customer: {lost:?}");
    assert!(doubled.is_empty(), "replies the customer got more than once: {doubled:?}");
    Ok(())
}

/// Baton's environment: this database, the simulator's Graph API and secrets, a short wait.
fn environment(database: &TestDatabase, simulator: &Simulator, scratch: &std::path::Path) -> Vec<(String, String)> {
    let meta = simulator.config();
    let mut env = baton_tests::process::environment(database, scratch, "warn");
    env.extend(
        [
            ("BATON_WHATSAPP_APP_SECRET", meta.app_secret.clone()),
            ("BATON_WHATSAPP_ACCESS_TOKEN", meta.access_token.clone()),
            ("BATON_WHATSAPP_PHONE_NUMBER_ID", meta.phone_number_id.clone()),
            ("BATON_WHATSAPP_BUSINESS_ACCOUNT_ID", meta.waba_id.clone()),
            ("BATON_WHATSAPP_GRAPH_URL", simulator.graph_url()),
            ("BATON_WHATSAPP_API_VERSION", meta.api_version.clone()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value)),
    );
    env
}

/// Starts Baton and points the simulator's webhooks at it (retries of webhooks it missed while
/// down go there too).
async fn start(
    binary: &std::path::Path,
    env: &[(String, String)],
    log: &std::path::Path,
    simulator: &Simulator,
) -> anyhow::Result<BatonProcess> {
    // A flag, not a variable: a `baton` without this change refuses to start instead of passing.
    let wait = ["--whatsapp-in-flight-wait-secs".to_owned(), IN_FLIGHT_WAIT_SECS.to_string()];
    let baton = BatonProcess::start(binary, &wait, env, log).await?;
    simulator.set_webhook_url(format!("{}/webhooks/whatsapp", baton.base));
    Ok(baton)
}

/// The conversation of the customer `wa_id`, once the ingest worker has made it.
async fn conversation_of(store: &Arc<dyn baton_server::store::Store>, wa_id: &str) -> anyhow::Result<ConversationId> {
    eventually(Duration::from_secs(10), || async {
        let conversations = store.conversations(false, 100).await?;
        Ok(conversations.iter().find(|conversation| conversation.contact.wa_id == wa_id).map(|found| found.id))
    })
    .await
    .with_context(|| format!("the customer {wa_id}'s message never arrived"))
}

/// One agent: connects, claims their conversation, and replies every [`REPLY_INTERVAL`] until the
/// server goes away, noting each reply acknowledged.
async fn reply_until_cut(client: TestClient, conversation: ConversationId, label: String, acknowledged: Acknowledged) {
    let Ok(mut socket) = WsClient::connect(&client).await else { return };
    let claimed = socket.request(|req_id| ClientMsg::Claim { req_id, conversation_id: conversation }).await;
    if !matches!(claimed, Ok(ServerMsg::Ack { .. })) {
        return;
    }
    for number in 1.. {
        let body = format!("{label}-{number}");
        let answer = socket
            .request(|req_id| ClientMsg::Reply {
                req_id,
                conversation_id: conversation,
                body: body.clone(),
                idempotency_key: body.clone(),
                seen_seq: 0,
                force: true,
                reply_to: None,
            })
            .await;
        match answer {
            Ok(ServerMsg::Ack { detail: Some(AckDetail::Message { message }), .. }) if message.body == body => {
                if let Ok(mut acknowledged) = acknowledged.lock() {
                    acknowledged.push(body);
                }
            }
            // Refused (never stored) or cut off: this round is over for this agent.
            _ => return,
        }
        tokio::time::sleep(REPLY_INTERVAL).await;
    }
}

/// A random number below `bound` (the kill moments).
fn random_below(bound: u64) -> u64 {
    u64::try_from(uuid::Uuid::new_v4().as_u128() % u128::from(bound)).unwrap_or_default()
}

baton_tests::on_both_kinds!(every_acknowledged_reply_reaches_the_customer_once);
