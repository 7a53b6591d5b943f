//! REST request and response bodies.
//!
//! Every state-changing request must carry the [`CSRF_HEADER`] (see the README); responses that
//! fail carry [`crate::ApiError`].

use crate::ids::UserId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Header every cookie-authenticated state-changing request must send (any non-empty value).
/// Browsers refuse to add a custom header to a cross-site request without a CORS preflight, which
/// Baton never grants, so its presence proves the request came from Baton's own pages or a tool.
pub const CSRF_HEADER: &str = "x-baton-csrf";

/// Name of the HttpOnly session cookie when Baton is served over plain http (a laptop demo).
pub const SESSION_COOKIE: &str = "baton_session";

/// Name of the session cookie over https. The `__Host-` prefix makes browsers refuse it unless it
/// is Secure, has `Path=/` and no `Domain`, so a sibling subdomain cannot plant or shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-baton_session";

/// What a user may do. Ordered by privilege: each role can do everything the one before can.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Answers customers in the conversations routed to them.
    Agent,
    /// An agent who also looks after a team's queue.
    Lead,
    /// Watches every conversation live, takes over and transfers claims.
    Supervisor,
    /// Manages users, roles and settings.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Agent, Role::Lead, Role::Supervisor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Lead => "lead",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    /// A label for people, e.g. "Supervisor".
    pub fn label(self) -> &'static str {
        match self {
            Role::Agent => "Agent",
            Role::Lead => "Lead",
            Role::Supervisor => "Supervisor",
            Role::Admin => "Admin",
        }
    }

    /// True when this role carries at least the privileges of `other`.
    pub fn at_least(self, other: Role) -> bool {
        self >= other
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown role name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownRole(pub String);

impl fmt::Display for UnknownRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown role {:?}: expected agent, lead, supervisor or admin", self.0)
    }
}

impl std::error::Error for UnknownRole {}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|role| role.as_str() == s).ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// `POST /api/auth/login`.
#[derive(Clone, Serialize, Deserialize)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest").field("email", &self.email).field("password", &"<redacted>").finish()
    }
}

/// The logged-in user: `GET /api/me`, and the answer to a successful login.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// The teams they belong to (whose queues they see), by id.
    #[serde(default)]
    pub teams: Vec<crate::ids::TeamId>,
}

/// A user account as admins see it: `GET /api/users` and the answers of the other user endpoints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl Me {
    /// `user`, who belongs to `teams`.
    pub fn new(user: &User, teams: Vec<crate::ids::TeamId>) -> Self {
        Me { id: user.id, name: user.name.clone(), email: user.email.clone(), role: user.role, teams }
    }
}

/// `POST /api/users` (admin).
#[derive(Clone, Serialize, Deserialize)]
pub struct CreateUserRequest {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
}

impl fmt::Debug for CreateUserRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateUserRequest")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// `PATCH /api/users/{id}` (admin): each field present is changed; absent fields stay as they are.
/// Disabling a user ends all of their sessions at once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

/// `GET /healthz`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `"ok"` when the database answers.
    pub status: String,
    pub version: String,
    /// `"sqlite"` or `"postgres"`.
    pub database: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_are_ordered_by_privilege() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            let json = serde_json::to_string(&role).expect("serializes");
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert!(Role::Admin.at_least(Role::Supervisor));
        assert!(Role::Supervisor.at_least(Role::Lead));
        assert!(!Role::Agent.at_least(Role::Lead));
        assert!("owner".parse::<Role>().is_err());
    }

    #[test]
    fn secrets_are_not_in_debug_output() {
        let login = LoginRequest { email: "a@b.c".into(), password: "hunter22".into() };
        assert!(!format!("{login:?}").contains("hunter22"));
        let create = CreateUserRequest {
            email: "a@b.c".into(),
            name: "A".into(),
            role: Role::Agent,
            password: "hunter22".into(),
        };
        assert!(!format!("{create:?}").contains("hunter22"));
    }

    #[test]
    fn update_rejects_unknown_fields() {
        let err = serde_json::from_str::<UpdateUserRequest>(r#"{"rolee":"admin"}"#);
        assert!(err.is_err());
    }
}

/// `POST /api/uploads`: a file an agent will send, kept by Baton until then.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    /// What `send_media` names.
    pub upload_id: String,
    pub mime_type: String,
    pub filename: Option<String>,
    /// Bytes.
    pub size: u64,
}

/// `GET /api/conversations`: one row of the inbox list — every conversation the user may see
/// (supervisors: all; agents: the unassigned ones and their own), newest activity first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub conversation: crate::model::Conversation,
    /// The newest message (the last in timeline order, so a late one never displaces it), for
    /// the preview line.
    pub last_message: Option<crate::model::Message>,
}

/// `GET /api/conversations/{id}`: a conversation with its history, its notes and the user's own
/// saved draft. The events after `conversation.last_seq` arrive over the WebSocket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationDetail {
    pub conversation: crate::model::Conversation,
    /// The newest messages (up to [`HISTORY_PAGE`]) in timeline order
    /// ([`crate::model::Message::placement`]), oldest first.
    pub messages: Vec<crate::model::Message>,
    /// Whether older messages exist: `GET /api/conversations/{id}/messages?before_seq=…` pages them.
    #[serde(default)]
    pub has_earlier: bool,
    pub notes: Vec<crate::model::Note>,
    /// What the user had typed and not sent (empty for nothing).
    pub draft: String,
    /// Who it was assigned to and which queue it went to, as events (`assigned`, `triaged`; the
    /// newest [`HISTORY_PAGE`]), oldest first: the timeline's lines between messages.
    #[serde(default)]
    pub routing: Vec<crate::model::ConversationEvent>,
}

/// How many messages a conversation's history, or one page of it, holds at most.
pub const HISTORY_PAGE: u32 = 100;

/// `GET /api/conversations/{id}/messages?before_seq=N[&limit=M]`: the [`HISTORY_PAGE`] (or
/// `limit`) messages placed just before the message with `seq` N (the earliest one the client
/// holds), in timeline order ([`crate::model::Message::placement`]), oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePage {
    pub messages: Vec<crate::model::Message>,
    /// Whether there are messages older than these.
    pub has_earlier: bool,
}

/// `GET /api/team`: a teammate as every logged-in user may see them (names for authors,
/// mentions and the assign menu). Disabled accounts are left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMember {
    pub id: UserId,
    pub name: String,
    pub role: Role,
}

/// A saved reply the team inserts into the composer (`GET /api/canned-responses`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedResponse {
    pub id: i64,
    /// What the picker shows, unique in the team.
    pub title: String,
    pub body: String,
}

/// `POST /api/canned-responses` and `PUT /api/canned-responses/{id}` (supervisors and admins).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedResponseRequest {
    pub title: String,
    pub body: String,
}

/// At most this many characters in a canned response's title.
pub const MAX_CANNED_TITLE_CHARS: usize = 60;

/// The largest file `POST /api/uploads` accepts: WhatsApp's limit for video and audio (images:
/// 5 MB). 16 MB (binary megabytes, as WhatsApp counts them).
pub const MAX_UPLOAD_BYTES: usize = 16 * 1024 * 1024;

// The conversation operations over REST: the same operations the WebSocket requests run, for
// tools and integrations (each answers what the socket's ack carries, or `{code, message}`).

/// `POST /api/conversations/{id}/transfer`: hand the claim to a teammate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferRequest {
    pub to: UserId,
}

/// `PUT /api/conversations/{id}/assignee`: assign to a teammate, or to nobody (`null`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignRequest {
    pub assignee: Option<UserId>,
    /// A handover note, added to the conversation's notes.
    #[serde(default)]
    pub note: Option<String>,
}

/// `PUT /api/conversations/{id}/team`: move it to a team's queue, or to the general inbox
/// (`null`). A move to another team returns it to that team's queue: it is unassigned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMoveRequest {
    pub team: Option<crate::ids::TeamId>,
}

/// `PUT /api/conversations/{id}/priority`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityRequest {
    pub priority: crate::model::Priority,
}

/// `PUT /api/conversations/{id}/status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRequest {
    pub status: crate::model::ConversationStatus,
    /// With `pending`: snoozed until then (Unix ms), when it reopens by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
}

/// `PATCH /api/conversations/{id}/labels`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelsRequest {
    #[serde(default)]
    pub add: Vec<String>,
    #[serde(default)]
    pub remove: Vec<String>,
}

/// `POST /api/conversations/{id}/notes` and `PUT /api/notes/{id}` (with `base_version`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteRequest {
    pub body: String,
    /// For an edit: the version it was based on.
    #[serde(default)]
    pub base_version: u32,
}

/// `POST /api/conversations/{id}/replies`: a text reply, sent only by the claim's holder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyRequest {
    pub body: String,
    /// 1 to 100 bytes; the same key again answers with the reply stored the first time.
    pub idempotency_key: String,
    /// The newest seq the author had seen; later customer messages stop the reply unless `force`.
    #[serde(default)]
    pub seen_seq: u64,
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub reply_to: Option<crate::ids::MessageId>,
}
