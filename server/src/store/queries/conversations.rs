//! Conversations and their event log: the row lock every change takes, `seq` numbering, a
//! customer message finding (or opening) its conversation, the inbox list, assignment and status.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use baton_shared::model::{
    self, Change, Conversation, ConversationEvent, ConversationStatus, MessageContent, Priority,
};
use baton_shared::routing_rules::{RuleSet, Trigger};
use baton_shared::{ConversationId, MessageId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::contacts::{CONTACT_RETURNING, UpsertedRow};
use super::messages::IDS_PER_QUERY;
use super::report_counts::CountRows;
use super::rules::Placed;
use super::{Sql, SqlStore, is_unique_violation, placeholders, rows, value_rows};
use crate::store::automation::JobKind;
use crate::store::conversations::{ConversationStore, InboundOutcome, NewInbound};
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
    /// Locks the conversation until commit ([`Sql::LOCK_CONVERSATION`]); `NotFound` if it does
    /// not exist. Every change to a conversation takes this first, so its events are numbered
    /// without gaps and in commit order.
    pub(super) async fn lock_conversation(tx: &mut Transaction<'static, DB>, id: ConversationId) -> StoreResult<()> {
        let found: Option<i64> = sqlx::query_scalar(DB::LOCK_CONVERSATION).bind(id.0).fetch_optional(&mut **tx).await?;
        found.map(|_| ()).ok_or(StoreError::NotFound)
    }

    /// Appends an event with the conversation's next seq.
    pub(super) async fn append_event(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        actor: Option<UserId>,
        change: Change,
        now: i64,
    ) -> StoreResult<ConversationEvent> {
        let seq = Self::next_seq(tx, id, now).await?;
        Self::insert_event(tx, id, seq, actor, change, now).await
    }

    /// [`Self::append_event`], what it counts for reports added to `counts` (written by the
    /// caller before it commits: [`Self::write_counts`]). A transaction that appends events to
    /// several conversations counts them all this way, so that it writes each counter row once,
    /// in key order, at its end.
    pub(super) async fn append_event_counting(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        change: Change,
        now: i64,
        counts: &mut CountRows,
    ) -> StoreResult<ConversationEvent> {
        let seq = Self::next_seq(tx, id, now).await?;
        Self::insert_event_counting(tx, id, seq, None, change, now, counts).await
    }

    /// Takes the next seq (the caller inserts the event with it).
    pub(super) async fn next_seq(tx: &mut Transaction<'static, DB>, id: ConversationId, now: i64) -> StoreResult<u64> {
        let seq: i64 = sqlx::query_scalar(
            "UPDATE conversations SET last_seq = last_seq + 1, updated_at = $2 WHERE id = $1 RETURNING last_seq",
        )
        .bind(id.0)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        rows::seq_of(seq)
    }

    /// Inserts the event numbered `seq` (taken with [`Self::next_seq`]).
    pub(super) async fn insert_event(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        seq: u64,
        actor: Option<UserId>,
        change: Change,
        now: i64,
    ) -> StoreResult<ConversationEvent> {
        let mut counts = CountRows::default();
        let event = Self::insert_event_counting(tx, id, seq, actor, change, now, &mut counts).await?;
        Self::write_counts(tx, &mut counts).await?;
        Ok(event)
    }

    /// [`Self::insert_event`], what it counts for reports added to `counts` (written by the
    /// caller before it commits: [`Self::write_counts`]).
    async fn insert_event_counting(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        seq: u64,
        actor: Option<UserId>,
        change: Change,
        now: i64,
        counts: &mut CountRows,
    ) -> StoreResult<ConversationEvent> {
        let event = ConversationEvent { conversation_id: id, seq, at: now, actor, change };
        Self::insert_events(tx, std::slice::from_ref(&event)).await?;
        // Every event passes here: what it means for reports is kept with it.
        Self::record_for_reports(tx, id, &event.change, now, counts).await?;
        Ok(event)
    }

    /// Inserts `events` (their seqs taken), many to a statement; what they mean for reports is
    /// the caller's to record.
    pub(super) async fn insert_events(
        tx: &mut Transaction<'static, DB>,
        events: &[ConversationEvent],
    ) -> StoreResult<()> {
        for chunk in events.chunks(EVENTS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO events (conversation_id, seq, at, actor_id, change) VALUES {}",
                value_rows(1, chunk.len(), 5)
            );
            let mut query = sqlx::query(&sql);
            for event in chunk {
                let json = serde_json::to_string(&event.change).map_err(|error| rows::corrupt(error.to_string()))?;
                query = query
                    .bind(event.conversation_id.0)
                    .bind(rows::seq_param(event.seq))
                    .bind(event.at)
                    .bind(event.actor.map(|actor| actor.0))
                    .bind(json);
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Whether free text may go to the conversation's customer now (`Contact::window_open`).
    pub(super) async fn window_open(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        now: i64,
    ) -> StoreResult<bool> {
        let (last_inbound_at, window_closed_at): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT k.last_inbound_at, k.window_closed_at FROM conversations c \
             JOIN contacts k ON k.id = c.contact_id WHERE c.id = $1",
        )
        .bind(id.0)
        .fetch_one(&mut **tx)
        .await?;
        Ok(model::window_open(last_inbound_at, window_closed_at, now))
    }

    /// The customer wrote into a conversation resolved not long ago: it opens again and waits in
    /// its team's queue; whoever held it is kept as its sticky owner, whom routing gives it back
    /// to first if they may take it now.
    async fn reopen(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        now: i64,
        counts: &mut CountRows,
    ) -> StoreResult<Vec<ConversationEvent>> {
        let assignee: Option<i64> = sqlx::query_scalar("SELECT assignee_id FROM conversations WHERE id = $1")
            .bind(id.0)
            .fetch_one(&mut **tx)
            .await?;
        sqlx::query(
            "UPDATE conversations SET status = 'open', assignee_id = NULL, queued_at = $2, snoozed_until = NULL, \
             last_assignee_id = COALESCE(assignee_id, last_assignee_id) WHERE id = $1",
        )
        .bind(id.0)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        let change = Change::StatusChanged { status: ConversationStatus::Open };
        let mut events = vec![Self::append_event_counting(tx, id, change, now, counts).await?];
        if assignee.is_some() {
            let change = Change::Assigned { assignee: None, routing: None };
            events.push(Self::append_event_counting(tx, id, change, now, counts).await?);
        }
        Ok(events)
    }

    /// Adds customer message `inbound` to conversation `id` (locked by the caller), placed by
    /// WhatsApp's timestamp; `None` if a concurrent delivery of it committed first.
    async fn add_inbound_message(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        inbound: &NewInbound,
        now: i64,
        counts: &mut CountRows,
    ) -> StoreResult<(Option<model::Message>, Vec<ConversationEvent>)> {
        // Placed by WhatsApp's timestamp — but never before the message it answers: WhatsApp's
        // times are whole seconds, and a tap on a menu can come within the second it was sent.
        let answered: Option<i64> = match &inbound.reply_to {
            Some(quoted) => {
                sqlx::query_scalar("SELECT sent_at FROM messages WHERE wa_message_id = $1 AND conversation_id = $2")
                    .bind(quoted)
                    .bind(id.0)
                    .fetch_optional(&mut **tx)
                    .await?
            }
            None => None,
        };
        let placed = answered.map_or(inbound.at, |answered| inbound.at.max(answered + 1));
        // The next seq, and `last_message_at` moved to the message (never back: a redelivery
        // after an outage may bring it late, placed where it was written). Undone with the
        // message if it turns out to be a duplicate (the caller rolls back).
        let seq: i64 = sqlx::query_scalar(
            "UPDATE conversations SET last_seq = last_seq + 1, updated_at = $2, \
             last_message_at = CASE WHEN last_message_at IS NULL OR last_message_at < $3 THEN $3 \
             ELSE last_message_at END WHERE id = $1 RETURNING last_seq",
        )
        .bind(id.0)
        .bind(now)
        .bind(placed)
        .fetch_one(&mut **tx)
        .await?;
        let seq = rows::seq_of(seq)?;
        let inserted: Result<rows::MessageRow, sqlx::Error> = sqlx::query_as(&format!(
            "INSERT INTO messages (conversation_id, seq, direction, kind, body, wa_message_id, status, \
             created_at, sent_at, content, reply_to) \
             VALUES ($1, $2, 'inbound', $3, $4, $5, 'received', $6, $9, $7, $8) RETURNING {}",
            rows::MESSAGE_COLUMNS
        ))
        .bind(id.0)
        .bind(rows::seq_param(seq))
        .bind(inbound.kind.as_str())
        .bind(&inbound.body)
        .bind(&inbound.wa_message_id)
        .bind(inbound.at)
        .bind(rows::to_json_column(inbound.content.as_ref())?)
        .bind(&inbound.reply_to)
        .bind(placed)
        .fetch_one(&mut **tx)
        .await;
        let message = match inserted {
            Ok(row) => model::Message::try_from(row)?,
            // A concurrent delivery of the same message committed first. Where writers are
            // serialised that cannot be (the caller looked in this transaction): then it is an
            // error, and the transaction with its seq is rolled back rather than kept with a gap.
            Err(error) if is_unique_violation(&error) && !DB::WRITERS_SERIALISED => return Ok((None, Vec::new())),
            Err(error) => return Err(error.into()),
        };
        Self::index_message(tx, &message).await?;
        let change = Change::MessageAdded { message: message.clone() };
        let event = Self::insert_event_counting(tx, id, seq, None, change, now, counts).await?;
        Ok((Some(message), vec![event]))
    }

    /// Records a customer message inside the caller's transaction (which commits it, after
    /// [`Self::finish_inbound`]); `batch`: what the transaction's messages share.
    pub(super) async fn record_inbound_in(
        tx: &mut Transaction<'static, DB>,
        batch: &mut InboundBatch,
        inbound: &NewInbound,
        now: i64,
    ) -> StoreResult<InboundOutcome> {
        let seen = match &batch.stored {
            Some(stored) => stored.contains(&inbound.wa_message_id),
            None => sqlx::query_scalar::<DB, i64>("SELECT id FROM messages WHERE wa_message_id = $1")
                .bind(&inbound.wa_message_id)
                .fetch_optional(&mut **tx)
                .await?
                .is_some(),
        };
        if seen {
            return Ok(InboundOutcome::Duplicate);
        }
        // From here on it is stored, by this message or (found late) by another delivery of it.
        if let Some(stored) = &mut batch.stored {
            stored.insert(inbound.wa_message_id.clone());
        }
        // The upsert locks the contact's row: concurrent messages of one customer queue here, so
        // they cannot open two conversations. A message written since WhatsApp closed the window
        // opens it again; its time is WhatsApp's, in whole seconds, so "since" allows 5 s for the
        // two clocks (a message older than that arrived late).
        let upserted: UpsertedRow = sqlx::query_as(&format!(
            "INSERT INTO contacts AS k (wa_id, profile_name, created_at, last_inbound_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (wa_id) DO UPDATE SET \
             profile_name = CASE WHEN excluded.profile_name <> '' THEN excluded.profile_name \
                                 ELSE k.profile_name END, \
             last_inbound_at = CASE WHEN k.last_inbound_at IS NULL \
                                      OR excluded.last_inbound_at > k.last_inbound_at \
                                    THEN excluded.last_inbound_at ELSE k.last_inbound_at END, \
             window_closed_at = CASE WHEN excluded.last_inbound_at >= k.window_closed_at - $5 \
                                     THEN NULL ELSE k.window_closed_at END \
             RETURNING {CONTACT_RETURNING}",
        ))
        .bind(&inbound.wa_id)
        .bind(&inbound.profile_name)
        .bind(now)
        .bind(inbound.at)
        .bind(model::WINDOW_REOPEN_SLACK_MS)
        .fetch_one(&mut **tx)
        .await?;
        let UpsertedRow { record, terms } = upserted;
        let record = baton_shared::contacts::ContactRecord::try_from(record)?;
        // Found by its (new) profile name as soon as the message is acknowledged.
        Self::index_contact_if_changed(tx, &record, terms.as_deref()).await?;
        let contact = record.contact;
        let contact_id = contact.id.0;
        let blocked = contact.blocked;
        // A tap on a rating request answers it, in the conversation it rates: nothing reopens,
        // nothing is routed, nothing is answered.
        if let Some(rated) = Self::rated_by(tx, inbound).await? {
            let id = rated.conversation;
            Self::lock_conversation(tx, id).await?;
            let (message, mut events) = Self::add_inbound_message(tx, id, inbound, now, &mut batch.counts).await?;
            let Some(message) = message else { return Ok(InboundOutcome::Duplicate) };
            events.extend(Self::record_csat_answer(tx, &rated, message.id.0, now, &mut batch.counts).await?);
            return Ok(InboundOutcome::Recorded { conversation_id: id, events });
        }
        // The customer's latest conversation (held until commit): open or pending, or resolved
        // within [`REOPEN_WITHIN_MS`] (which the message reopens); else a new one starts. With
        // whether the menu bot is taking its answers.
        let open: Option<(i64, String, bool)> = sqlx::query_as(&format!(
            "SELECT c.id, c.status, EXISTS (SELECT 1 FROM bot_sessions b WHERE b.conversation_id = c.id) \
             FROM conversations c WHERE c.contact_id = $1 \
             AND (c.status <> 'resolved' OR c.resolved_at >= $2) ORDER BY c.id DESC LIMIT 1 {}",
            DB::FOR_UPDATE
        ))
        .bind(contact_id)
        .bind(inbound.at.min(now) - REOPEN_WITHIN_MS)
        .fetch_optional(&mut **tx)
        .await?;
        // Not one resolved before a newer conversation of theirs.
        let open = match open {
            Some((id, status, bot)) if status == ConversationStatus::Resolved.as_str() => {
                let newer: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM conversations WHERE contact_id = $1 AND id > $2 LIMIT 1")
                        .bind(contact_id)
                        .bind(id)
                        .fetch_optional(&mut **tx)
                        .await?;
                newer.is_none().then_some((id, status, bot))
            }
            other => other,
        };
        let mut events = Vec::new();
        let mut opened_by_rules = None;
        let opened = open.is_none();
        let bot_answering = match &open {
            None => false,
            // Where writers are serialised, what the select saw still holds.
            Some((_, _, bot)) if DB::WRITERS_SERIALISED => *bot,
            // Read again now that the conversation is locked: on PostgreSQL the select's
            // subquery answers from before the lock's wait, and a handoff (which ends the session
            // under the conversation's lock alone) may have committed meanwhile.
            Some((id, _, _)) => {
                sqlx::query_scalar::<DB, i64>("SELECT conversation_id FROM bot_sessions WHERE conversation_id = $1")
                    .bind(*id)
                    .fetch_optional(&mut **tx)
                    .await?
                    .is_some()
            }
        };
        let id = match open {
            Some((id, status, _)) => {
                let id = ConversationId(id);
                if status == ConversationStatus::Resolved.as_str() {
                    events.extend(Self::reopen(tx, id, now, &mut batch.counts).await?);
                }
                if status == ConversationStatus::Pending.as_str() {
                    // The customer wrote: a snooze ends early (its wake-up finds nothing to do).
                    Self::end_snooze(tx, id).await?;
                    sqlx::query("UPDATE conversations SET status = 'open' WHERE id = $1")
                        .bind(id.0)
                        .execute(&mut **tx)
                        .await?;
                    let change = Change::StatusChanged { status: ConversationStatus::Open };
                    events.push(Self::append_event_counting(tx, id, change, now, &mut batch.counts).await?);
                }
                id
            }
            None => {
                // Triaged before it exists, so it opens in its queue: nobody who may not see it
                // there ever hears of it (its `opened` event says where it is).
                // A blocked customer's message is kept, but not routed: no rule places it.
                let rules = match Self::rules_once(tx, batch).await? {
                    Some(set) if !is_reaction(inbound) && !blocked => {
                        Self::rules_decide(tx, &set, contact_id, None, inbound, &Placed::default()).await?
                    }
                    _ => None,
                };
                let (team, priority) =
                    rules.as_ref().map_or((None, Priority::Normal), |rules| (rules.team, rules.priority));
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO conversations \
                     (contact_id, status, last_seq, created_at, updated_at, queued_at, team_id, priority) \
                     VALUES ($1, 'open', 0, $2, $2, $2, $3, $4) RETURNING id",
                )
                .bind(contact_id)
                .bind(now)
                .bind(team.map(|team| team.0))
                .bind(priority.rank())
                .fetch_one(&mut **tx)
                .await?;
                let id = ConversationId(id);
                let change = Change::Opened { contact, team };
                events.push(Self::append_event_counting(tx, id, change, now, &mut batch.counts).await?);
                opened_by_rules = rules;
                id
            }
        };
        let (message, added) = Self::add_inbound_message(tx, id, inbound, now, &mut batch.counts).await?;
        let Some(message) = message else { return Ok(InboundOutcome::Duplicate) };
        let message_id = message.id.0;
        let answerable = answerable(&message);
        events.extend(added);
        // What automation owes this message (the auto-replies, the clocks), due now, committed
        // with it: a crash after the commit cannot lose it, and on several nodes one of them does
        // it. Only when automation has something to do. A blocked customer is not answered by
        // Baton either.
        if answerable && !blocked && (bot_answering || Self::automation_listens_once(tx, batch).await?) {
            let kind = JobKind::CustomerMessage { message: MessageId(message_id), opened };
            Self::schedule_job(tx, id, kind, now, now).await?;
        }
        // The rules' lines (and labels, and a named agent) in the same commit as the message.
        match opened_by_rules {
            Some(decided) => {
                let placed = &Placed::default();
                let counts = &mut batch.counts;
                events.extend(Self::rules_apply(tx, id, MessageId(message_id), decided, placed, now, counts).await?)
            }
            // While the menu bot takes the customer's answers, it routes them at handoff.
            None if !opened && !blocked && !is_reaction(inbound) && !bot_answering => {
                if let Some(set) = Self::rules_once(tx, batch).await? {
                    let counts = &mut batch.counts;
                    events.extend(
                        Self::triage_by_rules(tx, &set, id, MessageId(message_id), inbound, now, counts).await?,
                    );
                }
            }
            None => {}
        }
        Ok(InboundOutcome::Recorded { conversation_id: id, events })
    }

    /// Which of `wamids` are stored already, looked up at once for the batch.
    pub(super) async fn look_up_stored(
        tx: &mut Transaction<'static, DB>,
        batch: &mut InboundBatch,
        wamids: &[&str],
    ) -> StoreResult<()> {
        batch.stored = Some(Self::stored_among(tx, wamids).await?);
        Ok(())
    }

    /// The ones of `wamids` that a stored message has, many to a statement.
    pub(super) async fn stored_among(
        tx: &mut Transaction<'static, DB>,
        wamids: &[&str],
    ) -> StoreResult<HashSet<String>> {
        let mut stored = HashSet::new();
        for chunk in wamids.chunks(IDS_PER_QUERY) {
            let sql =
                format!("SELECT wa_message_id FROM messages WHERE wa_message_id IN ({})", placeholders(1, chunk.len()));
            let mut query = sqlx::query_scalar::<DB, String>(&sql);
            for wamid in chunk {
                query = query.bind(*wamid);
            }
            stored.extend(query.fetch_all(&mut **tx).await?);
        }
        Ok(stored)
    }

    /// Writes what `batch` holds back until its transaction ends (the counts for reports):
    /// called before it commits.
    pub(super) async fn finish_inbound(tx: &mut Transaction<'static, DB>, batch: &mut InboundBatch) -> StoreResult<()> {
        Self::write_counts(tx, &mut batch.counts).await
    }

    /// The routing rules, read once per transaction.
    pub(super) async fn rules_once(
        tx: &mut Transaction<'static, DB>,
        batch: &mut InboundBatch,
    ) -> StoreResult<Option<Arc<RuleSet>>> {
        if let Some(rules) = &batch.rules {
            return Ok(rules.clone());
        }
        let rules = Self::rule_set_in(tx).await?.map(Arc::new);
        batch.rules = Some(rules.clone());
        Ok(rules)
    }

    /// [`Self::automation_listens_in`], read once per transaction.
    pub(super) async fn automation_listens_once(
        tx: &mut Transaction<'static, DB>,
        batch: &mut InboundBatch,
    ) -> StoreResult<bool> {
        if let Some(listens) = batch.automation_listens {
            return Ok(listens);
        }
        let listens = Self::automation_listens_in(tx).await?;
        batch.automation_listens = Some(listens);
        Ok(listens)
    }
}

/// What a transaction storing customer messages shares between them: what it reads once for
/// all of them (the routing rules, whether automation has anything to do on a customer message,
/// which of its messages are stored already), and the counts for reports it writes once
/// ([`SqlStore::finish_inbound`]). Nothing changes what it read under the transaction where
/// writers are serialised; elsewhere the transaction acts as if it committed before a change
/// committed meanwhile (a message stored meanwhile is still found: by its unique wamid).
pub(super) struct InboundBatch {
    rules: Option<Option<Arc<RuleSet>>>,
    automation_listens: Option<bool>,
    /// The wamids stored, if the batch looked up all of its messages' at once
    /// ([`SqlStore::look_up_stored`]); else each message looks.
    stored: Option<HashSet<String>>,
    counts: CountRows,
}

impl InboundBatch {
    /// A batch whose counts go to a shard of each hot row that it holds alone
    /// ([`CountRows::leased`]).
    pub(super) fn new() -> Self {
        InboundBatch { rules: None, automation_listens: None, stored: None, counts: CountRows::leased() }
    }

    /// Whether the batch looked up which of its messages are stored ([`SqlStore::look_up_stored`]).
    pub(super) fn looked_up(&self) -> bool {
        self.stored.is_some()
    }

    /// Whether `wamid` was stored before, or by the batch, as far as its look up knows.
    pub(super) fn is_stored(&self, wamid: &str) -> bool {
        self.stored.as_ref().is_some_and(|stored| stored.contains(wamid))
    }

    /// `wamid` is being stored by the batch.
    pub(super) fn note_stored(&mut self, wamid: &str) {
        if let Some(stored) = &mut self.stored {
            stored.insert(wamid.to_owned());
        }
    }

    pub(super) fn counts(&mut self) -> &mut CountRows {
        &mut self.counts
    }
}

/// Whether automation may answer a customer message: never a reaction, nor a system notice
/// (a number change), which no person wrote to the business.
pub(super) fn answerable(message: &model::Message) -> bool {
    !matches!(message.kind, model::MessageKind::Reaction | model::MessageKind::System)
}

/// Events inserted by one statement at most.
const EVENTS_PER_STATEMENT: usize = 200;

/// A customer writing within this long of a resolve reopens the conversation (a week); later, a
/// new conversation starts.
pub(super) const REOPEN_WITHIN_MS: i64 = 7 * 86_400_000;

/// A reaction is no message to triage.
fn is_reaction(inbound: &NewInbound) -> bool {
    matches!(inbound.content, Some(MessageContent::Reaction { .. }))
}

#[async_trait]
impl<DB: Sql> ConversationStore for SqlStore<DB>
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
    async fn record_inbound(&self, inbound: &NewInbound, now: i64) -> StoreResult<InboundOutcome> {
        // Before the transaction: its counter shard is let go after the transaction ends.
        let mut batch = InboundBatch::new();
        let mut tx = self.write_transaction().await?;
        let outcome = Self::record_inbound_in(&mut tx, &mut batch, inbound, now).await?;
        if matches!(outcome, InboundOutcome::Recorded { .. }) {
            Self::finish_inbound(&mut tx, &mut batch).await?;
            tx.commit().await?;
        }
        Ok(outcome)
    }

    async fn conversation(&self, id: ConversationId) -> StoreResult<Option<Conversation>> {
        let row: Option<rows::ConversationRow> =
            sqlx::query_as(&format!("{} WHERE c.id = $1", rows::CONVERSATION_SELECT))
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
        row.map(Conversation::try_from).transpose()
    }

    async fn conversations(&self, include_resolved: bool, limit: i64) -> StoreResult<Vec<Conversation>> {
        let filter = if include_resolved { "" } else { "WHERE c.status <> 'resolved'" };
        let rows: Vec<rows::ConversationRow> = sqlx::query_as(&format!(
            "{} {filter} ORDER BY COALESCE(c.last_message_at, c.created_at) DESC, c.id DESC LIMIT $1",
            rows::CONVERSATION_SELECT
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Conversation::try_from).collect()
    }

    async fn events_after(&self, id: ConversationId, after: u64, limit: i64) -> StoreResult<Vec<ConversationEvent>> {
        let rows: Vec<rows::EventRow> = sqlx::query_as(
            "SELECT conversation_id, seq, at, actor_id, change FROM events \
             WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(id.0)
        .bind(rows::seq_param(after))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ConversationEvent::try_from).collect()
    }

    async fn assign(
        &self,
        id: ConversationId,
        actor: UserId,
        assignee: Option<UserId>,
        note: Option<&str>,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>> {
        let mut tx = self.write_transaction().await?;
        Self::lock_conversation(&mut tx, id).await?;
        let current: Option<i64> = sqlx::query_scalar("SELECT assignee_id FROM conversations WHERE id = $1")
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await?;
        if current == assignee.map(|user| user.0) {
            return Ok(Vec::new());
        }
        // Returned to nobody, it waits in its queue from now.
        sqlx::query(
            "UPDATE conversations SET assignee_id = $2, \
             queued_at = CASE WHEN $2 IS NULL THEN $3 ELSE queued_at END WHERE id = $1",
        )
        .bind(id.0)
        .bind(assignee.map(|user| user.0))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let change = Change::Assigned { assignee, routing: None };
        let mut events = vec![Self::append_event(&mut tx, id, Some(actor), change, now).await?];
        // Whoever else held the claim may no longer see the conversation: it is released.
        if let (Some(assignee), Some(claim)) = (assignee, Self::claim_in(&mut tx, id).await?)
            && claim.holder != assignee
        {
            Self::end_claim(&mut tx, id).await?;
            let change = Change::Released { holder: claim.holder, expired: false };
            events.push(Self::append_event(&mut tx, id, Some(actor), change, now).await?);
        }
        if let Some(body) = note.filter(|body| !body.trim().is_empty()) {
            let note = Self::insert_note(&mut tx, id, actor, body, now).await?;
            events.push(Self::append_event(&mut tx, id, Some(actor), Change::NoteAdded { note }, now).await?);
        }
        tx.commit().await?;
        Ok(events)
    }

    async fn last_seqs(&self) -> StoreResult<Vec<(ConversationId, u64)>> {
        let rows: Vec<(i64, i64)> =
            sqlx::query_as("SELECT id, last_seq FROM conversations").fetch_all(&self.pool).await?;
        rows.into_iter().map(|(id, seq)| Ok((ConversationId(id), rows::seq_of(seq)?))).collect()
    }

    async fn set_status(
        &self,
        id: ConversationId,
        actor: UserId,
        status: ConversationStatus,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>> {
        let mut tx = self.write_transaction().await?;
        Self::lock_conversation(&mut tx, id).await?;
        // A resolve notes when, for a customer who writes again soon (reopening).
        let changed = sqlx::query(
            "UPDATE conversations SET status = $2, \
             resolved_at = CASE WHEN $2 = 'resolved' THEN $3 ELSE resolved_at END WHERE id = $1 AND status <> $2",
        )
        .bind(id.0)
        .bind(status.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if DB::rows_affected(&changed) == 0 {
            return Ok(Vec::new());
        }
        let mut events =
            vec![Self::append_event(&mut tx, id, Some(actor), Change::StatusChanged { status }, now).await?];
        // A status set by hand ends a snooze; a resolve ends the service-level clocks.
        Self::end_snooze(&mut tx, id).await?;
        Self::pending_spell(&mut tx, id, status == ConversationStatus::Pending, now).await?;
        if status == ConversationStatus::Resolved {
            events.extend(Self::resolved_clocks(&mut tx, id, now).await?);
            // The rating request (if CSAT is on), for this resolution and who held it.
            let assignee: Option<i64> = sqlx::query_scalar("SELECT assignee_id FROM conversations WHERE id = $1")
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await?;
            let kind = JobKind::CsatRequest { resolved_at: now, assignee: assignee.map(UserId) };
            Self::schedule_job(&mut tx, id, kind, now, now).await?;
            Self::schedule_rules(&mut tx, id, Trigger::ConversationResolved, now).await?;
        }
        // A resolved conversation has nothing left to reply to: nobody keeps it locked.
        if status == ConversationStatus::Resolved
            && let Some(holder) = Self::end_claim(&mut tx, id).await?
        {
            let change = Change::Released { holder, expired: false };
            events.push(Self::append_event(&mut tx, id, Some(actor), change, now).await?);
        }
        tx.commit().await?;
        Ok(events)
    }
}
