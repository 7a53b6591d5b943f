//! The [`Store`] trait: every durable read and write Baton makes, with one SQLite and one
//! PostgreSQL implementation ([`sqlite`], [`postgres`]). Each applies its own migrations
//! (`migrations/sqlite`, `migrations/postgres`) when it opens. Rows become `baton_shared` types
//! here and never leak out. Times are Unix milliseconds in both databases.
//!
//! Operations that must be atomic (a role change and its audit record, disabling a user and ending
//! their sessions) are single trait methods, so each implementation can run them in one
//! transaction.

pub mod canned;
pub mod channel;
mod channel_queries;
mod claim_queries;
mod conversation_queries;
mod conversation_reads;
pub mod conversations;
pub mod labels;
pub mod postgres;
mod rows;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use baton_shared::UserId;
use baton_shared::api::{Role, User};

use crate::config::DatabaseUrl;
pub use channel::ChannelStore;
pub use conversations::ConversationStore;

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("record not found")]
    NotFound,
    #[error("email address already in use")]
    EmailTaken,
    #[error("the change would leave no active admin")]
    LastAdmin,
    #[error("title already in use")]
    TitleTaken,
    /// A compare-and-set found the record changed since it was read.
    #[error("the record changed meanwhile")]
    Changed,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Which implementation is behind a `dyn Store`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A user to create. `email` must already be normalised (see [`crate::accounts`]).
#[derive(Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// An argon2id PHC string.
    pub password_hash: String,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserPatch {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

/// A user together with the password hash, for verifying a login.
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

/// A live session and its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionUser {
    pub user: User,
    pub expires_at: i64,
}

/// One line of the audit trail: who did what to whom, when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: i64,
    /// `None` for changes made outside the web (the `baton` command line, the demo seed).
    pub actor: Option<UserId>,
    /// e.g. `user.create`, `user.role`, `user.disable`.
    pub action: String,
    /// What the action was applied to, e.g. `user:7`.
    pub subject: String,
    pub detail: String,
}

/// Every durable read and write: accounts here, conversations in [`ConversationStore`], the
/// WhatsApp channel's own records in [`ChannelStore`].
#[async_trait]
pub trait Store:
    ConversationStore + ChannelStore + canned::CannedStore + labels::LabelStore + Send + Sync + 'static
{
    fn backend(&self) -> Backend;

    /// A cheap round trip, for `/healthz`.
    async fn ping(&self) -> StoreResult<()>;

    /// Creates a user and records `user.create` by `actor`, in one transaction.
    async fn create_user(&self, new: &NewUser, actor: Option<UserId>, now: i64) -> StoreResult<User>;
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    /// Every account, disabled ones included, sorted by name (case-insensitively).
    async fn users(&self) -> StoreResult<Vec<User>>;
    async fn user_count(&self) -> StoreResult<i64>;
    /// The account with this (normalised) email, disabled or not, with its password hash.
    async fn credentials(&self, email: &str) -> StoreResult<Option<Credentials>>;
    /// Applies `patch` and audits each change, in one transaction. Disabling ends every session of
    /// the user in that same transaction. Refuses ([`StoreError::LastAdmin`]) a change that would
    /// leave no active admin, even against concurrent changes.
    async fn update_user(&self, id: UserId, patch: UserPatch, actor: Option<UserId>, now: i64) -> StoreResult<User>;

    /// Stores a session under the SHA-256 of its token (the token itself is never stored).
    async fn create_session(&self, token_hash: &str, user: UserId, now: i64, expires_at: i64) -> StoreResult<()>;
    /// The session's user if the session exists, has not expired and the user is not disabled.
    async fn session_user(&self, token_hash: &str, now: i64) -> StoreResult<Option<SessionUser>>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Removes expired sessions; returns how many.
    async fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64>;

    /// The most recent audit entries, newest first.
    async fn audit_log(&self, limit: i64) -> StoreResult<Vec<AuditEntry>>;
}

/// Opens the database `url` points at and brings its schema up to date.
pub async fn open(url: &DatabaseUrl) -> StoreResult<Arc<dyn Store>> {
    Ok(match url {
        DatabaseUrl::Sqlite(path) => Arc::new(sqlite::SqliteStore::open(path).await?),
        DatabaseUrl::Postgres(url) => Arc::new(postgres::PostgresStore::open(url).await?),
    })
}

/// The columns of `users` every query selects, in this order (see [`UserRow`]); the `users`
/// table is aliased `u`.
const USER_COLUMNS: &str = "u.id, u.email, u.name, u.role, u.disabled, u.created_at";

/// The same columns unqualified, for `RETURNING`.
const RETURNED_USER_COLUMNS: &str = "id, email, name, role, disabled, created_at";

/// A `users` row as both databases return it.
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

impl TryFrom<CredentialsRow> for Credentials {
    type Error = StoreError;

    fn try_from(row: CredentialsRow) -> Result<Self, Self::Error> {
        Ok(Credentials { user: row.user.try_into()?, password_hash: row.password_hash })
    }
}

/// A user row with the expiry of the session that found it.
#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    expires_at: i64,
}

impl TryFrom<SessionRow> for SessionUser {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, Self::Error> {
        Ok(SessionUser { user: row.user.try_into()?, expires_at: row.expires_at })
    }
}

/// Turns a unique violation on insert into [`StoreError::EmailTaken`] (email is the only unique
/// column a user insert can violate).
fn map_unique_email(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::EmailTaken,
        _ => StoreError::Database(error),
    }
}

/// Orders users by name, case-insensitively, then id: the same on both databases, whatever
/// PostgreSQL's collation.
fn sort_users(users: &mut [User]) {
    users.sort_by_cached_key(|user| (user.name.to_lowercase(), user.id));
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
