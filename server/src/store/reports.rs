//! The reports half of the store: the facts recorded with the events (in their transaction, by
//! `store/queries/reports.rs` through [`crate::reports::track`]) and what a report reads of them.

use async_trait::async_trait;
use baton_shared::{TeamId, UserId};

use super::StoreResult;
use crate::reports::track::{Metric, SpanKind};

/// Counts are kept per quarter hour (UTC, so every time zone's days and hours are whole); a
/// report's period is whole quarter hours.
pub const BUCKET_MS: i64 = 15 * 60_000;

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
}

/// A measured span as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpanRow {
    pub kind: SpanKind,
    pub ended_at: i64,
    pub wall_ms: i64,
    pub business_ms: Option<i64>,
    pub agent: Option<UserId>,
    pub team: Option<TeamId>,
    pub labels: Vec<String>,
}

/// How counts are summed: per quarter hour (for days and hours), per team or per person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountsBy {
    Bucket,
    Team,
    Agent,
}

/// A sum of counts of one metric: per quarter hour ([`CountsBy::Bucket`]: `bucket`, the quarter
/// hour's start in Unix ms), team or person (the others are 0 / `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountRow {
    pub metric: Metric,
    pub bucket: i64,
    pub team: Option<TeamId>,
    pub agent: Option<UserId>,
    pub count: u64,
}

#[async_trait]
pub trait ReportStore: Send + Sync {
    /// The spans that ended in the filter's period, with its filters; with whom each belongs to
    /// (`owners`: agent, team, labels) or without (lengths only, read from an index).
    async fn report_spans(&self, filter: &FactFilter, owners: bool) -> StoreResult<Vec<SpanRow>>;

    /// The counts of the filter's period summed `by` quarter hour, team or person (with a label:
    /// the events of conversations that had it).
    async fn report_counts(&self, filter: &FactFilter, by: CountsBy) -> StoreResult<Vec<CountRow>>;

    /// The counts of the filter's period per label (every label's own rows), as
    /// (label, metric, count).
    async fn report_counts_by_label(&self, filter: &FactFilter) -> StoreResult<Vec<(String, Metric, u64)>>;

    /// Records the facts of up to `limit` conversations from before reports (their event logs
    /// replayed through the same fold), the newest first; how many it did (0: none is left).
    async fn replay_report_backlog(&self, limit: i64) -> StoreResult<usize>;
}
