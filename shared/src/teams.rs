//! Teams, as the REST API and the app exchange them: who is in each team, how much each member
//! may hold at once, and how the team's conversations are assigned.

use serde::{Deserialize, Serialize};

use crate::ids::{TeamId, UserId};

/// Most characters in a team's name.
pub const MAX_TEAM_NAME_CHARS: usize = 60;
/// A member's capacity when none is given: open and pending conversations held at once.
pub const DEFAULT_CAPACITY: u32 = 10;
/// Most conversations one member may be given at once.
pub const MAX_CAPACITY: u32 = 1000;
/// How long a returning customer goes back to the agent who last served them, by default.
pub const DEFAULT_STICKY_DAYS: u32 = 30;
/// Most days a sticky owner is remembered.
pub const MAX_STICKY_DAYS: u32 = 365;
/// How long an agent may be gone before their conversations return to the queue, by default.
pub const DEFAULT_GRACE_MINUTES: u32 = 5;
/// Most minutes of grace.
pub const MAX_GRACE_MINUTES: u32 = 24 * 60;

/// How a team's new conversations find an agent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentModel {
    /// Someone assigns each conversation by hand.
    #[default]
    Manual,
    /// The next eligible member in turn.
    RoundRobin,
    /// The eligible member holding the fewest conversations.
    Balanced,
    /// Nobody is given work: members take the next conversation themselves.
    Queue,
}

impl AssignmentModel {
    pub const ALL: [AssignmentModel; 4] =
        [AssignmentModel::Manual, AssignmentModel::RoundRobin, AssignmentModel::Balanced, AssignmentModel::Queue];

    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentModel::Manual => "manual",
            AssignmentModel::RoundRobin => "round_robin",
            AssignmentModel::Balanced => "balanced",
            AssignmentModel::Queue => "queue",
        }
    }

    pub fn parse(text: &str) -> Option<AssignmentModel> {
        AssignmentModel::ALL.into_iter().find(|model| model.as_str() == text)
    }
}

/// How routing placed a conversation: carried by the `assigned` events it caused, so the timeline
/// can say "Assigned to Ann by round-robin (Billing)" or "Returned to the queue: Ann went offline".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routing {
    /// The team whose rule, model or queue decided; `None`: the general inbox.
    pub team: Option<TeamId>,
    #[serde(flatten)]
    pub by: RoutedBy,
}

/// Which part of routing decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum RoutedBy {
    /// The next eligible member in turn.
    RoundRobin,
    /// The eligible member holding the fewest conversations.
    Balanced,
    /// The agent who last served this returning customer.
    Sticky,
    /// The agent pressed Take next.
    TakeNext,
    /// A routing rule named the agent.
    Rule { rule: String },
    /// Returned to the queue: `from` stayed offline past the team's grace.
    WentOffline { from: UserId },
    /// Returned to the queue: `from` set themselves away for longer than the team's grace.
    WentAway { from: UserId },
}

/// One member of a team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub user: UserId,
    /// Open and pending conversations they may hold at once in this team's work.
    pub capacity: u32,
}

/// A team (`GET /api/teams`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub model: AssignmentModel,
    /// A returning customer goes back to the agent who last served them (if eligible).
    pub sticky: bool,
    pub sticky_days: u32,
    /// How long a member may be gone before their conversations return to the queue.
    pub grace_minutes: u32,
    /// Sorted by user id.
    pub members: Vec<Membership>,
}

/// `POST /api/teams` and `PUT /api/teams/{id}` (admins): a team's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamRequest {
    pub name: String,
    #[serde(default)]
    pub model: AssignmentModel,
    #[serde(default = "yes")]
    pub sticky: bool,
    #[serde(default = "default_sticky_days")]
    pub sticky_days: u32,
    #[serde(default = "default_grace_minutes")]
    pub grace_minutes: u32,
}

/// `PUT /api/teams/{id}/members` (admins): the whole member list, replacing the one there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipsRequest {
    pub members: Vec<MembershipRequest>,
}

/// One member as an admin sets them; no capacity means [`DEFAULT_CAPACITY`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipRequest {
    pub user: UserId,
    #[serde(default)]
    pub capacity: Option<u32>,
}

fn yes() -> bool {
    true
}

fn default_sticky_days() -> u32 {
    DEFAULT_STICKY_DAYS
}

fn default_grace_minutes() -> u32 {
    DEFAULT_GRACE_MINUTES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_read_back_what_they_write() {
        for model in AssignmentModel::ALL {
            assert_eq!(AssignmentModel::parse(model.as_str()), Some(model));
            let json = serde_json::to_string(&model).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", model.as_str()));
        }
        assert_eq!(AssignmentModel::parse("lottery"), None);
    }

    #[test]
    fn a_request_with_only_a_name_takes_the_defaults() {
        let request: Result<TeamRequest, _> = serde_json::from_str(r#"{"name":"Billing"}"#);
        let request = request.ok();
        assert_eq!(
            request,
            Some(TeamRequest {
                name: "Billing".into(),
                model: AssignmentModel::Manual,
                sticky: true,
                sticky_days: DEFAULT_STICKY_DAYS,
                grace_minutes: DEFAULT_GRACE_MINUTES,
            })
        );
    }
}
