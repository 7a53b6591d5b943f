//! The automation half of the store: its settings documents, its durable jobs (the timers no
//! process may keep only in memory) and the automated message, stored with its outbox row under
//! the loop guards in one transaction ([`AutomationStore`]).

use async_trait::async_trait;
use baton_shared::automation::Automated;
use baton_shared::csat::Scale;
use baton_shared::model::{ConversationEvent, MessageContent, Priority};
use baton_shared::routing_rules::Trigger;
use baton_shared::sla::SlaKind;
use baton_shared::{ConversationId, MessageId, TeamId, UserId};

use super::StoreResult;

/// What a job asks of automation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// A customer message arrived: the auto-replies it may call for, the menu bot's turn, the
    /// service-level clocks it starts.
    CustomerMessage { message: MessageId, opened: bool },
    /// A snooze ends at `until`.
    Wake { until: i64 },
    /// A service-level clock's deadline.
    SlaDeadline { kind: SlaKind, due_at: i64 },
    /// No customer message since `since`: auto-resolve's time may have come.
    Idle { since: i64 },
    /// The conversation was resolved at `resolved_at`, held by `assignee`: the rating request.
    CsatRequest { resolved_at: i64, assignee: Option<UserId> },
    /// Rules fired on customer message `message` (their ids): what they do beyond placing the
    /// conversation (a canned reply, a note, a snooze, a resolve).
    RuleEffects { message: MessageId, rules: Vec<u32> },
    /// Something automation rules listen to happened at `at` (a resolve, a missed target).
    Rules { trigger: Trigger, at: i64 },
    /// The conversation has been pending since `since`: the time rules' next look.
    Pending { since: i64 },
}

impl JobKind {
    pub fn name(&self) -> &'static str {
        match self {
            JobKind::CustomerMessage { .. } => "customer_message",
            JobKind::Wake { .. } => "wake",
            JobKind::SlaDeadline { .. } => "sla_deadline",
            JobKind::Idle { .. } => "idle",
            JobKind::CsatRequest { .. } => "csat_request",
            JobKind::RuleEffects { .. } => "rule_effects",
            JobKind::Rules { .. } => "rules",
            JobKind::Pending { .. } => "pending",
        }
    }
}

/// Work automation owes a conversation, due at `due_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub conversation: ConversationId,
    pub kind: JobKind,
    pub due_at: i64,
    /// How often it was taken before (a taker that died, or a failure).
    pub attempts: i64,
    /// Until when this taker holds it: settling it names this, so a job rescheduled meanwhile
    /// (its hold cleared) is not settled by the taker of its earlier self.
    pub held_until: i64,
}

/// A message Baton sends by itself, and the guards it must pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutomatedReply {
    pub conversation: ConversationId,
    pub automated: Automated,
    pub body: String,
    /// The same key sends once (a job done again after a crash sends nothing more).
    pub idempotency_key: String,
    /// At most this many automated messages to the customer within the last hour, all
    /// conversations and all kinds together.
    pub hourly_cap: u32,
    /// Not if a message of the same kind went to this conversation within this long.
    pub not_within: Option<i64>,
    /// Not if one of the same kind went since this instant (the queue acknowledgement: once per
    /// wait).
    pub not_since: Option<i64>,
    /// What it carries beyond text (the menu's choices).
    pub content: Option<MessageContent>,
}

/// What became of an automated message.
// Returned once per message and never kept in bulk: the larger variant's size costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AutomatedOutcome {
    /// Stored and queued for WhatsApp; the event to broadcast.
    Sent { event: ConversationEvent },
    /// Sent before under this key.
    Duplicate,
    /// The customer had this many automated messages in the last hour already.
    Capped,
    /// One of the same kind went too recently.
    TooSoon,
    /// WhatsApp's 24-hour window is closed: only a template could go.
    WindowClosed,
    /// A person holds the conversation's claim: they answer, not Baton.
    PersonReplying,
    /// The customer is blocked: Baton sends them nothing by itself.
    Blocked,
}

/// Where a waiting conversation stands in its queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueStanding {
    /// 1 for the next to be served.
    pub position: u32,
    /// When it began waiting.
    pub queued_at: i64,
    /// Who could take it if available: its team's active members under capacity, or every active
    /// teammate for the general inbox.
    pub candidates: Vec<UserId>,
}

#[async_trait]
pub trait AutomationStore: Send + Sync {
    /// A settings document: its version and JSON (`None` when never saved).
    async fn automation_settings(&self, key: &str) -> StoreResult<Option<(u32, String)>>;

    /// Replaces a settings document if it is still at `base_version` (else
    /// [`super::StoreError::Changed`]) and audits the change; returns the new version.
    async fn save_automation_settings(
        &self,
        key: &str,
        definition: &str,
        base_version: u32,
        actor: UserId,
        now: i64,
    ) -> StoreResult<u32>;

    /// Takes up to `limit` jobs due by `now` that nobody holds (or whose taker's hold ran out),
    /// holding them until `hold_until`.
    async fn take_due_jobs(&self, now: i64, hold_until: i64, limit: i64) -> StoreResult<Vec<Job>>;

    /// A job is done: deleted, if it is still as it was taken (`held_until`).
    async fn finish_job(&self, id: i64, held_until: i64) -> StoreResult<()>;

    /// A job failed: held until `retry_at`, then taken again — keeping its place before the later
    /// jobs of its conversation.
    async fn retry_job(&self, id: i64, held_until: i64, retry_at: i64) -> StoreResult<()>;

    /// When the next job falls due (or a held one is released), if any.
    async fn next_job_at(&self) -> StoreResult<Option<i64>>;

    /// How many jobs are due by `now`, held by a node or not: none once everything due was done.
    async fn jobs_due(&self, now: i64) -> StoreResult<i64>;

    /// Stores an automated message with its outbox row and event, in one transaction under the
    /// conversation's lock, if it passes every guard of [`AutomatedReply`].
    async fn send_automated(&self, reply: &AutomatedReply, now: i64) -> StoreResult<AutomatedOutcome>;

    /// Where a waiting conversation stands in its queue; `None` when it is not waiting (assigned,
    /// resolved, or someone is replying).
    async fn queue_standing(&self, conversation: ConversationId, now: i64) -> StoreResult<Option<QueueStanding>>;
}

/// The menu bot's turn in a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BotSession {
    /// How many times the menu was sent.
    pub asked: u32,
    /// The customer's words since, in order.
    pub transcript: Vec<String>,
    pub started_at: i64,
    /// The newest customer message the bot has read: one read already is not read again.
    pub last_message: MessageId,
}

/// Where the bot hands a conversation to people, and what it tells them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handoff {
    pub conversation: ConversationId,
    /// The customer message that ended the turn.
    pub message: MessageId,
    /// The answer that ended the turn, added to the transcript.
    pub said: String,
    /// The team (`None`: it stays where it is), priority and label to give it.
    pub team: Option<TeamId>,
    pub priority: Option<Priority>,
    pub label: Option<String>,
    /// Why, as its `triaged` event names it ("Menu: Billing").
    pub reason: String,
    /// The internal note that sums up the bot's part; `{transcript}` is replaced by the
    /// customer's words as stored.
    pub note: String,
}

/// What became of a bot step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BotOutcome {
    /// Done; the events to broadcast.
    Done { events: Vec<ConversationEvent> },
    /// The menu could not go (the guards of [`AutomatedReply`]).
    NotSent(AutomatedOutcome),
    /// The bot's turn is over (someone took the conversation), or it had none to start.
    NoTurn,
}

/// The menu bot's turns.
#[async_trait]
pub trait BotStore: Send + Sync {
    async fn bot_session(&self, conversation: ConversationId) -> StoreResult<Option<BotSession>>;

    /// Starts the bot's turn: sends `menu` under its guards, takes the claim as the Automation
    /// account until `lease_until`, and keeps the customer's first words — in one transaction,
    /// and only in a conversation nobody holds or is assigned.
    async fn start_bot(
        &self,
        menu: &AutomatedReply,
        message: MessageId,
        said: &str,
        lease_until: i64,
        now: i64,
    ) -> StoreResult<BotOutcome>;

    /// Asks again: sends `menu` (with the text that asks again) and keeps the answer (`message`)
    /// that was no choice, if the bot's turn is still on and it has not read that message yet.
    async fn bot_ask_again(
        &self,
        menu: &AutomatedReply,
        message: MessageId,
        said: &str,
        now: i64,
    ) -> StoreResult<BotOutcome>;

    /// Ends the bot's turn and hands the conversation to people: the claim goes, the note is
    /// added, the team, priority and label are set and the conversation starts waiting now —
    /// one transaction, if the turn is still on and it has not read the handoff's message yet.
    async fn bot_hand_off(&self, handoff: &Handoff, now: i64) -> StoreResult<BotOutcome>;
}

/// Snoozes and service-level clocks.
#[async_trait]
pub trait FollowUpStore: Send + Sync {
    /// Sets the conversation pending until `until` and schedules its wake-up, in one transaction.
    async fn snooze(
        &self,
        id: ConversationId,
        actor: UserId,
        until: i64,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>>;

    /// Reopens the conversation if it is still pending, snoozed until `until` (a customer message
    /// or a person reopened it already otherwise: nothing happens).
    async fn wake(&self, id: ConversationId, until: i64, now: i64) -> StoreResult<Vec<ConversationEvent>>;

    /// The response clock a customer message starts now: `None` while one runs, else first
    /// response if no person replied since the conversation (re)opened, else next response.
    async fn response_clock_due(&self, id: ConversationId) -> StoreResult<Option<SlaKind>>;

    /// Whether the resolution clock runs.
    async fn resolution_clock_runs(&self, id: ConversationId) -> StoreResult<bool>;

    /// Starts clock `kind` at `started_at`, due at `due_at`, unless its slot runs already; schedules
    /// its deadline. Returns the events (the conversation's clock summary changed).
    async fn start_sla(
        &self,
        id: ConversationId,
        kind: SlaKind,
        started_at: i64,
        due_at: i64,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>>;

    /// The deadline `due_at` of clock `kind` came: if it still runs, it is breached — once.
    async fn breach_sla(
        &self,
        id: ConversationId,
        kind: SlaKind,
        due_at: i64,
        now: i64,
    ) -> StoreResult<Vec<ConversationEvent>>;

    /// Schedules auto-resolve's look at the conversation at `due_at`, for no customer message
    /// since `since` (replacing an earlier one).
    async fn schedule_idle(&self, id: ConversationId, since: i64, due_at: i64, now: i64) -> StoreResult<()>;

    /// When the customer last wrote in the conversation, if ever.
    async fn last_customer_message_at(&self, id: ConversationId) -> StoreResult<Option<i64>>;
}

/// A rating request and its answer, as kept for the reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsatRecord {
    pub conversation: ConversationId,
    pub scale: Scale,
    pub resolved_at: i64,
    /// Who held the conversation at the resolve: whom the answer rates.
    pub assignee: Option<UserId>,
    pub score: Option<u8>,
    pub answered_at: Option<i64>,
}

/// Customer satisfaction.
#[async_trait]
pub trait CsatStore: Send + Sync {
    /// Sends the rating request `request` (under its guards) for the resolution at `resolved_at`
    /// held by `assignee`, and keeps it — one transaction; only while the conversation is still
    /// resolved.
    async fn send_csat_request(
        &self,
        request: &AutomatedReply,
        scale: Scale,
        resolved_at: i64,
        assignee: Option<UserId>,
        now: i64,
    ) -> StoreResult<AutomatedOutcome>;

    /// The rating requests of a conversation and their answers, oldest first.
    async fn csat_records(&self, conversation: ConversationId) -> StoreResult<Vec<CsatRecord>>;
}
