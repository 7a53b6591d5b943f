//! JSON written the way Meta writes webhook bodies: pure ASCII, every non-ASCII character as a lowercase
//! `\uXXXX` escape, characters beyond the Basic Multilingual Plane (emoji) as a UTF-16 surrogate pair
//! (👍 → `\ud83d\udc4d`). Contract §2.2 and the fixtures.
//!
//! The simulator needs this to send realistic bytes: a signature over such a body only verifies when the
//! receiver hashes the raw bytes, which is exactly the mistake these bodies are meant to catch. `/` is left
//! as it is: the contract's fixtures write URLs with plain slashes and say nothing about escaping them.

use serde::Serialize;

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Compact JSON (no whitespace) with non-ASCII escaped.
pub fn to_ascii_json<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    serde_json::to_string(value).map(|json| escape_non_ascii(&json))
}

/// Pretty JSON (two-space indent, `"key": value`, like the fixtures) with non-ASCII escaped. The fixtures
/// also end in a newline; add one if you want that.
pub fn to_ascii_json_pretty<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(value).map(|json| escape_non_ascii(&json))
}

/// Rewrites a JSON text so that it holds only ASCII.
///
/// This is correct for any valid JSON text without looking at its structure: outside string literals
/// JSON only allows ASCII, so every non-ASCII character sits inside a string, where `\uXXXX` means the
/// same character.
pub fn escape_non_ascii(json: &str) -> String {
    let mut escaped = String::with_capacity(json.len());
    for character in json.chars() {
        if character.is_ascii() {
            escaped.push(character);
        } else {
            let mut units = [0_u16; 2];
            for unit in character.encode_utf16(&mut units) {
                escaped.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    escaped.push(char::from(HEX_DIGITS[usize::from((*unit >> shift) & 0xf)]));
                }
            }
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn escapes_like_the_fixtures() {
        // The text body of fixture 20 and the emoji of fixture 11, as they appear in the files.
        assert_eq!(
            escape_non_ascii("Señor, ¿qué tal? — café ☕"),
            r"Se\u00f1or, \u00bfqu\u00e9 tal? \u2014 caf\u00e9 \u2615"
        );
        assert_eq!(escape_non_ascii("👍"), r"\ud83d\udc4d");
    }

    #[test]
    fn output_is_ascii_and_parses_back_to_the_same_value() {
        let value = json!({
            "ключ": "значение",
            "emoji": "🙂 👍🏽 🇩🇪",
            "mixed": ["Señor", "日本語", "a/b", "tab\tquote\"backslash\\", "\u{2028}\u{7f}"],
            "number": 1.5,
        });
        for json in [to_ascii_json(&value), to_ascii_json_pretty(&value)] {
            let json = json.expect("a JSON value always serializes");
            assert!(json.is_ascii(), "{json}");
            let back: Value = serde_json::from_str(&json).expect("the escaped text is valid JSON");
            assert_eq!(back, value);
        }
    }

    #[test]
    fn leaves_slashes_and_ascii_alone() {
        let json = to_ascii_json(&json!({"url": "https://example.com/a?b=c"})).expect("serializes");
        assert_eq!(json, r#"{"url":"https://example.com/a?b=c"}"#);
    }

    #[test]
    fn pretty_layout_matches_the_fixtures() {
        let json = to_ascii_json_pretty(&json!({"text": {"body": "café"}})).expect("serializes");
        assert_eq!(json, "{\n  \"text\": {\n    \"body\": \"caf\\u00e9\"\n  }\n}");
    }
}
