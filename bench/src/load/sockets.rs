//! The generator's sockets: what each one is for ([`Plan`]), the task reading it (draft latency
//! samples, presence frames counted, answers handed to whoever waits for them, closes recorded,
//! all in one [`Tally`] per server), requests sent and answered ([`Client::request`]), and the
//! connect storm ([`storm`]): sockets opened a fixed number at a time, each counted as connected
//! when its `open` / `subscribe_inbox` request is acked.
//!
//! Only the wire protocol is relied on, so the same code drives Baton and the peer.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use baton_bench::Socket;
use baton_shared::ConversationId;
use baton_shared::protocol::{ClientMsg, ReqId};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{Semaphore, oneshot};
use tokio_tungstenite::tungstenite::Message;

/// How long a request may wait for its answer before the run gives up on it.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// What a socket does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Follows the whole inbox (`subscribe_inbox`): receives every draft.
    Supervisor,
    /// Views one conversation (`open`), and types there if `typist`.
    Viewer { conversation: i64, typist: bool },
}

/// One socket to open: whose (its cookie) and what for.
#[derive(Clone, Debug)]
pub struct Plan {
    pub cookie: String,
    pub role: Role,
}

/// Locks a mutex whose holder may have panicked (the data is counters and samples: still usable).
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What every socket of one server saw, gathered by their reading tasks.
pub struct Tally {
    /// Send times are nanoseconds since this instant (the drafts' `t:<ns>`).
    pub epoch: Instant,
    /// `presence` frames received by all sockets.
    pub presence: AtomicU64,
    /// When the last `presence` frame arrived, in ns since `epoch`.
    pub last_presence_ns: AtomicU64,
    /// Draft deliveries: (send time, latency), both in ns.
    pub samples: Mutex<Vec<(u64, u64)>>,
    /// The length of the last draft frame received (the floor sends messages this long).
    pub draft_bytes: AtomicUsize,
    /// Errors answering requests nobody waited for (the typing load's keystrokes), by code.
    pub errors: Mutex<BTreeMap<String, usize>>,
    /// Sockets the server closed, by close code (0: dropped without a close frame).
    pub closed: Mutex<BTreeMap<u16, usize>>,
}

impl Tally {
    pub fn new() -> Arc<Tally> {
        Arc::new(Tally {
            epoch: Instant::now(),
            presence: AtomicU64::new(0),
            last_presence_ns: AtomicU64::new(0),
            samples: Mutex::new(Vec::with_capacity(1 << 22)),
            draft_bytes: AtomicUsize::new(0),
            errors: Mutex::new(BTreeMap::new()),
            closed: Mutex::new(BTreeMap::new()),
        })
    }

    /// Nanoseconds since `epoch`.
    pub fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Sockets closed by the server so far.
    pub fn closed_count(&self) -> usize {
        lock(&self.closed).values().sum()
    }

    /// Closes and unanswered errors so far, for the report ("none" when clean).
    pub fn trouble(&self) -> String {
        let mut parts = Vec::new();
        for (code, count) in lock(&self.closed).iter() {
            let why = match *code {
                0 => "dropped without a close frame".to_owned(),
                baton_shared::protocol::CLOSE_SLOW_CONSUMER => "closed as slow consumers (4008)".to_owned(),
                code => format!("closed with code {code}"),
            };
            parts.push(format!("{count} sockets {why}"));
        }
        for (code, count) in lock(&self.errors).iter() {
            parts.push(format!("{count} `{code}` errors"));
        }
        if parts.is_empty() { "none".to_owned() } else { parts.join(", ") }
    }
}

/// An `ack` or `error` frame, as far as the generator reads it.
#[derive(Debug, serde::Deserialize)]
pub struct Answer {
    #[serde(rename = "type")]
    pub kind: String,
    pub req_id: Option<ReqId>,
    pub code: Option<String>,
    pub detail: Option<Detail>,
    /// When it arrived (set by the reader).
    #[serde(skip, default = "Instant::now")]
    pub at: Instant,
}

/// An answer's `detail`: only its kind (e.g. `claim`) is read.
#[derive(Debug, serde::Deserialize)]
pub struct Detail {
    pub kind: String,
}

impl Answer {
    pub fn is_ack(&self) -> bool {
        self.kind == "ack"
    }

    /// An ack carrying the claim the request took.
    pub fn took_claim(&self) -> bool {
        self.is_ack() && self.detail.as_ref().is_some_and(|detail| detail.kind == "claim")
    }
}

type Waiters = Arc<Mutex<HashMap<ReqId, oneshot::Sender<Answer>>>>;

/// One open socket: its sending half, and the answers its reader hands back.
pub struct Client {
    pub sink: SplitSink<Socket, Message>,
    pub role: Role,
    waiters: Waiters,
    reader: tokio::task::JoinHandle<()>,
    next_req: ReqId,
}

impl Client {
    /// The next request id.
    pub fn req_id(&mut self) -> ReqId {
        self.next_req += 1;
        self.next_req
    }

    /// Sends a request without waiting for its answer (an error answer is counted in the tally).
    pub async fn send(&mut self, request: &ClientMsg) -> anyhow::Result<()> {
        self.sink.send(Message::Text(serde_json::to_string(request)?.into())).await?;
        Ok(())
    }

    /// Sends a request and waits for its answer; returns when it was sent and the answer.
    pub async fn request(&mut self, request: &ClientMsg) -> anyhow::Result<(Instant, Answer)> {
        let (tell, answer) = oneshot::channel();
        lock(&self.waiters).insert(request.req_id(), tell);
        let sent = Instant::now();
        self.send(request).await?;
        let answer = tokio::time::timeout(ANSWER_TIMEOUT, answer)
            .await
            .with_context(|| format!("no answer to {request:?} within {ANSWER_TIMEOUT:?}"))?
            .context("the socket closed before answering")?;
        Ok((sent, answer))
    }

    /// Stops reading (the socket is dropped with the client).
    pub fn stop(&self) {
        self.reader.abort();
    }
}

const DRAFT: &str = "{\"type\":\"draft\"";
const PRESENCE: &str = "{\"type\":\"presence\"";
const ACK: &str = "{\"type\":\"ack\"";
const ERROR: &str = "{\"type\":\"error\"";

/// Reads one socket until it closes: draft latencies and presence frames go to the tally, answers
/// to their waiters (or, errors nobody waits for, to the tally).
async fn read(mut stream: SplitStream<Socket>, tally: Arc<Tally>, waiters: Waiters) {
    let mut close_code = 0;
    while let Some(Ok(message)) = stream.next().await {
        let text = match &message {
            Message::Text(text) => text.as_str(),
            Message::Close(frame) => {
                close_code = frame.as_ref().map_or(1005, |frame| u16::from(frame.code));
                continue;
            }
            _ => continue,
        };
        // Frames are told apart by their first bytes, without parsing: the generator shares the
        // machine's cores with the server, and its own cost shows in the figures.
        if text.starts_with(DRAFT) {
            let sent =
                text.split_once("\"body\":\"t:").and_then(|(_, rest)| rest.split('"').next()?.parse::<u64>().ok());
            if let Some(sent) = sent {
                let latency = tally.now_ns().saturating_sub(sent);
                lock(&tally.samples).push((sent, latency));
                tally.draft_bytes.store(text.len(), Ordering::Relaxed);
            }
        } else if text.starts_with(PRESENCE) {
            tally.presence.fetch_add(1, Ordering::Relaxed);
            tally.last_presence_ns.fetch_max(tally.now_ns(), Ordering::Relaxed);
        } else if text.starts_with(ACK) || text.starts_with(ERROR) {
            let Ok(answer) = serde_json::from_str::<Answer>(text) else { continue };
            let waiter = answer.req_id.and_then(|req_id| lock(&waiters).remove(&req_id));
            match waiter {
                Some(waiter) => {
                    let _ = waiter.send(answer);
                }
                None if !answer.is_ack() => {
                    let code = answer.code.unwrap_or_else(|| "unknown".to_owned());
                    *lock(&tally.errors).entry(code).or_default() += 1;
                }
                None => {}
            }
        }
    }
    *lock(&tally.closed).entry(close_code).or_default() += 1;
}

/// Opens one socket, starts its reader, sends its `open` / `subscribe_inbox` and waits for the ack.
async fn open(base: &str, plan: &Plan, tally: &Arc<Tally>) -> anyhow::Result<Client> {
    let socket = baton_bench::connect(base, &plan.cookie).await?;
    let (sink, stream) = socket.split();
    let waiters: Waiters = Arc::default();
    let reader = tokio::spawn(read(stream, tally.clone(), waiters.clone()));
    let mut client = Client { sink, role: plan.role, waiters, reader, next_req: 0 };
    let req_id = client.req_id();
    let request = match plan.role {
        Role::Viewer { conversation, .. } => {
            // Live events only: no backlog to replay.
            ClientMsg::Open { req_id, conversation_id: ConversationId(conversation), after_seq: 1 << 40 }
        }
        Role::Supervisor => ClientMsg::SubscribeInbox { req_id, cursors: vec![] },
    };
    let (_, answer) = client.request(&request).await?;
    if !answer.is_ack() {
        client.stop();
        anyhow::bail!("{:?} refused: {}", plan.role, answer.code.unwrap_or_default());
    }
    Ok(client)
}

/// Where the storm stood when its `mark`-th socket was acked: time spent connecting, presence
/// frames received so far.
#[derive(Clone, Copy, Debug)]
pub struct Mark {
    pub sockets: usize,
    pub elapsed: Duration,
    pub presence: u64,
}

/// A connect storm in progress, possibly in several batches (a pause between them is not counted).
pub struct Storm {
    base: String,
    tally: Arc<Tally>,
    gate: Arc<Semaphore>,
    /// Sockets acked so far.
    acked: Arc<AtomicUsize>,
    /// Time spent connecting in the batches before this one.
    spent: Duration,
    mark_at: usize,
    mark: Arc<OnceLock<Mark>>,
    /// Sockets that could not be opened, with the first reason.
    pub failed: usize,
    pub first_failure: Option<String>,
}

impl Storm {
    /// A storm against `base`, `concurrency` sockets connecting at a time, remembering where it
    /// stood at the `mark_at`-th acked socket.
    pub fn new(base: &str, tally: &Arc<Tally>, concurrency: usize, mark_at: usize) -> Storm {
        Storm {
            base: base.to_owned(),
            tally: tally.clone(),
            gate: Arc::new(Semaphore::new(concurrency.max(1))),
            acked: Arc::default(),
            spent: Duration::ZERO,
            mark_at,
            mark: Arc::default(),
            failed: 0,
            first_failure: None,
        }
    }

    /// Time spent connecting so far (pauses between batches not counted).
    pub fn elapsed(&self) -> Duration {
        self.spent
    }

    /// Where the storm stood at its mark, if it got there.
    pub fn mark(&self) -> Option<Mark> {
        self.mark.get().copied()
    }

    /// Connects `plans`, in order; returns the sockets opened (failures are counted).
    pub async fn connect(&mut self, plans: &[Plan]) -> Vec<Client> {
        let started = Instant::now();
        let spent = self.spent;
        let mut connecting = Vec::with_capacity(plans.len());
        for plan in plans {
            let (base, plan, tally, gate) = (self.base.clone(), plan.clone(), self.tally.clone(), self.gate.clone());
            let (acked, mark, mark_at) = (self.acked.clone(), self.mark.clone(), self.mark_at);
            connecting.push(tokio::spawn(async move {
                let _permit = gate.acquire_owned().await?;
                let client = open(&base, &plan, &tally).await?;
                if acked.fetch_add(1, Ordering::Relaxed) + 1 == mark_at {
                    let presence = tally.presence.load(Ordering::Relaxed);
                    let _ = mark.set(Mark { sockets: mark_at, elapsed: spent + started.elapsed(), presence });
                }
                anyhow::Ok(client)
            }));
        }
        let mut clients = Vec::with_capacity(plans.len());
        for task in connecting {
            match task.await.map_err(anyhow::Error::from).and_then(|opened| opened) {
                Ok(client) => clients.push(client),
                Err(error) => {
                    self.failed += 1;
                    self.first_failure.get_or_insert_with(|| format!("{error:#}"));
                }
            }
        }
        self.spent += started.elapsed();
        clients
    }
}

/// Waits until no `presence` frame arrived for `quiet` (at most `limit`); returns how long
/// presence kept arriving after the call.
pub async fn presence_quiet(tally: &Tally, quiet: Duration, limit: Duration) -> Duration {
    let from = tally.now_ns();
    let deadline = Instant::now() + limit;
    loop {
        let last = tally.last_presence_ns.load(Ordering::Relaxed).max(from);
        let since = tally.now_ns().saturating_sub(last);
        if Duration::from_nanos(since) >= quiet || Instant::now() >= deadline {
            return Duration::from_nanos(last.saturating_sub(from));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
