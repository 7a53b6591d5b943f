//! # The contact domain: every rule on a customer's record, in one place
//!
//! Each operation takes an [`Actor`] and answers a typed value or a [`Refusal`]; REST handlers
//! ([`crate::http::contacts`]) parse, call and map. The rules:
//! - **Who sees a contact** ([`may_see`]): whoever may see one of the customer's conversations
//!   (by [`baton_shared::rules::visible_to`]); supervisors and admins see every contact. A contact
//!   one may not see is answered as one that does not exist.
//! - **Who edits it** ([`may_edit`]): whoever sees it. **Who defines attributes, imports and
//!   exports** ([`may_manage`]): supervisors and admins.
//! - Every edit is checked ([`ContactPatch::checked`]), audited field by field (who, when, old,
//!   new) in the transaction that makes it, and announced to everyone who may see the customer
//!   (`ServerMsg::ContactChanged`), so every open card changes live.
//!
//! [`phone`] normalizes numbers (E.164); [`csv_file`] reads imports and writes exports.

pub mod csv_file;
pub mod phone;

use std::collections::HashMap;

use baton_shared::ErrorCode;
use baton_shared::contacts::{
    AttributeDef, ContactChange, ContactList, ContactListRequest, ContactPatch, ContactProfile, ContactRecord,
    ImportAction, ImportReport, ImportRow, check_definitions, shown_name,
};
use baton_shared::model::{Conversation, normalize_label};
use baton_shared::protocol::ServerMsg;
use baton_shared::search::{MIN_DIGITS, Query, digits};
use baton_shared::{ContactId, ConversationId};

use crate::conversations::search::scope;
use crate::conversations::{Actor, Refusal};
use crate::state::AppState;
use crate::store::contacts::{ContactFilter, Editor};

/// Contacts per page of the list, by default and at most.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 100;
/// Rows an import's preview shows.
const PREVIEW_ROWS: usize = 50;
/// Updated customers an import announces live, at most.
const ANNOUNCED_IMPORTS: usize = 200;
/// Contacts an export reads per statement.
const EXPORT_BATCH: i64 = 1_000;

/// What a contact one may not see (or that does not exist) is answered with.
fn no_contact() -> Refusal {
    Refusal::new(ErrorCode::NotFound, "No such contact.")
}

/// Whether `actor` may see a customer whose conversations are `conversations`.
pub fn may_see(actor: &Actor, conversations: &[Conversation]) -> bool {
    actor.is_supervisor() || conversations.iter().any(|conversation| actor.may_see(conversation))
}

/// Whether `actor` may edit that customer's record: whoever may see it.
pub fn may_edit(actor: &Actor, conversations: &[Conversation]) -> bool {
    may_see(actor, conversations)
}

/// Whether `actor` may define attributes, import and export: supervisors and admins.
pub fn may_manage(actor: &Actor) -> bool {
    actor.is_supervisor()
}

/// How many of a customer's conversations `actor` may see: a record's count is the reader's.
fn visible_count(actor: &Actor, conversations: &[Conversation]) -> u32 {
    let visible = conversations.iter().filter(|conversation| actor.may_see(conversation)).count();
    u32::try_from(visible).unwrap_or(u32::MAX)
}

/// The actor as audit entries record them.
fn editor(actor: &Actor) -> Editor {
    Editor { id: (!actor.is_automation()).then(|| actor.id()), name: actor.teammate().name.clone() }
}

/// The contact's conversations as stored, if `actor` may see the contact.
async fn seen(state: &AppState, actor: &Actor, id: ContactId) -> Result<Vec<Conversation>, Refusal> {
    let conversations = state.store.conversations_of_contact(id).await?;
    if may_see(actor, &conversations) { Ok(conversations) } else { Err(no_contact()) }
}

/// A customer's profile: the record and the conversations `actor` may see, newest first.
pub async fn profile(state: &AppState, actor: &Actor, id: ContactId) -> Result<ContactProfile, Refusal> {
    let mut record = state.store.contact(id).await?.ok_or_else(no_contact)?;
    let every = seen(state, actor, id).await?;
    let editable = may_edit(actor, &every);
    let conversations: Vec<_> = state
        .store
        .contact_conversations(id)
        .await?
        .into_iter()
        .filter(|(conversation, _)| actor.may_see(conversation))
        .map(|(_, listed)| listed)
        .collect();
    record.conversations = Some(visible_count(actor, &every));
    Ok(ContactProfile { record, conversations, editable })
}

/// The Contacts page's list: what `actor` may see, filtered and sorted.
pub async fn list(state: &AppState, actor: &Actor, request: &ContactListRequest) -> Result<ContactList, Refusal> {
    let limit = request.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Refusal::invalid(format!("limit must be from 1 to {MAX_LIMIT}.")));
    }
    let text = request.q.as_deref().unwrap_or_default();
    let number_like = text.chars().all(|character| character.is_ascii_digit() || " +-().".contains(character));
    let run = digits(text);
    let label = match request.label.as_deref().filter(|label| !label.trim().is_empty()) {
        Some(label) => Some(normalize_label(label).map_err(Refusal::invalid)?),
        None => None,
    };
    let attribute = match (&request.attribute, &request.value) {
        (Some(key), Some(value)) => {
            let definitions = state.store.attribute_definitions().await?;
            let definition = definitions
                .iter()
                .find(|definition| definition.key == *key)
                .ok_or_else(|| Refusal::invalid(format!("No attribute “{key}” is defined.")))?;
            let value = definition
                .read(value)
                .map_err(Refusal::invalid)?
                .ok_or_else(|| Refusal::invalid(format!("Say which value of “{}” to list.", definition.label)))?;
            let json = serde_json::to_string(&value).map_err(|_| crate::conversations::unexpected("attribute json"))?;
            Some((key.clone(), json))
        }
        (None, None) => None,
        _ => return Err(Refusal::invalid("Filter by an attribute with both attribute and value.")),
    };
    // A number is looked for by its digits, anything else by its words: one index each.
    let digits = (number_like && run.len() >= MIN_DIGITS).then_some(run);
    let filter = ContactFilter {
        request: request.clone(),
        query: if digits.is_some() { Query::default() } else { Query::parse(text) },
        digits,
        attribute,
        label,
        offset: request.offset.unwrap_or(0),
        limit,
    };
    Ok(state.store.contacts(&scope(actor), &filter).await?)
}

/// Edits a contact as `actor`: checked, audited, announced. Answers the record as it is now.
pub async fn edit(
    state: &AppState,
    actor: &Actor,
    id: ContactId,
    patch: &ContactPatch,
) -> Result<ContactRecord, Refusal> {
    let conversations = seen(state, actor, id).await?;
    if !may_edit(actor, &conversations) {
        return Err(Refusal::forbidden("edit this contact"));
    }
    if patch.is_empty() {
        return Err(Refusal::invalid(
            "Say what to change: display_name, email, company, labels, blocked or attributes.",
        ));
    }
    let definitions = state.store.attribute_definitions().await?;
    let checked = patch.checked(&definitions).map_err(Refusal::invalid)?;
    let (mut record, changes) = state.store.update_contact(id, &checked, &editor(actor), state.now()).await?;
    if !changes.is_empty() {
        announce(state, &record, &conversations);
        // Unblocked: what waited in a queue may be routed now.
        if patch.blocked == Some(false) {
            for team in conversations.iter().filter_map(|conversation| conversation.team) {
                state.router.kick(team);
            }
        }
        tracing::info!(contact = %id, by = %actor.id(), fields = changes.len(), "contact edited");
    }
    record.conversations = Some(visible_count(actor, &conversations));
    Ok(record)
}

/// Tells everyone who may see the customer what their record is now.
fn announce(state: &AppState, record: &ContactRecord, conversations: &[Conversation]) {
    let ids: Vec<ConversationId> = conversations.iter().map(|conversation| conversation.id).collect();
    // Readers differ in which conversations they may see: the push counts none.
    let record = ContactRecord { conversations: None, ..record.clone() };
    state.hub.send_to_seers(&ids, &ServerMsg::ContactChanged { contact: Box::new(record) });
}

/// The contact's audited changes, newest first.
pub async fn changes(state: &AppState, actor: &Actor, id: ContactId) -> Result<Vec<ContactChange>, Refusal> {
    seen(state, actor, id).await?;
    Ok(state.store.contact_changes(id, 200).await?)
}

/// Saves the attribute definitions (supervisors and admins).
pub async fn define(
    state: &AppState,
    actor: &Actor,
    definitions: Vec<AttributeDef>,
) -> Result<Vec<AttributeDef>, Refusal> {
    if !may_manage(actor) {
        return Err(Refusal::forbidden("define contact attributes"));
    }
    let definitions: Vec<AttributeDef> = definitions
        .into_iter()
        .map(|definition| AttributeDef { label: definition.label.trim().to_owned(), ..definition })
        .collect();
    check_definitions(&definitions).map_err(Refusal::invalid)?;
    state.store.save_attribute_definitions(&definitions, &editor(actor), state.now()).await?;
    Ok(definitions)
}

/// Reads a CSV import and, if `commit` and every row is good, imports it — all rows in one
/// transaction, or none. Supervisors and admins.
pub async fn import(state: &AppState, actor: &Actor, text: &str, commit: bool) -> Result<ImportReport, Refusal> {
    if !may_manage(actor) {
        return Err(Refusal::forbidden("import contacts"));
    }
    let definitions = state.store.attribute_definitions().await?;
    let file = csv_file::read(text, &definitions);
    let numbers: Vec<String> = file.rows.iter().map(|row| row.wa_id.clone()).collect();
    let existing: HashMap<String, ContactRecord> = state
        .store
        .contacts_by_number(&numbers)
        .await?
        .into_iter()
        .map(|record| (record.contact.wa_id.clone(), record))
        .collect();
    let known = |wa_id: &str| existing.get(wa_id);
    let preview = file
        .rows
        .iter()
        .take(PREVIEW_ROWS)
        .map(|row| ImportRow {
            line: row.line,
            phone: format!("+{}", row.wa_id),
            name: row
                .patch
                .display_name
                .clone()
                .or_else(|| known(&row.wa_id).map(|record| shown_name(&record.contact)))
                .unwrap_or_default(),
            action: if known(&row.wa_id).is_some() { ImportAction::Update } else { ImportAction::Create },
        })
        .collect();
    let updates = file.rows.iter().filter(|row| known(&row.wa_id).is_some()).count();
    let mut report = ImportReport {
        rows: file.read,
        creates: u32::try_from(file.rows.len() - updates).unwrap_or(u32::MAX),
        updates: u32::try_from(updates).unwrap_or(u32::MAX),
        preview,
        problems: file.problems,
        committed: false,
    };
    if file.read == 0 && report.problems.is_empty() {
        return Err(Refusal::invalid("The file holds no contacts: a header row, then one row per contact."));
    }
    if commit && report.problems.is_empty() {
        let imported = state.store.import_contacts(&file.rows, &editor(actor), state.now()).await?;
        report.creates = imported.created;
        report.updates = imported.updated;
        report.committed = true;
        tracing::info!(by = %actor.id(), created = imported.created, updated = imported.updated, "contacts imported");
        // Cards open on the customers it changed show it; a bulk import past a few hundred is
        // seen on the next look instead of flooding every socket.
        for record in existing.values().take(ANNOUNCED_IMPORTS) {
            let conversations = state.store.conversations_of_contact(record.contact.id).await?;
            if let Some(now) = state.store.contact(record.contact.id).await? {
                announce(state, &now, &conversations);
            }
        }
    }
    Ok(report)
}

/// Every contact as CSV (supervisors and admins).
pub async fn export(state: &AppState, actor: &Actor) -> Result<String, Refusal> {
    if !may_manage(actor) {
        return Err(Refusal::forbidden("export contacts"));
    }
    let definitions = state.store.attribute_definitions().await?;
    let mut out = String::new();
    let mut after = ContactId(0);
    let mut first = true;
    loop {
        let batch = state.store.contacts_after(after, EXPORT_BATCH).await?;
        let Some(last) = batch.last() else { break };
        after = last.contact.id;
        let rows = csv_file::write(&batch, &definitions, first)
            .map_err(|_| crate::conversations::unexpected("contacts csv"))?;
        out.push_str(&rows);
        first = false;
    }
    if first {
        out = csv_file::write(&[], &definitions, true).map_err(|_| crate::conversations::unexpected("contacts csv"))?;
    }
    Ok(out)
}
