//! A transaction's customer messages stored as a set leave exactly what storing them one by one
//! leaves, on SQLite and PostgreSQL: the same conversations (opened, reopened, woken from a
//! snooze), the same messages and events in the same order, the same contacts, search hits and
//! report counts — for a set that mixes every way a message can go: plainly open conversations
//! (assigned or not), a snoozed one, a resolved one, new customers, a quoted message, a message
//! repeated within the set, a redelivery of one stored before, and a status in between.
//!
//! Two fresh databases of one kind are prepared alike; one gets the set through
//! `apply_deliveries` (as the ingest worker sends it), the other each message through
//! `record_inbound`, the message-by-message path. Row ids may differ (the set path numbers its
//! rows in another order, and PostgreSQL's sequences move on an upsert too), so the comparison
//! leaves ids out and matches things by customer, conversation order and seq.

use std::collections::BTreeMap;
use std::sync::Arc;

use baton_server::store::channel::{DeliveryWork, StatusWrite, Work};
use baton_server::store::contacts::Editor;
use baton_server::store::conversations::NewInbound;
use baton_server::store::reports::{FactFilter, FactsBy};
use baton_server::store::search::SearchScope;
use baton_server::store::{NewUser, Store};
use baton_shared::api::Role;
use baton_shared::contacts::ContactPatch;
use baton_shared::model::{ConversationStatus, DeliveryStatus, MessageContent};
use baton_shared::routing_rules::{Action, Rule, RuleSet, Trigger};
use baton_shared::search::{Query, SearchRequest};
use baton_tests::database::{Kind, TestDatabase};
use serde_json::Value;

baton_tests::on_both_kinds!(a_set_stores_what_one_by_one_stores);
baton_tests::on_both_backends!(
    sets_side_by_side_open_conversations_without_taking_each_others_rows,
    the_same_set_applied_twice_at_once_is_stored_once,
);

const NOW: i64 = 1_764_000_000_000;

fn message(wa_id: &str, name: &str, wamid: &str, body: &str) -> NewInbound {
    NewInbound {
        wa_id: wa_id.into(),
        profile_name: name.into(),
        wa_message_id: wamid.into(),
        kind: "text".into(),
        body: body.into(),
        at: NOW - 60_000,
        ..Default::default()
    }
}

/// Customers as they stand before the set: Ana, Bo (assigned), Cy (snoozed), Di (resolved),
/// Ed (blocked) and Gil, each with one message in an open conversation; a routing rule that
/// labels every customer message in a conversation nobody holds, and a greeting (automation
/// listens: each message answerable gets its job) — if `rules`; without, the rules decide
/// nothing and an unassigned open conversation is plain too.
async fn prepare(store: &dyn Store, rules: bool) -> anyhow::Result<()> {
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$fake$ada".to_owned();
    let ada = store
        .create_user(
            &NewUser { email: "ada@x.test".into(), name: "Ada".into(), role: Role::Admin, password_hash: hash },
            None,
            NOW - 600_000,
        )
        .await?;
    let customers = [
        ("1555001", "Ana"),
        ("1555002", "Bo"),
        ("1555003", "Cy"),
        ("1555004", "Di"),
        ("1555005", "Ed"),
        ("1555007", "Gil"),
    ];
    for (number, (wa_id, name)) in customers.iter().enumerate() {
        let first = message(wa_id, name, &format!("wamid.first.{number}"), &format!("hello from {name}"));
        store.record_inbound(&first, NOW - 500_000).await?;
    }
    let id_of = |wa_id: &'static str| async move {
        let list = store.conversations(true, 100).await?;
        let found = list.into_iter().find(|conversation| conversation.contact.wa_id == wa_id);
        found.map(|conversation| conversation.id).ok_or_else(|| anyhow::anyhow!("no conversation of {wa_id}"))
    };
    store.assign(id_of("1555002").await?, ada.id, Some(ada.id), None, NOW - 400_000).await?;
    let ed = store.conversation(id_of("1555005").await?).await?.ok_or_else(|| anyhow::anyhow!("Ed"))?;
    let block = ContactPatch { blocked: Some(true), ..Default::default() };
    store
        .update_contact(ed.contact.id, &block, &Editor { id: Some(ada.id), name: "Ada".into() }, NOW - 400_000)
        .await?;
    if !rules {
        return Ok(());
    }
    let mut seen = Rule::new(
        "seen",
        vec![Trigger::CustomerMessage],
        Vec::new(),
        vec![Action::AddLabels { labels: vec!["seen".into()] }],
    );
    seen.keep_going = true;
    store.save_routing_rules(&RuleSet { default_team: None, rules: vec![seen] }, 0, ada.id, NOW - 400_000).await?;
    let greeting = r#"{"greeting":{"enabled":true,"text":"Hi"},"away":{"enabled":false,"text":""},
        "queue_ack":{"enabled":false,"text":""},"hourly_cap":3}"#;
    store.save_automation_settings("auto_replies", greeting, 0, ada.id, NOW - 400_000).await?;
    store.set_status(id_of("1555003").await?, ada.id, ConversationStatus::Pending, NOW - 400_000).await?;
    store.set_status(id_of("1555004").await?, ada.id, ConversationStatus::Resolved, NOW - 400_000).await?;
    Ok(())
}

/// The set, in arrival order, as deliveries (a status between two of them).
fn deliveries() -> Vec<DeliveryWork> {
    let quoting =
        NewInbound { reply_to: Some("wamid.first.5".into()), ..message("1555007", "Gil", "wamid.g1", "as I said") };
    let reaction = NewInbound {
        kind: "reaction".into(),
        content: Some(MessageContent::Reaction { target: "wamid.first.0".into(), emoji: Some("👍".into()) }),
        ..message("1555001", "Ana", "wamid.a4", "👍")
    };
    let first = vec![
        message("1555001", "Ana", "wamid.a1", "where is my parcel"),
        message("1555002", "Bo Brandão", "wamid.b1", "the invoice again"),
        message("1555001", "Ana", "wamid.a2", "order 4411"),
        message("1555003", "Cy", "wamid.c1", "still waiting"),
        message("1555006", "Fay", "wamid.f1", "first time here"),
        message("1555001", "Ana", "wamid.a1", "where is my parcel"),
        message("1555004", "Di", "wamid.d1", "one more question"),
    ];
    let status = StatusWrite {
        wa_message_id: "wamid.nobody-sent-this".into(),
        status: DeliveryStatus::Delivered,
        error: None,
        callback_data: None,
    };
    let second = vec![
        message("1555005", "", "wamid.e1", "no name this time"),
        message("1555005", "Ed", "wamid.first.4", "hello from Ed"),
        quoting,
        message("1555006", "Fay", "wamid.f2", "anyone there"),
        message("1555001", "Ana", "wamid.a3", "thanks"),
        reaction,
        message("1555008", "Hal", "wamid.h1", "hi"),
    ];
    // Written a second apart, but for one that arrives late (written before the conversation's
    // newest message): it must not move the conversation's time back.
    let mut written = NOW - 50_000;
    let mut at = |mut message: NewInbound| {
        written += 1_000;
        message.at = if message.wa_message_id == "wamid.a3" { NOW - 120_000 } else { written };
        message
    };
    let (first, second): (Vec<_>, Vec<_>) =
        (first.into_iter().map(&mut at).collect(), second.into_iter().map(&mut at).collect());
    let inbound = |messages: Vec<NewInbound>| messages.into_iter().map(|message| Work::Inbound(Box::new(message)));
    vec![
        DeliveryWork { id: 0, work: inbound(first).collect() },
        DeliveryWork { id: 0, work: std::iter::once(Work::Status(status)).chain(inbound(second)).collect() },
    ]
}

async fn a_set_stores_what_one_by_one_stores(kind: Kind) -> anyhow::Result<()> {
    compare_with_one_by_one(kind, false).await?;
    compare_with_one_by_one(kind, true).await
}

async fn compare_with_one_by_one(kind: Kind, rules: bool) -> anyhow::Result<()> {
    let (set_db, one_db) = (TestDatabase::new(kind).await?, TestDatabase::new(kind).await?);
    let (set, one): (Arc<dyn Store>, Arc<dyn Store>) = (set_db.open().await?, one_db.open().await?);
    prepare(&*set, rules).await?;
    prepare(&*one, rules).await?;

    let applied = set.apply_deliveries(&deliveries(), NOW).await?;
    let mut recorded = Vec::new();
    for work in deliveries().into_iter().flat_map(|delivery| delivery.work) {
        match work {
            Work::Inbound(inbound) => recorded.push(matches!(
                one.record_inbound(&inbound, NOW).await?,
                baton_server::store::conversations::InboundOutcome::Recorded { .. }
            )),
            Work::Status(status) => {
                one.apply_status(&status, NOW).await?;
            }
        }
    }
    assert_eq!(applied.recorded, recorded, "the same messages are new, the same duplicates");
    assert_eq!(recorded.iter().filter(|new| **new).count(), 12, "two of the fourteen were stored before");
    assert_eq!(set.jobs_due(NOW).await?, one.jobs_due(NOW).await?, "automation owes the same messages");
    assert_eq!(set.jobs_due(NOW).await? > 0, rules, "automation listens only with the greeting on");

    let (set_state, one_state) = (state(&*set).await?, state(&*one).await?);
    // Part by part, so that a difference names its customer (or the search, or the reports).
    let (Value::Object(set_parts), Value::Object(one_parts)) = (&set_state, &one_state) else {
        anyhow::bail!("states are maps");
    };
    assert_eq!(set_parts.len(), 10, "eight customers, the search hits and the report counts");
    for (part, left) in set_parts {
        assert_eq!(
            serde_json::to_string_pretty(left)?,
            serde_json::to_string_pretty(&one_parts[part])?,
            "{part}: the set path left what the message-by-message path leaves"
        );
    }
    assert!(serde_json::to_string(&set_state)?.contains("order 4411"));
    // The events the set published are the ones it stored, each conversation's in seq order.
    let mut last: BTreeMap<i64, u64> = BTreeMap::new();
    for event in &applied.events {
        let before = last.insert(event.conversation_id.0, event.seq);
        assert!(before.is_none_or(|before| before < event.seq), "events of one conversation in order");
        let stored = set.events_after(event.conversation_id, event.seq - 1, 1).await?;
        assert_eq!(stored.first(), Some(event));
    }
    Ok(())
}

/// Everything the set could have changed, by customer, without row ids; and the report counts.
async fn state(store: &dyn Store) -> anyhow::Result<Value> {
    let mut state = serde_json::Map::new();
    let conversations = store.conversations(true, 100).await?;
    let numbers: Vec<String> = (1..=8).map(|customer| format!("155500{customer}")).collect();
    let contacts = store.contacts_by_number(&numbers).await?;
    let scope = SearchScope { user: baton_shared::UserId(1), everything: true, lead: false, teams: Vec::new() };
    for number in &numbers {
        let mut customer = serde_json::Map::new();
        let contact = contacts.iter().find(|record| &record.contact.wa_id == number);
        customer.insert("contact".into(), serde_json::to_value(contact.map(|record| &record.contact))?);
        let mut theirs: Vec<_> =
            conversations.iter().filter(|conversation| &conversation.contact.wa_id == number).collect();
        theirs.sort_by_key(|conversation| conversation.id.0);
        let mut listed = Vec::new();
        for conversation in theirs {
            listed.push(serde_json::json!({
                "conversation": conversation,
                "events": store.events_after(conversation.id, 0, 1000).await?,
                "messages": store.messages(conversation.id).await?,
            }));
        }
        customer.insert("conversations".into(), Value::Array(listed));
        state.insert(number.clone(), Value::Object(customer));
    }
    for words in ["parcel", "4411", "anyone", "fay"] {
        let found = store.search(&scope, &Query::parse(words), &SearchRequest::default(), 20).await?;
        let hits = serde_json::to_value(&found)?;
        state.entry("search").or_insert_with(|| Value::Object(Default::default()));
        if let Some(Value::Object(search)) = state.get_mut("search") {
            search.insert(words.into(), hits);
        }
    }
    let filter = FactFilter { from: 0, to: NOW * 2, ..Default::default() };
    let mut counts: Vec<String> =
        store.report_counts(&filter, FactsBy::Agent).await?.iter().map(|row| format!("{row:?}")).collect();
    counts.sort();
    state.insert("report counts".into(), serde_json::to_value(counts)?);
    let mut state = Value::Object(state);
    strip_ids(&mut state);
    Ok(state)
}

/// Removes every row id (and reference to one) from `value`.
fn strip_ids(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, _| !(key == "id" || key.ends_with("_id") || key == "contact_id"));
            map.values_mut().for_each(strip_ids);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_ids),
        _ => {}
    }
}

/// Transactions applying sets side by side (PostgreSQL's lanes) each open many conversations
/// that rules label — each writing report counts and rule firings for every one of them — in
/// opposite orders. Sharing counter rows, they would wait on each other crosswise (PostgreSQL
/// ends one as a deadlock); each holding its own shard, both commit, and nothing is lost.
async fn sets_side_by_side_open_conversations_without_taking_each_others_rows(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$fake$ada".to_owned();
    let ada = store
        .create_user(
            &NewUser { email: "ada@x.test".into(), name: "Ada".into(), role: Role::Admin, password_hash: hash },
            None,
            NOW,
        )
        .await?;
    let label = |name: &str| Action::AddLabels { labels: vec![name.into()] };
    let triggers = vec![Trigger::NewConversation, Trigger::CustomerMessage];
    let mut first = Rule::new("tag a", triggers.clone(), Vec::new(), vec![label("a")]);
    first.keep_going = true;
    let second = Rule::new("tag b", triggers, Vec::new(), vec![label("b")]);
    let set = RuleSet { default_team: None, rules: vec![first, second] };
    store.save_routing_rules(&set, 0, ada.id, NOW).await?;

    const ROUNDS: usize = 6;
    const CUSTOMERS: usize = 12;
    for round in 0..ROUNDS {
        let set_of = |side: usize| {
            let mut messages: Vec<NewInbound> = (0..CUSTOMERS)
                .map(|customer| {
                    let wa_id = format!("1666{round:02}{side}{customer:03}");
                    message(&wa_id, "Someone", &format!("wamid.{wa_id}"), "hello")
                })
                .collect();
            if side == 1 {
                messages.reverse();
            }
            vec![DeliveryWork {
                id: 0,
                work: messages.into_iter().map(|message| Work::Inbound(Box::new(message))).collect(),
            }]
        };
        let (left, right) = (set_of(0), set_of(1));
        let (left, right) = tokio::join!(store.apply_deliveries(&left, NOW), store.apply_deliveries(&right, NOW));
        for applied in [left?, right?] {
            assert!(applied.recorded.iter().all(|new| *new));
        }
    }
    let opened = ROUNDS * 2 * CUSTOMERS;
    let conversations = store.conversations(true, 1000).await?;
    assert_eq!(conversations.len(), opened);
    assert!(conversations.iter().all(|conversation| conversation.labels == ["a", "b"]));
    let fired = store.routing_rules().await?.fired;
    assert_eq!(fired.iter().map(|rule| rule.count).collect::<Vec<_>>(), [opened as u64, opened as u64]);
    let filter = FactFilter { from: 0, to: NOW * 2, ..Default::default() };
    let created: u64 = store
        .report_counts(&filter, FactsBy::Label)
        .await?
        .iter()
        .filter(|row| row.label == "a" && format!("{:?}", row.metric) == "Created")
        .map(|row| row.count)
        .sum();
    assert_eq!(created, opened as u64, "every opening counted once under its label");
    Ok(())
}

/// Two nodes' ingest may apply the same deliveries at once (each reads what is pending). The
/// second, having looked before the first committed, finds the messages stored once it holds
/// their contacts: duplicates, not an error that would fail its whole batch.
async fn the_same_set_applied_twice_at_once_is_stored_once(store: Arc<dyn Store>) -> anyhow::Result<()> {
    const CUSTOMERS: usize = 8;
    let numbers: Vec<String> = (0..CUSTOMERS).map(|customer| format!("1777000{customer}")).collect();
    for number in &numbers {
        store.record_inbound(&message(number, "Someone", &format!("wamid.{number}.0"), "hello"), NOW - 1_000).await?;
    }
    for round in 1..=5 {
        let set: Vec<DeliveryWork> = vec![DeliveryWork {
            id: 0,
            work: numbers
                .iter()
                .map(|number| {
                    Work::Inbound(Box::new(message(number, "Someone", &format!("wamid.{number}.{round}"), "again")))
                })
                .collect(),
        }];
        let (left, right) = tokio::join!(store.apply_deliveries(&set, NOW), store.apply_deliveries(&set, NOW));
        let (left, right) = (left?, right?);
        for customer in 0..CUSTOMERS {
            assert!(
                left.recorded[customer] != right.recorded[customer],
                "round {round}: one of the two stored customer {customer}'s message"
            );
        }
    }
    for conversation in store.conversations(true, 100).await? {
        let messages = store.messages(conversation.id).await?;
        assert_eq!(messages.len(), 6, "the first message and one per round");
        let seqs: Vec<u64> = store.events_after(conversation.id, 0, 100).await?.iter().map(|event| event.seq).collect();
        assert_eq!(seqs, (1..=7).collect::<Vec<_>>(), "events numbered without a gap");
    }
    Ok(())
}
