//! One soak socket: a [`Peer`] (who it is, and its position in every conversation, which outlives
//! its connections) and its current [`Link`] (the WebSocket, a reader task that checks every frame
//! as it arrives, and the requests waiting for their answers).
//!
//! Links are cut the hard way: the TCP socket is set to linger zero, so dropping it sends a reset,
//! with no WebSocket close handshake — what a laptop lid or a dead Wi-Fi does.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_bench::Socket;
use baton_shared::ConversationId;
use baton_shared::error::ErrorCode;
use baton_shared::protocol::{ClientMsg, Cursor, ReqId, ServerMsg};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::Message;

use crate::stream::{Positions, Role, Tally};

/// How long a request waits for its answer before it counts as unanswered.
const ANSWER_WAIT: Duration = Duration::from_secs(10);

/// A socket's owner and what it holds, across its connections.
pub struct Peer {
    pub name: String,
    pub role: Role,
    /// Follows the whole inbox (supervisors, and agents driven as the web app does), besides the
    /// conversations it opens.
    pub follows_inbox: bool,
    pub cookie: String,
    pub tally: Arc<Tally>,
    pub state: Mutex<PeerState>,
}

#[derive(Default)]
pub struct PeerState {
    pub positions: Positions,
    /// The conversations it has open.
    pub open: HashSet<ConversationId>,
    /// Events received on the current connection.
    pub since_connect: u64,
    /// `open` requests waiting for their answer on a conversation the socket already follows
    /// (through the inbox), with the cursor each sent. Until the answer, the server may send
    /// again events after that cursor that the socket already holds: the protocol lets a client
    /// that asks again receive repeats, and ignore them. They are counted apart, not as
    /// duplicates; after the answer, a repeat is a duplicate again.
    pub reasking: HashMap<ReqId, (ConversationId, u64)>,
}

impl PeerState {
    /// Whether `seq` repeats an event held, inside the window an `open` on a followed
    /// conversation allows.
    fn allowed_repeat(&self, conversation: ConversationId, seq: u64) -> bool {
        seq <= self.positions.held(conversation)
            && self.reasking.values().any(|&(asked, cursor)| asked == conversation && seq > cursor)
    }
}

impl Peer {
    pub fn new(name: String, role: Role, follows_inbox: bool, cookie: String, tally: Arc<Tally>) -> Arc<Peer> {
        Arc::new(Peer { name, role, follows_inbox, cookie, tally, state: Mutex::new(PeerState::default()) })
    }

    /// Its state (never held across an await).
    pub fn lock(&self) -> std::sync::MutexGuard<'_, PeerState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Checks and counts one frame from the server; hands answers to the requests waiting.
    fn receive(&self, message: ServerMsg, pending: &Pending) {
        match message {
            ServerMsg::Event { event } => {
                let mut state = self.lock();
                if state.allowed_repeat(event.conversation_id, event.seq) {
                    drop(state);
                    self.tally.lock().repeats += 1;
                    return;
                }
                let held = state.positions.held(event.conversation_id);
                let defect = state.positions.place(event.conversation_id, event.seq);
                let since_connect = state.since_connect;
                state.since_connect += 1;
                let stray = !self.follows_inbox && !state.open.contains(&event.conversation_id);
                drop(state);
                self.tally.event(&self.name, self.role, &event, held, defect, since_connect);
                if stray {
                    self.tally.lock().after_close += 1;
                }
            }
            ServerMsg::Resync { conversation } => {
                self.lock().positions.resync(conversation.id, conversation.last_seq);
                self.tally.lock().resyncs += 1;
            }
            ServerMsg::Ack { req_id, .. } => {
                self.lock().reasking.remove(&req_id);
                answer(pending, req_id, Answer::Done);
            }
            ServerMsg::Error { req_id, code, .. } => {
                if let Some(req_id) = req_id {
                    self.lock().reasking.remove(&req_id);
                }
                *self.tally.lock().refusals.entry(code.as_str().to_owned()).or_default() += 1;
                match req_id {
                    Some(req_id) => answer(pending, req_id, Answer::Refused(code)),
                    None => *self.tally.lock().signals.entry("error without req_id").or_default() += 1,
                }
            }
            other => *self.tally.lock().signals.entry(signal_name(&other)).or_default() += 1,
        }
    }
}

/// How the server answered a request.
pub enum Answer {
    Done,
    Refused(ErrorCode),
    /// No answer: the connection went, or the server took longer than [`ANSWER_WAIT`].
    Unanswered,
}

type Pending = Arc<Mutex<HashMap<ReqId, oneshot::Sender<Answer>>>>;

fn answer(pending: &Pending, req_id: ReqId, answer: Answer) {
    let waiting = pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&req_id);
    if let Some(waiting) = waiting {
        // The request may have stopped waiting (timed out): then nobody needs the answer.
        waiting.send(answer).ok();
    }
}

/// One connection of a [`Peer`].
pub struct Link {
    sink: SplitSink<Socket, Message>,
    reader: JoinHandle<String>,
    /// The reader's end (a close code, or why the connection broke), once seen.
    ended: Option<String>,
    pending: Pending,
    next_req_id: ReqId,
}

impl Link {
    /// Connects as `peer`; the reader starts checking frames at once.
    pub async fn connect(base: &str, peer: &Arc<Peer>) -> anyhow::Result<Link> {
        let socket = baton_bench::connect(base, &peer.cookie).await?;
        if let MaybeTlsStream::Plain(tcp) = socket.get_ref() {
            tcp.set_zero_linger()?;
        }
        let (sink, stream) = socket.split();
        {
            let mut state = peer.lock();
            state.since_connect = 0;
            state.reasking.clear();
        }
        let pending = Pending::default();
        let reader = tokio::spawn(read(stream, peer.clone(), pending.clone()));
        Ok(Link { sink, reader, ended: None, pending, next_req_id: 0 })
    }

    /// Sends a request and waits for its answer.
    pub async fn request(&mut self, build: impl FnOnce(ReqId) -> ClientMsg) -> anyhow::Result<Answer> {
        self.next_req_id += 1;
        let request = build(self.next_req_id);
        let (sender, receiver) = oneshot::channel();
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(self.next_req_id, sender);
        let text = serde_json::to_string(&request)?;
        if self.sink.send(Message::Text(text.into())).await.is_err() {
            return Ok(Answer::Unanswered);
        }
        match tokio::time::timeout(ANSWER_WAIT, receiver).await {
            Ok(Ok(answer)) => Ok(answer),
            // The reader ended (it drops the waiting requests) or the server took too long.
            Ok(Err(_)) | Err(_) => Ok(Answer::Unanswered),
        }
    }

    /// Resolves when the server ends the connection: its close code, or what broke.
    pub async fn ended(&mut self) -> String {
        if let Some(ended) = &self.ended {
            return ended.clone();
        }
        let ended = match (&mut self.reader).await {
            Ok(ended) => ended,
            Err(error) => format!("reader failed: {error}"),
        };
        self.ended = Some(ended.clone());
        ended
    }

    /// Cuts the connection: no close frame, a TCP reset. Answers still on their way are lost.
    pub fn cut(self) {
        self.reader.abort();
        drop(self.sink);
    }
}

/// Reads until the connection ends; returns its close code (or what ended it).
async fn read(mut stream: SplitStream<Socket>, peer: Arc<Peer>, pending: Pending) -> String {
    let ended = loop {
        match stream.next().await {
            Some(Ok(Message::Text(text))) => match serde_json::from_str::<ServerMsg>(text.as_str()) {
                Ok(message) => peer.receive(message, &pending),
                Err(_) => *peer.tally.lock().signals.entry("unreadable frame").or_default() += 1,
            },
            Some(Ok(Message::Close(frame))) => {
                break frame
                    .map_or_else(|| "close without a code".to_owned(), |frame| u16::from(frame.code).to_string());
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => break format!("broken: {error}"),
            None => break "ended without a close frame".to_owned(),
        }
    };
    // Nobody will answer the requests still waiting.
    pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    ended
}

/// The `type` of a frame that is neither an event nor an answer.
fn signal_name(message: &ServerMsg) -> &'static str {
    match message {
        ServerMsg::Hello { .. } => "hello",
        ServerMsg::Presence { .. } => "presence",
        ServerMsg::Viewers { .. } => "viewers",
        ServerMsg::Typing { .. } => "typing",
        ServerMsg::Draft { .. } => "draft",
        ServerMsg::Mentioned { .. } => "mentioned",
        ServerMsg::ChannelAlert { .. } => "channel_alert",
        ServerMsg::ContactChanged { .. } => "contact_changed",
        ServerMsg::Ack { .. } => "ack",
        ServerMsg::Error { .. } => "error",
        ServerMsg::Event { .. } => "event",
        ServerMsg::Resync { .. } => "resync",
    }
}

/// Follows the inbox from the seq `peer` holds in each of `conversations`.
pub async fn subscribe(link: &mut Link, peer: &Peer, conversations: &[ConversationId]) -> anyhow::Result<Answer> {
    let cursors: Vec<Cursor> = {
        let state = peer.lock();
        conversations
            .iter()
            .map(|&conversation_id| Cursor { conversation_id, after_seq: state.positions.held(conversation_id) })
            .collect()
    };
    link.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors }).await
}

/// Opens a conversation from the seq `peer` holds there. For a socket that follows the inbox
/// (so already receives the conversation), repeats of what it holds are allowed until the answer.
pub async fn open(link: &mut Link, peer: &Peer, conversation_id: ConversationId) -> anyhow::Result<Answer> {
    let after_seq = peer.lock().positions.held(conversation_id);
    link.request(|req_id| {
        if peer.follows_inbox {
            peer.lock().reasking.insert(req_id, (conversation_id, after_seq));
        }
        ClientMsg::Open { req_id, conversation_id, after_seq }
    })
    .await
}
