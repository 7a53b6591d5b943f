//! Automation's records: settings documents, durable jobs taken by one node at a time, and the
//! automated message stored with its outbox row under the loop guards, in one transaction.

use async_trait::async_trait;
use baton_shared::automation::{AUTOMATION_USER, AutoReplies};
use baton_shared::menu::Menu;
use baton_shared::model::{Change, MessageKind};
use baton_shared::routing_rules::Trigger;
use baton_shared::sla::{SlaKind, SlaSettings};
use baton_shared::{ConversationId, MessageId, UserId};
use serde::{Deserialize, Serialize};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::messages::Outbound;
use super::queues::{NOBODY, WAITING};
use super::{Sql, SqlStore, rows};
use crate::automation::{settings, worker};
use crate::store::automation::{AutomatedOutcome, AutomatedReply, AutomationStore, Job, JobKind, QueueStanding};
use crate::store::{StoreError, StoreResult};

/// An hour, the span of the per-customer cap.
const HOUR_MS: i64 = 3_600_000;

/// What a job carries, as its `payload` column.
#[derive(Serialize, Deserialize)]
struct Payload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<i64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    opened: bool,
    /// A wake-up's snooze end, a deadline, or the customer's last message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sla: Option<SlaKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rules: Option<Vec<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trigger: Option<Trigger>,
}

impl JobKind {
    /// The job's key (one job per key: a timer moved replaces its job) and payload.
    fn stored(&self, conversation: ConversationId) -> (String, Payload) {
        let empty =
            Payload { message: None, opened: false, at: None, sla: None, user: None, rules: None, trigger: None };
        match self.clone() {
            JobKind::CustomerMessage { message, opened } => {
                (format!("message:{}", message.0), Payload { message: Some(message.0), opened, ..empty })
            }
            JobKind::RuleEffects { message, rules } => (
                format!("rules:message:{}", message.0),
                Payload { message: Some(message.0), rules: Some(rules), ..empty },
            ),
            JobKind::Rules { trigger, at } => (
                format!("rules:{conversation}:{}", trigger.name()),
                Payload { at: Some(at), trigger: Some(trigger), ..empty },
            ),
            JobKind::Pending { since } => (format!("pending:{conversation}"), Payload { at: Some(since), ..empty }),
            JobKind::Wake { until } => (format!("snooze:{conversation}"), Payload { at: Some(until), ..empty }),
            JobKind::SlaDeadline { kind, due_at } => {
                (format!("sla:{conversation}:{}", kind.slot()), Payload { at: Some(due_at), sla: Some(kind), ..empty })
            }
            JobKind::Idle { since } => (format!("idle:{conversation}"), Payload { at: Some(since), ..empty }),
            JobKind::CsatRequest { resolved_at, assignee } => (
                format!("csat:{conversation}"),
                Payload { at: Some(resolved_at), user: assignee.map(|user| user.0), ..empty },
            ),
        }
    }

    fn read(kind: &str, payload: &Payload) -> Option<JobKind> {
        Some(match kind {
            "customer_message" => {
                JobKind::CustomerMessage { message: MessageId(payload.message?), opened: payload.opened }
            }
            "wake" => JobKind::Wake { until: payload.at? },
            "sla_deadline" => JobKind::SlaDeadline { kind: payload.sla?, due_at: payload.at? },
            "idle" => JobKind::Idle { since: payload.at? },
            "csat_request" => JobKind::CsatRequest { resolved_at: payload.at?, assignee: payload.user.map(UserId) },
            "rule_effects" => {
                JobKind::RuleEffects { message: MessageId(payload.message?), rules: payload.rules.clone()? }
            }
            "rules" => JobKind::Rules { trigger: payload.trigger?, at: payload.at? },
            "pending" => JobKind::Pending { since: payload.at? },
            _ => return None,
        })
    }
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    conversation_id: i64,
    kind: String,
    payload: String,
    due_at: i64,
    attempts: i64,
    locked_until: Option<i64>,
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;

    fn try_from(row: JobRow) -> Result<Self, Self::Error> {
        let payload: Payload =
            serde_json::from_str(&row.payload).map_err(|error| rows::corrupt(format!("job {}: {error}", row.id)))?;
        let kind = JobKind::read(&row.kind, &payload)
            .ok_or_else(|| rows::corrupt(format!("job {}: {} {}", row.id, row.kind, row.payload)))?;
        Ok(Job {
            id: row.id,
            conversation: ConversationId(row.conversation_id),
            kind,
            due_at: row.due_at,
            attempts: (row.attempts - 1).max(0),
            held_until: row.locked_until.unwrap_or(0),
        })
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
    /// Whether automation has anything to do on a customer message now
    /// ([`worker::answers_customer_messages`]), with the settings as the caller's transaction
    /// reads them. Settings that no longer parse count as listening: the job reads them again,
    /// and says so.
    pub(super) async fn automation_listens_in(tx: &mut Transaction<'static, DB>) -> StoreResult<bool> {
        let stored: Vec<(String, String)> =
            sqlx::query_as("SELECT key, definition FROM automation_settings WHERE key IN ($1, $2, $3)")
                .bind(settings::AUTO_REPLIES)
                .bind(settings::MENU)
                .bind(settings::SLA)
                .fetch_all(&mut **tx)
                .await?;
        let stored =
            |key: &str| stored.iter().find(|(found, _)| found == key).map(|(_, definition)| definition.as_str());
        let replies = settings::parse::<AutoReplies>(stored(settings::AUTO_REPLIES));
        let menu = settings::parse::<Menu>(stored(settings::MENU));
        let sla = settings::parse::<SlaSettings>(stored(settings::SLA));
        Ok(match (replies, menu, sla) {
            (Ok(replies), Ok(menu), Ok(sla)) => worker::answers_customer_messages(&replies, &menu, &sla),
            _ => true,
        })
    }

    /// Schedules `kind` for the conversation at `due_at`, in the caller's transaction: a job under
    /// the same key is replaced (a timer moved), and released if a node held it.
    pub(super) async fn schedule_job(
        tx: &mut Transaction<'static, DB>,
        conversation: ConversationId,
        kind: JobKind,
        due_at: i64,
        now: i64,
    ) -> StoreResult<()> {
        let (key, payload) = kind.stored(conversation);
        let payload = serde_json::to_string(&payload);
        let payload = payload.map_err(|error| rows::corrupt(error.to_string()))?;
        sqlx::query(
            "INSERT INTO automation_jobs (key, conversation_id, kind, payload, due_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO UPDATE SET \
             payload = excluded.payload, due_at = excluded.due_at, locked_until = NULL, attempts = 0",
        )
        .bind(key)
        .bind(conversation.0)
        .bind(kind.name())
        .bind(payload)
        .bind(due_at)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Locks what an automated message needs, in the order a customer's message takes them: the
    /// customer's row (the hourly cap counts all their conversations), then the conversation.
    /// The other order deadlocked on PostgreSQL against a message arriving meanwhile.
    pub(super) async fn lock_for_automation(tx: &mut Transaction<'static, DB>, id: ConversationId) -> StoreResult<()> {
        let contact: Option<i64> = sqlx::query_scalar("SELECT contact_id FROM conversations WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut **tx)
            .await?;
        let contact = contact.ok_or(StoreError::NotFound)?;
        sqlx::query(DB::LOCK_CONTACT).bind(contact).fetch_optional(&mut **tx).await?;
        Self::lock_conversation(tx, id).await
    }

    /// Stores an automated message with its outbox row and event in the caller's transaction,
    /// which holds the customer's and the conversation's locks ([`Self::lock_for_automation`]),
    /// if it passes every guard of [`AutomatedReply`].
    pub(super) async fn automated_in(
        tx: &mut Transaction<'static, DB>,
        reply: &AutomatedReply,
        now: i64,
    ) -> StoreResult<AutomatedOutcome> {
        let id = reply.conversation;
        let earlier: Option<i64> =
            sqlx::query_scalar("SELECT id FROM messages WHERE author_id = $1 AND idempotency_key = $2")
                .bind(AUTOMATION_USER.0)
                .bind(&reply.idempotency_key)
                .fetch_optional(&mut **tx)
                .await?;
        if earlier.is_some() {
            return Ok(AutomatedOutcome::Duplicate);
        }
        let blocked: bool = sqlx::query_scalar(
            "SELECT k.blocked FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = $1",
        )
        .bind(id.0)
        .fetch_one(&mut **tx)
        .await?;
        if blocked {
            return Ok(AutomatedOutcome::Blocked);
        }
        let claim = Self::claim_in(tx, id).await?;
        if claim.is_some_and(|claim| claim.lease_until > now && claim.holder != AUTOMATION_USER) {
            return Ok(AutomatedOutcome::PersonReplying);
        }
        if !Self::window_open(tx, id, now).await? {
            return Ok(AutomatedOutcome::WindowClosed);
        }
        let last_of_kind: Option<i64> =
            sqlx::query_scalar("SELECT MAX(created_at) FROM messages WHERE conversation_id = $1 AND automation = $2")
                .bind(id.0)
                .bind(reply.automated.as_str())
                .fetch_one(&mut **tx)
                .await?;
        if let Some(last) = last_of_kind {
            let too_recent = reply.not_within.is_some_and(|within| last > now - within)
                || reply.not_since.is_some_and(|since| last >= since);
            if too_recent {
                return Ok(AutomatedOutcome::TooSoon);
            }
        }
        // The cap counts every conversation of the customer, under their row's lock (taken by
        // the caller, `lock_for_automation`).
        let contact: i64 = sqlx::query_scalar("SELECT contact_id FROM conversations WHERE id = $1")
            .bind(id.0)
            .fetch_one(&mut **tx)
            .await?;
        let sent: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE c.contact_id = $1 AND m.automation IS NOT NULL AND m.created_at > $2",
        )
        .bind(contact)
        .bind(now - HOUR_MS)
        .fetch_one(&mut **tx)
        .await?;
        if sent >= i64::from(reply.hourly_cap) {
            return Ok(AutomatedOutcome::Capped);
        }
        let seq = Self::next_seq(tx, id, now).await?;
        let outbound = Outbound {
            conversation: id,
            seq,
            kind: if reply.content.is_some() { MessageKind::Interactive } else { MessageKind::Text },
            body: &reply.body,
            author: AUTOMATION_USER,
            idempotency_key: &reply.idempotency_key,
            content: reply.content.as_ref(),
            reply_to: None,
            automation: Some(reply.automated),
        };
        let message = Self::queue_outbound(tx, &outbound, now).await?;
        let change = Change::MessageAdded { message };
        let event = Self::insert_event(tx, id, seq, Some(AUTOMATION_USER), change, now).await?;
        Ok(AutomatedOutcome::Sent { event })
    }
}

#[async_trait]
impl<DB: Sql> AutomationStore for SqlStore<DB>
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
    async fn automation_settings(&self, key: &str) -> StoreResult<Option<(u32, String)>> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT version, definition FROM automation_settings WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(version, definition)| (u32::try_from(version).unwrap_or(u32::MAX), definition)))
    }

    async fn save_automation_settings(
        &self,
        key: &str,
        definition: &str,
        base_version: u32,
        actor: UserId,
        now: i64,
    ) -> StoreResult<u32> {
        let mut tx = self.write_transaction().await?;
        let current: i64 = sqlx::query_scalar("SELECT version FROM automation_settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or(0);
        if current != i64::from(base_version) {
            return Err(StoreError::Changed);
        }
        let version = current + 1;
        // Of two saves based on one version, the second inserts or updates nothing.
        let saved = sqlx::query(
            "INSERT INTO automation_settings (key, version, definition, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET version = excluded.version, definition = excluded.definition, \
             updated_at = excluded.updated_at WHERE automation_settings.version = $5",
        )
        .bind(key)
        .bind(version)
        .bind(definition)
        .bind(now)
        .bind(current)
        .execute(&mut *tx)
        .await?;
        if DB::rows_affected(&saved) == 0 {
            return Err(StoreError::Changed);
        }
        let detail = format!("version={version}");
        Self::insert_audit(&mut tx, now, Some(actor), &format!("automation.{key}"), "automation", &detail).await?;
        tx.commit().await?;
        Ok(u32::try_from(version).unwrap_or(u32::MAX))
    }

    // One conversation's jobs are taken one at a time, in order: a job waits while an earlier one
    // of its conversation is pending or held (the menu bot reads answers in the order given).
    async fn take_due_jobs(&self, now: i64, hold_until: i64, limit: i64) -> StoreResult<Vec<Job>> {
        let mut tx = self.write_transaction().await?;
        let rows: Vec<JobRow> = sqlx::query_as(&format!(
            "UPDATE automation_jobs SET locked_until = $2, attempts = attempts + 1 WHERE id IN (\
             SELECT j.id FROM automation_jobs j WHERE j.due_at <= $1 \
             AND (j.locked_until IS NULL OR j.locked_until <= $1) \
             AND NOT EXISTS (SELECT 1 FROM automation_jobs o WHERE o.conversation_id = j.conversation_id \
                             AND (o.due_at < j.due_at OR (o.due_at = j.due_at AND o.id < j.id))) \
             ORDER BY j.due_at, j.id LIMIT $3 {}) \
             RETURNING id, conversation_id, kind, payload, due_at, attempts, locked_until",
            DB::SKIP_LOCKED
        ))
        .bind(now)
        .bind(hold_until)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut jobs = Vec::with_capacity(rows.len());
        for row in rows {
            let (id, held_until) = (row.id, row.locked_until.unwrap_or(0));
            match Job::try_from(row) {
                Ok(job) => jobs.push(job),
                // A job nobody can read is logged and dropped, never retried forever.
                Err(error) => {
                    tracing::error!(job = id, %error, "an automation job cannot be read: dropped");
                    if let Err(error) = self.finish_job(id, held_until).await {
                        tracing::warn!(job = id, %error, "cannot drop an unreadable automation job");
                    }
                }
            }
        }
        jobs.sort_by_key(|job| (job.due_at, job.id));
        Ok(jobs)
    }

    async fn finish_job(&self, id: i64, held_until: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM automation_jobs WHERE id = $1 AND locked_until = $2")
            .bind(id)
            .bind(held_until)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn retry_job(&self, id: i64, held_until: i64, retry_at: i64) -> StoreResult<()> {
        sqlx::query("UPDATE automation_jobs SET locked_until = $3 WHERE id = $1 AND locked_until = $2")
            .bind(id)
            .bind(held_until)
            .bind(retry_at)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn next_job_at(&self) -> StoreResult<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(CASE WHEN locked_until IS NOT NULL AND locked_until > due_at THEN locked_until \
             ELSE due_at END) FROM automation_jobs",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    async fn jobs_due(&self, now: i64) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM automation_jobs WHERE due_at <= $1")
            .bind(now)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn send_automated(&self, reply: &AutomatedReply, now: i64) -> StoreResult<AutomatedOutcome> {
        let mut tx = self.write_transaction().await?;
        Self::lock_for_automation(&mut tx, reply.conversation).await?;
        let outcome = Self::automated_in(&mut tx, reply, now).await?;
        if matches!(outcome, AutomatedOutcome::Sent { .. }) {
            tx.commit().await?;
        }
        Ok(outcome)
    }

    async fn queue_standing(&self, conversation: ConversationId, now: i64) -> StoreResult<Option<QueueStanding>> {
        let waiting: Option<(Option<i64>, i64, Option<i64>)> = sqlx::query_as(&format!(
            "SELECT c.team_id, c.priority, c.queued_at FROM conversations c WHERE c.id = $3 AND {WAITING}"
        ))
        .bind(now)
        .bind(NOBODY)
        .bind(conversation.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some((team, priority, queued_at)) = waiting else { return Ok(None) };
        let queued_at = queued_at.unwrap_or(0);
        let same_queue = if team.is_some() { "c.team_id = $6" } else { "c.team_id IS NULL AND $6 = 0" };
        let ahead: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM conversations c WHERE {same_queue} AND {WAITING} AND c.id <> $3 AND \
             (c.priority > $4 OR (c.priority = $4 AND (COALESCE(c.queued_at, 0) < $5 \
              OR (COALESCE(c.queued_at, 0) = $5 AND c.id < $3))))"
        ))
        .bind(now)
        .bind(NOBODY)
        .bind(conversation.0)
        .bind(priority)
        .bind(queued_at)
        .bind(team.unwrap_or(0))
        .fetch_one(&self.pool)
        .await?;
        let candidates: Vec<i64> = match team {
            Some(team) => {
                sqlx::query_scalar(
                    "SELECT m.user_id FROM team_members m JOIN users u ON u.id = m.user_id \
                     WHERE m.team_id = $1 AND u.disabled = FALSE AND m.capacity > \
                     (SELECT COUNT(*) FROM conversations l WHERE l.assignee_id = m.user_id AND l.status <> 'resolved')",
                )
                .bind(team)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_scalar("SELECT id FROM users WHERE disabled = FALSE AND id <> $1")
                    .bind(AUTOMATION_USER.0)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        Ok(Some(QueueStanding {
            position: u32::try_from(ahead + 1).unwrap_or(u32::MAX),
            queued_at,
            candidates: candidates.into_iter().map(UserId).collect(),
        }))
    }
}
