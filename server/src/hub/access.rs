//! Who may see each conversation, as the hub knows it: every conversation's placement (its
//! assignee and team, kept from the store at start and from `assigned` and `triaged` events
//! since) and every user's teams (reloaded whenever an admin changes a team). [`Hub::may_see`]
//! applies the one visibility rule ([`baton_shared::rules::visible_to`]) to them, for every frame
//! of the fan-out; [`Hub::revoke`] makes sockets that may no longer see a conversation stop
//! following it.

use std::collections::HashMap;
use std::sync::Arc;

use baton_shared::api::Role;
use baton_shared::rules::{Viewer, visible_to};
use baton_shared::{ConversationId, TeamId, UserId};
use dashmap::DashMap;

use super::Hub;
use super::connections::{ConnId, Connection};

/// Where a conversation is: the default (unassigned, general inbox) is not stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Place {
    pub assignee: Option<UserId>,
    pub team: Option<TeamId>,
}

/// A change to a conversation's place, from one of its events.
#[derive(Clone, Copy, Debug)]
pub(super) enum Move {
    Assignee(Option<UserId>),
    Team(Option<TeamId>),
}

#[derive(Default)]
pub(super) struct Access {
    places: DashMap<ConversationId, Place>,
    teams: DashMap<UserId, Arc<[TeamId]>>,
    /// Held while memberships are reloaded, so that two reloads apply in the order they read.
    reloading: tokio::sync::Mutex<()>,
    /// Moves on with every reload: a socket's actor, made once, is made again when it moved.
    version: std::sync::atomic::AtomicU64,
}

impl Hub {
    /// Where conversations are, as the store has them (at start).
    pub fn load_places(&self, places: impl IntoIterator<Item = (ConversationId, Place)>) {
        for (conversation, place) in places {
            self.set_place(conversation, place);
        }
    }

    /// Every user's teams, from `load` (the store's memberships). Reloads run one at a time, each
    /// reading after the change that asked for it committed, so the last one applied is current.
    /// Sockets that may no longer see a conversation they follow stop following it.
    pub async fn reload_memberships<E>(
        &self,
        load: impl Future<Output = Result<Vec<(UserId, TeamId)>, E>>,
    ) -> Result<(), E> {
        let access = &self.inner.access;
        let _one_at_a_time = access.reloading.lock().await;
        let mut teams: HashMap<UserId, Vec<TeamId>> = HashMap::new();
        for (user, team) in load.await? {
            teams.entry(user).or_default().push(team);
        }
        access.teams.retain(|user, _| teams.contains_key(user));
        for (user, mut list) in teams {
            list.sort_unstable();
            access.teams.insert(user, list.into());
        }
        access.version.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        let followed: Vec<ConversationId> =
            self.inner.subscriptions.followers.iter().map(|entry| *entry.key()).collect();
        for conversation in followed {
            self.revoke(conversation);
        }
        Ok(())
    }

    /// Which reload of the memberships the hub holds.
    pub fn memberships_version(&self) -> u64 {
        self.inner.access.version.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The teams `user` belongs to.
    pub fn teams_of(&self, user: UserId) -> Arc<[TeamId]> {
        self.inner.access.teams.get(&user).map(|teams| teams.clone()).unwrap_or_else(|| Arc::from([]))
    }

    /// Where a conversation is now.
    pub fn place(&self, conversation: ConversationId) -> Place {
        self.inner.access.places.get(&conversation).map(|place| *place).unwrap_or_default()
    }

    pub(super) fn apply_move(&self, conversation: ConversationId, change: Move) {
        let mut place = self.place(conversation);
        match change {
            Move::Assignee(assignee) => place.assignee = assignee,
            Move::Team(team) => place.team = team,
        }
        self.set_place(conversation, place);
    }

    fn set_place(&self, conversation: ConversationId, place: Place) {
        let places = &self.inner.access.places;
        if place == Place::default() {
            places.remove(&conversation);
        } else {
            places.insert(conversation, place);
        }
    }

    /// Whether the socket's user may see the conversation, by the one visibility rule applied to
    /// the place and teams the hub knows.
    pub(super) fn may_see(&self, connection: &Connection, conversation: ConversationId) -> bool {
        let user = connection.user.id;
        if connection.role.at_least(Role::Supervisor) {
            return true;
        }
        let place = self.place(conversation);
        // Teams are looked up only when they matter: most of the fan-out never needs them.
        let teams = if place.team.is_some() { self.teams_of(user) } else { Arc::from([]) };
        visible_to(place.assignee, place.team, &Viewer { id: user, role: connection.role, teams: &teams })
    }

    /// Sockets that may no longer see a conversation stop following and viewing it.
    pub(super) fn revoke(&self, conversation: ConversationId) {
        let followers: Vec<ConnId> = self
            .inner
            .subscriptions
            .followers
            .get(&conversation)
            .map(|followers| followers.iter().copied().collect())
            .unwrap_or_default();
        let _changing = self.changing();
        for id in followers {
            let Some(connection) = self.inner.connections.get(id) else { continue };
            if !self.may_see(&connection, conversation) {
                self.unfollow(&connection, conversation);
                connection.queue.forget(conversation);
            }
        }
    }
}
