//! CSRF defence for every state-changing API request (anything but GET, HEAD and OPTIONS),
//! logged in or not — a forged login is an attack too:
//!
//! 1. An `Origin` header, when present, must be one of Baton's public origins (browsers send it on
//!    every cross-origin request and on same-origin POSTs; `null` is refused).
//! 2. `Sec-Fetch-Site: cross-site` is refused (modern browsers say so themselves).
//! 3. The `X-Baton-Csrf` header must be present. A cross-site page cannot add a custom header
//!    without a CORS preflight, which Baton never approves; a plain HTML form cannot add one at all.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use baton_shared::ErrorCode;
use baton_shared::api::CSRF_HEADER;

use crate::error::AppError;
use crate::state::AppState;

pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    match check(&state, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(reason) => {
            tracing::warn!(reason, "request refused by CSRF defence");
            AppError::new(ErrorCode::CsrfRejected, reason).into_response()
        }
    }
}

fn check(state: &AppState, headers: &HeaderMap) -> Result<(), &'static str> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let allowed = origin.to_str().is_ok_and(|origin| state.allows_origin(origin));
        if !allowed {
            return Err("This request comes from a site that is not allowed to change anything here.");
        }
    }
    let fetch_site = headers.get("sec-fetch-site").and_then(|value| value.to_str().ok());
    if fetch_site == Some("cross-site") {
        return Err("Cross-site requests are not allowed to change anything here.");
    }
    let has_token = headers.get(CSRF_HEADER).is_some_and(|value| !value.is_empty());
    if !has_token {
        return Err("State-changing requests must carry the X-Baton-Csrf header.");
    }
    Ok(())
}
