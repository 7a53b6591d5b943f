//! Webhook deliveries: their exact bytes kept before Meta is answered, then applied in batches
//! (customer messages and statuses) with each delivery marked processed in the same transaction.

use async_trait::async_trait;
use baton_shared::model::ConversationEvent;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::conversations::InboundBatch;
use super::messages::IDS_PER_QUERY;
use super::{Sql, SqlStore, placeholders};
use crate::store::StoreResult;
use crate::store::channel::{AppliedDeliveries, DeliveryWork, StatusWrite, WebhookDelivery, WebhookStore, Work};
use crate::store::conversations::InboundOutcome;

#[async_trait]
impl<DB: Sql> WebhookStore for SqlStore<DB>
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
    async fn record_webhooks(&self, bodies: &[&[u8]], now: i64) -> StoreResult<Vec<i64>> {
        let mut tx = self.write_transaction().await?;
        let mut ids = Vec::with_capacity(bodies.len());
        for body in bodies {
            let id: i64 =
                sqlx::query_scalar("INSERT INTO webhook_deliveries (received_at, body) VALUES ($1, $2) RETURNING id")
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
            "SELECT id, body, attempts FROM webhook_deliveries WHERE processed_at IS NULL ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id, body, attempts)| WebhookDelivery { id, body, attempts }).collect())
    }

    async fn finish_webhook(&self, id: i64, failure: Option<&str>, now: i64) -> StoreResult<()> {
        let query = match failure {
            None => sqlx::query("UPDATE webhook_deliveries SET processed_at = $2 WHERE id = $1").bind(id).bind(now),
            Some(failure) => {
                sqlx::query("UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = $2 WHERE id = $1")
                    .bind(id)
                    .bind(failure.to_owned())
            }
        };
        query.execute(&self.writer).await?;
        Ok(())
    }

    async fn apply_status(&self, status: &StatusWrite, now: i64) -> StoreResult<Vec<ConversationEvent>> {
        let mut tx = self.write_transaction().await?;
        let events = Self::apply_status_in(&mut tx, status, now).await?;
        tx.commit().await?;
        Ok(events)
    }

    async fn apply_deliveries(&self, deliveries: &[DeliveryWork], now: i64) -> StoreResult<AppliedDeliveries> {
        let mut tx = self.write_transaction().await?;
        let mut applied = AppliedDeliveries::default();
        let mut batch = InboundBatch::new(DB::COUNTER_SHARDS);
        // Which of the batch's messages are stored already, in one look.
        let wamids: Vec<&str> = deliveries
            .iter()
            .flat_map(|delivery| &delivery.work)
            .filter_map(|work| match work {
                Work::Inbound(inbound) => Some(inbound.wa_message_id.as_str()),
                Work::Status(_) => None,
            })
            .collect();
        if !wamids.is_empty() {
            Self::look_up_stored(&mut tx, &mut batch, &wamids).await?;
        }
        for delivery in deliveries {
            for work in &delivery.work {
                match work {
                    Work::Inbound(inbound) => {
                        // A savepoint per message where writers run side by side: a duplicate
                        // found late (another delivery of it committed meanwhile) undoes only its
                        // own writes, and PostgreSQL's transaction stays usable. Where they are
                        // serialised, the look for it in this transaction is the last word.
                        let savepoint = !DB::WRITERS_SERIALISED;
                        if savepoint {
                            sqlx::query("SAVEPOINT inbound").execute(&mut *tx).await?;
                        }
                        let outcome = Self::record_inbound_in(&mut tx, &mut batch, inbound, now).await?;
                        let recorded = matches!(outcome, InboundOutcome::Recorded { .. });
                        if savepoint {
                            if !recorded {
                                sqlx::query("ROLLBACK TO SAVEPOINT inbound").execute(&mut *tx).await?;
                            }
                            sqlx::query("RELEASE SAVEPOINT inbound").execute(&mut *tx).await?;
                        }
                        if let InboundOutcome::Recorded { events, .. } = outcome {
                            applied.events.extend(events);
                        }
                        applied.recorded.push(recorded);
                    }
                    Work::Status(status) => {
                        applied.events.extend(Self::apply_status_in(&mut tx, status, now).await?);
                    }
                }
            }
        }
        Self::finish_inbound(&mut tx, &mut batch).await?;
        // The deliveries marked processed, many to a statement.
        for chunk in deliveries.chunks(IDS_PER_QUERY) {
            let sql = format!(
                "UPDATE webhook_deliveries SET processed_at = $1 WHERE id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(now);
            for delivery in chunk {
                query = query.bind(delivery.id);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(applied)
    }
}
