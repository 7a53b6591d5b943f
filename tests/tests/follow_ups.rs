//! Follow-ups and service levels on tokio's paused clock, on SQLite and PostgreSQL: a snoozed
//! conversation reopens at its time and its assignee hears of it (a customer message reopens it
//! sooner, and the wake-up then does nothing); a first-response target counted in business hours
//! is breached exactly once, at 09:05 for a message at 23:00, never during the night, and a
//! person's reply meets the clock; auto-resolve closes a quiet conversation with its closing
//! message after the team's hours.

use std::time::Duration;

use baton_shared::api::Role;
use baton_shared::automation::{AUTOMATION_USER, Weekday};
use baton_shared::model::{Change, ConversationStatus};
use baton_shared::protocol::ServerMsg;
use baton_shared::sla::{SlaDue, SlaKind};
use baton_shared::{ConversationId, UserId};
use baton_tests::clocked::{advance, jobs_done, start_at};
use baton_tests::database::Kind;
use baton_tests::paused::on_paused_clock;
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;
use baton_tests::teams::put;
use serde_json::json;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

/// `hour:minute` in Berlin, tomorrow (`1`) or the day after (`2`), as Unix ms: always ahead of
/// the real clock, which the store's own times follow.
fn berlin(days: i64, hour: i8, minute: i8) -> anyhow::Result<i64> {
    let zone = jiff::tz::TimeZone::get("Europe/Berlin")?;
    let mut day = jiff::Timestamp::now().to_zoned_datetime(zone.clone()).date();
    for _ in 0..days {
        day = day.tomorrow()?;
    }
    let time = jiff::civil::Time::new(hour, minute, 0, 0)?;
    Ok(day.to_datetime(time).to_zoned_datetime(zone)?.timestamp().as_millisecond())
}

async fn status_events(server: &TestServer, id: ConversationId) -> anyhow::Result<Vec<(Option<UserId>, Change)>> {
    let events = server.state.store.events_after(id, 0, 1000).await?;
    Ok(events
        .into_iter()
        .filter(|event| matches!(event.change, Change::StatusChanged { .. } | Change::Snoozed { .. }))
        .map(|event| (event.actor, event.change))
        .collect())
}

async fn a_snooze_reopens_on_time_and_a_customer_message_sooner(kind: Kind) -> anyhow::Result<()> {
    let start = baton_server::clock::now_ms();
    let server = start_at(kind, start).await?;
    let (ann_client, ann) = server.logged_in("Ann", Role::Agent).await?;
    let mut ann_socket = WsClient::connect(&ann_client).await?;
    ann_socket.request(|req_id| baton_shared::protocol::ClientMsg::SubscribeInbox { req_id, cursors: vec![] }).await?;
    let id = server.customer_writes_at("15550001", "Can you check on Friday?", start).await?;
    put(&ann_client, &format!("/api/conversations/{id}/assignee"), &json!({"assignee": ann.id})).await?;
    jobs_done(&server).await?;

    // Snoozed for two hours: still pending a minute before, open at the time.
    let until = server.state.now() + 2 * 3_600_000;
    put(&ann_client, &format!("/api/conversations/{id}/status"), &json!({"status": "pending", "until": until})).await?;
    let snoozed = server.state.store.conversation(id).await?;
    assert_eq!(snoozed.as_ref().map(|c| (c.status, c.snoozed_until)), Some((ConversationStatus::Pending, Some(until))));
    advance(&server, 2 * HOUR - MINUTE).await?;
    assert_eq!(server.state.store.conversation(id).await?.map(|c| c.status), Some(ConversationStatus::Pending));
    advance(&server, 2 * MINUTE).await?;
    let woke = ann_socket
        .expect(|message| match message {
            ServerMsg::Event { event } if event.conversation_id == id => match &event.change {
                Change::StatusChanged { status: ConversationStatus::Open } => Some(event.actor),
                _ => None,
            },
            _ => None,
        })
        .await?;
    assert_eq!(woke, Some(AUTOMATION_USER), "Baton reopened it, and Ann, its assignee, heard");
    let reopened = server.state.store.conversation(id).await?;
    assert_eq!(reopened.map(|c| (c.status, c.snoozed_until)), Some((ConversationStatus::Open, None)));

    // Snoozed again until tomorrow; the customer writes first: open at once, and the wake-up
    // finds nothing to do.
    let until = server.state.now() + 24 * 3_600_000;
    put(&ann_client, &format!("/api/conversations/{id}/status"), &json!({"status": "pending", "until": until})).await?;
    server.customer_writes_at("15550001", "Actually, one more question", server.state.now()).await?;
    let early = server.state.store.conversation(id).await?;
    assert_eq!(early.map(|c| (c.status, c.snoozed_until)), Some((ConversationStatus::Open, None)));
    let before = status_events(&server, id).await?;
    advance(&server, 25 * HOUR).await?;
    assert_eq!(status_events(&server, id).await?, before, "no second reopening");
    assert_eq!(
        before
            .iter()
            .filter(|(actor, change)| *actor == Some(AUTOMATION_USER) && matches!(change, Change::StatusChanged { .. }))
            .count(),
        1
    );
    // A snooze in the past, or with another status, is refused with a sentence.
    let past = ann_client
        .request(reqwest::Method::PUT, &format!("/api/conversations/{id}/status"))
        .json(&json!({"status": "pending", "until": server.state.now() - 1}))
        .send()
        .await?;
    assert_eq!(past.status(), 422);
    drop(ann_socket);
    server.stop().await
}

async fn a_missed_first_response_is_breached_once_in_business_hours(kind: Kind) -> anyhow::Result<()> {
    let night = berlin(1, 23, 0)?;
    let server = start_at(kind, night).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let every_day: Vec<_> =
        Weekday::ALL.iter().map(|day| json!({"day": day, "from": "09:00", "to": "17:00"})).collect();
    put(
        &admin,
        "/api/automation/hours",
        &json!({"version": 0, "inbox": {"time_zone": "Europe/Berlin", "weekly": every_day}}),
    )
    .await?;
    put(&admin, "/api/automation/sla", &json!({"version": 0, "inbox": {"first_response_minutes": 5}})).await?;
    let (sam_client, _) = server.logged_in("Sam", Role::Supervisor).await?;
    let mut sam = WsClient::connect(&sam_client).await?;
    sam.request(|req_id| baton_shared::protocol::ClientMsg::SubscribeInbox { req_id, cursors: vec![] }).await?;

    let id = server.customer_writes_at("15550002", "Hello? It is urgent", night).await?;
    jobs_done(&server).await?;
    // Due five business minutes later: 09:05 tomorrow, not 23:05.
    let due = berlin(2, 9, 5)?;
    let clock = server.state.store.conversation(id).await?.and_then(|c| c.sla);
    assert_eq!(clock, Some(SlaDue { kind: SlaKind::FirstResponse, due_at: due, breached: false }));

    let breaches = |server: &TestServer| {
        let store = server.state.store.clone();
        async move {
            let events = store.events_after(id, 0, 1000).await?;
            anyhow::Ok(events.into_iter().filter(|event| matches!(event.change, Change::SlaBreached { .. })).count())
        }
    };
    // All night and up to 09:04: no breach.
    advance(&server, 10 * HOUR + 4 * MINUTE).await?;
    assert_eq!(breaches(&server).await?, 0, "09:04");
    advance(&server, 2 * MINUTE).await?;
    let missed = sam
        .expect(|message| match message {
            ServerMsg::Event { event } if event.conversation_id == id => match &event.change {
                Change::SlaBreached { target, due_at } => Some((*target, *due_at)),
                _ => None,
            },
            _ => None,
        })
        .await?;
    assert_eq!(missed, (SlaKind::FirstResponse, due), "the supervisor is told");
    let clock = server.state.store.conversation(id).await?.and_then(|c| c.sla);
    assert_eq!(clock.map(|sla| sla.breached), Some(true), "the card turns red");
    advance(&server, 3 * HOUR).await?;
    assert_eq!(breaches(&server).await?, 1, "exactly once");

    // A person's reply meets the clock.
    let (ann_client, _) = server.logged_in("Ann", Role::Agent).await?;
    let claimed = ann_client.post(&format!("/api/conversations/{id}/claim"), &json!({})).await?;
    assert_eq!(claimed.status(), 200);
    let seen = server.state.store.conversation(id).await?.map(|c| c.last_seq).unwrap_or(0);
    let replied = ann_client
        .post(
            &format!("/api/conversations/{id}/replies"),
            &json!({"body": "Sorry for the wait!", "idempotency_key": "r1", "seen_seq": seen, "force": true}),
        )
        .await?;
    assert_eq!(replied.status(), 201, "{:?}", replied.text().await);
    assert_eq!(server.state.store.conversation(id).await?.and_then(|c| c.sla), None, "met");
    drop(sam);
    server.stop().await
}

async fn auto_resolve_closes_a_quiet_conversation_with_its_closing_message(kind: Kind) -> anyhow::Result<()> {
    let start = baton_server::clock::now_ms();
    let server = start_at(kind, start).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let targets = json!({"auto_resolve_hours": 20, "closing_message": "We are closing this chat. Write any time!"});
    put(&admin, "/api/automation/sla", &json!({"version": 0, "inbox": targets})).await?;
    let id = server.customer_writes_at("15550003", "Thanks, that's all", start).await?;
    jobs_done(&server).await?;
    // Ten hours later the customer writes again: the twenty hours count from then.
    advance(&server, 10 * HOUR).await?;
    server.customer_writes_at("15550003", "Oh, and one more thing", server.state.now()).await?;
    jobs_done(&server).await?;
    advance(&server, 11 * HOUR).await?;
    assert_eq!(server.state.store.conversation(id).await?.map(|c| c.status), Some(ConversationStatus::Open));
    advance(&server, 10 * HOUR).await?;
    let closed = server.state.store.conversation(id).await?;
    assert_eq!(
        closed.map(|c| c.status),
        Some(ConversationStatus::Resolved),
        "twenty quiet hours after the last message"
    );
    let messages = server.state.store.messages(id).await?;
    let closing: Vec<_> = messages.iter().filter(|message| message.author == Some(AUTOMATION_USER)).collect();
    assert_eq!(closing.len(), 1, "the closing message, inside WhatsApp's window");
    assert_eq!(closing[0].body, "We are closing this chat. Write any time!");
    let resolved_by = server.state.store.events_after(id, 0, 1000).await?.into_iter().find_map(|event| {
        matches!(event.change, Change::StatusChanged { status: ConversationStatus::Resolved }).then_some(event.actor)
    });
    assert_eq!(resolved_by, Some(Some(AUTOMATION_USER)));
    server.stop().await
}

#[test]
fn snooze_on_sqlite() -> anyhow::Result<()> {
    on_paused_clock("snooze on SQLite", || a_snooze_reopens_on_time_and_a_customer_message_sooner(Kind::Sqlite))
}

#[test]
fn snooze_on_postgres() -> anyhow::Result<()> {
    on_paused_clock("snooze on PostgreSQL", || a_snooze_reopens_on_time_and_a_customer_message_sooner(Kind::Postgres))
}

#[test]
fn sla_breach_on_sqlite() -> anyhow::Result<()> {
    on_paused_clock("SLA on SQLite", || a_missed_first_response_is_breached_once_in_business_hours(Kind::Sqlite))
}

#[test]
fn sla_breach_on_postgres() -> anyhow::Result<()> {
    on_paused_clock("SLA on PostgreSQL", || a_missed_first_response_is_breached_once_in_business_hours(Kind::Postgres))
}

#[test]
fn auto_resolve_on_sqlite() -> anyhow::Result<()> {
    on_paused_clock("auto-resolve on SQLite", || {
        auto_resolve_closes_a_quiet_conversation_with_its_closing_message(Kind::Sqlite)
    })
}

#[test]
fn auto_resolve_on_postgres() -> anyhow::Result<()> {
    on_paused_clock("auto-resolve on PostgreSQL", || {
        auto_resolve_closes_a_quiet_conversation_with_its_closing_message(Kind::Postgres)
    })
}
