//! [`CannedStore`]: the team's canned responses (saved replies), and [`canned_queries!`], its one
//! body for both backends.

use async_trait::async_trait;
use baton_shared::UserId;
use baton_shared::api::CannedResponse;

use super::StoreResult;

#[async_trait]
pub trait CannedStore {
    /// Every canned response, by title (case aside).
    async fn canned_responses(&self) -> StoreResult<Vec<CannedResponse>>;
    /// [`super::StoreError::TitleTaken`] when the title is in use.
    async fn create_canned(&self, title: &str, body: &str, actor: UserId, now: i64) -> StoreResult<CannedResponse>;
    async fn update_canned(
        &self,
        id: i64,
        title: &str,
        body: &str,
        actor: UserId,
        now: i64,
    ) -> StoreResult<CannedResponse>;
    async fn delete_canned(&self, id: i64) -> StoreResult<()>;
}

/// Expands `CannedStore` for `$store` (which has a `pool`).
macro_rules! canned_queries {
    ($store:ident) => {
        mod canned_impl {
            use baton_shared::UserId;
            use baton_shared::api::CannedResponse;

            use super::$store;
            use $crate::store::canned::CannedStore;
            use $crate::store::{StoreError, StoreResult};

            #[derive(sqlx::FromRow)]
            struct Row {
                id: i64,
                title: String,
                body: String,
            }

            fn canned(row: Row) -> CannedResponse {
                CannedResponse { id: row.id, title: row.title, body: row.body }
            }

            fn title_taken(error: sqlx::Error) -> StoreError {
                match &error {
                    sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::TitleTaken,
                    _ => StoreError::Database(error),
                }
            }

            #[async_trait::async_trait]
            impl CannedStore for $store {
                async fn canned_responses(&self) -> StoreResult<Vec<CannedResponse>> {
                    let rows: Vec<Row> =
                        sqlx::query_as("SELECT id, title, body FROM canned_responses").fetch_all(&self.pool).await?;
                    let mut list: Vec<CannedResponse> = rows.into_iter().map(canned).collect();
                    // Sorted here: the two databases collate text differently.
                    list.sort_by_cached_key(|canned| (canned.title.to_lowercase(), canned.id));
                    Ok(list)
                }

                async fn create_canned(
                    &self,
                    title: &str,
                    body: &str,
                    actor: UserId,
                    now: i64,
                ) -> StoreResult<CannedResponse> {
                    let row: Row = sqlx::query_as(
                        "INSERT INTO canned_responses (title, body, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
                         RETURNING id, title, body",
                    )
                    .bind(title)
                    .bind(body)
                    .bind(actor.0)
                    .bind(now)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(title_taken)?;
                    Ok(canned(row))
                }

                async fn update_canned(
                    &self,
                    id: i64,
                    title: &str,
                    body: &str,
                    actor: UserId,
                    now: i64,
                ) -> StoreResult<CannedResponse> {
                    let row: Option<Row> = sqlx::query_as(
                        "UPDATE canned_responses SET title = $2, body = $3, updated_by = $4, updated_at = $5 \
                         WHERE id = $1 RETURNING id, title, body",
                    )
                    .bind(id)
                    .bind(title)
                    .bind(body)
                    .bind(actor.0)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(title_taken)?;
                    row.map(canned).ok_or(StoreError::NotFound)
                }

                async fn delete_canned(&self, id: i64) -> StoreResult<()> {
                    let deleted =
                        sqlx::query("DELETE FROM canned_responses WHERE id = $1").bind(id).execute(&self.pool).await?;
                    if deleted.rows_affected() == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Ok(())
                }
            }
        }
    };
}
pub(super) use canned_queries;
