//! A graceful stop loses nothing (issue 13): the real `baton` binary takes signed webhook
//! deliveries from many customers at once; right after one is answered 200 it gets `SIGTERM`. It
//! must let the requests in flight finish — their deliveries are queued for the intake writer, or
//! in the batch it is committing — and exit 0. Started again on the same data, every delivery that
//! was answered 200, before or after the signal, becomes a message in its conversation; and no
//! delivery the server had read before the signal was refused (a writer stopped before the
//! requests drained would answer those 503).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use baton_server::store::Store;
use baton_shared::model::Change;
use baton_tests::database::{Kind, TestDatabase};
use baton_tests::process::{BatonProcess, baton_binary, terminate};
use baton_whatsapp::signature::{AppSecret, sign};

/// Customers writing at once, each posting its next delivery as soon as the last is answered:
/// enough that deliveries are always in flight, queued for the writer or in its batch.
const CUSTOMERS: usize = 32;
/// Deliveries answered 200 before the signal.
const ANSWERED_BEFORE_SIGNAL: usize = 300;
const APP_SECRET: &str = "shutdown-test-app-secret";
const PHONE_NUMBER_ID: &str = "106000000000001";
/// How long the stop may take (the server's own patience for its workers is 20 s).
const EXIT_DEADLINE: Duration = Duration::from_secs(30);

/// What the customers saw: the wamids answered 200, and how many of those answers came after the
/// signal was sent.
#[derive(Default)]
struct Answers {
    stored: Mutex<Vec<String>>,
    total: AtomicUsize,
    after_signal: AtomicUsize,
    refused_after_signal: AtomicUsize,
    /// Requests sent before the signal that the server read and then refused (a 503: its intake
    /// writer was gone). Each was in flight at SIGTERM and should have been stored and answered.
    refused_in_flight: Mutex<Vec<String>>,
    signalled: AtomicBool,
    signalled_at: Mutex<Option<Instant>>,
}

async fn every_delivery_answered_200_is_applied_after_a_graceful_stop(kind: Kind) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir()?;
    let binary = tokio::task::spawn_blocking({
        let into = scratch.path().to_owned();
        move || baton_binary(&into)
    })
    .await??;
    let database = TestDatabase::new(kind).await?;
    let env = environment(&database, scratch.path());
    let log = scratch.path().join("baton.log");
    let baton = BatonProcess::start(&binary, &[], &env, &log).await?;
    let pid = baton.pid().ok_or_else(|| anyhow::anyhow!("baton exited at once"))?;

    let answers = Arc::new(Answers::default());
    let http = reqwest::Client::new();
    let customers: Vec<_> = (0..CUSTOMERS)
        .map(|customer| {
            tokio::spawn(write_until_stopped(http.clone(), baton.base.clone(), customer, pid, answers.clone()))
        })
        .collect();
    for customer in customers {
        customer.await??;
    }
    let status = tokio::time::timeout(EXIT_DEADLINE, baton.wait()).await;
    let log_tail = || tail(&log);
    let status =
        status.map_err(|_| anyhow::anyhow!("baton did not stop within {EXIT_DEADLINE:?}\n{}", log_tail()))??;
    anyhow::ensure!(status.code() == Some(0), "baton stopped with {status}, not 0\n{}", log_tail());
    let signalled_at = *answers.signalled_at.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    let stopping = signalled_at.map(|at| at.elapsed()).unwrap_or_default();

    let stored = answers.stored.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone();
    let after = answers.after_signal.load(Ordering::Acquire);
    println!(
        "{kind:?}: {} deliveries answered 200, {after} of them after SIGTERM; {} refused or cut off after it; \
         exited 0 {stopping:.1?} after the signal",
        stored.len(),
        answers.refused_after_signal.load(Ordering::Acquire),
    );
    anyhow::ensure!(stored.len() >= ANSWERED_BEFORE_SIGNAL, "the signal was never sent");
    // The point of the test: requests were in flight at the signal, and they were answered.
    anyhow::ensure!(after > 0, "no delivery in flight at SIGTERM was answered 200\n{}", log_tail());
    let refused = answers.refused_in_flight.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone();
    anyhow::ensure!(refused.is_empty(), "deliveries in flight at SIGTERM were refused: {refused:?}\n{}", log_tail());
    // Every worker stops at its next safe point: none is waited out (the server gives up at 20 s).
    anyhow::ensure!(stopping < Duration::from_secs(10), "stopping took {stopping:?}\n{}", log_tail());

    // Started again on the same data, the stored deliveries are applied.
    let baton = BatonProcess::start(&binary, &[], &env, &log).await?;
    let store = database.open().await?;
    let wanted: HashSet<String> = stored.into_iter().collect();
    let started = Instant::now();
    let missing = loop {
        let applied = inbound_wamids(&store).await?;
        let missing: Vec<&String> = wanted.iter().filter(|wamid| !applied.contains(*wamid)).collect();
        if missing.is_empty() || started.elapsed() > Duration::from_secs(30) {
            break missing.into_iter().cloned().collect::<Vec<_>>();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    baton.kill().await?;
    anyhow::ensure!(
        missing.is_empty(),
        "{} deliveries answered 200 were never applied, e.g. {:?}\n{}",
        missing.len(),
        missing.iter().take(5).collect::<Vec<_>>(),
        log_tail()
    );
    Ok(())
}

/// One customer: posts signed deliveries one after the other until the server stops taking them.
/// The one that makes [`ANSWERED_BEFORE_SIGNAL`] sends `SIGTERM` as soon as it is answered.
async fn write_until_stopped(
    http: reqwest::Client,
    base: String,
    customer: usize,
    pid: u32,
    answers: Arc<Answers>,
) -> anyhow::Result<()> {
    let secret = AppSecret::new(APP_SECRET).map_err(|error| anyhow::anyhow!("{error}"))?;
    let wa_id = format!("1555200{customer:04}");
    let mut number = 0_u64;
    loop {
        number += 1;
        let wamid = format!("wamid.shutdown.{customer}.{number}");
        let body = delivery(&wa_id, &wamid)?;
        let signature = sign(&secret, &body);
        let sent_before_signal = !answers.signalled.load(Ordering::Acquire);
        let answer = http
            .post(format!("{base}/webhooks/whatsapp"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature)
            .body(body)
            .send()
            .await;
        let signalled = answers.signalled.load(Ordering::Acquire);
        match answer {
            Ok(response) if response.status() == reqwest::StatusCode::OK => {
                answers.stored.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.push(wamid);
                if signalled {
                    answers.after_signal.fetch_add(1, Ordering::AcqRel);
                }
                let total = answers.total.fetch_add(1, Ordering::AcqRel) + 1;
                if total == ANSWERED_BEFORE_SIGNAL {
                    *answers.signalled_at.lock().map_err(|_| anyhow::anyhow!("poisoned"))? = Some(Instant::now());
                    terminate(pid)?;
                    // Set once the signal is delivered: the requests the other customers sent
                    // meanwhile were in flight at SIGTERM.
                    answers.signalled.store(true, Ordering::Release);
                }
            }
            // Refused (503 while stopping) or cut off: Meta would deliver it again later. But one
            // the server had read before the signal must have been answered 200.
            Ok(response) if signalled => {
                if sent_before_signal {
                    let refusal = format!("{wamid}: {}", response.status());
                    answers.refused_in_flight.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.push(refusal);
                }
                answers.refused_after_signal.fetch_add(1, Ordering::AcqRel);
                return Ok(());
            }
            // Cut off (the connection closed before the request was read, or after the stop).
            Err(_) if signalled => {
                answers.refused_after_signal.fetch_add(1, Ordering::AcqRel);
                return Ok(());
            }
            Ok(response) => anyhow::bail!("delivery {wamid} answered {} before the signal", response.status()),
            Err(error) => anyhow::bail!("delivery {wamid} failed before the signal: {error}"),
        }
    }
}

/// A signed-to-be delivery of one text message, shaped as the contract's `01_text.json`.
fn delivery(wa_id: &str, wamid: &str) -> anyhow::Result<Vec<u8>> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let payload = serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102000000000001",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": { "display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID },
                    "contacts": [{ "profile": { "name": format!("Customer {wa_id}") }, "wa_id": wa_id }],
                    "messages": [{
                        "from": wa_id,
                        "id": wamid,
                        "timestamp": now.to_string(),
                        "type": "text",
                        "text": { "body": format!("message {wamid}") }
                    }]
                }
            }]
        }]
    });
    Ok(serde_json::to_vec(&payload)?)
}

/// The wamids of every inbound message stored.
async fn inbound_wamids(store: &Arc<dyn Store>) -> anyhow::Result<HashSet<String>> {
    let mut found = HashSet::new();
    for conversation in store.conversations(true, 1000).await? {
        for event in store.events_after(conversation.id, 0, 100_000).await? {
            if let Change::MessageAdded { message } = event.change
                && let Some(wamid) = message.wa_message_id
            {
                found.insert(wamid);
            }
        }
    }
    Ok(found)
}

/// Baton's environment: this database, a webhook secret, no Graph API (nothing is sent).
fn environment(database: &TestDatabase, scratch: &std::path::Path) -> Vec<(String, String)> {
    let mut env = baton_tests::process::environment(database, scratch, "info");
    env.push(("BATON_WHATSAPP_APP_SECRET".to_owned(), APP_SECRET.to_owned()));
    env.push(("BATON_WHATSAPP_PHONE_NUMBER_ID".to_owned(), PHONE_NUMBER_ID.to_owned()));
    env
}

/// The last lines of Baton's log, for a failure's message.
fn tail(log: &std::path::Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

baton_tests::on_both_kinds!(every_delivery_answered_200_is_applied_after_a_graceful_stop);
