//! A conversation's labels, edited under its lock.

use async_trait::async_trait;
use baton_shared::model::{Change, edit_labels};
use baton_shared::{ConversationId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::{Sql, SqlStore, rows};
use crate::store::StoreResult;
use crate::store::labels::{LabelOutcome, LabelStore};

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
    /// Stores the conversation's labels (edited by the caller, under its lock) and keeps them
    /// searchable: every writer of labels goes through here.
    pub(super) async fn set_labels(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        labels: &[String],
        now: i64,
    ) -> StoreResult<()> {
        let json = serde_json::to_string(labels).map_err(|error| rows::corrupt(error.to_string()))?;
        sqlx::query("UPDATE conversations SET labels = $2 WHERE id = $1")
            .bind(id.0)
            .bind(json)
            .execute(&mut **tx)
            .await?;
        Self::index_labels(tx, id, labels, now).await
    }
}

#[async_trait]
impl<DB: Sql> LabelStore for SqlStore<DB>
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
    async fn edit_labels(
        &self,
        id: ConversationId,
        actor: UserId,
        add: &[String],
        remove: &[String],
        now: i64,
    ) -> StoreResult<LabelOutcome> {
        let mut tx = self.write_transaction().await?;
        Self::lock_conversation(&mut tx, id).await?;
        let stored: String =
            sqlx::query_scalar("SELECT labels FROM conversations WHERE id = $1").bind(id.0).fetch_one(&mut *tx).await?;
        let current: Vec<String> =
            serde_json::from_str(&stored).map_err(|_| rows::corrupt(format!("labels {stored}")))?;
        let labels = match edit_labels(&current, add, remove) {
            Ok(labels) => labels,
            Err(why) => return Ok(LabelOutcome::Refused(why)),
        };
        if labels == current {
            return Ok(LabelOutcome::Unchanged);
        }
        Self::set_labels(&mut tx, id, &labels, now).await?;
        let event = Self::append_event(&mut tx, id, Some(actor), Change::Labeled { labels }, now).await?;
        tx.commit().await?;
        Ok(LabelOutcome::Changed(Box::new(event)))
    }
}
