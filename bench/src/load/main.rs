//! `baton-load`: a shift's worth of sockets against a real `baton serve` (started here, on
//! SQLite), then the same load against a plain Node.js `ws` room server (`--peer`), then the
//! machine's own loopback floor at the same rates, all printed side by side. By default (the
//! "shift" scenario of issue 18): 2,000 agents viewing 500 conversations (4 each), 200 supervisors
//! following the whole inbox, 400 typists (one in each of the first 400 conversations).
//!
//! For each server, one after the other ([`phase`]):
//!
//! 1. **connect storm**: every socket opened, 32 at a time, counted as connected when its `open`
//!    / `subscribe_inbox` is acked; the time it took, and the `presence` frames all sockets
//!    received until presence is quiet, in all and at half the sockets;
//! 2. **memory per idle socket**: the server's resident set before, after a tenth of the sockets
//!    and after all of them;
//! 3. **claims** (Baton only): first keystrokes in unclaimed conversations, acked with the claim —
//!    one at a time, then every typist's within 500 ms;
//! 4. **typing** at each `--rates` (keystrokes a second in all, spread over the typists) for
//!    `--seconds`: the draft delivery latency (each keystroke carries its send time, `t:<ns>`)
//!    with the worst of each second, and the CPU time per 1,000 deliveries of the server and of
//!    this generator.
//!
//! Then `baton-floor` at each rate ([`floor`]), and the summary tables ([`report`]). Client and
//! servers share this machine's cores, so the figures include the generator's own cost. Run it
//! with release builds: `cargo build --release -p baton-server -p baton-bench &&
//! target/release/baton-load --peer --data-dir /tmp/baton-load-data`.

mod floor;
mod peer;
mod phase;
mod report;
mod server_log;
mod setup;
mod sockets;
mod typing;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;

use phase::Settings;
use report::{fmt_count, fmt_ms};
use sockets::{Plan, Role};

#[derive(Parser)]
#[command(about = "A shift's load (connect storm, memory per socket, claims, typing fan-out) against a real Baton \
                   server, beside a Node.js ws peer and the machine's loopback floor")]
struct Args {
    /// Agent sockets (each its own user).
    #[arg(long, default_value_t = 2000)]
    agents: usize,
    /// Supervisor sockets following the whole inbox (each its own user): they receive every draft.
    #[arg(long, default_value_t = 200)]
    supervisors: usize,
    /// Agents per conversation (they all view it).
    #[arg(long, default_value_t = 4)]
    viewers_per_conversation: usize,
    /// Agents who type, one in each of the first conversations.
    #[arg(long, default_value_t = 400)]
    typists: usize,
    /// Keystrokes per second in all, spread over the typists: one typing window per rate. Above
    /// 1,600/s, 400 typists type faster than Baton's 250 ms draft interval, and drafts merge.
    #[arg(long, value_delimiter = ',', default_values_t = [200.0, 800.0], value_parser = positive)]
    rates: Vec<f64>,
    /// How long to type at each rate, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Sockets connecting at the same time.
    #[arg(long, default_value_t = 32)]
    connect_concurrency: usize,
    /// Claims taken one at a time, to read the burst against (0: no claims measured).
    #[arg(long, default_value_t = 100)]
    lone_claims: usize,
    /// The claim burst: every typist's first keystroke, spread over this many milliseconds.
    #[arg(long, default_value_t = 500)]
    burst_ms: u64,
    /// Also run the same load against the Node.js `ws` peer in `bench/peer/` (needs `node`).
    #[arg(long)]
    peer: bool,
    /// Where the peer's `peer.js` is (default: `bench/peer/` of the checkout built from).
    #[arg(long)]
    peer_dir: Option<PathBuf>,
    /// What the peer says of who is online: `none` (the bare room server, the strictest baseline
    /// for connecting) or `naive` (everyone online to a new socket, each arrival to everyone).
    #[arg(long, default_value = "none", value_parser = ["none", "naive"])]
    peer_presence: String,
    /// Do not run `baton-floor` at each rate.
    #[arg(long)]
    no_floor: bool,
    /// The `baton` binary to start (default: beside this one).
    #[arg(long)]
    baton: Option<PathBuf>,
    /// Keep the server's data here and reuse it on the next run with the same counts (creating
    /// thousands of users takes minutes of password hashing). Default: a fresh temporary one.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

fn positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate.is_finite() => Ok(rate),
        _ => Err(format!("{text} is not a positive rate")),
    }
}

/// The sockets to open: supervisors first, then agents, agent `i` viewing conversation
/// `i mod conversations` and typing there if it is among the first `typists` of them. `cookie`
/// gives socket `n`'s (0-based, in that order) session cookie.
fn plans(args: &Args, conversation_ids: &[i64], cookie: impl Fn(usize) -> String) -> Vec<Plan> {
    let conversations = conversation_ids.len().max(1);
    let mut plans: Vec<Plan> =
        (0..args.supervisors).map(|index| Plan { cookie: cookie(index), role: Role::Supervisor }).collect();
    plans.extend((0..args.agents).map(|index| Plan {
        cookie: cookie(args.supervisors + index),
        role: Role::Viewer {
            conversation: conversation_ids.get(index % conversations).copied().unwrap_or_default(),
            typist: index < conversations && index < args.typists,
        },
    }));
    plans
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let run_started = Instant::now();
    let baton = baton_bench::baton_binary(args.baton.as_deref())?;
    let temporary = tempfile::tempdir()?;
    let data = match &args.data_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => temporary.path().to_owned(),
    };
    let conversations = args.agents.div_ceil(args.viewers_per_conversation.max(1));
    let typists = args.typists.min(conversations).min(args.agents);
    let rates: Vec<String> = args.rates.iter().map(|rate| rate.to_string()).collect();
    println!(
        "scenario: {} agents in {} conversations ({} viewers each), {} supervisors following the whole inbox, \
         {typists} typists; sockets connect {} at a time; typing at {}/s for {} s each",
        fmt_count(args.agents as u64),
        conversations,
        args.viewers_per_conversation,
        args.supervisors,
        args.connect_concurrency,
        rates.join(", "),
        args.seconds,
    );

    let setup = setup::prepare(&baton, &data, args.agents, args.supervisors, conversations).await?;
    let cookies: Vec<String> = setup.supervisors.iter().chain(&setup.agents).cloned().collect();
    let baton_plans = plans(&args, &setup.conversation_ids, |index| cookies.get(index).cloned().unwrap_or_default());
    let settings = Settings {
        name: "Baton",
        connect_concurrency: args.connect_concurrency,
        lone_claims: args.lone_claims,
        burst_spread: Duration::from_millis(args.burst_ms),
        rates: args.rates.clone(),
        seconds: args.seconds,
    };

    println!("\n## Baton");
    let (mut log, log_to) = server_log::ServerLog::create(&data)?;
    let (mut server, pid, base) = baton_bench::start_server_logging(&baton, &data, &[], log_to).await?;
    let phase_started = Instant::now();
    let baton_figures = phase::run(&settings, &base, pid, &baton_plans, Some(&mut log)).await?;
    server.kill().await?;
    println!("Baton's phase took {:.0} s", phase_started.elapsed().as_secs_f64());

    let mut peer_figures = None;
    if args.peer {
        println!("\n## Peer (Node.js ws)");
        let dir = args.peer_dir.clone().unwrap_or_else(peer::default_dir);
        if let Some(peer) = peer::start(&dir, &args.peer_presence).await? {
            let peer_plans = plans(&args, &setup.conversation_ids, |index| format!("peer_user={}", index + 1));
            let settings = Settings { name: "peer", lone_claims: 0, ..settings };
            let phase_started = Instant::now();
            peer_figures = Some(phase::run(&settings, &peer.base, peer.pid, &peer_plans, None).await?);
            drop(peer);
            println!("the peer's phase took {:.0} s", phase_started.elapsed().as_secs_f64());
        }
    }

    let mut floors = Vec::new();
    if !args.no_floor {
        println!("\n## Floor (baton-floor: plain TCP, no server)");
        for &rate in &args.rates {
            match floor::run(args.supervisors, rate, args.seconds, baton_figures.draft_bytes).await {
                Ok(figures) => {
                    let (sender, receiver) = figures.cpu_per_thousand();
                    println!(
                        "floor: {rate}/s ({} sockets, {}-byte messages): {} deliveries; latency p50 {}, p99 {}, \
                         p99.9 {}, max {}; CPU per 1,000 deliveries: sender {sender:.1} ms, receiver {receiver:.1} ms",
                        args.supervisors,
                        baton_figures.draft_bytes.clamp(20, 65_535),
                        fmt_count(figures.latency.count as u64),
                        fmt_ms(figures.latency.p50),
                        fmt_ms(figures.latency.p99),
                        fmt_ms(figures.latency.p999),
                        fmt_ms(figures.latency.max),
                    );
                    floors.push(Some(figures));
                }
                Err(error) => {
                    println!("floor: {rate}/s did not run: {error:#}");
                    floors.push(None);
                }
            }
        }
    }

    println!("\n## Summary\n");
    print!("{}", report::summary(&baton_figures, peer_figures.as_ref(), &floors, args.connect_concurrency));
    println!("\nBaton: closes and errors: {}", baton_figures.trouble);
    if let Some(peer) = &peer_figures {
        println!("peer: closes and errors: {}", peer.trouble);
    }
    println!("the whole run took {:.0} s", run_started.elapsed().as_secs_f64());
    Ok(())
}
