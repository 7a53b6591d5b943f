//! The sole owner of the WebSocket. [`Link`] connects to `/ws`, applies every [`ServerMsg`] to
//! the [`Inbox`], answers gaps by resubscribing from the last `seq` held, and reconnects with
//! backoff when the socket drops — then reloads the inbox list and resumes every conversation
//! from its cursor, so nothing is missed and nothing shown twice. Requests go out with a fresh
//! `req_id`; their ack or error comes back to the callback given with them.
//!
//! The browser's `WebSocket` is not `Send`, so it lives in a thread-local (WASM has one thread);
//! [`Link`] itself is a `Copy` bundle of signals, handed to views through Leptos' context.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::Duration;

use baton_shared::ConversationId;
use baton_shared::ErrorCode;
use baton_shared::protocol::{AckDetail, CLOSE_SESSION_ENDED, ClientMsg, Cursor, ErrorDetail, ReqId, ServerMsg};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use crate::api;
use crate::state::{Applied, Inbox, Reach};

/// Where the socket stands, for the banner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkStatus {
    Connecting,
    Live,
    /// Dropped; trying again (attempt n).
    Reconnecting(u32),
    /// The session ended (logged out elsewhere, or the account was disabled).
    SessionEnded,
}

/// A refused request, ready to show.
#[derive(Clone, Debug, PartialEq)]
pub struct Refused {
    pub code: ErrorCode,
    pub message: String,
    pub detail: Option<ErrorDetail>,
}

/// Why a request sent while the socket was down was refused.
pub fn not_connected() -> String {
    t!("link.not_connected").to_string()
}

/// Why a request whose answer never came (the socket dropped) was refused.
pub fn dropped() -> String {
    t!("link.dropped").to_string()
}

/// What a request came back with.
pub type Answer = Result<Option<AckDetail>, Refused>;

type Pending = HashMap<ReqId, Box<dyn FnOnce(Answer)>>;

struct Socket {
    socket: WebSocket,
    // Kept alive as long as the socket: the browser calls them.
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

thread_local! {
    static SOCKET: RefCell<Option<Socket>> = const { RefCell::new(None) };
    static PENDING: RefCell<Pending> = RefCell::new(HashMap::new());
    /// Conversations being asked for again after a gap.
    static GAPS: RefCell<std::collections::HashSet<ConversationId>> = RefCell::new(std::collections::HashSet::new());
    static NEXT_REQ: Cell<ReqId> = const { Cell::new(1) };
    /// When the socket last opened (ms since the epoch), to tell a drop from a flapping server.
    static OPENED_AT: Cell<f64> = const { Cell::new(0.0) };
    /// Set when the user logs out: no more reconnecting.
    static STOPPED: Cell<bool> = const { Cell::new(false) };
}

/// The live connection as views see it.
#[derive(Clone, Copy)]
pub struct Link {
    pub inbox: RwSignal<Inbox>,
    pub status: RwSignal<LinkStatus>,
    /// Bumped whenever the stream resumed after a drop: open views reload what they show.
    pub resumed: RwSignal<u32>,
    /// Why the inbox list could not be loaded, if it could not.
    pub list_error: RwSignal<Option<String>>,
    /// One trigger per conversation followed by a view, fired when its live state (viewers,
    /// typing, drafts) changes: such changes do not wake `inbox` ([`Reach`]).
    live: StoredValue<HashMap<ConversationId, ArcTrigger>>,
}

impl Link {
    /// Connects, and keeps connecting for as long as the page lives.
    pub fn start(inbox: Inbox) -> Link {
        let link = Link {
            inbox: RwSignal::new(inbox),
            status: RwSignal::new(LinkStatus::Connecting),
            resumed: RwSignal::new(0),
            list_error: RwSignal::new(None),
            live: StoredValue::new(HashMap::new()),
        };
        STOPPED.with(|stopped| stopped.set(false));
        link.connect(0);
        link
    }

    /// Makes the calling view (or memo) follow the live state — viewers, typing, drafts — of
    /// `conversation`, which changes without waking the rest of the inbox. Read it with
    /// `inbox.with`, as everything else.
    pub fn track_live(self, conversation: ConversationId) {
        let mut trigger = None;
        self.live.update_value(|live| trigger = Some(live.entry(conversation).or_insert_with(ArcTrigger::new).clone()));
        if let Some(trigger) = trigger {
            trigger.track();
        }
    }

    /// Closes the socket for good (the user logged out).
    pub fn stop(self) {
        STOPPED.with(|stopped| stopped.set(true));
        if let Some(socket) = SOCKET.with_borrow_mut(Option::take) {
            socket.socket.set_onclose(None);
            let _ = socket.socket.close();
        }
        PENDING.with_borrow_mut(HashMap::clear);
    }

    /// Sends a request; `done` gets its ack or error (or a refusal if the socket is down).
    pub fn request(self, make: impl FnOnce(ReqId) -> ClientMsg, done: impl FnOnce(Answer) + 'static) {
        let req_id = NEXT_REQ.with(|next| {
            let id = next.get();
            next.set(id + 1);
            id
        });
        let message = make(req_id);
        let sent = serde_json::to_string(&message)
            .ok()
            .and_then(|text| {
                SOCKET.with_borrow(|socket| socket.as_ref().map(|s| s.socket.send_with_str(&text).is_ok()))
            })
            .unwrap_or(false);
        if sent && self.status.get_untracked() == LinkStatus::Live {
            PENDING.with_borrow_mut(|pending| pending.insert(req_id, Box::new(done)));
        } else {
            done(Err(Refused { code: ErrorCode::Unavailable, message: not_connected(), detail: None }));
        }
    }

    /// Clears `shown` when the connection is back, if all it says is that the connection was
    /// down ([`not_connected`], [`dropped`]): that is no longer true, and other sentences stay.
    pub fn forget_when_live(self, shown: RwSignal<Option<String>>) {
        Effect::new(move |_| {
            let stale = shown.with_untracked(|text| {
                text.as_ref().is_some_and(|text| *text == not_connected() || *text == dropped())
            });
            if self.status.get() == LinkStatus::Live && stale {
                shown.set(None);
            }
        });
    }

    /// Sends a request whose answer only matters if it failed (shown in the console).
    pub fn send(self, make: impl FnOnce(ReqId) -> ClientMsg) {
        self.request(make, |answer| {
            if let Err(refused) = answer {
                web_sys::console::warn_1(&refused.message.into());
            }
        });
    }

    fn connect(self, attempt: u32) {
        if STOPPED.with(Cell::get) {
            return;
        }
        let Some(url) = socket_url() else { return };
        let Ok(socket) = WebSocket::new(&url) else {
            self.retry(attempt + 1);
            return;
        };
        let on_open = Closure::<dyn FnMut()>::new(move || self.opened());
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(text) = event.data().as_string() {
                self.received(&text);
            }
        });
        let on_close =
            Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| self.closed(event.code(), attempt));
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        SOCKET.with_borrow_mut(|slot| {
            *slot = Some(Socket { socket, _on_open: on_open, _on_message: on_message, _on_close: on_close });
        });
    }

    fn opened(self) {
        let first = self.status.get_untracked() == LinkStatus::Connecting;
        OPENED_AT.with(|at| at.set(js_sys::Date::now()));
        self.status.set(LinkStatus::Live);
        // The list first (conversations that appeared, or went away, meanwhile), then the stream
        // from every held conversation's cursor: nothing between the two is lost, because a
        // conversation seen first through an event that does not start it is asked for again.
        spawn_local(async move {
            match api::conversations().await {
                Ok(list) => {
                    self.list_error.set(None);
                    self.inbox.update(|inbox| inbox.load_list(list));
                }
                Err(failure) => self.list_error.set(Some(failure.message)),
            }
            self.subscribe();
            if !first {
                self.resumed.update(|count| *count += 1);
            }
        });
    }

    fn subscribe(self) {
        let cursors = self.inbox.with_untracked(|inbox| {
            inbox
                .cursors()
                .into_iter()
                .map(|(conversation_id, after_seq)| Cursor { conversation_id, after_seq })
                .collect()
        });
        self.send(|req_id| ClientMsg::SubscribeInbox { req_id, cursors });
        if let Some(open) = self.inbox.with_untracked(|inbox| inbox.open) {
            self.announce_open(open);
        }
    }

    /// Claims `conversation` unless the user holds it already. Sending needs the claim; typing
    /// takes it, but a restored draft, an attachment or a template may be sent without a
    /// keystroke. Requests on one socket are handled in order, so the claim is settled before a
    /// send that follows (and if a teammate holds it, that send says so).
    pub fn claim_unless_held(self, conversation: ConversationId) {
        if !self.inbox.with_untracked(|inbox| inbox.holds_claim(conversation)) {
            self.send(move |req_id| ClientMsg::Claim { req_id, conversation_id: conversation });
        }
    }

    /// Tells the server the user looks at `conversation` (viewers, read receipts).
    pub fn announce_open(self, conversation: ConversationId) {
        let after_seq = self.inbox.with_untracked(|inbox| {
            inbox.conversations.get(&conversation).map(|view| view.conversation.last_seq).unwrap_or(0)
        });
        self.send(|req_id| ClientMsg::Open { req_id, conversation_id: conversation, after_seq });
    }

    fn received(self, text: &str) {
        let message = match serde_json::from_str::<ServerMsg>(text) {
            Ok(message) => message,
            Err(error) => {
                web_sys::console::warn_1(&format!("Baton sent a message this app does not understand: {error}").into());
                return;
            }
        };
        match &message {
            ServerMsg::Ack { req_id, detail } => answer(*req_id, Ok(detail.clone())),
            ServerMsg::Error { req_id: Some(req_id), code, message, detail } => {
                answer(*req_id, Err(Refused { code: *code, message: message.clone(), detail: detail.clone() }))
            }
            _ => {}
        }
        let mut applied = Applied::Nothing;
        match Reach::of(&message) {
            Reach::Inbox => self.inbox.update(|inbox| applied = inbox.apply(&message)),
            // A draft frame (or typing, or viewers) re-renders that conversation's card and
            // composer, not every list and memo reading the inbox.
            Reach::Live(conversation) => {
                self.inbox.update_untracked(|inbox| applied = inbox.apply(&message));
                if applied == Applied::Changed {
                    self.live.with_value(|live| {
                        if let Some(trigger) = live.get(&conversation) {
                            trigger.notify();
                        }
                    });
                }
            }
        }
        if let Applied::Gap { conversation, after_seq } = applied {
            // Missed something: ask again from what is held (once until the answer comes);
            // repeats are ignored by seq.
            if GAPS.with_borrow_mut(|gaps| gaps.insert(conversation)) {
                if after_seq == 0 {
                    // One the app never held (it was assigned or moved to where the user sees
                    // it): read as it is now, then followed from there. Replaying its history
                    // would pass through times the user could not see it, and drop it there.
                    spawn_local(async move {
                        match crate::api::conversation(conversation).await {
                            Ok(detail) => {
                                let after_seq = detail.conversation.last_seq;
                                self.inbox.update(|inbox| {
                                    inbox.load_detail(detail);
                                });
                                self.follow_from(conversation, after_seq);
                            }
                            Err(_) => {
                                GAPS.with_borrow_mut(|gaps| gaps.remove(&conversation));
                            }
                        }
                    });
                } else {
                    self.follow_from(conversation, after_seq);
                }
            }
        }
    }

    /// Asks for `conversation`'s events after `after_seq` (once until the answer comes; repeats
    /// are ignored by seq).
    fn follow_from(self, conversation: ConversationId, after_seq: u64) {
        let cursors = vec![Cursor { conversation_id: conversation, after_seq }];
        self.request(
            |req_id| ClientMsg::SubscribeInbox { req_id, cursors },
            move |_| {
                GAPS.with_borrow_mut(|gaps| gaps.remove(&conversation));
            },
        );
    }

    fn closed(self, code: u16, attempt: u32) {
        SOCKET.with_borrow_mut(|slot| *slot = None);
        let refused = PENDING.with_borrow_mut(std::mem::take);
        for (_, done) in refused {
            done(Err(Refused { code: ErrorCode::Unavailable, message: dropped(), detail: None }));
        }
        if code == CLOSE_SESSION_ENDED {
            self.status.set(LinkStatus::SessionEnded);
            return;
        }
        GAPS.with_borrow_mut(std::collections::HashSet::clear);
        let was_live = self.status.get_untracked() == LinkStatus::Live;
        if !was_live {
            // Never opened: perhaps the session is gone (the handshake was refused with 401,
            // which a browser reports only as a close). Ask, and stop if so.
            spawn_local(async move {
                if let Ok(None) = api::me().await {
                    STOPPED.with(|stopped| stopped.set(true));
                    self.status.set(LinkStatus::SessionEnded);
                }
            });
        }
        // A socket that was up for a while starts the backoff afresh; one closed right after it
        // opened (a server refusing us again and again) keeps backing off.
        let lasted = js_sys::Date::now() - OPENED_AT.with(Cell::get);
        self.retry(if was_live && lasted > 10_000.0 { 1 } else { attempt + 1 });
    }

    fn retry(self, attempt: u32) {
        if STOPPED.with(Cell::get) {
            return;
        }
        self.status.set(LinkStatus::Reconnecting(attempt));
        // 0.25 s, 0.5 s, 1 s … capped at 10 s.
        let delay = 250u64.saturating_mul(1 << attempt.saturating_sub(1).min(6)).min(10_000);
        set_timeout(move || self.connect(attempt), Duration::from_millis(delay));
    }
}

fn answer(req_id: ReqId, answer: Answer) {
    if let Some(done) = PENDING.with_borrow_mut(|pending| pending.remove(&req_id)) {
        done(answer);
    }
}

fn socket_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
    Some(format!("{scheme}://{}/ws", location.host().ok()?))
}

/// A fresh idempotency key for a send.
pub fn idempotency_key() -> String {
    let random = (js_sys::Math::random() * 1e15) as u64;
    format!("web-{}-{random:x}", js_sys::Date::now() as u64)
}
