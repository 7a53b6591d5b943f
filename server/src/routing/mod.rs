//! # Routing: which team's queue a conversation waits in, and who gets it
//!
//! Everything here acts through the conversation domain's operations and the store's
//! transactions, and keeps no state of its own in memory: what a restart or a second node must
//! know (team settings, memberships, the round-robin pointer, waiting conversations) is in the
//! database.
//!
//! - [`refresh_memberships`]: after an admin changes a team, every hub learns who is in which
//!   team (the visibility rule depends on it).
//! - [`router`]: drains the pushing teams' queues (round-robin, balanced, sticky owners) whenever
//!   work may move, and on a sweep.
//! - [`take_next`]: an agent pulls the next conversation of their teams' queues.
//! - [`handover`]: an agent who went offline or away gets waiting work when they come back, and
//!   loses theirs to the queue after the team's grace if they do not.

pub mod handover;
pub mod router;
mod take;

pub use handover::presence_changed;
pub use take::take_next;

use crate::state::AppState;
use crate::store::StoreResult;

/// Reloads every user's teams into the hub, after a team change committed.
pub async fn refresh_memberships(state: &AppState) -> StoreResult<()> {
    state.hub.reload_memberships(state.store.memberships()).await
}
