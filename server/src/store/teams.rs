//! [`TeamStore`]: teams, their members and capacities, and their routing settings. Each change is
//! audited in the transaction that makes it.

use async_trait::async_trait;
use baton_shared::UserId;
use baton_shared::teams::{Membership, Team, TeamRequest};

use super::StoreResult;

#[async_trait]
pub trait TeamStore: Send + Sync {
    /// Every team with its members, by name (case aside).
    async fn teams(&self) -> StoreResult<Vec<Team>>;
    async fn team(&self, id: i64) -> StoreResult<Option<Team>>;
    /// [`super::StoreError::NameTaken`] when another team has this name, case aside.
    async fn create_team(&self, settings: &TeamRequest, actor: UserId, now: i64) -> StoreResult<Team>;
    async fn update_team(&self, id: i64, settings: &TeamRequest, actor: UserId, now: i64) -> StoreResult<Team>;
    /// Deletes the team and its memberships.
    async fn delete_team(&self, id: i64, actor: UserId, now: i64) -> StoreResult<()>;
    /// Replaces the team's members (each user once) with `members`.
    async fn set_team_members(&self, id: i64, members: &[Membership], actor: UserId, now: i64) -> StoreResult<Team>;
}
