//! Read-only queries (the REST views' inbox list and history pages, drafts, and what the hub
//! loads at start), expanded
//! once per backend by [`conversation_reads!`] like [`super::conversation_queries`] (see there for
//! why a macro). `ConversationStore`'s methods in the backend's `conversation_impl` call these.
//!
//! Messages are read in timeline order, `(sent_at, seq)` ([`baton_shared::model::Message::placement`]),
//! not in `seq` order: WhatsApp redelivers late and out of order. A page is cut at a message's
//! place, so a message that arrived late lands on the page where it belongs.

/// Most conversation ids one query binds: well under SQLite's and PostgreSQL's parameter limits.
pub(super) const IDS_PER_QUERY: usize = 500;

/// The newest message (the last placed) of each conversation among `count` ids bound as
/// `$1 … $count`.
pub(super) fn last_messages_sql(count: usize) -> String {
    let placeholders = (1..=count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
    // `messages_by_placement (conversation_id, sent_at, seq)` answers the inner query with one
    // index probe.
    format!(
        "SELECT {} FROM messages m WHERE m.conversation_id IN ({placeholders}) \
         AND m.seq = (SELECT x.seq FROM messages x WHERE x.conversation_id = m.conversation_id \
                      ORDER BY x.sent_at DESC, x.seq DESC LIMIT 1)",
        super::rows::MESSAGE_COLUMNS
    )
}

/// Expands `mod conversation_reads_impl` for a backend whose pool is `sqlx::Pool<$db>`.
macro_rules! conversation_reads {
    ($db:ty) => {
        mod conversation_reads_impl {
            use baton_shared::model::Message;
            use baton_shared::{ConversationId, UserId};

            use $crate::store::StoreResult;
            use $crate::store::conversation_reads::{IDS_PER_QUERY, last_messages_sql};
            use $crate::store::rows;

            /// See `ConversationStore::newest_messages`.
            pub(in super::super) async fn newest_messages(
                pool: &sqlx::Pool<$db>,
                id: ConversationId,
                up_to_seq: u64,
                limit: i64,
            ) -> StoreResult<Vec<Message>> {
                let sql = format!(
                    "SELECT {} FROM messages WHERE conversation_id = $1 AND seq <= $2 \
                     ORDER BY sent_at DESC, seq DESC LIMIT $3",
                    rows::MESSAGE_COLUMNS
                );
                let rows: Vec<rows::MessageRow> = sqlx::query_as(&sql)
                    .bind(id.0)
                    .bind(rows::seq_param(up_to_seq))
                    .bind(limit)
                    .fetch_all(pool)
                    .await?;
                oldest_first(rows)
            }

            /// See `ConversationStore::messages_before`.
            pub(in super::super) async fn messages_before(
                pool: &sqlx::Pool<$db>,
                id: ConversationId,
                before_seq: u64,
                limit: i64,
            ) -> StoreResult<Option<Vec<Message>>> {
                let before = rows::seq_param(before_seq);
                let cursor: Option<i64> =
                    sqlx::query_scalar("SELECT sent_at FROM messages WHERE conversation_id = $1 AND seq = $2")
                        .bind(id.0)
                        .bind(before)
                        .fetch_optional(pool)
                        .await?;
                let Some(sent_at) = cursor else { return Ok(None) };
                let sql = format!(
                    "SELECT {} FROM messages WHERE conversation_id = $1 \
                     AND (sent_at < $2 OR (sent_at = $2 AND seq < $3)) \
                     ORDER BY sent_at DESC, seq DESC LIMIT $4",
                    rows::MESSAGE_COLUMNS
                );
                let rows: Vec<rows::MessageRow> =
                    sqlx::query_as(&sql).bind(id.0).bind(sent_at).bind(before).bind(limit).fetch_all(pool).await?;
                oldest_first(rows).map(Some)
            }

            /// Rows read newest first, as messages oldest first.
            fn oldest_first(rows: Vec<rows::MessageRow>) -> StoreResult<Vec<Message>> {
                let mut messages = rows.into_iter().map(Message::try_from).collect::<Result<Vec<_>, _>>()?;
                messages.reverse();
                Ok(messages)
            }

            /// See `ConversationStore::last_messages`.
            pub(in super::super) async fn last_messages(
                pool: &sqlx::Pool<$db>,
                ids: &[ConversationId],
            ) -> StoreResult<Vec<Message>> {
                let mut messages = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(IDS_PER_QUERY) {
                    let sql = last_messages_sql(chunk.len());
                    let mut query = sqlx::query_as::<_, rows::MessageRow>(&sql);
                    for id in chunk {
                        query = query.bind(id.0);
                    }
                    for row in query.fetch_all(pool).await? {
                        messages.push(Message::try_from(row)?);
                    }
                }
                Ok(messages)
            }

            /// See `ConversationStore::assignments`.
            pub(in super::super) async fn assignments(
                pool: &sqlx::Pool<$db>,
            ) -> StoreResult<Vec<(ConversationId, UserId)>> {
                let rows: Vec<(i64, i64)> =
                    sqlx::query_as("SELECT id, assignee_id FROM conversations WHERE assignee_id IS NOT NULL")
                        .fetch_all(pool)
                        .await?;
                Ok(rows.into_iter().map(|(id, user)| (ConversationId(id), UserId(user))).collect())
            }

            /// See `ConversationStore::last_seqs`.
            pub(in super::super) async fn last_seqs(pool: &sqlx::Pool<$db>) -> StoreResult<Vec<(ConversationId, u64)>> {
                let rows: Vec<(i64, i64)> =
                    sqlx::query_as("SELECT id, last_seq FROM conversations").fetch_all(pool).await?;
                rows.into_iter().map(|(id, seq)| Ok((ConversationId(id), rows::seq_of(seq)?))).collect()
            }

            /// See `ConversationStore::draft`.
            pub(in super::super) async fn draft(
                pool: &sqlx::Pool<$db>,
                id: ConversationId,
                user: UserId,
            ) -> StoreResult<Option<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT body FROM drafts WHERE conversation_id = $1 AND user_id = $2 AND body <> ''",
                )
                .bind(id.0)
                .bind(user.0)
                .fetch_optional(pool)
                .await?)
            }
        }
    };
}

pub(crate) use conversation_reads;
