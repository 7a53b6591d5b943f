//! What a conversation's events mean for reports (`docs/reports.md`), as one pure fold: the
//! state kept between events ([`Track`], three columns of the conversation's row) and what each
//! event records ([`Fact`]). The store applies it in the transaction that writes the event; a
//! history replayed through it gives the same facts.

use baton_shared::automation::AUTOMATION_USER;
use baton_shared::csat::Scale;
use baton_shared::model::{Change, ConversationStatus, Direction, Message, MessageKind};
use baton_shared::{TeamId, UserId};

/// What reports remember of a conversation between its events — all of it read from the event
/// log, so a log replayed gives what was recorded as it was written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Track {
    /// Its team, assignee and labels as its events so far have set them: whom a fact belongs to.
    /// (Not the row's: within one transaction the row may be ahead of the events written yet.)
    pub team: Option<TeamId>,
    pub assignee: Option<UserId>,
    pub labels: Vec<String>,
    /// When its current opening began (created or reopened); `None` while resolved.
    pub spell_started_at: Option<i64>,
    /// Since when a customer waits for a person's reply (their first unanswered message).
    pub waiting_since: Option<i64>,
    /// Whether a person has answered a customer in this opening (the next answer is then a next
    /// response, not the first).
    pub answered_in_spell: bool,
    /// How the current opening was counted, so that a label given during it counts it too;
    /// `None` while resolved (and for openings from before this was kept).
    pub opening: Option<Opening>,
}

/// How a conversation's current opening was counted: created or reopened, for which team and
/// person, under which labels so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Opening {
    pub reopened: bool,
    pub team: Option<TeamId>,
    pub agent: Option<UserId>,
    pub labels: Vec<String>,
}

/// A counted event ([`Fact::Count`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    Created,
    Reopened,
    Resolved,
    MessagesIn,
    MessagesOut,
    /// A service-level clock met before its deadline.
    SlaMet,
    /// A service-level deadline missed.
    SlaBreached,
    /// A rating answered: `score` (1 the worst) of a three- or five-level scale.
    Csat {
        five: bool,
        score: u8,
    },
}

/// Every metric's stored name, in one place (a rating's score in its scale's own list).
const NAMES: [(&str, Metric); 7] = [
    ("created", Metric::Created),
    ("reopened", Metric::Reopened),
    ("resolved", Metric::Resolved),
    ("messages_in", Metric::MessagesIn),
    ("messages_out", Metric::MessagesOut),
    ("sla_met", Metric::SlaMet),
    ("sla_breached", Metric::SlaBreached),
];
const CSAT_THREE: [&str; 3] = ["csat3_1", "csat3_2", "csat3_3"];
const CSAT_FIVE: [&str; 5] = ["csat5_1", "csat5_2", "csat5_3", "csat5_4", "csat5_5"];

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Csat { five, score } => {
                let names: &[&'static str] = if five { &CSAT_FIVE } else { &CSAT_THREE };
                let index = usize::from(score.max(1) - 1).min(names.len() - 1);
                names[index]
            }
            metric => NAMES.iter().find(|(_, named)| *named == metric).map_or("", |(name, _)| name),
        }
    }

    pub fn parse(text: &str) -> Option<Metric> {
        let score =
            |names: &[&str]| names.iter().position(|name| *name == text).and_then(|at| u8::try_from(at + 1).ok());
        NAMES
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, metric)| *metric)
            .or_else(|| score(&CSAT_THREE).map(|score| Metric::Csat { five: false, score }))
            .or_else(|| score(&CSAT_FIVE).map(|score| Metric::Csat { five: true, score }))
    }
}

/// A measured span's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpanKind {
    FirstResponse,
    NextResponse,
    Resolution,
}

impl SpanKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::FirstResponse => "first_response",
            SpanKind::NextResponse => "next_response",
            SpanKind::Resolution => "resolution",
        }
    }

    pub fn parse(text: &str) -> Option<SpanKind> {
        [SpanKind::FirstResponse, SpanKind::NextResponse, SpanKind::Resolution]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// Who a fact belongs to, besides the conversation's team and labels of the moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// The conversation's assignee at the moment (none if unassigned).
    Assignee,
    /// This person (who replied, who wrote).
    Person(UserId),
    /// Nobody (an automated message).
    Nobody,
}

/// What an event records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fact {
    Count {
        metric: Metric,
        at: i64,
        owner: Owner,
    },
    Span {
        kind: SpanKind,
        started_at: i64,
        ended_at: i64,
        owner: Owner,
    },
    /// The current opening counted again under a label given during it alone: at the opening's
    /// time, for the team and person it was counted for then.
    OpeningLabelled {
        metric: Metric,
        at: i64,
        team: Option<TeamId>,
        agent: Option<UserId>,
        label: String,
    },
}

/// Whether a message says something to answer or that answers: not a reaction, not a line Baton
/// wrote into the timeline (the rule SLA clocks go by too).
fn says_something(message: &Message) -> bool {
    !matches!(message.kind, MessageKind::Reaction | MessageKind::System)
}

/// A reply by a person: outbound, saying something, with an author who is a teammate (not Baton
/// itself).
fn by_a_person(message: &Message) -> Option<UserId> {
    if message.direction != Direction::Outbound || message.automation.is_some() || !says_something(message) {
        return None;
    }
    message.author.filter(|author| *author != AUTOMATION_USER)
}

impl Track {
    /// Applies the event `change` written at `at`: the track moves on, and what it records is
    /// returned (in order).
    pub fn apply(&mut self, change: &Change, at: i64) -> Vec<Fact> {
        let mut facts = Vec::new();
        match change {
            Change::Opened { team, .. } => {
                *self = Track { spell_started_at: Some(at), team: *team, ..Track::default() };
                self.opening = Some(Opening { team: *team, ..Opening::default() });
                facts.push(Fact::Count { metric: Metric::Created, at, owner: Owner::Assignee });
            }
            Change::Triaged { team, .. } => self.team = *team,
            Change::Assigned { assignee, .. } => self.assignee = *assignee,
            Change::Labeled { labels } => {
                // Labels come after the opening (people, rules, the bot): each new one counts it.
                if let (Some(opening), Some(started_at)) = (&mut self.opening, self.spell_started_at) {
                    for label in labels {
                        if !opening.labels.contains(label) {
                            opening.labels.push(label.clone());
                            facts.push(Fact::OpeningLabelled {
                                metric: if opening.reopened { Metric::Reopened } else { Metric::Created },
                                at: started_at,
                                team: opening.team,
                                agent: opening.agent,
                                label: label.clone(),
                            });
                        }
                    }
                }
                self.labels.clone_from(labels);
            }
            Change::MessageAdded { message } if message.direction == Direction::Inbound => {
                // The clock runs from the first unanswered message; later ones do not restart it.
                // The customer's send time, not ours, but never after we stored it. Nothing waits
                // in a resolved conversation (a tap on its rating request) or for a reaction.
                if self.spell_started_at.is_some() && says_something(message) {
                    self.waiting_since.get_or_insert(message.sent_at.min(at));
                }
                facts.push(Fact::Count { metric: Metric::MessagesIn, at, owner: Owner::Assignee });
            }
            Change::MessageAdded { message } => {
                let person = by_a_person(message);
                facts.push(Fact::Count {
                    metric: Metric::MessagesOut,
                    at,
                    owner: person.map_or(Owner::Nobody, Owner::Person),
                });
                if let (Some(person), Some(since)) = (person, self.waiting_since) {
                    let kind = if self.answered_in_spell { SpanKind::NextResponse } else { SpanKind::FirstResponse };
                    facts.push(Fact::Span { kind, started_at: since, ended_at: at, owner: Owner::Person(person) });
                    self.waiting_since = None;
                    self.answered_in_spell = true;
                }
            }
            Change::StatusChanged { status: ConversationStatus::Resolved } => {
                if let Some(started_at) = self.spell_started_at.take() {
                    facts.push(Fact::Span {
                        kind: SpanKind::Resolution,
                        started_at,
                        ended_at: at,
                        owner: Owner::Assignee,
                    });
                    facts.push(Fact::Count { metric: Metric::Resolved, at, owner: Owner::Assignee });
                }
                // A wait still open at the resolve has no reply: dropped.
                self.waiting_since = None;
                self.answered_in_spell = false;
                self.opening = None;
            }
            // Open or pending again after a resolve: a reopening (pending → open is not).
            Change::StatusChanged { .. } if self.spell_started_at.is_none() => {
                self.spell_started_at = Some(at);
                self.waiting_since = None;
                self.answered_in_spell = false;
                self.opening = Some(Opening {
                    reopened: true,
                    team: self.team,
                    agent: self.assignee,
                    labels: self.labels.clone(),
                });
                facts.push(Fact::Count { metric: Metric::Reopened, at, owner: Owner::Assignee });
            }
            Change::SlaBreached { .. } => {
                facts.push(Fact::Count { metric: Metric::SlaBreached, at, owner: Owner::Assignee });
            }
            // The rating belongs to whoever held the conversation when it was resolved.
            Change::CsatAnswered { score, scale, assignee, .. } => {
                let five = matches!(scale, Scale::Five);
                let owner = assignee.map_or(Owner::Nobody, Owner::Person);
                facts.push(Fact::Count { metric: Metric::Csat { five, score: *score }, at, owner });
            }
            _ => {}
        }
        facts
    }

    /// Whether `change` can record anything or move the track (the store reads the track only
    /// for these).
    pub fn concerns(change: &Change) -> bool {
        matches!(
            change,
            Change::Opened { .. }
                | Change::Triaged { .. }
                | Change::Assigned { .. }
                | Change::Labeled { .. }
                | Change::MessageAdded { .. }
                | Change::StatusChanged { .. }
                | Change::SlaBreached { .. }
                | Change::CsatAnswered { .. }
        )
    }

    /// Who `owner` is now.
    pub fn agent(&self, owner: Owner) -> Option<UserId> {
        match owner {
            Owner::Assignee => self.assignee,
            Owner::Person(person) => Some(person),
            Owner::Nobody => None,
        }
    }
}

#[cfg(test)]
mod tests;
