use baton_shared::automation::Automated;
use baton_shared::model::{DeliveryStatus, MessageKind};
use baton_shared::{ConversationId, MessageId};

use super::*;

const MINUTE: i64 = 60_000;

/// A message sent at minute `at`.
fn message(direction: Direction, author: Option<UserId>, automation: Option<Automated>, at: i64) -> Change {
    Change::MessageAdded {
        message: Message {
            id: MessageId(at),
            conversation_id: ConversationId(1),
            seq: 1,
            direction,
            kind: MessageKind::Text,
            body: String::new(),
            author,
            status: DeliveryStatus::Sent,
            created_at: at * MINUTE,
            sent_at: at * MINUTE,
            content: None,
            wa_message_id: None,
            reply_to: None,
            error: None,
            automation,
        },
    }
}

fn customer(at: i64) -> Change {
    message(Direction::Inbound, None, None, at)
}

fn person(who: i64, at: i64) -> Change {
    message(Direction::Outbound, Some(UserId(who)), None, at)
}

fn automated(at: i64) -> Change {
    message(Direction::Outbound, Some(AUTOMATION_USER), Some(Automated::Greeting), at)
}

fn opened() -> Change {
    let contact = serde_json::json!({"id": 1, "wa_id": "1", "profile_name": "", "last_inbound_at": null});
    Change::Opened { contact: serde_json::from_value(contact).expect("a contact"), team: None }
}

fn status(status: ConversationStatus) -> Change {
    Change::StatusChanged { status }
}

/// Applies each (change, minute) in turn; every fact recorded.
fn replay(events: &[(Change, i64)]) -> Vec<Fact> {
    let mut track = Track::default();
    events.iter().flat_map(|(change, minute)| track.apply(change, minute * MINUTE)).collect()
}

fn spans(facts: &[Fact]) -> Vec<(SpanKind, i64, i64, Owner)> {
    facts
        .iter()
        .filter_map(|fact| match fact {
            Fact::Span { kind, started_at, ended_at, owner } => {
                Some((*kind, started_at / MINUTE, ended_at / MINUTE, *owner))
            }
            Fact::Count { .. } | Fact::OpeningLabelled { .. } => None,
        })
        .collect()
}

#[test]
fn the_first_response_is_a_persons_and_runs_from_the_first_unanswered_message() {
    let facts = replay(&[
        (opened(), 0),
        (customer(0), 0),
        (automated(0), 0),
        (customer(2), 2),
        (person(7, 5), 5),
        (customer(9), 9),
        (automated(10), 10),
        (person(8, 12), 12),
        (person(8, 13), 13),
    ]);
    assert_eq!(
        spans(&facts),
        vec![
            (SpanKind::FirstResponse, 0, 5, Owner::Person(UserId(7))),
            (SpanKind::NextResponse, 9, 12, Owner::Person(UserId(8))),
        ],
        "greetings end nothing; a second reply in a row measures nothing"
    );
    let counted =
        |metric| facts.iter().filter(|fact| matches!(fact, Fact::Count { metric: m, .. } if *m == metric)).count();
    assert_eq!((counted(Metric::Created), counted(Metric::MessagesIn), counted(Metric::MessagesOut)), (1, 3, 5));
}

#[test]
fn a_reopening_starts_a_new_resolution_and_a_new_first_response() {
    let facts = replay(&[
        (opened(), 0),
        (customer(0), 0),
        (person(7, 3), 3),
        (customer(4), 4),
        (status(ConversationStatus::Resolved), 10),
        // The store writes a reopening before the message that brings it.
        (status(ConversationStatus::Open), 60),
        (customer(60), 60),
        (status(ConversationStatus::Pending), 61),
        (status(ConversationStatus::Open), 62),
        (person(8, 70), 70),
        (status(ConversationStatus::Resolved), 90),
    ]);
    assert_eq!(
        spans(&facts),
        vec![
            (SpanKind::FirstResponse, 0, 3, Owner::Person(UserId(7))),
            (SpanKind::Resolution, 0, 10, Owner::Assignee),
            (SpanKind::FirstResponse, 60, 70, Owner::Person(UserId(8))),
            (SpanKind::Resolution, 60, 90, Owner::Assignee),
        ],
        "the wait open at the resolve is dropped; pending and back is no reopening"
    );
    let reopened = facts.iter().filter(|fact| matches!(fact, Fact::Count { metric: Metric::Reopened, .. })).count();
    assert_eq!(reopened, 1);
}

#[test]
fn a_conversation_a_person_starts_has_its_first_response_after_the_customer_writes() {
    let facts = replay(&[(opened(), 0), (person(7, 0), 0), (customer(30), 30), (person(7, 45), 45)]);
    assert_eq!(spans(&facts), vec![(SpanKind::FirstResponse, 30, 45, Owner::Person(UserId(7)))]);
}

#[test]
fn a_late_delivered_message_waits_from_when_the_customer_wrote() {
    let mut track = Track { spell_started_at: Some(0), ..Track::default() };
    assert!(Track::concerns(&customer(5)));
    let Change::MessageAdded { mut message } = customer(5) else { unreachable!() };
    message.sent_at = 2 * MINUTE;
    track.apply(&Change::MessageAdded { message }, 5 * MINUTE);
    assert_eq!(track.waiting_since, Some(2 * MINUTE));
}

#[test]
fn every_metric_reads_back_from_its_name() {
    let mut metrics = vec![
        Metric::Created,
        Metric::Reopened,
        Metric::Resolved,
        Metric::MessagesIn,
        Metric::MessagesOut,
        Metric::SlaMet,
        Metric::SlaBreached,
    ];
    metrics.extend((1..=3).map(|score| Metric::Csat { five: false, score }));
    metrics.extend((1..=5).map(|score| Metric::Csat { five: true, score }));
    let names: std::collections::HashSet<&str> = metrics.iter().map(|metric| metric.as_str()).collect();
    assert_eq!(names.len(), metrics.len(), "each its own name");
    for metric in metrics {
        assert_eq!(Metric::parse(metric.as_str()), Some(metric));
    }
}

#[test]
fn a_rating_belongs_to_the_assignee_at_the_resolve_and_a_missed_deadline_to_the_assignee_now() {
    let mut track = Track::default();
    let rated = Change::CsatAnswered {
        score: 4,
        scale: baton_shared::csat::Scale::Five,
        resolved_at: 0,
        assignee: Some(UserId(7)),
    };
    assert_eq!(
        track.apply(&rated, 10),
        vec![Fact::Count { metric: Metric::Csat { five: true, score: 4 }, at: 10, owner: Owner::Person(UserId(7)) }]
    );
    let missed = Change::SlaBreached { target: baton_shared::sla::SlaKind::FirstResponse, due_at: 5 };
    assert_eq!(
        track.apply(&missed, 11),
        vec![Fact::Count { metric: Metric::SlaBreached, at: 11, owner: Owner::Assignee }]
    );
}

#[test]
fn whom_a_fact_belongs_to_follows_the_events_not_the_row() {
    let mut track = Track::default();
    track.apply(&opened(), 0);
    track.apply(&Change::Assigned { assignee: Some(UserId(7)), routing: None }, 1);
    track.apply(&Change::Labeled { labels: vec!["vip".into()] }, 2);
    assert_eq!((track.assignee, track.labels.clone()), (Some(UserId(7)), vec!["vip".to_owned()]));
    track.apply(&status(ConversationStatus::Resolved), 3);
    // A reopening is written before the unassignment it brings: still the assignee's.
    let facts = track.apply(&status(ConversationStatus::Open), 4);
    assert_eq!(facts, vec![Fact::Count { metric: Metric::Reopened, at: 4, owner: Owner::Assignee }]);
    assert_eq!(track.agent(Owner::Assignee), Some(UserId(7)));
}

#[test]
fn a_label_given_during_an_opening_counts_it_once() {
    let labelled =
        |labels: &[&str]| Change::Labeled { labels: labels.iter().map(|label| (*label).to_owned()).collect() };
    let mut track = Track::default();
    track.apply(&opened(), 10);
    track.apply(&Change::Assigned { assignee: Some(UserId(7)), routing: None }, 11);
    // The opening was counted for nobody (not yet assigned): so it is under the label.
    let created = |label: &str, at| Fact::OpeningLabelled {
        metric: Metric::Created,
        at,
        team: None,
        agent: None,
        label: label.to_owned(),
    };
    assert_eq!(track.apply(&labelled(&["vip"]), 12), vec![created("vip", 10)]);
    assert_eq!(track.apply(&labelled(&["vip", "b2b"]), 13), vec![created("b2b", 10)]);
    // Taken off and given again in the same opening: counted once.
    assert_eq!(track.apply(&labelled(&["b2b"]), 14), vec![]);
    assert_eq!(track.apply(&labelled(&["b2b", "vip"]), 15), vec![]);
    // Given while resolved: not for an opening. The reopening counts under the labels it has
    // (as every event does), and a label given after it counts it, for its assignee then.
    track.apply(&status(ConversationStatus::Resolved), 16);
    assert_eq!(track.apply(&labelled(&["b2b", "vip", "late"]), 17), vec![]);
    track.apply(&status(ConversationStatus::Open), 18);
    let reopened = track.apply(&labelled(&["b2b", "vip", "late", "again"]), 19);
    assert_eq!(
        reopened,
        vec![Fact::OpeningLabelled {
            metric: Metric::Reopened,
            at: 18,
            team: None,
            agent: Some(UserId(7)),
            label: "again".to_owned()
        }]
    );
}

#[test]
fn reactions_and_what_comes_while_resolved_neither_start_nor_end_a_wait() {
    let reaction = |direction, author| {
        let Change::MessageAdded { mut message } = message(direction, author, None, 1) else { unreachable!() };
        message.kind = MessageKind::Reaction;
        Change::MessageAdded { message }
    };
    let mut track = Track::default();
    track.apply(&opened(), 0);
    track.apply(&reaction(Direction::Inbound, None), MINUTE);
    assert_eq!(track.waiting_since, None, "a customer's thumbs-up asks nothing");
    track.apply(&customer(2), 2 * MINUTE);
    assert!(
        track
            .apply(&reaction(Direction::Outbound, Some(UserId(7))), 3 * MINUTE)
            .iter()
            .all(|fact| matches!(fact, Fact::Count { .. }))
    );
    assert_eq!(track.waiting_since, Some(2 * MINUTE), "an agent's reaction is no answer");
    track.apply(&status(ConversationStatus::Resolved), 4 * MINUTE);
    // A tap on the rating request after the resolve starts nothing, nor does it survive a reopening.
    track.apply(&customer(5), 5 * MINUTE);
    assert_eq!(track.waiting_since, None);
    track.apply(&status(ConversationStatus::Open), 60 * MINUTE);
    track.apply(&customer(60), 60 * MINUTE);
    assert_eq!(track.waiting_since, Some(60 * MINUTE));
}
