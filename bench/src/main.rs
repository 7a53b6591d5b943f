//! `baton-load`: opens N agent sockets and M supervisor sockets against a real `baton serve`
//! (started here, in a fresh data directory, on SQLite), then measures
//!
//! - **memory per socket**: the server's resident set before and after the sockets connect, idle;
//! - **typing fan-out latency**: typists in different conversations send a keystroke every
//!   `--keystroke-ms`; each keystroke carries its send time, and every supervisor receiving the
//!   draft (and every viewer receiving "typing") records the delay. Percentiles are printed.
//!
//! Client and server share this machine's cores, so the figures include the load generator's own
//! cost. Run it with release builds: `cargo build --release -p baton-server -p baton-bench &&
//! target/release/baton-load --agents 2000 --supervisors 200`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use baton_shared::api::Role;
use baton_shared::model::Change;
use baton_shared::protocol::{ClientMsg, ServerMsg};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use std::sync::Mutex;

use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

use baton_bench::{Socket, connect, cpu_ticks, login, rss_kib, start_server};

#[derive(Parser)]
#[command(about = "Typing fan-out latency and memory per socket against a real Baton server")]
struct Args {
    /// Agent sockets (each its own user).
    #[arg(long, default_value_t = 200)]
    agents: usize,
    /// Supervisor sockets following the whole inbox (each its own user).
    #[arg(long, default_value_t = 20)]
    supervisors: usize,
    /// Agents per conversation (they all view it).
    #[arg(long, default_value_t = 10)]
    viewers_per_conversation: usize,
    /// Agents typing at the same time, each in its own conversation.
    #[arg(long, default_value_t = 10)]
    typists: usize,
    /// Milliseconds between a typist's keystrokes (above the 250 ms draft interval, so each
    /// keystroke's draft is sent at once).
    #[arg(long, default_value_t = 300)]
    keystroke_ms: u64,
    /// How long to type, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// The `baton` binary to start (default: beside this one).
    #[arg(long)]
    baton: Option<PathBuf>,
    /// Keep the server's data here and reuse it on the next run with the same counts (creating
    /// thousands of users takes a minute of password hashing). Default: a fresh temporary one.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// What setting up a run made: the users' session cookies and the conversations.
#[derive(serde::Serialize, serde::Deserialize)]
struct Setup {
    agents: Vec<String>,
    supervisors: Vec<String>,
    conversation_ids: Vec<i64>,
}

const ADMIN_EMAIL: &str = "load-admin@bench.baton";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let baton = baton_bench::baton_binary(args.baton.as_deref())?;
    let temporary = tempfile::tempdir()?;
    let data = match &args.data_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => temporary.path().to_owned(),
    };
    let setup_file = data.join("baton-load-setup.json");
    let conversations = args.agents.div_ceil(args.viewers_per_conversation.max(1));
    let reused = std::fs::read(&setup_file).ok().and_then(|bytes| serde_json::from_slice::<Setup>(&bytes).ok()).filter(
        |setup| {
            setup.agents.len() == args.agents
                && setup.supervisors.len() == args.supervisors
                && setup.conversation_ids.len() == conversations
        },
    );
    let (first, setup) = match reused {
        Some(setup) => {
            println!("reusing the users and conversations in {}", data.display());
            (None, setup)
        }
        None => {
            let (server, setup) = set_up(&baton, &data, &args, conversations).await?;
            std::fs::write(&setup_file, serde_json::to_vec(&setup)?)?;
            (Some(server), setup)
        }
    };
    let Setup { agents, supervisors, conversation_ids } = setup;

    // Restart: the server's memory then holds no trace of the password hashing done to create
    // the users (argon2 takes 19 MiB per hash, which the allocator keeps), and the sessions in the
    // database stay valid.
    if let Some(mut first) = first {
        first.kill().await?;
    }
    let (mut server, pid, base) = start_server(&baton, &data, &[]).await?;
    let rss_before = rss_kib(pid)?;
    let epoch = Instant::now();
    let samples = Arc::new(Mutex::new(Vec::<u64>::with_capacity(1 << 20)));
    // Supervisors follow the whole inbox; agents view one conversation each.
    let mut plans: Vec<Plan> = supervisors.iter().map(|cookie| Plan { cookie: cookie.clone(), view: None }).collect();
    plans.extend(agents.iter().enumerate().map(|(index, cookie)| Plan {
        cookie: cookie.clone(),
        view: Some((conversation_ids[index % conversations], index < conversations && index < args.typists)),
    }));
    // A tenth first: the server's fixed costs (database cache, first-use allocations) then show
    // in the first reading, and the second one measures what one more socket costs.
    let warm = plans.len() / 10;
    let rest = plans.split_off(warm);
    let connect_started = Instant::now();
    let mut connected = connect_all(&base, plans, epoch, &samples).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_warm = rss_kib(pid)?;
    let rest_count = rest.len();
    connected.extend(connect_all(&base, rest, epoch, &samples).await?);
    let sockets = connected.len();
    println!("{sockets} sockets connected in {:.1?}", connect_started.elapsed());
    let mut typists = Vec::new();
    let mut readers = Vec::new();
    let mut idle_sinks = Vec::new();
    for (sink, reader, view) in connected {
        match view {
            Some((conversation, true)) => typists.push((sink, conversation)),
            _ => idle_sinks.push(sink),
        }
        readers.push(reader);
    }
    // Let the server settle (answers sent, buffers returned) before reading its memory.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after = rss_kib(pid)?;
    let closed = readers.iter().filter(|reader| reader.is_finished()).count();
    anyhow::ensure!(closed == 0, "{closed} sockets were closed by the server while connecting");
    let per_socket = (rss_after.saturating_sub(rss_before)) as f64 / sockets as f64;
    let marginal = (rss_after.saturating_sub(rss_warm)) as f64 / rest_count.max(1) as f64;
    println!(
        "server RSS {rss_before} KiB before, {rss_warm} KiB with {warm} sockets, {rss_after} KiB with {sockets} idle \
         sockets: {marginal:.1} KiB per additional socket ({per_socket:.1} KiB per socket including fixed costs)"
    );

    samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    let cpu_before = (cpu_ticks(&pid.to_string())?, cpu_ticks("self")?, Instant::now());
    let typing_for = Duration::from_secs(args.seconds);
    let mut typing_tasks = Vec::new();
    let typist_count = typists.len().max(1) as u32;
    for (index, (mut sink, conversation)) in typists.into_iter().enumerate() {
        let every = Duration::from_millis(args.keystroke_ms);
        // People do not type in step: spread the typists' keystrokes over the interval.
        let offset = every / typist_count * index as u32;
        typing_tasks.push(tokio::spawn(async move {
            let until = Instant::now() + typing_for;
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + offset, every);
            let mut req_id = 10;
            while Instant::now() < until {
                tick.tick().await;
                req_id += 1;
                let sent = epoch.elapsed().as_nanos();
                let draft = format!("t:{sent}");
                let typing =
                    ClientMsg::Typing { req_id, conversation_id: baton_shared::ConversationId(conversation), draft };
                sink.send(Message::Text(serde_json::to_string(&typing)?.into())).await?;
            }
            anyhow::Ok(req_id - 10)
        }));
    }
    let mut keystrokes = 0;
    for task in typing_tasks {
        keystrokes += task.await??;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (server_before, own_before, typing_started) = cpu_before;
    let seconds = typing_started.elapsed().as_secs_f64() * 100.0;
    println!(
        "CPU while typing: server {:.0}% of a core, load generator {:.0}%",
        (cpu_ticks(&pid.to_string())? - server_before) as f64 / seconds * 100.0,
        (cpu_ticks("self")? - own_before) as f64 / seconds * 100.0,
    );
    let mut latencies = std::mem::take(&mut *samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    latencies.sort_unstable();
    let percentile = |p: f64| baton_bench::percentile_ms(&latencies, p);
    println!(
        "typing fan-out: {keystrokes} keystrokes, {} deliveries; latency p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms",
        latencies.len(),
        percentile(0.50),
        percentile(0.99),
        percentile(0.999),
        percentile(1.0)
    );
    let closed = readers.iter().filter(|reader| reader.is_finished()).count();
    println!("sockets closed by the server during the run: {closed}");
    for reader in readers {
        reader.abort();
    }
    drop(idle_sinks);
    server.kill().await?;
    Ok(())
}

/// One socket to open: whose, and which conversation it views (and whether it types there);
/// `None`: it follows the whole inbox (supervisors).
struct Plan {
    cookie: String,
    view: Option<(i64, bool)>,
}

type Connected = (futures_util::stream::SplitSink<Socket, Message>, tokio::task::JoinHandle<()>, Option<(i64, bool)>);

/// Opens the planned sockets, 64 at a time, each reading in its own task.
async fn connect_all(
    base: &str,
    plans: Vec<Plan>,
    epoch: Instant,
    samples: &Arc<Mutex<Vec<u64>>>,
) -> anyhow::Result<Vec<Connected>> {
    let gate = Arc::new(Semaphore::new(64));
    let mut connecting = Vec::new();
    for plan in plans {
        let (url, gate, samples) = (base.to_owned(), gate.clone(), samples.clone());
        connecting.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await?;
            let socket = connect(&url, &plan.cookie).await?;
            let (mut sink, stream) = socket.split();
            let reader = tokio::spawn(read_samples(stream, epoch, samples));
            let request = match plan.view {
                Some((conversation, _)) => ClientMsg::Open {
                    req_id: 1,
                    conversation_id: baton_shared::ConversationId(conversation),
                    after_seq: 1 << 40,
                },
                None => ClientMsg::SubscribeInbox { req_id: 1, cursors: vec![] },
            };
            sink.send(Message::Text(serde_json::to_string(&request)?.into())).await?;
            drop(permit);
            anyhow::Ok((sink, reader, plan.view))
        }));
    }
    let mut connected = Vec::new();
    for task in connecting {
        connected.push(task.await??);
    }
    Ok(connected)
}

/// Creates the admin, the users (logged in) and the conversations on a fresh server.
async fn set_up(
    baton: &std::path::Path,
    data: &std::path::Path,
    args: &Args,
    conversations: usize,
) -> anyhow::Result<(tokio::process::Child, Setup)> {
    baton_bench::add_admin(baton, data, &[], ADMIN_EMAIL).await?;

    let (server, _, base) = start_server(baton, data, &baton_bench::whatsapp_env()).await?;
    let http = reqwest::Client::new();
    let admin = login(&http, &base, ADMIN_EMAIL).await?;
    let started = Instant::now();
    let agents = create_users(&http, &base, &admin, "agent", Role::Agent, args.agents).await?;
    let supervisors = create_users(&http, &base, &admin, "supervisor", Role::Supervisor, args.supervisors).await?;
    println!("created and logged in {} users in {:.1?}", agents.len() + supervisors.len(), started.elapsed());

    // Customers write in, as on WhatsApp (signed webhooks); the admin's inbox feed tells which
    // conversations that opened.
    let mut feed = connect(&base, &admin).await?;
    let subscribe = ClientMsg::SubscribeInbox { req_id: 1, cursors: vec![] };
    feed.send(Message::Text(serde_json::to_string(&subscribe)?.into())).await?;
    for index in 0..conversations {
        let wa_id = format!("1555{index:07}");
        let webhook = baton_bench::text_webhook(&wa_id, "Load", &format!("wamid.load.{index}"), 1_767_258_000, "hello");
        baton_bench::post_webhook(&http, &base, webhook).await?;
    }
    let mut conversation_ids = Vec::new();
    while conversation_ids.len() < conversations {
        let frame = tokio::time::timeout(Duration::from_secs(60), feed.next())
            .await
            .context("the conversations did not all open")?
            .context("the admin's socket closed")??;
        let Message::Text(text) = frame else { continue };
        if let Ok(ServerMsg::Event { event }) = serde_json::from_str::<ServerMsg>(text.as_str())
            && matches!(event.change, Change::Opened { .. })
        {
            conversation_ids.push(event.conversation_id.0);
        }
    }
    Ok((server, Setup { agents, supervisors, conversation_ids }))
}

/// Records, for every draft or typing message carrying a send time, how long it took to arrive.
async fn read_samples(
    mut stream: futures_util::stream::SplitStream<Socket>,
    epoch: Instant,
    samples: Arc<Mutex<Vec<u64>>>,
) {
    while let Some(Ok(message)) = stream.next().await {
        let Message::Text(text) = message else { continue };
        // Look only for a draft's send time, without parsing the frame: the generator shares the
        // machine's cores with the server, and its own cost shows in the figures.
        let text = text.as_str();
        if !text.starts_with("{\"type\":\"draft\"") {
            continue;
        }
        let sent = text.split_once("\"body\":\"t:").and_then(|(_, rest)| rest.split('"').next()?.parse::<u128>().ok());
        if let Some(sent) = sent {
            let delay = epoch.elapsed().as_nanos().saturating_sub(sent);
            samples
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(u64::try_from(delay).unwrap_or(u64::MAX));
        }
    }
}

/// Creates `count` users of `role` and logs each in; returns their cookies.
async fn create_users(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    prefix: &str,
    role: Role,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let gate = Arc::new(Semaphore::new(8));
    let mut tasks = Vec::new();
    for index in 0..count {
        let (http, base, admin, gate) = (http.clone(), base.to_owned(), admin.to_owned(), gate.clone());
        let email = format!("{prefix}{index}@bench.baton");
        let name = format!("{prefix} {index}");
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            baton_bench::create_user(&http, &base, &admin, &email, &name, role).await?;
            login(&http, &base, &email).await
        }));
    }
    let mut cookies = Vec::new();
    for task in tasks {
        cookies.push(task.await??);
    }
    Ok(cookies)
}
