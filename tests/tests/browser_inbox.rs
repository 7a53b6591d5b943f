//! The live inbox in real headless Chromium, against a real Baton wired to the WhatsApp
//! simulator: two agents and a supervisor, each in their own browser. A customer writes and both
//! agents see it; Ann types and Ben sees her typing while his composer locks, and the supervisor
//! watches her draft; Ann sends, the simulator receives it, and the ticks move in both agents'
//! views; after Ann releases, Ben replies; Ann's note edit reaches Ben; HTML from the customer
//! renders as text; Ann's socket is cut while the customer writes, and on reconnect she shows
//! those messages once, in order. A second test turns notifications on and off with the bell and
//! sends an attachment. Screenshots land in `target/test-output/browser/`.

use anyhow::Context;
use baton_shared::api::Role;
use baton_simulator::{Customer, DeliveryStatus, Endpoint, Inbound, StatusOrder, StatusProgression};
use baton_tests::browser::Browser;
use baton_tests::database::Kind;
use baton_tests::eventually::eventually;
use baton_tests::server::built_web_dir;
use baton_tests::whatsapp;

const ENTER: &str = "\u{E007}";

#[tokio::test]
async fn two_agents_and_a_supervisor_work_one_conversation_live() -> anyhow::Result<()> {
    let web = built_web_dir();
    anyhow::ensure!(web.join("index.html").is_file(), "no built web app in {}: use `cargo xtask test`", web.display());
    // Statuses are sent by the test, so each tick can be seen.
    let meta = baton_simulator::Config { statuses: StatusProgression::manual(), ..baton_simulator::Config::default() };
    let (server, simulator) = whatsapp::start_with_simulator(Kind::Sqlite, meta, |config| config.web_dir = web).await?;
    let (ann, ann_password) = server.create_user("Ann Agent", Role::Agent).await?;
    let (ben, ben_password) = server.create_user("Ben Agent", Role::Agent).await?;
    let (sue, sue_password) = server.create_user("Sue Supervisor", Role::Supervisor).await?;

    let (a, b, s) = (Browser::launch().await?, Browser::launch().await?, Browser::launch().await?);
    let outcome = async {
        a.log_in(&server.url("/"), &ann.email, &ann_password, true).await?;
        b.log_in(&server.url("/"), &ben.email, &ben_password, false).await?;
        s.log_in(&server.url("/"), &sue.email, &sue_password, false).await?;
        s.click("#nav-wall").await?;

        // The customer writes: both agents see the conversation appear, unassigned.
        let customer = Customer::new("15551230001", "Carla Customer");
        simulator.send_text(&customer, "Hello, my order 42 has not arrived").await?;
        for agent in [&a, &b] {
            agent.click("#folder-unassigned").await?;
            agent.wait_for_text(".conversation-row .row-preview", "my order 42").await?;
            agent.wait_for_text(".conversation-row .row-name", "Carla Customer").await?;
        }
        s.wait_for_text(".wall-card", "Carla Customer").await?;
        s.expect_every_control_named("wall").await?;
        b.screenshot("inbox").await?;
        a.click(".conversation-row").await?;
        b.click(".conversation-row").await?;
        for agent in [&a, &b] {
            agent.wait_for_text(".bubble.inbound .text", "my order 42").await?;
        }
        // Each sees the other viewing.
        a.wait_for(&format!("#viewers .viewer[data-user='{}']", ben.id)).await?;
        b.wait_for(&format!("#viewers .viewer[data-user='{}']", ann.id)).await?;

        // Ann types: the typing lock is hers; Ben sees her typing and his composer locks; the
        // supervisor watches the draft.
        a.type_into("#composer", "Hi Carla, let me check order 42").await?;
        a.wait_for_text("#claim-line", "You are replying").await?;
        b.wait_for_text("#typing", "Ann Agent is typing").await?;
        b.wait_for_text("#holder", "Ann Agent is replying").await?;
        b.wait_for_attr("#composer", "readonly", "true").await?;
        s.wait_for_text(".wall-draft .draft-text", "let me check order 42").await?;
        b.screenshot("composer-locked").await?;
        s.screenshot("supervisor-wall").await?;
        s.expect_every_control_named("wall, a claim held").await?;
        b.expect_every_control_named("conversation, composer locked").await?;
        // Ben's keystrokes are refused; his composer holds nothing of them.
        b.type_into("#composer", "me too").await?;
        anyhow::ensure!(b.value("#composer").await?.is_empty(), "Ben's refused keystrokes left nothing");

        // Ann sends: the simulator receives exactly her text.
        a.type_into("#composer", ENTER).await?;
        let sent = simulator
            .wait_for_request(|request| {
                request.endpoint == Endpoint::Messages
                    && request.json.as_ref().and_then(|json| json.pointer("/text/body")).and_then(|body| body.as_str())
                        == Some("Hi Carla, let me check order 42")
            })
            .await?;
        let wamid = sent.message_id().ok_or_else(|| anyhow::anyhow!("the send was not accepted"))?.to_owned();
        for agent in [&a, &b] {
            agent.wait_for_text(".bubble.outbound .text", "let me check order 42").await?;
            agent.wait_for_attr(".bubble.outbound .ticks", "data-status", "sent").await?;
        }
        a.wait_for_value("#composer", "").await?;
        simulator
            .send_statuses(&wamid, &[DeliveryStatus::Sent, DeliveryStatus::Delivered], StatusOrder::AsGiven)
            .await?;
        for agent in [&a, &b] {
            agent.wait_for_attr(".bubble.outbound .ticks", "data-status", "delivered").await?;
        }
        simulator.send_statuses(&wamid, &[DeliveryStatus::Read], StatusOrder::AsGiven).await?;
        for agent in [&a, &b] {
            agent.wait_for_attr(".bubble.outbound .ticks", "data-status", "read").await?;
        }

        // Ann releases; now Ben can reply.
        a.click("#release").await?;
        b.wait_for_text("#claim-line", "Start typing").await?;
        b.type_into("#composer", "I can help too").await?;
        b.wait_for_text("#claim-line", "You are replying").await?;
        b.type_into("#composer", ENTER).await?;
        simulator
            .wait_for_request(|request| {
                request.json.as_ref().and_then(|json| json.pointer("/text/body")).and_then(|body| body.as_str())
                    == Some("I can help too")
            })
            .await?;
        a.wait_for_text(".bubble.outbound .author", "Ben Agent").await?;

        // Ben's unsent draft survives a reload: the server keeps it.
        b.type_into("#composer", "Thanks for waiting").await?;
        let conversation = server
            .state
            .store
            .conversations(true, 10)
            .await?
            .first()
            .map(|c| c.id)
            .ok_or_else(|| anyhow::anyhow!("no conversation"))?;
        eventually(baton_tests::browser::PATIENCE, || async {
            let draft = server.state.store.draft(conversation, ben.id).await?;
            Ok(if draft.as_deref() == Some("Thanks for waiting") { Ok(()) } else { Err(draft) })
        })
        .await
        .context("Ben's draft was never saved")?;
        b.client.refresh().await?;
        b.wait_for("#link-live").await?;
        b.click("#folder-unassigned").await?;
        b.click(".conversation-row").await?;
        b.wait_for_value("#composer", "Thanks for waiting").await?;

        // The traffic cop: the customer writes while Ben finishes his sentence; sending shows what
        // he missed instead, and only "send anyway" sends it.
        b.type_into("#composer", ", Carla").await?;
        simulator.send_text(&customer, "wait, one more thing").await?;
        b.wait_for_text(".bubble.inbound .text", "one more thing").await?;
        b.type_into("#composer", ENTER).await?;
        b.wait_for_text("#missed", "wait, one more thing").await?;
        b.click("#send-anyway").await?;
        simulator
            .wait_for_request(|request| {
                request.json.as_ref().and_then(|json| json.pointer("/text/body")).and_then(|body| body.as_str())
                    == Some("Thanks for waiting, Carla")
            })
            .await?;
        b.wait_for_value("#composer", "").await?;

        // The supervisor takes Ben's claim over from the wall; Ben's composer locks on her name.
        // Ben sent and stopped typing: the wall counts how long his claim has gone unused.
        s.wait_for_text(".wall-card .wall-holder", "Ben Agent · idle").await?;
        s.click(".wall-card .take-over").await?;
        b.wait_for_text("#holder", "Sue Supervisor is replying").await?;
        b.wait_for_attr("#composer", "readonly", "true").await?;

        // A note by Ann, then her edit, reach Ben live.
        a.type_into("#new-note", "Carla is a gold customer").await?;
        a.click("#add-note").await?;
        b.wait_for_text(".note .note-body", "Carla is a gold customer").await?;
        a.click(".note .edit-note").await?;
        a.type_into(".note .note-editor", " (since 2019)").await?;
        a.click(".note .save-note").await?;
        b.wait_for_text(".note .note-body", "Carla is a gold customer (since 2019)").await?;
        // Ben may not edit Ann's note; Sue (a supervisor) may. Sue and Ann edit it at once: Ann
        // saves first; Sue's save is refused with Ann's text shown beside hers, and her words
        // stay in her editor.
        anyhow::ensure!(b.client.find_all(fantoccini::Locator::Css(".note .edit-note")).await?.is_empty());
        s.click("#nav-inbox").await?;
        s.click("#folder-all").await?;
        s.click(".conversation-row").await?;
        s.click(".note .edit-note").await?;
        a.click(".note .edit-note").await?;
        a.type_into(".note .note-editor", ", VIP").await?;
        a.click(".note .save-note").await?;
        a.wait_for_text(".note .note-body", "(since 2019), VIP").await?;
        s.type_into(".note .note-editor", ", moved to Berlin").await?;
        s.click(".note .save-note").await?;
        s.wait_for_text(".note .conflict", "(since 2019), VIP").await?;
        s.wait_for_value(".note .note-editor", "Carla is a gold customer (since 2019), moved to Berlin").await?;
        s.screenshot("note-conflict").await?;
        // An @mention notifies Ben.
        a.type_into("#new-note", "@ben can you check the label?").await?;
        a.click("#add-note").await?;
        b.wait_for_text(".toast", "Ann Agent mentioned you").await?;

        // Labels: Ann tags the conversation; Ben's list shows the label live and filters by it.
        a.type_into("#add-label", "  VIP\u{E007}").await?;
        a.wait_for_text("#labels .label-chip", "vip").await?;
        b.wait_for_text(".conversation-row .label-chip", "vip").await?;
        b.wait_for("#label-filter option[value='vip']").await?;
        b.wait_for("#label-filter").await?.select_by_value("vip").await?;
        b.wait_for_texts(".conversation-row .row-name", "the labelled conversation", |names| names.len() == 1).await?;
        // Ann takes the label off: Ben's filtered list empties, and shows everything again
        // without the filter.
        a.click("#labels .remove-label").await?;
        b.wait_for_text(".list-empty", "Nothing here").await?;
        b.wait_for("#label-filter").await?.select_by_value("").await?;
        b.wait_for_texts(".conversation-row", "the conversation back", |rows| rows.len() == 1).await?;
        anyhow::ensure!(b.texts(".conversation-row .label-chip").await?.is_empty(), "the label is gone for Ben too");
        a.type_into("#add-label", "billing\u{E007}").await?;
        b.wait_for_text(".conversation-row .label-chip", "billing").await?;

        // HTML from the customer is text, never markup.
        let hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> <a href=\"javascript:alert(3)\">x</a>";
        simulator.send_text(&customer, hostile).await?;
        b.wait_for_text(".bubble.inbound .text", "<script>alert(1)</script>").await?;
        let rendered = b.texts(".bubble.inbound .text").await?;
        anyhow::ensure!(rendered.iter().any(|text| text == hostile), "shown verbatim: {rendered:?}");
        anyhow::ensure!(
            b.client.find_all(fantoccini::Locator::Css("#timeline img[src='x'], #timeline script")).await?.is_empty()
        );
        anyhow::ensure!(
            b.client.find_all(fantoccini::Locator::Css("#timeline a[href^='javascript']")).await?.is_empty(),
            "no javascript: link"
        );
        anyhow::ensure!(b.client.get_alert_text().await.is_err(), "no alert ran");

        // An image from the customer shows inline, for the conversation screenshot.
        simulator.send(&customer, Inbound::image(Some("This is the parcel label"))).await?;
        a.wait_for(".bubble.inbound img.media.image").await?;
        a.wait_for_text(".bubble.inbound .text", "parcel label").await?;
        a.screenshot("conversation-media-ticks").await?;

        // Ann's connection drops; the customer writes three times meanwhile; when she is back,
        // her timeline shows each once, in order.
        a.cut_socket(true).await?;
        a.wait_for("#reconnecting").await?;
        for text in ["while away one", "while away two", "while away three"] {
            simulator.send_text(&customer, text).await?;
        }
        b.wait_for_text(".bubble.inbound .text", "while away three").await?;
        anyhow::ensure!(
            !a.texts(".bubble.inbound .text").await?.iter().any(|text| text.contains("while away")),
            "Ann's socket was down: nothing could reach her"
        );
        a.restore_socket().await?;
        a.wait_for("#link-live").await?;
        let shown = a
            .wait_for_texts(".bubble.inbound .text", "the three messages", |texts| {
                texts.iter().any(|text| text.contains("while away three"))
            })
            .await?;
        let away: Vec<&String> = shown.iter().filter(|text| text.contains("while away")).collect();
        anyhow::ensure!(
            away == ["while away one", "while away two", "while away three"],
            "once each, in order: {away:?}"
        );
        a.screenshot("after-reconnect").await?;

        // Outside the 24-hour window: WhatsApp refuses Ann's free text (131047 in a failed
        // status), the reason shows on the message, and the composer becomes a template picker.
        let dan = Customer::new("15551230002", "Dan Doe");
        simulator.send_text(&dan, "Hi, anyone there?").await?;
        a.click("#folder-unassigned").await?;
        let dan_row = "//button[contains(@class, 'conversation-row')][.//span[contains(., 'Dan Doe')]]";
        a.client
            .wait()
            .at_most(baton_tests::browser::PATIENCE)
            .for_element(fantoccini::Locator::XPath(dan_row))
            .await?
            .click()
            .await?;
        a.wait_for_text(".bubble.inbound .text", "anyone there").await?;
        simulator.close_window(&dan.wa_id);
        a.type_into("#composer", "Sorry for the wait!").await?;
        a.type_into("#composer", ENTER).await?;
        a.wait_for_attr(".bubble.outbound .ticks", "data-status", "failed").await?;
        // A retry of free text cannot succeed outside the window: the bubble offers the
        // template picker instead.
        a.wait_for(".bubble.outbound .failure .use-template").await?;
        anyhow::ensure!(
            a.client.find_all(fantoccini::Locator::Css(".bubble.outbound .failure .retry")).await?.is_empty(),
            "no Retry that cannot succeed"
        );
        a.wait_for("#template-picker").await?;
        a.click(".bubble.outbound .failure .use-template").await?;
        assert_eq!(a.focused_id().await?, "template", "the template picker has the focus");
        a.wait_for_texts("#template option", "the approved templates", |texts| texts.len() > 1).await?;
        a.wait_for("#template").await?.select_by_index(1).await?;
        for parameter in a.client.find_all(fantoccini::Locator::Css(".template-parameter")).await? {
            parameter.send_keys("Dan").await?;
        }
        a.screenshot("template-picker").await?;
        a.expect_every_control_named("template picker").await?;
        a.click("#send-template").await?;
        simulator
            .wait_for_request(|request| {
                request.json.as_ref().and_then(|json| json.pointer("/type")).and_then(|kind| kind.as_str())
                    == Some("template")
            })
            .await?;

        // On a narrow screen the conversation takes the whole width.
        b.client.set_window_size(420, 860).await?;
        b.wait_for(".back-button").await?;
        b.screenshot("narrow-conversation").await?;
        anyhow::Ok(())
    }
    .await;
    for browser in [a, b, s] {
        browser.close().await?;
    }
    server.stop().await?;
    outcome
}

/// The bell turns browser notifications on (the real `Notification`, permission granted) for new
/// customer messages; off, nothing shows. An attached image goes to WhatsApp as a media upload and
/// an image message, and shows in the timeline.
#[tokio::test]
async fn notifications_follow_the_bell_and_attachments_reach_whatsapp() -> anyhow::Result<()> {
    let web = built_web_dir();
    anyhow::ensure!(web.join("index.html").is_file(), "no built web app in {}: use `cargo xtask test`", web.display());
    let (server, simulator) =
        whatsapp::start_with_simulator(Kind::Sqlite, baton_simulator::Config::default(), |config| config.web_dir = web)
            .await?;
    let (ann, ann_password) = server.create_user("Ann Agent", Role::Agent).await?;
    let files = tempfile::tempdir()?;
    let picture = files.path().join("parcel.png");
    std::fs::write(&picture, baton_simulator::sample_png(32, 24))?;

    let a = Browser::launch().await?;
    let outcome = async {
        a.log_in(&server.url("/"), &ann.email, &ann_password, false).await?;
        a.record_notifications().await?;
        a.click("#notifications").await?;
        a.wait_for_attr("#notifications", "aria-pressed", "true").await?;
        let dora = Customer::new("15551230002", "Dora Customer");
        simulator.send_text(&dora, "Is my parcel insured?").await?;
        a.click("#folder-unassigned").await?;
        a.wait_for_text(".conversation-row .row-preview", "parcel insured").await?;
        assert_eq!(a.wait_for_notifications(1).await?, ["Dora Customer: Is my parcel insured?"]);
        // Off: the next message shows in the list, and no notification.
        a.click("#notifications").await?;
        a.wait_for_attr("#notifications", "aria-pressed", "false").await?;
        simulator.send_text(&dora, "Hello?").await?;
        a.wait_for_text(".conversation-row .row-preview", "Hello?").await?;
        // On again: the next one shows, and the one sent while it was off never did.
        a.click("#notifications").await?;
        a.wait_for_attr("#notifications", "aria-pressed", "true").await?;
        simulator.send_text(&dora, "Still there?").await?;
        assert_eq!(
            a.wait_for_notifications(2).await?,
            ["Dora Customer: Is my parcel insured?", "Dora Customer: Still there?"],
            "nothing while the bell was off"
        );

        // An attachment: uploaded, sent as an image, shown in the timeline.
        a.click(".conversation-row").await?;
        a.wait_for_text(".bubble.inbound .text", "Still there?").await?;
        a.type_into("#composer", "Here is the label").await?;
        a.wait_for_text("#claim-line", "You are replying").await?;
        a.wait_for("#attach").await?.send_keys(&picture.display().to_string()).await?;
        simulator.wait_for_request(|request| request.endpoint == Endpoint::MediaUpload).await?;
        let sent = simulator
            .wait_for_request(|request| {
                request.endpoint == Endpoint::Messages
                    && request.json.as_ref().and_then(|json| json.pointer("/type")).and_then(|kind| kind.as_str())
                        == Some("image")
            })
            .await?;
        let caption = sent.json.as_ref().and_then(|json| json.pointer("/image/caption")).and_then(|text| text.as_str());
        assert_eq!(caption, Some("Here is the label"), "the draft goes as the caption");
        a.wait_for(".bubble.outbound img.media.image").await?;
        a.wait_for_value("#composer", "").await?;
        a.screenshot("attachment-sent").await?;
        anyhow::Ok(())
    }
    .await;
    a.close().await?;
    outcome
}
