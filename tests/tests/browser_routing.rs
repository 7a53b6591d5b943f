//! Routing in real headless Chromium, against a real Baton wired to the WhatsApp simulator. The
//! customer writes "I was charged twice" and a routing rule puts the conversation in Billing's
//! queue: Bea (Billing, busy, so nothing is pushed to her) sees it waiting; Sam (Sales only) does
//! not. Bea presses Take next and has it, with a line saying so. Ben (Billing) comes online; Bea
//! goes offline, and after Billing's grace (none here) the conversation returns to the queue and
//! round-robin gives it to Ben, whose timeline says both. The admin's Teams page, the Rules page
//! with its test box, and the wall's queues are photographed (`target/test-output/browser/`).

use baton_shared::api::Role;
use baton_shared::routing_rules::{Action, Combine, Condition, Rule, RuleSet, StoredRules, Trigger};
use baton_shared::teams::AssignmentModel;
use baton_simulator::Customer;
use baton_tests::browser::Browser;
use baton_tests::client::json;
use baton_tests::database::Kind;
use baton_tests::server::built_web_dir;
use baton_tests::teams::{create_team, put};
use baton_tests::whatsapp;
use reqwest::Method;

#[tokio::test]
async fn a_billing_question_lands_in_billing_is_taken_and_handed_over_when_its_agent_leaves() -> anyhow::Result<()> {
    let web = built_web_dir();
    anyhow::ensure!(web.join("index.html").is_file(), "no built web app in {}: use `cargo xtask test`", web.display());
    let (server, simulator) =
        whatsapp::start_with_simulator(Kind::Sqlite, baton_simulator::Config::default(), |config| config.web_dir = web)
            .await?;
    let (admin, _) = server.logged_in("Ada Admin", Role::Admin).await?;
    let (ada, ada_password) = server.create_user("Ada Owner", Role::Admin).await?;
    let (bea, bea_password) = server.create_user("Bea Billing", Role::Agent).await?;
    let (ben, ben_password) = server.create_user("Ben Billing", Role::Agent).await?;
    let (sam, sam_password) = server.create_user("Sam Sales", Role::Agent).await?;
    let billing =
        create_team(&admin, "Billing", AssignmentModel::RoundRobin, &[(bea.id, None), (ben.id, None)]).await?;
    put(
        &admin,
        &format!("/api/teams/{billing}"),
        &serde_json::json!({ "name": "Billing", "model": "round_robin", "grace_minutes": 0 }),
    )
    .await?;
    let sales = create_team(&admin, "Sales", AssignmentModel::Queue, &[(sam.id, None)]).await?;
    let rule = |name: &str, words: &[&str], team| Rule {
        combine: Combine::Any,
        ..Rule::new(
            name,
            vec![Trigger::NewConversation, Trigger::CustomerMessage],
            vec![Condition::TextContains { keywords: words.iter().map(|word| (*word).into()).collect() }],
            vec![Action::SetTeam { team }],
        )
    };
    let rules = StoredRules {
        fired: vec![],
        version: 0,
        set: RuleSet {
            default_team: None,
            rules: vec![
                rule("Billing questions", &["charged", "refund", "cobrança"], billing),
                rule("Sales", &["price", "preço"], sales),
            ],
        },
    };
    let saved = admin.request(Method::PUT, "/api/routing/rules").json(&rules).send().await?;
    let _: StoredRules = json(saved).await?;

    let (b, s, a) = (Browser::launch().await?, Browser::launch().await?, Browser::launch().await?);
    let mut ben_browser = None;
    let outcome = async {
        b.log_in(&server.url("/"), &bea.email, &bea_password, true).await?;
        s.log_in(&server.url("/"), &sam.email, &sam_password, false).await?;
        // Bea is busy: Billing pushes her nothing, so the conversation waits for her to take it.
        b.wait_for("#my-status").await?.select_by_value("busy").await?;
        b.wait_for("#queues .queue[data-team='Billing'][data-waiting='0']").await?;

        let customer = Customer::new("15551230001", "Carla Customer");
        simulator.send_text(&customer, "Hi, I was charged twice this month").await?;
        b.wait_for("#queues .queue[data-team='Billing'][data-waiting='1']").await?;
        b.click("#folder-unassigned").await?;
        b.wait_for_text(".conversation-row .row-name", "Carla Customer").await?;
        b.wait_for_text(".conversation-row .team-chip", "Billing").await?;
        b.screenshot("routing-queue-waiting").await?;
        b.expect_every_control_named("inbox with queues").await?;
        // Sam, in Sales only, does not see it: his queue is empty and so is every folder.
        s.wait_for("#queues .queue[data-team='Sales'][data-waiting='0']").await?;
        s.click("#folder-all").await?;
        anyhow::ensure!(s.texts(".conversation-row").await?.is_empty(), "Sam sees Billing's conversation");

        // Take next: it is Bea's, and her timeline says how.
        b.click("#take-next").await?;
        b.wait_for_text("#assignee", "Bea Billing").await?;
        b.wait_for_text(".routing-line", "Bea Billing took this from the Billing queue").await?;
        b.wait_for_text(".routing-line", "put this in Billing").await?;
        b.wait_for("#queues .queue[data-team='Billing'][data-waiting='0']").await?;
        b.wait_for_text("#my-load", "1 / 10").await?;
        b.screenshot("routing-taken").await?;

        // Ben comes online; Bea's connection goes: past Billing's grace the conversation returns
        // to the queue and round-robin gives it to Ben.
        let ben_in = Browser::launch().await?;
        ben_in.log_in(&server.url("/"), &ben.email, &ben_password, false).await?;
        let ben_view = ben_browser.insert(ben_in);
        b.cut_socket(true).await?;
        ben_view.wait_for_text(".conversation-row .row-name", "Carla Customer").await?;
        ben_view.click(".conversation-row").await?;
        ben_view.wait_for_text("#assignee", "Ben Billing").await?;
        ben_view.wait_for_text(".routing-line", "Returned to the queue: Bea Billing went offline").await?;
        ben_view.wait_for_text(".routing-line", "Assigned to Ben Billing by round-robin (Billing)").await?;
        ben_view.screenshot("routing-handed-over").await?;

        // The admin's pages: Teams, Rules with the test box, and the wall's queues.
        a.log_in(&server.url("/"), &ada.email, &ada_password, false).await?;
        a.click("#nav-teams").await?;
        a.wait_for(".team-card[data-team='Billing']").await?;
        a.screenshot("routing-teams-page").await?;
        a.expect_every_control_named("teams").await?;
        a.click("#nav-rules").await?;
        a.wait_for(".rule[data-rule='Billing questions']").await?;
        a.type_into("#test-text", "Recebi uma COBRANCA em dobro").await?;
        a.click("#test-rules").await?;
        a.wait_for_text("#test-outcome", "The rule “Billing questions” would fire: to Billing").await?;
        a.screenshot("routing-rules-page").await?;
        a.expect_every_control_named("rules").await?;
        a.click("#nav-wall").await?;
        a.wait_for(".team-queue[data-team='Billing']").await?;
        a.wait_for_text(".team-queue[data-team='Billing']", "Ben Billing").await?;
        a.wait_for_text(".wall-card .wall-assignee", "Ben Billing · Billing").await?;
        a.screenshot("routing-wall-queues").await?;
        a.expect_every_control_named("wall with queues").await?;
        // Pick to reassign, from the wall: back to the queue, and Ben sees it go.
        a.wait_for(".wall-card .reassign").await?.select_by_value("none").await?;
        a.wait_for_text(".wall-card .wall-assignee", "Billing").await?;
        ben_view.wait_for_text(".routing-line", "Ada Owner returned this to the queue").await?;
        anyhow::Ok(())
    }
    .await;
    for browser in [Some(b), Some(s), Some(a), ben_browser].into_iter().flatten() {
        browser.close().await?;
    }
    outcome?;
    server.stop().await
}
