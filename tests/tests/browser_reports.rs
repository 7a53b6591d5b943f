//! The Reports page in real headless Chromium, against a real Baton with a hand-built history of
//! two days ago (in the browser's time zone): three conversations, first answered after 2, 4 and
//! 10 minutes and resolved after 10, 30 and 60, two by Ann, one (labelled `vip`) by Ben. Sue, a
//! supervisor, opens Reports and sees the tiles and charts with those figures (median first
//! response 4 minutes, p90 10, median resolution 30; the day's bars, the hours' cells and the
//! distribution's bins in the tables beside the charts and on hover); she filters by agent and by
//! label, changes the period to today, sorts the agents' table and exports it as CSV, which has
//! the documented header and the table's numbers. On the live wall, the "now" panel follows a
//! customer waiting, then answered (its first response in the last hour's median) as it happens.
//! Ann, an agent, gets no Reports. Screenshots wide and narrow land in `target/test-output/browser/`.

use anyhow::Context;
use baton_server::hub::presence_time::PresenceTime;
use baton_server::store::conversations::{
    ClaimOutcome, InboundOutcome, NewInbound, NewReply, ReplyContent, ReplyOutcome,
};
use baton_shared::api::Role;
use baton_shared::model::ConversationStatus;
use baton_shared::reports::TABLE_CSV_COLUMNS;
use baton_shared::{ConversationId, UserId};
use baton_tests::browser::Browser;
use baton_tests::database::Kind;
use baton_tests::server::{TestServer, built_web_dir};
use baton_tests::teams::put;
use fantoccini::Locator;
use serde_json::json;

const MINUTE: i64 = 60_000;

/// A conversation: the customer writes at `at`, `agent` is assigned, answers `answer` minutes
/// later and resolves `resolve` minutes after the first message — all stored at those times.
async fn handled(
    server: &TestServer,
    admin: &baton_tests::client::TestClient,
    wa_id: &str,
    at: i64,
    (agent, answer, resolve): (UserId, i64, i64),
    label: Option<&str>,
) -> anyhow::Result<ConversationId> {
    let store = &server.state.store;
    // Stored then, as WhatsApp would have delivered it then.
    let message = NewInbound {
        wa_id: wa_id.into(),
        profile_name: format!("Customer {wa_id}"),
        wa_message_id: format!("wamid.report.{}", uuid::Uuid::new_v4()),
        kind: "text".into(),
        body: "Hello, I need help".into(),
        at,
        ..Default::default()
    };
    let id = match store.record_inbound(&message, at).await? {
        InboundOutcome::Recorded { conversation_id, events } => {
            server.state.bus.publish(&events);
            conversation_id
        }
        InboundOutcome::Duplicate => anyhow::bail!("a fresh message id was a duplicate"),
    };
    if let Some(label) = label {
        let labelled = admin.patch(&format!("/api/conversations/{id}/labels"), &json!({"add": [label]})).await?;
        anyhow::ensure!(labelled.status().is_success(), "label: {}", labelled.status());
    }
    server.state.bus.publish(&store.assign(id, agent, Some(agent), None, at).await?);
    let answered = at + answer * MINUTE;
    match store.claim(id, agent, answered + 10 * MINUTE, answered).await? {
        ClaimOutcome::Held { event, .. } => server.state.bus.publish(&event.into_iter().collect::<Vec<_>>()),
        ClaimOutcome::ClaimedByOther { .. } => anyhow::bail!("the claim was taken"),
    }
    let reply = NewReply {
        conversation_id: id,
        author: agent,
        body: "Here to help".into(),
        idempotency_key: uuid::Uuid::new_v4().to_string(),
        seen_seq: 0,
        force: true,
        content: ReplyContent::Text,
        reply_to: None,
    };
    match store.send_reply(&reply, answered).await? {
        ReplyOutcome::Sent { event, followed_by, .. } => {
            server.state.bus.publish(&[event]);
            server.state.bus.publish(&followed_by);
        }
        _ => anyhow::bail!("the reply was not sent"),
    }
    let events = store.set_status(id, agent, ConversationStatus::Resolved, at + resolve * MINUTE).await?;
    server.state.bus.publish(&events);
    Ok(id)
}

/// Local midnight `days` before today's in the IANA zone `zone`, plus `hour` hours, as Unix ms.
fn local(zone: &str, days: i64, hour: i8) -> anyhow::Result<i64> {
    let zone = jiff::tz::TimeZone::get(zone)?;
    let today = jiff::Timestamp::now().to_zoned_datetime(zone.clone()).date();
    let day = today.checked_sub(jiff::Span::new().days(days))?;
    Ok(day.at(hour, 0, 0, 0).to_zoned_datetime(zone)?.timestamp().as_millisecond())
}

#[tokio::test]
async fn a_supervisor_reads_the_figures_of_a_known_history_and_an_agent_has_no_reports() -> anyhow::Result<()> {
    let web = built_web_dir();
    anyhow::ensure!(web.join("index.html").is_file(), "no built web app in {}: use `cargo xtask test`", web.display());
    let server = TestServer::start_with(Kind::Sqlite, |config| config.web_dir = web).await?;
    let (admin, _) = server.logged_in("Ada Admin", Role::Admin).await?;
    let (ann, ann_password) = server.create_user("Ann Agent", Role::Agent).await?;
    let (ben, _) = server.create_user("Ben Agent", Role::Agent).await?;
    let (sue, sue_password) = server.create_user("Sue Supervisor", Role::Supervisor).await?;

    let (s, a) = (Browser::launch_with(&["--window-size=1280,2400"]).await?, Browser::launch().await?);
    let outcome = async {
        // The history is in the browser's days.
        s.client.goto(&server.url("/")).await?;
        let zone = s.client.execute("return Intl.DateTimeFormat().resolvedOptions().timeZone;", vec![]).await?;
        let zone = zone.as_str().context("the browser's time zone")?.to_owned();
        let base = local(&zone, 2, 10)?;
        handled(&server, &admin, "5511900000001", base, (ann.id, 2, 10), None).await?;
        handled(&server, &admin, "5511900000002", base + 60 * MINUTE, (ann.id, 4, 30), None).await?;
        handled(&server, &admin, "5511900000003", base + 120 * MINUTE, (ben.id, 10, 60), Some("vip")).await?;
        // Ann was online half an hour around her first conversation, 25 minutes of it available.
        for (quarter, available) in [(0, 10), (1, 15)] {
            let bucket = base + quarter * 15 * MINUTE;
            let time = PresenceTime { bucket, user: ann.id, online_ms: 15 * MINUTE, available_ms: available * MINUTE };
            server.state.store.record_presence(&[time]).await?;
        }

        s.log_in(&server.url("/"), &sue.email, &sue_password, false).await?;
        s.click("#nav-reports").await?;
        s.wait_for("#reports-page").await?;
        // Last 7 days: the three conversations.
        let tile = |id: &str| format!("#{id} .tile-value");
        s.wait_for_exact(&tile("tile-conversations"), "3").await?;
        s.wait_for_exact(&tile("tile-frt-median"), "4 min 0 s").await?;
        s.wait_for_exact(&tile("tile-frt-p90"), "10 min 0 s").await?;
        s.wait_for_exact(&tile("tile-resolution"), "30 min 0 s").await?;
        // The charts are drawn, each with its numbers on hover and in a table.
        for chart in ["#chart-volume", "#chart-first-response", "#chart-heatmap", "#chart-load"] {
            s.wait_for(&format!("{chart} .chart-svg svg")).await?;
            s.wait_for(&format!("{chart} figcaption")).await?;
        }
        let day = jiff::Timestamp::from_millisecond(base)?
            .to_zoned_datetime(jiff::tz::TimeZone::get(&zone)?)
            .date()
            .to_string();
        let hovers: Vec<String> = serde_json::from_value(
            s.client
                .execute(
                    "return [...document.querySelectorAll('#chart-volume svg title')].map(t => t.textContent);",
                    vec![],
                )
                .await?,
        )?;
        anyhow::ensure!(
            hovers.iter().any(|hover| hover.starts_with(&format!("{day}: 3 created, 3 resolved"))),
            "the day's bar says its figures on hover: {hovers:?}"
        );
        let days = table_cells(&s, "#chart-volume table tbody tr").await?;
        anyhow::ensure!(
            days.iter().any(|row| row == &[day.as_str(), "3", "0", "3", "3", "3"]),
            "the day's row: created, reopened, resolved, messages in and out: {days:?}"
        );
        // The distribution: two answers within 1–5 minutes, one within 5–15.
        let bins = table_cells(&s, "#chart-first-response table tbody tr").await?;
        anyhow::ensure!(
            bins.iter().any(|row| row == &["1–5 min", "2"]) && bins.iter().any(|row| row == &["5–15 min", "1"]),
            "the first responses' bins: {bins:?}"
        );
        // The heatmap: one message at 10:00, 11:00 and 12:00 of that weekday.
        let weekdays = table_cells(&s, "#chart-heatmap table tbody tr").await?;
        let busy: Vec<(String, usize)> = weekdays
            .iter()
            .flat_map(|row| {
                row.iter().skip(1).enumerate().filter(|(_, cell)| *cell != "0").map(|(hour, _)| (row[0].clone(), hour))
            })
            .collect();
        anyhow::ensure!(busy.len() == 3 && busy.iter().map(|(_, hour)| *hour).eq([10, 11, 12]), "heatmap: {busy:?}");
        // Agent load over the day: an hour per row (the history's conversations are resolved, so
        // nobody held one at any sample).
        let load = table_cells(&s, "#chart-load table tbody tr").await?;
        anyhow::ensure!(load.len() == 24 && load[9] == ["09:00", "0.0"], "load over the day: {load:?}");
        s.screenshot("reports-wide").await?;
        s.expect_every_control_named("reports").await?;

        // The agents' table: Ann resolved two, Ben one; sorted by resolved, most first.
        s.wait_for("#report-table tbody tr[data-key]").await?;
        s.click("#sort-resolved").await?;
        s.click("#sort-resolved").await?;
        s.wait_for_attr("#report-table th[aria-sort='descending'] button", "id", "sort-resolved").await?;
        let rows = table_cells(&s, "#report-table tbody tr").await?;
        anyhow::ensure!(
            rows.first().is_some_and(|row| row[0] == "Ann Agent" && row[2] == "2")
                && rows.get(1).is_some_and(|row| row[0] == "Ben Agent" && row[2] == "1"),
            "agents by resolved: {rows:?}"
        );
        anyhow::ensure!(
            rows.first().is_some_and(|row| row[10..] == ["0 h 30 min", "0 h 25 min"])
                && rows.get(1).is_some_and(|row| row[10..] == ["0 h 0 min", "0 h 0 min"]),
            "time online and available: {rows:?}"
        );
        // Exported as CSV: the documented header, the same numbers.
        let href = s.wait_for("#report-csv").await?.attr("href").await?.context("the CSV link")?;
        let csv = s
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done);",
                vec![href.clone().into()],
            )
            .await?;
        let csv = csv.as_str().context("the CSV")?;
        let mut lines = csv.lines();
        anyhow::ensure!(lines.next() == Some(TABLE_CSV_COLUMNS.join(",").as_str()), "the CSV header: {csv}");
        anyhow::ensure!(
            lines.any(|line| line.starts_with(&format!("{},Ann Agent,0,0,2,", ann.id)) && line.ends_with(",1800,1500")),
            "Ann's line: {csv}"
        );
        // Time online is a person's: the teams' table has no such columns, the agents' has again.
        s.click("#report-tab-teams").await?;
        s.wait_for_gone("#sort-online").await?;
        s.click("#report-tab-agents").await?;
        s.wait_for("#sort-online").await?;

        // Ben's figures alone: his one first response, 10 minutes.
        s.wait_for("#reports-agent").await?.select_by_value(&ben.id.to_string()).await?;
        s.wait_for_exact(&tile("tile-frt-median"), "10 min 0 s").await?;
        s.wait_for("#reports-agent").await?.select_by_value("").await?;
        s.wait_for_exact(&tile("tile-frt-median"), "4 min 0 s").await?;
        // The `vip` label's: Ben's conversation (labelled after it opened: its opening counts
        // under the label all the same, docs/reports.md).
        s.type_into("#reports-label", "vip\u{E007}").await?;
        s.wait_for_exact(&tile("tile-conversations"), "1").await?;
        s.wait_for_exact(&tile("tile-resolution"), "1 h 0 min").await?;
        s.wait_for_exact(&tile("tile-frt-p90"), "10 min 0 s").await?;
        // Today: nothing yet, and the previous period (yesterday) neither.
        s.wait_for("#reports-range").await?.select_by_value("today").await?;
        s.wait_for_exact(&tile("tile-conversations"), "0").await?;
        s.wait_for_exact(&tile("tile-frt-median"), "—").await?;
        s.wait_for_text("#report-table td.empty", "Nothing happened").await?;

        // Narrow: the same page in one column.
        s.wait_for("#reports-range").await?.select_by_value("7").await?;
        s.client.find(Locator::Css("#reports-label")).await?.clear().await?;
        s.type_into("#reports-label", "\u{E007}").await?;
        s.wait_for_exact(&tile("tile-conversations"), "3").await?;
        s.client.set_window_size(420, 2400).await?;
        s.wait_for("#chart-volume .chart-svg svg").await?;
        s.screenshot("reports-narrow").await?;

        // The live wall's "now" panel: nobody waits and no first response in the last hour; a
        // customer writes (one waits), Ann is given the conversation and answers — the panel
        // follows each step as it happens.
        s.client.set_window_size(1280, 1000).await?;
        s.click("#nav-wall").await?;
        s.wait_for_exact("#now-waiting .tile-value", "0").await?;
        s.wait_for_exact("#now-first-response .tile-value", "—").await?;
        let now = server.customer_writes("5511900000009", "Is anyone there?").await?;
        s.wait_for_exact("#now-waiting .tile-value", "1").await?;
        put(&admin, &format!("/api/conversations/{now}/assignee"), &json!({"assignee": ann.id})).await?;
        s.wait_for_exact("#now-waiting .tile-value", "0").await?;
        let mut ann_client = server.client();
        ann_client.login(&ann.email, &ann_password).await?;
        let claimed = ann_client.post(&format!("/api/conversations/{now}/claim"), &json!({})).await?;
        anyhow::ensure!(claimed.status().is_success(), "claim: {}", claimed.status());
        let replied = ann_client
            .post(
                &format!("/api/conversations/{now}/replies"),
                &json!({"body": "Yes!", "idempotency_key": uuid::Uuid::new_v4().to_string(), "seen_seq": 0, "force": true}),
            )
            .await?;
        anyhow::ensure!(replied.status().is_success(), "reply: {}", replied.status());
        s.wait_for_texts("#now-first-response .tile-value", "a median", |texts| {
            texts.first().is_some_and(|text| text.ends_with(" s") && text != "—")
        })
        .await?;
        s.wait_for_text("#now-first-response .tile-note", "1 ").await?;
        // Sue is the one available (the agents are not connected).
        s.wait_for_exact("#now-agents li[data-status='available'] strong", "1").await?;
        s.screenshot("reports-now-panel").await?;

        // Ann, an agent: no Reports in her bar, and its address shows her inbox.
        a.log_in(&server.url("/"), &ann.email, &ann_password, false).await?;
        a.wait_for("#nav-inbox").await?;
        anyhow::ensure!(a.client.find(Locator::Css("#nav-reports")).await.is_err(), "an agent has no Reports tab");
        a.client.goto(&server.url("/reports")).await?;
        a.wait_for("#nav-inbox").await?;
        anyhow::ensure!(a.client.find(Locator::Css("#reports-page")).await.is_err(), "an agent gets no Reports page");
        Ok(())
    }
    .await;
    s.close().await?;
    a.close().await?;
    outcome
}

/// The cells (header cell first) of each row matching `css`.
async fn table_cells(browser: &Browser, css: &str) -> anyhow::Result<Vec<Vec<String>>> {
    let rows = browser
        .client
        .execute(
            "return [...document.querySelectorAll(arguments[0])].map(row => [...row.cells].map(cell => cell.textContent.trim()));",
            vec![css.into()],
        )
        .await?;
    Ok(serde_json::from_value(rows)?)
}
