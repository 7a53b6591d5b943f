//! Canned responses: the team's saved replies.

use async_trait::async_trait;
use baton_shared::UserId;
use baton_shared::api::CannedResponse;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::{Sql, SqlStore, unique_as};
use crate::store::canned::CannedStore;
use crate::store::{StoreError, StoreResult};

#[derive(sqlx::FromRow)]
struct CannedRow {
    id: i64,
    title: String,
    body: String,
}

impl From<CannedRow> for CannedResponse {
    fn from(row: CannedRow) -> Self {
        CannedResponse { id: row.id, title: row.title, body: row.body }
    }
}

#[async_trait]
impl<DB: Sql> CannedStore for SqlStore<DB>
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
    async fn canned_responses(&self) -> StoreResult<Vec<CannedResponse>> {
        let rows: Vec<CannedRow> =
            sqlx::query_as("SELECT id, title, body FROM canned_responses").fetch_all(&self.pool).await?;
        let mut list: Vec<CannedResponse> = rows.into_iter().map(CannedResponse::from).collect();
        // Sorted here: the two databases collate text differently.
        list.sort_by_cached_key(|canned| (canned.title.to_lowercase(), canned.id));
        Ok(list)
    }

    async fn create_canned(&self, title: &str, body: &str, actor: UserId, now: i64) -> StoreResult<CannedResponse> {
        let row: CannedRow = sqlx::query_as(
            "INSERT INTO canned_responses (title, body, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, title, body",
        )
        .bind(title)
        .bind(body)
        .bind(actor.0)
        .bind(now)
        .fetch_one(&self.writer)
        .await
        .map_err(|error| unique_as(error, StoreError::TitleTaken))?;
        Ok(row.into())
    }

    async fn update_canned(
        &self,
        id: i64,
        title: &str,
        body: &str,
        actor: UserId,
        now: i64,
    ) -> StoreResult<CannedResponse> {
        let row: Option<CannedRow> = sqlx::query_as(
            "UPDATE canned_responses SET title = $2, body = $3, updated_by = $4, updated_at = $5 \
             WHERE id = $1 RETURNING id, title, body",
        )
        .bind(id)
        .bind(title)
        .bind(body)
        .bind(actor.0)
        .bind(now)
        .fetch_optional(&self.writer)
        .await
        .map_err(|error| unique_as(error, StoreError::TitleTaken))?;
        row.map(CannedResponse::from).ok_or(StoreError::NotFound)
    }

    async fn delete_canned(&self, id: i64) -> StoreResult<()> {
        let deleted = sqlx::query("DELETE FROM canned_responses WHERE id = $1").bind(id).execute(&self.writer).await?;
        if DB::rows_affected(&deleted) == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
