//! Time online and available (docs/reports.md) on tokio's paused clock, on SQLite and PostgreSQL,
//! with real sockets: a person's time is measured at each presence change (connect, busy, away,
//! the last socket closed) and recorded as each quarter hour ends, so the agents table shows the
//! quarter hours that ended — exactly — and not the one under way; a person online with no
//! conversations has a row of their own; the CSV has the same seconds; a lead sees only their
//! teams' people; a server that stops records what it measured so far; and a quarter hour
//! recorded by two servers (or one that restarted) holds their sum, at most a quarter hour.

use std::time::Duration;

use baton_server::clock::Clock;
use baton_server::hub::presence_time::PresenceTime;
use baton_server::store::reports::FactFilter;
use baton_shared::UserId;
use baton_shared::api::Role;
use baton_shared::protocol::PresenceStatus;
use baton_shared::reports::ReportRow;
use baton_shared::teams::AssignmentModel;
use baton_tests::client::{TestClient, json};
use baton_tests::database::{Kind, TestDatabase};
use baton_tests::paused::{on_paused_clock, until};
use baton_tests::replies::replies;
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;
use baton_tests::teams::create_team;
use reqwest::StatusCode;
use serde_json::json;

const MINUTE: i64 = 60_000;
const QUARTER: i64 = 15 * MINUTE;

/// Moves the paused clock on by `minutes`; past a quarter hour's start, waits (in real time) for
/// the server's pass for it — which, the clock having jumped, runs late: at the new time.
async fn minutes_pass(server: &TestServer, minutes: i64) -> anyhow::Result<()> {
    let before = server.state.now();
    tokio::time::advance(Duration::from_millis(u64::try_from(minutes * MINUTE)?)).await;
    let now = server.state.now();
    let boundary = now - now.rem_euclid(QUARTER);
    if boundary > before {
        until("the quarter-hour pass", || server.state.quarter_hours.last_pass() >= boundary).await?;
    }
    Ok(())
}

/// `client`'s agents table for the day around `at`, as (name, online min, available min).
async fn time_online(client: &TestClient, at: i64, filter: &str) -> anyhow::Result<Vec<(String, i64, i64)>> {
    let (from, to) = (at - at.rem_euclid(86_400_000), at - at.rem_euclid(86_400_000) + 86_400_000);
    let rows: Vec<ReportRow> =
        json(client.get(&format!("/api/reports/agents?from={from}&to={to}{filter}")).await?).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let time = row.time_online.unwrap_or_default();
            (row.name, time.online_ms / MINUTE, time.available_ms / MINUTE)
        })
        .collect())
}

async fn time_is_measured_at_each_change_and_recorded_as_each_quarter_hour_ends(kind: Kind) -> anyhow::Result<()> {
    // 2027-03-01 09:05 UTC.
    let start: i64 = "2027-03-01T09:05:00Z".parse::<jiff::Timestamp>()?.as_millisecond();
    let database = TestDatabase::new(kind).await?;
    let server = TestServer::start_on(database.another_node()?, |config| {
        config.clock = Clock::Tokio { unix_ms: start, since: tokio::time::Instant::now() };
        config.ws_ping_interval = Duration::from_secs(86_400);
        config.ws_idle_timeout = Duration::from_secs(2 * 86_400);
    })
    .await?;
    let (ada, _) = server.logged_in("Ada", Role::Admin).await?;
    let (ann_client, ann) = server.logged_in("Ann", Role::Agent).await?;
    let (ben_client, ben) = server.logged_in("Ben", Role::Agent).await?;
    let (lee, lee_user) = server.logged_in("Lee", Role::Lead).await?;
    let sales = create_team(&ada, "Sales", AssignmentModel::Manual, &[(ben.id, None), (lee_user.id, None)]).await?;
    let online = |user: UserId| server.state.hub.is_online(user);

    // 09:05 Ann comes online, available; 09:12 busy; 09:20 available again; 09:35 gone.
    let mut ann_socket = WsClient::connect(&ann_client).await?;
    until("Ann online", || online(ann.id)).await?;
    minutes_pass(&server, 7).await?;
    ann_socket.set_presence(PresenceStatus::Busy).await?;
    minutes_pass(&server, 3).await?;
    minutes_pass(&server, 5).await?;
    ann_socket.set_presence(PresenceStatus::Available).await?;
    minutes_pass(&server, 10).await?;
    minutes_pass(&server, 5).await?;
    ann_socket.close().await?;
    until("Ann offline", || !online(ann.id)).await?;
    // 09:35 Ben comes online with two tabs, one closed at 09:40; 09:42 away; still on at 09:50.
    let mut ben_socket = WsClient::connect(&ben_client).await?;
    let ben_tab = WsClient::connect(&ben_client).await?;
    until("Ben online", || online(ben.id)).await?;
    minutes_pass(&server, 5).await?;
    ben_tab.close().await?;
    minutes_pass(&server, 2).await?;
    ben_socket.set_presence(PresenceStatus::Away).await?;
    minutes_pass(&server, 3).await?;
    minutes_pass(&server, 5).await?;

    // Ann answers a `vip` customer (over REST, offline): she has a row under the label.
    let vip = server.customer_writes_on_its_clock("5511900000001", "Hello").await?;
    let labelled = ada.patch(&format!("/api/conversations/{vip}/labels"), &json!({"add": ["vip"]})).await?;
    anyhow::ensure!(labelled.status() == StatusCode::OK, "label: {}", labelled.status());
    replies(&ann_client, vip, "Hi").await?;

    // The quarter hours that ended, to the minute; Ben's under way is not in yet. Nobody else
    // was online: a row each for the two who were.
    let now = server.state.now();
    assert_eq!(
        time_online(&ada, now, "").await?,
        [("Ann".to_owned(), 30, 22), ("Ben".to_owned(), 10, 7)],
        "Ann: 30 min online, 22 of them available; Ben: 09:35 to 09:45, one tab or two, 7 min available"
    );
    let csv =
        ada.get(&format!("/api/reports/agents?from={}&to={}&format=csv", now - QUARTER * 4, now)).await?.text().await?;
    let ann_line = csv.lines().find(|line| line.contains(",Ann,")).unwrap_or_default();
    assert!(ann_line.ends_with(",1800,1320"), "online and available seconds: {csv}");
    assert_eq!(time_online(&ada, now, &format!("&agent={}", ann.id)).await?, [("Ann".to_owned(), 30, 22)]);
    assert_eq!(time_online(&ada, now, &format!("&team={sales}")).await?, [("Ben".to_owned(), 10, 7)]);
    assert_eq!(time_online(&lee, now, "").await?, [("Ben".to_owned(), 10, 7)], "a lead sees their teams' people");
    assert_eq!(
        time_online(&ada, now, "&label=vip").await?,
        [("Ann".to_owned(), 30, 22)],
        "a label's rows are its conversations' people, with their whole time"
    );

    // 10:10, the 10:00 pass ten minutes late: 09:45 to 10:00 in its quarter hour (whole, away),
    // 10:00 to 10:10 in the next, nothing lost. Stopped at 10:13, the server records the rest.
    minutes_pass(&server, 20).await?;
    assert_eq!(time_online(&ada, now, &format!("&agent={}", ben.id)).await?, [("Ben".to_owned(), 35, 7)]);
    minutes_pass(&server, 3).await?;
    drop(ben_socket);
    server.stop().await?;
    let store = database.open().await?;
    let by_quarter = FactFilter { from: start, to: start + 8 * QUARTER, agent: Some(ben.id), ..Default::default() };
    assert_eq!(
        store.report_presence(&by_quarter).await?,
        [(ben.id, 38 * MINUTE, 7 * MINUTE)],
        "the last three minutes recorded at the stop"
    );

    // A quarter hour recorded twice (a restart, or a second server) adds up, to a quarter hour.
    let bucket = start - start.rem_euclid(QUARTER) + 8 * QUARTER;
    let time = |minutes: i64| PresenceTime {
        bucket,
        user: ann.id,
        online_ms: minutes * MINUTE,
        available_ms: minutes * MINUTE,
    };
    let read = || async {
        let filter = FactFilter { from: bucket, to: bucket + QUARTER, ..Default::default() };
        anyhow::Ok(store.report_presence(&filter).await?)
    };
    store.record_presence(&[time(4)]).await?;
    store.record_presence(&[time(6)]).await?;
    assert_eq!(read().await?, [(ann.id, 10 * MINUTE, 10 * MINUTE)]);
    store.record_presence(&[time(9)]).await?;
    assert_eq!(read().await?, [(ann.id, QUARTER, QUARTER)], "never more than the quarter hour");
    // The day's rollup agrees: her half hour this morning and the quarter hour.
    let day = start - start.rem_euclid(86_400_000);
    let filter = FactFilter { from: day, to: day + 86_400_000, agent: Some(ann.id), ..Default::default() };
    assert_eq!(store.report_presence(&filter).await?, [(ann.id, 45 * MINUTE, 37 * MINUTE)]);
    Ok(())
}

#[test]
fn time_online_on_sqlite() -> anyhow::Result<()> {
    on_paused_clock("time online on SQLite", || {
        time_is_measured_at_each_change_and_recorded_as_each_quarter_hour_ends(Kind::Sqlite)
    })
}

#[test]
fn time_online_on_postgres() -> anyhow::Result<()> {
    on_paused_clock("time online on PostgreSQL", || {
        time_is_measured_at_each_change_and_recorded_as_each_quarter_hour_ends(Kind::Postgres)
    })
}
