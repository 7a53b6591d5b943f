//! Webhook bodies exactly as contract §2.3 draws them: `{object, entry[{id: WABA, changes[{value{
//! messaging_product, metadata, contacts, messages | statuses}, field: "messages"}]}]}`, written with Meta's
//! `\uXXXX` escaping ([`baton_whatsapp::escape`]).
//!
//! These serialize-only structs mirror `baton_whatsapp::webhook::Payload` on purpose: the crate's reading
//! types wrap elements in `Lenient` (which goes through an unordered JSON map), while a writer wants the
//! keys in Meta's order. The elements themselves are the crate's own types.

use baton_whatsapp::escape::{to_ascii_json, to_ascii_json_pretty};
use baton_whatsapp::webhook::{Contact, MESSAGES_FIELD, Message, Metadata, OBJECT, Status};
use serde::Serialize;

use crate::config::{Config, JsonFormat};

#[derive(Serialize)]
struct Envelope<'a> {
    object: &'static str,
    entry: [Entry<'a>; 1],
}

#[derive(Serialize)]
struct Entry<'a> {
    id: &'a str,
    changes: [Change<'a>; 1],
}

#[derive(Serialize)]
struct Change<'a> {
    value: ChangeValue<'a>,
    field: &'static str,
}

#[derive(Serialize)]
struct ChangeValue<'a> {
    messaging_product: &'static str,
    metadata: Metadata,
    #[serde(skip_serializing_if = "<[Contact]>::is_empty")]
    contacts: &'a [Contact],
    #[serde(skip_serializing_if = "<[Message]>::is_empty")]
    messages: &'a [Message],
    #[serde(skip_serializing_if = "<[Status]>::is_empty")]
    statuses: &'a [Status],
}

/// A webhook carrying customer messages and their senders (joined on `wa_id`).
pub(crate) fn messages(
    config: &Config,
    format: JsonFormat,
    contacts: &[Contact],
    messages: &[Message],
) -> Result<Vec<u8>, serde_json::Error> {
    write(config, format, contacts, messages, &[])
}

/// A webhook carrying delivery statuses (no `contacts`, as in Meta's examples).
pub(crate) fn statuses(config: &Config, format: JsonFormat, statuses: &[Status]) -> Result<Vec<u8>, serde_json::Error> {
    write(config, format, &[], &[], statuses)
}

fn write(
    config: &Config,
    format: JsonFormat,
    contacts: &[Contact],
    messages: &[Message],
    statuses: &[Status],
) -> Result<Vec<u8>, serde_json::Error> {
    let envelope = Envelope {
        object: OBJECT,
        entry: [Entry {
            id: &config.waba_id,
            changes: [Change {
                value: ChangeValue {
                    messaging_product: "whatsapp",
                    metadata: Metadata {
                        display_phone_number: Some(config.display_phone_number.clone()),
                        phone_number_id: config.phone_number_id.clone(),
                    },
                    contacts,
                    messages,
                    statuses,
                },
                field: MESSAGES_FIELD,
            }],
        }],
    };
    let text = match format {
        JsonFormat::Compact => to_ascii_json(&envelope)?,
        // The fixtures are pretty-printed and end in a newline.
        JsonFormat::Pretty => to_ascii_json_pretty(&envelope)? + "\n",
    };
    Ok(text.into_bytes())
}

#[cfg(test)]
mod tests {
    use baton_whatsapp::webhook::{Profile, Text};

    use super::*;

    fn alice_says(body: &str) -> (Vec<Contact>, Vec<Message>) {
        let contact = Contact {
            profile: Some(Profile { name: Some("Alice Example".into()), username: None }),
            wa_id: Some("15550002222".into()),
            ..Contact::default()
        };
        let mut message: Message = serde_json::from_value(serde_json::json!({
            "from": "15550002222",
            "id": "wamid.HBgLMTU1NTAwMDIyMjIVAgASGBQzQTAwMDAwMDAwMDAwMDAwMDAwMQA=",
            "timestamp": "1767258000",
            "type": "text",
        }))
        .expect("a minimal message parses");
        message.text = Some(Text { body: body.into() });
        (vec![contact], vec![message])
    }

    #[test]
    fn pretty_output_reproduces_fixture_01_byte_for_byte() {
        let config = Config::default();
        let (contacts, messages) = alice_says("Hi, is my order #4521 shipped yet?");
        let body = super::messages(&config, JsonFormat::Pretty, &contacts, &messages).expect("serializes");
        assert_eq!(String::from_utf8_lossy(&body), String::from_utf8_lossy(baton_whatsapp::fixtures::TEXT));
    }

    #[test]
    fn non_ascii_is_escaped() {
        let config = Config::default();
        let (contacts, messages) = alice_says("¿Qué tal? 👍");
        let body = super::messages(&config, JsonFormat::Compact, &contacts, &messages).expect("serializes");
        let text = String::from_utf8(body).expect("ASCII");
        assert!(text.is_ascii());
        assert!(text.contains(r"\u00bfQu\u00e9 tal? \ud83d\udc4d"), "{text}");
    }
}
