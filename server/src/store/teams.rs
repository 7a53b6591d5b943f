//! [`TeamStore`]: teams, their members and capacities, and their routing settings. Each change is
//! audited in the transaction that makes it.

use async_trait::async_trait;
use baton_shared::model::ConversationEvent;
use baton_shared::teams::{Membership, Team, TeamRequest};
use baton_shared::{TeamId, UserId};

use super::StoreResult;

#[async_trait]
pub trait TeamStore: Send + Sync {
    /// Every team with its members, by name (case aside).
    async fn teams(&self) -> StoreResult<Vec<Team>>;
    async fn team(&self, id: TeamId) -> StoreResult<Option<Team>>;
    /// [`super::StoreError::NameTaken`] when another team has this name, case aside.
    async fn create_team(&self, settings: &TeamRequest, actor: UserId, now: i64) -> StoreResult<Team>;
    async fn update_team(&self, id: TeamId, settings: &TeamRequest, actor: UserId, now: i64) -> StoreResult<Team>;
    /// Deletes the team and its memberships. Its conversations move to the general inbox, each
    /// with a `triaged` event (returned), keeping their assignee.
    async fn delete_team(&self, id: TeamId, actor: UserId, now: i64) -> StoreResult<Vec<ConversationEvent>>;
    /// Replaces the team's members (each user once) with `members`.
    async fn set_team_members(&self, id: TeamId, members: &[Membership], actor: UserId, now: i64) -> StoreResult<Team>;
}
