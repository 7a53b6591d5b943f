//! Customer satisfaction: the rating request stored with the resolution it rates, and the
//! customer's answer recorded in the rated conversation — inside the transaction that records the
//! customer's message, without reopening or routing it.

use async_trait::async_trait;
use baton_shared::csat::{Scale, score_of};
use baton_shared::model::{Change, ConversationEvent, ConversationStatus, MessageContent};
use baton_shared::{ConversationId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::report_counts::CountRows;
use super::{Sql, SqlStore, rows};
use crate::store::StoreResult;
use crate::store::automation::{AutomatedOutcome, AutomatedReply, CsatRecord, CsatStore};
use crate::store::conversations::NewInbound;

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: i64,
    conversation_id: i64,
    scale: String,
    resolved_at: i64,
    assignee_id: Option<i64>,
    score: Option<i64>,
}

/// A rating request an answer refers to.
pub(super) struct Rated {
    pub request: i64,
    pub conversation: ConversationId,
    pub scale: Scale,
    pub resolved_at: i64,
    pub assignee: Option<UserId>,
    pub answered: bool,
    pub score: u8,
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
    /// The rating request `inbound` answers: a tap on one of its choices, quoting it.
    pub(super) async fn rated_by(
        tx: &mut Transaction<'static, DB>,
        inbound: &NewInbound,
    ) -> StoreResult<Option<Rated>> {
        let (Some(MessageContent::Choice { id, .. }), Some(quoted)) = (&inbound.content, &inbound.reply_to) else {
            return Ok(None);
        };
        let Some(score) = score_of(id) else { return Ok(None) };
        let row: Option<RequestRow> = sqlx::query_as(
            "SELECT r.id, r.conversation_id, r.scale, r.resolved_at, r.assignee_id, r.score FROM csat_requests r \
             JOIN messages m ON m.id = r.message_id WHERE m.wa_message_id = $1",
        )
        .bind(quoted)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(RequestRow {
            id: request,
            conversation_id: conversation,
            scale,
            resolved_at,
            assignee_id: assignee,
            score: answered,
        }) = row
        else {
            return Ok(None);
        };
        let scale = Scale::parse(&scale).ok_or_else(|| rows::corrupt(format!("scale {scale}")))?;
        if score > scale.levels() {
            return Ok(None);
        }
        Ok(Some(Rated {
            request,
            conversation: ConversationId(conversation),
            scale,
            resolved_at,
            assignee: assignee.map(UserId),
            answered: answered.is_some(),
            score,
        }))
    }

    /// Records the answer `message_id` to `rated` (the first answer counts; a later tap is kept
    /// as a message only); the event to add.
    pub(super) async fn record_csat_answer(
        tx: &mut Transaction<'static, DB>,
        rated: &Rated,
        message_id: i64,
        now: i64,
        counts: &mut CountRows,
    ) -> StoreResult<Option<ConversationEvent>> {
        if rated.answered {
            return Ok(None);
        }
        sqlx::query("UPDATE csat_requests SET score = $2, answered_at = $3, answer_id = $4 WHERE id = $1")
            .bind(rated.request)
            .bind(i64::from(rated.score))
            .bind(now)
            .bind(message_id)
            .execute(&mut **tx)
            .await?;
        let change = Change::CsatAnswered {
            score: rated.score,
            scale: rated.scale,
            resolved_at: rated.resolved_at,
            assignee: rated.assignee,
        };
        Ok(Some(Self::append_event_counting(tx, rated.conversation, change, now, counts).await?))
    }
}

#[async_trait]
impl<DB: Sql> CsatStore for SqlStore<DB>
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
    async fn send_csat_request(
        &self,
        request: &AutomatedReply,
        scale: Scale,
        resolved_at: i64,
        assignee: Option<UserId>,
        now: i64,
    ) -> StoreResult<AutomatedOutcome> {
        let id = request.conversation;
        let mut tx = self.write_transaction().await?;
        Self::lock_for_automation(&mut tx, id).await?;
        let status: String =
            sqlx::query_scalar("SELECT status FROM conversations WHERE id = $1").bind(id.0).fetch_one(&mut *tx).await?;
        // Reopened meanwhile: the conversation goes on, nothing to rate yet.
        if status != ConversationStatus::Resolved.as_str() {
            return Ok(AutomatedOutcome::TooSoon);
        }
        let outcome = Self::automated_in(&mut tx, request, now).await?;
        let AutomatedOutcome::Sent { event } = &outcome else { return Ok(outcome) };
        let Change::MessageAdded { message } = &event.change else { return Ok(outcome) };
        sqlx::query(
            "INSERT INTO csat_requests (conversation_id, message_id, scale, resolved_at, assignee_id) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.0)
        .bind(message.id.0)
        .bind(scale.as_str())
        .bind(resolved_at)
        .bind(assignee.map(|user| user.0))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    async fn csat_records(&self, conversation: ConversationId) -> StoreResult<Vec<CsatRecord>> {
        let rows: Vec<(String, i64, Option<i64>, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT scale, resolved_at, assignee_id, score, answered_at FROM csat_requests \
             WHERE conversation_id = $1 ORDER BY id",
        )
        .bind(conversation.0)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(scale, resolved_at, assignee, score, answered_at)| {
                Ok(CsatRecord {
                    conversation,
                    scale: Scale::parse(&scale).ok_or_else(|| rows::corrupt(format!("scale {scale}")))?,
                    resolved_at,
                    assignee: assignee.map(UserId),
                    score: score.and_then(|score| u8::try_from(score).ok()),
                    answered_at,
                })
            })
            .collect()
    }
}
