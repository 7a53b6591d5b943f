//! An overview's days and hours in every kind of time zone, on SQLite and PostgreSQL, on tokio's
//! paused clock: everyone's counts are kept per UTC hour with a column per quarter hour
//! (`report_team_hours`), and read per local hour. A customer writes in each quarter of a UTC
//! hour, around Kolkata's midnight (18:30 UTC), around Lord Howe Island's clock change (to summer
//! time at 02:00 local, 15:30 UTC) and St. John's (back from summer time at 02:00 local, 04:30
//! UTC: an hour with quarters of two offsets, the last two in the local hour before — the change
//! that tells whether such an hour is read from the detail; Lord Howe's lands in the same local
//! hour either way); the heatmap and the days must put each message in its local hour and day —
//! in UTC, Berlin (whole hours), Kolkata (+5:30), Kathmandu (+5:45), St. John's (−2:30, then
//! −3:30) and Lord Howe (+10:30, then +11) — for periods from local midnight and for some that
//! start and end inside UTC hours, for everyone and for a label and a team.

use std::collections::BTreeMap;

use baton_shared::api::Role;
use baton_shared::reports::Overview;
use baton_shared::teams::AssignmentModel;
use baton_tests::client::{TestClient, json};
use baton_tests::clocked::{clock_to, start_at};
use baton_tests::database::Kind;
use baton_tests::paused::on_paused_clock;
use baton_tests::server::TestServer;
use baton_tests::teams::{create_team, move_to};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::json;

/// `hour:minute` UTC on 2027-`month`-`day` (October the 2nd is a Saturday), as Unix ms.
fn utc((month, day): (i8, i8), hour: i8, minute: i8) -> anyhow::Result<i64> {
    let at = jiff::civil::date(2027, month, day).at(hour, minute, 0, 0).to_zoned_datetime(TimeZone::UTC)?;
    Ok(at.timestamp().as_millisecond())
}

/// Local midnight starting 2027-`month`-`day` in `zone`, as Unix ms.
fn midnight(zone: &TimeZone, (month, day): (i8, i8)) -> anyhow::Result<i64> {
    Ok(jiff::civil::date(2027, month, day).to_zoned_datetime(zone.clone())?.timestamp().as_millisecond())
}

const OCT: i8 = 10;
const NOV: i8 = 11;

/// A heatmap (per weekday, Monday first, and hour) and messages per local day.
type Shown = (Vec<[u64; 24]>, BTreeMap<String, u64>);

/// What the heatmap and the days must show of the messages `sent` within `[from, to)` in `zone`.
fn expected(zone: &TimeZone, sent: &[i64], from: i64, to: i64) -> anyhow::Result<Shown> {
    let mut heatmap = vec![[0_u64; 24]; 7];
    let mut days = BTreeMap::new();
    for at in sent.iter().filter(|at| (from..to).contains(*at)) {
        let local = Timestamp::from_millisecond(*at)?.to_zoned_datetime(zone.clone());
        let weekday = usize::try_from(local.weekday().to_monday_zero_offset())?;
        heatmap[weekday][usize::try_from(local.hour())?] += 1;
        *days.entry(local.date().to_string()).or_default() += 1;
    }
    Ok((heatmap, days))
}

/// The overview of `[from, to)` in `zone` shows each message in its local hour and day, and the
/// conversation created with the first; with `filter` (a query's `&…`), each of `sent` but the
/// first, which came before the conversation was labelled and put in the team.
async fn check(ada: &TestClient, zone: &str, sent: &[i64], (from, to): (i64, i64)) -> anyhow::Result<()> {
    let overview: Overview =
        json(ada.get(&format!("/api/reports/overview?from={from}&to={to}&tz={zone}")).await?).await?;
    let created = sent.first().is_some_and(|first| (from..to).contains(first));
    assert_eq!(overview.current.volumes.created, u64::from(created), "created, in {zone}");
    counted(&overview, zone, "", sent, (from, to))
}

/// [`check`] with a filter: the messages after the first.
async fn check_filtered(
    ada: &TestClient,
    zone: &str,
    filter: &str,
    sent: &[i64],
    (from, to): (i64, i64),
) -> anyhow::Result<()> {
    let overview: Overview =
        json(ada.get(&format!("/api/reports/overview?from={from}&to={to}&tz={zone}{filter}")).await?).await?;
    counted(&overview, zone, filter, sent.get(1..).unwrap_or_default(), (from, to))
}

/// The overview's heatmap, days and total of customer messages (in `zone`, with `filter`) are
/// those of `sent`.
fn counted(overview: &Overview, zone: &str, filter: &str, sent: &[i64], (from, to): (i64, i64)) -> anyhow::Result<()> {
    let (heatmap, days) = expected(&TimeZone::get(zone)?, sent, from, to)?;
    let zone = format!("{zone}{filter}");
    assert_eq!(overview.heatmap, heatmap, "the heatmap in {zone}");
    let shown: BTreeMap<String, u64> = overview
        .days
        .iter()
        .filter(|day| day.volumes.messages_in > 0)
        .map(|day| (day.day.clone(), day.volumes.messages_in))
        .collect();
    assert_eq!(shown, days, "the days in {zone}");
    assert_eq!(overview.current.volumes.messages_in, days.values().sum::<u64>(), "the total in {zone}");
    Ok(())
}

/// A server whose clock starts an hour before the first of `times` (UTC), where a customer
/// writes at each of them; after the first, the conversation is labelled `vip` and put in a team.
/// The server, an admin, when the messages were sent, and the query filters of that label and of
/// that team (`&label=vip`, `&team=…`).
async fn written_at(kind: Kind, times: &[((i8, i8), i8, i8)]) -> anyhow::Result<Written> {
    let first = times.first().map_or(Ok(0), |(day, hour, minute)| utc(*day, *hour, *minute))?;
    let server = start_at(kind, first - 3_600_000).await?;
    let (ada, _) = server.logged_in("Ada", Role::Admin).await?;
    let (mut sent, mut filters) = (Vec::new(), [String::new(), String::new()]);
    for (day, hour, minute) in times {
        let at = utc(*day, *hour, *minute)?;
        clock_to(&server, at).await?;
        let id = server.customer_writes_on_its_clock("447700900123", "Hello").await?;
        if sent.is_empty() {
            let team = create_team(&ada, "Sales", AssignmentModel::Manual, &[]).await?;
            move_to(&ada, id, Some(team)).await?;
            let labelled = ada.patch(&format!("/api/conversations/{id}/labels"), &json!({"add": ["vip"]})).await?;
            anyhow::ensure!(labelled.status().is_success(), "labelling answered {}", labelled.status());
            filters = ["&label=vip".to_owned(), format!("&team={team}")];
        }
        sent.push(at);
    }
    Ok((server, ada, sent, filters))
}

type Written = (TestServer, TestClient, Vec<i64>, [String; 2]);

const ZONES: [&str; 6] =
    ["UTC", "Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "Australia/Lord_Howe"];

async fn every_message_is_in_its_local_hour(kind: Kind) -> anyhow::Result<()> {
    let (server, ada, sent, filters) = written_at(
        kind,
        &[
            // Every quarter of one UTC hour, and the next hour.
            ((OCT, 2), 12, 5),
            ((OCT, 2), 12, 20),
            ((OCT, 2), 12, 35),
            ((OCT, 2), 12, 50),
            ((OCT, 2), 13, 40),
            // Around Lord Howe's change at 15:30 UTC (01:50 at +10:30, then 02:35 at +11).
            ((OCT, 2), 15, 10),
            ((OCT, 2), 15, 25),
            ((OCT, 2), 15, 35),
            ((OCT, 2), 15, 55),
            // Around Kolkata's midnight, 18:30 UTC.
            ((OCT, 2), 18, 25),
            ((OCT, 2), 18, 35),
            // Around UTC's.
            ((OCT, 2), 23, 50),
            ((OCT, 3), 0, 10),
        ],
    )
    .await?;
    for zone in ZONES {
        let local = TimeZone::get(zone)?;
        // Three local days from midnight: every message, their local days and hours.
        let days = (midnight(&local, (OCT, 1))?, midnight(&local, (OCT, 4))?);
        check(&ada, zone, &sent, days).await?;
        // The same of a label, and of a team (the hours' rows of each).
        for filter in &filters {
            check_filtered(&ada, zone, filter, &sent, days).await?;
        }
        // A day from local midnight: a period that starts and ends inside UTC hours in the :30
        // and :45 zones.
        check(&ada, zone, &sent, (midnight(&local, (OCT, 2))?, midnight(&local, (OCT, 3))?)).await?;
    }
    // A period from 12:30 to 15:45 UTC: half hours at both ends, the change's hour inside.
    check(&ada, "Australia/Lord_Howe", &sent, (utc((OCT, 2), 12, 30)?, utc((OCT, 2), 15, 45)?)).await?;
    check(&ada, "Asia/Kathmandu", &sent, (utc((OCT, 2), 12, 15)?, utc((OCT, 2), 18, 30)?)).await?;
    server.stop().await?;

    // Around St. John's change at 04:30 UTC: 01:50 at −2:30, then 01:10 and 01:20 at −3:30 —
    // the UTC hour's last two quarters in the local hour before its first two.
    let (server, ada, sent, _) =
        written_at(kind, &[((NOV, 7), 4, 20), ((NOV, 7), 4, 40), ((NOV, 7), 4, 50), ((NOV, 7), 5, 5)]).await?;
    for zone in ZONES {
        let local = TimeZone::get(zone)?;
        check(&ada, zone, &sent, (midnight(&local, (NOV, 6))?, midnight(&local, (NOV, 8))?)).await?;
    }
    check(&ada, "America/St_Johns", &sent, (utc((NOV, 7), 4, 15)?, utc((NOV, 7), 5, 30)?)).await?;
    server.stop().await
}

#[test]
fn every_message_is_in_its_local_hour_on_sqlite() -> anyhow::Result<()> {
    on_paused_clock("local hours on SQLite", || every_message_is_in_its_local_hour(Kind::Sqlite))
}

#[test]
fn every_message_is_in_its_local_hour_on_postgres() -> anyhow::Result<()> {
    on_paused_clock("local hours on PostgreSQL", || every_message_is_in_its_local_hour(Kind::Postgres))
}
