//! `@name` mentions in notes notify only teammates who may see the conversation: a mention never
//! tells an agent about a conversation assigned to someone else. On both databases.

use baton_shared::api::{Role, User};
use baton_shared::protocol::{AckDetail, ClientMsg, ServerMsg};
use baton_shared::{ConversationId, NoteId};
use baton_tests::database::Kind;
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;

async fn member(server: &TestServer, name: &str, role: Role) -> anyhow::Result<(User, WsClient)> {
    let (client, user) = server.logged_in(name, role).await?;
    Ok((user, WsClient::connect(&client).await?))
}

/// Adds a note; returns its id.
async fn add_note(socket: &mut WsClient, conversation: ConversationId, body: &str) -> anyhow::Result<NoteId> {
    let body = body.to_owned();
    let added = socket.request(|req_id| ClientMsg::AddNote { req_id, conversation_id: conversation, body }).await?;
    let ServerMsg::Ack { detail: Some(AckDetail::Note { note }), .. } = added else { anyhow::bail!("{added:?}") };
    Ok(note.id)
}

/// The mentions of `note` that reached `socket` by now. The server notifies before it answers the
/// note's author, and one socket's messages arrive in order: everything sent to this socket before
/// that answer precedes the answer to a ping sent after it.
async fn mentions_of(socket: &mut WsClient, note: NoteId) -> anyhow::Result<usize> {
    socket.request(|req_id| ClientMsg::Ping { req_id }).await?;
    Ok(socket
        .pending
        .drain(..)
        .filter(|message| matches!(message, ServerMsg::Mentioned { note_id, .. } if *note_id == note))
        .count())
}

async fn mentions_reach_only_those_who_may_see_the_conversation(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (bob_user, mut bob) = member(&server, "Bob Agent", Role::Agent).await?;
    let (_, mut carl) = member(&server, "Carl Agent", Role::Agent).await?;
    let (_, mut sue) = member(&server, "Sue Supervisor", Role::Supervisor).await?;
    let bob_id = bob_user.id;

    // Unassigned: every agent may see it, so Carl hears of a mention (the handle works).
    let open_to_all = server.customer_writes("15550001", "Hello").await?;
    let note = add_note(&mut bob, open_to_all, "ask @carl and @sue").await?;
    assert_eq!(mentions_of(&mut carl, note).await?, 1, "Carl may see an unassigned conversation");
    assert_eq!(mentions_of(&mut sue, note).await?, 1);

    // Assigned to Bob: Carl may not see it, so a mention must not reach him; a supervisor may.
    let bobs = server.customer_writes("15550002", "Private matter").await?;
    let assigned = sue
        .request(|req_id| ClientMsg::Assign { req_id, conversation_id: bobs, assignee: Some(bob_id), note: None })
        .await?;
    anyhow::ensure!(matches!(assigned, ServerMsg::Ack { .. }), "{assigned:?}");
    let note = add_note(&mut bob, bobs, "@carl @sue have a look").await?;
    assert_eq!(mentions_of(&mut sue, note).await?, 1, "a supervisor sees every conversation");
    assert_eq!(mentions_of(&mut carl, note).await?, 0, "Carl may not see Bob's conversation");

    // Editing the note mentions again, under the same rule.
    let edited = bob
        .request(|req_id| ClientMsg::EditNote {
            req_id,
            note_id: note,
            body: "@carl @sue have a look, please".into(),
            base_version: 1,
        })
        .await?;
    anyhow::ensure!(matches!(edited, ServerMsg::Ack { .. }), "{edited:?}");
    assert_eq!(mentions_of(&mut sue, note).await?, 1);
    assert_eq!(mentions_of(&mut carl, note).await?, 0, "nor through an edit");
    server.stop().await
}

baton_tests::on_both_kinds!(mentions_reach_only_those_who_may_see_the_conversation);
