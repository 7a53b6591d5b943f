//! The conversations a user may see, read over REST to fill the inbox and a conversation's page:
//! `GET /api/conversations` and `GET /api/conversations/{id}`. What changes afterwards arrives over
//! the WebSocket. An agent is shown the unassigned conversations and their own; a teammate's is
//! answered like one that does not exist.

use std::collections::HashMap;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use baton_shared::ConversationId;
use baton_shared::api::{ConversationDetail, ConversationSummary, HISTORY_PAGE, MessagePage, User};
use baton_shared::model::{Conversation, Message};

use super::extract::{ApiJson, ApiPath};
use crate::conversations::access;
use crate::error::AppError;
use crate::sessions::CurrentUser;
use crate::state::AppState;

/// How many open and pending conversations the list holds at most (they are the work: all of them).
pub const OPEN_LIMIT: i64 = 2000;
/// How many recently active conversations, resolved ones included, are added to them (history).
pub const RECENT_LIMIT: i64 = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/conversations", get(list))
        .route("/conversations/{id}", get(show))
        .route("/conversations/{id}/messages", get(page))
}

/// Newest activity first, each with its newest message.
async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<ApiJson<Vec<ConversationSummary>>, AppError> {
    // Every open conversation, however old its activity, plus the recently resolved ones: a pile
    // of resolved conversations must never push a waiting customer off the list.
    let (open, recent) =
        tokio::try_join!(state.store.conversations(false, OPEN_LIMIT), state.store.conversations(true, RECENT_LIMIT))?;
    let mut seen = std::collections::HashSet::new();
    let unique = open.into_iter().chain(recent).filter(|conversation| seen.insert(conversation.id));
    let mut conversations: Vec<Conversation> = access::filter_visible(&state.actor(&user), unique);
    conversations.sort_by_key(|conversation| {
        std::cmp::Reverse((conversation.last_message_at.unwrap_or(conversation.created_at), conversation.id))
    });
    let ids: Vec<ConversationId> = conversations.iter().map(|conversation| conversation.id).collect();
    let mut last: HashMap<ConversationId, Message> =
        state.store.last_messages(&ids).await?.into_iter().map(|message| (message.conversation_id, message)).collect();
    let summaries = conversations
        .into_iter()
        .map(|conversation| {
            let last_message = last.remove(&conversation.id);
            ConversationSummary { conversation, last_message }
        })
        .collect();
    Ok(ApiJson(summaries))
}

/// The conversation as of its `last_seq`: its newest messages in timeline order among those up to
/// that seq (the later ones come as events after it), its notes and the user's own draft.
async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<ConversationId>,
) -> Result<ApiJson<ConversationDetail>, AppError> {
    // The conversation is read first: what is read after it is at least as new, never older.
    let conversation = visible(&state, &user, id).await?;
    // One more than a page, to learn whether there are earlier ones.
    let newest = state.store.newest_messages(id, conversation.last_seq, i64::from(HISTORY_PAGE) + 1);
    let routing = state.store.routing_history(id, i64::from(HISTORY_PAGE));
    let (mut messages, notes, draft, routing) =
        tokio::try_join!(newest, state.store.notes(id), state.store.draft(id, user.id), routing)?;
    let has_earlier = trim_to_page(&mut messages, HISTORY_PAGE);
    let draft = draft.unwrap_or_default();
    Ok(ApiJson(ConversationDetail { conversation, messages, has_earlier, notes, draft, routing }))
}

#[derive(serde::Deserialize)]
struct PageQuery {
    before_seq: u64,
    limit: Option<u32>,
}

/// The messages placed before the one with seq `before_seq` (the earliest a client holds), for a
/// history read backwards a page at a time. Pages follow the timeline's order, not seq's: a
/// message that arrived late is on the page where it belongs.
async fn page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<ConversationId>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<ApiJson<MessagePage>, AppError> {
    let Query(query) =
        query.map_err(|_| AppError::invalid("Give before_seq as a number (and limit, if any, from 1 to 100)."))?;
    let limit = query.limit.unwrap_or(HISTORY_PAGE);
    if !(1..=HISTORY_PAGE).contains(&limit) {
        return Err(AppError::invalid("limit must be from 1 to 100."));
    }
    visible(&state, &user, id).await?;
    let mut messages = state
        .store
        .messages_before(id, query.before_seq, i64::from(limit) + 1)
        .await?
        .ok_or_else(|| AppError::invalid("before_seq must be the seq of a message in this conversation."))?;
    let has_earlier = trim_to_page(&mut messages, limit);
    Ok(ApiJson(MessagePage { messages, has_earlier }))
}

/// The conversation if the user may see it ([`access::visible`]); one they may not is answered
/// like one that does not exist.
async fn visible(state: &AppState, user: &User, id: ConversationId) -> Result<Conversation, AppError> {
    access::visible(state, &state.actor(user), id).await.map_err(|refusal| match refusal.code {
        baton_shared::ErrorCode::NotFound => AppError::not_found("There is no such conversation."),
        _ => AppError::from(refusal),
    })
}

/// Keeps the newest `page` of `messages` (oldest first, read with one extra); says whether the
/// extra one was there.
fn trim_to_page(messages: &mut Vec<Message>, page: u32) -> bool {
    let excess = messages.len().saturating_sub(page as usize);
    messages.drain(..excess);
    excess > 0
}
