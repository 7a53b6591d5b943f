//! What the generated-history benchmarks (`baton-search`, `baton-reports`) share: a deterministic
//! random source, the two databases as targets, and batched inserts of literal rows.

use sqlx::{Database, Executor, Pool, Postgres, Sqlite};

/// Rows per generated `INSERT`.
const BATCH: usize = 500;

/// A small deterministic generator (xorshift), so every run builds the same history.
pub struct Random(pub u64);

impl Random {
    pub fn draw(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.draw() % n.max(1)
    }
}

/// What a generator needs of a database: which one it is (their SQL differs a little).
pub trait Target: Database {
    const POSTGRES: bool;
}

impl Target for Sqlite {
    const POSTGRES: bool = false;
}

impl Target for Postgres {
    const POSTGRES: bool = true;
}

/// Inserts `rows`, `BATCH` per statement, each written by `row` as a `(…)` tuple of literals.
pub async fn insert<DB: Target, T>(
    pool: &Pool<DB>,
    head: &str,
    rows: impl Iterator<Item = T>,
    mut row: impl FnMut(T) -> String,
) -> anyhow::Result<()>
where
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
{
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        let values: Vec<String> = rows.by_ref().take(BATCH).map(&mut row).collect();
        let statement = format!("{head} VALUES {}", values.join(", "));
        sqlx::raw_sql(&statement).execute(pool).await?;
    }
    Ok(())
}
