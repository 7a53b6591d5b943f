//! Search across conversations for an actor: the query checked, and the actor's view of the
//! visibility rule handed to the store, which filters inside its statement — so no hit, count or
//! snippet of a conversation the actor may not see ever leaves the database.

use baton_shared::api::Role;
use baton_shared::contacts::ContactListRequest;
use baton_shared::search::{Query, SearchRequest, SearchResults};

use super::{Actor, Refusal};
use crate::state::AppState;
use crate::store::search::SearchScope;

/// Conversations per page, by default and at most.
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 50;
/// Matching customers shown beside the conversations.
const CONTACTS_SHOWN: u32 = 5;

/// The actor as the store's search filters by ([`baton_shared::rules::visible_to`]).
pub fn scope(actor: &Actor) -> SearchScope {
    SearchScope {
        user: actor.id(),
        everything: actor.is_supervisor(),
        lead: actor.role() == Role::Lead,
        teams: actor.teams().to_vec(),
    }
}

/// Searches what `actor` may see.
pub async fn search(state: &AppState, actor: &Actor, request: &SearchRequest) -> Result<SearchResults, Refusal> {
    let query = Query::parse(&request.q);
    if query.is_empty() {
        return Err(Refusal::invalid("Type a word, a name or a number to search for."));
    }
    let limit = request.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Refusal::invalid(format!("limit must be from 1 to {MAX_LIMIT}.")));
    }
    if let (Some(from), Some(to)) = (request.from, request.to)
        && from >= to
    {
        return Err(Refusal::invalid("The date range ends before it starts."));
    }
    let mut results = state.store.search(&scope(actor), &query, request, limit).await?;
    if request.is_unfiltered() {
        let contacts =
            ContactListRequest { q: Some(request.q.clone()), limit: Some(CONTACTS_SHOWN), ..Default::default() };
        results.contacts = crate::contacts::list(state, actor, &contacts).await?.contacts;
    }
    Ok(results)
}
