//! Customer messages stored as a set: a transaction's messages into conversations that are
//! plainly open — the common case, and the whole of it when many customers write at once — cost
//! one statement per table for all of them (the contacts, the conversations' seqs, the messages,
//! their search documents, their events), with what each message means decided in memory in
//! between, as [`SqlStore::record_inbound_in`] decides it for one.
//!
//! A customer whose messages ask for more — a new, resolved or snoozed conversation, the menu bot
//! taking their answers, routing rules to run, a quoted message (which places it, and may rate a
//! conversation) — is stored message by message by [`SqlStore::record_inbound_in`], in the same
//! transaction, in order. Customers are independent of each other (each has their own
//! conversations), so which way one goes never changes what another's messages do.

use std::collections::{HashMap, HashSet};

use baton_shared::ConversationId;
use baton_shared::model::{self, Change, ConversationEvent, ConversationStatus};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::contacts::{CONTACT_RETURNING, UpsertedRow};
use super::conversations::{InboundBatch, answerable};
use super::reports::{TRACK_COLUMNS, TrackRow, track_of};
use super::{Sql, SqlStore, placeholders, rows, value_rows};
use crate::reports::track::Track;
use crate::store::StoreResult;
use crate::store::automation::JobKind;
use crate::store::channel::AppliedDeliveries;
use crate::store::conversations::{InboundOutcome, NewInbound};

/// Rows written by one statement at most (a message row has 7 parameters: far below either
/// database's limit).
const ROWS_PER_STATEMENT: usize = 100;

/// A customer's latest conversation, locked until commit, as the set path needs it.
struct Latest {
    id: ConversationId,
    status: String,
    assignee: Option<i64>,
    last_seq: u64,
    last_message_at: Option<i64>,
    bot_answering: bool,
    track: Track,
}

type LatestRow = (i64, i64, String, Option<i64>, i64, Option<i64>, bool);

/// One customer's fresh messages in the set (indexes into its input, in order), with their
/// contact once upserted.
struct Customer<'a> {
    wa_id: &'a str,
    messages: Vec<usize>,
    contact: Option<(i64, bool)>,
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
    /// Records customer messages `inbound` (in arrival order) inside the caller's transaction,
    /// which commits them after [`Self::finish_inbound`]; one outcome per message, in order.
    /// `batch.stored` must hold what was stored before ([`Self::look_up_stored`]).
    pub(super) async fn record_inbound_set(
        tx: &mut Transaction<'static, DB>,
        batch: &mut InboundBatch,
        inbound: &[&NewInbound],
        now: i64,
    ) -> StoreResult<Vec<InboundOutcome>> {
        let mut outcomes: Vec<Option<InboundOutcome>> = vec![None; inbound.len()];
        if !batch.looked_up() {
            let wamids: Vec<&str> = inbound.iter().map(|message| message.wa_message_id.as_str()).collect();
            Self::look_up_stored(tx, batch, &wamids).await?;
        }
        // Duplicates, of what was stored or of an earlier message in the set, go no further.
        let mut fresh = HashSet::new();
        let mut customers: Vec<Customer<'_>> = Vec::new();
        for (index, message) in inbound.iter().enumerate() {
            if batch.is_stored(&message.wa_message_id) || !fresh.insert(message.wa_message_id.as_str()) {
                outcomes[index] = Some(InboundOutcome::Duplicate);
                continue;
            }
            match customers.iter_mut().find(|customer| customer.wa_id == message.wa_id) {
                Some(customer) => customer.messages.push(index),
                None => customers.push(Customer { wa_id: &message.wa_id, messages: vec![index], contact: None }),
            }
        }
        if customers.is_empty() {
            return Ok(outcomes.into_iter().flatten().collect());
        }
        // The known customers' contacts, held until commit (before their conversations, as the
        // message-by-message path takes them).
        Self::lock_contacts(tx, &mut customers).await?;
        if !DB::WRITERS_SERIALISED {
            // Another transaction (another node's ingest) may have stored some of these messages
            // since the batch looked: it held their contacts until it committed, so they are
            // seen now, and are duplicates rather than an error that fails the whole batch.
            Self::drop_stored_meanwhile(tx, batch, &mut customers, inbound, &mut outcomes).await?;
        }
        let contacts: Vec<i64> = customers.iter().filter_map(|customer| customer.contact).map(|(id, _)| id).collect();
        let mut latest = Self::latest_conversations(tx, &contacts).await?;
        let rules_inert = match Self::rules_once(tx, batch).await? {
            None => true,
            Some(set) => set.is_inert(),
        };
        // Each customer goes one way or the other, whole. A new one (no contact yet) opens a
        // conversation: message by message.
        let mut plain: Vec<(&Customer<'_>, Latest)> = Vec::new();
        for customer in &customers {
            let quotes = customer.messages.iter().any(|index| inbound[*index].reply_to.is_some());
            let conversation = customer.contact.and_then(|(contact, blocked)| {
                latest.remove(&contact).filter(|latest| {
                    latest.status == ConversationStatus::Open.as_str()
                        && !latest.bot_answering
                        && (rules_inert || blocked || latest.assignee.is_some())
                })
            });
            match conversation {
                Some(conversation) if !quotes => {
                    for index in &customer.messages {
                        batch.note_stored(&inbound[*index].wa_message_id);
                    }
                    plain.push((customer, conversation));
                }
                _ => {
                    for index in &customer.messages {
                        let outcome = Self::record_one_inbound(tx, batch, inbound[*index], now).await?;
                        outcomes[*index] = Some(outcome);
                    }
                }
            }
        }
        let plain_customers: Vec<&Customer<'_>> = plain.iter().map(|(customer, _)| *customer).collect();
        Self::upsert_contacts(tx, &plain_customers, inbound, now).await?;
        Self::record_plain(tx, batch, inbound, plain, &mut outcomes, now).await?;
        outcomes
            .into_iter()
            .map(|outcome| outcome.ok_or_else(|| rows::corrupt("a customer message the set did not store")))
            .collect()
    }

    /// Stores the customer messages gathered in `set` ([`Self::record_inbound_set`]) and empties
    /// it; what was recorded, and the events, go to `applied` in order.
    pub(super) async fn store_set(
        tx: &mut Transaction<'static, DB>,
        batch: &mut InboundBatch,
        set: &mut Vec<&NewInbound>,
        applied: &mut AppliedDeliveries,
        now: i64,
    ) -> StoreResult<()> {
        if set.is_empty() {
            return Ok(());
        }
        for outcome in Self::record_inbound_set(tx, batch, set, now).await? {
            let recorded = matches!(outcome, InboundOutcome::Recorded { .. });
            if let InboundOutcome::Recorded { events, .. } = outcome {
                applied.events.extend(events);
            }
            applied.recorded.push(recorded);
        }
        set.clear();
        Ok(())
    }

    /// [`Self::record_inbound_in`] for one message, under a savepoint where writers run side by
    /// side: a duplicate found late (another delivery of it committed meanwhile) undoes only its
    /// own writes, and PostgreSQL's transaction stays usable. Where they are serialised the
    /// batch's look for it is the last word.
    async fn record_one_inbound(
        tx: &mut Transaction<'static, DB>,
        batch: &mut InboundBatch,
        inbound: &NewInbound,
        now: i64,
    ) -> StoreResult<InboundOutcome> {
        if DB::WRITERS_SERIALISED {
            return Self::record_inbound_in(tx, batch, inbound, now).await;
        }
        sqlx::query("SAVEPOINT inbound").execute(&mut **tx).await?;
        // Its counts kept apart until it is known to stay: undone with the savepoint otherwise.
        let apart = batch.counts().apart();
        let counted = std::mem::replace(batch.counts(), apart);
        let outcome = Self::record_inbound_in(tx, batch, inbound, now).await;
        let own = std::mem::replace(batch.counts(), counted);
        let outcome = outcome?;
        if matches!(outcome, InboundOutcome::Recorded { .. }) {
            batch.counts().merge(own);
        } else {
            sqlx::query("ROLLBACK TO SAVEPOINT inbound").execute(&mut **tx).await?;
        }
        sqlx::query("RELEASE SAVEPOINT inbound").execute(&mut **tx).await?;
        Ok(outcome)
    }

    /// The contacts of `customers` that exist, held until commit (in one order: by number), as
    /// strongly as the message-by-message path's upsert holds one: a reply's foreign-key check
    /// on the contact must not wait for them (it holds the conversation this would wait for).
    async fn lock_contacts(tx: &mut Transaction<'static, DB>, customers: &mut [Customer<'_>]) -> StoreResult<()> {
        for chunk in customers.chunks_mut(ROWS_PER_STATEMENT) {
            // Joined to the numbers rather than `wa_id IN (…)`: PostgreSQL answered that from the
            // digits' trigram index (it serves `=` too), seconds per statement once every message
            // had left the contact a new row version there; a join probes the unique index.
            let lock = match DB::FOR_NO_KEY_UPDATE {
                "" => String::new(),
                lock => format!("{lock} OF k"),
            };
            let sql = format!(
                "SELECT k.id, k.wa_id, k.blocked FROM contacts k JOIN (VALUES {}) AS v ON k.wa_id = v.column1 \
                 ORDER BY k.wa_id {lock}",
                value_rows(1, chunk.len(), 1)
            );
            let mut query = sqlx::query_as::<DB, (i64, String, bool)>(&sql);
            for customer in chunk.iter() {
                query = query.bind(customer.wa_id);
            }
            for (id, wa_id, blocked) in query.fetch_all(&mut **tx).await? {
                if let Some(customer) = chunk.iter_mut().find(|customer| customer.wa_id == wa_id) {
                    customer.contact = Some((id, blocked));
                }
            }
        }
        Ok(())
    }

    /// Takes out of `customers` the messages stored since the batch looked (by a transaction
    /// that committed meanwhile): duplicates.
    async fn drop_stored_meanwhile(
        tx: &mut Transaction<'static, DB>,
        batch: &mut InboundBatch,
        customers: &mut Vec<Customer<'_>>,
        inbound: &[&NewInbound],
        outcomes: &mut [Option<InboundOutcome>],
    ) -> StoreResult<()> {
        let wamids: Vec<&str> = customers
            .iter()
            .flat_map(|customer| &customer.messages)
            .map(|index| inbound[*index].wa_message_id.as_str())
            .collect();
        let stored = Self::stored_among(tx, &wamids).await?;
        if stored.is_empty() {
            return Ok(());
        }
        for customer in customers.iter_mut() {
            customer.messages.retain(|index| {
                let wamid = &inbound[*index].wa_message_id;
                if !stored.contains(wamid) {
                    return true;
                }
                batch.note_stored(wamid);
                outcomes[*index] = Some(InboundOutcome::Duplicate);
                false
            });
        }
        customers.retain(|customer| !customer.messages.is_empty());
        Ok(())
    }

    /// Upserts the contacts of `customers` (known, and held: [`Self::lock_contacts`]) at once, as
    /// [`Self::record_inbound_in`] does one message's: the latest profile name that is not empty,
    /// the latest message time, the window opened again by a message written since it closed.
    /// Each contact is indexed again if its terms changed.
    async fn upsert_contacts(
        tx: &mut Transaction<'static, DB>,
        customers: &[&Customer<'_>],
        inbound: &[&NewInbound],
        now: i64,
    ) -> StoreResult<()> {
        let mut order: Vec<&Customer<'_>> = customers.to_vec();
        order.sort_by_key(|customer| customer.wa_id);
        for chunk in order.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO contacts AS k (wa_id, profile_name, created_at, last_inbound_at) VALUES {} \
                 ON CONFLICT (wa_id) DO UPDATE SET \
                 profile_name = CASE WHEN excluded.profile_name <> '' THEN excluded.profile_name \
                                     ELSE k.profile_name END, \
                 last_inbound_at = CASE WHEN k.last_inbound_at IS NULL \
                                          OR excluded.last_inbound_at > k.last_inbound_at \
                                        THEN excluded.last_inbound_at ELSE k.last_inbound_at END, \
                 window_closed_at = CASE WHEN excluded.last_inbound_at >= k.window_closed_at - $1 \
                                         THEN NULL ELSE k.window_closed_at END \
                 RETURNING {CONTACT_RETURNING}",
                value_rows(2, chunk.len(), 4)
            );
            let mut query = sqlx::query_as::<DB, UpsertedRow>(&sql).bind(model::WINDOW_REOPEN_SLACK_MS);
            for customer in chunk {
                let messages = customer.messages.iter().map(|index| inbound[*index]);
                let name =
                    messages.clone().rev().map(|message| message.profile_name.as_str()).find(|name| !name.is_empty());
                let at = messages.map(|message| message.at).max().unwrap_or(now);
                query = query.bind(customer.wa_id).bind(name.unwrap_or_default()).bind(now).bind(at);
            }
            for UpsertedRow { record, terms } in query.fetch_all(&mut **tx).await? {
                let record = baton_shared::contacts::ContactRecord::try_from(record)?;
                Self::index_contact_if_changed(tx, &record, terms.as_deref()).await?;
            }
        }
        Ok(())
    }

    /// Each contact's latest conversation, locked until commit (in id order), with whether the
    /// menu bot is taking its answers and its reports' track.
    async fn latest_conversations(
        tx: &mut Transaction<'static, DB>,
        contacts: &[i64],
    ) -> StoreResult<HashMap<i64, Latest>> {
        let mut latest = HashMap::with_capacity(contacts.len());
        for chunk in contacts.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT c.id, c.contact_id, c.status, c.assignee_id, c.last_seq, c.last_message_at, \
                 EXISTS (SELECT 1 FROM bot_sessions b WHERE b.conversation_id = c.id), {TRACK_COLUMNS} \
                 FROM conversations c WHERE c.id IN \
                 (SELECT MAX(id) FROM conversations WHERE contact_id IN ({}) GROUP BY contact_id) \
                 ORDER BY c.id {}",
                placeholders(1, chunk.len()),
                DB::FOR_UPDATE
            );
            let mut query = sqlx::query(&sql);
            for contact in chunk {
                query = query.bind(*contact);
            }
            for row in query.fetch_all(&mut **tx).await? {
                use sqlx::Row;
                let (id, contact, status, assignee, last_seq, last_message_at, bot_answering): LatestRow = (
                    row.try_get(0)?,
                    row.try_get(1)?,
                    row.try_get(2)?,
                    row.try_get(3)?,
                    row.try_get(4)?,
                    row.try_get(5)?,
                    row.try_get(6)?,
                );
                let track: TrackRow = (
                    row.try_get(7)?,
                    row.try_get(8)?,
                    row.try_get(9)?,
                    row.try_get(10)?,
                    row.try_get(11)?,
                    row.try_get(12)?,
                    row.try_get(13)?,
                );
                let last_seq = rows::seq_of(last_seq)?;
                let id = ConversationId(id);
                let track = track_of(track);
                let found = Latest { id, status, assignee, last_seq, last_message_at, bot_answering, track };
                latest.insert(contact, found);
            }
        }
        if !DB::WRITERS_SERIALISED && !latest.is_empty() {
            // Read again now that the rows are locked: on PostgreSQL the select's subquery
            // answers from before the lock's wait, and a handoff (which ends the session under
            // the conversation's lock alone) may have committed meanwhile.
            let ids: Vec<i64> = latest.values().map(|latest| latest.id.0).collect();
            let mut answering = HashSet::new();
            for chunk in ids.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "SELECT conversation_id FROM bot_sessions WHERE conversation_id IN ({})",
                    placeholders(1, chunk.len())
                );
                let mut query = sqlx::query_scalar::<DB, i64>(&sql);
                for id in chunk {
                    query = query.bind(*id);
                }
                answering.extend(query.fetch_all(&mut **tx).await?);
            }
            for conversation in latest.values_mut() {
                conversation.bot_answering = answering.contains(&conversation.id.0);
            }
        }
        Ok(latest)
    }

    /// Stores the messages of customers whose latest conversation is plainly open (`plain`):
    /// their seqs taken at once, then the messages, their search documents and their events,
    /// each table in a statement; reports' tracks moved in memory; automation's job where it
    /// listens (as [`Self::record_inbound_in`] decides it).
    async fn record_plain(
        tx: &mut Transaction<'static, DB>,
        batch: &mut InboundBatch,
        inbound: &[&NewInbound],
        plain: Vec<(&Customer<'_>, Latest)>,
        outcomes: &mut [Option<InboundOutcome>],
        now: i64,
    ) -> StoreResult<()> {
        if plain.is_empty() {
            return Ok(());
        }
        // Each message's seq, and its conversation's last seq and message time after them.
        let mut placed: Vec<(usize, ConversationId, u64)> = Vec::new();
        let mut moved: Vec<(ConversationId, u64, Option<i64>)> = Vec::with_capacity(plain.len());
        for (customer, latest) in &plain {
            let mut seq = latest.last_seq;
            let mut last_message_at = latest.last_message_at;
            for index in &customer.messages {
                seq += 1;
                placed.push((*index, latest.id, seq));
                // Never back: a redelivery after an outage may bring a message late.
                let at = inbound[*index].at;
                last_message_at = Some(last_message_at.map_or(at, |last| last.max(at)));
            }
            moved.push((latest.id, seq, last_message_at));
        }
        for chunk in moved.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "UPDATE conversations SET last_seq = v.column2, last_message_at = v.column3, updated_at = $1 \
                 FROM (VALUES {}) AS v WHERE conversations.id = v.column1",
                value_rows(2, chunk.len(), 3)
            );
            let mut query = sqlx::query(&sql).bind(now);
            for (id, seq, last_message_at) in chunk {
                query = query.bind(id.0).bind(rows::seq_param(*seq)).bind(*last_message_at);
            }
            query.execute(&mut **tx).await?;
        }
        let messages = Self::insert_inbound_messages(tx, inbound, &placed).await?;
        Self::index_messages(tx, &messages).await?;
        // Their events, in each conversation's order, with what they mean for reports.
        let mut events = Vec::with_capacity(messages.len());
        let by_conversation: HashMap<ConversationId, usize> =
            plain.iter().enumerate().map(|(index, (_, latest))| (latest.id, index)).collect();
        let mut tracks: Vec<Track> = plain.iter().map(|(_, latest)| latest.track.clone()).collect();
        for message in &messages {
            let change = Change::MessageAdded { message: message.clone() };
            if let Some(conversation) = by_conversation.get(&message.conversation_id) {
                Self::record_on_track(
                    tx,
                    message.conversation_id,
                    &mut tracks[*conversation],
                    &change,
                    now,
                    batch.counts(),
                )
                .await?;
            }
            events.push(ConversationEvent {
                conversation_id: message.conversation_id,
                seq: message.seq,
                at: now,
                actor: None,
                change,
            });
        }
        for ((_, latest), track) in plain.iter().zip(&tracks) {
            if *track != latest.track {
                Self::save_track(tx, latest.id, track).await?;
            }
        }
        Self::insert_events(tx, &events).await?;
        // What automation owes each message, committed with it (as record_inbound_in does).
        let blocked: HashSet<ConversationId> = plain
            .iter()
            .filter(|(customer, _)| customer.contact.is_some_and(|(_, blocked)| blocked))
            .map(|(_, latest)| latest.id)
            .collect();
        for message in
            messages.iter().filter(|message| answerable(message) && !blocked.contains(&message.conversation_id))
        {
            if !Self::automation_listens_once(tx, batch).await? {
                break;
            }
            let kind = JobKind::CustomerMessage { message: message.id, opened: false };
            Self::schedule_job(tx, message.conversation_id, kind, now, now).await?;
        }
        let index_of: HashMap<(ConversationId, u64), usize> =
            placed.iter().map(|(index, id, seq)| ((*id, *seq), *index)).collect();
        for event in events {
            let index = index_of
                .get(&(event.conversation_id, event.seq))
                .ok_or_else(|| rows::corrupt("an event of no message in the set"))?;
            outcomes[*index] =
                Some(InboundOutcome::Recorded { conversation_id: event.conversation_id, events: vec![event] });
        }
        Ok(())
    }

    /// Inserts the messages `placed` (input index, conversation, seq), many to a statement,
    /// and returns them as stored, in the order placed.
    async fn insert_inbound_messages(
        tx: &mut Transaction<'static, DB>,
        inbound: &[&NewInbound],
        placed: &[(usize, ConversationId, u64)],
    ) -> StoreResult<Vec<model::Message>> {
        let mut stored: HashMap<(i64, u64), model::Message> = HashMap::with_capacity(placed.len());
        for chunk in placed.chunks(ROWS_PER_STATEMENT) {
            // Placed by WhatsApp's timestamp (none quotes a message: nothing moves it later).
            let rows: Vec<String> = (0..chunk.len())
                .map(|row| {
                    let n = row * 7;
                    format!(
                        "(${}, ${}, 'inbound', ${}, ${}, ${}, 'received', ${}, ${}, ${}, NULL)",
                        n + 1,
                        n + 2,
                        n + 3,
                        n + 4,
                        n + 5,
                        n + 6,
                        n + 6,
                        n + 7
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO messages (conversation_id, seq, direction, kind, body, wa_message_id, status, \
                 created_at, sent_at, content, reply_to) VALUES {} RETURNING {}",
                rows.join(", "),
                rows::MESSAGE_COLUMNS
            );
            let mut query = sqlx::query_as::<DB, rows::MessageRow>(&sql);
            for (index, id, seq) in chunk {
                let message = inbound[*index];
                query = query
                    .bind(id.0)
                    .bind(rows::seq_param(*seq))
                    .bind(message.kind.as_str())
                    .bind(&message.body)
                    .bind(&message.wa_message_id)
                    .bind(message.at)
                    .bind(rows::to_json_column(message.content.as_ref())?);
            }
            for row in query.fetch_all(&mut **tx).await? {
                let message = model::Message::try_from(row)?;
                stored.insert((message.conversation_id.0, message.seq), message);
            }
        }
        placed
            .iter()
            .map(|(_, id, seq)| {
                stored.remove(&(id.0, *seq)).ok_or_else(|| rows::corrupt("a message the insert did not return"))
            })
            .collect()
    }
}
