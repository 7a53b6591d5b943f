//! The routing rules: kept whole as one versioned document, and applied to a conversation inside
//! the transaction that records the customer's message, so the message and its triage commit
//! together (and on several nodes happen once).

use async_trait::async_trait;
use baton_shared::model::{Change, ConversationEvent, MessageContent, Priority, edit_labels};
use baton_shared::routing_rules::{Action, Facts, RuleSet, StoredRules, Trigger};
use baton_shared::teams::{RoutedBy, Routing};
use baton_shared::{ConversationId, TeamId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::{Sql, SqlStore, rows};
use crate::store::conversations::NewInbound;
use crate::store::routing::RulesStore;
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

    /// Applies the routing rules to a conversation nobody holds, after the customer's message
    /// `inbound` (which `opened` it, or not): the first matching rule's actions, or the default
    /// team. A rule naming a team or agent that is gone is skipped, never an error: a customer's
    /// message is stored whatever the rules say.
    pub(super) async fn triage_by_rules(
        tx: &mut Transaction<'static, DB>,
        id: ConversationId,
        inbound: &NewInbound,
        opened: bool,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>> {
        let Some((_, definition)) = Self::rules_in(tx).await? else { return Ok(Vec::new()) };
        let set: RuleSet = match serde_json::from_str(&definition) {
            Ok(set) => set,
            Err(error) => {
                tracing::error!(%error, "the stored routing rules do not parse: not applied");
                return Ok(Vec::new());
            }
        };
        let (assignee, team, rank, labels, contact): (Option<i64>, Option<i64>, i64, String, i64) = sqlx::query_as(
            "SELECT assignee_id, team_id, priority, labels, contact_id FROM conversations WHERE id = $1",
        )
        .bind(id.0)
        .fetch_one(&mut **tx)
        .await?;
        if assignee.is_some() {
            return Ok(Vec::new());
        }
        let labels: Vec<String> =
            serde_json::from_str(&labels).map_err(|_| rows::corrupt(format!("labels {labels}")))?;
        let returning: Option<i64> =
            sqlx::query_scalar("SELECT id FROM conversations WHERE contact_id = $1 AND id <> $2 LIMIT 1")
                .bind(contact)
                .bind(id.0)
                .fetch_optional(&mut **tx)
                .await?;
        let choice = match &inbound.content {
            Some(MessageContent::Choice { id, .. }) => Some(id.as_str()),
            _ => None,
        };
        let facts = Facts {
            trigger: if opened { Trigger::NewConversation } else { Trigger::CustomerMessage },
            text: &inbound.body,
            choice,
            labels: &labels,
            returning: returning.is_some(),
            has_team: team.is_some(),
        };
        let Some(decision) = set.decide(&facts) else { return Ok(Vec::new()) };
        let rule = decision.rule.map(|(_, name)| name);
        let (mut new_team, mut priority) = (team.map(TeamId), Priority::from_rank(rank).unwrap_or_default());
        let (mut add, mut assign_to) = (Vec::new(), None);
        for action in decision.actions {
            match action {
                Action::SetTeam { team } => {
                    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM teams WHERE id = $1")
                        .bind(team.0)
                        .fetch_optional(&mut **tx)
                        .await?;
                    if found.is_some() {
                        new_team = Some(team);
                    }
                }
                Action::SetPriority { priority: set } => priority = set,
                Action::AddLabels { labels } => add.extend(labels),
                Action::AssignTo { user } => {
                    let active: Option<bool> = sqlx::query_scalar("SELECT disabled FROM users WHERE id = $1")
                        .bind(user.0)
                        .fetch_optional(&mut **tx)
                        .await?;
                    if active == Some(false) {
                        assign_to = Some(user);
                    }
                }
            }
        }
        let mut events = Vec::new();
        let moved = new_team != team.map(TeamId);
        if moved || priority.rank() != rank {
            sqlx::query(
                "UPDATE conversations SET team_id = $2, priority = $3, \
                 queued_at = CASE WHEN $4 THEN $5 ELSE queued_at END WHERE id = $1",
            )
            .bind(id.0)
            .bind(new_team.map(|team| team.0))
            .bind(priority.rank())
            .bind(moved)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            let change = Change::Triaged { team: new_team, priority, rule: rule.clone(), by_default: rule.is_none() };
            events.push(Self::append_event(tx, id, None, change, now).await?);
        }
        if let Ok(labelled) = edit_labels(&labels, &add, &[])
            && labelled != labels
        {
            let json = serde_json::to_string(&labelled).map_err(|error| rows::corrupt(error.to_string()))?;
            sqlx::query("UPDATE conversations SET labels = $2 WHERE id = $1")
                .bind(id.0)
                .bind(json)
                .execute(&mut **tx)
                .await?;
            events.push(Self::append_event(tx, id, None, Change::Labeled { labels: labelled }, now).await?);
        }
        if let Some(user) = assign_to {
            sqlx::query("UPDATE conversations SET assignee_id = $2 WHERE id = $1")
                .bind(id.0)
                .bind(user.0)
                .execute(&mut **tx)
                .await?;
            let by = RoutedBy::Rule { rule: rule.clone().unwrap_or_default() };
            let change = Change::Assigned { assignee: Some(user), routing: Some(Routing { team: new_team, by }) };
            events.push(Self::append_event(tx, id, None, change, now).await?);
        }
        Ok(events)
    }
}

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
        Ok(StoredRules { version: u32::try_from(version).unwrap_or(u32::MAX), set })
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
        let definition = serde_json::to_string(set).map_err(|error| rows::corrupt(error.to_string()))?;
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
        tx.commit().await?;
        Ok(StoredRules { version: u32::try_from(version).unwrap_or(u32::MAX), set: set.clone() })
    }
}
