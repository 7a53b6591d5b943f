//! The hub's scenarios, each ending with [`Hub::check_invariants`].

use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use baton_shared::api::{Role, User};
use baton_shared::model::{Change, ConversationEvent};
use baton_shared::protocol::{ServerMsg, Teammate};
use baton_shared::{ConversationId, UserId};

use super::*;

/// Remembers saved drafts.
#[derive(Default)]
struct Drafts(StdMutex<Vec<String>>);

impl DraftSaver for Drafts {
    fn save(&self, _conversation: ConversationId, _user: &Teammate, body: String) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(body);
    }
}

fn user(id: i64, name: &str, role: Role) -> User {
    User { id: UserId(id), name: name.into(), email: format!("{id}@x.test"), role, disabled: false, created_at: 0 }
}

/// The messages queued for a socket since the last call, parsed.
fn received(connection: &Connection) -> Vec<ServerMsg> {
    let (frames, _) = connection.queue.drain();
    frames.iter().filter_map(|frame| serde_json::from_str(frame.as_str()).ok()).collect()
}

fn typing_flags(messages: &[ServerMsg]) -> Vec<bool> {
    messages
        .iter()
        .filter_map(|m| if let ServerMsg::Typing { typing, .. } = m { Some(*typing) } else { None })
        .collect()
}

fn drafts(messages: &[ServerMsg]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|m| if let ServerMsg::Draft { body, .. } = m { Some(body.clone()) } else { None })
        .collect()
}

/// Lets spawned timer tasks run at the current (paused) instant.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn typing_expires_by_itself_and_drafts_are_throttled_to_supervisors() {
    let saved = Arc::new(Drafts::default());
    let hub = Hub::new(HubConfig::default(), Clock::Wall, saved.clone());
    let conversation = ConversationId(7);
    let alice = hub.connect(&user(1, "Alice", Role::Agent), 1);
    let bob = hub.connect(&user(2, "Bob", Role::Agent), 2);
    let sam = hub.connect(&user(3, "Sam", Role::Supervisor), 3);
    hub.open(&bob, conversation);
    hub.follow_inbox(&sam);
    received(&bob);
    received(&sam);

    hub.typing(conversation, &alice.user, "H".into());
    settle().await;
    let (to_bob, to_sam) = (received(&bob), received(&sam));
    assert_eq!(typing_flags(&to_bob), [true]);
    assert_eq!(typing_flags(&to_sam), [true]);
    assert!(drafts(&to_bob).is_empty(), "agents never get drafts");
    assert_eq!(drafts(&to_sam), ["H"]);

    // Three keystrokes within the draft interval: one update, with the newest text, when due.
    tokio::time::advance(Duration::from_millis(50)).await;
    hub.typing(conversation, &alice.user, "He".into());
    hub.typing(conversation, &alice.user, "Hel".into());
    hub.typing(conversation, &alice.user, "Hell".into());
    settle().await;
    assert!(drafts(&received(&sam)).is_empty(), "throttled");
    assert_eq!(hub.check_invariants(), Ok(()));
    tokio::time::advance(Duration::from_millis(200)).await;
    settle().await;
    assert_eq!(drafts(&received(&sam)), ["Hell"]);

    // Typing holds while keystrokes come, and stops by itself 5 s after the last one.
    tokio::time::advance(Duration::from_secs(4)).await;
    settle().await;
    assert!(hub.is_typing(conversation, alice.user.id));
    tokio::time::advance(Duration::from_millis(800)).await;
    settle().await;
    assert!(!hub.is_typing(conversation, alice.user.id));
    assert_eq!(typing_flags(&received(&bob)), [false]);
    assert_eq!(typing_flags(&received(&sam)), [false]);
    assert_eq!(*saved.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner), ["H", "Hell"]);

    assert_eq!(hub.check_invariants(), Ok(()));

    // A new keystroke starts a new typing session.
    hub.typing(conversation, &alice.user, "Hello".into());
    settle().await;
    assert_eq!(typing_flags(&received(&bob)), [true]);
    assert_eq!(hub.check_invariants(), Ok(()));

    // Typing outlives its user's socket until its timer ends it.
    hub.disconnect(&alice);
    assert!(hub.is_typing(conversation, alice.user.id));
    assert_eq!(hub.check_invariants(), Ok(()));
    tokio::time::advance(HubConfig::default().typing_timeout).await;
    settle().await;
    assert!(!hub.is_typing(conversation, alice.user.id));
    assert_eq!(hub.check_invariants(), Ok(()));
}

#[tokio::test]
async fn presence_counts_sockets() {
    let hub = Hub::new(HubConfig::default(), Clock::Wall, Arc::new(Drafts::default()));
    let watcher = hub.connect(&user(9, "Watcher", Role::Agent), 4);
    let first = hub.connect(&user(1, "Alice", Role::Agent), 5);
    let second = hub.connect(&user(1, "Alice", Role::Agent), 6);
    assert!(hub.is_online(UserId(1)));
    let presence_of = |messages: Vec<ServerMsg>| -> Vec<(UserId, bool)> {
        messages
            .into_iter()
            .filter_map(|m| if let ServerMsg::Presence { presence } = m { Some(presence) } else { None })
            .flatten()
            .map(|presence| (presence.user.id, presence.online))
            .collect()
    };
    hub.flush_presence();
    let mut online = presence_of(received(&watcher));
    online.sort();
    assert_eq!(online, [(UserId(1), true), (UserId(9), true)], "gathered into one frame");
    hub.disconnect(&first);
    hub.flush_presence();
    assert!(hub.is_online(UserId(1)), "one tab left");
    assert!(presence_of(received(&watcher)).is_empty(), "closing one of two tabs announces nothing");
    hub.disconnect(&second);
    hub.flush_presence();
    assert!(!hub.is_online(UserId(1)));
    assert_eq!(presence_of(received(&watcher)), [(UserId(1), false)]);
    assert_eq!(hub.check_invariants(), Ok(()));
}

#[tokio::test(start_paused = true)]
async fn presence_goes_out_when_enough_changed_or_the_first_change_waited_long_enough() {
    let hub = Hub::new(HubConfig::default(), Clock::Wall, Arc::new(Drafts::default()));
    assert_eq!(hub.presence_interval(), PRESENCE_INTERVAL);
    assert!(!hub.presence_due(), "nothing gathered");
    let watcher = hub.connect(&user(1, "Watcher", Role::Agent), 1);
    assert!(hub.presence_due(), "with few sockets, any change is worth a frame");
    hub.flush_presence();
    assert!(!hub.presence_due());
    let _ = received(&watcher);

    // A shift starts: 3,000 sockets.
    let many = (PRESENCE_FRAMES_PER_SECOND / 10 * 3) as i64;
    let sockets: Vec<_> = (2..=many).map(|id| hub.connect(&user(id, "Agent", Role::Agent), 1)).collect();
    assert_eq!(hub.presence_interval(), Duration::from_millis(300), "3,000 sockets at 10,000 frames/s");
    assert!(hub.presence_due(), "everyone came online: more than a tenth of the sockets");
    hub.flush_presence();
    let frames: Vec<usize> = [&watcher, &sockets[0], &sockets[1]].iter().map(|socket| received(socket).len()).collect();
    assert_eq!(frames, [1, 1, 1], "every arrival in one frame");
    let greeting = hub.online_frame().map(|frame| frame.as_str().matches("\"online\":true").count());
    assert_eq!(greeting, Some(many as usize), "a new socket is greeted with everyone online, in one frame");

    // One person changes: it waits for the interval, or for enough others.
    hub.set_status(UserId(2), baton_shared::protocol::PresenceStatus::Busy);
    tokio::time::advance(Duration::from_millis(299)).await;
    assert!(!hub.presence_due(), "one change among 3,000 sockets waits");
    tokio::time::advance(Duration::from_millis(1)).await;
    assert!(hub.presence_due(), "but no longer than the interval");
    hub.flush_presence();
    for id in 2..(2 + many / STORM_FLUSHES as i64) {
        assert!(!hub.presence_due(), "{} changes are not yet a tenth", id - 2);
        hub.set_status(UserId(id), baton_shared::protocol::PresenceStatus::Away);
    }
    assert!(hub.presence_due(), "a tenth of the sockets changed: out at the next tick");
}

fn viewer_ids(hub: &Hub, conversation: ConversationId) -> Vec<UserId> {
    hub.viewers(conversation).iter().map(|viewer| viewer.id).collect()
}

fn assigned(conversation: ConversationId, seq: u64, assignee: Option<UserId>) -> ConversationEvent {
    ConversationEvent {
        conversation_id: conversation,
        seq,
        at: 0,
        actor: None,
        change: Change::Assigned { assignee, routing: None },
    }
}

#[tokio::test]
async fn subscriptions_follow_the_sockets_and_nothing_is_left_behind() {
    let hub = Hub::new(HubConfig::default(), Clock::Wall, Arc::new(Drafts::default()));
    let conversation = ConversationId(1);
    let alice_tab = hub.connect(&user(1, "Alice", Role::Agent), 1);
    let alice_other_tab = hub.connect(&user(1, "Alice", Role::Agent), 2);
    let bob = hub.connect(&user(2, "Bob", Role::Agent), 3);
    let sam = hub.connect(&user(3, "Sam", Role::Supervisor), 4);
    hub.follow_inbox(&sam);
    assert!(hub.open(&alice_tab, conversation));
    assert!(!hub.open(&alice_tab, conversation), "open already");
    assert!(hub.open(&alice_other_tab, conversation));
    assert!(hub.open(&bob, conversation));
    assert!(hub.open(&bob, ConversationId(2)));
    assert_eq!(viewer_ids(&hub, conversation), [UserId(1), UserId(2)]);
    assert_eq!(hub.check_invariants(), Ok(()));

    hub.close(&alice_tab, conversation);
    assert_eq!(viewer_ids(&hub, conversation), [UserId(1), UserId(2)], "Alice's other tab still views it");
    hub.disconnect(&alice_other_tab);
    assert_eq!(viewer_ids(&hub, conversation), [UserId(2)]);
    assert_eq!(hub.check_invariants(), Ok(()));

    for connection in [&alice_tab, &bob, &sam] {
        hub.disconnect(connection);
    }
    assert_eq!(hub.check_invariants(), Ok(()));
    let subscriptions = &hub.inner.subscriptions;
    assert!(subscriptions.followers.is_empty() && subscriptions.viewers.is_empty() && subscriptions.inbox.is_empty());
    assert_eq!(hub.connection_count(), 0);
    assert!(hub.presence().iter().all(|presence| !presence.online));
}

#[tokio::test]
async fn an_assignment_stops_those_who_may_no_longer_see_the_conversation() {
    let hub = Hub::new(HubConfig::default(), Clock::Wall, Arc::new(Drafts::default()));
    let conversation = ConversationId(5);
    let alice = hub.connect(&user(1, "Alice", Role::Agent), 1);
    let bob = hub.connect(&user(2, "Bob", Role::Agent), 2);
    let sam = hub.connect(&user(3, "Sam", Role::Supervisor), 3);
    hub.follow_inbox(&sam);
    hub.open(&alice, conversation);
    hub.open(&bob, conversation);
    for connection in [&alice, &bob, &sam] {
        received(connection);
    }

    hub.publish(&assigned(conversation, 1, Some(UserId(1))));
    let events = |messages: Vec<ServerMsg>| messages.iter().filter(|m| matches!(m, ServerMsg::Event { .. })).count();
    assert_eq!(events(received(&bob)), 1, "Bob hears of the assignment that takes the conversation from him");
    assert_eq!(events(received(&sam)), 1);
    assert_eq!(viewer_ids(&hub, conversation), [UserId(1)]);
    assert_eq!(hub.check_invariants(), Ok(()));

    // The conversation is unassigned: Bob may see it again, and opens it.
    hub.publish(&assigned(conversation, 2, None));
    assert!(hub.open(&bob, conversation));
    assert_eq!(viewer_ids(&hub, conversation), [UserId(1), UserId(2)]);
    assert_eq!(hub.check_invariants(), Ok(()));
}

#[tokio::test]
async fn the_check_names_each_broken_rule() {
    let hub = Hub::new(HubConfig::default(), Clock::Wall, Arc::new(Drafts::default()));
    let alice = hub.connect(&user(1, "Alice", Role::Agent), 1);
    hub.open(&alice, ConversationId(1));
    assert_eq!(hub.check_invariants(), Ok(()));
    let subscriptions = &hub.inner.subscriptions;

    // A follower that is not an open socket (and so not a viewer either).
    subscriptions.followers.entry(ConversationId(1)).or_default().insert(99);
    let error = hub.check_invariants().expect_err("a stray follower");
    assert!(error.contains("follower 99 of conversation 1 is not an open socket"), "{error}");
    subscriptions.followers.entry(ConversationId(1)).or_default().remove(&99);

    // A viewer whose socket does not follow the conversation.
    let bob = Teammate { id: UserId(2), name: "Bob".into() };
    subscriptions.viewers.entry(ConversationId(1)).or_default().insert(bob.id, (bob.clone(), 1));
    let error = hub.check_invariants().expect_err("a viewer who follows nothing");
    assert!(error.contains("user 2 counted as viewing conversation 1 from 1 sockets, follows it from 0"), "{error}");
    subscriptions.viewers.entry(ConversationId(1)).or_default().remove(&bob.id);

    // A socket that opened a conversation it does not follow.
    alice.opened().insert(ConversationId(3));
    let error = hub.check_invariants().expect_err("opened, not followed");
    assert!(error.contains("socket 1 opened conversation 3 but does not follow it"), "{error}");
    alice.opened().remove(&ConversationId(3));

    // A user counted online with more sockets than they have, and an inbox follower gone.
    hub.inner.connections.presence.entry(UserId(1)).and_modify(|entry| entry.sockets = 2);
    let gone = hub.connect(&user(4, "Gone", Role::Supervisor), 2);
    hub.follow_inbox(&gone);
    hub.inner.connections.sockets.remove(&gone.id);
    let error = hub.check_invariants().expect_err("two broken rules");
    assert!(error.contains("user 1 counted with 2 sockets, has 1"), "{error}");
    assert!(error.contains("inbox follower 2 is not an open socket"), "{error}");
}
