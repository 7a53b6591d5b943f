//! Media (CONTRACT §10): metadata with a URL back at the simulator, bytes only with the Bearer token, URLs
//! that expire after five minutes of tokio time.

use baton_simulator::{Config, Customer, Endpoint, Inbound, URL_LIFETIME};
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
