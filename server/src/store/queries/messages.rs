//! Messages: the timeline read in pages, and an agent's reply stored with its outbox row in one
//! transaction, under the send rule.
//!
//! Messages are read in timeline order, `(sent_at, seq)` ([`Message::placement`]), not in `seq`
//! order: WhatsApp redelivers late and out of order. A page is cut at a message's place, so a
//! message that arrived late lands on the page where it belongs.

use async_trait::async_trait;
use baton_shared::automation::Automated;
use baton_shared::model::{Change, Message, MessageContent, MessageKind};
use baton_shared::rules::{self, ReplyKind};
use baton_shared::{ConversationId, MessageId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::{Sql, SqlStore, placeholders, rows};
use crate::store::StoreResult;
use crate::store::conversations::{DraftWrite, MessageStore, NewReply, ReplyContent, ReplyOutcome};

/// Most conversation ids one query binds: well under SQLite's and PostgreSQL's parameter limits.
pub(super) const IDS_PER_QUERY: usize = 500;

/// The newest message (the last placed) of each conversation among `count` ids bound as
/// `$1 … $count`.
fn last_messages_sql(count: usize) -> String {
    let placeholders = placeholders(1, count);
    // `messages_by_placement (conversation_id, sent_at, seq)` answers the inner query with one
    // index probe.
    format!(
        "SELECT {} FROM messages m WHERE m.conversation_id IN ({placeholders}) \
         AND m.seq = (SELECT x.seq FROM messages x WHERE x.conversation_id = m.conversation_id \
                      ORDER BY x.sent_at DESC, x.seq DESC LIMIT 1)",
        rows::MESSAGE_COLUMNS
    )
}

/// Rows read newest first, as messages oldest first.
fn oldest_first(rows: Vec<rows::MessageRow>) -> StoreResult<Vec<Message>> {
    let mut messages = rows.into_iter().map(Message::try_from).collect::<Result<Vec<_>, _>>()?;
    messages.reverse();
    Ok(messages)
}

/// What a reply stores as its kind and content.
fn stored_form(reply: &NewReply) -> (MessageKind, Option<MessageContent>) {
    match &reply.content {
        ReplyContent::Text => (MessageKind::Text, None),
        ReplyContent::Template(template) => (
            MessageKind::Template,
            Some(MessageContent::Template {
                name: template.name.clone(),
                language: template.language.clone(),
                parameters: template.parameters.clone(),
            }),
        ),
        ReplyContent::Media { kind, upload, mime_type, filename } => (
            MessageKind::parse(kind),
            Some(MessageContent::Media {
                media_kind: (*kind).to_owned(),
                media_id: String::new(),
                mime_type: Some(mime_type.clone()),
                filename: filename.clone(),
                voice: false,
                upload: Some(upload.clone()),
            }),
        ),
        ReplyContent::Reaction { target } => (
            MessageKind::Reaction,
            Some(MessageContent::Reaction {
                target: target.clone(),
                emoji: Some(reply.body.clone()).filter(|emoji| !emoji.is_empty()),
            }),
        ),
    }
}

/// An outbound message to store and queue ([`SqlStore::queue_outbound`]).
pub(super) struct Outbound<'a> {
    pub conversation: ConversationId,
    pub seq: u64,
    pub kind: MessageKind,
    pub body: &'a str,
    pub author: UserId,
    pub idempotency_key: &'a str,
    pub content: Option<&'a MessageContent>,
    pub reply_to: Option<&'a str>,
    /// What sent it, when Baton did by itself.
    pub automation: Option<Automated>,
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
    pub(super) async fn message_in(tx: &mut Transaction<'static, DB>, id: i64) -> StoreResult<Message> {
        let row: rows::MessageRow =
            sqlx::query_as(&format!("SELECT {} FROM messages WHERE id = $1", rows::MESSAGE_COLUMNS))
                .bind(id)
                .fetch_one(&mut **tx)
                .await?;
        Message::try_from(row)
    }

    /// Stores an outbound message numbered `seq` (taken by the caller) and queues it for WhatsApp
    /// in the caller's transaction — stored means it will be sent — placed now, but never before a
    /// message already there: WhatsApp's clock may be ahead of ours, and a reply belongs after what
    /// it answers.
    pub(super) async fn queue_outbound(
        tx: &mut Transaction<'static, DB>,
        outbound: &Outbound<'_>,
        now: i64,
    ) -> StoreResult<Message> {
        let id = outbound.conversation;
        let message_id: i64 = sqlx::query_scalar(
            "INSERT INTO messages (conversation_id, seq, direction, kind, body, author_id, idempotency_key, \
             status, created_at, sent_at, content, reply_to, automation) \
             VALUES ($1, $2, 'outbound', $3, $4, $5, $6, 'pending', $7, \
             (SELECT CASE WHEN MAX(m.sent_at) > $7 THEN MAX(m.sent_at) ELSE $7 END \
              FROM messages m WHERE m.conversation_id = $1), $8, $9, $10) RETURNING id",
        )
        .bind(id.0)
        .bind(rows::seq_param(outbound.seq))
        .bind(outbound.kind.as_str())
        .bind(outbound.body)
        .bind(outbound.author.0)
        .bind(outbound.idempotency_key)
        .bind(now)
        .bind(rows::to_json_column(outbound.content)?)
        .bind(outbound.reply_to)
        .bind(outbound.automation.map(Automated::as_str))
        .fetch_one(&mut **tx)
        .await?;
        sqlx::query("INSERT INTO outbox (message_id, next_attempt_at) VALUES ($1, $2)")
            .bind(message_id)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        let message = Self::message_in(tx, message_id).await?;
        Self::message_added_at(tx, id, message.sent_at).await?;
        Self::index_message(tx, &message).await?;
        Ok(message)
    }

    /// A message placed at `sent_at` was added: `last_message_at` moves to it, never back (a
    /// late message older than the newest leaves it).
    pub(super) async fn message_added_at(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        sent_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE conversations SET last_message_at = CASE WHEN last_message_at IS NULL \
             OR last_message_at < $2 THEN $2 ELSE last_message_at END WHERE id = $1",
        )
        .bind(id.0)
        .bind(sent_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

#[async_trait]
impl<DB: Sql> MessageStore for SqlStore<DB>
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
    async fn messages(&self, id: ConversationId) -> StoreResult<Vec<Message>> {
        let rows: Vec<rows::MessageRow> = sqlx::query_as(&format!(
            "SELECT {} FROM messages WHERE conversation_id = $1 ORDER BY sent_at, seq",
            rows::MESSAGE_COLUMNS
        ))
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Message::try_from).collect()
    }

    async fn message(&self, id: MessageId) -> StoreResult<Option<Message>> {
        let row: Option<rows::MessageRow> =
            sqlx::query_as(&format!("SELECT {} FROM messages WHERE id = $1", rows::MESSAGE_COLUMNS))
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
        row.map(Message::try_from).transpose()
    }

    async fn last_messages(&self, ids: &[ConversationId]) -> StoreResult<Vec<Message>> {
        let mut messages = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let sql = last_messages_sql(chunk.len());
            let mut query = sqlx::query_as::<DB, rows::MessageRow>(&sql);
            for id in chunk {
                query = query.bind(id.0);
            }
            for row in query.fetch_all(&self.pool).await? {
                messages.push(Message::try_from(row)?);
            }
        }
        Ok(messages)
    }

    async fn newest_messages(&self, id: ConversationId, up_to_seq: u64, limit: i64) -> StoreResult<Vec<Message>> {
        let sql = format!(
            "SELECT {} FROM messages WHERE conversation_id = $1 AND seq <= $2 \
             ORDER BY sent_at DESC, seq DESC LIMIT $3",
            rows::MESSAGE_COLUMNS
        );
        let rows: Vec<rows::MessageRow> =
            sqlx::query_as(&sql).bind(id.0).bind(rows::seq_param(up_to_seq)).bind(limit).fetch_all(&self.pool).await?;
        oldest_first(rows)
    }

    async fn messages_before(
        &self,
        id: ConversationId,
        before_seq: u64,
        limit: i64,
    ) -> StoreResult<Option<Vec<Message>>> {
        let before = rows::seq_param(before_seq);
        let cursor: Option<i64> =
            sqlx::query_scalar("SELECT sent_at FROM messages WHERE conversation_id = $1 AND seq = $2")
                .bind(id.0)
                .bind(before)
                .fetch_optional(&self.pool)
                .await?;
        let Some(sent_at) = cursor else { return Ok(None) };
        let sql = format!(
            "SELECT {} FROM messages WHERE conversation_id = $1 \
             AND (sent_at < $2 OR (sent_at = $2 AND seq < $3)) \
             ORDER BY sent_at DESC, seq DESC LIMIT $4",
            rows::MESSAGE_COLUMNS
        );
        let rows: Vec<rows::MessageRow> =
            sqlx::query_as(&sql).bind(id.0).bind(sent_at).bind(before).bind(limit).fetch_all(&self.pool).await?;
        oldest_first(rows).map(Some)
    }

    async fn last_inbound_wamid(&self, conversation: ConversationId) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT wa_message_id FROM messages WHERE conversation_id = $1 AND direction = 'inbound' \
             AND wa_message_id IS NOT NULL ORDER BY sent_at DESC, seq DESC LIMIT 1",
        )
        .bind(conversation.0)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn send_reply(&self, reply: &NewReply, now: i64) -> StoreResult<ReplyOutcome> {
        let id = reply.conversation_id;
        let mut tx = self.write_transaction().await?;
        Self::lock_conversation(&mut tx, id).await?;
        let earlier: Option<i64> =
            sqlx::query_scalar("SELECT id FROM messages WHERE author_id = $1 AND idempotency_key = $2")
                .bind(reply.author.0)
                .bind(&reply.idempotency_key)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(earlier) = earlier {
            return Ok(ReplyOutcome::Duplicate { message: Self::message_in(&mut tx, earlier).await? });
        }
        // The send rule, decided on what this transaction holds locked.
        let claim = Self::claim_in(&mut tx, id).await?;
        let reply_kind = match reply.content {
            ReplyContent::Template(_) => ReplyKind::Template,
            _ => ReplyKind::FreeForm,
        };
        // A template may go whatever the window: it is only read when it matters.
        let window = reply_kind == ReplyKind::Template || Self::window_open(&mut tx, id, now).await?;
        if let Err(refusal) = rules::may_send(claim.as_ref(), reply.author, reply_kind, window, now) {
            return Ok(refusal.into());
        }
        let is_reaction = matches!(reply.content, ReplyContent::Reaction { .. });
        if !reply.force && !is_reaction {
            let missed: Vec<rows::MessageRow> = sqlx::query_as(&format!(
                "SELECT {} FROM messages WHERE conversation_id = $1 AND seq > $2 \
                 AND (author_id IS NULL OR author_id <> $3) ORDER BY sent_at, seq",
                rows::MESSAGE_COLUMNS
            ))
            .bind(id.0)
            .bind(rows::seq_param(reply.seen_seq))
            .bind(reply.author.0)
            .fetch_all(&mut *tx)
            .await?;
            if !missed.is_empty() {
                let missed = missed.into_iter().map(Message::try_from).collect::<StoreResult<_>>()?;
                return Ok(ReplyOutcome::Changed { missed });
            }
        }
        let seq = Self::next_seq(&mut tx, id, now).await?;
        let (kind, content) = stored_form(reply);
        let outbound = Outbound {
            conversation: id,
            seq,
            kind,
            body: &reply.body,
            author: reply.author,
            idempotency_key: &reply.idempotency_key,
            content: content.as_ref(),
            reply_to: reply.reply_to.as_deref(),
            automation: None,
        };
        let message = Self::queue_outbound(&mut tx, &outbound, now).await?;
        // The draft became the reply: an empty draft stamped now, so a save of older keystrokes
        // that is still on its way cannot bring it back. (A reaction is not the draft: it stays.)
        if !is_reaction {
            let sent = DraftWrite { conversation: id, user: reply.author, body: String::new(), typed_at: now };
            Self::upsert_draft(&mut tx, &sent).await?;
        }
        let change = Change::MessageAdded { message: message.clone() };
        let event = Self::insert_event(&mut tx, id, seq, Some(reply.author), change, now).await?;
        // A person answered: the response clock, if one ran, is met. (A reaction is no answer.)
        let followed_by = if is_reaction { Vec::new() } else { Self::sla_met(&mut tx, id, "response", now).await? };
        tx.commit().await?;
        Ok(ReplyOutcome::Sent { message, event, followed_by })
    }
}
