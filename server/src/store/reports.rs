//! The reports half of the store: the facts recorded with the events (in their transaction, by
//! `store/queries/reports.rs` through [`crate::reports::track`]) and what a report reads of them;
//! and the levels sampled beside them ([`LevelStore`]: load, time online).

use async_trait::async_trait;
use baton_shared::{TeamId, UserId};

use super::StoreResult;
use crate::hub::presence_time::PresenceTime;
use crate::reports::track::{Metric, SpanKind};

/// Counts are kept per quarter hour (UTC, so every time zone's days and hours are whole); a
/// report's period is whole quarter hours.
pub const BUCKET_MS: i64 = 15 * 60_000;

/// Everyone's counts are kept per UTC hour and team, a column per quarter hour.
pub const HOUR_MS: i64 = 3_600_000;

/// The rollups' day: a UTC day.
pub const DAY_MS: i64 = 86_400_000;

/// Which facts a report reads: those of `[from, to)`, of a team, a person, a label.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FactFilter {
    pub from: i64,
    pub to: i64,
    pub team: Option<TeamId>,
    pub agent: Option<UserId>,
    /// Normalized (lowercase).
    pub label: Option<String>,
    /// Only these teams' facts (a lead's own teams); `None`: every team's.
    pub teams: Option<Vec<TeamId>>,
    /// The viewer's UTC offsets over the period, as (until, offset ms) in order, the last until
    /// `i64::MAX`: counts [`FactsBy::Hour`] are summed per local hour. Empty: UTC.
    pub offsets: Vec<(i64, i64)>,
}

/// How a report's facts are summed: counts per local hour (for days and hours), over the whole
/// period, per team, person or label; span lengths all together or per team, person or label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactsBy {
    /// Counts: per local hour ([`FactFilter::offsets`]). Spans: all together.
    Hour,
    /// Counts: over the whole period. Spans: all together.
    All,
    Team,
    Agent,
    Label,
}

/// A sum of counts of one metric, for what the sum was grouped by ([`FactsBy`]): the local hour
/// (`bucket`, its start in local milliseconds: Unix ms plus the offset), team, person or label;
/// the others are 0 / `None` / "".
/// Several rows may share a key (their counts add up).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountRow {
    pub metric: Metric,
    pub bucket: i64,
    pub team: Option<TeamId>,
    pub agent: Option<UserId>,
    pub label: String,
    pub count: u64,
}

/// The lengths of the spans of one kind that ended in a period, for what they were grouped by
/// ([`FactsBy`]; the others are `None` / "", and so are a span's without team or person).
/// Several groups may share a key (their lengths add up).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpanLengths {
    pub kind: Option<SpanKind>,
    pub team: Option<TeamId>,
    pub agent: Option<UserId>,
    pub label: String,
    /// Wall-clock milliseconds, any order.
    pub wall: Vec<i64>,
    /// Business-hours milliseconds of the spans that had business hours, any order.
    pub business: Vec<i64>,
}

#[async_trait]
pub trait ReportStore: Send + Sync {
    /// The counts of the filter's period summed `by` quarter hour, team, person or label (with a
    /// label filter: the events of conversations that had it).
    async fn report_counts(&self, filter: &FactFilter, by: FactsBy) -> StoreResult<Vec<CountRow>>;

    /// The lengths of the spans that ended in the filter's period, grouped `by` kind and team,
    /// person or label.
    async fn report_span_lengths(&self, filter: &FactFilter, by: FactsBy) -> StoreResult<Vec<SpanLengths>>;

    /// The `kind` spans that ended at or after `since` (of `teams` only, when given), as
    /// (ended at, wall-clock ms), oldest first.
    async fn report_recent_spans(
        &self,
        kind: SpanKind,
        since: i64,
        teams: Option<&[TeamId]>,
    ) -> StoreResult<Vec<(i64, i64)>>;

    /// Records the facts of up to `limit` conversations from before reports (their event logs
    /// replayed through the same fold), the newest first; how many it did (0: none is left).
    async fn replay_report_backlog(&self, limit: i64) -> StoreResult<usize>;
}

/// What reports read of levels over time rather than of events: agent load, sampled as each
/// quarter hour begins, and each person's time online and available, added as each ends.
#[async_trait]
pub trait LevelStore: Send + Sync {
    /// Samples agent load for the quarter hour `bucket` (its start): how many open conversations
    /// each person is assigned, per team, and per team for everyone. A quarter hour sampled
    /// before keeps its sample.
    async fn sample_load(&self, bucket: i64) -> StoreResult<()>;

    /// The load samples of the filter's period (its team or person; labels do not apply),
    /// summed per local hour ([`FactFilter::offsets`]): (the hour's start in local ms, the sum of
    /// its samples).
    async fn report_load(&self, filter: &FactFilter) -> StoreResult<Vec<(i64, i64)>>;

    /// Adds each person's time online and available to its quarter hour: what one server
    /// measured in it. A quarter hour holds at most a quarter hour each, however many servers
    /// measured time in it.
    async fn record_presence(&self, times: &[PresenceTime]) -> StoreResult<()>;

    /// Each person's time online and available in the filter's period (the people of its team or
    /// teams, or its person; labels do not apply), as (person, online ms, available ms).
    async fn report_presence(&self, filter: &FactFilter) -> StoreResult<Vec<(UserId, i64, i64)>>;
}

/// A span of time, `[from, to)` in Unix ms.
pub type Range = (i64, i64);

/// `[from, to)` as whole units of `unit` ms (UTC) and the parts left: (the whole units, if any;
/// the parts before and after them, or the whole period when it has none).
fn whole_units(from: i64, to: i64, unit: i64) -> (Option<Range>, Vec<Range>) {
    let first = from + (unit - from.rem_euclid(unit)) % unit;
    let last = to - to.rem_euclid(unit);
    if first >= last {
        return (None, vec![(from, to)]);
    }
    let edges = [(from, first), (last, to)].into_iter().filter(|(start, end)| start < end).collect();
    (Some((first, last)), edges)
}

/// A period as the rollups read it: its whole UTC days (`None`: it has none), and the parts
/// before and after them, read from the detail.
pub fn whole_days(from: i64, to: i64) -> (Option<Range>, Vec<Range>) {
    whole_units(from, to, DAY_MS)
}

/// A period as everyone's hours are read for local hours (`offsets`, [`FactFilter::offsets`]):
/// its whole UTC hours, and the quarter hours left, read from the detail — those before and after
/// the whole hours, and around a clock change that is not on the hour (the hour it falls in would
/// have quarters of two offsets).
pub fn whole_hours(from: i64, to: i64, offsets: &[(i64, i64)]) -> (Vec<Range>, Vec<Range>) {
    let (mut hours, mut edges) = (Vec::new(), Vec::new());
    let cuts = offsets.iter().map(|(until, _)| *until).filter(|until| *until > from && *until < to);
    let cuts: Vec<i64> = cuts.filter(|until| until.rem_euclid(HOUR_MS) != 0).chain([to]).collect();
    let mut start = from;
    for end in cuts {
        let (whole, left) = whole_units(start, end, HOUR_MS);
        hours.extend(whole);
        edges.extend(left);
        start = end;
    }
    (hours, edges)
}

/// A day's span lengths as kept ("wall" or "wall/business", each followed by a space), added to
/// `into`; what cannot be read is passed over.
pub fn read_lengths(kept: &str, into: &mut SpanLengths) {
    for entry in kept.split_ascii_whitespace() {
        let (wall, business) = match entry.split_once('/') {
            Some((wall, business)) => (wall, business.parse::<i64>().ok()),
            None => (entry, None),
        };
        if let Ok(wall) = wall.parse::<i64>() {
            into.wall.push(wall);
            into.business.extend(business);
        }
    }
}

/// One span's lengths as [`read_lengths`] reads them.
pub fn kept_lengths(wall: i64, business: Option<i64>) -> String {
    match business {
        Some(business) => format!("{wall}/{business} "),
        None => format!("{wall} "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_splits_into_whole_utc_days_and_its_edges() {
        let hour = 3_600_000;
        // Berlin's 2 days: 23:00 UTC to 23:00 UTC two days later.
        let (from, to) = (10 * DAY_MS - hour, 12 * DAY_MS - hour);
        assert_eq!(
            whole_days(from, to),
            (Some((10 * DAY_MS, 11 * DAY_MS)), vec![(from, 10 * DAY_MS), (11 * DAY_MS, to)])
        );
        // Whole days have no edges.
        assert_eq!(whole_days(10 * DAY_MS, 12 * DAY_MS), (Some((10 * DAY_MS, 12 * DAY_MS)), vec![]));
        // Less than a day, across midnight: all detail.
        assert_eq!(
            whole_days(10 * DAY_MS - hour, 10 * DAY_MS + hour),
            (None, vec![(10 * DAY_MS - hour, 10 * DAY_MS + hour)])
        );
    }

    #[test]
    fn a_period_splits_into_whole_utc_hours_and_the_quarters_left() {
        let (quarter, hour) = (BUCKET_MS, HOUR_MS);
        let utc = [(i64::MAX, 0)];
        // Kolkata's day (+5:30): 18:30 UTC to 18:30 UTC.
        let (from, to) = (10 * DAY_MS - 5 * hour - 2 * quarter, 11 * DAY_MS - 5 * hour - 2 * quarter);
        let kolkata = [(i64::MAX, 5 * hour + 2 * quarter)];
        assert_eq!(
            whole_hours(from, to, &kolkata),
            (vec![(from + 2 * quarter, to - 2 * quarter)], vec![(from, from + 2 * quarter), (to - 2 * quarter, to)])
        );
        // Whole hours, a clock change on the hour: no edges.
        let berlin = [(10 * DAY_MS + hour, hour), (i64::MAX, 2 * hour)];
        assert_eq!(whole_hours(10 * DAY_MS, 11 * DAY_MS, &berlin), (vec![(10 * DAY_MS, 11 * DAY_MS)], vec![]));
        // A change at :30 (Lord Howe): its hour is read from the detail, in two parts.
        let change = 10 * DAY_MS + 15 * hour + 2 * quarter;
        let lord_howe = [(change, 10 * hour + 2 * quarter), (i64::MAX, 11 * hour)];
        assert_eq!(
            whole_hours(10 * DAY_MS, 11 * DAY_MS, &lord_howe),
            (
                vec![(10 * DAY_MS, change - 2 * quarter), (change + 2 * quarter, 11 * DAY_MS)],
                vec![(change - 2 * quarter, change), (change, change + 2 * quarter)]
            )
        );
        // Less than an hour, or within one: all detail.
        assert_eq!(whole_hours(hour + quarter, 2 * hour, &utc), (vec![], vec![(hour + quarter, 2 * hour)]));
        assert_eq!(whole_hours(hour - quarter, hour + quarter, &utc), (vec![], vec![(hour - quarter, hour + quarter)]));
        // Changes outside the period do not cut it.
        assert_eq!(whole_hours(hour, 3 * hour, &[(quarter, 0), (i64::MAX, 0)]), (vec![(hour, 3 * hour)], vec![]));
    }

    #[test]
    fn lengths_read_back_as_kept() {
        let mut lengths = SpanLengths::default();
        let kept = kept_lengths(90_000, Some(30_000)) + &kept_lengths(5, None) + "garbage ";
        read_lengths(&kept, &mut lengths);
        assert_eq!((lengths.wall, lengths.business), (vec![90_000, 5], vec![30_000]));
    }
}
