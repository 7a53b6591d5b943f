//! The menu bot's wire types and its one rule: what a customer's answer to the menu means
//! ([`Menu::interpret`]). The server sends the menu, keeps the bot's turn and hands over; this
//! module only says what WhatsApp allows in a menu ([`Menu::problem`]) and what an answer is.

use serde::{Deserialize, Serialize};

use crate::TeamId;
use crate::model::Priority;
use crate::routing_rules::fold;

/// The choice id of "talk to a person" (no option may use it).
pub const PERSON_CHOICE: &str = "baton.person";
/// The most reply buttons WhatsApp puts on one message; more choices go in a list.
pub const MAX_BUTTONS: usize = 3;
/// The most rows WhatsApp puts in one list.
pub const MAX_ROWS: usize = 10;
/// A reply button's title, at most (characters).
pub const BUTTON_TITLE_CHARS: usize = 20;
/// A list row's title and description, at most (characters).
pub const ROW_TITLE_CHARS: usize = 24;
pub const ROW_DESCRIPTION_CHARS: usize = 72;
/// How often the menu is asked again after an answer that is no choice; the next such answer
/// hands the conversation to the default team.
pub const MAX_REASKS: u32 = 2;

/// One choice of the menu, leading to a team (with an optional priority and label).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuOption {
    /// What WhatsApp sends back when it is tapped (`billing`); routing rules may name it
    /// (`choice_is`).
    pub id: String,
    pub title: String,
    /// Shown under the title in a list.
    #[serde(default)]
    pub description: Option<String>,
    /// Typed words that count as this choice (its title always does).
    #[serde(default)]
    pub keywords: Vec<String>,
    pub team: TeamId,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub label: Option<String>,
}

/// The menu a new conversation gets, as admins edit it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Menu {
    pub enabled: bool,
    /// The message's text ("How can we help?").
    pub prompt: String,
    /// The button that opens a list (more than three choices).
    pub list_button: String,
    pub options: Vec<MenuOption>,
    /// The title of the "talk to a person" choice; none when absent.
    #[serde(default)]
    pub person: Option<String>,
    /// Words that hand over to a person at once, whatever else is written.
    pub handoff_words: Vec<String>,
    /// Sent before the menu is asked again.
    pub retry: String,
}

impl Default for Menu {
    fn default() -> Self {
        Menu {
            enabled: false,
            prompt: "Hello! How can we help you today? Choose one:".into(),
            list_button: "Choose".into(),
            options: Vec::new(),
            person: Some("Talk to a person".into()),
            handoff_words: vec!["agent".into(), "human".into(), "person".into()],
            retry: "Sorry, I did not understand. Please choose one of these:".into(),
        }
    }
}

/// One choice as WhatsApp shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// What a customer's answer means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Option `index` of [`Menu::options`].
    Chose(usize),
    /// They asked for a person.
    Person,
    /// Neither: ask again (or, after [`MAX_REASKS`], hand over).
    Unclear,
}

impl Menu {
    /// Every choice as WhatsApp shows it, "talk to a person" last.
    pub fn choices(&self) -> Vec<Choice> {
        let mut choices: Vec<Choice> = self
            .options
            .iter()
            .map(|option| Choice {
                id: option.id.clone(),
                title: option.title.clone(),
                description: option.description.clone(),
            })
            .collect();
        if let Some(person) = &self.person {
            choices.push(Choice { id: PERSON_CHOICE.into(), title: person.clone(), description: None });
        }
        choices
    }

    /// Whether the menu goes as reply buttons (else as a list).
    pub fn as_buttons(&self) -> bool {
        self.choices().len() <= MAX_BUTTONS
    }

    /// What a customer's answer means: a tapped choice by its id; typed text by a handoff word
    /// (a whole word), then by an option's title or keywords (anywhere in the text), compared
    /// case- and accent-insensitively ([`fold`]).
    pub fn interpret(&self, choice: Option<&str>, text: &str) -> Answer {
        if let Some(choice) = choice {
            if choice == PERSON_CHOICE {
                return Answer::Person;
            }
            if let Some(index) = self.options.iter().position(|option| option.id == choice) {
                return Answer::Chose(index);
            }
        }
        let typed = fold(text);
        let words: Vec<&str> = typed.split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty()).collect();
        if self
            .handoff_words
            .iter()
            .map(|word| fold(word))
            .any(|word| !word.is_empty() && words.contains(&word.as_str()))
        {
            return Answer::Person;
        }
        if self.person.as_deref().is_some_and(|person| !person.trim().is_empty() && typed == fold(person)) {
            return Answer::Person;
        }
        let matches = |option: &MenuOption| {
            std::iter::once(&option.title)
                .chain(&option.keywords)
                .map(|word| fold(word))
                .any(|word| !word.is_empty() && typed.contains(word.as_str()))
        };
        match self.options.iter().position(matches) {
            Some(index) => Answer::Chose(index),
            None => Answer::Unclear,
        }
    }

    /// What is wrong with this menu for WhatsApp, in a sentence, if anything.
    pub fn problem(&self) -> Option<String> {
        if !self.enabled && self.options.is_empty() {
            return None;
        }
        if self.prompt.trim().is_empty() || self.prompt.chars().count() > 1024 {
            return Some("The prompt must have 1 to 1,024 characters.".into());
        }
        if !(2..=MAX_ROWS).contains(&self.options.len()) {
            return Some(format!("A menu has 2 to {MAX_ROWS} options."));
        }
        let choices = self.choices();
        if choices.len() > MAX_ROWS {
            return Some(format!("With \"talk to a person\", a menu has at most {} options.", MAX_ROWS - 1));
        }
        let (title_limit, kind) =
            if self.as_buttons() { (BUTTON_TITLE_CHARS, "button") } else { (ROW_TITLE_CHARS, "list row") };
        for choice in &choices {
            let length = choice.title.trim().chars().count();
            if length == 0 || length > title_limit {
                return Some(format!("\"{}\": a {kind} title has 1 to {title_limit} characters.", choice.title));
            }
            if choice.description.as_ref().is_some_and(|text| text.chars().count() > ROW_DESCRIPTION_CHARS) {
                return Some(format!(
                    "\"{}\": a description has at most {ROW_DESCRIPTION_CHARS} characters.",
                    choice.title
                ));
            }
        }
        for (index, option) in self.options.iter().enumerate() {
            let id = option.id.trim();
            if id.is_empty() || id.len() > 200 || id == PERSON_CHOICE {
                return Some(format!("\"{}\" needs an id of 1 to 200 characters.", option.title));
            }
            if self.options[..index].iter().any(|other| other.id.trim() == id) {
                return Some(format!("Two options have the id \"{id}\"."));
            }
        }
        if !self.as_buttons()
            && (self.list_button.trim().is_empty() || self.list_button.chars().count() > BUTTON_TITLE_CHARS)
        {
            return Some(format!("The list's button has 1 to {BUTTON_TITLE_CHARS} characters."));
        }
        if self.retry.trim().is_empty() {
            return Some("The text that asks again is empty.".into());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn option(id: &str, title: &str, keywords: &[&str]) -> MenuOption {
        MenuOption {
            id: id.into(),
            title: title.into(),
            description: None,
            keywords: keywords.iter().map(|word| (*word).to_owned()).collect(),
            team: TeamId(1),
            priority: None,
            label: None,
        }
    }

    fn menu(options: Vec<MenuOption>) -> Menu {
        Menu { enabled: true, options, ..Menu::default() }
    }

    #[test]
    fn answers_mean_a_choice_a_person_or_nothing() {
        let menu = menu(vec![option("billing", "Billing", &["invoice", "fatura"]), option("sales", "Sales", &["buy"])]);
        assert_eq!(menu.interpret(Some("sales"), "Sales"), Answer::Chose(1), "a tap, by id");
        assert_eq!(menu.interpret(Some(PERSON_CHOICE), "Talk to a person"), Answer::Person);
        assert_eq!(menu.interpret(None, "my FATURA is wrong"), Answer::Chose(0), "a keyword, folded");
        assert_eq!(menu.interpret(None, "billing please"), Answer::Chose(0), "the title");
        assert_eq!(menu.interpret(None, "I want a human now"), Answer::Person, "a handoff word");
        assert_eq!(menu.interpret(None, "HUMAN"), Answer::Person);
        assert_eq!(menu.interpret(None, "humanity"), Answer::Unclear, "whole words only");
        assert_eq!(menu.interpret(None, "what?"), Answer::Unclear);
        assert_eq!(menu.interpret(Some("gone"), "gone"), Answer::Unclear, "an id no option has");
    }

    #[test]
    fn up_to_three_choices_are_buttons_and_whatsapps_limits_hold() {
        let two = menu(vec![option("a", "A", &[]), option("b", "B", &[])]);
        assert!(two.as_buttons(), "two options and the person: three buttons");
        assert_eq!(two.problem(), None);
        let three = menu(vec![option("a", "A", &[]), option("b", "B", &[]), option("c", "C", &[])]);
        assert!(!three.as_buttons(), "four choices: a list");
        assert_eq!(three.problem(), None);
        let long = menu(vec![option("a", "A title that is far too long", &[]), option("b", "B", &[])]);
        assert!(long.problem().is_some_and(|problem| problem.contains("button title")));
        assert!(menu(vec![option("a", "A", &[])]).problem().is_some(), "one option");
        let twins = menu(vec![option("a", "A", &[]), option("a", "B", &[])]);
        assert!(twins.problem().is_some_and(|problem| problem.contains("Two options")));
        let reserved = menu(vec![option(PERSON_CHOICE, "A", &[]), option("b", "B", &[])]);
        assert!(reserved.problem().is_some());
        let ten: Vec<_> = (0..10).map(|n| option(&format!("o{n}"), &format!("Option {n}"), &[])).collect();
        assert!(menu(ten).problem().is_some_and(|problem| problem.contains("at most 9")));
    }
}
