//! [`TestClient`]: an HTTP client that keeps Baton's session cookie and sends the CSRF header, like
//! the web app does. Each request can be shaped further (other Origin, no CSRF header…).

use baton_shared::ApiError;
use baton_shared::api::{CSRF_HEADER, LoginRequest, SESSION_COOKIE};
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Clone)]
pub struct TestClient {
    pub http: reqwest::Client,
    pub base: String,
    /// `baton_session=…`, once logged in.
    pub cookie: Option<String>,
}

impl TestClient {
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_default();
        TestClient { http, base: base.to_owned(), cookie: None }
    }

    /// A request with the session cookie (if any) and the CSRF header.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.bare(method, path).header(CSRF_HEADER, "1")
    }

    /// A request with the session cookie (if any) but no CSRF header.
    pub fn bare(&self, method: Method, path: &str) -> RequestBuilder {
        let builder = self.http.request(method, format!("{}{path}", self.base));
        match &self.cookie {
            Some(cookie) => builder.header(COOKIE, cookie),
            None => builder,
        }
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Response> {
        Ok(self.request(Method::GET, path).send().await?)
    }

    pub async fn post<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> anyhow::Result<Response> {
        Ok(self.request(Method::POST, path).json(body).send().await?)
    }

    pub async fn patch<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> anyhow::Result<Response> {
        Ok(self.request(Method::PATCH, path).json(body).send().await?)
    }

    /// Logs in; keeps the session cookie. Fails unless the server answers 200.
    pub async fn login(&mut self, email: &str, password: &str) -> anyhow::Result<Response> {
        let response = self.try_login(email, password).await?;
        anyhow::ensure!(response.status() == StatusCode::OK, "login as {email} answered {}", response.status());
        Ok(response)
    }

    /// Logs in, keeping the cookie when one is set; returns the response whatever it is.
    pub async fn try_login(&mut self, email: &str, password: &str) -> anyhow::Result<Response> {
        let body = LoginRequest { email: email.into(), password: password.into() };
        let response = self.post("/api/auth/login", &body).await?;
        if let Some(cookie) = session_cookie_of(&response) {
            self.cookie = Some(cookie);
        }
        Ok(response)
    }
}

/// `baton_session=…` from a response's `Set-Cookie`, without its attributes.
pub fn session_cookie_of(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .find(|pair| pair.starts_with(&format!("{SESSION_COOKIE}=")))
        .map(str::to_owned)
}

/// Reads a JSON body, failing with the body text when it is not the expected shape.
pub async fn json<T: DeserializeOwned>(response: Response) -> anyhow::Result<T> {
    let text = response.text().await?;
    serde_json::from_str(&text).map_err(|error| anyhow::anyhow!("unexpected body {text:?}: {error}"))
}

/// Checks status and error body `{code, message}` with a non-empty message; returns the error.
pub async fn expect_error(response: Response, status: StatusCode) -> anyhow::Result<ApiError> {
    let actual = response.status();
    let content_type =
        response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let text = response.text().await?;
    anyhow::ensure!(actual == status, "expected {status}, got {actual}: {text}");
    anyhow::ensure!(content_type.starts_with("application/json"), "error is not JSON ({content_type}): {text}");
    let error: ApiError =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("not {{code, message}}: {text} ({e})"))?;
    anyhow::ensure!(!error.message.trim().is_empty(), "empty error message: {text}");
    Ok(error)
}
