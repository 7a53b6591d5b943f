//! Reports against hand-built histories with known answers (`docs/reports.md`), on SQLite and
//! PostgreSQL, on tokio's paused clock: first responses are a person's and run from the first
//! unanswered message, a transfer gives the next answer to whoever gives it, a resolution belongs
//! to the assignee at the resolve, a reopening starts both clocks again, a wait across a weekend
//! (with the clocks changing for summer time on the Sunday) counts its business minutes only, local
//! days have 23 hours on that Sunday, a conversation resolved unanswered has no first response; a
//! first-response target met and one missed are counted, each for the assignee of the moment; the
//! CSV export has the JSON's numbers; an agent reads no reports. And a history from before
//! reports is replayed from the event log into the same figures.

use std::time::Duration;

use baton_shared::api::Role;
use baton_shared::automation::Weekday;
use baton_shared::reports::{Overview, ReportRow, TABLE_CSV_COLUMNS};
use baton_shared::teams::AssignmentModel;
use baton_shared::{ConversationId, ErrorCode};
use baton_tests::client::{TestClient, expect_error, json};
use baton_tests::clocked::{clock_to, start_at};
use baton_tests::database::{Kind, TestDatabase};
use baton_tests::eventually::eventually;
use baton_tests::paused::on_paused_clock;
use baton_tests::replies::replies;
use baton_tests::server::TestServer;
use baton_tests::teams::{create_team, move_to, put};
use reqwest::StatusCode;
use serde_json::json;

const MINUTE: i64 = 60_000;

/// `hour:minute` in Berlin on 2027-03-`day` (a Friday is the 26th; summer time begins on Sunday
/// the 28th), as Unix ms.
fn berlin(day: i8, hour: i8, minute: i8) -> anyhow::Result<i64> {
    let zone = jiff::tz::TimeZone::get("Europe/Berlin")?;
    let at = jiff::civil::date(2027, 3, day).at(hour, minute, 0, 0).to_zoned_datetime(zone)?;
    Ok(at.timestamp().as_millisecond())
}

async fn set_status(client: &TestClient, id: ConversationId, status: &str) -> anyhow::Result<()> {
    put(client, &format!("/api/conversations/{id}/status"), &json!({"status": status})).await
}

async fn the_figures_are_those_of_the_definitions(kind: Kind) -> anyhow::Result<()> {
    let server = start_at(kind, berlin(26, 8, 0)?).await?;
    let (ada, _) = server.logged_in("Ada", Role::Admin).await?;
    let (ann_client, ann) = server.logged_in("Ann", Role::Agent).await?;
    let (bob_client, bob) = server.logged_in("Bob", Role::Agent).await?;
    let weekdays: Vec<_> =
        Weekday::ALL[..5].iter().map(|day| json!({"day": day, "from": "09:00", "to": "17:00"})).collect();
    put(
        &ada,
        "/api/automation/hours",
        &json!({"version": 0, "inbox": {"time_zone": "Europe/Berlin", "weekly": weekdays}}),
    )
    .await?;
    // A first response is due in 15 business minutes: Friday's is met, Monday's missed at 09:05.
    put(&ada, "/api/automation/sla", &json!({"version": 0, "inbox": {"first_response_minutes": 15}})).await?;

    // Friday 10:00: a customer writes twice; Ann answers at 10:05 (first response, 5 minutes,
    // the clock running from the first message), and again at 10:06 (nothing measured).
    clock_to(&server, berlin(26, 10, 0)?).await?;
    let one = server.customer_writes_on_its_clock("4915110000001", "Hello").await?;
    let labelled = ada.patch(&format!("/api/conversations/{one}/labels"), &json!({"add": ["billing"]})).await?;
    assert_eq!(labelled.status(), StatusCode::OK);
    clock_to(&server, berlin(26, 10, 2)?).await?;
    server.customer_writes_on_its_clock("4915110000001", "Anyone?").await?;
    put(&ada, &format!("/api/conversations/{one}/assignee"), &json!({"assignee": ann.id})).await?;
    clock_to(&server, berlin(26, 10, 5)?).await?;
    replies(&ann_client, one, "Hi! Looking.").await?;
    clock_to(&server, berlin(26, 10, 6)?).await?;
    replies(&ann_client, one, "One more thing…").await?;
    // 10:10 the customer writes; the conversation goes to Bob, who answers at 10:30 (a next
    // response of 20 minutes, Bob's) and resolves it at 10:40 (a resolution of 40 minutes, Bob's).
    clock_to(&server, berlin(26, 10, 10)?).await?;
    server.customer_writes_on_its_clock("4915110000001", "Still there?").await?;
    put(&ada, &format!("/api/conversations/{one}/assignee"), &json!({"assignee": bob.id})).await?;
    clock_to(&server, berlin(26, 10, 30)?).await?;
    replies(&bob_client, one, "Done.").await?;
    clock_to(&server, berlin(26, 10, 40)?).await?;
    set_status(&bob_client, one, "resolved").await?;
    // 16:50 it reopens; Bob answers on Monday at 09:10: 2 days 16 h 20 min on the wall (23-hour
    // Sunday included), 20 business minutes (16:50–17:00, 09:00–09:10).
    clock_to(&server, berlin(26, 16, 50)?).await?;
    server.customer_writes_on_its_clock("4915110000001", "It broke again").await?;
    put(&ada, &format!("/api/conversations/{one}/assignee"), &json!({"assignee": bob.id})).await?;
    // Saturday a second customer writes; an admin resolves it on Sunday unanswered.
    clock_to(&server, berlin(27, 12, 0)?).await?;
    let two = server.customer_writes_on_its_clock("4915110000002", "Weekend question").await?;
    clock_to(&server, berlin(28, 12, 0)?).await?;
    set_status(&ada, two, "resolved").await?;
    // Monday 09:05 the customer writes again (WhatsApp's 24-hour window is open again; the wait
    // still runs from Friday's message).
    clock_to(&server, berlin(29, 9, 5)?).await?;
    server.customer_writes_on_its_clock("4915110000001", "Hello??").await?;
    clock_to(&server, berlin(29, 9, 10)?).await?;
    replies(&bob_client, one, "Back on it.").await?;

    let period = format!("from={}&to={}&tz=Europe/Berlin", berlin(26, 0, 0)?, berlin(30, 0, 0)?);
    let overview: Overview = json(ada.get(&format!("/api/reports/overview?{period}")).await?).await?;
    let now = &overview.current;
    assert_eq!(
        (
            now.volumes.created,
            now.volumes.reopened,
            now.volumes.resolved,
            now.volumes.messages_in,
            now.volumes.messages_out
        ),
        (2, 1, 2, 6, 4)
    );
    let long = berlin(29, 9, 10)? - berlin(26, 16, 50)?;
    assert_eq!(long, (2 * 24 * 60 + 16 * 60 + 20 - 60) * MINUTE, "the Sunday has 23 hours");
    assert_eq!(now.first_response.count, 2);
    assert_eq!((now.first_response.median_ms, now.first_response.p90_ms), (Some(5 * MINUTE), Some(long)));
    assert_eq!(
        (now.first_response.business_median_ms, now.first_response.business_p90_ms),
        (Some(5 * MINUTE), Some(20 * MINUTE))
    );
    assert_eq!((now.next_response.count, now.next_response.median_ms), (1, Some(20 * MINUTE)));
    let unanswered = berlin(28, 12, 0)? - berlin(27, 12, 0)?;
    assert_eq!(now.resolution.count, 2);
    assert_eq!((now.resolution.median_ms, now.resolution.p90_ms), (Some(40 * MINUTE), Some(unanswered)));
    assert_eq!(now.resolution.business_p90_ms, Some(40 * MINUTE), "the weekend has no business time");
    assert_eq!((now.sla.met, now.sla.breached), (1, 1), "met on Friday; missed on Monday, then answered late");
    assert_eq!(overview.previous.volumes.messages_in, 0, "nothing the week before");
    let days: Vec<(&str, u64, u64)> =
        overview.days.iter().map(|day| (day.day.as_str(), day.volumes.messages_in, day.volumes.resolved)).collect();
    assert_eq!(days, vec![("2027-03-26", 4, 1), ("2027-03-27", 1, 0), ("2027-03-28", 0, 1), ("2027-03-29", 1, 0)]);
    assert_eq!(overview.heatmap[4][10], 3, "Friday 10–11, Berlin time");
    assert_eq!(overview.heatmap[4][16] + overview.heatmap[5][12], 2);
    assert_eq!(overview.first_response_bins.iter().sum::<u32>(), 2);
    assert_eq!(
        (overview.first_response_bins[2], overview.first_response_bins[6]),
        (1, 1),
        "5–15 minutes, a day or more"
    );

    // Per agent: Ann's first response; Bob's next and first responses and his resolution.
    let agents: Vec<ReportRow> = json(ada.get(&format!("/api/reports/agents?{period}")).await?).await?;
    let row = |name: &str| agents.iter().find(|row| row.name == name).cloned().unwrap_or_default();
    let ann_row = row("Ann");
    assert_eq!((ann_row.first_response.count, ann_row.first_response.median_ms), (1, Some(5 * MINUTE)));
    assert_eq!((ann_row.resolution.count, ann_row.volumes.messages_out), (0, 2));
    let bob_row = row("Bob");
    assert_eq!((bob_row.first_response.count, bob_row.next_response.count, bob_row.resolution.count), (1, 1, 1));
    assert_eq!(bob_row.resolution.median_ms, Some(40 * MINUTE));
    assert_eq!((ann_row.sla.met, bob_row.sla.breached), (1, 1), "each the assignee's of the moment");
    // A label counts what happened while the conversation had it, and the opening it was given
    // during (labels always come after the opening).
    let billing: Overview = json(ada.get(&format!("/api/reports/overview?{period}&label=Billing")).await?).await?;
    assert_eq!(
        (billing.current.volumes.created, billing.current.volumes.messages_in),
        (1, 4),
        "created, and the messages since it was labelled (after the first)"
    );
    assert_eq!(billing.current.first_response.count, 2);

    // The CSV has the JSON's numbers, under the documented header.
    let csv = ada.get(&format!("/api/reports/agents?{period}&format=csv")).await?;
    assert_eq!(
        csv.headers().get("content-type").and_then(|value| value.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    let text = csv.text().await?;
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(TABLE_CSV_COLUMNS.join(",").as_str()));
    let expected: Vec<String> = agents.iter().map(|row| row.csv_cells().join(",")).collect();
    assert_eq!(lines.map(str::to_owned).collect::<Vec<_>>(), expected);

    // Who may read: not an agent; a lead only their own teams.
    let refused =
        expect_error(ann_client.get(&format!("/api/reports/overview?{period}")).await?, StatusCode::FORBIDDEN).await?;
    assert_eq!(refused.code, ErrorCode::Forbidden);
    let bad = expect_error(
        ada.get("/api/reports/overview?from=0&to=1000&tz=Mars/Olympus").await?,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await?;
    assert!(bad.message.contains("time zone"), "{}", bad.message);
    server.stop().await
}

#[test]
fn the_figures_are_those_of_the_definitions_on_sqlite() -> anyhow::Result<()> {
    on_paused_clock("reports on SQLite", || the_figures_are_those_of_the_definitions(Kind::Sqlite))
}

#[test]
fn the_figures_are_those_of_the_definitions_on_postgres() -> anyhow::Result<()> {
    on_paused_clock("reports on PostgreSQL", || the_figures_are_those_of_the_definitions(Kind::Postgres))
}

/// Forgets the reports' facts beneath the store, as a database from before reports would be:
/// every conversation waits to be replayed, its track unknown.
async fn forget_the_reports(database: &TestDatabase) -> anyhow::Result<()> {
    const FORGET: [&str; 6] = [
        "DELETE FROM report_spans",
        "DELETE FROM report_counts",
        "DELETE FROM report_team_hours",
        "DELETE FROM report_day_counts",
        "DELETE FROM report_day_spans",
        "UPDATE conversations SET reports_replay_to = last_seq, spell_started_at = NULL, waiting_since = NULL, \
         answered_in_spell = FALSE",
    ];
    database.execute(&FORGET).await
}

/// A history recorded as it happened, then forgotten and replayed from the event log at the next
/// start: the same figures, and the tracks as they were (a wait still open is measured alike).
async fn what_happened_before_reports_is_replayed_from_the_event_log(kind: Kind) -> anyhow::Result<()> {
    let database = TestDatabase::new(kind).await?;
    let before = TestServer::start_on(database.another_node()?, |_| {}).await?;
    let (ada, _) = before.logged_in("Ada", Role::Admin).await?;
    let (ann_client, ann) = before.logged_in("Ann", Role::Agent).await?;
    let from = before.state.now() - 60_000;
    let mut opened = Vec::new();
    for customer in ["4930000001", "4930000002", "4930000003"] {
        opened.push(before.customer_writes_on_its_clock(customer, "Hello").await?);
    }
    for id in &opened[..2] {
        put(&ada, &format!("/api/conversations/{id}/assignee"), &json!({"assignee": ann.id})).await?;
        replies(&ann_client, *id, "Hi!").await?;
    }
    let labelled = ada.patch(&format!("/api/conversations/{}/labels", opened[0]), &json!({"add": ["vip"]})).await?;
    assert_eq!(labelled.status(), StatusCode::OK);
    before.customer_writes_on_its_clock("4930000001", "Thanks, one more question").await?;
    set_status(&ann_client, opened[1], "resolved").await?;
    before.customer_writes_on_its_clock("4930000002", "Sorry, it is not solved").await?;
    // A team answered in and then deleted: its facts stay, and it can be deleted.
    let sales = create_team(&ada, "Sales", AssignmentModel::Manual, &[]).await?;
    move_to(&ada, opened[2], Some(sales)).await?;
    replies(&ada, opened[2], "Sales here").await?;
    let deleted = ada.request(reqwest::Method::DELETE, &format!("/api/teams/{sales}")).send().await?;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT, "a team with report facts is deleted all the same");
    let period = |to: i64| format!("from={from}&to={to}");
    let to = before.state.now() + 3_600_000;
    let recorded: Overview = json(ada.get(&format!("/api/reports/overview?{}", period(to))).await?).await?;
    let recorded_agents: Vec<ReportRow> = json(ada.get(&format!("/api/reports/agents?{}", period(to))).await?).await?;
    let recorded_vip: Overview =
        json(ada.get(&format!("/api/reports/overview?{}&label=vip", period(to))).await?).await?;
    assert_eq!((recorded.current.first_response.count, recorded.current.volumes.reopened), (3, 1), "{recorded:?}");
    before.stop().await?;
    forget_the_reports(&database).await?;

    // Started again: the backlog replays every conversation's log by itself.
    let after = TestServer::start_on(database.another_node()?, |_| {}).await?;
    let (bo, _) = after.logged_in("Bo", Role::Admin).await?;
    let replayed = eventually(Duration::from_secs(20), || async {
        let overview: Overview = json(bo.get(&format!("/api/reports/overview?{}", period(to))).await?).await?;
        Ok(if overview == recorded { Ok(()) } else { Err(format!("{overview:?}")) })
    })
    .await;
    replayed?;
    let agents: Vec<ReportRow> = json(bo.get(&format!("/api/reports/agents?{}", period(to))).await?).await?;
    assert_eq!(agents, recorded_agents);
    let vip: Overview = json(bo.get(&format!("/api/reports/overview?{}&label=vip", period(to))).await?).await?;
    assert_eq!(vip, recorded_vip, "labels as they were at each event");
    // The tracks are back: Ann's answer to the open wait is a next response, measured from it.
    let mut ann_again = after.client();
    ann_again.login(&ann.email, "pass-ann-agent").await?;
    replies(&ann_again, opened[0], "Sure").await?;
    let now: Overview = json(bo.get(&format!("/api/reports/overview?{}", period(to))).await?).await?;
    assert_eq!(now.current.next_response.count, recorded.current.next_response.count + 1);
    after.stop().await
}

baton_tests::on_both_kinds!(what_happened_before_reports_is_replayed_from_the_event_log);

/// Agent load is sampled as each quarter hour begins (open conversations assigned, per person and
/// team): a resolved or unassigned conversation is no load, a quarter hour sampled twice keeps its
/// first sample, and the overview's load over the day adds the samples up per hour beside how
/// many quarter hours the period has in it — for everyone, one person, one team.
async fn agent_load_is_sampled_each_quarter_hour(kind: Kind) -> anyhow::Result<()> {
    const QUARTER: i64 = 15 * MINUTE;
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (ada, _) = server.logged_in("Ada", Role::Admin).await?;
    let (_, ann) = server.logged_in("Ann", Role::Agent).await?;
    let (_, ben) = server.logged_in("Ben", Role::Agent).await?;
    let sales = create_team(&ada, "Sales", AssignmentModel::Manual, &[]).await?;
    let mut held = Vec::new();
    for n in 0..4 {
        held.push(server.customer_writes(&format!("55119000010{n}"), "Hello").await?);
    }
    // Ann holds two open ones and a resolved one; one waits for nobody.
    for id in &held[..3] {
        put(&ada, &format!("/api/conversations/{id}/assignee"), &json!({"assignee": ann.id})).await?;
    }
    set_status(&ada, held[2], "resolved").await?;

    // Samples for quarter hours well before now (the server's own sampler takes the current one).
    let now = server.state.now();
    let sampled = now - now.rem_euclid(QUARTER) - 8 * QUARTER;
    server.state.store.sample_load(sampled).await?;
    // Ben takes one more: the same quarter hour sampled again keeps its sample.
    put(&ada, &format!("/api/conversations/{}/assignee", held[3]), &json!({"assignee": ben.id})).await?;
    server.state.store.sample_load(sampled).await?;

    let period = format!("from={}&to={}", sampled - 4 * QUARTER, sampled + 4 * QUARTER);
    let load = |overview: &Overview| -> (u64, u32) {
        overview.load.iter().fold((0, 0), |(sum, samples), hour| (sum + hour.conversations, samples + hour.samples))
    };
    let all: Overview = json(ada.get(&format!("/api/reports/overview?{period}")).await?).await?;
    assert_eq!(all.load.len(), 24);
    assert_eq!(load(&all), (2, 8), "Ann's two open ones, in one of the period's eight quarter hours");
    let hour = usize::try_from((sampled / 3_600_000).rem_euclid(24))?;
    assert_eq!(all.load[hour].conversations, 2, "in the sample's hour (UTC)");
    let of_ann: Overview = json(ada.get(&format!("/api/reports/overview?{period}&agent={}", ann.id)).await?).await?;
    assert_eq!(load(&of_ann).0, 2);
    let of_ben: Overview = json(ada.get(&format!("/api/reports/overview?{period}&agent={}", ben.id)).await?).await?;
    assert_eq!(load(&of_ben).0, 0, "Ben's came after the sample");
    let of_sales: Overview = json(ada.get(&format!("/api/reports/overview?{period}&team={sales}")).await?).await?;
    assert_eq!(load(&of_sales).0, 0, "Ann's are in no team");
    server.stop().await
}

baton_tests::on_both_kinds!(agent_load_is_sampled_each_quarter_hour);
