//! The menu bot's turns: started with its menu and its claim, asked again, handed off with its
//! note and its triage — each in one transaction under the conversation's lock. A person taking
//! the claim ends the turn in their own transaction ([`SqlStore::end_bot_turn`], called where any
//! claim changes hands).

use async_trait::async_trait;
use baton_shared::automation::AUTOMATION_USER;
use baton_shared::model::{Change, Priority, edit_labels};
use baton_shared::{ConversationId, MessageId, TeamId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::{Sql, SqlStore, rows};
use crate::store::StoreResult;
use crate::store::automation::{AutomatedOutcome, AutomatedReply, BotOutcome, BotSession, BotStore, Handoff};

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
    async fn bot_session_in(tx: &mut Transaction<'static, DB>, id: ConversationId) -> StoreResult<Option<BotSession>> {
        let row: Option<(i64, String, i64, i64)> = sqlx::query_as(
            "SELECT asked, transcript, started_at, last_message_id FROM bot_sessions WHERE conversation_id = $1",
        )
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await?;
        row.map(|(asked, transcript, started_at, last_message)| {
            Ok(BotSession {
                asked: u32::try_from(asked).unwrap_or(u32::MAX),
                transcript: serde_json::from_str(&transcript).map_err(|_| rows::corrupt("bot transcript"))?,
                started_at,
                last_message: MessageId(last_message),
            })
        })
        .transpose()
    }

    async fn save_bot_session(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        session: &BotSession,
    ) -> StoreResult<()> {
        let transcript =
            serde_json::to_string(&session.transcript).map_err(|error| rows::corrupt(error.to_string()))?;
        sqlx::query(
            "INSERT INTO bot_sessions (conversation_id, asked, transcript, started_at, last_message_id) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (conversation_id) DO UPDATE SET asked = excluded.asked, \
             transcript = excluded.transcript, last_message_id = excluded.last_message_id",
        )
        .bind(id.0)
        .bind(i64::from(session.asked))
        .bind(transcript)
        .bind(session.started_at)
        .bind(session.last_message.0)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Ends the bot's turn in the conversation, if it had one: someone else is taking its claim.
    pub(super) async fn end_bot_turn(tx: &mut Transaction<'static, DB>, id: ConversationId) -> StoreResult<()> {
        sqlx::query("DELETE FROM bot_sessions WHERE conversation_id = $1").bind(id.0).execute(&mut **tx).await?;
        Ok(())
    }

    /// The turn is on for customer message `message`: a session that has not read it yet, and
    /// the bot's claim.
    async fn turn_on(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        message: MessageId,
    ) -> StoreResult<Option<BotSession>> {
        let session = Self::bot_session_in(tx, id).await?;
        let claim = Self::claim_in(tx, id).await?;
        let bot_holds = claim.is_some_and(|claim| claim.holder == AUTOMATION_USER);
        Ok(session.filter(|session| bot_holds && session.last_message < message))
    }
}

#[async_trait]
impl<DB: Sql> BotStore for SqlStore<DB>
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
    async fn bot_session(&self, conversation: ConversationId) -> StoreResult<Option<BotSession>> {
        let mut tx = self.pool.begin().await?;
        let session = Self::bot_session_in(&mut tx, conversation).await?;
        tx.commit().await?;
        Ok(session)
    }

    async fn start_bot(
        &self,
        menu: &AutomatedReply,
        message: MessageId,
        said: &str,
        lease_until: i64,
        now: i64,
    ) -> StoreResult<BotOutcome> {
        let id = menu.conversation;
        let mut tx = self.write_transaction().await?;
        Self::lock_for_automation(&mut tx, id).await?;
        let assignee: Option<i64> = sqlx::query_scalar("SELECT assignee_id FROM conversations WHERE id = $1")
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await?;
        let claim = Self::claim_in(&mut tx, id).await?;
        let started = Self::bot_session_in(&mut tx, id).await?.is_some();
        if started || assignee.is_some() || claim.is_some_and(|claim| claim.is_live(now)) {
            return Ok(BotOutcome::NoTurn);
        }
        let event = match Self::automated_in(&mut tx, menu, now).await? {
            AutomatedOutcome::Sent { event } => event,
            skipped => return Ok(BotOutcome::NotSent(skipped)),
        };
        let session =
            BotSession { asked: 1, transcript: vec![said.to_owned()], started_at: now, last_message: message };
        Self::save_bot_session(&mut tx, id, &session).await?;
        let claim = Self::upsert_claim(&mut tx, id, AUTOMATION_USER, lease_until, now).await?;
        let claimed = Self::append_event(&mut tx, id, Some(AUTOMATION_USER), Change::Claimed { claim }, now).await?;
        tx.commit().await?;
        Ok(BotOutcome::Done { events: vec![event, claimed] })
    }

    async fn bot_ask_again(
        &self,
        menu: &AutomatedReply,
        message: MessageId,
        said: &str,
        now: i64,
    ) -> StoreResult<BotOutcome> {
        let id = menu.conversation;
        let mut tx = self.write_transaction().await?;
        Self::lock_for_automation(&mut tx, id).await?;
        let Some(mut session) = Self::turn_on(&mut tx, id, message).await? else { return Ok(BotOutcome::NoTurn) };
        let event = match Self::automated_in(&mut tx, menu, now).await? {
            AutomatedOutcome::Sent { event } => event,
            skipped => return Ok(BotOutcome::NotSent(skipped)),
        };
        session.asked += 1;
        session.transcript.push(said.to_owned());
        session.last_message = message;
        Self::save_bot_session(&mut tx, id, &session).await?;
        tx.commit().await?;
        Ok(BotOutcome::Done { events: vec![event] })
    }

    async fn bot_hand_off(&self, handoff: &Handoff, now: i64) -> StoreResult<BotOutcome> {
        let id = handoff.conversation;
        let mut tx = self.write_transaction().await?;
        Self::lock_conversation(&mut tx, id).await?;
        let Some(mut session) = Self::turn_on(&mut tx, id, handoff.message).await? else {
            return Ok(BotOutcome::NoTurn);
        };
        if !handoff.said.is_empty() {
            session.transcript.push(handoff.said.clone());
        }
        Self::end_bot_turn(&mut tx, id).await?;
        let mut events = Vec::new();
        Self::end_claim(&mut tx, id).await?;
        let released = Change::Released { holder: AUTOMATION_USER, expired: false };
        events.push(Self::append_event(&mut tx, id, Some(AUTOMATION_USER), released, now).await?);
        let transcript: Vec<String> = session.transcript.iter().map(|said| format!("“{said}”")).collect();
        let note = handoff.note.replace("{transcript}", &transcript.join(", "));
        let note = Self::insert_note(&mut tx, id, AUTOMATION_USER, &note, now).await?;
        events.push(Self::append_event(&mut tx, id, Some(AUTOMATION_USER), Change::NoteAdded { note }, now).await?);
        let (team, rank, labels): (Option<i64>, i64, String) =
            sqlx::query_as("SELECT team_id, priority, labels FROM conversations WHERE id = $1")
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await?;
        let team = handoff.team.or(team.map(TeamId));
        let priority = handoff.priority.or(Priority::from_rank(rank)).unwrap_or_default();
        // It starts waiting now, where the bot sends it: the team's model assigns it.
        sqlx::query("UPDATE conversations SET team_id = $2, priority = $3, queued_at = $4 WHERE id = $1")
            .bind(id.0)
            .bind(team.map(|team| team.0))
            .bind(priority.rank())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let triaged = Change::Triaged { team, priority, rule: Some(handoff.reason.clone()), by_default: false };
        events.push(Self::append_event(&mut tx, id, Some(AUTOMATION_USER), triaged, now).await?);
        let labels: Vec<String> = serde_json::from_str(&labels).map_err(|_| rows::corrupt("labels"))?;
        if let Some(label) = &handoff.label
            && let Ok(labelled) = edit_labels(&labels, std::slice::from_ref(label), &[])
            && labelled != labels
        {
            Self::set_labels(&mut tx, id, &labelled, now).await?;
            let labeled = Change::Labeled { labels: labelled };
            events.push(Self::append_event(&mut tx, id, Some(AUTOMATION_USER), labeled, now).await?);
        }
        tx.commit().await?;
        Ok(BotOutcome::Done { events })
    }
}
