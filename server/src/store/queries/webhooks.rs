//! Webhook deliveries: their exact bytes kept before Meta is answered, then applied in batches
//! (customer messages and statuses) with each delivery marked processed in the same transaction.

use async_trait::async_trait;
use baton_shared::model::ConversationEvent;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::conversations::InboundBatch;
use super::messages::IDS_PER_QUERY;
use super::{Sql, SqlStore, placeholders, rows};
use crate::store::StoreResult;
use crate::store::channel::{AppliedDeliveries, DeliveryWork, StatusWrite, WebhookDelivery, WebhookStore, Work};
use crate::store::conversations::NewInbound;

/// Webhook bodies stored by one statement at most (their parameters stay far below either
/// database's limit).
const BODIES_PER_INSERT: usize = 128;

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
        // Many to a statement: on SQLite's one writer every statement is a round trip to its
        // thread, and at thousands of webhooks a second those were most of the intake's cost.
        for chunk in bodies.chunks(BODIES_PER_INSERT) {
            let rows: Vec<String> = (0..chunk.len()).map(|index| format!("($1, ${})", index + 2)).collect();
            let sql =
                format!("INSERT INTO webhook_deliveries (received_at, body) VALUES {} RETURNING id", rows.join(", "));
            let mut query = sqlx::query_scalar::<DB, i64>(&sql).bind(now);
            for body in chunk {
                query = query.bind(*body);
            }
            let mut stored = query.fetch_all(&mut *tx).await?;
            // RETURNING's order is not promised; ids are: the rows of one statement are numbered
            // in the order its VALUES list them.
            stored.sort_unstable();
            if stored.len() != chunk.len() {
                return Err(rows::corrupt(format!("{} webhook rows stored of {}", stored.len(), chunk.len())));
            }
            ids.extend(stored);
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
        // Before the transaction, so that its counter shard is let go after it ends (rolled back
        // or committed), never while its rows are still held.
        let mut batch = InboundBatch::new();
        let mut tx = self.write_transaction().await?;
        let mut applied = AppliedDeliveries::default();
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
        // Customer messages are stored as a set, up to the next status (which may speak of one
        // of them), in arrival order.
        let mut set: Vec<&NewInbound> = Vec::new();
        for work in deliveries.iter().flat_map(|delivery| &delivery.work) {
            match work {
                Work::Inbound(inbound) => set.push(inbound),
                Work::Status(status) => {
                    Self::store_set(&mut tx, &mut batch, &mut set, &mut applied, now).await?;
                    applied.events.extend(Self::apply_status_in(&mut tx, status, now).await?);
                }
            }
        }
        Self::store_set(&mut tx, &mut batch, &mut set, &mut applied, now).await?;
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
