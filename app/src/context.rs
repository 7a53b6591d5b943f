//! What every view of the logged-in app shares, handed around with `provide_context`: the live
//! [`Link`] (socket and inbox model), the team directory, the team's canned responses, a ticking
//! clock, who is logged in, and where the user is (the URL, read through [`Place`]).

use std::rc::Rc;

use baton_shared::api::{CannedResponse, Me, Role, TeamMember};
use baton_shared::contacts::AttributeDef;
use baton_shared::teams::Team;
use baton_shared::{ConversationId, MessageId, TeamId, UserId};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate};

use crate::api;
use crate::route::{Place, Section};
use crate::ws::Link;

/// Goes to a path through the router (a new history entry, so back and forward work).
type Navigate = Rc<dyn Fn(&str)>;

/// What every view of the logged-in app shares.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub link: Link,
    pub team: RwSignal<Vec<TeamMember>>,
    /// The teams with their members (`GET /api/teams`): loaded at start, again after a change on
    /// the Teams page.
    pub teams: RwSignal<Vec<Team>>,
    /// The team's canned responses: loaded at start, again when the composer's menu is opened,
    /// and after a change on the Replies page.
    pub canned: RwSignal<Vec<CannedResponse>>,
    /// The contact attributes admins defined: loaded at start, again after they are saved.
    pub attributes: RwSignal<Vec<AttributeDef>>,
    /// Unix ms, ticking every 15 s (waiting times).
    pub now: RwSignal<i64>,
    pub me: StoredValue<Me>,
    /// Where the user is, read from the URL.
    pub place: Memo<Place>,
    /// The conversation open in the inbox, if any.
    pub selected: Memo<Option<ConversationId>>,
    /// The conversation last open in the inbox: the inbox tab goes back to it from another section.
    pub last_open: RwSignal<Option<ConversationId>>,
    /// A message to bring into view and mark when its conversation shows it (a search hit).
    pub focus_message: RwSignal<Option<(ConversationId, MessageId)>>,
    navigate: StoredValue<Navigate, LocalStorage>,
}

impl Ctx {
    /// The context of a logged-in `me` with `link`, inside the app's `<Router>`.
    pub fn new(me: Me, link: Link, now: i64) -> Self {
        let location = use_location();
        let place = Memo::new(move |_| location.pathname.with(|path| Place::parse(path)));
        let selected = Memo::new(move |_| place.get().conversation());
        let last_open = RwSignal::new(None);
        Effect::new(move |_| {
            if let Some(open) = selected.get() {
                last_open.set(Some(open));
            }
        });
        let navigate = use_navigate();
        let navigate: Navigate = Rc::new(move |path: &str| navigate(path, NavigateOptions::default()));
        Ctx {
            link,
            team: RwSignal::new(Vec::new()),
            teams: RwSignal::new(Vec::new()),
            canned: RwSignal::new(Vec::new()),
            attributes: RwSignal::new(Vec::new()),
            now: RwSignal::new(now),
            me: StoredValue::new(me),
            place,
            selected,
            last_open,
            focus_message: RwSignal::new(None),
            navigate: StoredValue::new_local(navigate),
        }
    }

    /// Goes to `place` (a new history entry); going where the user already is does nothing.
    pub fn go(self, place: Place) {
        if self.place.get_untracked() != place {
            let navigate = self.navigate.get_value();
            navigate(&place.path());
        }
    }

    /// The section on screen.
    pub fn section(self) -> Section {
        self.place.get().section()
    }

    /// Goes to `section`; the inbox opens the conversation last open there.
    pub fn go_to_section(self, section: Section) {
        self.go(match section {
            Section::Inbox => Place::Inbox(self.last_open.get_untracked()),
            Section::Wall => Place::Wall,
            Section::Replies => Place::Replies,
            Section::Users => Place::Users,
            Section::Teams => Place::Teams,
            Section::Rules => Place::Rules,
            Section::Automation => Place::Automation,
            Section::Contacts => Place::Contacts(None),
            Section::Reports => Place::Reports,
        });
    }

    /// Shows `conversation` in the inbox, or nothing there with `None`.
    pub fn select(self, conversation: Option<ConversationId>) {
        if conversation.is_none() {
            self.last_open.set(None);
        }
        self.go(Place::Inbox(conversation));
    }

    /// Loads the team's canned responses again (a failure keeps what was shown).
    pub fn reload_canned(self) {
        spawn_local(async move {
            if let Ok(canned) = api::canned_responses().await {
                self.canned.set(canned);
            }
        });
    }

    /// Loads the contact attributes again (a failure keeps what was shown).
    pub fn reload_attributes(self) {
        spawn_local(async move {
            if let Ok(definitions) = api::attributes().await {
                self.attributes.set(definitions.attributes);
            }
        });
    }

    /// Loads the teams again (a failure keeps what was shown), and with them which teams the user
    /// belongs to now (the visibility rule the app applies to events reads them).
    pub fn reload_teams(self) {
        spawn_local(async move {
            if let Ok(teams) = api::teams().await {
                let me = self.me.with_value(|me| me.id);
                let mine: Vec<TeamId> = teams
                    .iter()
                    .filter(|team| team.members.iter().any(|member| member.user == me))
                    .map(|team| team.id)
                    .collect();
                if self.link.inbox.with_untracked(|inbox| inbox.me.teams != mine) {
                    self.link.inbox.update(|inbox| inbox.me.teams = mine);
                }
                self.teams.set(teams);
            }
        });
    }

    /// A team's name, or a placeholder while the teams load.
    pub fn team_name(&self, team: TeamId) -> String {
        self.teams
            .with(|teams| teams.iter().find(|known| known.id == team).map(|known| known.name.clone()))
            .unwrap_or_else(|| format!("Team {team}"))
    }

    /// A teammate's name, or a placeholder while the directory loads.
    pub fn name_of(&self, user: UserId) -> String {
        if user == baton_shared::automation::AUTOMATION_USER {
            return "Baton".to_owned();
        }
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

    /// Shows `conversation` with `message` brought into view and marked (a search hit), loading
    /// the history around it.
    pub fn open_at_message(self, conversation: ConversationId, message: MessageId) {
        self.focus_message.set(Some((conversation, message)));
        self.select(Some(conversation));
    }

    /// Shows `conversation` in the inbox, from wherever the user is (a mention's notice).
    pub fn open_conversation(self, conversation: ConversationId) {
        self.select(Some(conversation));
    }
}
