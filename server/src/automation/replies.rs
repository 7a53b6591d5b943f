//! The auto-replies a customer message calls for: the greeting on a new conversation, the away
//! message outside the team's hours (at most once per conversation in 12 hours, saying when the
//! team is back), and the queue acknowledgement when the conversation waits and no agent is
//! eligible to take it ("You are number 3 in line", once per wait).
//!
//! Which ones apply is [`called_for`], a pure function; [`answer`] reads what it needs and sends
//! through [`crate::conversations::automated`], whose guards (the claim, the window, the hourly
//! cap per customer) hold whatever this module decides. Loop safety: only customer messages a
//! person wrote schedule a job (never a reaction, a status or a system notice), and Baton's own
//! messages are never answered; two bots answering each other stop at the cap.

use baton_shared::automation::{AWAY_EVERY_MS, AutoReplies, Automated, HoursSettings, fill};
use baton_shared::menu::Menu;
use baton_shared::model::{Conversation, Direction, Message};
use baton_shared::{ConversationId, MessageId};

use super::hours::Schedule;
use super::menu::Turn;
use super::settings;
use crate::conversations::{Actor, Refusal, automated};
use crate::state::AppState;
use crate::store::StoreResult;
use crate::store::automation::{AutomatedOutcome, AutomatedReply};

/// The auto-replies for a customer message, in the order they go, before the queue is looked at:
/// the greeting when it opened the conversation and the team is open (outside hours the away
/// message says all there is to say), the away message when closed.
pub fn called_for(replies: &AutoReplies, opened: bool, open_now: bool) -> Vec<Automated> {
    let mut called = Vec::new();
    if opened && replies.greeting.enabled && (open_now || !replies.away.enabled) {
        called.push(Automated::Greeting);
    }
    if !open_now && replies.away.enabled {
        called.push(Automated::Away);
    }
    called
}

/// What the placeholders of one conversation's auto-replies read.
struct Values {
    customer_name: String,
    team: String,
    next_opening: String,
}

/// Answers customer message `message` of `conversation` with the auto-replies it calls for (a
/// refusal here is a failure to retry: the automated send refuses no guard, it skips). Returns
/// the message, and the conversation as it stands after (moved, if the menu bot handed it over),
/// for what the message starts next — `None` if it is no customer message of this conversation.
/// Idempotent: each reply is keyed by the message, so a job done twice sends once.
pub async fn answer(
    state: &AppState,
    conversation: ConversationId,
    message: MessageId,
    opened: bool,
) -> Result<Option<(Message, Conversation)>, Refusal> {
    let replies: AutoReplies = settings::load(state.store.as_ref(), settings::AUTO_REPLIES).await?.value;
    let menu: Menu = settings::load(state.store.as_ref(), settings::MENU).await?.value;
    let Some(found) = state.store.message(message).await? else { return Ok(None) };
    if found.direction != Direction::Inbound || found.conversation_id != conversation {
        return Ok(None);
    }
    let Some(current) = state.store.conversation(conversation).await? else { return Ok(None) };
    // The menu bot first: while it asks, nothing else answers; once it handed the conversation
    // over, the away message and the queue acknowledgement may follow (not the greeting).
    let (current, opened) = match super::menu::turn(state, &menu, &replies, &current, &found, opened).await? {
        Turn::Asked => return Ok(Some((found, current))),
        Turn::NotMine => (current, opened),
        Turn::HandedOff => match state.store.conversation(conversation).await? {
            Some(moved) => (moved, false),
            None => return Ok(None),
        },
    };
    if !(replies.greeting.enabled || replies.away.enabled || replies.queue_ack.enabled) {
        return Ok(Some((found, current)));
    }
    let hours: HoursSettings = settings::load(state.store.as_ref(), settings::HOURS).await?.value;
    let schedule = schedule_for(&hours, &current);
    let now = state.now();
    let open_now = schedule.as_ref().is_none_or(|schedule| schedule.is_open(now));
    let values = values(state, &current, schedule.as_ref(), now).await?;
    let actor = Actor::automation();
    for automated in called_for(&replies, opened, open_now) {
        let (text, not_within) = match automated {
            Automated::Greeting => (&replies.greeting.text, None),
            Automated::Away => (&replies.away.text, Some(AWAY_EVERY_MS)),
            Automated::QueueAck | Automated::Menu | Automated::Closing | Automated::Csat | Automated::Rule => continue,
        };
        let reply = AutomatedReply {
            conversation,
            automated,
            body: fill(text, &values.as_pairs(None)),
            idempotency_key: format!("{}:{}", automated.as_str(), message.0),
            hourly_cap: replies.hourly_cap,
            not_within,
            not_since: None,
            content: None,
        };
        send(state, &actor, &reply).await?;
    }
    if open_now && replies.queue_ack.enabled {
        acknowledge_wait(state, &actor, &replies, &current, message, &values).await?;
    }
    Ok(Some((found, current)))
}

/// The queue acknowledgement, if the conversation waits and none of those who could take it is
/// available: once per wait (not again since it began waiting).
async fn acknowledge_wait(
    state: &AppState,
    actor: &Actor,
    replies: &AutoReplies,
    conversation: &Conversation,
    message: MessageId,
    values: &Values,
) -> Result<(), Refusal> {
    let now = state.now();
    let Some(standing) = state.store.queue_standing(conversation.id, now).await? else { return Ok(()) };
    if standing.candidates.iter().any(|user| state.hub.is_available(*user)) {
        return Ok(());
    }
    let position = standing.position.to_string();
    let reply = AutomatedReply {
        conversation: conversation.id,
        automated: Automated::QueueAck,
        body: fill(&replies.queue_ack.text, &values.as_pairs(Some(&position))),
        idempotency_key: format!("{}:{}", Automated::QueueAck.as_str(), message.0),
        hourly_cap: replies.hourly_cap,
        not_within: None,
        not_since: Some(standing.queued_at),
        content: None,
    };
    send(state, actor, &reply).await
}

async fn send(state: &AppState, actor: &Actor, reply: &AutomatedReply) -> Result<(), Refusal> {
    match automated::send(state, actor, reply).await? {
        AutomatedOutcome::Sent { .. } => {
            tracing::info!(conversation = %reply.conversation, what = reply.automated.as_str(), "auto-reply sent");
        }
        skipped => {
            tracing::debug!(conversation = %reply.conversation, what = reply.automated.as_str(), ?skipped, "auto-reply not sent");
        }
    }
    Ok(())
}

/// The schedule the conversation's team follows; `None` when always open (or when the stored
/// schedule no longer parses, which is logged: better an answer than none).
fn schedule_for(hours: &HoursSettings, conversation: &Conversation) -> Option<Schedule> {
    let business_hours = hours.for_team(conversation.team)?;
    match Schedule::parse(business_hours) {
        Ok(schedule) => Some(schedule),
        Err(problem) => {
            tracing::error!(%problem, "stored business hours do not parse: treated as always open");
            None
        }
    }
}

async fn values(
    state: &AppState,
    conversation: &Conversation,
    schedule: Option<&Schedule>,
    now: i64,
) -> StoreResult<Values> {
    let team = match conversation.team {
        Some(team) => state.store.team(team).await?.map(|team| team.name),
        None => None,
    };
    let next_opening = schedule
        .and_then(|schedule| schedule.next_opening(now).map(|at| schedule.describe(at, now)))
        .unwrap_or_else(|| "soon".to_owned());
    let name = conversation.contact.profile_name.trim();
    Ok(Values {
        customer_name: if name.is_empty() { "there".to_owned() } else { name.to_owned() },
        team: team.unwrap_or_else(|| "our team".to_owned()),
        next_opening,
    })
}

impl Values {
    fn as_pairs<'a>(&'a self, position: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
        let mut pairs = vec![
            ("customer_name", self.customer_name.as_str()),
            ("team", self.team.as_str()),
            ("next_opening", self.next_opening.as_str()),
        ];
        if let Some(position) = position {
            pairs.push(("position", position));
        }
        pairs
    }
}

/// `text` with `{{customer_name}}`, `{{team}}` and `{{next_opening}}` filled in for
/// `conversation` (a canned reply sent by a rule).
pub async fn filled(state: &AppState, conversation: &Conversation, text: &str) -> Result<String, Refusal> {
    let hours: HoursSettings = settings::load(state.store.as_ref(), settings::HOURS).await?.value;
    let schedule = schedule_for(&hours, conversation);
    let values = values(state, conversation, schedule.as_ref(), state.now()).await?;
    Ok(fill(text, &values.as_pairs(None)))
}

/// The hourly cap per customer, as set (for automated messages sent outside the auto-replies).
pub async fn hourly_cap(state: &AppState) -> Result<u32, Refusal> {
    let replies: AutoReplies = settings::load(state.store.as_ref(), settings::AUTO_REPLIES).await?.value;
    Ok(replies.hourly_cap)
}

#[cfg(test)]
mod tests {
    use baton_shared::automation::AutoReply;

    use super::*;

    fn replies(greeting: bool, away: bool) -> AutoReplies {
        AutoReplies {
            greeting: AutoReply { enabled: greeting, text: "hi".into() },
            away: AutoReply { enabled: away, text: "away".into() },
            ..AutoReplies::default()
        }
    }

    #[test]
    fn the_greeting_opens_and_the_away_message_speaks_for_closed_hours() {
        assert_eq!(called_for(&replies(true, true), true, true), vec![Automated::Greeting]);
        assert_eq!(called_for(&replies(true, true), true, false), vec![Automated::Away], "not both when closed");
        assert_eq!(called_for(&replies(true, false), true, false), vec![Automated::Greeting]);
        assert_eq!(called_for(&replies(true, true), false, true), vec![], "only a new conversation is greeted");
        assert_eq!(called_for(&replies(false, true), false, false), vec![Automated::Away]);
        assert_eq!(called_for(&replies(false, false), true, false), vec![]);
    }
}
