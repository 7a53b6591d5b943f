//! What every JSON text entering Baton goes through before it is read: REST bodies
//! ([`crate::http::extract::ApiJson`]), socket frames ([`crate::ws`]) and WhatsApp webhooks
//! ([`crate::whatsapp::ingest`]).
//!
//! **U+0000 becomes U+FFFD.** PostgreSQL cannot store NUL in text (SQLite can), so one rule for
//! both databases: the character is kept visible as the replacement character, and nothing is
//! refused or lost for it (a customer's message above all). JSON can only carry NUL as the
//! escape `\u0000` (a raw control character inside a string is invalid JSON), so the escape is
//! rewritten in place, before any string is decoded: every string, whichever field it lands in,
//! is covered at once.

use std::borrow::Cow;

/// The escape JSON writes NUL as.
const NUL_ESCAPE: &[u8] = b"\\u0000";
/// Its replacement: U+FFFD, the same length, so nothing else in the text moves.
const REPLACEMENT_ESCAPE: &[u8] = b"\\ufffd";

/// `json` with every `\u0000` escape replaced by `\ufffd`; borrowed when there is none.
pub fn json_without_nul(json: &[u8]) -> Cow<'_, [u8]> {
    if !json.windows(NUL_ESCAPE.len()).any(|window| window == NUL_ESCAPE) {
        return Cow::Borrowed(json);
    }
    let mut cleaned = json.to_vec();
    let mut at = 0;
    while at < cleaned.len() {
        if cleaned[at] != b'\\' {
            at += 1;
            continue;
        }
        // An escape: `\\u0000` is an escaped backslash followed by the letters "u0000", which is
        // why the character after each backslash is skipped rather than searched.
        if cleaned.get(at..at + NUL_ESCAPE.len()) == Some(NUL_ESCAPE) {
            cleaned[at..at + NUL_ESCAPE.len()].copy_from_slice(REPLACEMENT_ESCAPE);
        }
        at += 2;
    }
    Cow::Owned(cleaned)
}

/// Whether `json` is an object (its first non-blank character is `{`). Requests are objects:
/// serde would otherwise read a struct from an array (`["supervisor"]` as a user patch).
pub fn is_json_object(json: &[u8]) -> bool {
    json.iter().find(|byte| !matches!(byte, b' ' | b'\t' | b'\n' | b'\r')) == Some(&b'{')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cleaned(json: &str) -> String {
        String::from_utf8_lossy(&json_without_nul(json.as_bytes())).into_owned()
    }

    #[test]
    fn nul_escapes_become_replacement_characters() {
        assert_eq!(cleaned(r#"{"a\u0000":"x\u0000y\u0000"}"#), r#"{"a\ufffd":"x\ufffdy\ufffd"}"#);
        let decoded: serde_json::Value =
            serde_json::from_slice(&json_without_nul(br#"["x\u0000y"]"#)).unwrap_or_default();
        assert_eq!(decoded, serde_json::json!(["x\u{fffd}y"]));
    }

    #[test]
    fn other_text_is_left_alone() {
        assert!(matches!(json_without_nul(br#"{"a":"\u00e9"}"#), Cow::Borrowed(_)));
        // An escaped backslash followed by the letters u0000 is not NUL.
        assert_eq!(cleaned(r#"{"a":"\\u0000"}"#), r#"{"a":"\\u0000"}"#);
        assert_eq!(cleaned(r#"{"a":"\\\u0000"}"#), r#"{"a":"\\\ufffd"}"#);
        assert_eq!(cleaned(r#"{"a":"\"\u0000"}"#), r#"{"a":"\"\ufffd"}"#);
    }

    #[test]
    fn only_objects_are_objects() {
        assert!(is_json_object(b" \n{\"a\":1}"));
        for not_an_object in [&b"[\"t\",\"b\"]"[..], b"\"text\"", b"1", b"null", b"", b"  "] {
            assert!(!is_json_object(not_an_object), "{:?}", String::from_utf8_lossy(not_an_object));
        }
    }
}
