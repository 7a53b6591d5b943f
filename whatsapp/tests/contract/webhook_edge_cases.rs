//! Shapes the fixtures don't show but the contract allows (§2.3, §3, §4, §5): batches, other fields, every
//! message type, and anything unknown — which must never cost the rest of the payload.

use baton_whatsapp::webhook::{
    self, DeliveryStatus, InboundMessage, Item, MediaKind, MessageKind, ParseError, UnsupportedReason,
};
use serde_json::{Value, json};

use crate::{items_of, only_item};

const METADATA: &str = r#"{"display_phone_number": "15550001111", "phone_number_id": "106000000000001"}"#;

/// A payload with one `messages` change holding `value`, with the fixtures' metadata merged in.
fn payload(value: Value) -> Vec<u8> {
    let mut value = value;
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] = serde_json::from_str(METADATA).expect("metadata is JSON");
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102000000000001", "changes": [{"value": value, "field": "messages"}]}]
    });
    serde_json::to_vec(&body).expect("serializes")
}

/// The one message a single-message payload yields.
fn read_message(message: Value) -> InboundMessage {
    let body = payload(json!({
        "contacts": [{"profile": {"name": "Alice Example"}, "wa_id": "15550002222"}],
        "messages": [message]
    }));
    match items_of(&body).as_slice() {
        [Item::Message(message)] => message.clone(),
        other => panic!("expected one message, got {other:?}"),
    }
}

fn inbound(kind: &str, object: Value) -> Value {
    let mut message = json!({"from": "15550002222", "id": "wamid.EDGE", "timestamp": "1767260000", "type": kind});
    message[kind] = object;
    message
}

#[test]
fn an_unknown_message_type_is_unsupported_with_its_raw_json() {
    let raw = json!({
        "from": "15550002222", "id": "wamid.POLL", "timestamp": "1767260000", "type": "poll",
        "poll": {"question": "Tea or coffee?", "options": ["tea", "coffee"]}, "novelty": true
    });
    let message = read_message(raw.clone());
    assert_eq!(message.id, "wamid.POLL");
    assert_eq!(message.profile_name.as_deref(), Some("Alice Example"));
    let MessageKind::Unsupported(unsupported) = message.kind else { panic!("expected unsupported") };
    assert_eq!(unsupported.message_type, "poll");
    assert_eq!(unsupported.reason, UnsupportedReason::UnknownType);
    assert_eq!(unsupported.raw, raw);
}

#[test]
fn metas_own_unsupported_keeps_its_subtype_and_errors() {
    let raw = json!({
        "from": "15550002222", "id": "wamid.UNSUPPORTED", "timestamp": "1767260000", "type": "unsupported",
        "unsupported": {"type": "poll_creation"},
        "errors": [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
                    "error_data": {"details": "Message type is currently not supported."}}]
    });
    let MessageKind::Unsupported(unsupported) = read_message(raw.clone()).kind else { panic!("unsupported") };
    assert_eq!(unsupported.reason, UnsupportedReason::Reported);
    assert_eq!(unsupported.subtype.as_deref(), Some("poll_creation"));
    assert_eq!(unsupported.errors[0].code, 131051);
    assert_eq!(unsupported.errors[0].details(), Some("Message type is currently not supported."));
    assert_eq!(unsupported.raw, raw);
}

#[test]
fn an_unknown_interactive_subtype_or_an_odd_object_is_unsupported() {
    let flow = inbound("interactive", json!({"type": "nfm_reply", "nfm_reply": {"response_json": "{}"}}));
    let MessageKind::Unsupported(unsupported) = read_message(flow.clone()).kind else { panic!("unsupported") };
    assert_eq!(
        (unsupported.reason, unsupported.subtype.as_deref()),
        (UnsupportedReason::UnknownType, Some("nfm_reply"))
    );
    assert_eq!(unsupported.raw, flow);

    let image_without_id = inbound("image", json!({"mime_type": "image/jpeg"}));
    let MessageKind::Unsupported(unsupported) = read_message(image_without_id.clone()).kind else { panic!() };
    assert_eq!(
        (unsupported.message_type.as_str(), unsupported.reason),
        ("image", UnsupportedReason::UnreadableContent)
    );
    assert_eq!(unsupported.raw, image_without_id);

    let text_as_number = inbound("text", json!({"body": 42}));
    assert!(matches!(read_message(text_as_number).kind, MessageKind::Unsupported(_)));
}

#[test]
fn contacts_join_on_wa_id_not_on_position() {
    let body = payload(json!({
        "contacts": [
            {"profile": {"name": "Bob Sample"}, "wa_id": "15550003333"},
            {"profile": {"name": "Alice Example"}, "wa_id": "15550002222"}
        ],
        "messages": [
            {"from": "15550002222", "id": "wamid.A1", "timestamp": "1767260001", "type": "text", "text": {"body": "a"}},
            {"from": "+15550003333", "id": "wamid.B1", "timestamp": "1767260002", "type": "text", "text": {"body": "b"}},
            {"from": "15550002222", "id": "wamid.A2", "timestamp": "1767260003", "type": "text", "text": {"body": "c"}},
            {"from": "15550004444", "id": "wamid.C1", "timestamp": "1767260004", "type": "text", "text": {"body": "d"}}
        ]
    }));
    let senders: Vec<(String, String, Option<String>)> = items_of(&body)
        .into_iter()
        .map(|item| match item {
            Item::Message(message) => (message.id, message.from, message.profile_name),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    let expected = [
        ("wamid.A1", "15550002222", Some("Alice Example")),
        ("wamid.B1", "15550003333", Some("Bob Sample")),
        ("wamid.A2", "15550002222", Some("Alice Example")),
        ("wamid.C1", "15550004444", None),
    ];
    let expected: Vec<(String, String, Option<String>)> =
        expected.iter().map(|(id, from, name)| (id.to_string(), from.to_string(), name.map(str::to_owned))).collect();
    assert_eq!(senders, expected);
}

#[test]
fn several_entries_and_changes_flatten_in_order_and_other_fields_are_ignored() {
    let metadata: Value = serde_json::from_str(METADATA).expect("metadata is JSON");
    let text = |id: &str| json!({"from": "15550002222", "id": id, "timestamp": "1767260000", "type": "text", "text": {"body": id}});
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "102000000000001", "changes": [
                {"field": "messages", "value": {"metadata": metadata, "messages": [text("wamid.1")]}},
                {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT", "phone_number": "15550001111"}}
            ]},
            {"id": "102000000000002", "changes": [
                {"field": "message_template_status_update", "value": {"event": "APPROVED", "message_template_id": 5}},
                {"field": "messages", "value": {
                    "metadata": {"display_phone_number": "15550009999", "phone_number_id": "106000000000002"},
                    "statuses": [{"id": "wamid.OUT", "status": "played", "timestamp": 1767260009, "recipient_id": "15550002222"}],
                    "messages": [text("wamid.2")]
                }}
            ]}
        ]
    });
    let items = items_of(&serde_json::to_vec(&body).expect("serializes"));
    assert_eq!(items.len(), 5);
    assert!(matches!(&items[0], Item::Message(message) if message.id == "wamid.1"));
    assert!(matches!(&items[1], Item::Ignored(ignored) if ignored.field == "account_update"));
    assert!(matches!(&items[2], Item::Ignored(ignored) if ignored.field == "message_template_status_update"
            && ignored.business_account_id == "102000000000002"));
    let Item::Status(status) = &items[3] else { panic!("a status") };
    assert_eq!((status.status, status.timestamp), (DeliveryStatus::Played, 1767260009));
    assert_eq!(status.origin.phone_number_id, "106000000000002");
    let Item::Message(message) = &items[4] else { panic!("a message") };
    assert_eq!((message.id.as_str(), message.origin.business_account_id.as_str()), ("wamid.2", "102000000000002"));
    assert_eq!(message.profile_name, None, "no contacts in that change");
}

#[test]
fn unreadable_elements_are_kept_raw_and_do_not_cost_their_neighbours() {
    let odd_status = json!({"id": "wamid.OUT", "status": "deleted", "timestamp": "1767260000"});
    let no_wamid = json!({"from": "15550002222", "timestamp": "1767260000", "type": "text", "text": {"body": "?"}});
    let bad_timestamp = json!({"from": "15550002222", "id": "wamid.T", "timestamp": "yesterday", "type": "text", "text": {"body": "?"}});
    let body = payload(json!({
        "statuses": [odd_status.clone(), {"id": "wamid.OUT", "status": "sent", "timestamp": "1767260001"}],
        "messages": [no_wamid.clone(), bad_timestamp.clone(),
                     {"from": "15550002222", "id": "wamid.OK", "timestamp": "1767260002", "type": "text", "text": {"body": "fine"}}]
    }));
    let items = items_of(&body);
    assert_eq!(items.len(), 5);
    let raws: Vec<&Value> = items
        .iter()
        .filter_map(|item| match item {
            Item::Unrecognized(unrecognized) => {
                assert_eq!(unrecognized.phone_number_id.as_deref(), Some("106000000000001"));
                Some(&unrecognized.raw)
            }
            _ => None,
        })
        .collect();
    assert_eq!(raws, vec![&odd_status, &no_wamid, &bad_timestamp]);
    assert!(matches!(&items[1], Item::Status(status) if status.status == DeliveryStatus::Sent));
    assert!(matches!(&items[4], Item::Message(message) if message.id == "wamid.OK"));
}

#[test]
fn a_change_without_metadata_or_with_a_broken_value_is_unrecognized() {
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102000000000001", "changes": [
            {"field": "messages", "value": {"messages": []}},
            {"field": "messages", "value": {"metadata": {"phone_number_id": "106000000000001"}, "messages": {"not": "a list"}}},
            {"field": "messages", "value": "not an object"}
        ]}]
    });
    let items = items_of(&serde_json::to_vec(&body).expect("serializes"));
    assert_eq!(items.len(), 3);
    for item in &items {
        let Item::Unrecognized(unrecognized) = item else { panic!("unrecognized, got {item:?}") };
        assert_eq!(unrecognized.phone_number_id, None);
        assert_eq!(unrecognized.business_account_id, "102000000000001");
    }
}

#[test]
fn value_level_errors_become_error_items() {
    let body = payload(json!({"errors": [{
        "code": 130429, "title": "Rate limit hit", "message": "Rate limit hit",
        "error_data": {"details": "Cloud API message throughput has been reached."},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
    }]}));
    let Item::Error(error) = only_item(&body) else { panic!("an error item") };
    assert_eq!(error.origin.phone_number_id, "106000000000001");
    assert_eq!(error.error.code, 130429);
    assert_eq!(error.error.details(), Some("Cloud API message throughput has been reached."));
}

#[test]
fn removed_reactions_have_no_emoji() {
    for reaction in [json!({"message_id": "wamid.A"}), json!({"message_id": "wamid.A", "emoji": ""})] {
        let kind = read_message(inbound("reaction", reaction)).kind;
        assert_eq!(kind, MessageKind::Reaction { message_id: "wamid.A".to_owned(), emoji: None });
    }
}

#[test]
fn every_other_contract_type_reads() {
    let list = read_message(inbound(
        "interactive",
        json!({"type": "list_reply", "list_reply": {"id": "slot-2", "title": "Tuesday", "description": "9–12"}}),
    ));
    assert_eq!(
        list.kind,
        MessageKind::ListReply { id: "slot-2".into(), title: "Tuesday".into(), description: Some("9–12".into()) }
    );

    let button = read_message(inbound("button", json!({"payload": "TALK_TO_AGENT", "text": "Talk to us"})));
    assert_eq!(
        button.kind,
        MessageKind::TemplateButton { payload: Some("TALK_TO_AGENT".into()), text: "Talk to us".into() }
    );

    let sticker = read_message(inbound(
        "sticker",
        json!({"mime_type": "image/webp", "sha256": "abc=", "id": "777", "animated": true}),
    ));
    let MessageKind::Media(sticker) = sticker.kind else { panic!("media") };
    assert_eq!((sticker.kind, sticker.id.as_str(), sticker.animated), (MediaKind::Sticker, "777", true));

    let video = read_message(inbound("video", json!({"mime_type": "video/mp4", "id": "888", "caption": "unboxing"})));
    let MessageKind::Media(video) = video.kind else { panic!("media") };
    assert_eq!((video.kind, video.caption.as_deref()), (MediaKind::Video, Some("unboxing")));

    let card = json!([{
        "name": {"formatted_name": "Carol Third", "first_name": "Carol"},
        "phones": [{"phone": "+1 555 000 4444", "wa_id": "15550004444", "type": "CELL"}],
        "emails": [{"email": "carol@example.com", "type": "WORK"}],
        "org": {"company": "Example GmbH"}, "birthday": "1990-01-31"
    }]);
    let MessageKind::Contacts(cards) = read_message(inbound("contacts", card)).kind else { panic!("contacts") };
    assert_eq!(cards[0].name.as_ref().and_then(|name| name.formatted_name.as_deref()), Some("Carol Third"));
    assert_eq!(cards[0].phones[0].wa_id.as_deref(), Some("15550004444"));
    assert_eq!(
        cards[0].organization.as_ref().and_then(|organization| organization.company.as_deref()),
        Some("Example GmbH")
    );

    let order = json!({"catalog_id": "cat1", "text": "for Friday", "product_items": [
        {"product_retailer_id": "sku-1", "quantity": 2, "item_price": 9.5, "currency": "EUR"}]});
    let MessageKind::Order(order) = read_message(inbound("order", order)).kind else { panic!("order") };
    assert_eq!((order.product_items[0].quantity, order.product_items[0].item_price), (Some(2.0), Some(9.5)));

    let system = json!({
        "from": "15550002222", "id": "wamid.SYS", "timestamp": "1767260000", "type": "system",
        "system": {"body": "User A changed from 15550002222 to 15550005555", "type": "user_changed_number", "wa_id": "15550005555"}
    });
    let body = payload(json!({"messages": [system]}));
    let Item::Message(system) = only_item(&body) else { panic!("a message") };
    assert_eq!(system.profile_name, None, "system messages come without contacts");
    let MessageKind::System(system) = system.kind else { panic!("system") };
    assert_eq!((system.kind.as_deref(), system.wa_id.as_deref()), (Some("user_changed_number"), Some("15550005555")));
}

#[test]
fn forwarded_flags_referrals_and_numeric_timestamps_are_read() {
    let mut message = inbound("text", json!({"body": "look"}));
    message["timestamp"] = json!(1767260000);
    message["context"] = json!({"frequently_forwarded": true});
    message["referral"] = json!({"source_url": "https://fb.me/ad", "source_type": "ad", "ctwa_clid": "clid-1"});
    message["from_user_id"] = json!("US.13491208655302741918");
    let message = read_message(message);
    assert_eq!(message.timestamp, 1767260000);
    let context = message.context.expect("a context");
    assert!(context.frequently_forwarded && !context.forwarded && context.message_id.is_none());
    assert_eq!(message.referral.and_then(|referral| referral.ctwa_clid).as_deref(), Some("clid-1"));
    assert_eq!(message.from_user_id.as_deref(), Some("US.13491208655302741918"));
}

#[test]
fn v23_statuses_keep_their_conversation() {
    let body = payload(json!({"statuses": [{
        "id": "wamid.OUT", "status": "sent", "timestamp": "1767260000", "recipient_id": "15550002222",
        "biz_opaque_callback_data": "outbox-42",
        "conversation": {"id": "conv-1", "expiration_timestamp": 1767346400, "origin": {"type": "service"}}
    }]}));
    let Item::Status(status) = only_item(&body) else { panic!("a status") };
    let conversation = status.conversation.expect("a conversation");
    assert_eq!(conversation.expiration_timestamp.as_deref(), Some("1767346400"));
    assert_eq!(conversation.origin.and_then(|origin| origin.kind).as_deref(), Some("service"));
    assert_eq!(status.biz_opaque_callback_data.as_deref(), Some("outbox-42"));
}

#[test]
fn bodies_that_are_not_whatsapp_payloads_are_typed_errors() {
    assert!(matches!(
        webhook::parse(b"{\"object\": \"whatsapp_business_account\", \"entry\": ["),
        Err(ParseError::Json(_))
    ));
    assert!(matches!(webhook::parse(b"not json"), Err(ParseError::Json(_))));
    assert!(matches!(webhook::parse(b"[]"), Err(ParseError::Json(_))));
    assert!(matches!(
        webhook::parse(br#"{"object": "page", "entry": []}"#),
        Err(ParseError::UnexpectedObject(object)) if object == "page"
    ));
    let empty = webhook::parse(br#"{"object":"whatsapp_business_account","entry":[]}"#).expect("parses");
    assert!(empty.into_items().is_empty());
}

#[test]
fn payloads_built_from_the_types_read_back() {
    // What the simulator does: build with the wire types, serialize with Meta's escaping, read.
    use baton_whatsapp::webhook::{Change, ChangeValue, Contact, Entry, Message, Metadata, Payload, Profile, Text};
    use baton_whatsapp::{Lenient, escape};
    let message = Message {
        context: None,
        from: "15550002222".into(),
        from_user_id: None,
        id: "wamid.BUILT".into(),
        timestamp: "1767260000".into(),
        kind: "text".into(),
        text: Some(Text { body: "¡Hola! 👋".into() }),
        image: None,
        video: None,
        audio: None,
        document: None,
        sticker: None,
        location: None,
        contacts: None,
        interactive: None,
        button: None,
        reaction: None,
        order: None,
        system: None,
        unsupported: None,
        referral: None,
        errors: None,
    };
    let contact = Contact {
        profile: Some(Profile { name: Some("Alice Example".into()), username: None }),
        wa_id: Some("15550002222".into()),
        ..Contact::default()
    };
    let value = ChangeValue {
        messaging_product: Some("whatsapp".into()),
        metadata: Some(Metadata {
            display_phone_number: Some("15550001111".into()),
            phone_number_id: "106000000000001".into(),
        }),
        contacts: vec![Lenient::new(contact).expect("serializes")],
        messages: vec![Lenient::new(message).expect("serializes")],
        ..ChangeValue::default()
    };
    let payload = Payload {
        object: webhook::OBJECT.into(),
        entry: vec![Entry {
            id: "102000000000001".into(),
            changes: vec![Change { value: Lenient::new(value).expect("serializes"), field: "messages".into() }],
        }],
    };
    let body = escape::to_ascii_json(&payload).expect("serializes");
    assert!(body.contains(r"\u00a1Hola! \ud83d\udc4b"));
    let Item::Message(message) = only_item(body.as_bytes()) else { panic!() };
    assert_eq!(message.kind, MessageKind::Text { body: "¡Hola! 👋".into() });
    assert_eq!(message.profile_name.as_deref(), Some("Alice Example"));
}
