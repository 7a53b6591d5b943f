//! The search half of the store: documents kept with what they index (in the writer's
//! transaction), and the search itself, which answers only with what the asker may see.

use async_trait::async_trait;
use baton_shared::search::{Query, SearchRequest, SearchResults};
use baton_shared::{TeamId, UserId};

use super::StoreResult;

/// Whose search it is, as the visibility rule needs it ([`baton_shared::rules::visible_to`],
/// which the store's SQL mirrors: a conformance test holds them together).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchScope {
    pub user: UserId,
    /// Supervisors and admins see every conversation.
    pub everything: bool,
    /// Leads also see their teams' conversations assigned to others.
    pub lead: bool,
    pub teams: Vec<TeamId>,
}

#[async_trait]
pub trait SearchStore: Send + Sync {
    /// The conversations `scope` may see with documents matching `query` and `filters`, the one
    /// with the newest hit first, `limit` of them, each with its newest hits.
    async fn search(
        &self,
        scope: &SearchScope,
        query: &Query,
        filters: &SearchRequest,
        limit: u32,
    ) -> StoreResult<SearchResults>;

    /// Indexes up to `limit` messages and up to `limit` notes stored before search existed, the
    /// newest first, looking below `from` (the ids where the previous batch ended; start with
    /// [`Backlog::START`]). Returns where this batch ended, or `None` when nothing is left.
    async fn index_backlog(&self, from: Backlog, limit: i64) -> StoreResult<Option<Backlog>>;
}

/// Where the search backlog's next batch starts: it looks below these ids (a cursor, so no
/// batch reads again what an earlier one indexed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backlog {
    pub message: i64,
    pub note: i64,
}

impl Backlog {
    pub const START: Backlog = Backlog { message: i64::MAX, note: i64::MAX };
}
