//! The teams' queues: routing's assignments (round-robin, balanced, sticky owners) and Take next.
//! Each runs in one transaction that reads what the agent holds and assigns, under the team's row
//! lock (and the agent's), in this order — team, conversation, user — so that concurrent routing
//! steps, Take next and hand-made changes never deadlock, and no agent exceeds their capacity.

use async_trait::async_trait;
use baton_shared::model::{Change, ConversationEvent};
use baton_shared::teams::{AssignmentModel, RoutedBy, Routing};
use baton_shared::{ConversationId, TeamId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::{Sql, SqlStore, rows};
use crate::store::StoreResult;
use crate::store::routing::{Eligible, RouteOutcome, TakeOutcome};

/// A conversation waits in its team's queue: unassigned, not resolved, and nobody else is
/// replying in it (a live claim of someone other than `$2`, [`NOBODY`] for no exception — the
/// menu bot's claim counts; `$1` is now). A blocked customer's conversations wait for nobody:
/// they are not routed.
pub(super) const WAITING: &str = "c.assignee_id IS NULL AND c.status <> 'resolved' AND NOT EXISTS (\
     SELECT 1 FROM claims cl WHERE cl.conversation_id = c.id AND cl.lease_until > $1 AND cl.holder_id <> $2) \
     AND NOT EXISTS (SELECT 1 FROM contacts bk WHERE bk.id = c.contact_id AND bk.blocked = TRUE)";

/// A user id no account has: `$2` of [`WAITING`] when nobody's claim is excepted.
pub(super) const NOBODY: i64 = -1;

/// The order a queue hands work out in.
pub(super) const QUEUE_ORDER: &str = "ORDER BY c.priority DESC, c.queued_at, c.id";

/// What a user holds: their open and pending conversations.
const LOAD: &str = "SELECT COUNT(*) FROM conversations WHERE assignee_id = $1 AND status <> 'resolved'";

/// A member routing may consider.
#[derive(sqlx::FromRow, Clone, Copy, Debug)]
struct Member {
    user_id: i64,
    capacity: i64,
    last_assigned_at: Option<i64>,
    load: i64,
}

impl Member {
    fn has_room(&self) -> bool {
        self.load < self.capacity
    }
}

/// The member the team's model picks among `candidates` (sorted by user id, none empty).
fn pick(model: AssignmentModel, rotation: i64, candidates: &[Member]) -> Option<Member> {
    match model {
        // The next one after the last given work, in user order, wrapping around.
        AssignmentModel::RoundRobin => {
            candidates.iter().find(|member| member.user_id > rotation).or_else(|| candidates.first()).copied()
        }
        // The least loaded; of equals, the one who waited longest since their last assignment.
        AssignmentModel::Balanced => candidates
            .iter()
            .min_by_key(|member| (member.load, member.last_assigned_at.unwrap_or(i64::MIN), member.user_id))
            .copied(),
        AssignmentModel::Manual | AssignmentModel::Queue => None,
    }
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
    /// Assigns a waiting conversation (locked by the caller) to `user` as routing decided, noting
    /// when they were last given work in `team`. A lapsed claim left on it is cleared.
    async fn assign_routed(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        user: UserId,
        team: TeamId,
        by: RoutedBy,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>> {
        sqlx::query("UPDATE conversations SET assignee_id = $2 WHERE id = $1")
            .bind(id.0)
            .bind(user.0)
            .execute(&mut **tx)
            .await?;
        sqlx::query("UPDATE team_members SET last_assigned_at = $3 WHERE team_id = $1 AND user_id = $2")
            .bind(team.0)
            .bind(user.0)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        let mut events = Vec::new();
        if let Some(claim) = Self::claim_in(tx, id).await?
            && claim.holder != user
        {
            Self::end_claim(tx, id).await?;
            let change = Change::Released { holder: claim.holder, expired: !claim.is_live(now) };
            events.push(Self::append_event(tx, id, None, change, now).await?);
        }
        let change = Change::Assigned { assignee: Some(user), routing: Some(Routing { team: Some(team), by }) };
        events.push(Self::append_event(tx, id, None, change, now).await?);
        Ok(events)
    }

    async fn load_in(tx: &mut Transaction<'static, DB>, user: i64) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(LOAD).bind(user).fetch_one(&mut **tx).await?)
    }

    /// Whether the conversation still waits in `team`'s queue, read under its lock: unassigned,
    /// not resolved, and nobody other than `taker` replying in it (a claim taken since the pick).
    async fn still_waiting(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        team: i64,
        taker: i64,
        now: i64,
    ) -> StoreResult<bool> {
        Self::lock_conversation(tx, id).await?;
        let waiting: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT c.id FROM conversations c WHERE c.id = $3 AND c.team_id = $4 AND {WAITING}"
        ))
        .bind(now)
        .bind(taker)
        .bind(id.0)
        .bind(team)
        .fetch_optional(&mut **tx)
        .await?;
        Ok(waiting.is_some())
    }
}

#[async_trait]
impl<DB: Sql> crate::store::routing::QueueStore for SqlStore<DB>
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
    async fn pushing_teams(&self) -> StoreResult<Vec<TeamId>> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM teams WHERE model IN ('round_robin', 'balanced')")
            .fetch_all(&self.pool)
            .await?;
        Ok(ids.into_iter().map(TeamId).collect())
    }

    async fn route_next(&self, team: TeamId, eligible: Eligible<'_>, now: i64) -> StoreResult<RouteOutcome> {
        let mut tx = self.write_transaction().await?;
        let found: Option<i64> = sqlx::query_scalar(DB::LOCK_TEAM).bind(team.0).fetch_optional(&mut *tx).await?;
        if found.is_none() {
            return Ok(RouteOutcome::Idle);
        }
        let (model, sticky, sticky_days, rotation): (String, bool, i64, i64) =
            sqlx::query_as("SELECT model, sticky, sticky_days, rotation FROM teams WHERE id = $1")
                .bind(team.0)
                .fetch_one(&mut *tx)
                .await?;
        let model = AssignmentModel::parse(&model).ok_or_else(|| rows::corrupt(format!("model {model}")))?;
        if !matches!(model, AssignmentModel::RoundRobin | AssignmentModel::Balanced) {
            return Ok(RouteOutcome::Idle);
        }
        let members: Vec<Member> = sqlx::query_as(
            "SELECT m.user_id, m.capacity, m.last_assigned_at, \
             (SELECT COUNT(*) FROM conversations l WHERE l.assignee_id = m.user_id AND l.status <> 'resolved') AS load \
             FROM team_members m JOIN users u ON u.id = m.user_id \
             WHERE m.team_id = $1 AND u.disabled = FALSE ORDER BY m.user_id",
        )
        .bind(team.0)
        .fetch_all(&mut *tx)
        .await?;
        // Who may take work is read before what waits: a change made before someone became
        // eligible (a conversation marked urgent, then an agent back) is seen by the step that
        // gives them work.
        let candidates: Vec<Member> =
            members.into_iter().filter(|member| member.has_room() && eligible(UserId(member.user_id))).collect();
        if candidates.is_empty() {
            return Ok(RouteOutcome::Idle);
        }
        let head: Option<(i64, i64)> = sqlx::query_as(&format!(
            "SELECT c.id, c.contact_id FROM conversations c WHERE c.team_id = $3 AND {WAITING} {QUEUE_ORDER} LIMIT 1"
        ))
        .bind(now)
        .bind(NOBODY)
        .bind(team.0)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((head, contact)) = head else { return Ok(RouteOutcome::Idle) };
        let head = ConversationId(head);
        if !Self::still_waiting(&mut tx, head, team.0, NOBODY, now).await? {
            return Ok(RouteOutcome::Raced);
        }
        // A returning customer goes back to whoever last served them, if they may take it now.
        let owner: Option<i64> = if sticky {
            let since = now.saturating_sub(sticky_days.saturating_mul(86_400_000));
            // Whoever held this conversation before it was resolved and reopened, then whoever
            // holds or held the customer's latest other one — within the team's window.
            let own: Option<Option<i64>> =
                sqlx::query_scalar("SELECT last_assignee_id FROM conversations WHERE id = $1 AND resolved_at >= $2")
                    .bind(head.0)
                    .bind(since)
                    .fetch_optional(&mut *tx)
                    .await?;
            match own.flatten() {
                Some(own) => Some(own),
                None => {
                    sqlx::query_scalar(
                        "SELECT assignee_id FROM conversations WHERE contact_id = $1 AND id <> $2 \
                         AND assignee_id IS NOT NULL AND updated_at >= $3 ORDER BY id DESC LIMIT 1",
                    )
                    .bind(contact)
                    .bind(head.0)
                    .bind(since)
                    .fetch_optional(&mut *tx)
                    .await?
                }
            }
        } else {
            None
        };
        let sticky_owner = owner.and_then(|owner| candidates.iter().find(|member| member.user_id == owner).copied());
        let (chosen, by) = match sticky_owner {
            Some(member) => (member, RoutedBy::Sticky),
            None => match pick(model, rotation, &candidates) {
                Some(member) if model == AssignmentModel::RoundRobin => (member, RoutedBy::RoundRobin),
                Some(member) => (member, RoutedBy::Balanced),
                None => return Ok(RouteOutcome::Idle),
            },
        };
        // Counted again under the member's lock: another team may have given them work since.
        // If so, the step starts over in a new transaction rather than lock a second member
        // here (two teams' steps locking two members in opposite orders would deadlock).
        sqlx::query(DB::LOCK_USER).bind(chosen.user_id).execute(&mut *tx).await?;
        if Self::load_in(&mut tx, chosen.user_id).await? >= chosen.capacity {
            return Ok(RouteOutcome::Raced);
        }
        if by == RoutedBy::RoundRobin {
            sqlx::query("UPDATE teams SET rotation = $2 WHERE id = $1")
                .bind(team.0)
                .bind(chosen.user_id)
                .execute(&mut *tx)
                .await?;
        }
        let assignee = UserId(chosen.user_id);
        let events = Self::assign_routed(&mut tx, head, assignee, team, by, now).await?;
        tx.commit().await?;
        Ok(RouteOutcome::Assigned { assignee, events })
    }

    async fn take_next(&self, user: UserId, now: i64) -> StoreResult<TakeOutcome> {
        let mut tx = self.write_transaction().await?;
        let teams: Vec<(i64, i64)> =
            sqlx::query_as("SELECT team_id, capacity FROM team_members WHERE user_id = $1 ORDER BY team_id")
                .bind(user.0)
                .fetch_all(&mut *tx)
                .await?;
        if teams.is_empty() {
            return Ok(TakeOutcome::Empty);
        }
        // Every team of theirs, in id order (as routing takes one): their queues hold still.
        for (team, _) in &teams {
            sqlx::query(DB::LOCK_TEAM).bind(team).execute(&mut *tx).await?;
        }
        let load = Self::load_in(&mut tx, user.0).await?;
        if teams.iter().all(|(_, capacity)| load >= *capacity) {
            return Ok(TakeOutcome::Full { load: u32::try_from(load).unwrap_or(u32::MAX) });
        }
        // A conversation changed by hand between the pick and its lock is passed over.
        for _ in 0..5 {
            let next: Option<(i64, i64)> = sqlx::query_as(&format!(
                "SELECT c.id, c.team_id FROM conversations c \
                 JOIN team_members m ON m.team_id = c.team_id AND m.user_id = $2 \
                 WHERE m.capacity > $3 AND {WAITING} {QUEUE_ORDER} LIMIT 1"
            ))
            .bind(now)
            .bind(user.0)
            .bind(load)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((id, team)) = next else { return Ok(TakeOutcome::Empty) };
            let id = ConversationId(id);
            if Self::still_waiting(&mut tx, id, team, user.0, now).await? {
                let events = Self::assign_routed(&mut tx, id, user, TeamId(team), RoutedBy::TakeNext, now).await?;
                tx.commit().await?;
                return Ok(TakeOutcome::Took { conversation: id, events });
            }
        }
        Ok(TakeOutcome::Empty)
    }
}
