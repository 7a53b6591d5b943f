//! Offline handover: pending handovers per (agent, team), and carrying one out.

use async_trait::async_trait;
use baton_shared::model::{Change, ConversationEvent};
use baton_shared::teams::{RoutedBy, Routing};
use baton_shared::{ConversationId, TeamId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::{Sql, SqlStore, rows};
use crate::store::StoreResult;
use crate::store::routing::{Absence, DueHandover, HandoverStore};

#[async_trait]
impl<DB: Sql> HandoverStore for SqlStore<DB>
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
    async fn schedule_handovers(&self, user: UserId, absence: Absence, now: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO handovers (user_id, team_id, due_at, reason) \
             SELECT m.user_id, m.team_id, $2 + t.grace_minutes * 60000, $3 \
             FROM team_members m JOIN teams t ON t.id = m.team_id WHERE m.user_id = $1 \
             ON CONFLICT (user_id, team_id) DO NOTHING",
        )
        .bind(user.0)
        .bind(now)
        .bind(absence.as_str())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn cancel_handovers(&self, user: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM handovers WHERE user_id = $1").bind(user.0).execute(&self.writer).await?;
        Ok(())
    }

    async fn due_handovers(&self, now: i64) -> StoreResult<Vec<DueHandover>> {
        let rows: Vec<(i64, i64, String)> =
            sqlx::query_as("SELECT user_id, team_id, reason FROM handovers WHERE due_at <= $1 ORDER BY due_at")
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(user, team, reason)| {
                let absence = Absence::parse(&reason).ok_or_else(|| rows::corrupt(format!("reason {reason}")))?;
                Ok(DueHandover { user: UserId(user), team: TeamId(team), absence })
            })
            .collect()
    }

    async fn hand_back(&self, handover: DueHandover, now: i64) -> StoreResult<Vec<ConversationEvent>> {
        let DueHandover { user, team, absence } = handover;
        let mut tx = self.write_transaction().await?;
        let taken = sqlx::query("DELETE FROM handovers WHERE user_id = $1 AND team_id = $2 AND due_at <= $3")
            .bind(user.0)
            .bind(team.0)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if DB::rows_affected(&taken) == 0 {
            return Ok(Vec::new());
        }
        let held: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM conversations WHERE assignee_id = $1 AND team_id = $2 AND status <> 'resolved' ORDER BY id",
        )
        .bind(user.0)
        .bind(team.0)
        .fetch_all(&mut *tx)
        .await?;
        let by = match absence {
            Absence::Offline => RoutedBy::WentOffline { from: user },
            Absence::Away => RoutedBy::WentAway { from: user },
        };
        let mut events = Vec::new();
        for id in held.into_iter().map(ConversationId) {
            Self::lock_conversation(&mut tx, id).await?;
            // Changed by hand since it was read: it is not theirs in this team any more.
            let returned = sqlx::query(
                "UPDATE conversations SET assignee_id = NULL, queued_at = $4 \
                 WHERE id = $1 AND assignee_id = $2 AND team_id = $3 AND status <> 'resolved'",
            )
            .bind(id.0)
            .bind(user.0)
            .bind(team.0)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if DB::rows_affected(&returned) == 0 {
                continue;
            }
            let routing = Routing { team: Some(team), by: by.clone() };
            let change = Change::Assigned { assignee: None, routing: Some(routing) };
            events.push(Self::append_event(&mut tx, id, None, change, now).await?);
            if let Some(holder) = Self::end_claim(&mut tx, id).await? {
                let change = Change::Released { holder, expired: false };
                events.push(Self::append_event(&mut tx, id, None, change, now).await?);
            }
        }
        tx.commit().await?;
        Ok(events)
    }
}
