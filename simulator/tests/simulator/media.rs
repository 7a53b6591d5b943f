//! Media (CONTRACT §10): metadata with a URL back at the simulator, bytes only with the Bearer token, URLs
//! that expire after five minutes of tokio time, and multipart uploads that can then be sent by id.

use baton_simulator::{Config, Customer, DeliveryStatus, Endpoint, Inbound, URL_LIFETIME};
use baton_whatsapp::graph::MediaInfo;
use baton_whatsapp::webhook::MessageKind;
use sha2::{Digest, Sha256};

use crate::support::{self, ALICE};

const TOKEN: Option<&str> = Some("test_access_token");

async fn media_info(simulator: &baton_simulator::Simulator, media_id: &str) -> MediaInfo {
    let response = support::get(&format!("{}/v23.0/{media_id}", simulator.graph_url()), TOKEN).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("media info")
}

#[tokio::test(start_paused = true)]
async fn metadata_and_bytes_need_the_token_and_urls_expire() {
    let (simulator, receiver) = support::start().await;
    simulator.send(&Customer::new(ALICE, "Alice"), Inbound::image(Some("Damaged box"))).await.expect("sent");
    let MessageKind::Media(attachment) = receiver.next().await.message().kind else {
        panic!("an image");
    };

    let unauthorized = support::get(&format!("{}/v23.0/{}", simulator.graph_url(), attachment.id), None).await;
    assert_eq!(unauthorized.status(), 401);
    let info = media_info(&simulator, &attachment.id).await;
    assert_eq!(info.id, attachment.id);
    assert_eq!(info.messaging_product.as_deref(), Some("whatsapp"));
    assert_eq!(info.mime_type, "image/png");
    assert_eq!(info.sha256, attachment.sha256);
    assert!(info.url.starts_with(&format!(
        "{}/whatsapp_business/attachments/?mid={}&ext=",
        simulator.base_url(),
        info.id
    )));

    assert_eq!(support::get(&info.url, None).await.status(), 401, "no media without the token");
    assert_eq!(support::get(&info.url, Some("wrong")).await.status(), 401);
    let download = support::get(&info.url, TOKEN).await;
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "image/png");
    let bytes = download.bytes().await.expect("bytes");
    assert_eq!(u64::try_from(bytes.len()).ok(), Some(info.file_size));
    assert!(bytes.starts_with(b"\x89PNG"));
    let hash = Sha256::digest(&bytes);
    let stored = simulator.media(&info.id).expect("stored");
    assert_eq!(&*stored.bytes, &bytes[..]);
    assert_eq!(hash.as_slice().len(), 32);
    assert_eq!(Some(stored.sha256), info.sha256, "the hash describes these bytes");

    tokio::time::advance(URL_LIFETIME).await;
    assert_eq!(support::get(&info.url, TOKEN).await.status(), 404, "expired after 5 minutes");
    let fresh = media_info(&simulator, &attachment.id).await;
    assert_ne!(fresh.url, info.url);
    assert_eq!(support::get(&fresh.url, TOKEN).await.status(), 200);

    let unknown = support::get(&format!("{}/v23.0/1234567890123456", simulator.graph_url()), TOKEN).await;
    assert_eq!(unknown.status(), 400);
    let endpoints: Vec<Endpoint> = simulator.requests().iter().map(|request| request.endpoint).collect();
    assert!(endpoints.contains(&Endpoint::MediaInfo) && endpoints.contains(&Endpoint::MediaDownload));
}

#[tokio::test]
async fn documents_and_voice_notes_download_with_their_types_and_media_can_be_deleted() {
    let (simulator, receiver) = support::start().await;
    let alice = Customer::new(ALICE, "Alice");
    for (inbound, mime_type, magic) in [
        (Inbound::document("invoice.pdf", None), "application/pdf", &b"%PDF"[..]),
        (Inbound::voice_note(), "audio/ogg; codecs=opus", &b"OggS"[..]),
    ] {
        simulator.send(&alice, inbound).await.expect("sent");
        let MessageKind::Media(attachment) = receiver.next().await.message().kind else {
            panic!("media");
        };
        let info = media_info(&simulator, &attachment.id).await;
        assert_eq!(info.mime_type, mime_type);
        let download = support::get(&info.url, TOKEN).await;
        assert_eq!(download.headers()["content-type"], mime_type);
        let bytes = download.bytes().await.expect("bytes");
        assert!(bytes.starts_with(magic));

        let url = format!("{}/v23.0/{}", simulator.graph_url(), attachment.id);
        let deleted = support::client().delete(&url).bearer_auth("test_access_token").send().await.expect("answered");
        assert_eq!(deleted.status(), 200);
        assert_eq!(support::get(&url, TOKEN).await.status(), 400, "gone");
    }
}

#[tokio::test]
async fn webhooks_can_carry_the_media_url() {
    let (simulator, receiver) = support::start_with(Config { media_url_in_webhooks: true, ..Config::default() }).await;
    simulator.send(&Customer::new(ALICE, "Alice"), Inbound::image(None)).await.expect("sent");
    let MessageKind::Media(attachment) = receiver.next().await.message().kind else {
        panic!("an image");
    };
    let url = attachment.url.expect("the optional url is present");
    let download = support::get(&url, TOKEN).await;
    assert_eq!(download.status(), 200);
    assert!(download.bytes().await.expect("bytes").starts_with(b"\x89PNG"));
}

/// One form part: `(name, filename, content type, bytes)`.
type FormPart<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// A `multipart/form-data` body as an HTTP client writes it, and its content type.
fn form(parts: &[FormPart<'_>]) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "----simulator-test-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, filename, content_type, bytes) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes());
        if let Some(filename) = filename {
            body.extend_from_slice(format!("; filename=\"{filename}\"").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        if let Some(content_type) = content_type {
            body.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

async fn upload(
    simulator: &baton_simulator::Simulator,
    content_type: &str,
    body: Vec<u8>,
    token: Option<&str>,
) -> (u16, serde_json::Value) {
    let url = format!("{}/v23.0/{}/media", simulator.graph_url(), simulator.config().phone_number_id);
    let mut request = support::client().post(url).header("content-type", content_type).body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the simulator answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

#[tokio::test]
async fn uploads_are_checked_stored_and_sendable_by_id_and_the_phone_shows_them() {
    let (simulator, _receiver) = support::start().await;
    // A PNG signature plus CR LF and a near-boundary inside the file, to exercise the multipart parser.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(b"\r\n------simulator-test\r\n\x00\xff rest of the image");
    let complete: [FormPart<'_>; 3] = [
        ("messaging_product", None, None, b"whatsapp"),
        ("type", None, None, b"image/png"),
        ("file", Some("receipt.png"), Some("image/png"), &png),
    ];

    let (form_type, complete_body) = form(&complete);
    assert_eq!(upload(&simulator, &form_type, complete_body.clone(), None).await.0, 401);
    let (status, json) = upload(&simulator, "application/json", b"{}".to_vec(), TOKEN).await;
    assert_eq!((status, json.pointer("/error/code")), (400, Some(&serde_json::json!(100))));
    for missing in ["messaging_product", "type", "file"] {
        let parts: Vec<_> = complete.iter().copied().filter(|(name, ..)| *name != missing).collect();
        let (content_type, body) = form(&parts);
        let (status, json) = upload(&simulator, &content_type, body, TOKEN).await;
        assert_eq!((status, json.pointer("/error/code").and_then(|code| code.as_i64())), (400, Some(100)));
        let details = json.pointer("/error/error_data/details").and_then(|details| details.as_str());
        assert!(details.is_some_and(|details| details.contains(missing)), "{details:?}");
    }
    let (_, body) = form(&[complete[0], ("type", None, None, b"model/gltf"), complete[2]]);
    assert_eq!(upload(&simulator, &form_type, body, TOKEN).await.0, 400, "not a media type Meta takes");

    let (status, json) = upload(&simulator, &form_type, complete_body, TOKEN).await;
    assert_eq!(status, 200);
    let media_id = json["id"].as_str().expect("an id").to_owned();
    assert_eq!(json, serde_json::json!({"id": media_id}), "only the id, as Meta answers");
    assert!(media_id.len() >= 15 && media_id.bytes().all(|byte| byte.is_ascii_digit()));
    let recorded = simulator.requests().into_iter().rfind(|request| request.endpoint == Endpoint::MediaUpload);
    assert!(recorded.is_some_and(|request| request.response_status == 200 && request.body.len() > png.len()));

    // The upload is ordinary media now: metadata and bytes with the token.
    let info = media_info(&simulator, &media_id).await;
    assert_eq!((info.mime_type.as_str(), info.file_size), ("image/png", u64::try_from(png.len()).unwrap_or(0)));
    let download = support::get(&info.url, TOKEN).await.bytes().await.expect("bytes");
    assert_eq!(&download[..], &png[..]);

    // Sent by id, it shows on the customer's phone as a picture with its caption, and is delivered.
    simulator.open_window(ALICE);
    let send = serde_json::json!({"messaging_product": "whatsapp", "to": ALICE, "type": "image",
                                  "image": {"id": media_id, "caption": "Your receipt"}});
    let answer = support::post_messages(&simulator, &send.to_string()).await;
    assert_eq!(answer.status, 200);
    let chat = simulator.chat(ALICE).expect("a chat");
    let entry = chat.entries.last().expect("the image");
    assert_eq!((entry.kind.as_str(), entry.media_id.as_deref()), ("image", Some(media_id.as_str())));
    assert_eq!(entry.text.as_deref(), Some("Your receipt"));
    let shown = support::get(&format!("{}/_sim/media/{media_id}", simulator.base_url()), None).await;
    assert_eq!(shown.headers()["content-type"], "image/png");
    assert_eq!(&shown.bytes().await.expect("bytes")[..], &png[..]);
    simulator.wait_for_status(&answer.message_id(), DeliveryStatus::Read).await.expect("delivered and read");

    // An id nobody uploaded is accepted, then fails like an undeliverable medium (131053).
    let unknown = serde_json::json!({"messaging_product": "whatsapp", "to": ALICE, "type": "image",
                                     "image": {"id": "1234567890123456"}});
    let answer = support::post_messages(&simulator, &unknown.to_string()).await;
    assert_eq!(answer.status, 200);
    let failed = simulator.wait_for_status(&answer.message_id(), DeliveryStatus::Failed).await.expect("failed");
    assert!(failed.text().contains("131053"));
    let last = simulator.chat(ALICE).and_then(|chat| chat.entries.last().cloned()).expect("the failed image");
    assert_eq!((last.media_id, last.status), (None, Some(DeliveryStatus::Failed)));
}
