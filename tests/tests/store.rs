//! Store conformance: every scenario runs against SQLite and against PostgreSQL, through the same
//! `Store` trait the server uses.

use std::sync::Arc;

use baton_server::store::{NewUser, Store, StoreError, UserPatch};
use baton_shared::UserId;
use baton_shared::api::{Role, User};
use baton_tests::database::{Kind, TestDatabase};

baton_tests::on_both_backends!(
    users_are_created_and_read_back,
    duplicate_emails_are_refused,
    sessions_live_until_they_expire_or_are_deleted,
    disabling_a_user_ends_their_sessions,
    role_changes_are_audited,
    the_last_active_admin_cannot_be_removed,
    concurrent_demotions_keep_one_admin,
    unknown_users_are_not_found,
);

const NOW: i64 = 1_764_000_000_000;

fn new_user(email: &str, name: &str, role: Role) -> NewUser {
    NewUser {
        email: email.into(),
        name: name.into(),
        role,
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$fake${email}"),
    }
}

async fn add(store: &dyn Store, email: &str, name: &str, role: Role) -> anyhow::Result<User> {
    Ok(store.create_user(&new_user(email, name, role), None, NOW).await?)
}

async fn users_are_created_and_read_back(store: Arc<dyn Store>) -> anyhow::Result<()> {
    assert_eq!(store.user_count().await?, 0);
    let zoe = add(&*store, "zoe@x.test", "Zoe", Role::Agent).await?;
    let adam = add(&*store, "adam@x.test", "adam", Role::Supervisor).await?;
    assert_eq!(zoe.email, "zoe@x.test");
    assert_eq!(zoe.role, Role::Agent);
    assert!(!zoe.disabled);
    assert_eq!(zoe.created_at, NOW);
    assert_ne!(zoe.id, adam.id);

    assert_eq!(store.user(zoe.id).await?, Some(zoe.clone()));
    assert_eq!(store.users().await?, vec![adam.clone(), zoe.clone()], "sorted by name");
    assert_eq!(store.user_count().await?, 2);

    let credentials = store.credentials("adam@x.test").await?.expect("adam has credentials");
    assert_eq!(credentials.user, adam);
    assert_eq!(credentials.password_hash, "$argon2id$v=19$m=19456,t=2,p=1$fake$adam@x.test");
    assert!(store.credentials("nobody@x.test").await?.is_none());

    let log = store.audit_log(10).await?;
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].action, "user.create");
    assert_eq!(log[0].subject, format!("user:{}", adam.id));
    assert_eq!(log[0].actor, None);
    store.ping().await?;
    Ok(())
}

async fn duplicate_emails_are_refused(store: Arc<dyn Store>) -> anyhow::Result<()> {
    add(&*store, "same@x.test", "First", Role::Agent).await?;
    let second = store.create_user(&new_user("same@x.test", "Second", Role::Admin), None, NOW).await;
    assert!(matches!(second, Err(StoreError::EmailTaken)), "{second:?}");
    assert_eq!(store.user_count().await?, 1);
    assert_eq!(store.audit_log(10).await?.len(), 1, "the refused insert left no audit line");
    Ok(())
}

async fn sessions_live_until_they_expire_or_are_deleted(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let user = add(&*store, "s@x.test", "S", Role::Agent).await?;
    store.create_session("hash-live", user.id, NOW, NOW + 1000).await?;
    store.create_session("hash-old", user.id, NOW - 5000, NOW - 1).await?;

    let found = store.session_user("hash-live", NOW).await?.expect("live session");
    assert_eq!(found.user, user);
    assert_eq!(found.expires_at, NOW + 1000);
    assert!(store.session_user("hash-live", NOW + 1000).await?.is_none(), "expired at expires_at");
    assert!(store.session_user("hash-old", NOW).await?.is_none());
    assert!(store.session_user("no-such-hash", NOW).await?.is_none());

    assert_eq!(store.delete_expired_sessions(NOW).await?, 1);
    assert_eq!(store.delete_expired_sessions(NOW).await?, 0);
    store.delete_session("hash-live").await?;
    assert!(store.session_user("hash-live", NOW).await?.is_none());
    store.delete_session("hash-live").await?;
    Ok(())
}

async fn disabling_a_user_ends_their_sessions(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let admin = add(&*store, "a@x.test", "Admin", Role::Admin).await?;
    let agent = add(&*store, "b@x.test", "Agent", Role::Agent).await?;
    store.create_session("agent-1", agent.id, NOW, NOW + 1000).await?;
    store.create_session("agent-2", agent.id, NOW, NOW + 1000).await?;
    store.create_session("admin-1", admin.id, NOW, NOW + 1000).await?;

    let disabled =
        store.update_user(agent.id, UserPatch { disabled: Some(true), role: None }, Some(admin.id), NOW).await?;
    assert!(disabled.disabled);
    assert!(store.session_user("agent-1", NOW).await?.is_none());
    assert!(store.session_user("agent-2", NOW).await?.is_none());
    assert!(store.session_user("admin-1", NOW).await?.is_some(), "other users keep their sessions");

    let enabled =
        store.update_user(agent.id, UserPatch { disabled: Some(false), role: None }, Some(admin.id), NOW).await?;
    assert!(!enabled.disabled);
    assert!(store.session_user("agent-1", NOW).await?.is_none(), "re-enabling does not revive sessions");

    let actions: Vec<String> = store.audit_log(10).await?.into_iter().map(|entry| entry.action).collect();
    assert_eq!(actions[..2], ["user.enable".to_owned(), "user.disable".to_owned()]);
    Ok(())
}

async fn role_changes_are_audited(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let admin = add(&*store, "a@x.test", "Admin", Role::Admin).await?;
    let agent = add(&*store, "b@x.test", "Agent", Role::Agent).await?;
    let promoted = store
        .update_user(agent.id, UserPatch { role: Some(Role::Supervisor), disabled: None }, Some(admin.id), NOW + 5)
        .await?;
    assert_eq!(promoted.role, Role::Supervisor);
    assert_eq!(store.user(agent.id).await?.map(|user| user.role), Some(Role::Supervisor));

    let entry = &store.audit_log(1).await?[0];
    assert_eq!(entry.action, "user.role");
    assert_eq!(entry.subject, format!("user:{}", agent.id));
    assert_eq!(entry.detail, "agent -> supervisor");
    assert_eq!(entry.actor, Some(admin.id));
    assert_eq!(entry.at, NOW + 5);

    let before = store.audit_log(100).await?.len();
    let same = store
        .update_user(agent.id, UserPatch { role: Some(Role::Supervisor), disabled: Some(false) }, Some(admin.id), NOW)
        .await?;
    assert_eq!(same, promoted);
    assert_eq!(store.audit_log(100).await?.len(), before, "a change to nothing writes no audit line");
    Ok(())
}

async fn the_last_active_admin_cannot_be_removed(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let admin = add(&*store, "a@x.test", "Admin", Role::Admin).await?;
    store.create_session("admin-session", admin.id, NOW, NOW + 1000).await?;
    let demote =
        store.update_user(admin.id, UserPatch { role: Some(Role::Agent), disabled: None }, Some(admin.id), NOW).await;
    assert!(matches!(demote, Err(StoreError::LastAdmin)), "{demote:?}");
    let disable =
        store.update_user(admin.id, UserPatch { role: None, disabled: Some(true) }, Some(admin.id), NOW).await;
    assert!(matches!(disable, Err(StoreError::LastAdmin)), "{disable:?}");

    let unchanged = store.user(admin.id).await?.expect("admin");
    assert_eq!((unchanged.role, unchanged.disabled), (Role::Admin, false), "the refused change was rolled back");
    assert!(store.session_user("admin-session", NOW).await?.is_some());
    assert_eq!(store.audit_log(10).await?.len(), 1, "only the creation is audited");

    let second = add(&*store, "b@x.test", "Second", Role::Admin).await?;
    let demoted = store
        .update_user(admin.id, UserPatch { role: Some(Role::Agent), disabled: None }, Some(second.id), NOW)
        .await?;
    assert_eq!(demoted.role, Role::Agent, "with another admin, the demotion goes through");
    Ok(())
}

async fn concurrent_demotions_keep_one_admin(store: Arc<dyn Store>) -> anyhow::Result<()> {
    for round in 0..10 {
        let one = add(&*store, &format!("one{round}@x.test"), "One", Role::Admin).await?;
        let two = add(&*store, &format!("two{round}@x.test"), "Two", Role::Admin).await?;
        if round > 0 {
            // Leave exactly these two admins active.
            for user in store.users().await? {
                if user.role == Role::Admin && user.id != one.id && user.id != two.id {
                    store
                        .update_user(user.id, UserPatch { role: Some(Role::Agent), disabled: None }, None, NOW)
                        .await?;
                }
            }
        }
        let demote = |id: UserId| {
            let store = store.clone();
            tokio::spawn(async move {
                store.update_user(id, UserPatch { role: Some(Role::Agent), disabled: None }, None, NOW).await
            })
        };
        let (first, second) = tokio::join!(demote(one.id), demote(two.id));
        let outcomes = [first?, second?];
        let succeeded = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
        let refused = outcomes.iter().filter(|outcome| matches!(outcome, Err(StoreError::LastAdmin))).count();
        assert_eq!((succeeded, refused), (1, 1), "round {round}: {outcomes:?}");
        let admins = store.users().await?.into_iter().filter(|user| user.role == Role::Admin && !user.disabled).count();
        assert_eq!(admins, 1, "round {round}");
    }
    Ok(())
}

async fn unknown_users_are_not_found(store: Arc<dyn Store>) -> anyhow::Result<()> {
    assert!(store.user(UserId(999_999)).await?.is_none());
    let update =
        store.update_user(UserId(999_999), UserPatch { role: Some(Role::Admin), disabled: None }, None, NOW).await;
    assert!(matches!(update, Err(StoreError::NotFound)), "{update:?}");
    Ok(())
}

/// SQLite only: the pragmas Baton depends on are really set on pooled connections.
#[tokio::test]
async fn sqlite_connections_use_wal_busy_timeout_and_foreign_keys() -> anyhow::Result<()> {
    let database = TestDatabase::new(Kind::Sqlite).await?;
    let baton_server::config::DatabaseUrl::Sqlite(path) = &database.url else { anyhow::bail!("not sqlite") };
    let store = baton_server::store::sqlite::SqliteStore::open(path).await?;
    let pool = store.pool();
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(pool).await?;
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(pool).await?;
    let busy_timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(pool).await?;
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(pool).await?;
    assert_eq!(journal, "wal");
    assert_eq!(foreign_keys, 1);
    assert_eq!(busy_timeout, 5000);
    assert_eq!(synchronous, 1, "NORMAL");
    Ok(())
}

/// Reopening a database (a restart) keeps its data and re-applies no migration.
#[tokio::test]
async fn reopening_keeps_the_data() -> anyhow::Result<()> {
    for kind in [Kind::Sqlite, Kind::Postgres] {
        let database = TestDatabase::new(kind).await?;
        let first = database.open().await?;
        let user = add(&*first, "keep@x.test", "Keep", Role::Admin).await?;
        drop(first);
        let second = database.open().await?;
        assert_eq!(second.user(user.id).await?, Some(user), "{kind:?}");
    }
    Ok(())
}
