//! Drafts: what each user has typed in each conversation, saved in batches that may arrive late.

use async_trait::async_trait;
use baton_shared::{ConversationId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::{Sql, SqlStore};
use crate::store::StoreResult;
use crate::store::conversations::{DraftStore, DraftWrite};

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
    /// Keeps a draft unless a newer one (or a newer send, which leaves an empty draft) is there
    /// already: batched saves may arrive late.
    pub(super) async fn upsert_draft(tx: &mut Transaction<'static, DB>, draft: &DraftWrite) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO drafts (conversation_id, user_id, body, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (conversation_id, user_id) DO UPDATE SET body = excluded.body, \
             updated_at = excluded.updated_at \
             WHERE excluded.updated_at > drafts.updated_at \
             OR (excluded.updated_at = drafts.updated_at AND drafts.body <> '')",
        )
        .bind(draft.conversation.0)
        .bind(draft.user.0)
        .bind(&draft.body)
        .bind(draft.typed_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

#[async_trait]
impl<DB: Sql> DraftStore for SqlStore<DB>
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
    async fn save_drafts(&self, drafts: &[DraftWrite]) -> StoreResult<()> {
        if drafts.is_empty() {
            return Ok(());
        }
        // One transaction for the batch: one writer at a time, one commit for many drafts.
        let mut tx = self.write_transaction().await?;
        for draft in drafts {
            Self::upsert_draft(&mut tx, draft).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn draft(&self, id: ConversationId, user: UserId) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar("SELECT body FROM drafts WHERE conversation_id = $1 AND user_id = $2 AND body <> ''")
            .bind(id.0)
            .bind(user.0)
            .fetch_optional(&self.pool)
            .await?)
    }
}
