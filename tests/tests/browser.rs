//! The web app in a real headless Chromium: the served WASM app logs the demo agent in and shows
//! their name and role. Screenshots land in `target/test-output/browser/`.

use baton_server::demo;
use baton_tests::browser::Browser;
use baton_tests::database::Kind;
use baton_tests::server::{TestServer, built_web_dir};
use fantoccini::Locator;

#[tokio::test]
async fn the_demo_agent_logs_in_and_sees_their_name_and_role() -> anyhow::Result<()> {
    let web = built_web_dir();
    anyhow::ensure!(web.join("index.html").is_file(), "no built web app in {}: use `cargo xtask test`", web.display());
    let server = TestServer::start_with(Kind::Sqlite, |config| config.web_dir = web).await?;
    demo::seed(server.state.store.as_ref(), &server.state.passwords).await?;
    let alice = demo::ACCOUNTS.iter().find(|account| account.email.starts_with("alice")).expect("demo agent");

    let browser = Browser::launch().await?;
    let outcome = async {
        browser.client.goto(&server.url("/")).await?;
        let email = browser.wait_for("#login-email").await?;
        browser.screenshot("login").await?;

        // A wrong password first: the app shows the server's sentence.
        email.send_keys(alice.email).await?;
        browser.client.find(Locator::Css("#login-password")).await?.send_keys("not-the-password").await?;
        browser.client.find(Locator::Css("#login-submit")).await?.click().await?;
        let error = browser.wait_for("#login-error").await?;
        assert_eq!(error.text().await?, "The email or password is incorrect.");
        browser.screenshot("login-refused").await?;

        browser.client.find(Locator::Css("#login-password")).await?.send_keys(alice.password).await?;
        browser.client.find(Locator::Css("#login-submit")).await?.click().await?;
        let name = browser.wait_for("#me-name").await?;
        assert_eq!(name.text().await?, "Alice Agent");
        let role = browser.client.find(Locator::Css("#me-role")).await?;
        assert_eq!(role.text().await?, "Agent");
        assert_eq!(role.attr("data-role").await?.as_deref(), Some("agent"));
        let shot = browser.screenshot("agent-logged-in").await?;
        println!("screenshot: {}", shot.display());

        // The session is a cookie: a reload keeps the agent logged in.
        browser.client.refresh().await?;
        assert_eq!(browser.wait_for("#me-name").await?.text().await?, "Alice Agent");

        // Logging out returns to the login screen, and the session is gone server-side: the
        // browser's cookie, replayed from outside, no longer works.
        let cookie = browser.client.get_named_cookie("baton_session").await?;
        let mut replay = server.client();
        replay.cookie = Some(format!("baton_session={}", cookie.value()));
        assert_eq!(replay.get("/api/me").await?.status(), reqwest::StatusCode::OK);
        browser.client.find(Locator::Css("#logout")).await?.click().await?;
        browser.wait_for("#login-email").await?;
        assert_eq!(replay.get("/api/me").await?.status(), reqwest::StatusCode::UNAUTHORIZED);
        browser.client.refresh().await?;
        browser.wait_for("#login-email").await?;
        anyhow::Ok(())
    }
    .await;
    browser.close().await?;
    outcome
}

#[tokio::test]
async fn an_admin_manages_users_in_the_app() -> anyhow::Result<()> {
    let web = built_web_dir();
    anyhow::ensure!(web.join("index.html").is_file(), "no built web app in {}: use `cargo xtask test`", web.display());
    let server = TestServer::start_with(Kind::Sqlite, |config| config.web_dir = web).await?;
    demo::seed(server.state.store.as_ref(), &server.state.passwords).await?;
    let admin = demo::ACCOUNTS.iter().find(|account| account.email.starts_with("admin")).expect("demo admin");

    let browser = Browser::launch().await?;
    let outcome = async {
        browser.log_in(&server.url("/"), admin.email, admin.password, false).await?;
        browser.click("#nav-users").await?;
        browser.wait_for_text("#users td", "alice@demo.baton").await?;
        browser.expect_every_control_named("users page").await?;
        browser.type_into("#new-user-name", "Dana <b>Dev</b>").await?;
        browser.type_into("#new-user-email", "dana@demo.baton").await?;
        browser.type_into("#new-user-password", "dana-password-1").await?;
        browser.click(".create-user button[type=submit]").await?;
        // The new account is listed, its name shown as text.
        browser.wait_for_text("#users td", "dana@demo.baton").await?;
        anyhow::ensure!(browser.texts("#users td").await?.iter().any(|text| text == "Dana <b>Dev</b>"));
        let dana = server
            .state
            .store
            .users()
            .await?
            .into_iter()
            .find(|user| user.email == "dana@demo.baton")
            .ok_or_else(|| anyhow::anyhow!("Dana was not created"))?;
        // Disabling her from the list reaches the server.
        browser.click(&format!("tr[data-user='{}'] button", dana.id)).await?;
        browser.wait_for_text(&format!("tr[data-user='{}'] td", dana.id), "Disabled").await?;
        anyhow::ensure!(server.state.store.user(dana.id).await?.is_some_and(|user| user.disabled));
        browser.screenshot("admin-users").await?;
        anyhow::Ok(())
    }
    .await;
    browser.close().await?;
    outcome
}

#[tokio::test]
async fn a_long_history_opens_with_its_newest_messages_and_loads_earlier_ones_on_request() -> anyhow::Result<()> {
    let web = built_web_dir();
    anyhow::ensure!(web.join("index.html").is_file(), "no built web app in {}: use `cargo xtask test`", web.display());
    let server = TestServer::start_with(Kind::Sqlite, |config| config.web_dir = web).await?;
    let (sam, password) = server.create_user("Sam Supervisor", baton_shared::api::Role::Supervisor).await?;
    for n in 1..=130 {
        server.customer_writes("15550001234", &format!("line {n}")).await?;
    }
    let browser = Browser::launch().await?;
    let outcome = async {
        browser.log_in(&server.url("/"), &sam.email, &password, false).await?;
        browser.click("#folder-all").await?;
        browser.click(".conversation-row").await?;
        let count = |texts: &[String]| texts.len();
        browser.wait_for_texts(".bubble .text", "the newest 100", |texts| count(texts) == 100).await?;
        let shown = browser.texts(".bubble .text").await?;
        assert_eq!(
            (shown.first().map(String::as_str), shown.last().map(String::as_str)),
            (Some("line 31"), Some("line 130"))
        );
        browser.click("#earlier").await?;
        let all = browser.wait_for_texts(".bubble .text", "all 130", |texts| count(texts) == 130).await?;
        assert_eq!(all, (1..=130).map(|n| format!("line {n}")).collect::<Vec<_>>(), "once each, in order");
        anyhow::ensure!(browser.client.find_all(Locator::Css("#earlier")).await?.is_empty(), "nothing earlier left");
        anyhow::Ok(())
    }
    .await;
    browser.close().await?;
    outcome
}

#[tokio::test]
async fn a_supervisor_keeps_canned_responses_and_an_agent_inserts_one() -> anyhow::Result<()> {
    let web = built_web_dir();
    anyhow::ensure!(web.join("index.html").is_file(), "no built web app in {}: use `cargo xtask test`", web.display());
    let server = TestServer::start_with(Kind::Sqlite, |config| config.web_dir = web).await?;
    demo::seed(server.state.store.as_ref(), &server.state.passwords).await?;
    let account = |prefix: &str| demo::ACCOUNTS.iter().find(|account| account.email.starts_with(prefix));
    let (alice, sam) = (account("alice").expect("demo agent"), account("sam").expect("demo supervisor"));
    server.customer_writes("15550001", "When does my order ship?").await?;

    let (agent, supervisor) = (Browser::launch().await?, Browser::launch().await?);
    let outcome = async {
        agent.log_in(&server.url("/"), alice.email, alice.password, false).await?;
        agent.click("#folder-unassigned").await?;
        agent.click(".conversation-row").await?;
        agent.wait_for("#composer").await?;
        anyhow::ensure!(
            agent.client.find_all(Locator::Css("#nav-replies")).await?.is_empty(),
            "agents do not keep the list"
        );

        // The supervisor adds two responses, then corrects one.
        supervisor.log_in(&server.url("/"), sam.email, sam.password, false).await?;
        supervisor.click("#nav-replies").await?;
        supervisor.type_into("#canned-title", "Shipping").await?;
        supervisor.type_into("#canned-body", "Orders ship within 2 days.").await?;
        supervisor.click("#save-canned").await?;
        supervisor.wait_for_text("#canned-list .canned-title", "Shipping").await?;
        supervisor.type_into("#canned-title", "Greeting").await?;
        supervisor.type_into("#canned-body", "Hello!").await?;
        supervisor.click("#save-canned").await?;
        supervisor
            .wait_for_texts("#canned-list .canned-title", "two responses", |titles| titles == ["Greeting", "Shipping"])
            .await?;
        supervisor.click(".canned-item:nth-child(2) .edit-canned").await?;
        supervisor.wait_for_value("#canned-title", "Shipping").await?;
        supervisor.type_into("#canned-body", " Tracking follows by email.").await?;
        supervisor.click("#save-canned").await?;
        supervisor.wait_for_text("#canned-list .canned-body", "Tracking follows by email.").await?;
        // A duplicate title is refused with a sentence.
        supervisor.type_into("#canned-title", "Greeting").await?;
        supervisor.type_into("#canned-body", "Hi again").await?;
        supervisor.click("#save-canned").await?;
        supervisor.wait_for_text(".alert", "exists already").await?;
        supervisor.screenshot("canned-responses").await?;
        supervisor.expect_every_control_named("canned responses page").await?;

        // The agent's menu, already open before, offers them when opened; choosing one puts its
        // text in the composer.
        agent.click("#canned").await?;
        agent.wait_for("#canned option[value]:not([value=''])").await?;
        agent.wait_for_texts("#canned option", "the team's responses", |options| options.len() == 3).await?;
        agent.wait_for("#canned").await?.select_by_label("Shipping").await?;
        agent.wait_for_value("#composer", "Orders ship within 2 days. Tracking follows by email.").await?;
        // Inserting it is typing: the conversation is claimed.
        agent.wait_for_text("#claim-line", "You are replying").await?;
        anyhow::Ok(())
    }
    .await;
    agent.close().await?;
    supervisor.close().await?;
    outcome
}
