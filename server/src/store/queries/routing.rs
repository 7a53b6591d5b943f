//! Where conversations stand in the teams' queues: moving one to a team, its priority, and the
//! placements and memberships the hub keeps to filter feeds.

use async_trait::async_trait;
use baton_shared::model::{Change, ConversationEvent, Priority};
use baton_shared::{ConversationId, TeamId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::{Sql, SqlStore, rows};
use crate::store::routing::{Placement, RoutingStore, Triage};
use crate::store::{StoreError, StoreResult};

#[async_trait]
impl<DB: Sql> RoutingStore for SqlStore<DB>
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
    async fn triage(
        &self,
        id: ConversationId,
        actor: UserId,
        triage: Triage,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>> {
        let mut tx = self.write_transaction().await?;
        Self::lock_conversation(&mut tx, id).await?;
        let (team, rank, assignee): (Option<i64>, i64, Option<i64>) =
            sqlx::query_as("SELECT team_id, priority, assignee_id FROM conversations WHERE id = $1")
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await?;
        let team = team.map(TeamId);
        let priority = Priority::from_rank(rank).ok_or_else(|| rows::corrupt(format!("priority {rank}")))?;
        let new_team = triage.team.unwrap_or(team);
        let new_priority = triage.priority.unwrap_or(priority);
        let moved = new_team != team;
        if !moved && new_priority == priority {
            return Ok(Vec::new());
        }
        if let Some(new_team) = new_team.filter(|_| moved) {
            let found: Option<i64> = sqlx::query_scalar("SELECT id FROM teams WHERE id = $1")
                .bind(new_team.0)
                .fetch_optional(&mut *tx)
                .await?;
            found.ok_or(StoreError::NotFound)?;
        }
        // A move hands the conversation to the new queue: nobody holds it, and it waits from now.
        sqlx::query(
            "UPDATE conversations SET team_id = $2, priority = $3,              assignee_id = CASE WHEN $4 THEN NULL ELSE assignee_id END,              queued_at = CASE WHEN $4 THEN $5 ELSE queued_at END WHERE id = $1",
        )
        .bind(id.0)
        .bind(new_team.map(|team| team.0))
        .bind(new_priority.rank())
        .bind(moved)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let change = Change::Triaged { team: new_team, priority: new_priority, rule: None, by_default: false };
        let mut events = vec![Self::append_event(&mut tx, id, Some(actor), change, now).await?];
        if moved && assignee.is_some() {
            let change = Change::Assigned { assignee: None, routing: None };
            events.push(Self::append_event(&mut tx, id, Some(actor), change, now).await?);
        }
        if moved && let Some(holder) = Self::end_claim(&mut tx, id).await? {
            let change = Change::Released { holder, expired: false };
            events.push(Self::append_event(&mut tx, id, Some(actor), change, now).await?);
        }
        tx.commit().await?;
        Ok(events)
    }

    async fn placements(&self) -> StoreResult<Vec<Placement>> {
        let rows: Vec<(i64, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT id, assignee_id, team_id FROM conversations WHERE assignee_id IS NOT NULL OR team_id IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, assignee, team)| Placement {
                conversation: ConversationId(id),
                assignee: assignee.map(UserId),
                team: team.map(TeamId),
            })
            .collect())
    }

    async fn routing_history(&self, id: ConversationId, limit: i64) -> StoreResult<Vec<ConversationEvent>> {
        // The change is stored as JSON with its tag first (serde writes it so).
        let rows: Vec<rows::EventRow> = sqlx::query_as(
            "SELECT conversation_id, seq, at, actor_id, change FROM events WHERE conversation_id = $1 \
             AND (change LIKE '{\"kind\":\"assigned\"%' OR change LIKE '{\"kind\":\"triaged\"%' \
                  OR change LIKE '{\"kind\":\"snoozed\"%' OR change LIKE '{\"kind\":\"sla_breached\"%' \
                  OR change LIKE '{\"kind\":\"csat_answered\"%') \
             ORDER BY seq DESC LIMIT $2",
        )
        .bind(id.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut events = rows.into_iter().map(ConversationEvent::try_from).collect::<StoreResult<Vec<_>>>()?;
        events.reverse();
        Ok(events)
    }

    async fn memberships(&self) -> StoreResult<Vec<(UserId, TeamId)>> {
        let rows: Vec<(i64, i64)> =
            sqlx::query_as("SELECT user_id, team_id FROM team_members").fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(user, team)| (UserId(user), TeamId(team))).collect())
    }
}
