//! The SQLite [`Store`]: the default, one file under the data directory.
//!
//! Pragmas are set explicitly on every connection: WAL (readers never block the writer),
//! `synchronous = NORMAL` (durable at each WAL checkpoint, safe against application crashes),
//! a busy timeout (writers queue instead of failing) and foreign keys (SQLite leaves them off).
//! Transactions that read before they write start with `BEGIN IMMEDIATE`, taking the single write
//! lock up front; a deferred transaction could fail to upgrade under WAL.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use baton_shared::UserId;
use baton_shared::api::{Role, User};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, Transaction};

use super::{
    AuditEntry, AuditRow, Backend, Credentials, CredentialsRow, NewUser, RETURNED_USER_COLUMNS, SessionRow,
    SessionUser, Store, StoreError, StoreResult, USER_COLUMNS, UserPatch, UserRow, audit_lines, map_unique_email,
    sort_users,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

// Under `BEGIN IMMEDIATE` the transaction already holds SQLite's only write lock.
super::conversation_queries::conversation_queries!(
    SqliteStore,
    sqlx::Sqlite,
    lock_conversation = "SELECT last_seq FROM conversations WHERE id = $1"
);
super::channel_queries::channel_queries!(SqliteStore, sqlx::Sqlite);
super::canned::canned_queries!(SqliteStore);
super::labels::label_queries!(SqliteStore);
super::conversation_reads::conversation_reads!(sqlx::Sqlite);
super::claim_queries::claim_queries!(sqlx::Sqlite);

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore { pool })
    }

    /// The pool, for tests that check the pragmas.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn write_transaction(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

async fn insert_audit(
    tx: &mut Transaction<'static, Sqlite>,
    now: i64,
    actor: Option<UserId>,
    action: &str,
    subject: &str,
    detail: &str,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO audit_log (at, actor_id, action, subject, detail) VALUES (?, ?, ?, ?, ?)")
        .bind(now)
        .bind(actor.map(|id| id.0))
        .bind(action)
        .bind(subject)
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn user_in(tx: &mut Transaction<'static, Sqlite>, id: UserId) -> StoreResult<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?"))
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(User::try_from).transpose()
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn create_user(&self, new: &NewUser, actor: Option<UserId>, now: i64) -> StoreResult<User> {
        let mut tx = self.write_transaction().await?;
        let inserted: Result<UserRow, sqlx::Error> = sqlx::query_as(&format!(
            "INSERT INTO users (email, name, role, password_hash, disabled, created_at, updated_at) \
             VALUES (?, ?, ?, ?, 0, ?, ?) RETURNING {RETURNED_USER_COLUMNS}"
        ))
        .bind(&new.email)
        .bind(&new.name)
        .bind(new.role.as_str())
        .bind(&new.password_hash)
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let user = User::try_from(inserted.map_err(map_unique_email)?)?;
        let detail = format!("{} {}", user.email, user.role);
        insert_audit(&mut tx, now, actor, "user.create", &format!("user:{}", user.id), &detail).await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(User::try_from).transpose()
    }

    async fn users(&self) -> StoreResult<Vec<User>> {
        let rows: Vec<UserRow> =
            sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users u")).fetch_all(&self.pool).await?;
        let mut users = rows.into_iter().map(User::try_from).collect::<StoreResult<Vec<_>>>()?;
        sort_users(&mut users);
        Ok(users)
    }

    async fn user_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?)
    }

    async fn credentials(&self, email: &str) -> StoreResult<Option<Credentials>> {
        let row: Option<CredentialsRow> =
            sqlx::query_as(&format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = ?"))
                .bind(email)
                .fetch_optional(&self.pool)
                .await?;
        row.map(Credentials::try_from).transpose()
    }

    async fn update_user(&self, id: UserId, patch: UserPatch, actor: Option<UserId>, now: i64) -> StoreResult<User> {
        let mut tx = self.write_transaction().await?;
        let before = user_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        let lines = audit_lines(id, &before, patch);
        if lines.is_empty() {
            return Ok(before);
        }
        sqlx::query(
            "UPDATE users SET role = COALESCE(?, role), disabled = COALESCE(?, disabled), updated_at = ? WHERE id = ?",
        )
        .bind(patch.role.map(Role::as_str))
        .bind(patch.disabled)
        .bind(now)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0")
            .fetch_one(&mut *tx)
            .await?;
        if admins == 0 {
            return Err(StoreError::LastAdmin);
        }
        if patch.disabled == Some(true) {
            sqlx::query("DELETE FROM sessions WHERE user_id = ?").bind(id.0).execute(&mut *tx).await?;
        }
        for (action, subject, detail) in &lines {
            insert_audit(&mut tx, now, actor, action, subject, detail).await?;
        }
        let after = user_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(after)
    }

    async fn create_session(&self, token_hash: &str, user: UserId, now: i64, expires_at: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
            .bind(token_hash)
            .bind(user.0)
            .bind(now)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn session_user(&self, token_hash: &str, now: i64) -> StoreResult<Option<SessionUser>> {
        let row: Option<SessionRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS}, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(SessionUser::try_from).transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?").bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?").bind(now).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    async fn audit_log(&self, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let rows: Vec<AuditRow> =
            sqlx::query_as("SELECT at, actor_id, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT ?")
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }
}
