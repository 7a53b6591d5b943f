//! When a claim lets go by itself: resolving the conversation releases it, and leaving the
//! conversation with nothing typed releases it — unless a draft is waiting or another tab of the
//! holder still views it. Before this, one keystroke held a conversation for as long as its typist
//! stayed online, and teammates were locked out of conversations nobody was answering.

use baton_shared::ConversationId;
use baton_shared::api::Role;
use baton_shared::model::{Change, ConversationStatus};
use baton_shared::protocol::{ClientMsg, ServerMsg};
use baton_tests::database::Kind;
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;

async fn member(server: &TestServer, name: &str, role: Role) -> anyhow::Result<WsClient> {
    let (client, _) = server.logged_in(name, role).await?;
    WsClient::connect(&client).await
}

async fn request_ok(socket: &mut WsClient, build: impl FnOnce(u64) -> ClientMsg) -> anyhow::Result<()> {
    let answer = socket.request(build).await?;
    anyhow::ensure!(matches!(answer, ServerMsg::Ack { .. }), "refused: {answer:?}");
    Ok(())
}

async fn open(socket: &mut WsClient, conversation: ConversationId) -> anyhow::Result<()> {
    request_ok(socket, |req_id| ClientMsg::Open { req_id, conversation_id: conversation, after_seq: 0 }).await
}

async fn close(socket: &mut WsClient, conversation: ConversationId) -> anyhow::Result<()> {
    request_ok(socket, |req_id| ClientMsg::Close { req_id, conversation_id: conversation }).await
}

/// Who holds the claim, as stored.
async fn holder(server: &TestServer, conversation: ConversationId) -> anyhow::Result<Option<String>> {
    let stored = server.state.store.conversation(conversation).await?;
    Ok(stored.and_then(|conversation| conversation.claim).map(|claim| claim.holder_name))
}

/// The next `released` event a watcher sees.
async fn released(watcher: &mut WsClient, conversation: ConversationId) -> anyhow::Result<bool> {
    watcher
        .expect(|message| match message {
            ServerMsg::Event { event } if event.conversation_id == conversation => match &event.change {
                Change::Released { expired, .. } => Some(*expired),
                _ => None,
            },
            _ => None,
        })
        .await
}

async fn resolving_releases_the_claim(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let conversation = server.customer_writes("15556660001", "Thanks, all sorted").await?;
    let mut ann = member(&server, "Ann", Role::Agent).await?;
    let mut ben = member(&server, "Ben", Role::Agent).await?;
    open(&mut ben, conversation).await?;
    request_ok(&mut ann, |req_id| ClientMsg::Claim { req_id, conversation_id: conversation }).await?;
    request_ok(&mut ann, |req_id| ClientMsg::SetStatus {
        req_id,
        conversation_id: conversation,
        status: ConversationStatus::Resolved,
        until: None,
    })
    .await?;
    assert!(!released(&mut ben, conversation).await?, "released by the resolve, not expired");
    assert_eq!(holder(&server, conversation).await?, None);
    // Reopened by the customer, it is anyone's to take.
    server.customer_writes("15556660001", "One more thing").await?;
    request_ok(&mut ben, |req_id| ClientMsg::Claim { req_id, conversation_id: conversation }).await?;
    server.stop().await
}

async fn leaving_with_nothing_typed_releases_the_claim(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let conversation = server.customer_writes("15556660002", "Hello?").await?;
    let mut ann = member(&server, "Ann", Role::Agent).await?;
    let mut ben = member(&server, "Ben", Role::Agent).await?;
    open(&mut ben, conversation).await?;

    // Ann opens, claims, and leaves without typing: the claim goes with her.
    open(&mut ann, conversation).await?;
    request_ok(&mut ann, |req_id| ClientMsg::Claim { req_id, conversation_id: conversation }).await?;
    close(&mut ann, conversation).await?;
    assert!(!released(&mut ben, conversation).await?);
    assert_eq!(holder(&server, conversation).await?, None);

    // Ann comes back and types: leaving with a draft keeps the claim (she means to come back).
    open(&mut ann, conversation).await?;
    request_ok(&mut ann, |req_id| ClientMsg::Typing {
        req_id,
        conversation_id: conversation,
        draft: "Let me check your ord".into(),
    })
    .await?;
    close(&mut ann, conversation).await?;
    assert_eq!(holder(&server, conversation).await?.as_deref(), Some("Ann"), "a draft keeps the claim");

    // She comes back, clears her draft and leaves: now nothing holds the claim.
    open(&mut ann, conversation).await?;
    request_ok(&mut ann, |req_id| ClientMsg::Typing { req_id, conversation_id: conversation, draft: String::new() })
        .await?;
    close(&mut ann, conversation).await?;
    assert_eq!(holder(&server, conversation).await?, None, "an emptied draft no longer holds it");
    assert!(!released(&mut ben, conversation).await?);
    server.stop().await
}

async fn another_tab_still_viewing_keeps_the_claim(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let conversation = server.customer_writes("15556660003", "Hi").await?;
    let (ann_user, password) = server.create_user("Ann", Role::Agent).await?;
    let mut tabs = Vec::new();
    for _ in 0..2 {
        let mut client = server.client();
        client.login(&ann_user.email, &password).await?;
        let mut tab = WsClient::connect(&client).await?;
        open(&mut tab, conversation).await?;
        tabs.push(tab);
    }
    request_ok(&mut tabs[0], |req_id| ClientMsg::Claim { req_id, conversation_id: conversation }).await?;
    close(&mut tabs[0], conversation).await?;
    assert_eq!(holder(&server, conversation).await?.as_deref(), Some("Ann"), "her other tab still views it");
    close(&mut tabs[1], conversation).await?;
    assert_eq!(holder(&server, conversation).await?, None, "left in every tab, nothing typed");
    server.stop().await
}

baton_tests::on_both_kinds!(
    resolving_releases_the_claim,
    leaving_with_nothing_typed_releases_the_claim,
    another_tab_still_viewing_keeps_the_claim,
);
