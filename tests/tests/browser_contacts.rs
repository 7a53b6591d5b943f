//! Customer history, contacts and search in real headless Chromium, against a real Baton. Ana
//! wrote twice before (two conversations resolved last month and the month before; the first
//! long enough that its older messages are not in the first page) and writes again now. Ann (an
//! agent) presses `/`, searches a word from last month's conversation, opens the hit and lands
//! on that message, marked, its history loaded around it; the side panel beside today's
//! conversation lists Ana's two earlier conversations and opens one inline; Ann sets attributes
//! and a name, and Ben, looking at the same conversation, sees them change. The supervisor's Contacts page is
//! filtered by that attribute, and a CSV import with one bad row is refused whole, the row named
//! by its line. Screenshots land in `target/test-output/browser/`.

use anyhow::Context;
use baton_server::store::conversations::{InboundOutcome, NewInbound};
use baton_shared::api::Role;
use baton_shared::model::ConversationStatus;
use baton_shared::{ConversationId, UserId};
use baton_tests::browser::Browser;
use baton_tests::database::Kind;
use baton_tests::server::{TestServer, built_web_dir};
use baton_tests::teams::put;
use fantoccini::Locator;
use serde_json::json;

const DAY_MS: i64 = 86_400_000;

/// A conversation of customer `wa_id` that happened `days_ago`: `messages` written a minute apart
/// (stored with that time, as WhatsApp would have delivered them then), assigned to `agent`,
/// resolved after the last one.
async fn past_conversation(
    server: &TestServer,
    admin: &baton_tests::client::TestClient,
    wa_id: &str,
    days_ago: i64,
    messages: &[String],
    agent: UserId,
) -> anyhow::Result<ConversationId> {
    let start = baton_server::clock::now_ms() - days_ago * DAY_MS;
    let mut conversation = None;
    for (index, body) in messages.iter().enumerate() {
        let at = start + index as i64 * 60_000;
        let message = NewInbound {
            wa_id: wa_id.into(),
            profile_name: "Ana Souza".into(),
            wa_message_id: format!("wamid.past.{}", uuid::Uuid::new_v4()),
            kind: "text".into(),
            body: body.clone(),
            at,
            ..Default::default()
        };
        match server.state.store.record_inbound(&message, at).await? {
            InboundOutcome::Recorded { conversation_id, events } => {
                server.state.bus.publish(&events);
                conversation = Some(conversation_id);
            }
            InboundOutcome::Duplicate => anyhow::bail!("a fresh message id was a duplicate"),
        }
    }
    let id = conversation.context("no message")?;
    put(admin, &format!("/api/conversations/{id}/assignee"), &json!({ "assignee": agent })).await?;
    let resolved_at = start + messages.len() as i64 * 60_000;
    let events = server.state.store.set_status(id, agent, ConversationStatus::Resolved, resolved_at).await?;
    server.state.bus.publish(&events);
    Ok(id)
}

#[tokio::test]
async fn an_agent_finds_last_months_words_sees_the_customers_history_and_edits_live() -> anyhow::Result<()> {
    let web = built_web_dir();
    anyhow::ensure!(web.join("index.html").is_file(), "no built web app in {}: use `cargo xtask test`", web.display());
    let server = TestServer::start_with(Kind::Sqlite, |config| config.web_dir = web).await?;
    let (admin, _) = server.logged_in("Ada Admin", Role::Admin).await?;
    let (ann, ann_password) = server.create_user("Ann Agent", Role::Agent).await?;
    let (ben, ben_password) = server.create_user("Ben Agent", Role::Agent).await?;
    let (sue, sue_password) = server.create_user("Sue Supervisor", Role::Supervisor).await?;
    let attributes = json!({"attributes": [
        {"key": "plan", "label": "Plan", "kind": {"type": "choice", "options": ["Free", "Pro", "Enterprise"]}},
        {"key": "renewal", "label": "Renewal", "kind": {"type": "date"}},
    ]});
    put(&admin, "/api/contacts/attributes", &attributes).await?;

    // Two months ago: a short one. Last month: 130 messages, the word sought in the fifth (so it
    // is not in the newest hundred the conversation opens with).
    let wa_id = "5511987654321";
    let older = vec!["Olá, minha senha não funciona".to_owned(), "Obrigada, resolvido".to_owned()];
    let first = past_conversation(&server, &admin, wa_id, 62, &older, ann.id).await?;
    let mut long: Vec<String> = (0..130).map(|n| format!("Mensagem número {n} sobre o pedido")).collect();
    long[4] = "Recebi um estorno (chargeback) no cartão sem explicação".into();
    let last_month = past_conversation(&server, &admin, wa_id, 31, &long, ann.id).await?;
    // Today: the customer writes again; a new conversation, in the general inbox.
    let today = server.customer_writes(wa_id, "Oi, preciso de ajuda de novo").await?;
    anyhow::ensure!(today != last_month && today != first, "a month later is a new conversation");

    let (a, b, s) = (Browser::launch().await?, Browser::launch().await?, Browser::launch().await?);
    let outcome = async {
        a.log_in(&server.url("/"), &ann.email, &ann_password, false).await?;
        b.log_in(&server.url("/"), &ben.email, &ben_password, false).await?;

        // `/` focuses the search box; the word from last month finds that conversation.
        a.client.find(Locator::Css("body")).await?.send_keys("/").await?;
        anyhow::ensure!(a.focused_id().await? == "search", "/ focuses the search box");
        a.type_into("#search", "chargeback\u{E007}").await?;
        a.wait_for(&format!("#search-results .found-group[data-conversation='{last_month}']")).await?;
        a.wait_for_text("#search-results .snippet mark", "chargeback").await?;
        a.wait_for_text("#search-results .found-contact", "Ana Souza").await.ok();
        a.screenshot("search-results").await?;
        a.expect_every_control_named("search results").await?;
        a.click(&format!("#search-results .found-group[data-conversation='{last_month}'] .hit")).await?;
        // It opens scrolled to that message, marked, the history around it loaded.
        let focused = a.wait_for(".bubble.focused").await?;
        let text = focused.text().await?;
        anyhow::ensure!(text.contains("chargeback"), "the marked message is the hit: {text}");
        a.wait_for_text(".bubble.inbound .text", "Mensagem número 3 sobre").await?;
        let visible: bool = serde_json::from_value(
            a.client
                .execute(
                    "const r = document.querySelector('.bubble.focused').getBoundingClientRect(); \
                     const t = document.querySelector('#timeline').getBoundingClientRect(); \
                     return r.top >= t.top && r.bottom <= t.bottom;",
                    vec![],
                )
                .await?,
        )?;
        anyhow::ensure!(visible, "the marked message is in view");
        a.screenshot("search-landed-on-message").await?;

        // Today's conversation: the side panel shows Ana and her two earlier conversations.
        a.client.goto(&server.url(&format!("/c/{today}"))).await?;
        b.client.goto(&server.url(&format!("/c/{today}"))).await?;
        a.wait_for("#contact-panel [data-field='display_name']").await?;
        let earlier = a
            .wait_for_texts("#earlier-conversations .earlier", "two earlier conversations", |texts| texts.len() == 2)
            .await?;
        anyhow::ensure!(earlier[0].contains("Mensagem número 0"), "newest first: {earlier:?}");
        anyhow::ensure!(earlier[1].contains("senha"), "then the older: {earlier:?}");
        anyhow::ensure!(earlier.iter().all(|line| line.contains("Ann Agent")), "who handled them: {earlier:?}");
        a.click(&format!("#earlier-conversations .earlier[data-conversation='{first}'] .expand")).await?;
        a.wait_for_text(".earlier-messages li.inbound", "Obrigada, resolvido").await?;

        // Ann sets the plan and the renewal; Ben, on the same conversation, sees both change.
        b.wait_for("#contact-panel select[data-attribute='plan']").await?;
        let plan = a.wait_for("#contact-panel select[data-attribute='plan']").await?;
        plan.select_by_value("Pro").await?;
        b.wait_for_value("#contact-panel select[data-attribute='plan']", "Pro").await?;
        a.type_into("#contact-panel [data-field='display_name']", "Ana Souza Lima\u{E004}").await?;
        b.wait_for_value("#contact-panel [data-field='display_name']", "Ana Souza Lima").await?;
        b.wait_for_text(".conversation-header", "Ana Souza Lima").await?;
        // The renewal date, picked in the date field (set as the picker sets it: the typed
        // format depends on the browser's locale).
        a.client
            .execute(
                "const field = document.querySelector(\"#contact-panel input[data-attribute='renewal']\"); \
                 field.value = '2027-12-31'; field.dispatchEvent(new Event('change', {bubbles: true}));",
                vec![],
            )
            .await?;
        b.wait_for_value("#contact-panel input[data-attribute='renewal']", "2027-12-31").await?;
        a.screenshot("side-panel-history").await?;
        b.screenshot("side-panel-teammate-live").await?;
        a.expect_every_control_named("conversation with the side panel").await?;

        // The supervisor's Contacts page, filtered by the plan.
        s.log_in(&server.url("/contacts"), &sue.email, &sue_password, false).await?;
        s.wait_for("#contacts-table").await?;
        for other in ["5511900000002", "5511900000003"] {
            server.customer_writes(other, "Olá").await?;
        }
        s.client.refresh().await?;
        s.wait_for_texts("#contacts-table tbody tr", "three customers", |rows| rows.len() == 3).await?;
        let attribute = s.wait_for("#contacts-attribute").await?;
        attribute.select_by_value("plan").await?;
        s.type_into("#contacts-value", "Pro\u{E004}").await?;
        let rows = s.wait_for_texts("#contacts-table tbody tr", "one Pro customer", |rows| rows.len() == 1).await?;
        anyhow::ensure!(rows[0].contains("Ana Souza Lima") && rows[0].contains("+5511987654321"), "{rows:?}");
        s.screenshot("contacts-filtered").await?;
        s.expect_every_control_named("contacts").await?;

        // A CSV file with one bad row: previewed, the row named by its line, nothing imported.
        let file = server.database.dir.path().join("contacts.csv");
        std::fs::write(
            &file,
            "phone,name,plan\n+55 11 91234-5678,Bruno Lima,Pro\n+55 11 4000,Short Number,Free\n+44 7911 123456,Chloe,Enterprise\n",
        )?;
        s.wait_for("#import-file").await?.send_keys(&file.display().to_string()).await?;
        s.wait_for_text("#import-problems li[data-line='3']", "is not a valid number").await?;
        s.wait_for_attr("#import-commit", "disabled", "true").await?;
        s.screenshot("contacts-import-refused").await?;
        let list: baton_shared::contacts::ContactList = baton_tests::client::json(admin.get("/api/contacts").await?).await?;
        anyhow::ensure!(list.total == 3, "nothing was imported: {}", list.total);

        // 60 more customers: the list pages 50 at a time.
        let rows: String = (0..60).map(|n| format!("+1 650 253 {},Imported {n}\n", 1000 + n)).collect();
        let imported = admin
            .request(reqwest::Method::POST, "/api/contacts/import?commit=true")
            .header("content-type", "text/csv")
            .body(format!("phone,name\n{rows}"))
            .send()
            .await?;
        anyhow::ensure!(imported.status().is_success(), "import: {}", imported.status());
        s.client.refresh().await?;
        s.wait_for_text("#contacts-total", "1–50 of 63 customers").await?;
        s.wait_for("#contacts-next").await?.click().await?;
        s.wait_for_text("#contacts-total", "51–63 of 63 customers").await?;
        s.wait_for_texts("#contacts-table tbody tr", "the second page", |rows| rows.len() == 13).await?;
        s.wait_for_attr("#contacts-next", "disabled", "true").await?;
        s.screenshot("contacts-second-page").await?;
        anyhow::Ok(())
    }
    .await;
    for browser in [a, b, s] {
        browser.close().await?;
    }
    outcome?;
    server.stop().await
}
