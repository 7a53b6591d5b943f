//! The app itself in real headless Chromium: real URLs (a conversation's link opens it on a fresh
//! page load, back and forward move between conversations and sections), and the dark theme
//! (follows the system, a choice in the theme menu wins and is remembered), and the languages (a
//! browser that prefers Brazilian Portuguese gets it; the language menu switches, remembered).
//! Screenshots land in `target/test-output/browser/`.

use baton_shared::api::Role;
use baton_simulator::Customer;
use baton_tests::browser::Browser;
use baton_tests::database::Kind;
use baton_tests::server::{TestServer, built_web_dir};
use baton_tests::whatsapp;

/// Baton serving the built web app, with the WhatsApp simulator beside it.
async fn start() -> anyhow::Result<(TestServer, baton_simulator::Simulator)> {
    let web = built_web_dir();
    anyhow::ensure!(web.join("index.html").is_file(), "no built web app in {}: use `cargo xtask test`", web.display());
    whatsapp::start_with_simulator(Kind::Sqlite, baton_simulator::Config::default(), |config| config.web_dir = web)
        .await
}

/// The path the browser shows.
async fn path(browser: &Browser) -> anyhow::Result<String> {
    Ok(browser.client.current_url().await?.path().to_owned())
}

/// The id of the conversation row showing `customer`, read from its `data-conversation`.
async fn row_id(browser: &Browser, customer: &str) -> anyhow::Result<String> {
    let row = format!("//button[contains(@class, 'conversation-row')][.//span[contains(., '{customer}')]]");
    let row = browser
        .client
        .wait()
        .at_most(baton_tests::browser::PATIENCE)
        .for_element(fantoccini::Locator::XPath(&row))
        .await?;
    row.attr("data-conversation").await?.ok_or_else(|| anyhow::anyhow!("no data-conversation on {customer}'s row"))
}

#[tokio::test]
async fn a_conversation_has_a_link_that_survives_a_reload_and_history() -> anyhow::Result<()> {
    let (server, simulator) = start().await?;
    let (sue, sue_password) = server.create_user("Sue Supervisor", Role::Supervisor).await?;
    let carla = Customer::new("15551230001", "Carla Customer");
    let dan = Customer::new("15551230002", "Dan Doe");
    simulator.send_text(&carla, "Where is my order?").await?;
    simulator.send_text(&dan, "Do you ship to Lisbon?").await?;

    let browser = Browser::launch().await?;
    let outcome = async {
        browser.log_in(&server.url("/"), &sue.email, &sue_password, false).await?;
        anyhow::ensure!(path(&browser).await? == "/", "the inbox is at /");
        browser.click("#folder-unassigned").await?;
        let (carla_id, dan_id) = (row_id(&browser, "Carla Customer").await?, row_id(&browser, "Dan Doe").await?);

        // Opening a conversation puts it in the address bar.
        browser.click(&format!(".conversation-row[data-conversation='{carla_id}']")).await?;
        browser.wait_for_text("#customer-name", "Carla Customer").await?;
        anyhow::ensure!(path(&browser).await? == format!("/c/{carla_id}"));
        browser.click(&format!(".conversation-row[data-conversation='{dan_id}']")).await?;
        browser.wait_for_text("#customer-name", "Dan Doe").await?;
        anyhow::ensure!(path(&browser).await? == format!("/c/{dan_id}"));
        browser.click("#nav-wall").await?;
        browser.wait_for(".wall").await?;
        anyhow::ensure!(path(&browser).await? == "/wall", "the wall has its path");

        // Back and forward walk the same way.
        browser.client.back().await?;
        browser.wait_for_text("#customer-name", "Dan Doe").await?;
        browser.client.back().await?;
        browser.wait_for_text("#customer-name", "Carla Customer").await?;
        anyhow::ensure!(path(&browser).await? == format!("/c/{carla_id}"));
        browser.client.forward().await?;
        browser.wait_for_text("#customer-name", "Dan Doe").await?;

        // A reload, and a link opened on a fresh page load, show the same conversation (the
        // assets are found from a nested path).
        browser.client.refresh().await?;
        browser.wait_for_text("#customer-name", "Dan Doe").await?;
        browser.client.goto(&server.url(&format!("/c/{carla_id}"))).await?;
        browser.wait_for_text("#customer-name", "Carla Customer").await?;
        browser.wait_for_text(".bubble.inbound .text", "Where is my order?").await?;
        // The list beside it opens on a folder that lists it (Carla's is unassigned, and the
        // page starts on "Mine").
        browser.wait_for(&format!(".conversation-row[data-conversation='{carla_id}']")).await?;
        browser.screenshot("link-opened").await?;
        // The list behind it is the inbox as usual.
        browser.click("#folder-unassigned").await?;
        browser.wait_for_texts(".conversation-row", "both conversations", |rows| rows.len() == 2).await?;
        // A section has a link too.
        browser.client.goto(&server.url("/wall")).await?;
        browser.wait_for(".wall").await?;
        anyhow::ensure!(browser.texts("#nav-wall.active").await?.len() == 1, "the wall's tab is the active one");
        anyhow::Ok(())
    }
    .await;
    browser.close().await?;
    outcome
}

/// Chromium told that the system is in dark mode: what `prefers-color-scheme` then answers.
const SYSTEM_DARK: &str = "--blink-settings=preferredColorScheme=0";
/// The page's background (`--paper`) in each theme, as computed.
const LIGHT_PAPER: &str = "rgb(244, 246, 248)";
const DARK_PAPER: &str = "rgb(15, 20, 25)";

#[tokio::test]
async fn the_theme_follows_the_system_and_a_choice_is_remembered() -> anyhow::Result<()> {
    let (server, simulator) = start().await?;
    let (sue, sue_password) = server.create_user("Sue Supervisor", Role::Supervisor).await?;
    let carla = Customer::new("15551230001", "Carla Customer");
    simulator.send_text(&carla, "Hello! Is the blue jacket back in stock?").await?;

    let browser = Browser::launch_with(&[SYSTEM_DARK]).await?;
    let outcome = async {
        browser.log_in(&server.url("/"), &sue.email, &sue_password, false).await?;
        let system_dark =
            browser.client.execute("return matchMedia('(prefers-color-scheme: dark)').matches;", vec![]).await?;
        anyhow::ensure!(system_dark.as_bool() == Some(true), "Chromium emulates a dark system");
        browser.click("#folder-unassigned").await?;
        browser.click(".conversation-row").await?;
        browser.wait_for_text(".bubble.inbound .text", "blue jacket").await?;
        browser.type_into("#new-note", "VIP, answer first").await?;
        browser.click("#add-note").await?;
        browser.wait_for_text(".note .note-body", "VIP").await?;

        // Nothing chosen: the system's dark.
        anyhow::ensure!(browser.value("#theme").await? == "system");
        let paper = browser.computed_style("html", "background-color").await?;
        anyhow::ensure!(paper == DARK_PAPER, "the system's dark theme: {paper}");
        let shot = browser.screenshot("theme-dark").await?;
        println!("screenshot: {}", shot.display());

        // Light chosen: it wins over the system, and is still chosen after a reload.
        browser.wait_for("#theme").await?.select_by_value("light").await?;
        let paper = browser.computed_style("html", "background-color").await?;
        anyhow::ensure!(paper == LIGHT_PAPER, "light as chosen: {paper}");
        let shot = browser.screenshot("theme-light").await?;
        println!("screenshot: {}", shot.display());
        browser.client.refresh().await?;
        browser.wait_for_text(".bubble.inbound .text", "blue jacket").await?;
        anyhow::ensure!(browser.value("#theme").await? == "light", "the choice is remembered");
        let paper = browser.computed_style("html", "background-color").await?;
        anyhow::ensure!(paper == LIGHT_PAPER, "light after the reload: {paper}");

        // Back to the system's.
        browser.wait_for("#theme").await?.select_by_value("system").await?;
        let paper = browser.computed_style("html", "background-color").await?;
        anyhow::ensure!(paper == DARK_PAPER, "the system's again: {paper}");
        browser.expect_every_control_named("conversation, dark").await?;
        anyhow::Ok(())
    }
    .await;
    browser.close().await?;
    outcome
}

#[tokio::test]
async fn a_browser_preferring_brazilian_portuguese_gets_it_and_can_switch() -> anyhow::Result<()> {
    let (server, simulator) = start().await?;
    let (ana, ana_password) = server.create_user("Ana Agente", Role::Agent).await?;
    simulator.send_text(&Customer::new("15551230001", "Carla Cliente"), "Oi, meu pedido chegou?").await?;

    let browser = Browser::launch_with(&["--accept-lang=pt-BR"]).await?;
    let outcome = async {
        browser.client.goto(&server.url("/")).await?;
        browser.wait_for_text("#login-submit", "Entrar").await?;
        browser.log_in(&server.url("/"), &ana.email, &ana_password, false).await?;
        browser.wait_for_text("#nav-inbox", "Caixa de entrada").await?;
        browser.wait_for_text("#me-role", "Agente").await?;
        browser.wait_for_text("#logout", "Sair").await?;
        browser.wait_for_text("#link-live", "Conectado").await?;
        browser.wait_for_text("#folder-unassigned", "Sem responsável").await?;
        browser.click("#folder-unassigned").await?;
        browser.wait_for_text(".conversation-row .row-name", "Carla Cliente").await?;
        // (Capitalised by the stylesheet, as in English.)
        browser.wait_for_text(".conversation-row .status-chip", "Aberta").await?;
        let lang = browser.client.execute("return document.documentElement.lang;", vec![]).await?;
        anyhow::ensure!(lang.as_str() == Some("pt-BR"), "the page says its language: {lang}");
        browser.expect_every_control_named("inbox in Portuguese").await?;
        browser.screenshot("inbox-pt-BR").await?;

        // English chosen in the menu: the page is drawn again in it, and stays so.
        browser.wait_for("#language").await?.select_by_value("en").await?;
        browser.wait_for_text("#nav-inbox", "Inbox").await?;
        browser.client.refresh().await?;
        browser.wait_for_text("#nav-inbox", "Inbox").await?;
        browser.wait_for_texts("#me-role", "the role in English", |texts| texts == ["Agent"]).await?;
        anyhow::Ok(())
    }
    .await;
    browser.close().await?;
    outcome
}
