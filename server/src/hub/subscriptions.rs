//! What each socket follows: the conversations it opened (it then views them too, and its user is
//! listed among their viewers) and the whole inbox feed. Who may see what is [`super::access`]'s.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use baton_shared::protocol::{ServerMsg, Teammate};
use baton_shared::{ConversationId, UserId};
use dashmap::DashMap;

use super::Hub;
use super::connections::{ConnId, Connection};

/// A conversation's viewers: each user with how many of their sockets view it.
pub(super) type Viewers = HashMap<UserId, (Teammate, usize)>;

#[derive(Default)]
pub(super) struct Subscriptions {
    /// Sockets that opened a conversation (the mirror of each [`Connection`]'s opened set).
    pub(super) followers: DashMap<ConversationId, HashSet<ConnId>>,
    /// Sockets following the whole inbox: supervisors get every conversation, agents those they
    /// may see ([`super::access`]).
    pub(super) inbox: DashMap<ConnId, Arc<Connection>>,
    /// Who views a conversation, with how many of their sockets.
    pub(super) viewers: DashMap<ConversationId, Viewers>,
}

impl Hub {
    /// The socket follows every conversation's events (supervisors).
    pub fn follow_inbox(&self, connection: &Arc<Connection>) {
        let _changing = self.changing();
        self.inner.subscriptions.inbox.insert(connection.id, connection.clone());
    }

    /// The socket follows a conversation and shows its user as viewing it. Returns whether it
    /// was not open already.
    pub fn open(&self, connection: &Connection, conversation: ConversationId) -> bool {
        let _changing = self.changing();
        let subscriptions = &self.inner.subscriptions;
        let viewers = {
            // Held until the socket is both a follower and a viewer: a revocation racing this
            // (from a fan-out) then undoes all of it or none, and leaves no viewer behind.
            let mut opened = connection.opened();
            if !opened.insert(conversation) {
                return false;
            }
            subscriptions.followers.entry(conversation).or_default().insert(connection.id);
            let mut viewers = subscriptions.viewers.entry(conversation).or_default();
            viewers.entry(connection.user.id).or_insert_with(|| (connection.user.clone(), 0)).1 += 1;
            list_viewers(&viewers)
        };
        self.send_to_watchers(conversation, &ServerMsg::Viewers { conversation_id: conversation, viewers }, false);
        true
    }

    /// The socket stops following and viewing a conversation.
    pub fn close(&self, connection: &Connection, conversation: ConversationId) {
        let _changing = self.changing();
        self.unfollow(connection, conversation);
    }

    /// [`Hub::close`], for callers that hold [`Hub::changing`] already.
    pub(super) fn unfollow(&self, connection: &Connection, conversation: ConversationId) {
        // Bound first: the opened set's lock must be let go before the viewers are told.
        let opened = connection.opened().remove(&conversation);
        if opened {
            self.remove_follower(conversation, connection);
        }
    }

    /// A socket going away stops following the inbox and everything it opened.
    pub(super) fn unfollow_all(&self, connection: &Connection) {
        self.inner.subscriptions.inbox.remove(&connection.id);
        let opened: Vec<ConversationId> = connection.opened().drain().collect();
        for conversation in opened {
            self.remove_follower(conversation, connection);
        }
    }

    fn remove_follower(&self, conversation: ConversationId, connection: &Connection) {
        let subscriptions = &self.inner.subscriptions;
        if let Some(mut followers) = subscriptions.followers.get_mut(&conversation) {
            followers.remove(&connection.id);
        }
        subscriptions.followers.remove_if(&conversation, |_, followers| followers.is_empty());
        let viewers = subscriptions.viewers.get_mut(&conversation).map(|mut viewers| {
            if let Some((_, sockets)) = viewers.get_mut(&connection.user.id) {
                *sockets -= 1;
                if *sockets == 0 {
                    viewers.remove(&connection.user.id);
                }
            }
            list_viewers(&viewers)
        });
        subscriptions.viewers.remove_if(&conversation, |_, viewers| viewers.is_empty());
        if let Some(viewers) = viewers {
            self.send_to_watchers(conversation, &ServerMsg::Viewers { conversation_id: conversation, viewers }, false);
        }
    }

    /// Who views a conversation now.
    pub fn viewers(&self, conversation: ConversationId) -> Vec<Teammate> {
        self.inner.subscriptions.viewers.get(&conversation).map(|viewers| list_viewers(&viewers)).unwrap_or_default()
    }
}

fn list_viewers(viewers: &Viewers) -> Vec<Teammate> {
    let mut list: Vec<Teammate> = viewers.values().map(|(teammate, _)| teammate.clone()).collect();
    list.sort_by_key(|teammate| teammate.id);
    list
}
