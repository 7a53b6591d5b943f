//! Server-side sessions. A login creates a random 256-bit token; the browser keeps it in an
//! HttpOnly, SameSite=Lax cookie (Secure when Baton is served over https) and the database keeps
//! only its SHA-256. Every request looks the session up, joined with its user, so disabling a user
//! or deleting the session takes effect on the very next request.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use baton_shared::api::{Role, SECURE_SESSION_COOKIE, SESSION_COOKIE, User};
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::state::AppState;

/// A fresh random session token (64 hex characters).
pub fn new_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| anyhow::anyhow!("random source: {error}"))?;
    Ok(hex::encode(bytes))
}

/// What the database stores for a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The session cookie's name: `__Host-` prefixed whenever it is Secure.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure { SECURE_SESSION_COOKIE } else { SESSION_COOKIE }
}

/// The session token from a `Cookie` header, if any.
pub fn token_from_parts(parts: &Parts, secure: bool) -> Option<String> {
    let name = cookie_name(secure);
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// The `Set-Cookie` value that stores `token` for `ttl`.
pub fn session_cookie(token: &str, ttl: Duration, secure: bool) -> String {
    let name = cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}", ttl.as_secs())
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clearing_cookie(secure: bool) -> String {
    session_cookie("", Duration::ZERO, secure)
}

/// Starts a session for `user`; returns the token for the cookie.
pub async fn start(state: &AppState, user: &User) -> Result<String, AppError> {
    let token = new_token()?;
    let now = state.now();
    let ttl_ms = i64::try_from(state.config.session_ttl.as_millis()).unwrap_or(i64::MAX);
    state.store.create_session(&token_hash(&token), user.id, now, now.saturating_add(ttl_ms)).await?;
    Ok(token)
}

/// The logged-in user of a request. Rejects with 401 `unauthenticated` when there is no valid
/// session (none, expired, logged out, or the user was disabled).
#[derive(Clone, Debug)]
pub struct CurrentUser(pub User);

/// Which login session a request belongs to: a short key derived from the session's token hash,
/// enough to tell a user's sessions (devices, browsers) apart.
pub type SessionKey = u64;

/// The key of the session whose token hashes to `token_hash` (hex).
pub fn session_key(token_hash: &str) -> SessionKey {
    token_hash.get(..16).and_then(|prefix| u64::from_str_radix(prefix, 16).ok()).unwrap_or_default()
}

/// The logged-in user and their session, for what must end with that session (the WebSocket).
#[derive(Clone, Debug)]
pub struct CurrentSession {
    pub user: User,
    pub session: SessionKey,
}

impl FromRequestParts<AppState> for CurrentSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = token_from_parts(parts, state.config.secure_cookies()).ok_or_else(AppError::unauthenticated)?;
        let hash = token_hash(&token);
        let session = state.store.session_user(&hash, state.now()).await?.ok_or_else(AppError::unauthenticated)?;
        Ok(CurrentSession { user: session.user, session: session_key(&hash) })
    }
}

/// The client's IP address, when the server knows it (it does when run by [`crate::run`]; a router
/// driven directly, as with `oneshot`, has no peer).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
        Ok(ClientAddr(peer.map(|info| info.0.ip())))
    }
}

/// The logged-in user, who must be an admin (else 403). Extracted before the body, so a
/// non-admin learns nothing from body validation.
#[derive(Clone, Debug)]
pub struct Admin(pub User);

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        if user.role.at_least(Role::Admin) { Ok(Admin(user)) } else { Err(AppError::forbidden()) }
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = token_from_parts(parts, state.config.secure_cookies()).ok_or_else(AppError::unauthenticated)?;
        let session = state.store.session_user(&token_hash(&token), state.now()).await?;
        session.map(|session| CurrentUser(session.user)).ok_or_else(AppError::unauthenticated)
    }
}

/// Deletes expired sessions every hour, for as long as the server runs.
pub async fn housekeeping(store: std::sync::Arc<dyn crate::store::Store>, clock: crate::clock::Clock) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        match store.delete_expired_sessions(clock.now_ms()).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "expired sessions removed"),
            Err(error) => tracing::warn!(%error, "could not remove expired sessions"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts_with_cookie(cookie: &str) -> Parts {
        let (parts, ()) = Request::builder().header(COOKIE, cookie).body(()).expect("request").into_parts();
        parts
    }

    #[test]
    fn finds_the_session_cookie_among_others() {
        let parts = parts_with_cookie("theme=dark; baton_session=abc123; other=1");
        assert_eq!(token_from_parts(&parts, false).as_deref(), Some("abc123"));
        assert_eq!(token_from_parts(&parts, true), None, "over https only the __Host- cookie counts");
        let secure = parts_with_cookie("baton_session=planted; __Host-baton_session=real");
        assert_eq!(token_from_parts(&secure, true).as_deref(), Some("real"));
        assert_eq!(token_from_parts(&parts_with_cookie("baton_session="), false), None);
        assert_eq!(token_from_parts(&parts_with_cookie("not_baton_session=x"), false), None);
    }

    #[test]
    fn cookies_are_http_only_and_same_site() {
        let cookie = session_cookie("tok", Duration::from_secs(60), false);
        assert_eq!(cookie, "baton_session=tok; Path=/; HttpOnly; SameSite=Lax; Max-Age=60");
        let secure = session_cookie("tok", Duration::from_secs(60), true);
        assert!(secure.starts_with("__Host-baton_session=tok; Path=/;") && secure.ends_with("; Secure"), "{secure}");
        assert!(clearing_cookie(false).contains("Max-Age=0"));
    }

    #[test]
    fn tokens_are_random_and_hashed() -> anyhow::Result<()> {
        let (a, b) = (new_token()?, new_token()?);
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        Ok(())
    }
}
