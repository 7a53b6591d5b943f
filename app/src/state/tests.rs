//! [`Inbox::apply`] on hand-made server messages: order and repeats by `seq`, gaps reported,
//! late messages placed by when they were sent, unread counts, claims, statuses, notes,
//! assignment away, typing and drafts; and how far each message reaches ([`Reach`]).

use baton_shared::api::{Me, Role};
use baton_shared::model::{
    Change, Claim, Contact, ConversationEvent, ConversationStatus, DeliveryError, DeliveryStatus, Direction, Message,
    Note,
};
use baton_shared::protocol::{ServerMsg, Teammate};
use baton_shared::{ContactId, ConversationId, MessageId, NoteId, UserId};

use super::{Applied, Inbox, Notice, Posted, Reach};

const C: ConversationId = ConversationId(12);

fn inbox(role: Role) -> Inbox {
    Inbox::new(Me { id: UserId(2), name: "Alice".into(), email: "alice@example.com".into(), role, teams: vec![] })
}

fn event(seq: u64, change: Change) -> ServerMsg {
    ServerMsg::Event {
        event: ConversationEvent { conversation_id: C, seq, at: 1_000 + seq as i64, actor: None, change },
    }
}

fn opened() -> ServerMsg {
    let contact = Contact {
        id: ContactId(5),
        wa_id: "15550002222".into(),
        profile_name: "Ana".into(),
        last_inbound_at: Some(1_000),
        window_closed_at: None,
        display_name: None,
        blocked: false,
    };
    event(1, Change::Opened { contact, team: None })
}

fn message(seq: u64, direction: Direction, body: &str) -> Message {
    Message {
        id: MessageId(seq as i64 * 10),
        conversation_id: C,
        seq,
        direction,
        kind: "text".into(),
        body: body.into(),
        author: (direction == Direction::Outbound).then_some(UserId(2)),
        status: if direction == Direction::Inbound { DeliveryStatus::Received } else { DeliveryStatus::Pending },
        created_at: 2_000 + seq as i64,
        sent_at: 2_000 + seq as i64,
        content: None,
        wa_message_id: None,
        reply_to: None,
        error: None,
        automation: None,
    }
}

/// A customer message of event `seq`, written at `sent_at` (ms): not in `seq` order.
fn sent(seq: u64, sent_at: i64, body: &str) -> Message {
    Message { sent_at, created_at: sent_at, ..message(seq, Direction::Inbound, body) }
}

fn bodies(inbox: &Inbox) -> Vec<&str> {
    inbox.conversations[&C].messages.iter().map(|message| message.body.as_str()).collect()
}

fn preview(inbox: &Inbox) -> Option<&str> {
    inbox.conversations[&C].preview.as_ref().map(|message| message.body.as_str())
}

fn added(seq: u64, direction: Direction, body: &str) -> ServerMsg {
    event(seq, Change::MessageAdded { message: message(seq, direction, body) })
}

#[test]
fn events_apply_once_in_order_and_gaps_are_reported() {
    let mut inbox = inbox(Role::Agent);
    assert_eq!(
        inbox.apply(&added(2, Direction::Inbound, "before the opening")),
        Applied::Gap { conversation: C, after_seq: 0 }
    );
    assert_eq!(inbox.apply(&opened()), Applied::Changed);
    assert_eq!(inbox.apply(&added(2, Direction::Inbound, "Hello")), Applied::Changed);
    assert_eq!(inbox.apply(&added(2, Direction::Inbound, "Hello")), Applied::Nothing, "a repeat");
    assert_eq!(inbox.apply(&added(4, Direction::Inbound, "too far")), Applied::Gap { conversation: C, after_seq: 2 });
    assert_eq!(inbox.apply(&added(3, Direction::Inbound, "How are you?")), Applied::Changed);
    let view = &inbox.conversations[&C];
    let bodies: Vec<&str> = view.messages.iter().map(|message| message.body.as_str()).collect();
    assert_eq!(bodies, ["Hello", "How are you?"]);
    assert_eq!(view.conversation.last_seq, 3);
    assert_eq!(inbox.cursors(), [(C, 3)]);
}

#[test]
fn unread_counts_customer_messages_while_the_conversation_is_not_open() {
    let mut inbox = inbox(Role::Agent);
    inbox.apply(&opened());
    inbox.apply(&added(2, Direction::Inbound, "one"));
    inbox.apply(&added(3, Direction::Inbound, "two"));
    assert_eq!(inbox.conversations[&C].unread, 2);
    inbox.set_open(Some(C));
    assert_eq!(inbox.conversations[&C].unread, 0);
    inbox.apply(&added(4, Direction::Inbound, "three"));
    assert_eq!(inbox.conversations[&C].unread, 0, "read as it arrives");
    assert_eq!(inbox.conversations[&C].conversation.last_message_at, Some(2_004));
}

#[test]
fn claims_statuses_and_ticks_follow_their_events() {
    let mut inbox = inbox(Role::Agent);
    inbox.apply(&opened());
    let claim = Claim { holder: UserId(3), holder_name: "Bob".into(), lease_until: 9_000, active_at: 1_000 };
    inbox.apply(&event(2, Change::Claimed { claim: claim.clone() }));
    assert_eq!(inbox.conversations[&C].conversation.claim, Some(claim));
    inbox.apply(&event(3, Change::Released { holder: UserId(3), expired: true }));
    assert_eq!(inbox.conversations[&C].conversation.claim, None);
    inbox.apply(&added(4, Direction::Outbound, "On its way"));
    let failed = DeliveryError { code: 131047, message: "Send a template.".into() };
    let status =
        Change::MessageStatus { message_id: MessageId(40), status: DeliveryStatus::Failed, error: Some(failed) };
    inbox.apply(&event(5, status));
    let sent = &inbox.conversations[&C].messages[0];
    assert_eq!(sent.status, DeliveryStatus::Failed);
    assert_eq!(sent.error.as_ref().map(|error| error.code), Some(131047));
    inbox.apply(&event(6, Change::WindowClosed { since: 2_004 }));
    assert_eq!(inbox.conversations[&C].conversation.contact.window_closed_at, Some(2_004));
    inbox.apply(&added(7, Direction::Inbound, "I am back"));
    assert_eq!(inbox.conversations[&C].conversation.contact.window_closed_at, None, "the customer reopened it");
    inbox.apply(&event(8, Change::StatusChanged { status: ConversationStatus::Resolved }));
    assert_eq!(inbox.conversations[&C].conversation.status, ConversationStatus::Resolved);
    inbox.apply(&event(9, Change::Labeled { labels: vec!["vip".into(), "billing".into()] }));
    assert_eq!(inbox.conversations[&C].conversation.labels, ["vip", "billing"]);
    inbox.apply(&event(10, Change::Labeled { labels: vec![] }));
    assert!(inbox.conversations[&C].conversation.labels.is_empty(), "the whole list, not a difference");
}

#[test]
fn notes_are_added_edited_and_deleted() {
    let mut inbox = inbox(Role::Agent);
    inbox.apply(&opened());
    let note = |version: u32, body: &str| Note {
        id: NoteId(3),
        conversation_id: C,
        author: UserId(2),
        body: body.into(),
        version,
        created_at: 1,
        updated_at: version as i64,
    };
    inbox.apply(&event(2, Change::NoteAdded { note: note(1, "VIP") }));
    inbox.apply(&event(3, Change::NoteEdited { note: note(2, "VIP since 2019") }));
    assert_eq!(inbox.conversations[&C].notes[&NoteId(3)].body, "VIP since 2019");
    inbox.apply(&event(4, Change::NoteDeleted { note_id: NoteId(3) }));
    assert!(inbox.conversations[&C].notes.is_empty());
}

#[test]
fn a_conversation_assigned_to_a_teammate_leaves_an_agents_inbox_but_not_a_supervisors() {
    let mut agent = inbox(Role::Agent);
    let mut supervisor = inbox(Role::Supervisor);
    for inbox in [&mut agent, &mut supervisor] {
        inbox.apply(&opened());
        inbox.set_open(Some(C));
        inbox.apply(&event(2, Change::Assigned { assignee: Some(UserId(3)), routing: None }));
    }
    assert!(agent.conversations.is_empty());
    assert_eq!(agent.open, None);
    assert_eq!(supervisor.conversations[&C].conversation.assignee, Some(UserId(3)));
    assert_eq!(supervisor.unassigned().len(), 0);
    assert_eq!(supervisor.all().len(), 1);

    let mut mine = inbox(Role::Agent);
    mine.apply(&opened());
    mine.apply(&event(2, Change::Assigned { assignee: Some(UserId(2)), routing: None }));
    assert_eq!(mine.mine().len(), 1);
}

#[test]
fn typing_and_drafts_come_and_go() {
    let mut inbox = inbox(Role::Supervisor);
    inbox.apply(&opened());
    let bob = Teammate { id: UserId(3), name: "Bob".into() };
    inbox.apply(&ServerMsg::Typing { conversation_id: C, user: bob.clone(), typing: true });
    inbox.apply(&ServerMsg::Draft { conversation_id: C, user: bob.clone(), body: "Hel".into() });
    assert_eq!(inbox.conversations[&C].typing, std::slice::from_ref(&bob));
    assert_eq!(inbox.conversations[&C].drafts.get(&UserId(3)).map(String::as_str), Some("Hel"));
    inbox.apply(&ServerMsg::Typing { conversation_id: C, user: bob.clone(), typing: false });
    assert!(inbox.conversations[&C].typing.is_empty());
    assert!(inbox.conversations[&C].drafts.is_empty());
    inbox.apply(&ServerMsg::Viewers { conversation_id: C, viewers: vec![bob.clone()] });
    assert_eq!(inbox.conversations[&C].viewers, std::slice::from_ref(&bob));
    inbox.apply(&ServerMsg::Mentioned { conversation_id: C, note_id: NoteId(1), by: bob.clone() });
    let named = Notice::Mentioned { conversation: C, customer: Some("Ana".into()), by: bob.clone() };
    assert_eq!(inbox.notices, [Posted { id: 1, notice: named }], "the notice names the customer");
}

#[test]
fn notices_are_dismissed_by_their_own_id() {
    let mut inbox = inbox(Role::Agent);
    let bob = Teammate { id: UserId(3), name: "Bob".into() };
    // A conversation the app does not hold yet: the notice says so rather than naming nobody.
    inbox.apply(&ServerMsg::Mentioned { conversation_id: C, note_id: NoteId(1), by: bob.clone() });
    inbox.apply(&ServerMsg::ChannelAlert { message: "Paused".into(), paused: true });
    inbox.apply(&ServerMsg::Mentioned { conversation_id: C, note_id: NoteId(2), by: bob.clone() });
    let ids: Vec<u64> = inbox.notices.iter().map(|posted| posted.id).collect();
    assert_eq!(ids, [1, 2, 3]);
    assert!(matches!(&inbox.notices[0].notice, Notice::Mentioned { customer: None, .. }));
    // The first expires, then the user dismisses it too (its timer and click race): only it goes.
    inbox.dismiss(1);
    inbox.dismiss(1);
    let ids: Vec<u64> = inbox.notices.iter().map(|posted| posted.id).collect();
    assert_eq!(ids, [2, 3]);
    inbox.apply(&ServerMsg::Mentioned { conversation_id: C, note_id: NoteId(3), by: bob });
    assert_eq!(inbox.notices.last().map(|posted| posted.id), Some(4), "ids are never reused");
}

fn conversation_at(last_seq: u64) -> baton_shared::model::Conversation {
    let mut inbox = inbox(Role::Agent);
    inbox.apply(&opened());
    let mut conversation = inbox.conversations[&C].conversation.clone();
    conversation.last_seq = last_seq;
    conversation
}

#[test]
fn the_list_adds_conversations_and_the_stream_continues_from_its_seq() {
    use baton_shared::api::ConversationSummary;
    let mut inbox = inbox(Role::Agent);
    let summary = ConversationSummary {
        conversation: conversation_at(3),
        last_message: Some(message(3, Direction::Inbound, "third")),
    };
    inbox.load_list(vec![summary.clone()]);
    assert_eq!(inbox.conversations[&C].preview.as_ref().map(|m| m.body.as_str()), Some("third"));
    assert_eq!(inbox.cursors(), vec![(C, 3)]);
    // Events the list already covers are repeats; the next one applies and updates the preview.
    assert_eq!(inbox.apply(&added(3, Direction::Inbound, "third")), Applied::Nothing);
    assert_eq!(inbox.apply(&added(4, Direction::Inbound, "fourth")), Applied::Changed);
    assert_eq!(inbox.conversations[&C].preview.as_ref().map(|m| m.body.as_str()), Some("fourth"));
    // A list read before that event does not roll the conversation back.
    inbox.load_list(vec![summary]);
    assert_eq!(inbox.conversations[&C].conversation.last_seq, 4);
    assert!(!inbox.conversations[&C].history_loaded, "only the live tail is held so far");
}

#[test]
fn a_history_older_than_the_stream_is_refused_and_a_current_one_replaces_the_tail() {
    use baton_shared::api::ConversationDetail;
    let mut inbox = inbox(Role::Agent);
    inbox.apply(&opened());
    inbox.conversations.get_mut(&C).expect("held").history_loaded = false;
    inbox.apply(&added(2, Direction::Inbound, "two"));
    inbox.apply(&added(3, Direction::Inbound, "three"));
    let stale = ConversationDetail {
        conversation: conversation_at(2),
        messages: vec![message(2, Direction::Inbound, "two")],
        has_earlier: false,
        notes: Vec::new(),
        draft: String::new(),
        routing: Vec::new(),
    };
    assert!(!inbox.load_detail(stale), "read before event 3: load it again");
    let current = ConversationDetail {
        conversation: conversation_at(4),
        messages: vec![
            message(2, Direction::Inbound, "two"),
            message(3, Direction::Inbound, "three"),
            message(4, Direction::Outbound, "four"),
        ],
        has_earlier: false,
        notes: Vec::new(),
        draft: "half-written".into(),
        routing: Vec::new(),
    };
    assert!(inbox.load_detail(current));
    let view = &inbox.conversations[&C];
    assert!(view.history_loaded);
    assert_eq!(view.saved_draft, "half-written");
    assert_eq!(view.messages.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["two", "three", "four"]);
    // Event 4 arriving late from the stream is not shown twice.
    assert_eq!(inbox.apply(&added(4, Direction::Outbound, "four")), Applied::Nothing);
    assert_eq!(inbox.conversations[&C].messages.len(), 3);
}

#[test]
fn a_new_socket_forgets_presence_viewers_and_typing_and_the_list_drops_what_went_away() {
    use baton_shared::api::ConversationSummary;
    let mut inbox = inbox(Role::Supervisor);
    inbox.apply(&opened());
    let bob = Teammate { id: UserId(9), name: "Bob".into() };
    inbox.apply(&ServerMsg::Typing { conversation_id: C, user: bob.clone(), typing: true });
    inbox.apply(&ServerMsg::Draft { conversation_id: C, user: bob.clone(), body: "hel".into() });
    inbox.apply(&ServerMsg::Viewers { conversation_id: C, viewers: vec![bob.clone()] });
    inbox.apply(&ServerMsg::Presence {
        presence: vec![baton_shared::protocol::Presence {
            user: bob,
            role: Role::Agent,
            online: true,
            status: baton_shared::protocol::PresenceStatus::Available,
        }],
    });
    let me = inbox.me.clone();
    inbox.apply(&ServerMsg::Hello { me, server_version: "test".into() });
    let view = &inbox.conversations[&C];
    assert!(view.typing.is_empty() && view.drafts.is_empty() && view.viewers.is_empty());
    assert!(inbox.presence.is_empty(), "presence is sent afresh after hello");

    // The list no longer has C (assigned away while offline): it goes, and another comes.
    inbox.set_open(Some(C));
    let mut other = conversation_at(2);
    other.id = ConversationId(13);
    assert!(!inbox.list_loaded);
    inbox.load_list(vec![ConversationSummary { conversation: other, last_message: None }]);
    assert!(inbox.list_loaded);
    assert_eq!(inbox.conversations.keys().copied().collect::<Vec<_>>(), [ConversationId(13)]);
    assert_eq!(inbox.open, None);
}

#[test]
fn a_reaction_is_no_preview_and_no_unread() {
    let mut inbox = inbox(Role::Agent);
    inbox.apply(&opened());
    inbox.apply(&added(2, Direction::Inbound, "hello"));
    let mut reaction = message(3, Direction::Inbound, "");
    reaction.content = Some(Box::new(baton_shared::model::MessageContent::Reaction {
        target: "wamid.x".into(),
        emoji: Some("👍".into()),
    }));
    inbox.apply(&event(3, Change::MessageAdded { message: reaction }));
    let view = &inbox.conversations[&C];
    assert_eq!(view.unread, 1);
    assert_eq!(view.preview.as_ref().map(|m| m.body.as_str()), Some("hello"));
    assert_eq!(view.messages.len(), 2, "kept, for the timeline to put on its message");
}

#[test]
fn earlier_pages_go_before_what_is_held_once() {
    use baton_shared::api::{ConversationDetail, MessagePage};
    let mut inbox = inbox(Role::Agent);
    inbox.apply(&opened());
    let detail = ConversationDetail {
        conversation: conversation_at(5),
        messages: vec![message(4, Direction::Inbound, "four"), message(5, Direction::Inbound, "five")],
        has_earlier: true,
        notes: Vec::new(),
        draft: String::new(),
        routing: Vec::new(),
    };
    assert!(inbox.load_detail(detail));
    assert!(inbox.conversations[&C].has_earlier);
    // The page overlaps what is held (a message arrived between the two reads): no repeats.
    let page = MessagePage {
        messages: vec![
            message(2, Direction::Inbound, "two"),
            message(3, Direction::Inbound, "three"),
            message(4, Direction::Inbound, "four"),
        ],
        has_earlier: false,
    };
    inbox.prepend_earlier(C, page);
    let view = &inbox.conversations[&C];
    assert_eq!(view.messages.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["two", "three", "four", "five"]);
    assert!(!view.has_earlier);
}

#[test]
fn a_late_message_is_inserted_at_its_place_and_moves_neither_the_preview_nor_the_time_back() {
    // The customer wrote one, two, three at 10 s, 11 s, 12 s; WhatsApp delivered three, one, two.
    let mut inbox = inbox(Role::Agent);
    inbox.apply(&opened());
    inbox.apply(&event(2, Change::MessageAdded { message: sent(2, 12_000, "three") }));
    assert_eq!(inbox.apply(&event(3, Change::MessageAdded { message: sent(3, 10_000, "one") })), Applied::Changed);
    assert_eq!(bodies(&inbox), ["one", "three"], "inserted at its place, not appended");
    assert_eq!(preview(&inbox), Some("three"), "an older message is not the newest");
    assert_eq!(inbox.conversations[&C].conversation.last_message_at, Some(12_000), "not moved back");
    inbox.apply(&event(4, Change::MessageAdded { message: sent(4, 11_000, "two") }));
    assert_eq!(bodies(&inbox), ["one", "two", "three"]);
    assert_eq!(preview(&inbox), Some("three"));
    assert_eq!(inbox.conversations[&C].conversation.last_message_at, Some(12_000));
    assert_eq!(inbox.conversations[&C].unread, 3, "late messages are news all the same");
    assert_eq!(inbox.cursors(), [(C, 4)], "events still apply by seq");

    // A reply after them is the newest; a message written in the same millisecond as "three"
    // goes after it (then by seq), before the reply.
    let reply = Message { sent_at: 13_000, ..message(5, Direction::Outbound, "Got them") };
    inbox.apply(&event(5, Change::MessageAdded { message: reply }));
    inbox.apply(&event(6, Change::MessageAdded { message: sent(6, 12_000, "three, again") }));
    assert_eq!(bodies(&inbox), ["one", "two", "three", "three, again", "Got them"]);
    assert_eq!(preview(&inbox), Some("Got them"));
    assert_eq!(inbox.conversations[&C].conversation.last_message_at, Some(13_000));
}

#[test]
fn a_late_message_older_than_everything_held_waits_for_its_page_unless_all_is_held() {
    use baton_shared::api::{ConversationDetail, MessagePage};
    let mut inbox = inbox(Role::Agent);
    inbox.apply(&opened());
    let mut conversation = conversation_at(5);
    conversation.last_message_at = Some(5_000);
    let detail = ConversationDetail {
        conversation,
        messages: vec![sent(4, 4_000, "four"), sent(5, 5_000, "five")],
        has_earlier: true,
        notes: Vec::new(),
        draft: String::new(),
        routing: Vec::new(),
    };
    assert!(inbox.load_detail(detail));
    // Written before "four", where the server holds earlier messages: it belongs to the page
    // before, and showing it first would make that page's cursor skip what lies between.
    inbox.apply(&event(6, Change::MessageAdded { message: sent(6, 2_500, "late") }));
    assert_eq!(bodies(&inbox), ["four", "five"]);
    assert_eq!(preview(&inbox), Some("five"));
    // The page before "four" (cut by place, so it has the late one) brings it, once.
    let page = MessagePage {
        messages: vec![sent(2, 2_000, "two"), sent(6, 2_500, "late"), sent(3, 3_000, "three")],
        has_earlier: false,
    };
    inbox.prepend_earlier(C, page);
    assert_eq!(bodies(&inbox), ["two", "late", "three", "four", "five"]);
    // Now the whole history is held: an even older late message goes first.
    inbox.apply(&event(7, Change::MessageAdded { message: sent(7, 1_000, "oldest") }));
    assert_eq!(bodies(&inbox), ["oldest", "two", "late", "three", "four", "five"]);
    assert_eq!(inbox.apply(&event(7, Change::MessageAdded { message: sent(7, 1_000, "oldest") })), Applied::Nothing);
    assert_eq!(inbox.conversations[&C].conversation.last_message_at, Some(5_000));
}

/// The live messages change one conversation's viewers, typing and drafts and nothing else: the
/// socket layer applies them without waking the whole inbox, so this must hold for every one.
#[test]
fn live_messages_reach_one_conversations_live_state_only() {
    let bob = Teammate { id: UserId(3), name: "Bob".into() };
    let other = ConversationId(13);
    let mut inbox = inbox(Role::Supervisor);
    inbox.apply(&opened());
    inbox.apply(&added(2, Direction::Inbound, "Hello"));
    inbox.apply(&ServerMsg::Event {
        event: ConversationEvent {
            conversation_id: other,
            seq: 1,
            at: 1_000,
            actor: None,
            change: Change::Opened {
                contact: Contact {
                    id: ContactId(6),
                    wa_id: "15550003333".into(),
                    profile_name: "Bea".into(),
                    last_inbound_at: None,
                    window_closed_at: None,
                    display_name: None,
                    blocked: false,
                },
                team: None,
            },
        },
    });
    let live = [
        ServerMsg::Typing { conversation_id: C, user: bob.clone(), typing: true },
        ServerMsg::Draft { conversation_id: C, user: bob.clone(), body: "Hel".into() },
        ServerMsg::Draft { conversation_id: C, user: bob.clone(), body: "Hello".into() },
        ServerMsg::Viewers { conversation_id: C, viewers: vec![bob.clone()] },
        ServerMsg::Typing { conversation_id: C, user: bob.clone(), typing: false },
    ];
    for message in &live {
        assert_eq!(Reach::of(message), Reach::Live(C), "{message:?}");
        let before = inbox.clone();
        assert_eq!(inbox.apply(message), Applied::Changed);
        // Everything but C's live state is as it was.
        let mut without_live = inbox.clone();
        let view = without_live.conversations.get_mut(&C).expect("held");
        let held = &before.conversations[&C];
        view.viewers = held.viewers.clone();
        view.typing = held.typing.clone();
        view.drafts = held.drafts.clone();
        assert_eq!(without_live, before, "{message:?} changed more than C's live state");
    }
    // Everything else reaches the inbox as a whole.
    assert_eq!(Reach::of(&added(3, Direction::Inbound, "again")), Reach::Inbox);
    assert_eq!(Reach::of(&ServerMsg::Hello { me: inbox.me.clone(), server_version: "1".into() }), Reach::Inbox);
}

#[test]
fn a_contact_change_renames_the_customer_everywhere_and_keeps_the_newest_record() {
    let mut inbox = inbox(Role::Agent);
    inbox.apply(&opened());
    let contact = inbox.conversations[&C].conversation.contact.clone();
    let record = |name: &str, blocked: bool, updated_at: i64| baton_shared::contacts::ContactRecord {
        contact: Contact { display_name: Some(name.into()), blocked, ..contact.clone() },
        phone: format!("+{}", contact.wa_id),
        email: String::new(),
        company: String::new(),
        labels: Vec::new(),
        attributes: Default::default(),
        created_at: 0,
        updated_at: Some(updated_at),
        conversations: Some(1),
    };
    let changed = ServerMsg::ContactChanged { contact: Box::new(record("Ana Lima", true, 20)) };
    assert_eq!(inbox.apply(&changed), Applied::Changed);
    let view = &inbox.conversations[&C];
    assert_eq!(view.customer_name(), "Ana Lima");
    assert!(view.conversation.contact.blocked);
    // A record older than the one held (an answer that crossed a push) does not replace it.
    inbox.learn_contact(record("Ana", false, 10));
    assert_eq!(inbox.contacts[&contact.id].contact.display_name.as_deref(), Some("Ana Lima"));
}
