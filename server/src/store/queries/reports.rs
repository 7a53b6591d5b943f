//! Reports, in SQL: the facts each event records ([`crate::reports::track`]), written in the
//! event's transaction by [`SqlStore::record_for_reports`] (called for every event), and the
//! reads of a report's period.

use async_trait::async_trait;
use baton_shared::automation::HoursSettings;
use baton_shared::model::{Change, normalize_label};
use baton_shared::{ConversationId, TeamId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::search::{Bind, bind_all, label_pattern};
use super::{Sql, SqlStore, rows};
use crate::automation::hours::Schedule;
use crate::reports::track::{Fact, Metric, Owner, SpanKind, Track};
use crate::store::StoreResult;
use crate::store::reports::{BUCKET_MS, CountRow, CountsBy, FactFilter, ReportStore, SpanRow};

/// Rows per count key, so concurrent writers do not queue on one.
const SHARDS: i64 = 4;

/// The track's columns ([`Track`]), in the order [`TrackRow`] reads them.
const TRACK_COLUMNS: &str =
    "spell_started_at, waiting_since, answered_in_spell, report_team_id, report_assignee_id, report_labels";
type TrackRow = (Option<i64>, Option<i64>, bool, Option<i64>, Option<i64>, String);

fn track_of((spell_started_at, waiting_since, answered_in_spell, team, assignee, labels): TrackRow) -> Track {
    Track {
        team: team.map(TeamId),
        assignee: assignee.map(UserId),
        labels: serde_json::from_str(&labels).unwrap_or_default(),
        spell_started_at,
        waiting_since,
        answered_in_spell,
    }
}

impl<DB: Sql> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> i64: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> bool: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> String: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> &'r str: Encode<'r, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'r> &'r [u8]: Encode<'r, DB> + Type<DB>,
    for<'r> Vec<u8>: Decode<'r, DB> + Type<DB>,
    for<'r> Option<i64>: Encode<'r, DB>,
    for<'r> Option<bool>: Encode<'r, DB>,
    for<'r> Option<String>: Encode<'r, DB>,
    for<'r> Option<&'r str>: Encode<'r, DB>,
    usize: ColumnIndex<DB::Row>,
{
    /// Records what the event `change` (written at `at`) means for reports, in its transaction:
    /// the conversation's track moves on and its facts are kept.
    pub(super) async fn record_for_reports(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        change: &Change,
        at: i64,
    ) -> StoreResult<()> {
        if !Track::concerns(change) {
            return Ok(());
        }
        let Some(before) = Self::track_in(tx, id).await? else { return Ok(()) };
        let mut track = before.clone();
        let facts = track.apply(change, at);
        if track != before {
            Self::save_track(tx, id, &track).await?;
        }
        for fact in facts {
            Self::keep_fact(tx, id, &track, fact).await?;
        }
        Ok(())
    }

    /// Counts `metric` for the conversation now, for its assignee of the moment: for what
    /// happens outside its events (a service-level clock met).
    pub(super) async fn count_for_reports(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        metric: Metric,
        at: i64,
    ) -> StoreResult<()> {
        match Self::track_in(tx, id).await? {
            Some(track) => Self::keep_fact(tx, id, &track, Fact::Count { metric, at, owner: Owner::Assignee }).await,
            None => Ok(()),
        }
    }

    async fn track_in(tx: &mut Transaction<'static, DB>, id: ConversationId) -> StoreResult<Option<Track>> {
        let row: Option<TrackRow> = sqlx::query_as(&format!("SELECT {TRACK_COLUMNS} FROM conversations WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&mut **tx)
            .await?;
        Ok(row.map(track_of))
    }

    async fn save_track(tx: &mut Transaction<'static, DB>, id: ConversationId, track: &Track) -> StoreResult<()> {
        sqlx::query(
            "UPDATE conversations SET spell_started_at = $2, waiting_since = $3, answered_in_spell = $4, \
             report_team_id = $5, report_assignee_id = $6, report_labels = $7 WHERE id = $1",
        )
        .bind(id.0)
        .bind(track.spell_started_at)
        .bind(track.waiting_since)
        .bind(track.answered_in_spell)
        .bind(track.team.map(|team| team.0))
        .bind(track.assignee.map(|assignee| assignee.0))
        .bind(serde_json::to_string(&track.labels).unwrap_or_else(|_| "[]".to_owned()))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Keeps `fact`, for the team, person and labels `track` holds.
    async fn keep_fact(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        track: &Track,
        fact: Fact,
    ) -> StoreResult<()> {
        let team = track.team.map(|team| team.0);
        match fact {
            Fact::Count { metric, at, owner } => {
                let bucket = at - at.rem_euclid(BUCKET_MS);
                let agent = track.agent(owner).map_or(0, |agent| agent.0);
                // Once under no label (every event), and once under each label it has now.
                for label in std::iter::once("").chain(track.labels.iter().map(String::as_str)) {
                    sqlx::query(
                        "INSERT INTO report_counts (metric, bucket, team_id, agent_id, label, shard, count) \
                         VALUES ($1, $2, $3, $4, $5, $6, 1) \
                         ON CONFLICT (bucket, metric, team_id, agent_id, label, shard) \
                         DO UPDATE SET count = report_counts.count + 1",
                    )
                    .bind(metric.as_str())
                    .bind(bucket)
                    .bind(team.unwrap_or(0))
                    .bind(agent)
                    .bind(label)
                    .bind(id.0.rem_euclid(SHARDS))
                    .execute(&mut **tx)
                    .await?;
                }
            }
            Fact::Span { kind, started_at, ended_at, owner } => {
                let wall = (ended_at - started_at).max(0);
                let business = Self::schedule_of(tx, track.team)
                    .await?
                    .map(|schedule| schedule.open_between(started_at, ended_at.max(started_at)));
                sqlx::query(
                    "INSERT INTO report_spans \
                     (kind, conversation_id, started_at, ended_at, wall_ms, business_ms, agent_id, team_id, labels) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(kind.as_str())
                .bind(id.0)
                .bind(started_at)
                .bind(ended_at)
                .bind(wall)
                .bind(business)
                .bind(track.agent(owner).map(|agent| agent.0).filter(|agent| *agent != 0))
                .bind(team)
                .bind(serde_json::to_string(&track.labels).unwrap_or_else(|_| "[]".to_owned()))
                .execute(&mut **tx)
                .await?;
            }
        }
        Ok(())
    }

    /// Replays one conversation's event log through the fold, under its lock: the facts of the
    /// events written before reports existed (seq up to `reports_replay_to`) are recorded as
    /// they would have been, and its track is set as the whole log leaves it. Events written
    /// since recorded their own facts as they came.
    async fn replay_reports_of(&self, id: ConversationId) -> StoreResult<()> {
        let mut tx = self.write_transaction().await?;
        Self::lock_conversation(&mut tx, id).await?;
        let replay_to: Option<i64> = sqlx::query_scalar("SELECT reports_replay_to FROM conversations WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?
            .flatten();
        let Some(replay_to) = replay_to else { return Ok(()) };
        let events: Vec<(i64, i64, String)> =
            sqlx::query_as("SELECT seq, at, change FROM events WHERE conversation_id = $1 ORDER BY seq")
                .bind(id.0)
                .fetch_all(&mut *tx)
                .await?;
        let mut track = Track::default();
        for (seq, at, change) in events {
            // An event this Baton cannot read (written by a newer one) is passed over.
            let Ok(change) = serde_json::from_str::<Change>(&change) else { continue };
            let facts = track.apply(&change, at);
            if seq <= replay_to {
                for fact in facts {
                    Self::keep_fact(&mut tx, id, &track, fact).await?;
                }
            }
        }
        Self::save_track(&mut tx, id, &track).await?;
        sqlx::query("UPDATE conversations SET reports_replay_to = NULL WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The business hours that apply to `team`'s conversations (its own, else the inbox's), as
    /// they are set now; `None` without any.
    async fn schedule_of(tx: &mut Transaction<'static, DB>, team: Option<TeamId>) -> StoreResult<Option<Schedule>> {
        let definition: Option<String> =
            sqlx::query_scalar("SELECT definition FROM automation_settings WHERE key = 'hours'")
                .fetch_optional(&mut **tx)
                .await?;
        let Some(settings) = definition.and_then(|json| serde_json::from_str::<HoursSettings>(&json).ok()) else {
            return Ok(None);
        };
        Ok(settings.for_team(team).and_then(|hours| Schedule::parse(hours).ok()))
    }

    /// The filter as ` AND …` over a facts table's `team_id` and `agent_id`, with binds numbered
    /// after `before`.
    fn fact_conditions(filter: &FactFilter, before: usize) -> (String, Vec<Bind>) {
        let mut sql = String::new();
        let mut binds = Vec::new();
        if let Some(team) = filter.team {
            binds.push(Bind::Int(team.0));
            sql.push_str(&format!(" AND team_id = ${}", before + binds.len()));
        }
        if let Some(agent) = filter.agent {
            binds.push(Bind::Int(agent.0));
            sql.push_str(&format!(" AND agent_id = ${}", before + binds.len()));
        }
        // Ids are numbers of Baton's own, written into the statement.
        if let Some(teams) = &filter.teams {
            let ids: Vec<String> = teams.iter().map(|team| team.0.to_string()).collect();
            sql.push_str(&if ids.is_empty() {
                " AND FALSE".to_owned()
            } else {
                format!(" AND team_id IN ({})", ids.join(", "))
            });
        }
        (sql, binds)
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
    for<'r> Option<i64>: Encode<'r, DB>,
    for<'r> Option<bool>: Encode<'r, DB>,
    for<'r> Option<String>: Encode<'r, DB>,
    for<'r> Option<&'r str>: Encode<'r, DB>,
    usize: ColumnIndex<DB::Row>,
{
    async fn report_spans(&self, filter: &FactFilter, owners: bool) -> StoreResult<Vec<SpanRow>> {
        let (mut conditions, mut binds) = Self::fact_conditions(filter, 2);
        if let Some(label) = filter.label.as_deref().and_then(|label| normalize_label(label).ok()) {
            binds.push(Bind::Text(label_pattern(&label)));
            conditions.push_str(&format!(" AND labels LIKE ${} ESCAPE '\\'", 2 + binds.len()));
        }
        let columns =
            if owners { "agent_id, team_id, labels" } else { "CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), '[]'" };
        let statement = format!(
            "SELECT kind, ended_at, wall_ms, business_ms, {columns} FROM report_spans \
             WHERE ended_at >= $1 AND ended_at < $2{conditions}"
        );
        type Row = (String, i64, i64, Option<i64>, Option<i64>, Option<i64>, String);
        let found: Vec<Row> = bind_all!(sqlx::query_as(&statement).bind(filter.from).bind(filter.to), &binds)
            .fetch_all(&self.pool)
            .await?;
        found
            .into_iter()
            .map(|(kind, ended_at, wall_ms, business_ms, agent, team, labels)| {
                Ok(SpanRow {
                    kind: SpanKind::parse(&kind).ok_or_else(|| rows::corrupt(format!("report span {kind}")))?,
                    ended_at,
                    wall_ms,
                    business_ms,
                    agent: agent.map(UserId),
                    team: team.map(TeamId),
                    labels: serde_json::from_str(&labels).unwrap_or_default(),
                })
            })
            .collect()
    }

    async fn report_counts(&self, filter: &FactFilter, by: CountsBy) -> StoreResult<Vec<CountRow>> {
        let (conditions, mut binds) = Self::fact_conditions(filter, 2);
        let label = filter.label.as_deref().and_then(|label| normalize_label(label).ok()).unwrap_or_default();
        binds.push(Bind::Text(label));
        // Summed in the database: a month's rows per team, person and shard are hundreds of
        // thousands; its quarter hours, a few thousand.
        // (PostgreSQL reads a bare 0 as a 4-byte integer.)
        let (columns, group) = match by {
            CountsBy::Bucket => ("bucket, CAST(0 AS BIGINT), CAST(0 AS BIGINT)", "bucket"),
            CountsBy::Team => ("CAST(0 AS BIGINT), team_id, CAST(0 AS BIGINT)", "team_id"),
            CountsBy::Agent => ("CAST(0 AS BIGINT), CAST(0 AS BIGINT), agent_id", "agent_id"),
        };
        let statement = format!(
            "SELECT metric, {columns}, CAST(SUM(count) AS BIGINT) FROM report_counts \
             WHERE bucket >= $1 AND bucket < $2{conditions} AND label = ${} GROUP BY metric, {group}",
            2 + binds.len()
        );
        let found: Vec<(String, i64, i64, i64, i64)> =
            bind_all!(sqlx::query_as(&statement).bind(filter.from).bind(filter.to), &binds)
                .fetch_all(&self.pool)
                .await?;
        found
            .into_iter()
            .map(|(metric, bucket, team, agent, count)| {
                Ok(CountRow {
                    metric: Metric::parse(&metric).ok_or_else(|| rows::corrupt(format!("report metric {metric}")))?,
                    bucket,
                    team: (team != 0).then_some(TeamId(team)),
                    agent: (agent != 0).then_some(UserId(agent)),
                    count: u64::try_from(count).unwrap_or(0),
                })
            })
            .collect()
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

    async fn report_counts_by_label(&self, filter: &FactFilter) -> StoreResult<Vec<(String, Metric, u64)>> {
        let (conditions, binds) = Self::fact_conditions(filter, 2);
        let statement = format!(
            "SELECT label, metric, CAST(SUM(count) AS BIGINT) FROM report_counts \
             WHERE bucket >= $1 AND bucket < $2{conditions} AND label <> '' GROUP BY label, metric"
        );
        let found: Vec<(String, String, i64)> =
            bind_all!(sqlx::query_as(&statement).bind(filter.from).bind(filter.to), &binds)
                .fetch_all(&self.pool)
                .await?;
        found
            .into_iter()
            .map(|(label, metric, count)| {
                let metric = Metric::parse(&metric).ok_or_else(|| rows::corrupt(format!("report metric {metric}")))?;
                Ok((label, metric, u64::try_from(count).unwrap_or(0)))
            })
            .collect()
    }
}
