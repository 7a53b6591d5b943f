//! The customer-phone page at `/`: plain HTML, CSS and JavaScript embedded in the binary (no build step).
//! It drives the control API under `/_sim` and polls a chat once a second. The page renders data with
//! `textContent` and DOM calls only, never `innerHTML`, so nothing a customer or Baton wrote can run as code.

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::state::Shared;

const PAGE: &str = include_str!("../assets/phone/index.html");
const STYLE: &str = include_str!("../assets/phone/phone.css");
const SCRIPT: &str = include_str!("../assets/phone/phone.js");

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response() }))
        .route(
            "/phone.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response() }),
        )
        .route(
            "/phone.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SCRIPT).into_response() }),
        )
}
