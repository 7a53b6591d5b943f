//! Search, in SQL: the documents kept in the writer's transaction ([`SqlStore::index_message`],
//! [`SqlStore::index_note`]), and the search — SQLite's FTS5 or PostgreSQL's `tsvector`, fed the
//! same terms (`shared/src/search.rs`) — filtered by who may see each conversation in the same
//! statement, so nothing of a conversation one may not see is counted or shown.

use std::collections::HashMap;

use async_trait::async_trait;
use baton_shared::model::{ConversationStatus, Message, Note, normalize_label};
use baton_shared::search::{
    HitKind, Query, SearchGroup, SearchHit, SearchRequest, SearchResults, index_terms, message_text, snippet,
    tsvector_literal,
};
use baton_shared::{ConversationId, TeamId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::term_stats::TermFrequencies;
use super::{Sql, SqlStore, placeholders, rows, value_rows};
use crate::store::search::{Backlog, SearchScope, SearchStore};
use crate::store::{Backend, StoreResult};

/// Hits shown per conversation.
const HITS_SHOWN: usize = 5;
/// Documents matching a query from which it counts as common: its conversations are found by
/// walking the documents newest first rather than grouping every match.
const COMMON_AT: i64 = 5_000;
/// Documents a query taken for rare may match at most before it is treated as common after all
/// (PostgreSQL's statistics are an estimate, and may be older than a word's sudden popularity).
const RARE_AT_MOST: usize = 20_000;
/// Documents read by the walk's first step and, growing fourfold, by its largest; at most in all
/// before the index answers instead.
const FIRST_STEP: usize = 250;
const LAST_STEP: usize = 8_000;
const MAX_WALKED: usize = 100_000;
/// Characters in a snippet.
const SNIPPET_CHARS: usize = 160;
/// A conversation's hits on a page: how many in all, and the newest (kind, id, written at).
type Found = (u32, Vec<(HitKind, i64, i64)>);

/// A search document to keep: what it finds, where, and its text.
struct Doc<'a> {
    kind: HitKind,
    ref_id: i64,
    conversation: ConversationId,
    direction: Option<&'a str>,
    at: i64,
    text: &'a str,
}

/// Documents kept by one statement at most.
const DOCS_PER_STATEMENT: usize = 200;
/// A conversation as a page lists it: id, customer, status, team, assignee.
type ListedRow = (i64, String, String, Option<i64>, Option<i64>);

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
        Self::index_docs(tx, &[Doc { kind, ref_id, conversation, direction, at, text }]).await
    }

    /// Keeps `docs`, replacing any stored before: many to a statement.
    async fn index_docs(tx: &mut Transaction<'static, DB>, docs: &[Doc<'_>]) -> StoreResult<()> {
        let columns = match DB::BACKEND {
            Backend::Sqlite => 6,
            Backend::Postgres => 7,
        };
        for chunk in docs.chunks(DOCS_PER_STATEMENT) {
            let rows = match DB::BACKEND {
                Backend::Sqlite => value_rows(1, chunk.len(), columns),
                // The vector comes as text, cast per row.
                Backend::Postgres => (0..chunk.len())
                    .map(|row| {
                        let first = row * columns + 1;
                        format!("({}, CAST(${} AS tsvector))", placeholders(first, columns - 1), first + columns - 1)
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            let statement = match DB::BACKEND {
                Backend::Sqlite => format!(
                    "INSERT INTO search_docs (kind, ref_id, conversation_id, direction, at, terms) VALUES {rows} \
                     ON CONFLICT (kind, ref_id) DO UPDATE SET terms = excluded.terms, at = excluded.at"
                ),
                Backend::Postgres => format!(
                    "INSERT INTO search_docs (kind, ref_id, conversation_id, direction, at, terms, vector) \
                     VALUES {rows} ON CONFLICT (kind, ref_id) DO UPDATE SET terms = excluded.terms, \
                     at = excluded.at, vector = excluded.vector"
                ),
            };
            let mut query = sqlx::query(&statement);
            for doc in chunk {
                // Kept even without a term (a picture without a caption): the backlog then knows
                // it was looked at.
                let terms = index_terms(doc.text);
                query = query
                    .bind(doc.kind.as_str())
                    .bind(doc.ref_id)
                    .bind(doc.conversation.0)
                    .bind(doc.direction)
                    .bind(doc.at)
                    .bind(terms.join(" "));
                if DB::BACKEND == Backend::Postgres {
                    query = query.bind(tsvector_literal(&terms));
                }
            }
            query.execute(&mut **tx).await?;
        }
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
        Self::index_messages(tx, std::slice::from_ref(message)).await
    }

    /// [`Self::index_message`] for many messages at once.
    pub(super) async fn index_messages(tx: &mut Transaction<'static, DB>, messages: &[Message]) -> StoreResult<()> {
        let texts: Vec<String> = messages.iter().map(message_text).collect();
        let docs: Vec<Doc<'_>> = messages
            .iter()
            .zip(&texts)
            .map(|(message, text)| Doc {
                kind: HitKind::Message,
                ref_id: message.id.0,
                conversation: message.conversation_id,
                direction: Some(message.direction.as_str()),
                at: message.sent_at,
                text,
            })
            .collect();
        Self::index_docs(tx, &docs).await
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

    /// The conversations with the newest documents matching `query` that `scope` may see, walked
    /// newest first a page at a time, until `limit` are found; with whether every document was
    /// walked (so the count is exact). `None` if the walk went [`MAX_WALKED`] documents without
    /// filling the page (filters that leave little): the index answers that instead.
    async fn walk_newest(
        &self,
        scope: &SearchScope,
        query: &Query,
        filters: &SearchRequest,
        limit: u32,
    ) -> StoreResult<Option<(Vec<i64>, bool)>> {
        let (conditions, binds) = Self::conversation_filters(scope, filters, 3);
        let (documents, document_binds) = Self::doc_filters(filters, 3 + binds.len());
        let page = format!(
            // CROSS JOIN: SQLite walks the documents by time and looks each conversation up,
            // rather than starting from the conversations a filter names and sorting all of
            // their documents (PostgreSQL reads it as the join it is).
            "SELECT d.id, d.conversation_id, d.at, d.terms FROM search_docs d CROSS JOIN conversations c \
             WHERE c.id = d.conversation_id AND (d.at, d.id) < ($1, $2){conditions}{documents} \
             ORDER BY d.at DESC, d.id DESC LIMIT $3"
        );
        let mut found: Vec<i64> = Vec::new();
        let mut cursor = (i64::MAX, i64::MAX);
        let mut walked = 0;
        // Small steps first: a page of a common word is usually filled from its newest few
        // hundred documents; each step reads more than the last.
        let mut step = FIRST_STEP;
        while walked < MAX_WALKED {
            let rows: Vec<(i64, i64, i64, String)> = bind_all!(
                bind_all!(
                    sqlx::query_as(&page).persistent(false).bind(cursor.0).bind(cursor.1).bind(step as i64),
                    &binds
                ),
                &document_binds
            )
            .fetch_all(&self.pool)
            .await?;
            let exhausted = rows.len() < step;
            step = (step * 4).min(LAST_STEP);
            walked += rows.len();
            for (id, conversation, at, terms) in rows {
                cursor = (at, id);
                if !found.contains(&conversation) && query.matches_terms(&terms) {
                    found.push(conversation);
                    if found.len() == limit as usize {
                        return Ok(Some((found, false)));
                    }
                }
            }
            if exhausted {
                return Ok(Some((found, true)));
            }
        }
        Ok(None)
    }

    /// A rare word's conversations (its documents are under [`COMMON_AT`]): the documents read
    /// from the index, then which of their conversations `scope` may see and the filters keep —
    /// two plain lookups, where one joined statement leaves PostgreSQL guessing how many a prefix
    /// matches (and scanning every conversation). Returns the page and the exact total; `None` if
    /// the word matches more than [`RARE_AT_MOST`] documents after all.
    async fn rare(
        &self,
        scope: &SearchScope,
        expression: &str,
        filters: &SearchRequest,
        limit: u32,
    ) -> StoreResult<Option<(Vec<i64>, u32)>> {
        let matched = Self::matched_sql();
        let (documents, document_binds) = Self::doc_filters(filters, 1);
        let statement = format!(
            "SELECT d.conversation_id, d.at FROM search_docs d WHERE {matched}{documents} LIMIT {}",
            RARE_AT_MOST + 1
        );
        let docs: Vec<(i64, i64)> =
            bind_all!(sqlx::query_as(&statement).persistent(false).bind(expression.to_owned()), &document_binds)
                .fetch_all(&self.pool)
                .await?;
        if docs.len() > RARE_AT_MOST {
            return Ok(None);
        }
        let mut newest: HashMap<i64, i64> = HashMap::new();
        for (conversation, at) in docs {
            let entry = newest.entry(conversation).or_insert(at);
            *entry = (*entry).max(at);
        }
        if newest.is_empty() {
            return Ok(Some((Vec::new(), 0)));
        }
        // Ids are numbers of Baton's own, written into the statement.
        let ids: Vec<String> = newest.keys().map(i64::to_string).collect();
        let (conditions, binds) = Self::conversation_filters(scope, filters, 0);
        let statement = format!("SELECT c.id FROM conversations c WHERE c.id IN ({}){conditions}", ids.join(", "));
        let kept: Vec<i64> =
            bind_all!(sqlx::query_scalar(&statement).persistent(false), &binds).fetch_all(&self.pool).await?;
        let mut kept: Vec<(i64, i64)> = kept
            .into_iter()
            .map(|conversation| (newest.get(&conversation).copied().unwrap_or(0), conversation))
            .collect();
        kept.sort_unstable_by(|a, b| b.cmp(a));
        let total = u32::try_from(kept.len()).unwrap_or(u32::MAX);
        Ok(Some((kept.into_iter().take(limit as usize).map(|(_, conversation)| conversation).collect(), total)))
    }

    /// Whether `query` matches [`COMMON_AT`] documents or more. On PostgreSQL, estimated from its
    /// statistics where it has them ([`TermFrequencies`]); otherwise counted in the index, up to
    /// that many (cheap in FTS5, which reads a word's documents in order and stops).
    async fn is_common(&self, query: &Query, expression: &str) -> StoreResult<bool> {
        if matches!(DB::BACKEND, Backend::Postgres)
            && let Some(estimate) = self.estimated_documents(query).await?
        {
            return Ok(estimate >= COMMON_AT as f64);
        }
        let probe = match DB::BACKEND {
            Backend::Sqlite => format!(
                "SELECT COUNT(*) FROM (SELECT rowid FROM search_fts WHERE search_fts MATCH $1 LIMIT {COMMON_AT}) AS matched"
            ),
            Backend::Postgres => format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM search_docs d WHERE d.vector @@ CAST($1 AS tsquery) \
                 LIMIT {COMMON_AT}) AS matched"
            ),
        };
        let matches: i64 =
            sqlx::query_scalar(&probe).persistent(false).bind(expression.to_owned()).fetch_one(&self.pool).await?;
        Ok(matches >= COMMON_AT)
    }

    /// PostgreSQL's estimate of the documents matching `query`, from statistics read at most a
    /// few minutes ago; `None` before the index was first analyzed.
    async fn estimated_documents(&self, query: &Query) -> StoreResult<Option<f64>> {
        let frequencies = match self.term_stats.fresh() {
            Some(frequencies) => frequencies,
            None => {
                let documents: Option<i64> = sqlx::query_scalar(
                    "SELECT CAST(reltuples AS BIGINT) FROM pg_class WHERE oid = CAST('search_docs' AS regclass)",
                )
                .fetch_optional(&self.pool)
                .await?;
                // The frequencies array ends with three numbers of its own (least, most, and the
                // share of empty documents), which unnest pairs with no lexeme.
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT u.lexeme, CAST(u.share * 1000000 AS BIGINT) FROM pg_stats s \
                     CROSS JOIN LATERAL unnest(CAST(CAST(s.most_common_elems AS text) AS text[]), \
                     s.most_common_elem_freqs) AS u(lexeme, share) \
                     WHERE s.schemaname = current_schema() AND s.tablename = 'search_docs' \
                     AND s.attname = 'vector' AND u.lexeme IS NOT NULL",
                )
                .fetch_all(&self.pool)
                .await?;
                self.term_stats.keep(TermFrequencies::new(documents.unwrap_or(-1), rows))
            }
        };
        Ok(frequencies.map(|frequencies| frequencies.documents_matching(query)))
    }

    /// Every match grouped by conversation in the index, for what neither the rare path nor the
    /// walk answers: the page and the exact total.
    async fn grouped(
        &self,
        scope: &SearchScope,
        expression: &str,
        filters: &SearchRequest,
        limit: u32,
    ) -> StoreResult<(Vec<i64>, u32)> {
        let (from, binds) = Self::matching(scope, filters);
        let counting = format!("SELECT COUNT(DISTINCT d.conversation_id) {from}");
        let total: i64 = bind_all!(sqlx::query_scalar(&counting).persistent(false).bind(expression.to_owned()), &binds)
            .fetch_one(&self.pool)
            .await?;
        let grouping = format!(
            "SELECT d.conversation_id, MAX(d.at) AS newest {from} \
             GROUP BY d.conversation_id ORDER BY newest DESC, d.conversation_id DESC LIMIT {}",
            i64::from(limit)
        );
        let grouped: Vec<(i64, i64)> =
            bind_all!(sqlx::query_as(&grouping).persistent(false).bind(expression.to_owned()), &binds)
                .fetch_all(&self.pool)
                .await?;
        Ok((
            grouped.into_iter().map(|(conversation, _)| conversation).collect(),
            u32::try_from(total).unwrap_or(u32::MAX),
        ))
    }

    /// The conversations with hits, as results show them, in the order given: each one's newest
    /// hits and how many there are — read in a few statements for the whole page: their
    /// documents (by the conversations' index, checked against the query here: asking the
    /// full-text index again would walk a common word's whole list), the hits' texts, the
    /// conversations.
    async fn groups(&self, found: &[i64], query: &Query, filters: &SearchRequest) -> StoreResult<Vec<SearchGroup>> {
        if found.is_empty() {
            return Ok(Vec::new());
        }
        // Ids are numbers of Baton's own, written into the statements.
        let ids = |ids: &mut dyn Iterator<Item = i64>| ids.map(|id| id.to_string()).collect::<Vec<_>>().join(", ");
        let conversations = ids(&mut found.iter().copied());
        let (filters_sql, filter_binds) = Self::doc_filters(filters, 0);
        let documents = format!(
            "SELECT d.conversation_id, d.kind, d.ref_id, d.at, d.terms FROM search_docs d \
             WHERE d.conversation_id IN ({conversations}){filters_sql} ORDER BY d.at DESC, d.id DESC"
        );
        let docs: Vec<(i64, String, i64, i64, String)> =
            bind_all!(sqlx::query_as(&documents).persistent(false), &filter_binds).fetch_all(&self.pool).await?;
        let mut hits: HashMap<i64, Found> = HashMap::new();
        for (conversation, kind, id, at, terms) in docs {
            if !query.matches_terms(&terms) {
                continue;
            }
            let entry = hits.entry(conversation).or_default();
            entry.0 += 1;
            if let Some(kind) = HitKind::parse(&kind).filter(|_| entry.1.len() < HITS_SHOWN) {
                entry.1.push((kind, id, at));
            }
        }
        let shown: Vec<(HitKind, i64)> =
            hits.values().flat_map(|(_, shown)| shown.iter().map(|(kind, id, _)| (*kind, *id))).collect();
        let texts = self.hit_texts(&shown).await?;
        let rows: Vec<ListedRow> = sqlx::query_as(&format!(
            "SELECT c.id, COALESCE(NULLIF(k.display_name, ''), NULLIF(k.profile_name, ''), '+' || k.wa_id), \
             c.status, c.team_id, c.assignee_id FROM conversations c JOIN contacts k ON k.id = c.contact_id \
             WHERE c.id IN ({conversations})"
        ))
        .persistent(false)
        .fetch_all(&self.pool)
        .await?;
        let mut listed: HashMap<i64, (String, String, Option<i64>, Option<i64>)> = rows
            .into_iter()
            .map(|(id, customer, status, team, assignee)| (id, (customer, status, team, assignee)))
            .collect();
        let mut groups = Vec::with_capacity(found.len());
        for conversation in found {
            let Some((customer, status, team, assignee)) = listed.remove(conversation) else { continue };
            let (count, shown) = hits.remove(conversation).unwrap_or_default();
            let hits = shown
                .into_iter()
                .filter_map(|(kind, id, at)| {
                    let text = texts.get(&(kind, id))?;
                    Some(SearchHit { kind, id, at, snippet: snippet(text, query, SNIPPET_CHARS) })
                })
                .collect();
            groups.push(SearchGroup {
                conversation: ConversationId(*conversation),
                customer,
                status: ConversationStatus::parse(&status).ok_or_else(|| rows::corrupt(format!("status {status}")))?,
                team: team.map(TeamId),
                assignee: assignee.map(UserId),
                hits,
                hit_count: count,
            });
        }
        Ok(groups)
    }

    /// The texts hits were found in, as stored now (a deleted note's is gone).
    async fn hit_texts(&self, hits: &[(HitKind, i64)]) -> StoreResult<HashMap<(HitKind, i64), String>> {
        let of = |wanted: HitKind| {
            hits.iter().filter(|(kind, _)| *kind == wanted).map(|(_, id)| id.to_string()).collect::<Vec<_>>().join(", ")
        };
        let mut texts = HashMap::new();
        let messages = of(HitKind::Message);
        if !messages.is_empty() {
            let rows: Vec<rows::MessageRow> =
                sqlx::query_as(&format!("SELECT {} FROM messages WHERE id IN ({messages})", rows::MESSAGE_COLUMNS))
                    .persistent(false)
                    .fetch_all(&self.pool)
                    .await?;
            for row in rows {
                let message = Message::try_from(row)?;
                texts.insert((HitKind::Message, message.id.0), message_text(&message));
            }
        }
        let notes = of(HitKind::Note);
        if !notes.is_empty() {
            let rows: Vec<(i64, String)> =
                sqlx::query_as(&format!("SELECT id, body FROM notes WHERE id IN ({notes}) AND deleted = FALSE"))
                    .persistent(false)
                    .fetch_all(&self.pool)
                    .await?;
            texts.extend(rows.into_iter().map(|(id, body)| ((HitKind::Note, id), body)));
        }
        let labelled = of(HitKind::Labels);
        if !labelled.is_empty() {
            let rows: Vec<(i64, String)> =
                sqlx::query_as(&format!("SELECT id, labels FROM conversations WHERE id IN ({labelled})"))
                    .persistent(false)
                    .fetch_all(&self.pool)
                    .await?;
            for (id, labels) in rows {
                if let Ok(labels) = serde_json::from_str::<Vec<String>>(&labels) {
                    texts.insert((HitKind::Labels, id), labels.join(", "));
                }
            }
        }
        Ok(texts)
    }

    /// A document `d` matching the query in `$1` (FTS5's expression, or a `tsquery`).
    fn matched_sql() -> &'static str {
        match DB::BACKEND {
            Backend::Sqlite => "d.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH $1)",
            Backend::Postgres => "d.vector @@ CAST($1 AS tsquery)",
        }
    }

    /// The `FROM … WHERE …` of a search: documents matching `$1` in conversations `scope` may
    /// see, with the filters (bound from `$2`); returns the SQL and the filter binds, in order.
    fn matching(scope: &SearchScope, filters: &SearchRequest) -> (String, Vec<Bind>) {
        let matched = Self::matched_sql();
        let (conditions, mut binds) = Self::conversation_filters(scope, filters, 1);
        let (documents, document_binds) = Self::doc_filters(filters, 1 + binds.len());
        binds.extend(document_binds);
        (
            format!(
                "FROM search_docs d JOIN conversations c ON c.id = d.conversation_id WHERE {matched}{conditions}{documents}"
            ),
            binds,
        )
    }

    /// Who may see the conversation `c` and the filters on it (team, assignee, status, label), as
    /// ` AND …` with their binds numbered after the first `before` placeholders.
    fn conversation_filters(scope: &SearchScope, filters: &SearchRequest, before: usize) -> (String, Vec<Bind>) {
        let mut sql = format!(" AND {}", visible_sql(scope));
        let mut binds = Vec::new();
        let mut next = |sql: &mut String, condition: &str, bind: Bind| {
            binds.push(bind);
            sql.push_str(&condition.replace('?', &format!("${}", before + binds.len())));
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
}

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
        // Every statement of a search is planned for its own words (`persistent(false)`: no
        // cached plan, which PostgreSQL would make generic — blind to whether a word is rare —
        // and then walk the whole table for a rare one).
        //
        // A word in a few thousand documents at most is grouped exactly from the index; a common
        // one (in more) is found by walking the documents newest first, stopping as soon as the
        // page is full — the same conversations in the same order, without visiting every match.
        // Where neither answers (a word taken for rare that is not, a filter that leaves little),
        // the index groups every match in one statement.
        let common = self.is_common(query, &expression).await?;
        let mut answer = None;
        if !common {
            answer = self.rare(scope, &expression, filters, limit).await?.map(|(found, total)| (found, total, false));
        }
        if answer.is_none() {
            answer = self.walk_newest(scope, query, filters, limit).await?.map(|(found, exhausted)| {
                let total = u32::try_from(found.len()).unwrap_or(u32::MAX);
                (found, total, !exhausted)
            });
        }
        let (found, total, total_capped) = match answer {
            Some(answer) => answer,
            None => {
                let (found, total) = self.grouped(scope, &expression, filters, limit).await?;
                (found, total, false)
            }
        };
        let groups = self.groups(&found, query, filters).await?;
        Ok(SearchResults { groups, total, total_capped, contacts: Vec::new() })
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
