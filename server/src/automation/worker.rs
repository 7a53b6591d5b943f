//! The automation worker: takes automation's due jobs from the database and does them.
//!
//! A job is taken by one node at a time: taking it holds it for [`HOLD`] (`locked_until`), and on
//! PostgreSQL rows another node is taking are skipped. Done, it is deleted; failed, it is released
//! to be taken again after a backoff; a node that dies holding it lets it go when the hold runs
//! out. Jobs are idempotent, so one done twice (its node died after doing it, before deleting it)
//! changes nothing the second time.
//!
//! The worker sleeps until the next job falls due, at most [`POLL`] (jobs another node scheduled
//! wake nobody here), and is woken at once when this node stores a customer message. Unlike the
//! other workers it is handed the whole [`AppState`]: it is a caller of the conversation domain,
//! as the sockets and REST handlers are, and the domain's operations take the state.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use baton_shared::automation::AutoReplies;
use baton_shared::menu::Menu;
use baton_shared::sla::{SlaSettings, SlaTargets};
use baton_shared::{ConversationId, MessageId};

use super::{Automation, csat, replies, rules, sla};
use crate::conversations::Refusal;
use crate::state::AppState;
use crate::store::automation::{Job, JobKind};

/// How long a taken job is held before another node may take it.
pub const HOLD: Duration = Duration::from_secs(60);
/// The longest the worker sleeps without looking.
pub const POLL: Duration = Duration::from_secs(5);
/// The shortest time between two looks without a wake-up.
const MIN_WAIT: Duration = Duration::from_millis(200);
/// Jobs taken at once.
const BATCH: i64 = 20;
/// Attempts after which a job that keeps failing is dropped (and logged).
const MAX_ATTEMPTS: i64 = 8;

pub struct Worker {
    pub state: AppState,
    pub automation: Automation,
}

impl Worker {
    pub async fn run(self, stop: CancellationToken) {
        while !stop.is_cancelled() {
            // The next look is timed from the start of this pass: if the clock moved on meanwhile
            // (a long pass, or a test's paused clock jumping), it comes at once.
            let started = tokio::time::Instant::now();
            let now = self.state.now();
            // Looked up first: most wake-ups (a customer message nothing answers) find nothing
            // due, and a read costs less than taking jobs, a write.
            let mut next = self.state.store.next_job_at().await;
            let due = match &next {
                Ok(next) => next.is_some_and(|at| at <= now),
                // Taking tells how the store is.
                Err(_) => true,
            };
            if due {
                self.pass(now, &stop).await;
                next = self.state.store.next_job_at().await;
            } else {
                self.automation.progress.passed(now);
            }
            let wait = match next {
                Ok(Some(next)) => Duration::from_millis(u64::try_from(next - now).unwrap_or(0)).min(POLL),
                Ok(None) => POLL,
                Err(error) => {
                    tracing::warn!(%error, "cannot read when automation's next job is due");
                    POLL
                }
            };
            // A job due now that this pass did not take is held by another node (or waits for an
            // earlier one of its conversation): look again shortly, not in a busy loop.
            let wait = wait.max(MIN_WAIT);
            tokio::select! {
                () = self.automation.wake.notified() => {}
                () = tokio::time::sleep_until(started + wait) => {}
                () = stop.cancelled() => {}
            }
        }
    }

    /// Does every job due by `now`, then notes the pass.
    pub async fn pass(&self, now: i64, stop: &CancellationToken) {
        loop {
            if stop.is_cancelled() {
                return;
            }
            // Held from when it is taken (a long pass must not take jobs with a hold that ran out).
            let hold_until = self.state.now() + i64::try_from(HOLD.as_millis()).unwrap_or(i64::MAX);
            let jobs = match self.state.store.take_due_jobs(now, hold_until, BATCH).await {
                Ok(jobs) => jobs,
                Err(error) => {
                    tracing::warn!(%error, "cannot take automation's due jobs");
                    return;
                }
            };
            // Until a look finds nothing: a job may schedule another due now (a resolve by a
            // rule schedules the rules listening to resolves), done in this pass too.
            if jobs.is_empty() {
                break;
            }
            for job in jobs {
                self.run_job(job).await;
            }
        }
        self.automation.progress.passed(now);
    }

    async fn run_job(&self, job: Job) {
        let state = &self.state;
        let done = match job.kind {
            JobKind::CustomerMessage { message, opened } => {
                customer_message(state, job.conversation, message, opened).await
            }
            JobKind::Wake { until } => sla::wake(state, job.conversation, until).await,
            JobKind::SlaDeadline { kind, due_at } => sla::deadline_came(state, job.conversation, kind, due_at).await,
            JobKind::Idle { since } => sla::idle(state, job.conversation, since).await,
            JobKind::CsatRequest { resolved_at, assignee } => {
                csat::request(state, job.conversation, resolved_at, assignee).await
            }
            JobKind::RuleEffects { message, ref rules } => {
                rules::effects(state, job.conversation, message, rules).await
            }
            JobKind::Rules { trigger, at } => rules::on_event(state, job.conversation, trigger, at).await,
            JobKind::Pending { since } => rules::pending(state, job.conversation, since).await,
        };
        let store = &self.state.store;
        let settled = match done {
            Ok(()) => store.finish_job(job.id, job.held_until).await,
            Err(refusal) if job.attempts + 1 >= MAX_ATTEMPTS => {
                tracing::error!(job = job.id, conversation = %job.conversation, ?refusal, "automation job dropped after repeated failures");
                store.finish_job(job.id, job.held_until).await
            }
            Err(refusal) => {
                tracing::warn!(job = job.id, conversation = %job.conversation, ?refusal, "automation job failed: retried");
                let backoff = 1_000 * (1_i64 << job.attempts.clamp(0, 6));
                store.retry_job(job.id, job.held_until, self.state.now() + backoff).await
            }
        };
        if let Err(error) = settled {
            // Still held: taken again once the hold runs out.
            tracing::warn!(job = job.id, %error, "cannot settle an automation job");
        }
    }
}

/// Whether automation has anything to do on a customer message with these settings: an
/// auto-reply or the menu bot on, or a service-level target or auto-resolve set (for the inbox or
/// a team). Only then does a customer message schedule its job ([`customer_message`]), which
/// with all of them off would read the settings and do nothing. A conversation whose menu bot is
/// taking answers is answered whatever they say: the store checks its session.
pub fn answers_customer_messages(replies: &AutoReplies, menu: &Menu, sla: &SlaSettings) -> bool {
    let timed = |targets: &SlaTargets| {
        targets.first_response_minutes.is_some()
            || targets.next_response_minutes.is_some()
            || targets.resolution_minutes.is_some()
            || targets.auto_resolve_hours.is_some()
    };
    replies.greeting.enabled
        || replies.away.enabled
        || replies.queue_ack.enabled
        || menu.enabled
        || timed(&sla.inbox)
        || sla.teams.iter().any(|team| timed(&team.targets))
}

/// A customer message: the auto-replies (and the menu bot) answer it, and the clocks it starts
/// start. Whatever this comes to do, [`answers_customer_messages`] must say it is on: a message
/// it says nothing listens to stores no job.
async fn customer_message(
    state: &AppState,
    conversation: ConversationId,
    message: MessageId,
    opened: bool,
) -> Result<(), Refusal> {
    // The clocks start from the conversation as the auto-replies left it (its team, if the menu
    // bot handed it over), read once.
    match replies::answer(state, conversation, message, opened).await? {
        Some((found, current)) => sla::customer_wrote(state, &current, &found).await,
        None => Ok(()),
    }
}
