//! Customer satisfaction: the rating request Baton sends on resolve (reply buttons for three
//! levels, a list for five), and the answer, kept with the resolution it rates — whoever holds the
//! conversation when it arrives.

use serde::{Deserialize, Serialize};

use crate::menu::Choice;

/// The choice ids of the answers start with this (then the score).
pub const CSAT_CHOICE: &str = "baton.csat.";

/// How many levels the rating has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Good, OK, Bad (reply buttons).
    #[default]
    Three,
    /// 5 (best) to 1 (a list).
    Five,
}

impl Scale {
    pub fn levels(self) -> u8 {
        match self {
            Scale::Three => 3,
            Scale::Five => 5,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scale::Three => "three",
            Scale::Five => "five",
        }
    }

    pub fn parse(text: &str) -> Option<Scale> {
        [Scale::Three, Scale::Five].into_iter().find(|scale| scale.as_str() == text)
    }

    /// Whether `score` (1 = worst) is a positive answer: the top third of the scale.
    pub fn positive(self, score: u8) -> bool {
        match self {
            Scale::Three => score == 3,
            Scale::Five => score >= 4,
        }
    }
}

/// Whether and how the rating request goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsatSettings {
    pub enabled: bool,
    pub scale: Scale,
    /// The question ("How did we do?").
    pub question: String,
    /// The answers' titles, best first (as many as the scale has levels).
    pub labels: Vec<String>,
    /// The list's button (five levels).
    pub list_button: String,
}

impl Default for CsatSettings {
    fn default() -> Self {
        CsatSettings {
            enabled: false,
            scale: Scale::Three,
            question: "Thanks for talking to us! How did we do?".into(),
            labels: vec!["Good".into(), "OK".into(), "Bad".into()],
            list_button: "Rate us".into(),
        }
    }
}

impl CsatSettings {
    /// The answers as WhatsApp shows them, best first: id `baton.csat.<score>`.
    pub fn choices(&self) -> Vec<Choice> {
        let levels = self.scale.levels();
        self.labels
            .iter()
            .take(usize::from(levels))
            .enumerate()
            .map(|(index, title)| Choice {
                id: format!("{CSAT_CHOICE}{}", usize::from(levels) - index),
                title: title.clone(),
                description: None,
            })
            .collect()
    }

    /// What is wrong with these settings, in a sentence, if anything.
    pub fn problem(&self) -> Option<String> {
        if self.question.trim().is_empty() || self.question.chars().count() > 1024 {
            return Some("The question must have 1 to 1,024 characters.".into());
        }
        let levels = usize::from(self.scale.levels());
        if self.labels.len() != levels {
            return Some(format!("The rating has {levels} levels: give {levels} answers, best first."));
        }
        let limit =
            if self.scale == Scale::Three { crate::menu::BUTTON_TITLE_CHARS } else { crate::menu::ROW_TITLE_CHARS };
        if let Some(label) = self.labels.iter().find(|label| label.trim().is_empty() || label.chars().count() > limit) {
            return Some(format!("\"{label}\": an answer has 1 to {limit} characters."));
        }
        if self.scale == Scale::Five && (self.list_button.trim().is_empty() || self.list_button.chars().count() > 20) {
            return Some("The list's button has 1 to 20 characters.".into());
        }
        None
    }
}

/// The score a choice id carries (`baton.csat.4` → 4), if it is an answer.
pub fn score_of(choice: &str) -> Option<u8> {
    choice.strip_prefix(CSAT_CHOICE)?.parse().ok().filter(|score| (1..=5).contains(score))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_carry_their_scores_best_first() {
        let settings = CsatSettings::default();
        let ids: Vec<String> = settings.choices().into_iter().map(|choice| choice.id).collect();
        assert_eq!(ids, ["baton.csat.3", "baton.csat.2", "baton.csat.1"]);
        assert_eq!(score_of("baton.csat.2"), Some(2));
        assert_eq!(score_of("baton.csat.9"), None);
        assert_eq!(score_of("billing"), None);
        assert!(Scale::Three.positive(3) && !Scale::Three.positive(2));
        assert!(Scale::Five.positive(4) && !Scale::Five.positive(3));
        let five = CsatSettings { scale: Scale::Five, ..CsatSettings::default() };
        assert!(five.problem().is_some(), "three answers for five levels");
        assert_eq!(CsatSettings::default().problem(), None);
    }
}
