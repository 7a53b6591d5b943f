//! Automation's wire types: business hours, the auto-replies and what tags a message Baton sent
//! by itself. What they mean is decided by the server (`server/src/automation/`): business hours
//! need a time-zone database, which the WASM app does not carry.

use serde::{Deserialize, Serialize};

use crate::TeamId;

/// The user id events and messages of the `Automation` actor carry: a built-in account that
/// cannot log in, is never listed, assigned or counted, and shows as "Baton" (or "Bot" when it
/// holds a conversation for the menu bot).
pub const AUTOMATION_USER: crate::UserId = crate::UserId(0);

/// A day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Monday => "monday",
            Weekday::Tuesday => "tuesday",
            Weekday::Wednesday => "wednesday",
            Weekday::Thursday => "thursday",
            Weekday::Friday => "friday",
            Weekday::Saturday => "saturday",
            Weekday::Sunday => "sunday",
        }
    }
}

/// One opening interval on a weekday, in the schedule's local time: `from` (`"09:00"`) up to, not
/// including, `to` (`"17:30"`; `"24:00"` is the end of the day). A day may have several.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningInterval {
    pub day: Weekday,
    pub from: String,
    pub to: String,
}

/// When a team (or the whole inbox) is open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessHours {
    /// An IANA time zone (`Europe/Berlin`): the schedule's times are wall-clock times there,
    /// daylight saving time included.
    pub time_zone: String,
    /// The weekly schedule; a day without intervals is closed.
    #[serde(default)]
    pub weekly: Vec<OpeningInterval>,
    /// Dates (`"2026-12-25"`, local to `time_zone`) closed all day whatever the weekly schedule.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// A team's own hours, which replace the inbox's for its conversations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamHours {
    pub team: TeamId,
    pub hours: BusinessHours,
}

/// Every schedule: the inbox's default (`None`: always open) and the teams' own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoursSettings {
    #[serde(default)]
    pub inbox: Option<BusinessHours>,
    #[serde(default)]
    pub teams: Vec<TeamHours>,
}

impl HoursSettings {
    /// The schedule conversations of `team` follow (`None`: always open).
    pub fn for_team(&self, team: Option<TeamId>) -> Option<&BusinessHours> {
        team.and_then(|team| self.teams.iter().find(|own| own.team == team).map(|own| &own.hours))
            .or(self.inbox.as_ref())
    }
}

/// Whether the inbox (`team: None`) or a team is open at `at` (`GET /api/automation/hours/now`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoursNow {
    pub at: i64,
    pub scopes: Vec<OpenNow>,
}

/// One schedule's answer: open now, and when it next opens (Unix ms, and as a customer reads it);
/// a scope without hours is always open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenNow {
    pub team: Option<TeamId>,
    pub open: bool,
    pub next_opening: Option<i64>,
    pub next_opening_text: Option<String>,
}

/// One auto-reply: on or off, and its text, in which `{{customer_name}}`, `{{team}}`,
/// `{{next_opening}}` and (for the queue acknowledgement) `{{position}}` are filled in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoReply {
    pub enabled: bool,
    pub text: String,
}

/// The inbox's auto-replies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoReplies {
    /// Sent when a customer opens a new conversation.
    pub greeting: AutoReply,
    /// Sent when a customer writes outside their team's hours: at most once per conversation in
    /// [`AWAY_EVERY_MS`].
    pub away: AutoReply,
    /// Sent when a conversation waits in a queue and no agent is eligible to take it: once each
    /// time it starts waiting.
    pub queue_ack: AutoReply,
    /// At most this many automated messages go to one customer in an hour, whatever sends them
    /// (so two bots answering each other stop).
    pub hourly_cap: u32,
}

/// The away message goes at most once per conversation in this time (12 hours).
pub const AWAY_EVERY_MS: i64 = 12 * 3_600_000;

/// The most a per-customer hourly cap may be set to.
pub const MAX_HOURLY_CAP: u32 = 20;

impl Default for AutoReplies {
    fn default() -> Self {
        AutoReplies {
            greeting: AutoReply {
                enabled: false,
                text: "Hello {{customer_name}}, thanks for writing to us! Someone from {{team}} will answer here."
                    .into(),
            },
            away: AutoReply {
                enabled: false,
                text: "Hello {{customer_name}}, we are closed right now. We are back {{next_opening}} and will answer \
                       then."
                    .into(),
            },
            queue_ack: AutoReply {
                enabled: false,
                text: "Thanks {{customer_name}}, you are number {{position}} in line. An agent will be with you soon."
                    .into(),
            },
            hourly_cap: 3,
        }
    }
}

impl AutoReplies {
    /// What is wrong with these settings, in a sentence, if anything.
    pub fn problem(&self) -> Option<String> {
        for (name, reply) in
            [("greeting", &self.greeting), ("away message", &self.away), ("queue acknowledgement", &self.queue_ack)]
        {
            if reply.enabled && reply.text.trim().is_empty() {
                return Some(format!("The {name} is on but has no text."));
            }
            if reply.text.chars().count() > 1024 {
                return Some(format!("The {name} may have at most 1024 characters."));
            }
        }
        if self.hourly_cap == 0 || self.hourly_cap > MAX_HOURLY_CAP {
            return Some(format!("The hourly cap per customer must be between 1 and {MAX_HOURLY_CAP}."));
        }
        None
    }
}

/// A settings document as stored: its content and its version, which every saved change moves on
/// (a `PUT` based on an older version is refused with `conflict`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versioned<T> {
    #[serde(default)]
    pub version: u32,
    #[serde(flatten)]
    pub value: T,
}

/// What Baton sent by itself, tagged on the message (`Message::automation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Automated {
    Greeting,
    Away,
    QueueAck,
    /// The menu bot's menu (and its asking again).
    Menu,
    /// Sent as auto-resolve closes a quiet conversation.
    Closing,
    /// The rating request sent on resolve.
    Csat,
    /// A canned response an automation rule sent.
    Rule,
}

impl Automated {
    pub fn as_str(self) -> &'static str {
        match self {
            Automated::Greeting => "greeting",
            Automated::Away => "away",
            Automated::QueueAck => "queue_ack",
            Automated::Menu => "menu",
            Automated::Closing => "closing",
            Automated::Csat => "csat",
            Automated::Rule => "rule",
        }
    }

    pub const ALL: [Automated; 7] = [
        Automated::Greeting,
        Automated::Away,
        Automated::QueueAck,
        Automated::Menu,
        Automated::Closing,
        Automated::Csat,
        Automated::Rule,
    ];

    pub fn parse(text: &str) -> Option<Automated> {
        Automated::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// Fills `{{name}}` placeholders from `values`; an unknown placeholder is left as written.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let name = after[..end].trim();
                match values.iter().find(|(key, _)| *key == name) {
                    Some((_, value)) => out.push_str(value),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_fill_and_unknown_ones_stay() {
        let values = [("customer_name", "Ana"), ("team", "Billing")];
        assert_eq!(fill("Hi {{customer_name}}, {{ team }} here", &values), "Hi Ana, Billing here");
        assert_eq!(fill("{{unknown}} and {{team", &values), "{{unknown}} and {{team");
        assert_eq!(fill("no placeholders", &values), "no placeholders");
    }

    #[test]
    fn a_team_without_its_own_hours_follows_the_inbox() {
        let hours = |zone: &str| BusinessHours { time_zone: zone.into(), weekly: vec![], holidays: vec![] };
        let settings = HoursSettings {
            inbox: Some(hours("Europe/Berlin")),
            teams: vec![TeamHours { team: TeamId(2), hours: hours("America/Sao_Paulo") }],
        };
        assert_eq!(settings.for_team(Some(TeamId(2))).map(|h| h.time_zone.as_str()), Some("America/Sao_Paulo"));
        assert_eq!(settings.for_team(Some(TeamId(3))).map(|h| h.time_zone.as_str()), Some("Europe/Berlin"));
        assert_eq!(settings.for_team(None).map(|h| h.time_zone.as_str()), Some("Europe/Berlin"));
        assert_eq!(HoursSettings::default().for_team(None), None, "never set: always open");
    }

    #[test]
    fn auto_replies_are_checked() {
        assert_eq!(AutoReplies::default().problem(), None);
        let replies = AutoReplies { away: AutoReply { enabled: true, text: "  ".into() }, ..AutoReplies::default() };
        assert!(replies.problem().is_some_and(|problem| problem.contains("away")));
        let replies = AutoReplies { hourly_cap: 0, ..AutoReplies::default() };
        assert!(replies.problem().is_some());
    }
}
