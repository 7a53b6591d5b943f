//! Sends across a restart (issue 12, defect 3). Meta has no idempotency key: a process that stops
//! after Meta's 200 and before the wamid is stored must not send the reply again. Each send is
//! tagged (`biz_opaque_callback_data`) and its outbox row marked in flight before the POST.
//!
//! - Store (both databases): a status carrying the tag of a send in flight adopts its wamid and
//!   applies; a status with any other tag is only kept; the send's late answer changes nothing;
//!   recording an answer clears the mark; `hold_in_flight` pushes interrupted sends back.
//! - On tokio's paused clock, against the simulator (both databases): a server started on a
//!   database a stopped server left with a send in flight waits the configured time — not a
//!   millisecond less — then sends the reply again under a new tag; when the simulator had in fact
//!   accepted that send, its status webhook adopts the wamid and nothing is sent again, even long
//!   after the wait. The same when a proxy loses WhatsApp's answer to a send (no crash at all).
//!
//! `whatsapp_crash.rs` kills the real binary with SIGKILL while agents send.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use baton_server::accounts::{self, NewAccount};
use baton_server::clock::Clock;
use baton_server::passwords::Passwords;
use baton_server::store::Store;
use baton_server::store::channel::{OutboxItem, StatusWrite};
use baton_server::store::conversations::{ClaimOutcome, InboundOutcome, NewInbound, NewReply, ReplyOutcome};
use baton_shared::api::Role;
use baton_shared::model::{Change, DeliveryStatus, Message};
use baton_simulator::{Simulator, StatusProgression};
use baton_tests::database::{Kind, TestDatabase};
use baton_tests::paused::{on_paused_clock, until, until_some};
use baton_tests::server::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CUSTOMER: &str = "15550009999";

/// What a stopped server left behind: a message of `customer`, an agent's reply to it, queued.
async fn queued_reply(
    store: &Arc<dyn Store>,
    customer: &str,
    body: &str,
    now: i64,
) -> anyhow::Result<(Message, OutboxItem)> {
    let agent = accounts::create(
        store.as_ref(),
        &Passwords::new()?,
        NewAccount {
            email: format!("agent-{}@test.baton", uuid::Uuid::new_v4().simple()),
            name: "Agent".into(),
            role: Role::Agent,
            password: "agent-password-1".into(),
        },
        None,
        Clock::Wall,
    )
    .await
    .map_err(|error| anyhow::anyhow!("{error}"))?;
    let inbound = NewInbound {
        wa_id: customer.into(),
        profile_name: "Customer".into(),
        wa_message_id: format!("wamid.in.{}", uuid::Uuid::new_v4().simple()),
        kind: "text".into(),
        body: "Where is my parcel?".into(),
        at: now,
        ..Default::default()
    };
    let InboundOutcome::Recorded { conversation_id, .. } = store.record_inbound(&inbound, now).await? else {
        anyhow::bail!("the customer's message was a duplicate")
    };
    let claimed = store.claim(conversation_id, agent.id, now + 3_600_000, now).await?;
    anyhow::ensure!(matches!(claimed, ClaimOutcome::Held { .. }), "claim: {claimed:?}");
    let reply = NewReply {
        conversation_id,
        author: agent.id,
        body: body.into(),
        idempotency_key: body.into(),
        seen_seq: 0,
        force: true,
        content: Default::default(),
        reply_to: None,
    };
    let ReplyOutcome::Sent { message, .. } = store.send_reply(&reply, now).await? else {
        anyhow::bail!("reply not stored")
    };
    let item = queued(store, &message).await?.ok_or_else(|| anyhow::anyhow!("the reply was not queued"))?;
    Ok((message, item))
}

/// The reply's outbox row, while it is pending.
async fn queued(store: &Arc<dyn Store>, message: &Message) -> anyhow::Result<Option<OutboxItem>> {
    Ok(store.due_outbox(i64::MAX, 100).await?.into_iter().find(|item| item.message_id == message.id))
}

async fn stored(store: &Arc<dyn Store>, message: &Message) -> anyhow::Result<Message> {
    store.message(message.id).await?.ok_or_else(|| anyhow::anyhow!("message {} is gone", message.id.0))
}

fn tagged(wamid: &str, status: DeliveryStatus, tag: &str) -> StatusWrite {
    StatusWrite { wa_message_id: wamid.into(), status, error: None, callback_data: Some(tag.into()) }
}

async fn a_tagged_status_adopts_the_send_in_flight(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let store = &server.state.store;
    let now = baton_server::clock::now_ms();
    let (reply, item) = queued_reply(store, CUSTOMER, "Tomorrow morning", now).await?;
    assert_eq!(item.in_flight, None);

    // Marked before the POST: not due again until the answer's deadline.
    assert!(store.begin_send(item.id, "tag-one", now + 30_000, now).await?);
    assert!(store.due_outbox(now + 29_999, 100).await?.is_empty(), "due before the deadline");
    let pending = queued(store, &reply).await?.ok_or_else(|| anyhow::anyhow!("not pending"))?;
    assert_eq!(pending.in_flight.as_deref(), Some("tag-one"));

    // Another send's tag (an earlier attempt, another database) adopts nothing.
    assert_eq!(store.apply_status(&tagged("wamid.other", DeliveryStatus::Delivered, "tag-two"), now).await?, []);
    assert_eq!(stored(store, &reply).await?.wa_message_id, None);

    // The send's own tag: WhatsApp accepted it as `wamid.one`, whatever became of its answer.
    let events = store.apply_status(&tagged("wamid.one", DeliveryStatus::Delivered, "tag-one"), now).await?;
    assert!(
        events.iter().any(|event| matches!(&event.change,
            Change::MessageStatus { message_id, status: DeliveryStatus::Delivered, .. } if *message_id == reply.id)),
        "{events:?}"
    );
    let adopted = stored(store, &reply).await?;
    assert_eq!((adopted.wa_message_id.as_deref(), adopted.status), (Some("wamid.one"), DeliveryStatus::Delivered));
    assert!(queued(store, &reply).await?.is_none(), "adopted: no longer in the outbox");

    // The send's answer, recorded late, agrees and changes nothing; later statuses apply by wamid.
    assert_eq!(store.message_accepted(reply.id, "wamid.one", now).await?, []);
    assert_eq!(stored(store, &reply).await?.status, DeliveryStatus::Delivered);
    assert!(!store.apply_status(&tagged("wamid.one", DeliveryStatus::Read, "tag-one"), now).await?.is_empty());
    assert_eq!(stored(store, &reply).await?.status, DeliveryStatus::Read);

    // A recorded answer clears the mark: a retried send is not "in flight" after a restart.
    let (second, item) = queued_reply(store, "15550008888", "The day after", now).await?;
    assert!(store.begin_send(item.id, "tag-three", now + 30_000, now).await?);
    store.retry_outbox(item.id, now + 1_000, "Graph API unreachable").await?;
    assert_eq!(queued(store, &second).await?.and_then(|item| item.in_flight), None);
    assert_eq!(store.hold_in_flight(now + 60_000).await?, 0, "nothing in flight");
    assert_eq!(store.due_outbox(now + 1_000, 100).await?.len(), 1);

    // At start, sends interrupted by a stop wait from then on.
    assert!(store.begin_send(item.id, "tag-four", now + 2_000, now + 1_000).await?);
    assert_eq!(store.hold_in_flight(now + 60_000).await?, 1);
    assert!(store.due_outbox(now + 59_999, 100).await?.is_empty());
    let due = store.due_outbox(now + 60_000, 100).await?;
    assert_eq!(due.iter().map(|item| item.in_flight.as_deref()).collect::<Vec<_>>(), [Some("tag-four")]);
    Ok(())
}

baton_tests::on_both_kinds!(a_tagged_status_adopts_the_send_in_flight);

/// How long the paused-clock tests wait for an interrupted send's status: the production default.
const WAIT: Duration = baton_server::whatsapp::DEFAULT_IN_FLIGHT_WAIT;

/// A database left by a server that stopped while the reply was on its way under `tag`; then the
/// simulator, and a server started on that database (on the paused clock).
async fn restart_after_interrupted_send(kind: Kind) -> anyhow::Result<(TestServer, Simulator, Message, String)> {
    let database = TestDatabase::new(kind).await?;
    let store = database.open().await?;
    let now = baton_server::clock::now_ms();
    let (reply, item) = queued_reply(&store, CUSTOMER, "Your parcel left the depot", now).await?;
    let tag = format!("baton-outbox-{}-0123456789abcdef", item.id);
    assert!(store.begin_send(item.id, &tag, now + 30_000, now).await?);
    drop(store);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let simulator = Simulator::start(baton_simulator::Config::default(), listener).await?;
    // The customer wrote (the stopped server recorded it): the window is open.
    simulator.open_window(CUSTOMER);
    let server = baton_tests::whatsapp::serve_on(&simulator, database, |config| {
        config.clock = Clock::following_tokio();
        config.whatsapp.in_flight_wait = WAIT;
    })
    .await?;
    settle(&server).await?;
    Ok((server, simulator, reply, tag))
}

/// Waits (in real time) until the sender has handled everything due now.
async fn settle(server: &TestServer) -> anyhow::Result<()> {
    let sender = &server.state.whatsapp.sender;
    let wake = sender.wake();
    until("a pass of the sender", || sender.served() >= wake).await
}

async fn advance(server: &TestServer, by: Duration) -> anyhow::Result<()> {
    tokio::time::advance(by).await;
    settle(server).await
}

/// The tags of the sends the simulator received.
fn sent_tags(simulator: &Simulator) -> Vec<Option<String>> {
    simulator
        .message_requests()
        .iter()
        .map(|request| {
            let json = request.json.as_ref();
            json.and_then(|json| json["biz_opaque_callback_data"].as_str()).map(str::to_owned)
        })
        .collect()
}

async fn without_a_status_it_is_sent_again_after_the_wait(kind: Kind) -> anyhow::Result<()> {
    let (server, simulator, reply, tag) = restart_after_interrupted_send(kind).await?;
    advance(&server, WAIT - Duration::from_millis(1)).await?;
    assert_eq!(sent_tags(&simulator), Vec::<Option<String>>::new(), "sent again before the wait was over");
    advance(&server, Duration::from_millis(1)).await?;
    let tags = sent_tags(&simulator);
    assert_eq!(tags.len(), 1, "sent again once the wait was over: {tags:?}");
    let new_tag = tags[0].clone().ok_or_else(|| anyhow::anyhow!("the send carries no tag"))?;
    let outbox_id = tag.rsplit_once('-').map(|(outbox, _nonce)| outbox).unwrap_or_default();
    assert!(new_tag.starts_with(&format!("{outbox_id}-")) && new_tag != tag, "{new_tag} after {tag}");
    let sent = until_some("the send's answer", || async {
        let message = stored(&server.state.store, &reply).await?;
        Ok(message.wa_message_id.is_some().then_some(message))
    })
    .await?;
    assert_eq!(sent.status, DeliveryStatus::Sent);
    Ok(())
}

async fn a_status_carrying_the_tag_is_adopted_and_nothing_is_sent_again(kind: Kind) -> anyhow::Result<()> {
    let (server, simulator, reply, tag) = restart_after_interrupted_send(kind).await?;
    // What the stopped process had done: WhatsApp accepted the tagged send.
    let graph = server.state.whatsapp.graph.clone().ok_or_else(|| anyhow::anyhow!("no Graph client"))?;
    let send = baton_whatsapp::graph::SendMessage::text(format!("+{CUSTOMER}"), reply.body.clone(), false)
        .with_callback_data(tag.clone());
    let wamid = graph.send(&send).await.map_err(|error| anyhow::anyhow!("{error:?}"))?;
    // Its `sent` status follows half a second later and is adopted.
    advance(&server, Duration::from_millis(500)).await?;
    let adopted = until_some("the tagged status", || async {
        let message = stored(&server.state.store, &reply).await?;
        Ok(message.wa_message_id.is_some().then_some(message))
    })
    .await?;
    assert_eq!((adopted.wa_message_id.as_deref(), adopted.status), (Some(wamid.as_str()), DeliveryStatus::Sent));
    // Long after the wait: still the one send, and later statuses follow it.
    for _ in 0..4 {
        advance(&server, WAIT).await?;
    }
    assert_eq!(sent_tags(&simulator), [Some(tag)], "the adopted reply was sent again");
    // The `read` webhook reaches Baton, retried by the simulator's clock if a first try failed
    // (a loaded machine): time moves on a second at a time until it has.
    for _ in 0..120 {
        if stored(&server.state.store, &reply).await?.status == DeliveryStatus::Read {
            return Ok(());
        }
        advance(&server, Duration::from_secs(1)).await?;
    }
    anyhow::bail!("the read status never arrived")
}

/// Stands between Baton and the simulator and forwards every request, but cuts the connection
/// instead of passing the answer back for the first `drops` sends: WhatsApp accepted them and
/// their answers were lost on the way. Returns its base URL.
async fn answer_losing_proxy(target: String, drops: usize) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let drops = Arc::new(AtomicUsize::new(drops));
    let http = reqwest::Client::new();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let relayed = relay(stream, target.clone(), http.clone(), drops.clone());
            tokio::spawn(async move {
                if let Err(error) = relayed.await {
                    eprintln!("proxy: {error:#}");
                }
            });
        }
    });
    Ok(format!("http://{address}"))
}

/// One request of one connection (answers close it).
async fn relay(
    mut stream: tokio::net::TcpStream,
    target: String,
    http: reqwest::Client,
    drops: Arc<AtomicUsize>,
) -> anyhow::Result<()> {
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 8192];
    let head_end = loop {
        let read = stream.read(&mut chunk).await?;
        anyhow::ensure!(read > 0, "the connection closed mid-request");
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let (method, path) = (request_line.next().unwrap_or_default(), request_line.next().unwrap_or_default());
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let header = |wanted: &str| headers.iter().find(|(name, _)| name == wanted).map(|(_, value)| value.clone());
    let length: usize = header("content-length").map(|length| length.parse()).transpose()?.unwrap_or(0);
    while buffer.len() < head_end + length {
        let read = stream.read(&mut chunk).await?;
        anyhow::ensure!(read > 0, "the connection closed mid-body");
        buffer.extend_from_slice(&chunk[..read]);
    }
    let mut forward = http.request(method.parse()?, format!("{target}{path}")).body(buffer[head_end..].to_vec());
    for name in ["authorization", "content-type"] {
        if let Some(value) = header(name) {
            forward = forward.header(name, value);
        }
    }
    let answer = forward.send().await?;
    let status = answer.status();
    let body = answer.bytes().await?;
    let is_send = path.ends_with("/messages") && String::from_utf8_lossy(&buffer).contains("biz_opaque_callback_data");
    if is_send && drops.fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| left.checked_sub(1)).is_ok() {
        return Ok(()); // Dropped: the connection closes without an answer.
    }
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&body).await?;
    stream.shutdown().await?;
    Ok(())
}

/// A queued reply, and a server whose first send of it reaches the simulator but whose answer is
/// lost (on the paused clock).
async fn answer_lost(kind: Kind, progression: StatusProgression) -> anyhow::Result<(TestServer, Simulator, Message)> {
    let database = TestDatabase::new(kind).await?;
    let store = database.open().await?;
    let (reply, _) = queued_reply(&store, CUSTOMER, "Packed and on its way", baton_server::clock::now_ms()).await?;
    drop(store);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let simulator = Simulator::start(baton_simulator::Config::default(), listener).await?;
    simulator.open_window(CUSTOMER);
    simulator.set_status_progression(progression);
    let proxy = answer_losing_proxy(simulator.graph_url(), 1).await?;
    let server = baton_tests::whatsapp::serve_on(&simulator, database, |config| {
        config.clock = Clock::following_tokio();
        config.whatsapp.in_flight_wait = WAIT;
        config.whatsapp.graph_url = proxy;
    })
    .await?;
    until("the send", || simulator.message_requests().len() == 1).await?;
    until_some("the lost answer recorded", || async {
        Ok(queued(&server.state.store, &reply).await?.filter(|item| item.attempts == 1))
    })
    .await?;
    settle(&server).await?;
    Ok((server, simulator, reply))
}

/// The wamids the simulator gave the sends it accepted, in order.
fn accepted_wamids(simulator: &Simulator) -> Vec<String> {
    simulator.message_requests().iter().filter_map(|request| request.message_id().map(str::to_owned)).collect()
}

async fn a_lost_answer_is_made_good_by_the_sends_status(kind: Kind) -> anyhow::Result<()> {
    let (server, simulator, reply) = answer_lost(kind, StatusProgression::default()).await?;
    advance(&server, Duration::from_millis(500)).await?;
    let adopted = until_some("the tagged status", || async {
        let message = stored(&server.state.store, &reply).await?;
        Ok(message.wa_message_id.clone().map(|wamid| (wamid, message.status)))
    })
    .await?;
    assert_eq!(adopted, (accepted_wamids(&simulator)[0].clone(), DeliveryStatus::Sent));
    for _ in 0..4 {
        advance(&server, WAIT).await?;
    }
    assert_eq!(simulator.message_requests().len(), 1, "a reply WhatsApp had accepted was sent again");
    Ok(())
}

async fn a_lost_answer_without_a_status_is_sent_again_after_the_wait(kind: Kind) -> anyhow::Result<()> {
    let (server, simulator, reply) = answer_lost(kind, StatusProgression::manual()).await?;
    advance(&server, WAIT - Duration::from_millis(1)).await?;
    assert_eq!(simulator.message_requests().len(), 1, "sent again before the wait was over");
    advance(&server, Duration::from_millis(1)).await?;
    let wamids = accepted_wamids(&simulator);
    assert_eq!(wamids.len(), 2, "sent again when the wait was over (the customer may get it twice)");
    let sent = until_some("the second answer", || async {
        let message = stored(&server.state.store, &reply).await?;
        Ok(message.wa_message_id.filter(|wamid| *wamid == wamids[1]))
    })
    .await?;
    assert_eq!(sent, wamids[1]);
    Ok(())
}

#[test]
fn a_lost_answer_is_made_good_by_the_sends_status_on_sqlite() -> anyhow::Result<()> {
    on_paused_clock("lost answer on SQLite", || a_lost_answer_is_made_good_by_the_sends_status(Kind::Sqlite))
}

#[test]
fn a_lost_answer_is_made_good_by_the_sends_status_on_postgres() -> anyhow::Result<()> {
    on_paused_clock("lost answer on PostgreSQL", || a_lost_answer_is_made_good_by_the_sends_status(Kind::Postgres))
}

#[test]
fn a_lost_answer_without_a_status_is_sent_again_after_the_wait_on_sqlite() -> anyhow::Result<()> {
    on_paused_clock("lost answer, no status, on SQLite", || {
        a_lost_answer_without_a_status_is_sent_again_after_the_wait(Kind::Sqlite)
    })
}

#[test]
fn a_lost_answer_without_a_status_is_sent_again_after_the_wait_on_postgres() -> anyhow::Result<()> {
    on_paused_clock("lost answer, no status, on PostgreSQL", || {
        a_lost_answer_without_a_status_is_sent_again_after_the_wait(Kind::Postgres)
    })
}

#[test]
fn without_a_status_it_is_sent_again_after_the_wait_on_sqlite() -> anyhow::Result<()> {
    on_paused_clock("resend on SQLite", || without_a_status_it_is_sent_again_after_the_wait(Kind::Sqlite))
}

#[test]
fn without_a_status_it_is_sent_again_after_the_wait_on_postgres() -> anyhow::Result<()> {
    on_paused_clock("resend on PostgreSQL", || without_a_status_it_is_sent_again_after_the_wait(Kind::Postgres))
}

#[test]
fn a_status_carrying_the_tag_is_adopted_on_sqlite() -> anyhow::Result<()> {
    on_paused_clock("adoption on SQLite", || {
        a_status_carrying_the_tag_is_adopted_and_nothing_is_sent_again(Kind::Sqlite)
    })
}

#[test]
fn a_status_carrying_the_tag_is_adopted_on_postgres() -> anyhow::Result<()> {
    on_paused_clock("adoption on PostgreSQL", || {
        a_status_carrying_the_tag_is_adopted_and_nothing_is_sent_again(Kind::Postgres)
    })
}
