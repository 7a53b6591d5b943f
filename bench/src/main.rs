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
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use baton_shared::api::{CSRF_HEADER, CreateUserRequest, LoginRequest, Role};
use baton_shared::protocol::{ClientMsg, ServerMsg};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{Mutex, Semaphore};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

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
}

const ADMIN_EMAIL: &str = "load-admin@bench.baton";
const PASSWORD: &str = "bench-password";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let baton = match &args.baton {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.with_file_name("baton"),
    };
    anyhow::ensure!(baton.is_file(), "no baton binary at {} (build it, or pass --baton)", baton.display());
    let data = tempfile::tempdir()?;

    let mut add_admin = tokio::process::Command::new(&baton)
        .args(["user", "add", "--email", ADMIN_EMAIL, "--name", "Load Admin", "--role", "admin"])
        .env("BATON_DATA_DIR", data.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    if let Some(mut stdin) = add_admin.stdin.take() {
        tokio::io::AsyncWriteExt::write_all(&mut stdin, PASSWORD.as_bytes()).await?;
    }
    anyhow::ensure!(add_admin.wait().await?.success(), "baton user add failed");

    let (server, _, base) = start_server(&baton, data.path()).await?;
    let http = reqwest::Client::new();
    let admin = login(&http, &base, ADMIN_EMAIL).await?;
    let started = Instant::now();
    let agents = create_users(&http, &base, &admin, "agent", Role::Agent, args.agents).await?;
    let supervisors = create_users(&http, &base, &admin, "supervisor", Role::Supervisor, args.supervisors).await?;
    println!("created and logged in {} users in {:.1?}", agents.len() + supervisors.len(), started.elapsed());

    let conversations = args.agents.div_ceil(args.viewers_per_conversation.max(1));
    let mut conversation_ids = Vec::new();
    for index in 0..conversations {
        let body = serde_json::json!({"wa_id": format!("1555{index:07}"), "profile_name": "Load", "body": "hello"});
        let response = http
            .post(format!("{base}/api/inbound"))
            .header("cookie", &admin)
            .header(CSRF_HEADER, "1")
            .json(&body)
            .send()
            .await?;
        let created: serde_json::Value = response.json().await?;
        conversation_ids.push(created["conversation_id"].as_i64().context("conversation id")?);
    }

    // Restart: the server's memory then holds no trace of the password hashing done to create
    // the users (argon2 takes 19 MiB per hash, which the allocator keeps), and the sessions in the
    // database stay valid.
    let mut first = server;
    first.kill().await?;
    let (mut server, pid, base) = start_server(&baton, data.path()).await?;
    let rss_before = rss_kib(pid)?;
    let epoch = Instant::now();
    let samples = Arc::new(Mutex::new(Vec::<u64>::with_capacity(1 << 20)));
    let connect_started = Instant::now();
    let gate = Arc::new(Semaphore::new(64));
    let mut typists = Vec::new();
    let mut connecting = Vec::new();
    for (index, cookie) in agents.iter().enumerate() {
        let conversation = conversation_ids[index % conversations];
        let typist = index < conversations && index < args.typists;
        let (url, cookie, samples, gate) = (base.clone(), cookie.clone(), samples.clone(), gate.clone());
        connecting.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await?;
            let socket = connect(&url, &cookie).await?;
            let (mut sink, stream) = socket.split();
            let reader = tokio::spawn(read_samples(stream, epoch, samples));
            let open = ClientMsg::Open {
                req_id: 1,
                conversation_id: baton_shared::ConversationId(conversation),
                after_seq: 1 << 40,
            };
            sink.send(Message::Text(serde_json::to_string(&open)?.into())).await?;
            drop(permit);
            anyhow::Ok((sink, reader, conversation, typist))
        }));
    }
    for cookie in &supervisors {
        let (url, cookie, gate) = (base.clone(), cookie.clone(), gate.clone());
        let samples = samples.clone();
        connecting.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await?;
            let socket = connect(&url, &cookie).await?;
            let (mut sink, stream) = socket.split();
            let reader = tokio::spawn(read_samples(stream, epoch, samples));
            let follow = ClientMsg::SubscribeInbox { req_id: 1, cursors: vec![] };
            sink.send(Message::Text(serde_json::to_string(&follow)?.into())).await?;
            drop(permit);
            anyhow::Ok((sink, reader, 0, false))
        }));
    }
    let mut readers = Vec::new();
    let mut idle_sinks = Vec::new();
    for task in connecting {
        let (sink, reader, conversation, typist) = task.await??;
        if typist {
            typists.push((sink, conversation));
        } else {
            idle_sinks.push(sink);
        }
        readers.push(reader);
    }
    let sockets = args.agents + args.supervisors;
    println!("{sockets} sockets connected in {:.1?}", connect_started.elapsed());
    // Let the server settle (answers sent, buffers returned) before reading its memory.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after = rss_kib(pid)?;
    let closed = readers.iter().filter(|reader| reader.is_finished()).count();
    anyhow::ensure!(closed == 0, "{closed} sockets were closed by the server while connecting");
    let per_socket = (rss_after.saturating_sub(rss_before)) as f64 / sockets as f64;
    println!(
        "server RSS {rss_before} KiB before, {rss_after} KiB with {sockets} idle sockets: {per_socket:.1} KiB per socket"
    );

    samples.lock().await.clear();
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
    let mut latencies = std::mem::take(&mut *samples.lock().await);
    latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return f64::NAN;
        }
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[index] as f64 / 1e6
    };
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

/// Starts `baton serve` on a free port; returns the process, its pid and its base URL.
async fn start_server(
    baton: &std::path::Path,
    data: &std::path::Path,
) -> anyhow::Result<(tokio::process::Child, u32, String)> {
    let mut server = tokio::process::Command::new(baton)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("BATON_DATA_DIR", data)
        .env("BATON_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    let pid = server.id().context("server pid")?;
    let mut lines = BufReader::new(server.stdout.take().context("server stdout")?).lines();
    let address = loop {
        let line = lines.next_line().await?.context("the server exited before listening")?;
        if let Some(rest) = line.strip_prefix("Baton is listening on ") {
            break rest.split(". ").next().unwrap_or_default().to_owned();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let base = format!("http://{address}");
    println!("server pid {pid} at {base}");
    Ok((server, pid, base))
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(base: &str, cookie: &str) -> anyhow::Result<Socket> {
    let mut request = format!("{}/ws", base.replacen("http://", "ws://", 1)).into_client_request()?;
    request.headers_mut().insert("cookie", cookie.parse()?);
    let (socket, _) = tokio_tungstenite::connect_async(request).await?;
    Ok(socket)
}

/// Records, for every draft or typing message carrying a send time, how long it took to arrive.
async fn read_samples(
    mut stream: futures_util::stream::SplitStream<Socket>,
    epoch: Instant,
    samples: Arc<Mutex<Vec<u64>>>,
) {
    while let Some(Ok(message)) = stream.next().await {
        let Message::Text(text) = message else { continue };
        // Parse only drafts: the generator shares the machine's cores with the server.
        if !text.as_str().starts_with("{\"type\":\"draft\"") {
            continue;
        }
        let Ok(message) = serde_json::from_str::<ServerMsg>(text.as_str()) else { continue };
        let sent = match &message {
            ServerMsg::Draft { body, .. } => body.strip_prefix("t:").and_then(|nanos| nanos.parse::<u128>().ok()),
            _ => None,
        };
        if let Some(sent) = sent {
            let delay = epoch.elapsed().as_nanos().saturating_sub(sent);
            samples.lock().await.push(u64::try_from(delay).unwrap_or(u64::MAX));
        }
    }
}

async fn login(http: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<String> {
    let response = http
        .post(format!("{base}/api/auth/login"))
        .header(CSRF_HEADER, "1")
        .json(&LoginRequest { email: email.into(), password: PASSWORD.into() })
        .send()
        .await?;
    anyhow::ensure!(response.status().is_success(), "login as {email}: {}", response.status());
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .context("no session cookie")?;
    Ok(cookie.to_owned())
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
            let user = CreateUserRequest { email: email.clone(), name, role, password: PASSWORD.into() };
            let created = http
                .post(format!("{base}/api/users"))
                .header("cookie", &admin)
                .header(CSRF_HEADER, "1")
                .json(&user)
                .send()
                .await?;
            anyhow::ensure!(created.status().is_success(), "creating {email}: {}", created.status());
            login(&http, &base, &email).await
        }));
    }
    let mut cookies = Vec::new();
    for task in tasks {
        cookies.push(task.await??);
    }
    Ok(cookies)
}

/// The resident set of a process, in KiB (Linux).
fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).context("no VmRSS")?;
    line.split_whitespace().nth(1).context("VmRSS value")?.parse().context("VmRSS number")
}
