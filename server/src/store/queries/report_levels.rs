//! Reports' levels over time, in SQL: agent load sampled as each quarter hour begins
//! (`report_load`) and time online and available added as each ends (`report_presence`, rolled up
//! per UTC day in `report_presence_days`).

use std::collections::BTreeMap;

use async_trait::async_trait;
use baton_shared::UserId;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::report_reads::{fact_conditions, in_teams, local_hour};
use super::search::{Bind, bind_all};
use super::{Sql, SqlStore};
use crate::hub::presence_time::PresenceTime;
use crate::store::StoreResult;
use crate::store::reports::{BUCKET_MS, DAY_MS, FactFilter, LevelStore, whole_days};

/// The people a presence read keeps: its person, or the members of its team or teams, as
/// conditions numbered after `before`.
fn people_conditions(filter: &FactFilter, before: usize) -> (String, Vec<Bind>) {
    let mut sql = String::new();
    let mut binds = Vec::new();
    if let Some(agent) = filter.agent {
        binds.push(Bind::Int(agent.0));
        sql.push_str(&format!(" AND agent_id = ${}", before + binds.len()));
    }
    if let Some(team) = filter.team {
        binds.push(Bind::Int(team.0));
        sql.push_str(&format!(
            " AND agent_id IN (SELECT user_id FROM team_members WHERE team_id = ${})",
            before + binds.len()
        ));
    }
    if let Some(teams) = &filter.teams {
        let members = in_teams(teams, "team_id");
        sql.push_str(&format!(" AND agent_id IN (SELECT user_id FROM team_members WHERE TRUE{members})"));
    }
    (sql, binds)
}

#[async_trait]
impl<DB: Sql> LevelStore for SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> i64: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> String: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    async fn sample_load(&self, bucket: i64) -> StoreResult<()> {
        // Per person and team, then per team for everyone (agent 0), from the same rows: one
        // transaction, so both see the same moment. Its first row marks the quarter hour sampled
        // (team -1, nothing counted): a sample already taken, even of nobody, is kept whole.
        let mut tx = self.write_transaction().await?;
        let marked = sqlx::query(
            "INSERT INTO report_load (agent_id, bucket, team_id, conversations) VALUES (0, $1, -1, 0) \
             ON CONFLICT (agent_id, bucket, team_id) DO NOTHING",
        )
        .bind(bucket)
        .execute(&mut *tx)
        .await?;
        if DB::rows_affected(&marked) == 0 {
            return Ok(());
        }
        for (agent, group) in [("assignee_id", "COALESCE(team_id, 0), assignee_id"), ("0", "COALESCE(team_id, 0)")] {
            sqlx::query(&format!(
                "INSERT INTO report_load (agent_id, bucket, team_id, conversations) \
                 SELECT {agent}, $1, COALESCE(team_id, 0), COUNT(*) FROM conversations \
                 WHERE status <> 'resolved' AND assignee_id IS NOT NULL GROUP BY {group} \
                 ON CONFLICT (agent_id, bucket, team_id) DO NOTHING"
            ))
            .bind(bucket)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn report_load(&self, filter: &FactFilter) -> StoreResult<Vec<(i64, i64)>> {
        // One person's rows, or everyone's per team (agent 0).
        let agent = filter.agent.map_or(0, |agent| agent.0);
        let team_only = FactFilter { agent: None, ..filter.clone() };
        let (conditions, mut binds) = fact_conditions(&team_only, 3, false);
        binds.insert(0, Bind::Int(agent));
        let hour = local_hour(&filter.offsets, "bucket");
        let statement = format!(
            "SELECT {hour}, CAST(SUM(conversations) AS BIGINT) FROM report_load \
             WHERE agent_id = $3 AND bucket >= $1 AND bucket < $2{conditions} GROUP BY {hour}"
        );
        Ok(bind_all!(sqlx::query_as(&statement).bind(filter.from).bind(filter.to), &binds)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn record_presence(&self, times: &[PresenceTime]) -> StoreResult<()> {
        if times.is_empty() {
            return Ok(());
        }
        // Added, so a server that restarts within a quarter hour keeps both parts; held to a
        // quarter hour, so servers that measured time in the same one never give it more.
        let capped = |column: &str| {
            format!(
                "CASE WHEN report_presence.{column} + excluded.{column} > $5 THEN $5 \
                 ELSE report_presence.{column} + excluded.{column} END"
            )
        };
        let statement = format!(
            "INSERT INTO report_presence (bucket, agent_id, online_ms, available_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (bucket, agent_id) DO UPDATE SET online_ms = {}, available_ms = {}",
            capped("online_ms"),
            capped("available_ms")
        );
        // In one order on every server, so that two writing the same rows at once wait for each
        // other rather than deadlock.
        let mut sorted = times.to_vec();
        sorted.sort_by_key(|time| (time.bucket, time.user.0));
        let mut tx = self.write_transaction().await?;
        for time in &sorted {
            sqlx::query(&statement)
                .bind(time.bucket)
                .bind(time.user.0)
                .bind(time.online_ms.min(BUCKET_MS))
                .bind(time.available_ms.min(BUCKET_MS))
                .bind(BUCKET_MS)
                .execute(&mut *tx)
                .await?;
        }
        // Each day's rollup of those people, summed again from its quarter hours (not added to:
        // the cap may have held some back), after the writes above so that it sees them and
        // every committed one of another server's.
        let mut days: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for time in &sorted {
            let people = days.entry(time.bucket - time.bucket.rem_euclid(DAY_MS)).or_default();
            let person = time.user.0.to_string();
            if !people.contains(&person) {
                people.push(person);
            }
        }
        for (day, people) in days {
            sqlx::query(&format!(
                "INSERT INTO report_presence_days (day, agent_id, online_ms, available_ms) \
                 SELECT $1, agent_id, CAST(SUM(online_ms) AS BIGINT), CAST(SUM(available_ms) AS BIGINT) \
                 FROM report_presence WHERE bucket >= $1 AND bucket < $2 AND agent_id IN ({}) GROUP BY agent_id \
                 ON CONFLICT (day, agent_id) DO UPDATE SET \
                 online_ms = excluded.online_ms, available_ms = excluded.available_ms",
                people.join(", ")
            ))
            .bind(day)
            .bind(day + DAY_MS)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn report_presence(&self, filter: &FactFilter) -> StoreResult<Vec<(UserId, i64, i64)>> {
        // Whole UTC days from the day rollup, the edges from the quarter hours.
        let (days, edges) = whole_days(filter.from, filter.to);
        let parts = days
            .map(|days| ("report_presence_days", "day", days))
            .into_iter()
            .chain(edges.into_iter().map(|edge| ("report_presence", "bucket", edge)));
        let (conditions, binds) = people_conditions(filter, 2);
        let mut sums: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
        for (table, time, (from, to)) in parts {
            let statement = format!(
                "SELECT agent_id, CAST(SUM(online_ms) AS BIGINT), CAST(SUM(available_ms) AS BIGINT) \
                 FROM {table} WHERE {time} >= $1 AND {time} < $2{conditions} GROUP BY agent_id"
            );
            let found: Vec<(i64, i64, i64)> =
                bind_all!(sqlx::query_as(&statement).bind(from).bind(to), &binds).fetch_all(&self.pool).await?;
            for (agent, online, available) in found {
                let sum = sums.entry(agent).or_default();
                *sum = (sum.0 + online, sum.1 + available);
            }
        }
        Ok(sums.into_iter().map(|(agent, (online, available))| (UserId(agent), online, available)).collect())
    }
}
