//! The JSON control API under `/_sim` and the phone page that uses it.

use serde_json::{Value, json};

use crate::support::{self, ALICE, text_to};

#[tokio::test]
async fn the_control_api_drives_a_customer_and_shows_the_chat() {
    let (simulator, receiver) = support::start().await;
    let client = support::client();
    let base = simulator.base_url();

    let state: Value = client.get(format!("{base}/_sim/state")).send().await.expect("up").json().await.expect("JSON");
    assert_eq!(state["business"]["name"], "Baton Demo Shop");
    assert_eq!(state["window_enforcement"], "failed_status");

    let invalid =
        client.post(format!("{base}/_sim/customers")).json(&json!({"wa_id": "abc", "name": "X"})).send().await;
    assert_eq!(invalid.expect("answered").status(), 400);
    let added = client
        .post(format!("{base}/_sim/customers"))
        .json(&json!({"wa_id": ALICE, "name": "Alicia Pérez"}))
        .send()
        .await
        .expect("answered");
    assert_eq!(added.status(), 200);

    let sent: Value = client
        .post(format!("{base}/_sim/customers/{ALICE}/messages"))
        .json(&json!({"type": "text", "body": "Hola 👋"}))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert_eq!(sent["delivery"]["status"], 200);
    let wamid = sent["message_ids"][0].as_str().expect("a wamid").to_owned();
    let message = receiver.next().await.message();
    assert_eq!((message.id.as_str(), message.profile_name.as_deref()), (wamid.as_str(), Some("Alicia Pérez")));

    assert_eq!(support::post_messages(&simulator, &text_to(ALICE, "¡Hola Alicia!")).await.status, 200);
    let chat: Value =
        client.get(format!("{base}/_sim/customers/{ALICE}/chat")).send().await.expect("up").json().await.expect("JSON");
    assert_eq!(chat["window_open"], true);
    let texts: Vec<&str> =
        chat["entries"].as_array().expect("entries").iter().filter_map(|entry| entry["text"].as_str()).collect();
    assert_eq!(texts, vec!["Hola 👋", "¡Hola Alicia!"]);
    assert_eq!(chat["entries"][0]["from_customer"], true);

    let unknown = client
        .post(format!("{base}/_sim/customers/15559999999/messages"))
        .json(&json!({"type": "text", "body": "x"}))
        .send();
    assert_eq!(unknown.await.expect("answered").status(), 404);

    let requests: Value =
        client.get(format!("{base}/_sim/requests")).send().await.expect("up").json().await.expect("JSON");
    assert!(requests[0]["body"].as_str().is_some_and(|body| body.contains("Alicia")));
    let webhooks: Value =
        client.get(format!("{base}/_sim/webhooks")).send().await.expect("up").json().await.expect("JSON");
    assert!(webhooks[0]["body"].as_str().is_some_and(|body| body.contains(r"P\u00e9rez")));
    let redelivered = client.post(format!("{base}/_sim/webhooks/1/redeliver")).send().await.expect("answered");
    assert_eq!(redelivered.status(), 200);

    // Scripting through the API behaves like the handle.
    let put = client
        .put(format!("{base}/_sim/settings"))
        .json(&json!({"window_enforcement": "sync_error"}))
        .send()
        .await
        .expect("answered");
    assert_eq!(put.status(), 204);
    let closed = client.put(format!("{base}/_sim/customers/{ALICE}/window")).json(&json!({"open": false})).send();
    assert_eq!(closed.await.expect("answered").status(), 204);
    assert_eq!(support::post_messages(&simulator, &text_to(ALICE, "closed?")).await.error_code(), Some(131047));
    let forced = client
        .post(format!("{base}/_sim/faults/sync-errors"))
        .json(&json!({"code": 131000, "count": 1}))
        .send()
        .await
        .expect("answered");
    assert_eq!(forced.status(), 204);
    simulator.open_window(ALICE);
    assert_eq!(support::post_messages(&simulator, &text_to(ALICE, "boom")).await.error_code(), Some(131000));
}

#[tokio::test]
async fn the_phone_page_is_served_and_never_renders_with_inner_html() {
    let (simulator, _receiver) = support::start().await;
    let client = support::client();
    let page = client.get(simulator.base_url()).send().await.expect("up");
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().await.expect("text");
    assert!(html.contains("phone.js") && html.contains("phone.css"));
    let script = client.get(format!("{}/phone.js", simulator.base_url())).send().await.expect("up");
    assert_eq!(script.headers()["content-type"], "text/javascript; charset=utf-8");
    let script = script.text().await.expect("text");
    for forbidden in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("] {
        assert!(!script.contains(forbidden) && !html.contains(forbidden), "{forbidden} must not be used");
    }
    assert!(script.contains("textContent"));
}
