//! `baton-ingest`: the WhatsApp webhook ingest benchmark. Starts a real `baton serve` (SQLite, or
//! a fresh PostgreSQL database with `--postgres`), follows the whole inbox on a supervisor's
//! socket, then posts signed webhooks — one text message each, from `--customers` customers — at
//! each of `--rates` per second for `--seconds`, and prints for every rate:
//!
//! - **accepted/s**: webhooks answered 200 per second (stored durably before the answer);
//! - the webhook's **answer time** percentiles (what Meta waits for);
//! - **webhook → socket** latency percentiles: from posting until the supervisor's socket
//!   receives the message (signature check, storage, ingest, fan-out);
//! - **applied/s**: messages on the socket per second, from the rate's first post to its last
//!   arrival — the ingest worker's rate once the posting outruns it.
//!
//! With `--cost-of search-index` it runs twice on fresh databases, the second time with the search
//! index switched off in the database (documents discarded by a trigger, the contacts' full-text
//! triggers and indexes dropped), and prints the cost of the index as the ratio of applied rates;
//! `--cost-of reports` does the same for the reports' facts and rollups (every row written to
//! `report_*` discarded by a trigger; the conversations' report track is still kept).
//!
//! Client and server share the machine's cores. Build with `--release`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use baton_bench::{APP_SECRET, connect, login, percentile_ms, start_server, text_webhook};
use baton_shared::protocol::ClientMsg;
use baton_whatsapp::signature::{AppSecret, sign};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser)]
#[command(about = "WhatsApp webhook ingest: accepted/s and webhook → socket latency against a real Baton")]
struct Args {
    /// Webhooks per second to try, in turn.
    #[arg(long, value_delimiter = ',', default_value = "250,500,1000,2000,5000,10000")]
    rates: Vec<u32>,
    /// Seconds at each rate.
    #[arg(long, default_value_t = 3)]
    seconds: u32,
    /// Distinct customers writing (conversations).
    #[arg(long, default_value_t = 500)]
    customers: u32,
    /// Webhooks in flight at most.
    #[arg(long, default_value_t = 256)]
    in_flight: usize,
    /// Use a fresh PostgreSQL database on this server (created and dropped here), e.g.
    /// `postgres://root@127.0.0.1:5432`. Default: SQLite.
    #[arg(long)]
    postgres: Option<String>,
    /// The `baton` binary to start (default: beside this one).
    #[arg(long)]
    baton: Option<PathBuf>,
    /// Run twice, the second time with this part switched off in the database (the baseline),
    /// and print its cost as a ratio.
    #[arg(long, value_enum)]
    cost_of: Option<Part>,
}

/// A part of the ingest whose cost can be measured.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Part {
    SearchIndex,
    Reports,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::SearchIndex => "the search index",
            Part::Reports => "the reports' facts and rollups",
        }
    }
}

const ADMIN_EMAIL: &str = "ingest-admin@bench.baton";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let baton = baton_bench::baton_binary(args.baton.as_deref())?;
    let runs: Vec<Option<Part>> = match args.cost_of {
        None => vec![None],
        Some(part) => vec![None, Some(part)],
    };
    let mut applied = Vec::new();
    for &without in &runs {
        if let Some(part) = args.cost_of {
            println!("{} {}", if without.is_some() { "without" } else { "with" }, part.name());
        }
        let data = tempfile::tempdir()?;
        let mut env = baton_bench::whatsapp_env();
        let database = baton_bench::fresh_database(args.postgres.as_deref(), "baton_ingest", &mut env).await?;
        let url = match env.iter().find(|(name, _)| *name == "BATON_DATABASE_URL") {
            Some((_, url)) => url.clone(),
            None => {
                let url = format!("sqlite://{}", data.path().join("ingest.db").display());
                env.push(("BATON_DATABASE_URL", url.clone()));
                url
            }
        };
        let outcome = run(&args, &baton, data.path(), &env, without.map(|part| (part, url.as_str()))).await;
        baton_bench::drop_database(database).await?;
        applied.push(outcome?);
    }
    if let ([with, without], Some(part)) = (applied.as_slice(), args.cost_of) {
        println!("cost of {} (applied/s without it ÷ with it)", part.name());
        for (rate, (with, without)) in args.rates.iter().zip(with.iter().zip(without)) {
            println!("{rate:>6}  {with:>8.0} with  {without:>8.0} without  ratio {:.2}", without / with.max(1.0));
        }
    }
    Ok(())
}

/// The tables the reports write their facts to.
const REPORT_TABLES: [&str; 5] =
    ["report_counts", "report_team_hours", "report_day_counts", "report_spans", "report_day_spans"];

/// Switches `part` off in the database at `url` (already migrated): the baseline its cost is
/// measured against.
async fn switch_off(part: Part, url: &str) -> anyhow::Result<()> {
    use sqlx::Executor;
    if part == Part::Reports {
        let postgres = url.starts_with("postgres");
        let mut statements = Vec::new();
        if postgres {
            statements.push(
                "CREATE FUNCTION bench_discard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$"
                    .to_owned(),
            );
        }
        for table in REPORT_TABLES {
            statements.push(if postgres {
                format!("CREATE TRIGGER bench_discard BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION bench_discard()")
            } else {
                format!("CREATE TRIGGER bench_discard_{table} BEFORE INSERT ON {table} BEGIN SELECT RAISE(IGNORE); END")
            });
        }
        let script = statements.join("; ");
        if postgres {
            let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await?;
            pool.execute(script.as_str()).await?;
            pool.close().await;
        } else {
            let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect(url).await?;
            pool.execute(script.as_str()).await?;
            pool.close().await;
        }
        return Ok(());
    }
    // The search index: documents discarded as they are written, the contacts' full-text index
    // no longer kept.
    if url.starts_with("postgres") {
        let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await?;
        pool.execute(
            "CREATE FUNCTION bench_discard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$; \
             CREATE TRIGGER bench_discard BEFORE INSERT OR UPDATE ON search_docs \
             FOR EACH ROW EXECUTE FUNCTION bench_discard(); \
             DROP INDEX contacts_vector; DROP INDEX contacts_digits;",
        )
        .await?;
        pool.close().await;
    } else {
        let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect(url).await?;
        pool.execute(
            "CREATE TRIGGER bench_discard BEFORE INSERT ON search_docs BEGIN SELECT RAISE(IGNORE); END; \
             DROP TRIGGER contacts_inserted; DROP TRIGGER contacts_terms_updated;",
        )
        .await?;
        pool.close().await;
    }
    Ok(())
}

/// One run at every rate; returns the applied rate of each.
async fn run(
    args: &Args,
    baton: &std::path::Path,
    data: &std::path::Path,
    env: &[(&str, String)],
    without: Option<(Part, &str)>,
) -> anyhow::Result<Vec<f64>> {
    baton_bench::add_admin(baton, data, env, ADMIN_EMAIL).await?;
    if let Some((part, url)) = without {
        switch_off(part, url).await?;
    }
    let (mut server, _pid, base) = start_server(baton, data, env).await?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(args.in_flight).build()?;
    let cookie = login(&http, &base, ADMIN_EMAIL).await?;

    // The supervisor's socket: every message that arrives carries its posting time.
    let socket = connect(&base, &cookie).await?;
    let (mut sink, mut stream) = socket.split();
    let follow = ClientMsg::SubscribeInbox { req_id: 1, cursors: vec![] };
    sink.send(Message::Text(serde_json::to_string(&follow)?.into())).await?;
    let epoch = Instant::now();
    // (posted → arrived, arrived since the epoch), in nanoseconds.
    let arrivals = Arc::new(Mutex::new(Vec::<(u64, u64)>::new()));
    let reader = {
        let arrivals = arrivals.clone();
        tokio::spawn(async move {
            while let Some(Ok(Message::Text(text))) = stream.next().await {
                let text = text.as_str();
                if !text.contains("\"message_added\"") {
                    continue;
                }
                let sent =
                    text.split_once("\"body\":\"t:").and_then(|(_, rest)| rest.split('"').next()?.parse::<u128>().ok());
                if let Some(sent) = sent {
                    let now = epoch.elapsed().as_nanos();
                    let delay = u64::try_from(now.saturating_sub(sent)).unwrap_or(u64::MAX);
                    let arrived = u64::try_from(now).unwrap_or(u64::MAX);
                    arrivals.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((delay, arrived));
                }
            }
        })
    };

    let secret = AppSecret::new(APP_SECRET).map_err(|error| anyhow::anyhow!("{error}"))?;
    let secret = Arc::new(secret);
    let url = format!("{base}/webhooks/whatsapp");
    let mut sequence: u64 = 0;
    println!("rate/s  accepted/s  applied/s  answer p50/p99 ms  webhook→socket p50/p99/p99.9 ms  received");
    let mut applied_rates = Vec::with_capacity(args.rates.len());
    for &rate in &args.rates {
        arrivals.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
        let total = u64::from(rate) * u64::from(args.seconds);
        let gate = Arc::new(Semaphore::new(args.in_flight));
        let answers = Arc::new(Mutex::new(Vec::<u64>::with_capacity(total as usize)));
        let started = Instant::now();
        let first_post = epoch.elapsed().as_nanos();
        let mut tasks = Vec::with_capacity(total as usize);
        // Paced in 10 ms slices: rate/100 webhooks at the start of each slice.
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        let per_tick = (f64::from(rate) / 100.0).max(1.0);
        let mut due = 0.0_f64;
        let mut sent = 0_u64;
        while sent < total {
            tick.tick().await;
            due += per_tick;
            while (sent as f64) < due && sent < total {
                sequence += 1;
                sent += 1;
                let customer = sequence % u64::from(args.customers.max(1));
                let posted = epoch.elapsed().as_nanos();
                let body = webhook(customer, sequence, posted);
                let signature = sign(&secret, body.as_bytes());
                let (http, url, gate, answers) = (http.clone(), url.clone(), gate.clone(), answers.clone());
                tasks.push(tokio::spawn(async move {
                    let _permit = gate.acquire_owned().await?;
                    let asked = Instant::now();
                    let response = http
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("x-hub-signature-256", signature)
                        .body(body)
                        .send()
                        .await?;
                    let accepted = response.status().is_success();
                    if accepted {
                        let took = u64::try_from(asked.elapsed().as_nanos()).unwrap_or(u64::MAX);
                        answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(took);
                    }
                    anyhow::Ok(accepted)
                }));
            }
        }
        let mut accepted = 0_u64;
        for task in tasks {
            if task.await?? {
                accepted += 1;
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        // Wait (bounded) for the socket to receive every accepted webhook's message.
        let deadline = Instant::now() + Duration::from_secs(30);
        while (arrivals.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len() as u64) < accepted
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut answer_times = std::mem::take(&mut *answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        answer_times.sort_unstable();
        let received = std::mem::take(&mut *arrivals.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        let last_arrival = received.iter().map(|(_, arrived)| *arrived).max().unwrap_or_default();
        let applying = (u128::from(last_arrival).saturating_sub(first_post)) as f64 / 1e9;
        let applied = if applying > 0.0 { received.len() as f64 / applying } else { 0.0 };
        applied_rates.push(applied);
        let mut delays: Vec<u64> = received.into_iter().map(|(delay, _)| delay).collect();
        delays.sort_unstable();
        println!(
            "{rate:>6}  {:>10.0}  {applied:>9.0}  {:>7.1} / {:<7.1}  {:>7.1} / {:.1} / {:.1}  {}/{accepted}",
            accepted as f64 / elapsed,
            percentile_ms(&answer_times, 0.5),
            percentile_ms(&answer_times, 0.99),
            percentile_ms(&delays, 0.5),
            percentile_ms(&delays, 0.99),
            percentile_ms(&delays, 0.999),
            delays.len(),
        );
    }
    reader.abort();
    server.kill().await.context("stopping the server")?;
    Ok(applied_rates)
}

/// One inbound text message, carrying its posting time.
fn webhook(customer: u64, sequence: u64, posted_nanos: u128) -> String {
    let wa_id = format!("1555{customer:07}");
    let name = format!("Customer {customer}");
    let body = format!("t:{posted_nanos}");
    text_webhook(&wa_id, &name, &format!("wamid.bench.{sequence}"), 1_767_258_000 + sequence, &body)
}
