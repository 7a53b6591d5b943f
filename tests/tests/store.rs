//! Store conformance: every scenario runs against SQLite and against PostgreSQL, through the same
//! `Store` trait the server uses: accounts and sessions, the WhatsApp channel's records (webhook
//! deliveries, the outbox, statuses), canned responses and labels. (Conversations, claims and
//! replies: `conversations.rs`.)

use std::sync::Arc;

use baton_server::store::channel::{
    DeliveryWork, OutboxItem, RequeueOutcome, StatusWrite, WINDOW_CLOSED_CODE, WebhookDelivery, Work,
};
use baton_server::store::conversations::{ClaimOutcome, InboundOutcome, NewInbound, NewReply, ReplyOutcome};
use baton_server::store::labels::LabelOutcome;
use baton_server::store::{NewUser, Store, StoreError, UserPatch};
use baton_shared::api::{CannedResponse, Role, User};
use baton_shared::model::{
    Change, ConversationEvent, DeliveryError, DeliveryStatus, MAX_LABEL_CHARS, MAX_LABELS, Message,
};
use baton_shared::{ConversationId, MessageId, UserId};
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
    webhook_deliveries_are_kept_until_processed,
    replies_are_queued_retried_and_moved_forward_by_statuses,
    sends_in_flight_wait_for_their_status,
    failed_replies_go_again_only_for_the_holder_in_the_window,
    canned_responses_are_kept_by_title,
    labels_are_edited_as_stored_with_one_event,
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
    let store = baton_server::store::sqlite::open(path).await?;
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

// The channel, canned responses and labels: the store traits behind the WhatsApp channel and the
// team's tools, checked method by method (end to end they are exercised by the channel, canned
// and labels tests).

async fn customer_writes(store: &dyn Store, wa_id: &str, wamid: &str, at: i64) -> anyhow::Result<ConversationId> {
    match store.record_inbound(&inbound(wa_id, wamid, at), NOW).await? {
        InboundOutcome::Recorded { conversation_id, .. } => Ok(conversation_id),
        InboundOutcome::Duplicate => anyhow::bail!("{wamid} was a duplicate"),
    }
}

fn inbound(wa_id: &str, wamid: &str, at: i64) -> NewInbound {
    NewInbound {
        wa_id: wa_id.into(),
        profile_name: format!("Customer {wa_id}"),
        wa_message_id: wamid.into(),
        kind: "text".into(),
        body: format!("text of {wamid}"),
        at,
        ..Default::default()
    }
}

/// `agent` claims the customer's conversation and replies at `at`; returns the reply and its
/// outbox row.
async fn reply_queued(store: &dyn Store, agent: UserId, wa_id: &str, at: i64) -> anyhow::Result<(Message, OutboxItem)> {
    let id = customer_writes(store, wa_id, &format!("wamid.in.{wa_id}"), NOW).await?;
    let claimed = store.claim(id, agent, at + 3_600_000, at).await?;
    anyhow::ensure!(matches!(claimed, ClaimOutcome::Held { .. }), "{claimed:?}");
    let seen_seq = store.conversation(id).await?.map(|conversation| conversation.last_seq).unwrap_or_default();
    let reply = NewReply {
        conversation_id: id,
        author: agent,
        body: format!("Answer to {wa_id}"),
        idempotency_key: format!("key-{wa_id}"),
        seen_seq,
        force: false,
        content: Default::default(),
        reply_to: None,
    };
    let ReplyOutcome::Sent { message, .. } = store.send_reply(&reply, at).await? else {
        anyhow::bail!("the reply was not stored")
    };
    let item = queued(store, &message, at).await?.ok_or_else(|| anyhow::anyhow!("the reply was not queued"))?;
    Ok((message, item))
}

/// The outbox row of `message`, if it is due at `now`.
async fn queued(store: &dyn Store, message: &Message, now: i64) -> anyhow::Result<Option<OutboxItem>> {
    Ok(store.due_outbox(now, 100).await?.into_iter().find(|item| item.message_id == message.id))
}

async fn stored(store: &dyn Store, message: &Message) -> anyhow::Result<Message> {
    store.message(message.id).await?.ok_or_else(|| anyhow::anyhow!("message {} is gone", message.id.0))
}

fn status(wamid: &str, status: DeliveryStatus, tag: Option<&str>) -> StatusWrite {
    StatusWrite { wa_message_id: wamid.into(), status, error: None, callback_data: tag.map(str::to_owned) }
}

/// The statuses the events set, in order.
fn statuses(events: &[ConversationEvent]) -> Vec<DeliveryStatus> {
    events
        .iter()
        .filter_map(|event| match &event.change {
            Change::MessageStatus { status, .. } => Some(*status),
            _ => None,
        })
        .collect()
}

async fn webhook_deliveries_are_kept_until_processed(store: Arc<dyn Store>) -> anyhow::Result<()> {
    assert!(store.pending_webhooks(10).await?.is_empty());
    let ids = store.record_webhooks(&[b"first", b"second", b"third"], NOW).await?;
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "ids in order: {ids:?}");
    let delivery =
        |index: usize, body: &[u8], attempts: i64| WebhookDelivery { id: ids[index], body: body.to_vec(), attempts };
    assert_eq!(store.pending_webhooks(2).await?, [delivery(0, b"first", 0), delivery(1, b"second", 0)], "oldest first");

    store.finish_webhook(ids[0], Some("unexpected JSON"), NOW).await?;
    store.finish_webhook(ids[1], None, NOW).await?;
    assert_eq!(
        store.pending_webhooks(10).await?,
        [delivery(0, b"first", 1), delivery(2, b"third", 0)],
        "a failure is counted and stays pending; a finished one is gone"
    );

    // Applying deliveries' work marks them processed, in the same transaction.
    let work = [
        DeliveryWork {
            id: ids[0],
            work: vec![
                Work::Inbound(Box::new(inbound("15550001", "wamid.W1", NOW - 10))),
                Work::Inbound(Box::new(inbound("15550001", "wamid.W1", NOW - 10))),
            ],
        },
        DeliveryWork { id: ids[2], work: vec![Work::Inbound(Box::new(inbound("15550001", "wamid.W2", NOW - 5)))] },
    ];
    let applied = store.apply_deliveries(&work, NOW).await?;
    assert_eq!(applied.recorded, [true, false, true], "the second copy of W1 is a redelivery");
    let kinds: Vec<&str> = applied
        .events
        .iter()
        .map(|event| match &event.change {
            Change::Opened { .. } => "opened",
            Change::MessageAdded { .. } => "message",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["opened", "message", "message"]);
    assert!(store.pending_webhooks(10).await?.is_empty());

    // The customer's newest message in timeline order, not the last to arrive.
    let id = applied.events[0].conversation_id;
    customer_writes(&*store, "15550001", "wamid.W0", NOW - 20).await?;
    assert_eq!(store.last_inbound_wamid(id).await?.as_deref(), Some("wamid.W2"));
    let other = customer_writes(&*store, "15550002", "wamid.X1", NOW).await?;
    assert_eq!(store.last_inbound_wamid(other).await?.as_deref(), Some("wamid.X1"));
    Ok(())
}

async fn replies_are_queued_retried_and_moved_forward_by_statuses(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let ann = add(&*store, "ann@x.test", "Ann", Role::Agent).await?;
    let (reply, item) = reply_queued(&*store, ann.id, "15550001", NOW).await?;
    assert_eq!((item.to.as_str(), item.body.as_str()), ("15550001", "Answer to 15550001"));
    assert_eq!((item.attempts, item.reply_to.as_deref(), item.in_flight.as_deref()), (0, None, None));
    assert_eq!(stored(&*store, &reply).await?.status, DeliveryStatus::Pending);
    assert!(queued(&*store, &reply, NOW - 1).await?.is_none(), "due from when it was written");

    // A failed attempt is counted and waits; pacing moves it without counting.
    store.retry_outbox(item.id, NOW + 1_000, "Graph API unreachable").await?;
    assert!(queued(&*store, &reply, NOW + 999).await?.is_none());
    assert_eq!(queued(&*store, &reply, NOW + 1_000).await?.map(|item| item.attempts), Some(1));
    store.defer_outbox(item.id, NOW + 5_000).await?;
    assert!(queued(&*store, &reply, NOW + 4_999).await?.is_none());
    assert_eq!(queued(&*store, &reply, NOW + 5_000).await?.map(|item| item.attempts), Some(1));

    // A status before the send's answer is kept, and counts once the answer names its wamid.
    assert_eq!(store.apply_status(&status("wamid.out1", DeliveryStatus::Delivered, None), NOW).await?, []);
    let events = store.message_accepted(reply.id, "wamid.out1", NOW + 5_000).await?;
    assert_eq!(statuses(&events), [DeliveryStatus::Delivered], "the best of sent and what came early");
    let accepted = stored(&*store, &reply).await?;
    assert_eq!((accepted.status, accepted.wa_message_id.as_deref()), (DeliveryStatus::Delivered, Some("wamid.out1")));
    assert!(queued(&*store, &reply, i64::MAX).await?.is_none(), "sent: out of the outbox");
    assert_eq!(store.message_accepted(reply.id, "wamid.out1", NOW + 5_000).await?, [], "the same answer again");

    // Statuses only move a message forward.
    assert_eq!(store.apply_status(&status("wamid.out1", DeliveryStatus::Sent, None), NOW).await?, []);
    let read = store.apply_status(&status("wamid.out1", DeliveryStatus::Read, None), NOW).await?;
    assert_eq!(statuses(&read), [DeliveryStatus::Read]);
    assert_eq!(read[0].conversation_id, reply.conversation_id);
    assert_eq!(store.apply_status(&status("wamid.out1", DeliveryStatus::Delivered, None), NOW).await?, []);
    assert_eq!(stored(&*store, &reply).await?.status, DeliveryStatus::Read);
    assert_eq!(store.message(MessageId(999_999)).await?, None);
    Ok(())
}

async fn sends_in_flight_wait_for_their_status(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let ann = add(&*store, "ann@x.test", "Ann", Role::Agent).await?;
    let (reply, item) = reply_queued(&*store, ann.id, "15550001", NOW).await?;
    // Two senders that both found it due (two Baton nodes on one database): only one marks it,
    // so only one posts it.
    let (first, second) = tokio::join!(
        store.begin_send(item.id, "tag-1", NOW + 30_000, NOW),
        store.begin_send(item.id, "tag-b", NOW + 30_000, NOW)
    );
    let marked = [first?, second?];
    assert_eq!(marked.iter().filter(|marked| **marked).count(), 1, "exactly one marks it: {marked:?}");
    let tag = if marked[0] { "tag-1" } else { "tag-b" };
    assert!(queued(&*store, &reply, NOW + 29_999).await?.is_none(), "not due before its answer's deadline");
    let again = queued(&*store, &reply, NOW + 30_000).await?.ok_or_else(|| anyhow::anyhow!("not due"))?;
    assert_eq!(again.in_flight.as_deref(), Some(tag));

    // No answer: counted, still in flight under its tag, due at the same deadline.
    store.await_status(item.id, "timed out").await?;
    let waiting = queued(&*store, &reply, NOW + 30_000).await?.ok_or_else(|| anyhow::anyhow!("not due"))?;
    assert_eq!((waiting.attempts, waiting.in_flight.as_deref()), (1, Some(tag)));

    // At a start, what was in flight waits for its status.
    assert_eq!(store.hold_in_flight(NOW + 60_000).await?, 1);
    assert!(queued(&*store, &reply, NOW + 59_999).await?.is_none());
    assert_eq!(store.hold_in_flight(NOW + 60_000).await?, 0, "held already");

    // A status of another send changes nothing; one carrying the tag adopts the send.
    assert_eq!(store.apply_status(&status("wamid.x", DeliveryStatus::Delivered, Some("tag-0")), NOW).await?, []);
    let adopted = store.apply_status(&status("wamid.t", DeliveryStatus::Delivered, Some(tag)), NOW).await?;
    assert_eq!(statuses(&adopted), [DeliveryStatus::Delivered]);
    let message = stored(&*store, &reply).await?;
    assert_eq!((message.status, message.wa_message_id.as_deref()), (DeliveryStatus::Delivered, Some("wamid.t")));
    assert!(queued(&*store, &reply, i64::MAX).await?.is_none());
    assert!(!store.begin_send(item.id, "tag-2", NOW + 90_000, NOW + 60_000).await?, "done: no second send");
    Ok(())
}

async fn failed_replies_go_again_only_for_the_holder_in_the_window(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let ann = add(&*store, "ann@x.test", "Ann", Role::Agent).await?;
    let ben = add(&*store, "ben@x.test", "Ben", Role::Agent).await?;
    let at = NOW + 10;
    let (reply, item) = reply_queued(&*store, ann.id, "15550001", at).await?;
    assert_eq!(store.requeue_failed(reply.id, ann.id, at).await?, RequeueOutcome::NotFailed, "still pending");

    let undeliverable = DeliveryError { code: 131026, message: "Message undeliverable".into() };
    let events = store.fail_outbox(item.id, &undeliverable, at).await?;
    assert_eq!(events.len(), 1);
    let Change::MessageStatus { message_id, status, error } = &events[0].change else { anyhow::bail!("{events:?}") };
    assert_eq!((*message_id, *status, error.as_ref()), (reply.id, DeliveryStatus::Failed, Some(&undeliverable)));
    assert_eq!(stored(&*store, &reply).await?.status, DeliveryStatus::Failed);
    assert!(queued(&*store, &reply, i64::MAX).await?.is_none());
    assert_eq!(store.fail_outbox(item.id, &undeliverable, at).await?, [], "given up already");

    // Only the claim's holder sends it again.
    let RequeueOutcome::NotHolder { claim } = store.requeue_failed(reply.id, ben.id, at).await? else {
        anyhow::bail!("Ben could requeue Ann's reply")
    };
    assert_eq!(claim.map(|claim| claim.holder), Some(ann.id));
    let RequeueOutcome::Requeued { event, message } = store.requeue_failed(reply.id, ann.id, at + 1).await? else {
        anyhow::bail!("Ann could not requeue her reply")
    };
    assert_eq!(statuses(&[event]), [DeliveryStatus::Pending]);
    assert_eq!((message.id, message.status, message.error), (reply.id, DeliveryStatus::Pending, None), "as queued");
    let again = queued(&*store, &reply, at + 1).await?.ok_or_else(|| anyhow::anyhow!("not queued again"))?;
    assert_eq!((again.id, again.attempts), (item.id, 0), "the same row, afresh");
    assert_eq!(stored(&*store, &reply).await?.status, DeliveryStatus::Pending);
    let customer = store.messages(reply.conversation_id).await?.into_iter().find(|message| message.author.is_none());
    let customer = customer.ok_or_else(|| anyhow::anyhow!("no customer message"))?;
    assert_eq!(store.requeue_failed(customer.id, ann.id, at).await?, RequeueOutcome::NotFailed, "not a reply");

    // WhatsApp's "window closed" closes it as of the reply; free text may not go again.
    let closed = DeliveryError { code: WINDOW_CLOSED_CODE, message: "Re-engagement message".into() };
    let events = store.fail_outbox(item.id, &closed, at + 2).await?;
    assert_eq!(statuses(&events), [DeliveryStatus::Failed]);
    let since = events.iter().find_map(|event| match event.change {
        Change::WindowClosed { since } => Some(since),
        _ => None,
    });
    assert_eq!(since, Some(reply.created_at));
    let conversation = store.conversation(reply.conversation_id).await?.ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!(conversation.contact.window_closed_at, Some(reply.created_at));
    assert_eq!(store.requeue_failed(reply.id, ann.id, at + 3).await?, RequeueOutcome::WindowClosed);
    Ok(())
}

async fn canned_responses_are_kept_by_title(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let sam = add(&*store, "sam@x.test", "Sam", Role::Supervisor).await?;
    assert_eq!(store.canned_responses().await?, []);
    let thanks = store.create_canned("Thanks", "Thank you for writing!", sam.id, NOW).await?;
    assert_eq!((thanks.title.as_str(), thanks.body.as_str()), ("Thanks", "Thank you for writing!"));
    let away = store.create_canned("away", "We are closed.", sam.id, NOW).await?;
    let hours = store.create_canned("Hours", "9 to 5", sam.id, NOW).await?;
    assert!(thanks.id != away.id && away.id != hours.id);
    assert_eq!(store.canned_responses().await?, [away.clone(), hours.clone(), thanks.clone()], "by title, case aside");

    let taken = store.create_canned("Thanks", "Another", sam.id, NOW).await;
    assert!(matches!(taken, Err(StoreError::TitleTaken)), "{taken:?}");

    let renamed = store.update_canned(hours.id, "Opening hours", "9 to 6", sam.id, NOW + 1).await?;
    assert_eq!(renamed, CannedResponse { id: hours.id, title: "Opening hours".into(), body: "9 to 6".into() });
    let clash = store.update_canned(hours.id, "away", "9 to 7", sam.id, NOW + 2).await;
    assert!(matches!(clash, Err(StoreError::TitleTaken)), "{clash:?}");
    let missing = store.update_canned(999_999, "Gone", "Gone", sam.id, NOW + 2).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    assert_eq!(
        store.canned_responses().await?,
        [away.clone(), renamed.clone(), thanks.clone()],
        "refusals change nothing"
    );

    store.delete_canned(away.id).await?;
    assert!(matches!(store.delete_canned(away.id).await, Err(StoreError::NotFound)));
    assert_eq!(store.canned_responses().await?, [renamed, thanks]);
    let reused = store.create_canned("away", "Back soon.", sam.id, NOW + 3).await?;
    assert_eq!(reused.title, "away", "a deleted title is free again");
    Ok(())
}

async fn labels_are_edited_as_stored_with_one_event(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let ann = add(&*store, "ann@x.test", "Ann", Role::Agent).await?;
    let id = customer_writes(&*store, "15550001", "wamid.L1", NOW).await?;
    let labels = |list: &[&str]| list.iter().map(|label| (*label).to_owned()).collect::<Vec<_>>();
    let stored_labels = || async { anyhow::Ok(store.conversation(id).await?.map(|c| c.labels).unwrap_or_default()) };
    let last_seq = || async { anyhow::Ok(store.conversation(id).await?.map(|c| c.last_seq).unwrap_or_default()) };

    let before = last_seq().await?;
    let outcome = store.edit_labels(id, ann.id, &labels(&["VIP", "  Billing   issue "]), &[], NOW).await?;
    let LabelOutcome::Changed(event) = outcome else { anyhow::bail!("{outcome:?}") };
    assert_eq!((event.conversation_id, event.seq, event.actor), (id, before + 1, Some(ann.id)));
    assert_eq!(event.change, Change::Labeled { labels: labels(&["vip", "billing issue"]) }, "normalized");
    assert_eq!(stored_labels().await?, ["vip", "billing issue"]);
    assert_eq!(store.events_after(id, before, 10).await?, [*event]);

    // Nothing to change: no event.
    assert_eq!(store.edit_labels(id, ann.id, &labels(&["Vip"]), &[], NOW).await?, LabelOutcome::Unchanged);
    assert_eq!(last_seq().await?, before + 1);

    // Removed as normalized, then added in order.
    let outcome = store.edit_labels(id, ann.id, &labels(&["urgent"]), &labels(&["VIP"]), NOW).await?;
    assert!(matches!(outcome, LabelOutcome::Changed(_)), "{outcome:?}");
    assert_eq!(stored_labels().await?, ["billing issue", "urgent"]);

    // Bad labels and too many are refused, and nothing is stored.
    let long = "x".repeat(MAX_LABEL_CHARS + 1);
    let outcome = store.edit_labels(id, ann.id, &[long], &[], NOW).await?;
    assert!(
        matches!(&outcome, LabelOutcome::Refused(why) if why.contains(&MAX_LABEL_CHARS.to_string())),
        "{outcome:?}"
    );
    let many: Vec<String> = (0..MAX_LABELS).map(|index| format!("label {index}")).collect();
    let outcome = store.edit_labels(id, ann.id, &many, &[], NOW).await?;
    assert!(matches!(&outcome, LabelOutcome::Refused(_)), "{outcome:?}");
    assert_eq!(stored_labels().await?, ["billing issue", "urgent"]);
    assert_eq!(last_seq().await?, before + 2);

    // Two edits at once: each applies to what the other stored, so both labels stay.
    let (refund, callback, urgent) = (labels(&["refund"]), labels(&["callback"]), labels(&["urgent"]));
    let (one, two) = tokio::join!(
        store.edit_labels(id, ann.id, &refund, &[], NOW),
        store.edit_labels(id, ann.id, &callback, &urgent, NOW),
    );
    assert!(matches!(one?, LabelOutcome::Changed(_)) && matches!(two?, LabelOutcome::Changed(_)));
    let mut now = stored_labels().await?;
    now.sort();
    assert_eq!(now, ["billing issue", "callback", "refund"]);
    let seqs: Vec<u64> = store.events_after(id, before + 2, 10).await?.iter().map(|event| event.seq).collect();
    assert_eq!(seqs, [before + 3, before + 4]);
    Ok(())
}
