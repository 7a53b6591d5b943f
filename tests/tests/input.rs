//! Hostile input over real HTTP and WebSockets, on SQLite and PostgreSQL: NUL characters are kept
//! as U+FFFD (never a 500), requests must be JSON objects, names and labels lose the characters
//! that could disguise them.

use baton_shared::ErrorCode;
use baton_shared::api::{CannedResponse, CannedResponseRequest, CreateUserRequest, Role, Upload, User};
use baton_shared::model::Change;
use baton_shared::protocol::{AckDetail, ClientMsg, ServerMsg};
use baton_tests::client::{TestClient, expect_error, json};
use baton_tests::database::Kind;
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;
use reqwest::StatusCode;
use serde_json::json as value;
use tokio_tungstenite::tungstenite::Message;

baton_tests::on_both_kinds!(
    nul_is_replaced_in_notes_replies_and_canned_responses,
    requests_must_be_json_objects,
    names_labels_and_titles_lose_disguising_characters,
    only_raster_audio_and_video_are_shown_inline,
);

async fn nul_is_replaced_in_notes_replies_and_canned_responses(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (supervisor, _) = server.logged_in("Sam", Role::Supervisor).await?;

    let request = CannedResponseRequest { title: "Nul\0title".into(), body: "Hello\0there".into() };
    let created = supervisor.post("/api/canned-responses", &request).await?;
    assert_eq!(created.status(), StatusCode::CREATED);
    let canned: CannedResponse = json(created).await?;
    assert_eq!((canned.title.as_str(), canned.body.as_str()), ("Nul\u{fffd}title", "Hello\u{fffd}there"));

    let conversation = server.customer_writes("15550009999", "Hello").await?;
    let mut socket = WsClient::connect(&supervisor).await?;
    let opened =
        socket.request(|req_id| ClientMsg::Open { req_id, conversation_id: conversation, after_seq: 0 }).await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Conversation { conversation: seen }), .. } = opened else {
        anyhow::bail!("open: {opened:?}")
    };
    let note = socket
        .request(|req_id| ClientMsg::AddNote { req_id, conversation_id: conversation, body: "a\0note".into() })
        .await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Note { note }), .. } = note else { anyhow::bail!("note: {note:?}") };
    assert_eq!(note.body, "a\u{fffd}note");

    let claimed = socket.request(|req_id| ClientMsg::Claim { req_id, conversation_id: conversation }).await?;
    anyhow::ensure!(matches!(claimed, ServerMsg::Ack { .. }), "claim: {claimed:?}");
    let replied = socket
        .request(|req_id| ClientMsg::Reply {
            req_id,
            conversation_id: conversation,
            body: "a\0reply".into(),
            idempotency_key: "nul-1".into(),
            seen_seq: seen.last_seq + 1,
            force: true,
            reply_to: None,
        })
        .await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Message { message }), .. } = replied else {
        anyhow::bail!("reply: {replied:?}")
    };
    assert_eq!(message.body, "a\u{fffd}reply");

    // As stored, not only as answered.
    let events = server.state.store.events_after(conversation, 0, 100).await?;
    let stored: Vec<&str> = events
        .iter()
        .filter_map(|event| match &event.change {
            Change::NoteAdded { note } => Some(note.body.as_str()),
            Change::MessageAdded { message } => Some(message.body.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(stored, ["Hello", "a\u{fffd}note", "a\u{fffd}reply"]);
    let listed: Vec<CannedResponse> = json(supervisor.get("/api/canned-responses").await?).await?;
    assert_eq!(listed, [canned]);
    Ok(())
}

/// serde reads a struct from a JSON array (its fields in order): every request must be an object.
async fn requests_must_be_json_objects(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let (agent, agent_password) = server.create_user("Alice", Role::Agent).await?;

    let path = format!("/api/users/{}", agent.id);
    for body in [value!(["supervisor"]), value!(["supervisor", true]), value!("supervisor"), value!(null)] {
        let refused = expect_error(admin.patch(&path, &body).await?, StatusCode::UNPROCESSABLE_ENTITY).await?;
        assert_eq!(refused.code, ErrorCode::InvalidInput, "{body}");
    }
    assert_eq!(server.state.store.user(agent.id).await?.map(|user| user.role), Some(Role::Agent), "unchanged");

    let refused = admin.post("/api/canned-responses", &value!(["t", "b"])).await?;
    assert_eq!(expect_error(refused, StatusCode::UNPROCESSABLE_ENTITY).await?.code, ErrorCode::InvalidInput);
    assert!(server.state.store.canned_responses().await?.is_empty(), "nothing created");

    let login = TestClient::new(&server.url(""));
    let refused = login.post("/api/auth/login", &value!([agent.email, agent_password])).await?;
    assert_eq!(expect_error(refused, StatusCode::UNPROCESSABLE_ENTITY).await?.code, ErrorCode::InvalidInput);
    // Not JSON at all is still malformed, and an object still works.
    let garbage = login.request(reqwest::Method::POST, "/api/auth/login").header("content-type", "application/json");
    let refused = garbage.body("[oops").send().await?;
    assert_eq!(expect_error(refused, StatusCode::BAD_REQUEST).await?.code, ErrorCode::MalformedJson);
    let accepted = login.post("/api/auth/login", &value!({"email": agent.email, "password": agent_password})).await?;
    assert_eq!(accepted.status(), StatusCode::OK);

    // The socket too: a request read from an array is refused, and the socket stays up.
    let mut socket = WsClient::connect(&admin).await?;
    socket.send_raw(Message::Text(r#"["ping", 77]"#.into())).await?;
    // Presence frames greet a new socket and may come first: the answer is the error among them.
    let refused = socket.expect(|message| matches!(message, ServerMsg::Error { .. }).then(|| message.clone())).await?;
    assert!(matches!(refused, ServerMsg::Error { req_id: None, code: ErrorCode::InvalidInput, .. }), "{refused:?}");
    let answered = socket.request(|req_id| ClientMsg::Ping { req_id }).await?;
    assert!(matches!(answered, ServerMsg::Ack { .. }), "{answered:?}");
    Ok(())
}

/// An RTL override, zero-width characters or control characters in a name, label, title or file
/// name could make it pass for another: they are dropped on the way in. Message text is kept.
async fn names_labels_and_titles_lose_disguising_characters(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let (supervisor, _) = server.logged_in("Sam", Role::Supervisor).await?;

    let new = CreateUserRequest {
        email: "mallory@test.baton".into(),
        name: "\u{202E}Ali\u{200B}ce\u{7}\u{FEFF}".into(),
        role: Role::Agent,
        password: "a long enough password".into(),
    };
    let created: User = json(admin.post("/api/users", &new).await?).await?;
    assert_eq!(created.name, "Alice");
    assert_eq!(server.state.store.user(created.id).await?.map(|user| user.name).as_deref(), Some("Alice"));

    let request = CannedResponseRequest { title: "\u{2066}Refund\u{200D}\u{2069}".into(), body: "\u{202E}kept".into() };
    let canned: CannedResponse = json(supervisor.post("/api/canned-responses", &request).await?).await?;
    assert_eq!((canned.title.as_str(), canned.body.as_str()), ("Refund", "\u{202E}kept"), "the text is a message");

    let upload = supervisor
        .request(reqwest::Method::POST, "/api/uploads?filename=%E2%80%AEfdp.exe")
        .header("content-type", "application/pdf")
        .body(b"%PDF-1.4".to_vec())
        .send()
        .await?;
    let upload: Upload = json(upload).await?;
    assert_eq!(upload.filename.as_deref(), Some("fdp.exe"));

    let conversation = server.customer_writes("15550007777", "Hello \u{202E}there").await?;
    let mut socket = WsClient::connect(&supervisor).await?;
    let labelled = socket
        .request(|req_id| ClientMsg::EditLabels {
            req_id,
            conversation_id: conversation,
            add: vec!["\u{202E}VIP\u{200B}".into(), "bill\u{1B}ing".into()],
            remove: vec![],
        })
        .await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Conversation { conversation: labelled }), .. } = labelled else {
        anyhow::bail!("labels: {labelled:?}")
    };
    assert_eq!(labelled.labels, ["vip", "billing"]);
    let stored = server.state.store.messages(conversation).await?;
    assert_eq!(stored[0].body, "Hello \u{202E}there", "a customer's text is kept as written");
    Ok(())
}

/// An SVG can carry script: served inline from Baton's origin it would run as Baton's page. Only
/// raster images, audio and video are shown inline; the rest is a download, never sniffed.
async fn only_raster_audio_and_video_are_shown_inline(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (agent, _) = server.logged_in("Alice", Role::Agent).await?;
    let conversation = server.customer_writes("15550006666", "Send me your logo").await?;
    let mut socket = WsClient::connect(&agent).await?;
    let opened =
        socket.request(|req_id| ClientMsg::Open { req_id, conversation_id: conversation, after_seq: 0 }).await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Conversation { conversation: seen }), .. } = opened else {
        anyhow::bail!("open: {opened:?}")
    };
    let claimed = socket.request(|req_id| ClientMsg::Claim { req_id, conversation_id: conversation }).await?;
    anyhow::ensure!(matches!(claimed, ServerMsg::Ack { .. }), "claim: {claimed:?}");

    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>"#;
    let png = b"\x89PNG\r\n\x1a\n0000".as_slice();
    for (name, mime, bytes, disposition) in
        [("logo.svg", "image/svg+xml", svg.as_slice(), "attachment"), ("logo.png", "image/png", png, "inline")]
    {
        let path = format!("/api/uploads?filename={name}");
        let request = agent.request(reqwest::Method::POST, &path).header("content-type", mime).body(bytes.to_vec());
        let upload: Upload = json(request.send().await?).await?;
        let sent = socket
            .request(|req_id| ClientMsg::SendMedia {
                req_id,
                conversation_id: conversation,
                upload_id: upload.upload_id,
                caption: String::new(),
                idempotency_key: format!("media-{name}"),
                seen_seq: seen.last_seq,
                force: true,
            })
            .await?;
        let ServerMsg::Ack { detail: Some(AckDetail::Message { message }), .. } = sent else {
            anyhow::bail!("{name}: {sent:?}")
        };
        let response = agent.get(&format!("/api/messages/{}/media", message.id.0)).await?;
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        let header = |name: &str| response.headers().get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
        assert!(header("content-disposition").is_some_and(|value| value.starts_with(disposition)), "{name}");
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"), "{name}");
        assert_eq!(response.bytes().await?.as_ref(), bytes, "{name}");
    }
    Ok(())
}
