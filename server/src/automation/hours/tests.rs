//! Business hours across daylight-saving changes. Expected instants are written in UTC, so they do
//! not depend on the code under test: Berlin moves to CEST (+02) on 2026-03-29 at 02:00 and back
//! to CET (+01) on 2026-10-25 at 03:00; São Paulo moved to -02 on 2018-11-04 at 00:00 and back to
//! -03 on 2019-02-17 at 00:00, and has had no daylight-saving time since 2019.

use baton_shared::automation::{BusinessHours, OpeningInterval, Weekday};

use super::Schedule;

const HOUR: i64 = 3_600_000;

fn utc(text: &str) -> i64 {
    match text.parse::<jiff::Timestamp>() {
        Ok(at) => at.as_millisecond(),
        Err(error) => panic!("{text}: {error}"),
    }
}

fn interval(day: Weekday, from: &str, to: &str) -> OpeningInterval {
    OpeningInterval { day, from: from.into(), to: to.into() }
}

fn schedule(zone: &str, weekly: Vec<OpeningInterval>, holidays: &[&str]) -> Schedule {
    let hours = BusinessHours {
        time_zone: zone.into(),
        weekly,
        holidays: holidays.iter().map(|day| (*day).to_owned()).collect(),
    };
    match Schedule::parse(&hours) {
        Ok(schedule) => schedule,
        Err(problem) => panic!("{problem}"),
    }
}

fn weekdays(from: &str, to: &str) -> Vec<OpeningInterval> {
    Weekday::ALL[..5].iter().map(|day| interval(*day, from, to)).collect()
}

#[test]
fn berlin_office_hours_across_both_changes() {
    let berlin = schedule("Europe/Berlin", weekdays("09:00", "17:00"), &[]);
    // Saturday 23:00 CET before the spring change: Monday 09:00 CEST is 07:00 UTC.
    assert_eq!(berlin.next_opening(utc("2026-03-28T22:00:00Z")), Some(utc("2026-03-30T07:00:00Z")));
    // Friday 08:59 CET, closed; 09:00 open; 16:59 open; 17:00 closed.
    assert!(!berlin.is_open(utc("2026-03-27T07:59:00Z")));
    assert!(berlin.is_open(utc("2026-03-27T08:00:00Z")));
    assert!(berlin.is_open(utc("2026-03-27T15:59:00Z")));
    assert!(!berlin.is_open(utc("2026-03-27T16:00:00Z")));
    // Summer: 09:00 CEST is 07:00 UTC.
    assert!(berlin.is_open(utc("2026-03-30T07:00:00Z")));
    assert!(!berlin.is_open(utc("2026-03-30T06:59:00Z")));
    // Friday 18:00 CEST before the autumn change: Monday 09:00 CET is 08:00 UTC.
    assert_eq!(berlin.next_opening(utc("2026-10-23T16:00:00Z")), Some(utc("2026-10-26T08:00:00Z")));
    // Open now: the answer is now.
    assert_eq!(berlin.next_opening(utc("2026-10-26T09:30:00Z")), Some(utc("2026-10-26T09:30:00Z")));
    // Business time over the spring weekend: Friday 16:00–17:00 CET and Monday 09:00–10:00 CEST.
    assert_eq!(berlin.open_between(utc("2026-03-27T15:00:00Z"), utc("2026-03-30T08:00:00Z")), 2 * HOUR);
    // Five business minutes from Friday 16:58 CET end Monday 09:03 CEST.
    assert_eq!(berlin.after_open(utc("2026-03-27T15:58:00Z"), 5 * 60_000), Some(utc("2026-03-30T07:03:00Z")));
}

#[test]
fn berlin_intervals_inside_the_gap_and_the_fold() {
    // The night the clocks jump from 02:00 to 03:00: open 01:00–04:00 is two real hours.
    let spring = schedule("Europe/Berlin", vec![interval(Weekday::Sunday, "01:00", "04:00")], &[]);
    assert!(spring.is_open(utc("2026-03-29T00:59:59Z")), "01:59:59 CET");
    assert!(spring.is_open(utc("2026-03-29T01:00:00Z")), "03:00 CEST, right after the jump");
    assert!(!spring.is_open(utc("2026-03-29T02:00:00Z")), "04:00 CEST");
    assert_eq!(spring.open_between(utc("2026-03-28T00:00:00Z"), utc("2026-03-30T00:00:00Z")), 2 * HOUR);
    // An interval that starts at a time that never happens opens at the jump.
    let gap = schedule("Europe/Berlin", vec![interval(Weekday::Sunday, "02:30", "05:00")], &[]);
    assert_eq!(gap.next_opening(utc("2026-03-28T12:00:00Z")), Some(utc("2026-03-29T01:00:00Z")));
    // One that lies wholly inside the gap never opens that night: next week's is the next.
    let swallowed = schedule("Europe/Berlin", vec![interval(Weekday::Sunday, "02:00", "03:00")], &[]);
    assert_eq!(swallowed.next_opening(utc("2026-03-28T12:00:00Z")), Some(utc("2026-04-05T00:00:00Z")));
    // The night the clocks fall back from 03:00 to 02:00: 02:00–03:00 happens twice, open both.
    let autumn = schedule("Europe/Berlin", vec![interval(Weekday::Sunday, "02:00", "03:00")], &[]);
    assert_eq!(autumn.next_opening(utc("2026-10-24T12:00:00Z")), Some(utc("2026-10-25T00:00:00Z")), "02:00 CEST");
    assert!(autumn.is_open(utc("2026-10-25T00:59:00Z")), "02:59 CEST");
    assert!(autumn.is_open(utc("2026-10-25T01:00:00Z")), "02:00 CET, the second time");
    assert!(!autumn.is_open(utc("2026-10-25T02:00:00Z")), "03:00 CET");
    assert_eq!(autumn.open_between(utc("2026-10-24T00:00:00Z"), utc("2026-10-26T00:00:00Z")), 2 * HOUR);
    // An interval ending inside the fold: during the second pass it closes at the second 02:30,
    // not at the first, which has gone by; the night counts both passes.
    let ends_in_fold = schedule("Europe/Berlin", vec![interval(Weekday::Sunday, "01:00", "02:30")], &[]);
    assert!(ends_in_fold.is_open(utc("2026-10-25T01:20:00Z")), "02:20 CET");
    assert_eq!(ends_in_fold.after_open(utc("2026-10-25T01:20:00Z"), 10 * 60_000), Some(utc("2026-10-25T01:30:00Z")));
    assert_eq!(ends_in_fold.open_between(utc("2026-10-24T12:00:00Z"), utc("2026-10-25T12:00:00Z")), 2 * HOUR);
    // An interval starting inside the fold opens in its second pass too.
    let fold = schedule("Europe/Berlin", vec![interval(Weekday::Sunday, "02:30", "04:00")], &[]);
    assert!(fold.is_open(utc("2026-10-25T00:45:00Z")), "02:45 CEST");
    assert!(!fold.is_open(utc("2026-10-25T01:10:00Z")), "02:10 CET, before 02:30 the second time");
    assert_eq!(fold.next_opening(utc("2026-10-25T01:10:00Z")), Some(utc("2026-10-25T01:30:00Z")), "02:30 CET");
}

#[test]
fn sao_paulo_across_its_last_changes_and_without_them_now() {
    let sao_paulo = schedule("America/Sao_Paulo", weekdays("08:00", "18:00"), &[]);
    // Saturday 20:00 -03 before the 2018 spring change: Monday 08:00 -02 is 10:00 UTC.
    assert_eq!(sao_paulo.next_opening(utc("2018-11-03T23:00:00Z")), Some(utc("2018-11-05T10:00:00Z")));
    // Friday 19:00 -02 before the 2019 change back: Monday 08:00 -03 is 11:00 UTC.
    assert_eq!(sao_paulo.next_opening(utc("2019-02-15T21:00:00Z")), Some(utc("2019-02-18T11:00:00Z")));
    // No daylight-saving time since 2019: 08:00 is 11:00 UTC in November 2026 too.
    assert_eq!(sao_paulo.next_opening(utc("2026-11-07T12:00:00Z")), Some(utc("2026-11-09T11:00:00Z")));
    // The 2018 jump happened at midnight: a Sunday opening at 00:00 opened at 01:00 -02.
    let midnight = schedule("America/Sao_Paulo", vec![interval(Weekday::Sunday, "00:00", "02:00")], &[]);
    assert_eq!(midnight.next_opening(utc("2018-11-04T01:00:00Z")), Some(utc("2018-11-04T03:00:00Z")));
    assert_eq!(midnight.open_between(utc("2018-11-03T00:00:00Z"), utc("2018-11-05T00:00:00Z")), HOUR);
}

#[test]
fn holidays_days_past_midnight_and_descriptions() {
    let berlin = schedule(
        "Europe/Berlin",
        vec![
            interval(Weekday::Thursday, "09:00", "12:00"),
            interval(Weekday::Thursday, "13:00", "17:00"),
            interval(Weekday::Friday, "22:00", "24:00"),
            interval(Weekday::Saturday, "00:00", "02:00"),
        ],
        &["2026-12-24"],
    );
    // Thursday 24 December is a holiday: the next opening is Friday night.
    assert_eq!(berlin.next_opening(utc("2026-12-24T08:00:00Z")), Some(utc("2026-12-25T21:00:00Z")));
    // The lunch break: closed 12:00–13:00, and the afternoon interval is the next opening.
    assert!(!berlin.is_open(utc("2026-12-17T11:30:00Z")));
    assert_eq!(berlin.next_opening(utc("2026-12-17T11:30:00Z")), Some(utc("2026-12-17T12:00:00Z")));
    // Friday 22:00 to Saturday 02:00 is one stretch of four hours.
    assert_eq!(berlin.open_between(utc("2026-12-18T20:00:00Z"), utc("2026-12-19T03:00:00Z")), 4 * HOUR);
    assert_eq!(berlin.after_open(utc("2026-12-18T21:00:00Z"), 3 * HOUR), Some(utc("2026-12-19T00:00:00Z")));
    // How the next opening reads for a customer.
    let now = utc("2026-12-17T22:00:00Z"); // Thursday 23:00
    assert_eq!(berlin.describe(utc("2026-12-18T21:00:00Z"), now), "tomorrow at 22:00 (Berlin time)");
    assert_eq!(berlin.describe(utc("2026-12-17T22:30:00Z"), now), "today at 23:30 (Berlin time)");
    assert_eq!(berlin.describe(utc("2026-12-21T08:00:00Z"), now), "Monday at 09:00 (Berlin time)");
    let empty = schedule("Europe/Berlin", vec![], &[]);
    assert_eq!(empty.next_opening(now), None, "never open");
    assert!(!empty.is_open(now));
}

#[test]
fn a_schedule_open_all_week_counts_every_minute() {
    let always: Vec<_> = Weekday::ALL.iter().map(|day| interval(*day, "00:00", "24:00")).collect();
    let always = schedule("Europe/Berlin", always, &[]);
    let now = utc("2026-12-17T22:00:00Z");
    assert!(always.is_open(now));
    assert_eq!(always.after_open(now, 5 * 60_000), Some(now + 5 * 60_000));
    assert_eq!(always.open_between(now, now + 3 * HOUR), 3 * HOUR);
}

#[test]
fn bad_schedules_are_refused_with_a_sentence() {
    let bad = |zone: &str, weekly: Vec<OpeningInterval>, holidays: &[&str]| {
        let hours = BusinessHours {
            time_zone: zone.into(),
            weekly,
            holidays: holidays.iter().map(|day| (*day).to_owned()).collect(),
        };
        Schedule::parse(&hours).err().unwrap_or_default()
    };
    assert!(bad("Mars/Olympus", vec![], &[]).contains("not a time zone"));
    assert!(bad("Europe/Berlin", vec![interval(Weekday::Monday, "9:00", "17:00")], &[]).contains("HH:MM"));
    assert!(bad("Europe/Berlin", vec![interval(Weekday::Monday, "18:00", "17:00")], &[]).contains("ends before"));
    assert!(bad("Europe/Berlin", vec![interval(Weekday::Monday, "24:30", "25:00")], &[]).contains("HH:MM"));
    let overlapping = vec![interval(Weekday::Monday, "09:00", "13:00"), interval(Weekday::Monday, "12:00", "17:00")];
    assert!(bad("Europe/Berlin", overlapping, &[]).contains("overlap"));
    assert!(bad("Europe/Berlin", vec![], &["25/12/2026"]).contains("not a date"));
}
