//! The one SQL implementation of every store trait, [`SqlStore`], written once for both
//! databases: each resource's queries in one file here, as plain SQL in plain Rust.
//!
//! The SQL uses `$N` placeholders, which PostgreSQL and sqlx's SQLite driver both accept, and
//! only what both databases speak (`RETURNING`, `ON CONFLICT`, `TRUE`/`FALSE`). What differs is
//! named by [`Sql`], implemented in `sqlite.rs` and `postgres.rs`: how a writing transaction
//! starts, how a conversation's row is locked, and how admin changes are serialised.
//!
//! **The bounds.** Each `impl` block here is generic over `DB: Sql` and repeats one `where` list:
//! what sqlx needs to run these queries on `DB` (executors, arguments, and the column types Baton
//! uses: `i64`, `bool`, text and bytes). Rust does not yet imply a trait's `where` clauses from the
//! trait (rust-lang/rust#20671), so the list cannot live on [`Sql`]; it is the same list in every
//! block, and the compiler checks it against both databases.

mod accounts;
mod automation;
mod bot;
mod canned;
mod claims;
mod contacts;
mod conversations;
mod csat;
mod drafts;
mod follow_ups;
mod handovers;
mod inbound_set;
mod labels;
mod messages;
mod notes;
mod outbox;
mod queues;
mod report_counts;
mod report_levels;
mod report_reads;
mod reports;
mod routing;
mod rows;
mod rules;
mod search;
mod statuses;
mod teams;
mod term_stats;
mod webhooks;

use sqlx::{Database, Pool, Transaction};

use super::conversations::ClaimOutcome;
use super::group_commit::GroupCommit;
use super::{Backend, StoreError, StoreResult};

/// What differs between the databases, as SQL.
pub trait Sql: Database + sqlx::database::HasStatementCache {
    const BACKEND: Backend;
    /// Starts a transaction that reads and then writes.
    const BEGIN_WRITE: &'static str;
    /// Reads a conversation's `last_seq` and holds its row until commit; `$1` is the id.
    const LOCK_CONVERSATION: &'static str;
    /// Reads a team's id and holds its row until commit; `$1` is the id.
    const LOCK_TEAM: &'static str;
    /// Reads a user's id and holds their row until commit; `$1` is the id. Taken by routing
    /// before it counts what the user holds, so two teams cannot both give them their last slot.
    const LOCK_USER: &'static str;
    /// Reads a contact's id and holds their row until commit; `$1` is the id. Taken before
    /// counting what automation sent them, so two conversations' jobs cannot both pass the cap.
    const LOCK_CONTACT: &'static str;
    /// Run first in a transaction that may change who is an active admin, so that two such
    /// changes cannot each see the other's admin and both commit; `None` when the database
    /// serialises writers anyway.
    const LOCK_ADMINS: Option<&'static str>;
    /// Ends a `SELECT` whose rows the transaction takes for itself: rows another transaction has
    /// locked are passed over, not waited for (so several nodes take different jobs).
    const SKIP_LOCKED: &'static str;
    /// Rows a hot counter is spread over, so that concurrent writers do not queue on one row's
    /// lock until commit; 1 where writers are serialised anyway.
    const COUNTER_SHARDS: i64;
    /// Whether claims asked for at once share transactions ([`group_commit`](super::group_commit)).
    /// Only where writers are serialised anyway: where they run side by side, a batch holding
    /// several conversations' locks deadlocks with writers that lock a conversation and then a
    /// shared row (the report counters), while single claims already commit in parallel.
    const GROUP_CLAIMS: bool;
    /// Whether one write transaction runs at a time (SQLite's one write lock, taken at `BEGIN`):
    /// then what a write transaction read stays true until it commits, and a check made in it
    /// (a message not stored yet) cannot be overtaken by another writer's commit.
    const WRITERS_SERIALISED: bool;
    /// Ends a `SELECT` whose rows the transaction then changes: it holds them until commit (empty
    /// where writers are serialised anyway).
    const FOR_UPDATE: &'static str;
    /// [`Sql::FOR_UPDATE`] for rows that foreign keys reference (contacts): it holds them from
    /// other writers without blocking the `KEY SHARE` a foreign key's check takes.
    const FOR_NO_KEY_UPDATE: &'static str;
    /// The aggregate that joins a group's texts, as `NAME(text, separator)`.
    const TEXT_AGGREGATE: &'static str;

    /// How many rows a statement changed (sqlx has no trait for it).
    fn rows_affected(result: &Self::QueryResult) -> u64;
}

/// The store on database `DB`: a pool of its connections.
pub struct SqlStore<DB: Database> {
    pool: Pool<DB>,
    /// Where every write runs (transactions through [`SqlStore::write_transaction`], single
    /// statements on it directly): the pool itself on PostgreSQL; on SQLite one connection of its
    /// own, so writers queue in order for SQLite's one write lock instead of polling for it
    /// (SQLite's busy handler is not fair: under a burst one writer could lose every time until
    /// its timeout). Reads stay on `pool`.
    writer: Pool<DB>,
    /// How common words are in the search index, as PostgreSQL last counted them.
    term_stats: term_stats::TermStats,
    /// Claims taken at the same moment share transactions (a shift's first keystrokes), where
    /// [`Sql::GROUP_CLAIMS`].
    claims: GroupCommit<claims::ClaimRequest, ClaimOutcome>,
}

impl<DB: Sql> SqlStore<DB> {
    pub(super) fn new(pool: Pool<DB>) -> Self {
        Self::with_writer(pool.clone(), pool)
    }

    /// A store whose writing transactions begin on `writer` ([`SqlStore::writer`]).
    pub(super) fn with_writer(pool: Pool<DB>, writer: Pool<DB>) -> Self {
        SqlStore { pool, writer, term_stats: term_stats::TermStats::default(), claims: GroupCommit::new(1) }
    }

    /// The pool, for tests that look beneath the store.
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    /// A transaction that reads before it writes ([`Sql::BEGIN_WRITE`]).
    async fn write_transaction(&self) -> StoreResult<Transaction<'static, DB>> {
        Ok(self.writer.begin_with(DB::BEGIN_WRITE).await?)
    }
}

/// `count` numbered parameters from `$first`, for an `IN (…)` list or a row of `VALUES`:
/// `$3, $4, $5`.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|number| format!("${number}")).collect::<Vec<_>>().join(", ")
}

/// `rows` rows of `columns` parameters each, numbered from `$first`: `($1, $2), ($3, $4)`.
fn value_rows(first: usize, rows: usize, columns: usize) -> String {
    (0..rows).map(|row| format!("({})", placeholders(first + row * columns, columns))).collect::<Vec<_>>().join(", ")
}

/// Whether a statement failed on a unique constraint.
fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// `error`, or `taken` if it is a unique violation.
fn unique_as(error: sqlx::Error, taken: StoreError) -> StoreError {
    if is_unique_violation(&error) { taken } else { StoreError::Database(error) }
}
