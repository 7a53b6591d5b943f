//! Identifiers shaped like Meta's (contract §0): wamids, numeric media ids, `fbtrace_id`s, conversation ids,
//! plus the base64 encoding they and the media `sha256` fields use.
//!
//! Randomness comes from v4 UUIDs (the operating system's generator underneath): these ids only need to be
//! unique and unguessable enough for a test double, and uuid is already in the workspace.

const STANDARD_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Which way a message travels: the byte Meta's wamids carry for it differs (`0x11` for messages the
/// business sent, `0x12` for messages it received, judging by real ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    FromBusiness,
    FromCustomer,
}

/// 16 random bytes.
pub(crate) fn random_bytes() -> [u8; 16] {
    uuid::Uuid::new_v4().into_bytes()
}

fn random_u64() -> u64 {
    let bytes = random_bytes();
    let mut eight = [0_u8; 8];
    eight.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(eight)
}

/// A wamid in the layout real ones have once decoded: `1c 18 <len> <wa_id> 15 02 00 <direction> 18 <len>
/// <uppercase hex id> 00`, base64 encoded after `wamid.`. Baton must treat it as opaque; looking real
/// (with `=`, `+` or `/` in it now and then) is what catches code that does not.
pub(crate) fn wamid(wa_id: &str, direction: Direction) -> String {
    let random = random_bytes();
    let mut suffix = String::new();
    if direction == Direction::FromCustomer {
        // Inbound ids in the fixtures carry 20 characters starting with "3A"; outbound ones 18.
        suffix.push_str("3A");
    }
    for byte in &random[..9] {
        suffix.push(char::from(HEX_UPPER[usize::from(byte >> 4)]));
        suffix.push(char::from(HEX_UPPER[usize::from(byte & 0x0f)]));
    }
    let wa_id = &wa_id.as_bytes()[..wa_id.len().min(usize::from(u8::MAX))];
    let mut raw = vec![0x1c, 0x18, u8::try_from(wa_id.len()).unwrap_or(u8::MAX)];
    raw.extend_from_slice(wa_id);
    raw.extend_from_slice(&[0x15, 0x02, 0x00]);
    raw.push(match direction {
        Direction::FromBusiness => 0x11,
        Direction::FromCustomer => 0x12,
    });
    raw.push(0x18);
    raw.push(u8::try_from(suffix.len()).unwrap_or(u8::MAX));
    raw.extend_from_slice(suffix.as_bytes());
    raw.push(0x00);
    format!("wamid.{}", base64(&raw))
}

/// A 16-digit numeric media id, like `1003383421387256`.
pub(crate) fn media_id() -> String {
    const SMALLEST: u64 = 1_000_000_000_000_000;
    (SMALLEST + random_u64() % (9 * SMALLEST)).to_string()
}

/// A 15-digit numeric id for templates.
pub(crate) fn template_id() -> String {
    const SMALLEST: u64 = 100_000_000_000_000;
    (SMALLEST + random_u64() % (9 * SMALLEST)).to_string()
}

/// An `fbtrace_id` like `Az8or2yhqkZfEZ-_4Qn_Bam`: 23 URL-safe base64 characters.
pub(crate) fn fbtrace_id() -> String {
    let mut id = encode(&random_bytes(), URL_SAFE_ALPHABET, false);
    id.push_str(&encode(&random_bytes()[..3], URL_SAFE_ALPHABET, false));
    id.truncate(23);
    id
}

/// 32 lowercase hex digits: conversation ids and media download tokens.
pub(crate) fn hex_token() -> String {
    random_bytes().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Standard base64 with padding (what Meta uses for wamids and media hashes).
pub(crate) fn base64(bytes: &[u8]) -> String {
    encode(bytes, STANDARD_ALPHABET, true)
}

fn encode(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut encoded = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let first = chunk[0];
        let second = chunk.get(1).copied().unwrap_or(0);
        let third = chunk.get(2).copied().unwrap_or(0);
        let indexes =
            [first >> 2, ((first & 0x03) << 4) | (second >> 4), ((second & 0x0f) << 2) | (third >> 6), third & 0x3f];
        // A chunk of n bytes yields n + 1 meaningful characters.
        for index in &indexes[..=chunk.len()] {
            encoded.push(char::from(alphabet[usize::from(*index)]));
        }
        if pad {
            for _ in chunk.len()..3 {
                encoded.push('=');
            }
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn wamids_have_the_real_layout() {
        let outbound = wamid("15550002222", Direction::FromBusiness);
        // Same prefix as the fixtures' outbound wamids: the wa_id is encoded first.
        assert!(outbound.starts_with("wamid.HBgLMTU1NTAwMDIyMjIVAgAR"), "{outbound}");
        let inbound = wamid("15550002222", Direction::FromCustomer);
        assert!(inbound.starts_with("wamid.HBgLMTU1NTAwMDIyMjIVAgAS"), "{inbound}");
        assert_ne!(inbound, wamid("15550002222", Direction::FromCustomer));
    }

    #[test]
    fn numeric_ids_have_fixed_lengths() {
        assert_eq!(media_id().len(), 16);
        assert!(media_id().bytes().all(|byte| byte.is_ascii_digit()));
        assert_eq!(template_id().len(), 15);
        assert_eq!(fbtrace_id().len(), 23);
        assert_eq!(hex_token().len(), 32);
    }
}
