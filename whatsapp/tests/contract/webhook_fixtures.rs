//! Every fixture of the contract (§14) read into exactly the items it means.

use baton_whatsapp::webhook::{
    Context, DeliveryStatus, ErrorData, ErrorDetail, InboundMessage, Item, Location, MediaAttachment, MediaKind,
    MessageKind, Pricing, StatusUpdate,
};
use baton_whatsapp::{fixtures, graph};

use crate::{fixture_origin, items_of};

const ALICE: &str = "15550002222";
const BOB: &str = "15550003333";
/// Outbound wamid A: quoted in 02, reacted to in 11, the subject of statuses 14–16.
const OUTBOUND_A: &str = "wamid.HBgLMTU1NTAwMDIyMjIVAgARGBJBMUIyQzNENEU1RjYwNzE4MjkA";
/// Outbound wamid B: failed in 17.
const OUTBOUND_B: &str = "wamid.HBgLMTU1NTAwMDMzMzMVAgARGBJCOUM4RDdFNkY1QTRCM0MyRDEA";
/// The interactive message whose button Alice tapped in 08; delivered in 20.
const OUTBOUND_BUTTONS: &str = "wamid.HBgLMTU1NTAwMDIyMjIVAgARGBJDMEZGRUUwMDExMjIzM0JFRUYA";
const TEXT_WAMID: &str = "wamid.HBgLMTU1NTAwMDIyMjIVAgASGBQzQTAwMDAwMDAwMDAwMDAwMDAwMQA=";

fn only_message(body: &[u8]) -> InboundMessage {
    match items_of(body).as_slice() {
        [Item::Message(message)] => message.clone(),
        other => panic!("expected exactly one message, got {other:?}"),
    }
}

fn only_status(body: &[u8]) -> StatusUpdate {
    match items_of(body).as_slice() {
        [Item::Status(status)] => status.clone(),
        other => panic!("expected exactly one status, got {other:?}"),
    }
}

fn message(from: &str, name: &str, id: &str, timestamp: i64, kind: MessageKind) -> InboundMessage {
    InboundMessage {
        origin: fixture_origin(),
        id: id.to_owned(),
        from: from.to_owned(),
        from_user_id: None,
        profile_name: Some(name.to_owned()),
        timestamp,
        context: None,
        referral: None,
        kind,
    }
}

fn reply_context(message_id: &str) -> Option<Context> {
    Some(Context {
        from: Some("15550001111".to_owned()),
        message_id: Some(message_id.to_owned()),
        ..Context::default()
    })
}

fn free_service_pricing() -> Option<Pricing> {
    Some(Pricing {
        billable: Some(false),
        pricing_model: Some("PMP".to_owned()),
        kind: Some("free_customer_service".to_owned()),
        category: Some("service".to_owned()),
    })
}

fn status(message_id: &str, status: DeliveryStatus, timestamp: i64, recipient: &str) -> StatusUpdate {
    StatusUpdate {
        origin: fixture_origin(),
        message_id: message_id.to_owned(),
        status,
        timestamp,
        recipient_id: Some(recipient.to_owned()),
        biz_opaque_callback_data: None,
        conversation: None,
        pricing: None,
        errors: Vec::new(),
    }
}

#[test]
fn every_fixture_reads_without_anything_unrecognized_or_unsupported() {
    for (name, body) in fixtures::ALL {
        let items = items_of(body);
        assert!(!items.is_empty(), "{name}");
        for item in items {
            match item {
                Item::Message(message) => {
                    assert!(!matches!(message.kind, MessageKind::Unsupported(_)), "{name}: {message:?}")
                }
                Item::Status(_) => {}
                other => panic!("{name}: unexpected {other:?}"),
            }
        }
    }
}

#[test]
fn text_01() {
    let text = MessageKind::Text { body: "Hi, is my order #4521 shipped yet?".to_owned() };
    assert_eq!(only_message(fixtures::TEXT), message(ALICE, "Alice Example", TEXT_WAMID, 1767258000, text));
}

#[test]
fn duplicate_redelivery_19_is_the_same_message_as_01() {
    assert_eq!(fixtures::DUPLICATE_REDELIVERY_OF_TEXT, fixtures::TEXT);
    let original = only_message(fixtures::TEXT);
    let redelivered = only_message(fixtures::DUPLICATE_REDELIVERY_OF_TEXT);
    assert_eq!(redelivered.id, TEXT_WAMID);
    assert_eq!(redelivered, original);
}

#[test]
fn text_reply_with_context_02() {
    let text = MessageKind::Text { body: "Thanks! Can you also change the delivery address?".to_owned() };
    let id = "wamid.HBgLMTU1NTAwMDIyMjIVAgASGBQzQTAwMDAwMDAwMDAwMDAwMDAwMgA=";
    let expected =
        InboundMessage { context: reply_context(OUTBOUND_A), ..message(ALICE, "Alice Example", id, 1767258600, text) };
    assert_eq!(only_message(fixtures::TEXT_REPLY_WITH_CONTEXT), expected);
}

#[test]
fn image_with_caption_03() {
    let image = MessageKind::Media(MediaAttachment {
        kind: MediaKind::Image,
        id: "1234567890123401".to_owned(),
        mime_type: Some("image/jpeg".to_owned()),
        sha256: Some("DPRX4kpHnwL9TTRUA4n3IPCAfc/5KnViEIFlsmN+qC8=".to_owned()),
        caption: Some("Photo of the damaged box".to_owned()),
        filename: None,
        url: Some(
            "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1234567890123401&ext=1767258700&hash=ATt_fake_hash_image"
                .to_owned(),
        ),
        voice: false,
        animated: false,
    });
    let id = "wamid.HBgLMTU1NTAwMDIyMjIVAgASGBQzQTAwMDAwMDAwMDAwMDAwMDAwMwA=";
    assert_eq!(only_message(fixtures::IMAGE_WITH_CAPTION), message(ALICE, "Alice Example", id, 1767258700, image));
}

#[test]
fn document_04() {
    let document = MessageKind::Media(MediaAttachment {
        kind: MediaKind::Document,
        id: "1234567890123402".to_owned(),
        mime_type: Some("application/pdf".to_owned()),
        sha256: Some("uw5PSUQ3lNkB6Jaf8RvREuNCCKDc3w4e7bSAzJs8cpM=".to_owned()),
        caption: Some("Invoice for March".to_owned()),
        filename: Some("invoice-2026-03.pdf".to_owned()),
        url: None,
        voice: false,
        animated: false,
    });
    let id = "wamid.HBgLMTU1NTAwMDMzMzMVAgASGBQzQTAwMDAwMDAwMDAwMDAwMDAwNAA=";
    assert_eq!(only_message(fixtures::DOCUMENT), message(BOB, "Bob Sample", id, 1767258800, document));
}

#[test]
fn audio_voice_note_05() {
    let audio = MessageKind::Media(MediaAttachment {
        kind: MediaKind::Audio,
        id: "1234567890123403".to_owned(),
        mime_type: Some("audio/ogg; codecs=opus".to_owned()),
        sha256: Some("XDEFSgrk+9t6DX9HGhDgikWTLWYvI4UuZyL5GxTyjO0=".to_owned()),
        caption: None,
        filename: None,
        url: None,
        voice: true,
        animated: false,
    });
    let id = "wamid.HBgLMTU1NTAwMDMzMzMVAgASGBQzQTAwMDAwMDAwMDAwMDAwMDAwNQA=";
    assert_eq!(only_message(fixtures::AUDIO_VOICE_NOTE), message(BOB, "Bob Sample", id, 1767258900, audio));
}

#[test]
fn location_06() {
    let location = MessageKind::Location(Location {
        latitude: 52.520008,
        longitude: 13.404954,
        name: Some("Example Warehouse".to_owned()),
        address: Some("1 Sample Street, Berlin".to_owned()),
        url: Some("https://example.com/warehouse".to_owned()),
    });
    let id = "wamid.HBgLMTU1NTAwMDIyMjIVAgASGBQzQTAwMDAwMDAwMDAwMDAwMDAwNgA=";
    assert_eq!(only_message(fixtures::LOCATION), message(ALICE, "Alice Example", id, 1767259000, location));
}

#[test]
fn interactive_button_reply_08() {
    let reply = MessageKind::ButtonReply { id: "confirm-address".to_owned(), title: "Yes, confirm".to_owned() };
    let id = "wamid.HBgLMTU1NTAwMDIyMjIVAgASGBQzQTAwMDAwMDAwMDAwMDAwMDAwOAA=";
    let expected = InboundMessage {
        context: reply_context(OUTBOUND_BUTTONS),
        ..message(ALICE, "Alice Example", id, 1767259200, reply)
    };
    assert_eq!(only_message(fixtures::INTERACTIVE_BUTTON_REPLY), expected);
}

#[test]
fn reaction_11() {
    let reaction = MessageKind::Reaction { message_id: OUTBOUND_A.to_owned(), emoji: Some("👍".to_owned()) };
    let id = "wamid.HBgLMTU1NTAwMDIyMjIVAgASGBQzQTAwMDAwMDAwMDAwMDAwMDAxMQA=";
    assert_eq!(only_message(fixtures::REACTION), message(ALICE, "Alice Example", id, 1767259500, reaction));
}

#[test]
fn statuses_14_15_16_progress_monotonically() {
    let sent = only_status(fixtures::STATUS_SENT);
    let delivered = only_status(fixtures::STATUS_DELIVERED);
    let read = only_status(fixtures::STATUS_READ);
    assert_eq!(
        sent,
        StatusUpdate { pricing: free_service_pricing(), ..status(OUTBOUND_A, DeliveryStatus::Sent, 1767258300, ALICE) }
    );
    assert_eq!(
        delivered,
        StatusUpdate {
            pricing: free_service_pricing(),
            ..status(OUTBOUND_A, DeliveryStatus::Delivered, 1767258302, ALICE)
        }
    );
    assert_eq!(read, status(OUTBOUND_A, DeliveryStatus::Read, 1767258360, ALICE));

    // Applied in a shuffled order, they end on `read` all the same.
    let mut current = None;
    for update in [&read, &sent, &delivered] {
        current = Some(DeliveryStatus::merge(current, update.status));
    }
    assert_eq!(current, Some(DeliveryStatus::Read));
}

#[test]
fn status_failed_131047_17() {
    let error = ErrorDetail {
        code: 131047,
        title: Some("Re-engagement message".to_owned()),
        message: Some("Re-engagement message".to_owned()),
        error_data: Some(ErrorData {
            details: Some(
                "Message failed to send because more than 24 hours have passed since the customer last replied to \
                 this number."
                    .to_owned(),
            ),
        }),
        href: Some("https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/".to_owned()),
    };
    let failed = only_status(fixtures::STATUS_FAILED_131047);
    assert_eq!(
        failed,
        StatusUpdate { errors: vec![error], ..status(OUTBOUND_B, DeliveryStatus::Failed, 1767263000, BOB) }
    );
    assert!(failed.errors[0].details().is_some_and(|details| details.contains("24 hours")));
    let classification = graph::classify(None, Some(failed.errors[0].code));
    assert_eq!(classification.behaviour, graph::Behaviour::WindowClosed);
}

#[test]
fn mixed_status_and_non_ascii_message_20() {
    let items = items_of(fixtures::MIXED_STATUS_AND_MESSAGE_NON_ASCII);
    let text = MessageKind::Text { body: "Señor, ¿qué tal? — café ☕".to_owned() };
    let id = "wamid.HBgLMTU1NTAwMDIyMjIVAgASGBQzQTAwMDAwMDAwMDAwMDAwMDAyMAA=";
    assert_eq!(
        items,
        vec![
            Item::Status(StatusUpdate {
                pricing: free_service_pricing(),
                ..status(OUTBOUND_BUTTONS, DeliveryStatus::Delivered, 1767259190, ALICE)
            }),
            Item::Message(message(ALICE, "Alice Example", id, 1767259195, text)),
        ]
    );
}
