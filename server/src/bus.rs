//! The bus: how committed events reach every node's hub. Domain operations publish here after
//! their transaction commits. [`LocalBus`] delivers in-process (one node); a PostgreSQL
//! LISTEN/NOTIFY bus carrying ids will sit behind the same trait when Baton runs on several nodes.

use baton_shared::model::{Change, ConversationEvent, ConversationStatus, Direction};

use crate::automation::Automation;

use crate::hub::Hub;
use crate::routing::router::Router;

pub trait Bus: Send + Sync + 'static {
    /// Delivers committed events, in order, to every hub.
    fn publish(&self, events: &[ConversationEvent]);
}

/// Delivers to this process's hub, tells the router where work may now move, and wakes
/// automation when a customer wrote or a conversation was resolved (the job it owes them is
/// stored already).
pub struct LocalBus {
    hub: Hub,
    router: Router,
    automation: Automation,
}

impl LocalBus {
    pub fn new(hub: Hub, router: Router, automation: Automation) -> Self {
        LocalBus { hub, router, automation }
    }
}

impl Bus for LocalBus {
    fn publish(&self, events: &[ConversationEvent]) {
        let before = Router::before(&self.hub, events);
        for event in events {
            self.hub.publish(event);
        }
        self.router.observe(&self.hub, events, &before);
        // What stores automation's jobs: a customer message, a resolve (the rating request).
        let job_stored = events.iter().any(|event| match &event.change {
            Change::MessageAdded { message } => message.direction == Direction::Inbound,
            Change::StatusChanged { status } => *status == ConversationStatus::Resolved,
            _ => false,
        });
        if job_stored {
            self.automation.wake();
        }
    }
}

/// How many times a gap's events are looked for in the store before the events held behind it go
/// out without them.
const GAP_ATTEMPTS: u32 = 5;

/// The gap keeper: an event whose predecessors have not reached the hub within the patience was
/// committed after them, so they are in the store (their publisher failed between commit and
/// publish): read them and publish them, so the held events follow in order. Runs for as long as
/// the server does.
pub async fn fill_gaps(hub: Hub, store: std::sync::Arc<dyn crate::store::Store>) {
    let mut tick = tokio::time::interval(hub.config().gap_patience / 2);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failures: std::collections::HashMap<crate::hub::sequencer::Gap, u32> = Default::default();
    loop {
        tick.tick().await;
        let gaps = hub.gaps();
        failures.retain(|gap, _| gaps.contains(gap));
        for gap in gaps {
            let wanted = i64::try_from(gap.before - gap.after - 1).unwrap_or(i64::MAX);
            match store.events_after(gap.conversation, gap.after, wanted).await {
                Ok(events) if !events.is_empty() => {
                    tracing::warn!(
                        conversation = %gap.conversation, after = gap.after, before = gap.before,
                        "events never published: read from the store"
                    );
                    for event in &events {
                        hub.publish(event);
                    }
                }
                outcome => {
                    let attempts = failures.entry(gap).or_default();
                    *attempts += 1;
                    tracing::error!(
                        conversation = %gap.conversation, after = gap.after, before = gap.before,
                        error = ?outcome.err(), attempts = *attempts, "cannot fill a gap in the live stream"
                    );
                    if *attempts >= GAP_ATTEMPTS {
                        hub.skip_gap(gap);
                    }
                }
            }
        }
    }
}
