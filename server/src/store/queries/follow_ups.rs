//! Snoozes and service-level clocks: a snooze and its wake-up job in one transaction; the clocks
//! started, met and breached under the conversation's lock, each change keeping the
//! conversation's summary (its most urgent running clock) in the same transaction and announcing
//! it as a `sla_changed` event.

use async_trait::async_trait;
use baton_shared::automation::AUTOMATION_USER;
use baton_shared::model::{Change, ConversationEvent, ConversationStatus};
use baton_shared::routing_rules::Trigger;
use baton_shared::sla::{SlaDue, SlaKind};
use baton_shared::{ConversationId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::{Sql, SqlStore};
use crate::store::StoreResult;
use crate::store::automation::{FollowUpStore, JobKind};

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
    /// Recomputes the conversation's most urgent running clock; the `sla_changed` event if it
    /// changed.
    pub(super) async fn sla_summary(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        now: i64,
    ) -> StoreResult<Option<ConversationEvent>> {
        let running: Option<(String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT kind, due_at, breached_at FROM sla_clocks WHERE conversation_id = $1 AND met_at IS NULL \
             ORDER BY due_at LIMIT 1",
        )
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await?;
        let before: (Option<String>, Option<i64>, Option<i64>) =
            sqlx::query_as("SELECT sla_kind, sla_due_at, sla_breached_at FROM conversations WHERE id = $1")
                .bind(id.0)
                .fetch_one(&mut **tx)
                .await?;
        let after = match &running {
            Some((kind, due_at, breached_at)) => (Some(kind.clone()), Some(*due_at), *breached_at),
            None => (None, None, None),
        };
        if after == before {
            return Ok(None);
        }
        sqlx::query("UPDATE conversations SET sla_kind = $2, sla_due_at = $3, sla_breached_at = $4 WHERE id = $1")
            .bind(id.0)
            .bind(&after.0)
            .bind(after.1)
            .bind(after.2)
            .execute(&mut **tx)
            .await?;
        let sla = match (after.0.as_deref().and_then(SlaKind::parse), after.1) {
            (Some(kind), Some(due_at)) => Some(SlaDue { kind, due_at, breached: after.2.is_some() }),
            _ => None,
        };
        Ok(Some(Self::append_event(tx, id, Some(AUTOMATION_USER), Change::SlaChanged { sla }, now).await?))
    }

    /// The running clock of `slot` is met now (a person replied; the conversation was resolved).
    pub(super) async fn sla_met(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        slot: &str,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>> {
        let met: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "UPDATE sla_clocks SET met_at = $3 WHERE conversation_id = $1 AND slot = $2 AND met_at IS NULL \
             RETURNING due_at, breached_at",
        )
        .bind(id.0)
        .bind(slot)
        .bind(now)
        .fetch_all(&mut **tx)
        .await?;
        if met.is_empty() {
            return Ok(Vec::new());
        }
        Self::count_met_clocks(tx, id, &met, now).await?;
        Ok(Self::sla_summary(tx, id, now).await?.into_iter().collect())
    }

    /// A resolve ends the conversation's clocks: resolution met, a response clock dropped (nobody
    /// answers a resolved conversation); a snooze ends too.
    pub(super) async fn resolved_clocks(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>> {
        sqlx::query("DELETE FROM sla_clocks WHERE conversation_id = $1 AND slot = 'response' AND met_at IS NULL")
            .bind(id.0)
            .execute(&mut **tx)
            .await?;
        let met: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "UPDATE sla_clocks SET met_at = $2 WHERE conversation_id = $1 AND slot = 'resolution' AND met_at IS NULL \
             RETURNING due_at, breached_at",
        )
        .bind(id.0)
        .bind(now)
        .fetch_all(&mut **tx)
        .await?;
        Self::count_met_clocks(tx, id, &met, now).await?;
        Ok(Self::sla_summary(tx, id, now).await?.into_iter().collect())
    }

    /// Reports count a clock stopped by its deadline as met; one stopped after it whose breach
    /// was not marked yet (its timer late) as missed — the timer then finds it stopped and does
    /// nothing. One already marked missed was counted then.
    async fn count_met_clocks(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        stopped: &[(i64, Option<i64>)],
        now: i64,
    ) -> StoreResult<()> {
        use crate::reports::track::Metric;
        for (due_at, breached_at) in stopped {
            if breached_at.is_none() {
                let metric = if now <= *due_at { Metric::SlaMet } else { Metric::SlaBreached };
                Self::count_for_reports(tx, id, metric, now).await?;
            }
        }
        Ok(())
    }

    /// A snooze ends without its wake-up (reopened, resolved, or set pending again by hand).
    pub(super) async fn end_snooze(tx: &mut Transaction<'static, DB>, id: ConversationId) -> StoreResult<()> {
        sqlx::query("UPDATE conversations SET snoozed_until = NULL WHERE id = $1 AND snoozed_until IS NOT NULL")
            .bind(id.0)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl<DB: Sql> FollowUpStore for SqlStore<DB>
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
    async fn snooze(
        &self,
        id: ConversationId,
        actor: UserId,
        until: i64,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>> {
        let mut tx = self.write_transaction().await?;
        Self::lock_conversation(&mut tx, id).await?;
        let status: String =
            sqlx::query_scalar("SELECT status FROM conversations WHERE id = $1").bind(id.0).fetch_one(&mut *tx).await?;
        sqlx::query("UPDATE conversations SET status = 'pending', snoozed_until = $2 WHERE id = $1")
            .bind(id.0)
            .bind(until)
            .execute(&mut *tx)
            .await?;
        let mut events = Vec::new();
        if status != ConversationStatus::Pending.as_str() {
            let change = Change::StatusChanged { status: ConversationStatus::Pending };
            events.push(Self::append_event(&mut tx, id, Some(actor), change, now).await?);
        }
        events.push(Self::append_event(&mut tx, id, Some(actor), Change::Snoozed { until }, now).await?);
        Self::schedule_job(&mut tx, id, JobKind::Wake { until }, until, now).await?;
        tx.commit().await?;
        Ok(events)
    }

    async fn wake(&self, id: ConversationId, until: i64, now: i64) -> StoreResult<Vec<ConversationEvent>> {
        let mut tx = self.write_transaction().await?;
        Self::lock_conversation(&mut tx, id).await?;
        let woke = sqlx::query(
            "UPDATE conversations SET status = 'open', snoozed_until = NULL \
             WHERE id = $1 AND status = 'pending' AND snoozed_until = $2",
        )
        .bind(id.0)
        .bind(until)
        .execute(&mut *tx)
        .await?;
        if DB::rows_affected(&woke) == 0 {
            return Ok(Vec::new());
        }
        let change = Change::StatusChanged { status: ConversationStatus::Open };
        let event = Self::append_event(&mut tx, id, Some(AUTOMATION_USER), change, now).await?;
        tx.commit().await?;
        Ok(vec![event])
    }

    async fn response_clock_due(&self, id: ConversationId) -> StoreResult<Option<SlaKind>> {
        let running: Option<i64> = sqlx::query_scalar(
            "SELECT started_at FROM sla_clocks WHERE conversation_id = $1 AND slot = 'response' AND met_at IS NULL",
        )
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        if running.is_some() {
            return Ok(None);
        }
        // First or next as reports measure it (one definition, `docs/reports.md`): whether a
        // person has answered the customer since the conversation opened or last reopened.
        let answered: Option<bool> = sqlx::query_scalar("SELECT answered_in_spell FROM conversations WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(Some(if answered == Some(true) { SlaKind::NextResponse } else { SlaKind::FirstResponse }))
    }

    async fn resolution_clock_runs(&self, id: ConversationId) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT started_at FROM sla_clocks WHERE conversation_id = $1 AND slot = 'resolution' AND met_at IS NULL",
        )
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    async fn start_sla(
        &self,
        id: ConversationId,
        kind: SlaKind,
        started_at: i64,
        due_at: i64,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>> {
        let mut tx = self.write_transaction().await?;
        Self::lock_conversation(&mut tx, id).await?;
        let status: String =
            sqlx::query_scalar("SELECT status FROM conversations WHERE id = $1").bind(id.0).fetch_one(&mut *tx).await?;
        if status == ConversationStatus::Resolved.as_str() {
            return Ok(Vec::new());
        }
        // A response clock whose answer came already (the job ran late: a retry, a node that
        // died) would never be met: it does not start.
        if kind.slot() == "response" {
            let replied: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND direction = 'outbound' \
                 AND author_id IS NOT NULL AND author_id <> $2 AND kind <> 'reaction' AND created_at >= $3",
            )
            .bind(id.0)
            .bind(AUTOMATION_USER.0)
            .bind(started_at)
            .fetch_one(&mut *tx)
            .await?;
            if replied > 0 {
                return Ok(Vec::new());
            }
        }
        // A new clock replaces one of its slot that was met; never one that still runs.
        let started = sqlx::query(
            "INSERT INTO sla_clocks (conversation_id, slot, kind, started_at, due_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (conversation_id, slot) DO UPDATE SET kind = excluded.kind, \
             started_at = excluded.started_at, due_at = excluded.due_at, met_at = NULL, breached_at = NULL \
             WHERE sla_clocks.met_at IS NOT NULL",
        )
        .bind(id.0)
        .bind(kind.slot())
        .bind(kind.as_str())
        .bind(started_at)
        .bind(due_at)
        .execute(&mut *tx)
        .await?;
        if DB::rows_affected(&started) == 0 {
            return Ok(Vec::new());
        }
        Self::schedule_job(&mut tx, id, JobKind::SlaDeadline { kind, due_at }, due_at, now).await?;
        let events = Self::sla_summary(&mut tx, id, now).await?.into_iter().collect();
        tx.commit().await?;
        Ok(events)
    }

    async fn breach_sla(
        &self,
        id: ConversationId,
        kind: SlaKind,
        due_at: i64,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>> {
        let mut tx = self.write_transaction().await?;
        Self::lock_conversation(&mut tx, id).await?;
        // Once: only a clock that still runs, for this deadline, not yet breached.
        let breached = sqlx::query(
            "UPDATE sla_clocks SET breached_at = $5 WHERE conversation_id = $1 AND slot = $2 AND kind = $3 \
             AND due_at = $4 AND due_at <= $5 AND met_at IS NULL AND breached_at IS NULL",
        )
        .bind(id.0)
        .bind(kind.slot())
        .bind(kind.as_str())
        .bind(due_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if DB::rows_affected(&breached) == 0 {
            return Ok(Vec::new());
        }
        let mut events = vec![
            Self::append_event(&mut tx, id, Some(AUTOMATION_USER), Change::SlaBreached { target: kind, due_at }, now)
                .await?,
        ];
        events.extend(Self::sla_summary(&mut tx, id, now).await?);
        Self::schedule_rules(&mut tx, id, Trigger::SlaBreached, now).await?;
        tx.commit().await?;
        Ok(events)
    }

    async fn schedule_idle(&self, id: ConversationId, since: i64, due_at: i64, now: i64) -> StoreResult<()> {
        let mut tx = self.write_transaction().await?;
        Self::schedule_job(&mut tx, id, JobKind::Idle { since }, due_at, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn last_customer_message_at(&self, id: ConversationId) -> StoreResult<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MAX(sent_at) FROM messages WHERE conversation_id = $1 AND direction = 'inbound'")
            .bind(id.0)
            .fetch_one(&self.pool)
            .await?)
    }
}
