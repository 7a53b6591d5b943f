//! Report counts on their way to the rollups: what events count is added up in a [`CountRows`]
//! first, then written once per row it touches (the detail, the team hours, the days) — so a
//! transaction storing many customer messages of one hour writes a few rows once each, not three
//! rows per message. What one `CountRows` holds is written in key order.

use std::collections::BTreeMap;
use std::sync::Mutex;

use baton_shared::ConversationId;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::{Sql, SqlStore, value_rows};
use crate::reports::track::Metric;
use crate::store::StoreResult;
use crate::store::reports::{BUCKET_MS, DAY_MS, HOUR_MS};

/// A row of `report_counts`: metric, bucket, team, agent, label, shard.
type DetailKey = (&'static str, i64, i64, i64, String, i64);
/// A row of `report_team_hours` and its quarter's column: label, hour, team, metric, shard, quarter.
type TeamHourKey = (String, i64, i64, &'static str, i64, usize);
/// A row of `report_day_counts`: day, label, team, agent, metric, shard.
type DayKey = (i64, String, i64, i64, &'static str, i64);

/// Counts not written yet, by the row they go to.
#[derive(Default)]
pub(super) struct CountRows {
    /// The shard of every hot row, held by this transaction alone ([`CountRows::leased`]); else
    /// each conversation's own.
    shard: Option<i64>,
    /// Holds `shard` until the counts are dropped (after their transaction ends).
    _lease: Option<ShardLease>,
    detail: BTreeMap<DetailKey, i64>,
    team_hours: BTreeMap<TeamHourKey, i64>,
    days: BTreeMap<DayKey, i64>,
    /// Rule firings: (rule, shard) → (count, last at).
    fires: BTreeMap<(i64, i64), (i64, i64)>,
}

impl CountRows {
    /// Counts of a transaction that writes many conversations' counts (a batch of customer
    /// messages): all to one shard of each hot row, which no other transaction of this process
    /// writes while this one holds it — so that batches committing side by side on PostgreSQL
    /// do not wait on each other's rows. (Written once, in key order, at the end, two
    /// transactions that do share a row never take rows crosswise either. Reports sum a row's
    /// shards, whichever wrote them.)
    pub(super) fn leased() -> Self {
        let lease = ShardLease::take();
        CountRows { shard: lease.as_ref().map(|lease| lease.0), _lease: lease, ..CountRows::default() }
    }

    /// Counts kept apart from these until the work that adds them is known to stay (a
    /// savepoint's), in the same shard; [`CountRows::merge`] adds them back.
    pub(super) fn apart(&self) -> Self {
        CountRows { shard: self.shard, ..CountRows::default() }
    }

    /// Adds the counts of `other` (from [`CountRows::apart`]) to these.
    pub(super) fn merge(&mut self, other: CountRows) {
        for (key, count) in other.detail {
            *self.detail.entry(key).or_default() += count;
        }
        for (key, count) in other.team_hours {
            *self.team_hours.entry(key).or_default() += count;
        }
        for (key, count) in other.days {
            *self.days.entry(key).or_default() += count;
        }
        for (key, (count, at)) in other.fires {
            let fired = self.fires.entry(key).or_default();
            *fired = (fired.0 + count, fired.1.max(at));
        }
    }

    /// The transaction's own shard, if it holds one ([`CountRows::leased`]).
    pub(super) fn leased_shard(&self) -> Option<i64> {
        self.shard
    }

    /// Counts one firing of each of `rules` at `now`, in shard `shard`.
    pub(super) fn add_fires(&mut self, rules: &[u32], shard: i64, now: i64) {
        let mut rules = rules.to_vec();
        rules.sort_unstable();
        rules.dedup();
        for rule in rules {
            let fired = self.fires.entry((i64::from(rule), shard)).or_default();
            *fired = (fired.0 + 1, fired.1.max(now));
        }
    }

    /// Counts `metric` once at `at` for `(team, agent)` (0: none) of conversation `id` under each
    /// of `labels` ('' is every event once); `shards`: [`Sql::COUNTER_SHARDS`].
    pub(super) fn add<'a>(
        &mut self,
        id: ConversationId,
        metric: Metric,
        at: i64,
        (team, agent): (i64, i64),
        labels: impl Iterator<Item = &'a str>,
        shards: i64,
    ) {
        let bucket = at - at.rem_euclid(BUCKET_MS);
        let hour = at - at.rem_euclid(HOUR_MS);
        let quarter = usize::try_from((bucket - hour) / BUCKET_MS).unwrap_or(0);
        let day = at - at.rem_euclid(DAY_MS);
        let shard = self.leased_shard().unwrap_or_else(|| id.0.rem_euclid(shards));
        // A person's rows are written by their own conversations only: not hot.
        let own_shard = if agent == 0 { shard } else { 0 };
        let metric = metric.as_str();
        for label in labels {
            *self.detail.entry((metric, bucket, team, agent, label.to_owned(), own_shard)).or_default() += 1;
            *self.team_hours.entry((label.to_owned(), hour, team, metric, shard, quarter)).or_default() += 1;
            *self.days.entry((day, label.to_owned(), team, agent, metric, own_shard)).or_default() += 1;
        }
    }
}

/// A shard number held by one transaction while it runs: the lowest not held by another.
/// The numbers in use are as many as transactions counting side by side (the ingest's lanes),
/// not a fixed set that several would have to share.
pub(super) struct ShardLease(i64);

/// Shard numbers held now (bit `n`: shard `n`).
static LEASED: Mutex<u64> = Mutex::new(0);

impl ShardLease {
    /// The lowest shard number free now; `None` past 64 at once (never seen): then each
    /// conversation's own shard is used, as by a single change.
    fn take() -> Option<Self> {
        let mut held = LEASED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let free = (!*held).trailing_zeros();
        if free >= 64 {
            return None;
        }
        *held |= 1 << free;
        Some(ShardLease(i64::from(free)))
    }
}

impl Drop for ShardLease {
    fn drop(&mut self) {
        let mut held = LEASED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *held &= !(1 << self.0);
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
    /// Writes the counts added up in `counts`, in the caller's transaction, and empties it:
    /// one statement per table, each row's key at most once in it (which PostgreSQL's upsert
    /// requires).
    pub(super) async fn write_counts(tx: &mut Transaction<'static, DB>, counts: &mut CountRows) -> StoreResult<()> {
        let detail = std::mem::take(&mut counts.detail);
        for rows in detail.into_iter().collect::<Vec<_>>().chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO report_counts (metric, bucket, team_id, agent_id, label, shard, count) VALUES {} \
                 ON CONFLICT (bucket, metric, team_id, agent_id, label, shard) \
                 DO UPDATE SET count = report_counts.count + excluded.count",
                value_rows(1, rows.len(), 7)
            );
            let mut query = sqlx::query(&sql);
            for ((metric, bucket, team, agent, label, shard), count) in rows {
                query = query
                    .bind(*metric)
                    .bind(*bucket)
                    .bind(*team)
                    .bind(*agent)
                    .bind(label.clone())
                    .bind(*shard)
                    .bind(*count);
            }
            query.execute(&mut **tx).await?;
        }
        // A quarter hour's column each: the rows of one statement add to the same column.
        let team_hours = std::mem::take(&mut counts.team_hours);
        for (quarter, column) in ["count_0", "count_15", "count_30", "count_45"].into_iter().enumerate() {
            let of_quarter: Vec<_> = team_hours.iter().filter(|((.., at), _)| (*at).min(3) == quarter).collect();
            for rows in of_quarter.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO report_team_hours (label, hour, team_id, metric, shard, {column}) VALUES {} \
                     ON CONFLICT (label, hour, team_id, metric, shard) \
                     DO UPDATE SET {column} = report_team_hours.{column} + excluded.{column}",
                    value_rows(1, rows.len(), 6)
                );
                let mut query = sqlx::query(&sql);
                for ((label, hour, team, metric, shard, _), count) in rows {
                    query = query.bind(label.clone()).bind(*hour).bind(*team).bind(*metric).bind(*shard).bind(**count);
                }
                query.execute(&mut **tx).await?;
            }
        }
        let days = std::mem::take(&mut counts.days);
        for rows in days.into_iter().collect::<Vec<_>>().chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO report_day_counts (day, label, team_id, agent_id, metric, shard, count) VALUES {} \
                 ON CONFLICT (day, label, team_id, agent_id, metric, shard) \
                 DO UPDATE SET count = report_day_counts.count + excluded.count",
                value_rows(1, rows.len(), 7)
            );
            let mut query = sqlx::query(&sql);
            for ((day, label, team, agent, metric, shard), count) in rows {
                query = query
                    .bind(*day)
                    .bind(label.clone())
                    .bind(*team)
                    .bind(*agent)
                    .bind(*metric)
                    .bind(*shard)
                    .bind(*count);
            }
            query.execute(&mut **tx).await?;
        }
        // Rule firings: counted with their last time.
        let fires = std::mem::take(&mut counts.fires);
        for rows in fires.into_iter().collect::<Vec<_>>().chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO rule_fires (rule_id, shard, count, last_at) VALUES {} \
                 ON CONFLICT (rule_id, shard) DO UPDATE SET count = rule_fires.count + excluded.count, \
                 last_at = CASE WHEN excluded.last_at > rule_fires.last_at THEN excluded.last_at \
                 ELSE rule_fires.last_at END",
                value_rows(1, rows.len(), 4)
            );
            let mut query = sqlx::query(&sql);
            for ((rule, shard), (count, at)) in rows {
                query = query.bind(*rule).bind(*shard).bind(*count).bind(*at);
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

/// Rows one statement writes at most (SQLite allows 32,766 parameters).
const ROWS_PER_STATEMENT: usize = 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_one_row_add_up_and_labels_count_apart() {
        let mut counts = CountRows::default();
        let id = ConversationId(7);
        let at = 3 * DAY_MS + 2 * HOUR_MS + 20 * 60_000;
        counts.add(id, Metric::Created, at, (1, 0), ["", "vip"].into_iter(), 4);
        counts.add(id, Metric::Created, at + 60_000, (1, 0), [""].into_iter(), 4);
        let bucket = at - at.rem_euclid(BUCKET_MS);
        assert_eq!(counts.detail.get(&("created", bucket, 1, 0, String::new(), 3)), Some(&2));
        assert_eq!(counts.detail.get(&("created", bucket, 1, 0, "vip".to_owned(), 3)), Some(&1));
        // 02:20 is the second quarter of its hour.
        assert_eq!(counts.team_hours.get(&(String::new(), 3 * DAY_MS + 2 * HOUR_MS, 1, "created", 3, 1)), Some(&2));
        assert_eq!(counts.days.get(&(3 * DAY_MS, String::new(), 1, 0, "created", 3)), Some(&2));
        assert_eq!(counts.detail.len(), 2);
    }

    #[test]
    fn values_number_every_row_s_parameters() {
        assert_eq!(value_rows(1, 2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(value_rows(3, 2, 1), "($3), ($4)");
        assert_eq!(value_rows(1, 1, 1), "($1)");
    }

    #[test]
    fn batches_held_at_once_write_one_shard_each_and_never_the_same() {
        let (mut first, mut second) = (CountRows::leased(), CountRows::leased());
        for id in 1..20 {
            first.add(ConversationId(id), Metric::Created, 0, (1, 0), [""].into_iter(), 8);
            second.add(ConversationId(id), Metric::Created, 0, (1, 0), [""].into_iter(), 8);
        }
        let shard_of = |counts: &CountRows| {
            let shards: std::collections::HashSet<i64> = counts.detail.keys().map(|key| key.5).collect();
            assert_eq!(shards.len(), 1);
            shards.into_iter().next()
        };
        assert_ne!(shard_of(&first), shard_of(&second));
        assert_eq!(first.detail.values().sum::<i64>(), 19);
        // A shard let go is taken again: the numbers stay as few as the batches at once.
        let (one, two) = (first.leased_shard(), second.leased_shard());
        drop(first);
        let third = CountRows::leased();
        assert_ne!(third.leased_shard(), two);
        assert!(third.leased_shard() <= one.max(two), "the lowest free shard is taken");
    }

    #[test]
    fn a_persons_rows_are_not_sharded() {
        let mut counts = CountRows::default();
        counts.add(ConversationId(7), Metric::Created, 0, (1, 9), [""].into_iter(), 4);
        assert!(counts.detail.keys().all(|key| key.5 == 0));
        assert!(counts.days.keys().all(|key| key.5 == 0));
        // The team's hour is spread over shards whoever holds it.
        assert!(counts.team_hours.keys().all(|key| key.4 == 3));
    }
}
