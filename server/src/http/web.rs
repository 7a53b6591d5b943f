//! Serving the web app built by `cargo xtask build-web`:
//!
//! - `/assets/<content hash>/…` — the WASM bundle, its JS glue and styles. The directory name
//!   changes whenever the content does, so these are cached for a year as immutable.
//! - every other GET path outside `/api` — `index.html`, so client-side routes survive a reload;
//!   always revalidated (`no-cache`) so a new release is picked up at once. It carries a strict
//!   Content-Security-Policy: scripts only from Baton itself (plus WebAssembly compilation).
//!
//! When the app has not been built, pages answer 503 with how to build it; the API still works.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::AppError;
use crate::state::AppState;

/// Cache policy of hashed assets.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The page's Content-Security-Policy. `wasm-unsafe-eval` lets the page compile its WebAssembly
/// and nothing else; no inline scripts or styles.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The built app, read once at start.
pub struct WebApp {
    pub dir: PathBuf,
    /// `index.html`, or `None` when the app has not been built.
    index: Option<Vec<u8>>,
}

impl WebApp {
    pub fn load(dir: &Path) -> Self {
        let index = std::fs::read(dir.join("index.html")).ok();
        if index.is_none() {
            tracing::warn!(
                dir = %dir.display(),
                "the web app is not built here: pages answer 503 (run `cargo xtask build-web`, or set BATON_WEB_DIR)"
            );
        }
        WebApp { dir: dir.to_path_buf(), index }
    }

    pub fn is_built(&self) -> bool {
        self.index.is_some()
    }
}

/// The asset files under `dir/assets`, and `index.html` for every other page.
pub fn routes(dir: &Path) -> Router<AppState> {
    let files = ServeDir::new(dir.join("assets")).call_fallback_on_method_not_allowed(true).fallback(
        tower::service_fn(|_request: Request| async {
            // Also the answer to a POST or PUT: assets are only ever read.
            let mut missing = AppError::not_found("No such asset.").into_response();
            // Overrides the immutable policy below: a missing file may appear with the next build.
            missing.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok::<_, std::convert::Infallible>(missing)
        }),
    );
    let assets = Router::new()
        .nest_service("/assets", files)
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)));
    assets.fallback(page)
}

async fn page(State(state): State<AppState>, request: Request) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return AppError::not_found("There is no such page.").into_response();
    }
    let Some(index) = &state.web.index else {
        let body = format!(
            "<!doctype html><title>Baton</title><h1>Baton is running, but its web app is not built</h1>\
             <p>Build it with <code>cargo xtask build-web</code> (or start with <code>cargo xtask demo</code>), \
             or point <code>BATON_WEB_DIR</code> at a built app. Looked in: <code>{}</code></p>",
            html_escape(&state.web.dir.display().to_string())
        );
        let mut response = (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        return response;
    };
    let mut response = Response::new(Body::from(index.clone()));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    response
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
