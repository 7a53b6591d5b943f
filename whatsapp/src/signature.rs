//! The `X-Hub-Signature-256` header (contract §2.2): `"sha256=" + lowercase hex(HMAC-SHA256(app secret, raw
//! body))`. [`verify`] checks it for Baton's webhook endpoint, [`sign`] writes it for the simulator.
//!
//! Both work on the **raw body bytes**. Meta signs the bytes it sends, with non-ASCII text as `\uXXXX`
//! escapes; a body parsed and serialized again has different bytes, so verify first and parse afterwards.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header Meta puts the signature in. (A legacy SHA-1 `X-Hub-Signature` may arrive too; it is ignored.)
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

/// What precedes the hex digest in the header value.
pub const PREFIX: &str = "sha256=";

/// A SHA-256 digest is 32 bytes, written as 64 hex digits.
const DIGEST_HEX_LENGTH: usize = 64;

type HmacSha256 = Hmac<Sha256>;

/// The app secret, keyed into HMAC-SHA256 once (at startup) and reused for every webhook.
///
/// Its `Debug` output never shows the secret, so it can sit inside a config struct that gets logged.
#[derive(Clone)]
pub struct AppSecret {
    keyed: HmacSha256,
}

impl AppSecret {
    /// Keys HMAC-SHA256 with the app secret from the App Dashboard. An empty secret is refused: it always
    /// means a missing setting, and would make every signature trivially forgeable by anyone who guesses that.
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, SecretError> {
        let secret = secret.as_ref();
        if secret.is_empty() {
            return Err(SecretError::Empty);
        }
        // HMAC accepts keys of any length, so the hmac crate never refuses one; the error path only exists
        // because `new_from_slice` is shared with MACs that do have fixed key sizes.
        let keyed = HmacSha256::new_from_slice(secret).map_err(|_| SecretError::Refused)?;
        Ok(Self { keyed })
    }
}

impl fmt::Debug for AppSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("AppSecret(<redacted>)")
    }
}

/// Why an app secret cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the WhatsApp app secret is empty")]
    Empty,
    #[error("the WhatsApp app secret was refused as an HMAC-SHA256 key")]
    Refused,
}

/// The exact `X-Hub-Signature-256` header value Meta would send with `body`.
pub fn sign(secret: &AppSecret, body: &[u8]) -> String {
    let mut mac = secret.keyed.clone();
    mac.update(body);
    format!("{PREFIX}{}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a webhook's `X-Hub-Signature-256` header value (`None` when the request had no such header)
/// against the raw body, in constant time.
///
/// The format checks before the comparison only look at the header itself, never at the expected digest, so
/// they reveal nothing about the secret. Pass the header as bytes (`HeaderValue::as_bytes`) so that a value
/// that is not even UTF-8 is reported as malformed rather than as missing.
pub fn verify(secret: &AppSecret, header: Option<&[u8]>, body: &[u8]) -> Result<(), SignatureError> {
    // An empty value carries no signature at all; pywa treats it like a missing header, and so do we.
    let header = header.filter(|value| !value.is_empty()).ok_or(SignatureError::Missing)?;
    let digits = header.strip_prefix(PREFIX.as_bytes()).ok_or(SignatureError::Malformed(Malformation::Prefix))?;
    if digits.len() != DIGEST_HEX_LENGTH {
        return Err(SignatureError::Malformed(Malformation::Length));
    }
    // The contract specifies lowercase hex; `hex` would also accept uppercase, so check first.
    if !digits.iter().all(|digit| matches!(digit, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(SignatureError::Malformed(Malformation::Digits));
    }
    let mut claimed = [0_u8; DIGEST_HEX_LENGTH / 2];
    hex::decode_to_slice(digits, &mut claimed).map_err(|_| SignatureError::Malformed(Malformation::Digits))?;
    let mut mac = secret.keyed.clone();
    mac.update(body);
    // `verify_slice` compares in constant time (the `subtle` crate underneath).
    mac.verify_slice(&claimed).map_err(|_| SignatureError::Mismatch)
}

/// Why a webhook's signature is refused. Each case has the HTTP status Baton answers with ([`Self::status`]).
///
/// Any non-200 answer makes Meta retry for up to 7 days, which is harmless here: a real Meta delivery
/// always verifies, so only forged or corrupted requests land in these cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the {SIGNATURE_HEADER} header is missing")]
    Missing,
    #[error("the {SIGNATURE_HEADER} header is malformed: {0}")]
    Malformed(Malformation),
    #[error("the {SIGNATURE_HEADER} header does not match the body")]
    Mismatch,
}

impl SignatureError {
    /// 401 for a missing header and 403 otherwise, as pywa answers (contract §2.2). The contract prescribes
    /// nothing for a malformed header; it is a failed authentication like a mismatch, hence 403 too.
    pub fn status(self) -> u16 {
        match self {
            SignatureError::Missing => 401,
            SignatureError::Malformed(_) | SignatureError::Mismatch => 403,
        }
    }
}

/// What is wrong with a header value that is present but not `sha256=` + 64 lowercase hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformation {
    /// It does not start with `sha256=` (for example a `sha1=` value, or `SHA256=`).
    Prefix,
    /// The digest is not exactly 64 digits long (truncated, padded, odd length…).
    Length,
    /// The digest holds something other than lowercase hex digits.
    Digits,
}

impl fmt::Display for Malformation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Malformation::Prefix => "it does not start with `sha256=`",
            Malformation::Length => "the digest is not 64 hex digits long",
            Malformation::Digits => "the digest is not lowercase hex",
        })
    }
}
