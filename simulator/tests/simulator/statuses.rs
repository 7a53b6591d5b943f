//! Status webhooks beyond one-status-per-send (CONTRACT §2.3, §4): `played` after `read` for audio, and
//! several statuses batched into one webhook, both scriptable through the handle and the control API.

use std::time::Duration;

use baton_simulator::{Config, DeliveryStatus, StatusBatching, StatusOrder, StatusProgression};
use baton_whatsapp::webhook::Item;
use serde_json::{Value, json};

use crate::support::{self, ALICE, BOB, Received, post_messages, text_to};

fn audio_to(to: &str) -> String {
    json!({"messaging_product": "whatsapp", "to": to, "type": "audio",
           "audio": {"link": "https://example.com/voice-note.ogg"}})
    .to_string()
}

/// `(wamid, status)` of every status a webhook carries, in order.
fn statuses_in(webhook: &Received) -> Vec<(String, DeliveryStatus)> {
    webhook
        .items()
        .into_iter()
        .filter_map(|item| match item {
            Item::Status(update) => Some((update.message_id, update.status)),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn audio_is_played_after_read_when_asked_and_nothing_else_can_be() {
    let progression = StatusProgression {
        step_delay: Duration::from_millis(10),
        stop_at: DeliveryStatus::Played,
        ..StatusProgression::default()
    };
    let (simulator, receiver) = support::start_with(Config { statuses: progression, ..Config::default() }).await;
    simulator.open_window(ALICE);

    let audio = post_messages(&simulator, &audio_to(ALICE)).await;
    assert_eq!(audio.status, 200);
    let audio_id = audio.message_id();
    let mut seen = Vec::new();
    for _ in 0..4 {
        let webhook = receiver.next().await;
        let status = webhook.status();
        assert_eq!(status.message_id, audio_id);
        if status.status == DeliveryStatus::Played {
            assert!(status.pricing.is_none() && status.conversation.is_none(), "played is not billed");
        }
        seen.push(status.status);
    }
    assert_eq!(
        seen,
        vec![DeliveryStatus::Sent, DeliveryStatus::Delivered, DeliveryStatus::Read, DeliveryStatus::Played]
    );
    assert_eq!(simulator.message_status(&audio_id), Some(DeliveryStatus::Played));
    let chat = simulator.chat(ALICE).expect("a chat");
    assert_eq!(chat.entries.last().and_then(|entry| entry.status), Some(DeliveryStatus::Played));

    // The same progression stops a text at `read`: a text cannot be played.
    let text_id = post_messages(&simulator, &text_to(ALICE, "and a text")).await.message_id();
    simulator.wait_for_status(&text_id, DeliveryStatus::Read).await.expect("read");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let text_statuses: Vec<DeliveryStatus> = receiver
        .received()
        .iter()
        .flat_map(statuses_in)
        .filter(|(wamid, _)| *wamid == text_id)
        .map(|(_, status)| status)
        .collect();
    assert_eq!(text_statuses, vec![DeliveryStatus::Sent, DeliveryStatus::Delivered, DeliveryStatus::Read]);

    // Scripted: the handle and the control API send `played` for audio only.
    let error = simulator.play(&text_id).await.expect_err("a text cannot be played");
    assert!(error.to_string().contains("audio"), "{error}");
    let outcomes = simulator.play(&audio_id).await.expect("audio can be played");
    assert!(outcomes.iter().all(|outcome| outcome.acknowledged()));
    let client = support::client();
    let url = format!("{}/_sim/statuses", simulator.base_url());
    for (message_id, expected) in [(&audio_id, 200), (&text_id, 400)] {
        let body = json!({"message_id": message_id, "statuses": ["played"]});
        let answer = client.post(&url).json(&body).send().await.expect("answered");
        assert_eq!(answer.status(), expected, "{message_id}");
    }
}

#[tokio::test(start_paused = true)]
async fn scripted_statuses_of_several_messages_share_one_webhook_when_batched() {
    let config = Config {
        statuses: StatusProgression::manual(),
        status_batching: StatusBatching::within(Duration::from_secs(1)),
        ..Config::default()
    };
    let (simulator, receiver) = support::start_with(config).await;
    simulator.open_window(ALICE);
    simulator.open_window(BOB);
    let first = post_messages(&simulator, &text_to(ALICE, "one")).await.message_id();
    let second = post_messages(&simulator, &text_to(BOB, "two")).await.message_id();

    let all = [DeliveryStatus::Sent, DeliveryStatus::Delivered, DeliveryStatus::Read];
    let (for_first, for_second) = tokio::join!(
        simulator.send_statuses(&first, &all, StatusOrder::AsGiven),
        simulator.send_statuses(&second, &[DeliveryStatus::Sent], StatusOrder::AsGiven),
    );
    let (for_first, for_second) = (for_first.expect("sent"), for_second.expect("sent"));
    assert_eq!(for_first.len(), 1, "one webhook for the whole batch");
    assert_eq!(for_first, for_second, "both calls were answered by the same delivery");
    assert!(for_first[0].acknowledged());

    let received = receiver.wait_for(1).await;
    assert_eq!(received.len(), 1);
    let webhook = &received[0];
    assert_eq!(
        statuses_in(webhook),
        vec![
            (first.clone(), DeliveryStatus::Sent),
            (first.clone(), DeliveryStatus::Delivered),
            (first.clone(), DeliveryStatus::Read),
            (second.clone(), DeliveryStatus::Sent),
        ],
        "in the order they joined the batch"
    );
    // One entry, one change, four `value.statuses[]`: the shape Meta batches in.
    let json: Value = serde_json::from_slice(&webhook.body).expect("JSON");
    assert_eq!(json["entry"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["entry"][0]["changes"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["entry"][0]["changes"][0]["value"]["statuses"].as_array().map(Vec::len), Some(4));
    assert!(json["entry"][0]["changes"][0]["value"].get("contacts").is_none());
    assert_eq!(simulator.message_status(&first), Some(DeliveryStatus::Read));
    assert_eq!(simulator.wait_for_status(&second, DeliveryStatus::Sent).await.expect("found").id, 1);
}

#[tokio::test(start_paused = true)]
async fn the_automatic_progression_batches_too_and_the_control_api_switches_it() {
    let (simulator, receiver) = support::start().await;
    simulator.open_window(ALICE);
    let client = support::client();
    let settings = format!("{}/_sim/settings", simulator.base_url());
    let batched = json!({"status_batching": {"enabled": true, "window_ms": 1000}});
    assert_eq!(client.put(&settings).json(&batched).send().await.expect("answered").status(), 204);
    let state: Value = client
        .get(format!("{}/_sim/state", simulator.base_url()))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert_eq!(state["status_batching"], json!({"enabled": true, "window_ms": 1000}));

    // Steps every 10 ms, a 1 s window: sent, delivered and read of one message travel together.
    let wamid = post_messages(&simulator, &text_to(ALICE, "batched")).await.message_id();
    let webhook = receiver.next().await;
    let steps = [DeliveryStatus::Sent, DeliveryStatus::Delivered, DeliveryStatus::Read];
    assert_eq!(statuses_in(&webhook), steps.iter().map(|status| (wamid.clone(), *status)).collect::<Vec<_>>());

    let separate = json!({"status_batching": {"enabled": false}});
    assert_eq!(client.put(&settings).json(&separate).send().await.expect("answered").status(), 204);
    let wamid = post_messages(&simulator, &text_to(ALICE, "one by one")).await.message_id();
    for status in steps {
        assert_eq!(statuses_in(&receiver.next().await), vec![(wamid.clone(), status)]);
    }
}
