//! Service levels, follow-ups and auto-resolve, as automation runs them.
//!
//! - **Clocks.** A customer message starts the response clock if none runs — first response if no
//!   person replied since the conversation opened, else next response — and the resolution clock
//!   if none runs. Each deadline is counted in the team's business hours only (a message at 23:00
//!   with a 5-minute target is due 5 minutes after opening), and is a durable job. A person's
//!   reply meets the response clock and a resolve meets the resolution clock, in their own
//!   transactions ([`crate::store::automation::FollowUpStore`]). A deadline that comes with its
//!   clock still running is a breach: an `sla_breached` event, once (the store's conditional
//!   update), which turns the card red and alerts supervisors.
//! - **Snooze.** A snoozed conversation's wake-up is a job; at its time the conversation reopens
//!   (if still pending, snoozed until then) and its assignee is told.
//! - **Auto-resolve.** After a team's `auto_resolve_hours` without a customer message, Baton
//!   resolves the conversation, sending the closing message first if one is set and WhatsApp's
//!   24-hour window still allows it.

use baton_shared::ConversationId;
use baton_shared::automation::{Automated, HoursSettings};
use baton_shared::model::{Conversation, ConversationStatus, Message};
use baton_shared::sla::{SlaKind, SlaSettings, SlaTargets};

use super::hours::Schedule;
use super::settings;
use crate::conversations::{Actor, Refusal, assignment, automated, publish};
use crate::state::AppState;
use crate::store::automation::{AutomatedOutcome, AutomatedReply};

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;

/// The team's targets and schedule for `conversation`.
async fn targets_of(state: &AppState, conversation: &Conversation) -> Result<(SlaTargets, Option<Schedule>), Refusal> {
    let sla: SlaSettings = settings::load(state.store.as_ref(), settings::SLA).await?.value;
    let hours: HoursSettings = settings::load(state.store.as_ref(), settings::HOURS).await?.value;
    let schedule = hours.for_team(conversation.team).and_then(|hours| Schedule::parse(hours).ok());
    Ok((sla.for_team(conversation.team), schedule))
}

/// When `minutes` of business time after `start` end (of wall time, without business hours).
pub fn deadline(schedule: Option<&Schedule>, start: i64, minutes: u32) -> i64 {
    let span = i64::from(minutes) * MINUTE_MS;
    match schedule {
        Some(schedule) => schedule.after_open(start, span).unwrap_or(i64::MAX),
        None => start.saturating_add(span),
    }
}

/// What customer message `message` starts: the clocks that do not run yet, and auto-resolve's
/// next look.
pub async fn customer_wrote(state: &AppState, conversation: &Conversation, message: &Message) -> Result<(), Refusal> {
    if conversation.status == ConversationStatus::Resolved {
        return Ok(());
    }
    let (targets, schedule) = targets_of(state, conversation).await?;
    let store = &state.store;
    let at = message.sent_at;
    let mut events = Vec::new();
    if let Some(minutes) = targets.resolution_minutes
        && !store.resolution_clock_runs(conversation.id).await?
    {
        let due = deadline(schedule.as_ref(), at, minutes);
        events.extend(store.start_sla(conversation.id, SlaKind::Resolution, at, due, state.now()).await?);
    }
    if let Some(kind) = store.response_clock_due(conversation.id).await?
        && let Some(minutes) = targets.minutes(kind)
    {
        let due = deadline(schedule.as_ref(), at, minutes);
        events.extend(store.start_sla(conversation.id, kind, at, due, state.now()).await?);
    }
    publish(state, &events);
    if let Some(hours) = targets.auto_resolve_hours {
        let due = at.saturating_add(i64::from(hours) * HOUR_MS);
        store.schedule_idle(conversation.id, at, due, state.now()).await?;
    }
    Ok(())
}

/// Clock `kind`'s deadline `due_at` came: a breach if it still runs (once).
pub async fn deadline_came(state: &AppState, id: ConversationId, kind: SlaKind, due_at: i64) -> Result<(), Refusal> {
    let events = state.store.breach_sla(id, kind, due_at, state.now()).await?;
    if !events.is_empty() {
        tracing::info!(conversation = %id, target = kind.as_str(), "service-level target missed");
    }
    publish(state, &events);
    Ok(())
}

/// A snooze's time came: the conversation reopens (if still snoozed until then).
pub async fn wake(state: &AppState, id: ConversationId, until: i64) -> Result<(), Refusal> {
    let events = state.store.wake(id, until, state.now()).await?;
    publish(state, &events);
    Ok(())
}

/// Auto-resolve's look: no customer message since `since`, and the team's days have passed.
pub async fn idle(state: &AppState, id: ConversationId, since: i64) -> Result<(), Refusal> {
    let Some(conversation) = state.store.conversation(id).await? else { return Ok(()) };
    if conversation.status == ConversationStatus::Resolved
        || state.store.last_customer_message_at(id).await? != Some(since)
    {
        return Ok(());
    }
    let (targets, _) = targets_of(state, &conversation).await?;
    let Some(hours) = targets.auto_resolve_hours else { return Ok(()) };
    if state.now() < since.saturating_add(i64::from(hours) * HOUR_MS) {
        return Ok(());
    }
    // Someone is answering right now: not the moment to close it; look again in an hour.
    if conversation.claim.as_ref().is_some_and(|claim| claim.is_live(state.now()) && !claim.yields_to_people()) {
        state.store.schedule_idle(id, since, state.now().saturating_add(HOUR_MS), state.now()).await?;
        return Ok(());
    }
    let actor = Actor::automation();
    if let Some(text) = targets.closing_message.filter(|text| !text.trim().is_empty()) {
        let closing = AutomatedReply {
            conversation: id,
            automated: Automated::Closing,
            body: text,
            idempotency_key: format!("closing:{id}:{since}"),
            hourly_cap: super::replies::hourly_cap(state).await?,
            not_within: None,
            not_since: None,
            content: None,
        };
        // Outside WhatsApp's window it cannot go (`WindowClosed`): resolved without it.
        if let AutomatedOutcome::PersonReplying = automated::send(state, &actor, &closing).await? {
            // Someone took it in the meantime: look again in an hour.
            state.store.schedule_idle(id, since, state.now().saturating_add(HOUR_MS), state.now()).await?;
            return Ok(());
        }
    }
    assignment::set_status(state, &actor, id, ConversationStatus::Resolved).await?;
    tracing::info!(conversation = %id, hours, "auto-resolved after hours without a customer message");
    Ok(())
}
