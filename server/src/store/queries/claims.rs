//! Claims: taking, renewing, releasing and handing over the lock on replying, and the upkeep
//! that ends leases that ran out.
//!
//! A claim ends by itself in two ways: its lease runs out (the holder has been gone that long), or
//! it lapses — no activity since `idle_before` and no draft waiting. Activity is the claim taken
//! (`claims.active_at`) or the holder's draft saved (`drafts.updated_at`: every keystroke, and the
//! send that empties it). Reading the draft's time, rather than copying it onto the claim, keeps
//! draft saves off the claims rows (the lease keeper updates those several at a time; two
//! multi-row writers in different orders deadlock on PostgreSQL). A draft keeps a claim however
//! long it waits: its holder means to come back to it.

use async_trait::async_trait;
use baton_shared::automation::AUTOMATION_USER;
use baton_shared::model::{Change, Claim, ConversationEvent};
use baton_shared::{ConversationId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Pool, Transaction, Type};

use super::{Sql, SqlStore, rows};
use crate::store::conversations::{ClaimOutcome, ClaimStore, Handover};
use crate::store::{StoreError, StoreResult};

/// The condition on a `claims` row that is due to end, with `$1` the time now and `$2`
/// `idle_before`: its lease ran out, or it has not been used since and no draft waits. The scan
/// and the delete both use it, so both judge alike.
const DUE: &str = "(lease_until <= $1 OR (holder_id <> 0 AND active_at <= $2 AND NOT EXISTS (\
     SELECT 1 FROM drafts d WHERE d.conversation_id = claims.conversation_id \
     AND d.user_id = claims.holder_id AND (d.body <> '' OR d.updated_at > $2))))";

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
    /// The conversation's claim row, live or not.
    pub(super) async fn claim_in(tx: &mut Transaction<'static, DB>, id: ConversationId) -> StoreResult<Option<Claim>> {
        let row: Option<rows::ClaimRow> =
            sqlx::query_as(rows::CLAIM_SELECT).bind(id.0).fetch_optional(&mut **tx).await?;
        Ok(row.map(Claim::from))
    }

    /// Deletes the conversation's claim row; its holder, if there was one.
    pub(super) async fn end_claim(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
    ) -> StoreResult<Option<UserId>> {
        let holder: Option<i64> =
            sqlx::query_scalar("DELETE FROM claims WHERE conversation_id = $1 RETURNING holder_id")
                .bind(id.0)
                .fetch_optional(&mut **tx)
                .await?;
        // The menu bot's claim ending (a resolve, a move, a lapse) ends its turn.
        if holder == Some(AUTOMATION_USER.0) {
            Self::end_bot_turn(tx, id).await?;
        }
        Ok(holder.map(UserId))
    }

    pub(super) async fn upsert_claim(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        holder: UserId,
        lease_until: i64,
        now: i64,
    ) -> StoreResult<Claim> {
        // Whoever takes the claim from the menu bot ends its turn.
        if holder != AUTOMATION_USER {
            Self::end_bot_turn(tx, id).await?;
        }
        sqlx::query(
            "INSERT INTO claims (conversation_id, holder_id, lease_until, acquired_at, active_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (conversation_id) DO UPDATE SET holder_id = excluded.holder_id, \
             lease_until = excluded.lease_until, acquired_at = excluded.acquired_at, active_at = excluded.active_at",
        )
        .bind(id.0)
        .bind(holder.0)
        .bind(lease_until)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Self::claim_in(tx, id).await?.ok_or(StoreError::NotFound)
    }

    /// Claims taken together ([`SqlStore::claims`]): one transaction for the batch, each claim
    /// judged in turn as if alone, so two asking for one conversation still make one holder. If
    /// the transaction fails, each claim runs again alone: one claim's error stays its own.
    async fn claim_batch(writer: Pool<DB>, batch: Vec<ClaimRequest>) -> Vec<StoreResult<ClaimOutcome>> {
        if batch.len() > 1 {
            match Self::claims_together(&writer, &batch).await {
                Ok(outcomes) => return outcomes.into_iter().map(Ok).collect(),
                Err(error) => tracing::debug!(%error, claims = batch.len(), "a batch of claims failed: each alone"),
            }
        }
        let mut outcomes = Vec::with_capacity(batch.len());
        for request in batch {
            outcomes.push(Self::claim_alone(&writer, request).await);
        }
        outcomes
    }

    async fn claim_alone(writer: &Pool<DB>, request: ClaimRequest) -> StoreResult<ClaimOutcome> {
        let mut tx = writer.begin_with(DB::BEGIN_WRITE).await?;
        let outcome = Self::claim_in_transaction(&mut tx, request).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    async fn claims_together(writer: &Pool<DB>, batch: &[ClaimRequest]) -> StoreResult<Vec<ClaimOutcome>> {
        let mut tx = writer.begin_with(DB::BEGIN_WRITE).await?;
        let mut outcomes = Vec::with_capacity(batch.len());
        for request in batch {
            outcomes.push(Self::claim_in_transaction(&mut tx, *request).await?);
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    /// Compare-and-set on the claim, within `tx` ([`ClaimStore::claim`]).
    async fn claim_in_transaction(
        tx: &mut Transaction<'static, DB>,
        request: ClaimRequest,
    ) -> StoreResult<ClaimOutcome> {
        let ClaimRequest { id, agent, lease_until, now } = request;
        Self::lock_conversation(tx, id).await?;
        let current = Self::claim_in(tx, id).await?;
        Ok(match current {
            Some(claim) if claim.is_live(now) && claim.holder != agent && !claim.yields_to_people() => {
                ClaimOutcome::ClaimedByOther { claim }
            }
            // The menu bot's claim: anyone who may see the conversation takes it over.
            Some(claim) if claim.is_live(now) && claim.holder != agent => {
                let from = claim.holder;
                let claim = Self::upsert_claim(tx, id, agent, lease_until, now).await?;
                let change = Change::TakenOver { from, claim: claim.clone() };
                let event = Self::append_event(tx, id, Some(agent), change, now).await?;
                ClaimOutcome::Held { claim, event: Some(event) }
            }
            Some(claim) if claim.is_held_by(agent, now) => {
                let claim = Self::upsert_claim(tx, id, agent, lease_until.max(claim.lease_until), now).await?;
                ClaimOutcome::Held { claim, event: None }
            }
            _ => {
                let claim = Self::upsert_claim(tx, id, agent, lease_until, now).await?;
                let change = Change::Claimed { claim: claim.clone() };
                let event = Self::append_event(tx, id, Some(agent), change, now).await?;
                ClaimOutcome::Held { claim, event: Some(event) }
            }
        })
    }
}

/// One claim asked for ([`ClaimStore::claim`]'s arguments).
#[derive(Clone, Copy)]
pub(super) struct ClaimRequest {
    id: ConversationId,
    agent: UserId,
    lease_until: i64,
    now: i64,
}

#[async_trait]
impl<DB: Sql> ClaimStore for SqlStore<DB>
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
    async fn claim(&self, id: ConversationId, agent: UserId, lease_until: i64, now: i64) -> StoreResult<ClaimOutcome> {
        let request = ClaimRequest { id, agent, lease_until, now };
        if !DB::GROUP_CLAIMS {
            return Self::claim_alone(&self.writer, request).await;
        }
        let writer = self.writer.clone();
        self.claims.submit(request, |batch| Self::claim_batch(writer, batch)).await
    }

    async fn release(&self, id: ConversationId, agent: UserId, now: i64) -> StoreResult<Option<ConversationEvent>> {
        let mut tx = self.write_transaction().await?;
        Self::lock_conversation(&mut tx, id).await?;
        let deleted = sqlx::query("DELETE FROM claims WHERE conversation_id = $1 AND holder_id = $2")
            .bind(id.0)
            .bind(agent.0)
            .execute(&mut *tx)
            .await?;
        if DB::rows_affected(&deleted) == 0 {
            return Ok(None);
        }
        let change = Change::Released { holder: agent, expired: false };
        let event = Self::append_event(&mut tx, id, Some(agent), change, now).await?;
        tx.commit().await?;
        Ok(Some(event))
    }

    async fn hand_over(
        &self,
        id: ConversationId,
        actor: UserId,
        handover: Handover,
        lease_until: i64,
        now: i64,
    ) -> StoreResult<ConversationEvent> {
        let mut tx = self.write_transaction().await?;
        Self::lock_conversation(&mut tx, id).await?;
        if let Handover::Transfer { assignee, .. } = handover {
            let current: Option<i64> = sqlx::query_scalar("SELECT assignee_id FROM conversations WHERE id = $1")
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await?;
            if current != assignee.map(|user| user.0) {
                return Err(StoreError::Changed);
            }
        }
        let previous = Self::claim_in(&mut tx, id).await?.filter(|claim| claim.is_live(now));
        let to = match handover {
            Handover::Transfer { to, .. } => to,
            Handover::TakeOver => actor,
        };
        let claim = Self::upsert_claim(&mut tx, id, to, lease_until, now).await?;
        let change = match (handover, previous) {
            (Handover::TakeOver, Some(previous)) => Change::TakenOver { from: previous.holder, claim },
            (Handover::TakeOver, None) => Change::Claimed { claim },
            (Handover::Transfer { .. }, previous) => {
                Change::Transferred { from: previous.map(|claim| claim.holder), claim }
            }
        };
        let event = Self::append_event(&mut tx, id, Some(actor), change, now).await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn claim_holders(&self, now: i64) -> StoreResult<Vec<UserId>> {
        let holders: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT holder_id FROM claims WHERE lease_until > $1")
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        Ok(holders.into_iter().map(UserId).collect())
    }

    async fn renew_claims(&self, holders: &[UserId], lease_until: i64, now: i64) -> StoreResult<u64> {
        if holders.is_empty() {
            return Ok(0);
        }
        // One write for everyone (ids are Baton's own numbers, written into the statement): one
        // transaction per holder stalled every writer behind the renewal (issue 18).
        let ids: Vec<String> = holders.iter().map(|holder| holder.0.to_string()).collect();
        let renewed = sqlx::query(&format!(
            "UPDATE claims SET lease_until = $1 WHERE holder_id IN ({}) AND lease_until > $2 AND lease_until < $1",
            ids.join(", ")
        ))
        .bind(lease_until)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(DB::rows_affected(&renewed))
    }

    async fn expire_claims(&self, now: i64, idle_before: i64) -> StoreResult<Vec<ConversationEvent>> {
        let due: Vec<i64> = sqlx::query_scalar(&format!("SELECT conversation_id FROM claims WHERE {DUE}"))
            .bind(now)
            .bind(idle_before)
            .fetch_all(&self.pool)
            .await?;
        let mut events = Vec::new();
        for id in due.into_iter().map(ConversationId) {
            let mut tx = self.write_transaction().await?;
            Self::lock_conversation(&mut tx, id).await?;
            // Renewed, re-taken or used since the scan? Then it stays.
            let ended: Option<i64> = sqlx::query_scalar(&format!(
                "DELETE FROM claims WHERE conversation_id = $3 AND {DUE} RETURNING holder_id"
            ))
            .bind(now)
            .bind(idle_before)
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(holder) = ended {
                if holder == AUTOMATION_USER.0 {
                    Self::end_bot_turn(&mut tx, id).await?;
                }
                let change = Change::Released { holder: UserId(holder), expired: true };
                events.push(Self::append_event(&mut tx, id, None, change, now).await?);
            }
            tx.commit().await?;
        }
        Ok(events)
    }
}
