//! Calls to Baton's REST API. Every state-changing call sends the CSRF header; failures come back
//! as a sentence fit to show the user.

use baton_shared::api::{
    CSRF_HEADER, CannedResponse, CannedResponseRequest, ConversationDetail, ConversationSummary, CreateUserRequest,
    LoginRequest, Me, MessagePage, TeamMember, UpdateUserRequest, Upload, User,
};
use baton_shared::{ApiError, ErrorCode};
use baton_shared::{ConversationId, UserId};
use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;

/// A failed call, ready to show.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub code: Option<ErrorCode>,
    pub message: String,
}

impl Failure {
    fn network(error: gloo_net::Error) -> Self {
        Failure { code: None, message: format!("Cannot reach Baton. Check your connection and try again. ({error})") }
    }
}

async fn failure_of(response: Response) -> Failure {
    match response.json::<ApiError>().await {
        Ok(error) => Failure { code: Some(error.code), message: error.message },
        Err(_) => Failure { code: None, message: format!("Baton answered with an error ({}).", response.status()) },
    }
}

/// The logged-in user, or `None` when nobody is.
pub async fn me() -> Result<Option<Me>, Failure> {
    let response = Request::get("/api/me").send().await.map_err(Failure::network)?;
    if response.status() == 401 {
        return Ok(None);
    }
    if !response.ok() {
        return Err(failure_of(response).await);
    }
    response.json::<Me>().await.map(Some).map_err(Failure::network)
}

pub async fn login(email: String, password: String) -> Result<Me, Failure> {
    send_json(Request::post("/api/auth/login"), &LoginRequest { email, password }).await
}

pub async fn logout() -> Result<(), Failure> {
    let response = Request::post("/api/auth/logout").header(CSRF_HEADER, "1").send().await.map_err(Failure::network)?;
    if response.ok() { Ok(()) } else { Err(failure_of(response).await) }
}

async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, Failure> {
    let response = Request::get(path).send().await.map_err(Failure::network)?;
    if !response.ok() {
        return Err(failure_of(response).await);
    }
    response.json::<T>().await.map_err(Failure::network)
}

async fn answer_of<T: DeserializeOwned>(response: Response) -> Result<T, Failure> {
    if !response.ok() {
        return Err(failure_of(response).await);
    }
    response.json::<T>().await.map_err(Failure::network)
}

/// The inbox list: every conversation the user may see.
pub async fn conversations() -> Result<Vec<ConversationSummary>, Failure> {
    get_json("/api/conversations").await
}

/// One conversation with its history, notes and the user's saved draft.
pub async fn conversation(id: ConversationId) -> Result<ConversationDetail, Failure> {
    get_json(&format!("/api/conversations/{id}")).await
}

/// A page of a conversation's older messages: those before `seq`.
pub async fn messages_before(id: ConversationId, before_seq: u64) -> Result<MessagePage, Failure> {
    get_json(&format!("/api/conversations/{id}/messages?before_seq={before_seq}")).await
}

/// Everyone on the team (names for authors, mentions and the assign menu).
pub async fn team() -> Result<Vec<TeamMember>, Failure> {
    get_json("/api/team").await
}

/// Every account (admins).
pub async fn users() -> Result<Vec<User>, Failure> {
    get_json("/api/users").await
}

pub async fn create_user(request: &CreateUserRequest) -> Result<User, Failure> {
    send_json(Request::post("/api/users"), request).await
}

pub async fn update_user(id: UserId, request: &UpdateUserRequest) -> Result<User, Failure> {
    send_json(Request::patch(&format!("/api/users/{id}")), request).await
}

/// The team's canned responses, by title.
pub async fn canned_responses() -> Result<Vec<CannedResponse>, Failure> {
    get_json("/api/canned-responses").await
}

/// Adds a canned response (supervisors and admins).
pub async fn create_canned(request: &CannedResponseRequest) -> Result<CannedResponse, Failure> {
    send_json(Request::post("/api/canned-responses"), request).await
}

/// Changes a canned response's title or text (supervisors and admins).
pub async fn update_canned(id: i64, request: &CannedResponseRequest) -> Result<CannedResponse, Failure> {
    send_json(Request::put(&format!("/api/canned-responses/{id}")), request).await
}

/// Deletes a canned response (supervisors and admins).
pub async fn delete_canned(id: i64) -> Result<(), Failure> {
    let response = Request::delete(&format!("/api/canned-responses/{id}"))
        .header(CSRF_HEADER, "1")
        .send()
        .await
        .map_err(Failure::network)?;
    if response.ok() { Ok(()) } else { Err(failure_of(response).await) }
}

/// A state-changing call with a JSON body (and the CSRF header), answered with JSON.
async fn send_json<T: DeserializeOwned>(
    request: gloo_net::http::RequestBuilder,
    body: &impl serde::Serialize,
) -> Result<T, Failure> {
    let response = request
        .header(CSRF_HEADER, "1")
        .json(body)
        .map_err(Failure::network)?
        .send()
        .await
        .map_err(Failure::network)?;
    answer_of(response).await
}

/// Uploads a file the agent is about to send.
pub async fn upload(file: web_sys::File) -> Result<Upload, Failure> {
    let name = js_sys::encode_uri_component(&file.name());
    let response = Request::post(&format!("/api/uploads?filename={name}"))
        .header(CSRF_HEADER, "1")
        .header("content-type", &file.type_())
        .body(file)
        .map_err(Failure::network)?
        .send()
        .await
        .map_err(Failure::network)?;
    answer_of(response).await
}
