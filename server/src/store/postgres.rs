//! The PostgreSQL [`Store`], selected by `BATON_DATABASE_URL=postgres://…` when a team outgrows
//! one machine.
//!
//! Changes that must keep at least one active admin take a transaction-scoped advisory lock
//! first: under READ COMMITTED two concurrent demotions could each still see the other admin and
//! both commit.

use std::time::Duration;

use async_trait::async_trait;
use baton_shared::UserId;
use baton_shared::api::{Role, User};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

use super::{
    AuditEntry, AuditRow, Backend, Credentials, CredentialsRow, NewUser, RETURNED_USER_COLUMNS, SessionRow,
    SessionUser, Store, StoreError, StoreResult, USER_COLUMNS, UserPatch, UserRow, audit_lines, map_unique_email,
    sort_users,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

// The row lock serialises every change to one conversation, so seqs are assigned without gaps
// and in commit order.
super::conversation_queries::conversation_queries!(
    PostgresStore,
    sqlx::Postgres,
    lock_conversation = "SELECT last_seq FROM conversations WHERE id = $1 FOR UPDATE"
);
super::channel_queries::channel_queries!(PostgresStore, sqlx::Postgres);
super::canned::canned_queries!(PostgresStore);
super::labels::label_queries!(PostgresStore);
super::conversation_reads::conversation_reads!(sqlx::Postgres);
super::claim_queries::claim_queries!(sqlx::Postgres);

/// Advisory lock key serialising changes to who is an active admin ("baton:admins").
const ADMIN_CHANGE_LOCK: i64 = 0x6261_746f_6e61_646d;

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects and applies pending migrations.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
        MIGRATOR.run(&pool).await?;
        Ok(PostgresStore { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn write_transaction(&self) -> StoreResult<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }
}

async fn insert_audit(
    tx: &mut Transaction<'static, Postgres>,
    now: i64,
    actor: Option<UserId>,
    action: &str,
    subject: &str,
    detail: &str,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO audit_log (at, actor_id, action, subject, detail) VALUES ($1, $2, $3, $4, $5)")
        .bind(now)
        .bind(actor.map(|id| id.0))
        .bind(action)
        .bind(subject)
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn user_in(tx: &mut Transaction<'static, Postgres>, id: UserId) -> StoreResult<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"))
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(User::try_from).transpose()
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn create_user(&self, new: &NewUser, actor: Option<UserId>, now: i64) -> StoreResult<User> {
        let mut tx = self.pool.begin().await?;
        let inserted: Result<UserRow, sqlx::Error> = sqlx::query_as(&format!(
            "INSERT INTO users (email, name, role, password_hash, disabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, FALSE, $5, $5) RETURNING {RETURNED_USER_COLUMNS}"
        ))
        .bind(&new.email)
        .bind(&new.name)
        .bind(new.role.as_str())
        .bind(&new.password_hash)
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
        let row: Option<UserRow> = sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"))
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
            sqlx::query_as(&format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1"))
                .bind(email)
                .fetch_optional(&self.pool)
                .await?;
        row.map(Credentials::try_from).transpose()
    }

    async fn update_user(&self, id: UserId, patch: UserPatch, actor: Option<UserId>, now: i64) -> StoreResult<User> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(ADMIN_CHANGE_LOCK).execute(&mut *tx).await?;
        let before = user_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        let lines = audit_lines(id, &before, patch);
        if lines.is_empty() {
            return Ok(before);
        }
        sqlx::query(
            "UPDATE users SET role = COALESCE($1, role), disabled = COALESCE($2, disabled), updated_at = $3 \
             WHERE id = $4",
        )
        .bind(patch.role.map(Role::as_str))
        .bind(patch.disabled)
        .bind(now)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND NOT disabled")
            .fetch_one(&mut *tx)
            .await?;
        if admins == 0 {
            return Err(StoreError::LastAdmin);
        }
        if patch.disabled == Some(true) {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id.0).execute(&mut *tx).await?;
        }
        for (action, subject, detail) in &lines {
            insert_audit(&mut tx, now, actor, action, subject, detail).await?;
        }
        let after = user_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(after)
    }

    async fn create_session(&self, token_hash: &str, user: UserId, now: i64, expires_at: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
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
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(SessionUser::try_from).transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    async fn audit_log(&self, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let rows: Vec<AuditRow> =
            sqlx::query_as("SELECT at, actor_id, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT $1")
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }
}
