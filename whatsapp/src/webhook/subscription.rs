//! The GET verification handshake (contract §1): Meta calls
//! `GET <callback>?hub.mode=subscribe&hub.challenge=<random>&hub.verify_token=<token>` and expects 200 with
//! the challenge echoed byte for byte as the body. Meta sends no webhooks until this succeeds.

/// The literal query keys (dots included; only PHP turns them into underscores).
pub const MODE_PARAMETER: &str = "hub.mode";
pub const VERIFY_TOKEN_PARAMETER: &str = "hub.verify_token";
pub const CHALLENGE_PARAMETER: &str = "hub.challenge";

/// The only mode Meta sends.
pub const SUBSCRIBE: &str = "subscribe";

/// Checks the handshake's query values against the configured verify token and returns the challenge to
/// answer with (status 200, body exactly this text).
///
/// The challenge is returned as the text it was, never parsed as a number: Meta's pages disagree on
/// whether it is "a random string" or "an int". The token comparison takes the same time wherever the
/// first difference is, and an empty configured token accepts nothing.
pub fn verify<'query>(
    mode: Option<&str>,
    verify_token: Option<&str>,
    challenge: Option<&'query str>,
    expected_token: &str,
) -> Result<&'query str, SubscriptionError> {
    if mode != Some(SUBSCRIBE) {
        return Err(SubscriptionError::WrongMode);
    }
    let token = verify_token.unwrap_or_default();
    if expected_token.is_empty() || !constant_time_equal(token.as_bytes(), expected_token.as_bytes()) {
        return Err(SubscriptionError::TokenMismatch);
    }
    challenge.ok_or(SubscriptionError::MissingChallenge)
}

/// Compares without stopping at the first difference. (The length itself is not secret enough to hide.)
fn constant_time_equal(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len() && left.iter().zip(right).fold(0_u8, |difference, (a, b)| difference | (a ^ b)) == 0
}

/// Why a verification request is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    #[error("hub.mode is not `subscribe`")]
    WrongMode,
    #[error("hub.verify_token does not match the configured verify token")]
    TokenMismatch,
    #[error("hub.challenge is missing")]
    MissingChallenge,
}

impl SubscriptionError {
    /// Meta only asks for "a 400-level status"; 403 is what pywa and most implementations answer.
    pub fn status(self) -> u16 {
        403
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_the_challenge_verbatim() {
        let challenge = verify(Some("subscribe"), Some("s3cret"), Some("0123456789"), "s3cret");
        assert_eq!(challenge, Ok("0123456789"));
        // A challenge that looks like a number with leading zeros must come back unchanged.
        assert_eq!(verify(Some("subscribe"), Some("s3cret"), Some("007"), "s3cret"), Ok("007"));
    }

    #[test]
    fn refuses_wrong_mode_token_or_missing_challenge() {
        assert_eq!(verify(Some("unsubscribe"), Some("t"), Some("c"), "t"), Err(SubscriptionError::WrongMode));
        assert_eq!(verify(None, Some("t"), Some("c"), "t"), Err(SubscriptionError::WrongMode));
        assert_eq!(verify(Some("subscribe"), Some("x"), Some("c"), "t"), Err(SubscriptionError::TokenMismatch));
        assert_eq!(verify(Some("subscribe"), Some("tt"), Some("c"), "t"), Err(SubscriptionError::TokenMismatch));
        assert_eq!(verify(Some("subscribe"), None, Some("c"), "t"), Err(SubscriptionError::TokenMismatch));
        assert_eq!(verify(Some("subscribe"), Some(""), Some("c"), ""), Err(SubscriptionError::TokenMismatch));
        assert_eq!(verify(Some("subscribe"), Some("t"), None, "t"), Err(SubscriptionError::MissingChallenge));
        assert_eq!(SubscriptionError::TokenMismatch.status(), 403);
    }
}
