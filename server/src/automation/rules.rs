//! Automation rules: what the rules do as Baton's [`Actor::Automation`], through the same
//! conversation operations as people — for a customer message, what its rules do beyond placing
//! the conversation (placing it happened as the message was stored); for a resolve or a missed
//! service-level target, everything the rules that fire say; and the time rules ("pending for 48
//! hours"), fired once per wait in each pending spell (the wait is taken before its rules fire).
//!
//! An action refused on its merits (a snooze of a conversation resolved meanwhile, a canned reply
//! past the customer's hourly cap) is logged and skipped, and the rule's other actions still run;
//! a store failure fails the job, which is retried — actions are idempotent (labels, team,
//! status), keyed (a canned reply sends once per rule and cause), or, for a note, written once
//! per successful run.

use baton_shared::model::{Conversation, ConversationStatus};
use baton_shared::routing_rules::{Action, Facts, Rule, RuleSet, Trigger};
use baton_shared::{ConversationId, ErrorCode, MessageId};

use super::replies;
use crate::conversations::{Actor, Refusal, assignment, automated, notes};
use crate::state::AppState;
use crate::store::automation::{AutomatedOutcome, AutomatedReply};
use crate::store::routing::Triage;

const HOUR_MS: i64 = 3_600_000;

async fn rule_set(state: &AppState) -> Result<RuleSet, Refusal> {
    Ok(state.store.routing_rules().await?.set)
}

/// The rules (by id) that fired on customer message `message`: what they do beyond placing the
/// conversation.
pub async fn effects(
    state: &AppState,
    conversation: ConversationId,
    message: MessageId,
    rules: &[u32],
) -> Result<(), Refusal> {
    let set = rule_set(state).await?;
    let cause = format!("message:{}", message.0);
    for rule in set.rules.iter().filter(|rule| rules.contains(&rule.id)) {
        let actions: Vec<&Action> = rule.actions.iter().filter(|action| !action.is_triage()).collect();
        perform(state, conversation, rule, &actions, &cause).await?;
    }
    Ok(())
}

/// `trigger` (a resolve, a missed target) happened at `at`: the rules that fire do what they say.
pub async fn on_event(state: &AppState, id: ConversationId, trigger: Trigger, at: i64) -> Result<(), Refusal> {
    let set = rule_set(state).await?;
    let Some(conversation) = state.store.conversation(id).await? else { return Ok(()) };
    // What happened must still hold: a customer may have reopened the conversation before its
    // resolve's rules ran (no thanks for a conversation that goes on), or it was resolved since
    // its target was missed.
    let resolved = conversation.status == ConversationStatus::Resolved;
    let holds = match trigger {
        Trigger::ConversationResolved => resolved,
        Trigger::SlaBreached => !resolved,
        _ => true,
    };
    if !holds {
        return Ok(());
    }
    fire(state, &set, &conversation, trigger, &format!("{}:{at}", trigger.name())).await
}

/// The time rules' look at a conversation pending since `since`: each wait passed that was not
/// looked at in this spell fires its rules (in order, shortest first), then the next look is
/// scheduled. Nothing if the spell ended (a reply, a resolve, a snooze) or another began.
pub async fn pending(state: &AppState, id: ConversationId, since: i64) -> Result<(), Refusal> {
    let set = rule_set(state).await?;
    let waits = set.pending_hours();
    let Some(spell) = state.store.pending_spell(id).await? else { return Ok(()) };
    if spell.since != since {
        return Ok(());
    }
    let elapsed = state.now().saturating_sub(since);
    for hours in waits.iter().copied().filter(|hours| *hours > spell.hours_done) {
        if i64::from(hours) * HOUR_MS > elapsed {
            // Not yet: the next look, when this wait is over.
            let at = since.saturating_add(i64::from(hours) * HOUR_MS);
            state.store.schedule_pending_look(id, since, at, state.now()).await?;
            return Ok(());
        }
        // Taken first: of two nodes (or a job done again) one fires it. A rule of a shorter wait
        // may have ended the spell (resolved, snoozed): then nothing is taken.
        if !state.store.take_pending_wait(id, since, hours).await? {
            continue;
        }
        let Some(conversation) = state.store.conversation(id).await? else { return Ok(()) };
        let trigger = Trigger::PendingFor { hours };
        fire(state, &set, &conversation, trigger, &format!("pending:{since}:{hours}")).await?;
    }
    Ok(())
}

/// The rules of `set` that fire for `trigger` on `conversation` do all their actions; each
/// firing is counted.
async fn fire(
    state: &AppState,
    set: &RuleSet,
    conversation: &Conversation,
    trigger: Trigger,
    cause: &str,
) -> Result<(), Refusal> {
    let returning = state.store.returning_customer(conversation.id).await?;
    let facts = Facts {
        trigger,
        text: "",
        choice: None,
        labels: &conversation.labels,
        returning,
        has_team: conversation.team.is_some(),
    };
    let Some(decision) = set.decide(&facts) else { return Ok(()) };
    let fired: Vec<&Rule> = decision.fired.iter().filter_map(|(index, _)| set.rules.get(*index)).collect();
    state.store.count_rule_fires(&fired.iter().map(|rule| rule.id).collect::<Vec<_>>(), state.now()).await?;
    for rule in fired {
        tracing::info!(conversation = %conversation.id, rule = %rule.name, trigger = trigger.name(), "automation rule fired");
        let actions: Vec<&Action> = rule.actions.iter().collect();
        perform(state, conversation.id, rule, &actions, cause).await?;
    }
    Ok(())
}

/// Does `actions` of `rule` as Baton. `cause` keys the canned reply, so a job done again sends
/// it once.
async fn perform(
    state: &AppState,
    id: ConversationId,
    rule: &Rule,
    actions: &[&Action],
    cause: &str,
) -> Result<(), Refusal> {
    let actor = Actor::automation();
    for action in actions {
        let done = match action {
            Action::SetTeam { team } => {
                let triage = Triage { team: Some(Some(*team)), priority: None };
                assignment::triage(state, &actor, id, triage).await.map(drop)
            }
            Action::SetPriority { priority } => {
                let triage = Triage { team: None, priority: Some(*priority) };
                assignment::triage(state, &actor, id, triage).await.map(drop)
            }
            Action::AddLabels { labels } => assignment::edit_labels(state, &actor, id, labels, &[]).await.map(drop),
            Action::RemoveLabels { labels } => assignment::edit_labels(state, &actor, id, &[], labels).await.map(drop),
            Action::AssignTo { user } => assignment::assign(state, &actor, id, Some(*user), None).await.map(drop),
            Action::SendCanned { canned } => send_canned(state, &actor, id, rule, *canned, cause).await,
            Action::AddNote { text } => notes::add(state, &actor, id, text).await.map(drop),
            Action::Snooze { hours } => {
                let until = state.now().saturating_add(i64::from(*hours) * HOUR_MS);
                assignment::snooze(state, &actor, id, until).await.map(drop)
            }
            Action::Resolve => assignment::set_status(state, &actor, id, ConversationStatus::Resolved).await.map(drop),
        };
        match done {
            Ok(()) => {}
            // The store failed: the job is retried.
            Err(refusal) if refusal.code == ErrorCode::Internal => return Err(refusal),
            Err(refusal) => {
                tracing::info!(conversation = %id, rule = %rule.name, ?action, %refusal, "a rule's action was not done");
            }
        }
    }
    Ok(())
}

/// A rule's canned reply, under the automated messages' guards.
async fn send_canned(
    state: &AppState,
    actor: &Actor,
    id: ConversationId,
    rule: &Rule,
    canned: i64,
    cause: &str,
) -> Result<(), Refusal> {
    let responses = state.store.canned_responses().await?;
    let Some(response) = responses.into_iter().find(|response| response.id == canned) else {
        return Err(Refusal::invalid("The rule's canned response was deleted."));
    };
    let Some(conversation) = state.store.conversation(id).await? else { return Ok(()) };
    let reply = AutomatedReply {
        conversation: id,
        automated: baton_shared::automation::Automated::Rule,
        body: replies::filled(state, &conversation, &response.body).await?,
        idempotency_key: format!("rule:{}:{id}:{cause}", rule.id),
        hourly_cap: replies::hourly_cap(state).await?,
        not_within: None,
        not_since: None,
        content: None,
    };
    match automated::send(state, actor, &reply).await? {
        AutomatedOutcome::Sent { .. } | AutomatedOutcome::Duplicate => Ok(()),
        skipped => {
            tracing::info!(conversation = %id, rule = %rule.name, ?skipped, "a rule's canned reply was not sent");
            Ok(())
        }
    }
}
