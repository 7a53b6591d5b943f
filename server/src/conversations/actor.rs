//! [`Actor`]: who performs a conversation operation. Every rule is decided for an actor, never for
//! a socket or a request, so each new kind of caller reuses the same operations.

use std::sync::Arc;

use baton_shared::api::Role;
use baton_shared::automation::AUTOMATION_USER;
use baton_shared::model::Conversation;
use baton_shared::protocol::Teammate;
use baton_shared::rules::Viewer;
use baton_shared::{TeamId, UserId};

/// Who acts on a conversation. Each variant answers [`Actor::role`] and [`Actor::id`] for what it
/// may do and whom the event log records (API tokens will be a variant of their own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in teammate, acting with their role, a member of `teams`.
    User { user: Teammate, role: Role, teams: Arc<[TeamId]> },
    /// Baton itself — auto-replies, the menu bot, timers, automation rules — recorded as
    /// [`AUTOMATION_USER`]. It sees every conversation (as a supervisor does), belongs to no team,
    /// and has operations of its own where a person's rule does not fit (it sends without a
    /// claim, under the loop guards: [`super::automated`]).
    Automation { user: Teammate },
}

impl Actor {
    pub fn user(user: Teammate, role: Role, teams: Arc<[TeamId]>) -> Self {
        Actor::User { user, role, teams }
    }

    /// Baton, acting by itself.
    pub fn automation() -> Self {
        Actor::Automation { user: Teammate { id: AUTOMATION_USER, name: "Baton".into() } }
    }

    pub fn is_automation(&self) -> bool {
        matches!(self, Actor::Automation { .. })
    }

    /// The user the event log records as the author.
    pub fn id(&self) -> UserId {
        match self {
            Actor::User { user, .. } | Actor::Automation { user } => user.id,
        }
    }

    pub fn role(&self) -> Role {
        match self {
            Actor::User { role, .. } => *role,
            Actor::Automation { .. } => Role::Supervisor,
        }
    }

    /// The teams the actor belongs to.
    pub fn teams(&self) -> &[TeamId] {
        match self {
            Actor::User { teams, .. } => teams,
            Actor::Automation { .. } => &[],
        }
    }

    /// The actor as the visibility rule sees them.
    pub fn viewer(&self) -> Viewer<'_> {
        Viewer { id: self.id(), role: self.role(), teams: self.teams() }
    }

    /// The actor as teammates see them (in typing indicators and notices).
    pub fn teammate(&self) -> &Teammate {
        match self {
            Actor::User { user, .. } | Actor::Automation { user } => user,
        }
    }

    /// Supervisors and admins watch every conversation, take over and hand over claims.
    pub fn is_supervisor(&self) -> bool {
        self.role().at_least(Role::Supervisor)
    }

    /// Whether this actor may see `conversation` ([`baton_shared::rules::visible_to`]).
    pub fn may_see(&self, conversation: &Conversation) -> bool {
        conversation.is_visible_to(&self.viewer())
    }
}
