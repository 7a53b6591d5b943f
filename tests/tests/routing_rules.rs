//! Routing rules over real HTTP, on SQLite and PostgreSQL: admins save an ordered set (based on
//! the version they read), a customer's message is triaged by it in the transaction that stores
//! it — keywords in Portuguese, Arabic and Hindi, accents and case aside; the first match wins;
//! with none, the default team — and the test box says what would happen. Then the team's routing
//! takes it from its queue.

use baton_shared::api::Role;
use baton_shared::model::{Change, ConversationEvent, MessageContent, MessageKind, Priority};
use baton_shared::protocol::{ClientMsg, ServerMsg};
use baton_shared::routing_rules::{Action, Combine, Condition, Decision, Rule, RuleSet, StoredRules, Trigger};
use baton_shared::teams::{AssignmentModel, RoutedBy};
use baton_shared::{ConversationId, ErrorCode, TeamId};
use baton_tests::client::{TestClient, expect_error, json};
use baton_tests::database::Kind;
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;
use baton_tests::teams::create_team;
use reqwest::{Method, StatusCode};

baton_tests::on_both_kinds!(rules_triage_what_customers_write_and_the_test_box_agrees);

fn keywords(name: &str, words: &[&str], actions: Vec<Action>) -> Rule {
    Rule {
        combine: Combine::Any,
        ..Rule::new(
            name,
            vec![Trigger::NewConversation, Trigger::CustomerMessage],
            vec![Condition::TextContains { keywords: words.iter().map(|word| (*word).to_owned()).collect() }],
            actions,
        )
    }
}

async fn save(admin: &TestClient, version: u32, set: &RuleSet) -> anyhow::Result<reqwest::Response> {
    let body = StoredRules { version, set: set.clone(), fired: vec![] };
    Ok(admin.request(Method::PUT, "/api/routing/rules").json(&body).send().await?)
}

async fn events(server: &TestServer, id: ConversationId) -> anyhow::Result<Vec<ConversationEvent>> {
    Ok(server.state.store.events_after(id, 0, 100).await?)
}

/// The conversation's team, priority and labels as stored, and the rule its `triaged` event names.
async fn triage(
    server: &TestServer,
    id: ConversationId,
) -> anyhow::Result<(Option<TeamId>, Priority, Vec<String>, Option<String>)> {
    let conversation =
        server.state.store.conversation(id).await?.ok_or_else(|| anyhow::anyhow!("no conversation {id}"))?;
    let rule = events(server, id).await?.into_iter().find_map(|event| match event.change {
        Change::Triaged { rule, by_default, .. } => Some(rule.unwrap_or_else(|| format!("default={by_default}"))),
        _ => None,
    });
    Ok((conversation.team, conversation.priority, conversation.labels, rule))
}

async fn rules_triage_what_customers_write_and_the_test_box_agrees(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let (supervisor, _) = server.logged_in("Sam", Role::Supervisor).await?;
    let (agent, _) = server.logged_in("Ann", Role::Agent).await?;
    let (bea_client, bea) = server.logged_in("Bea", Role::Agent).await?;
    let mut bea_socket = WsClient::connect(&bea_client).await?;
    bea_socket.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors: Vec::new() }).await?;
    let billing = create_team(&admin, "Billing", AssignmentModel::RoundRobin, &[(bea.id, None)]).await?;
    let sales = create_team(&admin, "Sales", AssignmentModel::Queue, &[]).await?;
    let support = create_team(&admin, "Support", AssignmentModel::Manual, &[]).await?;

    let set = RuleSet {
        default_team: Some(support),
        rules: vec![
            keywords(
                "Billing",
                &["charged twice", "cobrança", "فاتورة", "रिफंड"],
                vec![
                    Action::SetTeam { team: billing },
                    Action::SetPriority { priority: Priority::High },
                    Action::AddLabels { labels: vec!["billing".into()] },
                ],
            ),
            keywords("Sales", &["preço", "charged"], vec![Action::SetTeam { team: sales }]),
            Rule::new(
                "VIP button",
                vec![Trigger::NewConversation],
                vec![Condition::ChoiceIs { ids: vec!["vip".into()] }],
                vec![Action::SetTeam { team: sales }, Action::AssignTo { user: bea.id }],
            ),
        ],
    };
    // Who may: admins save; supervisors read and test; agents neither.
    assert_eq!(save(&agent, 0, &set).await?.status(), StatusCode::FORBIDDEN);
    assert_eq!(save(&supervisor, 0, &set).await?.status(), StatusCode::FORBIDDEN);
    assert_eq!(agent.get("/api/routing/rules").await?.status(), StatusCode::FORBIDDEN);
    let mut unknown_team = set.clone();
    unknown_team.rules[1].actions = vec![Action::SetTeam { team: TeamId(999_999) }];
    let refused = expect_error(save(&admin, 0, &unknown_team).await?, StatusCode::UNPROCESSABLE_ENTITY).await?;
    assert_eq!(refused.code, ErrorCode::InvalidInput);
    let mut nothing_to_look_for = set.clone();
    nothing_to_look_for.rules[0].conditions = vec![Condition::TextContains { keywords: vec!["  ".into()] }];
    expect_error(save(&admin, 0, &nothing_to_look_for).await?, StatusCode::UNPROCESSABLE_ENTITY).await?;
    let saved: StoredRules = json(save(&admin, 0, &set).await?).await?;
    assert_eq!(saved.version, 1);
    let stale = expect_error(save(&admin, 0, &set).await?, StatusCode::CONFLICT).await?;
    assert_eq!(stale.code, ErrorCode::Conflict, "another admin saved since version 0");
    let read: StoredRules = json(supervisor.get("/api/routing/rules").await?).await?;
    assert_eq!(read, saved);

    // Someone in no team follows the inbox: conversations the rules open in a team never reach
    // them, not even their opening.
    let (outsider_client, _) = server.logged_in("Oscar", Role::Agent).await?;
    let mut outsider = WsClient::connect(&outsider_client).await?;
    outsider.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors: Vec::new() }).await?;

    // Customers write: triaged as they arrive.
    let billing_rule = Some("Billing".to_owned());
    let labels = vec!["billing".to_owned()];
    for (n, text) in ["I was charged twice", "Recebi uma COBRANCA indevida", "أريد الفَاتُورَة", "मुझे रिफंड चाहिए"]
        .into_iter()
        .enumerate()
    {
        let id = server.customer_writes(&format!("1555000{n}"), text).await?;
        let found = triage(&server, id).await?;
        assert_eq!(found, (Some(billing), Priority::High, labels.clone(), billing_rule.clone()), "{text}");
    }
    let hello = server.customer_writes("15551000", "Hello").await?;
    assert_eq!(triage(&server, hello).await?, (Some(support), Priority::Normal, vec![], Some("default=true".into())));
    let price = server.customer_writes("15551001", "Qual o PRECO?").await?;
    assert_eq!(triage(&server, price).await?.0, Some(sales));

    // Everything queued for Oscar before this ping's answer: no event of those conversations.
    let pinged = outsider.send(|req_id| ClientMsg::Ping { req_id }).await?;
    loop {
        match outsider.next().await? {
            ServerMsg::Ack { req_id, .. } if req_id == pinged => break,
            ServerMsg::Event { event } => anyhow::bail!("Oscar heard of a team's conversation: {event:?}"),
            _ => {}
        }
    }

    // Billing is round-robin and Bea is available: its first conversation went straight to her.
    let first = server.state.store.conversations(false, 100).await?.into_iter().find(|c| c.team == Some(billing));
    assert!(first.is_some());
    let routed = bea_socket
        .expect(|message| match message {
            ServerMsg::Event { event } => match &event.change {
                Change::Assigned { assignee: Some(to), routing: Some(routing) } if *to == bea.id => {
                    Some(routing.by.clone())
                }
                _ => None,
            },
            _ => None,
        })
        .await?;
    assert_eq!(routed, RoutedBy::RoundRobin);

    // An interactive choice assigns straight to the agent a rule names.
    let choice = baton_server::store::conversations::NewInbound {
        wa_id: "15552000".into(),
        profile_name: "Vic".into(),
        wa_message_id: "wamid.test.vip".into(),
        kind: MessageKind::Interactive,
        body: "VIP line".into(),
        at: baton_server::clock::now_ms(),
        content: Some(MessageContent::Choice {
            source: "button_reply".into(),
            id: "vip".into(),
            title: "VIP line".into(),
        }),
        reply_to: None,
    };
    let outcome = server.state.store.record_inbound(&choice, baton_server::clock::now_ms()).await?;
    let baton_server::store::conversations::InboundOutcome::Recorded { conversation_id, .. } = outcome else {
        anyhow::bail!("not recorded");
    };
    let vip = server.state.store.conversation(conversation_id).await?.ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!((vip.team, vip.assignee), (Some(sales), Some(bea.id)));
    let assigned = events(&server, conversation_id).await?.into_iter().find_map(|event| match event.change {
        Change::Assigned { routing: Some(routing), .. } => Some(routing.by),
        _ => None,
    });
    assert_eq!(assigned, Some(RoutedBy::Rule { rule: "VIP button".into() }));

    // The test box: the saved rules, or ones not saved yet.
    let decision: Option<Decision> =
        json(supervisor.post("/api/routing/rules/test", &serde_json::json!({ "text": "Quanto é o preço?" })).await?)
            .await?;
    assert_eq!(decision.and_then(|decision| decision.rule), Some((1, "Sales".into())));
    let decision: Option<Decision> =
        json(supervisor.post("/api/routing/rules/test", &serde_json::json!({ "text": "good morning" })).await?).await?;
    assert_eq!(decision.map(|decision| decision.actions), Some(vec![Action::SetTeam { team: support }]));
    let unsaved = RuleSet { default_team: None, rules: vec![keywords("Only", &["morning"], vec![])] };
    let body = serde_json::json!({ "text": "good MORNING", "rules": unsaved });
    let decision: Option<Decision> = json(supervisor.post("/api/routing/rules/test", &body).await?).await?;
    assert_eq!(decision.and_then(|decision| decision.rule), Some((0, "Only".into())));
    server.stop().await
}
