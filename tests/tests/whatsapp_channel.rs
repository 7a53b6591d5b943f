//! WhatsApp's rules, end to end against the simulator: the 24-hour window (131047, as a failed
//! status or a synchronous refusal, closes it; free text is then refused with the templates on
//! offer, a template goes through, and the customer writing again reopens it), the retry button,
//! read receipts and "typing…", and customers' media downloaded and served to the team.

use baton_shared::ErrorCode;
use baton_shared::api::Role;
use baton_shared::model::{Change, DeliveryStatus, Message, MessageContent};
use baton_shared::protocol::{AckDetail, ClientMsg, ErrorDetail, ServerMsg};
use baton_simulator::{Customer, Endpoint, Inbound, WindowEnforcement};
use baton_tests::database::Kind;
use baton_tests::socket::WsClient;
use baton_tests::whatsapp::{
    agent_claims, arrival, customer_and_reply, reaches, send_reply, start, wait_for_conversation,
};
use reqwest::StatusCode;

/// Waits for the conversation's window to close on `socket`.
async fn window_closes(socket: &mut WsClient) -> anyhow::Result<()> {
    socket
        .expect(|message| match message {
            ServerMsg::Event { event } if matches!(event.change, Change::WindowClosed { .. }) => Some(()),
            _ => None,
        })
        .await
}

fn refused_with(answer: &ServerMsg, code: ErrorCode) -> bool {
    matches!(answer, ServerMsg::Error { code: refused, .. } if *refused == code)
}

async fn a_closed_window_takes_templates_only_until_the_customer_writes(kind: Kind) -> anyhow::Result<()> {
    let (server, simulator) = start(kind).await?;

    // Baton believes the window open (the customer wrote a minute ago), but WhatsApp says 131047
    // in a failed status: the reply fails, and the window closes for everyone watching.
    let carla = Customer::new("15550004444", "Carla");
    let wamid = simulator.send_text(&carla, "Hi, any news?").await?;
    let conversation = wait_for_conversation(&server, &wamid).await?;
    simulator.close_window(&carla.wa_id);
    let (mut agent, seen) = agent_claims(&server, "Alice", conversation).await?;
    let answer = send_reply(&mut agent, conversation, "Let me check", "late-1", seen).await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Message { message: late }), .. } = answer else {
        anyhow::bail!("the first reply is accepted (the window looked open): {answer:?}")
    };
    let error = reaches(&mut agent, &late, DeliveryStatus::Failed).await?;
    assert_eq!(error.map(|error| error.code), Some(131047));
    window_closes(&mut agent).await?;
    let contact = server.state.store.conversation(conversation).await?.map(|c| c.contact);
    assert!(contact.is_some_and(|contact| contact.window_closed_at.is_some()));

    // Free text is now refused by Baton itself, before it is stored, with the templates on offer.
    let seen = server.state.store.conversation(conversation).await?.map(|c| c.last_seq).unwrap_or_default();
    let answer = send_reply(&mut agent, conversation, "Hello?", "late-2", seen).await?;
    let ServerMsg::Error { code: ErrorCode::WindowClosed, detail: Some(ErrorDetail::Templates { templates }), .. } =
        &answer
    else {
        anyhow::bail!("free text outside the window: {answer:?}")
    };
    let order_update = templates.iter().find(|template| template.name == "order_update");
    assert_eq!(order_update.map(|template| template.parameters), Some(2), "{templates:?}");
    let stored = server.state.store.messages(conversation).await?;
    assert!(!stored.iter().any(|message| message.body == "Hello?"), "nothing stored");

    // A template with the wrong number of parameters is refused; the right one goes through.
    let template = |parameters: Vec<&str>, key: &str| {
        let parameters: Vec<String> = parameters.into_iter().map(str::to_owned).collect();
        let key = key.to_owned();
        move |req_id| ClientMsg::SendTemplate {
            req_id,
            conversation_id: conversation,
            name: "order_update".into(),
            language: "en_US".into(),
            parameters,
            idempotency_key: key,
            seen_seq: seen,
            force: false,
        }
    };
    let answer = agent.request(template(vec!["Carla"], "t-1")).await?;
    assert!(refused_with(&answer, ErrorCode::InvalidInput), "{answer:?}");
    let answer = agent.request(template(vec!["Carla", "#4471"], "t-2")).await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Message { message: sent }), .. } = answer else {
        anyhow::bail!("template refused: {answer:?}")
    };
    assert_eq!(sent.kind, "template");
    assert_eq!(sent.body, "Hi Carla, your order #4471 is on its way.");
    let request = simulator
        .wait_for_request(|request| {
            request.endpoint == Endpoint::Messages
                && request.json.as_ref().is_some_and(|json| json["type"] == "template")
        })
        .await?;
    let expected = serde_json::json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+15550004444",
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US", "policy": "deterministic"},
            "components": [{"type": "body", "parameters": [
                {"type": "text", "text": "Carla"}, {"type": "text", "text": "#4471"}
            ]}]
        }
    });
    // Every send carries its tag (random per send), echoed in its statuses.
    assert_eq!(baton_tests::whatsapp::untagged(request.json.as_ref()), expected);
    assert_eq!(reaches(&mut agent, &sent, DeliveryStatus::Delivered).await?, None);

    // 131047 as a synchronous refusal closes the window the same way; the customer writing
    // again reopens it, and free text goes through.
    simulator.set_window_enforcement(WindowEnforcement::SyncError);
    let dan = Customer::new("15550005555", "Dan");
    let wamid = simulator.send_text(&dan, "Hello").await?;
    let conversation = wait_for_conversation(&server, &wamid).await?;
    simulator.close_window(&dan.wa_id);
    let (mut agent, seen) = agent_claims(&server, "Bea", conversation).await?;
    let answer = send_reply(&mut agent, conversation, "Hi Dan", "dan-1", seen).await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Message { message }), .. } = answer else {
        anyhow::bail!("reply refused: {answer:?}")
    };
    assert_eq!(reaches(&mut agent, &message, DeliveryStatus::Failed).await?.map(|error| error.code), Some(131047));
    window_closes(&mut agent).await?;
    simulator.send_text(&dan, "I am back").await?;
    let back = arrival(&mut agent, |message| message.body == "I am back").await?;
    let answer = send_reply(&mut agent, conversation, "Welcome back", "dan-2", back.seq).await?;
    assert!(matches!(answer, ServerMsg::Ack { .. }), "the window reopened: {answer:?}");
    Ok(())
}

async fn a_failed_reply_is_sent_again_by_its_holder(kind: Kind) -> anyhow::Result<()> {
    let (server, simulator) = start(kind).await?;
    let erin = Customer::new("15550006666", "Erin");
    // 131026 (undeliverable) is never retried by itself: the agent decides.
    simulator.fail_next_sends(1, 131026, Some("15550006666"));
    let (mut agent, reply) = customer_and_reply(&server, &simulator, &erin, "Your refund is approved").await?;
    assert!(reaches(&mut agent, &reply, DeliveryStatus::Failed).await?.is_some());

    // A teammate without the claim cannot; the holder can, once; a message that did not fail cannot.
    let (other_client, _) = server.logged_in("Bob", Role::Agent).await?;
    let mut other = WsClient::connect(&other_client).await?;
    let retry = |message: &Message| {
        let id = message.id;
        move |req_id| ClientMsg::RetryMessage { req_id, message_id: id }
    };
    let answer = other.request(retry(&reply)).await?;
    assert!(refused_with(&answer, ErrorCode::NotClaimHolder), "{answer:?}");
    let answer = agent.request(retry(&reply)).await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Message { message }), .. } = answer else {
        anyhow::bail!("retry refused: {answer:?}")
    };
    assert_eq!((message.id, message.status, message.error), (reply.id, DeliveryStatus::Pending, None));
    assert_eq!(reaches(&mut agent, &reply, DeliveryStatus::Delivered).await?, None);
    let answer = agent.request(retry(&reply)).await?;
    assert!(refused_with(&answer, ErrorCode::InvalidState), "{answer:?}");

    let sends = simulator
        .message_requests()
        .into_iter()
        .filter(|request| request.json.as_ref().is_some_and(|json| json["to"] == "+15550006666"))
        .count();
    assert_eq!(sends, 2, "the refused send and the retry");
    let stored = server.state.store.messages(reply.conversation_id).await?;
    assert_eq!(stored.iter().filter(|message| message.body == "Your refund is approved").count(), 1);
    Ok(())
}

async fn quotes_and_reactions_reach_whatsapp(kind: Kind) -> anyhow::Result<()> {
    let (server, simulator) = start(kind).await?;
    let hana = Customer::new("15550009999", "Hana");
    let wamid = simulator.send_text(&hana, "Is the blue one in stock?").await?;
    let conversation = wait_for_conversation(&server, &wamid).await?;
    let (mut agent, seen) = agent_claims(&server, "Alice", conversation).await?;
    let messages = server.state.store.messages(conversation).await?;
    let asked = messages.iter().find(|message| message.wa_message_id.as_deref() == Some(wamid.as_str()));
    let asked = asked.ok_or_else(|| anyhow::anyhow!("the question is not stored"))?.id;

    let answer = agent
        .request(|req_id| ClientMsg::Reply {
            req_id,
            conversation_id: conversation,
            body: "Yes, three left.".into(),
            idempotency_key: "quote-1".into(),
            seen_seq: seen,
            force: false,
            reply_to: Some(asked),
        })
        .await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Message { message }), .. } = answer else {
        anyhow::bail!("quote refused: {answer:?}")
    };
    assert_eq!(message.reply_to.as_deref(), Some(wamid.as_str()));
    let quoted =
        simulator.wait_for_request(|request| request.json.as_ref().is_some_and(|json| json["type"] == "text")).await?;
    assert_eq!(quoted.json.as_ref().map(|json| json["context"]["message_id"].clone()), Some(wamid.as_str().into()));

    let answer = agent
        .request(|req_id| ClientMsg::React {
            req_id,
            message_id: asked,
            emoji: "👍".into(),
            idempotency_key: "react-1".into(),
        })
        .await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Message { message }), .. } = answer else {
        anyhow::bail!("reaction refused: {answer:?}")
    };
    assert_eq!((message.kind.as_str(), message.body.as_str()), ("reaction", "👍"));
    let reacted = simulator
        .wait_for_request(|request| request.json.as_ref().is_some_and(|json| json["type"] == "reaction"))
        .await?;
    let expected = serde_json::json!({"message_id": wamid, "emoji": "👍"});
    assert_eq!(reacted.json.as_ref().map(|json| json["reaction"].clone()), Some(expected));

    // Only the claim's holder reacts.
    let (other_client, _) = server.logged_in("Bob", Role::Agent).await?;
    let mut other = WsClient::connect(&other_client).await?;
    let answer = other
        .request(|req_id| ClientMsg::React {
            req_id,
            message_id: asked,
            emoji: "❤️".into(),
            idempotency_key: "react-2".into(),
        })
        .await?;
    assert!(refused_with(&answer, ErrorCode::NotClaimHolder), "{answer:?}");
    Ok(())
}

async fn an_agent_sends_a_picture_with_a_caption(kind: Kind) -> anyhow::Result<()> {
    let (server, simulator) = start(kind).await?;
    let ivy = Customer::new("15550001212", "Ivy");
    let wamid = simulator.send_text(&ivy, "Can I see it?").await?;
    let conversation = wait_for_conversation(&server, &wamid).await?;
    let (client, _) = server.logged_in("Alice", Role::Agent).await?;
    let mut agent = WsClient::connect(&client).await?;
    let opened =
        agent.request(|req_id| ClientMsg::Open { req_id, conversation_id: conversation, after_seq: 0 }).await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Conversation { conversation: opened }), .. } = opened else {
        anyhow::bail!("open refused: {opened:?}")
    };
    agent.request(|req_id| ClientMsg::Claim { req_id, conversation_id: conversation }).await?;

    // The file goes to Baton first; oversized images and typeless files are refused.
    let picture: Vec<u8> = b"\x89PNG\r\n\x1a\n".iter().copied().chain((0..2048).map(|i| (i % 251) as u8)).collect();
    let upload = |body: Vec<u8>, mime: Option<&str>| {
        let mut request = client.request(reqwest::Method::POST, "/api/uploads?filename=blue-one.png").body(body);
        if let Some(mime) = mime {
            request = request.header("content-type", mime);
        }
        request.send()
    };
    let too_big = upload(vec![0; 5 * 1024 * 1024 + 1], Some("image/png")).await?;
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let typeless = upload(picture.clone(), None).await?;
    assert_eq!(typeless.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let stored = upload(picture.clone(), Some("image/png")).await?;
    assert_eq!(stored.status(), StatusCode::CREATED);
    let stored: baton_shared::api::Upload = stored.json().await?;

    let answer = agent
        .request(|req_id| ClientMsg::SendMedia {
            req_id,
            conversation_id: conversation,
            upload_id: stored.upload_id.clone(),
            caption: "The blue one".into(),
            idempotency_key: "picture-1".into(),
            seen_seq: opened.last_seq,
            force: false,
        })
        .await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Message { message }), .. } = answer else {
        anyhow::bail!("media refused: {answer:?}")
    };
    assert_eq!((message.kind.as_str(), message.body.as_str()), ("image", "The blue one"));

    // Uploaded to WhatsApp with the bearer token, then sent by the id it got, with the caption.
    let sent =
        simulator.wait_for_request(|request| request.json.as_ref().is_some_and(|json| json["type"] == "image")).await?;
    let json = sent.json.ok_or_else(|| anyhow::anyhow!("no JSON"))?;
    assert_eq!(json["image"]["caption"], "The blue one");
    let media_id = json["image"]["id"].as_str().unwrap_or_default().to_owned();
    let uploaded = simulator.media(&media_id).ok_or_else(|| anyhow::anyhow!("{media_id} was not uploaded"))?;
    assert_eq!(uploaded.bytes.as_ref(), picture.as_slice());
    assert_eq!(uploaded.mime_type, "image/png");
    assert_eq!(reaches(&mut agent, &message, DeliveryStatus::Delivered).await?, None);

    // The team sees what was sent; nobody else can send this upload.
    let shown = client.get(&format!("/api/messages/{}/media", message.id.0)).await?;
    assert_eq!(shown.status(), StatusCode::OK);
    assert_eq!(shown.bytes().await?.as_ref(), picture.as_slice());
    let (other_client, _) = server.logged_in("Bob", Role::Agent).await?;
    let mut other = WsClient::connect(&other_client).await?;
    let answer = other
        .request(|req_id| ClientMsg::SendMedia {
            req_id,
            conversation_id: conversation,
            upload_id: stored.upload_id.clone(),
            caption: String::new(),
            idempotency_key: "picture-2".into(),
            seen_seq: opened.last_seq,
            force: true,
        })
        .await?;
    assert!(refused_with(&answer, ErrorCode::NotFound), "{answer:?}");
    Ok(())
}

async fn opening_marks_read_and_writing_shows_typing(kind: Kind) -> anyhow::Result<()> {
    let (server, simulator) = start(kind).await?;
    let fay = Customer::new("15550007777", "Fay");
    let wamid = simulator.send_text(&fay, "Are you there?").await?;
    let conversation = wait_for_conversation(&server, &wamid).await?;
    let (mut agent, _) = agent_claims(&server, "Alice", conversation).await?;
    let read = simulator.wait_for_read(&wamid).await?;
    assert!(!read.typing_indicator, "opening marks read");

    agent
        .request(|req_id| ClientMsg::Typing { req_id, conversation_id: conversation, draft: "Yes, one mo".into() })
        .await?;
    simulator
        .wait_for_request(|request| {
            request.endpoint == Endpoint::Messages
                && request.json.as_ref().is_some_and(|json| {
                    json["message_id"] == wamid.as_str() && json["typing_indicator"]["type"] == "text"
                })
        })
        .await?;
    Ok(())
}

async fn customer_media_reaches_the_team_only(kind: Kind) -> anyhow::Result<()> {
    let (server, simulator) = start(kind).await?;
    let gus = Customer::new("15550008888", "Gus");
    let receipt = simulator.send(&gus, Inbound::image(Some("The damaged box"))).await?;
    let conversation = wait_for_conversation(&server, receipt.message_id()).await?;
    let messages = server.state.store.messages(conversation).await?;
    let image = messages.iter().find(|message| message.kind == "image").ok_or_else(|| anyhow::anyhow!("no image"))?;
    let Some(MessageContent::Media { media_id, .. }) = image.content.as_deref() else {
        anyhow::bail!("an image without media: {image:?}")
    };
    let original = simulator.media(media_id).ok_or_else(|| anyhow::anyhow!("the simulator lost {media_id}"))?;

    let path = format!("/api/messages/{}/media", image.id.0);
    let (agent, _) = server.logged_in("Alice", Role::Agent).await?;
    let response = agent.get(&path).await?;
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| response.headers().get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
    assert_eq!(header("content-type").as_deref(), Some(original.mime_type.as_str()));
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    assert!(header("content-security-policy").is_some_and(|csp| csp.contains("sandbox")));
    assert_eq!(response.bytes().await?.as_ref(), original.bytes.as_ref(), "the customer's exact bytes");
    // Kept under the data directory, fetched with the bearer token.
    assert!(server.state.config.data_dir.join("media").join(media_id).is_file());
    let downloads: Vec<_> =
        simulator.requests().into_iter().filter(|request| request.endpoint == Endpoint::MediaDownload).collect();
    assert!(!downloads.is_empty(), "fetched from WhatsApp");
    for download in downloads {
        let bearer = format!("Bearer {}", simulator.config().access_token);
        assert_eq!(download.authorization.as_deref(), Some(bearer.as_str()));
    }

    let stranger = server.client().get(&path).await?;
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
    // A message without media has none to serve.
    let text_wamid = simulator.send_text(&gus, "Did you see it?").await?;
    wait_for_conversation(&server, &text_wamid).await?;
    let messages = server.state.store.messages(conversation).await?;
    let text = messages.iter().find(|message| message.wa_message_id.as_deref() == Some(text_wamid.as_str()));
    let text = text.ok_or_else(|| anyhow::anyhow!("the text is not stored"))?;
    let missing = agent.get(&format!("/api/messages/{}/media", text.id.0)).await?;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    Ok(())
}

baton_tests::on_both_kinds!(
    a_closed_window_takes_templates_only_until_the_customer_writes,
    a_failed_reply_is_sent_again_by_its_holder,
    quotes_and_reactions_reach_whatsapp,
    an_agent_sends_a_picture_with_a_caption,
    opening_marks_read_and_writing_shows_typing,
    customer_media_reaches_the_team_only
);
