//! What every JSON text entering Baton goes through before it is read: REST bodies
//! ([`crate::http::extract::ApiJson`]), socket frames ([`crate::ws`]) and WhatsApp webhooks
//! ([`crate::whatsapp::ingest`]).
//!
//! **U+0000 and lone surrogates become U+FFFD.** PostgreSQL cannot store NUL in text (SQLite can),
//! and serde_json cannot decode a UTF-16 surrogate escape without its pair (`\ud83d` alone: a
//! message cut in the middle of an emoji), so a customer's message holding either was lost. One
//! rule for both databases: the character is kept visible as the replacement character, and
//! nothing is refused or lost for it. JSON can only carry these as escapes (a raw control
//! character inside a string is invalid JSON; raw bytes are UTF-8), so the escapes are rewritten
//! in place, before any string is decoded: every string, whichever field it lands in, is covered
//! at once.

use std::borrow::Cow;

/// The replacement: U+FFFD, as long as the escape it replaces, so nothing else in the text moves.
const REPLACEMENT_ESCAPE: &[u8] = b"\\ufffd";
/// `\uXXXX`.
const ESCAPE_LENGTH: usize = 6;

/// `json` with every `\u0000` escape and every unpaired surrogate escape replaced by `\ufffd`;
/// borrowed when there is none.
pub fn clean_json(json: &[u8]) -> Cow<'_, [u8]> {
    let replaced = escapes_to_replace(json);
    if replaced.is_empty() {
        return Cow::Borrowed(json);
    }
    let mut cleaned = json.to_vec();
    for at in replaced {
        cleaned[at..at + ESCAPE_LENGTH].copy_from_slice(REPLACEMENT_ESCAPE);
    }
    Cow::Owned(cleaned)
}

/// Where the escapes [`clean_json`] replaces start.
fn escapes_to_replace(json: &[u8]) -> Vec<usize> {
    let mut found = Vec::new();
    let mut at = 0;
    while at < json.len() {
        if json[at] != b'\\' {
            at += 1;
            continue;
        }
        // An escape. `\\u0000` is an escaped backslash followed by the letters "u0000", which is
        // why whole escapes are skipped rather than searched.
        match escaped_unit(json, at) {
            None => at += 2,
            Some(0) | Some(0xDC00..=0xDFFF) => {
                found.push(at);
                at += ESCAPE_LENGTH;
            }
            Some(0xD800..=0xDBFF) if matches!(escaped_unit(json, at + ESCAPE_LENGTH), Some(0xDC00..=0xDFFF)) => {
                at += 2 * ESCAPE_LENGTH;
            }
            Some(0xD800..=0xDBFF) => {
                found.push(at);
                at += ESCAPE_LENGTH;
            }
            Some(_) => at += ESCAPE_LENGTH,
        }
    }
    found
}

/// The UTF-16 unit of a `\uXXXX` escape starting at `at`, if there is one.
fn escaped_unit(json: &[u8], at: usize) -> Option<u16> {
    let escape = json.get(at..at + ESCAPE_LENGTH)?;
    if escape[0] != b'\\' || escape[1] != b'u' {
        return None;
    }
    let hex = std::str::from_utf8(&escape[2..]).ok()?;
    u16::from_str_radix(hex, 16).ok().filter(|_| hex.bytes().all(|byte| byte.is_ascii_hexdigit()))
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
        String::from_utf8_lossy(&clean_json(json.as_bytes())).into_owned()
    }

    #[test]
    fn nul_escapes_become_replacement_characters() {
        assert_eq!(cleaned(r#"{"a\u0000":"x\u0000y\u0000"}"#), r#"{"a\ufffd":"x\ufffdy\ufffd"}"#);
        let decoded: serde_json::Value = serde_json::from_slice(&clean_json(br#"["x\u0000y"]"#)).unwrap_or_default();
        assert_eq!(decoded, serde_json::json!(["x\u{fffd}y"]));
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        assert!(serde_json::from_str::<String>(r#""\ud83d""#).is_err(), "why: serde_json refuses them");
        assert_eq!(
            cleaned(r#"["cut \ud83d", "\uDE00 alone", "\ud83d\u0041"]"#),
            r#"["cut \ufffd", "\ufffd alone", "\ufffd\u0041"]"#
        );
        assert_eq!(cleaned(r#"["\ude00\ud83d"]"#), r#"["\ufffd\ufffd"]"#, "a pair the wrong way round");
        let decoded: Vec<String> = serde_json::from_slice(&clean_json(br#"["cut \ud83d"]"#)).unwrap_or_default();
        assert_eq!(decoded, ["cut \u{fffd}"]);
    }

    #[test]
    fn other_text_is_left_alone() {
        for untouched in [
            r#"{"a":"\u00e9 \"quoted\" \\ \n"}"#,
            r#"{"a":"\ud83d\ude00 \uD83D\uDE00"}"#,
            r#"{"a":"\\u0000 \\ud800"}"#,
            r#"{"a":"\u00"}"#,
            r#"{"a":"\u+000"}"#,
        ] {
            assert!(matches!(clean_json(untouched.as_bytes()), Cow::Borrowed(_)), "{untouched}");
        }
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
