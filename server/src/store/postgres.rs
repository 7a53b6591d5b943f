//! PostgreSQL, selected by `BATON_DATABASE_URL=postgres://…` when a team outgrows one machine.
//! Opens the pool and names what PostgreSQL does its own way ([`Sql`]); the queries are
//! [`SqlStore`]'s.

use std::time::Duration;

use sqlx::Postgres;
use sqlx::postgres::PgPoolOptions;

use super::{Backend, Sql, SqlStore, StoreResult};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// The store on PostgreSQL.
pub type PostgresStore = SqlStore<Postgres>;

impl Sql for Postgres {
    const BACKEND: Backend = Backend::Postgres;
    const BEGIN_WRITE: &'static str = "BEGIN";
    // The row lock serialises every change to one conversation, so seqs are assigned without
    // gaps and in commit order.
    const LOCK_CONVERSATION: &'static str = "SELECT last_seq FROM conversations WHERE id = $1 FOR UPDATE";
    // `NO KEY UPDATE`: these rows are referenced by foreign keys (a conversation's team, an
    // event's actor), whose checks take `KEY SHARE` on them — which `FOR UPDATE` would block, so a
    // routing step holding a team would deadlock with a transaction touching one of its
    // conversations. Two lockers still exclude each other.
    const LOCK_TEAM: &'static str = "SELECT id FROM teams WHERE id = $1 FOR NO KEY UPDATE";
    const LOCK_USER: &'static str = "SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE";
    // A transaction-scoped advisory lock ("baton:admins" as a key): under READ COMMITTED two
    // concurrent demotions could each still see the other admin and both commit.
    const LOCK_ADMINS: Option<&'static str> = Some("SELECT pg_advisory_xact_lock(7089075310399939693)");
    const LOCK_CONTACT: &'static str = "SELECT id FROM contacts WHERE id = $1 FOR NO KEY UPDATE";
    const SKIP_LOCKED: &'static str = "FOR UPDATE SKIP LOCKED";
    const COUNTER_SHARDS: i64 = 4;
    const GROUP_CLAIMS: bool = false;
    const WRITERS_SERIALISED: bool = false;
    const FOR_UPDATE: &'static str = "FOR UPDATE";
    const FOR_NO_KEY_UPDATE: &'static str = "FOR NO KEY UPDATE";
    const TEXT_AGGREGATE: &'static str = "string_agg";

    fn rows_affected(result: &sqlx::postgres::PgQueryResult) -> u64 {
        result.rows_affected()
    }
}

/// Connects and applies pending migrations.
pub async fn open(url: &str) -> StoreResult<PostgresStore> {
    let pool = PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
    MIGRATOR.run(&pool).await?;
    Ok(SqlStore::new(pool))
}
