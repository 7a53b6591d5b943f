//! Customers writing in: every type of CONTRACT §3 becomes a signed, ASCII-escaped, contract-shaped webhook
//! that `baton_whatsapp::webhook::parse` reads back as the expected item.

use std::time::Duration;

use baton_simulator::{Config, Customer, Inbound, WebhookOptions};
use baton_whatsapp::webhook::{
    ContactCard, ContactName, ContactPhone, Item, MediaKind, MessageKind, UnsupportedReason,
};

use crate::support::{self, ALICE, BOB};

#[tokio::test]
async fn a_text_is_signed_over_its_exact_bytes_with_unicode_escaped() {
    let (simulator, receiver) = support::start().await;
    let customer = Customer::new(ALICE, "José Ñúñez 😀");

    let receipt = simulator.send(&customer, Inbound::text("¿Qué tal? 👍")).await.expect("sent");
    assert!(receipt.delivery.acknowledged(), "{receipt:?}");

    let webhook = receiver.next().await;
    assert_eq!(webhook.content_type.as_deref(), Some("application/json"));
    let text = webhook.text();
    assert!(text.is_ascii());
    assert!(text.contains(r#""name":"Jos\u00e9 \u00d1\u00fa\u00f1ez \ud83d\ude00""#), "{text}");
    assert!(text.contains(r#""body":"\u00bfQu\u00e9 tal? \ud83d\udc4d""#), "{text}");
    assert!(text.starts_with(r#"{"object":"whatsapp_business_account","entry":[{"id":"102000000000001","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"106000000000001"},"contacts":[{"profile":"#), "{text}");
    assert!(text.ends_with(r#"}]},"field":"messages"}]}]}"#), "{text}");

    let message = webhook.message();
    assert_eq!(message.id, receipt.message_id());
    assert!(message.id.starts_with("wamid."));
    assert_eq!(message.from, ALICE);
    assert_eq!(message.profile_name.as_deref(), Some("José Ñúñez 😀"));
    assert_eq!(message.origin.phone_number_id, "106000000000001");
    assert_eq!(message.kind, MessageKind::Text { body: "¿Qué tal? 👍".to_owned() });

    // The simulator recorded the same bytes and Baton's 200.
    let delivery = simulator.next_delivery().await.expect("recorded");
    assert_eq!(delivery.body, webhook.body);
    assert_eq!(Some(delivery.signature.clone()), webhook.signature);
    assert!(delivery.acknowledged());
    assert!(simulator.window_open(ALICE), "writing opens the 24-hour window");
}

#[tokio::test]
async fn every_inbound_type_reads_back_as_the_expected_item() {
    let (simulator, receiver) = support::start().await;
    let alice = Customer::new(ALICE, "Alice Example");
    let business_message = "wamid.HBgLMTU1NTAwMDIyMjIVAgARGBJDMEZGRUUwMDExMjIzM0JFRUYA";

    let card = ContactCard {
        name: Some(ContactName { formatted_name: Some("Bob Builder".into()), ..ContactName::default() }),
        phones: vec![ContactPhone {
            phone: Some("+1 555 000 3333".into()),
            wa_id: Some(BOB.into()),
            kind: Some("CELL".into()),
        }],
        ..ContactCard::default()
    };
    let cases: Vec<(Inbound, Expectation)> = vec![
        (
            Inbound::quote_reply("Yes", business_message),
            Box::new(|kind| matches!(kind, MessageKind::Text { body } if body == "Yes")),
        ),
        (
            Inbound::image(Some("The box")),
            Box::new(|kind| media(kind, MediaKind::Image, "image/png") && caption(kind, "The box")),
        ),
        (Inbound::Video { caption: None }, Box::new(|kind| media(kind, MediaKind::Video, "video/mp4"))),
        (
            Inbound::Sticker { animated: true },
            Box::new(|kind| {
                media(kind, MediaKind::Sticker, "image/webp")
                    && matches!(kind, MessageKind::Media(media) if media.animated)
            }),
        ),
        (
            Inbound::document("invoice.pdf", Some("Invoice")),
            Box::new(|kind| {
                media(kind, MediaKind::Document, "application/pdf")
                    && matches!(kind, MessageKind::Media(media) if media.filename.as_deref() == Some("invoice.pdf"))
            }),
        ),
        (
            Inbound::voice_note(),
            Box::new(|kind| {
                media(kind, MediaKind::Audio, "audio/ogg; codecs=opus")
                    && matches!(kind, MessageKind::Media(media) if media.voice)
            }),
        ),
        (
            Inbound::Location {
                latitude: 52.52, longitude: 13.405, name: Some("Café Einstein".into()), address: None
            },
            Box::new(
                |kind| matches!(kind, MessageKind::Location(location) if location.latitude == 52.52 && location.name.as_deref() == Some("Café Einstein")),
            ),
        ),
        (
            Inbound::Contacts { cards: vec![card.clone()] },
            Box::new(move |kind| matches!(kind, MessageKind::Contacts(cards) if cards == std::slice::from_ref(&card))),
        ),
        (
            Inbound::button_reply(business_message, "confirm", "Yes, confirm"),
            Box::new(
                |kind| matches!(kind, MessageKind::ButtonReply { id, title } if id == "confirm" && title == "Yes, confirm"),
            ),
        ),
        (
            Inbound::ListReply {
                context: business_message.into(),
                id: "row-2".into(),
                title: "Tomorrow".into(),
                description: Some("9–12 h".into()),
            },
            Box::new(
                |kind| matches!(kind, MessageKind::ListReply { id, description, .. } if id == "row-2" && description.as_deref() == Some("9–12 h")),
            ),
        ),
        (
            Inbound::TemplateButton {
                context: business_message.into(),
                payload: "TALK_TO_AGENT".into(),
                text: "Talk to an agent".into(),
            },
            Box::new(
                |kind| matches!(kind, MessageKind::TemplateButton { payload, text } if payload.as_deref() == Some("TALK_TO_AGENT") && text == "Talk to an agent"),
            ),
        ),
        (
            Inbound::reaction(business_message, Some("👍")),
            Box::new(|kind| matches!(kind, MessageKind::Reaction { emoji, .. } if emoji.as_deref() == Some("👍"))),
        ),
        (
            Inbound::reaction(business_message, None),
            Box::new(
                |kind| matches!(kind, MessageKind::Reaction { emoji: None, message_id } if message_id == "wamid.HBgLMTU1NTAwMDIyMjIVAgARGBJDMEZGRUUwMDExMjIzM0JFRUYA"),
            ),
        ),
        (
            Inbound::Unsupported { subtype: Some("poll_creation".into()) },
            Box::new(
                |kind| matches!(kind, MessageKind::Unsupported(unsupported) if unsupported.reason == UnsupportedReason::Reported && unsupported.subtype.as_deref() == Some("poll_creation") && unsupported.errors.first().map(|error| error.code) == Some(131051)),
            ),
        ),
        (
            Inbound::UnknownType { name: "revoke".into() },
            Box::new(
                |kind| matches!(kind, MessageKind::Unsupported(unsupported) if unsupported.reason == UnsupportedReason::UnknownType && unsupported.message_type == "revoke"),
            ),
        ),
    ];

    for (inbound, expected) in cases {
        let description = format!("{inbound:?}");
        let receipt = simulator.send(&alice, inbound.clone()).await.expect("sent");
        let webhook = receiver.next().await;
        assert!(webhook.text().is_ascii(), "{description}");
        let message = webhook.message();
        assert_eq!(message.id, receipt.message_id(), "{description}");
        assert!(expected(&message.kind), "{description} read back as {:?}", message.kind);
        let replies_to_business = matches!(
            inbound,
            Inbound::Text { reply_to: Some(_), .. }
                | Inbound::ButtonReply { .. }
                | Inbound::ListReply { .. }
                | Inbound::TemplateButton { .. }
        );
        if replies_to_business {
            let context = message.context.as_ref().expect("a reply carries context");
            assert_eq!(context.from.as_deref(), Some("15550001111"), "{description}");
            assert_eq!(context.message_id.as_deref(), Some(business_message), "{description}");
        }
        if let MessageKind::Media(attachment) = &message.kind {
            // The media is registered with a correct hash, ready for Baton to download.
            let stored = simulator.media(&attachment.id).expect("registered");
            assert_eq!(attachment.sha256.as_deref(), Some(stored.sha256.as_str()), "{description}");
            assert_eq!(attachment.url, None, "no url unless configured");
        }
    }
}

/// What the parsed message kind must look like.
type Expectation = Box<dyn Fn(&MessageKind) -> bool>;

fn media(kind: &MessageKind, expected: MediaKind, mime_type: &str) -> bool {
    matches!(kind, MessageKind::Media(media) if media.kind == expected && media.mime_type.as_deref() == Some(mime_type) && media.id.len() == 16)
}

fn caption(kind: &MessageKind, expected: &str) -> bool {
    matches!(kind, MessageKind::Media(media) if media.caption.as_deref() == Some(expected))
}

#[tokio::test]
async fn a_batch_carries_several_contacts_and_messages_in_one_webhook() {
    let (simulator, receiver) = support::start().await;
    let alice = Customer::new(ALICE, "Alice Example");
    let bob = Customer::new(BOB, "Bob Ñandú");

    let receipt = simulator
        .send_batch(vec![
            (alice.clone(), Inbound::text("one")),
            (bob.clone(), Inbound::text("two")),
            (alice.clone(), Inbound::image(None)),
        ])
        .await
        .expect("sent");
    assert_eq!(receipt.message_ids.len(), 3);

    let webhook = receiver.next().await;
    let json: serde_json::Value = serde_json::from_slice(&webhook.body).expect("JSON");
    let value = &json["entry"][0]["changes"][0]["value"];
    assert_eq!(value["contacts"].as_array().map(Vec::len), Some(2), "one contact per sender");
    assert_eq!(value["messages"].as_array().map(Vec::len), Some(3));

    let items = webhook.items();
    let senders: Vec<(String, Option<String>, String)> = items
        .iter()
        .map(|item| match item {
            Item::Message(message) => (message.from.clone(), message.profile_name.clone(), message.id.clone()),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        senders,
        vec![
            (ALICE.to_owned(), Some("Alice Example".to_owned()), receipt.message_ids[0].clone()),
            (BOB.to_owned(), Some("Bob Ñandú".to_owned()), receipt.message_ids[1].clone()),
            (ALICE.to_owned(), Some("Alice Example".to_owned()), receipt.message_ids[2].clone()),
        ]
    );
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_refused_webhook_is_resent_with_the_same_bytes_and_backoff() {
    let config = Config {
        webhook: WebhookOptions {
            max_attempts: 4,
            first_retry_delay: Duration::from_secs(1),
            ..WebhookOptions::default()
        },
        ..Config::default()
    };
    let (simulator, receiver) = support::start_with(config).await;
    receiver.answer_with(&[500, 503]);

    let started = tokio::time::Instant::now();
    let receipt = simulator.send_text(&Customer::new(ALICE, "Alice"), "hello").await.expect("sent");
    let delivery = simulator.wait_for_delivery(|delivery| delivery.acknowledged()).await.expect("acknowledged");
    // Two re-sends: after 1 s, then after 2 more.
    assert!(started.elapsed() >= Duration::from_secs(3), "{:?}", started.elapsed());
    let statuses: Vec<Option<u16>> = delivery.attempts.iter().map(|attempt| attempt.status).collect();
    assert_eq!(statuses, vec![Some(500), Some(503), Some(200)]);

    let received = receiver.received();
    assert_eq!(received.len(), 3);
    assert!(
        received.iter().all(|webhook| webhook.body == received[0].body && webhook.signature == received[0].signature)
    );
    assert_eq!(received[0].message().id, receipt);
}

#[tokio::test]
async fn a_redelivery_repeats_the_exact_bytes() {
    let (simulator, receiver) = support::start().await;
    simulator.send_text(&Customer::new(ALICE, "Zoë"), "same twice").await.expect("sent");
    let original = simulator.next_delivery().await.expect("delivered");

    let duplicate = simulator.redeliver(original.id).await.expect("redelivered");
    assert!(duplicate.acknowledged());
    let received = receiver.wait_for(2).await;
    assert_eq!(received[0].body, received[1].body);
    assert_eq!(received[0].signature, received[1].signature);
    let recorded = simulator.next_delivery().await.expect("recorded");
    assert_eq!(recorded.redelivery_of, Some(original.id));
    assert!(simulator.redeliver(999).await.is_err());
}

#[tokio::test]
async fn an_unreachable_webhook_is_reported_not_hidden() {
    let (simulator, _receiver) = support::start_with(Config {
        webhook: WebhookOptions { max_attempts: 1, ..WebhookOptions::default() },
        ..Config::default()
    })
    .await;
    simulator.set_webhook_url("http://127.0.0.1:9/webhooks/whatsapp");
    let receipt = simulator.send(&Customer::new(ALICE, "Alice"), Inbound::text("anyone?")).await.expect("sent");
    assert_eq!(receipt.delivery.status, None);
    assert!(receipt.delivery.error.is_some());
    assert!(simulator.send(&Customer::new("+1555", "Bad"), Inbound::text("x")).await.is_err(), "wa_id is validated");
}

#[tokio::test]
async fn the_verification_handshake_echoes_the_challenge() {
    let (simulator, _receiver) = support::start().await;
    let accepted = simulator.verify_subscription("verify-me").await.expect("answered");
    assert_eq!((accepted.status, accepted.verified), (200, true));
    let refused = simulator.verify_subscription("wrong").await.expect("answered");
    assert_eq!((refused.status, refused.verified), (403, false));
}
