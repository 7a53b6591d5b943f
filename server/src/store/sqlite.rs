//! SQLite, the default: one file under the data directory. Opens the pool and names what SQLite
//! does its own way ([`Sql`]); the queries are [`SqlStore`]'s.
//!
//! Pragmas are set explicitly on every connection: WAL (readers never block the writer),
//! `synchronous = NORMAL` (durable at each WAL checkpoint, safe against application crashes),
//! a busy timeout (writers queue instead of failing) and foreign keys (SQLite leaves them off).
//! Writing transactions begin on a one-connection pool of their own, so they take SQLite's write
//! lock in the order they asked for it.
//! Transactions that read before they write start with `BEGIN IMMEDIATE`, taking the single write
//! lock up front; a deferred transaction could fail to upgrade under WAL.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::Sqlite;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{Backend, Sql, SqlStore, StoreResult};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// The store on SQLite.
pub type SqliteStore = SqlStore<Sqlite>;

impl Sql for Sqlite {
    const BACKEND: Backend = Backend::Sqlite;
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    // Under `BEGIN IMMEDIATE` the transaction already holds SQLite's only write lock.
    const LOCK_CONVERSATION: &'static str = "SELECT last_seq FROM conversations WHERE id = $1";
    const LOCK_TEAM: &'static str = "SELECT id FROM teams WHERE id = $1";
    const LOCK_USER: &'static str = "SELECT id FROM users WHERE id = $1";
    // One writer at a time: two admin changes cannot overlap.
    const LOCK_ADMINS: Option<&'static str> = None;
    const LOCK_CONTACT: &'static str = "SELECT id FROM contacts WHERE id = $1";
    const SKIP_LOCKED: &'static str = "";
    const COUNTER_SHARDS: i64 = 1;
    const GROUP_CLAIMS: bool = true;
    const WRITERS_SERIALISED: bool = true;
    const FOR_UPDATE: &'static str = "";
    const FOR_NO_KEY_UPDATE: &'static str = "";
    const TEXT_AGGREGATE: &'static str = "group_concat";

    fn rows_affected(result: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        result.rows_affected()
    }
}

/// Opens (creating if needed) the database file and applies pending migrations.
pub async fn open(path: &Path) -> StoreResult<SqliteStore> {
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options.clone()).await?;
    MIGRATOR.run(&pool).await?;
    // Writing transactions take turns on one connection, in the order they asked (the pool's
    // queue is fair), rather than polling for the write lock.
    let writer = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
    Ok(SqlStore::with_writer(pool, writer))
}
