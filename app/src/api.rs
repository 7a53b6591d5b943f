//! Calls to Baton's REST API. Every state-changing call sends the CSRF header; failures come back
//! as a sentence fit to show the user.

use baton_shared::api::{
    CSRF_HEADER, CannedResponse, CannedResponseRequest, ConversationDetail, ConversationSummary, CreateUserRequest,
    LoginRequest, MAX_UPLOAD_BYTES, Me, MessagePage, TeamMember, UpdateUserRequest, Upload, User,
};
use baton_shared::automation::{AutoReplies, HoursNow, HoursSettings, Versioned};
use baton_shared::contacts::{
    AttributeDefinitions, ContactChange, ContactList, ContactListRequest, ContactPatch, ContactProfile, ContactRecord,
    ImportReport,
};
use baton_shared::csat::CsatSettings;
use baton_shared::menu::Menu;
use baton_shared::reports::{Overview, RecentResponses, ReportRequest, ReportRow};
use baton_shared::routing_rules::{Decision, RuleTest, StoredRules};
use baton_shared::search::{SearchRequest, SearchResults};
use baton_shared::sla::SlaSettings;
use baton_shared::teams::{MembershipsRequest, Team, TeamRequest};
use baton_shared::{ApiError, ErrorCode};
use baton_shared::{ContactId, ConversationId, TeamId, UserId};
use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// A failed call, ready to show.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub code: Option<ErrorCode>,
    pub message: String,
}

impl Failure {
    fn network(error: gloo_net::Error) -> Self {
        Failure { code: None, message: t!("api.unreachable", detail = error).to_string() }
    }
}

async fn failure_of(response: Response) -> Failure {
    match response.json::<ApiError>().await {
        Ok(error) => Failure { code: Some(error.code), message: error.message },
        Err(_) => Failure { code: None, message: t!("api.error", status = response.status()).to_string() },
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

/// Every team with its members (their queues, the team menus).
pub async fn teams() -> Result<Vec<Team>, Failure> {
    get_json("/api/teams").await
}

/// Adds a team (admins).
pub async fn create_team(request: &TeamRequest) -> Result<Team, Failure> {
    send_json(Request::post("/api/teams"), request).await
}

/// Changes a team's settings (admins).
pub async fn update_team(id: TeamId, request: &TeamRequest) -> Result<Team, Failure> {
    send_json(Request::put(&format!("/api/teams/{id}")), request).await
}

/// Replaces a team's members (admins).
pub async fn set_members(id: TeamId, request: &MembershipsRequest) -> Result<Team, Failure> {
    send_json(Request::put(&format!("/api/teams/{id}/members")), request).await
}

/// The routing rules (supervisors and admins).
pub async fn routing_rules() -> Result<StoredRules, Failure> {
    get_json("/api/routing/rules").await
}

/// Saves the routing rules, based on the version read (admins).
pub async fn save_routing_rules(rules: &StoredRules) -> Result<StoredRules, Failure> {
    send_json(Request::put("/api/routing/rules"), rules).await
}

/// What the rules would do with a message.
pub async fn test_routing_rules(test: &RuleTest) -> Result<Option<Decision>, Failure> {
    send_json(Request::post("/api/routing/rules/test"), test).await
}

/// The business hours (supervisors and admins).
pub async fn business_hours() -> Result<Versioned<HoursSettings>, Failure> {
    get_json("/api/automation/hours").await
}

/// Saves the business hours, based on the version read (admins).
pub async fn save_business_hours(hours: &Versioned<HoursSettings>) -> Result<Versioned<HoursSettings>, Failure> {
    send_json(Request::put("/api/automation/hours"), hours).await
}

/// Whether the inbox and each team are open now, and when each next opens.
pub async fn hours_now() -> Result<HoursNow, Failure> {
    get_json("/api/automation/hours/now").await
}

/// The auto-replies (supervisors and admins).
pub async fn auto_replies() -> Result<Versioned<AutoReplies>, Failure> {
    get_json("/api/automation/replies").await
}

/// Saves the auto-replies, based on the version read (admins).
pub async fn save_auto_replies(replies: &Versioned<AutoReplies>) -> Result<Versioned<AutoReplies>, Failure> {
    send_json(Request::put("/api/automation/replies"), replies).await
}

/// The menu bot's menu (supervisors and admins).
pub async fn menu() -> Result<Versioned<Menu>, Failure> {
    get_json("/api/automation/menu").await
}

/// Saves the menu, based on the version read (admins).
pub async fn save_menu(menu: &Versioned<Menu>) -> Result<Versioned<Menu>, Failure> {
    send_json(Request::put("/api/automation/menu"), menu).await
}

/// Service-level targets and auto-resolve (supervisors and admins).
pub async fn sla() -> Result<Versioned<SlaSettings>, Failure> {
    get_json("/api/automation/sla").await
}

/// Saves the targets, based on the version read (admins).
pub async fn save_sla(sla: &Versioned<SlaSettings>) -> Result<Versioned<SlaSettings>, Failure> {
    send_json(Request::put("/api/automation/sla"), sla).await
}

/// The rating request on resolve (supervisors and admins).
pub async fn csat() -> Result<Versioned<CsatSettings>, Failure> {
    get_json("/api/automation/csat").await
}

/// Saves the rating request, based on the version read (admins).
pub async fn save_csat(csat: &Versioned<CsatSettings>) -> Result<Versioned<CsatSettings>, Failure> {
    send_json(Request::put("/api/automation/csat"), csat).await
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

/// `value` for a query string.
fn encode(value: &str) -> String {
    String::from(js_sys::encode_uri_component(value))
}

/// The search box's query: conversations with hits, and matching customers.
pub async fn search(request: &SearchRequest) -> Result<SearchResults, Failure> {
    let mut path = format!("/api/search?q={}", encode(&request.q));
    if let Some(status) = request.status {
        path.push_str(&format!("&status={}", status.as_str()));
    }
    if let Some(team) = request.team {
        path.push_str(&format!("&team={team}"));
    }
    if let Some(direction) = request.direction {
        path.push_str(&format!("&direction={}", direction.as_str()));
    }
    if let Some(label) = &request.label {
        path.push_str(&format!("&label={}", encode(label)));
    }
    get_json(&path).await
}

/// The Contacts page's list.
pub async fn contacts(request: &ContactListRequest) -> Result<ContactList, Failure> {
    let mut path = format!("/api/contacts?sort={}", serde_plain(&request.sort));
    for (name, value) in
        [("q", &request.q), ("label", &request.label), ("attribute", &request.attribute), ("value", &request.value)]
    {
        if let Some(value) = value.as_deref().filter(|value| !value.trim().is_empty()) {
            path.push_str(&format!("&{name}={}", encode(value)));
        }
    }
    if let Some(blocked) = request.blocked {
        path.push_str(&format!("&blocked={blocked}"));
    }
    if let Some(limit) = request.limit {
        path.push_str(&format!("&limit={limit}"));
    }
    if let Some(offset) = request.offset.filter(|offset| *offset > 0) {
        path.push_str(&format!("&offset={offset}"));
    }
    get_json(&path).await
}

/// A report's query string (no `?`): its period, time zone and filters.
pub fn report_query(request: &ReportRequest) -> String {
    let mut query = format!("from={}&to={}", request.from, request.to);
    if let Some(tz) = &request.tz {
        query.push_str(&format!("&tz={}", encode(tz)));
    }
    if let Some(team) = request.team {
        query.push_str(&format!("&team={team}"));
    }
    if let Some(agent) = request.agent {
        query.push_str(&format!("&agent={agent}"));
    }
    if let Some(label) = request.label.as_deref().filter(|label| !label.trim().is_empty()) {
        query.push_str(&format!("&label={}", encode(label)));
    }
    query
}

/// The Reports page's overview.
pub async fn report_overview(request: &ReportRequest) -> Result<Overview, Failure> {
    get_json(&format!("/api/reports/overview?{}", report_query(request))).await
}

/// The first responses of the last hour (the wall's live panel).
pub async fn report_now() -> Result<RecentResponses, Failure> {
    get_json("/api/reports/now").await
}

/// A Reports table: `by` is `agents`, `teams` or `labels`.
pub async fn report_table(by: &str, request: &ReportRequest) -> Result<Vec<ReportRow>, Failure> {
    get_json(&format!("/api/reports/{by}?{}", report_query(request))).await
}

/// A unit enum's wire name (`recent`).
fn serde_plain(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default().trim_matches('"').to_owned()
}

/// A customer's profile.
pub async fn contact(id: ContactId) -> Result<ContactProfile, Failure> {
    get_json(&format!("/api/contacts/{id}")).await
}

/// Edits a customer's record.
pub async fn edit_contact(id: ContactId, patch: &ContactPatch) -> Result<ContactRecord, Failure> {
    send_json(Request::patch(&format!("/api/contacts/{id}")), patch).await
}

/// A customer's audited changes, newest first.
pub async fn contact_changes(id: ContactId) -> Result<Vec<ContactChange>, Failure> {
    get_json(&format!("/api/contacts/{id}/changes")).await
}

/// The contact attributes admins defined.
pub async fn attributes() -> Result<AttributeDefinitions, Failure> {
    get_json("/api/contacts/attributes").await
}

pub async fn save_attributes(definitions: &AttributeDefinitions) -> Result<AttributeDefinitions, Failure> {
    send_json(Request::put("/api/contacts/attributes"), definitions).await
}

/// Sends a CSV file of contacts: the preview, or (`commit`) the import.
pub async fn import_contacts(file: web_sys::File, commit: bool) -> Result<ImportReport, Failure> {
    let response = Request::post(&format!("/api/contacts/import?commit={commit}"))
        .header(CSRF_HEADER, "1")
        .header("content-type", "text/csv")
        .body(file)
        .map_err(Failure::network)?
        .send()
        .await
        .map_err(Failure::network)?;
    answer_of(response).await
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

/// How far an upload is, for the composer: bytes sent of the file's size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    pub sent: f64,
    pub total: f64,
}

/// Uploads a file the agent is about to send, reporting progress as it goes (an
/// `XMLHttpRequest`: `fetch` cannot report upload progress); `done` gets the upload or why it
/// failed. A file over [`MAX_UPLOAD_BYTES`] is refused before anything is sent.
pub fn upload(
    file: web_sys::File,
    on_progress: impl Fn(Progress) + 'static,
    done: impl FnOnce(Result<Upload, Failure>) + 'static,
) {
    if file.size() > MAX_UPLOAD_BYTES as f64 {
        done(Err(Failure { code: Some(ErrorCode::PayloadTooLarge), message: too_large() }));
        return;
    }
    let failed = |what: &str| Failure { code: None, message: t!("api.unreachable", detail = what).to_string() };
    let request = match web_sys::XmlHttpRequest::new() {
        Ok(request) => request,
        Err(_) => return done(Err(failed("this browser cannot upload"))),
    };
    let name = js_sys::encode_uri_component(&file.name());
    let opened = request
        .open("POST", &format!("/api/uploads?filename={name}"))
        .and_then(|()| request.set_request_header(CSRF_HEADER, "1"))
        .and_then(|()| request.set_request_header("content-type", &file.type_()));
    if opened.is_err() {
        return done(Err(failed("the upload could not start")));
    }
    // Called once: by `load` (an answer, good or bad) or `error`/`abort` (none).
    let done =
        std::rc::Rc::new(std::cell::RefCell::new(Some(Box::new(done) as Box<dyn FnOnce(Result<Upload, Failure>)>)));
    let finish = {
        let done = done.clone();
        move |result: Result<Upload, Failure>| {
            if let Some(done) = done.borrow_mut().take() {
                done(result);
            }
        }
    };
    let on_load = {
        let request = request.clone();
        let finish = finish.clone();
        Closure::<dyn FnMut()>::new(move || {
            let status = request.status().unwrap_or(0);
            let text = request.response_text().ok().flatten().unwrap_or_default();
            finish(upload_answer(status, &text));
        })
        .into_js_value()
    };
    let on_error = Closure::<dyn FnMut()>::new(move || finish(Err(failed("the upload was cut off")))).into_js_value();
    let on_progress = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |event: web_sys::ProgressEvent| {
        if event.length_computable() {
            on_progress(Progress { sent: event.loaded(), total: event.total() });
        }
    })
    .into_js_value();
    // The handlers were handed to JavaScript's garbage collector (`into_js_value`): they live
    // exactly as long as the request refers to them.
    request.set_onload(Some(on_load.unchecked_ref()));
    request.set_onerror(Some(on_error.unchecked_ref()));
    request.set_onabort(Some(on_error.unchecked_ref()));
    if let Ok(upload) = request.upload() {
        upload.set_onprogress(Some(on_progress.unchecked_ref()));
    }
    if request.send_with_opt_blob(Some(&file)).is_err()
        && let Some(done) = done.borrow_mut().take()
    {
        done(Err(Failure { code: None, message: t!("api.unreadable_file").to_string() }));
    }
}

/// The sentence for a file over the limit, in megabytes as people say them.
pub fn too_large() -> String {
    t!("api.too_large", mb = MAX_UPLOAD_BYTES / (1024 * 1024)).to_string()
}

/// What `POST /api/uploads` answered: the upload, or its error sentence.
fn upload_answer(status: u16, text: &str) -> Result<Upload, Failure> {
    if (200..300).contains(&status) {
        return serde_json::from_str::<Upload>(text)
            .map_err(|error| Failure { code: None, message: t!("api.unreadable_answer", detail = error).to_string() });
    }
    match serde_json::from_str::<ApiError>(text) {
        Ok(error) => Err(Failure { code: Some(error.code), message: error.message }),
        Err(_) => Err(Failure { code: None, message: t!("api.error", status = status).to_string() }),
    }
}
