//! The WhatsApp webhook over real HTTP, on SQLite and PostgreSQL: Meta's verification handshake,
//! signatures checked on the raw bytes (forgeries refused with nothing stored), every contract
//! fixture ingested into the right contact, conversation and message, redeliveries ignored, and
//! delivery statuses applied monotonically whatever order they arrive in.

use std::collections::HashMap;

use baton_server::store::channel::StatusWrite;
use baton_server::whatsapp::ingest;
use baton_shared::model::{Change, ConversationEvent, DeliveryStatus, Message, MessageContent};
use baton_shared::{ConversationId, UserId};
use baton_tests::database::Kind;
use baton_tests::server::TestServer;
use baton_whatsapp::fixtures;
use baton_whatsapp::signature::{AppSecret, sign};

/// The contract's test secret: its signature vectors use it.
const APP_SECRET: &str = "test_app_secret";
const VERIFY_TOKEN: &str = "verify-me-please";
/// The business number of the fixtures.
const PHONE_NUMBER_ID: &str = "106000000000001";

async fn start(kind: Kind) -> anyhow::Result<TestServer> {
    let secret = AppSecret::new(APP_SECRET).map_err(|error| anyhow::anyhow!("{error}"))?;
    TestServer::start_with(kind, move |config| {
        config.whatsapp.app_secret = Some(secret);
        config.whatsapp.verify_token = Some(VERIFY_TOKEN.into());
        config.whatsapp.phone_number_id = Some(PHONE_NUMBER_ID.into());
    })
    .await
}

fn signature_of(body: &[u8]) -> anyhow::Result<String> {
    let secret = AppSecret::new(APP_SECRET).map_err(|error| anyhow::anyhow!("{error}"))?;
    Ok(sign(&secret, body))
}

async fn post(server: &TestServer, body: &[u8], signature: Option<&str>) -> anyhow::Result<reqwest::Response> {
    let mut request = reqwest::Client::new()
        .post(server.url("/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    Ok(request.send().await?)
}

/// Every message of every conversation, by wamid.
async fn messages(server: &TestServer) -> anyhow::Result<HashMap<String, Message>> {
    let mut found = HashMap::new();
    for conversation in server.state.store.conversations(true, 100).await? {
        for event in server.state.store.events_after(conversation.id, 0, 1000).await? {
            if let Change::MessageAdded { message } = event.change
                && let Some(wamid) = message.wa_message_id.clone()
            {
                anyhow::ensure!(found.insert(wamid.clone(), message).is_none(), "{wamid} stored twice");
            }
        }
    }
    Ok(found)
}

fn wamid_of(fixture: &[u8]) -> anyhow::Result<String> {
    let value: serde_json::Value = serde_json::from_slice(fixture)?;
    let id = value["entry"][0]["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|change| change["value"]["messages"][0]["id"].as_str())
        .ok_or_else(|| anyhow::anyhow!("fixture without a message"))?;
    Ok(id.to_owned())
}

async fn every_fixture_is_ingested_once(kind: Kind) -> anyhow::Result<()> {
    let server = start(kind).await?;
    for (name, body) in fixtures::ALL {
        let response = post(&server, body, Some(&signature_of(body)?)).await?;
        anyhow::ensure!(response.status() == 200, "{name}: {}", response.status());
    }
    // The worker may have run already; draining again is harmless (everything is idempotent).
    ingest::drain(&server.state).await;
    assert!(server.state.store.pending_webhooks(10).await?.is_empty(), "every delivery processed");

    let messages = messages(&server).await?;
    let inbound = fixtures::ALL.iter().filter(|(_, body)| wamid_of(body).is_ok());
    let expected: std::collections::HashSet<String> =
        inbound.map(|(_, body)| wamid_of(body)).collect::<Result<_, _>>()?;
    assert_eq!(messages.len(), expected.len(), "one message per wamid: the redelivery (19) added nothing");

    let text = &messages[&wamid_of(fixtures::TEXT)?];
    assert_eq!((text.kind.as_str(), text.body.as_str()), ("text", "Hi, is my order #4521 shipped yet?"));
    let image = &messages[&wamid_of(fixtures::IMAGE_WITH_CAPTION)?];
    assert_eq!((image.kind.as_str(), image.body.as_str()), ("image", "Photo of the damaged box"));
    assert!(
        matches!(image.content.as_deref(), Some(MessageContent::Media { mime_type: Some(mime), .. }) if mime == "image/jpeg"),
        "{:?}",
        image.content
    );
    let document = &messages[&wamid_of(fixtures::DOCUMENT)?];
    assert!(
        matches!(document.content.as_deref(), Some(MessageContent::Media { filename: Some(_), .. })),
        "{document:?}"
    );
    let voice = &messages[&wamid_of(fixtures::AUDIO_VOICE_NOTE)?];
    assert!(matches!(voice.content.as_deref(), Some(MessageContent::Media { voice: true, .. })), "{voice:?}");
    let location = &messages[&wamid_of(fixtures::LOCATION)?];
    assert!(
        matches!(location.content.as_deref(), Some(MessageContent::Location { latitude, .. }) if latitude == "52.520008"),
        "{location:?}"
    );
    let button = &messages[&wamid_of(fixtures::INTERACTIVE_BUTTON_REPLY)?];
    assert!(
        matches!(button.content.as_deref(), Some(MessageContent::Choice { source, .. }) if source == "button_reply")
    );
    assert!(button.reply_to.as_deref().is_some_and(|quoted| quoted.starts_with("wamid.")), "the tapped message");
    let reaction = &messages[&wamid_of(fixtures::REACTION)?];
    assert!(
        matches!(reaction.content.as_deref(), Some(MessageContent::Reaction { emoji: Some(emoji), .. }) if emoji == "👍"),
        "{reaction:?}"
    );
    let accented = &messages[&wamid_of(fixtures::MIXED_STATUS_AND_MESSAGE_NON_ASCII)?];
    assert_eq!(accented.body, "Señor, ¿qué tal? — café ☕", "\\u escapes decoded");

    // Alice's messages share one conversation, Bob has his own; names come from `contacts`.
    let conversations = server.state.store.conversations(true, 100).await?;
    let names: Vec<String> =
        conversations.iter().map(|conversation| conversation.contact.profile_name.clone()).collect();
    assert_eq!(conversations.len(), 2, "{names:?}");
    assert!(names.contains(&"Alice Example".to_owned()) && names.contains(&"Bob Sample".to_owned()), "{names:?}");
    // The 24-hour window starts at the customer's last message (WhatsApp's time, in ms).
    let alice = conversations.iter().find(|c| c.contact.wa_id == "15550002222").map(|c| c.contact.clone());
    assert!(alice.is_some_and(|alice| alice.last_inbound_at.is_some_and(|at| at >= 1_767_258_000_000)));
    Ok(())
}

async fn forged_signatures_are_refused_and_nothing_is_stored(kind: Kind) -> anyhow::Result<()> {
    let server = start(kind).await?;
    let body = fixtures::TEXT;
    let good = signature_of(body)?;
    let wrong_secret = sign(&AppSecret::new("another_secret").map_err(|e| anyhow::anyhow!("{e}"))?, body);
    let mut altered = body.to_vec();
    if let Some(byte) = altered.iter_mut().find(|byte| **byte == b'#') {
        *byte = b'%';
    }
    // (case, body, signature header, expected status, expected error code)
    type Forgery<'a> = (&'a str, Vec<u8>, Option<String>, u16, &'a str);
    let cases: Vec<Forgery> = vec![
        ("missing", body.to_vec(), None, 401, "unauthenticated"),
        ("sha1 prefix", body.to_vec(), Some(good.replacen("sha256=", "sha1=", 1)), 403, "bad_signature"),
        ("truncated", body.to_vec(), Some(good[..good.len() - 2].to_owned()), 403, "bad_signature"),
        ("not hex", body.to_vec(), Some(format!("sha256={}", "z".repeat(64))), 403, "bad_signature"),
        ("wrong secret", body.to_vec(), Some(wrong_secret), 403, "bad_signature"),
        ("body altered", altered, Some(good.clone()), 403, "bad_signature"),
    ];
    for (case, body, signature, status, code) in cases {
        let response = post(&server, &body, signature.as_deref()).await?;
        assert_eq!(response.status().as_u16(), status, "{case}");
        let error: serde_json::Value = response.json().await?;
        assert_eq!(error["code"], code, "{case}: {error}");
    }
    assert!(server.state.store.pending_webhooks(10).await?.is_empty(), "nothing stored");
    ingest::drain(&server.state).await;
    assert!(server.state.store.conversations(true, 10).await?.is_empty(), "nothing created");

    // The contract's own vector verifies, and its non-ASCII fixture is accepted.
    assert_eq!(
        signature_of(fixtures::TEXT)?,
        "sha256=ec0e210aa677799fe5d636ce3e1afbbbdf0e30b5c455273b7dac72f553473e7f"
    );
    let accented = fixtures::MIXED_STATUS_AND_MESSAGE_NON_ASCII;
    assert_eq!(post(&server, accented, Some(&signature_of(accented)?)).await?.status(), 200);
    Ok(())
}

async fn the_verification_handshake_echoes_the_challenge(kind: Kind) -> anyhow::Result<()> {
    let server = start(kind).await?;
    let http = reqwest::Client::new();
    let url = |mode: &str, token: &str| {
        server.url(&format!("/webhooks/whatsapp?hub.mode={mode}&hub.verify_token={token}&hub.challenge=0123456789"))
    };
    let accepted = http.get(url("subscribe", VERIFY_TOKEN)).send().await?;
    assert_eq!(accepted.status(), 200);
    assert_eq!(accepted.text().await?, "0123456789", "echoed byte for byte, leading zero kept");
    assert_eq!(http.get(url("subscribe", "guess")).send().await?.status(), 403);
    assert_eq!(http.get(url("unsubscribe", VERIFY_TOKEN)).send().await?.status(), 403);
    Ok(())
}

/// A reply by `agent` in a fresh conversation; returns the stored message.
async fn outbound_message(server: &TestServer, agent: UserId, key: &str) -> anyhow::Result<Message> {
    use baton_server::store::conversations::{ClaimOutcome, NewReply, ReplyOutcome};
    let conversation: ConversationId = server.customer_writes(&format!("1555{key}"), "Hello").await?;
    let now = baton_server::clock::now_ms();
    let claimed = server.state.store.claim(conversation, agent, now + 60_000, now).await?;
    anyhow::ensure!(matches!(claimed, ClaimOutcome::Held { .. }), "claim");
    let seen = server.state.store.conversation(conversation).await?.map(|c| c.last_seq).unwrap_or_default();
    let reply = NewReply {
        conversation_id: conversation,
        author: agent,
        body: "On its way".into(),
        idempotency_key: key.into(),
        seen_seq: seen,
        force: false,
        content: Default::default(),
        reply_to: None,
    };
    match server.state.store.send_reply(&reply, now).await? {
        ReplyOutcome::Sent { message, .. } => Ok(message),
        other => anyhow::bail!("not sent: {other:?}"),
    }
}

fn status(wamid: &str, status: DeliveryStatus, error_code: Option<i64>) -> StatusWrite {
    let error = error_code.map(|code| baton_shared::model::DeliveryError { code, message: "failed".into() });
    StatusWrite { wa_message_id: wamid.into(), status, error, callback_data: None }
}

async fn statuses_only_move_forward(kind: Kind) -> anyhow::Result<()> {
    let server = start(kind).await?;
    let (agent, _) = server.create_user("Alice", baton_shared::api::Role::Agent).await?;
    let store = &server.state.store;
    let now = baton_server::clock::now_ms();

    // Statuses that race ahead of the send's answer wait for it, then apply: read wins.
    let first = outbound_message(&server, agent.id, "0001").await?;
    for early in [DeliveryStatus::Read, DeliveryStatus::Sent, DeliveryStatus::Delivered] {
        assert_eq!(store.apply_status(&status("wamid.first", early, None), now).await?, []);
    }
    let events = store.message_accepted(first.id, "wamid.first", now).await?;
    assert!(matches!(
        &events[..],
        [ConversationEvent { change: Change::MessageStatus { status: DeliveryStatus::Read, .. }, .. }]
    ));

    // Out of order after the answer: each status applies only if it moves the message forward.
    let second = outbound_message(&server, agent.id, "0002").await?;
    store.message_accepted(second.id, "wamid.second", now).await?;
    let moved = |events: Vec<ConversationEvent>| !events.is_empty();
    assert!(moved(store.apply_status(&status("wamid.second", DeliveryStatus::Delivered, None), now).await?));
    assert!(!moved(store.apply_status(&status("wamid.second", DeliveryStatus::Sent, None), now).await?), "backwards");
    assert!(!moved(store.apply_status(&status("wamid.second", DeliveryStatus::Delivered, None), now).await?), "again");
    assert!(
        !moved(store.apply_status(&status("wamid.second", DeliveryStatus::Failed, Some(131047)), now).await?),
        "delivered already: a late failure does not undo it"
    );

    // A failure shows its error to the agent.
    let third = outbound_message(&server, agent.id, "0003").await?;
    store.message_accepted(third.id, "wamid.third", now).await?;
    store.apply_status(&status("wamid.third", DeliveryStatus::Failed, Some(131047)), now).await?;
    // What every client following these conversations now shows: the newest status event of each.
    let mut states = Vec::new();
    for message in [&first, &second, &third] {
        let events = store.events_after(message.conversation_id, 0, 1000).await?;
        let latest = events.into_iter().rev().find_map(|event| match event.change {
            Change::MessageStatus { message_id, status, error } if message_id == message.id => {
                Some((status, error.map(|error| error.code)))
            }
            _ => None,
        });
        states.push(latest);
    }
    assert_eq!(
        states,
        [
            Some((DeliveryStatus::Read, None)),
            Some((DeliveryStatus::Delivered, None)),
            Some((DeliveryStatus::Failed, Some(131047)))
        ]
    );
    Ok(())
}

/// The id of the message a status fixture is about.
fn status_wamid(fixture: &[u8]) -> anyhow::Result<String> {
    let value: serde_json::Value = serde_json::from_slice(fixture)?;
    let id = value["entry"][0]["changes"][0]["value"]["statuses"][0]["id"].as_str();
    id.map(str::to_owned).ok_or_else(|| anyhow::anyhow!("fixture without a status"))
}

async fn messages_and_ticks_reach_a_watching_supervisor_live(kind: Kind) -> anyhow::Result<()> {
    use baton_shared::protocol::{ClientMsg, ServerMsg};
    use baton_tests::socket::WsClient;
    let server = start(kind).await?;
    let (supervisor_client, _) = server.logged_in("Sam", baton_shared::api::Role::Supervisor).await?;
    let mut supervisor = WsClient::connect(&supervisor_client).await?;
    let followed = supervisor.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors: vec![] }).await?;
    assert!(matches!(followed, ServerMsg::Ack { .. }), "{followed:?}");

    // A signed webhook → stored → ingested by the worker → on the socket, with no help from the test.
    let body = fixtures::TEXT;
    assert_eq!(post(&server, body, Some(&signature_of(body)?)).await?.status(), 200);
    let wamid = wamid_of(body)?;
    let arrived = supervisor
        .expect(|message| match message {
            ServerMsg::Event { event } => match &event.change {
                Change::MessageAdded { message } if message.wa_message_id.as_deref() == Some(wamid.as_str()) => {
                    Some(message.body.clone())
                }
                _ => None,
            },
            _ => None,
        })
        .await?;
    assert_eq!(arrived, "Hi, is my order #4521 shipped yet?");

    // A reply Meta accepted; its `read` status arrives by webhook and the tick moves live.
    let (agent, _) = server.create_user("Alice", baton_shared::api::Role::Agent).await?;
    let reply = outbound_message(&server, agent.id, "0004").await?;
    let accepted_as = status_wamid(fixtures::STATUS_READ)?;
    // Published as the sender does: the hub sends a conversation's events in order, so one left
    // unpublished would be read from the store and sent before the next.
    let accepted = server.state.store.message_accepted(reply.id, &accepted_as, baton_server::clock::now_ms()).await?;
    server.state.bus.publish(&accepted);
    let read = fixtures::STATUS_READ;
    assert_eq!(post(&server, read, Some(&signature_of(read)?)).await?.status(), 200);
    let mut ticks = Vec::new();
    while ticks.len() < 2 {
        let tick = supervisor
            .expect(|message| match message {
                ServerMsg::Event { event } => match &event.change {
                    Change::MessageStatus { message_id, status, .. } if *message_id == reply.id => Some(*status),
                    _ => None,
                },
                _ => None,
            })
            .await?;
        ticks.push(tick);
    }
    assert_eq!(ticks, [DeliveryStatus::Sent, DeliveryStatus::Read], "accepted, then read by webhook");
    Ok(())
}

/// One customer text shaped as the fixture's, from `wa_id`, with wamid `wamid.held.{n}` and
/// `body`.
fn text_from(wa_id: &str, n: usize, body: &str) -> anyhow::Result<Vec<u8>> {
    let wamid = wamid_of(fixtures::TEXT)?;
    Ok(String::from_utf8(fixtures::TEXT.to_vec())?
        .replace("15550002222", wa_id)
        .replace(&wamid, &format!("wamid.held.{n}"))
        .replace("Hi, is my order #4521 shipped yet?", body)
        .into_bytes())
}

/// One delivery carrying the messages of both `first` and `second` (as Meta may batch them).
fn together(first: &[u8], second: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut both: serde_json::Value = serde_json::from_slice(first)?;
    let other: serde_json::Value = serde_json::from_slice(second)?;
    let value = |json: &serde_json::Value, part: &str| json["entry"][0]["changes"][0]["value"][part][0].clone();
    for part in ["contacts", "messages"] {
        let list = both["entry"][0]["changes"][0]["value"][part]
            .as_array_mut()
            .ok_or_else(|| anyhow::anyhow!("the fixture has no {part}"))?;
        list.push(value(&other, part));
    }
    Ok(serde_json::to_vec(&both)?)
}

/// A delivery the database refuses (a trigger planted beneath the store refuses a message with
/// the body `refused`) holds back the later deliveries of its customers — every one it carries a
/// message of — and not the other customers', which are applied, in the same batch on SQLite.
/// Once the database takes it, the held ones follow, in each customer's order.
async fn a_failing_delivery_holds_back_only_its_customers(kind: Kind) -> anyhow::Result<()> {
    let server = start(kind).await?;
    let (refuse, take): (&[&str], &[&str]) = match kind {
        Kind::Sqlite => (
            &["CREATE TRIGGER refuse BEFORE INSERT ON messages WHEN NEW.body = 'refused' \
               BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"],
            &["DROP TRIGGER refuse"],
        ),
        Kind::Postgres => (
            &[
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.body = 'refused' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$",
                "CREATE TRIGGER refuse BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse()",
            ],
            &["DROP TRIGGER refuse ON messages"],
        ),
    };
    server.database.execute(refuse).await?;
    let (ann, bob, cat, dan) = ("15550003001", "15550003002", "15550003003", "15550003004");
    let deliveries = [
        text_from(ann, 0, "a1")?,
        // Bob's refused message and Cat's, in one delivery: Cat waits too.
        together(&text_from(bob, 1, "refused")?, &text_from(cat, 2, "c1")?)?,
        text_from(bob, 3, "b2")?,
        text_from(cat, 4, "c2")?,
        text_from(dan, 5, "d1")?,
    ];
    for body in &deliveries {
        let response = post(&server, body, Some(&signature_of(body)?)).await?;
        assert_eq!(response.status(), 200);
    }
    ingest::drain(&server.state).await;
    let bodies = |messages: &HashMap<String, Message>| {
        let mut bodies: Vec<String> = messages.values().map(|message| message.body.clone()).collect();
        bodies.sort();
        bodies
    };
    assert_eq!(bodies(&messages(&server).await?), ["a1", "d1"], "the others' applied; Bob's and Cat's held back");
    assert_eq!(server.state.store.pending_webhooks(10).await?.len(), 3, "the refused one, b2 and c2 wait");

    server.database.execute(take).await?;
    ingest::drain(&server.state).await;
    let messages = messages(&server).await?;
    assert_eq!(bodies(&messages), ["a1", "b2", "c1", "c2", "d1", "refused"]);
    let seq = |n: usize| messages.get(&format!("wamid.held.{n}")).map(|message| message.seq).unwrap_or_default();
    assert!(seq(1) < seq(3), "Bob's in his order");
    assert!(seq(2) < seq(4), "Cat's in hers");
    assert!(server.state.store.pending_webhooks(10).await?.is_empty());
    Ok(())
}

baton_tests::on_both_kinds!(
    a_failing_delivery_holds_back_only_its_customers,
    every_fixture_is_ingested_once,
    forged_signatures_are_refused_and_nothing_is_stored,
    the_verification_handshake_echoes_the_challenge,
    statuses_only_move_forward,
    messages_and_ticks_reach_a_watching_supervisor_live,
    nul_characters_are_replaced_and_no_message_is_lost,
    names_from_webhooks_lose_disguising_characters,
);

/// PostgreSQL cannot store U+0000 in text, and a lone surrogate (a message cut in the middle of an
/// emoji) cannot be decoded: on both databases each becomes U+FFFD — in the text, the customer's
/// name and a caption — and the customer's next message is not held back behind it.
async fn nul_characters_are_replaced_and_no_message_is_lost(kind: Kind) -> anyhow::Result<()> {
    let server = start(kind).await?;
    let text = String::from_utf8(fixtures::TEXT.to_vec())?
        .replace("Hi, is my order", r"Hi\u0000, is my order")
        .replace("Alice Example", r"Alice\u0000Example");
    let image = String::from_utf8(fixtures::IMAGE_WITH_CAPTION.to_vec())?
        .replace("Photo of the damaged box", r"Photo\u0000of the box \ud83d")
        .replace("Alice Example", r"Alice\u0000Example");
    for body in [text.as_bytes(), image.as_bytes()] {
        let response = post(&server, body, Some(&signature_of(body)?)).await?;
        assert_eq!(response.status(), 200);
    }
    ingest::drain(&server.state).await;
    assert!(server.state.store.pending_webhooks(10).await?.is_empty(), "both deliveries processed at once");

    let messages = messages(&server).await?;
    assert_eq!(messages[&wamid_of(fixtures::TEXT)?].body, "Hi\u{fffd}, is my order #4521 shipped yet?");
    assert_eq!(messages[&wamid_of(fixtures::IMAGE_WITH_CAPTION)?].body, "Photo\u{fffd}of the box \u{fffd}");
    let conversations = server.state.store.conversations(true, 10).await?;
    let names: Vec<&str> = conversations.iter().map(|c| c.contact.profile_name.as_str()).collect();
    assert_eq!(names, ["Alice\u{fffd}Example"]);
    Ok(())
}

/// A customer's profile name (and a document's file name) lose the characters that could disguise
/// them — an RTL override, zero-width and control characters; the text of the message is kept.
async fn names_from_webhooks_lose_disguising_characters(kind: Kind) -> anyhow::Result<()> {
    let server = start(kind).await?;
    let document = String::from_utf8(fixtures::DOCUMENT.to_vec())?;
    let filename = serde_json::from_str::<serde_json::Value>(&document)?["entry"][0]["changes"][0]["value"]["messages"]
        [0]["document"]["filename"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("the fixture has a file name"))?;
    let body = document
        .replace("Bob Sample", r"\u202eBob\u200b Sample\u0007")
        .replace(&filename, &format!(r"\u202e{filename}"))
        .replace("Invoice for March", r"Invoice\u202e for March");
    let response = post(&server, body.as_bytes(), Some(&signature_of(body.as_bytes())?)).await?;
    assert_eq!(response.status(), 200);
    ingest::drain(&server.state).await;

    let conversations = server.state.store.conversations(true, 10).await?;
    let names: Vec<&str> = conversations.iter().map(|c| c.contact.profile_name.as_str()).collect();
    assert_eq!(names, ["Bob Sample"]);
    let message = &messages(&server).await?[&wamid_of(fixtures::DOCUMENT)?];
    assert!(
        matches!(message.content.as_deref(), Some(MessageContent::Media { filename: Some(name), .. }) if *name == filename),
        "{:?}",
        message.content
    );
    assert_eq!(message.body, "Invoice\u{202E} for March", "the caption is the customer's text, kept");
    Ok(())
}
