//! The outbox: replies waiting for WhatsApp, each send marked before it goes (so a restart can
//! tell what may have reached Meta), retried with backoff, failed for good, or queued again by
//! the retry button.

use async_trait::async_trait;
use baton_shared::model::{ConversationEvent, DeliveryError, DeliveryStatus, MessageContent};
use baton_shared::rules::{self, ReplyKind};
use baton_shared::{ConversationId, MessageId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::{Sql, SqlStore, rows};
use crate::store::channel::{OutboxItem, OutboxStore, RequeueOutcome};
use crate::store::{StoreError, StoreResult};

/// A due outbox row with what sending it needs.
#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: i64,
    message_id: i64,
    wa_id: String,
    body: String,
    reply_to: Option<String>,
    attempts: i64,
    content: Option<String>,
    in_flight: Option<String>,
}

#[async_trait]
impl<DB: Sql> OutboxStore for SqlStore<DB>
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
    async fn due_outbox(&self, now: i64, limit: i64) -> StoreResult<Vec<OutboxItem>> {
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "SELECT o.id, o.message_id, k.wa_id, m.body, m.reply_to, o.attempts, m.content, o.in_flight \
             FROM outbox o \
             JOIN messages m ON m.id = o.message_id \
             JOIN conversations c ON c.id = m.conversation_id \
             JOIN contacts k ON k.id = c.contact_id \
             WHERE o.done_at IS NULL AND o.next_attempt_at <= $1 ORDER BY o.id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                let content: Option<MessageContent> = rows::json_column(row.content.as_deref(), "message content")?;
                Ok(OutboxItem {
                    id: row.id,
                    message_id: MessageId(row.message_id),
                    to: row.wa_id,
                    body: row.body,
                    reply_to: row.reply_to,
                    attempts: row.attempts,
                    content,
                    in_flight: row.in_flight,
                })
            })
            .collect()
    }

    async fn begin_send(&self, id: i64, tag: &str, answer_by: i64, now: i64) -> StoreResult<bool> {
        // Marking moves `next_attempt_at` past `now`: a second sender's mark then finds it not due.
        let marked = sqlx::query(
            "UPDATE outbox SET in_flight = $2, next_attempt_at = $3 \
             WHERE id = $1 AND done_at IS NULL AND next_attempt_at <= $4",
        )
        .bind(id)
        .bind(tag)
        .bind(answer_by)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(DB::rows_affected(&marked) > 0)
    }

    async fn hold_in_flight(&self, until: i64) -> StoreResult<u64> {
        let held = sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1 \
             WHERE in_flight IS NOT NULL AND done_at IS NULL AND next_attempt_at < $1",
        )
        .bind(until)
        .execute(&self.writer)
        .await?;
        Ok(DB::rows_affected(&held))
    }

    async fn await_status(&self, id: i64, error: &str) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1 AND done_at IS NULL")
            .bind(id)
            .bind(error)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn retry_outbox(&self, id: i64, next_attempt_at: i64, error: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3, in_flight = NULL \
             WHERE id = $1",
        )
        .bind(id)
        .bind(next_attempt_at)
        .bind(error)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn defer_outbox(&self, id: i64, next_attempt_at: i64) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET next_attempt_at = $2 WHERE id = $1")
            .bind(id)
            .bind(next_attempt_at)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn fail_outbox(&self, id: i64, error: &DeliveryError, now: i64) -> StoreResult<Vec<ConversationEvent>> {
        let mut tx = self.write_transaction().await?;
        let found: Option<(i64, i64)> = sqlx::query_as(
            "SELECT m.id, m.conversation_id FROM outbox o JOIN messages m ON m.id = o.message_id \
             WHERE o.id = $1 AND o.done_at IS NULL",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((message_id, conversation_id)) = found else { return Ok(Vec::new()) };
        let conversation = ConversationId(conversation_id);
        Self::lock_conversation(&mut tx, conversation).await?;
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, done_at = $2, last_error = $3, in_flight = NULL \
             WHERE id = $1",
        )
        .bind(id)
        .bind(now)
        .bind(error.message.as_str())
        .execute(&mut *tx)
        .await?;
        let (message, failed) = (MessageId(message_id), DeliveryStatus::Failed);
        let events =
            Self::set_delivery_status(&mut tx, conversation, message, failed, Some(error.clone()), now).await?;
        tx.commit().await?;
        Ok(events)
    }

    async fn requeue_failed(&self, message: MessageId, actor: UserId, now: i64) -> StoreResult<RequeueOutcome> {
        let mut tx = self.write_transaction().await?;
        let conversation_id: Option<i64> = sqlx::query_scalar("SELECT conversation_id FROM messages WHERE id = $1")
            .bind(message.0)
            .fetch_optional(&mut *tx)
            .await?;
        let conversation = ConversationId(conversation_id.ok_or(StoreError::NotFound)?);
        Self::lock_conversation(&mut tx, conversation).await?;
        // Read under the lock: a status may have moved it meanwhile.
        let (direction, status, kind): (String, String, String) =
            sqlx::query_as("SELECT direction, status, kind FROM messages WHERE id = $1")
                .bind(message.0)
                .fetch_one(&mut *tx)
                .await?;
        if direction != "outbound" || status != DeliveryStatus::Failed.as_str() {
            return Ok(RequeueOutcome::NotFailed);
        }
        // The send rule, as for a new reply.
        let claim = Self::claim_in(&mut tx, conversation).await?;
        let reply_kind = if kind == "template" { ReplyKind::Template } else { ReplyKind::FreeForm };
        let window = reply_kind == ReplyKind::Template || Self::window_open(&mut tx, conversation, now).await?;
        if let Err(refusal) = rules::may_send(claim.as_ref(), actor, reply_kind, window, now) {
            return Ok(refusal.into());
        }
        // The same outbox row goes again; its old wamid is forgotten so late statuses of the
        // failed attempt cannot touch the new one.
        sqlx::query(
            "UPDATE outbox SET done_at = NULL, next_attempt_at = $2, attempts = 0, last_error = NULL, \
             in_flight = NULL WHERE message_id = $1",
        )
        .bind(message.0)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE messages SET wa_message_id = NULL WHERE id = $1").bind(message.0).execute(&mut *tx).await?;
        let mut events =
            Self::set_delivery_status(&mut tx, conversation, message, DeliveryStatus::Pending, None, now).await?;
        let requeued = Self::message_in(&mut tx, message.0).await?;
        tx.commit().await?;
        Ok(RequeueOutcome::Requeued { event: events.remove(0), message: requeued })
    }

    async fn message_accepted(
        &self,
        message: MessageId,
        wa_message_id: &str,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>> {
        let mut tx = self.write_transaction().await?;
        let events = Self::accept_in(&mut tx, message, wa_message_id, now).await?;
        tx.commit().await?;
        Ok(events)
    }
}
