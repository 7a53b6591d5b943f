//! `baton-route`: the routing benchmark (issue 14). Starts a real `baton serve` (fresh SQLite, or
//! a fresh PostgreSQL database with `--postgres`, dropped afterwards), and as an admin over REST
//! makes `--agents` agents in `--teams` teams (round-robin and balanced in turn), each member with
//! `--capacity`, and routing rules that send a customer's first message to a team by a keyword.
//! Every agent logs in and follows their inbox on a socket (presence `available`, as a socket
//! opens); one supervisor follows everything. Then new customers write in, open loop, at `--rate`
//! per second for `--seconds` (signed webhooks, each a new `wa_id`, the text naming a team: 30%,
//! 25%, 20%, 15% and 10% of them for 5 teams, so the two busiest outgrow their members' capacity
//! and capacity has to hold). It prints:
//!
//! - **webhook → assigned**: from the webhook's POST to routing's `assigned` event arriving on
//!   the assignee's own socket (signature check, storage, ingest with the rules' triage, the
//!   router's decision in its own transaction, fan-out), with percentiles;
//! - **decisions per second**: assignments over the time from the first to the last;
//! - the **baseline, measured in the same run**: webhook → `opened` on the supervisor's socket
//!   for the same conversations — the same ingest and fan-out with no routing decision — and the
//!   ratios of the two, because this VM's absolute latencies are not bare metal's (see
//!   `baton-floor`); its loopback fan-out floor is run after the server stops (`--no-floor`: not);
//! - **capacity**: every agent's load three ways — held now (each conversation read over REST:
//!   `GET /api/conversations` holds only the 2,000 newest open ones), the highest it ever was (the
//!   supervisor's `assigned` events replayed in order), and the assignments their own socket
//!   received less those moved away — and exits with status 1 if any agent ever held more than
//!   their capacity, or conversations that fit were not assigned;
//! - whether any agent's socket heard of a conversation the rules sent to another team, and the
//!   CPU of the server, PostgreSQL, this generator and anything else running meanwhile (a busy
//!   machine makes every figure worse).
//!
//! `--models manual` runs the same load with no routing: ingest alone, for comparison. Client
//! and server share the machine's cores. Build with `--release`.

mod load;
mod report;
mod setup;
mod watch;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use baton_bench::{cpu_ticks, login, machine_ticks, start_server, ticks_of_processes_named};
use baton_shared::teams::AssignmentModel;
use clap::Parser;

use watch::{Record, Watcher, lock, since};

#[derive(Parser)]
#[command(about = "Routing: webhook → assigned latency, decisions/s and capacity, against a real Baton")]
struct Args {
    /// New conversations per second.
    #[arg(long, default_value_t = 1000)]
    rate: u32,
    /// Seconds of sending.
    #[arg(long, default_value_t = 5)]
    seconds: u32,
    /// Agents, shared evenly among the teams (each in one team).
    #[arg(long, default_value_t = 200)]
    agents: usize,
    /// Teams (each with a keyword its rule routes by).
    #[arg(long, default_value_t = 5)]
    teams: usize,
    /// Every member's capacity (open and pending conversations held at once).
    #[arg(long, default_value_t = 30)]
    capacity: u32,
    /// The teams' assignment models, in turn (`manual` or `queue`: no routing, for comparison).
    #[arg(long, value_delimiter = ',', default_value = "round_robin,balanced", value_parser = parse_model)]
    models: Vec<AssignmentModel>,
    /// Webhooks in flight at most.
    #[arg(long, default_value_t = 256)]
    in_flight: usize,
    /// Most seconds to wait after sending for the conversations and assignments still to come.
    #[arg(long, default_value_t = 60)]
    drain_secs: u64,
    /// Use a fresh PostgreSQL database on this server (created and dropped here), e.g.
    /// `postgres://root@127.0.0.1:5432`. Default: SQLite.
    #[arg(long)]
    postgres: Option<String>,
    /// Do not run `baton-floor` (the machine's loopback fan-out floor) after the server stops.
    #[arg(long)]
    no_floor: bool,
    /// The `baton` binary to start (default: beside this one).
    #[arg(long)]
    baton: Option<PathBuf>,
}

const ADMIN_EMAIL: &str = "route-admin@bench.baton";

fn parse_model(text: &str) -> Result<AssignmentModel, String> {
    AssignmentModel::parse(text).ok_or_else(|| format!("{text}: one of manual, round_robin, balanced, queue"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let baton = baton_bench::baton_binary(args.baton.as_deref())?;
    let data = tempfile::tempdir()?;
    let mut env = baton_bench::whatsapp_env();
    let database = baton_bench::fresh_database(args.postgres.as_deref(), "baton_route", &mut env).await?;
    let outcome = run(&args, &baton, data.path(), &env).await;
    baton_bench::drop_database(database).await?;
    let failures = outcome?;
    if !args.no_floor {
        floor(args.agents).await;
    }
    if !failures.is_empty() {
        println!("FAILED:\n  {}", failures.join("\n  "));
        std::process::exit(1);
    }
    println!("passed: no agent ever held more than {}, and everything that fit was assigned", args.capacity);
    Ok(())
}

/// Sets up, sends, waits for the assignments, checks and prints; answers the failures.
async fn run(args: &Args, baton: &Path, data: &Path, env: &[(&str, String)]) -> anyhow::Result<Vec<String>> {
    baton_bench::add_admin(baton, data, env, ADMIN_EMAIL).await?;
    let (mut server, pid, base) = start_server(baton, data, env).await?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(args.in_flight).build()?;
    let admin = login(&http, &base, ADMIN_EMAIL).await?;
    let layout = setup::create(&http, &base, &admin, args.agents, args.teams, args.capacity, &args.models).await?;

    let epoch = Instant::now();
    let record = Arc::new(Record::default());
    let started = Instant::now();
    let mut sockets = vec![(layout.supervisor.clone(), Watcher::Supervisor)];
    sockets.extend(layout.agents.iter().map(|(id, email)| (email.clone(), Watcher::Agent(*id))));
    let open = setup::connect_all(&http, &base, sockets, epoch, &record).await?;
    println!("{} sockets logged in, connected and following their inbox in {:.1?}", open.len(), started.elapsed());
    // Presence settles (frames gathered every 100 ms) before the customers write.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let total = (u64::from(args.rate) * u64::from(args.seconds)) as usize;
    let teams = load::teams_for(total, layout.teams.len());
    let keywords: Vec<String> = layout.teams.iter().map(|team| team.keyword.clone()).collect();
    let pid_text = pid.to_string();
    let database_ticks = || if args.postgres.is_some() { ticks_of_processes_named("postgres") } else { 0 };
    let cpu_before = (cpu_ticks(&pid_text)?, cpu_ticks("self")?, machine_ticks()?, database_ticks(), Instant::now());
    let send_start = since(epoch);
    let sent = load::send(&http, &base, &teams, &keywords, args.rate, args.in_flight, epoch).await?;
    let send_end = since(epoch);

    // Wait for what fits to be assigned and every conversation to have opened, then 2 s more
    // for anything routed beyond (over capacity); at most `drain_secs` (the router also sweeps
    // every team every 15 s, so a lost kick shows here as a late assignment, not a missing one).
    let fits = report::fits(&layout, args.capacity, &sent);
    let accepted = sent.iter().filter(|sent| sent.answered.is_some()).count();
    let deadline = Instant::now() + Duration::from_secs(args.drain_secs);
    let mut last_count = (0, 0);
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let count = {
            let seen = lock(&record);
            (seen.decisions.len(), seen.opened.len())
        };
        if count != last_count {
            last_count = count;
            quiet_since = Instant::now();
        } else if count.0 >= fits && count.1 >= accepted && quiet_since.elapsed() >= Duration::from_secs(2) {
            break;
        }
    }
    let (server_before, own_before, machine_before, database_before, cpu_started) = cpu_before;
    // 100 ticks a second: ticks per second is % of a core.
    let seconds = cpu_started.elapsed().as_secs_f64();
    let (busy, all) = machine_ticks()?;
    let cores = (all.saturating_sub(machine_before.1)) as f64 / 100.0 / seconds;
    let timing = report::Timing {
        send_start,
        send_end,
        server_cpu: (cpu_ticks(&pid_text)?.saturating_sub(server_before)) as f64 / seconds,
        generator_cpu: (cpu_ticks("self")?.saturating_sub(own_before)) as f64 / seconds,
        machine_cpu: (busy.saturating_sub(machine_before.0)) as f64 / seconds,
        database_cpu: (database_ticks().saturating_sub(database_before)) as f64 / seconds,
        cores,
        frames: record.frames.load(std::sync::atomic::Ordering::Relaxed),
    };

    // Every conversation as the server has it now: the list (as the app shows it), and each one
    // read alone (the list holds at most the 2,000 newest open ones).
    let list = http.get(format!("{base}/api/conversations")).header("cookie", &admin).send().await?;
    anyhow::ensure!(list.status().is_success(), "GET /api/conversations: {}", list.status());
    let list: Vec<report::Row> = list.json().await.context("reading GET /api/conversations")?;
    let highest = lock(&record).opened.keys().map(|id| id.0).max().unwrap_or(0);
    let ids = 1..=highest.max(i64::try_from(sent.len()).unwrap_or(i64::MAX));
    let (rows, absent) = read_each(&http, &base, &admin, ids).await?;
    let failures = {
        let seen = lock(&record);
        let stored = report::Stored { rows: &rows, absent, listed: list.len() };
        report::print(&layout, args.capacity, &sent, &seen, &stored, &timing)
    };
    for (_, reader) in open {
        reader.abort();
    }
    server.kill().await.context("stopping the server")?;
    Ok(failures)
}

/// Reads every conversation of `ids` (`GET /api/conversations/{id}`, 16 at a time); answers
/// them and how many do not exist (yet: their webhook is stored but not ingested).
async fn read_each(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    ids: std::ops::RangeInclusive<i64>,
) -> anyhow::Result<(Vec<report::Row>, usize)> {
    let gate = Arc::new(tokio::sync::Semaphore::new(16));
    let mut tasks = Vec::new();
    for id in ids {
        let (http, url, admin, gate) =
            (http.clone(), format!("{base}/api/conversations/{id}"), admin.to_owned(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let response = http.get(&url).header("cookie", admin).send().await?;
            if response.status() == reqwest::StatusCode::NOT_FOUND {
                return anyhow::Ok(None);
            }
            anyhow::ensure!(response.status().is_success(), "GET {url}: {}", response.status());
            Ok(Some(response.json::<report::Row>().await.with_context(|| format!("reading GET {url}"))?))
        }));
    }
    let (mut rows, mut absent) = (Vec::new(), 0);
    for task in tasks {
        match task.await?? {
            Some(row) => rows.push(row),
            None => absent += 1,
        }
    }
    Ok((rows, absent))
}

/// Runs `baton-floor` (beside this binary) with as many receivers as there are agents, and
/// prints its figures: this machine's loopback fan-out with no Baton at all.
async fn floor(sockets: usize) {
    let Ok(floor) = std::env::current_exe().map(|exe| exe.with_file_name("baton-floor")) else { return };
    if !floor.is_file() {
        println!("(no baton-floor beside this binary: no loopback floor)");
        return;
    }
    let output = tokio::process::Command::new(&floor)
        .args(["--sockets", &sockets.to_string(), "--fanouts", "200"])
        .output()
        .await;
    match output {
        Ok(output) => {
            let text = String::from_utf8_lossy(&output.stdout);
            for line in text.lines().filter(|line| line.contains("floor")) {
                println!("machine floor (baton-floor, server stopped): {line}");
            }
        }
        Err(error) => println!("(baton-floor did not run: {error})"),
    }
}
