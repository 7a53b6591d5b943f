//! Service-level targets and clocks: how long a team has to answer a customer (first response,
//! next response) and to resolve a conversation, counted in the team's business hours; and what a
//! conversation shows of it (its most urgent running clock: [`SlaDue`]). The server runs the
//! clocks (`server/src/automation/sla.rs`); a breach is an event, once.

use serde::{Deserialize, Serialize};

use crate::TeamId;

/// Which target a clock measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaKind {
    /// From the customer's first message (of the conversation, or of a reopening) to the first
    /// reply by a person.
    FirstResponse,
    /// From a customer message that follows a person's reply to the next reply by a person.
    NextResponse,
    /// From open (or reopen) to resolve.
    Resolution,
}

impl SlaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaKind::FirstResponse => "first_response",
            SlaKind::NextResponse => "next_response",
            SlaKind::Resolution => "resolution",
        }
    }

    pub fn parse(text: &str) -> Option<SlaKind> {
        [SlaKind::FirstResponse, SlaKind::NextResponse, SlaKind::Resolution]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// The clock's slot: a conversation runs at most one response clock and one resolution clock.
    pub fn slot(self) -> &'static str {
        match self {
            SlaKind::FirstResponse | SlaKind::NextResponse => "response",
            SlaKind::Resolution => "resolution",
        }
    }
}

/// A conversation's most urgent running clock: what is due, by when, and whether it was missed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SlaDue {
    pub kind: SlaKind,
    /// Unix ms.
    pub due_at: i64,
    /// Missed: the deadline passed with it still running.
    #[serde(default)]
    pub breached: bool,
}

/// A team's targets, in minutes of business hours; `None`: no target.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTargets {
    #[serde(default)]
    pub first_response_minutes: Option<u32>,
    #[serde(default)]
    pub next_response_minutes: Option<u32>,
    #[serde(default)]
    pub resolution_minutes: Option<u32>,
    /// Resolve by itself after this many hours without a customer message (off: `None`),
    /// sending `closing_message` first if set — which WhatsApp lets through only within 24 hours
    /// of the customer's last message (past that, the conversation is resolved without it).
    #[serde(default)]
    pub auto_resolve_hours: Option<u32>,
    #[serde(default)]
    pub closing_message: Option<String>,
}

impl SlaTargets {
    /// The target for `kind`, in minutes.
    pub fn minutes(&self, kind: SlaKind) -> Option<u32> {
        match kind {
            SlaKind::FirstResponse => self.first_response_minutes,
            SlaKind::NextResponse => self.next_response_minutes,
            SlaKind::Resolution => self.resolution_minutes,
        }
    }

    /// What is wrong with these targets, in a sentence, if anything.
    pub fn problem(&self) -> Option<String> {
        let year = 366 * 24 * 60;
        for (name, minutes) in [
            ("first response", self.first_response_minutes),
            ("next response", self.next_response_minutes),
            ("resolution", self.resolution_minutes),
        ] {
            if minutes.is_some_and(|minutes| minutes == 0 || minutes > year) {
                return Some(format!("The {name} target must be 1 minute to a year."));
            }
        }
        if self.auto_resolve_hours.is_some_and(|hours| hours == 0 || hours > 365 * 24) {
            return Some("Auto-resolve waits 1 hour to 365 days.".into());
        }
        if self.closing_message.as_ref().is_some_and(|text| text.chars().count() > 1024) {
            return Some("The closing message may have at most 1024 characters.".into());
        }
        None
    }
}

/// A team's own targets, which replace the inbox's for its conversations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamSla {
    pub team: TeamId,
    pub targets: SlaTargets,
}

/// Every team's targets: the inbox's default and the teams' own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaSettings {
    #[serde(default)]
    pub inbox: SlaTargets,
    #[serde(default)]
    pub teams: Vec<TeamSla>,
}

impl SlaSettings {
    /// The targets conversations of `team` follow.
    pub fn for_team(&self, team: Option<TeamId>) -> SlaTargets {
        team.and_then(|team| self.teams.iter().find(|own| own.team == team).map(|own| own.targets.clone()))
            .unwrap_or_else(|| self.inbox.clone())
    }
}
