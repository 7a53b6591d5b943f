//! Conversation store conformance, on SQLite and PostgreSQL: the event log's gap-free sequence,
//! idempotent inbound messages, claims as a compare-and-set lease, the send path's claim check,
//! traffic cop and idempotency keys, notes with optimistic versions, and drafts.

use std::collections::HashSet;
use std::sync::Arc;

use baton_server::store::conversations::{
    ClaimOutcome, DraftWrite, Handover, InboundOutcome, NewInbound, NewReply, NoteEditOutcome, ReplyOutcome,
};
use baton_server::store::{NewUser, Store, StoreError};
use baton_shared::api::{Role, User};
use baton_shared::model::{Change, ConversationStatus, Direction};
use baton_shared::{ConversationId, UserId};

baton_tests::on_both_backends!(
    inbound_messages_open_a_conversation_once,
    claims_are_exclusive_leases,
    one_of_fifty_simultaneous_claimers_wins,
    expired_leases_can_be_taken_and_are_swept,
    handovers_are_recorded,
    replies_need_the_claim_a_fresh_view_and_a_new_key,
    notes_refuse_stale_edits,
    concurrent_changes_get_gap_free_seqs,
    statuses_and_drafts,
);

const NOW: i64 = 1_764_000_000_000;
const LEASE: i64 = 30_000;

async fn user(store: &dyn Store, name: &str, role: Role) -> anyhow::Result<User> {
    let new = NewUser {
        email: format!("{}@x.test", name.to_lowercase()),
        name: name.into(),
        role,
        password_hash: "$argon2id$unused".into(),
    };
    Ok(store.create_user(&new, None, NOW).await?)
}

fn inbound(wa_id: &str, wamid: &str, body: &str, at: i64) -> NewInbound {
    NewInbound {
        wa_id: wa_id.into(),
        profile_name: format!("Customer {wa_id}"),
        wa_message_id: wamid.into(),
        kind: "text".into(),
        body: body.into(),
        at,
        ..Default::default()
    }
}

/// Records a customer message; returns its conversation.
async fn customer_writes(store: &dyn Store, wa_id: &str, wamid: &str, body: &str) -> anyhow::Result<ConversationId> {
    match store.record_inbound(&inbound(wa_id, wamid, body, NOW), NOW).await? {
        InboundOutcome::Recorded { conversation_id, .. } => Ok(conversation_id),
        InboundOutcome::Duplicate => anyhow::bail!("{wamid} was a duplicate"),
    }
}

fn draft(conversation: ConversationId, user: UserId, body: &str) -> DraftWrite {
    DraftWrite { conversation, user, body: body.into(), typed_at: NOW }
}

fn reply(id: ConversationId, author: UserId, key: &str, seen_seq: u64) -> NewReply {
    NewReply {
        conversation_id: id,
        author,
        body: format!("reply {key}"),
        idempotency_key: key.into(),
        seen_seq,
        force: false,
        content: Default::default(),
        reply_to: None,
    }
}

async fn inbound_messages_open_a_conversation_once(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let first = store.record_inbound(&inbound("15550001", "wamid.A", "Hello", NOW - 5), NOW).await?;
    let InboundOutcome::Recorded { conversation_id: id, events } = first else { anyhow::bail!("not recorded") };
    assert_eq!(events.iter().map(|event| event.seq).collect::<Vec<_>>(), [1, 2]);
    let Change::Opened { contact, .. } = &events[0].change else { anyhow::bail!("first event: {:?}", events[0]) };
    assert_eq!((contact.wa_id.as_str(), contact.profile_name.as_str()), ("15550001", "Customer 15550001"));
    let Change::MessageAdded { message } = &events[1].change else { anyhow::bail!("second event: {:?}", events[1]) };
    assert_eq!((message.direction, message.body.as_str(), message.seq), (Direction::Inbound, "Hello", 2));
    assert_eq!(message.created_at, NOW - 5, "the customer's own timestamp");

    let again = store.record_inbound(&inbound("15550001", "wamid.A", "Hello", NOW - 5), NOW + 1).await?;
    assert_eq!(again, InboundOutcome::Duplicate, "a redelivery records nothing");

    let second = store.record_inbound(&inbound("15550001", "wamid.B", "Anyone?", NOW + 10), NOW + 10).await?;
    let InboundOutcome::Recorded { conversation_id, events } = second else { anyhow::bail!("not recorded") };
    assert_eq!(conversation_id, id, "the open conversation continues");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].seq, 3);

    let log = store.events_after(id, 0, 100).await?;
    assert_eq!(log.iter().map(|event| event.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(store.events_after(id, 2, 100).await?.len(), 1);
    assert_eq!(store.events_after(id, 0, 2).await?.len(), 2, "limit");
    assert_eq!(store.messages(id).await?.len(), 2);

    let conversation = store.conversation(id).await?.ok_or_else(|| anyhow::anyhow!("conversation"))?;
    assert_eq!(conversation.last_seq, 3);
    assert_eq!(conversation.status, ConversationStatus::Open);
    assert_eq!(conversation.contact.last_inbound_at, Some(NOW + 10));
    assert_eq!(conversation.last_message_at, Some(NOW + 10));

    let other = customer_writes(&*store, "15550002", "wamid.C", "Hi").await?;
    assert_ne!(other, id);
    let listed: Vec<ConversationId> = store.conversations(false, 10).await?.into_iter().map(|c| c.id).collect();
    assert_eq!(listed, [id, other], "most recent activity first");
    Ok(())
}

async fn claims_are_exclusive_leases(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let alice = user(&*store, "Alice", Role::Agent).await?;
    let bob = user(&*store, "Bob", Role::Agent).await?;
    let id = customer_writes(&*store, "15550001", "wamid.A", "Hello").await?;

    let ClaimOutcome::Held { claim, event: Some(event) } = store.claim(id, alice.id, NOW + LEASE, NOW).await? else {
        anyhow::bail!("alice should win")
    };
    assert_eq!((claim.holder, claim.holder_name.as_str(), claim.lease_until), (alice.id, "Alice", NOW + LEASE));
    assert_eq!(event.seq, 3);
    assert!(matches!(event.change, Change::Claimed { .. }));

    let refused = store.claim(id, bob.id, NOW + LEASE, NOW + 1).await?;
    let ClaimOutcome::ClaimedByOther { claim } = refused else { anyhow::bail!("bob must be refused: {refused:?}") };
    assert_eq!(claim.holder_name, "Alice");

    let renewed = store.claim(id, alice.id, NOW + 2 * LEASE, NOW + 2).await?;
    assert!(matches!(renewed, ClaimOutcome::Held { event: None, .. }), "a renewal is no event: {renewed:?}");
    assert_eq!(store.renew_claims(&[alice.id, bob.id], NOW + 3 * LEASE, NOW + 3).await?, 1, "bob holds none");
    let conversation = store.conversation(id).await?.ok_or_else(|| anyhow::anyhow!("conversation"))?;
    assert_eq!(conversation.claim.map(|claim| claim.lease_until), Some(NOW + 3 * LEASE));

    assert_eq!(store.release(id, bob.id, NOW + 4).await?, None, "bob holds nothing to release");
    let released = store.release(id, alice.id, NOW + 5).await?.ok_or_else(|| anyhow::anyhow!("released"))?;
    assert_eq!(released.change, Change::Released { holder: alice.id, expired: false });
    assert!(matches!(store.claim(id, bob.id, NOW + LEASE, NOW + 6).await?, ClaimOutcome::Held { .. }));
    assert_eq!(store.conversation(id).await?.and_then(|c| c.claim).map(|c| c.holder), Some(bob.id));
    Ok(())
}

async fn one_of_fifty_simultaneous_claimers_wins(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let mut agents = Vec::new();
    for index in 0..50 {
        agents.push(user(&*store, &format!("Agent{index}"), Role::Agent).await?);
    }
    for round in 0..20 {
        let id = customer_writes(&*store, &format!("1555{round:04}"), &format!("wamid.{round}"), "Hi").await?;
        let barrier = Arc::new(tokio::sync::Barrier::new(agents.len()));
        let attempts = agents.iter().map(|agent| {
            let (store, barrier, agent) = (store.clone(), barrier.clone(), agent.id);
            tokio::spawn(async move {
                barrier.wait().await;
                store.claim(id, agent, NOW + LEASE, NOW).await
            })
        });
        let mut winners = HashSet::new();
        let mut refused = 0;
        for attempt in futures_join(attempts).await {
            match attempt?? {
                ClaimOutcome::Held { claim, event: Some(_) } => {
                    winners.insert(claim.holder);
                }
                ClaimOutcome::ClaimedByOther { .. } => refused += 1,
                other => anyhow::bail!("round {round}: {other:?}"),
            }
        }
        assert_eq!((winners.len(), refused), (1, 49), "round {round}");
        let holder = store.conversation(id).await?.and_then(|c| c.claim).map(|c| c.holder);
        assert_eq!(holder.as_ref(), winners.iter().next(), "round {round}");
        assert_eq!(store.events_after(id, 0, 100).await?.len(), 3, "one claim event, round {round}");
    }
    Ok(())
}

/// Awaits every task, in order.
async fn futures_join<T>(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut results = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        results.push(task.await);
    }
    results
}

async fn expired_leases_can_be_taken_and_are_swept(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let alice = user(&*store, "Alice", Role::Agent).await?;
    let bob = user(&*store, "Bob", Role::Agent).await?;
    let first = customer_writes(&*store, "15550001", "wamid.A", "Hello").await?;
    let second = customer_writes(&*store, "15550002", "wamid.B", "Hello").await?;
    store.claim(first, alice.id, NOW + 10, NOW).await?;
    store.claim(second, alice.id, NOW + 10, NOW).await?;

    let taken = store.claim(first, bob.id, NOW + LEASE, NOW + 10).await?;
    assert!(matches!(taken, ClaimOutcome::Held { event: Some(_), .. }), "at lease_until the lease is over: {taken:?}");
    assert_eq!(store.renew_claims(&[alice.id], NOW + LEASE, NOW + 11).await?, 0, "a dead lease is not revived");
    assert_eq!(store.renew_claims(&[], NOW + LEASE, NOW + 11).await?, 0);

    let swept = store.expire_claims(NOW + 11, i64::MIN).await?;
    assert_eq!(swept.len(), 1, "only alice's remaining lease: {swept:?}");
    assert_eq!(swept[0].conversation_id, second);
    assert_eq!(swept[0].change, Change::Released { holder: alice.id, expired: true });
    assert_eq!(store.conversation(second).await?.and_then(|c| c.claim), None);
    assert_eq!(store.conversation(first).await?.and_then(|c| c.claim).map(|c| c.holder), Some(bob.id));
    assert!(store.expire_claims(NOW + 12, i64::MIN).await?.is_empty());
    Ok(())
}

async fn handovers_are_recorded(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let alice = user(&*store, "Alice", Role::Agent).await?;
    let bob = user(&*store, "Bob", Role::Agent).await?;
    let sam = user(&*store, "Sam", Role::Supervisor).await?;
    let id = customer_writes(&*store, "15550001", "wamid.A", "Hello").await?;
    store.claim(id, alice.id, NOW + LEASE, NOW).await?;

    // A transfer checked against an assignment that has changed since is refused: Bob may not see
    // the conversation now that it is Alice's.
    store.assign(id, sam.id, Some(alice.id), None, NOW).await?;
    let stale = Handover::Transfer { to: bob.id, assignee: None };
    let refused = store.hand_over(id, sam.id, stale, NOW + LEASE, NOW + 1).await;
    assert!(matches!(refused, Err(StoreError::Changed)), "{refused:?}");
    assert_eq!(store.conversation(id).await?.and_then(|c| c.claim).map(|c| c.holder), Some(alice.id), "unchanged");
    store.assign(id, sam.id, None, None, NOW).await?;

    let transfer = Handover::Transfer { to: bob.id, assignee: None };
    let transfer = store.hand_over(id, sam.id, transfer, NOW + LEASE, NOW + 1).await?;
    let Change::Transferred { from, claim } = &transfer.change else { anyhow::bail!("{transfer:?}") };
    assert_eq!((*from, claim.holder, transfer.actor), (Some(alice.id), bob.id, Some(sam.id)));

    let take_over = store.hand_over(id, sam.id, Handover::TakeOver, NOW + LEASE, NOW + 2).await?;
    let Change::TakenOver { from, claim } = &take_over.change else { anyhow::bail!("{take_over:?}") };
    assert_eq!((*from, claim.holder, claim.holder_name.as_str()), (bob.id, sam.id, "Sam"));
    assert_eq!(take_over.seq, transfer.seq + 1);
    Ok(())
}

async fn replies_need_the_claim_a_fresh_view_and_a_new_key(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let alice = user(&*store, "Alice", Role::Agent).await?;
    let bob = user(&*store, "Bob", Role::Agent).await?;
    let id = customer_writes(&*store, "15550001", "wamid.A", "Hello").await?;

    let unclaimed = store.send_reply(&reply(id, alice.id, "k1", 2), NOW).await?;
    assert_eq!(unclaimed, ReplyOutcome::NotHolder { claim: None });
    store.claim(id, alice.id, NOW + LEASE, NOW).await?;
    let seen = store.conversation(id).await?.map(|c| c.last_seq).unwrap_or_default();

    let not_holder = store.send_reply(&reply(id, bob.id, "k1", seen), NOW + 1).await?;
    let ReplyOutcome::NotHolder { claim: Some(claim) } = not_holder else { anyhow::bail!("{not_holder:?}") };
    assert_eq!(claim.holder, alice.id);

    let ReplyOutcome::Sent { message, event, .. } = store.send_reply(&reply(id, alice.id, "k1", seen), NOW + 2).await?
    else {
        anyhow::bail!("alice holds the claim")
    };
    assert_eq!((message.direction, message.author, event.seq), (Direction::Outbound, Some(alice.id), seen + 1));
    let again = store.send_reply(&reply(id, alice.id, "k1", seen), NOW + 3).await?;
    assert_eq!(again, ReplyOutcome::Duplicate { message: message.clone() }, "the same key sends once");
    assert_eq!(store.messages(id).await?.len(), 2);

    // The customer writes again; a reply based on the older view is stopped, with what was missed.
    let seen = event.seq;
    customer_writes(&*store, "15550001", "wamid.B", "Also, my order number is 42").await?;
    let stale = store.send_reply(&reply(id, alice.id, "k2", seen), NOW + 4).await?;
    let ReplyOutcome::Changed { missed } = stale else { anyhow::bail!("{stale:?}") };
    assert_eq!(missed.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["Also, my order number is 42"]);
    assert_eq!(store.messages(id).await?.len(), 3, "nothing stored");

    let forced = store.send_reply(&NewReply { force: true, ..reply(id, alice.id, "k2", seen) }, NOW + 5).await?;
    assert!(matches!(forced, ReplyOutcome::Sent { .. }), "{forced:?}");
    let own = store.send_reply(&reply(id, alice.id, "k3", seen + 1), NOW + 6).await?;
    assert!(matches!(own, ReplyOutcome::Sent { .. }), "one's own replies are no news: {own:?}");
    Ok(())
}

async fn notes_refuse_stale_edits(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let alice = user(&*store, "Alice", Role::Agent).await?;
    let bob = user(&*store, "Bob", Role::Agent).await?;
    let id = customer_writes(&*store, "15550001", "wamid.A", "Hello").await?;
    let added = store.add_note(id, alice.id, "VIP customer", NOW).await?;
    let Change::NoteAdded { note } = added.change else { anyhow::bail!("not a note") };
    assert_eq!((note.version, note.author, note.body.as_str()), (1, alice.id, "VIP customer"));

    let edited = store.edit_note(note.id, bob.id, "VIP customer, speaks Spanish", 1, NOW + 1).await?;
    let NoteEditOutcome::Edited { event } = edited else { anyhow::bail!("{edited:?}") };
    let Change::NoteEdited { note: after } = event.change else { anyhow::bail!("not an edit") };
    assert_eq!(after.version, 2);

    let stale = store.edit_note(note.id, alice.id, "VIP", 1, NOW + 2).await?;
    let NoteEditOutcome::Conflict { current } = stale else { anyhow::bail!("{stale:?}") };
    assert_eq!((current.version, current.body.as_str()), (2, "VIP customer, speaks Spanish"));
    assert_eq!(store.note(note.id).await?.map(|n| n.body), Some("VIP customer, speaks Spanish".into()));

    let deleted = store.delete_note(note.id, alice.id, NOW + 3).await?;
    assert_eq!(deleted.change, Change::NoteDeleted { note_id: note.id });
    assert!(store.notes(id).await?.is_empty());
    assert!(store.delete_note(note.id, alice.id, NOW + 4).await.is_err(), "gone");
    Ok(())
}

async fn concurrent_changes_get_gap_free_seqs(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let writers = 8;
    let notes_each = 15;
    let mut authors = Vec::new();
    for index in 0..writers {
        authors.push(user(&*store, &format!("Writer{index}"), Role::Agent).await?);
    }
    let id = customer_writes(&*store, "15550001", "wamid.A", "Hello").await?;
    let tasks = authors.iter().enumerate().map(|(index, author)| {
        let (store, author) = (store.clone(), author.id);
        tokio::spawn(async move {
            let mut seqs = Vec::new();
            for note in 0..notes_each {
                if index == 0 && note % 5 == 0 {
                    let wamid = format!("wamid.concurrent.{note}");
                    if let InboundOutcome::Recorded { events, .. } =
                        store.record_inbound(&inbound("15550001", &wamid, "more", NOW), NOW).await?
                    {
                        seqs.extend(events.iter().map(|event| event.seq));
                    }
                } else {
                    seqs.push(store.add_note(id, author, &format!("note {note}"), NOW).await?.seq);
                }
            }
            anyhow::Ok(seqs)
        })
    });
    let mut returned = Vec::new();
    for outcome in futures_join(tasks).await {
        returned.extend(outcome??);
    }
    returned.sort_unstable();
    let expected: Vec<u64> = (3..3 + (writers * notes_each) as u64).collect();
    assert_eq!(returned, expected, "every change got its own seq, none skipped");
    let log: Vec<u64> = store.events_after(id, 0, 1000).await?.into_iter().map(|event| event.seq).collect();
    assert_eq!(log, (1..3 + (writers * notes_each) as u64).collect::<Vec<_>>());
    Ok(())
}

async fn statuses_and_drafts(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let alice = user(&*store, "Alice", Role::Agent).await?;
    let id = customer_writes(&*store, "15550001", "wamid.A", "Hello").await?;

    let pending = store.set_status(id, alice.id, ConversationStatus::Pending, NOW).await?;
    let changes: Vec<Change> = pending.into_iter().map(|event| event.change).collect();
    assert_eq!(changes, [Change::StatusChanged { status: ConversationStatus::Pending }]);
    assert_eq!(store.set_status(id, alice.id, ConversationStatus::Pending, NOW).await?, [], "no change, no event");
    let reopened = store.record_inbound(&inbound("15550001", "wamid.B", "Hello?", NOW), NOW).await?;
    let InboundOutcome::Recorded { conversation_id, events } = reopened else { anyhow::bail!("not recorded") };
    assert_eq!(conversation_id, id);
    assert_eq!(events[0].change, Change::StatusChanged { status: ConversationStatus::Open }, "the customer reopens it");

    // Within a week of its resolve, the customer's message reopens it, back in its queue with
    // nobody on it; later, a new conversation starts.
    store.assign(id, alice.id, Some(alice.id), None, NOW).await?;
    store.set_status(id, alice.id, ConversationStatus::Resolved, NOW).await?;
    let again = customer_writes(&*store, "15550001", "wamid.C", "New question").await?;
    assert_eq!(again, id, "reopened");
    let reopened = store.conversation(id).await?.ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!((reopened.status, reopened.assignee), (ConversationStatus::Open, None));
    store.set_status(id, alice.id, ConversationStatus::Resolved, NOW).await?;
    let week_later = NOW + 8 * 86_400_000;
    let next =
        match store.record_inbound(&inbound("15550001", "wamid.D", "Months later", week_later), week_later).await? {
            InboundOutcome::Recorded { conversation_id, .. } => conversation_id,
            InboundOutcome::Duplicate => anyhow::bail!("a duplicate"),
        };
    assert_ne!(next, id, "a week after its resolve a new conversation starts");
    assert_eq!(store.conversations(false, 10).await?.len(), 1);
    assert_eq!(store.conversations(true, 10).await?.len(), 2);

    store.save_drafts(&[draft(next, alice.id, "Hi! Let me check")]).await?;
    assert_eq!(store.draft(next, alice.id).await?.as_deref(), Some("Hi! Let me check"));
    store.save_drafts(&[draft(next, alice.id, "Hi! Let me check that")]).await?;
    assert_eq!(store.draft(next, alice.id).await?.as_deref(), Some("Hi! Let me check that"));
    store.claim(next, alice.id, NOW + LEASE, NOW).await?;
    let seen = store.conversation(next).await?.map(|c| c.last_seq).unwrap_or_default();
    store.send_reply(&reply(next, alice.id, "k1", seen), NOW).await?;
    assert_eq!(store.draft(next, alice.id).await?, None, "sending clears the draft");
    store.save_drafts(&[draft(next, alice.id, "typed before sending")]).await?;
    assert_eq!(store.draft(next, alice.id).await?, None, "a save arriving after the send does not bring it back");
    let after_send = DraftWrite { typed_at: NOW + 1, ..draft(next, alice.id, "x") };
    store.save_drafts(&[after_send, draft(id, alice.id, "elsewhere")]).await?;
    assert_eq!(store.draft(next, alice.id).await?.as_deref(), Some("x"), "typing again after the send is kept");
    assert_eq!(store.draft(id, alice.id).await?.as_deref(), Some("elsewhere"), "a batch saves every draft");
    store.save_drafts(&[DraftWrite { typed_at: NOW + 2, ..draft(next, alice.id, "") }]).await?;
    assert_eq!(store.draft(next, alice.id).await?, None, "an empty draft is removed");
    let late = DraftWrite { typed_at: NOW - 1, ..draft(id, alice.id, "older keystrokes") };
    store.save_drafts(&[late]).await?;
    assert_eq!(store.draft(id, alice.id).await?.as_deref(), Some("elsewhere"), "a late save of older text loses");
    Ok(())
}
