//! Search, in SQL: the documents kept in the writer's transaction ([`SqlStore::index_message`],
//! [`SqlStore::index_note`]), and the search — SQLite's FTS5 or PostgreSQL's `tsvector`, fed the
//! same terms (`shared/src/search.rs`) — filtered by who may see each conversation in the same
//! statement, so nothing of a conversation one may not see is counted or shown.

use async_trait::async_trait;
use baton_shared::model::{ConversationStatus, Message, Note, normalize_label};
use baton_shared::search::{
    HitKind, Query, SearchGroup, SearchHit, SearchRequest, SearchResults, index_terms, message_text, snippet,
    tsvector_literal,
};
use baton_shared::{ConversationId, TeamId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::{Sql, SqlStore, rows};
use crate::store::search::{Backlog, SearchScope, SearchStore};
use crate::store::{Backend, StoreResult};

/// Hits shown per conversation.
const HITS_SHOWN: usize = 5;
/// Characters in a snippet.
const SNIPPET_CHARS: usize = 160;
/// The visibility rule ([`baton_shared::rules::visible_to`]) as SQL over `c`, the
/// conversations row. Ids are numbers of Baton's own, written into the statement.
pub(super) fn visible_sql(scope: &SearchScope) -> String {
    if scope.everything {
        return "TRUE".into();
    }
    let me = scope.user.0;
    let teams: Vec<String> = scope.teams.iter().map(|team| team.0.to_string()).collect();
    let mine = if teams.is_empty() { "FALSE".to_owned() } else { format!("c.team_id IN ({})", teams.join(", ")) };
    let leads = if scope.lead { format!(" OR (c.assignee_id IS NOT NULL AND {mine})") } else { String::new() };
    format!("(c.assignee_id = {me} OR (c.assignee_id IS NULL AND (c.team_id IS NULL OR {mine})){leads})")
}

/// `label` as a LIKE pattern matching it as one whole entry of the JSON list of labels.
pub(super) fn label_pattern(label: &str) -> String {
    let quoted = serde_json::to_string(label.trim()).unwrap_or_default();
    let escaped = quoted.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
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
    /// Keeps the search document of `kind` `ref_id`, replacing it.
    async fn index_doc(
        tx: &mut Transaction<'static, DB>,
        kind: HitKind,
        ref_id: i64,
        conversation: ConversationId,
        direction: Option<&str>,
        at: i64,
        text: &str,
    ) -> StoreResult<()> {
        // Kept even without a term (a picture without a caption): the backlog then knows it
        // was looked at.
        let terms = index_terms(text);
        let joined = terms.join(" ");
        let statement = match DB::BACKEND {
            Backend::Sqlite => {
                "INSERT INTO search_docs (kind, ref_id, conversation_id, direction, at, terms) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (kind, ref_id) DO UPDATE SET terms = excluded.terms, at = excluded.at"
            }
            Backend::Postgres => {
                "INSERT INTO search_docs (kind, ref_id, conversation_id, direction, at, terms, vector) \
                 VALUES ($1, $2, $3, $4, $5, $6, CAST($7 AS tsvector)) \
                 ON CONFLICT (kind, ref_id) DO UPDATE SET terms = excluded.terms, at = excluded.at, \
                 vector = excluded.vector"
            }
        };
        let query = sqlx::query(statement)
            .bind(kind.as_str())
            .bind(ref_id)
            .bind(conversation.0)
            .bind(direction)
            .bind(at)
            .bind(joined);
        let query = match DB::BACKEND {
            Backend::Sqlite => query,
            Backend::Postgres => query.bind(tsvector_literal(&terms)),
        };
        query.execute(&mut **tx).await?;
        Ok(())
    }

    pub(super) async fn unindex(tx: &mut Transaction<'static, DB>, kind: HitKind, ref_id: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM search_docs WHERE kind = $1 AND ref_id = $2")
            .bind(kind.as_str())
            .bind(ref_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Indexes a message as it is stored: searchable once its transaction commits.
    pub(super) async fn index_message(tx: &mut Transaction<'static, DB>, message: &Message) -> StoreResult<()> {
        let text = message_text(message);
        let direction = message.direction.as_str();
        Self::index_doc(
            tx,
            HitKind::Message,
            message.id.0,
            message.conversation_id,
            Some(direction),
            message.sent_at,
            &text,
        )
        .await
    }

    /// Indexes a note as it is added or edited.
    pub(super) async fn index_note(tx: &mut Transaction<'static, DB>, note: &Note) -> StoreResult<()> {
        Self::index_doc(tx, HitKind::Note, note.id.0, note.conversation_id, None, note.created_at, &note.body).await
    }

    /// Indexes a conversation's labels as they are now (one document per conversation).
    pub(super) async fn index_labels(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        labels: &[String],
        now: i64,
    ) -> StoreResult<()> {
        Self::index_doc(tx, HitKind::Labels, id.0, id, None, now, &labels.join(" ")).await
    }

    /// The `FROM … WHERE …` of a search: documents matching `$1` in conversations `scope` may
    /// see, with the filters (bound from `$2`); returns the SQL and the filter binds, in order.
    fn matching(scope: &SearchScope, filters: &SearchRequest) -> (String, Vec<Bind>) {
        let matched = match DB::BACKEND {
            Backend::Sqlite => "d.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH $1)",
            Backend::Postgres => "d.vector @@ CAST($1 AS tsquery)",
        };
        let mut sql = format!(
            "FROM search_docs d JOIN conversations c ON c.id = d.conversation_id WHERE {matched} AND {}",
            visible_sql(scope)
        );
        let mut binds = Vec::new();
        let mut next = |sql: &mut String, condition: &str, bind: Bind| {
            binds.push(bind);
            sql.push_str(&condition.replace('?', &format!("${}", binds.len() + 1)));
        };
        if let Some(team) = filters.team {
            next(&mut sql, " AND c.team_id = ?", Bind::Int(team.0));
        }
        if let Some(assignee) = filters.assignee {
            next(&mut sql, " AND c.assignee_id = ?", Bind::Int(assignee.0));
        }
        if let Some(status) = filters.status {
            next(&mut sql, " AND c.status = ?", Bind::Text(status.as_str().to_owned()));
        }
        // Labels are stored normalized (lowercase): so is the one asked for, the same on both
        // databases (SQLite's LIKE would ignore case, PostgreSQL's would not).
        if let Some(label) = filters.label.as_deref().and_then(|label| normalize_label(label).ok()) {
            next(&mut sql, " AND c.labels LIKE ? ESCAPE '\\'", Bind::Text(label_pattern(&label)));
        }
        let (documents, document_binds) = Self::doc_filters(filters, binds.len() + 1);
        sql.push_str(&documents);
        binds.extend(document_binds);
        (sql, binds)
    }

    /// The filters on the documents themselves (dates, direction), as ` AND …` over `d` with
    /// their binds numbered after the first `before` placeholders.
    fn doc_filters(filters: &SearchRequest, before: usize) -> (String, Vec<Bind>) {
        let mut sql = String::new();
        let mut binds = Vec::new();
        let mut next = |sql: &mut String, condition: &str, bind: Bind| {
            binds.push(bind);
            sql.push_str(&condition.replace('?', &format!("${}", before + binds.len())));
        };
        if let Some(from) = filters.from {
            next(&mut sql, " AND d.at >= ?", Bind::Int(from));
        }
        if let Some(to) = filters.to {
            next(&mut sql, " AND d.at < ?", Bind::Int(to));
        }
        if let Some(direction) = filters.direction {
            next(&mut sql, " AND d.direction = ?", Bind::Text(direction.as_str().to_owned()));
        }
        (sql, binds)
    }

    /// A hit's snippet: the text it was found in, as stored now.
    async fn hit_text(&self, kind: HitKind, id: i64) -> StoreResult<Option<String>> {
        Ok(match kind {
            HitKind::Message => {
                let mut tx = self.pool.begin().await?;
                let message = match Self::message_in(&mut tx, id).await {
                    Ok(message) => Some(message_text(&message)),
                    Err(crate::store::StoreError::NotFound) => None,
                    Err(error) => return Err(error),
                };
                tx.commit().await?;
                message
            }
            HitKind::Note => {
                sqlx::query_scalar("SELECT body FROM notes WHERE id = $1 AND deleted = FALSE")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
            }
            HitKind::Labels => {
                let labels: Option<String> = sqlx::query_scalar("SELECT labels FROM conversations WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                labels
                    .and_then(|labels| serde_json::from_str::<Vec<String>>(&labels).ok())
                    .map(|labels| labels.join(", "))
            }
            HitKind::Contact => None,
        })
    }
}

/// A filter's value, bound in order.
pub(super) enum Bind {
    Int(i64),
    Text(String),
}

/// Binds `binds` after the query's own.
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut query = $query;
        for bind in $binds {
            query = match bind {
                Bind::Int(value) => query.bind(*value),
                Bind::Text(value) => query.bind(value.clone()),
            };
        }
        query
    }};
}
pub(super) use bind_all;

#[async_trait]
impl<DB: Sql> SearchStore for SqlStore<DB>
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
    async fn search(
        &self,
        scope: &SearchScope,
        query: &Query,
        filters: &SearchRequest,
        limit: u32,
    ) -> StoreResult<SearchResults> {
        if query.is_empty() {
            return Ok(SearchResults::default());
        }
        let expression = match DB::BACKEND {
            Backend::Sqlite => query.fts5(),
            Backend::Postgres => query.tsquery(),
        };
        let (from, binds) = Self::matching(scope, filters);
        let counting = format!("SELECT COUNT(DISTINCT d.conversation_id) {from}");
        let total: i64 =
            bind_all!(sqlx::query_scalar(&counting).bind(expression.clone()), &binds).fetch_one(&self.pool).await?;
        let grouping = format!(
            "SELECT d.conversation_id, MAX(d.at) AS newest, COUNT(*) {from} \
             GROUP BY d.conversation_id ORDER BY newest DESC, d.conversation_id DESC LIMIT {}",
            i64::from(limit)
        );
        let grouped: Vec<(i64, i64, i64)> =
            bind_all!(sqlx::query_as(&grouping).bind(expression.clone()), &binds).fetch_all(&self.pool).await?;
        let mut groups = Vec::with_capacity(grouped.len());
        for (conversation, _, count) in grouped {
            // Its newest hits: its documents (a few, by the conversation's index) checked against
            // the query here — asking the full-text index again per conversation would walk a
            // common word's whole list each time.
            let (filters_sql, filter_binds) = Self::doc_filters(filters, 1);
            let newest = format!(
                "SELECT d.kind, d.ref_id, d.at, d.terms FROM search_docs d WHERE d.conversation_id = $1{filters_sql} \
                 ORDER BY d.at DESC, d.id DESC"
            );
            let docs: Vec<(String, i64, i64, String)> =
                bind_all!(sqlx::query_as(&newest).bind(conversation), &filter_binds).fetch_all(&self.pool).await?;
            let mut shown = Vec::with_capacity(HITS_SHOWN);
            for (kind, id, at, _) in docs.into_iter().filter(|(_, _, _, terms)| query.matches_terms(terms)) {
                if shown.len() == HITS_SHOWN {
                    break;
                }
                let Some(kind) = HitKind::parse(&kind) else { continue };
                let Some(text) = self.hit_text(kind, id).await? else { continue };
                shown.push(SearchHit { kind, id, at, snippet: snippet(&text, query, SNIPPET_CHARS) });
            }
            let (customer, status, team, assignee): (String, String, Option<i64>, Option<i64>) = sqlx::query_as(
                "SELECT k.profile_name, c.status, c.team_id, c.assignee_id FROM conversations c \
                 JOIN contacts k ON k.id = c.contact_id WHERE c.id = $1",
            )
            .bind(conversation)
            .fetch_one(&self.pool)
            .await?;
            groups.push(SearchGroup {
                conversation: ConversationId(conversation),
                customer,
                status: ConversationStatus::parse(&status).ok_or_else(|| rows::corrupt(format!("status {status}")))?,
                team: team.map(TeamId),
                assignee: assignee.map(UserId),
                hits: shown,
                hit_count: u32::try_from(count).unwrap_or(u32::MAX),
            });
        }
        Ok(SearchResults { groups, total: u32::try_from(total).unwrap_or(u32::MAX), contacts: Vec::new() })
    }

    async fn index_backlog(&self, from: Backlog, limit: i64) -> StoreResult<Option<Backlog>> {
        let mut tx = self.write_transaction().await?;
        let messages: Vec<i64> = sqlx::query_scalar(
            "SELECT m.id FROM messages m LEFT JOIN search_docs d ON d.kind = 'message' AND d.ref_id = m.id \
             WHERE m.id < $1 AND d.id IS NULL ORDER BY m.id DESC LIMIT $2",
        )
        .bind(from.message)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        for id in &messages {
            let message = Self::message_in(&mut tx, *id).await?;
            Self::index_message(&mut tx, &message).await?;
        }
        let notes: Vec<i64> = sqlx::query_scalar(
            "SELECT n.id FROM notes n LEFT JOIN search_docs d ON d.kind = 'note' AND d.ref_id = n.id \
             WHERE n.id < $1 AND d.id IS NULL AND n.deleted = FALSE ORDER BY n.id DESC LIMIT $2",
        )
        .bind(from.note)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        for id in &notes {
            if let Some(note) = Self::note_in(&mut tx, baton_shared::NoteId(*id)).await? {
                Self::index_note(&mut tx, &note).await?;
            }
        }
        tx.commit().await?;
        if messages.is_empty() && notes.is_empty() {
            return Ok(None);
        }
        // An exhausted side stays exhausted: 0 is below every id.
        Ok(Some(Backlog { message: messages.last().copied().unwrap_or(0), note: notes.last().copied().unwrap_or(0) }))
    }
}
