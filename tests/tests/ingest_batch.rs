//! What a transaction storing customer messages reads once or writes only when needed, on SQLite
//! and PostgreSQL through the `Store` trait: automation's job is stored only when automation has
//! something to do on a customer message (an auto-reply or the menu bot on, a service-level
//! target set), and a contact's search terms follow its profile name without being rewritten on
//! every message. (A batch's redeliveries: `store::webhook_deliveries_are_kept_until_processed`.)

use std::sync::Arc;

use baton_server::store::channel::{DeliveryWork, Work};
use baton_server::store::contacts::ContactFilter;
use baton_server::store::conversations::NewInbound;
use baton_server::store::search::SearchScope;
use baton_server::store::{NewUser, Store};
use baton_shared::api::Role;
use baton_shared::contacts::ContactListRequest;
use baton_shared::search::Query;

baton_tests::on_both_backends!(
    a_customer_message_stores_a_job_only_when_automation_listens,
    a_contact_is_found_by_its_latest_profile_name,
);

const NOW: i64 = 1_764_000_000_000;

fn inbound(wa_id: &str, name: &str, wamid: &str) -> NewInbound {
    NewInbound {
        wa_id: wa_id.into(),
        profile_name: name.into(),
        wa_message_id: wamid.into(),
        kind: "text".into(),
        body: format!("text of {wamid}"),
        at: NOW - 1_000,
        ..Default::default()
    }
}

/// Stores the messages as one delivery's work, as the ingest worker does.
async fn deliver(store: &dyn Store, messages: Vec<NewInbound>) -> anyhow::Result<()> {
    let work = messages.into_iter().map(|message| Work::Inbound(Box::new(message))).collect();
    store.apply_deliveries(&[DeliveryWork { id: 0, work }], NOW).await?;
    Ok(())
}

async fn a_customer_message_stores_a_job_only_when_automation_listens(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$fake$ada".to_owned();
    let ada = store
        .create_user(
            &NewUser { email: "ada@x.test".into(), name: "Ada".into(), role: Role::Admin, password_hash: hash },
            None,
            NOW,
        )
        .await?;
    // A new inbox: no auto-reply, no menu, no target. Nobody works without a worker here, so a
    // job stored would still be due.
    deliver(&*store, vec![inbound("15550001", "Ana", "wamid.A1")]).await?;
    assert_eq!(store.jobs_due(NOW).await?, 0, "nothing listens: no job");

    let greeting = r#"{"greeting":{"enabled":true,"text":"Hi"},"away":{"enabled":false,"text":""},
        "queue_ack":{"enabled":false,"text":""},"hourly_cap":3}"#;
    let version = store.save_automation_settings("auto_replies", greeting, 0, ada.id, NOW).await?;
    deliver(&*store, vec![inbound("15550002", "Bo", "wamid.B1"), inbound("15550003", "Cy", "wamid.C1")]).await?;
    assert_eq!(store.jobs_due(NOW).await?, 2, "the greeting listens: a job per message");

    // The auto-replies off again; a first-response target for one team alone is enough.
    let off = greeting.replace("true", "false");
    store.save_automation_settings("auto_replies", &off, version, ada.id, NOW).await?;
    deliver(&*store, vec![inbound("15550004", "Di", "wamid.D1")]).await?;
    assert_eq!(store.jobs_due(NOW).await?, 2, "nothing listens again");
    let targets = r#"{"inbox":{},"teams":[{"team":1,"targets":{"first_response_minutes":5}}]}"#;
    store.save_automation_settings("sla", targets, 0, ada.id, NOW).await?;
    deliver(&*store, vec![inbound("15550004", "Di", "wamid.D2")]).await?;
    assert_eq!(store.jobs_due(NOW).await?, 3, "a team's target listens");

    // Settings that no longer parse (written by a newer Baton) count as listening: the job reads
    // them and says so, rather than a message going unanswered silently.
    store.save_automation_settings("auto_replies", "{\"greeting\": 7}", version + 1, ada.id, NOW).await?;
    store.save_automation_settings("sla", "{}", 1, ada.id, NOW).await?;
    deliver(&*store, vec![inbound("15550005", "Ed", "wamid.E1")]).await?;
    assert_eq!(store.jobs_due(NOW).await?, 4);
    Ok(())
}

async fn a_contact_is_found_by_its_latest_profile_name(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let scope = SearchScope { user: baton_shared::UserId(1), everything: true, lead: false, teams: Vec::new() };
    let found = |words: &'static str| {
        let store = store.clone();
        let scope = scope.clone();
        async move {
            let filter = ContactFilter {
                request: ContactListRequest { q: Some(words.into()), ..Default::default() },
                query: Query::parse(words),
                limit: 10,
                ..Default::default()
            };
            let list = store.contacts(&scope, &filter).await?;
            anyhow::Ok(list.contacts.iter().map(|record| record.contact.profile_name.clone()).collect::<Vec<_>>())
        }
    };
    deliver(&*store, vec![inbound("15550001", "Ana Lima", "wamid.1")]).await?;
    assert_eq!(found("lima").await?, ["Ana Lima"]);
    // The same name again changes nothing; a new one replaces the old terms in the same commit.
    deliver(&*store, vec![inbound("15550001", "Ana Lima", "wamid.2"), inbound("15550001", "Ana Souza", "wamid.3")])
        .await?;
    assert_eq!(found("souza").await?, ["Ana Souza"]);
    assert!(found("lima").await?.is_empty(), "the old name is no longer found");
    // A message without a profile name keeps the one known.
    deliver(&*store, vec![inbound("15550001", "", "wamid.4")]).await?;
    assert_eq!(found("souza").await?, ["Ana Souza"]);
    Ok(())
}
