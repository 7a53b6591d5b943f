//! Calls to Baton's REST API. Every state-changing call sends the CSRF header; failures come back
//! as a sentence fit to show the user.

use baton_shared::api::{CSRF_HEADER, LoginRequest, Me};
use baton_shared::{ApiError, ErrorCode};
use gloo_net::http::{Request, Response};

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
    let response = Request::post("/api/auth/login")
        .header(CSRF_HEADER, "1")
        .json(&LoginRequest { email, password })
        .map_err(Failure::network)?
        .send()
        .await
        .map_err(Failure::network)?;
    if !response.ok() {
        return Err(failure_of(response).await);
    }
    response.json::<Me>().await.map_err(Failure::network)
}

pub async fn logout() -> Result<(), Failure> {
    let response = Request::post("/api/auth/logout").header(CSRF_HEADER, "1").send().await.map_err(Failure::network)?;
    if response.ok() { Ok(()) } else { Err(failure_of(response).await) }
}
