//! Automation in real headless Chromium, against Baton wired to the WhatsApp simulator. The
//! customer's phone page (the simulator's) shows the menu's buttons; the customer taps "Billing"
//! there; the conversation goes to Billing, whose agent sees the bot's handoff note. The admin's
//! Automation page (hours, auto-replies, service levels, menu, rating) is photographed, with every
//! control named; so is the Rules page, where the admin adds an automation rule (on resolve,
//! send the canned thanks) and tests it in the test box; then, a minute on, the missed first-response target shows red on the wall
//! (`target/test-output/browser/`). (The one real-time wait of the suite: the browser watches the
//! real clock.)

use std::time::Duration;

use baton_shared::api::Role;
use baton_shared::routing_rules::{Action, Rule, RuleSet, StoredRules, Trigger};
use baton_shared::teams::AssignmentModel;
use baton_simulator::Customer;
use baton_tests::browser::Browser;
use baton_tests::database::Kind;
use baton_tests::server::built_web_dir;
use baton_tests::teams::{create_team, put};
use baton_tests::whatsapp;
use fantoccini::Locator;
use serde_json::json;

#[tokio::test]
async fn a_customer_taps_billing_on_the_phone_and_the_agent_reads_the_bots_note() -> anyhow::Result<()> {
    let web = built_web_dir();
    anyhow::ensure!(web.join("index.html").is_file(), "no built web app in {}: use `cargo xtask test`", web.display());
    let (server, simulator) =
        whatsapp::start_with_simulator(Kind::Sqlite, baton_simulator::Config::default(), |config| {
            config.web_dir = web;
        })
        .await?;
    let (admin, _) = server.logged_in("Ada Admin", Role::Admin).await?;
    let (ada, ada_password) = server.create_user("Ada Owner", Role::Admin).await?;
    let (bea, bea_password) = server.create_user("Bea Billing", Role::Agent).await?;
    let billing = create_team(&admin, "Billing", AssignmentModel::RoundRobin, &[(bea.id, None)]).await?;
    let sales = create_team(&admin, "Sales", AssignmentModel::Queue, &[]).await?;
    let menu = json!({
        "version": 0, "enabled": true, "prompt": "Hi! How can we help you today?", "list_button": "Choose",
        "options": [
            {"id": "billing", "title": "Billing", "keywords": ["invoice"], "team": billing, "label": "billing"},
            {"id": "sales", "title": "Sales", "keywords": ["buy"], "team": sales}
        ],
        "person": "Talk to a person", "handoff_words": ["agent", "human", "person"],
        "retry": "Sorry, please choose one of these:"
    });
    put(&admin, "/api/automation/menu", &menu).await?;
    put(&admin, "/api/automation/sla", &json!({"version": 0, "inbox": {"first_response_minutes": 1}})).await?;
    let every_day: Vec<_> = ["monday", "tuesday", "wednesday", "thursday", "friday"]
        .iter()
        .map(|day| json!({"day": day, "from": "09:00", "to": "17:30"}))
        .collect();
    // The inbox is always open (so the missed target is missed now); Sales keeps office hours.
    let office = json!({"time_zone": "Europe/Berlin", "weekly": every_day, "holidays": ["2026-12-25"]});
    let hours = json!({"version": 0, "inbox": null, "teams": [{"team": sales, "hours": office}]});
    put(&admin, "/api/automation/hours", &hours).await?;
    let replies = json!({
        "version": 0,
        "greeting": {"enabled": false, "text": "Hello {{customer_name}}!"},
        "away": {"enabled": false, "text": "We are back {{next_opening}}."},
        "queue_ack": {"enabled": false, "text": "You are number {{position}} in line."},
        "hourly_cap": 3
    });
    put(&admin, "/api/automation/replies", &replies).await?;
    let thanks = admin
        .post("/api/canned-responses", &json!({"title": "Thanks", "body": "Thank you, {{customer_name}}!"}))
        .await?;
    anyhow::ensure!(thanks.status() == 201, "canned response: {}", thanks.status());
    let thanks: baton_shared::api::CannedResponse = thanks.json().await?;
    let mut label_new = Rule::new(
        "Label every new conversation",
        vec![Trigger::NewConversation],
        vec![],
        vec![Action::AddLabels { labels: vec!["new".into()] }],
    );
    label_new.keep_going = true;
    let rules = StoredRules { version: 0, set: RuleSet { default_team: None, rules: vec![label_new] }, fired: vec![] };
    let saved = admin.request(reqwest::Method::PUT, "/api/routing/rules").json(&rules).send().await?;
    anyhow::ensure!(saved.status() == 200, "rules: {}", saved.status());

    let (phone, b, a) = (Browser::launch().await?, Browser::launch().await?, Browser::launch().await?);
    let outcome = async {
        // Bea is online (Billing's round-robin gives her work) and looks at her inbox.
        b.log_in(&server.url("/"), &bea.email, &bea_password, false).await?;

        // The customer writes; the phone shows the menu with its buttons.
        let customer = Customer::new("4915112345678", "Lena Kunde");
        simulator.send_text(&customer, "Hallo, I have a question about my invoice").await?;
        phone.client.goto(&format!("{}/#{}", simulator.base_url(), customer.wa_id)).await?;
        let billing_button = Locator::XPath("//button[normalize-space(text())='Billing']");
        phone.client.wait().at_most(Duration::from_secs(20)).for_element(billing_button).await?;
        phone.wait_for_text("body", "Talk to a person").await?;
        phone.screenshot("automation-phone-menu").await?;
        // The customer taps "Billing" on the phone. The phone page redraws the chat as it polls:
        // a button found just before a redraw is gone by the click, so it is found again.
        let mut attempts = 0;
        loop {
            let tapped = match phone.client.find(billing_button).await {
                Ok(button) => button.click().await,
                Err(error) => Err(error),
            };
            match tapped {
                Ok(()) => break,
                Err(error) if attempts < 5 => {
                    attempts += 1;
                    eprintln!("tapping Billing again after: {error}");
                }
                Err(error) => return Err(error.into()),
            }
        }

        // Bea has it, from the menu bot, with its note.
        b.wait_for_text(".conversation-row .row-name", "Lena Kunde").await?;
        b.click(".conversation-row").await?;
        b.wait_for_text("#assignee", "Bea Billing").await?;
        b.wait_for_text(".note", "the customer chose “Billing”").await?;
        b.wait_for_text(".note", "“Hallo, I have a question about my invoice”").await?;
        b.wait_for_text(".routing-line", "The menu bot handed this to Billing").await?;
        b.wait_for_text(".bubble.automated", "Hi! How can we help you today?").await?;
        b.screenshot("automation-handoff-note").await?;
        b.expect_every_control_named("conversation after the bot").await?;

        // The Automation page: every part, each control named.
        a.log_in(&server.url("/"), &ada.email, &ada_password, false).await?;
        a.click("#nav-automation").await?;
        a.wait_for_text("#business-hours .schedule[data-scope='inbox'] .open-now", "open now").await?;
        let sales_monday =
            format!("#business-hours .schedule[data-scope='{sales}'] .day[data-day='monday'] .day-hours");
        a.wait_for_value(&sales_monday, "09:00-17:30").await?;
        a.screenshot("automation-page-hours").await?;
        // Saving a part from the page: the away message switched on and saved, version moved on.
        a.click("#away .reply-enabled").await?;
        a.click("#save-replies").await?;
        a.wait_for_text("#auto-replies .saved", "Saved").await?;
        a.wait_for_value("#menu-prompt", "Hi! How can we help you today?").await?;
        a.client.execute("document.getElementById('menu-bot').scrollIntoView()", vec![]).await?;
        a.screenshot("automation-page-menu").await?;
        a.expect_every_control_named("automation").await?;

        // The Rules page: the rule that labelled the customer's conversation says it fired; the
        // admin adds an automation rule — on resolve, send the canned thanks — saves it, and the
        // test box says what a resolve of a billing conversation would get.
        a.click("#nav-rules").await?;
        a.wait_for_text("#rules .rule .rule-fired", "Fired 1 times").await?;
        a.click("#add-rule").await?;
        let fresh = "#rules .rule:last-child";
        a.type_into(&format!("{fresh} .rule-name"), "Thank on resolve").await?;
        a.click(&format!("{fresh} .on-new input")).await?;
        a.click(&format!("{fresh} .on-message input")).await?;
        a.click(&format!("{fresh} .on-resolved input")).await?;
        a.type_into(&format!("{fresh} .rule-has-label"), "billing").await?;
        a.wait_for(&format!("{fresh} .rule-canned")).await?.select_by_value(&thanks.id.to_string()).await?;
        a.type_into(&format!("{fresh} .rule-remove-labels"), "new").await?;
        a.click("#save-rules").await?;
        a.wait_for_text(".rules-buttons .saved", "Saved").await?;
        a.wait_for("#test-trigger").await?.select_by_value("conversation_resolved").await?;
        a.type_into("#test-label", "billing").await?;
        a.click("#test-rules").await?;
        a.wait_for_text("#test-outcome", "“Thank on resolve” would fire: remove labels new, send “Thanks”").await?;
        a.screenshot("automation-rules-page").await?;
        a.expect_every_control_named("rules").await?;
        let stored: StoredRules = admin.get("/api/routing/rules").await?.json().await?;
        let added = stored.set.rules.iter().find(|rule| rule.name == "Thank on resolve");
        assert_eq!(
            added.map(|rule| (rule.id, rule.triggers.clone(), rule.actions.clone())),
            Some((
                2,
                vec![Trigger::ConversationResolved],
                vec![Action::RemoveLabels { labels: vec!["new".into()] }, Action::SendCanned { canned: thanks.id },]
            )),
            "saved as built on the page"
        );

        // Nobody answered within the first-response target (a minute, of an inbox always open):
        // the supervisor's wall shows the card red once it is missed.
        a.click("#nav-wall").await?;
        let deadline = std::time::Instant::now() + Duration::from_secs(100);
        while a.client.find(Locator::Css(".wall-card.breached")).await.is_err() {
            anyhow::ensure!(std::time::Instant::now() < deadline, "the missed target never showed on the wall");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        a.wait_for_text(".wall-card.breached .sla-chip", "first response overdue").await?;
        a.screenshot("automation-wall-breached").await?;
        anyhow::Ok(())
    }
    .await;
    for browser in [phone, b, a] {
        browser.close().await?;
    }
    outcome?;
    server.stop().await
}
