//! Reports, in SQL: what a report reads of its period — the rollups for its whole UTC days (and
//! the whole UTC hours of everyone's counts), the detail for the rest. `reports.rs` writes both.

use std::collections::HashMap;

use async_trait::async_trait;
use baton_shared::model::normalize_label;
use baton_shared::{ConversationId, TeamId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::search::{Bind, bind_all, label_pattern};
use super::{Sql, SqlStore, rows};
use crate::reports::track::{Metric, SpanKind};
use crate::store::StoreResult;
use crate::store::reports::{
    BUCKET_MS, CountRow, FactFilter, FactsBy, HOUR_MS, ReportStore, SpanLengths, read_lengths, whole_days, whole_hours,
};

/// Where counts are summed from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Counts {
    /// Per quarter hour, team and person: `report_counts`.
    Detail,
    /// Per UTC day, team and person: `report_day_counts`.
    Days,
}

impl Counts {
    fn table(self) -> &'static str {
        match self {
            Counts::Detail => "report_counts",
            Counts::Days => "report_day_counts",
        }
    }

    fn time(self) -> &'static str {
        if self == Counts::Days { "day" } else { "bucket" }
    }
}

/// The filter as ` AND …` over a facts table's `team_id` and `agent_id` (`with_agent`: the table
/// has one), with binds numbered after `before`.
pub(super) fn fact_conditions(filter: &FactFilter, before: usize, with_agent: bool) -> (String, Vec<Bind>) {
    let mut sql = String::new();
    let mut binds = Vec::new();
    if let Some(team) = filter.team {
        binds.push(Bind::Int(team.0));
        sql.push_str(&format!(" AND team_id = ${}", before + binds.len()));
    }
    if let Some(agent) = filter.agent.filter(|_| with_agent) {
        binds.push(Bind::Int(agent.0));
        sql.push_str(&format!(" AND agent_id = ${}", before + binds.len()));
    }
    if let Some(teams) = &filter.teams {
        sql.push_str(&in_teams(teams, "team_id"));
    }
    (sql, binds)
}

/// The condition that `column` is one of `teams` (of a lead: none matches nothing). Ids are
/// numbers of Baton's own, written into the statement.
pub(super) fn in_teams(teams: &[TeamId], column: &str) -> String {
    if teams.is_empty() {
        return " AND FALSE".to_owned();
    }
    let ids: Vec<String> = teams.iter().map(|team| team.0.to_string()).collect();
    format!(" AND {column} IN ({})", ids.join(", "))
}

/// The rollups' `label` condition: the filter's label, or '' (every fact once); per label
/// without a filter, every label's own rows.
fn label_condition(filter: &FactFilter, by: FactsBy, before: usize, binds: &mut Vec<Bind>) -> String {
    let label = filter.label.as_deref().and_then(|label| normalize_label(label).ok());
    if by == FactsBy::Label && label.is_none() {
        return " AND label <> ''".to_owned();
    }
    binds.push(Bind::Text(label.unwrap_or_default()));
    format!(" AND label = ${}", before + binds.len())
}

/// The UTC offset at `time` (Unix ms) as SQL, in milliseconds, by the offsets
/// ([`FactFilter::offsets`], numbers of Baton's own, written into the statement).
fn local_offset(offsets: &[(i64, i64)], time: &str) -> String {
    match offsets {
        [] => "0".to_owned(),
        [(_, offset)] => offset.to_string(),
        [changes @ .., (_, last)] => {
            let whens: String =
                changes.iter().map(|(until, offset)| format!(" WHEN {time} < {until} THEN {offset}")).collect();
            format!("CASE{whens} ELSE {last} END")
        }
    }
}

/// The local hour of `time` (Unix ms) as SQL: its start in local milliseconds ([`local_offset`]).
pub(super) fn local_hour(offsets: &[(i64, i64)], time: &str) -> String {
    // Local milliseconds are positive (after 1970): integer division rounds down.
    format!("(({time} + {}) / 3600000) * 3600000", local_offset(offsets, time))
}

/// The sum of a team hour's quarter columns (`report_team_hours`) that fall in the local hour its
/// start falls in, as SQL: all four where the offset is whole hours; in a zone offset by :30 the
/// first two (the last two are in the next local hour), by :45 the first one.
fn first_local_hour_of(offsets: &[(i64, i64)]) -> String {
    let all = "count_0 + count_15 + count_30 + count_45";
    if offsets.iter().all(|(_, offset)| offset.rem_euclid(HOUR_MS) == 0) {
        return all.to_owned();
    }
    let quarter = format!("((hour + {}) % {HOUR_MS}) / {BUCKET_MS}", local_offset(offsets, "hour"));
    format!(
        "CASE {quarter} WHEN 0 THEN {all} WHEN 1 THEN count_0 + count_15 + count_30 \
         WHEN 2 THEN count_0 + count_15 ELSE count_0 END"
    )
}

/// The key a fact is summed under, `by` what: (team, person, label), 0 and "" where not grouped.
fn group_key(by: FactsBy, team: i64, agent: i64, label: &str) -> (i64, i64, String) {
    match by {
        FactsBy::Hour | FactsBy::All => (0, 0, String::new()),
        FactsBy::Team => (team, 0, String::new()),
        FactsBy::Agent => (0, agent, String::new()),
        FactsBy::Label => (0, 0, label.to_owned()),
    }
}

/// Span lengths by kind and [`group_key`].
type Groups = HashMap<(SpanKind, (i64, i64, String)), SpanLengths>;

/// The group of `kind` spans under `key`, made when it is the first.
fn group(groups: &mut Groups, kind: SpanKind, key: (i64, i64, String)) -> &mut SpanLengths {
    groups.entry((kind, key.clone())).or_insert_with(|| SpanLengths {
        kind: Some(kind),
        team: (key.0 != 0).then_some(TeamId(key.0)),
        agent: (key.1 != 0).then_some(UserId(key.1)),
        label: key.2,
        ..SpanLengths::default()
    })
}

impl<DB: Sql> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> i64: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> String: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> Option<i64>: Decode<'r, DB>,
    usize: ColumnIndex<DB::Row>,
{
    /// `source`'s counts of `[from, to)` with the filter, summed in the database `by` what.
    async fn count_sums(
        &self,
        source: Counts,
        (from, to): (i64, i64),
        filter: &FactFilter,
        by: FactsBy,
    ) -> StoreResult<Vec<CountRow>> {
        let (mut conditions, mut binds) = fact_conditions(filter, 2, true);
        conditions.push_str(&label_condition(filter, by, 2, &mut binds));
        let (table, time) = (source.table(), source.time());
        // (PostgreSQL reads a bare 0 as a 4-byte integer.)
        let zero = "CAST(0 AS BIGINT)";
        let hour = local_hour(&filter.offsets, time);
        let (columns, group) = match by {
            FactsBy::Hour => (format!("{hour}, {zero}, {zero}, ''"), hour.as_str()),
            FactsBy::All => (format!("{zero}, {zero}, {zero}, ''"), "metric"),
            FactsBy::Team => (format!("{zero}, team_id, {zero}, ''"), "team_id"),
            FactsBy::Agent => (format!("{zero}, {zero}, agent_id, ''"), "agent_id"),
            FactsBy::Label => (format!("{zero}, {zero}, {zero}, label"), "label"),
        };
        let statement = format!(
            "SELECT metric, {columns}, CAST(SUM(count) AS BIGINT) FROM {table} \
             WHERE {time} >= $1 AND {time} < $2{conditions} GROUP BY metric, {group}"
        );
        let found: Vec<(String, i64, i64, i64, String, i64)> =
            bind_all!(sqlx::query_as(&statement).bind(from).bind(to), &binds).fetch_all(&self.pool).await?;
        found
            .into_iter()
            .map(|(metric, bucket, team, agent, label, count)| {
                Ok(CountRow {
                    metric: Metric::parse(&metric).ok_or_else(|| rows::corrupt(format!("report metric {metric}")))?,
                    bucket,
                    team: (team != 0).then_some(TeamId(team)),
                    agent: (agent != 0).then_some(UserId(agent)),
                    label,
                    count: u64::try_from(count).unwrap_or(0),
                })
            })
            .collect()
    }

    /// Everyone's counts of the whole UTC hours `[from, to)` with the filter (not one person's),
    /// summed in the database per local hour ([`FactsBy::Hour`]). A row of the result holds the
    /// quarters of the hours whose start falls in its local hour, and the next hour's part of
    /// them (in a zone offset by :30 or :45).
    async fn team_hour_sums(&self, (from, to): (i64, i64), filter: &FactFilter) -> StoreResult<Vec<CountRow>> {
        let (mut conditions, mut binds) = fact_conditions(filter, 2, false);
        conditions.push_str(&label_condition(filter, FactsBy::Hour, 2, &mut binds));
        let hour = local_hour(&filter.offsets, "hour");
        let first = first_local_hour_of(&filter.offsets);
        let statement = format!(
            "SELECT metric, {hour}, CAST(SUM({first}) AS BIGINT), \
             CAST(SUM(count_0 + count_15 + count_30 + count_45) AS BIGINT) FROM report_team_hours \
             WHERE hour >= $1 AND hour < $2{conditions} GROUP BY metric, {hour}"
        );
        let found: Vec<(String, i64, i64, i64)> =
            bind_all!(sqlx::query_as(&statement).bind(from).bind(to), &binds).fetch_all(&self.pool).await?;
        let mut sums = Vec::with_capacity(found.len());
        for (metric, local, first, all) in found {
            let metric = Metric::parse(&metric).ok_or_else(|| rows::corrupt(format!("report metric {metric}")))?;
            let row = |bucket, count: i64| CountRow {
                metric,
                bucket,
                team: None,
                agent: None,
                label: String::new(),
                count: u64::try_from(count).unwrap_or(0),
            };
            sums.push(row(local, first));
            if all > first {
                sums.push(row(local + HOUR_MS, all - first));
            }
        }
        Ok(sums)
    }
}

#[async_trait]
impl<DB: Sql> ReportStore for SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> i64: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> bool: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> String: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> &'r str: Encode<'r, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'r> &'r [u8]: Encode<'r, DB> + Type<DB>,
    for<'r> Vec<u8>: Decode<'r, DB> + Type<DB>,
    for<'r> Option<i64>: Encode<'r, DB> + Decode<'r, DB>,
    for<'r> Option<bool>: Encode<'r, DB>,
    for<'r> Option<String>: Encode<'r, DB>,
    for<'r> Option<&'r str>: Encode<'r, DB>,
    usize: ColumnIndex<DB::Row>,
{
    async fn report_counts(&self, filter: &FactFilter, by: FactsBy) -> StoreResult<Vec<CountRow>> {
        let period = (filter.from, filter.to);
        match by {
            // Everyone's: their whole hours (a few rows per team), the rest from the detail.
            FactsBy::Hour if filter.agent.is_none() => {
                let (hours, edges) = whole_hours(filter.from, filter.to, &filter.offsets);
                let mut found = Vec::new();
                for hours in hours {
                    found.extend(self.team_hour_sums(hours, filter).await?);
                }
                for edge in edges {
                    found.extend(self.count_sums(Counts::Detail, edge, filter, by).await?);
                }
                Ok(found)
            }
            // One person's: their detail.
            FactsBy::Hour => self.count_sums(Counts::Detail, period, filter, by).await,
            // Sums over the period: its whole days from the day rollup, the rest from the detail.
            _ => {
                let (days, edges) = whole_days(filter.from, filter.to);
                let mut found = Vec::new();
                if let Some(days) = days {
                    found.extend(self.count_sums(Counts::Days, days, filter, by).await?);
                }
                for edge in edges {
                    found.extend(self.count_sums(Counts::Detail, edge, filter, by).await?);
                }
                Ok(found)
            }
        }
    }

    async fn report_span_lengths(&self, filter: &FactFilter, by: FactsBy) -> StoreResult<Vec<SpanLengths>> {
        let mut groups: Groups = HashMap::new();
        let kind_of = |kind: &str| SpanKind::parse(kind).ok_or_else(|| rows::corrupt(format!("report span {kind}")));
        let (days, edges) = whole_days(filter.from, filter.to);
        if let Some((first, last)) = days {
            let (mut conditions, mut binds) = fact_conditions(filter, 2, true);
            conditions.push_str(&label_condition(filter, by, 2, &mut binds));
            // Joined in the database: a row per kind and group, not per day and person.
            let zero = "CAST(0 AS BIGINT)";
            let (columns, group_by) = match by {
                FactsBy::Hour | FactsBy::All => (format!("{zero}, {zero}, ''"), ""),
                FactsBy::Team => (format!("team_id, {zero}, ''"), ", team_id"),
                FactsBy::Agent => (format!("{zero}, agent_id, ''"), ", agent_id"),
                FactsBy::Label => (format!("{zero}, {zero}, label"), ", label"),
            };
            let statement = format!(
                "SELECT kind, {columns}, {}(durations, '') FROM report_day_spans \
                 WHERE day >= $1 AND day < $2{conditions} GROUP BY kind{group_by}",
                DB::TEXT_AGGREGATE
            );
            let found: Vec<(String, i64, i64, String, String)> =
                bind_all!(sqlx::query_as(&statement).bind(first).bind(last), &binds).fetch_all(&self.pool).await?;
            for (kind, team, agent, label, durations) in found {
                read_lengths(&durations, group(&mut groups, kind_of(&kind)?, group_key(by, team, agent, &label)));
            }
        }
        let wanted = filter.label.as_deref().and_then(|label| normalize_label(label).ok());
        for (from, to) in edges {
            let (mut conditions, mut binds) = fact_conditions(filter, 2, true);
            if let Some(label) = &wanted {
                binds.push(Bind::Text(label_pattern(label)));
                conditions.push_str(&format!(" AND labels LIKE ${} ESCAPE '\\'", 2 + binds.len()));
            }
            if by == FactsBy::Label {
                // Per label: each span under each of its labels.
                let statement = format!(
                    "SELECT kind, wall_ms, business_ms, labels FROM report_spans \
                     WHERE ended_at >= $1 AND ended_at < $2{conditions}"
                );
                let found: Vec<(String, i64, Option<i64>, String)> =
                    bind_all!(sqlx::query_as(&statement).bind(from).bind(to), &binds).fetch_all(&self.pool).await?;
                for (kind, wall, business, labels) in found {
                    let kind = kind_of(&kind)?;
                    let labels: Vec<String> = serde_json::from_str(&labels).unwrap_or_default();
                    for label in labels.iter().filter(|label| wanted.as_ref().is_none_or(|wanted| wanted == *label)) {
                        let lengths = group(&mut groups, kind, group_key(by, 0, 0, label));
                        lengths.wall.push(wall);
                        lengths.business.extend(business);
                    }
                }
                continue;
            }
            // Otherwise joined in the database, as the day rollup keeps them.
            let zero = "CAST(0 AS BIGINT)";
            let (columns, group_by) = match by {
                FactsBy::Team => ("COALESCE(team_id, 0), CAST(0 AS BIGINT)".to_owned(), ", COALESCE(team_id, 0)"),
                FactsBy::Agent => (format!("{zero}, COALESCE(agent_id, 0)"), ", COALESCE(agent_id, 0)"),
                _ => (format!("{zero}, {zero}"), ""),
            };
            let statement = format!(
                "SELECT kind, {columns}, {}(CAST(wall_ms AS TEXT) || COALESCE('/' || CAST(business_ms AS TEXT), '') \
                 || ' ', '') FROM report_spans WHERE ended_at >= $1 AND ended_at < $2{conditions} GROUP BY kind{group_by}",
                DB::TEXT_AGGREGATE
            );
            let found: Vec<(String, i64, i64, String)> =
                bind_all!(sqlx::query_as(&statement).bind(from).bind(to), &binds).fetch_all(&self.pool).await?;
            for (kind, team, agent, durations) in found {
                read_lengths(&durations, group(&mut groups, kind_of(&kind)?, group_key(by, team, agent, "")));
            }
        }
        Ok(groups.into_values().collect())
    }

    async fn report_recent_spans(
        &self,
        kind: SpanKind,
        since: i64,
        teams: Option<&[TeamId]>,
    ) -> StoreResult<Vec<(i64, i64)>> {
        let filter = FactFilter { teams: teams.map(<[TeamId]>::to_vec), ..FactFilter::default() };
        let (conditions, _) = fact_conditions(&filter, 2, false);
        let statement = format!(
            "SELECT ended_at, wall_ms FROM report_spans WHERE ended_at >= $1 AND kind = $2{conditions} ORDER BY ended_at"
        );
        Ok(sqlx::query_as(&statement).bind(since).bind(kind.as_str()).fetch_all(&self.pool).await?)
    }

    async fn replay_report_backlog(&self, limit: i64) -> StoreResult<usize> {
        let waiting: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM conversations WHERE reports_replay_to IS NOT NULL ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        for id in &waiting {
            let id = ConversationId(*id);
            // One conversation that cannot be replayed must not hold back the others: it is
            // logged and left with the facts recorded since.
            if let Err(error) = self.replay_reports_of(id).await {
                tracing::error!(conversation = id.0, %error, "cannot replay a conversation into the reports: skipped");
                sqlx::query("UPDATE conversations SET reports_replay_to = NULL WHERE id = $1")
                    .bind(id.0)
                    .execute(&self.writer)
                    .await?;
            }
        }
        Ok(waiting.len())
    }
}
