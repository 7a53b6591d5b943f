//! `baton-search`: the search benchmark. Generates a history — by default 1,000,000 messages
//! over 200,000 conversations of 100,000 customers, spread over 90 days — straight into a fresh
//! database (SQLite, or PostgreSQL with `--postgres`), with the search documents and terms Baton
//! itself writes (`baton_shared::search`), then starts a real `baton serve` on it and times
//! `GET /api/search` and `GET /api/contacts` as a supervisor would send them, and prints:
//!
//! - p50 / p95 / max for **common words**, **rare words**, **digit runs** of a customer's number,
//!   and **filtered** queries (a common word, open conversations, customer messages, the last 30
//!   days), each beside the floor of the same run: `GET /api/conversations/{id}` answered from
//!   the same server (a request that does one indexed lookup);
//! - the **index size** per million messages (SQLite: the FTS5 tables' pages; PostgreSQL: the
//!   search tables and their indexes);
//! - the **cost of the index on ingest**: `baton-ingest`'s path (signed webhooks, applied and on a
//!   supervisor's socket) is not repeated here; instead the generator's own insert rate is
//!   measured with and without the search documents, in the same run.
//!
//! Client and server share the machine's cores. Build with `--release`.

use std::time::Instant;

use anyhow::Context;
use baton_bench::history::{Random, Target, insert};
use baton_bench::{login, percentile_ms, start_server, time_gets};
use baton_shared::search::{index_terms, tsvector_literal};
use clap::Parser;
use sqlx::{ColumnIndex, Decode, Executor, IntoArguments, Pool, Type};

#[derive(Parser)]
#[command(about = "Search latency (p50/p95) and index size over a generated history, against a real Baton")]
struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    messages: u32,
    #[arg(long, default_value_t = 200_000)]
    conversations: u32,
    #[arg(long, default_value_t = 100_000)]
    contacts: u32,
    /// Queries of each kind.
    #[arg(long, default_value_t = 200)]
    queries: usize,
    /// Use a fresh PostgreSQL database on this server (created and dropped here), e.g.
    /// `postgres://root@127.0.0.1:5432`. Default: SQLite.
    #[arg(long)]
    postgres: Option<String>,
    /// The `baton` binary to start (default: beside this one).
    #[arg(long)]
    baton: Option<std::path::PathBuf>,
    /// Keep the database afterwards (to look at its plans): its name, or the SQLite file's folder, is printed.
    #[arg(long)]
    keep: bool,
}

const ADMIN_EMAIL: &str = "search-admin@bench.baton";
const DAY_MS: i64 = 86_400_000;

/// Words every customer uses: some in most messages, most in a few percent of them.
const COMMON: [&str; 40] = [
    "pedido",
    "entrega",
    "pagamento",
    "cartão",
    "obrigado",
    "olá",
    "ajuda",
    "problema",
    "produto",
    "prazo",
    "troca",
    "devolução",
    "nota",
    "fiscal",
    "boleto",
    "pix",
    "cancelar",
    "endereço",
    "frete",
    "atraso",
    "order",
    "refund",
    "delivery",
    "invoice",
    "please",
    "thanks",
    "account",
    "password",
    "login",
    "app",
    "store",
    "price",
    "discount",
    "coupon",
    "size",
    "color",
    "stock",
    "warranty",
    "support",
    "status",
];
const FIRST: [&str; 16] = [
    "Ana", "Bruno", "Carla", "Diego", "Elisa", "Fábio", "Gabi", "Hugo", "Íris", "João", "Karen", "Lucas", "Marta",
    "Nuno", "Olga", "Paulo",
];
const LAST: [&str; 12] =
    ["Silva", "Souza", "Lima", "Costa", "Pereira", "Alves", "Rocha", "Dias", "Mendes", "Nunes", "Ramos", "Conceição"];

/// Message `n`'s text: common words (skewed: the first few are in most messages), one rare word
/// (`zq` + a number, each in one message in ten thousand) in a tenth of them, an order number in a
/// fifth.
fn message_text(random: &mut Random, n: u32) -> String {
    let mut words = Vec::with_capacity(12);
    for _ in 0..(6 + random.below(6)) {
        // Squared: index 0 far more often than index 39.
        let pick = random.below(40) * random.below(40) / 40;
        words.push(COMMON[pick as usize].to_owned());
    }
    if n % 10 == 3 {
        words.push(format!("zq{}", random.below(100_000)));
    }
    if n % 5 == 1 {
        words.push(format!("#{}", 100_000 + random.below(900_000)));
    }
    words.join(" ")
}

fn wa_id(contact: u32) -> String {
    format!("5511{:09}", 900_000_000 + u64::from(contact) * 7 % 100_000_000)
}

/// `text` as an SQL string literal (the generated values are Baton's own; quotes are doubled
/// all the same).
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

struct Generated {
    /// Seconds spent inserting messages, and their search documents.
    messages_secs: f64,
    documents_secs: f64,
    /// What the documents and their index added to the database.
    index_bytes: i64,
}

async fn generate<DB: Target>(args: &Args, pool: &Pool<DB>) -> anyhow::Result<Generated>
where
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> i64: Decode<'r, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    let postgres = DB::POSTGRES;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as i64;
    let start = now - 90 * DAY_MS;
    let mut random = Random(0x5eed_cafe_f00d_beef);
    let overriding = if postgres { " OVERRIDING SYSTEM VALUE" } else { "" };

    let began = Instant::now();
    let contact_head = if postgres {
        "INSERT INTO contacts (id, wa_id, profile_name, created_at, last_inbound_at, terms, vector) OVERRIDING SYSTEM VALUE "
    } else {
        "INSERT INTO contacts (id, wa_id, profile_name, created_at, last_inbound_at, terms) "
    };
    insert(pool, contact_head, 1..=args.contacts, |id| {
        let name = format!("{} {}", FIRST[(id % 16) as usize], LAST[(id / 16 % 12) as usize]);
        let terms = index_terms(&name);
        let vector = if postgres { format!(", {}::tsvector", quote(&tsvector_literal(&terms))) } else { String::new() };
        format!(
            "({id}, {}, {}, {start}, {}, {}{vector})",
            quote(&wa_id(id)),
            quote(&name),
            now - i64::from(id % 90) * DAY_MS,
            quote(&terms.join(" "))
        )
    })
    .await?;
    eprintln!("  {} contacts in {:.1} s", args.contacts, began.elapsed().as_secs_f64());

    let began = Instant::now();
    let per = args.messages / args.conversations.max(1);
    insert(
        pool,
        &format!(
            "INSERT INTO conversations (id, contact_id, status, last_seq, last_message_at, created_at, updated_at){overriding} "
        ),
        1..=args.conversations,
        |id| {
            let at = start + i64::from(id) * (90 * DAY_MS) / i64::from(args.conversations);
            let status = match id % 20 {
                0..=2 => "open",
                3 => "pending",
                _ => "resolved",
            };
            let contact = (id - 1) % args.contacts + 1;
            format!("({id}, {contact}, '{status}', {per}, {}, {at}, {at})", at + i64::from(per) * 60_000)
        },
    )
    .await?;
    eprintln!("  {} conversations in {:.1} s", args.conversations, began.elapsed().as_secs_f64());

    // Messages, then their documents: each timed on its own, so the index's share of the
    // insert is known.
    let texts: Vec<String> = (0..args.messages).map(|n| message_text(&mut random, n)).collect();
    let placed = |n: u32| {
        let conversation = n / per.max(1) + 1;
        let at = start
            + i64::from(conversation) * (90 * DAY_MS) / i64::from(args.conversations)
            + i64::from(n % per) * 60_000;
        (i64::from(conversation.min(args.conversations)), at, if n.is_multiple_of(2) { "inbound" } else { "outbound" })
    };
    let began = Instant::now();
    insert(
        pool,
        &format!(
            "INSERT INTO messages (id, conversation_id, seq, direction, kind, body, wa_message_id, status, created_at, sent_at){overriding} "
        ),
        0..args.messages,
        |n| {
            let (conversation, at, direction) = placed(n);
            let status = if direction == "inbound" { "received" } else { "read" };
            format!(
                "({}, {conversation}, {}, '{direction}', 'text', {}, 'wamid.bench.{n}', '{status}', {at}, {at})",
                i64::from(n) + 1,
                n % per + 1,
                quote(&texts[n as usize])
            )
        },
    )
    .await?;
    let messages_secs = began.elapsed().as_secs_f64();
    let before = database_bytes(pool).await?;
    eprintln!("  {} messages in {messages_secs:.1} s", args.messages);
    let began = Instant::now();
    let head = if postgres {
        "INSERT INTO search_docs (kind, ref_id, conversation_id, direction, at, terms, vector)"
    } else {
        "INSERT INTO search_docs (kind, ref_id, conversation_id, direction, at, terms)"
    };
    insert(pool, head, 0..args.messages, |n| {
        let (conversation, at, direction) = placed(n);
        let terms = index_terms(&texts[n as usize]);
        let vector = if postgres { format!(", {}::tsvector", quote(&tsvector_literal(&terms))) } else { String::new() };
        format!(
            "('message', {}, {conversation}, '{direction}', {at}, {}{vector})",
            i64::from(n) + 1,
            quote(&terms.join(" "))
        )
    })
    .await?;
    let documents_secs = began.elapsed().as_secs_f64();
    let after = database_bytes(pool).await?;
    eprintln!("  {} search documents in {documents_secs:.1} s", args.messages);
    if postgres {
        for table in ["contacts", "conversations", "messages"] {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            ))
            .execute(pool)
            .await?;
        }
    }
    // As a running database is: analyzed, and (PostgreSQL) its GIN indexes' pending entries
    // merged, as autovacuum does — a bulk load leaves them all pending, to be scanned by every
    // search until then.
    sqlx::query(if postgres { "VACUUM ANALYZE" } else { "ANALYZE" }).execute(pool).await?;
    Ok(Generated { messages_secs, documents_secs, index_bytes: after - before })
}

/// The database's size in bytes.
async fn database_bytes<DB: Target>(pool: &Pool<DB>) -> anyhow::Result<i64>
where
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> i64: Decode<'r, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    let sql = if DB::POSTGRES {
        "SELECT CAST(pg_database_size(current_database()) AS BIGINT)"
    } else {
        "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
    };
    Ok(sqlx::query_scalar(sql).fetch_one(pool).await?)
}

fn line(what: &str, nanos: &[u64], floor: &[u64]) {
    println!(
        "{what:<34} p50 {:>7.2} ms   p95 {:>7.2} ms   max {:>7.2} ms   (floor p50 {:.2}, p95 {:.2})",
        percentile_ms(nanos, 0.5),
        percentile_ms(nanos, 0.95),
        percentile_ms(nanos, 1.0),
        percentile_ms(floor, 0.5),
        percentile_ms(floor, 0.95),
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let baton = baton_bench::baton_binary(args.baton.as_deref())?;
    let data = tempfile::tempdir()?;
    let mut env = baton_bench::whatsapp_env();
    let (url, database) =
        baton_bench::history_database(args.postgres.as_deref(), "baton_search", data.path(), "search.db", &mut env)
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
    eprintln!(
        "generating {} messages, {} conversations, {} contacts ({})…",
        args.messages,
        args.conversations,
        args.contacts,
        if postgres { "PostgreSQL" } else { "SQLite" }
    );
    let generated = if postgres {
        let pool = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(url).await.context("PostgreSQL")?;
        let generated = generate(args, &pool).await?;
        pool.close().await;
        generated
    } else {
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
        let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
        let generated = generate(args, &pool).await?;
        pool.close().await;
        generated
    };
    let bytes = generated.index_bytes;

    let (mut server, _pid, base) = start_server(baton, data, env).await?;
    let http = reqwest::Client::new();
    let cookie = login(&http, &base, ADMIN_EMAIL).await?;
    let mut random = Random(42);
    let n = args.queries;
    let common: Vec<String> = (0..n).map(|i| format!("/api/search?q={}", encode(COMMON[i % 8]))).collect();
    let rare: Vec<String> = (0..n).map(|_| format!("/api/search?q=zq{}", random.below(100_000))).collect();
    let digits: Vec<String> = (0..n)
        .map(|_| {
            let number = wa_id(1 + random.below(u64::from(args.contacts)) as u32);
            format!("/api/contacts?q={}&limit=20", &number[6..11])
        })
        .collect();
    let month_ago =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as i64 - 30 * DAY_MS;
    let filtered: Vec<String> = (0..n)
        .map(|i| format!("/api/search?q={}&status=open&direction=inbound&from={month_ago}", encode(COMMON[i % 20])))
        .collect();
    let floor: Vec<String> =
        (0..n).map(|_| format!("/api/conversations/{}", 1 + random.below(u64::from(args.conversations)))).collect();
    // Warm the caches as a day's use would.
    time_gets(&http, &base, &cookie, &common[..n.min(20)]).await?;
    let floor = time_gets(&http, &base, &cookie, &floor).await?;
    let results = [
        ("common words (search)", time_gets(&http, &base, &cookie, &common).await?),
        ("rare words (search)", time_gets(&http, &base, &cookie, &rare).await?),
        ("digit runs (contacts)", time_gets(&http, &base, &cookie, &digits).await?),
        ("filtered: open, inbound, 30 days", time_gets(&http, &base, &cookie, &filtered).await?),
    ];
    let _ = server.kill().await;

    println!(
        "\nbaton-search — {} messages, {} conversations, {} contacts, {}; {n} queries of each kind",
        args.messages,
        args.conversations,
        args.contacts,
        if postgres { "PostgreSQL" } else { "SQLite" }
    );
    for (what, nanos) in &results {
        line(what, nanos, &floor);
    }
    let per_million = bytes as f64 * 1_000_000.0 / f64::from(args.messages.max(1)) / 1_048_576.0;
    println!("index size: {:.0} MiB in all, {per_million:.0} MiB per million messages", bytes as f64 / 1_048_576.0);
    let rate = |secs: f64| f64::from(args.messages) / secs;
    println!(
        "insert: messages alone {:.0}/s; with their search documents {:.0}/s (the index costs {:.2}× the time of the messages)",
        rate(generated.messages_secs),
        rate(generated.messages_secs + generated.documents_secs),
        generated.documents_secs / generated.messages_secs
    );
    Ok(())
}

/// `text` for a query string.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| if byte.is_ascii_alphanumeric() { char::from(byte).to_string() } else { format!("%{byte:02X}") })
        .collect()
}
