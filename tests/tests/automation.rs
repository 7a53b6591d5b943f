//! Auto-replies against the WhatsApp simulator, on SQLite and PostgreSQL: the away message at
//! 23:00 in Berlin goes once for two messages in a row and says when the team is back; the
//! greeting and the queue acknowledgement ("number 2 in line") go when no agent is eligible;
//! the hourly cap per customer holds; a reaction is never answered.
//! Every automated message is Baton's (the Automation actor), tagged with what sent it, and went
//! through the outbox to the simulator.

use std::time::Duration;

use baton_server::clock::Clock;
use baton_shared::ConversationId;
use baton_shared::api::Role;
use baton_shared::automation::{AUTOMATION_USER, Automated, HoursNow, Weekday};
use baton_shared::model::{Direction, Message};
use baton_simulator::{Customer, Endpoint, Inbound, Simulator};
use baton_tests::client::json;
use baton_tests::database::Kind;
use baton_tests::eventually::eventually;
use baton_tests::server::TestServer;
use baton_tests::teams::put;
use baton_tests::whatsapp::{start, start_with, wait_for_conversation};
use serde_json::json;

const PATIENCE: Duration = Duration::from_secs(20);

/// The next 23:00 in Berlin (Unix ms), within a day of now, so the simulator's message times
/// (the real clock's) are inside WhatsApp's 24-hour window at that server time.
fn next_23_in_berlin() -> anyhow::Result<i64> {
    let berlin = jiff::tz::TimeZone::get("Europe/Berlin")?;
    let now = jiff::Timestamp::now().to_zoned_datetime(berlin.clone());
    let eleven = jiff::civil::Time::new(23, 0, 0, 0)?;
    let mut at = now.date().to_datetime(eleven).to_zoned_datetime(berlin.clone())?;
    if at.timestamp() <= now.timestamp() {
        at = now.date().tomorrow()?.to_datetime(eleven).to_zoned_datetime(berlin)?;
    }
    Ok(at.timestamp().as_millisecond())
}

/// The texts Baton sent `customer` through the Graph API, oldest first.
fn texts_to(simulator: &Simulator, customer: &Customer) -> Vec<String> {
    let to = format!("+{}", customer.wa_id);
    simulator
        .message_requests()
        .into_iter()
        .filter_map(|request| request.json)
        .filter(|json| json["type"] == "text" && json["to"] == to.as_str())
        .filter_map(|json| json.pointer("/text/body").and_then(|body| body.as_str()).map(str::to_owned))
        .collect()
}

/// Waits until automation has done every job (each customer message's job is stored with it)
/// and the outbox has handed everything to the simulator: after that, nothing more is on its way.
async fn settled(server: &TestServer) -> anyhow::Result<()> {
    eventually(PATIENCE, || async {
        // Jobs first: a job's message is queued before the job is deleted.
        let jobs_left = server.state.store.jobs_due(server.state.now()).await? > 0;
        let queued = server.state.store.due_outbox(i64::MAX, 10).await?.len();
        Ok((!jobs_left && queued == 0).then_some(()))
    })
    .await
}

/// Baton's own messages in the conversation.
async fn automated_in(server: &TestServer, conversation: ConversationId) -> anyhow::Result<Vec<Message>> {
    let messages = server.state.store.messages(conversation).await?;
    Ok(messages.into_iter().filter(|message| message.direction == Direction::Outbound).collect())
}

async fn the_away_message_goes_once_at_night_and_says_when_the_team_is_back(kind: Kind) -> anyhow::Result<()> {
    let at = next_23_in_berlin()?;
    let (server, simulator) = start_with(kind, |config| {
        config.whatsapp.retry_base = Duration::from_millis(20);
        config.clock = Clock::Tokio { unix_ms: at, since: tokio::time::Instant::now() };
    })
    .await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let every_day: Vec<_> =
        Weekday::ALL.iter().map(|day| json!({"day": day, "from": "09:00", "to": "17:00"})).collect();
    let hours = json!({"version": 0, "inbox": {"time_zone": "Europe/Berlin", "weekly": every_day}});
    put(&admin, "/api/automation/hours", &hours).await?;
    let now: HoursNow = json(admin.get("/api/automation/hours/now").await?).await?;
    let inbox = now.scopes.iter().find(|scope| scope.team.is_none());
    assert_eq!(inbox.map(|scope| scope.open), Some(false), "23:00 in Berlin is outside 09:00–17:00");
    assert_eq!(inbox.and_then(|scope| scope.next_opening_text.as_deref()), Some("tomorrow at 09:00 (Berlin time)"));
    let replies = json!({
        "version": 0,
        "greeting": {"enabled": true, "text": "Hello {{customer_name}}!"},
        "away": {"enabled": true, "text": "Hello {{customer_name}}, we are closed. We are back {{next_opening}}."},
        "queue_ack": {"enabled": false, "text": "number {{position}}"},
        "hourly_cap": 3
    });
    put(&admin, "/api/automation/replies", &replies).await?;

    let customer = Customer::new("15550003333", "Ana");
    let first = simulator.send_text(&customer, "Hello?").await?;
    let conversation = wait_for_conversation(&server, &first).await?;
    let second = simulator.send_text(&customer, "Is anyone there?").await?;
    wait_for_conversation(&server, &second).await?;
    settled(&server).await?;

    // One away message for the two (and no greeting beside it at night), saying when.
    assert_eq!(
        texts_to(&simulator, &customer),
        vec!["Hello Ana, we are closed. We are back tomorrow at 09:00 (Berlin time).".to_owned()]
    );
    let sent = automated_in(&server, conversation).await?;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!((sent[0].author, sent[0].automation), (Some(AUTOMATION_USER), Some(Automated::Away)));

    // A reaction is never answered, however the hours stand.
    simulator.send(&customer, Inbound::Reaction { message_id: first.clone(), emoji: Some("👍".into()) }).await?;
    eventually(PATIENCE, || async {
        let messages = server.state.store.messages(conversation).await?;
        Ok(messages.iter().any(|message| message.body == "👍" || message.kind.as_str() == "reaction").then_some(()))
    })
    .await?;
    settled(&server).await?;
    assert_eq!(texts_to(&simulator, &customer).len(), 1, "nothing answered the reaction");
    assert_eq!(simulator.message_requests().iter().filter(|r| r.endpoint == Endpoint::Messages).count(), 1);
    server.stop().await
}

async fn the_queue_is_acknowledged_with_the_place_in_line_under_the_hourly_cap(kind: Kind) -> anyhow::Result<()> {
    let (server, simulator) = start(kind).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let replies = json!({
        "version": 0,
        "greeting": {"enabled": true, "text": "Hi {{customer_name}}, {{team}} will answer here."},
        "away": {"enabled": false, "text": "away"},
        "queue_ack": {"enabled": true, "text": "You are number {{position}} in line."},
        "hourly_cap": 2
    });
    put(&admin, "/api/automation/replies", &replies).await?;

    // Nobody is online: no agent is eligible, so both wait and are told where they stand.
    let (ana, bo) = (Customer::new("15550004444", "Ana"), Customer::new("15550005555", "Bo"));
    let first = simulator.send_text(&ana, "I need help").await?;
    let ana_first = wait_for_conversation(&server, &first).await?;
    settled(&server).await?;
    let second = simulator.send_text(&bo, "Me too").await?;
    wait_for_conversation(&server, &second).await?;
    settled(&server).await?;
    assert_eq!(
        texts_to(&simulator, &ana),
        vec!["Hi Ana, our team will answer here.".to_owned(), "You are number 1 in line.".to_owned()]
    );
    assert_eq!(
        texts_to(&simulator, &bo),
        vec!["Hi Bo, our team will answer here.".to_owned(), "You are number 2 in line.".to_owned()]
    );
    let kinds: Vec<_> = automated_in(&server, ana_first).await?.iter().map(|message| message.automation).collect();
    assert_eq!(kinds, vec![Some(Automated::Greeting), Some(Automated::QueueAck)]);

    // Ana's conversation is resolved and she writes again: it reopens and waits again, which
    // calls for a new acknowledgement — her third automated message within the hour, over the
    // cap of 2, so none goes.
    put(&admin, &format!("/api/conversations/{ana_first}/status"), &json!({"status": "resolved"})).await?;
    let third = simulator.send_text(&ana, "One more thing").await?;
    let ana_again = wait_for_conversation(&server, &third).await?;
    assert_eq!(ana_again, ana_first, "reopened");
    settled(&server).await?;
    assert_eq!(texts_to(&simulator, &ana).len(), 2, "the cap held");
    assert_eq!(automated_in(&server, ana_first).await?.len(), 2);
    server.stop().await
}

baton_tests::on_both_kinds!(
    the_away_message_goes_once_at_night_and_says_when_the_team_is_back,
    the_queue_is_acknowledged_with_the_place_in_line_under_the_hourly_cap
);
