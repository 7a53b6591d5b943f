//! The bus: how committed events reach every node's hub. Domain operations publish here after
//! their transaction commits. [`LocalBus`] delivers in-process (one node); a PostgreSQL
//! LISTEN/NOTIFY bus carrying ids will sit behind the same trait when Baton runs on several nodes.

use baton_shared::model::ConversationEvent;

use crate::hub::Hub;

pub trait Bus: Send + Sync + 'static {
    /// Delivers committed events, in order, to every hub.
    fn publish(&self, events: &[ConversationEvent]);
}

/// Delivers to this process's hub.
pub struct LocalBus {
    hub: Hub,
}

impl LocalBus {
    pub fn new(hub: Hub) -> Self {
        LocalBus { hub }
    }
}

impl Bus for LocalBus {
    fn publish(&self, events: &[ConversationEvent]) {
        for event in events {
            self.hub.publish(event);
        }
    }
}
