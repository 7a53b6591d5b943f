//! The HTTP surface: routes (one module per resource), plus what wraps every request — request
//! ids, tracing, panic recovery, compression, security headers — and the JSON answers for unknown
//! routes and wrong methods.

pub mod auth;
pub mod automation;
pub mod canned;
pub mod contacts;
pub mod conversation_actions;
pub mod conversations;
pub mod csrf;
pub mod extract;
pub mod health;
pub mod media;
pub mod reports;
pub mod routing_rules;
pub mod search;
pub mod team;
pub mod teams;
pub mod uploads;
pub mod users;
pub mod web;

use std::any::Any;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request, Response, header};
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use baton_shared::ErrorCode;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::AppError;
use crate::state::AppState;

/// Largest JSON body the API accepts. Generous for every current endpoint; media uploads will get
/// their own limit on their own route.
pub const API_BODY_LIMIT: usize = 64 * 1024;

/// The whole application. Tests call this with a state of their own.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(auth::routes())
        .merge(users::routes())
        .merge(team::routes())
        .merge(teams::routes())
        .merge(routing_rules::routes())
        .merge(automation::routes())
        .merge(canned::routes())
        .merge(conversations::routes())
        .merge(conversation_actions::routes())
        .merge(media::routes())
        .merge(uploads::routes())
        .merge(search::routes())
        .merge(contacts::routes())
        .merge(reports::routes())
        .fallback(unknown_api_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), csrf::guard))
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT))
        // API answers are personal: never cached by browsers or proxies.
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")));

    Router::new()
        .nest("/api", api)
        .merge(health::routes())
        .merge(crate::ws::routes())
        .merge(crate::whatsapp::webhook::routes())
        .merge(web::routes(&state.web.dir))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(CompressionLayer::new())
                .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
                .layer(security_header(header::REFERRER_POLICY, "same-origin")),
        )
        .with_state(state)
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// One span per request, carrying its id. Only the path is recorded: query strings can carry
/// secrets (webhook verify tokens).
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let request_id =
        request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("-");
    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<axum::body::Body> {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    AppError::Internal(anyhow::anyhow!("handler panicked: {what}")).into_response()
}

async fn unknown_api_route() -> AppError {
    AppError::not_found("There is no such API endpoint.")
}

async fn method_not_allowed() -> AppError {
    AppError::new(ErrorCode::MethodNotAllowed, "This endpoint does not accept that HTTP method.")
}
