//! [`Actor`]: who performs a conversation operation. Every rule is decided for an actor, never for
//! a socket or a request, so each new kind of caller reuses the same operations.

use baton_shared::UserId;
use baton_shared::api::Role;
use baton_shared::model::Conversation;
use baton_shared::protocol::Teammate;

/// Who acts on a conversation.
///
/// Today every actor is a person; the routing engine, automations and API tokens come next as
/// variants of their own (`Automation`, `ApiToken`), each answering [`Actor::role`] and
/// [`Actor::id`] for what it may do and whom the event log records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in teammate, acting with their role.
    User { user: Teammate, role: Role },
}

impl Actor {
    pub fn user(user: Teammate, role: Role) -> Self {
        Actor::User { user, role }
    }

    /// The user the event log records as the author.
    pub fn id(&self) -> UserId {
        match self {
            Actor::User { user, .. } => user.id,
        }
    }

    pub fn role(&self) -> Role {
        match self {
            Actor::User { role, .. } => *role,
        }
    }

    /// The actor as teammates see them (in typing indicators and notices).
    pub fn teammate(&self) -> &Teammate {
        match self {
            Actor::User { user, .. } => user,
        }
    }

    /// Supervisors and admins watch every conversation, take over and hand over claims.
    pub fn is_supervisor(&self) -> bool {
        self.role().at_least(Role::Supervisor)
    }

    /// Whether this actor may see `conversation` ([`baton_shared::rules::visible_to`]).
    pub fn may_see(&self, conversation: &Conversation) -> bool {
        conversation.is_visible_to(self.id(), self.role())
    }
}

/// A signed-in user acting over REST or a socket.
impl From<&baton_shared::api::User> for Actor {
    fn from(user: &baton_shared::api::User) -> Self {
        Actor::user(Teammate { id: user.id, name: user.name.clone() }, user.role)
    }
}
