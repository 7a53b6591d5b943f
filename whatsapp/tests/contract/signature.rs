//! Contract §2.2: the test vectors, and every way a signature must be refused.

use baton_whatsapp::fixtures;
use baton_whatsapp::signature::{self, AppSecret, Malformation, SecretError, SignatureError};

const SECRET: &str = "test_app_secret";
const EMPTY_ENTRY_BODY: &[u8] = br#"{"object":"whatsapp_business_account","entry":[]}"#;
const EMPTY_ENTRY_SIGNATURE: &str = "sha256=dec6a680679a968e7e0319355b23599cbfc54502c0784668e9618baa0c633756";
const TEXT_SIGNATURE: &str = "sha256=ec0e210aa677799fe5d636ce3e1afbbbdf0e30b5c455273b7dac72f553473e7f";
const NON_ASCII_SIGNATURE: &str = "sha256=9a4e577c08e30566d96be10fc025044016cf2906fcb420721724e62e7ef800a1";

fn secret() -> AppSecret {
    AppSecret::new(SECRET).expect("a non-empty secret")
}

fn check(header: &str, body: &[u8]) -> Result<(), SignatureError> {
    signature::verify(&secret(), Some(header.as_bytes()), body)
}

#[test]
fn every_contract_vector_signs_and_verifies() {
    assert_eq!(fixtures::TEXT.len(), 989);
    assert_eq!(fixtures::TEXT.last(), Some(&b'\n'));
    assert_eq!(fixtures::MIXED_STATUS_AND_MESSAGE_NON_ASCII.len(), 1787);
    let vectors: [(&[u8], &str); 3] = [
        (EMPTY_ENTRY_BODY, EMPTY_ENTRY_SIGNATURE),
        (fixtures::TEXT, TEXT_SIGNATURE),
        (fixtures::MIXED_STATUS_AND_MESSAGE_NON_ASCII, NON_ASCII_SIGNATURE),
    ];
    for (body, expected) in vectors {
        assert_eq!(signature::sign(&secret(), body), expected);
        assert_eq!(check(expected, body), Ok(()));
    }
    // A redelivery is the same bytes, so it carries the same signature.
    assert_eq!(check(TEXT_SIGNATURE, fixtures::DUPLICATE_REDELIVERY_OF_TEXT), Ok(()));
}

#[test]
fn a_raw_utf8_body_verifies() {
    let body = "{\"text\":\"Señor, ¿qué tal? — café ☕ 👍\"}".as_bytes();
    assert!(!body.is_ascii());
    let header = signature::sign(&secret(), body);
    assert_eq!(check(&header, body), Ok(()));
}

#[test]
fn a_missing_or_empty_header_is_401() {
    assert_eq!(signature::verify(&secret(), None, EMPTY_ENTRY_BODY), Err(SignatureError::Missing));
    assert_eq!(check("", EMPTY_ENTRY_BODY), Err(SignatureError::Missing));
    assert_eq!(SignatureError::Missing.status(), 401);
}

#[test]
fn forged_and_wrong_secret_signatures_mismatch_with_403() {
    let forged = format!("sha256={}", "0123456789abcdef".repeat(4));
    assert_eq!(check(&forged, EMPTY_ENTRY_BODY), Err(SignatureError::Mismatch));
    let other_secret = AppSecret::new("another_app_secret").expect("a non-empty secret");
    let signed_elsewhere = signature::sign(&other_secret, EMPTY_ENTRY_BODY);
    assert_eq!(check(&signed_elsewhere, EMPTY_ENTRY_BODY), Err(SignatureError::Mismatch));
    // One flipped digit.
    let flipped = EMPTY_ENTRY_SIGNATURE.replace("dec6", "dec7");
    assert_eq!(check(&flipped, EMPTY_ENTRY_BODY), Err(SignatureError::Mismatch));
    assert_eq!(SignatureError::Mismatch.status(), 403);
}

#[test]
fn an_altered_body_mismatches() {
    let mut body = fixtures::TEXT.to_vec();
    let position = body.iter().position(|&byte| byte == b'#').expect("the order number sign");
    body[position + 1] = b'9';
    assert_eq!(check(TEXT_SIGNATURE, &body), Err(SignatureError::Mismatch));
    assert_eq!(check(TEXT_SIGNATURE, &fixtures::TEXT[..fixtures::TEXT.len() - 1]), Err(SignatureError::Mismatch));
}

#[test]
fn a_reserialized_body_mismatches() {
    // The classic bug: parse, serialize again, verify. The `\u` escapes become raw UTF-8 and the bytes change.
    let value: serde_json::Value =
        serde_json::from_slice(fixtures::MIXED_STATUS_AND_MESSAGE_NON_ASCII).expect("the fixture is JSON");
    let reserialized = serde_json::to_vec_pretty(&value).expect("serializes");
    assert_eq!(check(NON_ASCII_SIGNATURE, &reserialized), Err(SignatureError::Mismatch));
}

#[test]
fn malformed_headers_are_refused_with_403() {
    let digits = &EMPTY_ENTRY_SIGNATURE["sha256=".len()..];
    let cases = [
        (format!("sha1={}", &digits[..40]), Malformation::Prefix),
        (format!("SHA256={digits}"), Malformation::Prefix),
        (digits.to_owned(), Malformation::Prefix),
        (format!(" sha256={digits}"), Malformation::Prefix),
        (format!("sha256={}", &digits[..63]), Malformation::Length),
        (format!("sha256={}", &digits[..32]), Malformation::Length),
        (format!("sha256={digits}0"), Malformation::Length),
        (format!("sha256={digits} "), Malformation::Length),
        (format!("sha256={}", digits.to_uppercase()), Malformation::Digits),
        (format!("sha256={}g", &digits[..63]), Malformation::Digits),
    ];
    for (header, malformation) in cases {
        let refusal = check(&header, EMPTY_ENTRY_BODY);
        assert_eq!(refusal, Err(SignatureError::Malformed(malformation)), "{header:?}");
        assert_eq!(refusal.map_err(SignatureError::status), Err(403));
    }
    let not_utf8 = [b"sha256=".as_slice(), &[0xff; 64]].concat();
    assert_eq!(
        signature::verify(&secret(), Some(&not_utf8), EMPTY_ENTRY_BODY),
        Err(SignatureError::Malformed(Malformation::Digits))
    );
}

#[test]
fn the_secret_is_checked_and_never_printed() {
    assert_eq!(AppSecret::new("").map(|_| ()), Err(SecretError::Empty));
    assert_eq!(format!("{:?}", secret()), "AppSecret(<redacted>)");
}
