//! Contacts, the conformance suite on SQLite and PostgreSQL: attributes defined and their values
//! checked by type (bad ones refused with a sentence), edits by whoever may see the customer
//! (audited: who, when, old, new) reaching a teammate's socket live, the list found by words, any
//! run of digits, labels and attributes — each viewer seeing only the customers of conversations
//! they may see — a blocked customer kept but not routed, and CSV import (preview, problems by
//! line number, all or nothing) and export.

use std::collections::BTreeSet;

use baton_shared::ContactId;
use baton_shared::api::Role;
use baton_shared::contacts::{
    AttributeDef, AttributeDefinitions, AttributeKind, AttributeValue, ContactChange, ContactList, ContactProfile,
    ContactRecord, ImportAction, ImportReport,
};
use baton_shared::model::Conversation;
use baton_shared::protocol::ServerMsg;
use baton_shared::routing_rules::{RuleSet, StoredRules};
use baton_shared::search::SearchResults;
use baton_shared::teams::AssignmentModel;
use baton_shared::{ConversationId, ErrorCode};
use baton_tests::client::{TestClient, expect_error, json};
use baton_tests::database::Kind;
use baton_tests::eventually::eventually;
use baton_tests::server::TestServer;
use baton_tests::socket::WsClient;
use baton_tests::teams::{create_team, move_to, put};
use reqwest::{Method, StatusCode};

baton_tests::on_both_kinds!(
    edits_are_checked_audited_and_seen_live_by_whoever_may_see_the_customer,
    contacts_are_found_by_words_any_run_of_digits_labels_and_attributes,
    a_blocked_customer_is_kept_but_not_routed,
    an_import_is_previewed_refused_whole_for_one_bad_row_and_exported_back,
);

fn definitions() -> Vec<AttributeDef> {
    vec![
        AttributeDef {
            key: "plan".into(),
            label: "Plan".into(),
            kind: AttributeKind::Choice { options: vec!["Free".into(), "Pro".into()] },
        },
        AttributeDef { key: "seats".into(), label: "Seats".into(), kind: AttributeKind::Number },
        AttributeDef { key: "renewal".into(), label: "Renewal".into(), kind: AttributeKind::Date },
        AttributeDef { key: "vip".into(), label: "VIP".into(), kind: AttributeKind::YesNo },
        AttributeDef { key: "city".into(), label: "City".into(), kind: AttributeKind::Text },
    ]
}

async fn define(admin: &TestClient) -> anyhow::Result<()> {
    let body = AttributeDefinitions { attributes: definitions() };
    let saved = admin.request(Method::PUT, "/api/contacts/attributes").json(&body).send().await?;
    anyhow::ensure!(saved.status() == StatusCode::OK, "defining attributes: {:?}", saved.text().await);
    Ok(())
}

async fn contact_of(server: &TestServer, id: ConversationId) -> anyhow::Result<ContactId> {
    let conversation: Conversation =
        server.state.store.conversation(id).await?.ok_or_else(|| anyhow::anyhow!("no conversation {id}"))?;
    Ok(conversation.contact.id)
}

async fn edit(client: &TestClient, contact: ContactId, patch: serde_json::Value) -> anyhow::Result<reqwest::Response> {
    client.patch(&format!("/api/contacts/{contact}"), &patch).await
}

/// The sentence a refused edit answers with.
async fn refused(client: &TestClient, contact: ContactId, patch: serde_json::Value) -> anyhow::Result<String> {
    let error = expect_error(edit(client, contact, patch).await?, StatusCode::UNPROCESSABLE_ENTITY).await?;
    assert_eq!(error.code, ErrorCode::InvalidInput);
    Ok(error.message)
}

async fn edits_are_checked_audited_and_seen_live_by_whoever_may_see_the_customer(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let (ann_client, ann) = server.logged_in("Ann", Role::Agent).await?;
    let (bob_client, _) = server.logged_in("Bob", Role::Agent).await?;
    let (oto_client, _) = server.logged_in("Oto", Role::Agent).await?;
    let (sue_client, _) = server.logged_in("Sue", Role::Supervisor).await?;

    // Attributes: only supervisors and admins define them, and a bad definition is refused.
    let body = AttributeDefinitions { attributes: definitions() };
    let by_agent = ann_client.request(Method::PUT, "/api/contacts/attributes").json(&body).send().await?;
    assert_eq!(by_agent.status(), StatusCode::FORBIDDEN);
    let twice = serde_json::json!({"attributes": [{"key": "plan", "label": "Plan", "kind": {"type": "text"}},
                                                  {"key": "plan", "label": "Tier", "kind": {"type": "number"}}]});
    let response = admin.request(Method::PUT, "/api/contacts/attributes").json(&twice).send().await?;
    let error = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY).await?;
    assert_eq!(error.message, "The key “plan” is used twice.");
    define(&admin).await?;
    let read: AttributeDefinitions = json(ann_client.get("/api/contacts/attributes").await?).await?;
    assert_eq!(read.attributes, definitions(), "everyone reads them (the card shows them)");

    let id = server.customer_writes("5511987654321", "Hi, about my plan").await?;
    let contact = contact_of(&server, id).await?;
    let mut bob_socket = WsClient::connect(&bob_client).await?;

    // Bad values, each refused with a sentence naming the attribute; nothing is stored.
    assert_eq!(
        refused(&ann_client, contact, serde_json::json!({"attributes": {"seats": "twelve"}})).await?,
        "“Seats” must be a number, such as 12 or 4.5."
    );
    assert_eq!(
        refused(&ann_client, contact, serde_json::json!({"attributes": {"renewal": "31/12/2026"}})).await?,
        "“Renewal” must be a date written year-month-day, such as 2026-12-31."
    );
    assert_eq!(
        refused(&ann_client, contact, serde_json::json!({"attributes": {"plan": "Gold"}})).await?,
        "“Plan” must be one of: Free, Pro."
    );
    assert_eq!(
        refused(&ann_client, contact, serde_json::json!({"attributes": {"vip": "maybe"}})).await?,
        "“VIP” must be yes or no."
    );
    assert_eq!(
        refused(&ann_client, contact, serde_json::json!({"attributes": {"tier": 1}})).await?,
        "No attribute “tier” is defined."
    );
    assert!(refused(&ann_client, contact, serde_json::json!({"email": "ana@"})).await?.contains("not an email"));
    let changes: Vec<ContactChange> = json(ann_client.get(&format!("/api/contacts/{contact}/changes")).await?).await?;
    assert!(changes.is_empty(), "a refused edit changes nothing: {changes:?}");

    // A good edit: stored normalized, audited, and on Bob's socket without asking.
    let patch = serde_json::json!({
        "display_name": "  Ana Lima ",
        "email": "ana@example.com",
        "attributes": {"plan": "pro", "seats": 12, "renewal": "2027-01-31", "vip": true},
    });
    let response = edit(&ann_client, contact, patch).await?;
    assert_eq!(response.status(), StatusCode::OK);
    let record: ContactRecord = response.json().await?;
    assert_eq!(record.contact.display_name.as_deref(), Some("Ana Lima"));
    assert_eq!(record.attributes["plan"], AttributeValue::Text("Pro".into()), "the choice as listed");
    assert_eq!(record.attributes["seats"], AttributeValue::Number(12.0));
    let live = bob_socket
        .expect(|message| match message {
            ServerMsg::ContactChanged { contact } => Some(contact.as_ref().clone()),
            _ => None,
        })
        .await?;
    assert_eq!(live, ContactRecord { conversations: None, ..record.clone() }, "Bob's card shows what Ann saved");
    assert_eq!(record.conversations, Some(1), "counted as Ann may see them (pushes count none: readers differ)");
    let detail: serde_json::Value = json(admin.get(&format!("/api/conversations/{id}")).await?).await?;
    assert_eq!(detail["conversation"]["contact"]["display_name"], "Ana Lima", "conversations carry the name");

    let changes: Vec<ContactChange> = json(sue_client.get(&format!("/api/contacts/{contact}/changes")).await?).await?;
    let fields: BTreeSet<&str> = changes.iter().map(|change| change.field.as_str()).collect();
    assert_eq!(
        fields,
        BTreeSet::from([
            "display_name",
            "email",
            "attribute:plan",
            "attribute:seats",
            "attribute:renewal",
            "attribute:vip"
        ])
    );
    assert!(changes.iter().all(|change| change.by == "Ann" && change.old.is_none()));
    // A second edit records the old value beside the new.
    let response = edit(&sue_client, contact, serde_json::json!({"attributes": {"plan": "Free", "vip": null}})).await?;
    assert_eq!(response.status(), StatusCode::OK);
    let changes: Vec<ContactChange> = json(sue_client.get(&format!("/api/contacts/{contact}/changes")).await?).await?;
    let plan = changes.iter().find(|change| change.field == "attribute:plan").expect("audited");
    assert_eq!((plan.by.as_str(), plan.old.as_deref(), plan.new.as_deref()), ("Sue", Some("Pro"), Some("Free")));
    let vip = changes.iter().find(|change| change.field == "attribute:vip" && change.by == "Sue").expect("audited");
    assert_eq!((vip.old.as_deref(), vip.new.as_deref()), (Some("yes"), None), "removed");

    // Assigned to Ann, the customer is hers: Oto (an agent who may not see the conversation)
    // neither sees nor edits the contact, and is told nothing exists; a supervisor does.
    put(&admin, &format!("/api/conversations/{id}/assignee"), &serde_json::json!({ "assignee": ann.id })).await?;
    assert_eq!(oto_client.get(&format!("/api/contacts/{contact}")).await?.status(), StatusCode::NOT_FOUND);
    let by_oto = edit(&oto_client, contact, serde_json::json!({"company": "Acme"})).await?;
    assert_eq!(by_oto.status(), StatusCode::NOT_FOUND);
    assert_eq!(oto_client.get(&format!("/api/contacts/{contact}/changes")).await?.status(), StatusCode::NOT_FOUND);
    let oto_list: ContactList = json(oto_client.get("/api/contacts").await?).await?;
    assert_eq!(oto_list.total, 0, "nor counted");
    let profile: ContactProfile = json(ann_client.get(&format!("/api/contacts/{contact}")).await?).await?;
    assert!(profile.editable);
    assert_eq!(profile.conversations.len(), 1);
    assert_eq!(profile.conversations[0].handled_by.as_deref(), Some("Ann"));
    assert_eq!(profile.conversations[0].first.as_ref().map(|first| first.text.as_str()), Some("Hi, about my plan"));
    let profile: ContactProfile = json(sue_client.get(&format!("/api/contacts/{contact}")).await?).await?;
    assert!(profile.editable, "supervisors edit every contact");
    assert_eq!(
        expect_error(edit(&ann_client, contact, serde_json::json!({})).await?, StatusCode::UNPROCESSABLE_ENTITY)
            .await?
            .code,
        ErrorCode::InvalidInput
    );
    assert_eq!(ann_client.get("/api/contacts/999999").await?.status(), StatusCode::NOT_FOUND);
    server.stop().await
}

async fn listed(client: &TestClient, query: &str) -> anyhow::Result<Vec<String>> {
    let list: ContactList = json(client.get(&format!("/api/contacts?{query}")).await?).await?;
    assert_eq!(list.total as usize, list.contacts.len(), "{query}: one page holds them all");
    Ok(list.contacts.into_iter().map(|record| record.contact.wa_id).collect())
}

async fn contacts_are_found_by_words_any_run_of_digits_labels_and_attributes(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    define(&admin).await?;
    let rao = server.customer_writes("919876543210", "Namaste").await?;
    let ana = server.customer_writes("5511987650000", "Oi").await?;
    let zoe = server.customer_writes("447911123456", "Hello").await?;
    let edits = [
        (
            rao,
            serde_json::json!({"display_name": "Dev Rao", "company": "Şirket Çözüm", "labels": ["VIP"],
                                 "attributes": {"plan": "Pro", "city": "Mumbai"}}),
        ),
        (
            ana,
            serde_json::json!({"display_name": "Ana Conceição", "labels": ["vip", "billing"],
                                 "attributes": {"plan": "Free", "vip": true}}),
        ),
        (zoe, serde_json::json!({"email": "zoe@example.org", "attributes": {"plan": "Pro", "seats": 4.5}})),
    ];
    for (id, patch) in edits {
        let response = edit(&admin, contact_of(&server, id).await?, patch).await?;
        assert_eq!(response.status(), StatusCode::OK, "{:?}", response.text().await);
    }
    let set = |ids: &[&str]| ids.iter().map(|id| (*id).to_owned()).collect::<BTreeSet<String>>();
    let found = |list: Vec<String>| list.into_iter().collect::<BTreeSet<String>>();

    // Any run of three digits or more, however it is written.
    assert_eq!(found(listed(&admin, "q=9876").await?), set(&["919876543210", "5511987650000"]));
    assert_eq!(found(listed(&admin, "q=%2B91%2098765").await?), set(&["919876543210"]), "+91 98765");
    assert_eq!(found(listed(&admin, "q=23456").await?), set(&["447911123456"]), "from the end");
    assert_eq!(found(listed(&admin, "q=98").await?), set(&[]), "two digits are too few to be a number");
    // Words: names (accents aside), company, email, labels, attribute values.
    assert_eq!(listed(&admin, "q=conceicao").await?, ["5511987650000"]);
    assert_eq!(listed(&admin, "q=ana%20con").await?, ["5511987650000"], "by beginnings");
    assert_eq!(listed(&admin, "q=sirket").await?, ["919876543210"]);
    assert_eq!(listed(&admin, "q=mumbai").await?, ["919876543210"]);
    assert_eq!(listed(&admin, "q=zoe%40example").await?, ["447911123456"]);
    assert_eq!(found(listed(&admin, "q=customer").await?), set(&["919876543210", "5511987650000", "447911123456"]));
    // Filters and sorting.
    assert_eq!(found(listed(&admin, "label=VIP").await?), set(&["919876543210", "5511987650000"]));
    assert_eq!(listed(&admin, "label=billing").await?, ["5511987650000"]);
    assert_eq!(found(listed(&admin, "attribute=plan&value=pro").await?), set(&["919876543210", "447911123456"]));
    assert_eq!(listed(&admin, "attribute=vip&value=yes").await?, ["5511987650000"]);
    assert_eq!(listed(&admin, "attribute=seats&value=4.5").await?, ["447911123456"]);
    assert_eq!(listed(&admin, "attribute=plan&value=pro&q=mumbai").await?, ["919876543210"]);
    let sorted = listed(&admin, "sort=name").await?;
    assert_eq!(sorted, ["5511987650000", "447911123456", "919876543210"], "Ana, Customer…, Dev");
    let error =
        expect_error(admin.get("/api/contacts?attribute=plan&value=gold").await?, StatusCode::UNPROCESSABLE_ENTITY)
            .await?;
    assert_eq!(error.message, "“Plan” must be one of: Free, Pro.");
    expect_error(admin.get("/api/contacts?attribute=tier&value=1").await?, StatusCode::UNPROCESSABLE_ENTITY).await?;
    expect_error(admin.get("/api/contacts?sort=shoe").await?, StatusCode::UNPROCESSABLE_ENTITY).await?;

    // The search box finds the customers too, and a conversation by its labels.
    let results: SearchResults = json(admin.get("/api/search?q=9876").await?).await?;
    let customers: BTreeSet<String> = results.contacts.iter().map(|record| record.contact.wa_id.clone()).collect();
    assert_eq!(customers, set(&["919876543210", "5511987650000"]));
    let labelled =
        admin.patch(&format!("/api/conversations/{zoe}/labels"), &serde_json::json!({"add": ["Reembolso"]})).await?;
    assert_eq!(labelled.status(), StatusCode::OK);
    let results: SearchResults = json(admin.get("/api/search?q=reembolso").await?).await?;
    assert_eq!(results.groups.len(), 1);
    assert_eq!(results.groups[0].conversation, zoe);
    assert_eq!(results.groups[0].hits[0].kind, baton_shared::search::HitKind::Labels);
    server.stop().await
}

/// Where a conversation is: its team, its assignee, and whether its customer is blocked.
async fn placement(
    server: &TestServer,
    id: ConversationId,
) -> anyhow::Result<(Option<baton_shared::TeamId>, Option<baton_shared::UserId>, bool)> {
    let conversation = server.state.store.conversation(id).await?.ok_or_else(|| anyhow::anyhow!("gone"))?;
    Ok((conversation.team, conversation.assignee, conversation.contact.blocked))
}

async fn a_blocked_customer_is_kept_but_not_routed(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let (ann_client, ann) = server.logged_in("Ann", Role::Agent).await?;
    let _ann_socket = WsClient::connect(&ann_client).await?;
    let support = create_team(&admin, "Support", AssignmentModel::RoundRobin, &[(ann.id, Some(10))]).await?;
    let rules = StoredRules { version: 0, set: RuleSet { default_team: Some(support), rules: vec![] }, fired: vec![] };
    let saved = admin.request(Method::PUT, "/api/routing/rules").json(&rules).send().await?;
    assert_eq!(saved.status(), StatusCode::OK);

    // Blocked before they write (imported as blocked), then blocked after a first message.
    let import = admin
        .request(Method::POST, "/api/contacts/import?commit=true")
        .header("content-type", "text/csv")
        .body("phone,name,blocked\n+1 650 253 0001,Spammer,yes\n")
        .send()
        .await?;
    let report: ImportReport = json(import).await?;
    assert!(report.committed, "{report:?}");
    let blocked = server.customer_writes("16502530001", "BUY FOLLOWERS NOW").await?;
    let welcome = server.customer_writes("5511900000001", "Hello, I need help").await?;
    eventually(std::time::Duration::from_secs(20), || async {
        Ok(match placement(&server, welcome).await? {
            (Some(team), Some(user), false) if team == support && user == ann.id => Ok(()),
            other => Err(format!("{other:?}")),
        })
    })
    .await?;
    assert_eq!(placement(&server, blocked).await?, (None, None, true), "kept, shown blocked, not placed by the rules");
    let messages = server.state.store.events_after(blocked, 0, 100).await?;
    assert!(messages.iter().any(|event| matches!(&event.change, baton_shared::model::Change::MessageAdded { message } if message.body == "BUY FOLLOWERS NOW")), "the message is kept");

    // Moved into the team by hand, it still waits for nobody: routing passes it over, and a
    // customer who writes after it is routed first.
    move_to(&admin, blocked, Some(support)).await?;
    let later = server.customer_writes("5511900000002", "Another question").await?;
    eventually(std::time::Duration::from_secs(20), || async {
        Ok(if placement(&server, later).await?.1 == Some(ann.id) { Ok(()) } else { Err("not routed yet") })
    })
    .await?;
    assert_eq!(placement(&server, blocked).await?.1, None, "a blocked customer is not routed");

    // Unblocked (by Ann, who sees it waiting in her team), it is routed at once.
    let contact = contact_of(&server, blocked).await?;
    assert_eq!(edit(&ann_client, contact, serde_json::json!({"blocked": false})).await?.status(), StatusCode::OK);
    eventually(std::time::Duration::from_secs(20), || async {
        Ok(if placement(&server, blocked).await?.1 == Some(ann.id) { Ok(()) } else { Err("not routed yet") })
    })
    .await?;
    server.stop().await
}

async fn import(client: &TestClient, body: &str, commit: bool) -> anyhow::Result<ImportReport> {
    let response = client
        .request(Method::POST, &format!("/api/contacts/import?commit={commit}"))
        .header("content-type", "text/csv")
        .body(body.to_owned())
        .send()
        .await?;
    json(response).await
}

async fn an_import_is_previewed_refused_whole_for_one_bad_row_and_exported_back(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let (agent, _) = server.logged_in("Ann", Role::Agent).await?;
    define(&admin).await?;
    server.customer_writes("5511987654321", "Hello").await?;

    let file = "phone,name,email,company,labels,blocked,plan,seats\n\
                +55 11 98765-4321,Ana Lima,ana@example.com,Acme,vip; billing,no,Pro,3\n\
                +91 98765 43210,Dev Rao,,,,,Free,\n\
                +1 650 253 0000,Bad Plan,,,,,Gold,\n\
                447911123456,\"Zoe, Jr.\",zoe@example.org,,,,,7\n";
    // An agent may not import.
    let refused = agent
        .request(Method::POST, "/api/contacts/import")
        .header("content-type", "text/csv")
        .body(file)
        .send()
        .await?;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // The preview: four rows, one bad (line 4), what each good one would do.
    let preview = import(&admin, file, false).await?;
    assert_eq!((preview.rows, preview.creates, preview.updates, preview.committed), (4, 2, 1, false));
    assert_eq!(preview.problems.len(), 1);
    assert_eq!(preview.problems[0].line, 4);
    assert_eq!(preview.problems[0].message, "“Plan” must be one of: Free, Pro.");
    let actions: Vec<(u32, &str, ImportAction)> =
        preview.preview.iter().map(|row| (row.line, row.phone.as_str(), row.action)).collect();
    assert_eq!(
        actions,
        [
            (2, "+5511987654321", ImportAction::Update),
            (3, "+919876543210", ImportAction::Create),
            (5, "+447911123456", ImportAction::Create),
        ]
    );
    // Committing a file with a bad row imports nothing.
    let refused = import(&admin, file, true).await?;
    assert!(!refused.committed);
    let list: ContactList = json(admin.get("/api/contacts").await?).await?;
    assert_eq!(list.total, 1, "nothing partially imported");

    // Without it, every row goes in, in one transaction.
    let good: String = file.lines().filter(|line| !line.contains("Bad Plan")).map(|line| format!("{line}\n")).collect();
    let done = import(&admin, &good, true).await?;
    assert_eq!((done.committed, done.creates, done.updates), (true, 2, 1));
    let list: ContactList = json(admin.get("/api/contacts?sort=name").await?).await?;
    let names: Vec<String> =
        list.contacts.iter().map(|record| baton_shared::contacts::shown_name(&record.contact)).collect();
    assert_eq!(names, ["Ana Lima", "Dev Rao", "Zoe, Jr."]);
    let ana = &list.contacts[0];
    assert_eq!(ana.labels, ["vip", "billing"]);
    assert_eq!(ana.attributes["plan"], AttributeValue::Text("Pro".into()));
    assert_eq!(ana.company, "Acme");
    let changes: Vec<ContactChange> =
        json(admin.get(&format!("/api/contacts/{}/changes", ana.contact.id)).await?).await?;
    assert!(changes.iter().any(|change| change.field == "company" && change.by == "Ada"), "imports are audited");

    // Header problems are line 1; an empty file and a wrong type are sentences.
    let unknown = import(&admin, "phone,tier\n+5511987654321,gold\n", false).await?;
    assert_eq!(unknown.problems[0].line, 1);
    let no_phone = import(&admin, "name\nAna\n", true).await?;
    assert!(!no_phone.committed && no_phone.problems[0].message.contains("phone"));
    let wrong = admin
        .request(Method::POST, "/api/contacts/import")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await?;
    assert_eq!(wrong.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // The export reads back as an import that changes nothing.
    let export = admin.get("/api/contacts/export").await?;
    assert_eq!(export.status(), StatusCode::OK);
    assert!(export.headers()["content-type"].to_str()?.starts_with("text/csv"));
    let text = export.text().await?;
    assert!(text.starts_with("phone,name,email,company,labels,blocked,plan,seats,renewal,vip,city\n"), "{text}");
    assert!(text.contains("+5511987654321,Ana Lima,ana@example.com,Acme,vip; billing,no,Pro,3,,,"), "{text}");
    let again = import(&admin, &text, true).await?;
    assert_eq!((again.committed, again.creates, again.updates), (true, 0, 3), "{again:?}");
    let after: Vec<ContactChange> =
        json(admin.get(&format!("/api/contacts/{}/changes", ana.contact.id)).await?).await?;
    assert_eq!(after.len(), changes.len(), "re-importing the export changes nothing");
    assert_eq!(agent.get("/api/contacts/export").await?.status(), StatusCode::FORBIDDEN);
    server.stop().await
}
