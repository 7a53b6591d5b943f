//! Baton's side of the Graph API: sends answered per §6.3 and recorded byte for byte, status webhooks that
//! follow, the token check, validation errors, mark-as-read, templates, and interactive round trips.

use baton_simulator::{ChoiceReply, Customer, DeliveryStatus, Endpoint, Inbound};
use baton_whatsapp::webhook::MessageKind;
use serde_json::{Value, json};

use crate::support::{self, ALICE, post_messages, post_messages_as, text_to};

#[tokio::test(start_paused = true)]
async fn a_send_is_answered_per_contract_recorded_byte_for_byte_and_followed_by_statuses() {
    let (simulator, receiver) = support::start().await;
    simulator.send_text(&Customer::new(ALICE, "Alice"), "Hi").await.expect("window opened");
    receiver.next().await;

    // Odd spacing and raw UTF-8 on purpose: the recording must keep the bytes, not a re-serialization.
    let body = "{\"messaging_product\": \"whatsapp\",\"to\":\"+15550002222\", \"type\":\"text\",\
                \"biz_opaque_callback_data\":\"reply-7\",\"text\":{\"body\":\"Olá — já vai! 🚚\"}}";
    let answer = post_messages(&simulator, body).await;
    assert_eq!(answer.status, 200);
    let message_id = answer.message_id();
    assert!(message_id.starts_with("wamid."));
    assert_eq!(
        answer.json,
        json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": "+15550002222", "wa_id": ALICE}],
            "messages": [{"id": message_id}],
        })
    );

    let request = simulator.next_request().await.expect("recorded");
    assert_eq!(request.endpoint, Endpoint::Messages);
    assert_eq!(request.method, "POST");
    assert_eq!(request.uri, "/v23.0/106000000000001/messages");
    assert_eq!(request.body, body.as_bytes());
    assert_eq!(request.authorization.as_deref(), Some("Bearer test_access_token"));
    assert_eq!(request.json.as_ref().and_then(|json| json.pointer("/text/body")), Some(&json!("Olá — já vai! 🚚")));
    assert_eq!(request.message_id(), Some(message_id.as_str()));

    let mut seen = Vec::new();
    for expected in [DeliveryStatus::Sent, DeliveryStatus::Delivered, DeliveryStatus::Read] {
        let webhook = receiver.next().await;
        let status = webhook.status();
        assert_eq!((status.message_id.as_str(), status.status), (message_id.as_str(), expected));
        assert_eq!(status.recipient_id.as_deref(), Some(ALICE));
        assert_eq!(status.biz_opaque_callback_data.as_deref(), Some("reply-7"));
        let pricing = status.pricing.as_ref().map(|pricing| (pricing.kind.clone(), pricing.category.clone()));
        seen.push((status.status, pricing, status.conversation.is_some()));
    }
    let service = Some((Some("free_customer_service".to_owned()), Some("service".to_owned())));
    assert_eq!(
        seen,
        vec![
            (DeliveryStatus::Sent, service.clone(), true),
            (DeliveryStatus::Delivered, service, true),
            (DeliveryStatus::Read, None, false),
        ],
        "pricing (and, on v23, conversation) on sent and delivered only"
    );
    simulator.wait_for_status(&message_id, DeliveryStatus::Read).await.expect("read delivered");
    assert_eq!(simulator.message_status(&message_id), Some(DeliveryStatus::Read));
}

#[tokio::test]
async fn a_wrong_or_missing_token_is_refused_with_190() {
    let (simulator, _receiver) = support::start().await;
    for token in [Some("wrong"), None] {
        let answer = post_messages_as(&simulator, &text_to(ALICE, "hi"), token).await;
        assert_eq!(answer.status, 401, "{token:?}");
        assert_eq!(answer.error_code(), Some(190));
        assert_eq!(answer.json.pointer("/error/type"), Some(&json!("OAuthException")));
        assert!(answer.json.pointer("/error/fbtrace_id").is_some());
    }
    let recorded = simulator.wait_for_requests(2).await.expect("both recorded");
    assert_eq!(recorded[0].authorization.as_deref(), Some("Bearer wrong"));
    assert_eq!(recorded[1].authorization, None);
    assert!(recorded.iter().all(|request| request.response_status == 401));
}

#[tokio::test]
async fn invalid_requests_are_refused_with_100() {
    let (simulator, _receiver) = support::start().await;
    simulator.open_window(ALICE);
    let too_long = "x".repeat(4097);
    let cases = [
        json!({"to": ALICE, "type": "text", "text": {"body": "no product"}}).to_string(),
        json!({"messaging_product": "whatsapp", "to": ALICE, "type": "text", "image": {"id": "1"}}).to_string(),
        json!({"messaging_product": "whatsapp", "to": ALICE, "type": "text", "text": {"body": too_long}}).to_string(),
        json!({"messaging_product": "whatsapp", "to": ALICE, "type": "text", "text": {"body": "hi"},
               "context": {"message_id": "not-a-wamid"}})
        .to_string(),
        json!({"messaging_product": "whatsapp", "to": "alice", "type": "text", "text": {"body": "hi"}}).to_string(),
        json!({"messaging_product": "whatsapp", "status": "read", "message_id": "nope"}).to_string(),
        "not json".to_owned(),
    ];
    for body in &cases {
        let answer = post_messages(&simulator, body).await;
        assert_eq!((answer.status, answer.error_code()), (400, Some(100)), "{body:.80}");
        let message = answer.json.pointer("/error/message").and_then(Value::as_str).unwrap_or_default();
        assert!(message.starts_with("(#100) "), "{message}");
        assert!(answer.json.pointer("/error/error_data/details").is_some());
    }
    // Exactly 4096 characters (multi-byte ones count once) is fine.
    let longest = "é".repeat(4096);
    assert_eq!(post_messages(&simulator, &text_to(ALICE, &longest)).await.status, 200);

    let wrong_number = support::client()
        .post(format!("{}/v23.0/999/messages", simulator.graph_url()))
        .bearer_auth("test_access_token")
        .body(text_to(ALICE, "hi"))
        .send()
        .await
        .expect("answered");
    assert_eq!(wrong_number.status(), 400);
    let unknown_path = support::get(&format!("{}/v23.0/a/b/c", simulator.graph_url()), Some("test_access_token")).await;
    assert_eq!(unknown_path.status(), 400);
    assert_eq!(simulator.requests().last().map(|request| request.endpoint), Some(Endpoint::Other));
}

#[tokio::test]
async fn mark_as_read_and_the_typing_indicator_answer_success() {
    let (simulator, _receiver) = support::start().await;
    let wamid = simulator.send_text(&Customer::new(ALICE, "Alice"), "anyone there?").await.expect("sent");

    let read = json!({"messaging_product": "whatsapp", "status": "read", "message_id": wamid});
    let answer = post_messages(&simulator, &read.to_string()).await;
    assert_eq!((answer.status, answer.json.clone()), (200, json!({"success": true})));
    let typing = json!({"messaging_product": "whatsapp", "status": "read", "message_id": wamid,
                        "typing_indicator": {"type": "text"}});
    assert_eq!(post_messages(&simulator, &typing.to_string()).await.json, json!({"success": true}));

    let receipts = simulator.read_receipts();
    assert_eq!(receipts.iter().map(|receipt| receipt.typing_indicator).collect::<Vec<_>>(), vec![false, true]);
    assert_eq!(simulator.wait_for_read(&wamid).await.expect("recorded").message_id, wamid);
    let chat = simulator.chat(ALICE).expect("a chat");
    assert!(chat.typing);
    assert_eq!(chat.entries[0].status, Some(DeliveryStatus::Read));
    // A reply removes the typing indicator. Its answer keeps Meta's key order, byte for byte.
    let raw = support::client()
        .post(format!("{}/v23.0/106000000000001/messages", simulator.graph_url()))
        .bearer_auth("test_access_token")
        .body(text_to(ALICE, "yes!"))
        .send()
        .await
        .expect("answered");
    assert_eq!(raw.headers()["content-type"], "application/json");
    let raw = raw.text().await.expect("text");
    let expected = format!(
        r#"{{"messaging_product":"whatsapp","contacts":[{{"input":"{ALICE}","wa_id":"{ALICE}"}}],"messages":[{{"id":"#
    );
    assert!(raw.starts_with(&expected), "{raw}");
    assert!(!simulator.chat(ALICE).expect("a chat").typing);
}

#[tokio::test]
async fn templates_are_listed_in_metas_shape_and_checked_on_send() {
    let (simulator, receiver) = support::start().await;
    let url = format!("{}/v23.0/102000000000001/message_templates", simulator.graph_url());
    assert_eq!(support::get(&url, None).await.status(), 401);
    let listing: Value = support::get(&url, Some("test_access_token")).await.json().await.expect("JSON");
    let names: Vec<&str> =
        listing["data"].as_array().expect("data").iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, vec!["order_update", "follow_up", "appointment_reminder"]);
    let order_update = &listing["data"][0];
    assert_eq!(
        (order_update["status"].as_str(), order_update["category"].as_str()),
        (Some("APPROVED"), Some("UTILITY"))
    );
    assert_eq!(order_update["language"], "en_US");
    assert_eq!(order_update["components"][0]["type"], "BODY");
    assert!(listing["paging"]["cursors"].is_object());
    let filtered: Value =
        support::get(&format!("{url}?name=follow"), Some("test_access_token")).await.json().await.expect("JSON");
    assert_eq!(filtered["data"].as_array().map(Vec::len), Some(1));

    let template = |name: &str, values: &[&str]| {
        let parameters: Vec<Value> = values.iter().map(|value| json!({"type": "text", "text": value})).collect();
        json!({"messaging_product": "whatsapp", "to": ALICE, "type": "template",
               "template": {"name": name, "language": {"code": "en_US", "policy": "deterministic"},
                            "components": [{"type": "body", "parameters": parameters}]}})
        .to_string()
    };
    assert_eq!(post_messages(&simulator, &template("missing", &[])).await.error_code(), Some(132001));
    assert_eq!(post_messages(&simulator, &template("order_update", &["Alice"])).await.error_code(), Some(132000));

    // A valid template passes even though Alice never wrote (closed window), and renders on her phone.
    let answer = post_messages(&simulator, &template("order_update", &["Alice", "#4521"])).await;
    assert_eq!(answer.status, 200);
    let sent = receiver.next().await.status();
    assert_eq!(sent.status, DeliveryStatus::Sent);
    assert_eq!(sent.pricing.and_then(|pricing| pricing.category).as_deref(), Some("utility"));
    let chat = simulator.chat(ALICE).expect("a chat");
    let entry = chat.entries.last().expect("the template");
    assert_eq!(entry.text.as_deref(), Some("Hi Alice, your order #4521 is on its way."));
    assert_eq!(entry.choices[0].reply, ChoiceReply::TemplateButton);

    // Tapping the quick reply comes back as a `button` message with the template's wamid as context.
    let tap = Inbound::TemplateButton {
        context: answer.message_id(),
        payload: entry.choices[0].id.clone(),
        text: entry.choices[0].title.clone(),
    };
    simulator.send(&Customer::new(ALICE, "Alice"), tap).await.expect("sent");
    let webhook = loop {
        let webhook = receiver.next().await;
        if webhook.text().contains("\"messages\"") {
            break webhook;
        }
    };
    let message = webhook.message();
    assert_eq!(
        message.kind,
        MessageKind::TemplateButton { payload: Some("Talk to an agent".into()), text: "Talk to an agent".into() }
    );
    assert_eq!(message.context.and_then(|context| context.message_id), Some(answer.message_id()));
}

#[tokio::test]
async fn interactive_buttons_come_back_as_button_replies() {
    let (simulator, receiver) = support::start().await;
    let alice = Customer::new(ALICE, "Alice");
    simulator.send_text(&alice, "Where is my parcel?").await.expect("sent");
    let buttons = json!({"messaging_product": "whatsapp", "to": ALICE, "type": "interactive",
        "interactive": {"type": "button", "body": {"text": "Deliver to the usual address?"},
                        "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                                               {"type": "reply", "reply": {"id": "no", "title": "No"}}]}}});
    let answer = post_messages(&simulator, &buttons.to_string()).await;
    assert_eq!(answer.status, 200);

    let chat = simulator.chat(ALICE).expect("a chat");
    let entry = chat.entries.last().expect("the buttons");
    assert_eq!(entry.message_id, answer.message_id());
    let titles: Vec<(&str, ChoiceReply)> =
        entry.choices.iter().map(|choice| (choice.title.as_str(), choice.reply)).collect();
    assert_eq!(titles, vec![("Yes", ChoiceReply::ButtonReply), ("No", ChoiceReply::ButtonReply)]);

    simulator.send(&alice, Inbound::button_reply(&entry.message_id, "yes", "Yes")).await.expect("tapped");
    let tap = receiver
        .received()
        .into_iter()
        .rfind(|webhook| webhook.text().contains("button_reply"))
        .expect("the tap went out");
    let message = tap.message();
    assert_eq!(message.kind, MessageKind::ButtonReply { id: "yes".into(), title: "Yes".into() });
    assert_eq!(message.context.and_then(|context| context.message_id), Some(answer.message_id()));
}
