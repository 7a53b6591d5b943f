//! `baton-reports`: the reports benchmark. Generates a history's report facts — by default
//! 1,000,000 messages over 200,000 conversations handled by 200 agents in 5 teams across 90 days
//! — straight into a fresh database (SQLite, or PostgreSQL with `--postgres`), shaped as Baton's
//! own fold records them (`server/src/reports/track.rs`: a count per event in its quarter hour,
//! team, person, label and shard; a span per first response, next response and resolution; agent
//! load per quarter hour; each agent's time online, a nine-hour shift a day), then
//! starts a real `baton serve` on it and times what the Reports page asks, as a supervisor: the
//! overview and the per-agent table for 30 and for 90 days (in a time zone, so days are local),
//! and a team's 30 days, each beside the floor of the same run (`GET /api/conversations/{id}`).
//!
//! Client and server share the machine's cores. Build with `--release`.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Context;
use baton_bench::history::{Random, Target, insert};
use baton_bench::{login, percentile_ms, start_server, time_gets};
use clap::Parser;
use sqlx::{Executor, Pool};

#[derive(Parser)]
#[command(about = "Reports latency (p50/p95) over a generated history, against a real Baton")]
struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    messages: u32,
    #[arg(long, default_value_t = 200_000)]
    conversations: u32,
    #[arg(long, default_value_t = 200)]
    agents: u32,
    /// Requests of each kind.
    #[arg(long, default_value_t = 50)]
    queries: usize,
    /// Use a fresh PostgreSQL database on this server (created and dropped here), e.g.
    /// `postgres://root@127.0.0.1:5432`. Default: SQLite.
    #[arg(long)]
    postgres: Option<String>,
    /// Keep the generated database (SQLite: its folder; PostgreSQL: its name; printed) to look
    /// into afterwards.
    #[arg(long)]
    keep: bool,
    /// The `baton` binary to start (default: beside this one).
    #[arg(long)]
    baton: Option<std::path::PathBuf>,
}

const ADMIN_EMAIL: &str = "reports-admin@bench.baton";
const DAY_MS: i64 = 86_400_000;
const MINUTE_MS: i64 = 60_000;
const BUCKET_MS: i64 = 15 * MINUTE_MS;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const TEAMS: u32 = 5;
const LABELS: [&str; 10] = ["billing", "vip", "refund", "delivery", "bug", "sales", "urgent", "return", "b2b", "new"];
/// The fold's rows per hot count key (`Sql::COUNTER_SHARDS`): PostgreSQL's, SQLite's.
const SHARDS: (i64, i64) = (4, 1);

/// A count's key: bucket, metric, team, agent, label, shard.
type CountKey = (i64, &'static str, i64, i64, &'static str, i64);

async fn generate<DB: Target>(args: &Args, pool: &Pool<DB>, now: i64) -> anyhow::Result<()>
where
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
{
    let began = Instant::now();
    let overriding = if DB::POSTGRES { " OVERRIDING SYSTEM VALUE" } else { "" };
    let start = now - 90 * DAY_MS;
    let mut random = Random(0x5eed_cafe_f00d_beef);
    // Agents (ids 1000…), teams, customers and conversations: what the facts refer to.
    let agents: Vec<String> = (0..args.agents)
        .map(|n| {
            let id = 1000 + n;
            format!("({id}, 'agent{n}@bench.baton', 'Agent {n:03}', 'agent', '!', FALSE, {start}, {start})")
        })
        .collect();
    insert(
        pool,
        &format!(
            "INSERT INTO users (id, email, name, role, password_hash, disabled, created_at, updated_at){overriding}"
        ),
        agents.into_iter(),
        |row| row,
    )
    .await?;
    let teams: Vec<String> =
        (1..=TEAMS).map(|id| format!("({id}, 'Team {id}', 'team {id}', 'round_robin', {start}, {start})")).collect();
    insert(
        pool,
        &format!("INSERT INTO teams (id, name, name_key, model, created_at, updated_at){overriding}"),
        teams.into_iter(),
        |row| row,
    )
    .await?;
    // With their search terms, as Baton keeps them (else its start would index them all).
    let contacts: Vec<String> = (1..=args.conversations / 2)
        .map(|id| format!("({id}, '55119{id:08}', 'Customer {id}', {start}, 'customer {id}')"))
        .collect();
    insert(
        pool,
        &format!("INSERT INTO contacts (id, wa_id, profile_name, created_at, terms){overriding}"),
        contacts.into_iter(),
        |row| row,
    )
    .await?;
    let conversations: Vec<String> = (1..=args.conversations)
        .map(|id| {
            let at = start + i64::from(id) * 90 * DAY_MS / i64::from(args.conversations);
            let contact = (id - 1) % (args.conversations / 2).max(1) + 1;
            format!("({id}, {contact}, 'resolved', 5, {at}, {at}, {at})")
        })
        .collect();
    insert(pool,
        &format!(
            "INSERT INTO conversations (id, contact_id, status, last_seq, last_message_at, created_at, updated_at){overriding}"
        ),
        conversations.into_iter(), |row| row,
    )
    .await?;

    // The facts, as the fold records them: per conversation, its creation, its messages (in and
    // out, one in two each), a first response, next responses, its resolution.
    let per = i64::from(args.messages / args.conversations.max(1)).max(2);
    let mut counts: HashMap<CountKey, i64> = HashMap::new();
    let mut spans: Vec<Span> = Vec::new();
    for id in 1..=i64::from(args.conversations) {
        let opened = start + id * 90 * DAY_MS / i64::from(args.conversations);
        // An agent works in their own team, and one conversation in ten in another.
        let agent = 1000 + random.below(u64::from(args.agents)) as i64;
        let team = if random.below(10) == 0 {
            1 + random.below(u64::from(TEAMS)) as i64
        } else {
            1 + agent % i64::from(TEAMS)
        };
        let label = (random.below(10) < 3).then(|| LABELS[random.below(LABELS.len() as u64) as usize]);
        let shard = id % if DB::POSTGRES { SHARDS.0 } else { SHARDS.1 };
        let mut count = |at: i64, metric: &'static str, agent: i64| {
            let bucket = at - at.rem_euclid(BUCKET_MS);
            for label in std::iter::once("").chain(label) {
                *counts.entry((bucket, metric, team, agent, label, shard)).or_default() += 1;
            }
        };
        count(opened, "created", 0);
        let mut at = opened;
        let mut answered = false;
        for n in 0..per {
            at += MINUTE_MS * (1 + random.below(20) as i64);
            if n % 2 == 0 {
                count(at, "messages_in", agent);
            } else {
                count(at, "messages_out", agent);
                let kind = if answered { "next_response" } else { "first_response" };
                let waited = MINUTE_MS * (1 + random.below(20) as i64);
                spans.push(Span { kind, conversation: id, from: at - waited, to: at, agent, team, label });
                answered = true;
            }
        }
        at += MINUTE_MS * (1 + random.below(60) as i64);
        count(at, "resolved", agent);
        spans.push(Span { kind: "resolution", conversation: id, from: opened, to: at, agent, team, label });
    }
    // The rollups, as the fold writes them beside the detail: per UTC hour and team (a column per
    // quarter hour), and per UTC day, team and person (a person's rows unsharded).
    let mut team_hours: HashMap<(i64, &str, i64, &str, i64), [i64; 4]> = HashMap::new();
    let mut day_counts: HashMap<(i64, &str, i64, i64, &str, i64), i64> = HashMap::new();
    let mut detail: HashMap<CountKey, i64> = HashMap::new();
    for ((bucket, metric, team, agent, label, shard), count) in counts {
        let own = if agent == 0 { shard } else { 0 };
        let hour = bucket - bucket.rem_euclid(HOUR_MS);
        let quarter = usize::try_from((bucket - hour) / BUCKET_MS)?;
        team_hours.entry((hour, metric, team, label, shard)).or_default()[quarter] += count;
        *day_counts.entry((bucket - bucket.rem_euclid(DAY_MS), metric, team, agent, label, own)).or_default() += count;
        *detail.entry((bucket, metric, team, agent, label, own)).or_default() += count;
    }
    let team_rows = team_hours.len();
    insert(
        pool,
        "INSERT INTO report_team_hours (hour, metric, team_id, label, shard, count_0, count_15, count_30, count_45)",
        team_hours.into_iter(),
        |((hour, metric, team, label, shard), [q0, q15, q30, q45])| {
            format!("({hour}, '{metric}', {team}, '{label}', {shard}, {q0}, {q15}, {q30}, {q45})")
        },
    )
    .await?;
    let day_rows = day_counts.len();
    insert(
        pool,
        "INSERT INTO report_day_counts (day, metric, team_id, agent_id, label, shard, count)",
        day_counts.into_iter(),
        |((day, metric, team, agent, label, shard), count)| {
            format!("({day}, '{metric}', {team}, {agent}, '{label}', {shard}, {count})")
        },
    )
    .await?;
    let rows: Vec<String> = detail
        .into_iter()
        .map(|((bucket, metric, team, agent, label, shard), count)| {
            format!("('{metric}', {bucket}, {team}, {agent}, '{label}', {shard}, {count})")
        })
        .collect();
    let count_rows = rows.len();
    insert(
        pool,
        "INSERT INTO report_counts (metric, bucket, team_id, agent_id, label, shard, count)",
        rows.into_iter(),
        |row| row,
    )
    .await?;
    // Agent load samples per quarter hour for everyone per team (what an overview reads; a
    // person's own rows are read only for their overview): a few open conversations each.
    let quarters = 90 * DAY_MS / BUCKET_MS;
    let load: Vec<String> = (0..quarters)
        .flat_map(|quarter| {
            let bucket = start + quarter * BUCKET_MS;
            (1..=i64::from(TEAMS)).map(move |team| format!("(0, {bucket}, {team}, {})", 20 + (quarter + team) % 30))
        })
        .collect();
    insert(pool, "INSERT INTO report_load (agent_id, bucket, team_id, conversations)", load.into_iter(), |row| row)
        .await?;
    // Time online: each agent on a nine-hour shift a day (starting at one of four hours), its
    // last quarter hour partly, available two thirds of the time.
    let presence: Vec<String> = (0..90)
        .flat_map(|day| {
            (0..i64::from(args.agents)).flat_map(move |n| {
                let shift = start - start.rem_euclid(DAY_MS) + day * DAY_MS + (6 + n % 4 * 3) * 3_600_000;
                (0..36).map(move |quarter| {
                    let online = if quarter == 35 { 7 * MINUTE_MS } else { BUCKET_MS };
                    format!("({}, {}, {online}, {})", shift + quarter * BUCKET_MS, 1000 + n, online * 2 / 3)
                })
            })
        })
        .collect();
    let presence_rows = presence.len();
    insert(
        pool,
        "INSERT INTO report_presence (bucket, agent_id, online_ms, available_ms)",
        presence.into_iter(),
        |row| row,
    )
    .await?;
    // Each shift within its UTC day: the day's rollup is the shift's sum.
    let shift_ms = (35 * BUCKET_MS + 7 * MINUTE_MS, 35 * (BUCKET_MS * 2 / 3) + 7 * MINUTE_MS * 2 / 3);
    let presence_days: Vec<String> = (0..90)
        .flat_map(|day| {
            let day = start - start.rem_euclid(DAY_MS) + day * DAY_MS;
            (0..i64::from(args.agents)).map(move |n| format!("({day}, {}, {}, {})", 1000 + n, shift_ms.0, shift_ms.1))
        })
        .collect();
    insert(
        pool,
        "INSERT INTO report_presence_days (day, agent_id, online_ms, available_ms)",
        presence_days.into_iter(),
        |row| row,
    )
    .await?;
    let span_rows = spans.len();
    // Per (day, label, kind, team, agent): how many, and their lengths as kept.
    type DaySpan<'a> = (i64, &'a str, &'static str, i64, i64);
    let mut day_spans: HashMap<DaySpan, (i64, String)> = HashMap::new();
    for span in &spans {
        for label in std::iter::once("").chain(span.label) {
            let day = span.to - span.to.rem_euclid(DAY_MS);
            let (count, lengths) = day_spans.entry((day, label, span.kind, span.team, span.agent)).or_default();
            *count += 1;
            let wall = span.to - span.from;
            lengths.push_str(&format!("{wall}/{} ", wall / 3));
        }
    }
    let day_span_rows = day_spans.len();
    insert(
        pool,
        "INSERT INTO report_day_spans (day, label, kind, team_id, agent_id, shard, count, durations)",
        day_spans.into_iter(),
        |((day, label, kind, team, agent), (count, lengths))| {
            format!("({day}, '{label}', '{kind}', {team}, {agent}, 0, {count}, '{lengths}')")
        },
    )
    .await?;
    insert(pool,
        "INSERT INTO report_spans (kind, conversation_id, started_at, ended_at, wall_ms, business_ms, agent_id, team_id, labels)",
        spans.into_iter(), |span| span.row(),
    )
    .await?;
    // Statistics for the planner, and (PostgreSQL) the load's dirty pages written out now rather
    // than by a checkpoint during the first requests timed.
    sqlx::raw_sql(if DB::POSTGRES { "VACUUM ANALYZE" } else { "ANALYZE" }).execute(pool).await?;
    if DB::POSTGRES {
        sqlx::raw_sql("CHECKPOINT").execute(pool).await?;
    }
    eprintln!(
        "  {count_rows} count rows ({team_rows} per team hour, {day_rows} per day), {span_rows} spans ({day_span_rows} day rows), \
         {presence_rows} quarter hours online for {} conversations in {:.1} s",
        args.conversations,
        began.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A generated span. Business hours: a third of the wall time, as a 9-to-5 week roughly makes it.
struct Span {
    kind: &'static str,
    conversation: i64,
    from: i64,
    to: i64,
    agent: i64,
    team: i64,
    label: Option<&'static str>,
}

impl Span {
    fn row(self) -> String {
        let Span { kind, conversation, from, to, agent, team, label } = self;
        let labels = label.map_or("[]".to_owned(), |label| format!("[\"{label}\"]"));
        format!(
            "('{kind}', {conversation}, {from}, {to}, {}, {}, {agent}, {team}, '{labels}')",
            to - from,
            (to - from) / 3
        )
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let baton = baton_bench::baton_binary(args.baton.as_deref())?;
    let data = tempfile::tempdir()?;
    let mut env = baton_bench::whatsapp_env();
    let (url, database) =
        baton_bench::history_database(args.postgres.as_deref(), "baton_reports", data.path(), "reports.db", &mut env)
            .await?;
    let outcome = run(&args, &baton, data.path(), &env, &url).await;
    baton_bench::drop_or_keep(database, data, args.keep).await?;
    outcome
}

async fn run(
    args: &Args,
    baton: &std::path::Path,
    data: &std::path::Path,
    env: &[(&str, String)],
    url: &str,
) -> anyhow::Result<()> {
    let postgres = args.postgres.is_some();
    // The schema, as `baton` migrates it.
    baton_bench::add_admin(baton, data, env, ADMIN_EMAIL).await?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as i64;
    eprintln!(
        "generating the facts of {} messages ({})…",
        args.messages,
        if postgres { "PostgreSQL" } else { "SQLite" }
    );
    if postgres {
        let pool = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(url).await.context("PostgreSQL")?;
        generate(args, &pool, now).await?;
        for table in ["users", "teams", "contacts", "conversations", "report_spans"] {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            ))
            .execute(&pool)
            .await?;
        }
        pool.close().await;
    } else {
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
        let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
        generate(args, &pool, now).await?;
        pool.close().await;
    }

    let (mut server, _pid, base) = start_server(baton, data, env).await?;
    let http = reqwest::Client::new();
    let cookie = login(&http, &base, ADMIN_EMAIL).await?;
    let n = args.queries;
    // Periods end at a local midnight, as the page asks for them (Berlin; the days before now).
    let midnight = now - now.rem_euclid(DAY_MS) - 3_600_000;
    let period = |days: i64| format!("from={}&to={midnight}&tz=Europe/Berlin", midnight - days * DAY_MS);
    let kinds = [
        ("overview, 30 days", format!("/api/reports/overview?{}", period(30))),
        ("agents table, 30 days", format!("/api/reports/agents?{}", period(30))),
        ("overview, one team, 30 days", format!("/api/reports/overview?{}&team=3", period(30))),
        ("overview, 90 days", format!("/api/reports/overview?{}", period(90))),
        ("agents table, 90 days", format!("/api/reports/agents?{}", period(90))),
    ];
    let floor: Vec<String> =
        (0..n).map(|i| format!("/api/conversations/{}", 1 + (i * 7919) % args.conversations as usize)).collect();
    time_gets(&http, &base, &cookie, &floor[..n.min(10)]).await?;
    let floor = time_gets(&http, &base, &cookie, &floor).await?;
    let mut results = Vec::new();
    for (what, path) in &kinds {
        let paths = vec![path.clone(); n];
        results.push((what, time_gets(&http, &base, &cookie, &paths).await?));
    }
    let _ = server.kill().await;

    println!(
        "\nbaton-reports — {} messages, {} conversations, {} agents, {} days, {}; {n} requests of each kind",
        args.messages,
        args.conversations,
        args.agents,
        90,
        if postgres { "PostgreSQL" } else { "SQLite" }
    );
    for (what, nanos) in results {
        println!(
            "{what:<30} p50 {:>8.2} ms   p95 {:>8.2} ms   max {:>8.2} ms   (floor p50 {:.2}, p95 {:.2})",
            percentile_ms(&nanos, 0.5),
            percentile_ms(&nanos, 0.95),
            percentile_ms(&nanos, 1.0),
            percentile_ms(&floor, 0.5),
            percentile_ms(&floor, 0.95),
        );
    }
    Ok(())
}
