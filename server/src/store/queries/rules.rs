//! The routing rules: kept whole as one versioned document, and applied to a conversation inside
//! the transaction that records the customer's message, so the message and its triage commit
//! together (and on several nodes happen once).

use async_trait::async_trait;
use baton_shared::model::{Change, ConversationEvent, MessageContent, Priority, edit_labels};
use baton_shared::routing_rules::{Action, Facts, RuleFired, RuleSet, StoredRules, Trigger};
use baton_shared::teams::{RoutedBy, Routing};
use baton_shared::{ConversationId, MessageId, TeamId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::report_counts::CountRows;
use super::{Sql, SqlStore, rows};
use crate::store::automation::JobKind;
use crate::store::conversations::NewInbound;
use crate::store::routing::{PendingSpell, RulesStore};
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
    async fn rules_in(tx: &mut Transaction<'static, DB>) -> StoreResult<Option<(i64, String)>> {
        Ok(sqlx::query_as("SELECT version, definition FROM routing_rules WHERE id = 1")
            .fetch_optional(&mut **tx)
            .await?)
    }

    /// The rules as saved, parsed; `None` when never saved or unreadable (logged: a customer's
    /// message is stored whatever the rules say).
    pub(super) async fn rule_set_in(tx: &mut Transaction<'static, DB>) -> StoreResult<Option<RuleSet>> {
        let Some((_, definition)) = Self::rules_in(tx).await? else { return Ok(None) };
        match serde_json::from_str(&definition) {
            Ok(set) => Ok(Some(set)),
            Err(error) => {
                tracing::error!(%error, "the stored rules do not parse: not applied");
                Ok(None)
            }
        }
    }

    /// Counts one firing of each rule in `rules`, at `now`, in shard `shard` (see the
    /// `rule_fires` migration), at once. A transaction storing customer messages counts them
    /// with its other counts instead ([`CountRows::add_fires`]), written at its end.
    pub(super) async fn count_fires(
        tx: &mut Transaction<'static, DB>,
        rules: &[u32],
        shard: i64,
        now: i64,
    ) -> StoreResult<()> {
        let mut counts = CountRows::default();
        counts.add_fires(rules, shard, now);
        Self::write_counts(tx, &mut counts).await
    }

    /// Schedules what rules listening to `trigger` owe the conversation, if any rule listens: in
    /// the caller's transaction, so the event and the rules' job commit together.
    pub(super) async fn schedule_rules(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        trigger: Trigger,
        now: i64,
    ) -> StoreResult<()> {
        if Self::rule_set_in(tx).await?.is_some_and(|set| set.listens_to(trigger)) {
            Self::schedule_job(tx, id, JobKind::Rules { trigger, at: now }, now, now).await?;
        }
        Ok(())
    }

    /// Starts (`pending`) or ends a pending spell: the time rules' clock, and their first look.
    pub(super) async fn pending_spell(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        pending: bool,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE conversations SET pending_since = $2, pending_hours_done = 0 WHERE id = $1")
            .bind(id.0)
            .bind(pending.then_some(now))
            .execute(&mut **tx)
            .await?;
        if pending
            && let Some(hours) = Self::rule_set_in(tx).await?.and_then(|set| set.pending_hours().first().copied())
        {
            let due = now.saturating_add(i64::from(hours) * HOUR_MS);
            Self::schedule_job(tx, id, JobKind::Pending { since: now }, due, now).await?;
        }
        Ok(())
    }

    /// What the routing rules decide after the customer's message `inbound` in a conversation
    /// nobody holds (`conversation`: `None` for one this message is about to open) placed at
    /// `before`: the first matching rule's actions, or the default team, with the teams and
    /// agents they name checked. A rule naming a team or agent that is gone is skipped, never an
    /// error: a customer's message is stored whatever the rules say.
    pub(super) async fn rules_decide(
        tx: &mut Transaction<'static, DB>,
        set: &RuleSet,
        contact: i64,
        conversation: Option<ConversationId>,
        inbound: &NewInbound,
        before: &Placed,
    ) -> StoreResult<Option<RulesDecision>> {
        let returning: Option<i64> =
            sqlx::query_scalar("SELECT id FROM conversations WHERE contact_id = $1 AND id <> $2 LIMIT 1")
                .bind(contact)
                .bind(conversation.map_or(0, |id| id.0))
                .fetch_optional(&mut **tx)
                .await?;
        let choice = match &inbound.content {
            Some(MessageContent::Choice { id, .. }) => Some(id.as_str()),
            _ => None,
        };
        let facts = Facts {
            trigger: if conversation.is_none() { Trigger::NewConversation } else { Trigger::CustomerMessage },
            text: &inbound.body,
            choice,
            labels: &before.labels,
            returning: returning.is_some(),
            has_team: before.team.is_some(),
        };
        let Some(decision) = set.decide(&facts) else { return Ok(None) };
        let rules_fired: Vec<_> = decision.fired.iter().filter_map(|(index, _)| set.rules.get(*index)).collect();
        let mut decided = RulesDecision {
            team: before.team,
            priority: before.priority,
            by_default: false,
            rule: decision.rule.map(|(_, name)| name),
            labels: Vec::new(),
            remove_labels: Vec::new(),
            assign_to: None,
            assigned_by: None,
            fired: rules_fired.iter().map(|rule| rule.id).collect(),
            effects: rules_fired
                .iter()
                .filter(|rule| rule.actions.iter().any(|action| !action.is_triage()))
                .map(|rule| rule.id)
                .collect(),
        };
        // Each fired rule's actions in order, then the default team if the decision added it:
        // the events name the rule that placed or assigned the conversation, or the default.
        let from_rules: usize = rules_fired.iter().map(|rule| rule.actions.len()).sum();
        let mut steps: Vec<(Option<String>, Action)> = Vec::new();
        for rule in &rules_fired {
            steps.extend(rule.actions.iter().map(|action| (Some(rule.name.clone()), action.clone())));
        }
        steps.extend(decision.actions.iter().skip(from_rules).map(|action| (None, action.clone())));
        for (rule, action) in steps {
            match action {
                Action::SetTeam { team } => {
                    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM teams WHERE id = $1")
                        .bind(team.0)
                        .fetch_optional(&mut **tx)
                        .await?;
                    if found.is_some() {
                        decided.team = Some(team);
                        decided.by_default = rule.is_none();
                        if rule.is_some() {
                            decided.rule.clone_from(&rule);
                        }
                    }
                }
                Action::SetPriority { priority } => decided.priority = priority,
                Action::AddLabels { labels } => decided.labels.extend(labels),
                Action::AssignTo { user } => {
                    let disabled: Option<bool> = sqlx::query_scalar("SELECT disabled FROM users WHERE id = $1")
                        .bind(user.0)
                        .fetch_optional(&mut **tx)
                        .await?;
                    if disabled == Some(false) {
                        decided.assign_to = Some(user);
                        decided.assigned_by = rule;
                    }
                }
                Action::RemoveLabels { labels } => decided.remove_labels.extend(labels),
                // Done by automation once the message is stored (the `rule_effects` job).
                Action::SendCanned { .. } | Action::AddNote { .. } | Action::Snooze { .. } | Action::Resolve => {}
            }
        }
        Ok(Some(decided))
    }

    /// Applies the rules' decision on customer message `message` to conversation `id`, which was
    /// at `before` (a new one was inserted with the decided team and priority already: `before`
    /// is where it would have been); counts the rules that fired, and schedules what they do
    /// beyond placing it.
    pub(super) async fn rules_apply(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        message: MessageId,
        decided: RulesDecision,
        before: &Placed,
        now: i64,
        counts: &mut CountRows,
    ) -> StoreResult<Vec<ConversationEvent>> {
        let mut events = Vec::new();
        let shard = counts.leased_shard().unwrap_or_else(|| id.0.rem_euclid(FIRE_SHARDS));
        counts.add_fires(&decided.fired, shard, now);
        if !decided.effects.is_empty() {
            let kind = JobKind::RuleEffects { message, rules: decided.effects.clone() };
            Self::schedule_job(tx, id, kind, now, now).await?;
        }
        let moved = decided.team != before.team;
        if moved || decided.priority != before.priority {
            sqlx::query(
                "UPDATE conversations SET team_id = $2, priority = $3, \
                 queued_at = CASE WHEN $4 THEN $5 ELSE queued_at END WHERE id = $1",
            )
            .bind(id.0)
            .bind(decided.team.map(|team| team.0))
            .bind(decided.priority.rank())
            .bind(moved)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            let change = Change::Triaged {
                team: decided.team,
                priority: decided.priority,
                rule: decided.rule.clone(),
                by_default: decided.by_default,
            };
            events.push(Self::append_event_counting(tx, id, change, now, counts).await?);
        }
        if let Ok(labelled) = edit_labels(&before.labels, &decided.labels, &decided.remove_labels)
            && labelled != before.labels
        {
            Self::set_labels(tx, id, &labelled, now).await?;
            events.push(Self::append_event_counting(tx, id, Change::Labeled { labels: labelled }, now, counts).await?);
        }
        // Someone replying in it while it waited may no longer see it where it went.
        if (moved || decided.assign_to.is_some())
            && let Some(claim) = Self::claim_in(tx, id).await?
            && Some(claim.holder) != decided.assign_to
        {
            Self::end_claim(tx, id).await?;
            let change = Change::Released { holder: claim.holder, expired: !claim.is_live(now) };
            events.push(Self::append_event_counting(tx, id, change, now, counts).await?);
        }
        if let Some(user) = decided.assign_to {
            sqlx::query("UPDATE conversations SET assignee_id = $2 WHERE id = $1")
                .bind(id.0)
                .bind(user.0)
                .execute(&mut **tx)
                .await?;
            let by = RoutedBy::Rule {
                rule: decided.assigned_by.clone().or_else(|| decided.rule.clone()).unwrap_or_default(),
            };
            let change = Change::Assigned { assignee: Some(user), routing: Some(Routing { team: decided.team, by }) };
            events.push(Self::append_event_counting(tx, id, change, now, counts).await?);
        }
        Ok(events)
    }

    /// The rules `set` after a customer's message in an existing conversation nobody holds.
    pub(super) async fn triage_by_rules(
        tx: &mut Transaction<'static, DB>,
        set: &RuleSet,
        id: ConversationId,
        message: MessageId,
        inbound: &NewInbound,
        now: i64,
        counts: &mut CountRows,
    ) -> StoreResult<Vec<ConversationEvent>> {
        let (assignee, team, rank, labels, contact): (Option<i64>, Option<i64>, i64, String, i64) = sqlx::query_as(
            "SELECT assignee_id, team_id, priority, labels, contact_id FROM conversations WHERE id = $1",
        )
        .bind(id.0)
        .fetch_one(&mut **tx)
        .await?;
        if assignee.is_some() {
            return Ok(Vec::new());
        }
        let before = Placed {
            team: team.map(TeamId),
            priority: Priority::from_rank(rank).ok_or_else(|| rows::corrupt(format!("priority {rank}")))?,
            labels: serde_json::from_str(&labels).map_err(|_| rows::corrupt(format!("labels {labels}")))?,
        };
        match Self::rules_decide(tx, set, contact, Some(id), inbound, &before).await? {
            Some(decided) => Self::rules_apply(tx, id, message, decided, &before, now, counts).await,
            None => Ok(Vec::new()),
        }
    }
}

/// Where a conversation is before the rules look at it.
#[derive(Default)]
pub(super) struct Placed {
    pub team: Option<TeamId>,
    pub priority: Priority,
    pub labels: Vec<String>,
}

/// What the rules decided: where the conversation goes, and why.
pub(super) struct RulesDecision {
    pub team: Option<TeamId>,
    pub priority: Priority,
    pub rule: Option<String>,
    pub by_default: bool,
    pub labels: Vec<String>,
    pub remove_labels: Vec<String>,
    pub assign_to: Option<UserId>,
    /// The rule that named the agent.
    pub assigned_by: Option<String>,
    /// The rules that fired (ids), counted as the decision is applied.
    pub fired: Vec<u32>,
    /// Those of them that do more than place the conversation.
    pub effects: Vec<u32>,
}

/// An hour, in ms.
const HOUR_MS: i64 = 3_600_000;
/// Shards of a rule's firing count.
const FIRE_SHARDS: i64 = 16;

#[async_trait]
impl<DB: Sql> RulesStore for SqlStore<DB>
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
    async fn routing_rules(&self) -> StoreResult<StoredRules> {
        let mut tx = self.pool.begin().await?;
        let stored = Self::rules_in(&mut tx).await?;
        tx.commit().await?;
        let Some((version, definition)) = stored else { return Ok(StoredRules::default()) };
        let set: RuleSet = serde_json::from_str(&definition).map_err(|_| rows::corrupt("routing rules"))?;
        let fired: Vec<(i64, i64, i64)> =
            sqlx::query_as(
                "SELECT rule_id, CAST(SUM(count) AS BIGINT), MAX(last_at) FROM rule_fires GROUP BY rule_id ORDER BY rule_id",
            )
                .fetch_all(&self.pool)
                .await?;
        let fired = fired
            .into_iter()
            .filter_map(|(rule, count, last_at)| {
                Some(RuleFired { rule: u32::try_from(rule).ok()?, count: u64::try_from(count).ok()?, last_at })
            })
            .collect();
        Ok(StoredRules { version: u32::try_from(version).unwrap_or(u32::MAX), set, fired })
    }

    async fn save_routing_rules(
        &self,
        set: &RuleSet,
        base_version: u32,
        actor: UserId,
        now: i64,
    ) -> StoreResult<StoredRules> {
        let mut tx = self.write_transaction().await?;
        let current = Self::rules_in(&mut tx).await?.map_or(0, |(version, _)| version);
        if current != i64::from(base_version) {
            return Err(StoreError::Changed);
        }
        let version = current + 1;
        // Ids once given (to a rule saved before, or one that fired) are not given again.
        let stored_max = match Self::rules_in(&mut tx).await? {
            Some((_, definition)) => serde_json::from_str::<RuleSet>(&definition)
                .map(|stored| stored.rules.iter().map(|rule| rule.id).max().unwrap_or(0))
                .unwrap_or(0),
            None => 0,
        };
        let fired_max: Option<i64> =
            sqlx::query_scalar("SELECT MAX(rule_id) FROM rule_fires").fetch_one(&mut *tx).await?;
        let used = stored_max.max(fired_max.and_then(|id| u32::try_from(id).ok()).unwrap_or(0));
        let mut set = set.clone();
        set.number(used);
        let definition = serde_json::to_string(&set).map_err(|error| rows::corrupt(error.to_string()))?;
        // Of two saves based on one version, the second inserts or updates nothing.
        let saved = sqlx::query(
            "INSERT INTO routing_rules (id, version, definition, updated_at) VALUES (1, $1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET version = excluded.version, definition = excluded.definition, \
             updated_at = excluded.updated_at WHERE routing_rules.version = $4",
        )
        .bind(version)
        .bind(&definition)
        .bind(now)
        .bind(current)
        .execute(&mut *tx)
        .await?;
        if DB::rows_affected(&saved) == 0 {
            return Err(StoreError::Changed);
        }
        let detail = format!("version={version} rules={}", set.rules.len());
        Self::insert_audit(&mut tx, now, Some(actor), "routing.rules", "routing", &detail).await?;
        // Time rules look at conversations pending already, not only at those pending from now:
        // each pending one gets a look now (which fires the waits already passed that were not
        // looked at in its spell, and schedules the next).
        if !set.pending_hours().is_empty() {
            sqlx::query(
                "INSERT INTO automation_jobs (key, conversation_id, kind, payload, due_at, created_at) \
                 SELECT 'pending:' || id, id, 'pending', '{\"at\":' || pending_since || '}', $1, $1 \
                 FROM conversations WHERE status = 'pending' AND pending_since IS NOT NULL AND snoozed_until IS NULL \
                 ON CONFLICT (key) DO UPDATE SET payload = excluded.payload, due_at = excluded.due_at, \
                 locked_until = NULL, attempts = 0",
            )
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        let stored = self.routing_rules().await?;
        Ok(StoredRules { version: u32::try_from(version).unwrap_or(u32::MAX), set, fired: stored.fired })
    }

    async fn count_rule_fires(&self, rules: &[u32], now: i64) -> StoreResult<()> {
        if rules.is_empty() {
            return Ok(());
        }
        let mut tx = self.write_transaction().await?;
        Self::count_fires(&mut tx, rules, now.rem_euclid(FIRE_SHARDS), now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn returning_customer(&self, conversation: ConversationId) -> StoreResult<bool> {
        let earlier: Option<i64> = sqlx::query_scalar(
            "SELECT other.id FROM conversations this JOIN conversations other \
             ON other.contact_id = this.contact_id AND other.id <> this.id WHERE this.id = $1 LIMIT 1",
        )
        .bind(conversation.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(earlier.is_some())
    }

    async fn pending_spell(&self, conversation: ConversationId) -> StoreResult<Option<PendingSpell>> {
        let spell: Option<(Option<i64>, i64)> = sqlx::query_as(
            "SELECT pending_since, pending_hours_done FROM conversations \
             WHERE id = $1 AND status = 'pending' AND snoozed_until IS NULL",
        )
        .bind(conversation.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(spell.and_then(|(since, done)| {
            Some(PendingSpell { since: since?, hours_done: u32::try_from(done).unwrap_or(u32::MAX) })
        }))
    }

    async fn take_pending_wait(&self, conversation: ConversationId, since: i64, hours: u32) -> StoreResult<bool> {
        let mut tx = self.write_transaction().await?;
        let taken = sqlx::query(
            "UPDATE conversations SET pending_hours_done = $3 \
             WHERE id = $1 AND status = 'pending' AND snoozed_until IS NULL AND pending_since = $2 \
             AND pending_hours_done < $3",
        )
        .bind(conversation.0)
        .bind(since)
        .bind(i64::from(hours))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(DB::rows_affected(&taken) > 0)
    }

    async fn schedule_pending_look(
        &self,
        conversation: ConversationId,
        since: i64,
        at: i64,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.write_transaction().await?;
        Self::lock_conversation(&mut tx, conversation).await?;
        let runs: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM conversations WHERE id = $1 AND status = 'pending' AND snoozed_until IS NULL \
             AND pending_since = $2",
        )
        .bind(conversation.0)
        .bind(since)
        .fetch_optional(&mut *tx)
        .await?;
        if runs.is_some() {
            Self::schedule_job(&mut tx, conversation, JobKind::Pending { since }, at, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
