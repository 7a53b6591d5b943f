//! Internal notes: added, edited against the version the editor saw, and deleted (kept, marked).

use async_trait::async_trait;
use baton_shared::model::{Change, ConversationEvent, Note};
use baton_shared::{ConversationId, NoteId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::{Sql, SqlStore, rows};
use crate::store::conversations::{NoteEditOutcome, NoteStore};
use crate::store::{StoreError, StoreResult};

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
    /// The note, unless it was deleted.
    pub(super) async fn note_in(tx: &mut Transaction<'static, DB>, id: NoteId) -> StoreResult<Option<Note>> {
        let row: Option<rows::NoteRow> =
            sqlx::query_as(&format!("SELECT {} FROM notes WHERE id = $1 AND deleted = FALSE", rows::NOTE_COLUMNS))
                .bind(id.0)
                .fetch_optional(&mut **tx)
                .await?;
        row.map(Note::try_from).transpose()
    }

    /// Inserts a note by `author`; the caller holds the conversation's lock and appends the event.
    pub(super) async fn insert_note(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        author: UserId,
        body: &str,
        now: i64,
    ) -> StoreResult<Note> {
        let note_id: i64 = sqlx::query_scalar(
            "INSERT INTO notes (conversation_id, author_id, body, version, created_at, updated_at, deleted) \
             VALUES ($1, $2, $3, 1, $4, $4, FALSE) RETURNING id",
        )
        .bind(id.0)
        .bind(author.0)
        .bind(body)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        let note = Self::note_in(tx, NoteId(note_id)).await?.ok_or(StoreError::NotFound)?;
        Self::index_note(tx, &note).await?;
        Ok(note)
    }
}

#[async_trait]
impl<DB: Sql> NoteStore for SqlStore<DB>
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
    async fn notes(&self, id: ConversationId) -> StoreResult<Vec<Note>> {
        let rows: Vec<rows::NoteRow> = sqlx::query_as(&format!(
            "SELECT {} FROM notes WHERE conversation_id = $1 AND deleted = FALSE ORDER BY id",
            rows::NOTE_COLUMNS
        ))
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Note::try_from).collect()
    }

    async fn add_note(
        &self,
        id: ConversationId,
        author: UserId,
        body: &str,
        now: i64,
    ) -> StoreResult<ConversationEvent> {
        let mut tx = self.write_transaction().await?;
        Self::lock_conversation(&mut tx, id).await?;
        let note = Self::insert_note(&mut tx, id, author, body, now).await?;
        let event = Self::append_event(&mut tx, id, Some(author), Change::NoteAdded { note }, now).await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn note(&self, id: NoteId) -> StoreResult<Option<Note>> {
        let row: Option<rows::NoteRow> =
            sqlx::query_as(&format!("SELECT {} FROM notes WHERE id = $1 AND deleted = FALSE", rows::NOTE_COLUMNS))
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
        row.map(Note::try_from).transpose()
    }

    async fn edit_note(
        &self,
        id: NoteId,
        editor: UserId,
        body: &str,
        base_version: u32,
        now: i64,
    ) -> StoreResult<NoteEditOutcome> {
        let mut tx = self.write_transaction().await?;
        let note = Self::note_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        Self::lock_conversation(&mut tx, note.conversation_id).await?;
        // Read again under the lock: the version compared is the one the update replaces.
        let current = Self::note_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        if current.version != base_version {
            return Ok(NoteEditOutcome::Conflict { current });
        }
        sqlx::query("UPDATE notes SET body = $2, version = version + 1, updated_at = $3 WHERE id = $1")
            .bind(id.0)
            .bind(body)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let note = Self::note_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        Self::index_note(&mut tx, &note).await?;
        let conversation = note.conversation_id;
        let event = Self::append_event(&mut tx, conversation, Some(editor), Change::NoteEdited { note }, now).await?;
        tx.commit().await?;
        Ok(NoteEditOutcome::Edited { event })
    }

    async fn delete_note(&self, id: NoteId, actor: UserId, now: i64) -> StoreResult<ConversationEvent> {
        let mut tx = self.write_transaction().await?;
        let note = Self::note_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        Self::lock_conversation(&mut tx, note.conversation_id).await?;
        let deleted = sqlx::query("UPDATE notes SET deleted = TRUE, updated_at = $2 WHERE id = $1 AND deleted = FALSE")
            .bind(id.0)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if DB::rows_affected(&deleted) == 0 {
            return Err(StoreError::NotFound);
        }
        Self::unindex(&mut tx, baton_shared::search::HitKind::Note, id.0).await?;
        let change = Change::NoteDeleted { note_id: id };
        let event = Self::append_event(&mut tx, note.conversation_id, Some(actor), change, now).await?;
        tx.commit().await?;
        Ok(event)
    }
}
