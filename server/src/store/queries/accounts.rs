//! Accounts: users, sessions and the audit trail ([`Store`]'s own methods).

use async_trait::async_trait;
use baton_shared::UserId;
use baton_shared::api::{Role, User};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::{Sql, SqlStore, unique_as};
use crate::store::{AuditEntry, Backend, Credentials, NewUser, SessionUser, Store, StoreError, StoreResult, UserPatch};

/// The columns of `users` every query selects, in this order (see [`UserRow`]); the `users`
/// table is aliased `u`.
const USER_COLUMNS: &str = "u.id, u.email, u.name, u.role, u.disabled, u.created_at";

/// A `users` row.
#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    name: String,
    role: String,
    disabled: bool,
    created_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, Self::Error> {
        let role = row.role.parse().map_err(|error| StoreError::Database(sqlx::Error::Decode(Box::new(error))))?;
        Ok(User {
            id: UserId(row.id),
            email: row.email,
            name: row.name,
            role,
            disabled: row.disabled,
            created_at: row.created_at,
        })
    }
}

/// A user row with its password hash.
#[derive(sqlx::FromRow)]
struct CredentialsRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
}

/// A user row with the expiry of the session that found it.
#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    expires_at: i64,
}

/// An `audit_log` row.
#[derive(sqlx::FromRow)]
struct AuditRow {
    at: i64,
    actor_id: Option<i64>,
    action: String,
    subject: String,
    detail: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(row: AuditRow) -> Self {
        AuditEntry {
            at: row.at,
            actor: row.actor_id.map(UserId),
            action: row.action,
            subject: row.subject,
            detail: row.detail,
        }
    }
}

/// Orders users by name, case-insensitively, then id: the same on both databases, whatever
/// PostgreSQL's collation.
/// Accounts of people: not the Automation actor's built-in account
/// ([`baton_shared::automation::AUTOMATION_USER`]), which is never listed, counted, edited or
/// logged in as.
const PEOPLE: &str = "u.id <> 0";

fn sort_users(users: &mut [User]) {
    users.sort_by_cached_key(|user| (user.name.to_lowercase(), user.id));
}

/// The audit lines a patch produces, in the order they are written.
fn audit_lines(id: UserId, before: &User, patch: UserPatch) -> Vec<(&'static str, String, String)> {
    let subject = format!("user:{id}");
    let mut lines = Vec::new();
    if let Some(role) = patch.role.filter(|role| *role != before.role) {
        lines.push(("user.role", subject.clone(), format!("{} -> {}", before.role, role)));
    }
    match patch.disabled {
        Some(true) if !before.disabled => lines.push(("user.disable", subject, String::new())),
        Some(false) if before.disabled => lines.push(("user.enable", subject, String::new())),
        _ => {}
    }
    lines
}

impl<DB: Sql> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> i64: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> bool: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> String: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> &'r str: Encode<'r, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'r> &'r [u8]: Encode<'r, DB> + Type<DB>,
    for<'r> Vec<u8>: Decode<'r, DB> + Type<DB>,
    for<'r> Option<i64>: Encode<'r, DB>,
    for<'r> Option<bool>: Encode<'r, DB>,
    for<'r> Option<String>: Encode<'r, DB>,
    for<'r> Option<&'r str>: Encode<'r, DB>,
    usize: ColumnIndex<DB::Row>,
{
    pub(super) async fn insert_audit(
        tx: &mut Transaction<'static, DB>,
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

    async fn user_in(tx: &mut Transaction<'static, DB>, id: UserId) -> StoreResult<Option<User>> {
        let row: Option<UserRow> =
            sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1 AND {PEOPLE}"))
                .bind(id.0)
                .fetch_optional(&mut **tx)
                .await?;
        row.map(User::try_from).transpose()
    }
}

#[async_trait]
impl<DB: Sql> Store for SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> i64: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> bool: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> String: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> &'r str: Encode<'r, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'r> &'r [u8]: Encode<'r, DB> + Type<DB>,
    for<'r> Vec<u8>: Decode<'r, DB> + Type<DB>,
    for<'r> Option<i64>: Encode<'r, DB>,
    for<'r> Option<bool>: Encode<'r, DB>,
    for<'r> Option<String>: Encode<'r, DB>,
    for<'r> Option<&'r str>: Encode<'r, DB>,
    usize: ColumnIndex<DB::Row>,
{
    fn backend(&self) -> Backend {
        DB::BACKEND
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn create_user(&self, new: &NewUser, actor: Option<UserId>, now: i64) -> StoreResult<User> {
        let mut tx = self.write_transaction().await?;
        let inserted: Result<UserRow, sqlx::Error> = sqlx::query_as(
            "INSERT INTO users (email, name, role, password_hash, disabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, FALSE, $5, $5) RETURNING id, email, name, role, disabled, created_at",
        )
        .bind(&new.email)
        .bind(&new.name)
        .bind(new.role.as_str())
        .bind(&new.password_hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let user = User::try_from(inserted.map_err(|error| unique_as(error, StoreError::EmailTaken))?)?;
        let detail = format!("{} {}", user.email, user.role);
        Self::insert_audit(&mut tx, now, actor, "user.create", &format!("user:{}", user.id), &detail).await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        let row: Option<UserRow> =
            sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1 AND {PEOPLE}"))
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
        row.map(User::try_from).transpose()
    }

    async fn users(&self) -> StoreResult<Vec<User>> {
        let rows: Vec<UserRow> =
            sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users u WHERE {PEOPLE}")).fetch_all(&self.pool).await?;
        let mut users = rows.into_iter().map(User::try_from).collect::<StoreResult<Vec<_>>>()?;
        sort_users(&mut users);
        Ok(users)
    }

    async fn user_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(&format!("SELECT COUNT(*) FROM users u WHERE {PEOPLE}")).fetch_one(&self.pool).await?)
    }

    async fn credentials(&self, email: &str) -> StoreResult<Option<Credentials>> {
        let row: Option<CredentialsRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1 AND {PEOPLE}"
        ))
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok(Credentials { user: row.user.try_into()?, password_hash: row.password_hash })).transpose()
    }

    async fn update_user(&self, id: UserId, patch: UserPatch, actor: Option<UserId>, now: i64) -> StoreResult<User> {
        let mut tx = self.write_transaction().await?;
        if let Some(lock) = DB::LOCK_ADMINS {
            sqlx::query(lock).execute(&mut *tx).await?;
        }
        let before = Self::user_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
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
        let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = FALSE")
            .fetch_one(&mut *tx)
            .await?;
        if admins == 0 {
            return Err(StoreError::LastAdmin);
        }
        if patch.disabled == Some(true) {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id.0).execute(&mut *tx).await?;
        }
        for (action, subject, detail) in &lines {
            Self::insert_audit(&mut tx, now, actor, action, subject, detail).await?;
        }
        let after = Self::user_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(after)
    }

    async fn create_session(&self, token_hash: &str, user: UserId, now: i64, expires_at: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(user.0)
            .bind(now)
            .bind(expires_at)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn session_user(&self, token_hash: &str, now: i64) -> StoreResult<Option<SessionUser>> {
        let row: Option<SessionRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS}, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = FALSE"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok(SessionUser { user: row.user.try_into()?, expires_at: row.expires_at })).transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.writer).await?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&self.writer).await?;
        Ok(DB::rows_affected(&done))
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
