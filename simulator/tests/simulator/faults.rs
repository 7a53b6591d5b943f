//! Scripted failures: forced synchronous error codes, `failed` statuses, the 24-hour window in both modes,
//! the rate limit, and statuses out of order.

use std::time::Duration;

use baton_simulator::{Config, Customer, DeliveryStatus, StatusOrder, StatusProgression, WINDOW, WindowEnforcement};
use serde_json::{Value, json};

use crate::support::{self, ALICE, BOB, post_messages, text_to};

#[tokio::test]
async fn forced_errors_use_the_contract_shape_and_status() {
    let (simulator, _receiver) = support::start().await;
    simulator.open_window(ALICE);
    simulator.open_window(BOB);

    simulator.fail_next_sends(1, 131056, Some(BOB));
    assert_eq!(post_messages(&simulator, &text_to(ALICE, "not for Bob")).await.status, 200);
    let pair_limited = post_messages(&simulator, &text_to(BOB, "hi")).await;
    assert_eq!((pair_limited.status, pair_limited.error_code()), (400, Some(131056)));
    let error = &pair_limited.json["error"];
    assert_eq!(error["message"], "(#131056) (Business Account, Consumer Account) pair rate limit hit");
    assert_eq!(error["type"], "OAuthException");
    assert_eq!(error["error_data"]["messaging_product"], "whatsapp");
    assert!(error["error_data"]["details"].is_string());
    assert_eq!(post_messages(&simulator, &text_to(BOB, "again")).await.status, 200, "used up");

    simulator.fail_next_sends(2, 131000, None);
    for _ in 0..2 {
        let answer = post_messages(&simulator, &text_to(ALICE, "hi")).await;
        assert_eq!((answer.status, answer.error_code()), (500, Some(131000)));
    }
    simulator.fail_next_sends(1, 130429, None);
    let throttled = post_messages(&simulator, &text_to(ALICE, "hi")).await;
    assert_eq!((throttled.status, throttled.error_code()), (429, Some(130429)));
    assert_eq!(throttled.json["error"]["error_subcode"], 2494055);

    simulator.fail_next_sends(5, 131026, None);
    simulator.clear_faults();
    assert_eq!(post_messages(&simulator, &text_to(ALICE, "hi")).await.status, 200);
}

#[tokio::test(start_paused = true)]
async fn an_accepted_send_can_end_in_a_failed_131047_status() {
    let (simulator, receiver) = support::start().await;
    simulator.open_window(ALICE);
    simulator.fail_next_deliveries(1, 131047, None);

    let answer = post_messages(&simulator, &text_to(ALICE, "you there?")).await;
    assert_eq!(answer.status, 200, "accepted first: the failure comes as a webhook");
    let status = receiver.next().await.status();
    assert_eq!((status.message_id.clone(), status.status), (answer.message_id(), DeliveryStatus::Failed));
    let error = &status.errors[0];
    assert_eq!(error.code, 131047);
    assert_eq!(error.title.as_deref(), Some("Re-engagement message"));
    assert_eq!(error.message, error.title);
    assert!(error.details().is_some_and(|details| details.contains("24 hours")));
    assert!(error.href.is_some());
    assert_eq!(simulator.message_status(&answer.message_id()), Some(DeliveryStatus::Failed));

    // Given message: any code, any time.
    let second = post_messages(&simulator, &text_to(ALICE, "second")).await.message_id();
    simulator.set_status_progression(StatusProgression::manual());
    let third = post_messages(&simulator, &text_to(ALICE, "third")).await.message_id();
    let outcome = simulator.fail_message(&third, 131026).await.expect("sent");
    assert!(outcome.acknowledged());
    let failed = simulator.wait_for_status(&third, DeliveryStatus::Failed).await.expect("delivered");
    assert!(failed.text().contains("131026"));
    simulator.wait_for_status(&second, DeliveryStatus::Read).await.expect("the second still progresses");
}

#[tokio::test(start_paused = true)]
async fn a_closed_window_refuses_free_text_synchronously_but_not_templates() {
    let config =
        Config { window: WindowEnforcement::SyncError, statuses: StatusProgression::manual(), ..Config::default() };
    let (simulator, _receiver) = support::start_with(config).await;
    let alice = Customer::new(ALICE, "Alice");

    let refused = post_messages(&simulator, &text_to(ALICE, "hello?")).await;
    assert_eq!((refused.status, refused.error_code()), (400, Some(131047)));
    let template = json!({"messaging_product": "whatsapp", "to": ALICE, "type": "template",
                          "template": {"name": "follow_up", "language": {"code": "en_US"}}});
    assert_eq!(post_messages(&simulator, &template.to_string()).await.status, 200);

    simulator.send_text(&alice, "I'm back").await.expect("sent");
    assert_eq!(post_messages(&simulator, &text_to(ALICE, "welcome back")).await.status, 200);

    tokio::time::advance(WINDOW - Duration::from_secs(1)).await;
    assert_eq!(post_messages(&simulator, &text_to(ALICE, "still open")).await.status, 200);
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(post_messages(&simulator, &text_to(ALICE, "too late")).await.error_code(), Some(131047));

    simulator.open_window(ALICE);
    assert_eq!(post_messages(&simulator, &text_to(ALICE, "scripted open")).await.status, 200);
    simulator.close_window(ALICE);
    assert_eq!(post_messages(&simulator, &text_to(ALICE, "scripted close")).await.error_code(), Some(131047));
}

#[tokio::test(start_paused = true)]
async fn by_default_a_closed_window_ends_in_a_failed_status() {
    let (simulator, receiver) = support::start().await;
    let answer = post_messages(&simulator, &text_to(BOB, "never wrote to us")).await;
    assert_eq!(answer.status, 200);
    let status = receiver.next().await.status();
    assert_eq!(status.status, DeliveryStatus::Failed);
    assert_eq!(status.errors[0].code, 131047);
    assert_eq!(simulator.chat(BOB).and_then(|chat| chat.entries[0].status), Some(DeliveryStatus::Failed));
}

#[tokio::test(start_paused = true)]
async fn sends_beyond_the_rate_limit_get_130429() {
    let config = Config { statuses: StatusProgression::manual(), ..Config::default() };
    let (simulator, _receiver) = support::start_with(config).await;
    simulator.open_window(ALICE);
    simulator.set_rate_limit(Some(3));

    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(post_messages(&simulator, &text_to(ALICE, "burst")).await.status);
    }
    assert_eq!(statuses, vec![200, 200, 200, 429]);
    let refused = simulator.requests().pop().expect("recorded");
    assert_eq!(refused.response.pointer("/error/code"), Some(&Value::from(130429)));

    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(post_messages(&simulator, &text_to(ALICE, "after a second")).await.status, 200);
    simulator.set_rate_limit(None);
    for _ in 0..5 {
        assert_eq!(post_messages(&simulator, &text_to(ALICE, "unlimited")).await.status, 200);
    }
}

#[tokio::test]
async fn statuses_can_arrive_in_reverse_or_shuffled_order() {
    let config = Config { statuses: StatusProgression::manual(), ..Config::default() };
    let (simulator, receiver) = support::start_with(config).await;
    simulator.open_window(ALICE);
    let message_id = post_messages(&simulator, &text_to(ALICE, "order test")).await.message_id();

    let all = [DeliveryStatus::Sent, DeliveryStatus::Delivered, DeliveryStatus::Read];
    simulator.send_statuses(&message_id, &all, StatusOrder::Reversed).await.expect("sent");
    let mut arrived = Vec::new();
    for _ in 0..3 {
        arrived.push(receiver.next().await.status().status);
    }
    assert_eq!(arrived, vec![DeliveryStatus::Read, DeliveryStatus::Delivered, DeliveryStatus::Sent]);
    assert_eq!(simulator.message_status(&message_id), Some(DeliveryStatus::Read), "applied monotonically");

    simulator.send_statuses(&message_id, &all, StatusOrder::Shuffled).await.expect("sent");
    let mut shuffled = Vec::new();
    for _ in 0..3 {
        shuffled.push(receiver.next().await.status().status);
    }
    shuffled.sort_by_key(|status| status.rank());
    assert_eq!(shuffled, all);
    assert!(simulator.send_statuses("wamid.unknown", &all, StatusOrder::AsGiven).await.is_err());
}
