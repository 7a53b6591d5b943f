//! The conversation operations over REST — claim, release, take over, transfer, assign, team,
//! priority, status, labels, notes and replies — for tools and integrations. Each handler only parses, calls the
//! same domain operation the WebSocket request calls ([`crate::conversations`]), and answers with
//! what it returned, or its refusal as `{code, message}` with the code's status.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, patch, post, put};
use baton_shared::api::{
    AssignRequest, LabelsRequest, NoteRequest, PriorityRequest, ReplyRequest, StatusRequest, TeamMoveRequest,
    TransferRequest,
};
use baton_shared::model::{Claim, Conversation, Message, Note};
use baton_shared::{ConversationId, NoteId};

use super::extract::{ApiJson, ApiPath};
use crate::conversations::replies::{self, Sending};
use crate::conversations::{assignment, claims, notes};
use crate::error::AppError;
use crate::sessions::CurrentUser;
use crate::state::AppState;
use crate::store::routing::Triage;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/conversations/{id}/claim", post(claim).delete(release))
        .route("/conversations/{id}/take-over", post(take_over))
        .route("/conversations/{id}/transfer", post(transfer))
        .route("/conversations/{id}/assignee", put(assign))
        .route("/conversations/{id}/team", put(set_team))
        .route("/conversations/{id}/priority", put(set_priority))
        .route("/conversations/{id}/status", put(set_status))
        .route("/conversations/{id}/labels", patch(edit_labels))
        .route("/conversations/{id}/notes", post(add_note))
        .route("/conversations/{id}/replies", post(reply))
        .route("/queue/take-next", post(take_next))
        .route("/notes/{id}", put(edit_note))
        .route("/notes/{id}", delete(delete_note))
}

type Answer<T> = Result<ApiJson<T>, AppError>;

async fn claim(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<ConversationId>,
) -> Answer<Claim> {
    Ok(ApiJson(claims::claim(&state, &state.actor(&user), id).await?))
}

async fn release(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<ConversationId>,
) -> Result<StatusCode, AppError> {
    claims::release(&state, &state.actor(&user), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn take_over(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<ConversationId>,
) -> Answer<Claim> {
    Ok(ApiJson(claims::take_over(&state, &state.actor(&user), id).await?))
}

async fn transfer(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<TransferRequest>,
) -> Answer<Claim> {
    Ok(ApiJson(claims::transfer(&state, &state.actor(&user), id, request.to).await?))
}

async fn assign(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<AssignRequest>,
) -> Answer<Conversation> {
    let actor = state.actor(&user);
    Ok(ApiJson(assignment::assign(&state, &actor, id, request.assignee, request.note).await?))
}

async fn set_team(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<TeamMoveRequest>,
) -> Answer<Conversation> {
    let triage = Triage { team: Some(request.team), priority: None };
    Ok(ApiJson(assignment::triage(&state, &state.actor(&user), id, triage).await?))
}

async fn set_priority(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<PriorityRequest>,
) -> Answer<Conversation> {
    let triage = Triage { team: None, priority: Some(request.priority) };
    Ok(ApiJson(assignment::triage(&state, &state.actor(&user), id, triage).await?))
}

async fn take_next(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Answer<Conversation> {
    Ok(ApiJson(crate::routing::take_next(&state, &state.actor(&user)).await?))
}

async fn set_status(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<StatusRequest>,
) -> Answer<Conversation> {
    Ok(ApiJson(assignment::change_status(&state, &state.actor(&user), id, request.status, request.until).await?))
}

async fn edit_labels(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<LabelsRequest>,
) -> Answer<Conversation> {
    let actor = state.actor(&user);
    Ok(ApiJson(assignment::edit_labels(&state, &actor, id, &request.add, &request.remove).await?))
}

async fn add_note(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<NoteRequest>,
) -> Result<(StatusCode, ApiJson<Note>), AppError> {
    let note = notes::add(&state, &state.actor(&user), id, &request.body).await?;
    Ok((StatusCode::CREATED, ApiJson(note)))
}

async fn edit_note(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<NoteId>,
    ApiJson(request): ApiJson<NoteRequest>,
) -> Answer<Note> {
    Ok(ApiJson(notes::edit(&state, &state.actor(&user), id, &request.body, request.base_version).await?))
}

async fn delete_note(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<NoteId>,
) -> Result<StatusCode, AppError> {
    notes::delete(&state, &state.actor(&user), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn reply(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<ReplyRequest>,
) -> Result<(StatusCode, ApiJson<Message>), AppError> {
    let ReplyRequest { body, idempotency_key, seen_seq, force, reply_to } = request;
    let sending = Sending { idempotency_key, seen_seq, force };
    let message = replies::text(&state, &state.actor(&user), id, body, reply_to, sending).await?;
    Ok((StatusCode::CREATED, ApiJson(message)))
}
