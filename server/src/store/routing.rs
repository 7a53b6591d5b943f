//! [`RoutingStore`]: where conversations stand in the teams' queues — their team and priority,
//! who belongs to which team — and (next) the assignments routing makes under capacity.

use async_trait::async_trait;
use baton_shared::model::{ConversationEvent, Priority};
use baton_shared::{ConversationId, TeamId, UserId};

use super::StoreResult;

/// A change of a conversation's team or priority; a field left `None` stays as it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Triage {
    /// `Some(None)`: to the general inbox.
    pub team: Option<Option<TeamId>>,
    pub priority: Option<Priority>,
}

/// Where a conversation is, as the hub needs it to filter feeds: its assignee and team.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    pub conversation: ConversationId,
    pub assignee: Option<UserId>,
    pub team: Option<TeamId>,
}

#[async_trait]
pub trait RoutingStore: Send + Sync {
    /// Moves the conversation to another team's queue and/or sets its priority, in one
    /// transaction. A move to another team returns it to that team's queue: it is unassigned (its
    /// claim released) and begins waiting now. [`super::StoreError::NotFound`] when the team does
    /// not exist. Returns the events (none when nothing changed).
    async fn triage(
        &self,
        id: ConversationId,
        actor: UserId,
        triage: Triage,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>>;

    /// Every conversation that has an assignee or a team.
    async fn placements(&self) -> StoreResult<Vec<Placement>>;

    /// Every (member, team) pair.
    async fn memberships(&self) -> StoreResult<Vec<(UserId, TeamId)>>;
}
