//! [`CannedStore`]: the team's canned responses (saved replies).

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
