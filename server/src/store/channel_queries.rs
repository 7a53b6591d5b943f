//! The one body of [`super::channel::ChannelStore`], expanded once per backend by
//! [`channel_queries!`] (see `conversation_queries.rs` for why a macro). Uses the conversation
//! helpers (row lock, event append) of the backend's expanded `conversation_impl`.

/// Expands `ChannelStore` for `$store`, whose transactions are `Transaction<'static, $db>`.
macro_rules! channel_queries {
    ($store:ident, $db:ty) => {
        mod channel_impl {
            use baton_shared::model::{Change, ConversationEvent, DeliveryError, DeliveryStatus, Message};
            use baton_shared::rules::{self, ReplyKind};
            use baton_shared::{ConversationId, MessageId};

            use baton_shared::UserId;
            use baton_shared::model::MessageContent;

            use super::conversation_impl::{
                append_event, claim_in, lock_conversation, message_in, record_inbound_in, window_open,
            };
            use super::$store;
            use $crate::store::channel::{
                AppliedDeliveries, ChannelStore, DeliveryWork, OutboxItem, RequeueOutcome, StatusWrite,
                WINDOW_CLOSED_CODE, WebhookDelivery, Work,
            };
            use $crate::store::conversations::InboundOutcome;
            use $crate::store::rows;
            use $crate::store::{StoreError, StoreResult};

            type Tx = sqlx::Transaction<'static, $db>;

            /// Sets a message's delivery status (and why it failed, if it did) and appends the
            /// event that tells everyone; the caller holds the conversation's lock. A refusal for
            /// a closed window (131047) also closes the customer's window, unless the customer
            /// wrote after the message was written.
            async fn set_status(
                tx: &mut Tx,
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
                let closes_window = status == DeliveryStatus::Failed
                    && error.as_ref().is_some_and(|error| error.code == WINDOW_CLOSED_CODE);
                let change = Change::MessageStatus { message_id: message, status, error };
                let mut events = vec![append_event(tx, conversation, None, change, now).await?];
                if closes_window {
                    // Closed as of the refused message's time (not when the refusal was
                    // processed): a customer message written after it reopens the window.
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
                    if closed.rows_affected() > 0 {
                        let since: i64 = sqlx::query_scalar("SELECT created_at FROM messages WHERE id = $1")
                            .bind(message.0)
                            .fetch_one(&mut **tx)
                            .await?;
                        events.push(append_event(tx, conversation, None, Change::WindowClosed { since }, now).await?);
                    }
                }
                Ok(events)
            }

            /// Applies a status inside the caller's transaction (which commits it).
            async fn apply_status_in(
                tx: &mut Tx,
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
                    // The tag names a send whose answer was never recorded (the process stopped
                    // after WhatsApp accepted it, or the answer is still on its way): the reply
                    // reached WhatsApp under this wamid. Adopt it rather than send the reply again.
                    let sent: Option<i64> =
                        sqlx::query_scalar("SELECT message_id FROM outbox WHERE in_flight = $1 AND done_at IS NULL")
                            .bind(tag)
                            .fetch_optional(&mut **tx)
                            .await?;
                    let Some(message) = sent else { return Ok(Vec::new()) };
                    return accept_in(tx, MessageId(message), &status.wa_message_id, now).await;
                };
                let conversation = ConversationId(conversation_id);
                // Every status change of the conversation's messages queues here.
                lock_conversation(tx, conversation).await?;
                let current: String = sqlx::query_scalar("SELECT status FROM messages WHERE id = $1")
                    .bind(message_id)
                    .fetch_one(&mut **tx)
                    .await?;
                let current = DeliveryStatus::parse(&current)
                    .ok_or_else(|| rows::corrupt(format!("message status {current}")))?;
                if status.status.rank() <= current.rank() {
                    return Ok(Vec::new());
                }
                let events =
                    set_status(tx, conversation, MessageId(message_id), status.status, status.error.clone(), now)
                        .await?;
                Ok(events)
            }

            /// Records, in the caller's transaction, that WhatsApp accepted `message` under
            /// `wa_message_id` (the send's answer, or a status carrying the send's tag): the outbox
            /// row is done, and the message becomes the best of `sent` and any statuses that came
            /// before. Returns the events, if the message moved forward.
            async fn accept_in(
                tx: &mut Tx,
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
                lock_conversation(tx, conversation).await?;
                // Read under the lock: the send's answer and a tagged status may race.
                let current: String = sqlx::query_scalar("SELECT status FROM messages WHERE id = $1")
                    .bind(message.0)
                    .fetch_one(&mut **tx)
                    .await?;
                let current = DeliveryStatus::parse(&current)
                    .ok_or_else(|| rows::corrupt(format!("message status {current}")))?;
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
                sqlx::query(
                    "UPDATE outbox SET done_at = $2, in_flight = NULL WHERE message_id = $1 AND done_at IS NULL",
                )
                .bind(message.0)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                let (status, error) = best;
                if status.rank() <= current.rank() {
                    return Ok(Vec::new());
                }
                set_status(tx, conversation, message, status, error, now).await
            }

            #[async_trait::async_trait]
            impl ChannelStore for $store {
                async fn record_webhooks(&self, bodies: &[&[u8]], now: i64) -> StoreResult<Vec<i64>> {
                    let mut tx = self.write_transaction().await?;
                    let mut ids = Vec::with_capacity(bodies.len());
                    for body in bodies {
                        let id: i64 = sqlx::query_scalar(
                            "INSERT INTO webhook_deliveries (received_at, body) VALUES ($1, $2) RETURNING id",
                        )
                        .bind(now)
                        .bind(*body)
                        .fetch_one(&mut *tx)
                        .await?;
                        ids.push(id);
                    }
                    tx.commit().await?;
                    Ok(ids)
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

                async fn apply_status(&self, status: &StatusWrite, now: i64) -> StoreResult<Vec<ConversationEvent>> {
                    let mut tx = self.write_transaction().await?;
                    let events = apply_status_in(&mut tx, status, now).await?;
                    tx.commit().await?;
                    Ok(events)
                }

                async fn apply_deliveries(
                    &self,
                    deliveries: &[DeliveryWork],
                    now: i64,
                ) -> StoreResult<AppliedDeliveries> {
                    let mut tx = self.write_transaction().await?;
                    let mut applied = AppliedDeliveries::default();
                    for delivery in deliveries {
                        for work in &delivery.work {
                            match work {
                                Work::Inbound(inbound) => {
                                    // A savepoint per message: a duplicate found late (another
                                    // delivery of it committed meanwhile) undoes only its own
                                    // writes, and PostgreSQL's transaction stays usable.
                                    sqlx::query("SAVEPOINT inbound").execute(&mut *tx).await?;
                                    let outcome = record_inbound_in(&mut tx, inbound, now).await?;
                                    let recorded = matches!(outcome, InboundOutcome::Recorded { .. });
                                    if !recorded {
                                        sqlx::query("ROLLBACK TO SAVEPOINT inbound").execute(&mut *tx).await?;
                                    }
                                    sqlx::query("RELEASE SAVEPOINT inbound").execute(&mut *tx).await?;
                                    if let InboundOutcome::Recorded { events, .. } = outcome {
                                        applied.events.extend(events);
                                    }
                                    applied.recorded.push(recorded);
                                }
                                Work::Status(status) => {
                                    applied.events.extend(apply_status_in(&mut tx, status, now).await?);
                                }
                            }
                        }
                        sqlx::query("UPDATE webhook_deliveries SET processed_at = $2 WHERE id = $1")
                            .bind(delivery.id)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await?;
                    Ok(applied)
                }

                async fn message(&self, id: MessageId) -> StoreResult<Option<Message>> {
                    let row: Option<rows::MessageRow> =
                        sqlx::query_as(&format!("SELECT {} FROM messages WHERE id = $1", rows::MESSAGE_COLUMNS))
                            .bind(id.0)
                            .fetch_optional(&self.pool)
                            .await?;
                    row.map(Message::try_from).transpose()
                }

                async fn last_inbound_wamid(&self, conversation: ConversationId) -> StoreResult<Option<String>> {
                    Ok(sqlx::query_scalar(
                        "SELECT wa_message_id FROM messages WHERE conversation_id = $1 AND direction = 'inbound' \
                         AND wa_message_id IS NOT NULL ORDER BY sent_at DESC, seq DESC LIMIT 1",
                    )
                    .bind(conversation.0)
                    .fetch_optional(&self.pool)
                    .await?)
                }

                async fn due_outbox(&self, now: i64, limit: i64) -> StoreResult<Vec<OutboxItem>> {
                    type Row = (i64, i64, String, String, Option<String>, i64, Option<String>, Option<String>);
                    let rows: Vec<Row> = sqlx::query_as(
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
                        .map(|(id, message_id, to, body, reply_to, attempts, content, in_flight)| {
                            let content: Option<MessageContent> =
                                rows::json_column(content.as_deref(), "message content")?;
                            let message_id = MessageId(message_id);
                            Ok(OutboxItem { id, message_id, to, body, reply_to, attempts, content, in_flight })
                        })
                        .collect()
                }

                async fn begin_send(&self, id: i64, tag: &str, answer_by: i64) -> StoreResult<bool> {
                    let marked = sqlx::query(
                        "UPDATE outbox SET in_flight = $2, next_attempt_at = $3 WHERE id = $1 AND done_at IS NULL",
                    )
                    .bind(id)
                    .bind(tag)
                    .bind(answer_by)
                    .execute(&self.pool)
                    .await?;
                    Ok(marked.rows_affected() > 0)
                }

                async fn hold_in_flight(&self, until: i64) -> StoreResult<u64> {
                    let held = sqlx::query(
                        "UPDATE outbox SET next_attempt_at = $1 \
                         WHERE in_flight IS NOT NULL AND done_at IS NULL AND next_attempt_at < $1",
                    )
                    .bind(until)
                    .execute(&self.pool)
                    .await?;
                    Ok(held.rows_affected())
                }

                async fn await_status(&self, id: i64, error: &str) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1 AND done_at IS NULL",
                    )
                    .bind(id)
                    .bind(error.to_owned())
                    .execute(&self.pool)
                    .await?;
                    Ok(())
                }

                async fn retry_outbox(&self, id: i64, next_attempt_at: i64, error: &str) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3, \
                         in_flight = NULL WHERE id = $1",
                    )
                    .bind(id)
                    .bind(next_attempt_at)
                    .bind(error.to_owned())
                    .execute(&self.pool)
                    .await?;
                    Ok(())
                }

                async fn defer_outbox(&self, id: i64, next_attempt_at: i64) -> StoreResult<()> {
                    sqlx::query("UPDATE outbox SET next_attempt_at = $2 WHERE id = $1")
                        .bind(id)
                        .bind(next_attempt_at)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                }

                async fn requeue_failed(
                    &self,
                    message: MessageId,
                    actor: UserId,
                    now: i64,
                ) -> StoreResult<RequeueOutcome> {
                    let mut tx = self.write_transaction().await?;
                    let conversation_id: Option<i64> =
                        sqlx::query_scalar("SELECT conversation_id FROM messages WHERE id = $1")
                            .bind(message.0)
                            .fetch_optional(&mut *tx)
                            .await?;
                    let conversation = ConversationId(conversation_id.ok_or(StoreError::NotFound)?);
                    lock_conversation(&mut tx, conversation).await?;
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
                    let claim = claim_in(&mut tx, conversation).await?;
                    let reply_kind = if kind == "template" { ReplyKind::Template } else { ReplyKind::FreeForm };
                    let window = reply_kind == ReplyKind::Template || window_open(&mut tx, conversation, now).await?;
                    if let Err(refusal) = rules::may_send(claim.as_ref(), actor, reply_kind, window, now) {
                        return Ok(refusal.into());
                    }
                    // The same outbox row goes again; its old wamid is forgotten so late statuses
                    // of the failed attempt cannot touch the new one.
                    sqlx::query(
                        "UPDATE outbox SET done_at = NULL, next_attempt_at = $2, attempts = 0, last_error = NULL, \
                         in_flight = NULL WHERE message_id = $1",
                    )
                    .bind(message.0)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("UPDATE messages SET wa_message_id = NULL WHERE id = $1")
                        .bind(message.0)
                        .execute(&mut *tx)
                        .await?;
                    let mut events =
                        set_status(&mut tx, conversation, message, DeliveryStatus::Pending, None, now).await?;
                    let requeued = message_in(&mut tx, message.0).await?;
                    tx.commit().await?;
                    Ok(RequeueOutcome::Requeued { event: events.remove(0), message: requeued })
                }

                async fn fail_outbox(
                    &self,
                    id: i64,
                    error: &DeliveryError,
                    now: i64,
                ) -> StoreResult<Vec<ConversationEvent>> {
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
                    lock_conversation(&mut tx, conversation).await?;
                    sqlx::query(
                        "UPDATE outbox SET attempts = attempts + 1, done_at = $2, last_error = $3, in_flight = NULL \
                         WHERE id = $1",
                    )
                    .bind(id)
                    .bind(now)
                    .bind(error.message.clone())
                    .execute(&mut *tx)
                    .await?;
                    let failed = DeliveryStatus::Failed;
                    let events =
                        set_status(&mut tx, conversation, MessageId(message_id), failed, Some(error.clone()), now)
                            .await?;
                    tx.commit().await?;
                    Ok(events)
                }

                async fn message_accepted(
                    &self,
                    message: MessageId,
                    wa_message_id: &str,
                    now: i64,
                ) -> StoreResult<Vec<ConversationEvent>> {
                    let mut tx = self.write_transaction().await?;
                    let events = accept_in(&mut tx, message, wa_message_id, now).await?;
                    tx.commit().await?;
                    Ok(events)
                }
            }
        }
    };
}

pub(crate) use channel_queries;
