//! Reports on the wire: what `GET /api/reports/…` is asked and answers. What each figure means is
//! defined once, in `docs/reports.md`; the server computes every figure in one place
//! (`server/src/reports/`), and the app only draws them.

use serde::{Deserialize, Serialize};

use crate::{TeamId, UserId};

/// The longest period a report covers (a year and a day, in ms): longer ones are refused.
pub const MAX_PERIOD_MS: i64 = 367 * 24 * 3_600_000;

/// A report's period and filters: `GET /api/reports/…?from=&to=&tz=&team=&agent=&label=`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRequest {
    /// Unix ms, inclusive.
    pub from: i64,
    /// Unix ms, exclusive.
    pub to: i64,
    /// The viewer's time zone (an IANA name): days, hours and weekdays are its. Default UTC.
    #[serde(default)]
    pub tz: Option<String>,
    #[serde(default)]
    pub team: Option<TeamId>,
    #[serde(default)]
    pub agent: Option<UserId>,
    #[serde(default)]
    pub label: Option<String>,
}

/// A set of measured times (first responses, next responses or resolutions) in a period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Durations {
    pub count: u32,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
    /// The same in business hours; absent without business hours.
    pub business_median_ms: Option<i64>,
    pub business_p90_ms: Option<i64>,
}

/// What happened in a period, counted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volumes {
    pub created: u64,
    pub reopened: u64,
    pub resolved: u64,
    pub messages_in: u64,
    pub messages_out: u64,
}

/// Service-level clocks in a period: met before their deadline, and deadlines missed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaFigures {
    pub met: u64,
    pub breached: u64,
}

/// Ratings answered in a period, attributed to whoever held the conversation at the resolve.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsatFigures {
    pub answers: u64,
    /// Answers at the top of their scale: Good of three, 4 or 5 of five.
    pub positive: u64,
    /// Answers per score of the three-level scale (Bad, OK, Good) and of the five-level one (1–5).
    pub three: [u64; 3],
    pub five: [u64; 5],
}

impl CsatFigures {
    /// The share of positive answers, 0–1; `None` without answers.
    pub fn positive_share(&self) -> Option<f64> {
        (self.answers > 0).then(|| self.positive as f64 / self.answers as f64)
    }
}

/// The figures of one period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    pub from: i64,
    pub to: i64,
    pub volumes: Volumes,
    pub first_response: Durations,
    pub next_response: Durations,
    pub resolution: Durations,
    pub sla: SlaFigures,
    pub csat: CsatFigures,
}

/// One local day's volumes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayVolumes {
    /// `YYYY-MM-DD` in the viewer's time zone.
    pub day: String,
    pub volumes: Volumes,
}

/// Upper bounds of the first-response distribution's bins, in ms (the last bin is everything
/// longer): 1, 5, 15 and 60 minutes, 4 and 24 hours.
pub const RESPONSE_BINS_MS: [i64; 6] = [60_000, 300_000, 900_000, 3_600_000, 14_400_000, 86_400_000];

/// `GET /api/reports/overview`: the period's figures beside the previous period's (the same
/// length just before), its days, the weekday × hour heatmap of customer messages and the
/// distribution of first responses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub current: Figures,
    pub previous: Figures,
    pub days: Vec<DayVolumes>,
    /// Customer messages by local weekday (Monday first) and hour.
    pub heatmap: Vec<[u64; 24]>,
    /// First responses per bin of [`RESPONSE_BINS_MS`], and one more for longer.
    pub first_response_bins: Vec<u32>,
    /// Agent load over the day: per local hour of the day (0–23), the open conversations assigned
    /// summed over the period's quarter-hour samples in that hour, and how many quarter hours the
    /// period has in it ([`LoadHour::average`]).
    #[serde(default)]
    pub load: Vec<LoadHour>,
}

/// One hour of the day's agent load over a period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadHour {
    /// 0–23, local.
    pub hour: u8,
    /// The period's quarter hours in this hour of the day (each one sample).
    pub samples: u32,
    /// The open conversations assigned, summed over those samples.
    pub conversations: u64,
}

impl LoadHour {
    /// Open conversations assigned at that hour, on average (none without samples).
    pub fn average(&self) -> Option<f64> {
        (self.samples > 0).then(|| self.conversations as f64 / f64::from(self.samples))
    }
}

/// How far back the live panel's "first response median, last hour" looks, in ms.
pub const NOW_WINDOW_MS: i64 = 3_600_000;

/// `GET /api/reports/now`: the first responses that ended in the last hour ([`NOW_WINDOW_MS`]),
/// for the live panel, which recomputes its median as they age out ([`RecentResponses::median_at`])
/// and asks again when a reply may have added one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentResponses {
    /// The server's clock when it answered (Unix ms).
    pub as_of: i64,
    pub first_responses: Vec<RecentSpan>,
}

/// A measured span: when it ended and how long it was (wall clock).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentSpan {
    pub ended_at: i64,
    pub wall_ms: i64,
}

impl RecentResponses {
    /// The median of the first responses that ended in the hour before `now` (or since: a
    /// clock a little behind the server's keeps them), and how many.
    pub fn median_at(&self, now: i64) -> (Option<i64>, usize) {
        let mut lengths: Vec<i64> = self
            .first_responses
            .iter()
            .filter(|span| span.ended_at > now - NOW_WINDOW_MS)
            .map(|span| span.wall_ms)
            .collect();
        lengths.sort_unstable();
        (percentile(&lengths, 0.5), lengths.len())
    }
}

/// A row of the per-agent, per-team or per-label table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRow {
    /// The agent's or team's id, or the label itself.
    pub key: String,
    pub name: String,
    pub volumes: Volumes,
    pub first_response: Durations,
    pub next_response: Durations,
    pub resolution: Durations,
    pub sla: SlaFigures,
    pub csat: CsatFigures,
    /// A person's time online and available in the period (agent rows only).
    #[serde(default)]
    pub time_online: Option<TimeOnline>,
}

/// A person's time online (any socket open) and available (online with presence "available")
/// in a period, as docs/reports.md defines them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeOnline {
    pub online_ms: i64,
    pub available_ms: i64,
}

/// The columns of a table's CSV export, in order (documented in the README).
pub const TABLE_CSV_COLUMNS: [&str; 23] = [
    "key",
    "name",
    "created",
    "reopened",
    "resolved",
    "messages_in",
    "messages_out",
    "first_responses",
    "first_response_median_s",
    "first_response_p90_s",
    "first_response_business_median_s",
    "next_responses",
    "next_response_median_s",
    "resolutions",
    "resolution_median_s",
    "resolution_p90_s",
    "resolution_business_median_s",
    "sla_met",
    "sla_breached",
    "csat_answers",
    "csat_positive",
    "online_s",
    "available_s",
];

/// The value at rank ⌈p·n⌉ of `sorted` (nearest rank): the median of 1, 2, 3, 10 is 2. `None`
/// for no values.
pub fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

impl Durations {
    /// The figures of `wall` and `business` lengths (each any order).
    pub fn of(mut wall: Vec<i64>, mut business: Vec<i64>) -> Durations {
        wall.sort_unstable();
        business.sort_unstable();
        Durations {
            count: u32::try_from(wall.len()).unwrap_or(u32::MAX),
            median_ms: percentile(&wall, 0.5),
            p90_ms: percentile(&wall, 0.9),
            business_median_ms: percentile(&business, 0.5),
            business_p90_ms: percentile(&business, 0.9),
        }
    }
}

impl ReportRow {
    /// The row as its CSV line's cells, in [`TABLE_CSV_COLUMNS`]' order; times in whole seconds.
    pub fn csv_cells(&self) -> Vec<String> {
        let seconds = |ms: Option<i64>| ms.map(|ms| (ms / 1000).to_string()).unwrap_or_default();
        vec![
            self.key.clone(),
            self.name.clone(),
            self.volumes.created.to_string(),
            self.volumes.reopened.to_string(),
            self.volumes.resolved.to_string(),
            self.volumes.messages_in.to_string(),
            self.volumes.messages_out.to_string(),
            self.first_response.count.to_string(),
            seconds(self.first_response.median_ms),
            seconds(self.first_response.p90_ms),
            seconds(self.first_response.business_median_ms),
            self.next_response.count.to_string(),
            seconds(self.next_response.median_ms),
            self.resolution.count.to_string(),
            seconds(self.resolution.median_ms),
            seconds(self.resolution.p90_ms),
            seconds(self.resolution.business_median_ms),
            self.sla.met.to_string(),
            self.sla.breached.to_string(),
            self.csat.answers.to_string(),
            self.csat.positive.to_string(),
            seconds(self.time_online.map(|time| time.online_ms)),
            seconds(self.time_online.map(|time| time.available_ms)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_hours_median_drops_what_aged_out() {
        let recent = RecentResponses {
            as_of: 0,
            first_responses: [(1_000, 60_000), (2_000_000, 120_000), (3_000_000, 600_000)]
                .map(|(ended_at, wall_ms)| RecentSpan { ended_at, wall_ms })
                .to_vec(),
        };
        assert_eq!(recent.median_at(3_000_000), (Some(120_000), 3));
        // An hour after the first ended, it is out.
        assert_eq!(recent.median_at(1_000 + NOW_WINDOW_MS), (Some(120_000), 2));
        assert_eq!(recent.median_at(3_000_000 + NOW_WINDOW_MS), (None, 0));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[7], 0.9), Some(7));
        assert_eq!(percentile(&[1, 2, 3, 10], 0.5), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 10], 0.9), Some(10));
        let hundred: Vec<i64> = (1..=100).collect();
        assert_eq!((percentile(&hundred, 0.5), percentile(&hundred, 0.9)), (Some(50), Some(90)));
    }

    #[test]
    fn a_row_has_a_cell_per_column() {
        assert_eq!(ReportRow::default().csv_cells().len(), TABLE_CSV_COLUMNS.len());
    }
}
