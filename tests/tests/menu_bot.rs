//! The menu bot against the WhatsApp simulator, on SQLite and PostgreSQL: a new conversation gets
//! the menu (reply buttons for up to three choices, a list for more) and "Bot" holds it; a tap on
//! a button, a pick from the list or a typed keyword routes it to the option's team, where the
//! team's model assigns it; two answers that are no choice are asked again, the third hands it to
//! the default team; "human" hands over at once; the handoff note holds the customer's words and
//! the agent's first view shows it. An agent who takes over mid-menu stops the bot.

use std::time::Duration;

use baton_shared::api::{ConversationDetail, Role};
use baton_shared::automation::{AUTOMATION_USER, Automated};
use baton_shared::menu::PERSON_CHOICE;
use baton_shared::model::{Conversation, Direction};
use baton_shared::teams::AssignmentModel;
use baton_shared::{ConversationId, TeamId, UserId};
use baton_simulator::{Customer, Endpoint, Inbound, Simulator};
use baton_tests::client::{TestClient, json};
use baton_tests::database::Kind;
use baton_tests::eventually::eventually;
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;
use baton_tests::teams::{create_team, put};
use baton_tests::whatsapp::{start, wait_for_conversation};
use serde_json::{Value, json};

const PATIENCE: Duration = Duration::from_secs(20);

/// Baton with Billing (round-robin, Bea online) and Sales (a queue, the default team), and a menu
/// of `options` (each `(id, title, team)`; Billing's keyword is "invoice").
struct Setup {
    server: TestServer,
    simulator: Simulator,
    billing: TeamId,
    sales: TeamId,
    bea: UserId,
    _bea_socket: WsClient,
    cal: UserId,
    cal_client: TestClient,
}

async fn setup(kind: Kind, list: bool) -> anyhow::Result<Setup> {
    let (server, simulator) = start(kind).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let (bea_client, bea) = server.logged_in("Bea", Role::Agent).await?;
    let bea_socket = WsClient::connect(&bea_client).await?;
    let billing = create_team(&admin, "Billing", AssignmentModel::RoundRobin, &[(bea.id, None)]).await?;
    // Cal is in Sales (a queue: nobody is pushed work), so the default team's conversations are his
    // to see.
    let (cal_client, cal) = server.logged_in("Cal", Role::Agent).await?;
    let sales = create_team(&admin, "Sales", AssignmentModel::Queue, &[(cal.id, None)]).await?;
    put(&admin, "/api/routing/rules", &json!({"version": 0, "default_team": sales, "rules": []})).await?;
    let mut options = vec![
        json!({"id": "billing", "title": "Billing", "keywords": ["invoice"], "team": billing, "label": "billing"}),
        json!({"id": "sales", "title": "Sales", "keywords": ["buy"], "team": sales, "priority": "high"}),
    ];
    if list {
        options.push(json!({"id": "other", "title": "Something else", "description": "Anything", "team": sales}));
    }
    let menu = json!({
        "version": 0, "enabled": true, "prompt": "How can we help?", "list_button": "Choose",
        "options": options, "person": "Talk to a person", "handoff_words": ["agent", "human", "person"],
        "retry": "Sorry, please choose one of these:"
    });
    put(&admin, "/api/automation/menu", &menu).await?;
    Ok(Setup { server, simulator, billing, sales, bea: bea.id, _bea_socket: bea_socket, cal: cal.id, cal_client })
}

/// The interactive messages Baton sent `customer`, oldest first, as Graph request bodies.
fn menus_to(simulator: &Simulator, customer: &Customer) -> Vec<Value> {
    let to = format!("+{}", customer.wa_id);
    simulator
        .message_requests()
        .into_iter()
        .filter(|request| request.endpoint == Endpoint::Messages)
        .filter_map(|request| request.json)
        .filter(|json| json["type"] == "interactive" && json["to"] == to.as_str())
        .collect()
}

/// Waits until `count` menus went to `customer`; their wamids (what a tap answers).
async fn menus(setup: &Setup, customer: &Customer, count: usize) -> anyhow::Result<Vec<String>> {
    eventually(PATIENCE, || async {
        let sent: Vec<String> = setup
            .simulator
            .message_requests()
            .into_iter()
            .filter(|request| request.json.as_ref().is_some_and(|json| json["type"] == "interactive"))
            .filter(|request| {
                request.json.as_ref().is_some_and(|json| json["to"] == format!("+{}", customer.wa_id).as_str())
            })
            .filter_map(|request| request.message_id().map(str::to_owned))
            .collect();
        Ok(if sent.len() >= count { Ok(sent) } else { Err(format!("{} menus", sent.len())) })
    })
    .await
}

async fn conversation(setup: &Setup, id: ConversationId) -> anyhow::Result<Conversation> {
    setup.server.state.store.conversation(id).await?.ok_or_else(|| anyhow::anyhow!("no conversation {id}"))
}

/// Waits until the bot handed the conversation over (no claim, its team set), then returns it.
async fn handed_to(setup: &Setup, id: ConversationId, team: TeamId) -> anyhow::Result<Conversation> {
    eventually(PATIENCE, || async {
        let now = conversation(setup, id).await?;
        let done = now.team == Some(team) && now.claim.is_none();
        Ok(if done { Ok(now) } else { Err(format!("team {:?}, claim {:?}", now.team, now.claim)) })
    })
    .await
}

/// The bot's handoff note on the conversation.
async fn handoff_note(setup: &Setup, id: ConversationId) -> anyhow::Result<String> {
    let notes = setup.server.state.store.notes(id).await?;
    let note = notes.iter().find(|note| note.author == AUTOMATION_USER);
    note.map(|note| note.body.clone()).ok_or_else(|| anyhow::anyhow!("no handoff note in {notes:?}"))
}

async fn a_tap_on_a_button_routes_and_the_agent_sees_the_handoff_note(kind: Kind) -> anyhow::Result<()> {
    let setup = setup(kind, false).await?;
    let customer = Customer::new("15550006666", "Ana");
    let first = setup.simulator.send_text(&customer, "Hi there").await?;
    let id = wait_for_conversation(&setup.server, &first).await?;
    let sent = menus(&setup, &customer, 1).await?;
    let menu = &menus_to(&setup.simulator, &customer)[0];
    assert_eq!(menu["interactive"]["type"], "button", "two options and the person: buttons");
    let titles: Vec<&str> = menu["interactive"]["action"]["buttons"]
        .as_array()
        .map(|buttons| buttons.iter().filter_map(|button| button["reply"]["title"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(titles, ["Billing", "Sales", "Talk to a person"]);
    // The bot holds the conversation: nobody is routed it meanwhile.
    let held = conversation(&setup, id).await?;
    assert_eq!(held.claim.as_ref().map(|claim| claim.holder), Some(AUTOMATION_USER));
    assert_eq!(held.assignee, None);

    let tap = Inbound::ButtonReply { context: sent[0].clone(), id: "billing".into(), title: "Billing".into() };
    setup.simulator.send(&customer, tap).await?;
    let routed = handed_to(&setup, id, setup.billing).await?;
    assert!(routed.labels.contains(&"billing".to_owned()), "the option's label");
    // Billing's model (round-robin) gives it to Bea, who is online.
    eventually(PATIENCE, || async { Ok((conversation(&setup, id).await?.assignee == Some(setup.bea)).then_some(())) })
        .await?;
    let note = handoff_note(&setup, id).await?;
    assert!(note.contains("chose “Billing”") && note.contains("“Hi there”, “Billing”"), "{note}");
    // Bea's first view of the conversation shows the note.
    let (bea_client, _) = setup.server.logged_in("Bea two", Role::Supervisor).await?;
    let detail: ConversationDetail = json(bea_client.get(&format!("/api/conversations/{id}")).await?).await?;
    assert!(detail.notes.iter().any(|shown| shown.body == note));
    let messages = setup.server.state.store.messages(id).await?;
    let automated: Vec<_> = messages.iter().filter(|message| message.direction == Direction::Outbound).collect();
    assert_eq!(automated.len(), 1, "the menu, and nothing else: {automated:?}");
    assert_eq!(automated[0].automation, Some(Automated::Menu));
    setup.server.stop().await
}

async fn a_list_pick_and_a_typed_keyword_route_too(kind: Kind) -> anyhow::Result<()> {
    let setup = setup(kind, true).await?;
    // Three options and the person: a list.
    let ana = Customer::new("15550007777", "Ana");
    let first = setup.simulator.send_text(&ana, "Hello").await?;
    let ana_id = wait_for_conversation(&setup.server, &first).await?;
    let sent = menus(&setup, &ana, 1).await?;
    let menu = &menus_to(&setup.simulator, &ana)[0];
    assert_eq!(menu["interactive"]["type"], "list");
    assert_eq!(menu["interactive"]["action"]["button"], "Choose");
    let pick =
        Inbound::ListReply { context: sent[0].clone(), id: "sales".into(), title: "Sales".into(), description: None };
    setup.simulator.send(&ana, pick).await?;
    let routed = handed_to(&setup, ana_id, setup.sales).await?;
    assert_eq!(routed.priority.as_str(), "high", "the option's priority");

    // A typed keyword counts as the choice.
    let bo = Customer::new("15550008888", "Bo");
    let first = setup.simulator.send_text(&bo, "Hi").await?;
    let bo_id = wait_for_conversation(&setup.server, &first).await?;
    menus(&setup, &bo, 1).await?;
    setup.simulator.send_text(&bo, "There is a problem with my INVOICE").await?;
    handed_to(&setup, bo_id, setup.billing).await?;
    let note = handoff_note(&setup, bo_id).await?;
    assert!(note.contains("“There is a problem with my INVOICE”"), "{note}");
    setup.server.stop().await
}

async fn unclear_answers_are_asked_again_twice_then_handed_over_and_human_at_once(kind: Kind) -> anyhow::Result<()> {
    let setup = setup(kind, false).await?;
    let ana = Customer::new("15550009999", "Ana");
    let first = setup.simulator.send_text(&ana, "Hello").await?;
    let id = wait_for_conversation(&setup.server, &first).await?;
    menus(&setup, &ana, 1).await?;
    for (answer, menus_then) in [("what?", 2), ("hmm", 3)] {
        setup.simulator.send_text(&ana, answer).await?;
        menus(&setup, &ana, menus_then).await?;
        assert_eq!(conversation(&setup, id).await?.claim.map(|claim| claim.holder), Some(AUTOMATION_USER));
    }
    // A job done twice (its node died after the step, before deleting the job) reads nothing
    // twice: neither the first message nor an answer asks again or hands over.
    let messages = setup.server.state.store.messages(id).await?;
    for said in ["Hello", "hmm"] {
        let message = messages.iter().find(|message| message.body == said).map(|message| message.id);
        let message = message.ok_or_else(|| anyhow::anyhow!("no {said}"))?;
        baton_server::automation::replies::answer(&setup.server.state, id, message, said == "Hello")
            .await
            .map_err(|refusal| anyhow::anyhow!("{refusal:?}"))?;
    }
    assert_eq!(menus_to(&setup.simulator, &ana).len(), 3, "no menu more");
    assert_eq!(conversation(&setup, id).await?.claim.map(|claim| claim.holder), Some(AUTOMATION_USER));
    let again = &menus_to(&setup.simulator, &ana)[1];
    assert_eq!(again["interactive"]["body"]["text"], "Sorry, please choose one of these:");
    setup.simulator.send_text(&ana, "no idea").await?;
    handed_to(&setup, id, setup.sales).await?;
    let note = handoff_note(&setup, id).await?;
    assert!(note.contains("gave no choice after 3 menus"), "{note}");
    assert!(note.contains("“Hello”, “what?”, “hmm”, “no idea”"), "the whole transcript: {note}");
    assert_eq!(menus_to(&setup.simulator, &ana).len(), 3, "asked again twice, not a third time");

    // "human" hands over at once, whatever the count.
    let bo = Customer::new("15550004545", "Bo");
    let first = setup.simulator.send_text(&bo, "Hi").await?;
    let bo_id = wait_for_conversation(&setup.server, &first).await?;
    menus(&setup, &bo, 1).await?;
    setup.simulator.send_text(&bo, "Can I talk to a HUMAN please").await?;
    handed_to(&setup, bo_id, setup.sales).await?;
    assert!(handoff_note(&setup, bo_id).await?.contains("asked for a person"));
    assert_eq!(menus_to(&setup.simulator, &bo).len(), 1);
    // So does the person button.
    let cy = Customer::new("15550005656", "Cy");
    let first = setup.simulator.send_text(&cy, "Hi").await?;
    let cy_id = wait_for_conversation(&setup.server, &first).await?;
    let sent = menus(&setup, &cy, 1).await?;
    let tap =
        Inbound::ButtonReply { context: sent[0].clone(), id: PERSON_CHOICE.into(), title: "Talk to a person".into() };
    setup.simulator.send(&cy, tap).await?;
    handed_to(&setup, cy_id, setup.sales).await?;
    setup.server.stop().await
}

async fn an_agent_takes_over_mid_menu_and_the_bot_stops(kind: Kind) -> anyhow::Result<()> {
    let setup = setup(kind, false).await?;
    let ana = Customer::new("15550003434", "Ana");
    let first = setup.simulator.send_text(&ana, "Hello").await?;
    let id = wait_for_conversation(&setup.server, &first).await?;
    menus(&setup, &ana, 1).await?;
    // An agent (not a supervisor) takes it over with one click: a claim.
    let (cal, cal_client) = (setup.cal, &setup.cal_client);
    let claimed = cal_client.post(&format!("/api/conversations/{id}/claim"), &json!({})).await?;
    assert_eq!(claimed.status(), 200, "{:?}", claimed.text().await);
    assert_eq!(conversation(&setup, id).await?.claim.map(|claim| claim.holder), Some(cal));
    assert!(setup.server.state.store.bot_session(id).await?.is_none(), "the bot's turn ended");
    // The customer answers the menu now: the bot does nothing more.
    setup.simulator.send_text(&ana, "Billing").await?;
    eventually(PATIENCE, || async {
        let jobs_left = setup.server.state.store.jobs_due(setup.server.state.now()).await? > 0;
        let answered = setup.server.state.store.messages(id).await?.iter().any(|message| message.body == "Billing");
        Ok((answered && !jobs_left).then_some(()))
    })
    .await?;
    let now = conversation(&setup, id).await?;
    assert_eq!(now.claim.map(|claim| claim.holder), Some(cal), "Cal still holds it");
    assert_eq!(now.team, Some(setup.sales), "where the rules put it, not routed by the bot");
    assert_eq!(menus_to(&setup.simulator, &ana).len(), 1);
    assert!(handoff_note(&setup, id).await.is_err(), "no handoff");
    setup.server.stop().await
}

baton_tests::on_both_kinds!(
    a_tap_on_a_button_routes_and_the_agent_sees_the_handoff_note,
    a_list_pick_and_a_typed_keyword_route_too,
    unclear_answers_are_asked_again_twice_then_handed_over_and_human_at_once,
    an_agent_takes_over_mid_menu_and_the_bot_stops
);
