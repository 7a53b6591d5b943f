//! Read-only queries for the REST views (the inbox list, pages of a history), expanded
//! once per backend by [`conversation_reads!`] like [`super::conversation_queries`] (see there for
//! why a macro). `ConversationStore`'s methods in the backend's `conversation_impl` call these.

/// Most conversation ids one query binds: well under SQLite's and PostgreSQL's parameter limits.
pub(super) const IDS_PER_QUERY: usize = 500;

/// The newest message of each conversation among `count` ids bound as `$1 … $count`.
pub(super) fn last_messages_sql(count: usize) -> String {
    let placeholders = (1..=count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
    // `messages_by_conversation (conversation_id, seq)` answers the inner MAX with one index probe.
    format!(
        "SELECT {} FROM messages m WHERE m.conversation_id IN ({placeholders}) \
         AND m.seq = (SELECT MAX(x.seq) FROM messages x WHERE x.conversation_id = m.conversation_id)",
        super::rows::MESSAGE_COLUMNS
    )
}

/// Expands `mod conversation_reads_impl` for a backend whose pool is `sqlx::Pool<$db>`.
macro_rules! conversation_reads {
    ($db:ty) => {
        mod conversation_reads_impl {
            use baton_shared::ConversationId;
            use baton_shared::model::Message;

            use $crate::store::StoreResult;
            use $crate::store::conversation_reads::{IDS_PER_QUERY, last_messages_sql};
            use $crate::store::rows;

            /// See `ConversationStore::messages_before`.
            pub(in super::super) async fn messages_before(
                pool: &sqlx::Pool<$db>,
                id: ConversationId,
                before_seq: u64,
                limit: i64,
            ) -> StoreResult<Vec<Message>> {
                let sql = format!(
                    "SELECT {} FROM messages WHERE conversation_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
                    rows::MESSAGE_COLUMNS
                );
                let before = i64::try_from(before_seq).unwrap_or(i64::MAX);
                let rows: Vec<rows::MessageRow> =
                    sqlx::query_as(&sql).bind(id.0).bind(before).bind(limit).fetch_all(pool).await?;
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
        }
    };
}

pub(crate) use conversation_reads;
