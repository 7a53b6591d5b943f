//! The app's model of the inbox, and the one pure function that changes it: [`Inbox::apply`]
//! takes a [`ServerMsg`] and updates conversations, messages, claims, notes, presence, viewers,
//! typing and drafts. No I/O and no Leptos here, so it is tested natively (`cargo test -p
//! baton-app --lib`), and the views only render what it holds.
//!
//! Events are applied in `seq` order per conversation: one already held is ignored (a resumed
//! stream may repeat), and one that skips ahead is not applied but reported as a [`Applied::Gap`],
//! so the socket layer resubscribes from the last `seq` held and nothing is ever shown out of order.
//!
//! Messages are *shown* in timeline order ([`Message::placement`]: when they were sent, then
//! `seq`), which differs from `seq` when WhatsApp redelivers late: a late message is inserted at
//! its place ([`place`]), and neither the preview nor `last_message_at` move back for it.

use std::collections::{BTreeMap, HashMap};

use baton_shared::api::{ConversationDetail, ConversationSummary, Me, MessagePage};
use baton_shared::contacts::ContactRecord;
use baton_shared::model::{
    Change, Conversation, ConversationEvent, Message, MessageContent, Note, WINDOW_REOPEN_SLACK_MS,
};
use baton_shared::protocol::{Presence, ServerMsg, Teammate};
use baton_shared::{ContactId, ConversationId, NoteId, UserId};

/// One conversation as the app shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ConversationView {
    /// The conversation as of `conversation.last_seq`.
    pub conversation: Conversation,
    /// Its messages in timeline order, [`Message::placement`] (those received since the app
    /// followed it, or a loaded history and its pages).
    pub messages: Vec<Message>,
    pub notes: BTreeMap<NoteId, Note>,
    /// Who has it open now.
    pub viewers: Vec<Teammate>,
    /// Who is typing in it now.
    pub typing: Vec<Teammate>,
    /// What each typist has written (supervisors only receive these).
    pub drafts: HashMap<UserId, String>,
    /// Customer messages that arrived while it was not open.
    pub unread: u32,
    /// The newest message in timeline order, for the inbox list's preview line.
    pub preview: Option<Message>,
    /// Whether `messages` and `notes` hold the whole history (loaded with
    /// [`Inbox::load_detail`]) rather than only what arrived since the app followed it.
    pub history_loaded: bool,
    /// The user's own unsent draft, as saved on the server when the history was loaded.
    pub saved_draft: String,
    /// Whether the server holds messages older than the first in `messages`.
    pub has_earlier: bool,
    /// Who it was assigned to and which queue it went to (`assigned` and `triaged` events), in
    /// seq order: the timeline's lines between messages.
    pub routing: Vec<ConversationEvent>,
}

impl ConversationView {
    /// The customer as the team sees them ([`customer_name`]).
    pub fn customer_name(&self) -> String {
        customer_name(&self.conversation.contact)
    }

    pub fn new(conversation: Conversation) -> Self {
        ConversationView {
            conversation,
            messages: Vec::new(),
            notes: BTreeMap::new(),
            viewers: Vec::new(),
            typing: Vec::new(),
            drafts: HashMap::new(),
            unread: 0,
            preview: None,
            history_loaded: false,
            saved_draft: String::new(),
            has_earlier: false,
            routing: Vec::new(),
        }
    }
}

/// A customer as the team sees them: their WhatsApp name, or their number without one.
pub fn customer_name(contact: &baton_shared::model::Contact) -> String {
    baton_shared::contacts::shown_name(contact)
}

/// What applying a message did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Nothing changed (a repeat, or something for someone else).
    Nothing,
    Changed,
    /// An event skipped ahead of what is held: resubscribe `conversation` from `after_seq`.
    Gap {
        conversation: ConversationId,
        after_seq: u64,
    },
}

/// How far a message from the server reaches, so the views re-render no more than it changed.
/// Most change what lists, cards and headers show; the live ones — who views, who types and what
/// (a supervisor gets a draft frame per keystroke) — change one conversation's live state only:
/// its `viewers`, `typing` and `drafts`, which the views of that one conversation follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// The inbox as a whole.
    Inbox,
    /// Only the live state (`viewers`, `typing`, `drafts`) of one conversation.
    Live(ConversationId),
}

impl Reach {
    pub fn of(message: &ServerMsg) -> Reach {
        match message {
            ServerMsg::Viewers { conversation_id, .. }
            | ServerMsg::Typing { conversation_id, .. }
            | ServerMsg::Draft { conversation_id, .. } => Reach::Live(*conversation_id),
            _ => Reach::Inbox,
        }
    }
}

/// Something to tell the user about, outside any conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// A teammate wrote `@me` in a note of `conversation`, whose customer is `customer` (`None`
    /// while the conversation is not held yet).
    Mentioned {
        conversation: ConversationId,
        customer: Option<String>,
        by: Teammate,
    },
    ChannelAlert {
        message: String,
        paused: bool,
    },
    /// A conversation assigned to the user woke from its snooze: its follow-up is due.
    FollowUp {
        conversation: ConversationId,
        customer: String,
    },
    /// A service-level target was missed (told to supervisors and admins).
    SlaBreached {
        conversation: ConversationId,
        customer: String,
        target: baton_shared::sla::SlaKind,
    },
}

/// A [`Notice`] on screen, with the number it is dismissed by (never reused, so dismissing one
/// that already went away by itself does not remove another).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posted {
    pub id: u64,
    pub notice: Notice,
}

/// Everything the app knows.
#[derive(Clone, Debug, PartialEq)]
pub struct Inbox {
    pub me: Me,
    pub conversations: BTreeMap<ConversationId, ConversationView>,
    pub presence: BTreeMap<UserId, Presence>,
    /// The conversation on screen, if any (its messages are read as they come).
    pub open: Option<ConversationId>,
    pub notices: Vec<Posted>,
    /// The id the next notice gets.
    next_notice: u64,
    /// Whether the inbox list was loaded at least once (before that, nothing is news).
    pub list_loaded: bool,
    /// Customers' records as last loaded or pushed (`contact_changed`): what open cards show.
    pub contacts: BTreeMap<ContactId, ContactRecord>,
}

impl Inbox {
    pub fn new(me: Me) -> Self {
        Inbox {
            me,
            conversations: BTreeMap::new(),
            presence: BTreeMap::new(),
            open: None,
            notices: Vec::new(),
            next_notice: 1,
            list_loaded: false,
            contacts: BTreeMap::new(),
        }
    }

    /// The newest `seq` held per conversation: what a resubscription sends as cursors.
    pub fn cursors(&self) -> Vec<(ConversationId, u64)> {
        self.conversations.iter().map(|(id, view)| (*id, view.conversation.last_seq)).collect()
    }

    /// Takes in the inbox list (`GET /api/conversations`), read before (re)subscribing:
    /// conversations not held yet are added at the `seq` the list was read at; those held keep
    /// their cursor, and the subscription replays what they missed (unread counts included);
    /// those no longer listed (assigned away while the app was offline) are dropped — one that
    /// appears after the list was read comes back through its next event.
    pub fn load_list(&mut self, list: Vec<ConversationSummary>) {
        let listed: std::collections::HashSet<ConversationId> =
            list.iter().map(|summary| summary.conversation.id).collect();
        self.conversations.retain(|id, _| listed.contains(id));
        if self.open.is_some_and(|open| !listed.contains(&open)) {
            self.open = None;
        }
        for summary in list {
            let id = summary.conversation.id;
            self.conversations.entry(id).or_insert_with(|| {
                let mut view = ConversationView::new(summary.conversation);
                view.preview = summary.last_message;
                view
            });
        }
        self.list_loaded = true;
    }

    /// Takes in a conversation's history (`GET /api/conversations/{id}`). Accepted only if it is
    /// at least as new as what is held (events up to its `last_seq` are then already in it, and
    /// the stream's repeats of them are ignored); `false` means the stream moved on while it was
    /// read: load it again.
    pub fn load_detail(&mut self, detail: ConversationDetail) -> bool {
        let id = detail.conversation.id;
        let view = self.conversations.entry(id).or_insert_with(|| ConversationView::new(detail.conversation.clone()));
        if detail.conversation.last_seq < view.conversation.last_seq {
            return false;
        }
        view.preview = detail.messages.last().cloned().or(view.preview.take());
        view.conversation = detail.conversation;
        view.messages = detail.messages;
        view.notes = detail.notes.into_iter().map(|note| (note.id, note)).collect();
        view.saved_draft = detail.draft;
        view.has_earlier = detail.has_earlier;
        // Kept: lines that arrived live after the detail was read.
        let newer: Vec<ConversationEvent> = std::mem::take(&mut view.routing)
            .into_iter()
            .filter(|event| detail.routing.last().is_none_or(|last| event.seq > last.seq))
            .collect();
        view.routing = detail.routing;
        view.routing.extend(newer);
        view.history_loaded = true;
        true
    }

    /// Puts a page of older messages (`GET /api/conversations/{id}/messages`, those placed before
    /// the first held) before those held.
    pub fn prepend_earlier(&mut self, conversation: ConversationId, page: MessagePage) {
        let Some(view) = self.conversations.get_mut(&conversation) else { return };
        let first = view.messages.first().map_or((i64::MAX, u64::MAX), Message::placement);
        let mut older: Vec<Message> = page.messages.into_iter().filter(|message| message.placement() < first).collect();
        older.append(&mut view.messages);
        view.messages = older;
        view.has_earlier = page.has_earlier;
    }

    /// Shows `conversation` (or nothing): its unread count goes to zero.
    pub fn set_open(&mut self, conversation: Option<ConversationId>) {
        self.open = conversation;
        if let Some(view) = conversation.and_then(|id| self.conversations.get_mut(&id)) {
            view.unread = 0;
        }
    }

    /// Shows a notice; returns its id.
    pub fn post(&mut self, notice: Notice) -> u64 {
        let id = self.next_notice;
        self.next_notice += 1;
        self.notices.push(Posted { id, notice });
        id
    }

    /// Takes notice `id` away (dismissed, or expired); one already gone is no matter.
    pub fn dismiss(&mut self, id: u64) {
        self.notices.retain(|posted| posted.id != id);
    }

    /// Whether I hold the claim on `conversation` now.
    pub fn holds_claim(&self, conversation: ConversationId) -> bool {
        self.conversations
            .get(&conversation)
            .and_then(|view| view.conversation.claim.as_ref())
            .is_some_and(|claim| claim.holder == self.me.id)
    }

    /// Conversations assigned to me, newest activity first.
    pub fn mine(&self) -> Vec<&ConversationView> {
        self.listed(|view| view.conversation.assignee == Some(self.me.id))
    }

    /// Conversations nobody is assigned, newest activity first.
    pub fn unassigned(&self) -> Vec<&ConversationView> {
        self.listed(|view| view.conversation.assignee.is_none())
    }

    /// Every conversation held, newest activity first.
    pub fn all(&self) -> Vec<&ConversationView> {
        self.listed(|_| true)
    }

    fn listed(&self, wanted: impl Fn(&ConversationView) -> bool) -> Vec<&ConversationView> {
        let mut listed: Vec<&ConversationView> = self.conversations.values().filter(|view| wanted(view)).collect();
        listed.sort_by_key(|view| {
            std::cmp::Reverse(view.conversation.last_message_at.unwrap_or(view.conversation.created_at))
        });
        listed
    }

    /// Applies one message from the server.
    pub fn apply(&mut self, message: &ServerMsg) -> Applied {
        match message {
            ServerMsg::Event { event } => self.apply_event(event),
            ServerMsg::Resync { conversation } => {
                let view = self
                    .conversations
                    .entry(conversation.id)
                    .or_insert_with(|| ConversationView::new(conversation.clone()));
                view.conversation = conversation.clone();
                // What was held may have gaps now: the view reloads its history.
                view.messages.clear();
                view.notes.clear();
                view.history_loaded = false;
                Applied::Changed
            }
            ServerMsg::Presence { presence } => {
                for entry in presence {
                    self.presence.insert(entry.user.id, entry.clone());
                }
                Applied::Changed
            }
            ServerMsg::Viewers { conversation_id, viewers } => self.with_view(*conversation_id, |view| {
                view.viewers = viewers.clone();
            }),
            ServerMsg::Typing { conversation_id, user, typing } => self.with_view(*conversation_id, |view| {
                view.typing.retain(|typist| typist.id != user.id);
                if *typing {
                    view.typing.push(user.clone());
                } else {
                    view.drafts.remove(&user.id);
                }
            }),
            ServerMsg::Draft { conversation_id, user, body } => self.with_view(*conversation_id, |view| {
                view.drafts.insert(user.id, body.clone());
            }),
            ServerMsg::Mentioned { conversation_id, by, .. } => {
                let customer = self.conversations.get(conversation_id).map(ConversationView::customer_name);
                self.post(Notice::Mentioned { conversation: *conversation_id, customer, by: by.clone() });
                Applied::Changed
            }
            ServerMsg::ChannelAlert { message, paused } => {
                self.post(Notice::ChannelAlert { message: message.clone(), paused: *paused });
                Applied::Changed
            }
            ServerMsg::ContactChanged { contact } => {
                self.learn_contact(contact.as_ref().clone());
                Applied::Changed
            }
            ServerMsg::Hello { .. } => {
                // A new socket: presence, viewers and typing are sent afresh; what was held from
                // before the drop may be stale (a teammate who left, a typing stop never heard).
                self.presence.clear();
                for view in self.conversations.values_mut() {
                    view.viewers.clear();
                    view.typing.clear();
                    view.drafts.clear();
                }
                Applied::Changed
            }
            ServerMsg::Ack { .. } | ServerMsg::Error { .. } => Applied::Nothing,
        }
    }

    /// Keeps a customer's record as it is now, and the customer as every conversation of theirs
    /// shows them (name, blocked).
    pub fn learn_contact(&mut self, record: ContactRecord) {
        let newer = self
            .contacts
            .get(&record.contact.id)
            .is_none_or(|held| held.updated_at.unwrap_or(0) <= record.updated_at.unwrap_or(0));
        if !newer {
            return;
        }
        // Only what the team edits: the service window's times are the conversation's events'.
        for view in self.conversations.values_mut() {
            if view.conversation.contact.id == record.contact.id {
                view.conversation.contact.display_name = record.contact.display_name.clone();
                view.conversation.contact.blocked = record.contact.blocked;
            }
        }
        let counted =
            record.conversations.or_else(|| self.contacts.get(&record.contact.id).and_then(|held| held.conversations));
        self.contacts.insert(record.contact.id, ContactRecord { conversations: counted, ..record });
    }

    fn with_view(&mut self, conversation: ConversationId, change: impl FnOnce(&mut ConversationView)) -> Applied {
        match self.conversations.get_mut(&conversation) {
            Some(view) => {
                change(view);
                Applied::Changed
            }
            None => Applied::Nothing,
        }
    }

    fn apply_event(&mut self, event: &ConversationEvent) -> Applied {
        let id = event.conversation_id;
        let Some(view) = self.conversations.get_mut(&id) else {
            // A conversation seen for the first time starts with its opening.
            let Change::Opened { contact, team } = &event.change else {
                return Applied::Gap { conversation: id, after_seq: 0 };
            };
            let conversation = Conversation {
                id,
                contact: contact.clone(),
                status: baton_shared::model::ConversationStatus::Open,
                assignee: None,
                team: *team,
                priority: Default::default(),
                queued_at: Some(event.at),
                claim: None,
                last_seq: event.seq,
                last_message_at: None,
                created_at: event.at,
                labels: Vec::new(),
                snoozed_until: None,
                sla: None,
            };
            let mut view = ConversationView::new(conversation);
            // Followed from its first event: everything it holds is the whole history.
            view.history_loaded = event.seq == 1;
            self.conversations.insert(id, view);
            return Applied::Changed;
        };
        let held = view.conversation.last_seq;
        if event.seq <= held {
            return Applied::Nothing;
        }
        if event.seq > held + 1 {
            return Applied::Gap { conversation: id, after_seq: held };
        }
        view.conversation.last_seq = event.seq;
        let is_open = self.open == Some(id);
        let viewer = baton_shared::rules::Viewer { id: self.me.id, role: self.me.role, teams: &self.me.teams };
        let mut gone = false;
        // What to tell the user, posted once the view is no longer borrowed.
        let mut notices = Vec::new();
        let conversation = &mut view.conversation;
        match &event.change {
            Change::Opened { contact, .. } => conversation.contact = contact.clone(),
            Change::MessageAdded { message } => {
                // Never back: a late message, written before the newest, leaves it.
                conversation.last_message_at =
                    Some(conversation.last_message_at.map_or(message.sent_at, |at| at.max(message.sent_at)));
                // A reaction decorates a message: it is no news, preview or reply of its own.
                let reaction = matches!(message.content.as_deref(), Some(MessageContent::Reaction { .. }));
                if !reaction && message.direction == baton_shared::model::Direction::Inbound {
                    let contact = &mut conversation.contact;
                    contact.last_inbound_at = Some(contact.last_inbound_at.unwrap_or(0).max(message.created_at));
                    // As on the server: the customer writing again reopens a window WhatsApp closed.
                    if contact
                        .window_closed_at
                        .is_some_and(|closed| message.created_at >= closed - WINDOW_REOPEN_SLACK_MS)
                    {
                        contact.window_closed_at = None;
                    }
                    // Late or not, it is news.
                    if !is_open {
                        view.unread += 1;
                    }
                } else if !reaction && let Some(author) = message.author {
                    // The reply was sent: its author's draft is gone.
                    view.drafts.remove(&author);
                }
                let newest = view.preview.as_ref().is_none_or(|preview| preview.placement() < message.placement());
                if !reaction && newest {
                    view.preview = Some(message.clone());
                }
                place(&mut view.messages, message, view.has_earlier);
            }
            Change::MessageStatus { message_id, status, error } => {
                if let Some(message) = view.messages.iter_mut().find(|message| message.id == *message_id) {
                    message.status = *status;
                    message.error = error.clone();
                }
                if let Some(message) = view.preview.as_mut().filter(|message| message.id == *message_id) {
                    message.status = *status;
                    message.error = error.clone();
                }
            }
            Change::Claimed { claim } | Change::Transferred { claim, .. } | Change::TakenOver { claim, .. } => {
                conversation.claim = Some(claim.clone());
            }
            Change::Released { .. } => conversation.claim = None,
            Change::StatusChanged { status } => {
                conversation.status = *status;
                let woke = conversation.snoozed_until.is_some()
                    && event.actor == Some(baton_shared::automation::AUTOMATION_USER)
                    && *status == baton_shared::model::ConversationStatus::Open;
                if *status != baton_shared::model::ConversationStatus::Pending {
                    conversation.snoozed_until = None;
                }
                if woke && conversation.assignee == Some(self.me.id) {
                    let customer = view.customer_name();
                    notices.push(Notice::FollowUp { conversation: id, customer });
                }
            }
            Change::SlaChanged { sla } => conversation.sla = *sla,
            // Timeline lines, kept with the routing ones.
            Change::Snoozed { until } => {
                conversation.status = baton_shared::model::ConversationStatus::Pending;
                conversation.snoozed_until = Some(*until);
                if view.routing.iter().all(|held| held.seq != event.seq) {
                    view.routing.push(event.clone());
                }
            }
            Change::CsatAnswered { .. } => {
                if view.routing.iter().all(|held| held.seq != event.seq) {
                    view.routing.push(event.clone());
                }
            }
            Change::SlaBreached { target, .. } => {
                if view.routing.iter().all(|held| held.seq != event.seq) {
                    view.routing.push(event.clone());
                    if self.me.role.at_least(baton_shared::api::Role::Supervisor) {
                        let customer = view.customer_name();
                        notices.push(Notice::SlaBreached { conversation: id, customer, target: *target });
                    }
                }
            }
            Change::Labeled { labels } => conversation.labels = labels.clone(),
            Change::Assigned { assignee, .. } => {
                if view.routing.iter().all(|held| held.seq != event.seq) {
                    view.routing.push(event.clone());
                }
                let conversation = &mut view.conversation;
                if assignee.is_none() {
                    conversation.queued_at = Some(event.at);
                }
                conversation.assignee = *assignee;
                // An agent no longer sees a conversation assigned to a teammate: the one rule.
                gone = !conversation.is_visible_to(&viewer);
            }
            Change::Triaged { team, priority, .. } => {
                if view.routing.iter().all(|held| held.seq != event.seq) {
                    view.routing.push(event.clone());
                }
                let conversation = &mut view.conversation;
                if conversation.team != *team {
                    conversation.queued_at = Some(event.at);
                }
                conversation.team = *team;
                conversation.priority = *priority;
                // Nor one moved to a team they are not in.
                gone = !conversation.is_visible_to(&viewer);
            }
            Change::NoteAdded { note } | Change::NoteEdited { note } => {
                view.notes.insert(note.id, note.clone());
            }
            Change::NoteDeleted { note_id } => {
                view.notes.remove(note_id);
            }
            Change::WindowClosed { since } => conversation.contact.window_closed_at = Some(*since),
        }
        if gone {
            self.conversations.remove(&id);
            if self.open == Some(id) {
                self.open = None;
            }
        }
        for notice in notices {
            self.post(notice);
        }
        Applied::Changed
    }
}

/// Inserts `message` into `messages` (held in timeline order) at its place: after every message
/// placed before it, so one that WhatsApp delivered late goes where the customer wrote it, not at
/// the end. One held already (same id) is not added twice. One placed before everything held
/// while the server has earlier messages is left out: it belongs to an earlier page, which
/// "Show earlier messages" fetches with it (pages are cut by place, so none is skipped).
fn place(messages: &mut Vec<Message>, message: &Message, has_earlier: bool) {
    if messages.iter().any(|held| held.id == message.id) {
        return;
    }
    let at = messages.partition_point(|held| held.placement() < message.placement());
    if at == 0 && has_earlier {
        return;
    }
    messages.insert(at, message.clone());
}

#[cfg(test)]
mod tests;
