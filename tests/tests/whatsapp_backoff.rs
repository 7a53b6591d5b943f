//! The sender's retry schedule against the simulator, on tokio's paused clock: with the production
//! backoff (1 s doubling; 4^n s for the pair limit), a refused send is not tried again a
//! millisecond before its time and is tried within one poll after it. 130429 and 5xx are retried,
//! 131047 never (not even an hour later), and 190 pauses sending with the reply kept.
//!
//! Time moves only when the test says (`baton_tests::paused`): the runtime's clock is paused and
//! held while real I/O (the database, the simulator's HTTP) is in flight.

use std::time::Duration;

use anyhow::Context;

use baton_server::clock::Clock;
use baton_server::store::conversations::{ClaimOutcome, NewReply, ReplyOutcome};
use baton_shared::api::Role;
use baton_shared::model::{DeliveryStatus, Message};
use baton_simulator::{Customer, Simulator};
use baton_tests::database::Kind;
use baton_tests::paused::{on_paused_clock, until, until_some};
use baton_tests::server::TestServer;

struct Bench {
    server: TestServer,
    simulator: Simulator,
}

impl Bench {
    async fn start(kind: Kind) -> anyhow::Result<Self> {
        let (server, simulator) = baton_tests::whatsapp::start_with(kind, |config| {
            // Production's backoff, on the paused clock.
            config.whatsapp.retry_base = Duration::from_secs(1);
            config.clock = Clock::following_tokio();
        })
        .await?;
        Ok(Bench { server, simulator })
    }

    /// Sends to `wa_id` the simulator received so far.
    fn sends_to(&self, wa_id: &str) -> usize {
        let to = format!("+{wa_id}");
        self.simulator
            .message_requests()
            .iter()
            .filter(|request| request.json.as_ref().is_some_and(|json| json["to"] == to.as_str()))
            .count()
    }

    /// A customer writes, an agent claims the conversation and replies (stored and queued).
    async fn reply_to(&self, customer: &Customer, agent: baton_shared::UserId) -> anyhow::Result<Message> {
        let wamid = self.simulator.send_text(customer, "Hello?").await?;
        let store = &self.server.state.store;
        let conversation = until_some(&format!("the customer's message {wamid}"), || async {
            let conversations = store.conversations(false, 100).await?;
            Ok(conversations.iter().find(|candidate| candidate.contact.wa_id == customer.wa_id).map(|found| found.id))
        })
        .await?;
        // The sender's clock (paused) is the one that decides when the reply is due.
        let now = self.server.state.now();
        let claimed = store.claim(conversation, agent, now + 3_600_000, now).await?;
        anyhow::ensure!(matches!(claimed, ClaimOutcome::Held { .. }), "claim: {claimed:?}");
        let seen = store.conversation(conversation).await?.map(|c| c.last_seq).unwrap_or_default();
        let reply = NewReply {
            conversation_id: conversation,
            author: agent,
            body: format!("Answer for {}", customer.wa_id),
            idempotency_key: customer.wa_id.clone(),
            seen_seq: seen,
            force: false,
            content: Default::default(),
            reply_to: None,
        };
        let ReplyOutcome::Sent { message, .. } = store.send_reply(&reply, now).await? else {
            anyhow::bail!("reply not stored")
        };
        self.server.state.whatsapp.sender.wake();
        Ok(message)
    }

    /// Waits (in real time) until `message`'s status is `status`.
    async fn status_becomes(&self, message: &Message, status: DeliveryStatus) -> anyhow::Result<()> {
        until_some(&format!("{status:?}"), || async {
            let seen = self.status_of(message).await?;
            Ok(if seen == Some(status) { Ok(()) } else { Err(seen) })
        })
        .await
    }

    /// Moves the paused clock on, then has the sender look and waits (in real time) until it has:
    /// everything due by then has been sent, and the answers recorded.
    async fn advance(&self, by: Duration) -> anyhow::Result<()> {
        tokio::time::advance(by).await;
        self.settle().await
    }

    /// Waits until the sender has handled everything due now.
    async fn settle(&self) -> anyhow::Result<()> {
        let sender = &self.server.state.whatsapp.sender;
        let wake = sender.wake();
        until("a pass of the sender", || sender.served() >= wake).await
    }

    /// Waits until the reply's first attempt has been refused and its retry scheduled.
    async fn first_refusal(&self, message: &Message) -> anyhow::Result<()> {
        let store = &self.server.state.store;
        until_some("the first attempt's refusal", || async {
            let queued = store.due_outbox(i64::MAX, 100).await?;
            Ok(queued.iter().any(|item| item.message_id == message.id && item.attempts == 1).then_some(()))
        })
        .await?;
        self.settle().await
    }

    /// The reply to `wa_id` was refused and is retried `gap` later: not a millisecond sooner.
    async fn retried_after(&self, wa_id: &str, gap: Duration) -> anyhow::Result<()> {
        let before = self.sends_to(wa_id);
        self.advance(gap - Duration::from_millis(1)).await?;
        assert_eq!(self.sends_to(wa_id), before, "{wa_id} retried before {gap:?}");
        self.advance(Duration::from_millis(1)).await?;
        assert_eq!(self.sends_to(wa_id), before + 1, "{wa_id} retried {gap:?} later");
        Ok(())
    }

    async fn status_of(&self, message: &Message) -> anyhow::Result<Option<DeliveryStatus>> {
        let messages = self.server.state.store.messages(message.conversation_id).await?;
        Ok(messages.iter().find(|stored| stored.id == message.id).map(|stored| stored.status))
    }
}

async fn backoff_follows_the_contract(kind: Kind) -> anyhow::Result<()> {
    let bench = Bench::start(kind).await?;
    let (agent, _) = bench.server.create_user("Alice", Role::Agent).await?;

    // 130429 (throughput) three times: retried after 1 s, 2 s, 4 s; then accepted.
    let busy = Customer::new("15550003333", "Bob");
    bench.simulator.fail_next_sends(3, 130429, Some(&busy.wa_id));
    let reply = bench.reply_to(&busy, agent.id).await?;
    bench.first_refusal(&reply).await?;
    for gap in [1, 2, 4] {
        bench.retried_after(&busy.wa_id, Duration::from_secs(gap)).await?;
    }
    bench.status_becomes(&reply, DeliveryStatus::Sent).await.context("the fourth attempt was not recorded as sent")?;

    // A 5xx from Meta (131000, HTTP 500) is retried the same way.
    let flaky = Customer::new("15550004444", "Carla");
    bench.simulator.fail_next_sends(1, 131000, Some(&flaky.wa_id));
    let reply = bench.reply_to(&flaky, agent.id).await?;
    bench.first_refusal(&reply).await?;
    bench.retried_after(&flaky.wa_id, Duration::from_secs(1)).await?;

    // 131056 (pair limit): after 4^0 = 1 s, then 4^1 = 4 s.
    let chatty = Customer::new("15550005555", "Dan");
    bench.simulator.fail_next_sends(2, 131056, Some(&chatty.wa_id));
    let reply = bench.reply_to(&chatty, agent.id).await?;
    bench.first_refusal(&reply).await?;
    bench.retried_after(&chatty.wa_id, Duration::from_secs(1)).await?;
    bench.retried_after(&chatty.wa_id, Duration::from_secs(4)).await?;

    // 131047 (window closed): failed at once; an hour later, still one attempt.
    let late = Customer::new("15550006666", "Erin");
    bench.simulator.fail_next_sends(1, 131047, Some(&late.wa_id));
    let failed = bench.reply_to(&late, agent.id).await?;
    bench.status_becomes(&failed, DeliveryStatus::Failed).await.context("the refused reply did not fail")?;
    for _ in 0..6 {
        bench.advance(Duration::from_secs(600)).await?;
    }
    assert_eq!(bench.sends_to(&late.wa_id), 1, "131047 is never retried");

    // 190 (token refused): sending pauses; ten minutes later nothing more went, the reply waits.
    let paused = Customer::new("15550007777", "Fay");
    bench.simulator.fail_next_sends(1, 190, None);
    let kept = bench.reply_to(&paused, agent.id).await?;
    until("the refused attempt", || bench.server.state.whatsapp.sender.paused().is_some()).await?;
    let sends = bench.simulator.message_requests().len();
    for _ in 0..10 {
        bench.advance(Duration::from_secs(60)).await?;
    }
    assert_eq!(bench.simulator.message_requests().len(), sends, "nothing is sent while paused");
    let queued = bench.server.state.store.due_outbox(i64::MAX, 100).await?;
    assert!(queued.iter().any(|item| item.message_id == kept.id), "the reply is kept in the outbox");
    Ok(())
}

#[test]
fn backoff_follows_the_contract_on_sqlite() -> anyhow::Result<()> {
    on_paused_clock("backoff on SQLite", || backoff_follows_the_contract(Kind::Sqlite))
}

#[test]
fn backoff_follows_the_contract_on_postgres() -> anyhow::Result<()> {
    on_paused_clock("backoff on PostgreSQL", || backoff_follows_the_contract(Kind::Postgres))
}
