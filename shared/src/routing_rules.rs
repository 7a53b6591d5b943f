//! Rules: an ordered list, kept by admins — trigger → conditions → actions. One engine serves
//! routing and automation:
//!
//! - **Routing** (a new conversation, a customer message in a conversation nobody holds): the
//!   rules place the conversation as its message is stored; with no rule placing it, the default
//!   team.
//! - **Automation** (a resolve, a missed service-level target, a conversation pending for N
//!   hours): the rules act as Baton's automation actor afterwards — a canned reply, a note,
//!   labels, priority, a team or agent, a snooze, a resolve.
//!
//! The first rule that fires stops the look unless it says to keep going ([`Rule::keep_going`]),
//! so a triage rule can be followed by, say, one that labels every new conversation. Evaluation
//! is pure ([`RuleSet::decide`]) so the server, the "test a message" box and the app all decide
//! the same way. Each rule has a stable [`Rule::id`], under which the server counts its firings.
//!
//! Keywords match case- and accent-insensitively in any script ([`fold`]): "cobrança" finds
//! "COBRANCA", "فاتورة" finds "فَاتُورَة". A keyword matches anywhere in the text, inside words
//! too ("bill" finds "billing"); scripts written without spaces (Chinese, Japanese, Thai) match
//! the same way, character for character.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::ids::{TeamId, UserId};
use crate::model::Priority;

/// Most rules in a set.
pub const MAX_RULES: usize = 100;
/// The highest rule id (ids are given one after another; this leaves room for a lifetime of edits).
pub const MAX_RULE_ID: u32 = 1 << 30;
/// Most conditions, actions or keywords in one rule.
pub const MAX_ITEMS: usize = 50;

/// The longest wait a time rule names: a year.
pub const MAX_PENDING_HOURS: u32 = 366 * 24;

/// When a rule is looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// A customer's first message opened a conversation.
    NewConversation,
    /// A customer wrote in a conversation nobody holds yet.
    CustomerMessage,
    /// The conversation was resolved (by a person, a rule or auto-resolve).
    ConversationResolved,
    /// A service-level target was missed.
    SlaBreached,
    /// A time rule: the conversation has been pending (waiting for the customer, not snoozed)
    /// this many hours.
    PendingFor { hours: u32 },
}

impl Trigger {
    /// A short name, for logs and for keys (a time rule's hours left out).
    pub fn name(self) -> &'static str {
        match self {
            Trigger::NewConversation => "new",
            Trigger::CustomerMessage => "message",
            Trigger::ConversationResolved => "resolved",
            Trigger::SlaBreached => "sla_breached",
            Trigger::PendingFor { .. } => "pending",
        }
    }

    /// Whether the trigger is a customer message, which routing answers as it is stored (the
    /// others are automation's, done afterwards).
    pub fn is_routing(self) -> bool {
        matches!(self, Trigger::NewConversation | Trigger::CustomerMessage)
    }
}

/// How a rule's conditions combine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    #[default]
    All,
    Any,
}

/// What a rule looks at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// The message contains one of these words ([`fold`]ed: case and accents aside).
    TextContains { keywords: Vec<String> },
    /// The customer tapped one of these interactive choices (button or list row id).
    ChoiceIs { ids: Vec<String> },
    /// The conversation has this label.
    HasLabel { label: String },
    /// The customer is new (no earlier conversation) or returning.
    Customer { returning: bool },
}

/// What a matching rule does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    SetTeam {
        team: TeamId,
    },
    SetPriority {
        priority: Priority,
    },
    AddLabels {
        labels: Vec<String>,
    },
    /// Straight to this agent, whatever the team's model.
    AssignTo {
        user: UserId,
    },
    RemoveLabels {
        labels: Vec<String>,
    },
    /// Sends a canned response (its `{{customer_name}}` and `{{team}}` filled in), under the
    /// automated messages' guards: not while a person holds the claim, only in WhatsApp's
    /// 24-hour window, never past the customer's hourly cap.
    SendCanned {
        canned: i64,
    },
    /// An internal note by Baton.
    AddNote {
        text: String,
    },
    /// Pending until this many hours from now.
    Snooze {
        hours: u32,
    },
    Resolve,
}

impl Action {
    /// Whether this action places the conversation as its message is stored (in that
    /// transaction); the others are done by automation afterwards.
    pub fn is_triage(&self) -> bool {
        matches!(
            self,
            Action::SetTeam { .. }
                | Action::SetPriority { .. }
                | Action::AddLabels { .. }
                | Action::RemoveLabels { .. }
                | Action::AssignTo { .. }
        )
    }

    /// Whether this action puts the conversation in a team or with an agent.
    fn places(&self) -> bool {
        matches!(self, Action::SetTeam { .. } | Action::AssignTo { .. })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Stable across renames and moves (firings are counted under it); 0 for a rule not saved
    /// yet, which the save numbers.
    #[serde(default)]
    pub id: u32,
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    pub triggers: Vec<Trigger>,
    #[serde(default)]
    pub combine: Combine,
    pub conditions: Vec<Condition>,
    pub actions: Vec<Action>,
    /// After firing, look at the rules below too (by default the first rule that fires ends the
    /// look).
    #[serde(default)]
    pub keep_going: bool,
}

impl Rule {
    /// A rule with no id yet, enabled, that stops the look when it fires.
    pub fn new(
        name: impl Into<String>,
        triggers: Vec<Trigger>,
        conditions: Vec<Condition>,
        actions: Vec<Action>,
    ) -> Self {
        Rule {
            id: 0,
            name: name.into(),
            enabled: true,
            triggers,
            combine: Combine::All,
            conditions,
            actions,
            keep_going: false,
        }
    }
}

/// The rules in order, and the team a new conversation goes to when none matches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSet {
    #[serde(default)]
    pub default_team: Option<TeamId>,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// `GET /api/routing/rules`, and `PUT` with the `version` it was based on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRules {
    /// Goes up by one with every saved change; a `PUT` based on an older one is refused.
    #[serde(default)]
    pub version: u32,
    #[serde(flatten)]
    pub set: RuleSet,
    /// How often each rule fired (by [`Rule::id`]; a rule that never fired is absent). Ignored
    /// in a `PUT`.
    #[serde(default)]
    pub fired: Vec<RuleFired>,
}

/// How often a rule fired, and when last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFired {
    pub rule: u32,
    pub count: u64,
    /// Unix ms.
    pub last_at: i64,
}

/// What is known when a rule is looked at.
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a> {
    pub trigger: Trigger,
    /// The customer's message: its text (or caption, or the choice's title).
    pub text: &'a str,
    /// The id of the interactive choice the customer tapped, if they did.
    pub choice: Option<&'a str>,
    pub labels: &'a [String],
    pub returning: bool,
    /// Whether the conversation is in a team's queue already.
    pub has_team: bool,
}

/// What the rules decided for a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The first rule that fired (its name and place in the list, from 0); `None`: none did.
    pub rule: Option<(usize, String)>,
    /// Every rule that fired, in order (several when a rule keeps going).
    #[serde(default)]
    pub fired: Vec<(usize, String)>,
    /// What to do: the fired rules' actions in order, then the default team's if none placed a
    /// conversation that is in no team.
    pub actions: Vec<Action>,
}

/// `POST /api/routing/rules/test`: a message to try the rules on (the saved ones, or `rules`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleTest {
    pub text: String,
    #[serde(default)]
    pub choice: Option<String>,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub returning: bool,
    #[serde(default = "new_conversation")]
    pub trigger: Trigger,
    /// Rules not saved yet; the saved ones when absent.
    #[serde(default)]
    pub rules: Option<RuleSet>,
}

fn yes() -> bool {
    true
}

fn new_conversation() -> Trigger {
    Trigger::NewConversation
}

impl Condition {
    fn holds(&self, facts: &Facts<'_>, text: &str) -> bool {
        match self {
            Condition::TextContains { keywords } => keywords
                .iter()
                .map(|keyword| fold(keyword))
                .any(|keyword| !keyword.is_empty() && text.contains(keyword.as_str())),
            Condition::ChoiceIs { ids } => facts.choice.is_some_and(|choice| ids.iter().any(|id| id == choice)),
            Condition::HasLabel { label } => facts.labels.iter().any(|held| held.eq_ignore_ascii_case(label.trim())),
            Condition::Customer { returning } => facts.returning == *returning,
        }
    }
}

impl Rule {
    /// Whether this rule fires for `facts` (`text` is the message [`fold`]ed).
    fn fires(&self, facts: &Facts<'_>, text: &str) -> bool {
        if !self.enabled || !self.triggers.contains(&facts.trigger) {
            return false;
        }
        // A rule with no conditions fires whenever its trigger does, "any" or "all".
        if self.conditions.is_empty() {
            return true;
        }
        match self.combine {
            Combine::All => self.conditions.iter().all(|condition| condition.holds(facts, text)),
            Combine::Any => self.conditions.iter().any(|condition| condition.holds(facts, text)),
        }
    }
}

impl Rule {
    /// Why this rule's triggers and actions cannot be saved, if they cannot.
    fn problem(&self) -> Option<String> {
        let hours_ok = |hours: u32| (1..=MAX_PENDING_HOURS).contains(&hours);
        for trigger in &self.triggers {
            if let Trigger::PendingFor { hours } = trigger
                && !hours_ok(*hours)
            {
                return Some(format!("a time rule waits between 1 and {MAX_PENDING_HOURS} hours."));
            }
        }
        for action in &self.actions {
            match action {
                Action::AddNote { text } if text.trim().is_empty() || text.chars().count() > 4000 => {
                    return Some("a note needs text (at most 4000 characters).".into());
                }
                Action::Snooze { hours } if !hours_ok(*hours) => {
                    return Some(format!("a snooze lasts between 1 and {MAX_PENDING_HOURS} hours."));
                }
                Action::AddLabels { labels } | Action::RemoveLabels { labels }
                    if labels.is_empty() || labels.len() > MAX_ITEMS =>
                {
                    return Some("a label action needs labels.".into());
                }
                _ => {}
            }
        }
        None
    }
}

impl RuleSet {
    /// Whether the set can decide nothing, whatever the message: no rule and no default team.
    pub fn is_inert(&self) -> bool {
        self.rules.is_empty() && self.default_team.is_none()
    }

    /// The rules that fire for `facts`, in order: each adds its actions, and the look ends at the
    /// first that does not keep going. For a customer message, a conversation in no team that no
    /// fired rule placed goes to the default team. `None`: nothing to do.
    pub fn decide(&self, facts: &Facts<'_>) -> Option<Decision> {
        let text = fold(facts.text);
        let mut fired = Vec::new();
        let mut actions = Vec::new();
        for (index, rule) in self.rules.iter().enumerate() {
            if !rule.fires(facts, &text) {
                continue;
            }
            fired.push((index, rule.name.clone()));
            actions.extend(rule.actions.iter().cloned());
            if !rule.keep_going {
                break;
            }
        }
        if facts.trigger.is_routing()
            && !facts.has_team
            && !actions.iter().any(Action::places)
            && let Some(team) = self.default_team
        {
            actions.push(Action::SetTeam { team });
        }
        if fired.is_empty() && actions.is_empty() {
            return None;
        }
        Some(Decision { rule: fired.first().cloned(), fired, actions })
    }

    /// Numbers the rules saved for the first time (id 0) after the highest id in the set and
    /// `used` (the highest ever given: a deleted rule's id is not given again, nor its count).
    pub fn number(&mut self, used: u32) {
        let mut next = self.rules.iter().map(|rule| rule.id).max().unwrap_or(0).max(used);
        for rule in self.rules.iter_mut().filter(|rule| rule.id == 0) {
            next = next.saturating_add(1);
            rule.id = next;
        }
    }

    /// The hours the enabled time rules wait for, shortest first, each once.
    pub fn pending_hours(&self) -> Vec<u32> {
        let mut hours: Vec<u32> = self
            .rules
            .iter()
            .filter(|rule| rule.enabled)
            .flat_map(|rule| rule.triggers.iter())
            .filter_map(|trigger| match trigger {
                Trigger::PendingFor { hours } => Some(*hours),
                _ => None,
            })
            .collect();
        hours.sort_unstable();
        hours.dedup();
        hours
    }

    /// Whether an enabled rule has this trigger.
    pub fn listens_to(&self, trigger: Trigger) -> bool {
        self.rules.iter().any(|rule| rule.enabled && rule.triggers.contains(&trigger))
    }

    /// Why this set cannot be saved, if it cannot.
    pub fn problem(&self) -> Option<String> {
        if self.rules.len() > MAX_RULES {
            return Some(format!("At most {MAX_RULES} rules."));
        }
        let mut ids = std::collections::HashSet::new();
        for rule in &self.rules {
            let name = rule.name.trim();
            if rule.id > MAX_RULE_ID {
                return Some(format!("Rule \"{name}\" has an id out of range: reload the page and edit again."));
            }
            if rule.id != 0 && !ids.insert(rule.id) {
                return Some(format!("Two rules share the id {}: reload the page and edit again.", rule.id));
            }
            if name.is_empty() || name.chars().count() > 80 {
                return Some("Every rule needs a name of at most 80 characters.".into());
            }
            if rule.triggers.is_empty() || rule.actions.is_empty() {
                return Some(format!("Rule \"{name}\" needs a trigger and an action."));
            }
            if rule.conditions.len() > MAX_ITEMS || rule.actions.len() > MAX_ITEMS {
                return Some(format!("Rule \"{name}\" has too many conditions or actions (at most {MAX_ITEMS})."));
            }
            let empty_keywords = rule.conditions.iter().any(|condition| match condition {
                Condition::TextContains { keywords } => {
                    keywords.len() > MAX_ITEMS || keywords.iter().all(|keyword| fold(keyword).is_empty())
                }
                Condition::ChoiceIs { ids } => ids.is_empty() || ids.len() > MAX_ITEMS,
                Condition::HasLabel { label } => label.trim().is_empty(),
                Condition::Customer { .. } => false,
            });
            if empty_keywords {
                return Some(format!("Rule \"{name}\" has a condition with nothing to look for."));
            }
            if let Some(problem) = rule.problem() {
                return Some(format!("Rule \"{name}\": {problem}"));
            }
        }
        None
    }
}

/// Text as keywords are compared: lowercase, without the accents of Latin, Greek and Cyrillic
/// letters or Arabic's short vowels and tatweel, Arabic's alef forms as one, and whitespace
/// collapsed. Marks that are letters' vowels elsewhere (Devanagari's matras, the virama) stay:
/// removing them would make different Hindi words one.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    let mut base_is_diacritic_script = false;
    let mut last_space = true;
    for character in text.nfd() {
        if is_combining(character) {
            if base_is_diacritic_script || is_arabic_vowel(character) {
                continue;
            }
            folded.push(character);
            continue;
        }
        // Tatweel (a stretch, not a letter) and the zero-width joiners Persian and Indic text
        // carry or not, as the keyboard pleases.
        if matches!(character, '\u{0640}' | '\u{200C}' | '\u{200D}') {
            continue;
        }
        if character.is_whitespace() {
            if !last_space {
                folded.push(' ');
            }
            last_space = true;
            continue;
        }
        last_space = false;
        base_is_diacritic_script = u32::from(character) < 0x0530;
        let character = match character {
            // Arabic's alef forms; Persian's yeh and keheh and Arabic's alef maksura as one.
            'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
            'ی' | 'ى' => 'ي',
            'ک' => 'ك',
            // Greek's final sigma, which lowercasing one letter at a time cannot know.
            'ς' | 'Σ' => 'σ',
            other => other,
        };
        folded.extend(character.to_lowercase());
    }
    let trimmed = folded.trim_end();
    trimmed.nfc().collect()
}

/// Whether a character is a combining mark (in the blocks where accents and vowel signs live).
pub(crate) fn is_combining(character: char) -> bool {
    matches!(u32::from(character),
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05C7 | 0x0610..=0x061A | 0x064B..=0x065F | 0x0670
        | 0x06D6..=0x06ED | 0x0900..=0x0903 | 0x093A..=0x094F | 0x0951..=0x0957 | 0x0962..=0x0963
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// Arabic's short vowels and other marks over letters (harakat, shadda, sukun, superscript alef).
fn is_arabic_vowel(character: char) -> bool {
    matches!(u32::from(character), 0x0610..=0x061A | 0x064B..=0x065F | 0x0670 | 0x06D6..=0x06ED)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(text: &'a str) -> Facts<'a> {
        Facts { trigger: Trigger::NewConversation, text, choice: None, labels: &[], returning: false, has_team: false }
    }

    fn keywords_rule(name: &str, keywords: &[&str], team: i64) -> Rule {
        Rule::new(
            name,
            vec![Trigger::NewConversation, Trigger::CustomerMessage],
            vec![Condition::TextContains { keywords: keywords.iter().map(|k| (*k).to_owned()).collect() }],
            vec![Action::SetTeam { team: TeamId(team) }],
        )
    }

    fn rule_name(set: &RuleSet, text: &str) -> Option<String> {
        set.decide(&facts(text)).and_then(|decision| decision.rule.map(|(_, name)| name))
    }

    #[test]
    fn folding_drops_case_and_accents_but_keeps_what_makes_words_differ() {
        assert_eq!(fold("  Cobrança   INDEVIDA "), "cobranca indevida");
        assert_eq!(fold("ÉLÈVE Ñandú"), "eleve nandu");
        assert_eq!(fold("فَاتُورَة"), "فاتورة", "Arabic short vowels");
        assert_eq!(fold("أسعار"), "اسعار", "alef forms");
        assert_eq!(fold("فـــاتورة"), "فاتورة", "tatweel");
        assert_ne!(fold("धन"), fold("धुन"), "Devanagari vowel signs stay");
        assert_eq!(fold("Ελληνικά"), "ελληνικα");
        assert_eq!(fold("ΛΟΓΑΡΙΑΣΜΟΣ"), fold("λογαριασμός"), "final sigma");
        assert_eq!(fold("می\u{200C}خواهم"), fold("میخواهم"), "zero-width non-joiner");
        assert_eq!(fold("کتاب یک"), fold("كتاب يك"), "Persian and Arabic letter forms");
    }

    #[test]
    fn keywords_match_in_arabic_hindi_and_portuguese_with_accents() {
        let set = RuleSet {
            default_team: Some(TeamId(9)),
            rules: vec![
                keywords_rule("Billing", &["charged twice", "cobrança", "فاتورة", "रिफंड"], 1),
                keywords_rule("Sales", &["preço", "कीमत"], 2),
            ],
        };
        assert_eq!(rule_name(&set, "I was CHARGED  twice!").as_deref(), Some("Billing"));
        assert_eq!(rule_name(&set, "Recebi uma COBRANCA errada").as_deref(), Some("Billing"), "accent aside");
        assert_eq!(rule_name(&set, "أين فَاتُورَتي؟").as_deref(), None, "a different word");
        assert_eq!(rule_name(&set, "أريد الفَاتُورَة من فضلك").as_deref(), Some("Billing"), "Arabic with harakat");
        assert_eq!(rule_name(&set, "मुझे रिफंड चाहिए").as_deref(), Some("Billing"), "Hindi");
        assert_eq!(rule_name(&set, "इसकी कीमत क्या है?").as_deref(), Some("Sales"));
        assert_eq!(rule_name(&set, "Qual o PRECO?").as_deref(), Some("Sales"));
    }

    #[test]
    fn the_first_match_wins_and_the_default_team_applies_to_a_new_one_with_none() {
        let set = RuleSet {
            default_team: Some(TeamId(9)),
            rules: vec![keywords_rule("First", &["refund"], 1), keywords_rule("Second", &["refund", "price"], 2)],
        };
        let decision = set.decide(&facts("refund and price")).expect("decided");
        assert_eq!(decision.rule, Some((0, "First".into())));
        assert_eq!(decision.actions, [Action::SetTeam { team: TeamId(1) }]);
        let fallback = set.decide(&facts("hello")).expect("the default team");
        assert_eq!((fallback.rule, fallback.actions), (None, vec![Action::SetTeam { team: TeamId(9) }]));
        let placed = Facts { has_team: true, ..facts("hello") };
        assert_eq!(set.decide(&placed), None, "a conversation in a team keeps it");
        let mut disabled = set.clone();
        disabled.rules[0].enabled = false;
        assert_eq!(rule_name(&disabled, "refund"), Some("Second".into()), "a disabled rule is skipped");
    }

    #[test]
    fn choices_labels_and_returning_customers_combine_with_all_or_any() {
        let rule = Rule::new(
            "VIP billing",
            vec![Trigger::CustomerMessage],
            vec![
                Condition::ChoiceIs { ids: vec!["billing".into()] },
                Condition::HasLabel { label: "vip".into() },
                Condition::Customer { returning: true },
            ],
            vec![Action::SetPriority { priority: Priority::Urgent }],
        );
        let labels = vec!["vip".to_owned()];
        let facts = Facts {
            trigger: Trigger::CustomerMessage,
            text: "Billing",
            choice: Some("billing"),
            labels: &labels,
            returning: true,
            has_team: true,
        };
        let set = RuleSet { default_team: None, rules: vec![rule.clone()] };
        assert!(set.decide(&facts).is_some());
        assert!(set.decide(&Facts { returning: false, ..facts }).is_none(), "all: one fails");
        assert!(set.decide(&Facts { trigger: Trigger::NewConversation, ..facts }).is_none(), "another trigger");
        let any = RuleSet { default_team: None, rules: vec![Rule { combine: Combine::Any, ..rule }] };
        assert!(any.decide(&Facts { returning: false, choice: None, ..facts }).is_some(), "any: the label holds");
    }

    #[test]
    fn a_set_with_an_empty_keyword_list_or_no_action_is_refused() {
        let mut set = RuleSet { default_team: None, rules: vec![keywords_rule("Empty", &["  "], 1)] };
        assert!(set.problem().is_some());
        set.rules[0] = keywords_rule("Fine", &["refund"], 1);
        assert_eq!(set.problem(), None);
        set.rules[0].actions.clear();
        assert!(set.problem().is_some());
    }

    #[test]
    fn a_rule_that_keeps_going_lets_the_next_fire_and_the_default_team_fills_in() {
        let mut label_all = Rule::new(
            "Label new",
            vec![Trigger::NewConversation],
            Vec::new(),
            vec![Action::AddLabels { labels: vec!["new".into()] }],
        );
        label_all.keep_going = true;
        let set = RuleSet {
            default_team: Some(TeamId(9)),
            rules: vec![label_all, keywords_rule("Billing", &["refund"], 1), keywords_rule("Later", &["refund"], 2)],
        };
        let decision = set.decide(&facts("a refund please")).expect("decided");
        assert_eq!(decision.fired, [(0, "Label new".into()), (1, "Billing".into())], "the look ends at Billing");
        assert_eq!(
            decision.actions,
            [Action::AddLabels { labels: vec!["new".into()] }, Action::SetTeam { team: TeamId(1) }]
        );
        let unplaced = set.decide(&facts("hello")).expect("decided");
        assert_eq!(unplaced.rule, Some((0, "Label new".into())));
        assert_eq!(
            unplaced.actions.last(),
            Some(&Action::SetTeam { team: TeamId(9) }),
            "no fired rule placed it: the default team"
        );
    }

    #[test]
    fn automation_triggers_fire_only_their_rules_and_never_the_default_team() {
        let closing = Rule::new(
            "Thanks",
            vec![Trigger::ConversationResolved],
            vec![Condition::HasLabel { label: "vip".into() }],
            vec![Action::SendCanned { canned: 4 }],
        );
        let stale = Rule::new("Stale", vec![Trigger::PendingFor { hours: 48 }], Vec::new(), vec![Action::Resolve]);
        let nudge = Rule::new(
            "Nudge",
            vec![Trigger::PendingFor { hours: 24 }, Trigger::PendingFor { hours: 48 }],
            Vec::new(),
            vec![Action::AddNote { text: "Still waiting".into() }],
        );
        let set = RuleSet { default_team: Some(TeamId(9)), rules: vec![closing, stale, nudge] };
        let labels = vec!["VIP".to_owned()];
        let resolved = Facts { trigger: Trigger::ConversationResolved, labels: &labels, ..facts("") };
        assert_eq!(
            set.decide(&resolved).map(|decision| decision.actions),
            Some(vec![Action::SendCanned { canned: 4 }])
        );
        assert_eq!(set.decide(&Facts { labels: &[], ..resolved }), None, "no default team after a resolve");
        let day = Facts { trigger: Trigger::PendingFor { hours: 24 }, ..facts("") };
        assert_eq!(set.decide(&day).and_then(|decision| decision.rule), Some((2, "Nudge".into())));
        let two_days = Facts { trigger: Trigger::PendingFor { hours: 48 }, ..facts("") };
        assert_eq!(set.decide(&two_days).and_then(|decision| decision.rule), Some((1, "Stale".into())));
        assert_eq!(set.pending_hours(), [24, 48]);
        assert!(set.listens_to(Trigger::ConversationResolved) && !set.listens_to(Trigger::SlaBreached));
    }

    #[test]
    fn saving_numbers_new_rules_and_refuses_bad_actions() {
        let mut set = RuleSet {
            default_team: None,
            rules: vec![keywords_rule("A", &["a"], 1), keywords_rule("B", &["b"], 1), keywords_rule("C", &["c"], 1)],
        };
        set.rules[1].id = 7;
        set.number(3);
        assert_eq!(set.rules.iter().map(|rule| rule.id).collect::<Vec<_>>(), [8, 7, 9]);
        let mut again = RuleSet { default_team: None, rules: vec![keywords_rule("D", &["d"], 1)] };
        again.number(9);
        assert_eq!(again.rules[0].id, 10, "an id once given is not given again");
        assert_eq!(set.problem(), None);
        set.rules[2].id = 7;
        assert!(set.problem().is_some_and(|problem| problem.contains("share the id")));
        set.rules[2].id = 9;
        set.rules[0].actions = vec![Action::AddNote { text: "  ".into() }];
        assert!(set.problem().is_some());
        set.rules[0].actions = vec![Action::Snooze { hours: 0 }];
        assert!(set.problem().is_some());
        set.rules[0].actions = vec![Action::Resolve];
        set.rules[0].triggers = vec![Trigger::PendingFor { hours: 0 }];
        assert!(set.problem().is_some());
        set.rules[0].triggers = vec![Trigger::PendingFor { hours: 72 }];
        assert_eq!(set.problem(), None);
        let json = serde_json::to_value(&set.rules[0].triggers).expect("json");
        assert_eq!(json, serde_json::json!([{ "pending_for": { "hours": 72 } }]));
    }
}
