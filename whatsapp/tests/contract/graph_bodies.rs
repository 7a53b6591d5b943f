//! Contract §6 and §10: every request body serializes to the contract's example, reads back, and the
//! responses read as shown.

use baton_whatsapp::graph::{
    self, ButtonAction, ButtonSubType, Component, Content, Currency, DateTime, Interactive, InteractiveHeader,
    InteractiveText, Language, ListAction, ListRow, ListSection, MarkRead, Media, MediaInfo, MediaUploaded,
    MessagesRequest, Parameter, ReplyButton, ReplyOption, SendMessage, SendResponse, SuccessResponse, Template,
};
use baton_whatsapp::webhook::MediaKind;
use serde::Serialize;
use serde_json::{Value, json};

const TO: &str = "+16505551234";
const INBOUND: &str = "wamid.HBgLMTU1NTAwMDIyMjIVAgASGBQzQTAwMDAwMDAwMDAwMDAwMDAwMQA=";

fn as_json<T: Serialize>(body: &T) -> Value {
    serde_json::to_value(body).expect("serializes")
}

/// The common part of §6.2, with the `type` and its object.
fn common(kind: &str, object: Value) -> Value {
    let mut body = json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": TO, "type": kind});
    body[kind] = object;
    body
}

/// Serializes, checks against `expected`, then reads the bytes back as the simulator would.
fn assert_wire(request: MessagesRequest, expected: Value) {
    let bytes = match &request {
        MessagesRequest::Send(send) => serde_json::to_vec(send),
        MessagesRequest::MarkRead(mark) => serde_json::to_vec(mark),
    }
    .expect("serializes");
    let written: Value = serde_json::from_slice(&bytes).expect("valid JSON");
    assert_eq!(written, expected);
    assert_eq!(graph::parse_request(&bytes).expect("reads back"), request);
}

#[test]
fn text() {
    let send = SendMessage::text(TO, "Your order shipped today.", false);
    assert_eq!(send.validate(), Ok(()));
    assert_wire(
        MessagesRequest::Send(send),
        common("text", json!({"body": "Your order shipped today.", "preview_url": false})),
    );
}

#[test]
fn quote_reply_and_callback_data() {
    let send = SendMessage::text(TO, "Yes, we can.", true).reply_to(INBOUND).with_callback_data("outbox-7");
    let mut expected = common("text", json!({"body": "Yes, we can.", "preview_url": true}));
    expected["context"] = json!({"message_id": INBOUND});
    expected["biz_opaque_callback_data"] = json!("outbox-7");
    assert_wire(MessagesRequest::Send(send), expected);
}

#[test]
fn media_by_id_and_by_link() {
    let image = SendMessage::media(TO, MediaKind::Image, Media::id("1003383421387256").with_caption("Label"));
    assert_wire(MessagesRequest::Send(image), common("image", json!({"id": "1003383421387256", "caption": "Label"})));

    let document = SendMessage::media(
        TO,
        MediaKind::Document,
        Media::link("https://example.com/invoice.pdf").with_caption("Invoice").with_filename("invoice.pdf"),
    );
    assert_wire(
        MessagesRequest::Send(document),
        common(
            "document",
            json!({"link": "https://example.com/invoice.pdf", "caption": "Invoice", "filename": "invoice.pdf"}),
        ),
    );

    for (kind, key) in [(MediaKind::Video, "video"), (MediaKind::Audio, "audio"), (MediaKind::Sticker, "sticker")] {
        let send = SendMessage::media(TO, kind, Media::id("42"));
        assert_wire(MessagesRequest::Send(send), common(key, json!({"id": "42"})));
    }
}

#[test]
fn reaction() {
    let send = SendMessage::reaction(TO, INBOUND, "😀");
    assert_wire(MessagesRequest::Send(send), common("reaction", json!({"message_id": INBOUND, "emoji": "😀"})));
}

#[test]
fn template_exactly_as_the_contract_example() {
    let template = Template::new("order_update", Language::new("en_US")).with_components(vec![
        Component::header(vec![Parameter::Image { image: Media::link("https://example.com/header.png") }]),
        Component::body(vec![
            Parameter::text("Alice"),
            Parameter::Currency {
                currency: Currency { fallback_value: "$100.99".into(), code: "USD".into(), amount_1000: 100990 },
            },
            Parameter::DateTime { date_time: DateTime { fallback_value: "February 25, 1977".into() } },
        ]),
        Component::button(ButtonSubType::QuickReply, 0, vec![Parameter::Payload { payload: "TALK_TO_AGENT".into() }]),
    ]);
    let expected = common(
        "template",
        json!({
            "name": "order_update",
            "language": {"code": "en_US", "policy": "deterministic"},
            "components": [
                {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://example.com/header.png"}}]},
                {"type": "body", "parameters": [
                    {"type": "text", "text": "Alice"},
                    {"type": "currency", "currency": {"fallback_value": "$100.99", "code": "USD", "amount_1000": 100990}},
                    {"type": "date_time", "date_time": {"fallback_value": "February 25, 1977"}}
                ]},
                {"type": "button", "sub_type": "quick_reply", "index": "0",
                 "parameters": [{"type": "payload", "payload": "TALK_TO_AGENT"}]}
            ]
        }),
    );
    assert_wire(MessagesRequest::Send(SendMessage::template(TO, template)), expected);
}

#[test]
fn interactive_buttons_and_list() {
    let buttons = Interactive::Button {
        body: InteractiveText { text: "Is this your address?".into() },
        action: ButtonAction {
            buttons: vec![
                ReplyButton::Reply {
                    reply: ReplyOption { id: "confirm-address".into(), title: "Yes, confirm".into() },
                },
                ReplyButton::Reply { reply: ReplyOption { id: "change-address".into(), title: "Change it".into() } },
            ],
        },
    };
    let send = SendMessage::new(TO, Content::Interactive { interactive: buttons });
    assert_eq!(send.validate(), Ok(()));
    assert_wire(
        MessagesRequest::Send(send),
        common(
            "interactive",
            json!({"type": "button", "body": {"text": "Is this your address?"}, "action": {"buttons": [
                {"type": "reply", "reply": {"id": "confirm-address", "title": "Yes, confirm"}},
                {"type": "reply", "reply": {"id": "change-address", "title": "Change it"}}
            ]}}),
        ),
    );

    let list = Interactive::List {
        header: Some(InteractiveHeader::Text { text: "Delivery".into() }),
        body: InteractiveText { text: "Pick a slot".into() },
        footer: None,
        action: ListAction {
            button: "Slots".into(),
            sections: vec![ListSection {
                title: "This week".into(),
                rows: vec![ListRow {
                    id: "slot-2".into(), title: "Tuesday".into(), description: Some("9–12".into())
                }],
            }],
        },
    };
    assert_wire(
        MessagesRequest::Send(SendMessage::new(TO, Content::Interactive { interactive: list })),
        common(
            "interactive",
            json!({"type": "list", "header": {"type": "text", "text": "Delivery"}, "body": {"text": "Pick a slot"},
                   "action": {"button": "Slots", "sections": [{"title": "This week", "rows": [
                       {"id": "slot-2", "title": "Tuesday", "description": "9–12"}]}]}}),
        ),
    );
}

#[test]
fn mark_as_read_and_typing_indicator_exactly_as_the_contract() {
    assert_wire(
        MessagesRequest::MarkRead(MarkRead::new(INBOUND)),
        json!({"messaging_product": "whatsapp", "status": "read", "message_id": INBOUND}),
    );
    assert_wire(
        MessagesRequest::MarkRead(MarkRead::with_typing_indicator(INBOUND)),
        json!({"messaging_product": "whatsapp", "status": "read", "message_id": INBOUND,
               "typing_indicator": {"type": "text"}}),
    );
}

#[test]
fn the_simulator_refuses_what_meta_refuses() {
    let wrong_product = br#"{"messaging_product":"sms","to":"1","type":"text","text":{"body":"x"}}"#;
    assert!(graph::parse_request(wrong_product).is_err());
    let unknown_type = br#"{"messaging_product":"whatsapp","to":"1","type":"hologram","hologram":{}}"#;
    assert!(graph::parse_request(unknown_type).is_err());
    let missing_object = br#"{"messaging_product":"whatsapp","to":"1","type":"text"}"#;
    assert!(graph::parse_request(missing_object).is_err());
    let media_without_source = br#"{"messaging_product":"whatsapp","to":"1","type":"image","image":{"caption":"x"}}"#;
    assert!(graph::parse_request(media_without_source).is_err());
    let bad_read = br#"{"messaging_product":"whatsapp","status":"delivered","message_id":"wamid.X"}"#;
    assert!(graph::parse_request(bad_read).is_err());
    // `recipient_type` defaults to individual when left out.
    let minimal = br#"{"messaging_product":"whatsapp","to":"1","type":"text","text":{"body":"x"}}"#;
    let MessagesRequest::Send(send) = graph::parse_request(minimal).expect("reads") else { panic!("a send") };
    assert_eq!(send.recipient_type, graph::RecipientType::Individual);
}

#[test]
fn validation_beyond_types() {
    let longest = "é".repeat(graph::TEXT_BODY_MAX_CHARS);
    assert_eq!(SendMessage::text(TO, longest.clone(), false).validate(), Ok(()));
    let too_long = SendMessage::text(TO, longest + "!", false).validate().expect_err("too long");
    assert!(too_long.reason.contains("4096"));
    assert!(SendMessage::text(TO, "  ", false).validate().is_err());
    assert!(SendMessage::text("", "hi", false).validate().is_err());
    assert!(SendMessage::reaction(TO, INBOUND, "👍").reply_to(INBOUND).validate().is_err());
    assert!(SendMessage::text(TO, "hi", false).reply_to("").validate().is_err());
    assert!(SendMessage::media(TO, MediaKind::Audio, Media::id("1").with_caption("no")).validate().is_err());
    let four_buttons = Interactive::Button {
        body: InteractiveText { text: "Pick".into() },
        action: ButtonAction {
            buttons: (0..4)
                .map(|index| ReplyButton::Reply { reply: ReplyOption { id: index.to_string(), title: "x".into() } })
                .collect(),
        },
    };
    assert!(SendMessage::new(TO, Content::Interactive { interactive: four_buttons }).validate().is_err());
    assert_eq!(graph::InvalidRequest::CODE, 100);
}

#[test]
fn send_response_as_in_the_contract() {
    let body = r#"{ "messaging_product": "whatsapp",
      "contacts": [ { "input": "+16505551234", "wa_id": "16505551234" } ],
      "messages": [ { "id": "wamid.HBgL..." } ] }"#;
    let response: SendResponse = serde_json::from_str(body).expect("reads");
    assert_eq!(response.message_id(), Some("wamid.HBgL..."));
    assert_eq!(response.contacts[0].wa_id, "16505551234");
    assert_eq!(as_json(&SendResponse::new("+16505551234", "16505551234", "wamid.HBgL...")), {
        serde_json::from_str::<Value>(body).expect("JSON")
    });

    let paced =
        r#"{"messaging_product":"whatsapp","contacts":[],"messages":[{"id":"wamid.T","message_status":"accepted"}]}"#;
    let paced: SendResponse = serde_json::from_str(paced).expect("reads");
    assert_eq!(paced.messages[0].message_status.as_deref(), Some("accepted"));

    let success: SuccessResponse = serde_json::from_str(r#"{"success": true}"#).expect("reads");
    assert!(success.success);
}

#[test]
fn media_metadata_accepts_string_and_integer_sizes() {
    let from_spec = r#"{ "messaging_product": "whatsapp",
      "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1&ext=2&hash=3",
      "mime_type": "image/jpeg", "sha256": "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=",
      "file_size": "303833", "id": "1003383421387256" }"#;
    let info: MediaInfo = serde_json::from_str(from_spec).expect("reads");
    assert_eq!((info.file_size, info.mime_type.as_str(), info.id.as_str()), (303833, "image/jpeg", "1003383421387256"));
    assert_eq!(as_json(&info), serde_json::from_str::<Value>(from_spec).expect("JSON"), "written back as a string");

    let from_pywa = r#"{"url": "https://x", "mime_type": "audio/ogg", "sha256": "ab12", "file_size": 12, "id": "9"}"#;
    let info: MediaInfo = serde_json::from_str(from_pywa).expect("reads");
    assert_eq!(info.file_size, 12);
    assert!(serde_json::from_str::<MediaInfo>(&from_pywa.replace("12,", "\"twelve\",")).is_err());

    let uploaded: MediaUploaded = serde_json::from_str(r#"{"id": "1003383421387256"}"#).expect("reads");
    assert_eq!(uploaded.id, "1003383421387256");
}
