//! `baton-soak`: a long run of mixed load against a real `baton serve` (SQLite, or a fresh
//! PostgreSQL database), wired to the WhatsApp simulator (in this process) as its Graph API and
//! webhook source, that checks every socket's stream for gaps, duplicates and order.
//!
//! All at once, for `--minutes`:
//! - customers write through signed webhooks, open loop, at `--webhook-rate`, with a burst of
//!   `--burst` at once every `--burst-secs`;
//! - agents (every other one also following the inbox, as the web app does) keep conversations
//!   open, type replies (the typing lock claims), send them (statuses
//!   then flow back from the simulator), let the claim go, add notes, and switch conversations
//!   (close one, open another from the seq they hold there);
//! - supervisors follow the whole inbox (with drafts) and, as the web app does, open the
//!   conversation they look at (from the seq they hold) and close it when they move on;
//! - every socket's TCP connection is cut at random moments (a reset, no close frame), in the
//!   middle of the bursts, and resumed from the seq it holds per conversation.
//!
//! Every socket checks each event against the seq it holds (`stream.rs`). At the end the writers
//! stop, the store settles, and each socket's last seq is compared with the store's. The figures
//! are printed; the exit status is non-zero if any defect count is not 0.
//!
//! `cargo build --release -p baton-server -p baton-bench && target/release/baton-soak --minutes 30`

mod agent;
mod customers;
mod link;
mod random;
mod report;
mod session;
mod stream;
mod supervisor;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use baton_bench::{add_admin, cpu_ticks, create_user, login, psql, start_server};
use baton_shared::ConversationId;
use baton_shared::api::ConversationSummary;
use baton_simulator::{Customer, Simulator};
use clap::{Parser, ValueEnum};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::link::Peer;
use crate::session::Session;
use crate::stream::{Role, Tally};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Database {
    Sqlite,
    Postgres,
}

#[derive(Parser)]
#[command(about = "Mixed load against a real Baton, checking every socket's stream for gaps, duplicates and order")]
struct Args {
    /// How long the load runs (fractions allowed).
    #[arg(long, default_value_t = 30.0)]
    minutes: f64,
    #[arg(long, value_enum, default_value = "sqlite")]
    database: Database,
    /// The PostgreSQL server to create the run's database on (and drop it from afterwards).
    #[arg(long, default_value = "postgres://127.0.0.1:5432")]
    postgres: String,
    /// Customers, each with their own conversation.
    #[arg(long, default_value_t = 50)]
    conversations: usize,
    /// Agent sockets (each its own user).
    #[arg(long, default_value_t = 16)]
    agents: usize,
    /// Supervisor sockets following the whole inbox (each its own user).
    #[arg(long, default_value_t = 4)]
    supervisors: usize,
    /// Conversations each agent keeps open.
    #[arg(long, default_value_t = 4)]
    open_per_agent: usize,
    /// Customer messages (webhooks) per second, over all customers.
    #[arg(long, default_value_t = 30.0)]
    webhook_rate: f64,
    /// Customer messages sent at the same moment in a burst (0: no bursts).
    #[arg(long, default_value_t = 40)]
    burst: usize,
    /// Seconds between two bursts.
    #[arg(long, default_value_t = 10.0)]
    burst_secs: f64,
    /// Replies per second tried, over all agents (some are refused: another agent holds the claim).
    #[arg(long, default_value_t = 6.0)]
    reply_rate: f64,
    /// Notes per second, over all agents.
    #[arg(long, default_value_t = 2.0)]
    note_rate: f64,
    /// Milliseconds between an agent's keystrokes while typing a reply.
    #[arg(long, default_value_t = 120)]
    keystroke_ms: u64,
    /// Mean seconds between two cuts of one socket's connection.
    #[arg(long, default_value_t = 20.0)]
    reconnect_secs: f64,
    /// Mean seconds between two conversation switches (close one, open another) of one agent.
    #[arg(long, default_value_t = 15.0)]
    switch_secs: f64,
    /// Mean seconds between two conversations a supervisor looks at (opens, while following the
    /// inbox, and closes when it moves on), as the web app does; 0: supervisors only follow.
    #[arg(long, default_value_t = 15.0)]
    supervisor_look_secs: f64,
    /// Seed for every random choice: a run can be repeated.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The `baton` binary to start (default: beside this one).
    #[arg(long)]
    baton: Option<PathBuf>,
}

const ADMIN_EMAIL: &str = "soak-admin@bench.baton";
/// How often progress is printed while the load runs.
const PROGRESS_EVERY: Duration = Duration::from_secs(30);
/// How long the store may keep changing after the load stopped (statuses, retried sends).
const SETTLE_AT_MOST: Duration = Duration::from_secs(120);
/// How long the store must stay unchanged to count as settled.
const SETTLED_FOR: Duration = Duration::from_secs(3);
/// How long the sockets may take to catch up with the settled store.
const CATCH_UP_AT_MOST: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let baton = baton_bench::baton_binary(args.baton.as_deref())?;
    let data = tempfile::tempdir()?;
    let database = match args.database {
        Database::Postgres => {
            let name = format!("baton_soak_{}", std::process::id());
            psql(&args.postgres, &format!("CREATE DATABASE {name}")).await?;
            Some(name)
        }
        Database::Sqlite => None,
    };
    let url = database.as_ref().map(|name| format!("{}/{name}", args.postgres.trim_end_matches('/')));
    let outcome = run(&args, &baton, data.path(), url).await;
    if let Some(name) = database {
        psql(&args.postgres, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    }
    let defects = outcome?;
    anyhow::ensure!(defects == 0, "{defects} defects (see above)");
    Ok(())
}

/// The whole run; the number of defects found.
async fn run(
    args: &Args,
    baton: &std::path::Path,
    data: &std::path::Path,
    database: Option<String>,
) -> anyhow::Result<u64> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let simulator = Arc::new(Simulator::start(baton_simulator::Config::default(), listener).await?);
    let meta = simulator.config().clone();
    let mut env = vec![
        ("BATON_WHATSAPP_APP_SECRET", meta.app_secret.clone()),
        ("BATON_WHATSAPP_ACCESS_TOKEN", meta.access_token.clone()),
        ("BATON_WHATSAPP_PHONE_NUMBER_ID", meta.phone_number_id.clone()),
        ("BATON_WHATSAPP_GRAPH_URL", simulator.graph_url()),
        ("BATON_WHATSAPP_API_VERSION", meta.api_version.clone()),
        ("BATON_WHATSAPP_BUSINESS_ACCOUNT_ID", meta.waba_id.clone()),
    ];
    env.extend(database.map(|url| ("BATON_DATABASE_URL", url)));
    add_admin(baton, data, &env, ADMIN_EMAIL).await?;
    let (mut server, pid, base) = start_server(baton, data, &env).await?;
    simulator.set_webhook_url(format!("{base}/webhooks/whatsapp"));
    let http = reqwest::Client::new();
    let admin = login(&http, &base, ADMIN_EMAIL).await?;
    let agents = users(&http, &base, &admin, "agent", baton_shared::api::Role::Agent, args.agents).await?;
    let supervisors =
        users(&http, &base, &admin, "supervisor", baton_shared::api::Role::Supervisor, args.supervisors).await?;
    let customers: Vec<Customer> = (0..args.conversations)
        .map(|index| Customer::new(format!("1555{index:07}"), format!("Soak Customer {index}")))
        .collect();
    for customer in &customers {
        simulator.send_text(customer, "Hello").await?;
    }
    let conversations = Arc::new(wait_for_conversations(&http, &base, &admin, &customers).await?);
    println!(
        "{} agents, {} supervisors, {} conversations; load for {} min",
        agents.len(),
        supervisors.len(),
        conversations.len(),
        args.minutes
    );

    let tally = Arc::new(Tally::new());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let load = Duration::from_secs_f64(args.minutes.max(0.0) * 60.0);
    let until = Instant::now() + load;
    let session = Session {
        base: base.clone(),
        until,
        stop: stopped,
        reconnect_every: Duration::from_secs_f64(args.reconnect_secs.max(0.1)),
        seed: args.seed,
        stream: 0,
        tally: tally.clone(),
    };
    let actions = (args.reply_rate + args.note_rate).max(f64::EPSILON);
    let work = Arc::new(agent::Work {
        conversations: conversations.clone(),
        open_per_agent: args.open_per_agent,
        act_every: Duration::from_secs_f64(args.agents.max(1) as f64 / actions),
        reply_share: args.reply_rate / actions,
        keystroke: Duration::from_millis(args.keystroke_ms),
        switch_every: Duration::from_secs_f64(args.switch_secs.max(0.1)),
    });
    let mut peers = Vec::new();
    let mut tasks = Vec::new();
    for (index, (name, cookie)) in supervisors.into_iter().enumerate() {
        let peer = Peer::new(name, Role::Supervisor, true, cookie, tally.clone());
        let look_every = (args.supervisor_look_secs > 0.0).then(|| Duration::from_secs_f64(args.supervisor_look_secs));
        let task = supervisor::run(session.for_task(index as u64 + 1), peer.clone(), conversations.clone(), look_every);
        tasks.push((peer.name.clone(), tokio::spawn(task)));
        peers.push(peer);
    }
    for (index, (name, cookie)) in agents.into_iter().enumerate() {
        // Every other agent follows the inbox too, as the web app does.
        let peer = Peer::new(name, Role::Agent, index % 2 == 1, cookie, tally.clone());
        let task = agent::run(session.for_task(1000 + index as u64), peer.clone(), work.clone());
        tasks.push((peer.name.clone(), tokio::spawn(task)));
        peers.push(peer);
    }
    let cpu_before = cpu_ticks(&pid.to_string())?;
    let writing = customers::Writing {
        per_second: args.webhook_rate,
        burst: args.burst,
        burst_every: Duration::from_secs_f64(args.burst_secs.max(0.1)),
    };
    let writer = tokio::spawn(customers::write(simulator.clone(), Arc::new(customers), writing, until, tally.clone()));
    while Instant::now() < until {
        tokio::time::sleep_until((Instant::now() + PROGRESS_EVERY).min(until)).await;
        progress(&tally);
    }
    let skipped_webhooks = writer.await??;
    let server_cpu_percent = (cpu_ticks(&pid.to_string())? - cpu_before) as f64 / load.as_secs_f64().max(f64::EPSILON);
    println!("load stopped; waiting for the store to settle and the sockets to catch up");

    let store = settle(&http, &base, &admin).await?;
    catch_up(&peers, &store).await;
    let store = last_seqs(&http, &base, &admin).await?;
    let endings = report::endings(&peers, &store);
    // Tells every socket task to stop (those that failed have already).
    stop.send_replace(true);
    let mut failed_tasks = Vec::new();
    for (name, task) in tasks {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => failed_tasks.push(format!("{name}: {error:#}")),
            Err(error) => failed_tasks.push(format!("{name}: {error}")),
        }
    }
    let run = report::Run {
        load_seconds: load.as_secs_f64(),
        sockets: peers.len(),
        conversations: conversations.len(),
        skipped_webhooks,
        server_cpu_percent,
        endings,
        failed_tasks,
    };
    let defects = report::print(&tally.lock(), &run);
    server.kill().await.context("stopping the server")?;
    Ok(defects)
}

/// Creates `count` users of `role` and logs each in; their names and cookies.
async fn users(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    prefix: &str,
    role: baton_shared::api::Role,
    count: usize,
) -> anyhow::Result<Vec<(String, String)>> {
    // Password hashing is the slow part: a few at a time.
    let gate = Arc::new(Semaphore::new(4));
    let mut tasks = Vec::new();
    for index in 0..count {
        let (http, base, admin, gate) = (http.clone(), base.to_owned(), admin.to_owned(), gate.clone());
        let (email, name) = (format!("{prefix}{index}@soak.baton"), format!("{prefix}-{index}"));
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            create_user(&http, &base, &admin, &email, &name, role).await?;
            anyhow::Ok((name, login(&http, &base, &email).await?))
        }));
    }
    let mut users = Vec::new();
    for task in tasks {
        users.push(task.await??);
    }
    Ok(users)
}

/// Every conversation's `last_seq` as the store has it (`GET /api/conversations`).
async fn last_seqs(http: &reqwest::Client, base: &str, admin: &str) -> anyhow::Result<HashMap<ConversationId, u64>> {
    let response = http.get(format!("{base}/api/conversations")).header("cookie", admin).send().await?;
    anyhow::ensure!(response.status().is_success(), "GET /api/conversations: {}", response.status());
    let summaries: Vec<ConversationSummary> = response.json().await?;
    Ok(summaries.into_iter().map(|summary| (summary.conversation.id, summary.conversation.last_seq)).collect())
}

/// The customers' conversations, in their order, once ingest has opened them all (bounded).
async fn wait_for_conversations(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    customers: &[Customer],
) -> anyhow::Result<Vec<ConversationId>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let response = http.get(format!("{base}/api/conversations")).header("cookie", admin).send().await?;
        let summaries: Vec<ConversationSummary> = response.error_for_status()?.json().await?;
        let by_customer: HashMap<&str, ConversationId> = summaries
            .iter()
            .map(|summary| (summary.conversation.contact.wa_id.as_str(), summary.conversation.id))
            .collect();
        let found: Option<Vec<ConversationId>> =
            customers.iter().map(|customer| by_customer.get(customer.wa_id.as_str()).copied()).collect();
        if let Some(found) = found {
            return Ok(found);
        }
        anyhow::ensure!(Instant::now() < deadline, "the customers' conversations did not all open within a minute");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (bounded) until the store stops changing: the last statuses and sends have landed.
async fn settle(http: &reqwest::Client, base: &str, admin: &str) -> anyhow::Result<HashMap<ConversationId, u64>> {
    let deadline = Instant::now() + SETTLE_AT_MOST;
    let mut last = last_seqs(http, base, admin).await?;
    let mut unchanged_since = Instant::now();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = last_seqs(http, base, admin).await?;
        if now != last {
            last = now;
            unchanged_since = Instant::now();
        } else if unchanged_since.elapsed() >= SETTLED_FOR {
            return Ok(last);
        }
    }
    println!("the store was still changing {} s after the load stopped", SETTLE_AT_MOST.as_secs());
    Ok(last)
}

/// Waits (bounded) until every socket holds the store's last seq wherever it follows.
async fn catch_up(peers: &[Arc<Peer>], store: &HashMap<ConversationId, u64>) {
    let deadline = Instant::now() + CATCH_UP_AT_MOST;
    while Instant::now() < deadline && !report::endings(peers, store).is_empty() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn progress(tally: &Tally) {
    let figures = tally.lock();
    let events: u64 = figures.events.values().sum();
    let defects: u64 = figures.defects.values().sum();
    println!(
        "{:>6.0} s: {} webhooks, {} replies, {} notes, {events} events received, {defects} defects, {} reconnects, {} resyncs",
        tally.started.elapsed().as_secs_f64(),
        figures.webhooks_sent,
        figures.replies_sent,
        figures.notes_added,
        figures.reconnects,
        figures.resyncs,
    );
}
