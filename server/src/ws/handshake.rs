//! The WebSocket opening handshake (RFC 6455 §4.2), done here rather than by axum's extractor so
//! that the socket task owns the raw connection: it writes its frames itself, several per system
//! call ([`super::wire`]), and tungstenite only reads.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use hyper::upgrade::OnUpgrade;

use crate::error::AppError;

/// A valid upgrade request: the client's key and the connection to take over once answered.
pub struct Handshake {
    key: HeaderValue,
    on_upgrade: OnUpgrade,
}

/// Why a request is not a WebSocket handshake, said in the error's message.
struct NotAHandshake(&'static str);

impl From<NotAHandshake> for AppError {
    fn from(NotAHandshake(why): NotAHandshake) -> AppError {
        AppError::invalid(format!("Not a WebSocket handshake: {why}"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Handshake {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Handshake::read(parts)?)
    }
}

impl Handshake {
    fn read(parts: &mut Parts) -> Result<Handshake, NotAHandshake> {
        if parts.method != Method::GET {
            return Err(NotAHandshake("the method must be GET"));
        }
        if !header_has_token(&parts.headers, header::CONNECTION, "upgrade") {
            return Err(NotAHandshake("the Connection header must include `upgrade`"));
        }
        if !header_has_token(&parts.headers, header::UPGRADE, "websocket") {
            return Err(NotAHandshake("the Upgrade header must be `websocket`"));
        }
        if parts.headers.get(header::SEC_WEBSOCKET_VERSION).is_none_or(|version| version != "13") {
            return Err(NotAHandshake("Sec-WebSocket-Version must be 13"));
        }
        let key = parts
            .headers
            .get(header::SEC_WEBSOCKET_KEY)
            .cloned()
            .ok_or(NotAHandshake("the Sec-WebSocket-Key header is missing"))?;
        if !is_sixteen_bytes_in_base64(key.as_bytes()) {
            return Err(NotAHandshake("Sec-WebSocket-Key must be 16 bytes in base64"));
        }
        let on_upgrade =
            parts.extensions.remove::<OnUpgrade>().ok_or(NotAHandshake("this connection cannot be upgraded"))?;
        Ok(Handshake { key, on_upgrade })
    }

    /// The `101 Switching Protocols` answer, and the connection it hands over once sent.
    pub fn accept(self) -> (Response, OnUpgrade) {
        let accept = tungstenite::handshake::derive_accept_key(self.key.as_bytes());
        let mut response = Response::new(axum::body::Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        // Base64 is always a valid header value; the fallback is never taken.
        headers.insert(
            header::SEC_WEBSOCKET_ACCEPT,
            HeaderValue::from_str(&accept).unwrap_or_else(|_| HeaderValue::from_static("")),
        );
        (response, self.on_upgrade)
    }
}

/// Whether `key` is 16 bytes in base64 (RFC 6455 §4.1): 22 characters of the alphabet and `==`.
fn is_sixteen_bytes_in_base64(key: &[u8]) -> bool {
    key.len() == 24
        && key.ends_with(b"==")
        && key[..22].iter().all(|byte| byte.is_ascii_alphanumeric() || *byte == b'+' || *byte == b'/')
}

/// Whether a comma-separated header holds `token`, in any case.
fn header_has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value.to_str().is_ok_and(|value| value.split(',').any(|part| part.trim().eq_ignore_ascii_case(token)))
    })
}

#[cfg(test)]
mod tests {
    use super::is_sixteen_bytes_in_base64;

    #[test]
    fn the_key_is_sixteen_bytes_in_base64() {
        assert!(is_sixteen_bytes_in_base64(b"dGhlIHNhbXBsZSBub25jZQ=="), "RFC 6455's example");
        for bad in [&b""[..], b"dGhlIHNhbXBsZSBub25jZQ", b"dGhlIHNhbXBsZSBub25jZQ=x", b"dGhlIHNhbXBsZSBub25j*Q=="] {
            assert!(!is_sixteen_bytes_in_base64(bad), "{}", String::from_utf8_lossy(bad));
        }
    }
}
