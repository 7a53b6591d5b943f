//! The contacts half of the store: the record the team keeps on each customer, its edits (each
//! field changed audited in the same transaction, its search terms kept with it), the Contacts
//! page's list filtered by who may see which customer, a customer's conversations, attribute
//! definitions, and CSV import (all rows or none) and export.

use async_trait::async_trait;
use baton_shared::contacts::{
    AttributeDef, ContactChange, ContactConversation, ContactList, ContactListRequest, ContactPatch, ContactRecord,
};
use baton_shared::model::Conversation;
use baton_shared::search::Query;
use baton_shared::{ContactId, UserId};

use super::StoreResult;
use super::search::SearchScope;

/// Who changes a contact, as its audit entries record them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Editor {
    /// `None` for Baton itself.
    pub id: Option<UserId>,
    pub name: String,
}

/// A contact's list filters, checked: `attribute` is a defined key and `value` its value as
/// stored JSON (`"Pro"`, `true`, `4.5`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContactFilter {
    pub request: ContactListRequest,
    pub query: Query,
    /// Digits of the query, when it holds enough to search numbers by.
    pub digits: Option<String>,
    pub attribute: Option<(String, String)>,
    pub label: Option<String>,
    pub offset: u32,
    pub limit: u32,
}

/// A row of an import, checked: the number's digits (E.164 without `+`) and the edit it makes.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportContact {
    pub line: u32,
    pub wa_id: String,
    pub patch: ContactPatch,
}

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    pub created: u32,
    pub updated: u32,
}

#[async_trait]
pub trait ContactStore: Send + Sync {
    async fn contact(&self, id: ContactId) -> StoreResult<Option<ContactRecord>>;

    /// The contacts whose numbers (E.164 digits) are among `wa_ids`, by number.
    async fn contacts_by_number(&self, wa_ids: &[String]) -> StoreResult<Vec<ContactRecord>>;

    /// Every conversation of the customer, newest first, as stored (for the visibility rule).
    async fn conversations_of_contact(&self, id: ContactId) -> StoreResult<Vec<Conversation>>;

    /// The customer's conversations, newest first (at most 100), each as stored (for the
    /// visibility rule) and as the profile lists it.
    async fn contact_conversations(&self, id: ContactId) -> StoreResult<Vec<(Conversation, ContactConversation)>>;

    /// The Contacts page: contacts matching `filter` that `scope` may see (one of whose
    /// conversations they may see; supervisors and admins see all).
    async fn contacts(&self, scope: &SearchScope, filter: &ContactFilter) -> StoreResult<ContactList>;

    /// Applies a checked edit (values normalized; see `crate::contacts`) under the contact's row
    /// lock, keeps its search terms, and audits each field that changed, in one transaction.
    /// Returns the record as it is now and the changes (none if nothing changed).
    async fn update_contact(
        &self,
        id: ContactId,
        patch: &ContactPatch,
        by: &Editor,
        now: i64,
    ) -> StoreResult<(ContactRecord, Vec<ContactChange>)>;

    /// The contact's audited changes, newest first.
    async fn contact_changes(&self, id: ContactId, limit: i64) -> StoreResult<Vec<ContactChange>>;

    /// The attributes admins defined, in their order.
    async fn attribute_definitions(&self) -> StoreResult<Vec<AttributeDef>>;

    /// Replaces the definitions (checked by the caller) and audits it.
    async fn save_attribute_definitions(&self, definitions: &[AttributeDef], by: &Editor, now: i64) -> StoreResult<()>;

    /// Creates or updates every row's contact, in one transaction (all or nothing), each edit
    /// audited as the importer's.
    async fn import_contacts(&self, rows: &[ImportContact], by: &Editor, now: i64) -> StoreResult<Imported>;

    /// Contacts by id, from `after` up, `limit` of them (for export).
    async fn contacts_after(&self, after: ContactId, limit: i64) -> StoreResult<Vec<ContactRecord>>;

    /// Gives up to `limit` contacts stored before contact search existed their search terms, and
    /// up to `limit` conversations labelled before then their labels' document; returns how many
    /// it did (0 when none is left).
    async fn index_contact_backlog(&self, limit: i64) -> StoreResult<u64>;
}
