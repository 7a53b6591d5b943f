//! The [`Store`] trait: every durable read and write Baton makes, split by resource, with one
//! implementation written once for both databases ([`SqlStore`], in `store/queries/`). What
//! differs is opening: [`sqlite`] and [`postgres`] each set up their pool and apply their own
//! migrations (`migrations/sqlite`, `migrations/postgres`). Rows become `baton_shared` types here
//! and never leak out. Times are Unix milliseconds in both databases.
//!
//! Operations that must be atomic (a role change and its audit record, disabling a user and ending
//! their sessions) are single trait methods, so each implementation can run them in one
//! transaction.

pub mod automation;
pub mod canned;
pub mod channel;
pub mod contacts;
pub mod conversations;
mod group_commit;
pub mod labels;
pub mod postgres;
mod queries;
pub mod reports;
pub mod routing;
pub mod search;
pub mod sqlite;
pub mod teams;

use std::sync::Arc;

use async_trait::async_trait;
use baton_shared::UserId;
use baton_shared::api::{Role, User};

use crate::config::DatabaseUrl;
pub use channel::{OutboxStore, WebhookStore};
pub use conversations::{ClaimStore, ConversationStore, DraftStore, MessageStore, NoteStore};
pub use queries::{Sql, SqlStore};
pub use routing::{HandoverStore, QueueStore, RoutingStore, RulesStore};

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
    #[error("name already in use")]
    NameTaken,
    /// A compare-and-set found the record changed since it was read.
    #[error("the record changed meanwhile")]
    Changed,
    /// A batched write ([`group_commit`]) left a request without an answer: a bug, reported
    /// rather than panicked on.
    #[error("a batched write left this request unanswered")]
    Unanswered,
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

/// Every durable read and write: accounts here, conversations in the traits of
/// [`conversations`], the WhatsApp channel's own records in those of [`channel`].
#[async_trait]
pub trait Store:
    ConversationStore
    + MessageStore
    + ClaimStore
    + NoteStore
    + DraftStore
    + WebhookStore
    + OutboxStore
    + canned::CannedStore
    + labels::LabelStore
    + teams::TeamStore
    + RoutingStore
    + QueueStore
    + HandoverStore
    + RulesStore
    + automation::AutomationStore
    + automation::BotStore
    + automation::FollowUpStore
    + automation::CsatStore
    + search::SearchStore
    + contacts::ContactStore
    + reports::ReportStore
    + reports::LevelStore
    + Send
    + Sync
    + 'static
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
        DatabaseUrl::Sqlite(path) => Arc::new(sqlite::open(path).await?),
        DatabaseUrl::Postgres(url) => Arc::new(postgres::open(url).await?),
    })
}
