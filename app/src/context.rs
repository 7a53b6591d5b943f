//! What every view of the logged-in app shares, handed around with `provide_context`: the live
//! [`Link`] (socket and inbox model), the team directory, the team's canned responses, a ticking
//! clock, who is logged in, and which section and conversation are on screen.

use baton_shared::api::{CannedResponse, Me, Role, TeamMember};
use baton_shared::{ConversationId, UserId};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::ws::Link;

/// What every view of the logged-in app shares.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub link: Link,
    pub team: RwSignal<Vec<TeamMember>>,
    /// The team's canned responses: loaded at start, again when the composer's menu is opened,
    /// and after a change on the Replies page.
    pub canned: RwSignal<Vec<CannedResponse>>,
    /// Unix ms, ticking every 15 s (waiting times).
    pub now: RwSignal<i64>,
    pub me: StoredValue<Me>,
    /// The section on screen.
    pub section: RwSignal<Section>,
    /// The conversation open in the inbox, if any (kept while another section is shown).
    pub selected: RwSignal<Option<ConversationId>>,
}

impl Ctx {
    /// Loads the team's canned responses again (a failure keeps what was shown).
    pub fn reload_canned(self) {
        spawn_local(async move {
            if let Ok(canned) = api::canned_responses().await {
                self.canned.set(canned);
            }
        });
    }

    /// A teammate's name, or a placeholder while the directory loads.
    pub fn name_of(&self, user: UserId) -> String {
        self.team
            .with(|team| team.iter().find(|member| member.id == user).map(|member| member.name.clone()))
            .unwrap_or_else(|| format!("User {user}"))
    }

    pub fn me(&self) -> Me {
        self.me.get_value()
    }

    pub fn is_supervisor(&self) -> bool {
        self.me.with_value(|me| me.role.at_least(Role::Supervisor))
    }

    /// Shows `conversation` in the inbox, from wherever the user is (a mention's notice).
    pub fn open_conversation(self, conversation: ConversationId) {
        self.section.set(Section::Inbox);
        self.selected.set(Some(conversation));
    }
}

/// The sections of the app, one on screen at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Inbox,
    Wall,
    Replies,
    Users,
}
