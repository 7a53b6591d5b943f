//! [`Hub::check_invariants`]: what must hold across the hub's maps whenever no change is halfway
//! done. The hub's unit tests call it after each scenario and the test server after each test; it
//! costs one pass over the maps, so it is cheap enough for both.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError};

use baton_shared::{ConversationId, UserId};

use super::Hub;
use super::connections::{ConnId, Connection};

impl Hub {
    /// Checks that the hub's maps agree with each other; the error names every broken rule.
    ///
    /// - every open socket is filed under its own id, below the next id to be given;
    /// - each user's count of open sockets is the number of their sockets;
    /// - inbox followers are open sockets;
    /// - a conversation's followers are open sockets that have it among their opened ones, and
    ///   every conversation a socket opened lists it among its followers (no empty entries);
    /// - a conversation's viewers are exactly the users of its followers, each counted once per
    ///   socket (no empty entries);
    /// - typing sessions are filed under their own conversation and user, and end by themselves;
    /// - no sequencer lane holds an event at or behind the next seq it lets out;
    /// - no socket's queue holds more unrequested frames than its capacity.
    ///
    /// The maps are read between changes (changes wait meanwhile), so a check during live
    /// traffic is as exact as one at rest. For tests: the server never calls it.
    #[doc(hidden)]
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut broken = Vec::new();
        let sockets = {
            let _no_changes = self.inner.changes.write().unwrap_or_else(PoisonError::into_inner);
            self.check_subscriptions(&mut broken)
        };
        let config = self.inner.config;
        let checks = [
            self.inner.typing.check(tokio::time::Instant::now(), config.typing_timeout),
            self.inner.fanout.sequencer.check(),
        ];
        broken.extend(checks.into_iter().filter_map(Result::err));
        for connection in sockets {
            if let Err(error) = connection.queue.check() {
                broken.push(format!("socket {}: {error}", connection.id));
            }
        }
        if broken.is_empty() { Ok(()) } else { Err(broken.join("; ")) }
    }

    /// The rules between sockets, presence, followers and viewers (with no change under way);
    /// returns the open sockets.
    fn check_subscriptions(&self, broken: &mut Vec<String>) -> Vec<Arc<Connection>> {
        let connections = &self.inner.connections;
        let subscriptions = &self.inner.subscriptions;
        // Cloned out first: no shard stays locked while a socket's own lock is taken.
        let sockets: Vec<(ConnId, Arc<Connection>)> =
            connections.sockets.iter().map(|entry| (*entry.key(), entry.value().clone())).collect();
        let next_id = connections.next_id();
        let mut sockets_per_user: HashMap<UserId, usize> = HashMap::new();
        let mut opened_by: HashMap<ConversationId, Vec<ConnId>> = HashMap::new();
        let by_id: HashMap<ConnId, &Arc<Connection>> = sockets.iter().map(|(id, socket)| (*id, socket)).collect();
        for (id, connection) in &sockets {
            if connection.id != *id || *id >= next_id {
                broken.push(format!("socket {} filed under id {id} (next id {next_id})", connection.id));
            }
            *sockets_per_user.entry(connection.user.id).or_default() += 1;
            for conversation in connection.opened().iter() {
                opened_by.entry(*conversation).or_default().push(*id);
            }
        }

        for entry in connections.presence.iter() {
            let open = sockets_per_user.remove(entry.key()).unwrap_or(0);
            if entry.sockets != open {
                broken.push(format!("user {} counted with {} sockets, has {open}", entry.key(), entry.sockets));
            }
        }
        for (user, open) in sockets_per_user {
            broken.push(format!("user {user} has {open} sockets and no presence"));
        }

        for entry in subscriptions.inbox.iter() {
            let open = by_id.get(entry.key()).is_some_and(|socket| Arc::ptr_eq(socket, entry.value()));
            if !open {
                broken.push(format!("inbox follower {} is not an open socket", entry.key()));
            }
        }

        // Each conversation's viewers, as its followers make them: user → sockets.
        let mut viewers_of: HashMap<ConversationId, HashMap<UserId, usize>> = HashMap::new();
        for entry in subscriptions.followers.iter() {
            let conversation = *entry.key();
            if entry.is_empty() {
                broken.push(format!("conversation {} kept with no followers", conversation.0));
            }
            let mut opened = opened_by.remove(&conversation).unwrap_or_default();
            for id in entry.value() {
                let Some(socket) = by_id.get(id) else {
                    broken.push(format!("follower {id} of conversation {} is not an open socket", conversation.0));
                    continue;
                };
                match opened.iter().position(|opener| opener == id) {
                    Some(index) => {
                        opened.swap_remove(index);
                    }
                    None => broken.push(format!("socket {id} follows conversation {} it did not open", conversation.0)),
                }
                *viewers_of.entry(conversation).or_default().entry(socket.user.id).or_default() += 1;
            }
            for id in opened {
                broken.push(format!("socket {id} opened conversation {} but does not follow it", conversation.0));
            }
        }
        for (conversation, ids) in opened_by {
            for id in ids {
                broken.push(format!("socket {id} opened conversation {} but does not follow it", conversation.0));
            }
        }

        for entry in subscriptions.viewers.iter() {
            let conversation = *entry.key();
            let mut expected = viewers_of.remove(&conversation).unwrap_or_default();
            if entry.is_empty() {
                broken.push(format!("conversation {} kept with no viewers", conversation.0));
            }
            for (user, (teammate, count)) in entry.value() {
                let following = expected.remove(user).unwrap_or(0);
                if teammate.id != *user || *count != following {
                    broken.push(format!(
                        "user {user} counted as viewing conversation {} from {count} sockets, follows it from {following}",
                        conversation.0
                    ));
                }
            }
            for (user, following) in expected {
                broken.push(format!(
                    "user {user} follows conversation {} from {following} sockets and is not a viewer",
                    conversation.0
                ));
            }
        }
        for (conversation, users) in viewers_of {
            for (user, following) in users {
                broken.push(format!(
                    "user {user} follows conversation {} from {following} sockets and is not a viewer",
                    conversation.0
                ));
            }
        }
        sockets.into_iter().map(|(_, socket)| socket).collect()
    }
}
