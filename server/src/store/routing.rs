//! [`RoutingStore`]: where conversations stand in the teams' queues — their team and priority,
//! who belongs to which team — and the assignments routing makes: each in one transaction that
//! counts the agent's load and assigns, under the team's row lock, so no agent ever holds more
//! than their capacity and no conversation goes to two agents.

use async_trait::async_trait;
use baton_shared::model::{ConversationEvent, Priority};
use baton_shared::routing_rules::{RuleSet, StoredRules};
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

/// What one routing step did ([`RoutingStore::route_next`]).
#[derive(Debug)]
pub enum RouteOutcome {
    /// The head of the team's queue went to an agent: the events to publish.
    Assigned { assignee: UserId, events: Vec<ConversationEvent> },
    /// The head changed meanwhile (someone assigned or moved it by hand): look again.
    Raced,
    /// Nothing to do: the team does not push work, nothing waits, or no eligible member has room.
    Idle,
}

/// What Take next did ([`RoutingStore::take_next`]).
#[derive(Debug)]
pub enum TakeOutcome {
    Took {
        conversation: ConversationId,
        events: Vec<ConversationEvent>,
    },
    /// Nothing waits in the user's teams' queues (or they are in no team).
    Empty,
    /// They hold `load` conversations, which no team of theirs allows them to exceed.
    Full {
        load: u32,
    },
}

/// Whether routing may give `user` work now (presence available and a socket open; the store
/// checks membership, being enabled and capacity itself).
pub type Eligible<'a> = &'a (dyn Fn(UserId) -> bool + Sync);

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

    /// The newest `limit` `assigned` and `triaged` events of a conversation, oldest first.
    async fn routing_history(&self, id: ConversationId, limit: i64) -> StoreResult<Vec<ConversationEvent>>;
}

/// The teams' queues: routing's assignments and Take next.
#[async_trait]
pub trait QueueStore: Send + Sync {
    /// The teams that push work to their members (round-robin and balanced).
    async fn pushing_teams(&self) -> StoreResult<Vec<TeamId>>;

    /// One step of a pushing team's routing, in one transaction under the team's lock: the head
    /// of its queue (most urgent, then longest waiting; none someone is replying in) goes to its
    /// sticky owner if they are eligible, else to the member the team's model picks among the
    /// eligible ones under capacity — counted in this transaction, under the member's lock.
    async fn route_next(&self, team: TeamId, eligible: Eligible<'_>, now: i64) -> StoreResult<RouteOutcome>;

    /// Take next: assigns `user` the most urgent, then longest waiting, conversation of their
    /// teams' queues that their capacity there allows, under the locks of all their teams.
    async fn take_next(&self, user: UserId, now: i64) -> StoreResult<TakeOutcome>;
}

/// Why an agent's work goes back to the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Absence {
    /// Their last socket closed.
    Offline,
    /// They set themselves away.
    Away,
}

impl Absence {
    pub fn as_str(self) -> &'static str {
        match self {
            Absence::Offline => "offline",
            Absence::Away => "away",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Absence::Offline, Absence::Away].into_iter().find(|absence| absence.as_str() == text)
    }
}

/// A handover whose time has come: `user`'s conversations of `team` go back to its queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DueHandover {
    pub user: UserId,
    pub team: TeamId,
    pub absence: Absence,
}

/// Offline handover, kept in the database so it happens after a restart and on any node.
#[async_trait]
pub trait HandoverStore: Send + Sync {
    /// `user` went offline or away at `now`: for each of their teams, their conversations there
    /// go back to its queue after its grace. One already pending keeps its (earlier) time.
    async fn schedule_handovers(&self, user: UserId, absence: Absence, now: i64) -> StoreResult<()>;
    /// `user` is back: nothing of theirs goes back.
    async fn cancel_handovers(&self, user: UserId) -> StoreResult<()>;
    /// The handovers due at `now`.
    async fn due_handovers(&self, now: i64) -> StoreResult<Vec<DueHandover>>;
    /// Carries one out, in one transaction that first takes it (so of two nodes only one does):
    /// every open or pending conversation of the team the user holds goes back to the queue,
    /// unassigned, with their claim released. Returns the events (none if it was taken already).
    async fn hand_back(&self, handover: DueHandover, now: i64) -> StoreResult<Vec<ConversationEvent>>;
}

/// The routing rules, kept whole.
#[async_trait]
pub trait RulesStore: Send + Sync {
    /// The rules as saved (version 0 and none when never saved).
    async fn routing_rules(&self) -> StoreResult<StoredRules>;
    /// Replaces the rules if they are still at `base_version` ([`super::StoreError::Changed`]
    /// otherwise); audited. Returns them as saved, with their new version.
    async fn save_routing_rules(
        &self,
        set: &RuleSet,
        base_version: u32,
        actor: UserId,
        now: i64,
    ) -> StoreResult<StoredRules>;

    /// Counts one firing of each of `rules` (ids) at `now`.
    async fn count_rule_fires(&self, rules: &[u32], now: i64) -> StoreResult<()>;

    /// Whether the conversation's customer had an earlier conversation.
    async fn returning_customer(&self, conversation: ConversationId) -> StoreResult<bool>;

    /// The conversation's pending spell, if it is pending (not snoozed): since when, and the
    /// longest wait (hours) whose time rules were looked at in it.
    async fn pending_spell(&self, conversation: ConversationId) -> StoreResult<Option<PendingSpell>>;

    /// Takes the time rules waiting `hours` in the spell begun at `since`: whether this caller
    /// fires them (the spell still runs, and nobody took that wait yet). Taken before they fire,
    /// so of two nodes, or a job done again, one fires them.
    async fn take_pending_wait(&self, conversation: ConversationId, since: i64, hours: u32) -> StoreResult<bool>;

    /// Schedules the time rules' next look at `at`, if the spell begun at `since` still runs.
    async fn schedule_pending_look(
        &self,
        conversation: ConversationId,
        since: i64,
        at: i64,
        now: i64,
    ) -> StoreResult<()>;
}

/// A pending conversation's clock, for the time rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingSpell {
    pub since: i64,
    pub hours_done: u32,
}
