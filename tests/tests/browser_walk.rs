//! What a walk through the web app in five browsers found, each in real headless Chromium against
//! a real Baton: messages redelivered late placed where the customer wrote them; mention notices
//! that name and open their conversation, stay clear of the Send button and go away; claims let go
//! when their holder leaves, resolves or leaves them unused; a conversation can be set pending;
//! each message's text shown once; a connection error that clears itself once the connection is
//! back; canned responses that claim and save the draft like typing; labels too long refused with
//! a sentence, and the assign panel clear of them; uploads that show they are under way and name
//! their limit in MB; every control named for assistive technology; and a narrow screen's words.
//! Screenshots land in `target/test-output/browser/`.

use anyhow::Context;
use baton_shared::ConversationId;
use baton_shared::api::{CannedResponseRequest, Role, User};
use baton_shared::model::ConversationStatus;
use baton_simulator::{Customer, Endpoint, Inbound};
use baton_tests::browser::Browser;
use baton_tests::database::Kind;
use baton_tests::eventually::eventually;
use baton_tests::server::{TestServer, built_web_dir};
use baton_tests::whatsapp;
use fantoccini::Locator;

const ENTER: &str = "\u{E007}";

fn web_dir() -> anyhow::Result<std::path::PathBuf> {
    let web = built_web_dir();
    anyhow::ensure!(web.join("index.html").is_file(), "no built web app in {}: use `cargo xtask test`", web.display());
    Ok(web)
}

/// Opens the conversation whose row names `customer` (in the Unassigned folder).
async fn open_row(browser: &Browser, customer: &str) -> anyhow::Result<()> {
    browser.click("#folder-unassigned").await?;
    let row = format!("//button[contains(@class, 'conversation-row')][.//span[contains(., '{customer}')]]");
    browser
        .client
        .wait()
        .at_most(baton_tests::browser::PATIENCE)
        .for_element(Locator::XPath(&row))
        .await?
        .click()
        .await?;
    browser.wait_for_text("#customer-name", customer).await
}

/// Waits until the server holds `expected` as `user`'s draft of `conversation`.
async fn draft_saved(
    server: &TestServer,
    conversation: ConversationId,
    user: &User,
    expected: &str,
) -> anyhow::Result<()> {
    eventually(baton_tests::browser::PATIENCE, || async {
        let draft = server.state.store.draft(conversation, user.id).await?;
        Ok(if draft.as_deref() == Some(expected) { Ok(()) } else { Err(draft) })
    })
    .await
    .with_context(|| format!("waiting for the draft {expected:?}"))
}

#[tokio::test]
async fn a_mention_names_its_conversation_opens_it_and_goes_away() -> anyhow::Result<()> {
    let web = web_dir()?;
    let server = TestServer::start_with(Kind::Sqlite, |config| config.web_dir = web).await?;
    let (ann, ann_password) = server.create_user("Ann Agent", Role::Agent).await?;
    let (ben, ben_password) = server.create_user("Ben Agent", Role::Agent).await?;
    server.customer_writes("15550001", "Where is my parcel?").await?;
    server.customer_writes("15550002", "Hello there").await?;

    let (a, b) = (Browser::launch().await?, Browser::launch().await?);
    let outcome = async {
        a.log_in(&server.url("/"), &ann.email, &ann_password, false).await?;
        b.log_in(&server.url("/"), &ben.email, &ben_password, false).await?;
        // Ben works in another conversation, his Send button on screen.
        open_row(&b, "Customer 15550002").await?;
        b.type_into("#composer", "Let me see").await?;
        b.wait_for("#send:not([disabled])").await?;

        open_row(&a, "Customer 15550001").await?;
        a.type_into("#new-note", "@ben do you know this parcel?").await?;
        a.click("#add-note").await?;
        let said = "Ann Agent mentioned you in a note on Customer 15550001.";
        b.wait_for_text(".toast", said).await?;
        b.screenshot("mention-notice").await?;
        for covered in ["#send", "#composer", "#resolve", "#set-pending", "#assign-me"] {
            anyhow::ensure!(!b.overlap(".toast", covered).await?, "the notice covers {covered}");
        }
        // Clicking it opens the conversation it is about.
        b.click(".toast .toast-open").await?;
        b.wait_for_text("#customer-name", "Customer 15550001").await?;
        b.wait_for_gone(".toast").await?;

        // Left alone, a notice goes away by itself; dismissed, at once.
        a.type_into("#new-note", "@ben still there?").await?;
        a.click("#add-note").await?;
        b.wait_for_text(".toast", "Ann Agent mentioned you").await?;
        b.wait_for_gone(".toast").await?;
        a.type_into("#new-note", "@ben one more").await?;
        a.click("#add-note").await?;
        b.wait_for_text(".toast", "Ann Agent mentioned you").await?;
        b.click(".toast .dismiss").await?;
        b.wait_for_gone(".toast").await?;
        anyhow::Ok(())
    }
    .await;
    for browser in [a, b] {
        browser.close().await?;
    }
    server.stop().await?;
    outcome
}

#[tokio::test]
async fn a_claim_lets_go_when_its_holder_leaves_or_resolves_and_pending_can_be_set() -> anyhow::Result<()> {
    let web = web_dir()?;
    let server = TestServer::start_with(Kind::Sqlite, |config| config.web_dir = web).await?;
    let (ann, ann_password) = server.create_user("Ann Agent", Role::Agent).await?;
    let (ben, ben_password) = server.create_user("Ben Agent", Role::Agent).await?;
    let first = server.customer_writes("15550001", "Where is my parcel?").await?;
    server.customer_writes("15550002", "Hello there").await?;

    let (a, b) = (Browser::launch().await?, Browser::launch().await?);
    let outcome = async {
        a.log_in(&server.url("/"), &ann.email, &ann_password, false).await?;
        b.log_in(&server.url("/"), &ben.email, &ben_password, false).await?;
        // Ann claims without typing; Ben, in the same conversation, cannot write.
        open_row(&a, "Customer 15550001").await?;
        a.click("#claim").await?;
        a.wait_for_text("#claim-line", "You are replying").await?;
        open_row(&b, "Customer 15550001").await?;
        b.wait_for_text("#holder", "Ann Agent is replying").await?;
        b.wait_for_attr("#composer", "readonly", "true").await?;
        // Ann moves on to another conversation with nothing typed: her claim goes, Ben can type.
        open_row(&a, "Customer 15550002").await?;
        b.wait_for_text("#claim-line", "Start typing").await?;
        b.type_into("#composer", "I will take this one").await?;
        b.wait_for_text("#claim-line", "You are replying").await?;

        // Ben resolves with his draft still there: resolving lets go of the claim too.
        open_row(&a, "Customer 15550001").await?;
        a.wait_for_text("#holder", "Ben Agent is replying").await?;
        b.click("#resolve").await?;
        a.wait_for_text("#claim-line", "Start typing").await?;
        a.type_into("#composer", "Anything else?").await?;
        a.wait_for_text("#claim-line", "You are replying").await?;

        // Pending can be set, not only filtered; reopening brings it back.
        a.click("#reopen").await?;
        a.wait_for_attr(".conversation-header .status-chip", "data-status", "open").await?;
        a.click("#set-pending").await?;
        a.wait_for_attr(".conversation-header .status-chip", "data-status", "pending").await?;
        let stored = server.state.store.conversation(first).await?.map(|conversation| conversation.status);
        assert_eq!(stored, Some(ConversationStatus::Pending));
        b.wait_for_attr(".conversation-header .status-chip", "data-status", "pending").await?;
        a.screenshot("pending").await?;
        anyhow::Ok(())
    }
    .await;
    for browser in [a, b] {
        browser.close().await?;
    }
    server.stop().await?;
    outcome
}

/// A claim its holder leaves unused, while still looking at the conversation, lapses after the
/// claim-idle time (shortened here to 2 s; 60 s by default): both browsers see it free again.
#[tokio::test]
async fn an_unused_claim_lapses_while_its_holder_looks_on() -> anyhow::Result<()> {
    let web = web_dir()?;
    let server = TestServer::start_with(Kind::Sqlite, |config| {
        config.web_dir = web;
        config.claim_idle = std::time::Duration::from_secs(2);
        // The lease keeper looks every quarter lease: every second here.
        config.claim_lease = std::time::Duration::from_secs(4);
    })
    .await?;
    let (ann, ann_password) = server.create_user("Ann Agent", Role::Agent).await?;
    let (ben, ben_password) = server.create_user("Ben Agent", Role::Agent).await?;
    server.customer_writes("15550003", "Are you there?").await?;

    let (a, b) = (Browser::launch().await?, Browser::launch().await?);
    let outcome = async {
        a.log_in(&server.url("/"), &ann.email, &ann_password, false).await?;
        b.log_in(&server.url("/"), &ben.email, &ben_password, false).await?;
        open_row(&a, "Customer 15550003").await?;
        open_row(&b, "Customer 15550003").await?;
        a.click("#claim").await?;
        a.wait_for_text("#claim-line", "You are replying").await?;
        b.wait_for_text("#holder", "Ann Agent is replying").await?;
        // Ann types nothing: the claim lapses though she stays online and on the conversation.
        b.wait_for_text("#claim-line", "Start typing").await?;
        a.wait_for_text("#claim-line", "Start typing").await?;
        b.type_into("#composer", "Hello, yes!").await?;
        b.wait_for_text("#claim-line", "You are replying").await?;
        anyhow::Ok(())
    }
    .await;
    if outcome.is_err() {
        b.screenshot("claim-idle-failed").await?;
    }
    for browser in [a, b] {
        browser.close().await?;
    }
    server.stop().await?;
    outcome
}

/// Baton wired to the simulator, with Lena's conversation (she wrote once) and Ann, an agent,
/// logged in in her own browser (socket hooked, so a test can cut it) with that conversation open.
struct Walk {
    server: TestServer,
    simulator: baton_simulator::Simulator,
    lena: Customer,
    ann: User,
    conversation: ConversationId,
    browser: Browser,
}

impl Walk {
    /// `name` names the screenshot taken if anything fails.
    async fn start(name: &str) -> anyhow::Result<Walk> {
        let web = web_dir()?;
        let (server, simulator) = whatsapp::start_with(Kind::Sqlite, |config| config.web_dir = web).await?;
        let (ann, ann_password) = server.create_user("Ann Agent", Role::Agent).await?;
        let lena = Customer::new("15551230009", "Lena Lopez");
        let wamid = simulator.send_text(&lena, "Hi, a few things").await?;
        let conversation = whatsapp::wait_for_conversation(&server, &wamid).await?;
        let browser = Browser::launch().await?;
        let walk = Walk { server, simulator, lena, ann, conversation, browser };
        let opened = async {
            walk.browser.log_in(&walk.server.url("/"), &walk.ann.email, &ann_password, true).await?;
            open_row(&walk.browser, "Lena Lopez").await
        }
        .await;
        if let Err(error) = opened {
            walk.browser.screenshot(&format!("{name}-failed")).await?;
            walk.end().await?;
            return Err(error);
        }
        Ok(walk)
    }

    /// Closes the browser and stops Baton; hands back what the test found.
    async fn finish(self, name: &str, outcome: anyhow::Result<()>) -> anyhow::Result<()> {
        if outcome.is_err() {
            self.browser.screenshot(&format!("{name}-failed")).await?;
        }
        self.end().await?;
        outcome
    }

    async fn end(self) -> anyhow::Result<()> {
        self.browser.close().await?;
        self.server.stop().await
    }
}

/// WhatsApp redelivers after an outage, late and in any order: the open timeline places each
/// message where the customer wrote it (not where it arrived), and the list's preview stays the
/// newest written.
#[tokio::test]
async fn late_messages_take_their_place_in_the_open_timeline() -> anyhow::Result<()> {
    let walk = Walk::start("late-messages").await?;
    let (server, simulator, lena, a) = (&walk.server, &walk.simulator, &walk.lena, &walk.browser);
    let outcome = async {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
        // Written three, two and one minutes before "Hi, a few things", during an outage; they
        // arrive now as three, one, two.
        for (body, minutes_before) in [("late three", 1), ("late one", 3), ("late two", 2)] {
            whatsapp::deliver_late_text(server, simulator, lena, body, now - minutes_before * 60).await?;
        }
        let late = |texts: &[String]| texts.iter().filter(|text| text.starts_with("late ")).count() == 3;
        let shown = a.wait_for_texts(".bubble.inbound .text", "the three late messages", late).await?;
        assert_eq!(shown, ["late one", "late two", "late three", "Hi, a few things"], "in the order written");
        a.wait_for_text(".conversation-row .row-preview", "Hi, a few things").await?;
        a.screenshot("late-messages").await?;
        anyhow::Ok(())
    }
    .await;
    walk.finish("late-messages", outcome).await
}

#[tokio::test]
async fn each_message_reads_its_words_once() -> anyhow::Result<()> {
    let walk = Walk::start("message-kinds").await?;
    let (simulator, lena, a) = (&walk.simulator, &walk.lena, &walk.browser);
    let outcome = async {
        let location = Inbound::Location {
            latitude: 52.52,
            longitude: 13.405,
            name: Some("Blue Bottle".into()),
            address: Some("1 Main Street".into()),
        };
        simulator.send(lena, location).await?;
        let card = baton_whatsapp::webhook::ContactCard {
            name: Some(baton_whatsapp::webhook::ContactName {
                formatted_name: Some("Maria Lopez".into()),
                ..Default::default()
            }),
            phones: vec![baton_whatsapp::webhook::ContactPhone {
                phone: Some("+1 555 0100".into()),
                wa_id: None,
                kind: None,
            }],
            ..Default::default()
        };
        simulator.send(lena, Inbound::Contacts { cards: vec![card] }).await?;
        simulator.send(lena, Inbound::Unsupported { subtype: Some("poll_creation".into()) }).await?;

        let once = |texts: &[String], needle: &str| texts.concat().matches(needle).count() == 1;
        let located = a.wait_for_texts(".bubble[data-kind='location']", "the location", |t| !t.is_empty()).await?;
        anyhow::ensure!(once(&located, "Blue Bottle") && once(&located, "1 Main Street"), "{located:?}");
        let cards = a.wait_for_texts(".bubble[data-kind='contacts']", "the card", |t| !t.is_empty()).await?;
        anyhow::ensure!(once(&cards, "Maria Lopez"), "{cards:?}");
        let unsupported = a.wait_for_texts(".bubble[data-kind='unsupported']", "the poll", |t| !t.is_empty()).await?;
        anyhow::ensure!(once(&unsupported, "Unsupported message (poll creation)"), "{unsupported:?}");
        anyhow::ensure!(once(&unsupported, "Ask the customer to send it another way."), "{unsupported:?}");
        anyhow::ensure!(!unsupported.concat().contains(".."), "{unsupported:?}");
        a.screenshot("message-kinds").await?;
        anyhow::Ok(())
    }
    .await;
    walk.finish("message-kinds", outcome).await
}

#[tokio::test]
async fn a_canned_response_claims_and_saves_the_draft_as_typing_does() -> anyhow::Result<()> {
    let walk = Walk::start("canned").await?;
    let outcome = async {
        let (sue, _) = walk.server.logged_in("Sue Supervisor", Role::Supervisor).await?;
        let hours = CannedResponseRequest { title: "Hours".into(), body: "We open at 9.".into() };
        anyhow::ensure!(sue.post("/api/canned-responses", &hours).await?.status().is_success());
        let a = &walk.browser;
        // Opening the menu loads the list afresh.
        a.click("#canned").await?;
        a.wait_for_texts("#canned option", "the response", |options| options.len() == 2).await?;
        a.wait_for("#canned").await?.select_by_label("Hours").await?;
        a.wait_for_value("#composer", "We open at 9.").await?;
        a.wait_for_text("#claim-line", "You are replying").await?;
        draft_saved(&walk.server, walk.conversation, &walk.ann, "We open at 9.").await
    }
    .await;
    walk.finish("canned", outcome).await
}

#[tokio::test]
async fn a_label_too_long_is_refused_with_a_sentence_and_the_assign_panel_keeps_clear() -> anyhow::Result<()> {
    let walk = Walk::start("labels").await?;
    let a = &walk.browser;
    let outcome = async {
        // Refused with the server's sentence, and kept whole in the field (not cut at 32).
        let too_long = "x".repeat(40);
        a.type_into("#add-label", &format!("{too_long}{ENTER}")).await?;
        a.wait_for_text(".alert", "A label may have at most 32 characters.").await?;
        a.wait_for_value("#add-label", &too_long).await?;
        let stored = walk.server.state.store.conversation(walk.conversation).await?.map(|c| c.labels);
        assert_eq!(stored, Some(Vec::new()), "nothing was labelled");
        a.wait_for("#add-label").await?.clear().await?;
        let longest = "awaiting-replacement-part-orders";
        a.type_into("#add-label", &format!("{longest}{ENTER}")).await?;
        a.wait_for_text("#labels .label-chip", longest).await?;
        a.wait_for_gone(".conversation .alert").await?;
        // The longest label and the assign menu, closed and open, keep out of each other's way.
        anyhow::ensure!(!a.overlap("#labels .label-chip", ".transfer summary").await?, "the label runs under the menu");
        a.click(".transfer summary").await?;
        a.wait_for("#transfer-note").await?;
        for (one, other) in [
            ("#add-label", "#transfer-to"),
            ("#add-label", "#transfer-note"),
            ("#add-label", ".transfer summary"),
            ("#labels .label-chip", ".transfer summary"),
            ("#labels .label-chip", "#transfer-to"),
        ] {
            anyhow::ensure!(!a.overlap(one, other).await?, "{one} and {other} overlap");
        }
        a.screenshot("labels-and-assign-panel").await?;
        anyhow::Ok(())
    }
    .await;
    walk.finish("labels", outcome).await
}

#[tokio::test]
async fn an_upload_shows_it_is_under_way_and_a_file_too_large_is_refused_in_megabytes() -> anyhow::Result<()> {
    let files = tempfile::tempdir()?;
    let picture = files.path().join("parcel.png");
    std::fs::write(&picture, baton_simulator::sample_png(32, 24))?;
    let huge = files.path().join("huge.mp4");
    std::fs::write(&huge, vec![0_u8; baton_shared::api::MAX_UPLOAD_BYTES + 1])?;
    let walk = Walk::start("uploads").await?;
    let a = &walk.browser;
    let outcome = async {
        a.click("#claim").await?;
        a.wait_for_text("#claim-line", "You are replying").await?;
        // Held by the test until it has seen the upload under way.
        a.hold_uploads().await?;
        a.wait_for("#attach").await?.send_keys(&picture.display().to_string()).await?;
        a.wait_for_text("#uploading", "Uploading parcel.png").await?;
        a.screenshot("uploading").await?;
        assert_eq!(a.release_uploads().await?, 1);
        walk.simulator.wait_for_request(|request| request.endpoint == Endpoint::MediaUpload).await?;
        a.wait_for(".bubble.outbound img.media.image").await?;
        a.wait_for_gone("#uploading").await?;
        // Over the limit: refused before anything is sent, in megabytes.
        a.wait_for("#attach").await?.send_keys(&huge.display().to_string()).await?;
        a.wait_for_text("#composer-notice", "The file is larger than 16 MB").await?;
        assert_eq!(a.release_uploads().await?, 0, "nothing was sent");
        anyhow::Ok(())
    }
    .await;
    walk.finish("uploads", outcome).await
}

#[tokio::test]
async fn a_failed_reply_outside_the_window_offers_a_template_not_a_retry() -> anyhow::Result<()> {
    let walk = Walk::start("retry").await?;
    let a = &walk.browser;
    let outcome = async {
        // WhatsApp refuses the free text (131047): the window closed early.
        walk.simulator.close_window(&walk.lena.wa_id);
        a.type_into("#composer", "Sorry for the wait!").await?;
        a.type_into("#composer", ENTER).await?;
        a.wait_for_attr(".bubble.outbound .ticks", "data-status", "failed").await?;
        a.wait_for("#template-picker").await?;
        a.wait_for(".bubble.outbound .failure .use-template").await?;
        anyhow::ensure!(
            a.client.find_all(Locator::Css(".bubble.outbound .failure .retry")).await?.is_empty(),
            "a Retry that cannot succeed is offered"
        );
        a.click(".bubble.outbound .failure .use-template").await?;
        assert_eq!(a.focused_id().await?, "template", "the template picker has the focus");
        a.expect_every_control_named("template picker").await?;
        anyhow::Ok(())
    }
    .await;
    walk.finish("retry", outcome).await
}

#[tokio::test]
async fn not_connected_goes_away_once_the_connection_is_back() -> anyhow::Result<()> {
    let walk = Walk::start("stale-error").await?;
    let a = &walk.browser;
    let outcome = async {
        a.cut_socket(true).await?;
        a.wait_for("#reconnecting").await?;
        a.type_into("#composer", "See you").await?;
        a.wait_for_text("#composer-notice", "Not connected to Baton").await?;
        a.restore_socket().await?;
        a.wait_for("#link-live").await?;
        a.wait_for_gone("#composer-notice").await?;
        // And typing works again.
        a.type_into("#composer", " soon").await?;
        a.wait_for_text("#claim-line", "You are replying").await?;
        anyhow::Ok(())
    }
    .await;
    walk.finish("stale-error", outcome).await
}

#[tokio::test]
async fn every_control_is_named_and_a_phone_is_not_told_to_look_left() -> anyhow::Result<()> {
    let walk = Walk::start("narrow").await?;
    let a = &walk.browser;
    let outcome = async {
        a.expect_every_control_named("conversation").await?;
        a.click(".transfer summary").await?;
        a.wait_for("#transfer-note").await?;
        a.expect_every_control_named("conversation, assign panel open").await?;
        a.client.set_window_size(420, 860).await?;
        a.click(".back-button").await?;
        a.wait_for_text(".no-conversation", "Pick a conversation from the list.").await?;
        anyhow::ensure!(!a.texts(".no-conversation").await?.concat().contains("left"));
        a.expect_every_control_named("inbox").await?;
        a.screenshot("narrow-empty").await?;
        anyhow::Ok(())
    }
    .await;
    walk.finish("narrow", outcome).await
}
