//! Reports, in SQL: the facts each event records ([`crate::reports::track`]), written in the
//! event's transaction by [`SqlStore::record_for_reports`] (called for every event), into the
//! detail and the rollups (`report_reads.rs` reads them).

use baton_shared::automation::HoursSettings;
use baton_shared::model::Change;
use baton_shared::{ConversationId, TeamId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::report_counts::CountRows;
use super::{Sql, SqlStore};
use crate::automation::hours::Schedule;
use crate::reports::track::{Fact, Metric, Owner, Track};
use crate::store::StoreResult;
use crate::store::reports::{DAY_MS, kept_lengths};

/// The track's columns ([`Track`]), in the order [`TrackRow`] reads them.
pub(super) const TRACK_COLUMNS: &str = "spell_started_at, waiting_since, answered_in_spell, report_team_id, report_assignee_id, \
     report_labels, report_opening";
pub(super) type TrackRow = (Option<i64>, Option<i64>, bool, Option<i64>, Option<i64>, String, Option<String>);

pub(super) fn track_of(
    (spell_started_at, waiting_since, answered_in_spell, team, assignee, labels, opening): TrackRow,
) -> Track {
    Track {
        team: team.map(TeamId),
        assignee: assignee.map(UserId),
        labels: serde_json::from_str(&labels).unwrap_or_default(),
        spell_started_at,
        waiting_since,
        answered_in_spell,
        opening: opening.and_then(|json| serde_json::from_str(&json).ok()),
    }
}

/// Rows a day's spans of nobody (resolved unassigned) are spread over, so that no row's text
/// grows with all of them.
const NOBODY_SPAN_SHARDS: i64 = 16;

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
    /// the conversation's track moves on and its facts are kept, its counts added to `counts`
    /// (the caller writes them before it commits: [`Self::write_counts`]).
    pub(super) async fn record_for_reports(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        change: &Change,
        at: i64,
        counts: &mut CountRows,
    ) -> StoreResult<()> {
        if !Track::concerns(change) {
            return Ok(());
        }
        let Some(before) = Self::track_in(tx, id).await? else { return Ok(()) };
        let mut track = before.clone();
        Self::record_on_track(tx, id, &mut track, change, at, counts).await?;
        if track != before {
            Self::save_track(tx, id, &track).await?;
        }
        Ok(())
    }

    /// [`Self::record_for_reports`] on a track the caller read (and saves if it moved): for
    /// many events of one conversation in a row.
    pub(super) async fn record_on_track(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        track: &mut Track,
        change: &Change,
        at: i64,
        counts: &mut CountRows,
    ) -> StoreResult<()> {
        for fact in track.apply(change, at) {
            Self::keep_fact(tx, id, track, fact, counts).await?;
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
        let Some(track) = Self::track_in(tx, id).await? else { return Ok(()) };
        let mut counts = CountRows::default();
        Self::keep_fact(tx, id, &track, Fact::Count { metric, at, owner: Owner::Assignee }, &mut counts).await?;
        Self::write_counts(tx, &mut counts).await
    }

    async fn track_in(tx: &mut Transaction<'static, DB>, id: ConversationId) -> StoreResult<Option<Track>> {
        let row: Option<TrackRow> = sqlx::query_as(&format!("SELECT {TRACK_COLUMNS} FROM conversations WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&mut **tx)
            .await?;
        Ok(row.map(track_of))
    }

    pub(super) async fn save_track(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        track: &Track,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE conversations SET spell_started_at = $2, waiting_since = $3, answered_in_spell = $4, \
             report_team_id = $5, report_assignee_id = $6, report_labels = $7, report_opening = $8 WHERE id = $1",
        )
        .bind(id.0)
        .bind(track.spell_started_at)
        .bind(track.waiting_since)
        .bind(track.answered_in_spell)
        .bind(track.team.map(|team| team.0))
        .bind(track.assignee.map(|assignee| assignee.0))
        .bind(serde_json::to_string(&track.labels).unwrap_or_else(|_| "[]".to_owned()))
        .bind(track.opening.as_ref().and_then(|opening| serde_json::to_string(opening).ok()))
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
        counts: &mut CountRows,
    ) -> StoreResult<()> {
        let team = track.team.map(|team| team.0);
        // Once under no label (every event), and once under each label it has now.
        let labels = || std::iter::once("").chain(track.labels.iter().map(String::as_str));
        match fact {
            Fact::Count { metric, at, owner } => {
                let agent = track.agent(owner).map_or(0, |agent| agent.0);
                counts.add(id, metric, at, (team.unwrap_or(0), agent), labels(), DB::COUNTER_SHARDS);
            }
            Fact::OpeningLabelled { metric, at, team, agent, label } => {
                let whose = (team.map_or(0, |team| team.0), agent.map_or(0, |agent| agent.0));
                counts.add(id, metric, at, whose, std::iter::once(label.as_str()), DB::COUNTER_SHARDS);
            }
            Fact::Span { kind, started_at, ended_at, owner } => {
                let wall = (ended_at - started_at).max(0);
                let business = Self::schedule_of(tx, track.team)
                    .await?
                    .map(|schedule| schedule.open_between(started_at, ended_at.max(started_at)));
                let agent = track.agent(owner).map(|agent| agent.0).filter(|agent| *agent != 0);
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
                .bind(agent)
                .bind(team)
                .bind(serde_json::to_string(&track.labels).unwrap_or_else(|_| "[]".to_owned()))
                .execute(&mut **tx)
                .await?;
                let lengths = kept_lengths(wall, business);
                // Each span rewrites its row's text: nobody's spans are spread over rows.
                let shard = if agent.is_none() { id.0.rem_euclid(NOBODY_SPAN_SHARDS) } else { 0 };
                for label in labels() {
                    sqlx::query(
                        "INSERT INTO report_day_spans (day, label, kind, team_id, agent_id, shard, count, durations) \
                         VALUES ($1, $2, $3, $4, $5, $6, 1, $7) \
                         ON CONFLICT (day, label, kind, team_id, agent_id, shard) DO UPDATE SET \
                         count = report_day_spans.count + 1, \
                         durations = report_day_spans.durations || excluded.durations",
                    )
                    .bind(ended_at - ended_at.rem_euclid(DAY_MS))
                    .bind(label)
                    .bind(kind.as_str())
                    .bind(team.unwrap_or(0))
                    .bind(agent.unwrap_or(0))
                    .bind(shard)
                    .bind(&lengths)
                    .execute(&mut **tx)
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Replays one conversation's event log through the fold, under its lock: the facts of the
    /// events written before reports existed (seq up to `reports_replay_to`) are recorded as
    /// they would have been, and its track is set as the whole log leaves it. Events written
    /// since recorded their own facts as they came.
    pub(super) async fn replay_reports_of(&self, id: ConversationId) -> StoreResult<()> {
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
        let mut counts = CountRows::default();
        for (seq, at, change) in events {
            // An event this Baton cannot read (written by a newer one) is passed over.
            let Ok(change) = serde_json::from_str::<Change>(&change) else { continue };
            let facts = track.apply(&change, at);
            if seq <= replay_to {
                for fact in facts {
                    Self::keep_fact(&mut tx, id, &track, fact, &mut counts).await?;
                }
            }
        }
        Self::write_counts(&mut tx, &mut counts).await?;
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
}
