//! The menu bot: a new conversation gets the menu (reply buttons for up to three choices, a list
//! for more), and the bot holds the conversation ("Bot" is its holder) until the customer chooses.
//! A tap, or typed words that match an option, routes the conversation there — through the
//! routing rules first, which may name the choice (`choice_is`), else to the option's own team,
//! priority and label. "agent", "human", "person" (the menu's hand-off words) hand over at once;
//! anything else asks again, at most [`MAX_REASKS`] times, then hands over to the default team.
//!
//! At handoff an internal note sums up the bot's part (the choice, the customer's words) and the
//! conversation starts waiting in its team's queue, where the team's model assigns it. Any
//! teammate who may see the conversation takes it over from the bot with one click (a claim: the
//! store ends the bot's turn in that transaction), and the bot stops.

use baton_shared::automation::{AutoReplies, Automated};
use baton_shared::menu::{Answer, MAX_REASKS, Menu, MenuOption};
use baton_shared::model::{Conversation, Message, MessageContent};
use baton_shared::routing_rules::{Action, Facts, Trigger};

use crate::conversations::{Actor, Refusal, automated};
use crate::state::AppState;
use crate::store::automation::{AutomatedReply, Handoff};

/// What the bot did with a customer message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Turn {
    /// Nothing: the bot is not in this conversation.
    NotMine,
    /// It sent the menu, or asked again: nothing else answers this message.
    Asked,
    /// It handed the conversation to people: the other auto-replies may follow.
    HandedOff,
}

/// The bot's part in customer message `message`: starting its turn on a new conversation, or
/// reading an answer in its turn.
pub async fn turn(
    state: &AppState,
    menu: &Menu,
    replies: &AutoReplies,
    conversation: &Conversation,
    message: &Message,
    opened: bool,
) -> Result<Turn, Refusal> {
    let actor = Actor::automation();
    let said = words_of(message);
    let Some(session) = state.store.bot_session(conversation.id).await? else {
        if !(opened && menu.enabled && menu.problem().is_none()) {
            return Ok(Turn::NotMine);
        }
        let reply = menu_message(menu, replies, conversation, &menu.prompt, format!("menu:{}", message.id));
        let started = automated::start_bot(state, &actor, &reply, message.id, &said).await?;
        return Ok(if started { Turn::Asked } else { Turn::NotMine });
    };
    // Read already (this job ran before, and died after its step), or the bot's turn ended
    // (someone took the conversation, or its claim lapsed): nothing more for the bot to do.
    if session.last_message >= message.id {
        return Ok(Turn::Asked);
    }
    if !conversation.claim.as_ref().is_some_and(|claim| claim.yields_to_people()) {
        return Ok(Turn::NotMine);
    }
    let choice = match message.content.as_deref() {
        Some(MessageContent::Choice { id, .. }) => Some(id.as_str()),
        _ => None,
    };
    // A menu switched off (or broken) mid-turn can read no answer: a person takes over.
    let answer =
        if menu.enabled && menu.problem().is_none() { menu.interpret(choice, &message.body) } else { Answer::Person };
    let handoff = match answer {
        Answer::Chose(index) => {
            let option = &menu.options[index];
            chosen(state, conversation, message, option, &message.body, said).await?
        }
        Answer::Person => {
            to_default(state, conversation, message, said, "asked for a person", "talk to a person").await?
        }
        Answer::Unclear if session.asked <= MAX_REASKS => {
            let reply = menu_message(menu, replies, conversation, &menu.retry, format!("menu-again:{}", message.id));
            // Not sent (the cap, the window): the customer is not left with a bot that is silent.
            if automated::ask_again(state, &actor, &reply, message.id, &said).await? {
                return Ok(Turn::Asked);
            }
            to_default(state, conversation, message, said, "could not be asked again", "no choice").await?
        }
        Answer::Unclear => {
            let tries = session.asked;
            let why = format!("gave no choice after {tries} menus");
            to_default(state, conversation, message, said, &why, "no choice").await?
        }
    };
    let handed = automated::hand_off(state, &actor, &handoff).await?;
    Ok(if handed { Turn::HandedOff } else { Turn::NotMine })
}

/// The menu (or its asking again, with `text`) as an automated message.
fn menu_message(
    menu: &Menu,
    replies: &AutoReplies,
    conversation: &Conversation,
    text: &str,
    idempotency_key: String,
) -> AutomatedReply {
    AutomatedReply {
        conversation: conversation.id,
        automated: Automated::Menu,
        body: text.to_owned(),
        idempotency_key,
        hourly_cap: replies.hourly_cap,
        not_within: None,
        not_since: None,
        content: Some(MessageContent::Interactive {
            list_button: (!menu.as_buttons()).then(|| menu.list_button.clone()),
            choices: menu.choices(),
        }),
    }
}

/// What the customer's message says, for the transcript: their text, or the choice they tapped.
fn words_of(message: &Message) -> String {
    match message.content.as_deref() {
        Some(MessageContent::Choice { title, .. }) => title.clone(),
        _ if message.body.trim().is_empty() => format!("({})", message.kind),
        _ => message.body.clone(),
    }
}

/// The handoff for a chosen option: where the routing rules send its choice id, if a rule names
/// it; else the option's own team, priority and label.
async fn chosen(
    state: &AppState,
    conversation: &Conversation,
    message: &Message,
    option: &MenuOption,
    text: &str,
    said: String,
) -> Result<Handoff, Refusal> {
    let rules = state.store.routing_rules().await?.set;
    let facts = Facts {
        trigger: Trigger::CustomerMessage,
        text,
        choice: Some(&option.id),
        labels: &conversation.labels,
        returning: false,
        // The option names a team: the default team is not wanted.
        has_team: true,
    };
    let mut handoff = Handoff {
        conversation: conversation.id,
        message: message.id,
        said,
        team: Some(option.team),
        priority: option.priority,
        label: option.label.clone(),
        reason: format!("Menu: {}", option.title),
        note: format!("Menu bot: the customer chose “{}”. Their words: {{transcript}}.", option.title),
    };
    if let Some(decision) = rules.decide(&facts).filter(|decision| decision.rule.is_some()) {
        for action in decision.actions {
            match action {
                Action::SetTeam { team } => handoff.team = Some(team),
                Action::SetPriority { priority } => handoff.priority = Some(priority),
                Action::AddLabels { labels } => handoff.label = labels.into_iter().next().or(handoff.label),
                // The handoff places the conversation; what a rule does beyond that (a note, a
                // canned reply) is for customer messages once people have it.
                _ => {}
            }
        }
        if let Some((_, name)) = decision.rule {
            handoff.reason = format!("Menu: {} (rule “{name}”)", option.title);
        }
    }
    Ok(handoff)
}

/// The handoff to the default team (the routing rules'), for `why`.
async fn to_default(
    state: &AppState,
    conversation: &Conversation,
    message: &Message,
    said: String,
    why: &str,
    reason: &str,
) -> Result<Handoff, Refusal> {
    let rules = state.store.routing_rules().await?.set;
    Ok(Handoff {
        conversation: conversation.id,
        message: message.id,
        said,
        team: rules.default_team.or(conversation.team),
        priority: None,
        label: None,
        reason: format!("Menu: {reason}"),
        note: format!("Menu bot: the customer {why}. Their words: {{transcript}}."),
    })
}
