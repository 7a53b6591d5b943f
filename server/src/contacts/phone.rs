//! Phone numbers as Baton matches contacts by them: E.164, normalized with libphonenumber's rules
//! (the `phonenumber` crate), stored as WhatsApp's user id (the E.164 digits without `+`).

use phonenumber::Mode;

/// The number `text` in E.164 digits (`+55 (11) 98765-4321` → `5511987654321`), or a sentence
/// saying why it is not one. Written with or without `+`, a number is read as international:
/// WhatsApp's ids are, and a contacts file has no country to assume.
pub fn normalize(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("The phone number is missing.".into());
    }
    let international = if trimmed.starts_with('+') {
        trimmed.to_owned()
    } else if let Some(rest) = trimmed.strip_prefix("00") {
        format!("+{rest}")
    } else {
        format!("+{trimmed}")
    };
    let number = phonenumber::parse(None, &international).map_err(|_| {
        format!("“{trimmed}” is not a phone number: write it with its country code, as +55 11 98765 4321.")
    })?;
    if !phonenumber::is_valid(&number) {
        return Err(format!("“{trimmed}” is not a valid number in its country (check the country code and length)."));
    }
    let e164 = number.format().mode(Mode::E164).to_string();
    Ok(e164.trim_start_matches('+').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_normalized_to_e164_digits() {
        assert_eq!(normalize("+55 (11) 98765-4321"), Ok("5511987654321".into()));
        assert_eq!(normalize("5511987654321"), Ok("5511987654321".into()));
        assert_eq!(normalize("0091 98765 43210"), Ok("919876543210".into()));
        assert_eq!(normalize("+1 650-253-0000"), Ok("16502530000".into()));
        assert_eq!(normalize("447911123456"), Ok("447911123456".into()));
        assert!(normalize("447700900123").is_err(), "Ofcom's range for drama is no one's number");
        assert!(normalize("12345").is_err());
        assert!(normalize("call me").is_err());
        assert!(normalize("").is_err());
    }
}
