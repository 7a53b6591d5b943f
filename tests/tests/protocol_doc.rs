//! `docs/protocol.md` shows a JSON example of every message: each example must parse as the
//! message it claims to be, and every message type must have one (adding a variant without
//! documenting it fails here: the matches below have no wildcard).

use std::collections::BTreeSet;

use baton_shared::model::Change;
use baton_shared::protocol::{ClientMsg, ServerMsg};

/// The JSON blocks tagged `client` or `server` in the document.
fn examples(kind: &str) -> anyhow::Result<Vec<String>> {
    let doc = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/protocol.md"))?;
    let opening = format!("```json {kind}\n");
    let mut blocks = Vec::new();
    let mut rest = doc.as_str();
    while let Some(start) = rest.find(&opening) {
        let body = &rest[start + opening.len()..];
        let end = body.find("```").ok_or_else(|| anyhow::anyhow!("unclosed block"))?;
        blocks.push(body[..end].to_owned());
        rest = &body[end..];
    }
    Ok(blocks)
}

fn client_name(message: &ClientMsg) -> &'static str {
    match message {
        ClientMsg::Ping { .. } => "ping",
        ClientMsg::SetPresence { .. } => "set_presence",
        ClientMsg::SubscribeInbox { .. } => "subscribe_inbox",
        ClientMsg::Open { .. } => "open",
        ClientMsg::Close { .. } => "close",
        ClientMsg::Typing { .. } => "typing",
        ClientMsg::Claim { .. } => "claim",
        ClientMsg::Release { .. } => "release",
        ClientMsg::Transfer { .. } => "transfer",
        ClientMsg::TakeOver { .. } => "take_over",
        ClientMsg::Assign { .. } => "assign",
        ClientMsg::SetStatus { .. } => "set_status",
        ClientMsg::TakeNext { .. } => "take_next",
        ClientMsg::SetTeam { .. } => "set_team",
        ClientMsg::SetPriority { .. } => "set_priority",
        ClientMsg::EditLabels { .. } => "edit_labels",
        ClientMsg::Reply { .. } => "reply",
        ClientMsg::SendTemplate { .. } => "send_template",
        ClientMsg::React { .. } => "react",
        ClientMsg::SendMedia { .. } => "send_media",
        ClientMsg::ListTemplates { .. } => "list_templates",
        ClientMsg::RetryMessage { .. } => "retry_message",
        ClientMsg::AddNote { .. } => "add_note",
        ClientMsg::EditNote { .. } => "edit_note",
        ClientMsg::DeleteNote { .. } => "delete_note",
    }
}

const CLIENT_MESSAGES: usize = 25;

fn server_name(message: &ServerMsg) -> &'static str {
    match message {
        ServerMsg::Hello { .. } => "hello",
        ServerMsg::Ack { .. } => "ack",
        ServerMsg::Error { .. } => "error",
        ServerMsg::Event { .. } => "event",
        ServerMsg::Resync { .. } => "resync",
        ServerMsg::Presence { .. } => "presence",
        ServerMsg::Viewers { .. } => "viewers",
        ServerMsg::Typing { .. } => "typing",
        ServerMsg::Draft { .. } => "draft",
        ServerMsg::Mentioned { .. } => "mentioned",
        ServerMsg::ChannelAlert { .. } => "channel_alert",
        ServerMsg::ContactChanged { .. } => "contact_changed",
    }
}

const SERVER_MESSAGES: usize = 12;

fn change_name(change: &Change) -> &'static str {
    match change {
        Change::Opened { .. } => "opened",
        Change::MessageAdded { .. } => "message_added",
        Change::MessageStatus { .. } => "message_status",
        Change::Claimed { .. } => "claimed",
        Change::Released { .. } => "released",
        Change::Transferred { .. } => "transferred",
        Change::TakenOver { .. } => "taken_over",
        Change::StatusChanged { .. } => "status_changed",
        Change::Labeled { .. } => "labeled",
        Change::Assigned { .. } => "assigned",
        Change::Triaged { .. } => "triaged",
        Change::NoteAdded { .. } => "note_added",
        Change::NoteEdited { .. } => "note_edited",
        Change::NoteDeleted { .. } => "note_deleted",
        Change::WindowClosed { .. } => "window_closed",
        Change::Snoozed { .. } => "snoozed",
        Change::SlaChanged { .. } => "sla_changed",
        Change::SlaBreached { .. } => "sla_breached",
        Change::CsatAnswered { .. } => "csat_answered",
    }
}

const CHANGES: usize = 19;

#[test]
fn every_client_message_is_documented_and_parses() -> anyhow::Result<()> {
    let mut seen = BTreeSet::new();
    for example in examples("client")? {
        let message: ClientMsg =
            serde_json::from_str(&example).map_err(|error| anyhow::anyhow!("{example}\n{error}"))?;
        seen.insert(client_name(&message));
    }
    assert_eq!(seen.len(), CLIENT_MESSAGES, "documented: {seen:?}");
    Ok(())
}

#[test]
fn every_server_message_and_change_is_documented_and_parses() -> anyhow::Result<()> {
    let mut seen = BTreeSet::new();
    let mut changes = BTreeSet::new();
    for example in examples("server")? {
        let message: ServerMsg =
            serde_json::from_str(&example).map_err(|error| anyhow::anyhow!("{example}\n{error}"))?;
        if let ServerMsg::Event { event } = &message {
            changes.insert(change_name(&event.change));
        }
        seen.insert(server_name(&message));
    }
    assert_eq!(seen.len(), SERVER_MESSAGES, "documented: {seen:?}");
    assert_eq!(changes.len(), CHANGES, "every kind of change has an example: {changes:?}");
    Ok(())
}
