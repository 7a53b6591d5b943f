//! Delivery statuses: WhatsApp's `sent`, `delivered`, `read` and `failed` applied to the reply
//! they concern, only ever forward, including those that arrive before Baton knows the reply's
//! wamid.

use baton_shared::model::{Change, ConversationEvent, DeliveryError, DeliveryStatus};
use baton_shared::{ConversationId, MessageId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::{Sql, SqlStore, rows};
use crate::store::channel::{StatusWrite, WINDOW_CLOSED_CODE};
use crate::store::{StoreError, StoreResult};

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
    /// Sets a message's delivery status (and why it failed, if it did) and appends the event that
    /// tells everyone; the caller holds the conversation's lock. A refusal for a closed window
    /// (131047) also closes the customer's window, unless the customer wrote after the message
    /// was written.
    pub(super) async fn set_delivery_status(
        tx: &mut Transaction<'static, DB>,
        conversation: ConversationId,
        message: MessageId,
        status: DeliveryStatus,
        error: Option<DeliveryError>,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>> {
        sqlx::query("UPDATE messages SET status = $2, error = $3 WHERE id = $1")
            .bind(message.0)
            .bind(status.as_str())
            .bind(rows::to_json_column(error.as_ref())?)
            .execute(&mut **tx)
            .await?;
        let closes_window =
            status == DeliveryStatus::Failed && error.as_ref().is_some_and(|error| error.code == WINDOW_CLOSED_CODE);
        let change = Change::MessageStatus { message_id: message, status, error };
        let mut events = vec![Self::append_event(tx, conversation, None, change, now).await?];
        if closes_window {
            // Closed as of the refused message's time (not when the refusal was processed): a
            // customer message written after it reopens the window.
            let closed = sqlx::query(
                "UPDATE contacts SET window_closed_at = (SELECT created_at FROM messages WHERE id = $2) \
                 WHERE id = (SELECT contact_id FROM conversations WHERE id = $1) \
                 AND (last_inbound_at IS NULL \
                      OR last_inbound_at <= (SELECT created_at FROM messages WHERE id = $2)) \
                 AND (window_closed_at IS NULL \
                      OR (last_inbound_at IS NOT NULL AND window_closed_at < last_inbound_at))",
            )
            .bind(conversation.0)
            .bind(message.0)
            .execute(&mut **tx)
            .await?;
            if DB::rows_affected(&closed) > 0 {
                let since: i64 = sqlx::query_scalar("SELECT created_at FROM messages WHERE id = $1")
                    .bind(message.0)
                    .fetch_one(&mut **tx)
                    .await?;
                events.push(Self::append_event(tx, conversation, None, Change::WindowClosed { since }, now).await?);
            }
        }
        Ok(events)
    }

    /// The message's delivery status, read under the conversation's lock.
    async fn delivery_status(tx: &mut Transaction<'static, DB>, message: i64) -> StoreResult<DeliveryStatus> {
        let current: String =
            sqlx::query_scalar("SELECT status FROM messages WHERE id = $1").bind(message).fetch_one(&mut **tx).await?;
        DeliveryStatus::parse(&current).ok_or_else(|| rows::corrupt(format!("message status {current}")))
    }

    /// Applies a status inside the caller's transaction (which commits it).
    pub(super) async fn apply_status_in(
        tx: &mut Transaction<'static, DB>,
        status: &StatusWrite,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>> {
        let message: Option<(i64, i64)> = sqlx::query_as(
            "SELECT id, conversation_id FROM messages WHERE wa_message_id = $1 AND direction = 'outbound'",
        )
        .bind(&status.wa_message_id)
        .fetch_optional(&mut **tx)
        .await?;
        let Some((message_id, conversation_id)) = message else {
            sqlx::query(
                "INSERT INTO early_statuses (wa_message_id, status, error, received_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (wa_message_id, status) DO NOTHING",
            )
            .bind(&status.wa_message_id)
            .bind(status.status.as_str())
            .bind(rows::to_json_column(status.error.as_ref())?)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            let Some(tag) = status.callback_data.as_deref() else { return Ok(Vec::new()) };
            // The tag names a send whose answer was never recorded (the process stopped after
            // WhatsApp accepted it, or the answer is still on its way): the reply reached
            // WhatsApp under this wamid. Adopt it rather than send the reply again.
            let sent: Option<i64> =
                sqlx::query_scalar("SELECT message_id FROM outbox WHERE in_flight = $1 AND done_at IS NULL")
                    .bind(tag)
                    .fetch_optional(&mut **tx)
                    .await?;
            let Some(message) = sent else { return Ok(Vec::new()) };
            return Self::accept_in(tx, MessageId(message), &status.wa_message_id, now).await;
        };
        let conversation = ConversationId(conversation_id);
        // Every status change of the conversation's messages queues here.
        Self::lock_conversation(tx, conversation).await?;
        let current = Self::delivery_status(tx, message_id).await?;
        if status.status.rank() <= current.rank() {
            return Ok(Vec::new());
        }
        let message = MessageId(message_id);
        Self::set_delivery_status(tx, conversation, message, status.status, status.error.clone(), now).await
    }

    /// Records, in the caller's transaction, that WhatsApp accepted `message` under
    /// `wa_message_id` (the send's answer, or a status carrying the send's tag): the outbox row is
    /// done, and the message becomes the best of `sent` and any statuses that came before.
    /// Returns the events, if the message moved forward.
    pub(super) async fn accept_in(
        tx: &mut Transaction<'static, DB>,
        message: MessageId,
        wa_message_id: &str,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>> {
        let found: Option<i64> = sqlx::query_scalar("SELECT conversation_id FROM messages WHERE id = $1")
            .bind(message.0)
            .fetch_optional(&mut **tx)
            .await?;
        let Some(conversation_id) = found else { return Err(StoreError::NotFound) };
        let conversation = ConversationId(conversation_id);
        Self::lock_conversation(tx, conversation).await?;
        // Read under the lock: the send's answer and a tagged status may race.
        let current = Self::delivery_status(tx, message.0).await?;
        // The best of `sent` and whatever raced ahead of the send's answer.
        let early: Vec<(String, Option<String>)> =
            sqlx::query_as("DELETE FROM early_statuses WHERE wa_message_id = $1 RETURNING status, error")
                .bind(wa_message_id)
                .fetch_all(&mut **tx)
                .await?;
        let mut best = (DeliveryStatus::Sent, None);
        for (status, error) in early {
            let Some(status) = DeliveryStatus::parse(&status) else { continue };
            if status.rank() > best.0.rank() {
                best = (status, rows::json_column(error.as_deref(), "status error")?);
            }
        }
        sqlx::query("UPDATE messages SET wa_message_id = $2 WHERE id = $1")
            .bind(message.0)
            .bind(wa_message_id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("UPDATE outbox SET done_at = $2, in_flight = NULL WHERE message_id = $1 AND done_at IS NULL")
            .bind(message.0)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        let (status, error) = best;
        if status.rank() <= current.rank() {
            return Ok(Vec::new());
        }
        Self::set_delivery_status(tx, conversation, message, status, error, now).await
    }
}
