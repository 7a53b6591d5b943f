//! The one body of [`super::channel::ChannelStore`], expanded once per backend by
//! [`channel_queries!`] (see `conversation_queries.rs` for why a macro). Uses the conversation
//! helpers (row lock, event append) of the backend's expanded `conversation_impl`.

/// Expands `ChannelStore` for `$store`, whose transactions are `Transaction<'static, $db>`.
macro_rules! channel_queries {
    ($store:ident, $db:ty) => {
        mod channel_impl {
            use baton_shared::model::{Change, ConversationEvent, DeliveryError, DeliveryStatus};
            use baton_shared::{ConversationId, MessageId};

            use super::conversation_impl::{append_event, lock_conversation};
            use super::$store;
            use $crate::store::channel::{ChannelStore, OutboxItem, StatusWrite, WebhookDelivery};
            use $crate::store::rows;
            use $crate::store::{StoreError, StoreResult};

            type Tx = sqlx::Transaction<'static, $db>;

            /// Sets a message's delivery status (and why it failed, if it did) and appends the
            /// event that tells everyone; the caller holds the conversation's lock.
            async fn set_status(
                tx: &mut Tx,
                conversation: ConversationId,
                message: MessageId,
                status: DeliveryStatus,
                error: Option<DeliveryError>,
                now: i64,
            ) -> StoreResult<ConversationEvent> {
                sqlx::query("UPDATE messages SET status = $2, error = $3 WHERE id = $1")
                    .bind(message.0)
                    .bind(status.as_str())
                    .bind(rows::to_json_column(error.as_ref())?)
                    .execute(&mut **tx)
                    .await?;
                let change = Change::MessageStatus { message_id: message, status, error };
                append_event(tx, conversation, None, change, now).await
            }

            #[async_trait::async_trait]
            impl ChannelStore for $store {
                async fn record_webhook(&self, body: &[u8], now: i64) -> StoreResult<i64> {
                    Ok(sqlx::query_scalar(
                        "INSERT INTO webhook_deliveries (received_at, body) VALUES ($1, $2) RETURNING id",
                    )
                    .bind(now)
                    .bind(body)
                    .fetch_one(&self.pool)
                    .await?)
                }

                async fn pending_webhooks(&self, limit: i64) -> StoreResult<Vec<WebhookDelivery>> {
                    let rows: Vec<(i64, Vec<u8>, i64)> = sqlx::query_as(
                        "SELECT id, body, attempts FROM webhook_deliveries WHERE processed_at IS NULL \
                         ORDER BY id LIMIT $1",
                    )
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(|(id, body, attempts)| WebhookDelivery { id, body, attempts }).collect())
                }

                async fn finish_webhook(&self, id: i64, failure: Option<&str>, now: i64) -> StoreResult<()> {
                    let query = match failure {
                        None => sqlx::query("UPDATE webhook_deliveries SET processed_at = $2 WHERE id = $1")
                            .bind(id)
                            .bind(now),
                        Some(failure) => sqlx::query(
                            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = $2 WHERE id = $1",
                        )
                        .bind(id)
                        .bind(failure.to_owned()),
                    };
                    query.execute(&self.pool).await?;
                    Ok(())
                }

                async fn apply_status(&self, status: &StatusWrite, now: i64) -> StoreResult<Option<ConversationEvent>> {
                    let mut tx = self.write_transaction().await?;
                    let message: Option<(i64, i64)> = sqlx::query_as(
                        "SELECT id, conversation_id FROM messages WHERE wa_message_id = $1 AND direction = 'outbound'",
                    )
                    .bind(&status.wa_message_id)
                    .fetch_optional(&mut *tx)
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
                        .execute(&mut *tx)
                        .await?;
                        tx.commit().await?;
                        return Ok(None);
                    };
                    let conversation = ConversationId(conversation_id);
                    // Every status change of the conversation's messages queues here.
                    lock_conversation(&mut tx, conversation).await?;
                    let current: String = sqlx::query_scalar("SELECT status FROM messages WHERE id = $1")
                        .bind(message_id)
                        .fetch_one(&mut *tx)
                        .await?;
                    let current = DeliveryStatus::parse(&current)
                        .ok_or_else(|| rows::corrupt(format!("message status {current}")))?;
                    if status.status.rank() <= current.rank() {
                        tx.commit().await?;
                        return Ok(None);
                    }
                    let event = set_status(
                        &mut tx,
                        conversation,
                        MessageId(message_id),
                        status.status,
                        status.error.clone(),
                        now,
                    )
                    .await?;
                    tx.commit().await?;
                    Ok(Some(event))
                }

                async fn due_outbox(&self, now: i64, limit: i64) -> StoreResult<Vec<OutboxItem>> {
                    let rows: Vec<(i64, i64, String, String, Option<String>, i64)> = sqlx::query_as(
                        "SELECT o.id, o.message_id, k.wa_id, m.body, m.reply_to, o.attempts FROM outbox o \
                         JOIN messages m ON m.id = o.message_id \
                         JOIN conversations c ON c.id = m.conversation_id \
                         JOIN contacts k ON k.id = c.contact_id \
                         WHERE o.done_at IS NULL AND o.next_attempt_at <= $1 ORDER BY o.id LIMIT $2",
                    )
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows
                        .into_iter()
                        .map(|(id, message_id, to, body, reply_to, attempts)| OutboxItem {
                            id,
                            message_id: MessageId(message_id),
                            to,
                            body,
                            reply_to,
                            attempts,
                        })
                        .collect())
                }

                async fn retry_outbox(&self, id: i64, next_attempt_at: i64, error: &str) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(next_attempt_at)
                    .bind(error.to_owned())
                    .execute(&self.pool)
                    .await?;
                    Ok(())
                }

                async fn fail_outbox(
                    &self,
                    id: i64,
                    error: &DeliveryError,
                    now: i64,
                ) -> StoreResult<Option<ConversationEvent>> {
                    let mut tx = self.write_transaction().await?;
                    let found: Option<(i64, i64)> = sqlx::query_as(
                        "SELECT m.id, m.conversation_id FROM outbox o JOIN messages m ON m.id = o.message_id \
                         WHERE o.id = $1 AND o.done_at IS NULL",
                    )
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some((message_id, conversation_id)) = found else { return Ok(None) };
                    let conversation = ConversationId(conversation_id);
                    lock_conversation(&mut tx, conversation).await?;
                    sqlx::query("UPDATE outbox SET attempts = attempts + 1, done_at = $2, last_error = $3 WHERE id = $1")
                        .bind(id)
                        .bind(now)
                        .bind(error.message.clone())
                        .execute(&mut *tx)
                        .await?;
                    let failed = DeliveryStatus::Failed;
                    let event =
                        set_status(&mut tx, conversation, MessageId(message_id), failed, Some(error.clone()), now)
                            .await?;
                    tx.commit().await?;
                    Ok(Some(event))
                }

                async fn message_accepted(
                    &self,
                    message: MessageId,
                    wa_message_id: &str,
                    now: i64,
                ) -> StoreResult<Option<ConversationEvent>> {
                    let mut tx = self.write_transaction().await?;
                    let found: Option<(i64, String)> =
                        sqlx::query_as("SELECT conversation_id, status FROM messages WHERE id = $1")
                            .bind(message.0)
                            .fetch_optional(&mut *tx)
                            .await?;
                    let Some((conversation_id, current)) = found else { return Err(StoreError::NotFound) };
                    let conversation = ConversationId(conversation_id);
                    lock_conversation(&mut tx, conversation).await?;
                    let current = DeliveryStatus::parse(&current)
                        .ok_or_else(|| rows::corrupt(format!("message status {current}")))?;
                    // The best of `sent` and whatever raced ahead of the send's answer.
                    let early: Vec<(String, Option<String>)> =
                        sqlx::query_as("DELETE FROM early_statuses WHERE wa_message_id = $1 RETURNING status, error")
                            .bind(wa_message_id)
                            .fetch_all(&mut *tx)
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
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("UPDATE outbox SET done_at = $2 WHERE message_id = $1 AND done_at IS NULL")
                        .bind(message.0)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    let (status, error) = best;
                    if status.rank() <= current.rank() {
                        tx.commit().await?;
                        return Ok(None);
                    }
                    let event = set_status(&mut tx, conversation, message, status, error, now).await?;
                    tx.commit().await?;
                    Ok(Some(event))
                }
            }
        }
    };
}

pub(crate) use channel_queries;
