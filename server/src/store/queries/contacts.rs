//! Contacts, in SQL: the record read, an edit applied under the contact's row lock with its
//! audit entries and search terms in the same transaction, the Contacts page's list (filtered by
//! who may see which customer, in the statement), and a customer's conversations.

use async_trait::async_trait;
use baton_shared::contacts::{
    AttributeDef, AttributeValue, ContactChange, ContactConversation, ContactList, ContactPatch, ContactRecord,
    ContactSort, MessagePreview,
};
use baton_shared::model::{Contact, Conversation};
use baton_shared::search::{index_terms, message_text, tsvector_literal};
use baton_shared::{ContactId, ConversationId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::search::{Bind, bind_all, label_pattern, visible_sql};
use super::{Sql, SqlStore, placeholders, rows};
use crate::store::contacts::{ContactFilter, ContactStore, Editor, ImportContact, Imported};
use crate::store::search::SearchScope;
use crate::store::{Backend, StoreError, StoreResult};

/// The conversations a profile lists, at most.
const PROFILE_CONVERSATIONS: i64 = 100;

/// `SELECT` of a contact's record, counting every conversation of the customer; append a
/// `WHERE`/`ORDER BY`.
pub(super) const CONTACT_SELECT: &str = "SELECT k.id AS contact_id, k.wa_id, k.profile_name, k.last_inbound_at, \
     k.window_closed_at, k.display_name, k.blocked, k.email, k.company, k.labels, k.attributes, k.created_at, \
     k.updated_at, (SELECT COUNT(*) FROM conversations c WHERE c.contact_id = k.id) AS conversations \
     FROM contacts k";

/// [`CONTACT_SELECT`] counting only the conversations `scope` may see.
fn contact_select_for(scope: &SearchScope) -> String {
    if scope.everything {
        return CONTACT_SELECT.to_owned();
    }
    CONTACT_SELECT.replace(
        "WHERE c.contact_id = k.id) AS conversations",
        &format!("WHERE c.contact_id = k.id AND {}) AS conversations", visible_sql(scope)),
    )
}

/// What a customer message's upsert of its contact returns: the record as it now stands (its
/// conversations not counted: `0`), to index it by, and its stored terms (which the upsert
/// leaves as they were).
pub(super) const CONTACT_RETURNING: &str = "id AS contact_id, wa_id, profile_name, last_inbound_at, \
     window_closed_at, display_name, blocked, email, company, labels, attributes, created_at, updated_at, \
     CAST(0 AS BIGINT) AS conversations, terms";

/// A row of [`CONTACT_RETURNING`].
#[derive(sqlx::FromRow)]
pub(super) struct UpsertedRow {
    #[sqlx(flatten)]
    pub record: RecordRow,
    pub terms: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(super) struct RecordRow {
    #[sqlx(flatten)]
    contact: rows::ContactRow,
    email: String,
    company: String,
    labels: String,
    attributes: String,
    created_at: i64,
    updated_at: Option<i64>,
    conversations: i64,
}

impl TryFrom<RecordRow> for ContactRecord {
    type Error = StoreError;

    fn try_from(row: RecordRow) -> Result<Self, Self::Error> {
        let labels = serde_json::from_str(&row.labels).map_err(|_| rows::corrupt(format!("labels {}", row.labels)))?;
        let attributes = serde_json::from_str(&row.attributes)
            .map_err(|_| rows::corrupt(format!("attributes {}", row.attributes)))?;
        let contact = Contact::from(row.contact);
        Ok(ContactRecord {
            phone: format!("+{}", contact.wa_id),
            contact,
            email: row.email,
            company: row.company,
            labels,
            attributes,
            created_at: row.created_at,
            updated_at: row.updated_at,
            conversations: Some(u32::try_from(row.conversations).unwrap_or(u32::MAX)),
        })
    }
}

/// Everything a contact is found by in words (its number is found by digits, apart): both
/// names, email, company, labels and attribute values, as one text for [`index_terms`].
fn contact_text(record: &ContactRecord) -> String {
    let mut text = vec![record.contact.profile_name.clone(), record.email.clone(), record.company.clone()];
    text.extend(record.contact.display_name.clone());
    text.extend(record.labels.iter().cloned());
    text.extend(record.attributes.values().map(AttributeValue::display));
    text.join(" ")
}

/// Appends `condition` to `sql`, each `?` in it numbered after the binds so far, and its binds.
fn add(sql: &mut String, binds: &mut Vec<Bind>, condition: &str, values: Vec<Bind>) {
    let mut pieces = condition.split('?');
    sql.push_str(pieces.next().unwrap_or_default());
    for (piece, value) in pieces.zip(values) {
        binds.push(value);
        sql.push_str(&format!("${}{piece}", binds.len()));
    }
}

/// A field's value as its audit entry writes it: `None` for empty.
fn shown(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

/// One field changed: its name, the old value and the new (as audit entries write them).
type FieldChange = (String, Option<String>, Option<String>);

/// A change of one field, if the value differs.
fn changed(field: &str, old: Option<String>, new: Option<String>) -> Option<FieldChange> {
    (old != new).then(|| (field.to_owned(), old, new))
}

/// `record` with `patch` applied, and the fields that changed (field, old, new).
fn apply(record: &ContactRecord, patch: &ContactPatch) -> (ContactRecord, Vec<FieldChange>) {
    let mut next = record.clone();
    let mut changes = Vec::new();
    if let Some(name) = &patch.display_name {
        let name = Some(name.trim().to_owned()).filter(|name| !name.is_empty());
        changes.extend(changed("display_name", next.contact.display_name.clone(), name.clone()));
        next.contact.display_name = name;
    }
    if let Some(email) = &patch.email {
        changes.extend(changed("email", shown(&next.email), shown(email)));
        next.email = email.clone();
    }
    if let Some(company) = &patch.company {
        changes.extend(changed("company", shown(&next.company), shown(company)));
        next.company = company.clone();
    }
    if let Some(labels) = &patch.labels {
        changes.extend(changed("labels", shown(&next.labels.join(", ")), shown(&labels.join(", "))));
        next.labels = labels.clone();
    }
    if let Some(blocked) = patch.blocked {
        let yes_no = |blocked: bool| Some(if blocked { "yes" } else { "no" }.to_owned());
        changes.extend(changed("blocked", yes_no(next.contact.blocked), yes_no(blocked)));
        next.contact.blocked = blocked;
    }
    for (key, value) in &patch.attributes {
        let old = next.attributes.get(key).map(AttributeValue::display);
        let new = value.as_ref().map(AttributeValue::display);
        changes.extend(changed(&format!("attribute:{key}"), old, new));
        match value {
            Some(value) => next.attributes.insert(key.clone(), value.clone()),
            None => next.attributes.remove(key),
        };
    }
    (next, changes)
}

impl<DB: Sql> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> i64: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> bool: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> String: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> &'r str: Encode<'r, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'r> &'r [u8]: Encode<'r, DB> + Type<DB>,
    for<'r> Vec<u8>: Decode<'r, DB> + Type<DB>,
    for<'r> Option<i64>: Encode<'r, DB>,
    for<'r> Option<bool>: Encode<'r, DB>,
    for<'r> Option<String>: Encode<'r, DB>,
    for<'r> Option<&'r str>: Encode<'r, DB>,
    usize: ColumnIndex<DB::Row>,
{
    pub(super) async fn record_in(tx: &mut Transaction<'static, DB>, id: ContactId) -> StoreResult<ContactRecord> {
        let row: Option<RecordRow> =
            sqlx::query_as(&format!("{CONTACT_SELECT} WHERE k.id = $1")).bind(id.0).fetch_optional(&mut **tx).await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Keeps the contact's search terms as its record says, writing only when they changed.
    pub(super) async fn index_contact(tx: &mut Transaction<'static, DB>, record: &ContactRecord) -> StoreResult<()> {
        Self::index_contact_if_changed(tx, record, None).await
    }

    /// [`Self::index_contact`] for a contact whose stored terms were just read (`stored`): no
    /// statement at all when they are current (a customer message looks every time; its profile
    /// name rarely changes).
    pub(super) async fn index_contact_if_changed(
        tx: &mut Transaction<'static, DB>,
        record: &ContactRecord,
        stored: Option<&str>,
    ) -> StoreResult<()> {
        let terms = index_terms(&contact_text(record));
        let joined = terms.join(" ");
        if stored == Some(joined.as_str()) {
            return Ok(());
        }
        let statement = match DB::BACKEND {
            Backend::Sqlite => "UPDATE contacts SET terms = $2 WHERE id = $1 AND terms IS DISTINCT FROM $2",
            Backend::Postgres => {
                "UPDATE contacts SET terms = $2, vector = CAST($3 AS tsvector) \
                 WHERE id = $1 AND terms IS DISTINCT FROM $2"
            }
        };
        let query = sqlx::query(statement).bind(record.contact.id.0).bind(joined);
        let query = match DB::BACKEND {
            Backend::Sqlite => query,
            Backend::Postgres => query.bind(tsvector_literal(&terms)),
        };
        query.execute(&mut **tx).await?;
        Ok(())
    }

    /// Applies `patch` to the contact (locked here), keeps its terms and audits what changed.
    pub(super) async fn patch_contact_in(
        tx: &mut Transaction<'static, DB>,
        id: ContactId,
        patch: &ContactPatch,
        by: &Editor,
        now: i64,
    ) -> StoreResult<(ContactRecord, Vec<ContactChange>)> {
        let locked: Option<i64> = sqlx::query_scalar(DB::LOCK_CONTACT).bind(id.0).fetch_optional(&mut **tx).await?;
        locked.ok_or(StoreError::NotFound)?;
        let record = Self::record_in(tx, id).await?;
        let (mut next, changes) = apply(&record, patch);
        if changes.is_empty() {
            return Ok((record, Vec::new()));
        }
        let labels = serde_json::to_string(&next.labels).map_err(|error| rows::corrupt(error.to_string()))?;
        let attributes = serde_json::to_string(&next.attributes).map_err(|error| rows::corrupt(error.to_string()))?;
        sqlx::query(
            "UPDATE contacts SET display_name = $2, email = $3, company = $4, labels = $5, attributes = $6, \
             blocked = $7, updated_at = $8 WHERE id = $1",
        )
        .bind(id.0)
        .bind(next.contact.display_name.clone())
        .bind(next.email.clone())
        .bind(next.company.clone())
        .bind(labels)
        .bind(attributes)
        .bind(next.contact.blocked)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        next.updated_at = Some(now);
        Self::index_contact(tx, &next).await?;
        let mut audited = Vec::with_capacity(changes.len());
        for (field, old, new) in changes {
            sqlx::query(
                "INSERT INTO contact_changes (contact_id, at, actor_id, actor_name, field, old_value, new_value) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id.0)
            .bind(now)
            .bind(by.id.map(|user| user.0))
            .bind(by.name.as_str())
            .bind(field.as_str())
            .bind(old.clone())
            .bind(new.clone())
            .execute(&mut **tx)
            .await?;
            audited.push(ContactChange { at: now, by: by.name.clone(), field, old, new });
        }
        Ok((next, audited))
    }

    /// The `WHERE` of the Contacts page's list (after `FROM contacts k`), and its binds.
    fn contact_matching(scope: &SearchScope, filter: &ContactFilter) -> (String, Vec<Bind>) {
        let mut sql = if scope.everything {
            "WHERE TRUE".to_owned()
        } else {
            format!("WHERE EXISTS (SELECT 1 FROM conversations c WHERE c.contact_id = k.id AND {})", visible_sql(scope))
        };
        let mut binds = Vec::new();
        let words = (!filter.query.is_empty()).then(|| match DB::BACKEND {
            Backend::Sqlite => {
                ("k.id IN (SELECT rowid FROM contact_fts WHERE contact_fts MATCH ?)", filter.query.fts5())
            }
            Backend::Postgres => ("k.vector @@ CAST(? AS tsquery)", filter.query.tsquery()),
        });
        let digits = filter.digits.as_ref().map(|digits| match DB::BACKEND {
            Backend::Sqlite => {
                ("k.id IN (SELECT rowid FROM contact_digits WHERE contact_digits MATCH ?)", format!("\"{digits}\""))
            }
            Backend::Postgres => ("k.wa_id LIKE ?", format!("%{digits}%")),
        });
        match (words, digits) {
            (Some((words, query)), Some((digits, run))) => add(
                &mut sql,
                &mut binds,
                &format!(" AND ({words} OR {digits})"),
                vec![Bind::Text(query), Bind::Text(run)],
            ),
            (Some((condition, value)), None) | (None, Some((condition, value))) => {
                add(&mut sql, &mut binds, &format!(" AND {condition}"), vec![Bind::Text(value)])
            }
            (None, None) => {}
        }
        if let Some(label) = &filter.label {
            add(&mut sql, &mut binds, " AND k.labels LIKE ? ESCAPE '\\'", vec![Bind::Text(label_pattern(label))]);
        }
        if let Some((key, value)) = &filter.attribute {
            let extract = match DB::BACKEND {
                Backend::Sqlite => format!("(k.attributes -> '$.{key}')"),
                Backend::Postgres => format!("CAST(CAST(k.attributes AS jsonb) -> '{key}' AS TEXT)"),
            };
            add(&mut sql, &mut binds, &format!(" AND {extract} = ?"), vec![Bind::Text(value.clone())]);
        }
        if let Some(blocked) = filter.request.blocked {
            sql.push_str(if blocked { " AND k.blocked = TRUE" } else { " AND k.blocked = FALSE" });
        }
        (sql, binds)
    }
}

#[async_trait]
impl<DB: Sql> ContactStore for SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> i64: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> bool: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> String: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> &'r str: Encode<'r, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'r> &'r [u8]: Encode<'r, DB> + Type<DB>,
    for<'r> Vec<u8>: Decode<'r, DB> + Type<DB>,
    for<'r> Option<i64>: Encode<'r, DB>,
    for<'r> Option<bool>: Encode<'r, DB>,
    for<'r> Option<String>: Encode<'r, DB>,
    for<'r> Option<&'r str>: Encode<'r, DB>,
    usize: ColumnIndex<DB::Row>,
{
    async fn contact(&self, id: ContactId) -> StoreResult<Option<ContactRecord>> {
        let row: Option<RecordRow> =
            sqlx::query_as(&format!("{CONTACT_SELECT} WHERE k.id = $1")).bind(id.0).fetch_optional(&self.pool).await?;
        row.map(ContactRecord::try_from).transpose()
    }

    async fn contacts_by_number(&self, wa_ids: &[String]) -> StoreResult<Vec<ContactRecord>> {
        let mut found = Vec::new();
        // In chunks, so no statement holds more binds than SQLite allows.
        for chunk in wa_ids.chunks(500) {
            let statement = format!("{CONTACT_SELECT} WHERE k.wa_id IN ({})", placeholders(1, chunk.len()));
            let mut query = sqlx::query_as::<_, RecordRow>(&statement).persistent(false);
            for wa_id in chunk {
                query = query.bind(wa_id.clone());
            }
            for row in query.fetch_all(&self.pool).await? {
                found.push(ContactRecord::try_from(row)?);
            }
        }
        Ok(found)
    }

    async fn conversations_of_contact(&self, id: ContactId) -> StoreResult<Vec<Conversation>> {
        let rows: Vec<rows::ConversationRow> =
            sqlx::query_as(&format!("{} WHERE c.contact_id = $1 ORDER BY c.id DESC", rows::CONVERSATION_SELECT))
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(Conversation::try_from).collect()
    }

    async fn contact_conversations(&self, id: ContactId) -> StoreResult<Vec<(Conversation, ContactConversation)>> {
        let rows: Vec<rows::ConversationRow> = sqlx::query_as(&format!(
            "{} WHERE c.contact_id = $1 ORDER BY c.id DESC LIMIT $2",
            rows::CONVERSATION_SELECT
        ))
        .bind(id.0)
        .bind(PROFILE_CONVERSATIONS)
        .fetch_all(&self.pool)
        .await?;
        let mut listed = Vec::with_capacity(rows.len());
        for row in rows {
            let conversation = Conversation::try_from(row)?;
            let (created_at, handler): (i64, Option<String>) = sqlx::query_as(
                "SELECT c.created_at, u.name FROM conversations c \
                 LEFT JOIN users u ON u.id = COALESCE(c.assignee_id, c.last_assignee_id) WHERE c.id = $1",
            )
            .bind(conversation.id.0)
            .fetch_one(&self.pool)
            .await?;
            let first = self.preview(conversation.id, "ASC").await?;
            let last = self.preview(conversation.id, "DESC").await?;
            listed.push((
                conversation.clone(),
                ContactConversation {
                    id: conversation.id,
                    status: conversation.status,
                    team: conversation.team,
                    handled_by: handler,
                    created_at,
                    first,
                    last,
                },
            ));
        }
        Ok(listed)
    }

    async fn contacts(&self, scope: &SearchScope, filter: &ContactFilter) -> StoreResult<ContactList> {
        // Planned for its own words and digits, as a search is (`store/queries/search.rs`).
        let (matching, binds) = Self::contact_matching(scope, filter);
        let counting = format!("SELECT COUNT(*) FROM contacts k {matching}");
        let total: i64 =
            bind_all!(sqlx::query_scalar(&counting).persistent(false), &binds).fetch_one(&self.pool).await?;
        let order = match filter.request.sort {
            ContactSort::Recent => "ORDER BY k.last_inbound_at DESC NULLS LAST, k.id DESC",
            ContactSort::Name => {
                "ORDER BY LOWER(COALESCE(NULLIF(k.display_name, ''), NULLIF(k.profile_name, ''), k.wa_id)), k.id"
            }
            ContactSort::Created => "ORDER BY k.id DESC",
        };
        let listing = format!(
            "{} {matching} {order} LIMIT {} OFFSET {}",
            contact_select_for(scope),
            i64::from(filter.limit),
            i64::from(filter.offset)
        );
        let rows: Vec<RecordRow> =
            bind_all!(sqlx::query_as(&listing).persistent(false), &binds).fetch_all(&self.pool).await?;
        let contacts = rows.into_iter().map(ContactRecord::try_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(ContactList { contacts, total: u32::try_from(total).unwrap_or(u32::MAX) })
    }

    async fn update_contact(
        &self,
        id: ContactId,
        patch: &ContactPatch,
        by: &Editor,
        now: i64,
    ) -> StoreResult<(ContactRecord, Vec<ContactChange>)> {
        let mut tx = self.write_transaction().await?;
        let outcome = Self::patch_contact_in(&mut tx, id, patch, by, now).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    async fn contact_changes(&self, id: ContactId, limit: i64) -> StoreResult<Vec<ContactChange>> {
        let rows: Vec<(i64, String, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT at, actor_name, field, old_value, new_value FROM contact_changes WHERE contact_id = $1 \
             ORDER BY id DESC LIMIT $2",
        )
        .bind(id.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(at, by, field, old, new)| ContactChange { at, by, field, old, new }).collect())
    }

    async fn attribute_definitions(&self) -> StoreResult<Vec<AttributeDef>> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT key, label, kind FROM contact_attributes ORDER BY position")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(key, label, kind)| {
                let kind = serde_json::from_str(&kind).map_err(|_| rows::corrupt(format!("attribute kind {kind}")))?;
                Ok(AttributeDef { key, label, kind })
            })
            .collect()
    }

    async fn save_attribute_definitions(&self, definitions: &[AttributeDef], by: &Editor, now: i64) -> StoreResult<()> {
        let mut tx = self.write_transaction().await?;
        sqlx::query("DELETE FROM contact_attributes").execute(&mut *tx).await?;
        for (position, definition) in definitions.iter().enumerate() {
            let kind = serde_json::to_string(&definition.kind).map_err(|error| rows::corrupt(error.to_string()))?;
            sqlx::query("INSERT INTO contact_attributes (key, position, label, kind) VALUES ($1, $2, $3, $4)")
                .bind(definition.key.as_str())
                .bind(i64::try_from(position).unwrap_or(i64::MAX))
                .bind(definition.label.trim())
                .bind(kind)
                .execute(&mut *tx)
                .await?;
        }
        let keys: Vec<&str> = definitions.iter().map(|definition| definition.key.as_str()).collect();
        Self::insert_audit(&mut tx, now, by.id, "contacts.attributes", "contacts", &keys.join(", ")).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn import_contacts(&self, rows: &[ImportContact], by: &Editor, now: i64) -> StoreResult<Imported> {
        let mut tx = self.write_transaction().await?;
        let mut imported = Imported::default();
        for row in rows {
            let created: Option<i64> = sqlx::query_scalar(
                "INSERT INTO contacts (wa_id, profile_name, created_at) VALUES ($1, '', $2) \
                 ON CONFLICT (wa_id) DO NOTHING RETURNING id",
            )
            .bind(row.wa_id.as_str())
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let id = match created {
                Some(id) => {
                    imported.created += 1;
                    id
                }
                None => {
                    imported.updated += 1;
                    sqlx::query_scalar("SELECT id FROM contacts WHERE wa_id = $1")
                        .bind(row.wa_id.as_str())
                        .fetch_one(&mut *tx)
                        .await?
                }
            };
            let (record, _) = Self::patch_contact_in(&mut tx, ContactId(id), &row.patch, by, now).await?;
            // A new contact with nothing to set still gets its (empty) terms: it is indexed.
            Self::index_contact(&mut tx, &record).await?;
        }
        tx.commit().await?;
        Ok(imported)
    }

    async fn contacts_after(&self, after: ContactId, limit: i64) -> StoreResult<Vec<ContactRecord>> {
        let rows: Vec<RecordRow> = sqlx::query_as(&format!("{CONTACT_SELECT} WHERE k.id > $1 ORDER BY k.id LIMIT $2"))
            .bind(after.0)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(ContactRecord::try_from).collect()
    }

    async fn index_contact_backlog(&self, limit: i64) -> StoreResult<u64> {
        let mut tx = self.write_transaction().await?;
        let rows: Vec<RecordRow> =
            sqlx::query_as(&format!("{CONTACT_SELECT} WHERE k.terms IS NULL ORDER BY k.id LIMIT $1"))
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
        let mut count = rows.len() as u64;
        for row in rows {
            Self::index_contact(&mut tx, &ContactRecord::try_from(row)?).await?;
        }
        let labelled: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT c.id, c.labels, c.updated_at FROM conversations c LEFT JOIN search_docs d \
             ON d.kind = 'labels' AND d.ref_id = c.id WHERE c.labels <> '[]' AND d.id IS NULL ORDER BY c.id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        count += labelled.len() as u64;
        for (id, labels, at) in labelled {
            let labels: Vec<String> = serde_json::from_str(&labels).map_err(|_| rows::corrupt("labels"))?;
            Self::index_labels(&mut tx, ConversationId(id), &labels, at).await?;
        }
        tx.commit().await?;
        Ok(count)
    }
}

impl<DB: Sql> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> i64: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> bool: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> String: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> &'r str: Encode<'r, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'r> &'r [u8]: Encode<'r, DB> + Type<DB>,
    for<'r> Vec<u8>: Decode<'r, DB> + Type<DB>,
    for<'r> Option<i64>: Encode<'r, DB>,
    for<'r> Option<bool>: Encode<'r, DB>,
    for<'r> Option<String>: Encode<'r, DB>,
    for<'r> Option<&'r str>: Encode<'r, DB>,
    usize: ColumnIndex<DB::Row>,
{
    /// A conversation's first (`ASC`) or last (`DESC`) message, as a profile shows it.
    async fn preview(&self, conversation: ConversationId, order: &str) -> StoreResult<Option<MessagePreview>> {
        let id: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT id FROM messages WHERE conversation_id = $1 ORDER BY sent_at {order}, id {order} LIMIT 1"
        ))
        .bind(conversation.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some(id) = id else { return Ok(None) };
        let mut tx = self.pool.begin().await?;
        let message = Self::message_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(Some(MessagePreview { at: message.sent_at, direction: message.direction, text: message_text(&message) }))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn record() -> ContactRecord {
        ContactRecord {
            contact: Contact {
                id: ContactId(1),
                wa_id: "5511".into(),
                profile_name: "Ana".into(),
                last_inbound_at: None,
                window_closed_at: None,
                display_name: None,
                blocked: false,
            },
            phone: "+5511".into(),
            email: String::new(),
            company: String::new(),
            labels: Vec::new(),
            attributes: BTreeMap::new(),
            created_at: 0,
            updated_at: None,
            conversations: None,
        }
    }

    #[test]
    fn an_edit_lists_only_the_fields_it_changes() {
        let patch = ContactPatch {
            display_name: Some("Ana Lima".into()),
            email: Some(String::new()),
            attributes: BTreeMap::from([("plan".into(), Some(AttributeValue::Text("Pro".into())))]),
            ..ContactPatch::default()
        };
        let (next, changes) = apply(&record(), &patch);
        assert_eq!(next.contact.display_name.as_deref(), Some("Ana Lima"));
        assert_eq!(
            changes,
            [
                ("display_name".into(), None, Some("Ana Lima".into())),
                ("attribute:plan".into(), None, Some("Pro".into())),
            ]
        );
        assert!(contact_text(&next).contains("Pro"));
    }
}
