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

/// Characters that need an emoji font: headless browsers often have none and draw empty boxes instead.
fn needs_emoji_font(character: char) -> bool {
    let code = u32::from(character);
    // Dingbats and miscellaneous symbols are emoji-ish too; the check mark of the read ticks is in every font.
    code >= 0x1F000 || code == 0xFE0F || ((0x2600..=0x27BF).contains(&code) && character != '✓')
}

/// Whether some CSS rule whose selector ends in `selector` declares `declaration`.
fn css_declares(css: &str, selector: &str, declaration: &str) -> bool {
    css.match_indices(&format!("{selector} {{")).any(|(start, _)| {
        let rule = &css[start..];
        rule[..rule.find('}').unwrap_or(rule.len())].contains(declaration)
    })
}

#[tokio::test]
async fn the_phone_page_needs_no_emoji_font_loads_nothing_from_elsewhere_and_fits_a_narrow_screen() {
    let (simulator, _receiver) = support::start().await;
    let client = support::client();
    let mut assets = Vec::new();
    for path in ["/", "/phone.js", "/phone.css"] {
        let text = client.get(format!("{}{path}", simulator.base_url())).send().await.expect("up").text().await;
        let text = text.expect("text");
        let emoji: Vec<char> = text.chars().filter(|character| needs_emoji_font(*character)).collect();
        assert!(emoji.is_empty(), "{path} relies on an emoji font for {emoji:?}");
        for external in ["src=\"http", "href=\"http", "url(", "@import", "fetch(\"http"] {
            assert!(!text.contains(external), "{path} fetches from elsewhere: {external}");
        }
        assets.push(text);
    }
    let (html, css) = (&assets[0], &assets[2]);

    // Every button has a name a person (or a screen reader) can read without the icon.
    for button in html.split("<button").skip(1) {
        let tag = &button[..button.find('>').expect("a complete tag")];
        let content = &button[tag.len() + 1..button.find("</button>").expect("a closed button")];
        let words: String = content.split('<').map(|piece| piece.rsplit('>').next().unwrap_or("")).collect();
        assert!(tag.contains("aria-label=\"") || !words.trim().is_empty(), "an unnamed button: {tag}");
    }
    // At 420 px: the layout stacks, the message input may shrink, pictures never exceed their bubble.
    assert!(css.contains("@media (max-width: 760px)"));
    assert!(css_declares(css, ".composer input", "min-width: 0"));
    assert!(css_declares(css, ".bubble img", "max-width: 100%"));
    assert!(css_declares(css, "body", "overflow-wrap: anywhere"));

    // What the page shows for media and places is plain words too.
    simulator.add_customer(&baton_simulator::Customer::new(ALICE, "Alice")).expect("added");
    for message in [
        json!({"type": "audio", "voice": true}),
        json!({"type": "location", "latitude": 52.52, "longitude": 13.4, "name": "Alexanderplatz"}),
        json!({"type": "document", "filename": "invoice.pdf"}),
    ] {
        let url = format!("{}/_sim/customers/{ALICE}/messages", simulator.base_url());
        assert_eq!(client.post(url).json(&message).send().await.expect("answered").status(), 200);
    }
    let chat = simulator.chat(ALICE).expect("a chat");
    let texts: Vec<String> = chat.entries.iter().filter_map(|entry| entry.text.clone()).collect();
    assert_eq!(texts, vec!["Voice message", "Location: Alexanderplatz (52.52, 13.4)", "Document: invoice.pdf"]);
}
